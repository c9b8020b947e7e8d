import Foundation
import Reasoning
import Verification

/// `stepwise arith-data`: the demo model's training data, from the one generator of the task.
enum ArithDataCommand {
    static let command = Command(
        name: "arith-data",
        summary: "write builtin:arith training examples (solve, verify, compare, refine) as JSON lines",
        help: """
        Usage: stepwise arith-data --out FILE [--split train|test] [--count N] [--start K] [--seed S] [--prompts DIR]

        Writes one JSON object per line, {task, informed, prompt, completion[, attempt_correct]},
        for problems K..<K+N of the split: a solution; a verification of a correct and of a
        flawed attempt (one injected mistake) in the loop's own prompt formats, blind or shown
        the reference; a pairwise comparison; and a rewrite of the flawed attempt from its
        critique. The demo model's trainer (scripts/demo-model) reads this file.

        Options:
          --out FILE       where to write
          --split NAME     train (default) or test
          --count N        problems (default 1000)
          --start K        first problem index (default 0)
          --seed S         seed of the choices of mistakes and formats (default 0)
          --prompts DIR    prompt templates to write the examples with (NAME.txt files
                           replacing the built-in ones, as `run --prompts` takes them; the demo
                           model's are in Models/arith-llama-2.5m/prompts)
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let args = try Arguments(argv, command: "arith-data", valued: ["out", "split", "count", "start", "seed", "prompts"])
        try args.expectPositionals(atMost: 0)
        guard let out = args.value("out") else { throw CLIError.usage("missing --out FILE", command: "arith-data") }
        let splitName = args.value("split") ?? "train"
        guard let split = ArithTask.Split(rawValue: splitName) else {
            throw CLIError.usage("--split must be train or test, not '\(splitName)'", command: "arith-data")
        }
        let count = try args.int("count") ?? 1000
        let start = try args.int("start") ?? 0
        guard count >= 0, start >= 0 else { throw CLIError.usage("--count and --start must be ≥ 0", command: "arith-data") }
        let seed = UInt64(try args.int("seed") ?? 0)
        let prompts = try readingInput { try PromptSet.load(overridesIn: args.value("prompts").map { URL(fileURLWithPath: $0) }) }

        guard FileManager.default.createFile(atPath: out, contents: nil),
              let handle = FileHandle(forWritingAtPath: out) else {
            throw CLIError.failure("\(out): cannot create file")
        }
        defer { try? handle.close() }
        var written = 0
        var buffer = Data()
        for index in start..<(start + count) {
            for example in try ArithTrainingData.examples(split: split, index: index, seed: seed, prompts: prompts) {
                buffer += try JSONSerialization.data(withJSONObject: example.jsonObject, options: [.sortedKeys, .withoutEscapingSlashes])
                buffer.append(0x0A)
                written += 1
            }
            if buffer.count > 1 << 20 {
                handle.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(buffer)
        console.err("wrote \(written) examples from \(count) \(split.rawValue) problems to \(out)")
        return 0
    }
}
