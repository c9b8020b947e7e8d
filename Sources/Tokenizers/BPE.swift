/// Byte-level BPE: merges adjacent symbols by merge rank (lowest first, leftmost on ties)
/// until no listed merge applies. Symbols are token ids, so a merge lookup is one hash of a
/// packed id pair, and a binary heap keeps the whole word O(n log n).
struct BPEMerger: Sendable {
    /// (left id << 32 | right id) → (rank << 32 | merged id).
    let merges: [UInt64: UInt64]
    /// Token id of each single byte (its mapped character), -1 if the vocabulary lacks it.
    let byteTokens: [Int32]

    init(merges list: [(Int32, Int32, Int32)], byteTokens: [Int32]) {
        var m: [UInt64: UInt64] = [:]
        m.reserveCapacity(list.count)
        for (rank, (l, r, merged)) in list.enumerated() {
            let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
            // The first (lowest-rank) listing of a pair wins.
            if m[key] == nil { m[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
        }
        merges = m
        self.byteTokens = byteTokens
    }

    @inline(__always) func lookup(_ l: Int32, _ r: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let v = merges[UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))] else { return nil }
        return (UInt32(v >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: v)))
    }

    /// Appends the tokens of one pre-tokenized word (raw bytes) to `out`.
    /// Bytes missing from the vocabulary become `unknown` (or are dropped if there is none).
    func encode(_ bytes: ArraySlice<UInt8>, unknown: Int32?, into out: inout [Int32]) {
        if bytes.count == 1 {
            let id = byteTokens[Int(bytes[bytes.startIndex])]
            if id >= 0 { out.append(id) } else if let unknown { out.append(unknown) }
            return
        }
        var ids = [Int32](); ids.reserveCapacity(bytes.count)
        for b in bytes { ids.append(byteTokens[Int(b)]) }
        for (_, id) in merge(ids) {
            if id >= 0 { out.append(id) } else if let unknown { out.append(unknown) }
        }
    }

    /// Merges adjacent symbols (token ids; negative = not in the vocabulary, never merged)
    /// by rank. Returns the surviving symbols in order with the index of the first initial
    /// symbol each covers.
    func merge(_ initial: [Int32]) -> [(start: Int, id: Int32)] {
        var ids = initial
        let n = ids.count
        if n == 0 { return [] }
        if n == 1 { return [(0, ids[0])] }
        var prev = [Int32](repeating: -1, count: n)
        var next = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            prev[i] = Int32(i - 1)
            next[i] = i + 1 < n ? Int32(i + 1) : -1
        }
        // Heap of candidate merges: ordered by rank, then by left position.
        var heap = PairHeap()
        for i in 0..<(n - 1) where ids[i] >= 0 && ids[i + 1] >= 0 {
            if let (rank, _) = lookup(ids[i], ids[i + 1]) {
                heap.push(.init(rank: rank, left: Int32(i), leftID: ids[i], rightID: ids[i + 1]))
            }
        }
        var alive = [Bool](repeating: true, count: n)
        while let c = heap.pop() {
            let l = Int(c.left)
            let r = Int(next[l])
            // Skip stale candidates: a neighbour has changed since this one was queued.
            guard alive[l], ids[l] == c.leftID, r >= 0, ids[r] == c.rightID,
                  let (_, merged) = lookup(c.leftID, c.rightID) else { continue }
            ids[l] = merged
            alive[r] = false
            let rn = next[r]
            next[l] = rn
            if rn >= 0 { prev[Int(rn)] = Int32(l) }
            let p = prev[l]
            if p >= 0, ids[Int(p)] >= 0, let (rank, _) = lookup(ids[Int(p)], merged) {
                heap.push(.init(rank: rank, left: p, leftID: ids[Int(p)], rightID: merged))
            }
            if rn >= 0, ids[Int(rn)] >= 0, let (rank, _) = lookup(merged, ids[Int(rn)]) {
                heap.push(.init(rank: rank, left: Int32(l), leftID: merged, rightID: ids[Int(rn)]))
            }
        }
        var out: [(start: Int, id: Int32)] = []
        var i = 0
        while i >= 0 && i < n {
            out.append((i, ids[i]))
            i = Int(next[i])
        }
        return out
    }
}

/// The merge queue of byte-level BPE: lowest rank first, leftmost on ties.
typealias PairHeap = MinHeap<PairCandidate>

struct PairCandidate: HeapOrdered {
    var rank: UInt32
    var left: Int32
    var leftID: Int32
    var rightID: Int32
    @inline(__always) func before(_ o: PairCandidate) -> Bool {
        rank != o.rank ? rank < o.rank : left < o.left
    }
}
