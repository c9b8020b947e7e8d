import XCTest
import Foundation
@testable import StepwiseCLI

/// `stepwise tokenize` and `stepwise model-info` on the shared vocabularies and on a tiny
/// Hugging Face folder written here.
final class ModelCommandsTests: XCTestCase {
    static let vocabDir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/fixtures/tokenizers").path

    func run(_ args: String...) -> (code: Int32, out: String, err: String) {
        let c = Console.capturing()
        let code = CLI.run(args, console: c)
        return (code, c.capturedOut, c.capturedErr)
    }

    func testTokenizeJSONMatchesLlamaCppVector() throws {
        // From ggml-vocab-llama-bpe.gguf.inp/.out: " Hello World!" → 22691 4435 0
        let r = run("tokenize", "--model", "\(Self.vocabDir)/ggml-vocab-llama-bpe.gguf", "--json", " Hello World!")
        XCTAssertEqual(r.code, 0, r.err)
        XCTAssertEqual(r.out, #"{"count":3,"ids":[22691,4435,0],"pieces":[" Hello"," World","!"]}"# + "\n")
        let bos = run("tokenize", "--model", "\(Self.vocabDir)/ggml-vocab-llama-bpe.gguf", "--bos", "--special", "<|eot_id|>")
        XCTAssertEqual(bos.code, 0, bos.err)
        XCTAssertEqual(bos.out, "128000   \"<|begin_of_text|>\"\n128009   \"<|eot_id|>\"\n2 tokens\n")
    }

    func testTokenizeBadModelIsOneLineExit2() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.gguf").path
        try Data("GGUF\u{3}\0\0\0".utf8).write(to: URL(fileURLWithPath: bad))
        let r = run("tokenize", "--model", bad, "hi")
        XCTAssertEqual(r.code, 2)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        XCTAssertTrue(r.err.hasPrefix("stepwise: \(bad): too short for a GGUF header"), r.err)
        let missing = run("tokenize", "--model", dir.path, "hi")
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.err, "stepwise: \(dir.path): missing tokenizer.json (needed to tokenize; a tokenizer.model alone is not supported)\n")
    }

    func testModelInfoOnHuggingFaceFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-mi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"{"model_type": "llama", "hidden_size": 4, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 6, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "tie_word_embeddings": true}"#
            .write(to: dir.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
        // F32 safetensors for every tensor a one-layer llama needs.
        let shapes: [(String, [Int])] = [
            ("model.embed_tokens.weight", [6, 4]), ("model.norm.weight", [4]),
            ("model.layers.0.input_layernorm.weight", [4]), ("model.layers.0.post_attention_layernorm.weight", [4]),
            ("model.layers.0.self_attn.q_proj.weight", [4, 4]), ("model.layers.0.self_attn.k_proj.weight", [2, 4]),
            ("model.layers.0.self_attn.v_proj.weight", [2, 4]), ("model.layers.0.self_attn.o_proj.weight", [4, 4]),
            ("model.layers.0.mlp.gate_proj.weight", [8, 4]), ("model.layers.0.mlp.up_proj.weight", [8, 4]),
            ("model.layers.0.mlp.down_proj.weight", [4, 8]),
        ]
        var header: [String] = []
        var offset = 0
        for (name, shape) in shapes {
            let bytes = shape.reduce(4, *)
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var json = Array("{\(header.joined(separator: ","))}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: json)
        file.append(Data(count: offset))
        try file.write(to: dir.appendingPathComponent("model.safetensors"))

        let r = run("model-info", dir.path, "--context", "32", "--batch", "2", "--json")
        XCTAssertEqual(r.code, 0, r.err)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(obj["architecture"] as? String, "llama")
        XCTAssertEqual(obj["ropeLayout"] as? String, "half-split")
        XCTAssertEqual(obj["tiedEmbeddings"] as? Bool, true)
        XCTAssertEqual(obj["parameters"] as? Int, offset / 4)
        let mem = try XCTUnwrap(obj["memory"] as? [String: Any])
        // K and V × 1 layer × 1 kv head × head dim 2 × 32 positions × 2 sequences × 4 bytes
        XCTAssertEqual(mem["kvCache"] as? Int, 2 * 1 * 1 * 2 * 32 * 2 * 4)
        XCTAssertEqual(mem["weights"] as? Int, offset)
        // No tokenizer.json: reported, not fatal.
        XCTAssertTrue(((obj["tokenizer"] as? [String: Any])?["error"] as? String)?.contains("missing tokenizer.json") == true)

        let text = run("model-info", dir.path)
        XCTAssertEqual(text.code, 0)
        XCTAssertTrue(text.out.contains("arch      llama, 1 layers, hidden 4, ffn 8, heads 2 (kv 1, dim 2), vocab 6"), text.out)
        XCTAssertTrue(text.out.contains("tensors   11: F32 ×11"), text.out)
    }

    func testModelInfoBadFiles() throws {
        let vocab = run("model-info", "\(Self.vocabDir)/ggml-vocab-gpt-2.gguf")
        XCTAssertEqual(vocab.code, 2)
        XCTAssertEqual(vocab.err, "stepwise: \(Self.vocabDir)/ggml-vocab-gpt-2.gguf: unsupported architecture gpt2 (supported: llama, mistral, qwen2, qwen3) (key general.architecture)\n")
        let missing = run("model-info", "/nonexistent/x.gguf")
        XCTAssertEqual(missing.code, 2)
        XCTAssertEqual(missing.err, "stepwise: /nonexistent/x.gguf: no such file or folder\n")
        let usage = run("model-info", "/nonexistent/x.gguf", "--batch", "0")
        XCTAssertEqual(usage.code, 2)
    }
}
