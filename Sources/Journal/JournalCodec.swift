import Foundation

/// JSON settings shared by the writer and the reader, so what one writes the other reads back
/// identically. Dates keep milliseconds (ISO 8601 with fractional seconds): annotations made
/// within one second stay ordered after a replay.
enum JournalCodec {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(Self.dateStyle))
        }
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let s = try c.decode(String.self)
            if let date = try? Self.dateStyle.parse(s) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(s) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an ISO 8601 date: '\(s)'")
        }
        return d
    }

    static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Rounds a date to what survives a trip through the journal.
    static func journalPrecision(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }
}

extension Date {
    /// This date as the journal will store it (millisecond precision).
    public var roundedForJournal: Date { JournalCodec.journalPrecision(self) }
}
