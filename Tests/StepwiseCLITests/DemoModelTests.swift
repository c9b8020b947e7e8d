import Foundation
import Reasoning
import Verification
import XCTest
@testable import StepwiseCLI

/// `stepwise` with no arguments: the shipped demo model, found from the checkout, running the
/// loop live on builtin:arith with the options the issue asks for and the model's own prompts.
final class DemoModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testTheDefaultRunUsesTheShippedModelAndItsPrompts() throws {
        let model = try XCTUnwrap(DemoModel.locate(in: [Self.root.appendingPathComponent("Sources"), Self.root]),
                                  "Models/\(DemoModel.folderName) is in the checkout")
        XCTAssertEqual(model.lastPathComponent, DemoModel.folderName)
        XCTAssertNil(DemoModel.locate(in: [Self.root.appendingPathComponent("Sources")]))

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString).jsonl")
        var argv = DemoModel.liveArguments(model: model)
        if let i = argv.firstIndex(of: "--out") { argv[i + 1] = out.path }
        XCTAssertEqual(argv.last, "--autorun", "the demo starts running at once")
        argv.removeLast()   // a workbench option, not one of run's
        let plan = try RunCommand.makePlan(argv)
        XCTAssertEqual(plan.datasetName, "builtin:arith")
        XCTAssertEqual(plan.problems.count, 500)
        XCTAssertEqual(plan.configuration.samples, 8)
        XCTAssertEqual(plan.configuration.rounds, 3)
        XCTAssertTrue(plan.configuration.informed)
        XCTAssertEqual(Set(plan.configuration.verifiers), [.critique, .cotScore, .mc])
        XCTAssertTrue(plan.prompts.overridden.isSuperset(of: ["generate-arith", "verify-critique", "verify-critique-informed", "refine"]),
                      "the model folder's own prompts are used")
        XCTAssertEqual(plan.prompts["verify-critique"]?.text,
                       try String(contentsOf: model.appendingPathComponent("prompts/verify-critique.txt"), encoding: .utf8))
        // --prompts still wins over the folder's.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let builtin = try RunCommand.makePlan(argv + ["--prompts", empty.path])
        XCTAssertFalse(builtin.prompts.overridden.contains("verify-critique"))
    }
}
