import Foundation

/// One server-sent event: the `data:` lines joined with newlines, and its `event:` name when the
/// server gave one (OpenAI-compatible servers send unnamed events; an `event: error` is honoured).
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}

/// Incremental parser of a `text/event-stream` body (the WHATWG rules, restricted to what the
/// streaming completion APIs use): bytes arrive in arbitrary pieces, possibly splitting a line
/// or a UTF-8 sequence; a blank line ends an event; lines starting with `:` are comments
/// (keep-alives); `id:` and `retry:` are ignored. Lines end with LF, CRLF or a lone CR.
public struct ServerSentEventParser: Sendable {
    private var pending: [UInt8] = []
    private var dataLines: [String] = []
    private var eventName: String?
    /// A CR ended the last line: an LF right after it belongs to the same line end.
    private var afterCR = false

    public init() {}

    /// Feeds the next bytes and returns the events they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            if byte == 0x0A || byte == 0x0D {
                afterCR = byte == 0x0D
                let line = String(decoding: pending, as: UTF8.self)
                pending.removeAll(keepingCapacity: true)
                if let event = take(line) { events.append(event) }
            } else {
                pending.append(byte)
            }
        }
        return events
    }

    /// True when the bytes so far stop inside an event (a partial line, or data lines with no
    /// blank line after them): the stream was cut mid-event.
    public var isMidEvent: Bool { !pending.isEmpty || !dataLines.isEmpty || eventName != nil }

    /// One line of the stream; returns the event a blank line completes.
    private mutating func take(_ line: String) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                dataLines.removeAll()
                eventName = nil
            }
            // An event with no data lines is not dispatched (the specification's rule).
            guard !dataLines.isEmpty else { return nil }
            return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = ""
        }
        switch field {
        case "data": dataLines.append(String(value))
        case "event": eventName = String(value)
        default: break
        }
        return nil
    }
}
