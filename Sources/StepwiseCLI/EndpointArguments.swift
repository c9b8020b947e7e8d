import Endpoint
import Foundation
import Inference
import Tokenizers
import Verification

/// `--endpoint URL --served-model NAME [--concurrency N] [--chat]`: the options that put an
/// OpenAI-compatible server where `--model PATH` puts a local model (run, tui, generate).
/// The API key is read from the environment only (STEPWISE_API_KEY, else OPENAI_API_KEY),
/// never from the command line or the journal.
enum EndpointArguments {
    /// Valued options to declare next to `model`.
    static let valued: Set<String> = ["endpoint", "served-model", "concurrency"]
    /// Flags to declare.
    static let flags: Set<String> = ["chat"]

    /// Help lines, the same in every command that takes them.
    static let help = """
      --endpoint URL       an OpenAI-compatible server (vLLM, SGLang, llama.cpp server) instead
                           of --model, e.g. http://gpu-node:8000; API key from $STEPWISE_API_KEY
                           (else $OPENAI_API_KEY)
      --served-model NAME  the model name the server serves (required with --endpoint)
      --concurrency N      requests in flight at once (default 16)
      --chat               send conversations to /v1/chat/completions (the server's chat
                           template; no mc verifier); default: text to /v1/completions, laid
                           out with --template when given
    """

    /// The server options, nil when `--endpoint` is absent. Usage errors: `--endpoint` with
    /// `--model`, without `--served-model`, or endpoint options without `--endpoint`.
    static func options(_ args: Arguments, command: String) throws -> EndpointOptions? {
        guard let url = args.value("endpoint") else {
            for name in ["served-model", "concurrency"] where args.value(name) != nil {
                throw CLIError.usage("--\(name) needs --endpoint URL", command: command)
            }
            if args.flag("chat") { throw CLIError.usage("--chat needs --endpoint URL", command: command) }
            return nil
        }
        if args.value("model") != nil { throw CLIError.usage("give --model PATH or --endpoint URL, not both", command: command) }
        guard let served = args.value("served-model"), !served.isEmpty else {
            throw CLIError.usage("--endpoint needs --served-model NAME (the name the server serves)", command: command)
        }
        let base: URL
        do { base = try EndpointOptions.parseURL(url) } catch { throw CLIError.usage(oneLine(error), command: command) }
        var options = EndpointOptions(baseURL: base, servedModel: served, api: args.flag("chat") ? .chat : .completions,
                                      apiKey: EndpointOptions.apiKey())
        if let n = try args.int("concurrency") {
            guard (1...1024).contains(n) else { throw CLIError.usage("--concurrency must be in 1...1024", command: command) }
            options.concurrency = n
        }
        return options
    }

    /// Connects; an unreachable server is a runtime failure (exit 1), a refusal (unknown model,
    /// no key) bad input (exit 2).
    static func connect(_ options: EndpointOptions, template: ChatTemplate?) throws -> EndpointLoopEngine {
        do {
            return try EndpointLoopEngine.connect(options, template: template)
        } catch let e as EndpointError {
            if case .unreachable = e { throw CLIError.failure(e.description) }
            throw CLIError.badInput(e.description)
        }
    }

    /// The engine's totals, one line, whichever engine ran.
    static func statisticsLine(_ engine: any LoopEngine) -> String? {
        if let e = engine as? InProcessLoopEngine {
            let stats = e.engine.statistics
            return String(format: "engine: %d prompt tokens, %d generated, %d scored; %.1f s busy (%.1f tokens/s)",
                          stats.promptTokens, stats.generatedTokens, stats.scoredTokens, stats.busySeconds,
                          stats.generatedTokensPerSecond)
        }
        if let e = engine as? EndpointLoopEngine {
            let s = e.statistics
            return String(format: "endpoint: %d requests (%d retried, at most %d at once), %d generated tokens, %d continuations scored; %.1f s busy (%.1f tokens/s)",
                          s.requests, s.retries, s.peakInFlight, s.generatedTokens, s.scoredContinuations, s.busySeconds,
                          s.generatedTokensPerSecond)
        }
        return nil
    }

    /// Recent generation speed for the workbench header.
    static func recentTokensPerSecond(_ engine: any LoopEngine) -> Double? {
        if let e = engine as? InProcessLoopEngine {
            let r = e.engine.statistics.recentGeneratedTokensPerSecond
            return r > 0 ? r : nil
        }
        if let e = engine as? EndpointLoopEngine {
            let r = e.statistics.generatedTokensPerSecond
            return r > 0 ? r : nil
        }
        return nil
    }
}
