import Foundation

/// The model Stepwise trains and ships itself (Models/arith-llama-2.5m, made by
/// scripts/demo-model), and the live run that `stepwise` with no arguments starts with it, so a
/// first look shows the whole loop — sampling, verification blind and shown the reference,
/// refinement — on `builtin:arith` without any download.
enum DemoModel {
    static let folderName = "arith-llama-2.5m"

    /// The model folder: under Models/ of the current directory (`swift run` in a checkout), or
    /// of a folder above the executable (`.build/debug/stepwise` run from elsewhere); nil when
    /// neither has it, as for a binary installed away from its checkout.
    static func locate() -> URL? {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            var dir = exe.deletingLastPathComponent()
            for _ in 0..<5 {
                candidates.append(dir)
                dir = dir.deletingLastPathComponent()
            }
        }
        return locate(in: candidates)
    }

    /// The model folder under `Models/` of the first of `roots` that has it.
    static func locate(in roots: [URL]) -> URL? {
        for root in roots {
            let folder = root.appendingPathComponent("Models").appendingPathComponent(folderName)
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) {
                return folder
            }
        }
        return nil
    }

    /// The options of the default live run (as `stepwise tui` takes them): 8 samples per
    /// problem, the step critique, CoT-Score and MC verifiers each blind and shown the
    /// reference, and up to 3 rounds of refinement driven by the blind critique — the model
    /// checking itself — journaled to a new session under Sessions/, every problem queued to
    /// run at once (`--autorun`).
    static func liveArguments(model: URL) -> [String] {
        ["--model", model.path, "--dataset", "builtin:arith",
         "--samples", "8", "--rounds", "3",
         "--verifiers", "critique,cot-score,mc", "--informed", "--refine-with", "critique",
         "--temperature", String(temperature), "--max-tokens", "200",
         "--out", SessionFiles.freshPath(stem: "demo-arith").path, "--autorun"]
    }

    /// The sampling temperature of first attempts the demo's figures were measured at.
    static let temperature = 0.7
}
