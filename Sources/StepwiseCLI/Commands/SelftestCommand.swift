import Foundation
import Inference

/// `stepwise selftest --device D`: is this machine's GPU computing what the CPU computes?
/// Runs the same backend-ops checks CI runs on OpenCL (every op against the CPU backend on
/// random inputs of many shapes) and a whole-model check, and prints a table.
enum SelftestCommand {
    static let command = Command(
        name: "selftest",
        summary: "check a device's backend against the CPU: every op, then a whole model",
        help: """
        Usage: stepwise selftest [--device D] [--model PATH] [--ops PATTERN] [--json]

        Backend-ops: every op of the device's backend (embedding and matrix products of every
        weight type, RMSNorm, RoPE, attention over the paged KV cache, …) is run on random
        inputs of many shapes, odd sizes included, and compared with the CPU backend; each
        passes when its normalised error Σ(got−want)²/Σwant² is under the op's limit.
        Whole model: the model is loaded on the device and on the CPU, a prompt runs and 32
        greedy tokens decode; the logits and the greedy choices are compared.

        Options:
          --device D       cuda, opencl, or auto (default: CUDA when usable)
          --model PATH     the model for the whole-model check (default: the demo model,
                           Models/\(DemoModel.folderName), when found)
          --ops PATTERN    only backend-ops cases whose op or shape contains PATTERN
          --json           one JSON object instead of the table

        Exit status 0 when every check passes, 1 when one fails.
        """,
        run: run
    )

    /// Whole-model limits: normalised error of all logits, and how small the reference's
    /// top-two gap must be for a differing greedy choice to count as a legitimate near-tie.
    static let wholeModelErrorLimit = 1e-4
    static let nearTieMargin: Float = 1e-3

    static func run(_ argv: [String]) throws -> Int32 {
        let name = "selftest"
        let args = try Arguments(argv, command: name, valued: ["device", "model", "ops", "threads"], flags: ["json"])
        if args.wantsHelp {
            console.out(command.help)
            return 0
        }
        try args.expectPositionals(atMost: 0)
        let device = try args.device()
        if device == .cpu {
            throw CLIError.usage("the CPU backend is the reference the checks compare against; choose --device cuda, opencl or auto", command: name)
        }
        let (backend, warnings) = try readingInput { try BackendSelection.backend(device, threads: try args.int("threads")) }
        for warning in warnings { console.err("stepwise: warning: \(warning)") }
        if backend is CPUBackend {
            console.out("selftest: --device auto chose the CPU (no usable CUDA device); the CPU backend is the reference, so there is nothing to compare. Use --device opencl to run the GPU kernels on an OpenCL device.")
            return 0
        }

        var cases = BackendOpsCheck.cases()
        if let pattern = args.value("ops") {
            cases = cases.filter { $0.op.contains(pattern) || $0.shape.contains(pattern) }
        }
        let json = args.flag("json")
        if !json { console.out("selftest on \(backend.description), reference cpu") }
        let results = BackendOpsCheck.run(backend, cases: cases)
        let failed = results.filter { !$0.passed }

        var whole: (path: String, comparison: WholeModelComparison)?
        var wholeProblem: String?
        if let path = args.value("model") ?? DemoModel.locate()?.path {
            do {
                whole = (path, try wholeModel(path: path, device: device))
            } catch {
                wholeProblem = "\(path): \(oneLine(error))"
            }
        } else {
            wholeProblem = "no model: pass --model PATH (the demo model Models/\(DemoModel.folderName) was not found)"
        }
        let wholePassed = whole.map { wholeModelPasses($0.comparison) } ?? false

        if json {
            var object: [String: Any] = [
                "device": backend.description,
                "ops": results.map { r -> [String: Any] in
                    var o: [String: Any] = ["op": r.op, "shape": r.shape, "error": r.error.isFinite ? r.error : -1,
                                            "limit": r.threshold, "passed": r.passed]
                    if let f = r.failure { o["failure"] = f }
                    return o
                },
            ]
            if let (path, c) = whole {
                object["whole_model"] = ["model": path, "prompt_tokens": c.promptTokens, "greedy_tokens": c.greedyTokens,
                                         "max_abs_difference": Double(c.maxAbsDifference), "normalised_error": c.normalisedError,
                                         "greedy_agreement": c.greedyAgreement, "passed": wholePassed]
            } else if let p = wholeProblem {
                object["whole_model"] = ["error": p, "passed": false]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            console.out(String(decoding: data, as: UTF8.self))
        } else {
            console.out(table(results))
            console.out("\(results.count - failed.count) of \(results.count) backend-ops checks passed")
            if let (path, c) = whole {
                console.out(wholeModelLine(path: path, c) + (wholePassed ? "  ok" : "  FAILED"))
            } else if let p = wholeProblem {
                console.out("whole model: \(p)  FAILED")
            }
        }
        return failed.isEmpty && wholePassed ? 0 : 1
    }

    static func wholeModel(path: String, device: ModelLoadOptions.Device) throws -> WholeModelComparison {
        let test = try LoadedModel.load(path: path, options: ModelLoadOptions(device: device))
        let reference = try LoadedModel.load(path: path, options: ModelLoadOptions(device: .cpu))
        let prompt = try reference.tokenize("Question: A baker makes 46 rolls and sells 19 of them. She bakes 3 trays of 12 more. How many rolls does she have?\nStep 1:")
        return try WholeModelCheck.compare(test: test, reference: reference, prompt: Array(prompt.prefix(64)), greedyTokens: 32)
    }

    static func wholeModelPasses(_ c: WholeModelComparison) -> Bool {
        c.normalisedError <= wholeModelErrorLimit && (c.greedyMatches || (c.marginAtDisagreement ?? .infinity) <= nearTieMargin)
    }

    static func wholeModelLine(path: String, _ c: WholeModelComparison) -> String {
        let greedy = c.greedyMatches ? "greedy identical (\(c.greedyTokens)/\(c.greedyTokens))"
            : "greedy differs at token \(c.greedyAgreement + 1) of \(c.greedyTokens) (reference top-two gap \(String(format: "%.2g", Double(c.marginAtDisagreement ?? 0))))"
        return "whole model \(path): \(c.promptTokens) prompt + \(c.greedyTokens) greedy tokens, max |Δlogit| "
            + String(format: "%.3g", Double(c.maxAbsDifference)) + ", error " + String(format: "%.2g", c.normalisedError)
            + " (limit " + String(format: "%.0g", wholeModelErrorLimit) + "), " + greedy
    }

    static func table(_ results: [BackendOpResult]) -> String {
        let opWidth = max(2, results.map(\.op.count).max() ?? 0)
        let shapeWidth = max(5, results.map(\.shape.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var lines = [pad("op", opWidth) + "  " + pad("shape", shapeWidth) + "  error      limit    result"]
        for r in results {
            let error = r.error.isFinite ? String(format: "%-9.2e", r.error) : pad("inf", 9)
            let verdict = r.passed ? "ok" : "FAILED" + (r.failure.map { ": \($0)" } ?? "")
            lines.append(pad(r.op, opWidth) + "  " + pad(r.shape, shapeWidth) + "  " + error + "  "
                         + String(format: "%-7.0e", r.threshold) + "  " + verdict)
        }
        return lines.joined(separator: "\n")
    }
}
