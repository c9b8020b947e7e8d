import Foundation
import XCTest
@testable import Tokenizers

/// Repository root, found from this file's path (through symlinks).
let repoRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// ../shared/fixtures/tokenizers
let vocabDir = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/tokenizers").path
let fixturesDir = repoRoot.appendingPathComponent("Tests/TokenizersTests/Fixtures").path

/// Loading the big vocabularies takes a moment; share them across tests.
final class VocabCache: @unchecked Sendable {
    static let shared = VocabCache()
    private var cache: [String: Tokenizer] = [:]
    private let lock = NSLock()
    func tokenizer(_ name: String) throws -> Tokenizer {
        lock.lock(); defer { lock.unlock() }
        if let t = cache[name] { return t }
        let t = try Tokenizer.load(path: "\(vocabDir)/ggml-vocab-\(name).gguf")
        cache[name] = t
        return t
    }
}

/// llama.cpp's vocabulary test format: `.inp` holds strings each followed by
/// "\n__ggml_vocab_test__\n"; `.out` one line of space-separated ids per string.
func readVocabTest(_ name: String) throws -> [(String, [Int])] {
    let inp = try String(contentsOfFile: "\(vocabDir)/ggml-vocab-\(name).gguf.inp", encoding: .utf8)
    let out = try String(contentsOfFile: "\(vocabDir)/ggml-vocab-\(name).gguf.out", encoding: .utf8)
    var strings = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
    // The file ends with the separator, leaving one empty piece that is not a test.
    if strings.last == "" { strings.removeLast() }
    var lines = out.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    guard strings.count == lines.count else {
        throw TokenizerError("\(name): \(strings.count) inputs but \(lines.count) outputs")
    }
    return zip(strings, lines).map { s, l in
        (s, l.split(separator: " ").map { Int($0)! })
    }
}
