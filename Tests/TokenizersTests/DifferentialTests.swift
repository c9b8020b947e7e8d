import Foundation
import XCTest
@testable import Tokenizers

/// Compares with independent implementations on 300 seeded random strings (mixed scripts,
/// emoji, whitespace runs, digits, odd code points): llama.cpp on the shared GGUF vocabularies,
/// and Hugging Face `tokenizers` on small tokenizer.json files. Both outputs were produced by
/// scripts/tokenizer-golden/make_golden.py and committed.
final class DifferentialTests: XCTestCase {
    static func randomStrings() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(fixturesDir)/random-strings.json"))
        let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return try XCTUnwrap(obj?["strings"] as? [String])
    }

    static func readIDs(_ file: String) throws -> [[Int]] {
        var lines = try String(contentsOfFile: "\(fixturesDir)/\(file)", encoding: .utf8).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.split(separator: " ").map { Int($0)! } }
    }

    func compare(_ tok: Tokenizer, _ idsFile: String, parseSpecial: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let strings = try Self.randomStrings()
        let expected = try Self.readIDs(idsFile)
        XCTAssertEqual(strings.count, 300, file: file, line: line)
        XCTAssertEqual(expected.count, strings.count, file: file, line: line)
        var mismatches = 0
        for (s, want) in zip(strings, expected) {
            let got = tok.encodeInts(s, parseSpecial: parseSpecial)
            if got != want {
                mismatches += 1
                if mismatches <= 5 {
                    XCTFail("\(idsFile): \(s.debugDescription)\n got      \(got)\n expected \(want)", file: file, line: line)
                }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(idsFile): \(mismatches) of \(strings.count) differ", file: file, line: line)
    }

    // MARK: llama.cpp on the real vocabularies

    func testLlamaCppGPT2() throws { try compare(VocabCache.shared.tokenizer("gpt-2"), "llamacpp-gpt-2.ids", parseSpecial: false) }
    func testLlamaCppLlamaBPE() throws { try compare(VocabCache.shared.tokenizer("llama-bpe"), "llamacpp-llama-bpe.ids", parseSpecial: false) }
    func testLlamaCppLlamaSPM() throws { try compare(VocabCache.shared.tokenizer("llama-spm"), "llamacpp-llama-spm.ids", parseSpecial: false) }
    func testLlamaCppQwen2() throws { try compare(VocabCache.shared.tokenizer("qwen2"), "llamacpp-qwen2.ids", parseSpecial: false) }

    // The same strings with special tokens parsed (`<|im_start|>`, `<s>`, `<|endoftext|>` in the
    // text become control tokens), as the engine tokenizes formatted prompts.
    func testLlamaCppSpecialGPT2() throws { try compare(VocabCache.shared.tokenizer("gpt-2"), "llamacpp-gpt-2.special.ids", parseSpecial: true) }
    func testLlamaCppSpecialLlamaBPE() throws { try compare(VocabCache.shared.tokenizer("llama-bpe"), "llamacpp-llama-bpe.special.ids", parseSpecial: true) }
    func testLlamaCppSpecialLlamaSPM() throws { try compare(VocabCache.shared.tokenizer("llama-spm"), "llamacpp-llama-spm.special.ids", parseSpecial: true) }
    func testLlamaCppSpecialQwen2() throws { try compare(VocabCache.shared.tokenizer("qwen2"), "llamacpp-qwen2.special.ids", parseSpecial: true) }

    // MARK: Hugging Face tokenizers on tokenizer.json files

    func hf(_ name: String) throws -> Tokenizer {
        try Tokenizer.load(path: "\(fixturesDir)/hf-\(name)/tokenizer.json")
    }

    func testTokenizerJSONGPT2() throws {
        let t = try hf("gpt2")
        XCTAssertEqual(t.algorithm, .byteLevelBPE(.gpt2))
        try compare(t, "hf-gpt2.ids", parseSpecial: true)
    }

    func testTokenizerJSONLlama3() throws {
        let t = try hf("llama3")
        XCTAssertEqual(t.algorithm, .byteLevelBPE(.llama3))
        // BOS comes from the TemplateProcessing post-processor.
        XCTAssertTrue(t.addsBOS)
        XCTAssertEqual(t.bosID, t.id(of: "<|endoftext|>"))
        XCTAssertFalse(try hf("qwen2").addsBOS)
        try compare(t, "hf-llama3.ids", parseSpecial: true)
    }

    func testTokenizerJSONQwen2() throws {
        let t = try hf("qwen2")
        XCTAssertEqual(t.algorithm, .byteLevelBPE(.qwen2))
        try compare(t, "hf-qwen2.ids", parseSpecial: true)
        // tokenizer_config.json next to it supplies EOS and the chat template.
        XCTAssertEqual(t.eosID, t.id(of: "<|endoftext|>"))
        XCTAssertNotNil(t.id(of: "<|im_start|>"))
    }

    /// A Llama-2 style tokenizer.json: SentencePiece BPE over "▁"-escaped characters, merged
    /// by rank as Hugging Face does, with <0xNN> byte fallback.
    func testTokenizerJSONLlama2Style() throws {
        let t = try hf("llama2")
        XCTAssertEqual(t.algorithm, .sentencePiece)
        XCTAssertTrue(t.addsBOS)
        XCTAssertEqual(t.bosID, 1)
        XCTAssertEqual(t.eosID, 2)
        try compare(t, "hf-llama2.ids", parseSpecial: true)
    }

    /// Decoding returns the original text for every random string (byte-level BPE is lossless).
    func testRoundTrip() throws {
        let strings = try Self.randomStrings()
        for name in ["gpt-2", "qwen2", "llama-spm"] {
            let tok = try VocabCache.shared.tokenizer(name)
            // SentencePiece spells spaces as "▁", so a literal "▁" cannot come back.
            for s in strings where !(name == "llama-spm" && s.contains("\u{2581}")) {
                let ids = tok.encode(s)
                XCTAssertEqual(tok.decode(ids, stripLeadingSpace: true), s, "\(name): \(s.debugDescription)")
                // Streaming the same ids yields the same text, in valid UTF-8 pieces.
                var d = tok.makeStreamingDecoder()
                var streamed = ""
                for id in ids { streamed += d.push(id) }
                streamed += d.finish()
                if case .sentencePiece = tok.algorithm, streamed.unicodeScalars.first == " " {
                    streamed = String(streamed.unicodeScalars.dropFirst())
                }
                XCTAssertEqual(streamed, s, "\(name) streaming: \(s.debugDescription)")
            }
        }
    }
}
