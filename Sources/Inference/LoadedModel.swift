import Foundation
import ModelFormats

/// What the engine needs from a tokenizer: text in, text out a token at a time.
protocol TextCodec: Sendable {
    func encode(_ text: String, addBOS: Bool) throws -> [Int32]
    /// The text of one token on its own (for logprob listings; may show replacement
    /// characters for a token that is part of a multi-byte character).
    func tokenText(_ token: Int32) -> String
    func makeStreamDecoder() -> any StreamingTextDecoder
    /// Tokens that end a generation (EOS, end-of-turn).
    var endOfGeneration: Set<Int32> { get }
}

/// Turns tokens into text incrementally, holding back bytes of an unfinished UTF-8 character.
protocol StreamingTextDecoder {
    mutating func push(_ token: Int32) -> String
    /// Whatever is still held back (invalid trailing bytes become U+FFFD).
    mutating func finish() -> String
}

/// How to load a model.
public struct ModelLoadOptions: Sendable {
    /// Where the weights and the forward pass live (`--device`); see BackendSelection.
    public enum Device: String, Sendable, CaseIterable {
        /// CUDA when usable, else the CPU (never an OpenCL device).
        case auto
        case cpu, cuda
        /// Any OpenCL device, a CPU one included (PoCL runs the GPU kernels in CI).
        case opencl
    }
    public var device: Device
    /// Convert F32/F16/BF16 weight matrices at load (only `.q8_0` is supported).
    public var quantize: WeightFormat?
    /// CPU worker threads (nil: all cores).
    public var threads: Int?
    /// Rows one step may carry, and rows whose logits one step may return (sizes the scratch).
    public var maxStepTokens: Int
    public var maxLogitRows: Int

    public init(device: Device = .cpu, quantize: WeightFormat? = nil, threads: Int? = nil,
                maxStepTokens: Int = 512, maxLogitRows: Int = 64) {
        self.device = device
        self.quantize = quantize
        self.threads = threads
        self.maxStepTokens = maxStepTokens
        self.maxLogitRows = maxLogitRows
    }
}

/// A model ready to run: weights in a backend, its configuration and its tokenizer.
public final class LoadedModel: @unchecked Sendable {
    public let path: String
    public let file: ModelFile
    public var config: ModelConfig { file.config }
    let backend: InferenceBackend
    /// Things the user should know about how the model was loaded (e.g. `--device auto` fell
    /// back to the CPU because CUDA was unusable), one line each.
    public let warnings: [String]
    /// The backend's one-line description, e.g. "cpu (2 threads, avx2)".
    public var backendDescription: String { backend.description }
    let network: LlamaModel
    let codec: any TextCodec
    /// The backend and the model's scratch buffers serve one engine at a time.
    private let attachment = NSLock()
    private var attached = false

    /// Claims the model for an engine; false when another engine holds it.
    func attachEngine() -> Bool {
        attachment.lock()
        defer { attachment.unlock() }
        if attached { return false }
        attached = true
        return true
    }

    func detachEngine() {
        attachment.lock()
        attached = false
        attachment.unlock()
    }

    /// Opens a GGUF file or Hugging Face folder and uploads its weights. Errors are one line
    /// naming the file (`ModelFormatError` or `InferenceError`).
    public static func load(path: String, options: ModelLoadOptions = ModelLoadOptions()) throws -> LoadedModel {
        let file = try ModelFile.open(path: path)
        try file.checkComputeTypes()
        if let q = options.quantize, q != .q8_0 {
            throw InferenceError("\(path): --quantize supports q8_0 only, not \(q)")
        }
        let codec = try makeCodec(file)
        let weightBytes = file.tensors.reduce(0) { $0 + $1.data.count }
        let (backend, warnings) = try BackendSelection.make(options, path: path, weightBytes: weightBytes)
        let factors: [Float]?
        if let t = file.tensor("rope_freqs.weight") {
            factors = try LoadedModel.floats(t, file: path)
        } else {
            factors = nil
        }
        let network = try LlamaModel(
            config: file.config, backend: backend, maxRows: options.maxStepTokens, maxLogitRows: options.maxLogitRows,
            ropeFrequencyFactors: factors, quantizeTo: options.quantize,
            tensor: { name in
                guard let t = file.tensor(name) else { return nil }
                guard let format = WeightFormat(rawValue: t.type.rawValue) else {
                    throw InferenceError("\(path): tensor \(name) has unsupported type \(t.type)")
                }
                return WeightTensor(name: name, format: format, rows: t.rows, columns: t.columns, bytes: t.data, owner: file)
            },
            file: path)
        return LoadedModel(path: path, file: file, backend: backend, network: network, codec: codec, warnings: warnings)
    }

    init(path: String, file: ModelFile, backend: InferenceBackend, network: LlamaModel, codec: any TextCodec,
         warnings: [String] = []) {
        self.warnings = warnings
        self.path = path
        self.file = file
        self.backend = backend
        self.network = network
        self.codec = codec
    }

    /// A one-line summary: "qwen2, 24 layers, hidden 896, vocab 151936, GGUF v3 — cpu (2 threads)".
    public var summary: String {
        let c = config
        return "\(c.architecture.rawValue), \(c.layerCount) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize), "
            + "\(file.formatDescription) — \(backend.description)"
    }

    /// Tokenizes text with the model's tokenizer (BOS added when the model asks for it).
    public func tokenize(_ text: String, addBOS: Bool = true) throws -> [Int32] {
        try codec.encode(text, addBOS: addBOS)
    }

    /// Decodes tokens to text.
    public func detokenize(_ tokens: [Int32]) -> String {
        var decoder = codec.makeStreamDecoder()
        var text = ""
        for t in tokens { text += decoder.push(t) }
        return text + decoder.finish()
    }

    /// An F32/F16 vector's values (the rope factors).
    static func floats(_ t: TensorView, file: String) throws -> [Float] {
        let n = t.elementCount
        switch t.type {
        case .f32 where t.data.count >= n * 4:
            return (0..<n).map { t.data.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        default:
            throw InferenceError("\(file): tensor \(t.name) must be F32, found \(t.type)")
        }
    }
}
