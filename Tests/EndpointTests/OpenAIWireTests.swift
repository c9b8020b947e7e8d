import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Inference
import Verification
import XCTest
@testable import Endpoint

/// Request bodies as the servers must see them, and the parsing of recorded answers: streamed
/// chunks of both APIs (with and without log-probabilities), echoed prompt log-probabilities,
/// malformed chunks, in-stream errors, and error bodies (JSON error objects, an HTML 502).
final class OpenAIWireTests: XCTestCase {
    func fixture(_ name: String) throws -> Data { try ServerSentEventParserTests.fixture(name) }

    func items(_ name: String) throws -> [OpenAIWire.StreamItem] {
        var p = ServerSentEventParser()
        return try p.feed(try fixture(name)).map(OpenAIWire.streamItem)
    }

    func json(_ body: [String: Any]) throws -> String {
        String(decoding: try OpenAIWire.encode(body), as: UTF8.self)
    }

    // MARK: Requests

    func testCompletionBodySendsEverySamplingValueAndThePerSampleSeed() throws {
        let sampling = SamplingParameters(temperature: 0.7, topP: 0.9, topK: 0, minP: 0, seed: 100, maxTokens: 64,
                                          stop: ["\n\nQ:"], logprobs: 0)
        let body = OpenAIWire.generationBody(model: "m", prompt: .raw("Q: 1+1\nA:"), api: .completions, sampling: sampling, sample: 3)
        XCTAssertEqual(try json(body), #"{"max_tokens":64,"min_p":0,"model":"m","n":1,"prompt":"Q: 1+1\nA:","seed":103,"#
                       + #""stop":["\n\nQ:"],"stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"top_k":0,"top_p":0.9}"#)
    }

    func testChatBodyCarriesMessagesAndLogprobsTheChatWay() throws {
        var sampling = SamplingParameters(temperature: 0, seed: 1, maxTokens: 8, logprobs: 2)
        sampling.topK = 5
        let body = OpenAIWire.generationBody(model: "m", prompt: .chat([LoopMessage(.system, "Be brief."), LoopMessage(.user, "2+2?")]),
                                             api: .chat, sampling: sampling, sample: 0)
        let text = try json(body)
        XCTAssertTrue(text.contains(#""messages":[{"content":"Be brief.","role":"system"},{"content":"2+2?","role":"user"}]"#), text)
        XCTAssertTrue(text.contains(#""logprobs":true"#), text)
        XCTAssertTrue(text.contains(#""top_logprobs":2"#), text)
        XCTAssertTrue(text.contains(#""top_k":5"#), text)
        XCTAssertFalse(text.contains("\"prompt\""), text)
        XCTAssertFalse(text.contains("\"stop\""), "no stop strings, no stop field: \(text)")

        let completions = OpenAIWire.generationBody(model: "m", prompt: .raw("x"), api: .completions, sampling: sampling, sample: 0)
        XCTAssertEqual(completions["logprobs"] as? Int, 2)

        // Top-k off, for a server that refuses 0.
        let off = OpenAIWire.generationBody(model: "m", prompt: .raw("x"), api: .completions,
                                            sampling: SamplingParameters(topK: 0), sample: 0, topKOff: -1)
        XCTAssertEqual(off["top_k"] as? Int, -1)
    }

    func testSeedsGoOutAs31BitNumbers() {
        XCTAssertEqual(OpenAIWire.wireSeed(UInt64.max), 0x7FFF_FFFF)
        XCTAssertEqual(OpenAIWire.wireSeed(0x1_0000_0005), 5)
        let body = OpenAIWire.generationBody(model: "m", prompt: .raw("x"), api: .completions,
                                             sampling: SamplingParameters(seed: UInt64.max), sample: 1)
        XCTAssertEqual(body["seed"] as? Int, 0)
    }

    func testScoringBodyEchoesWithOneLogprobAndOneToken() throws {
        XCTAssertEqual(try json(OpenAIWire.scoringBody(model: "m", text: "Is it right? Correct")),
                       #"{"echo":true,"logprobs":1,"max_tokens":1,"model":"m","prompt":"Is it right? Correct","stream":false,"temperature":0}"#)
    }

    func testHTTPRequestHeadersCarryTheKeyOnlyWhenThereIsOne() throws {
        let url = URL(string: "http://h:8000/v1/completions")!
        let r = try OpenAIWire.request(url: url, body: ["stream": true], apiKey: "sk-test", timeout: 30)
        XCTAssertEqual(r.httpMethod, "POST")
        XCTAssertEqual(r.value(forHTTPHeaderField: "Authorization"), "Bearer sk-test")
        XCTAssertEqual(r.value(forHTTPHeaderField: "Accept"), "text/event-stream")
        XCTAssertEqual(r.value(forHTTPHeaderField: "Content-Type"), "application/json")
        let plain = try OpenAIWire.request(url: url, body: ["stream": false], apiKey: nil, timeout: 30)
        XCTAssertNil(plain.value(forHTTPHeaderField: "Authorization"))
        XCTAssertEqual(plain.value(forHTTPHeaderField: "Accept"), "application/json")
    }

    func testAPIKeyComesFromTheEnvironmentOnly() {
        XCTAssertEqual(EndpointOptions.apiKey(from: ["STEPWISE_API_KEY": "a", "OPENAI_API_KEY": "b"]), "a")
        XCTAssertEqual(EndpointOptions.apiKey(from: ["STEPWISE_API_KEY": " ", "OPENAI_API_KEY": "b"]), "b")
        XCTAssertNil(EndpointOptions.apiKey(from: [:]))
    }

    func testEndpointURLs() throws {
        XCTAssertEqual(try EndpointOptions.parseURL("http://h:8000/v1/").absoluteString, "http://h:8000")
        let o = EndpointOptions(baseURL: try EndpointOptions.parseURL("https://h/api/"), servedModel: "m")
        XCTAssertEqual(o.url("v1/completions").absoluteString, "https://h/api/v1/completions")
        XCTAssertThrowsError(try EndpointOptions.parseURL("h:8000")) { XCTAssertTrue("\($0)".contains("--endpoint 'h:8000'")) }
        XCTAssertThrowsError(try EndpointOptions.parseURL("ftp://h"))
    }

    // MARK: Streams

    func testRecordedCompletionStreamReassemblesTheText() throws {
        let all = try items("llama-cpp-python-completions-stream.txt")
        XCTAssertEqual(all.last, .done)
        let chunks = all.compactMap { if case .chunk(let c) = $0 { return c } else { return nil } }
        XCTAssertEqual(chunks.map(\.text).joined(), " spsq\u{12}")
        XCTAssertEqual(chunks.filter(\.carriesToken).count, 10)
        XCTAssertEqual(chunks.last?.finishReason, "length")
    }

    func testRecordedChatStreamReadsDeltasAndSkipsTheRoleChunk() throws {
        let chunks = try items("llama-cpp-python-chat-stream.txt").compactMap { item -> OpenAIWire.Chunk? in
            if case .chunk(let c) = item { return c } else { return nil }
        }
        XCTAssertEqual(chunks.map(\.text).joined(), "k<")
        XCTAssertFalse(chunks[0].carriesToken, "the first chunk only names the role")
        XCTAssertEqual(chunks.last?.finishReason, "length")
    }

    func testRecordedLogprobsInBothLayouts() throws {
        let completion = try items("llama-cpp-python-completions-logprobs-stream.txt").flatMap { item -> [OpenAIWire.TokenLogprob] in
            if case .chunk(let c) = item { return c.logprobs } else { return [] }
        }
        XCTAssertEqual(completion.count, 3)
        XCTAssertEqual(completion[0].text, "g")
        XCTAssertEqual(completion[0].logprob, -0.35827454924583435, accuracy: 1e-12)
        XCTAssertEqual(completion[0].top[" sold"] ?? 0, -1.2893582582473755, accuracy: 1e-12)

        let chat = try items("llama-cpp-python-chat-logprobs-stream.txt").flatMap { item -> [OpenAIWire.TokenLogprob] in
            if case .chunk(let c) = item { return c.logprobs } else { return [] }
        }
        // llama-cpp-python reports one entry per streamed chunk: 4 for max_tokens 3 here.
        XCTAssertEqual(chat.count, 4)
        XCTAssertEqual(chat[0].logprob, -0.19820146262645721, accuracy: 1e-12)
        XCTAssertEqual(chat[0].top["\u{1B}"] ?? 0, -1.7302486896514893, accuracy: 1e-12)
    }

    func testUsageChunkGivesTheTokenCount() throws {
        // vLLM's last chunk with stream_options.include_usage: no choices, the usage.
        let item = try OpenAIWire.streamItem(ServerSentEvent(data:
            #"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"total_tokens":21,"completion_tokens":12}}"#))
        guard case .chunk(let c) = item else { return XCTFail("\(item)") }
        XCTAssertEqual(c.completionTokens, 12)
        XCTAssertFalse(c.carriesToken)
    }

    func testMalformedChunksAreBadResponsesNamingThePayload() {
        for payload in ["{\"choices\": [{\"text\": \"a\"", "not json", "[1,2]", "{\"id\": \"x\"}", #"{"choices":[{"index":0,"text":5}]}"#] {
            XCTAssertThrowsError(try OpenAIWire.streamItem(ServerSentEvent(data: payload)), payload) { error in
                guard let e = error as? EndpointError, case .badResponse(let m) = e else { return XCTFail("\(error)") }
                XCTAssertFalse(e.isRetryable)
                XCTAssertFalse(m.contains("\n"))
            }
        }
    }

    func testErrorsInsideTheStream() throws {
        // vLLM sends a failed request's error as a data chunk; an `event: error` also counts.
        XCTAssertEqual(try OpenAIWire.streamItem(ServerSentEvent(data:
            #"{"error":{"object":"error","message":"The engine died.","type":"InternalServerError","code":500}}"#)),
                       .error("The engine died."))
        XCTAssertEqual(try OpenAIWire.streamItem(ServerSentEvent(event: "error", data: #"{"message":"overloaded"}"#)),
                       .error("overloaded"))
    }

    // MARK: Scoring

    func testEchoedLogprobsOfTheContinuation() throws {
        // The values as llama-cpp-python sent them (one token late, see below): what is checked
        // here is which entries are summed.
        let data = try fixture("llama-cpp-python-echo-logprobs.json")
        // "Answer: yes": tokens A|n|sw|er|:| |y|e|s at offsets 0,1,2,4,6,7,8,9,10.
        let yes = try OpenAIWire.continuationLogprob(data, continuationLength: 4, textLength: 11)
        XCTAssertEqual(yes, -26.34444808959961 - 47.31098175048828 - 36.6164665222168 - 37.04906463623047, accuracy: 1e-9)
        // A boundary inside a token charges the whole token to the continuation ("wer: yes"
        // starts inside "sw" at 2..<4).
        let fromW = try OpenAIWire.continuationLogprob(data, continuationLength: 8, textLength: 11)
        XCTAssertEqual(fromW, -27.662317276000977 - 48.5062370300293 - 21.411516189575195 - 26.34444808959961
                       - 47.31098175048828 - 36.6164665222168 - 37.04906463623047, accuracy: 1e-9)
        // The first token has no log-probability (nothing before it).
        XCTAssertThrowsError(try OpenAIWire.continuationLogprob(data, continuationLength: 11, textLength: 11))
    }

    func testContinuationIsFoundFromTheEndWhenOffsetsDrift() throws {
        // vLLM's shape (hand-written): "×" split over two byte-level tokens, each decoding as
        // U+FFFD, so the server's offsets run one ahead of the text after it; one generated "!".
        let data = Data(#"""
        {"choices":[{"index":0,"text":"a×b Correct!","finish_reason":"length","logprobs":{
         "tokens":["a","�","�","b"," Correct","!"],"text_offset":[0,1,2,3,4,12],
         "token_logprobs":[null,-1.0,-2.0,-3.0,-4.5,-0.1],
         "top_logprobs":[null,{"�":-1.0},{"�":-2.0},{"b":-3.0},{" Correct":-4.5},{"!":-0.1}]}}]}
        """#.utf8)
        // " Correct" alone: neither "b" (which the raw offsets would place at 3..<4, inside
        // 3..<11) nor the generated "!".
        XCTAssertEqual(try OpenAIWire.continuationLogprob(data, continuationLength: 8, textLength: 11), -4.5, accuracy: 1e-12)
        XCTAssertTrue(try OpenAIWire.echoIsAligned(data, textLength: 11))
        // With usage, as vLLM sends it: five prompt tokens, then the generated one.
        let withUsage = Data(String(decoding: data, as: UTF8.self)
            .replacingOccurrences(of: #"}}]}"#, with: #"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#).utf8)
        XCTAssertEqual(try OpenAIWire.continuationLogprob(withUsage, continuationLength: 8, textLength: 11), -4.5, accuracy: 1e-12)
        // llama-cpp-python lists no entry for the generated token (recorded: 9 prompt tokens, 9
        // entries, generated text ""), so nothing is taken off the end.
        let recorded = try fixture("llama-cpp-python-echo-logprobs.json")
        XCTAssertEqual(try OpenAIWire.continuationLogprob(recorded, continuationLength: 1, textLength: 11), -37.04906463623047,
                       accuracy: 1e-9)
    }

    func testScoringAnswerWithoutEchoedLogprobsIsBadResponse() {
        let plain = Data(#"{"choices":[{"text":" x","index":0,"logprobs":null,"finish_reason":"length"}]}"#.utf8)
        XCTAssertThrowsError(try OpenAIWire.continuationLogprob(plain, continuationLength: 1, textLength: 1)) {
            XCTAssertTrue("\($0)".contains("no echoed prompt log-probabilities"), "\($0)")
        }
        XCTAssertThrowsError(try OpenAIWire.continuationLogprob(Data("<html>".utf8), continuationLength: 1, textLength: 1))
    }

    func testEchoAlignmentIsCheckedFromTheGeneratedToken() throws {
        // Recorded: llama-cpp-python 0.3.36 scores each echoed token with the distribution after
        // it; its entry for the last prompt token has the generated token ("") as most likely.
        XCTAssertFalse(try OpenAIWire.echoIsAligned(try fixture("llama-cpp-python-echo-logprobs.json"), textLength: 11))
        // vLLM's shape (hand-written): the greedy generated token "!" at offset 11 is its own
        // entry's most likely token.
        let aligned = Data(#"""
        {"choices":[{"index":0,"text":"Answer: yes!","finish_reason":"length","logprobs":{
         "tokens":["Answer",":"," yes","!"],"text_offset":[0,6,7,11],
         "token_logprobs":[null,-3.2,-5.1,-0.4],
         "top_logprobs":[null,{":":-3.2,",":-1.1},{" yes":-5.1," no":-2.0},{"!":-0.4}]}}]}
        """#.utf8)
        XCTAssertTrue(try OpenAIWire.echoIsAligned(aligned, textLength: 11))
        XCTAssertEqual(try OpenAIWire.continuationLogprob(aligned, continuationLength: 4, textLength: 11), -5.1, accuracy: 1e-12)
        // One token late, the same way: the generated token is not its entry's best.
        let late = Data(#"""
        {"choices":[{"index":0,"text":"Answer: yes!","logprobs":{"text_offset":[0,6,7,11],
         "token_logprobs":[null,-3.2,-5.1,-7.5],"top_logprobs":[null,{":":-3.2},{" yes":-5.1},{"!":-7.5,"?":-0.2}]}}]}
        """#.utf8)
        XCTAssertFalse(try OpenAIWire.echoIsAligned(late, textLength: 11))
        XCTAssertThrowsError(try OpenAIWire.echoIsAligned(Data(#"{"choices":[{"text":"x"}]}"#.utf8), textLength: 1))
    }

    // MARK: Error bodies

    func testErrorBodiesBecomeOneLine() throws {
        // Recorded: llama-cpp-python answers a validation error with 500 and a multi-line message.
        let recorded = OpenAIWire.errorSummary(try fixture("llama-cpp-python-error-500.json"))
        XCTAssertTrue(recorded.hasPrefix("2 validation errors:"), recorded)
        XCTAssertFalse(recorded.contains("\n"))
        // vLLM's shapes (older: a top-level error object; newer: nested).
        XCTAssertEqual(OpenAIWire.errorSummary(Data(
            #"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}"#.utf8)),
                       "The model `x` does not exist.")
        XCTAssertEqual(OpenAIWire.errorSummary(Data(
            #"{"error":{"message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}}"#.utf8)),
                       "This model's maximum context length is 4096 tokens.")
        XCTAssertEqual(OpenAIWire.errorSummary(Data(#"{"detail":"Not Found"}"#.utf8)), "Not Found")
        // A proxy in front of a dead server.
        let nginx = """
        <html>
        <head><title>502 Bad Gateway</title></head>
        <body>
        <center><h1>502 Bad Gateway</h1></center>
        <hr><center>nginx/1.24.0</center>
        </body>
        </html>
        """
        XCTAssertEqual(OpenAIWire.errorSummary(Data(nginx.utf8)), "HTML page: 502 Bad Gateway")
        XCTAssertEqual(OpenAIWire.errorSummary(Data("<!DOCTYPE html><p>upstream\nconnect error</p>".utf8)), "HTML page: upstream connect error")
        XCTAssertEqual(OpenAIWire.errorSummary(Data()), "(empty body)")
    }

    func testWhichFailuresAreRetried() {
        for status in [408, 429, 500, 502, 503, 504] {
            XCTAssertTrue(EndpointError.http(status: status, message: "").isRetryable, "\(status)")
        }
        for status in [400, 401, 404, 422, 501] {
            XCTAssertFalse(EndpointError.http(status: status, message: "").isRetryable, "\(status)")
        }
        XCTAssertTrue(EndpointError.unreachable("refused").isRetryable)
        XCTAssertFalse(EndpointError.badResponse("x").isRetryable)
    }
}
