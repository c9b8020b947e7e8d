import Foundation
import Journal
import Reasoning
import Terminal
import XCTest

/// The screen as text: fixed UI states rendered into the cell grid and compared with
/// `Snapshots/*.txt` (refresh with STEPWISE_UPDATE_SNAPSHOTS=1, see Support/Snapshot.swift).
final class SnapshotTests: XCTestCase {
    func press(_ s: inout UIState, _ keys: Key...) {
        for k in keys { _ = Reducer.reduce(&s, .key(k), now: Date(timeIntervalSince1970: 1_700_000_100)) }
        s.refreshMetrics()
    }

    func testOverviewOfTheBigBenchMistakeSession() throws {
        let s = FixtureSession.state(try FixtureSession.busy())
        assertSnapshot(Renderer.render(s), "overview")
    }

    func testEveryTraceShowsItsHumanFirstMistakeLabel() throws {
        // Walk every problem of the fixture: the label's step carries the label style.
        var s = FixtureSession.state(try FixtureSession.bigBenchMistake(count: 6))
        for n in 0..<6 {
            let sol = try XCTUnwrap(s.selectedSolution)
            let labelled = FixtureSession.firstMistake(try FixtureSession.bigBenchMistake(count: 6), sol)
            let grid = Renderer.render(s)
            let samples = (0..<grid.size.rows).map(grid.rowText).joined(separator: "\n")
            if let i = labelled {
                XCTAssertTrue(samples.contains("L@\(i + 1)"), "problem \(n): label L@\(i + 1) not shown")
                XCTAssertTrue(samples.contains("label: big-bench-mistake"), "problem \(n): labelled step not tagged")
            } else {
                XCTAssertTrue(samples.contains("L✓"), "problem \(n): no-mistake label not shown")
            }
            if n == 1 { assertSnapshot(grid, "label-problem-2") }
            press(&s, .char("n"))
        }
    }

    func testSolutionFocusedOnTheLabelledStep() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .char("n"), .char("n"), .enter, .char("j"), .char("j"), .char("j"))
        assertSnapshot(Renderer.render(s), "solution-focus")
    }

    func testRefinedChildBesideItsParent() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .char("]"))
        XCTAssertEqual(s.round, 1)
        XCTAssertEqual(s.selectedSolution?.parentID, "bbm-multistep_arithmetic-0/big-bench-mistake")
        assertSnapshot(Renderer.render(s), "round-1-parent-child")
    }

    func testBlindAndInformedCritiquesSideBySideWithTheirDisagreement() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .char(":"))
        for c in "verifier critique" { press(&s, .char(c)) }
        press(&s, .enter, .char("n"), .char("n"))
        let grid = Renderer.render(s)
        XCTAssertTrue(grid.text.contains("blind and informed disagree: first error step 4 vs step 3"))
        assertSnapshot(grid, "critique-blind-vs-informed")
    }

    func testHelpOverlay() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .char("?"))
        assertSnapshot(Renderer.render(s), "help")
    }

    func testTooSmall() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        _ = Reducer.reduce(&s, .resize(Size(cols: 50, rows: 12)))
        assertSnapshot(Renderer.render(s), "too-small")
    }

    func testBlindAnnotationHidesGroundTruthAndVerifiers() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .char("h"))
        let grid = Renderer.render(s)
        XCTAssertFalse(grid.text.contains("L@"), "dataset labels must be hidden while blind")
        XCTAssertFalse(grid.text.contains("cs 9"), "verifier scores must be hidden while blind")
        assertSnapshot(grid, "blind")
    }

    func testNoteEditorAndSavedNote() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        press(&s, .enter, .char("j"), .char("x"), .char("N"))
        for c in "carry error: 数 ok" { press(&s, .char(c)) }
        assertSnapshot(Renderer.render(s), "note-editing")
        press(&s, .enter)
        assertSnapshot(Renderer.render(s), "note-saved")
    }

    func testWideAndCombiningCharacters() throws {
        let p = Problem(id: "wide", source: "fixture", text: "数学の問題: 3 + 4 = ? 😀 café (e\u{301}) ｗｉｄｅ", kind: .freeform)
        let steps = ["三 plus 四 is 七 ✅", "e\u{301}e\u{301} combining, 👍🏽 skin tone, 👩‍💻 zwj", "Answer: 7"]
            .enumerated().map { Step(index: $0.offset, text: $0.element) }
        let sol = Solution(id: "w/0", problemID: "wide", text: "", steps: steps, grade: Grade(strictAnswer: "7", strictCorrect: true),
                           origin: .sampled)
        let s = FixtureSession.state([.problemLoaded(p), .solutionAdded(sol)], size: Size(cols: 80, rows: 20))
        let grid = Renderer.render(s)
        assertSnapshot(grid, "wide-characters")
        // Every wide character's right half is a continuation cell.
        for r in 0..<grid.size.rows {
            for c in 0..<grid.size.cols where DisplayWidth.of(grid[r, c].text) == 2 {
                XCTAssertTrue(c + 1 < grid.size.cols && grid[r, c + 1].isContinuation)
            }
        }
    }

    func testAsciiLocaleDegradesGlyphs() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        s.ascii = true
        press(&s, .char("]"))
        let grid = Renderer.render(s)
        for cell in grid.cells { XCTAssertTrue(cell.text.unicodeScalars.allSatisfy(\.isASCII), "non-ASCII '\(cell.text)'") }
        assertSnapshot(grid, "ascii")
    }

    func testStreamingSample() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        let pid = s.problem!.id
        _ = Reducer.reduce(&s, .live(.sampleStarted(id: "live-1", problemID: pid, round: 0, parentID: nil)))
        _ = Reducer.reduce(&s, .live(.tokens(id: "live-1", delta: "Let's calculate A = (-9 - 5 - 0)")))
        _ = Reducer.reduce(&s, .live(.tokens(id: "live-1", delta: " = -14.")))
        _ = Reducer.reduce(&s, .live(.engine(EngineStatus(state: "running", tokensPerSecond: 41.5, model: "demo", backend: "cpu"))))
        press(&s, .char("G"))
        assertSnapshot(Renderer.render(s), "streaming")
    }

    func testTenThousandStepsScrollToTheEnd() throws {
        let p = Problem(id: "long", source: "fixture", text: "Count to ten thousand.", kind: .freeform)
        let steps = (0..<10_000).map { Step(index: $0, text: "Step text number \($0 + 1), long enough to wrap once in a narrow pane.") }
        let sol = Solution(id: "long/0", problemID: "long", text: "", steps: steps, origin: .sampled)
        var s = FixtureSession.state([.problemLoaded(p), .solutionAdded(sol)], size: Size(cols: 80, rows: 24))
        press(&s, .enter, .char("G"))
        XCTAssertEqual(s.step, 9_999)
        assertSnapshot(Renderer.render(s), "ten-thousand-steps-end")
        press(&s, .pageUp)
        XCTAssertLessThan(s.step, 9_999)
        XCTAssertTrue(Renderer.render(s).text.contains("Step text number \(s.step + 1),"))
    }
}

final class SearchHighlightTests: XCTestCase {
    func testSearchMatchesAreHighlightedInTheSteps() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        for k in [Key.char("/")] + "-1260".map({ Key.char($0) }) + [Key.enter] { _ = Reducer.reduce(&s, .key(k)) }
        s.refreshMetrics()
        assertSnapshot(Renderer.render(s), "search-match")
        let grid = Renderer.render(s)
        XCTAssertTrue(grid.cells.contains { $0.style == .searchMatch })
    }
}
