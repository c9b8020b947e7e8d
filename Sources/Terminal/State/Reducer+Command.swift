import Foundation
import Journal
import Reasoning

// The `:` command line and `/` search.
extension Reducer {
    /// Names the `:` line understands, for help and errors.
    public static let commands = [
        "threshold N", "verifier NAME", "export FORMAT [PATH]", "theme NAME", "goto N",
        "sort score|arrival", "filter all|wrong|right|disagreement", "quit",
    ]

    static func runCommand(_ s: inout UIState, _ line: String) -> [Effect] {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let name = words.first else { return [] }
        let arg = words.count > 1 ? words[1] : nil
        func fail(_ text: String) -> [Effect] {
            s.message = StatusMessage(text: text, isError: true)
            return []
        }
        func say(_ text: String) { s.message = StatusMessage(text: text, isError: false) }
        switch name {
        case "threshold", "t":
            guard let a = arg else {
                s.threshold = nil
                s.metricsStale = true
                say("threshold: verifier default")
                return []
            }
            guard let v = Double(a), v.isFinite else { return fail("threshold needs a number, got '\(a)'") }
            s.threshold = v
            s.metricsStale = true
            say("threshold \(format(v))")
        case "verifier", "v":
            guard let a = arg, a != "auto" else {
                s.verifier = nil
                s.metricsStale = true
                say("verifier: automatic")
                return []
            }
            guard let kind = VerifierKind(rawValue: a) else {
                return fail("unknown verifier '\(a)' (\(VerifierKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            s.verifier = kind
            s.metricsStale = true
            say("verifier: \(kind.rawValue)")
        case "export":
            guard let f = arg else { return fail("export needs a format, e.g. :export prm800k") }
            say("exporting \(f)…")
            return [.export(format: f, path: words.count > 2 ? words[2] : nil)]
        case "theme":
            guard let t = arg else { return fail("theme needs a name: default, light, high-contrast, mono") }
            return [.loadTheme(t)]
        case "goto", "g":
            guard let a = arg else { return fail("goto needs a problem number or id") }
            if let n = Int(a) {
                guard n >= 1 && n <= s.session.problems.count else {
                    return fail("no problem \(n) (1…\(s.session.problems.count))")
                }
                goToProblem(&s, n - 1)
            } else if let i = s.session.problemIndex[a] {
                goToProblem(&s, i)
            } else {
                return fail("no problem '\(a)'")
            }
        case "sort":
            guard let a = arg, let v = SampleSort(rawValue: a) else { return fail("sort score|arrival") }
            s.sort = v
        case "filter":
            guard let a = arg, let v = SampleFilter(rawValue: a) else { return fail("filter all|wrong|right|disagreement") }
            s.filter = v
        case "q", "quit":
            s.quitRequested = true
            return [.quit]
        default:
            return fail("unknown command '\(name)' (\(commands.joined(separator: ", ")))")
        }
        return []
    }

    /// A place in the session search can land on, in session order.
    struct SearchHit: Comparable {
        var problem: Int
        /// -1 for the problem text, else the solution's position among the problem's solutions.
        var solution: Int
        var step: Int
        var solutionID: String?

        static func < (a: SearchHit, b: SearchHit) -> Bool {
            (a.problem, a.solution, a.step) < (b.problem, b.solution, b.step)
        }
    }

    /// Jumps to the next place after the selection whose text contains `query` (any case),
    /// wrapping around the session.
    static func search(_ s: inout UIState, _ query: String) {
        let q = query.lowercased()
        guard !q.isEmpty else { return }
        s.lastSearch = query
        var hits: [SearchHit] = []
        for (pi, p) in s.session.problems.enumerated() {
            if p.text.lowercased().contains(q) { hits.append(SearchHit(problem: pi, solution: -1, step: 0, solutionID: nil)) }
            let sols = s.session.solutions(of: p.id).sorted { $0.round < $1.round }
            for (si, sol) in sols.enumerated() {
                for step in sol.steps where step.text.lowercased().contains(q) {
                    hits.append(SearchHit(problem: pi, solution: si, step: step.index, solutionID: sol.id))
                }
                if !s.blind, (s.session.critiques[sol.id] ?? []).contains(where: { $0.explanation.lowercased().contains(q) }) {
                    hits.append(SearchHit(problem: pi, solution: si, step: Int.max, solutionID: sol.id))
                }
            }
        }
        guard !hits.isEmpty else {
            s.message = StatusMessage(text: "not found: \(query)", isError: true)
            return
        }
        let here: SearchHit = {
            guard let p = s.problem else { return SearchHit(problem: -1, solution: -1, step: 0) }
            let sols = s.session.solutions(of: p.id).sorted { $0.round < $1.round }
            let si = s.selectedSolution.flatMap { sel in sols.firstIndex { $0.id == sel.id } } ?? -1
            return SearchHit(problem: s.problemIndex, solution: si, step: si < 0 ? 0 : s.step)
        }()
        let index = hits.firstIndex { $0 > here } ?? 0
        let hit = hits[index]
        goToProblem(&s, hit.problem)
        if let id = hit.solutionID, let sol = s.session.solutions[id] {
            s.round = sol.round
            s.filter = .all
            s.selectedID = id
            if hit.step != Int.max {
                s.step = hit.step
                s.focus = .solution
            } else {
                s.focus = .critique
            }
        } else {
            s.focus = .problem
        }
        s.message = StatusMessage(text: "match \(index + 1) of \(hits.count): \(query)", isError: false)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%.2f", v)
    }
}
