import Foundation
import ModelFormats

/// Token ids, as the engine stores them.
public typealias TokenID = Int32

/// A one-line tokenizer problem naming the file it came from.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Text ↔ token ids for a model: byte-level BPE (GPT-2, Llama 3, Qwen2 pre-tokenizers) or
/// SentencePiece-style BPE (Llama 2), built from GGUF metadata or a Hugging Face
/// `tokenizer.json`. Matches llama.cpp's tokenizer on its test vectors.
///
/// Usage: `let tok = try Tokenizer.load(path: modelPath)`;
/// `tok.encode(text, addBOS: tok.addsBOS)`; `tok.decode(ids)`; for generation use a
/// `StreamingDecoder` so partial UTF-8 characters are held back. Thread-safe (immutable).
public final class Tokenizer: Sendable {
    public enum Algorithm: Sendable, Equatable {
        case byteLevelBPE(PreTokenizerPattern)
        case sentencePiece
    }

    public let algorithm: Algorithm
    /// Token text by id (byte-level vocabularies in their mapped spelling).
    public let tokens: [String]
    public let tokenTypes: [TokenizerData.TokenType]
    public let bosID: TokenID?
    public let eosID: TokenID?
    /// EOS plus end-of-turn tokens: generation stops on any of them.
    public let endOfGeneration: Set<TokenID>
    /// Whether the model expects BOS at the start of a prompt.
    public let addsBOS: Bool
    public let source: String

    /// Token → id, compared byte for byte (see `TokenKey`).
    private let ids: [TokenKey: TokenID]
    private let unknownID: TokenID?
    private let bpe: BPEMerger?
    private let spm: SentencePieceMerger?
    /// SentencePiece-style vocabularies from tokenizer.json: characters merged by rank.
    private let spmRanked: BPEMerger?
    private let normalizeNFC: Bool
    private let ignoreMerges: Bool
    private let addSpacePrefix: Bool
    /// Tokens matched in raw text before splitting, longest first: user-defined tokens always,
    /// control tokens only when asked to parse special tokens.
    private let specialTokens: [(bytes: [UInt8], id: TokenID, control: Bool)]
    /// Decoded bytes of each token (control tokens: their text, shown only on request).
    private let pieces: [[UInt8]]

    public var vocabularySize: Int { tokens.count }

    public static func load(path: String) throws -> Tokenizer {
        try Tokenizer(TokenizerData.load(path: path))
    }

