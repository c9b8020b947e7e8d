import Foundation
import ModelFormats
import Tokenizers

/// `stepwise model-info`: what a model file holds and what running it will cost.
enum ModelInfoCommand {
    static let command = Command(
        name: "model-info",
        summary: "architecture, sizes, tensor types, tokenizer, template and memory of a model",
        help: """
        Usage: stepwise model-info PATH [--context N] [--batch B] [--kv f32|f16] [--json]

        Reads a .gguf file or a Hugging Face folder (config.json + safetensors) without loading
        the weights, and estimates the memory a run with the given context and batch needs:
        weights + KV cache (context × batch) + activations.

        Options:
          --context N    positions per sequence (default: the model's trained context)
          --batch B      sequences decoded together (default 1)
          --kv TYPE      KV cache element type for the estimate (default f32, as the CPU engine)
          --json         the same as one JSON object
        """,
        run: run
    )

    static func run(_ argv: [String]) throws -> Int32 {
        let name = "model-info"
        let args = try Arguments(argv, command: name, valued: ["context", "batch", "kv"], flags: ["json"])
        let path = try args.positional(0, "PATH")
        try args.expectPositionals(atMost: 1)
        let m = try readingInput { try ModelFile.open(path: path) }
        let c = m.config
        let context = try args.int("context") ?? c.contextLength
        let batch = try args.int("batch") ?? 1
        guard context >= 1 else { throw CLIError.usage("--context must be at least 1, got \(context)", command: name) }
        guard batch >= 1 else { throw CLIError.usage("--batch must be at least 1, got \(batch)", command: name) }
        let kvBytes: Int
        switch args.value("kv")?.lowercased() {
        case nil, "f32"?: kvBytes = 4
        case "f16"?: kvBytes = 2
        case let other?: throw CLIError.usage("--kv must be f32 or f16, got '\(other)'", command: name)
        }
        let mem = m.memoryEstimate(context: context, batch: batch, kvBytesPerElement: kvBytes)
        let available = availableSystemMemory()
        let parameters = m.tensors.reduce(0) { $0 + $1.elementCount }

        // Tokenizer and template are reported, not required: a model without them still runs
        // raw token ids, and `generate` names the problem when it needs them.
        var tokenizerLine: String
        var tokenizerJSON: [String: Any] = [:]
        var templateLine = "none"
        do {
            let tok = try Tokenizer(m.loadTokenizerData())
            let kind: String
            switch tok.algorithm {
            case .byteLevelBPE(let p): kind = "byte-level BPE (\(p.rawValue))"
            case .sentencePiece: kind = "SentencePiece BPE"
            }
            func named(_ id: TokenID?) -> String { id.map { "\($0) \(tok.tokenText($0).debugDescription)" } ?? "none" }
            tokenizerLine = "\(kind), \(tok.vocabularySize) tokens, bos \(named(tok.bosID))\(tok.addsBOS ? " (added)" : ""), eos \(named(tok.eosID))"
            let others = tok.endOfGeneration.subtracting(tok.eosID.map { [$0] } ?? []).sorted()
            if !others.isEmpty { tokenizerLine += ", also stops on " + others.map { named($0) }.joined(separator: ", ") }
            tokenizerJSON = ["kind": kind, "vocabulary": tok.vocabularySize, "bos": tok.bosID.map { Int($0) as Any } ?? NSNull(),
                             "eos": tok.eosID.map { Int($0) as Any } ?? NSNull(), "addsBOS": tok.addsBOS,
                             "endOfGeneration": tok.endOfGeneration.sorted().map(Int.init)]
        } catch {
            tokenizerLine = "unavailable: \(oneLine(error))"
            tokenizerJSON = ["error": oneLine(error)]
        }
        if m.chatTemplate != nil {
            do {
                let t = try ChatTemplate.detect(template: m.chatTemplate)
                templateLine = t.format.rawValue + (t.defaultSystemPrompt.map { " (default system prompt \($0.debugDescription))" } ?? "")
                    + (t.knowledgeDateHeader ? " (with date header)" : "")
            } catch {
                templateLine = "unrecognised (use --template \(ChatFormat.optionList))"
            }
        }
        let types = m.typeCounts.map { "\($0.0.name) ×\($0.1)" }.joined(separator: ", ")
        let unsupported = m.typeCounts.map(\.0).filter { !TensorType.computeTypes.contains($0) }

        if args.flag("json") {
            let obj: [String: Any] = [
                "path": path, "name": m.name, "format": m.formatDescription,
                "architecture": c.architecture.rawValue, "layers": c.layerCount, "hidden": c.hiddenSize,
                "intermediate": c.intermediateSize, "heads": c.headCount, "kvHeads": c.kvHeadCount, "headDim": c.headDim,
                "vocabulary": c.vocabSize, "contextLength": c.contextLength, "ropeTheta": Double(c.ropeTheta),
                "ropeLayout": c.ropeLayout == .halfSplit ? "half-split" : "adjacent-pairs",
                "ropeScaling": c.ropeScaling.map { $0.kind.rawValue as Any } ?? NSNull(),
                "rmsNormEps": Double(c.rmsNormEps), "tiedEmbeddings": c.tiedEmbeddings,
                "attentionBias": c.attentionBias, "qkNorm": c.qkNorm, "parameters": parameters,
                "slidingWindow": c.slidingWindow.map { $0 as Any } ?? NSNull(),
                "tensorTypes": Dictionary(uniqueKeysWithValues: m.typeCounts.map { ($0.0.name, $0.1) }),
                "unsupportedTypes": unsupported.map(\.name),
                "tokenizer": tokenizerJSON, "template": templateLine,
                "memory": ["context": context, "batch": batch, "weights": mem.weightBytes, "kvCache": mem.kvCacheBytes,
                           "activations": mem.activationBytes, "total": mem.totalBytes, "available": available.map { $0 as Any } ?? NSNull()],
            ]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
            console.out(String(decoding: data, as: UTF8.self))
            return 0
        }
        var extras: [String] = []
        if c.tiedEmbeddings { extras.append("tied embeddings") }
        if c.attentionBias { extras.append("q/k/v bias") }
        if c.qkNorm { extras.append("q/k norm") }
        if let w = c.slidingWindow { extras.append("sliding window \(w)") }
        let rope = "rope θ=\(format(c.ropeTheta)) \(c.ropeLayout == .halfSplit ? "half-split" : "adjacent pairs")"
            + (c.ropeScaling.map { ", \($0.kind.rawValue) scaling ×\(format($0.factor))" } ?? "")
        let lines: [(String, String)] = [
            ("model", "\(m.name) (\(m.formatDescription))"),
            ("arch", "\(c.architecture.rawValue), \(c.layerCount) layers, hidden \(c.hiddenSize), ffn \(c.intermediateSize), "
                + "heads \(c.headCount) (kv \(c.kvHeadCount), dim \(c.headDim)), vocab \(c.vocabSize)"),
            ("context", "\(c.contextLength) trained; \(rope); rms eps \(c.rmsNormEps)" + (extras.isEmpty ? "" : "; " + extras.joined(separator: ", "))),
            ("tensors", "\(m.tensors.count): \(types)" + (unsupported.isEmpty ? "" : " — not runnable: " + unsupported.map(\.name).joined(separator: ", "))),
            ("weights", "\(formatBytes(mem.weightBytes)), \(String(format: "%.1f", Double(parameters) / 1e6)) M parameters"),
            ("tokenizer", tokenizerLine),
            ("template", templateLine),
            ("memory", "context \(context) × batch \(batch): weights \(formatBytes(mem.weightBytes)) + KV cache "
                + "\(formatBytes(mem.kvCacheBytes)) (\(kvBytes == 4 ? "F32" : "F16")) + activations \(formatBytes(mem.activationBytes)) "
                + "= \(formatBytes(mem.totalBytes))" + (available.map { "; \(formatBytes($0)) available now" } ?? "")),
        ]
        for (k, v) in lines { console.out(k.padding(toLength: 10, withPad: " ", startingAt: 0) + v) }
        return 0
    }

    private static func format(_ f: Float) -> String {
        f == f.rounded() && abs(f) < 1e9 ? String(Int(f)) : "\(f)"
    }
}
