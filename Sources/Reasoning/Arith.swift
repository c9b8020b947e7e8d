import Foundation

// `builtin:arith`: multi-step arithmetic word problems that Stepwise generates itself, solved one
// operation per line (`34 + 48 = 82`) and closed by `The answer is N.` This generator is the one
// source of truth for the task: the built-in problem set, the demo model's training data (written
// by `stepwise arith-data`, read by scripts/demo-model) and the solutions with injected errors all
// come from here, so the model is trained on exactly what the workbench shows it.

public enum ArithOp: String, Sendable, Hashable, CaseIterable {
    case add = "+"
    case sub = "-"
    case mul = "*"
    case div = "/"

    public func apply(_ a: Int, _ b: Int) -> Int? {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return b != 0 && a % b == 0 ? a / b : nil
        }
    }

    var verb: String {
        switch self {
        case .add: return "adds"
        case .sub: return "subtracts"
        case .mul: return "multiplies"
        case .div: return "divides"
        }
    }
}

/// One line of a solution: `a op b = result`.
public struct ArithStep: Sendable, Hashable {
    public var a: Int
    public var op: ArithOp
    public var b: Int
    public var result: Int
    /// The step whose result `a` (or `b`) is; nil when the number comes from the problem text.
    public var aFrom: Int?
    public var bFrom: Int?

    public var line: String { "\(a) \(op.rawValue) \(b) = \(result)" }
}

public struct ArithProblem: Sendable, Hashable {
    public var seed: UInt64
    public var text: String
    public var steps: [ArithStep]
    public var answer: Int

    /// The reference solution: one step per line, then the answer line.
    public var solutionText: String { ArithTask.solutionText(steps) }
}

/// A solution with one deliberate mistake; the steps after it follow from the mistake, as a
/// person's would.
public struct FlawedArithSolution: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// The step's arithmetic is wrong.
        case wrongResult = "wrong-result"
        /// The step uses a wrong number in place of the one it should carry over.
        case wrongOperand = "wrong-operand"
        /// The step uses the wrong operation.
        case wrongOperation = "wrong-operation"
    }

    public var kind: Kind
    public var steps: [ArithStep]
    /// 0-based index of the wrong step.
    public var firstError: Int
    /// One sentence saying what is wrong, as a critique should.
    public var explanation: String
    public var answer: Int
    public var text: String { ArithTask.solutionText(steps) }
}

public enum ArithTask {
    public enum Split: String, Sendable, CaseIterable {
        case train, test

        /// Seeds of the two splits never meet: test seeds start at 2^40.
        public func seed(_ index: Int) -> UInt64 {
            switch self {
            case .train: return UInt64(index)
            case .test: return (1 << 40) + UInt64(index)
            }
        }
    }

    public static let source = "builtin:arith"

    public static func solutionText(_ steps: [ArithStep]) -> String {
        (steps.map(\.line) + ["The answer is \(steps.last?.result ?? 0)."]).joined(separator: "\n")
    }

    /// The problem set: `count` problems of one split, as an import would give them.
    public static func builtinSet(split: Split = .test, count: Int = 500) -> ImportedDataset {
        let problems = (0..<max(0, count)).map { i -> Problem in
            let p = generate(seed: split.seed(i))
            return Problem(id: "arith-\(split.rawValue)-\(i)", source: source, text: p.text,
                           referenceSolution: p.solutionText, referenceAnswer: String(p.answer), kind: .arith,
                           metadata: ["seed": String(p.seed), "steps": String(p.steps.count)])
        }
        return ImportedDataset(problems: problems)
    }

    // MARK: Generating a problem

    static let names: [(String, String)] = [
        ("Mia", "She"), ("Liam", "He"), ("Ava", "She"), ("Noah", "He"), ("Zoe", "She"), ("Omar", "He"),
        ("Lena", "She"), ("Ravi", "He"), ("Sara", "She"), ("Tom", "He"), ("Nina", "She"), ("Ken", "He"),
    ]
    static let items = ["apples", "stickers", "marbles", "coins", "cards", "pencils", "shells", "stamps",
                        "beads", "books", "cookies", "buttons"]
    static let maxValue = 999

