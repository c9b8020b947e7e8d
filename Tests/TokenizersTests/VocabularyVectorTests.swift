import XCTest
@testable import Tokenizers

/// Every vector of llama.cpp's tokenizer tests in ../shared/fixtures/tokenizers: no BOS,
/// special tokens not parsed.
final class VocabularyVectorTests: XCTestCase {
    func check(_ name: String) throws {
        let tok = try VocabCache.shared.tokenizer(name)
        let cases = try readVocabTest(name)
        XCTAssertEqual(cases.count, 46)
        var failures = 0
        for (text, expected) in cases {
            let got = tok.encodeInts(text)
            if got != expected {
                failures += 1
                XCTFail("\(name): \(text.debugDescription)\n got      \(got)\n expected \(expected)")
            }
            // Decoding gives the text back (SentencePiece adds a leading space; strip it).
            let back = tok.decode(got.map { TokenID($0) }, stripLeadingSpace: true)
            XCTAssertEqual(back, text, "\(name) round trip")
        }
        XCTAssertEqual(failures, 0)
    }

    func testGPT2() throws { try check("gpt-2") }
    func testLlamaBPE() throws { try check("llama-bpe") }
    func testLlamaSPM() throws { try check("llama-spm") }
    func testQwen2() throws { try check("qwen2") }
}
