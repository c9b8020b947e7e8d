import Foundation
import Journal
import Reasoning
import Terminal
import XCTest

/// Every key, resize, mouse, and session/live events arriving in the middle of an annotation.
final class ReducerTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_700_000_100)
    var s: UIState!

    override func setUpWithError() throws {
        s = FixtureSession.state(try FixtureSession.busy())
    }

    @discardableResult
    func press(_ keys: Key...) -> [Effect] {
        var effects: [Effect] = []
        for k in keys { effects += Reducer.reduce(&s, .key(k), now: now) }
        return effects
    }

    func type(_ text: String) {
        for c in text { press(.char(c)) }
    }

    var humanAnnotations: [Annotation] {
        s.session.allAnnotations.filter(\.isHuman)
    }

    func testMovementInEachPane() {
        press(.tab) // samples → solution
        XCTAssertEqual(s.focus, .solution)
        press(.char("j"), .down)
        XCTAssertEqual(s.step, 2)
        press(.char("k"))
        XCTAssertEqual(s.step, 1)
        press(.char("G"))
        XCTAssertEqual(s.step, s.selectedSolution!.steps.count - 1)
        press(.char("g"))
        XCTAssertEqual(s.step, 0)
        press(.end); XCTAssertEqual(s.step, s.selectedSolution!.steps.count - 1)
        press(.home); XCTAssertEqual(s.step, 0)
        press(.pageDown); XCTAssertGreaterThan(s.step, 0)
        press(.pageUp); XCTAssertEqual(s.step, 0)
        press(.up); XCTAssertEqual(s.step, 0, "moving above the top stays at the top")
        press(.tab) // critique
        XCTAssertEqual(s.focus, .critique)
        press(.char("j")); XCTAssertEqual(s.critiqueTop, 0, "a critique that fits does not scroll")
        press(.tab) // rounds
        XCTAssertEqual(s.focus, .rounds)
        press(.char("j")); XCTAssertEqual(s.round, 1)
        press(.char("k")); XCTAssertEqual(s.round, 0)
        press(.tab) // problem
        XCTAssertEqual(s.focus, .problem)
        press(.char("j")); XCTAssertEqual(s.problemTop, 0, "a problem that fits does not scroll")
        _ = Reducer.reduce(&s, .resize(Size(cols: 60, rows: 18)))
        press(.char("i")) // the reference makes it longer than the pane: 3 lines of problem, 3 more
        press(.char("j")); XCTAssertEqual(s.problemTop, 1)
        press(.char("G")); XCTAssertEqual(s.problemTop, 3, "never past the last page")
        press(.char("k")); XCTAssertEqual(s.problemTop, 2)
        press(.backTab); XCTAssertEqual(s.focus, .rounds)
    }

    func testEnterFocusesAndEscapeBacksOut() {
        press(.enter)
        XCTAssertEqual(s.focus, .solution)
        press(.enter)
        XCTAssertTrue(s.maximized)
        XCTAssertTrue(s.layout.frame(.samples).isEmpty)
        press(.escape)
        XCTAssertFalse(s.maximized)
        press(.escape)
        XCTAssertEqual(s.focus, .samples)
    }

    func testProblemsAndRounds() {
        press(.char("n"))
        XCTAssertEqual(s.problemIndex, 1)
        press(.char("p"), .char("p"))
        XCTAssertEqual(s.problemIndex, 0)
        let parent = s.selectedSolution!.id
        press(.char("]"))
        XCTAssertEqual(s.round, 1)
        XCTAssertEqual(s.selectedSolution?.parentID, parent)
        press(.char("]"))
        XCTAssertEqual(s.round, 1, "no round past the last")
        press(.char("["))
        XCTAssertEqual(s.round, 0)
        XCTAssertEqual(s.selectedID, parent, "stepping back selects the parent")
        press(.char("n"), .char("]"))
        XCTAssertEqual(s.round, 0, "problem 2 has one round")
    }

    func testGotoThresholdVerifierSortFilterAndThemeCommands() {
        press(.char(":")); type("goto 4"); press(.enter)
        XCTAssertEqual(s.problemIndex, 3)
        press(.char(":")); type("goto 99"); press(.enter)
        XCTAssertEqual(s.message?.isError, true)
        XCTAssertEqual(s.problemIndex, 3)
        press(.char(":")); type("threshold 8.5"); press(.enter)
        XCTAssertEqual(s.threshold, 8.5)
        XCTAssertTrue(s.metricsStale)
        press(.char(":")); type("threshold x"); press(.enter)
        XCTAssertEqual(s.message?.text, "threshold needs a number, got 'x'")
        press(.char(":")); type("verifier cot-score"); press(.enter)
        XCTAssertEqual(s.verifier, .cotScore)
        press(.char(":")); type("verifier nope"); press(.enter)
        XCTAssertEqual(s.message?.isError, true)
        press(.char(":")); type("sort score"); press(.enter)
        XCTAssertEqual(s.sort, .score)
        press(.char(":")); type("filter wrong"); press(.enter)
        XCTAssertEqual(s.filter, .wrong)
        press(.char(":")); type("theme light")
        XCTAssertEqual(press(.enter), [.loadTheme("light")])
        press(.char(":")); type("export prm800k out.jsonl")
        XCTAssertEqual(press(.enter), [.export(format: "prm800k", path: "out.jsonl")])
        press(.char(":")); type("bogus"); press(.enter)
        XCTAssertTrue(s.message?.text.hasPrefix("unknown command 'bogus'") == true)
        press(.char(":")); type("goto 1"); press(.escape)
        XCTAssertEqual(s.problemIndex, 3, "Esc cancels the command line")
        XCTAssertEqual(s.mode, .normal)
    }

    func testCommandLineEditing() {
        press(.char(":")); type("gotx"); press(.backspace); type("o 2")
        press(.home, .delete, .char("g"), .end)
        guard case .command(let e) = s.mode else { return XCTFail("not in command mode") }
        XCTAssertEqual(e.text, "goto 2")
        press(.left, .left, .right, .enter)
        XCTAssertEqual(s.problemIndex, 1)
    }

    func testSortFilterVerifierBlindReferenceHelpKeys() {
        press(.char("o")); XCTAssertEqual(s.sort, .score)
        press(.char("o")); XCTAssertEqual(s.sort, .arrival)
        press(.char("f")); XCTAssertEqual(s.filter, .wrong)
        press(.char("f")); XCTAssertEqual(s.filter, .right)
        XCTAssertTrue(s.rows.isEmpty, "the first trace is wrong")
        press(.char("f")); XCTAssertEqual(s.filter, .disagreement)
        press(.char("f")); XCTAssertEqual(s.filter, .all)
        let first = s.activeVerifier
        press(.char("V"))
        XCTAssertNotEqual(s.activeVerifier, first)
        press(.char("h")); XCTAssertTrue(s.blind)
        press(.char("h")); XCTAssertFalse(s.blind)
        press(.char("i")); XCTAssertTrue(s.showReference)
        press(.char("?")); XCTAssertEqual(s.mode, .help)
        press(.char("j")); XCTAssertEqual(s.mode, .normal, "any key closes help")
    }

    func testQuitAndInterrupt() {
        XCTAssertEqual(press(.char("q")), [.quit])
        XCTAssertTrue(s.quitRequested)
        s.quitRequested = false
        press(.char(":"))
        XCTAssertEqual(press(.interrupt), [.quit], "Ctrl-C quits from any mode")
    }

    func testMarkFirstErrorRatingsAndClear() throws {
        press(.enter, .char("j"))
        let sol = try XCTUnwrap(s.selectedSolution)
        var effects = press(.char("x"))
        let expected = Annotation(solutionID: sol.id, stepIndex: 1, rating: .bad, firstError: true, time: now.roundedForJournal)
        XCTAssertEqual(effects, [.journal(.annotationAdded(expected))])
        XCTAssertEqual(humanAnnotations, [expected])
        // A first error elsewhere demotes the earlier mark to a bad step.
        press(.char("j"))
        effects = press(.char("x"))
        XCTAssertEqual(effects.count, 2)
        XCTAssertEqual(SampleFacts.humanLabel(s, sol), .step(1), "step 2 stays rated bad, so the label is still 2")
        XCTAssertEqual(humanAnnotations.filter(\.firstError).map(\.stepIndex), [2])
        press(.char("+")); XCTAssertEqual(humanAnnotations.last?.rating, .good)
        press(.char("0")); XCTAssertEqual(humanAnnotations.last?.rating, .neutral)
        press(.char("-")); XCTAssertEqual(humanAnnotations.last?.rating, .bad)
        effects = press(.char("c"))
        XCTAssertEqual(effects, [.journal(.annotationRemoved(solutionID: sol.id, stepIndex: 2, source: Annotation.human,
                                                             time: now.roundedForJournal))])
        XCTAssertEqual(humanAnnotations.map(\.stepIndex), [1])
        XCTAssertEqual(press(.char("c"), .char("c")).count, 0, "clearing nothing emits nothing")
        // The dataset's label is untouched by human marks.
        XCTAssertEqual(SampleFacts.datasetLabel(s, sol)?.label, .step(3))
    }

    func testXTogglesTheFirstErrorMark() {
        press(.enter, .char("x"))
        XCTAssertEqual(humanAnnotations.count, 1)
        press(.char("x"))
        XCTAssertEqual(humanAnnotations.count, 0)
    }

    func testNoteEditorSavesUTF8AndCancels() throws {
        press(.enter, .char("N"))
        type("naïve 数字 ")
        press(.left, .backspace) // removes the "字"
        press(.enter)
        let a = try XCTUnwrap(humanAnnotations.first)
        XCTAssertEqual(a.note, "naïve 数")
        XCTAssertNil(a.rating)
        press(.char("N")); type("ignored"); press(.escape)
        XCTAssertEqual(humanAnnotations.first?.note, "naïve 数")
        // Emptying the note of an annotation with nothing else on it removes the annotation.
        press(.char("N"))
        for _ in 0..<10 { press(.backspace) }
        let effects = press(.enter)
        guard case .journal(.annotationRemoved)? = effects.first else { return XCTFail("expected a removal, got \(effects)") }
        XCTAssertTrue(humanAnnotations.isEmpty)
    }

    func testEventsArrivingMidAnnotationDoNotRedirectTheNote() throws {
        press(.enter, .char("j"), .char("N"))
        type("first")
        let target = try XCTUnwrap(s.selectedSolution)
        // A new sample for this round arrives, sorted first, and a new problem loads.
        var newcomer = target
        newcomer.id = "aaa-newcomer"
        newcomer.steps = [Step(index: 0, text: "only step")]
        _ = Reducer.reduce(&s, .session(.solutionAdded(newcomer)), now: now)
        _ = Reducer.reduce(&s, .session(.critiqueFinished(Critique(id: "c9", solutionID: newcomer.id, verifier: .cotScore, score: 10))))
        _ = Reducer.reduce(&s, .session(.problemLoaded(Problem(id: "late", source: "x", text: "late problem", kind: .freeform))))
        _ = Reducer.reduce(&s, .live(.tokens(id: "nobody", delta: "ignored")))
        s.sort = .score
        _ = Reducer.reduce(&s, .resize(Size(cols: 100, rows: 30)))
        type(" second")
        let effects = press(.enter)
        XCTAssertEqual(effects.count, 1)
        guard case .journal(.annotationAdded(let a))? = effects.first else { return XCTFail("no annotation: \(effects)") }
        XCTAssertEqual(a.solutionID, target.id)
        XCTAssertEqual(a.stepIndex, 1)
        XCTAssertEqual(a.note, "first second")
        XCTAssertEqual(s.session.problems.count, 7)
    }

    func testAnnotationKeysNeedAStep() {
        press(.char("f"), .char("f")) // filter: right → no rows in round 0
        XCTAssertTrue(s.rows.isEmpty)
        XCTAssertEqual(press(.char("x")), [])
        XCTAssertEqual(s.message?.isError, true)
    }

    func testSearchJumpsAcrossTheSession() {
        press(.char("/")); type("-1260"); press(.enter)
        XCTAssertEqual(s.problemIndex, 0)
        XCTAssertEqual(s.focus, .solution)
        XCTAssertEqual(s.step, 3)
        XCTAssertTrue(s.message?.text.hasPrefix("match") == true)
        let before = (s.problemIndex, s.round, s.step)
        press(.char("/"), .enter) // empty query repeats the last
        XCTAssertFalse((s.problemIndex, s.round, s.step) == before, "the repeat moves on")
        press(.char("/")); type("no such text anywhere"); press(.enter)
        XCTAssertEqual(s.message?.isError, true)
    }

    func testResizeKeepsSelectionInViewAndTooSmall() {
        press(.enter, .char("G"))
        _ = Reducer.reduce(&s, .resize(Size(cols: 70, rows: 18)))
        let area = s.solutionTextArea
        XCTAssertFalse(area.isEmpty)
        XCTAssertLessThanOrEqual(s.stepTop, s.step)
        let grid = Renderer.render(s)
        XCTAssertTrue(grid.text.contains("\(s.step + 1) "), "selected step visible after resize")
        _ = Reducer.reduce(&s, .resize(Size(cols: 40, rows: 10)))
        XCTAssertTrue(s.layout.tooSmall)
        XCTAssertTrue(Renderer.render(s).text.contains("terminal too small"))
        XCTAssertEqual(press(.char("q")), [.quit])
    }

    func testMouseClicksAndWheel() throws {
        let layout = s.layout
        let solutionContent = layout.content(.solution)
        // Click the third row of the solution text: step 2 (the first step wraps onto two rows).
        _ = Reducer.reduce(&s, .mouse(MouseEvent(.click, row: solutionContent.row + 2, col: solutionContent.col + 5)))
        XCTAssertEqual(s.focus, .solution)
        XCTAssertEqual(s.step, 1)
        _ = Reducer.reduce(&s, .mouse(MouseEvent(.wheelDown, row: solutionContent.row, col: solutionContent.col + 5)))
        XCTAssertEqual(s.step, 4)
        let rounds = layout.content(.rounds)
        _ = Reducer.reduce(&s, .mouse(MouseEvent(.click, row: rounds.row, col: rounds.col + 7 + 10 + 1)))
        XCTAssertEqual(s.round, 1)
        let samples = layout.content(.samples)
        _ = Reducer.reduce(&s, .mouse(MouseEvent(.click, row: samples.row, col: samples.col + 3)))
        XCTAssertEqual(s.focus, .samples)
        XCTAssertEqual(s.selectedID, s.rows.first?.id)
    }

    func testLiveStreamingIsReplacedByTheFinishedSample() throws {
        let pid = s.problem!.id
        _ = Reducer.reduce(&s, .live(.sampleStarted(id: "live", problemID: pid, round: 0, parentID: nil)))
        _ = Reducer.reduce(&s, .live(.tokens(id: "live", delta: "Step one.")))
        XCTAssertEqual(s.rows.count, 2)
        XCTAssertEqual(s.streaming["live"]?.text, "Step one.")
        let done = Solution(id: "live", problemID: pid, text: "Step one.", steps: [Step(index: 0, text: "Step one.")], origin: .sampled)
        _ = Reducer.reduce(&s, .session(.solutionAdded(done)))
        XCTAssertNil(s.streaming["live"])
        XCTAssertEqual(s.rows.count, 2)
        _ = Reducer.reduce(&s, .live(.sampleStarted(id: "gone", problemID: pid, round: 0, parentID: nil)))
        _ = Reducer.reduce(&s, .live(.sampleEnded(id: "gone")))
        XCTAssertNil(s.streaming["gone"])
        _ = Reducer.reduce(&s, .session(.sampleFailed(problemID: pid, round: 0, message: "engine stopped")))
        XCTAssertEqual(s.rows.last, .failed(message: "engine stopped", index: 0))
    }
}

