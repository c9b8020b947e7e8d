import Endpoint
import Foundation
import Inference
import Journal
import Reasoning
import Tokenizers
import Verification

/// `stepwise run`: the verification–refinement loop, headless, journaled, resumable.
enum RunCommand {
    static let command = Command(
        name: "run",
        summary: "sample, verify and refine on a dataset with a local model (journaled, resumable)",
        help: """
        Usage: stepwise run (--model PATH | --endpoint URL --served-model NAME [--concurrency N] [--chat])
                            --dataset FILE|builtin:sudoku4|builtin:arith [--format F] [--problems 0..99]
                            [--samples N] [--rounds R] [--verifiers mc,cot-binary,cot-score,tournament,critique]
                            [--informed] [--refine-with critique] [--both-orders] [--seed S]
                            [--temperature T] [--top-p P] [--max-tokens M] [--prompts DIR]
                            [--template chatml|llama3|llama2|mistral|raw] [--out Sessions/NAME.jsonl]
                            [--parallel K] [--batch N] [--context N] [--device D] [--threads N]

        For each problem: samples N first attempts, runs the verifiers on them (blind, and shown
        the reference with --informed), then rewrites every attempt the refinement verifier does
        not accept from that verifier's critique, for up to R rounds; an attempt stops when it
        is accepted, at the round limit, or when its rewrite repeats it. Every finished sample,
        critique, comparison and round goes to the session journal as it completes; the report
        is printed at the end.

        Rerunning with the same --out resumes: what the journal holds is not recomputed.
        Ctrl-C stops after the current step (a second Ctrl-C cancels it); the journal stays
        whole and the exit code is 130.

        Options:
          --model PATH         a .gguf file or a Hugging Face folder
        \(EndpointArguments.help)
          --dataset D          a dataset file, or builtin:sudoku4, builtin:arith (500 held-out
                               problems), builtin:arith-train
          --format F           the file's format: gsm8k (default), math, gsm8k-solutions,
                               big-bench-mistake, processbench, prm800k (problems only are used)
          --problems LIST      which problems, by 0-based position: 0..99 (inclusive), 5..<10, 3,7,9
                               (default: all)
          --samples N          first attempts per problem (default 4)
          --rounds R           refinement rounds after the first attempts (default 1)
          --verifiers LIST     any of mc, cot-binary, cot-score, tournament, critique (default critique)
          --informed           also run each verifier shown the reference solution
          --refine-with V      the verifier that accepts attempts and critiques the rest
                               (default critique; V/informed uses the informed one)
          --both-orders        compare every tournament pair in both orders (position bias)
          --seed S             base seed; every sample's seed derives from it (default 0)
          --temperature T      sampling temperature of attempts (default 0.7; verifiers are greedy)
          --top-p P            nucleus sampling of attempts (default 1 = off)
          --max-tokens M       tokens per attempt and per verifier answer at most (default 256)
          --prompts DIR        prompt templates NAME.txt that replace the built-in ones
                               (default: the model folder's own prompts/, when it has one)
          --template NAME      chat layout; default: the model's own template, raw when it has none
          --out FILE           the session journal (default: a new file under Sessions/)
          --context N          context length (default: the model's, at most 4096)
          --batch N            sequences decoded together at most (default 16, at least N samples)
          --parallel K         work on K problems at once, so their requests share the engine's
                               batch (default 1)
          --device D           auto (CUDA when usable, else the CPU), cpu, cuda, opencl
          --threads N          CPU threads (default: all cores)

        Exit codes: 0 done, 1 runtime failure (some requests failed), 2 bad input, 130 stopped.
        """,
        run: run
    )

