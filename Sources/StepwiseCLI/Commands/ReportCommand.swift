import Foundation
import Journal
import Reasoning
import Verification

/// `stepwise report SESSION`: the metrics of the generation–verification gap.
enum ReportCommand {
    static let command = Command(
        name: "report",
        summary: "accuracy, generation–verification gap, pass@k and localisation of a session",
        help: """
        Usage: stepwise report SESSION [--json] [--threshold [VERIFIER=]τ] [--top n] [--k 1,4,8]
                               [--round R] [--labels SOURCE] [--ensemble V1+V2]

        Prints, per verifier (kind and blind/informed): accuracy J(f), the gap J(filtered) − J(f)
        with a global threshold τ and with each problem's top n samples, the relative gap, AND
        ensembles, tournament winner accuracy, pass@k, per-round accuracy beside mean verifier
        score, precision/recall of "incorrect", and first-error localisation against labels.

        Options:
          --json                 the report as JSON (with the solutions where our grade and the
                                 dataset's label disagree)
          --threshold [V=]τ      acceptance threshold; bare τ applies to every verifier, V=τ to
                                 one (e.g. cot-score=7, mc/informed=0.6); repeatable
          --top n                keep each problem's n best-scored samples (default 1)
          --k LIST               the k of pass@k (default 1,2,4,8; only k ≤ n is reported)
          --round R              the refinement round the gap figures use (default 0)
          --labels SOURCE        first-error labels from: human, a dataset source such as
                                 big-bench-mistake, or builtin:arith (the task's own checker).
                                 Default: human, or builtin:arith for a builtin:arith session
                                 with no human marks
          --ensemble V1+V2       an AND ensemble to report (repeatable)
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "report",
                                 valued: ["threshold", "top", "k", "round", "labels", "ensemble"], flags: ["json"])
        let path = try args.positional(0, "SESSION")
        try args.expectPositionals(atMost: 1)
        var options = MetricsOptions()
        for t in args.list("threshold") {
            if let eq = t.firstIndex(of: "=") {
                let name = String(t[..<eq]), value = String(t[t.index(after: eq)...])
                guard let v = VerifierID(parsing: name) else {
                    throw CLIError.usage("unknown verifier '\(name)' in --threshold", command: "report")
                }
                guard let tau = Double(value), tau.isFinite else {
                    throw CLIError.usage("--threshold \(name)= needs a number, got '\(value)'", command: "report")
                }
                if name.contains("/") || name.contains("+") {
                    options.thresholds[v] = tau
                } else {
                    options.thresholds[VerifierID(v.kind, informed: false)] = tau
                    options.thresholds[VerifierID(v.kind, informed: true)] = tau
                }
            } else {
                guard let tau = Double(t), tau.isFinite else {
                    throw CLIError.usage("--threshold needs a number or VERIFIER=number, got '\(t)'", command: "report")
                }
                options.globalThreshold = tau
            }
        }
        if let n = try args.int("top") {
            guard n >= 1 else { throw CLIError.usage("--top needs n ≥ 1", command: "report") }
            options.topN = n
        }
        let ks = try args.ints("k")
        if !ks.isEmpty {
            guard ks.allSatisfy({ $0 >= 1 }) else { throw CLIError.usage("--k needs values ≥ 1", command: "report") }
            options.ks = ks
        }
        if let r = try args.int("round") { options.round = r }
        if let l = args.value("labels") { options.labelSource = l }
        let ensembles = try args.list("ensemble").map { spec in
            try spec.split(separator: "+").map { name -> VerifierID in
                guard let v = VerifierID(parsing: String(name)) else {
                    throw CLIError.usage("unknown verifier '\(name)' in --ensemble", command: "report")
                }
                return v
            }
        }
        if !ensembles.isEmpty { options.ensembles = ensembles }

        let state = try SessionFiles.load(path)
        let input = MetricsInput(session: state)
        if args.value("labels") == nil { options.labelSource = MetricsOptions.defaultLabelSource(input) }
        let report = Metrics.report(input, options: options)
        if args.flag("json") {
            console.out(String(try report.renderJSON().dropLast()))
        } else {
            console.out("session: \(path)")
            console.out(report.renderTable())
        }
        return 0
    }
}
