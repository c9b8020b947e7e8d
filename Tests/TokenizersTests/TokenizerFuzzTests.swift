import Foundation
import XCTest
import ModelFormats
@testable import Tokenizers

/// Corrupt tokenizer.json files give one-line errors (or a working tokenizer), never a crash.
final class TokenizerFuzzTests: XCTestCase {
    func testMutatedTokenizerJSONNeverCrashes() throws {
        let base = try Array(Data(contentsOf: URL(fileURLWithPath: "\(fixturesDir)/hf-qwen2/tokenizer.json")))
        let dir = NSTemporaryDirectory() + "stepwise-tokfuzz-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tokenizer.json"
        var state: UInt64 = 7
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        var rejected = 0, loaded = 0
        for _ in 0..<150 {
            var b = base
            for _ in 0..<(1 + next() % 3) {
                let i = Int(next() % UInt64(b.count))
                switch next() % 3 {
                case 0: b[i] = UInt8(truncatingIfNeeded: next())
                case 1: b = Array(b[0..<i])
                default: b.insert(contentsOf: Array("\"\u{3AC}\",".utf8), at: i)
                }
                if b.isEmpty { break }
            }
            try Data(b).write(to: URL(fileURLWithPath: path))
            do {
                let tok = try Tokenizer.load(path: path)
                let ids = tok.encode("Hello, wörld! 123 🦙", parseSpecial: true)
                _ = tok.decode(ids)
                loaded += 1
            } catch let e as ModelFormatError {
                XCTAssertFalse(e.description.contains("\n"))
                XCTAssertTrue(e.description.hasPrefix(path), e.description)
                rejected += 1
            } catch let e as TokenizerError {
                XCTAssertFalse(e.description.contains("\n"))
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 50)
        XCTAssertGreaterThan(loaded, 0)
    }

    func testBadGGUFVocabularyErrors() throws {
        XCTAssertThrowsError(try Tokenizer.load(path: "/nonexistent/vocab.gguf")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/vocab.gguf: no such file or folder")
        }
        var data = try TokenizerData.load(path: "\(vocabDir)/ggml-vocab-gpt-2.gguf")
        data.preTokenizer = "falcon"
        XCTAssertThrowsError(try Tokenizer(data)) { e in
            XCTAssertEqual("\(e)", "\(vocabDir)/ggml-vocab-gpt-2.gguf: unsupported pre-tokenizer \"falcon\" (supported: gpt-2, llama-bpe, qwen2)")
        }
    }
}