    /// Everything `run` needs, read and checked from the command line before anything heavy.
    struct Plan {
        /// The model file, or the served model's name with `endpoint`.
        var modelPath: String
        /// The server to run on instead of a local model.
        var endpoint: EndpointOptions?
        var datasetName: String
        var problems: [Problem]
        var configuration: LoopConfiguration
        var prompts: PromptSet
        var template: String?
        var out: URL
        var context: Int?
        var batch: Int?
        var threads: Int?
        var device: ModelLoadOptions.Device
        var parallel: Int
    }

    static func run(_ argv: [String]) throws -> Int32 {
        let plan = try makePlan(argv)
        let (engine, template) = try startEngine(plan)
        // Refused before the journal is touched: a server that cannot score continuations.
        if let e = engine as? EndpointLoopEngine, let why = e.scoringUnavailable,
           plan.configuration.attemptVerifiers.contains(where: { $0.kind == .mc }) {
            throw CLIError.badInput("the mc verifier needs the log-probabilities of given continuations: \(e.summary) cannot give them: \(why)")
        }
        let (writer, contents) = try openJournal(plan, template: template)
        if !contents.events.isEmpty {
            console.out("resuming \(plan.out.path): \(contents.events.count) events already journaled")
        }

        let progress = ProgressDisplay(interactive: isatty(STDOUT_FILENO) == 1)
        let prompts = LoopPrompts(set: plan.prompts, chat: engine.usesChat)
        let state = SessionState(contents)
        let loops: [RefinementLoop]
        do {
            loops = try (0..<plan.parallel).map { _ in
                try RefinementLoop(engine: engine, prompts: prompts, configuration: plan.configuration, journal: writer,
                                   state: state, observer: { progress.show($0) })
            }
        } catch let e as LoopError {
            throw CLIError.badInput(e.description)
        }
        let group = LoopGroup(loops)
        let interrupt = InterruptHandler(
            first: {
                progress.note("stopping after the current step (Ctrl-C again to cancel it)")
                group.requestStop()
            },
            again: {
                progress.note("cancelling the current step")
                group.cancelNow()
            })
        defer { interrupt.restore() }

        console.out("model: \(engine.summary)\(engine.usesChat ? " (chat: \(template?.format.rawValue ?? ""))" : " (raw prompts)")")
        console.out("dataset: \(plan.datasetName), \(plan.problems.count) problems; session: \(plan.out.path)")
        let summary: LoopSummary
        do {
            summary = try group.run(problems: plan.problems)
        } catch let e as LoopError {
            progress.finish()
            try? writer.flush()
            let resume = plan.endpoint == nil ? "" : "; what finished is journaled: rerun the same command to resume"
            throw CLIError.failure(e.description + resume)
        }
        progress.finish()
        try? writer.flush()

        // The report of everything the journal now holds (all loops' work, earlier runs' too).
        let final = try readingInput { SessionState(try JournalReader.read(plan.out)) }
        let input = MetricsInput(session: final)
        let report = Metrics.report(input, options: MetricsOptions(labelSource: MetricsOptions.defaultLabelSource(input)))
        console.out(report.renderTable())
        if let line = EndpointArguments.statisticsLine(engine) { console.out(line) }
        if !summary.finished {
            console.out("stopped after \(summary.problemsDone) of \(plan.problems.count) problems; rerun the same command to resume")
            return 130
        }
        if summary.failures > 0 {
            console.err("stepwise: \(summary.failures) requests failed (see the warnings above)")
            return 1
        }
        console.out("session: \(plan.out.path)")
        return 0
    }

    // MARK: Engine and journal (shared with the live workbench)

