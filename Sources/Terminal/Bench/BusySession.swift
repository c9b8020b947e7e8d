import Foundation
import Journal
import Reasoning

/// A large made-up session for the UI benchmark: many problems, samples, rounds, every
/// verifier, annotations — the screen's worst case, not data to learn anything from.
public enum BusySession {
    public static func events(problems: Int = 40, samples: Int = 16, rounds: Int = 3, steps: Int = 12) -> [SessionEvent] {
        var events: [SessionEvent] = []
        var rng = SplitMix64(seed: 42)
        for p in 0..<problems {
            let pid = "bench-\(p)"
            events.append(.problemLoaded(Problem(
                id: pid, source: "bench", text: "Problem \(p): a train leaves at \(p) o'clock carrying \(p * 7) passengers; "
                    + "at each of \(p % 9 + 2) stations a third get off and \(p % 5 + 1) get on. How many arrive? 数 ✓",
                referenceSolution: "Work station by station.", referenceAnswer: String(p * 3), kind: .gsm8k)))
            for r in 0..<rounds {
                events.append(.roundStarted(problemID: pid, round: r))
                for n in 0..<samples {
                    let id = "\(pid)/r\(r)/s\(n)"
                    let stepList = (0..<steps).map { i in
                        Step(index: i, text: "Step \(i + 1): after station \(i) there are \(rng.next() % 500) passengers, "
                             + "since \(rng.next() % 90) got off and \(rng.next() % 9) got on.")
                    }
                    let correct = rng.next() % 3 == 0
                    events.append(.solutionAdded(Solution(
                        id: id, problemID: pid, round: r, parentID: r > 0 ? "\(pid)/r\(r - 1)/s\(n)" : nil,
                        text: stepList.map(\.text).joined(separator: "\n"), steps: stepList,
                        grade: Grade(strictAnswer: String(rng.next() % 100), strictCorrect: correct),
                        origin: r > 0 ? .refined : .sampled)))
                    for kind in VerifierKind.allCases {
                        let wrongStep = Int(rng.next() % UInt64(steps))
                        events.append(.critiqueFinished(Critique(
                            id: "\(id)/\(kind.rawValue)", solutionID: id, verifier: kind,
                            score: kind == .cotScore ? Double(rng.next() % 10 + 1) : Double(rng.next() % 2),
                            firstErrorStep: kind == .critique && !correct ? wrongStep : nil,
                            explanation: "The verifier's reasoning about sample \(n) of round \(r), step by step, at some length.",
                            round: r)))
                    }
                    events.append(.critiqueFinished(Critique(
                        id: "\(id)/critique+ref", solutionID: id, verifier: .critique, informed: true,
                        score: correct ? 1 : 0, firstErrorStep: correct ? nil : 2, explanation: "Against the reference.", round: r)))
                    if n % 4 == 0 {
                        events.append(.annotationAdded(Annotation(solutionID: id, stepIndex: 2, rating: .bad, firstError: true,
                                                                  note: "carry", time: Date(timeIntervalSince1970: 0))))
                    }
                }
                events.append(.roundFinished(problemID: pid, round: r, outcomes: [:]))
            }
        }
        return events
    }
}
