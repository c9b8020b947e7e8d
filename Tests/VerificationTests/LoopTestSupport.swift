import Foundation
import Inference
import Journal
import Reasoning
import XCTest
@testable import Verification

/// A deterministic implementation of the loop's engine interface, for the loop's bookkeeping
/// tests only: each answer is a function of the prompt text and the seed, chosen by the test.
/// It records every request it was given so a test can check what was (re)computed.
final class ScriptedLoopEngine: LoopEngine, @unchecked Sendable {
    struct Call: Equatable {
        var prompt: String
        var n: Int
        var seed: UInt64?
        var scoring: Bool
    }

    let summary = "scripted"
    let usesChat: Bool
    /// Answer of sample `index` of a generation request.
    var respond: (_ prompt: String, _ seed: UInt64) -> String
    /// Log-probabilities of the continuations of a scoring request.
    var score: (_ prompt: String, _ continuations: [String]) -> [Double]
    private let lock = NSLock()
    private var callList: [Call] = []
    private var batchList: [[Call]] = []
    /// Every request so far (several loops may call `run` at once).
    var calls: [Call] { lock.lock(); defer { lock.unlock() }; return callList }
    var batches: [[Call]] { lock.lock(); defer { lock.unlock() }; return batchList }

    init(chat: Bool = false, respond: @escaping (String, UInt64) -> String,
         score: @escaping (String, [String]) -> [Double] = { _, c in c.map { _ in -1 } }) {
        self.usesChat = chat
        self.respond = respond
        self.score = score
    }

    func render(_ prompt: LoopPrompt) throws -> String {
        switch prompt {
        case .raw(let t): return t
        case .chat(let messages): return messages.map { "<\($0.role.rawValue)>\($0.content)" }.joined(separator: "\n")
        }
    }

    func run(_ batch: [LoopRequest], onEvent: (LoopEngineEvent) -> Void) throws {
        var batchCalls: [Call] = []
        for (r, request) in batch.enumerated() {
            switch request {
            case .generate(let prompt, let n, let sampling):
                let text = try render(prompt)
                batchCalls.append(Call(prompt: text, n: n, seed: sampling.seed, scoring: false))
                var samples: [LoopSample] = []
                for i in 0..<n {
                    let answer = respond(text, sampling.seed &+ UInt64(i))
                    onEvent(.token(request: r, sample: i, text: answer))
                    samples.append(LoopSample(index: i, text: answer, tokenCount: answer.split(separator: " ").count))
                }
                onEvent(.completed(request: r, .generated(samples)))
            case .score(let prompt, let continuations):
                let text = try render(prompt)
                batchCalls.append(Call(prompt: text, n: continuations.count, seed: nil, scoring: true))
                onEvent(.completed(request: r, .scored(score(text, continuations))))
            }
        }
        lock.lock()
        callList += batchCalls
        batchList.append(batchCalls)
        lock.unlock()
    }

    func cancel() {}
}

enum LoopFixtures {
    /// The first `count` problems of GSM8K's test split (real data from ../shared).
    static func gsm8kProblems(_ count: Int) throws -> [Problem] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/datasets/gsm8k/test.jsonl").standardizedFileURL
        let text = try String(contentsOf: url, encoding: .utf8)
        var problems: [Problem] = []
        for (n, line) in text.split(separator: "\n").prefix(count).enumerated() {
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let question = try XCTUnwrap(record["question"] as? String)
            let answer = try XCTUnwrap(record["answer"] as? String)
            problems.append(Problem(id: "gsm8k-test-\(n)", source: "gsm8k", text: question, referenceSolution: answer,
                                    referenceAnswer: GSM8KAnswer.reference(fromSolution: answer), kind: .gsm8k))
        }
        return problems
    }

    static func temporaryJournal(_ name: String = "loop") -> URL {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("stepwise-\(name)-\(UUID().uuidString).jsonl")
    }

    /// The part of a prompt after its last "Question:" line (the problem asked, not the few-shot).
    static func lastQuestion(_ prompt: String) -> String {
        guard let r = prompt.range(of: "Question:", options: .backwards) else { return prompt }
        return String(prompt[r.upperBound...])
    }
}
