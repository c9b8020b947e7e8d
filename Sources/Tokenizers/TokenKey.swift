/// A dictionary key that compares token text byte for byte.
///
/// Swift `String` equality is canonical equivalence, so "ά" (U+03AC) and "ά" (U+1F71) —
/// two different tokens in real vocabularies — would collide as `String` keys. Hashing the
/// UTF-8 bytes directly also avoids the cost of normalising every key.
struct TokenKey: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: TokenKey, b: TokenKey) -> Bool {
        a.text.utf8.elementsEqual(b.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var s = text
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