    /// Loads the model, picks its chat layout (`--template`, else the model's own, else raw)
    /// and starts the engine.
    static func startEngine(_ plan: Plan, onEvent: (@Sendable () -> Void)? = nil) throws -> (any LoopEngine, ChatTemplate?) {
        if let endpoint = plan.endpoint {
            // The server formats chat itself with --chat; else --template lays conversations out here.
            let template = try plan.template.map { name in ChatTemplate(format: try readingInput { try ChatFormat.named(name) }) }
            return (try EndpointArguments.connect(endpoint, template: endpoint.api == .chat ? nil : template), template)
        }
        let model = try readingInput {
            try LoadedModel.load(path: plan.modelPath, options: ModelLoadOptions(device: plan.device, threads: plan.threads))
        }
        for warning in model.warnings { console.err("stepwise: warning: \(warning)") }
        let template: ChatTemplate?
        if let name = plan.template {
            template = ChatTemplate(format: try readingInput { try ChatFormat.named(name) })
        } else if let own = model.file.chatTemplate {
            template = try readingInput {
                do { return try ChatTemplate.detect(template: own) } catch { throw CLIError.badInput("\(plan.modelPath): \(oneLine(error))") }
            }
        } else {
            template = nil
        }
        let options = EngineOptions(contextLength: plan.context, maxSequences: max(plan.batch ?? 16, plan.configuration.samples))
        let engine = try readingInput { try InProcessLoopEngine(model: model, options: options, template: template, onEvent: onEvent) }
        return (engine, template)
    }

    /// The session journal: created, or opened to resume (refused when it ran on another
    /// dataset; a warning when the settings differ).
    static func openJournal(_ plan: Plan, template: ChatTemplate?) throws -> (JournalWriter, JournalContents) {
        let header = JournalHeader(model: plan.modelPath, backend: plan.endpoint.map { "endpoint \($0.baseURL.absoluteString)" } ?? "in-process",
                                   dataset: plan.datasetName,
                                   settings: plan.configuration.settings.merging(
                                       ["template": template?.format.rawValue ?? "raw"]) { a, _ in a })
        let (writer, contents) = try readingInput { try JournalWriter.openOrCreate(at: plan.out, header: header) }
        for w in contents.warnings { console.err("stepwise: warning: \(w)") }
        if !contents.events.isEmpty {
            if let d = contents.header.dataset, d != plan.datasetName {
                throw CLIError.badInput("\(plan.out.path): this session ran on \(d), not \(plan.datasetName); give another --out")
            }
            let changed = header.settings.keys.sorted().filter { contents.header.settings[$0] != nil && contents.header.settings[$0] != header.settings[$0] }
            if !changed.isEmpty {
                console.err("stepwise: warning: resuming \(plan.out.path) with different settings (\(changed.joined(separator: ", "))); finished work is kept as it is")
            }
        }
        return (writer, contents)
    }

    // MARK: Arguments

