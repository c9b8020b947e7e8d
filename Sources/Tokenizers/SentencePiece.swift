/// SentencePiece-style BPE as llama.cpp runs it for Llama 2 vocabularies: start from single
/// characters and repeatedly merge the adjacent pair whose concatenation is a vocabulary token
/// with the highest score (leftmost on ties). Characters that never form a token are emitted
/// as `<0xNN>` byte tokens.
struct SentencePieceMerger: Sendable {
    /// Token text (UTF-8 bytes) → id.
    let ids: [[UInt8]: Int32]
    let scores: [Float]
    /// `<0xNN>` token for each byte (falls back to the one-byte token), -1 if neither exists.
    let byteTokens: [Int32]

    struct Candidate: HeapOrdered {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
        @inline(__always) func before(_ o: Candidate) -> Bool {
            score != o.score ? score > o.score : left < o.left
        }
    }

    /// Appends the tokens of `text` (already escaped: spaces as "▁") to `out`.
    func encode(_ text: [UInt8], unknown: Int32?, into out: inout [Int32]) {
        let n = text.count
        if n == 0 { return }
        // One symbol per UTF-8 character (a truncated sequence is cut at the end of the text).
        var start: [Int32] = [], len: [Int32] = []
        var i = 0
        while i < n {
            let b = text[i]
            let l = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            let m = min(l, n - i)
            start.append(Int32(i)); len.append(Int32(m))
            i += m
        }
        let count = start.count
        var prev = (0..<count).map { Int32($0 - 1) }
        var next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }
        var heap = MinHeap<Candidate>()

        func tryAdd(_ l: Int32, _ r: Int32) {
            guard l >= 0, r >= 0 else { return }
            let s = Int(start[Int(l)]), e = Int(start[Int(r)] + len[Int(r)])
            guard let id = ids[Array(text[s..<e])] else { return }
            heap.push(Candidate(score: scores[Int(id)], left: l, right: r, size: Int32(e - s)))
        }

        for k in 1..<max(count, 1) { tryAdd(Int32(k - 1), Int32(k)) }
        while let c = heap.pop() {
            let l = Int(c.left), r = Int(c.right)
            // Stale if either side was merged away or changed size since queued.
            guard len[l] > 0, len[r] > 0, len[l] + len[r] == c.size, next[l] == c.right else { continue }
            len[l] += len[r]
            len[r] = 0
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = Int32(l) }
            tryAdd(prev[l], Int32(l))
            tryAdd(Int32(l), next[l])
        }
        var k: Int32 = 0
        while k >= 0 {
            let s = Int(start[Int(k)]), e = s + Int(len[Int(k)])
            if let id = ids[Array(text[s..<e])] {
                out.append(id)
            } else {
                for b in text[s..<e] {
                    let t = byteTokens[Int(b)]
                    if t >= 0 { out.append(t) } else if let unknown { out.append(unknown) }
                }
            }
            k = next[Int(k)]
        }
    }
}
