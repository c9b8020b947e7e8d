import XCTest
@testable import Tokenizers

final class StreamingDecoderTests: XCTestCase {
    /// A character split across tokens comes out whole, once its last byte arrives.
    func testEmojiSpanningByteTokens() throws {
        let tok = try VocabCache.shared.tokenizer("llama-spm")
        // SentencePiece has no token for 🦙: it falls back to four <0xNN> byte tokens.
        let ids = tok.encode("🦙!")
        XCTAssertEqual(ids.map { tok.tokens[Int($0)] }, ["\u{2581}", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>", "!"])
        var d = tok.makeStreamingDecoder()
        XCTAssertEqual(ids.map { d.push($0) }, [" ", "", "", "", "🦙", "!"])
        XCTAssertEqual(d.finish(), "")
    }

    func testByteLevelPiecesOfOneCharacter() throws {
        let tok = try VocabCache.shared.tokenizer("qwen2")
        let ids = tok.encode(" 🦙🦙")
        XCTAssertGreaterThan(ids.count, 2)
        var d = tok.makeStreamingDecoder()
        var chunks: [String] = []
        for id in ids { chunks.append(d.push(id)) }
        // Every chunk is whole characters, and together they are the text.
        XCTAssertEqual(chunks.joined(), " 🦙🦙")
        XCTAssertTrue(chunks.contains(""))
        XCTAssertFalse(chunks.joined().contains("\u{FFFD}"))
    }

    /// Bytes that can never become a character are replaced, not held forever.
    func testInvalidBytesBecomeReplacementCharacters() throws {
        let tok = try VocabCache.shared.tokenizer("llama-spm")
        func byte(_ b: UInt8) -> TokenID { tok.id(of: String(format: "<0x%02X>", b))! }
        var d = tok.makeStreamingDecoder()
        XCTAssertEqual(d.push(byte(0xFF)), "\u{FFFD}")          // never valid
        XCTAssertEqual(d.push(byte(0xE2)), "")                  // could start a 3-byte character
        XCTAssertEqual(d.push(byte(0x41)), "\u{FFFD}A")         // …but did not
        XCTAssertEqual(d.push(byte(0xED)), "")
        XCTAssertEqual(d.push(byte(0xA0)), "\u{FFFD}\u{FFFD}")  // ED A0 would be a surrogate
        XCTAssertEqual(d.push(byte(0xC3)), "")
        XCTAssertEqual(d.finish(), "\u{FFFD}")                  // unfinished at the end
    }

    func testControlTokensHiddenUnlessRendered() throws {
        let tok = try VocabCache.shared.tokenizer("qwen2")
        let ids = tok.encode("<|im_start|>hi", parseSpecial: true)
        XCTAssertEqual(tok.decode(ids), "hi")
        XCTAssertEqual(tok.decode(ids, renderSpecial: true), "<|im_start|>hi")
        XCTAssertEqual(tok.tokenText(ids[0]), "<|im_start|>")
        XCTAssertTrue(tok.endOfGeneration.contains(tok.id(of: "<|im_end|>")!))
    }
}