    /// A problem of 2–5 steps, fully determined by `seed`.
    public static func generate(seed: UInt64) -> ArithProblem {
        var rng = SplitMix64(seed: seed ^ 0xA17B_0C3D_5E6F_7081)
        let (name, pronoun) = rng.pick(names)
        let item = rng.pick(items)
        let stepTarget = rng.int(in: 2...5)
        var current = rng.int(in: 12...99)
        var sentences = ["\(name) has \(current) \(item)."]
        var steps: [ArithStep] = []
        // The step whose result is the current count (nil: the count stated in the text).
        var currentFrom: Int? { steps.isEmpty ? nil : steps.count - 1 }

        while steps.count < stepTarget {
            let remaining = stepTarget - steps.count
            var choices: [Int] = [0, 1]            // gain, lose
            if remaining >= 2 { choices.append(2) } // packs: two steps
            if current * 2 <= maxValue { choices.append(3) }
            if (2...9).contains(where: { current % $0 == 0 && current / $0 >= 6 }) { choices.append(4) }
            switch rng.pick(choices) {
            case 0:
                let b = addend(to: current, rng: &rng)
                steps.append(ArithStep(a: current, op: .add, b: b, result: current + b, aFrom: currentFrom))
                sentences.append(rng.pick(["\(pronoun) gets \(b) more.", "\(pronoun) finds \(b) more \(item).",
                                           "A friend gives \(pronoun.lowercased() == "she" ? "her" : "him") \(b) more."]))
                current += b
            case 1:
                guard current > 20 else { continue }
                let b = subtrahend(from: current, rng: &rng)
                steps.append(ArithStep(a: current, op: .sub, b: b, result: current - b, aFrom: currentFrom))
                sentences.append(rng.pick(["\(pronoun) gives away \(b).", "\(pronoun) loses \(b) of them.",
                                           "\(pronoun) uses \(b) \(item)."]))
                current -= b
            case 2:
                let k = rng.int(in: 2...9), m = rng.int(in: 3...15)
                guard current + k * m <= maxValue else { continue }
                let from = currentFrom
                steps.append(ArithStep(a: k, op: .mul, b: m, result: k * m))
                steps.append(ArithStep(a: current, op: .add, b: k * m, result: current + k * m, aFrom: from, bFrom: steps.count - 1))
                sentences.append("\(pronoun) buys \(k) packs with \(m) \(item) in each.")
                current += k * m
            case 3:
                let ks = (2...5).filter { current * $0 <= maxValue }
                guard let k = ks.isEmpty ? nil : rng.pick(ks) else { continue }
                let word = [2: "doubles", 3: "triples", 4: "quadruples"][k] ?? "multiplies by \(k)"
                steps.append(ArithStep(a: current, op: .mul, b: k, result: current * k, aFrom: currentFrom))
                sentences.append(k <= 4 ? "Then \(pronoun.lowercased()) \(word) the number of \(item)."
                                        : "Then the number of \(item) becomes \(k) times as large.")
                current *= k
            default:
                let ks = (2...9).filter { current % $0 == 0 && current / $0 >= 6 }
                guard !ks.isEmpty else { continue }
                let k = rng.pick(ks)
                steps.append(ArithStep(a: current, op: .div, b: k, result: current / k, aFrom: currentFrom))
                sentences.append("\(pronoun) splits them equally into \(k) boxes and keeps one box.")
                current /= k
            }
        }
        sentences.append("How many \(item) does \(name) have now?")
        return ArithProblem(seed: seed, text: sentences.joined(separator: " "), steps: steps, answer: current)
    }

    /// A number to add that usually makes a carry in the ones place.
    static func addend(to a: Int, rng: inout SplitMix64) -> Int {
        let room = maxValue - a
        let upper = min(99, room)
        guard upper >= 11 else { return max(1, upper) }
        for _ in 0..<8 {
            let b = rng.int(in: 11...upper)
            if (a % 10) + (b % 10) >= 10 { return b }
        }
        return rng.int(in: 11...upper)
    }

    /// A number to subtract that usually needs a borrow in the ones place.
    static func subtrahend(from a: Int, rng: inout SplitMix64) -> Int {
        let upper = min(99, a - 5)
        for _ in 0..<8 {
            let b = rng.int(in: 11...upper)
            if (b % 10) > (a % 10) { return b }
        }
        return rng.int(in: 11...upper)
    }

    // MARK: Injecting a mistake

