/// An element that knows whether it comes out of a `MinHeap` before another.
protocol HeapOrdered {
    func before(_ other: Self) -> Bool
}

/// A binary min-heap: the merge queue both BPE tokenizers run on (merging by rank or by score
/// in O(n log n) instead of rescanning every pair after each merge).
struct MinHeap<Element: HeapOrdered> {
    private var items: [Element] = []

    mutating func push(_ element: Element) {
        items.append(element)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i].before(items[p]) else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let a = 2 * i + 1, b = a + 1
                var m = i
                if a < n && items[a].before(items[m]) { m = a }
                if b < n && items[b].before(items[m]) { m = b }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