final class LiveKeyTests: XCTestCase {
    func testLiveKeysGoToTheLoopOnlyWhenOneIsAttached() throws {
        var s = FixtureSession.state(try FixtureSession.busy())
        XCTAssertEqual(Reducer.reduce(&s, .key(.char("s"))), [])
        XCTAssertTrue(s.message?.text.hasPrefix("no engine") == true)
        s.live = true
        let sel = s.selectedSolution?.id
        for c in "svrR " {
            XCTAssertEqual(Reducer.reduce(&s, .key(.char(c))),
                           [.live(LiveRequest(key: c, problemID: s.problem?.id, selectedSolutionID: sel))])
        }
    }

    /// A problem with nothing but a sample being written: the default selection (the first
    /// row) is that sample, so its tokens show in the solution pane before any key is pressed.
    func testAFreshProblemsFirstStreamingSampleShowsInTheSolutionPane() throws {
        let p = Problem(id: "fresh", source: "fixture", text: "What is 2 + 3?", kind: .freeform)
        var s = FixtureSession.state([.problemLoaded(p)])
        _ = Reducer.reduce(&s, .live(.sampleStarted(id: "fresh/s0", problemID: "fresh", round: 0, parentID: nil)))
        _ = Reducer.reduce(&s, .live(.tokens(id: "fresh/s0", delta: "2 + 3 = 5")))
        XCTAssertNil(s.selectedID)
        XCTAssertEqual(s.selectedStreaming?.id, "fresh/s0")
        let text = Renderer.render(s).text
        XCTAssertTrue(text.contains("Solution fresh/s0"), text)
        XCTAssertTrue(text.contains("2 + 3 = 5"), text)
        // Once finished, the same row is the selected solution.
        let done = Solution(id: "fresh/s0", problemID: "fresh", text: "2 + 3 = 5", steps: [Step(index: 0, text: "2 + 3 = 5")], origin: .sampled)
        _ = Reducer.reduce(&s, .session(.solutionAdded(done)))
        XCTAssertNil(s.selectedStreaming)
        XCTAssertEqual(s.selectedSolution?.id, "fresh/s0")
    }
}
