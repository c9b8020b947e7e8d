import Endpoint
import Foundation
import Inference
import Verification

/// `stepwise generate`: sample continuations of a prompt with the in-process engine.
enum GenerateCommand {
    static let command = Command(
        name: "generate",
        summary: "sample continuations of a prompt with a local model or a server",
        help: """
        Usage: stepwise generate (--model PATH | --endpoint URL --served-model NAME [--chat])
                                 (--prompt TEXT | --prompt-file FILE) [--n N]
                                 [--temperature T] [--top-p P] [--top-k K] [--min-p P] [--seed S]
                                 [--max-tokens M] [--stop S] [--logprobs K] [--json]

        Runs the model in this process (raw completion: the prompt is used as given). N samples
        share one computation of the prompt and decode together as one batch. With --endpoint
        the samples come from an OpenAI-compatible server, one streamed request each.

        Options:
          --model PATH         a .gguf file or a Hugging Face folder
        \(EndpointArguments.help)
          --prompt TEXT        the prompt; or --prompt-file FILE
          --n N                samples (default 1)
          --temperature T      0 is greedy (default 0.8)
          --top-p P            nucleus sampling (default 1 = off)
          --top-k K            keep the K most likely tokens (default 0 = off)
          --min-p P            drop tokens below P × the best one's probability (default 0)
          --seed S             sample i uses seed S + i (default 0)
          --max-tokens M       tokens per sample at most (default 256)
          --stop S             stop when the text contains S (\\n and \\t understood; repeatable)
          --logprobs K         report the K most likely tokens at each position (JSON)
          --context N          context length (default: the model's, at most 4096)
          --device D           auto (CUDA when usable, else the CPU), cpu, cuda, opencl
          --threads N          CPU threads (default: all cores)
          --quantize q8_0      convert F32/F16/BF16 weights to Q8_0 at load
          --json               one JSON object with every sample instead of text
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let name = "generate"
        let args = try Arguments(argv, command: name,
                                 valued: Set(["model", "prompt", "prompt-file", "n", "temperature", "top-p", "top-k", "min-p",
                                          "seed", "max-tokens", "stop", "logprobs", "context", "threads", "quantize", "device"])
                                    .union(EndpointArguments.valued),
                                 flags: Set(["json"]).union(EndpointArguments.flags))
        if args.wantsHelp {
            console.out(command.help)
            return 0
        }
        try args.expectPositionals(atMost: 0)
        let endpoint = try EndpointArguments.options(args, command: name)
        guard let modelPath = endpoint?.servedModel ?? args.value("model") else {
            throw CLIError.usage("missing --model PATH (or --endpoint URL --served-model NAME)", command: name)
        }
        let prompt: String
        switch (args.value("prompt"), args.value("prompt-file")) {
        case (let text?, nil):
            prompt = text
        case (nil, let file?):
            prompt = try readingInput { try String(contentsOfFile: file, encoding: .utf8) }
        case (nil, nil):
            throw CLIError.usage("give --prompt TEXT or --prompt-file FILE", command: name)
        default:
            throw CLIError.usage("give only one of --prompt and --prompt-file", command: name)
        }
        var sampling = SamplingParameters()
        sampling.temperature = try args.double("temperature") ?? sampling.temperature
        sampling.topP = try args.double("top-p") ?? sampling.topP
        sampling.topK = try args.int("top-k") ?? sampling.topK
        sampling.minP = try args.double("min-p") ?? sampling.minP
        if let seed = args.value("seed") {
            guard let s = UInt64(seed) else { throw CLIError.usage("--seed needs a whole number ≥ 0, got '\(seed)'", command: name) }
            sampling.seed = s
        }
        sampling.maxTokens = try args.int("max-tokens") ?? sampling.maxTokens
        sampling.logprobs = try args.int("logprobs") ?? 0
        if let stop = args.value("stop") {
            sampling.stop = [stop.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")]
        }
        if let problem = sampling.problem() { throw CLIError.usage(problem, command: name) }
        let n = try args.int("n") ?? 1
        guard n >= 1 && n <= 64 else { throw CLIError.usage("--n must be in 1...64, got \(n)", command: name) }
        let loadOptions = try args.modelLoadOptions()
        let json = args.flag("json")
        if let endpoint {
            return try generateOnServer(endpoint, prompt: prompt, n: n, sampling: sampling, json: json)
        }

        let model = try readingInput { try LoadedModel.load(path: modelPath, options: loadOptions) }
        for warning in model.warnings { console.err("stepwise: warning: \(warning)") }
        let mailbox = EngineEventMailbox()
        let engine = try readingInput {
            try Engine(model: model, options: EngineOptions(contextLength: try args.int("context"), maxSequences: max(n, 1)),
                       events: mailbox.sink)
        }
        defer { engine.shutdown() }
        let started = Date()
        let id = engine.submit(GenerationRequest(prompt: .text(prompt), n: n, sampling: sampling, streamTokens: n == 1 && !json))
        var results: [SampleResult] = []
        var streamed = false
        for event in mailbox.collect(id) {
            switch event {
            case .token(_, _, _, let text, _):
                if !text.isEmpty {
                    FileHandle.standardOutput.write(Data(text.utf8))
                    streamed = true
                }
            case .sampleFinished(_, let result):
                results.append(result)
            case .failed(_, let message):
                throw CLIError.badInput("\(modelPath): \(message)")
            case .scored, .finished:
                break
            }
        }
        let seconds = Date().timeIntervalSince(started)
        results.sort { $0.index < $1.index }
        let generated = results.reduce(0) { $0 + $1.tokens.count }
        if json {
            console.out(try jsonReport(results, model: model, seconds: seconds))
        } else if streamed || n == 1 {
            if streamed { FileHandle.standardOutput.write(Data("\n".utf8)) }
        } else {
            for r in results {
                console.out("--- sample \(r.index) (\(r.tokens.count) tokens, \(r.finishReason.rawValue)) ---")
                console.out(r.text)
            }
        }
        let rate = seconds > 0 ? Double(generated) / seconds : 0
        console.err(String(format: "%d samples, %d tokens in %.2f s (%.1f tokens/s); prompt %d tokens",
                           results.count, generated, seconds, rate, results.first?.promptTokenCount ?? 0))
        return 0
    }

    /// `generate --endpoint`: the samples from the server, streamed when there is one.
    static func generateOnServer(_ options: EndpointOptions, prompt: String, n: Int, sampling: SamplingParameters,
                                 json: Bool) throws -> Int32 {
        var options = options
        options.concurrency = max(options.concurrency, n)
        let engine = try EndpointArguments.connect(options, template: nil)
        let started = Date()
        var streamed = false
        let results: [EndpointSample]
        do {
            results = try engine.generate(prompt: options.api == .chat ? .chat([LoopMessage(.user, prompt)]) : .raw(prompt),
                                          n: n, sampling: sampling) { _, text in
                if n == 1 && !json && !text.isEmpty {
                    FileHandle.standardOutput.write(Data(text.utf8))
                    streamed = true
                }
            }
        } catch {
            throw CLIError.failure("\(options.baseURL.absoluteString): \(oneLine(error))")
        }
        let seconds = Date().timeIntervalSince(started)
        let generated = results.reduce(0) { $0 + $1.tokenCount }
        if json {
            let samples: [[String: Any]] = results.map { r in
                var s: [String: Any] = ["index": r.index, "text": r.text, "token_count": r.tokenCount,
                                        "finish_reason": r.finishReason ?? "unknown"]
                if !r.logprobs.isEmpty {
                    s["logprobs"] = r.logprobs.map { p -> [String: Any] in
                        var e: [String: Any] = ["text": p.text, "logprob": p.logprob]
                        if !p.top.isEmpty { e["top"] = p.top.sorted { $0.value > $1.value }.map { ["text": $0.key, "logprob": $0.value] } }
                        return e
                    }
                }
                return s
            }
            let object: [String: Any] = ["model": options.servedModel, "endpoint": options.baseURL.absoluteString,
                                         "samples": samples, "seconds": seconds,
                                         "tokens_per_second": seconds > 0 ? Double(generated) / seconds : 0]
            console.out(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else if streamed || n == 1 {
            if streamed { FileHandle.standardOutput.write(Data("\n".utf8)) }
        } else {
            for r in results {
                console.out("--- sample \(r.index) (\(r.tokenCount) tokens, \(r.finishReason ?? "unknown")) ---")
                console.out(r.text)
            }
        }
        console.err(String(format: "%d samples, %d tokens in %.2f s (%.1f tokens/s) from %@", results.count, generated, seconds,
                           seconds > 0 ? Double(generated) / seconds : 0, engine.summary))
        return 0
    }

    static func jsonReport(_ results: [SampleResult], model: LoadedModel, seconds: Double) throws -> String {
        func entry(_ l: TokenLogprob) -> [String: Any] { ["token": Int(l.token), "text": l.text, "logprob": l.logprob] }
        let samples: [[String: Any]] = results.map { r in
            var s: [String: Any] = [
                "index": r.index, "text": r.text, "tokens": r.tokens.map(Int.init), "token_count": r.tokens.count,
                "finish_reason": r.finishReason.rawValue, "cumulative_logprob": r.cumulativeLogprob,
            ]
            s["logprobs"] = r.logprobs.map { p -> [String: Any] in
                var e = entry(p.chosen)
                if !p.top.isEmpty { e["top"] = p.top.map(entry) }
                return e
            }
            return s
        }
        let generated = results.reduce(0) { $0 + $1.tokens.count }
        let object: [String: Any] = [
            "model": model.path,
            "prompt_tokens": results.first?.promptTokenCount ?? 0,
            "samples": samples,
            "seconds": seconds,
            "tokens_per_second": seconds > 0 ? Double(generated) / seconds : 0,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
