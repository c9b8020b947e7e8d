import Foundation
import Terminal
import XCTest

final class ThemeTests: XCTestCase {
    func testShippedThemesParseAndCoverEveryElement() throws {
        for name in ["default", "light", "high-contrast", "mono"] {
            let url = Paths.themes.appendingPathComponent(name + ".theme")
            let text = try String(contentsOf: url, encoding: .utf8)
            // Parsed without the built-in base, so a key missing from the file shows up here.
            let theme = try Theme.parse(text, name: name, file: url.path)
            let missing = StyleID.allCases.filter { theme.styles[$0] == nil }
            XCTAssertEqual(missing, [], "\(name).theme lacks keys")
        }
    }

    func testDefaultThemeFileMatchesTheBuiltIn() throws {
        let file = try Theme.load("default", directories: [Paths.themes])
        XCTAssertEqual(file.styles, Theme.builtin.styles)
    }

    func testMonoHasNoColourAndKeepsSelectionVisible() throws {
        let mono = try Theme.load("mono", directories: [Paths.themes])
        for id in StyleID.allCases {
            XCTAssertEqual(mono[id].foreground, .terminalDefault)
            XCTAssertEqual(mono[id].background, .terminalDefault)
        }
        XCTAssertTrue(mono[.selected].attributes.contains(.reverse))
    }

    func testBadLinesNameFileAndLine() {
        let cases: [(String, String)] = [
            ("text = default default\nbogus.key = red default\n", "t.theme:2: unknown key 'bogus.key'"),
            ("# comment\n\nselected = blu default\n", "t.theme:3: unknown colour 'blu'"),
            ("selected = red\n", "t.theme:1: 'selected' needs a foreground and a background colour"),
            ("selected red default\n", "t.theme:1: expected 'key = fg bg [attributes]'"),
            ("selected = red default blink\n", "t.theme:1: unknown attribute 'blink'"),
            ("selected = #12345 default\n", "t.theme:1: unknown colour '#12345'"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try Theme.parse(text, name: "t", file: "t.theme")) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testMissingThemeFallsBackOnlyForDefault() throws {
        let empty = try Paths.temporaryDirectory("themes")
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertEqual(try Theme.load("default", directories: [empty]), Theme.builtin)
        XCTAssertThrowsError(try Theme.load("nope", directories: [empty]))
        let bad = empty.appendingPathComponent("bad.theme")
        try "text = default default\nwrong = purple default\n".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Theme.load("bad", directories: [empty])) { error in
            XCTAssertEqual("\(error)", "\(bad.path):2: unknown colour 'purple'")
        }
    }

    func testColoursMapDownTo256And16And8() {
        XCTAssertEqual(ColorMapping.index(.rgb(0xFF, 0x87, 0x00), colors: 256), 208)
        XCTAssertEqual(ColorMapping.index(.rgb(0x26, 0x26, 0x26), colors: 256), 235)
        XCTAssertEqual(ColorMapping.index(.rgb(0xFF, 0x00, 0x00), colors: 16), 9)
        XCTAssertEqual(ColorMapping.index(.rgb(0xFF, 0x00, 0x00), colors: 8), 1)
        XCTAssertEqual(ColorMapping.index(.ansi(12), colors: 8), 4, "bright blue becomes blue")
        XCTAssertEqual(ColorMapping.index(.ansi(12), colors: 256), 12)
        XCTAssertEqual(ColorMapping.index(.indexed(208), colors: 8), 3, "orange becomes yellow")
        XCTAssertEqual(ColorMapping.index(.terminalDefault, colors: 256), -1)
    }

    func testNoColorKeepsAttributes() {
        let styles = TerminalStyle.resolve(Theme.builtin, colors: 256, noColor: true)
        XCTAssertTrue(styles.values.allSatisfy { $0.foreground == -1 && $0.background == -1 })
        XCTAssertTrue(styles[.selected]!.attributes.contains(.bold))
        XCTAssertTrue(styles[.selected]!.attributes.contains(.reverse), "a coloured background becomes reverse video")
        XCTAssertFalse(styles[.text]!.attributes.contains(.reverse))
        XCTAssertTrue(styles[.humanBad]!.attributes.contains(.reverse))
        XCTAssertEqual(TerminalStyle.resolve(Theme.builtin, colors: 256, noColor: false)[.verifierCoTScore]?.foreground, 208)
    }
}
