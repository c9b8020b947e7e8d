import XCTest
@testable import Inference

final class SamplerTests: XCTestCase {
    private func choose(_ logits: [Float], _ p: SamplingParameters, index: Int = 0, draws: Int) -> [Int32] {
        var sampler = Sampler(parameters: p, sampleIndex: index)
        return (0..<draws).map { _ in logits.withUnsafeBufferPointer { sampler.choose(from: $0).token } }
    }

    func testGreedyPicksArgmaxLowestIdOnTieAndReportsLogprob() {
        let logits: [Float] = [1, 3, 3, -2]
        var sampler = Sampler(parameters: .greedy)
        let (token, logprob) = logits.withUnsafeBufferPointer { sampler.choose(from: $0) }
        XCTAssertEqual(token, 1)
        let z = log(exp(1.0) + 2 * exp(3.0) + exp(-2.0))
        XCTAssertEqual(logprob, 3 - z, accuracy: 1e-9)
    }

    func testSameSeedSameSamplesDifferentIndexDifferentSamples() {
        let logits: [Float] = (0..<50).map { Float($0 % 7) * 0.3 }
        let p = SamplingParameters(temperature: 1, seed: 1234)
        XCTAssertEqual(choose(logits, p, draws: 200), choose(logits, p, draws: 200))
        XCTAssertNotEqual(choose(logits, p, index: 0, draws: 200), choose(logits, p, index: 1, draws: 200))
        // Sample i of seed s is sample 0 of seed s + i: each sample stands on its own.
        var shifted = p
        shifted.seed = 1235
        XCTAssertEqual(choose(logits, p, index: 1, draws: 200), choose(logits, shifted, index: 0, draws: 200))
    }

    func testFrequenciesFollowTheSoftmaxAtTemperature() {
        // logits ln(1), ln(2), ln(3), ln(4) → probabilities 0.1 .. 0.4 at T = 1.
        let logits: [Float] = [0, log(2), log(3), log(4)]
        let draws = choose(logits, SamplingParameters(temperature: 1, seed: 7), draws: 40_000)
        for t in 0..<4 {
            let frequency = Double(draws.filter { $0 == t }.count) / Double(draws.count)
            XCTAssertEqual(frequency, Double(t + 1) / 10, accuracy: 0.01, "token \(t)")
        }
        // T = 0.5 squares the odds: 1, 4, 9, 16 over 30.
        let cold = choose(logits, SamplingParameters(temperature: 0.5, seed: 7), draws: 40_000)
        XCTAssertEqual(Double(cold.filter { $0 == 3 }.count) / 40_000, 16.0 / 30, accuracy: 0.01)
    }

    func testTopKTopPMinPRestrictTheCandidates() {
        let logits: [Float] = [0, log(2), log(3), log(4)]   // 0.1 0.2 0.3 0.4
        XCTAssertEqual(Set(choose(logits, SamplingParameters(temperature: 1, topK: 2, seed: 1), draws: 2000)), [2, 3])
        // top-p 0.65: 0.4 + 0.3 reaches it, so {3, 2}.
        XCTAssertEqual(Set(choose(logits, SamplingParameters(temperature: 1, topP: 0.65, seed: 1), draws: 2000)), [2, 3])
        // top-p 0.35: the best token alone.
        XCTAssertEqual(Set(choose(logits, SamplingParameters(temperature: 1, topP: 0.35, seed: 1), draws: 500)), [3])
        // min-p 0.45: tokens with p ≥ 0.18 (0.45 of the best, 0.4).
        XCTAssertEqual(Set(choose(logits, SamplingParameters(temperature: 1, minP: 0.45, seed: 1), draws: 2000)), [1, 2, 3])
        // Combined: min-p drops token 0, top-k 2 keeps {3, 2}, top-p 0.5 of their mass keeps {3}.
        XCTAssertEqual(Set(choose(logits, SamplingParameters(temperature: 1, topP: 0.5, topK: 2, minP: 0.3, seed: 1), draws: 500)), [3])
    }

    func testTopPOverALargeVocabularyCountsTheWholeTail() {
        // One token at logit 0 and 5 000 at -8 (each e^-8 ≈ 3.4e-4 of the best, 1.68 together):
        // top-p 0.5 needs the best token plus part of the tail, so the best is drawn ~75%.
        var logits = [Float](repeating: -8, count: 5_001)
        logits[0] = 0
        let draws = choose(logits, SamplingParameters(temperature: 1, topP: 0.5, seed: 3), draws: 600)
        let best = Double(draws.filter { $0 == 0 }.count) / 600
        let fullMass = 1 + 5_000 * exp(-8.0)
        XCTAssertEqual(best, 1 / (0.5 * fullMass), accuracy: 0.06)
        // And when the head holds the mass, only the head is drawn.
        var peaked = [Float](repeating: -30, count: 5_000)
        peaked[7] = 0
        peaked[9] = -0.5
        XCTAssertEqual(Set(choose(peaked, SamplingParameters(temperature: 1, topP: 0.9, seed: 3), draws: 200)), [7, 9])
        XCTAssertEqual(Set(choose(peaked, SamplingParameters(temperature: 1, topK: 1, seed: 3), draws: 20)), [7])
    }

    func testTopLogprobsAreSortedAndNormalised() {
        let logits: [Float] = [0, log(2), log(3), log(4)]
        let top = logits.withUnsafeBufferPointer { Sampler.topLogprobs($0, k: 3) }
        XCTAssertEqual(top.map(\.token), [3, 2, 1])
        XCTAssertEqual(top[0].logprob, log(0.4), accuracy: 1e-6)
        XCTAssertEqual(top[2].logprob, log(0.2), accuracy: 1e-6)
    }

    func testInvalidParametersAreNamed() {
        XCTAssertNotNil(SamplingParameters(temperature: -1).problem())
        XCTAssertNotNil(SamplingParameters(topP: 0).problem())
        XCTAssertNotNil(SamplingParameters(maxTokens: 0).problem())
        XCTAssertNotNil(SamplingParameters(stop: [""]).problem())
        XCTAssertNil(SamplingParameters().problem())
    }
}

final class StopMatcherTests: XCTestCase {
    func testStopStringAcrossPiecesIsCutAndNeverShown() {
        var m = StopMatcher(stops: ["\n\nQ:"])
        var shown = ""
        var stopped = false
        for piece in ["The answer", " is 4.\n", "\nQ", ": next"] {
            switch m.append(piece) {
            case .running(let d): shown += d
            case .stopped(let d): shown += d; stopped = true
            }
            XCTAssertFalse(shown.contains("\n\n"), "held-back text leaked: \(shown.debugDescription)")
            if stopped { break }
        }
        XCTAssertTrue(stopped)
        XCTAssertEqual(shown, "The answer is 4.")
        XCTAssertEqual(m.text, "The answer is 4.")
    }

    func testHeldBackTextIsReleasedWhenItStopsMatching() {
        var m = StopMatcher(stops: ["END"])
        XCTAssertEqual(m.append("abc E"), .running(delta: "abc "))
        XCTAssertEqual(m.append("N"), .running(delta: ""))
        XCTAssertEqual(m.append("x"), .running(delta: "ENx"))
        XCTAssertEqual(m.append(" E"), .running(delta: " "))
        XCTAssertEqual(m.flush(), "E")
        XCTAssertEqual(m.text, "abc ENx E")
    }

    func testEarliestOfSeveralStopsWins() {
        var m = StopMatcher(stops: ["cd", "b"])
        XCTAssertEqual(m.append("abcd"), .stopped(delta: "a"))
    }
}