    static func makePlan(_ argv: [String]) throws -> Plan {
        let name = "run"
        let args = try Arguments(argv, command: name,
                                 valued: Set(["model", "dataset", "format", "problems", "samples", "rounds", "verifiers",
                                          "refine-with", "seed", "temperature", "top-p", "max-tokens", "prompts",
                                          "template", "out", "context", "batch", "threads", "parallel", "device"]).union(EndpointArguments.valued),
                                 flags: Set(["informed", "both-orders"]).union(EndpointArguments.flags))
        try args.expectPositionals(atMost: 0)
        let endpoint = try EndpointArguments.options(args, command: name)
        guard let modelPath = endpoint?.servedModel ?? args.value("model") else {
            throw CLIError.usage("missing --model PATH (or --endpoint URL --served-model NAME)", command: name)
        }
        guard let datasetArg = args.value("dataset") else { throw CLIError.usage("missing --dataset FILE|builtin:sudoku4|builtin:arith", command: name) }

        var config = LoopConfiguration()
        config.samples = try args.int("samples") ?? 4
        config.rounds = try args.int("rounds") ?? 1
        let verifierNames = args.list("verifiers")
        if !verifierNames.isEmpty {
            config.verifiers = try verifierNames.map { v in
                guard let kind = VerifierKind(rawValue: v) else {
                    throw CLIError.usage("unknown verifier '\(v)'; use \(VerifierKind.allCases.map(\.rawValue).joined(separator: ","))", command: name)
                }
                return kind
            }
            var seen = Set<VerifierKind>()
            config.verifiers = config.verifiers.filter { seen.insert($0).inserted }
        }
        config.informed = args.flag("informed")
        config.tournamentBothOrders = args.flag("both-orders")
        if let r = args.value("refine-with") {
            guard let v = VerifierID(parsing: r) else { throw CLIError.usage("unknown verifier '\(r)' in --refine-with", command: name) }
            config.refineWith = v
        }
        if let seed = args.value("seed") {
            guard let s = UInt64(seed) else { throw CLIError.usage("--seed needs a whole number ≥ 0, got '\(seed)'", command: name) }
            config.seed = s
        }
        config.sampling.temperature = try args.double("temperature") ?? config.sampling.temperature
        config.sampling.topP = try args.double("top-p") ?? config.sampling.topP
        if let m = try args.int("max-tokens") {
            config.sampling.maxTokens = m
            config.verifierSampling.maxTokens = m
        }
        if let problem = config.problem() { throw CLIError.usage(problem, command: name) }
        if let b = try args.int("batch"), b < 1 { throw CLIError.usage("--batch must be ≥ 1", command: name) }
        let parallel = try args.int("parallel") ?? 1
        guard (1...16).contains(parallel) else { throw CLIError.usage("--parallel must be in 1...16", command: name) }

        // The problems.
        let dataset: ImportedDataset
        if datasetArg.hasPrefix("builtin:") {
            switch datasetArg {
            case "builtin:sudoku4": dataset = Sudoku4.builtinSet()
            case "builtin:arith": dataset = ArithTask.builtinSet(split: .test)
            case "builtin:arith-train": dataset = ArithTask.builtinSet(split: .train)
            default:
                throw CLIError.badInput("\(datasetArg): unknown built-in set; known: builtin:sudoku4, builtin:arith, builtin:arith-train")
            }
        } else {
            let formatName = args.value("format") ?? "gsm8k"
            guard let format = DatasetFormat(rawValue: formatName) else {
                throw CLIError.usage("unknown format '\(formatName)'; use one of: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))", command: name)
            }
            let url = URL(fileURLWithPath: datasetArg)
            guard FileManager.default.fileExists(atPath: url.path) else { throw CLIError.badInput("\(datasetArg): no such file") }
            dataset = try readingInput { try DatasetReader.read(format: format, url: url) }
            if !dataset.issues.isEmpty {
                console.err("stepwise: warning: \(datasetArg): \(dataset.issues.count) records skipped; first: \(dataset.issues[0].description)")
            }
        }
        var problems = dataset.problems
        if let spec = args.value("problems") {
            let picked = try selection(spec, count: problems.count)
            problems = picked.map { problems[$0] }
        }
        if problems.isEmpty { throw CLIError.badInput("\(datasetArg): no problems selected") }
        if config.informed, !problems.contains(where: { LoopPrompts.reference($0) != nil }) {
            console.err("stepwise: warning: \(datasetArg): no problem has a reference solution; informed verifiers will not run")
        }

        // A model folder may carry the prompts it was trained on (`prompts/`, as the demo model
        // does); --prompts wins over them.
        let promptFolder = args.value("prompts") ?? (endpoint == nil ? modelPrompts(modelPath) : nil)
        let prompts: PromptSet = try readingInput {
            try PromptSet.load(overridesIn: promptFolder.map { URL(fileURLWithPath: $0) })
        }
        if let t = args.value("template") { _ = try readingInput { try ChatFormat.named(t) } }

        let out: URL
        if let o = args.value("out") {
            out = URL(fileURLWithPath: o)
        } else {
            let stem = datasetArg.hasPrefix("builtin:") ? String(datasetArg.dropFirst("builtin:".count))
                : URL(fileURLWithPath: datasetArg).deletingPathExtension().lastPathComponent
            out = SessionFiles.freshPath(stem: "run-\(stem)")
        }
        return Plan(modelPath: modelPath, endpoint: endpoint, datasetName: datasetArg, problems: problems, configuration: config,
                    prompts: prompts, template: args.value("template"), out: out, context: try args.int("context"),
                    batch: try args.int("batch"), threads: try args.int("threads"), device: try args.device(), parallel: parallel)
    }

