import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Inference
import Journal
import Reasoning
import Verification
import XCTest
@testable import Endpoint
@testable import StepwiseCLI

/// `stepwise run --endpoint` against a real OpenAI-compatible server: llama-cpp-python's
/// (`python -m llama_cpp.server`, PyPI `llama-cpp-python[server]==0.3.36`), started here on a
/// free loopback port with the engine's smallest llama fixture that llama.cpp runs on this
/// machine (the Q8_0 fixtures die with SIGILL in llama.cpp's AMX kernels on VMs that have not
/// enabled AMX tiles; the F16 one takes the plain path).
///
/// The Python comes from $STEPWISE_TEST_PYTHON (`.ci/run` sets it to the venv it makes), else
/// `python3`. Where `import llama_cpp.server` fails the tests skip and say why.
final class LlamaCppServerTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let model = repo.appendingPathComponent("Tests/InferenceTests/Fixtures/models/llama-f16.gguf").path
    static let servedName = "tiny-llama"

    var scratch: URL!
    var servers: [LlamaCppServer] = []

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-endpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try writeShortPrompts()
    }

    override func tearDownWithError() throws {
        for s in servers { s.stop() }
        servers = []
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A running server, or a skip saying why there cannot be one.
    func startServer(interruptRequests: Bool = false) throws -> LlamaCppServer {
        let python = ProcessInfo.processInfo.environment["STEPWISE_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        if let why = LlamaCppServer.unavailable(python: python) {
            throw XCTSkip("llama-cpp-python's server is not installed for \(python) (\(why)); install it with "
                          + "`pip install 'llama-cpp-python[server]==0.3.36'` or set STEPWISE_TEST_PYTHON to a Python that has it")
        }
        let server = try LlamaCppServer(python: python, model: Self.model, alias: Self.servedName,
                                        log: scratch.appendingPathComponent("server-\(servers.count).log"),
                                        interruptRequests: interruptRequests)
        servers.append(server)
        try server.waitUntilServing()
        return server
    }

    func runArguments(_ server: LlamaCppServer, out: URL, problems: String, extra: [String] = []) -> [String] {
        ["run", "--endpoint", server.url, "--served-model", Self.servedName, "--dataset", "builtin:arith",
         "--problems", problems, "--samples", "2", "--rounds", "1", "--verifiers", "cot-binary,cot-score",
         "--max-tokens", "16", "--seed", "3", "--concurrency", "4", "--prompts", promptsDirectory.path, "--out", out.path] + extra
    }

    var promptsDirectory: URL { scratch.appendingPathComponent("prompts") }

    /// Prompts short enough for the fixture's 256-token context (the built-in few-shot ones are
    /// longer), so that the in-process engine can score the same MC prompt for comparison.
    func writeShortPrompts() throws {
        let dir = promptsDirectory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files: [String: String] = [
            "generate-arith": "Q: {problem}\nA:",
            "generate-chat": "{problem}",
            "refine": "{problem}\n{generation}\nReview: {critique}\nFix:",
            "refine-chat": "Review: {critique}",
        ]
        for kind in ["mc", "cot-binary", "cot-score", "critique"] {
            files["verify-\(kind)"] = "{problem}\n{steps}\nOK?"
        }
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent("\(name).txt"), atomically: true, encoding: .utf8)
        }
    }

    // MARK: A run, its journal, its report, a rerun

    func testRunWithTwoVerifiersAndOneRefinementRoundJournalsEverythingAndReports() throws {
        let server = try startServer()
        let out = scratch.appendingPathComponent("run.jsonl")
        // A key in the environment goes to the server and nowhere else.
        let secret = "sk-stepwise-test-\(UUID().uuidString)"
        setenv("STEPWISE_API_KEY", secret, 1)
        defer { unsetenv("STEPWISE_API_KEY") }
        let console = Console.capturing()
        let code = CLI.run(runArguments(server, out: out, problems: "0..1"), console: console)
        XCTAssertEqual(code, 0, console.capturedErr + server.logTail())
        XCTAssertTrue(console.capturedOut.contains("model: tiny-llama at \(server.url) (/v1/completions)"), console.capturedOut)
        XCTAssertTrue(console.capturedOut.contains("Stepwise report"), console.capturedOut)
        // Per problem and round: 2 samples, 2 cot-binary, 2 cot-score, 2 critiques.
        XCTAssertTrue(console.capturedOut.contains("endpoint: 32 requests (0 retried, at most 4 at once)"), console.capturedOut)

        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertFalse(text.contains(secret), "the API key must not reach the journal")
        let contents = try JournalReader.read(out)
        XCTAssertFalse(contents.hasTornTail)
        XCTAssertEqual(contents.header.backend, "endpoint \(server.url)")
        XCTAssertEqual(contents.header.model, Self.servedName)
        let state = SessionState(contents)
        XCTAssertEqual(state.problems.map(\.id), ["arith-test-0", "arith-test-1"])
        for p in state.problems {
            let first = state.solutions(of: p.id, round: 0)
            XCTAssertEqual(first.count, 2, p.id)
            XCTAssertEqual(Set(first.map(\.id)), ["\(p.id)/s0", "\(p.id)/s1"])
            // The random-weight model's gibberish is never accepted: each attempt is rewritten once.
            let second = state.solutions(of: p.id, round: 1)
            XCTAssertEqual(second.count, 2, p.id)
            XCTAssertTrue(second.allSatisfy { $0.origin == .refined && $0.parentID != nil })
            XCTAssertEqual(state.rounds[p.id]?.started, 1)
            XCTAssertEqual(state.rounds[p.id]?.finished, 1)
            for s in first + second {
                XCTAssertNotNil(s.tokenCount, s.id)
                let critiques = state.critiques[s.id] ?? []
                // The two chosen verifiers and the refinement verifier (critique), blind.
                XCTAssertEqual(Set(critiques.map { "\($0.verifier.rawValue)/\($0.informed)" }),
                               ["cot-binary/false", "cot-score/false", "critique/false"], s.id)
                for c in critiques {
                    // Whatever the server wrote is kept; unreadable answers are marked, not guessed.
                    XCTAssertEqual(c.round, s.round, c.id)
                    if c.parse == .unparseable { XCTAssertNil(c.score, c.id) }
                }
            }
        }

        // The report of the journal.
        let report = Console.capturing()
        XCTAssertEqual(CLI.run(["report", out.path], console: report), 0, report.capturedErr)
        XCTAssertTrue(report.capturedOut.contains("Stepwise report"), report.capturedOut)
        XCTAssertTrue(report.capturedOut.contains("cot-binary/blind"), report.capturedOut)
        XCTAssertTrue(report.capturedOut.contains("cot-score/blind"), report.capturedOut)

        // A rerun resumes: nothing is asked of the server and nothing is journaled.
        let again = Console.capturing()
        XCTAssertEqual(CLI.run(runArguments(server, out: out, problems: "0..1"), console: again), 0, again.capturedErr)
        XCTAssertTrue(again.capturedOut.contains("resuming"), again.capturedOut)
        XCTAssertTrue(again.capturedOut.contains("endpoint: 0 requests"), again.capturedOut)
        XCTAssertEqual(try JournalReader.read(out).events, contents.events)
    }

    // MARK: The server dies mid-run

    func testServerDyingMidRunLeavesTheJournalWholeAndARerunFinishes() throws {
        let server = try startServer()
        let out = scratch.appendingPathComponent("dying.jsonl")
        let problems = "0..5"
        let console = Console.capturing()
        let finished = DispatchSemaphore(value: 0)
        let result = Box()
        let args = runArguments(server, out: out, problems: problems)
        Thread.detachNewThread {
            result.code = CLI.run(args, console: console)
            finished.signal()
        }
        // Kill the server once some work is journaled (header, problem, round start, a solution).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let d = try? String(contentsOf: out, encoding: .utf8), d.contains("\"solution\"") { break }
            usleep(20_000)
        }
        server.kill()
        XCTAssertEqual(finished.wait(timeout: .now() + 120), .success, "the run must end when its server is gone")
        XCTAssertEqual(result.code, 1, console.capturedErr)
        XCTAssertTrue(console.capturedErr.contains("server unreachable"), console.capturedErr)
        XCTAssertTrue(console.capturedErr.contains("rerun the same command to resume"), console.capturedErr)
        let partial = try JournalReader.read(out)
        XCTAssertFalse(partial.hasTornTail)
        let partialState = SessionState(partial)
        XCTAssertLessThan(partialState.problems.count + partialState.solutions.count, 6 + 24, "it stopped early")
        XCTAssertFalse(partialState.solutions.isEmpty)

        // Another server (a new port: the journal does not pin the URL); the rerun finishes.
        let revived = try startServer()
        let again = Console.capturing()
        XCTAssertEqual(CLI.run(runArguments(revived, out: out, problems: problems), console: again), 0,
                       again.capturedErr + revived.logTail())
        XCTAssertTrue(again.capturedOut.contains("resuming"), again.capturedOut)
        let state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.problems.count, 6)
        for p in state.problems {
            XCTAssertEqual(state.solutions(of: p.id, round: 0).count, 2, p.id)
            XCTAssertEqual(state.solutions(of: p.id, round: 1).count, 2, p.id)
            XCTAssertEqual(state.rounds[p.id]?.finished, 1, p.id)
        }
        // Nothing journaled twice: each solution id once.
        var seen = Set<String>()
        for case .solutionAdded(let s) in try JournalReader.read(out).events {
            XCTAssertTrue(seen.insert(s.id).inserted, "\(s.id) journaled twice")
        }
        // Solutions journaled before the crash are kept as they were.
        for (id, s) in partialState.solutions { XCTAssertEqual(state.solutions[id]?.text, s.text, id) }
    }

    // MARK: Chat API, and what it cannot do

    /// llama-cpp-python 0.3.36 echoes prompt log-probabilities one token late (checked against
    /// llama.cpp's own logits: its entry for token i is the distribution after i), so the engine
    /// must not trust them for MC: the run is refused, saying why, before any journal exists.
    /// The chat API has no continuation scoring at all.
    func testTheMCVerifierIsRefusedBeforeTheJournalIsCreatedWhenTheServerCannotScore() throws {
        let server = try startServer()
        for extra in [[], ["--chat"]] {
            let refused = scratch.appendingPathComponent("refused.jsonl")
            let console = Console.capturing()
            let args = runArguments(server, out: refused, problems: "0", extra: extra + ["--verifiers", "mc,cot-binary"])
            XCTAssertEqual(CLI.run(args, console: console), 2, console.capturedErr)
            XCTAssertTrue(console.capturedErr.contains("the mc verifier needs the log-probabilities of given continuations"),
                          console.capturedErr)
            XCTAssertTrue(console.capturedErr.contains(extra.isEmpty ? "one token late" : "chat API"), console.capturedErr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path), "refused before the journal is created")
        }
    }

    func testChatAPIRunsTheLoop() throws {
        let server = try startServer()

        let out = scratch.appendingPathComponent("chat.jsonl")
        let chat = Console.capturing()
        let args = ["run", "--endpoint", server.url, "--served-model", Self.servedName, "--chat", "--dataset", "builtin:arith",
                    "--problems", "0", "--samples", "2", "--rounds", "0", "--verifiers", "cot-binary", "--max-tokens", "8",
                    "--prompts", promptsDirectory.path, "--out", out.path]
        XCTAssertEqual(CLI.run(args, console: chat), 0, chat.capturedErr + server.logTail())
        XCTAssertTrue(chat.capturedOut.contains("(/v1/chat/completions)"), chat.capturedOut)
        let state = SessionState(try JournalReader.read(out))
        XCTAssertEqual(state.solutions(of: "arith-test-0", round: 0).count, 2)
        for s in state.solutions(of: "arith-test-0", round: 0) {
            XCTAssertEqual(Set((state.critiques[s.id] ?? []).map(\.verifier)), [.cotBinary, .critique], s.id)
        }
    }

    func testGenerateStreamsFromTheServer() throws {
        let server = try startServer()
        let console = Console.capturing()
        let code = CLI.run(["generate", "--endpoint", server.url, "--served-model", Self.servedName, "--prompt", "Q: 2+3=",
                            "--n", "3", "--max-tokens", "6", "--seed", "1", "--logprobs", "2", "--json"], console: console)
        XCTAssertEqual(code, 0, console.capturedErr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(console.capturedOut.utf8)) as? [String: Any])
        let samples = try XCTUnwrap(object["samples"] as? [[String: Any]])
        XCTAssertEqual(samples.map { $0["index"] as? Int }, [0, 1, 2])
        for s in samples {
            XCTAssertEqual(s["finish_reason"] as? String, "length")
            let logprobs = try XCTUnwrap(s["logprobs"] as? [[String: Any]])
            XCTAssertFalse(logprobs.isEmpty)
            XCTAssertTrue(logprobs.allSatisfy { ($0["logprob"] as? Double).map { $0 <= 0 } == true })
        }
    }

    // MARK: Cancellation

    func testCancelClosesTheStreamsAndLeavesLaterRunsAlone() throws {
        let server = try startServer()
        let url = try XCTUnwrap(URL(string: server.url))
        // Two in flight, the third queued behind them.
        let engine = try EndpointLoopEngine.connect(EndpointOptions(baseURL: url, servedModel: Self.servedName, concurrency: 2))
        let sampling = SamplingParameters(temperature: 0.8, seed: 1, maxTokens: 200)
        var tokens = 0
        let started = Date()
        let results = try engine.results([.generate(prompt: .raw("Q: 2+3="), n: 3, sampling: sampling)]) { _, _, _ in
            tokens += 1
            if tokens == 2 { engine.cancel() }
        }
        guard case .generated(let samples) = results.first else { return XCTFail("\(results)") }
        XCTAssertEqual(samples.map(\.index), [0, 1, 2])
        XCTAssertTrue(samples[2].cancelled, "the queued sample never started")
        XCTAssertEqual(samples[2].text, "")
        XCTAssertTrue(samples.contains { $0.cancelled && !$0.text.isEmpty } || samples.allSatisfy(\.cancelled),
                      "a streaming sample ends with its partial text, marked cancelled: \(samples)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)

        // The next run is not affected.
        let again = try engine.results([.generate(prompt: .raw("Q: 2+3="), n: 1, sampling: SamplingParameters(temperature: 0, maxTokens: 4))])
        guard case .generated(let fresh) = again.first else { return XCTFail("\(again)") }
        XCTAssertEqual(fresh.count, 1)
        XCTAssertFalse(fresh[0].cancelled)
        XCTAssertEqual(engine.statistics.retries, 0)

        // Five samples through two slots: never more than two in flight.
        let five = try engine.results([.generate(prompt: .raw("Q: 1+1="), n: 5, sampling: SamplingParameters(seed: 7, maxTokens: 8))])
        guard case .generated(let list) = five.first else { return XCTFail("\(five)") }
        XCTAssertEqual(list.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertFalse(list.contains(where: \.cancelled))
        XCTAssertEqual(engine.statistics.peakInFlight, 2)
    }

    /// The scoring requests themselves (echo, non-streamed, several continuations in order),
    /// on an engine told to trust the server's echo: the values must be exactly what the server
    /// answers for prompt + continuation (llama-cpp-python's are one token late, which is why
    /// `connect` refuses them; the plumbing is the same for a server whose values are right).
    func testScoringRequestsSumTheEchoedContinuationTokens() throws {
        let server = try startServer()
        let url = try XCTUnwrap(URL(string: server.url))
        let options = EndpointOptions(baseURL: url, servedModel: Self.servedName, concurrency: 2)
        let engine = EndpointLoopEngine(options: options, template: nil, transport: HTTPTransport(maxConnections: 2),
                                        scoringUnavailable: nil, topKOff: 0)
        let prompt = "Is 2 + 2 = 4? Answer:"
        let continuations = [" Correct", " Incorrect", " yes"]
        let results = try engine.results([.score(prompt: .raw(prompt), continuations: continuations)])
        guard case .scored(let values) = results.first else { return XCTFail("\(results)") }
        XCTAssertEqual(values.count, 3)
        for (c, value) in zip(continuations, values) {
            // The same request made by hand, summed over the continuation's own offsets.
            var request = URLRequest(url: url.appendingPathComponent("v1/completions"))
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: OpenAIWire.scoringBody(model: Self.servedName, text: prompt + c))
            let data = try XCTUnwrap(Self.send(request))
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let logprobs = try XCTUnwrap(((object["choices"] as? [[String: Any]])?.first?["logprobs"]) as? [String: Any])
            let offsets = try XCTUnwrap(logprobs["text_offset"] as? [Int])
            let lps = try XCTUnwrap(logprobs["token_logprobs"] as? [Any])
            let expected = zip(offsets, lps).filter { $0.0 >= prompt.count && $0.0 < (prompt + c).count }
                .compactMap { $0.1 as? Double }.reduce(0, +)
            XCTAssertEqual(value, expected, accuracy: 1e-9, c)
            XCTAssertLessThan(value, 0, c)
        }
        XCTAssertEqual(engine.statistics.scoredContinuations, 3)
    }

    static func send(_ request: URLRequest) -> Data? {
        let done = DispatchSemaphore(value: 0)
        let box = DataBox()
        URLSession.shared.dataTask(with: request) { data, _, _ in
            box.data = data
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 60)
        return box.data
    }

    final class DataBox: @unchecked Sendable { var data: Data? }

    /// llama-cpp-python started without `--interrupt_requests False` drops the connection of
    /// the stream under way whenever another request arrives: a real dropped connection, which
    /// the engine retries until every sample is whole.
    func testStreamsTheServerDropsAreRetried() throws {
        let server = try startServer(interruptRequests: true)
        let url = try XCTUnwrap(URL(string: server.url))
        let engine = try EndpointLoopEngine.connect(EndpointOptions(baseURL: url, servedModel: Self.servedName, concurrency: 2))
        let sampling = SamplingParameters(temperature: 0, seed: 3, maxTokens: 120)
        let results = try engine.results([.generate(prompt: .raw("Q: 7+8="), n: 2, sampling: sampling)])
        guard case .generated(let samples) = results.first else { return XCTFail("\(results)") }
        XCTAssertEqual(samples.count, 2)
        XCTAssertFalse(samples.contains(where: \.cancelled))
        XCTAssertGreaterThanOrEqual(engine.statistics.retries, 1, "the first stream was cut when the second request arrived")
        // Greedy with the same prompt: the retried sample is the same text as the one never cut.
        XCTAssertEqual(samples[0].text, samples[1].text)
    }

    final class Box: @unchecked Sendable {
        var code: Int32 = -1
    }
}

