import Foundation
import Inference

/// `stepwise bench`: prompt, decode and shared-prompt batch speed of a model on this machine,
/// measured through the engine exactly as `generate` uses it. scripts/bench/run.py runs it
/// beside llama.cpp on the same file.
enum BenchCommand {
    static let command = Command(
        name: "bench",
        summary: "measure prompt, decode and shared-prompt batch speed of a local model",
        help: """
        Usage: stepwise bench --model PATH [--device D] [--threads N] [--prompt-tokens 512] [--gen-tokens 128]
                              [--batch 1,16] [--batch-prompt-tokens 256] [--repeat R] [--json]

        Runs random prompt tokens through the engine (sampling greedily, end-of-text ignored):
          batch 1: a prompt of --prompt-tokens, then --gen-tokens decoded one at a time
                   -> prompt tokens/s (prompt time = time to first token), decode tokens/s
          batch N: one prompt of --batch-prompt-tokens computed once, its KV shared by N
                   samples that decode --gen-tokens each as one batch
                   -> aggregate decode tokens/s (N × tokens after the first / their time)
        and the peak resident memory of the process. With --repeat R, each figure is the best
        of R runs.

        Options:
          --model PATH               a .gguf file or a Hugging Face folder
          --device D                 auto (CUDA when usable, else the CPU), cpu, cuda, opencl
          --threads N                CPU threads (default: all cores)
          --prompt-tokens N          prompt length for batch 1 (default 512)
          --gen-tokens N             tokens generated per sample (default 128)
          --batch LIST               comma-separated batch sizes (default 1,16)
          --batch-prompt-tokens N    shared prompt length for batches above 1 (default 256)
          --repeat R                 runs per figure, best kept (default 1)
          --quantize q8_0            convert F32/F16/BF16 weights to Q8_0 at load
          --json                     one JSON object instead of the table
        """,
        run: run
    )

    struct Figures {
        var batch: Int
        var promptTokens: Int
        var genTokens: Int
        var promptSeconds: Double
        var decodeSeconds: Double
        var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
        /// Tokens after each sample's first, over the time from the first token to the last.
        var decodeTokensPerSecond: Double {
            decodeSeconds > 0 ? Double(batch * max(genTokens - 1, 0)) / decodeSeconds : 0
        }
    }

