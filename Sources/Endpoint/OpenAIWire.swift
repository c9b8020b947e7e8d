import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Inference
import Verification

/// The JSON of the OpenAI-compatible API as far as Stepwise uses it: request bodies for
/// generation and scoring, and the parsing of streamed chunks, echoed log-probabilities and
/// error bodies. Pure functions of their inputs, so the unit tests pin them with recorded
/// server responses.
public enum OpenAIWire {
    // MARK: Requests

    /// The body of a streamed request for one sample.
    ///
    /// `n` is always 1: llama-cpp-python ignores `n`, and one request per sample lets sample
    /// `i` carry its own seed (`seed + i`, the in-process engine's rule), so a rerun asks for
    /// exactly the samples the first run asked for. Servers with prefix caching (vLLM, SGLang)
    /// compute the shared prompt once anyway.
    ///
    /// Sampling values are always sent, never left to the server's defaults (llama.cpp's
    /// default top-k is 40 and min-p 0.05, where Stepwise's are off). Top-k off is sent as
    /// `topKOff`: 0 for llama.cpp and current vLLM, -1 for vLLM before mid-2025, which refuses 0
    /// (the engine finds out when it connects).
    public static func generationBody(model: String, prompt: LoopPrompt, api: EndpointOptions.API,
                                      sampling: SamplingParameters, sample: Int, topKOff: Int = 0) -> [String: Any] {
        var body: [String: Any] = [
            "model": model,
            "n": 1,
            "stream": true,
            "temperature": sampling.temperature,
            "top_p": sampling.topP,
            "top_k": sampling.topK > 0 ? sampling.topK : topKOff,
            "min_p": sampling.minP,
            "max_tokens": sampling.maxTokens,
            "seed": wireSeed(sampling.seed &+ UInt64(max(0, sample))),
            // Token counts of the sample, where the server reports usage on streams (vLLM).
            "stream_options": ["include_usage": true],
        ]
        if !sampling.stop.isEmpty { body["stop"] = sampling.stop }
        switch (api, prompt) {
        case (.chat, .chat(let messages)):
            body["messages"] = messages.map { ["role": $0.role.rawValue, "content": $0.content] }
            if sampling.logprobs > 0 {
                body["logprobs"] = true
                body["top_logprobs"] = sampling.logprobs
            }
        case (.chat, .raw(let text)):
            body["messages"] = [["role": "user", "content": text]]
            if sampling.logprobs > 0 {
                body["logprobs"] = true
                body["top_logprobs"] = sampling.logprobs
            }
        case (.completions, _):
            body["prompt"] = completionText(prompt)
            if sampling.logprobs > 0 { body["logprobs"] = sampling.logprobs }
        }
        return body
    }

    /// The body that asks for the log-probabilities of `text`'s own tokens: the prompt echoed
    /// with one log-probability per token (`echo` + `logprobs`), and one generated token
    /// (`max_tokens` 0 means "no limit" to llama-cpp-python). The continuation's tokens are
    /// then picked out by their text offsets (`continuationLogprob`).
    public static func scoringBody(model: String, text: String) -> [String: Any] {
        ["model": model, "prompt": text, "echo": true, "logprobs": 1, "max_tokens": 1, "temperature": 0,
         "stream": false]
    }

    /// Seeds go out as 31-bit numbers: llama.cpp keeps 32 bits, vLLM rejects values past
    /// Int64.max, and some servers read a signed 32-bit int.
    static func wireSeed(_ seed: UInt64) -> Int { Int(seed & 0x7FFF_FFFF) }

    /// Conversations sent to `/v1/completions` need a layout; the engine renders them with its
    /// template before they get here, so a `.chat` reaching this point is joined plainly.
    static func completionText(_ prompt: LoopPrompt) -> String {
        switch prompt {
        case .raw(let text): return text
        case .chat(let messages): return messages.map { "\($0.role.rawValue): \($0.content)" }.joined(separator: "\n\n") + "\n\nassistant:"
        }
    }