/// llama-cpp-python's OpenAI-compatible server in a child process, on a free loopback port.
final class LlamaCppServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let logURL: URL
    var url: String { "http://127.0.0.1:\(port)" }

    /// Why `python` cannot run the server (one line), or nil when it can.
    static func unavailable(python: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import llama_cpp.server.app"]
        let pipe = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = pipe
        do { try p.run() } catch { return "cannot start \(python): \(error)" }
        let err = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 0 { return nil }
        let lines = String(decoding: err, as: UTF8.self).split(whereSeparator: \.isNewline)
        return "import llama_cpp.server failed: " + (lines.last.map(String.init) ?? "exit \(p.terminationStatus)")
    }

    init(python: String, model: String, alias: String, log: URL, interruptRequests: Bool = false) throws {
        port = try Self.freePort()
        logURL = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // interrupt_requests False: llama-cpp-python otherwise cuts a stream short whenever
        // another request arrives, which bounded concurrency does all the time.
        process.arguments = [python, "-m", "llama_cpp.server", "--model", model, "--model_alias", alias,
                             "--host", "127.0.0.1", "--port", String(port), "--n_ctx", "256",
                             "--interrupt_requests", interruptRequests ? "True" : "False", "--verbose", "False"]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Polls `/v1/models` until it answers (60 s at most); fails with the server's log when it
    /// exits or never answers.
    func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard process.isRunning else {
                throw XCTestError(.failureWhileWaiting, userInfo: ["log": logTail()])
            }
            if modelsAnswer() { return }
            usleep(200_000)
        }
        stop()
        XCTFail("llama-cpp-python's server did not answer within 60 s:\n\(logTail())")
        throw XCTestError(.timeoutWhileWaiting)
    }

    private func modelsAnswer() -> Bool {
        let done = DispatchSemaphore(value: 0)
        let ok = Flag()
        var request = URLRequest(url: URL(string: "\(url)/v1/models")!, timeoutInterval: 2)
        request.httpMethod = "GET"
        let task = URLSession.shared.dataTask(with: request) { _, response, _ in
            ok.value = (response as? HTTPURLResponse)?.statusCode == 200
            done.signal()
        }
        task.resume()
        _ = done.wait(timeout: .now() + 3)
        return ok.value
    }

    final class Flag: @unchecked Sendable { var value = false }

    /// SIGKILL, as a crash would.
    func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after 5 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func logTail() -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return "\n--- server log (end) ---\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// A port nobody listens on: bound to 0, read back, released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTestError(.failureWhileWaiting) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTestError(.failureWhileWaiting) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