    static func run(_ argv: [String]) throws -> Int32 {
        let name = "bench"
        let args = try Arguments(argv, command: name,
                                 valued: ["model", "threads", "prompt-tokens", "gen-tokens", "batch",
                                          "batch-prompt-tokens", "repeat", "quantize", "device"],
                                 flags: ["json"])
        if args.wantsHelp {
            console.out(command.help)
            return 0
        }
        try args.expectPositionals(atMost: 0)
        guard let modelPath = args.value("model") else { throw CLIError.usage("missing --model PATH", command: name) }
        let promptTokens = try args.int("prompt-tokens") ?? 512
        let genTokens = try args.int("gen-tokens") ?? 128
        let batchPromptTokens = try args.int("batch-prompt-tokens") ?? 256
        let repeats = try args.int("repeat") ?? 1
        guard promptTokens >= 1, genTokens >= 2, batchPromptTokens >= 1, (1...100).contains(repeats) else {
            throw CLIError.usage("--prompt-tokens and --batch-prompt-tokens must be ≥ 1, --gen-tokens ≥ 2, --repeat 1...100", command: name)
        }
        var batches: [Int] = []
        for part in (args.value("batch") ?? "1,16").split(separator: ",") {
            guard let b = Int(part.trimmingCharacters(in: .whitespaces)), (1...256).contains(b) else {
                throw CLIError.usage("--batch takes sizes in 1...256 separated by commas, got '\(part)'", command: name)
            }
            batches.append(b)
        }
        var loadOptions = try args.modelLoadOptions()
        let json = args.flag("json")
        let maxBatch = batches.max() ?? 1
        // Whole prompts in one step, as the llama.cpp side of scripts/bench does (n_batch = prompt).
        loadOptions.maxStepTokens = max(promptTokens, batchPromptTokens, maxBatch, 512)
        loadOptions.maxLogitRows = max(loadOptions.maxLogitRows, maxBatch)

        let loadStart = Date()
        let model = try readingInput { try LoadedModel.load(path: modelPath, options: loadOptions) }
        for warning in model.warnings { console.err("stepwise: warning: \(warning)") }
        let loadSeconds = Date().timeIntervalSince(loadStart)
        let context = max(promptTokens, batchPromptTokens) + genTokens + 16
        let mailbox = EngineEventMailbox()
        let engine = try readingInput {
            try Engine(model: model, options: EngineOptions(contextLength: context, maxSequences: maxBatch,
                                                            maxStepTokens: loadOptions.maxStepTokens),
                       events: mailbox.sink)
        }
        defer { engine.shutdown() }

        // Random ordinary tokens (speed does not depend on them): ids away from the specials.
        var generator = SystemRandomNumberGenerator()
        let vocabulary = max(model.config.vocabSize, 2)
        func randomTokens(_ n: Int) -> [Int32] {
            (0..<n).map { _ in Int32(Int.random(in: (vocabulary / 100)..<(vocabulary * 9 / 10), using: &generator)) }
        }

        func measure(batch: Int, prompt: Int) throws -> Figures {
            var sampling = SamplingParameters(temperature: 0, maxTokens: genTokens, ignoreEOS: true)
            sampling.seed = 1
            let started = Date()
            let id = engine.submit(GenerationRequest(prompt: .tokens(randomTokens(prompt)), n: batch,
                                                     sampling: sampling, streamTokens: true))
            var firstToken: Date?
            var lastToken = started
            var tokens = 0
            loop: while let event = mailbox.next(timeout: 600) {
                guard event.requestID == id else { continue }
                switch event {
                case .token:
                    let now = Date()
                    if firstToken == nil { firstToken = now }
                    lastToken = now
                    tokens += 1
                case .failed(_, let message):
                    throw CLIError.badInput("\(modelPath): \(message)")
                case .finished:
                    break loop
                case .sampleFinished, .scored:
                    continue
                }
            }
            guard let first = firstToken, tokens == batch * genTokens else {
                throw CLIError.badInput("\(modelPath): the engine produced \(tokens) of \(batch * genTokens) tokens")
            }
            return Figures(batch: batch, promptTokens: prompt, genTokens: genTokens,
                           promptSeconds: first.timeIntervalSince(started),
                           decodeSeconds: lastToken.timeIntervalSince(first))
        }

        // Warm-up: page the weights in and start the worker threads.
        _ = try measure(batch: 1, prompt: 8)
        var results: [Figures] = []
        for batch in batches {
            var best: Figures?
            for _ in 0..<repeats {
                let f = try measure(batch: batch, prompt: batch == 1 ? promptTokens : batchPromptTokens)
                if let b = best {
                    best = Figures(batch: batch, promptTokens: f.promptTokens, genTokens: genTokens,
                                   promptSeconds: min(b.promptSeconds, f.promptSeconds),
                                   decodeSeconds: min(b.decodeSeconds, f.decodeSeconds))
                } else {
                    best = f
                }
            }
            if let best { results.append(best) }
        }
        let peak = peakResidentBytes()
        let threads = loadOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
        // On a GPU, the bandwidth decode is measured against (scripts/bench/run.py --device cuda).
        let bandwidth = try model.measureDeviceBandwidth()

        if json {
            var object: [String: Any] = [
                "engine": "stepwise", "model": modelPath, "threads": threads, "summary": model.summary,
                "load_seconds": loadSeconds, "gen_tokens": genTokens,
            ]
            if let peak { object["peak_resident_bytes"] = peak }
            if let bandwidth {
                object["device_bandwidth_gbs"] = bandwidth.copyBytesPerSecond / 1e9
                if let p = bandwidth.peakBytesPerSecond { object["device_peak_bandwidth_gbs"] = p / 1e9 }
            }
            object["runs"] = results.map { f -> [String: Any] in
                [
                    "batch": f.batch, "prompt_tokens": f.promptTokens,
                    "prompt_tokens_per_s": f.promptTokensPerSecond, "time_to_first_token_s": f.promptSeconds,
                    "decode_tokens_per_s": f.decodeTokensPerSecond, "decode_seconds": f.decodeSeconds,
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            console.out(String(decoding: data, as: UTF8.self))
        } else {
            console.out("model    \(modelPath)")
            console.out("summary  \(model.summary), load \(String(format: "%.2f", loadSeconds)) s")
            console.out("batch  prompt  prompt tok/s  first token s  decode tok/s (aggregate)")
            for f in results {
                console.out(String(format: "%5d  %6d  %12.1f  %13.3f  %12.2f", f.batch, f.promptTokens,
                                   f.promptTokensPerSecond, f.promptSeconds, f.decodeTokensPerSecond))
            }
            if let peak { console.out(String(format: "peak resident memory %.1f MiB", Double(peak) / 1_048_576)) }
            if let bandwidth {
                let rated = bandwidth.peakBytesPerSecond.map { String(format: ", rated %.0f GB/s", $0 / 1e9) } ?? ""
                console.out(String(format: "device bandwidth: copies %.1f GB/s", bandwidth.copyBytesPerSecond / 1e9) + rated)
            }
        }
        return 0
    }

    /// VmHWM from /proc/self/status (Linux); nil elsewhere.
    static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }
}
