// swift-tools-version:6.0
// Stepwise: a terminal workbench for studying how a language model checks and repairs its own
// reasoning. No Swift package dependencies: C libraries come in through system-library targets.
import PackageDescription

let package = Package(
    name: "Stepwise",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stepwise", targets: ["stepwise"]),
    ],
    targets: [
        // ncursesw, with a shim that turns its macros into functions Swift can call.
        .systemLibrary(name: "CNcurses", path: "Sources/CNcurses", providers: [.apt(["libncurses-dev"])]),
        // Hot numeric loops (quantized dot products, matrix products) in C, dispatched at run
        // time on the CPU's features.
        .target(
            name: "CKernels",
            path: "Sources/CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        // Problems, solutions, steps, critiques, annotations; grading; dataset readers.
        .target(name: "Reasoning"),
        // Model file formats: GGUF, safetensors, Hugging Face configs.
        .target(name: "ModelFormats"),
        // Tokenizers (byte-level BPE, SentencePiece BPE) and prompt/chat formats.
        .target(name: "Tokenizers", dependencies: ["ModelFormats"]),
        // The in-process inference engine: model, backends, KV cache, sampler, scheduler.
        .target(name: "Inference", dependencies: ["ModelFormats", "Tokenizers", "CKernels"]),
        // The session journal: events, append-only writer, torn-line-tolerant reader, replay.
        .target(name: "Journal", dependencies: ["Reasoning"]),
        // Prompts, verifiers, the refinement loop, and the metrics of the generation-verification gap.
        .target(name: "Verification", dependencies: ["Reasoning", "Journal", "Inference", "Tokenizers"]),
        // The loop's engine on an OpenAI-compatible HTTP server (vLLM, SGLang, llama.cpp server).
        .target(name: "Endpoint", dependencies: ["Verification", "Inference", "Tokenizers"]),
        // The ncurses workbench: reducer, cell grid, themes, backend.
        .target(name: "Terminal", dependencies: ["CNcurses", "Reasoning", "Journal", "Verification"]),
        // The command line: argument parsing and subcommands, as a library so tests can call it.
        .target(
            name: "StepwiseCLI",
            dependencies: ["Reasoning", "Journal", "Verification", "Inference", "ModelFormats", "Tokenizers", "Terminal", "Endpoint"]
        ),
        .executableTarget(name: "stepwise", dependencies: ["StepwiseCLI"]),

        .testTarget(name: "ReasoningTests", dependencies: ["Reasoning"], exclude: ["Fixtures"]),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "Reasoning"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "Journal", "Reasoning"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFormats"], exclude: ["Fixtures"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "ModelFormats", "Tokenizers"], exclude: ["Fixtures"]),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal", "Journal", "Reasoning"], exclude: ["Snapshots"]),
        .testTarget(name: "StepwiseCLITests", dependencies: ["StepwiseCLI", "Reasoning", "Journal"]),
        .testTarget(name: "EndpointTests", dependencies: ["Endpoint", "StepwiseCLI", "Verification", "Inference", "Journal", "Reasoning"],
                    exclude: ["Fixtures"]),
    ]
)