    /// The `prompts/` folder inside a model folder, when there is one.
    static func modelPrompts(_ modelPath: String) -> String? {
        let folder = URL(fileURLWithPath: modelPath).appendingPathComponent("prompts")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return folder.path
    }

    /// `0..99` (both ends included), `5..<10`, `7`, or a comma list of those; 0-based positions
    /// in the dataset, kept in the order given, duplicates dropped.
    static func selection(_ spec: String, count: Int) throws -> [Int] {
        var result: [Int] = []
        var seen = Set<Int>()
        for part in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let range: ClosedRange<Int>
            if let r = part.range(of: "..<") {
                guard let a = Int(part[..<r.lowerBound]), let b = Int(part[r.upperBound...]), a < b else {
                    throw CLIError.usage("--problems: cannot read '\(part)'", command: "run")
                }
                range = a...(b - 1)
            } else if let r = part.range(of: "..") {
                guard let a = Int(part[..<r.lowerBound]), let b = Int(part[r.upperBound...]), a <= b else {
                    throw CLIError.usage("--problems: cannot read '\(part)'", command: "run")
                }
                range = a...b
            } else {
                guard let a = Int(part) else { throw CLIError.usage("--problems: cannot read '\(part)'", command: "run") }
                range = a...a
            }
            guard range.lowerBound >= 0, range.upperBound < count else {
                throw CLIError.usage("--problems \(part): the dataset has problems 0..\(count - 1)", command: "run")
            }
            for i in range where seen.insert(i).inserted { result.append(i) }
        }
        return result
    }
}

/// Progress on standard output: a bar redrawn in place on a terminal, one line per step when
/// the output is a file or a pipe. Warnings go to standard error.
final class ProgressDisplay: @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var last = ""
    private var drawn = false
    private var tokens = 0

    init(interactive: Bool) {
        self.interactive = interactive
    }

    func show(_ event: LoopEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .progress(let p):
            let line = "problem \(p.problemIndex + 1)/\(p.problemCount) \(p.problemID): "
                + (p.phase == .done ? "done" : "round \(p.round) \(p.phase.rawValue)")
            if interactive {
                last = line
                redraw(fraction: p.fraction)
            } else if line != last {
                last = line
                console.out(line)
            }
        case .token:
            tokens += 1
            if interactive && tokens % 16 == 0 { redraw(fraction: nil) }
        case .warning(let message):
            clearLine()
            console.err("stepwise: warning: \(message)")
        case .session, .sampleStarted, .sampleEnded:
            break
        }
    }

    func note(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        clearLine()
        console.err("stepwise: \(message)")
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        clearLine()
    }

    private var fraction = 0.0

    private func redraw(fraction f: Double?) {
        if let f { fraction = f }
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let spinner = ["|", "/", "-", "\\"][(tokens / 16) % 4]
        let text = "\r[\(bar)] \(String(format: "%3.0f%%", fraction * 100)) \(spinner) \(last)"
        FileHandle.standardOutput.write(Data((text + "\u{1B}[K").utf8))
        drawn = true
    }

    private func clearLine() {
        if interactive && drawn {
            FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
            drawn = false
        }
    }
}

/// Ctrl-C handling for a run: the first SIGINT asks the loop to stop after its current step,
/// a second cancels that step. The default action comes back when the run ends.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private var count = 0

    init(first: @escaping @Sendable () -> Void, again: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "stepwise-sigint"))
        source.setEventHandler { [unowned self] in
            self.count += 1
            if self.count == 1 { first() } else { again() }
        }
        source.resume()
    }

    func restore() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
