import XCTest
import Foundation
@testable import Verification

final class PromptTests: XCTestCase {
    func testSlotsLaTeXAndEscapes() throws {
        let t = PromptTemplate(name: "t", text: #"Q: {problem} \frac{1}{2} {{literal}} \boxed{{}} {x_1}"#)
        XCTAssertEqual(t.slots, ["problem", "x_1"])
        XCTAssertEqual(try t.render(["problem": "2+2?", "x_1": "v"]), #"Q: 2+2? \frac{1}{2} {literal} \boxed{} v"#)
        XCTAssertThrowsError(try t.render(["problem": "p"])) { error in
            XCTAssertEqual(error as? PromptError, .missingValue(template: "t", slot: "x_1"))
        }
        // Values are inserted verbatim, never re-scanned for slots.
        XCTAssertEqual(try PromptTemplate(name: "u", text: "{a}").render(["a": "{a}"]), "{a}")
    }

    func testBuiltinPromptsUseOnlyTheirSlots() throws {
        for (name, template) in PromptSet.builtin.templates {
            let allowed = try XCTUnwrap(DefaultPrompts.slots[name], name)
            XCTAssertNoThrow(try template.validate(allowed: allowed), name)
            XCTAssertEqual(Set(template.slots), allowed, "\(name) should use every slot it is given")
        }
        XCTAssertEqual(Set(PromptSet.builtin.templates.keys), Set(DefaultPrompts.slots.keys))
        let math = try PromptSet.builtin.render("generate-math", ["problem": "What is $1+1$?"])
        XCTAssertTrue(math.contains(#"\boxed{}"#))
        XCTAssertTrue(math.contains(#"\frac{6}{8}"#))
        XCTAssertTrue(math.hasSuffix("Problem: What is $1+1$?\nSolution:"))
    }

    func testOverridesFromAFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "Judge: {problem}\n{steps}\n".write(to: dir.appendingPathComponent("verify-critique.txt"), atomically: true, encoding: .utf8)
        let set = try PromptSet.load(overridesIn: dir)
        XCTAssertEqual(set.overridden, ["verify-critique"])
        XCTAssertEqual(try set.render("verify-critique", ["problem": "p", "steps": "Step 1: x"]), "Judge: p\nStep 1: x\n")

        try "Judge: {problem} {solution}\n".write(to: dir.appendingPathComponent("verify-critique.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PromptSet.load(overridesIn: dir)) { error in
            let m = String(describing: error)
            XCTAssertTrue(m.contains("verify-critique.txt") && m.contains("{solution}"), m)
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("verify-critique.txt"))
        try "x".write(to: dir.appendingPathComponent("no-such-prompt.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PromptSet.load(overridesIn: dir)) { error in
            XCTAssertTrue(String(describing: error).contains("no-such-prompt"))
        }
    }
}

final class VerifierOutputParserTests: XCTestCase {
    func testBinary() {
        let ok = VerifierOutputParser.binary("Step 1 adds correctly.\nStep 2 multiplies wrongly.\nCorrectness: <incorrect>")
        XCTAssertEqual(ok.verdict, .incorrect)
        XCTAssertEqual(ok.score, 0)
        XCTAssertEqual(ok.parse, .ok)
        XCTAssertEqual(ok.explanation, "Step 1 adds correctly.\nStep 2 multiplies wrongly.")
        XCTAssertEqual(VerifierOutputParser.binary("Correctness: <incorrect>\nOn reflection...\nCorrectness: correct").verdict, .correct,
                       "the last verdict line wins")
        let lenient = VerifierOutputParser.binary("All good. The solution is not correct.")
        XCTAssertEqual(lenient.verdict, .incorrect)
        XCTAssertEqual(lenient.parse, .lenient)
        let none = VerifierOutputParser.binary("I am not sure.")
        XCTAssertEqual(none.parse, .unparseable)
        XCTAssertNil(none.verdict)
        XCTAssertNil(none.score)
    }

    func testScore() {
        XCTAssertEqual(VerifierOutputParser.score("Looks right.\nScore: 9").score, 9)
        XCTAssertEqual(VerifierOutputParser.score("Score: 7/10").score, 7)
        XCTAssertEqual(VerifierOutputParser.score("Score: 7/10").parse, .ok)
        XCTAssertEqual(VerifierOutputParser.score("I'd give it 3 out of 10").score, 3)
        XCTAssertEqual(VerifierOutputParser.score("I'd give it 3 out of 10").parse, .lenient)
        XCTAssertEqual(VerifierOutputParser.score("Score: 11").parse, .unparseable, "out of range is not clamped")
        XCTAssertEqual(VerifierOutputParser.score("Score: 0").parse, .unparseable)
        XCTAssertEqual(VerifierOutputParser.score("no idea").parse, .unparseable)
    }

    func testCritique() {
        let c = VerifierOutputParser.critique("First wrong step: 2\nWhy: 5 × 4 is 20, but the order of operations was ignored.", stepCount: 3)
        XCTAssertEqual(c.firstErrorStep, 1)
        XCTAssertEqual(c.verdict, .incorrect)
        XCTAssertEqual(c.parse, .ok)
        XCTAssertEqual(c.explanation, "5 × 4 is 20, but the order of operations was ignored.")
        XCTAssertEqual(VerifierOutputParser.critique("First wrong step: Step 3", stepCount: 3).firstErrorStep, 2)
        XCTAssertEqual(VerifierOutputParser.critique("**First incorrect step:** 1", stepCount: 3).firstErrorStep, 0)
        let none = VerifierOutputParser.critique("First wrong step: none\nWhy: every computation checks out.", stepCount: 3)
        XCTAssertNil(none.firstErrorStep)
        XCTAssertEqual(none.verdict, .correct)
        XCTAssertEqual(none.score, 1)
        XCTAssertEqual(none.parse, .ok)
        XCTAssertEqual(VerifierOutputParser.critique("The first error is in step 2: it subtracts.", stepCount: 4).firstErrorStep, 1)
        XCTAssertEqual(VerifierOutputParser.critique("Step 3 is wrong because 7*8=56.", stepCount: 4).firstErrorStep, 2)
        XCTAssertEqual(VerifierOutputParser.critique("Step 3 is wrong because 7*8=56.", stepCount: 4).parse, .lenient)
        XCTAssertEqual(VerifierOutputParser.critique("All steps are correct.", stepCount: 4).verdict, .correct)
        // A step the solution does not have is not guessed into range.
        let outside = VerifierOutputParser.critique("First wrong step: 9", stepCount: 4)
        XCTAssertEqual(outside.parse, .unparseable)
        XCTAssertNil(outside.firstErrorStep)
        XCTAssertNil(outside.verdict)
        XCTAssertEqual(VerifierOutputParser.critique("Hmm, hard to say.", stepCount: 4).parse, .unparseable)
    }

    func testPreference() {
        XCTAssertEqual(VerifierOutputParser.preference("A misses a step.\nBetter: B").0, .second)
        XCTAssertEqual(VerifierOutputParser.preference("Better: (A)").0, .first)
        XCTAssertEqual(VerifierOutputParser.preference("Solution A is better.").0, .first)
        XCTAssertEqual(VerifierOutputParser.preference("Solution A is better.").1, .lenient)
        XCTAssertNil(VerifierOutputParser.preference("both are fine").0)
    }
}
