import Foundation

/// Where the server is and how to talk to it.
public struct EndpointOptions: Sendable, Equatable {
    /// Which API the prompts go to.
    public enum API: String, Sendable {
        /// `/v1/completions`: raw text (a base model's few-shot prompts, or conversations laid
        /// out here with a chat template). Continuation scoring works where the server echoes
        /// prompt log-probabilities.
        case completions
        /// `/v1/chat/completions`: conversations as messages; the server applies its own chat
        /// template. No continuation scoring.
        case chat
    }

    /// The server's root, e.g. `http://host:8000` (a trailing `/v1` is accepted too).
    public var baseURL: URL
    /// The model name the server serves (`vllm serve NAME`, `--served-model-name`).
    public var servedModel: String
    public var api: API
    /// Sent as `Authorization: Bearer …`; read from the environment only (`apiKey(from:)`).
    public var apiKey: String?
    /// Requests in flight at once, over every `run` of the engine together.
    public var concurrency: Int
    /// Tries per request (the first and its retries) on 429, 5xx and dropped connections.
    public var maxAttempts: Int
    /// First retry delay; it doubles with each retry, with jitter, up to `maxBackoff`.
    public var initialBackoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// Seconds without a byte from the server before a request is given up (and retried).
    public var idleTimeout: TimeInterval

    public init(baseURL: URL, servedModel: String, api: API = .completions, apiKey: String? = nil,
                concurrency: Int = 16, maxAttempts: Int = 5, initialBackoff: TimeInterval = 0.5,
                maxBackoff: TimeInterval = 8, idleTimeout: TimeInterval = 300) {
        self.baseURL = baseURL
        self.servedModel = servedModel
        self.api = api
        self.apiKey = apiKey
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.idleTimeout = idleTimeout
    }

    /// Environment variables holding the API key, in the order they are read.
    public static let apiKeyVariables = ["STEPWISE_API_KEY", "OPENAI_API_KEY"]

    /// The API key from the environment (`STEPWISE_API_KEY`, else `OPENAI_API_KEY`); never
    /// taken from the command line, where other users of the machine could read it.
    public static func apiKey(from environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for name in apiKeyVariables {
            if let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty { return v }
        }
        return nil
    }

    /// Reads `--endpoint URL`: http or https with a host. One-line error otherwise.
    public static func parseURL(_ text: String) throws -> URL {
        var s = text.trimmingCharacters(in: .whitespaces)
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix("/v1") { s.removeLast(3) }
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw EndpointError.badURL("--endpoint '\(text)': expected http://HOST:PORT or https://HOST")
        }
        return url
    }

    /// The URL of an API path such as `v1/completions`.
    func url(_ path: String) -> URL {
        baseURL.appendingPathComponent(path)
    }

    /// A one-line problem with the values, or nil when they are usable.
    public func problem() -> String? {
        if servedModel.isEmpty { return "the served model name is empty" }
        if !(1...1024).contains(concurrency) { return "concurrency \(concurrency) must be in 1...1024" }
        if maxAttempts < 1 { return "attempts \(maxAttempts) must be ≥ 1" }
        if !(idleTimeout > 0) { return "timeout \(idleTimeout) must be > 0" }
        return nil
    }
}

/// What goes wrong talking to a server; every description is one line.
public enum EndpointError: Error, CustomStringConvertible, Equatable {
    case badURL(String)
    /// The server could not be reached, or dropped the connection, after every retry.
    case unreachable(String)
    /// The server answered with an error status (after retries where the status allows them).
    case http(status: Int, message: String)
    /// The server answered 200 with something that is not what the API promises.
    case badResponse(String)
    case cancelled

    public var description: String {
        switch self {
        case .badURL(let m): return m
        case .unreachable(let m): return "server unreachable: \(m)"
        case .http(let status, let message): return "HTTP \(status): \(message)"
        case .badResponse(let m): return "bad response: \(m)"
        case .cancelled: return "cancelled"
        }
    }

    /// Worth another try: overload (429), server-side errors (5xx), timeouts and dropped
    /// connections. Client errors (4xx) would fail the same way again.
    public var isRetryable: Bool {
        switch self {
        case .unreachable: return true
        case .http(let status, _): return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505)
        case .badURL, .badResponse, .cancelled: return false
        }
    }
}
