import Inference

extension Arguments {
    /// `--threads N` and `--quantize q8_0`, as every command that loads a model takes them.
    func modelLoadOptions() throws -> ModelLoadOptions {
        var options = ModelLoadOptions(threads: try int("threads"))
        switch value("quantize") {
        case nil: break
        case "q8_0"?, "Q8_0"?: options.quantize = .q8_0
        case let other?: throw CLIError.usage("--quantize supports q8_0, not '\(other)'", command: command)
        }
        return options
    }
}