    public init(_ data: TokenizerData) throws {
        let n = data.tokens.count
        guard n > 0, data.tokenTypes.count == n else {
            throw TokenizerError("\(data.source): token list and token types disagree")
        }
        source = data.source
        tokens = data.tokens
        tokenTypes = data.tokenTypes
        var map: [TokenKey: TokenID] = [:]
        map.reserveCapacity(n)
        for (i, t) in data.tokens.enumerated() where map[TokenKey(t)] == nil { map[TokenKey(t)] = TokenID(i) }
        ids = map
        bosID = data.bosID.map(TokenID.init)
        eosID = data.eosID.map(TokenID.init)
        endOfGeneration = Set(data.endOfGenerationIDs.map(TokenID.init))
        addsBOS = data.addBOS && data.bosID != nil
        unknownID = data.unknownID.map(TokenID.init)
        ignoreMerges = data.ignoreMerges
        addSpacePrefix = data.addSpacePrefix
        normalizeNFC = data.normalizeNFC
        func rankedMerges() -> [(Int32, Int32, Int32)] {
            var list: [(Int32, Int32, Int32)] = []
            list.reserveCapacity(data.merges.count)
            for m in data.merges {
                // Merges whose parts or result are not tokens can never apply; skip them.
                guard let l = map[TokenKey(m.left)], let r = map[TokenKey(m.right)],
                      let merged = map[TokenKey(m.left + m.right)] else { continue }
                list.append((l, r, merged))
            }
            return list
        }

        switch data.kind {
        case .byteLevelBPE:
            guard let pattern = PreTokenizerPattern(ggufName: data.preTokenizer) else {
                throw TokenizerError("\(data.source): unsupported pre-tokenizer \"\(data.preTokenizer)\" (supported: gpt-2, llama-bpe, qwen2)")
            }
            algorithm = .byteLevelBPE(pattern)
            let byteTokens = (0..<256).map { map[TokenKey(String(ByteLevel.byteToScalar[$0]))] ?? -1 }
            bpe = BPEMerger(merges: rankedMerges(), byteTokens: byteTokens)
            spm = nil
            spmRanked = nil
            pieces = (0..<n).map { i in
                let t = data.tokens[i]
                switch data.tokenTypes[i] {
                case .normal, .byte, .undefined: return ByteLevel.decode(t) ?? Array(t.utf8)
                default: return Array(t.utf8)
                }
            }
        case .sentencePiece:
            algorithm = .sentencePiece
            let byteTokens: [Int32] = (0..<256).map { b in
                map[TokenKey(String(format: "<0x%02X>", b))] ?? (b < 0x80 ? map[TokenKey(String(UnicodeScalar(UInt8(b))))] ?? -1 : -1)
            }
            if data.scores.count == n {
                // GGUF: llama.cpp's score-driven merging.
                var byBytes: [[UInt8]: Int32] = [:]
                byBytes.reserveCapacity(n)
                for (i, t) in data.tokens.enumerated() where byBytes[Array(t.utf8)] == nil { byBytes[Array(t.utf8)] = Int32(i) }
                spm = SentencePieceMerger(ids: byBytes, scores: data.scores, byteTokens: byteTokens)
                spmRanked = nil
            } else if !data.merges.isEmpty {
                // tokenizer.json: Hugging Face's rank-driven merging over characters.
                spm = nil
                spmRanked = BPEMerger(merges: rankedMerges(), byteTokens: byteTokens)
            } else {
                throw TokenizerError("\(data.source): SentencePiece vocabulary with neither scores nor merges")
            }
            bpe = nil
            pieces = (0..<n).map { i in
                let t = data.tokens[i]
                switch data.tokenTypes[i] {
                case .byte:
                    if t.count == 6, t.hasPrefix("<0x"), let v = UInt8(t.dropFirst(3).prefix(2), radix: 16) { return [v] }
                    return Array(t.utf8)
                case .normal, .undefined:
                    return Array(t.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
                case .unknown:
                    return Array("\u{2585}".utf8) // what llama.cpp prints for <unk>
                default:
                    return Array(t.utf8)
                }
            }
        }

        var specials: [(bytes: [UInt8], id: TokenID, control: Bool)] = []
        for i in 0..<n {
            let type = data.tokenTypes[i]
            guard type == .control || type == .userDefined || type == .unknown, !data.tokens[i].isEmpty else { continue }
            specials.append((Array(data.tokens[i].utf8), TokenID(i), type != .userDefined))
        }
        // Longest first, as llama.cpp partitions (ties by id for determinism).
        specialTokens = specials.sorted { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
    }

    /// The id of a token spelled exactly `text` (in the vocabulary's own spelling).
    public func id(of text: String) -> TokenID? { ids[TokenKey(text)] }

    // MARK: - Encoding

    /// Tokenizes text. `parseSpecial`: recognise control tokens such as `<|im_start|>` written
    /// in the text (needed for formatted chat prompts; off for untrusted text).
    /// User-defined added tokens are always recognised, as llama.cpp does.
    public func encode(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [TokenID] {
        var out: [TokenID] = []
        if addBOS, let bosID { out.append(bosID) }
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return out }
        var previousWasSpecial = true
        for fragment in partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                previousWasSpecial = true
            case .text(let range):
                if normalizeNFC {
                    let nfc = Array(String(decoding: bytes[range], as: UTF8.self).precomposedStringWithCanonicalMapping.utf8)
                    encodeRaw(nfc[...], startsInput: previousWasSpecial, into: &out)
                } else {
                    encodeRaw(bytes[range], startsInput: previousWasSpecial, into: &out)
                }
                previousWasSpecial = false
            }
        }
        return out
    }

    /// Shorthand returning plain Ints.
    public func encodeInts(_ text: String, addBOS: Bool = false, parseSpecial: Bool = false) -> [Int] {
        encode(text, addBOS: addBOS, parseSpecial: parseSpecial).map(Int.init)
    }

    enum Fragment { case text(Range<Int>), token(TokenID) }

