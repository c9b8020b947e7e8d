import Foundation
import XCTest
@testable import Endpoint

/// The event-stream parser on recorded llama-cpp-python streams fed in every possible split,
/// and on the awkward corners: CR/CRLF line ends, comments, multi-line data, a stream cut in
/// the middle of an event, a UTF-8 character split between two reads.
final class ServerSentEventParserTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: fixtures.appendingPathComponent(name))
    }

    func events(_ text: String) -> [ServerSentEvent] {
        var p = ServerSentEventParser()
        return p.feed(Array(text.utf8))
    }

    func testRecordedStreamGivesOneEventPerChunkThenDone() throws {
        let data = try Self.fixture("llama-cpp-python-completions-stream.txt")
        var p = ServerSentEventParser()
        let all = p.feed(data)
        XCTAssertFalse(p.isMidEvent)
        XCTAssertEqual(all.last?.data, "[DONE]")
        XCTAssertEqual(all.count, 11)
        XCTAssertTrue(all.dropLast().allSatisfy { $0.data.hasPrefix("{\"id\": \"cmpl-") && $0.event == nil })
    }

    func testEverySplitOfARecordedStreamGivesTheSameEvents() throws {
        let data = Array(try Self.fixture("llama-cpp-python-chat-stream.txt"))
        var whole = ServerSentEventParser()
        let expected = whole.feed(data)
        for cut in stride(from: 1, to: data.count, by: 7) {
            var p = ServerSentEventParser()
            let got = p.feed(data[..<cut]) + p.feed(data[cut...])
            XCTAssertEqual(got, expected, "split at byte \(cut)")
        }
        // Byte by byte.
        var p = ServerSentEventParser()
        var got: [ServerSentEvent] = []
        for b in data { got += p.feed([b]) }
        XCTAssertEqual(got, expected)
    }

    func testLineEndingsCommentsAndFields() {
        let text = ": keep-alive\r\n\r\nevent: error\r\ndata: {\"a\":1}\r\n\r\ndata:no-space\rdata:  two spaces\r\rid: 7\nretry: 10\ndata\n\n"
        XCTAssertEqual(events(text), [
            ServerSentEvent(event: "error", data: "{\"a\":1}"),
            ServerSentEvent(data: "no-space\n two spaces"),
            ServerSentEvent(data: ""),
        ])
    }

    func testCRLFSplitBetweenReadsIsOneLineEnd() {
        var p = ServerSentEventParser()
        XCTAssertEqual(p.feed(Array("data: a\r".utf8)), [])
        XCTAssertEqual(p.feed(Array("\n\r".utf8)), [ServerSentEvent(data: "a")])
        XCTAssertEqual(p.feed(Array("\ndata: b\n\n".utf8)), [ServerSentEvent(data: "b")])
    }

    func testStreamCutMidEventIsReportedAndNotDispatched() throws {
        let data = Array(try Self.fixture("llama-cpp-python-completions-stream.txt"))
        // Cut inside the third event's JSON.
        let third = String(decoding: data, as: UTF8.self).components(separatedBy: "\n\n")[2]
        let cut = String(decoding: data, as: UTF8.self).range(of: third)!
        let prefix = String(decoding: data, as: UTF8.self)[..<cut.lowerBound] + third.prefix(40)
        var p = ServerSentEventParser()
        let got = p.feed(Array(prefix.utf8))
        XCTAssertEqual(got.count, 2)
        XCTAssertTrue(p.isMidEvent)

        // A data line ended but the blank line never came: still mid-event.
        var q = ServerSentEventParser()
        XCTAssertEqual(q.feed(Array("data: {\"x\": 1}\n".utf8)), [])
        XCTAssertTrue(q.isMidEvent)
    }

    func testUTF8CharacterSplitAcrossReads() {
        let bytes = Array("data: é→😀\n\n".utf8)
        for cut in 1..<bytes.count {
            var p = ServerSentEventParser()
            XCTAssertEqual(p.feed(bytes[..<cut]) + p.feed(bytes[cut...]), [ServerSentEvent(data: "é→😀")], "cut \(cut)")
        }
    }
}
