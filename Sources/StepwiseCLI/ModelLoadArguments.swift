import Inference

extension Arguments {
    /// `--device`, `--threads N` and `--quantize q8_0`, as every command that loads a model
    /// takes them.
    func modelLoadOptions() throws -> ModelLoadOptions {
        var options = ModelLoadOptions(device: try device(), threads: try int("threads"))
        switch value("quantize") {
        case nil: break
        case "q8_0"?, "Q8_0"?: options.quantize = .q8_0
        case let other?: throw CLIError.usage("--quantize supports q8_0, not '\(other)'", command: command)
        }
        return options
    }

    /// `--device auto|cpu|cuda|opencl` (default auto: CUDA when usable, else the CPU).
    func device() throws -> ModelLoadOptions.Device {
        guard let text = value("device") else { return .auto }
        guard let device = ModelLoadOptions.Device(rawValue: text.lowercased()) else {
            throw CLIError.usage("--device takes auto, cpu, cuda or opencl, not '\(text)'", command: command)
        }
        return device
    }

}