    /// Splits text around special tokens: each special token (longest first) is cut out of
    /// every remaining text fragment, as llama.cpp's partitioning does.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        for special in specialTokens where parseSpecial || !special.control {
            let pat = special.bytes
            guard let first = pat.first else { continue }
            var changed: [Fragment] = []
            var touched = false
            for f in fragments {
                guard case .text(let r) = f, r.count >= pat.count else { changed.append(f); continue }
                var cursor = r.lowerBound
                var i = r.lowerBound
                let last = r.upperBound - pat.count
                while i <= last {
                    if bytes[i] == first && bytes[i..<(i + pat.count)].elementsEqual(pat) {
                        if cursor < i { changed.append(.text(cursor..<i)) }
                        changed.append(.token(special.id))
                        touched = true
                        i += pat.count
                        cursor = i
                    } else {
                        i += 1
                    }
                }
                if cursor < r.upperBound { changed.append(.text(cursor..<r.upperBound)) }
            }
            if touched { fragments = changed }
        }
        return fragments
    }

    private func encodeRaw(_ bytes: ArraySlice<UInt8>, startsInput: Bool, into out: inout [TokenID]) {
        switch algorithm {
        case .byteLevelBPE(let pattern):
            guard let bpe else { return }
            let scalars = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars)
            var word: [UInt8] = []
            for r in preTokenize(scalars, pattern: pattern) {
                word.removeAll(keepingCapacity: true)
                for s in scalars[r] { word.append(contentsOf: UTF8.encode(s)!) }
                if ignoreMerges, let id = ids[TokenKey(ByteLevel.encode(word))] {
                    out.append(id)
                    continue
                }
                bpe.encode(word[...], unknown: unknownID, into: &out)
            }
        case .sentencePiece:
            // llama.cpp: a space goes in front of text that starts the prompt or follows a
            // special token, then every space becomes "▁".
            var text: [UInt8] = startsInput && addSpacePrefix ? [0xE2, 0x96, 0x81] : []
            text.reserveCapacity(bytes.count + 3)
            for b in bytes {
                if b == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(b) }
            }
            if let spm {
                spm.encode(text, unknown: unknownID, into: &out)
            } else if let spmRanked {
                // Start from single characters; characters outside the vocabulary fall back
                // to their UTF-8 bytes as <0xNN> tokens.
                let chars = Array(String(decoding: text, as: UTF8.self).unicodeScalars)
                let initial = chars.map { ids[TokenKey(String($0))] ?? -1 }
                for (start, id) in spmRanked.merge(initial) {
                    if id >= 0 {
                        out.append(id)
                    } else {
                        for b in UTF8.encode(chars[start])! {
                            let t = spmRanked.byteTokens[Int(b)]
                            if t >= 0 { out.append(t) } else if let unknownID { out.append(unknownID) }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Decoding

    /// The bytes a token stands for. Control tokens give nothing unless `renderSpecial`.
    public func bytes(of id: TokenID, renderSpecial: Bool = false) -> [UInt8] {
        let i = Int(id)
        guard i >= 0, i < pieces.count else { return [] }
        if tokenTypes[i] == .control && !renderSpecial { return [] }
        return pieces[i]
    }

    /// The text of one token on its own (partial UTF-8 characters show as U+FFFD).
    public func tokenText(_ id: TokenID) -> String {
        String(decoding: bytes(of: id, renderSpecial: true), as: UTF8.self)
    }

    /// Decodes ids to text. `stripLeadingSpace`: drop the space SentencePiece put in front of
    /// the first word (use when decoding a whole prompt from its start, not a continuation).
    public func decode(_ ids: [TokenID], renderSpecial: Bool = false, stripLeadingSpace: Bool = false) -> String {
        var out: [UInt8] = []
        for id in ids { out.append(contentsOf: bytes(of: id, renderSpecial: renderSpecial)) }
        if stripLeadingSpace, algorithm == .sentencePiece, out.first == 0x20 { out.removeFirst() }
        return String(decoding: out, as: UTF8.self)
    }

    /// A decoder for generated tokens, one at a time.
    public func makeStreamingDecoder(renderSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, renderSpecial: renderSpecial)
    }
}

/// Turns tokens into text as they are generated, emitting only complete UTF-8 characters: the
/// bytes of a character split across tokens are held until it is complete. Bytes that can
/// never form a valid character come out as U+FFFD.
public struct StreamingDecoder: Sendable {
    let tokenizer: Tokenizer
    let renderSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer, renderSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.renderSpecial = renderSpecial
    }

    /// Adds one token; returns the text that is now complete (possibly empty).
    public mutating func push(_ id: TokenID) -> String {
        pending.append(contentsOf: tokenizer.bytes(of: id, renderSpecial: renderSpecial))
        let keep = incompleteSuffixLength(pending)
        let ready = pending[..<(pending.count - keep)]
        let text = String(decoding: ready, as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// Whatever is still held back (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many trailing bytes are the valid start of a character still missing bytes.
    func incompleteSuffixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        // Look back at most 3 bytes for a lead byte.
        var k = 1
        while k <= min(3, n) {
            let c = b[n - k]
            if c & 0xC0 == 0x80 { k += 1; continue }          // continuation byte
            let need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1
            if need > k {
                // Check the bytes so far could still be valid (second-byte ranges).
                if k >= 2 {
                    let s = b[n - k + 1]
                    if (c == 0xE0 && s < 0xA0) || (c == 0xED && s > 0x9F) || (c == 0xF0 && s < 0x90) || (c == 0xF4 && s > 0x8F) { return 0 }
                }
                return k
            }
            return 0
        }
        return 0
    }
}
