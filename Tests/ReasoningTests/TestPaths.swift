import Foundation

/// Paths the tests read by: the repository root is found from this file's path, and the shared
/// datasets lie beside it in ../shared.
enum TestPaths {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // ReasoningTests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
    static let datasets = repoRoot.appendingPathComponent("../shared/datasets").standardizedFileURL
    static let gsm8kTest = datasets.appendingPathComponent("gsm8k/test.jsonl")
    static let gsm8kSolutions = datasets.appendingPathComponent("gsm8k/example_model_solutions.jsonl")
    static let bigBenchMistake = datasets.appendingPathComponent("big-bench-mistake")
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
}