    /// The problem's solution with one mistake of `kind` at step `index`; the later steps carry
    /// the mistake forward. Nil when that mistake cannot be made there (e.g. a wrong operation
    /// that gives a negative or fractional number) or when it happens to reach the right answer.
    public static func injectError(into problem: ArithProblem, kind: FlawedArithSolution.Kind, at index: Int,
                                   rng: inout SplitMix64) -> FlawedArithSolution? {
        guard problem.steps.indices.contains(index) else { return nil }
        var steps = problem.steps
        var step = steps[index]
        let right = step
        let explanation: String
        switch kind {
        case .wrongResult:
            let deltas = [1, -1, 10, -10, 2, -2, 100, -100]
            let wrong = right.result + rng.pick(deltas)
            guard wrong >= 0, wrong != right.result else { return nil }
            step.result = wrong
            explanation = "Step \(index + 1) says \(right.a) \(right.op.rawValue) \(right.b) = \(wrong), but \(right.a) \(right.op.rawValue) \(right.b) = \(right.result)."
        case .wrongOperand:
            // Change an operand carried from an earlier step when there is one (the last such),
            // otherwise a number from the text.
            let useB = right.bFrom != nil || (right.aFrom == nil && rng.int(in: 0...1) == 1)
            let original = useB ? right.b : right.a
            let from = useB ? right.bFrom : right.aFrom
            let candidates = [original + 10, original - 10, original + 1, original - 1, swapDigits(original)]
                .compactMap { $0 }.filter { $0 > 0 && $0 != original }
            guard !candidates.isEmpty else { return nil }
            let wrong = rng.pick(candidates)
            if useB { step.b = wrong } else { step.a = wrong }
            guard let r = step.op.apply(step.a, step.b), r >= 0 else { return nil }
            step.result = r
            let whence = from.map { " (the result of step \($0 + 1))" } ?? " (from the problem)"
            explanation = "Step \(index + 1) uses \(wrong) where it should use \(original)\(whence)."
        case .wrongOperation:
            let swaps: [ArithOp: [ArithOp]] = [.add: [.sub, .mul], .sub: [.add], .mul: [.add], .div: [.mul, .sub]]
            guard let options = swaps[right.op] else { return nil }
            let op = rng.pick(options)
            guard let r = op.apply(right.a, right.b), r >= 0, r <= 99_999 else { return nil }
            step.op = op
            step.result = r
            explanation = "Step \(index + 1) \(op.verb) where it should use \(right.op.rawValue): \(right.a) \(right.op.rawValue) \(right.b) = \(right.result)."
        }
        steps[index] = step
        // Carry the mistake forward through the later steps.
        for j in (index + 1)..<steps.count {
            var s = steps[j]
            if let f = s.aFrom { s.a = steps[f].result }
            if let f = s.bFrom { s.b = steps[f].result }
            guard let r = s.op.apply(s.a, s.b), r >= 0 else { return nil }
            s.result = r
            steps[j] = s
        }
        let answer = steps.last?.result ?? 0
        guard answer != problem.answer else { return nil }
        return FlawedArithSolution(kind: kind, steps: steps, firstError: index, explanation: explanation, answer: answer)
    }

    static func swapDigits(_ n: Int) -> Int? {
        let s = String(n)
        guard s.count >= 2 else { return nil }
        var chars = Array(s)
        chars.swapAt(chars.count - 1, chars.count - 2)
        guard chars.first != "0", let v = Int(String(chars)), v != n else { return nil }
        return v
    }
}

// MARK: Checking a written solution

extension ArithTask {
    /// The generated problem behind a `builtin:arith` problem (from the seed it records), so a
    /// written solution can be checked step by step; nil for any other problem.
    public static func generated(_ problem: Problem) -> ArithProblem? {
        guard problem.kind == .arith, problem.source == source,
              let text = problem.metadata["seed"], let seed = UInt64(text) else { return nil }
        let generated = generate(seed: seed)
        return generated.text == problem.text ? generated : nil
    }

    /// Where a written solution first goes wrong: the 0-based index of the first of `steps`
    /// that is not what the reference has at that point (an operation line must use the same
    /// numbers and operation — either order for + and * — and state the right result; after
    /// the last operation comes `The answer is N.`), or nil when every step is right. A
    /// solution that stops early is wrong at its first missing step's place; one that goes on
    /// after a right answer line is wrong at the first extra step. This is the ground truth the
    /// report scores a critique's named step against (`--labels builtin:arith`).
    public static func firstWrongStep(_ steps: [String], problem: ArithProblem) -> Int? {
        for (i, expected) in problem.steps.enumerated() {
            guard i < steps.count, let written = parseStep(steps[i]), matches(written, expected) else { return i }
        }
        let last = problem.steps.count
        guard last < steps.count, answerLine(steps[last]) == problem.answer else { return last }
        return steps.count > last + 1 ? last + 1 : nil
    }

    /// `a op b = c` (spaces optional, `×`/`x` for *, `÷` for /), nil for anything else.
    static func parseStep(_ line: String) -> ArithStep? {
        let text = line.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, let c = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
        let lhs = parts[0].trimmingCharacters(in: .whitespaces)
        for (symbol, op) in [("+", ArithOp.add), ("*", .mul), ("×", .mul), ("x", .mul), ("/", .div), ("÷", .div), ("-", .sub)] {
            let operands = lhs.components(separatedBy: symbol)
            guard operands.count == 2,
                  let a = Int(operands[0].trimmingCharacters(in: .whitespaces)),
                  let b = Int(operands[1].trimmingCharacters(in: .whitespaces)) else { continue }
            return ArithStep(a: a, op: op, b: b, result: c)
        }
        return nil
    }

    static func matches(_ written: ArithStep, _ expected: ArithStep) -> Bool {
        guard written.op == expected.op, written.result == expected.result else { return false }
        if written.a == expected.a && written.b == expected.b { return true }
        let commutes = expected.op == .add || expected.op == .mul
        return commutes && written.a == expected.b && written.b == expected.a
    }

    /// N of `The answer is N.`
    static func answerLine(_ line: String) -> Int? {
        let text = line.trimmingCharacters(in: .whitespaces).lowercased()
        guard text.hasPrefix("the answer is ") else { return nil }
        var number = String(text.dropFirst("the answer is ".count))
        while number.hasSuffix(".") { number.removeLast() }
        return Int(number.trimmingCharacters(in: .whitespaces))
    }
}