    /// JSON for a body; keys sorted so that a request is the same bytes every time.
    public static func encode(_ body: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// The HTTP request: POST JSON, the bearer token when there is one, an event stream when
    /// the body streams.
    public static func request(url: URL, body: [String: Any], apiKey: String?, timeout: TimeInterval) throws -> URLRequest {
        var r = URLRequest(url: url, timeoutInterval: timeout)
        r.httpMethod = "POST"
        r.httpBody = try encode(body)
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.setValue((body["stream"] as? Bool) == true ? "text/event-stream" : "application/json", forHTTPHeaderField: "Accept")
        if let apiKey { r.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        return r
    }

    // MARK: Streamed responses

    /// The log-probability of one generated token and, on request, of the most likely ones.
    public struct TokenLogprob: Sendable, Equatable {
        public var text: String
        public var logprob: Double
        public var top: [String: Double]
    }

    /// What one streamed chunk carries for the sample (choice 0).
    public struct Chunk: Sendable, Equatable {
        public var text = ""
        public var finishReason: String?
        /// `usage.completion_tokens`, on the chunk that carries usage.
        public var completionTokens: Int?
        public var logprobs: [TokenLogprob] = []
        /// Tokens this chunk stands for when the server gives no usage: one chunk per token is
        /// how the servers stream.
        public var carriesToken = false
    }

    /// Outcome of one `data:` payload of a stream.
    public enum StreamItem: Sendable, Equatable {
        case chunk(Chunk)
        /// `data: [DONE]`, the stream's end marker.
        case done
        /// An error object sent in the stream (vLLM does this when a request fails mid-way).
        case error(String)
    }

    /// Parses one server-sent event of a completion stream. A payload that is not a JSON object
    /// of the expected shape is a `badResponse` naming what was wrong.
    public static func streamItem(_ event: ServerSentEvent) throws -> StreamItem {
        let payload = event.data.trimmingCharacters(in: .whitespaces)
        if payload == "[DONE]" { return .done }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else {
            throw EndpointError.badResponse("stream chunk is not a JSON object: \(excerpt(payload))")
        }
        if event.event == "error" || object["error"] != nil || object["object"] as? String == "error" {
            return .error(errorMessage(object) ?? excerpt(payload))
        }
        var chunk = Chunk()
        if let usage = object["usage"] as? [String: Any], let n = usage["completion_tokens"] as? Int {
            chunk.completionTokens = n
        }
        guard let choices = object["choices"] as? [Any] else {
            // A usage-only chunk has `choices: []`; no choices at all is a malformed chunk.
            if chunk.completionTokens != nil { return .chunk(chunk) }
            throw EndpointError.badResponse("stream chunk has no choices: \(excerpt(payload))")
        }
        guard let choice = choices.compactMap({ $0 as? [String: Any] }).first(where: { ($0["index"] as? Int ?? 0) == 0 }) else {
            return .chunk(chunk)
        }
        if let text = choice["text"] as? String {
            chunk.text = text
            chunk.carriesToken = true
        } else if let delta = choice["delta"] as? [String: Any] {
            if let text = delta["content"] as? String {
                chunk.text = text
                chunk.carriesToken = true
            }
        } else if choice["text"] != nil || choice["delta"] != nil {
            throw EndpointError.badResponse("stream chunk's text is not a string: \(excerpt(payload))")
        }
        chunk.finishReason = choice["finish_reason"] as? String
        chunk.logprobs = logprobs(choice["logprobs"])
        return .chunk(chunk)
    }

    /// Per-token log-probabilities in either layout: completions (`tokens`, `token_logprobs`,
    /// `top_logprobs` as objects) or chat (`content: [{token, logprob, top_logprobs: [...]}]`).
    static func logprobs(_ value: Any?) -> [TokenLogprob] {
        guard let object = value as? [String: Any] else { return [] }
        if let content = object["content"] as? [[String: Any]] {
            return content.compactMap { entry in
                guard let token = entry["token"] as? String, let lp = number(entry["logprob"]) else { return nil }
                var top: [String: Double] = [:]
                for t in entry["top_logprobs"] as? [[String: Any]] ?? [] {
                    if let s = t["token"] as? String, let v = number(t["logprob"]) { top[s] = v }
                }
                return TokenLogprob(text: token, logprob: lp, top: top)
            }
        }
        guard let tokens = object["tokens"] as? [String], let values = object["token_logprobs"] as? [Any] else { return [] }
        let tops = object["top_logprobs"] as? [Any] ?? []
        var result: [TokenLogprob] = []
        for (i, token) in tokens.enumerated() where i < values.count {
            guard let lp = number(values[i]) else { continue }
            var top: [String: Double] = [:]
            if i < tops.count, let t = tops[i] as? [String: Any] {
                for (k, v) in t { if let d = number(v) { top[k] = d } }
            }
            result.append(TokenLogprob(text: token, logprob: lp, top: top))
        }
        return result
    }

    // MARK: Scoring

    /// An echoed answer's per-token entries, split into the echoed text and what was generated
    /// after it.
    struct Echo {
        var offsets: [Int]
        var values: [Any]
        var tops: [[String: Double]]
        /// Entries from here on were generated.
        var generatedFrom: Int
        /// Where the echoed text ends, in the server's offsets.
        var echoEnd: Int
    }

    /// Reads `choices[0].logprobs` of an echo answer whose text is `textLength` scalars long.
    ///
    /// The servers count `text_offset` by their own token strings, which drift from the text
    /// when a multi-byte character is split over tokens (each piece decodes as U+FFFD). So
    /// positions are found from the end: the echoed text ends where the generated entries
    /// begin. Those are the entries past `usage.prompt_tokens` (vLLM lists them after the
    /// prompt's; llama-cpp-python lists none), else the last entries whose token strings spell
    /// the end of the generated text.
    static func echo(_ data: Data, textLength: Int) throws -> Echo {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EndpointError.badResponse("scoring answer is not a JSON object: \(excerpt(String(decoding: data, as: UTF8.self)))")
        }
        guard let choice = (object["choices"] as? [[String: Any]])?.first,
              let logprobs = choice["logprobs"] as? [String: Any],
              let rawOffsets = logprobs["text_offset"] as? [Any],
              let values = logprobs["token_logprobs"] as? [Any], rawOffsets.count == values.count, !rawOffsets.isEmpty else {
            throw EndpointError.badResponse("scoring answer has no echoed prompt log-probabilities (choices[0].logprobs.text_offset/token_logprobs)")
        }
        var offsets: [Int] = []
        for (i, o) in rawOffsets.enumerated() {
            guard let v = number(o) else { throw EndpointError.badResponse("scoring answer: text_offset[\(i)] is not a number") }
            offsets.append(Int(v))
        }
        let tops = (logprobs["top_logprobs"] as? [Any] ?? []).map { entry -> [String: Double] in
            var d: [String: Double] = [:]
            for (k, v) in entry as? [String: Any] ?? [:] { if let x = number(v) { d[k] = x } }
            return d
        }
        let text = (choice["text"] as? String) ?? ""
        let generated = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(textLength)))
        let tokens = (logprobs["tokens"] as? [String]).flatMap { $0.count == offsets.count ? $0 : nil }
        var from: Int
        if let promptTokens = (object["usage"] as? [String: Any])?["prompt_tokens"] as? Int, promptTokens <= offsets.count {
            from = promptTokens
        } else if let tokens {
            from = offsets.count
            var tail = ""
            while from > 0 && tail.unicodeScalars.count < generated.unicodeScalars.count
                    && generated.hasSuffix(tokens[from - 1] + tail) {
                from -= 1
                tail = tokens[from] + tail
            }
        } else {
            // Neither: trust the offsets as they are.
            from = offsets.firstIndex { $0 >= textLength } ?? offsets.count
        }
        let echoEnd: Int
        if let tokens, from > 0 {
            echoEnd = offsets[from - 1] + tokens[from - 1].unicodeScalars.count
        } else {
            echoEnd = from < offsets.count ? offsets[from] : textLength
        }
        return Echo(offsets: offsets, values: values, tops: tops, generatedFrom: from, echoEnd: echoEnd)
    }

    /// The summed log-probability of the last `continuationLength` scalars of an echoed text
    /// `textLength` scalars long (the prompt followed by the continuation): every token that
    /// overlaps the continuation counts, so one that straddles the boundary is charged to the
    /// continuation. Throws when the answer lacks echoed log-probabilities.
    public static func continuationLogprob(_ data: Data, continuationLength: Int, textLength: Int) throws -> Double {
        let echo = try echo(data, textLength: textLength)
        let end = echo.echoEnd
        let start = end - continuationLength
        var total = 0.0
        var counted = 0
        for i in 0..<echo.generatedFrom {
            let s = echo.offsets[i]
            // A token ends where the next one starts (the last echoed one, where the text ends).
            let e = i + 1 < echo.generatedFrom ? echo.offsets[i + 1] : end
            guard s < end && e > start else { continue }
            guard let lp = number(echo.values[i]) else {
                throw EndpointError.badResponse("scoring answer: token_logprobs[\(i)] is null inside the continuation")
            }
            total += lp
            counted += 1
        }
        if counted == 0 { throw EndpointError.badResponse("scoring answer: no token covers the continuation (offsets \(start)..<\(end))") }
        return total
    }

    /// Whether a server's echoed log-probabilities mean what the API says: entry `i` is
    /// log P(token i | the tokens before it). llama-cpp-python 0.3.x instead scores token `i`
    /// with the distribution that follows it (one position late), which would make every MC
    /// probability wrong. Read from an answer to `scoringBody` (greedy, one generated token):
    /// - when the generated token has an entry, it is the greedy choice, so aligned entries
    ///   give it the largest log-probability among its top ones;
    /// - when it has none, a late entry for the prompt's last token is the distribution after
    ///   the prompt, whose most likely token is the one generated.
    public static func echoIsAligned(_ data: Data, textLength: Int) throws -> Bool {
        let echo = try echo(data, textLength: textLength)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        let text = ((object?["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        let generated = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(textLength)))
        let g = echo.generatedFrom
        if g < echo.offsets.count, let chosen = number(echo.values[g]), g < echo.tops.count, let best = echo.tops[g].values.max() {
            return chosen >= best - 1e-3
        }
        let last = g - 1
        guard last >= 0, last < echo.tops.count, let top = echo.tops[last].max(by: { $0.value < $1.value }) else {
            return true
        }
        return top.key != generated
    }

    // MARK: Errors

    /// One line saying what an error answer says: the `message` of an OpenAI-style error
    /// object (`{"error": {"message"}}`, vLLM's `{"object": "error", "message"}`, FastAPI's
    /// `{"detail"}`), else the title or text of an HTML page (a proxy's 502), else the body's
    /// start.
    public static func errorSummary(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let m = errorMessage(object) {
            return oneLine(m)
        }
        let lower = text.lowercased()
        if lower.contains("<html") || lower.contains("<!doctype") {
            if let open = lower.range(of: "<title>"), let close = lower.range(of: "</title>", range: open.upperBound..<lower.endIndex) {
                let title = text[text.index(text.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: open.upperBound))
                                 ..< text.index(text.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: close.lowerBound))]
                let t = oneLine(String(title))
                if !t.isEmpty { return "HTML page: \(t)" }
            }
            return "HTML page: \(excerpt(stripTags(text)))"
        }
        let t = oneLine(text)
        return t.isEmpty ? "(empty body)" : excerpt(t)
    }

    static func errorMessage(_ object: [String: Any]) -> String? {
        if let e = object["error"] as? [String: Any] {
            return (e["message"] as? String) ?? (e["type"] as? String)
        }
        if let e = object["error"] as? String { return e }
        if let m = object["message"] as? String { return m }
        if let d = object["detail"] as? String { return d }
        if let d = object["detail"] { return "\(d)" }
        return nil
    }

    static func number(_ value: Any?) -> Double? {
        if let d = value as? Double { return d }
        if let n = value as? NSNumber { return n.doubleValue }
        return nil
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func excerpt(_ s: String, limit: Int = 200) -> String {
        let line = oneLine(s)
        return line.count <= limit ? line : String(line.prefix(limit)) + "…"
    }

    static func stripTags(_ html: String) -> String {
        var out = ""
        var inTag = false
        for c in html {
            if c == "<" { inTag = true } else if c == ">" { inTag = false; out.append(" ") } else if !inTag { out.append(c) }
        }
        return out
    }
}
