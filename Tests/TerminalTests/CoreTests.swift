import Terminal
import XCTest

/// Display widths, the cell grid's clipping and wide-character repair, wrapping, and the diff.
final class CoreTests: XCTestCase {
    func testDisplayWidths() {
        XCTAssertEqual(DisplayWidth.of("a"), 1)
        XCTAssertEqual(DisplayWidth.of("数"), 2)
        XCTAssertEqual(DisplayWidth.of("ｗ"), 2)
        XCTAssertEqual(DisplayWidth.of("😀"), 2)
        XCTAssertEqual(DisplayWidth.of("e\u{301}"), 1)
        XCTAssertEqual(DisplayWidth.of("👍🏽"), 2)
        XCTAssertEqual(DisplayWidth.of("❤\u{FE0F}"), 2)
        XCTAssertEqual(DisplayWidth.of("한국어"), 6)
        XCTAssertEqual(DisplayWidth.of("\u{7}"), 0)
    }

    func testPutClipsAndRepairsWideCharacters() {
        var g = CellGrid(size: Size(cols: 5, rows: 1))
        XCTAssertEqual(g.put("ab数cd", row: 0, col: 0, style: .text), 5)
        XCTAssertEqual(g.rowText(0), "ab数c")
        // A wide character that would straddle the edge becomes a space.
        var h = CellGrid(size: Size(cols: 3, rows: 1))
        h.put("a数数", row: 0, col: 0, style: .text)
        XCTAssertEqual(h.rowText(0), "a数")
        h.put("ab数", row: 0, col: 1, style: .text)
        XCTAssertEqual(h.rowText(0), "aab")
        // Overwriting half of a wide character blanks the other half.
        var k = CellGrid(size: Size(cols: 4, rows: 1))
        k.put("数数", row: 0, col: 0, style: .text)
        k.put("x", row: 0, col: 1, style: .text)
        XCTAssertEqual(k.rowText(0), " x数")
        k.put("y", row: 0, col: 2, style: .text)
        XCTAssertEqual(k.rowText(0), " xy ")
        XCTAssertEqual(k.put("z", row: 5, col: 0, style: .text), 0, "rows outside the grid are ignored")
        var m = CellGrid(size: Size(cols: 4, rows: 1))
        m.put("é\t\u{1}", row: 0, col: 0, style: .text, ascii: true)
        XCTAssertEqual(m.rowText(0), "? \u{FFFD} ")
    }

    func testWrapByDisplayWidth() {
        XCTAssertEqual(TextWrap.wrap("the quick brown fox", width: 10), ["the quick", "brown fox"])
        XCTAssertEqual(TextWrap.wrap("abcdefghijkl", width: 5), ["abcde", "fghij", "kl"])
        XCTAssertEqual(TextWrap.wrap("数数数 数数", width: 6), ["数数数", "数数"])
        XCTAssertEqual(TextWrap.wrap("a\n\nb", width: 5), ["a", "", "b"])
        XCTAssertEqual(TextWrap.truncate("abcdef", width: 4), "abc…")
        XCTAssertEqual(TextWrap.pad("数", 4), "数  ")
    }

    func testDiffYieldsOnlyChangedCells() {
        var a = CellGrid(size: Size(cols: 10, rows: 3))
        a.put("hello", row: 1, col: 2, style: .text)
        var b = a
        b.put("J", row: 1, col: 2, style: .text)
        b.put("!", row: 2, col: 9, style: .error)
        let runs = Diff.runs(from: a, to: b)
        XCTAssertEqual(runs.map(\.row), [1, 2])
        XCTAssertEqual(runs.map(\.col), [2, 9])
        XCTAssertEqual(Diff.cellCount(runs), 2)
        XCTAssertEqual(Diff.runs(from: b, to: b), [])
        XCTAssertEqual(Diff.cellCount(Diff.runs(from: nil, to: b)), 30, "no previous frame: everything")
        XCTAssertEqual(Diff.cellCount(Diff.runs(from: CellGrid(size: Size(cols: 2, rows: 2)), to: b)), 30, "resized: everything")
        // A changed wide character brings its continuation; a change on a continuation backs
        // up to the character's left half.
        var c = a
        c.put("数", row: 0, col: 4, style: .text)
        let wide = Diff.runs(from: a, to: c)
        XCTAssertEqual(wide.count, 1)
        XCTAssertEqual(wide[0].col, 4)
        XCTAssertEqual(wide[0].cells.count, 2)
        var d = c
        d.restyle(row: 0, from: 5, to: 6, style: .error)
        let back = Diff.runs(from: c, to: d)
        XCTAssertEqual(back.first?.col, 4)
        // Applying the runs to the old grid gives the new one.
        var applied = a
        for run in Diff.runs(from: a, to: b) {
            for (i, cell) in run.cells.enumerated() {
                applied.put(cell.text, row: run.row, col: run.col + i, style: cell.style)
            }
        }
        XCTAssertEqual(applied, b)
    }

    func testLineEditor() {
        var e = LineEditor("ab")
        XCTAssertTrue(e.handle(.left))
        XCTAssertTrue(e.handle(.char("é")))
        XCTAssertEqual(e.text, "aéb")
        XCTAssertTrue(e.handle(.home))
        XCTAssertTrue(e.handle(.delete))
        XCTAssertEqual(e.text, "éb")
        XCTAssertTrue(e.handle(.end))
        XCTAssertTrue(e.handle(.backspace))
        XCTAssertEqual(e.text, "é")
        XCTAssertFalse(e.handle(.enter))
    }
}
