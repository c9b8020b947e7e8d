import XCTest
@testable import ModelFormats

final class HuggingFaceTests: XCTestCase {
    /// A tiny Qwen2-shaped checkpoint: config.json plus safetensors (BF16 weights, F32 norms).
    func makeFolder(sharded: Bool = false, tied: Bool = true, modelType: String = "qwen2", extra: String = "") -> String {
        let dir = makeTempDir()
        let config = """
        {"model_type": "\(modelType)", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
         "num_attention_heads": 2, "num_key_value_heads": 1, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
         "max_position_embeddings": 128, "vocab_size": 12, "tie_word_embeddings": \(tied), "bos_token_id": 0,
         "eos_token_id": [1, 2] \(extra)}
        """
        try? config.write(toFile: dir + "/config.json", atomically: false, encoding: .utf8)
        try? #"{"temperature": 0.7, "top_p": 0.8, "top_k": 20, "eos_token_id": [1, 2]}"#
            .write(toFile: dir + "/generation_config.json", atomically: false, encoding: .utf8)
        var t: [SafetensorsBuilder.Tensor] = [
            .bf16("model.embed_tokens.weight", [12, 8]),
            .f32("model.norm.weight", [8]),
            .bf16("model.layers.0.self_attn.q_proj.weight", [8, 8], start: 100),
            .bf16("model.layers.0.self_attn.q_proj.bias", [8]),
            .bf16("model.layers.0.self_attn.k_proj.weight", [4, 8]),
            .bf16("model.layers.0.self_attn.k_proj.bias", [4]),
            .bf16("model.layers.0.self_attn.v_proj.weight", [4, 8]),
            .bf16("model.layers.0.self_attn.v_proj.bias", [4]),
            .bf16("model.layers.0.self_attn.o_proj.weight", [8, 8]),
            .f32("model.layers.0.input_layernorm.weight", [8]),
            .f32("model.layers.0.post_attention_layernorm.weight", [8]),
            .bf16("model.layers.0.mlp.gate_proj.weight", [16, 8]),
            .bf16("model.layers.0.mlp.up_proj.weight", [16, 8]),
            .bf16("model.layers.0.mlp.down_proj.weight", [8, 16]),
            .f32("model.layers.0.self_attn.rotary_emb.inv_freq", [2]),
        ]
        if !tied { t.append(.bf16("lm_head.weight", [12, 8])) }
        if sharded {
            let a = Array(t[0..<5]), b = Array(t[5...])
            write(SafetensorsBuilder(tensors: a).bytes(), to: dir + "/model-00001-of-00002.safetensors")
            write(SafetensorsBuilder(tensors: b).bytes(), to: dir + "/model-00002-of-00002.safetensors")
            let map = a.map { "\"\($0.name)\": \"model-00001-of-00002.safetensors\"" }
                + b.map { "\"\($0.name)\": \"model-00002-of-00002.safetensors\"" }
            try? "{\"metadata\": {}, \"weight_map\": {\(map.joined(separator: ","))}}"
                .write(toFile: dir + "/model.safetensors.index.json", atomically: false, encoding: .utf8)
        } else {
            write(SafetensorsBuilder(tensors: t).bytes(), to: dir + "/model.safetensors")
        }
        return dir
    }

    func testSingleFileQwen2() throws {
        let dir = makeFolder()
        let m = try ModelFile.open(path: dir)
        XCTAssertEqual(m.format, .huggingFace(shards: 1))
        XCTAssertEqual(m.config.architecture, .qwen2)
        XCTAssertEqual(m.config.ropeLayout, .halfSplit)
        XCTAssertTrue(m.config.attentionBias)
        XCTAssertTrue(m.config.tiedEmbeddings)
        XCTAssertEqual(m.config.ropeTheta, 1_000_000)
        XCTAssertEqual(m.config.contextLength, 128)
        XCTAssertEqual(m.config.kvHeadCount, 1)
        XCTAssertEqual(m.generationDefaults, GenerationDefaults(temperature: 0.7, topP: 0.8, topK: 20))
        let q = try m.require("blk.0.attn_q.weight")
        XCTAssertEqual(q.type, .bf16)
        XCTAssertEqual(q.shape, [8, 8])
        // BF16 of 100 + i: element (1, 2) is 110.
        let bits = q.data.loadUnaligned(fromByteOffset: (1 * 8 + 2) * 2, as: UInt16.self)
        XCTAssertEqual(Float(bitPattern: UInt32(bits) << 16), 110)
        XCTAssertNil(m.tensor("output.weight"))
        XCTAssertNil(m.tensor("model.layers.0.self_attn.rotary_emb.inv_freq"))
        XCTAssertEqual(m.formatDescription, "Hugging Face safetensors")
    }

    /// The folder's tokenizer.json, tokenizer_config.json (template, EOS) and
    /// generation_config.json (extra end-of-generation ids) come together.
    func testTokenizerFilesOfAFolder() throws {
        let dir = makeFolder()
        let src = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("TokenizersTests/Fixtures/hf-qwen2")
        for f in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: src.appendingPathComponent(f).path, toPath: dir + "/" + f)
        }
        let m = try ModelFile.open(path: dir)
        XCTAssertEqual(m.chatTemplate?.hasPrefix("{% for m in messages %}"), true)
        let t = try m.loadTokenizerData()
        XCTAssertEqual(t.kind, .byteLevelBPE)
        XCTAssertEqual(t.preTokenizer, "qwen2")
        XCTAssertEqual(t.tokens[Int(try XCTUnwrap(t.eosID))], "<|endoftext|>")
        XCTAssertFalse(t.addBOS)
        // generation_config.json's eos_token_id [1, 2] join the end-of-generation set.
        XCTAssertTrue(t.endOfGenerationIDs.isSuperset(of: [1, 2, try XCTUnwrap(t.eosID)]))
        XCTAssertEqual(t.chatTemplate, m.chatTemplate)
    }

    func testShardedUntiedLlama() throws {
        let dir = makeFolder(sharded: true, tied: false, modelType: "llama", extra: #", "attention_bias": true"#)
        let m = try ModelFile.open(path: dir)
        XCTAssertEqual(m.format, .huggingFace(shards: 2))
        XCTAssertEqual(m.config.architecture, .llama)
        XCTAssertEqual(m.config.ropeLayout, .halfSplit)
        XCTAssertFalse(m.config.tiedEmbeddings)
        XCTAssertEqual(m.tensor("output.weight")?.shape, [12, 8])
        XCTAssertEqual(m.tensors.count, 15)
        XCTAssertNil(m.config.slidingWindow)
        let mistral = makeFolder(modelType: "mistral", extra: #", "sliding_window": 4096"#)
        XCTAssertEqual(try HuggingFaceConfig.read(path: mistral + "/config.json").0.slidingWindow, 4096)
        let qwen = makeFolder(modelType: "qwen2", extra: #", "sliding_window": 4096, "use_sliding_window": false"#)
        XCTAssertNil(try HuggingFaceConfig.read(path: qwen + "/config.json").0.slidingWindow)
    }

    func testLlama3RopeScalingAndHeadDim() throws {
        let dir = makeFolder(modelType: "qwen3", extra: #", "head_dim": 4, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}"#)
        // qwen3 needs q/k norms; the folder has none, so opening names the missing tensor.
        XCTAssertThrowsError(try ModelFile.open(path: dir)) { e in
            XCTAssertTrue("\(e)".contains("missing tensor (tensor blk.0.attn_q_norm.weight)"), "\(e)")
        }
        let (c, _) = try HuggingFaceConfig.read(path: dir + "/config.json")
        XCTAssertEqual(c.headDim, 4)
        XCTAssertTrue(c.qkNorm)
        XCTAssertEqual(c.ropeScaling, RopeScaling(kind: .llama3, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 8192))
    }

    func testBadSafetensors() throws {
        let dir = makeTempDir()
        func expect(_ bytes: [UInt8], _ what: String, line: UInt = #line) {
            let p = dir + "/x.safetensors"
            write(bytes, to: p)
            XCTAssertThrowsError(try SafetensorsFile(path: p), line: line) { e in
                XCTAssertTrue("\(e)".hasPrefix(p + ": "), "\(e)", line: line)
                XCTAssertTrue("\(e)".contains(what), "\(e) should contain \(what)", line: line)
                XCTAssertFalse("\(e)".contains("\n"), line: line)
            }
        }
        let good = SafetensorsBuilder(tensors: [.f32("a", [2, 3]), .f32("b", [4])])
        XCTAssertNoThrow(try { write(good.bytes(), to: dir + "/x.safetensors"); _ = try SafetensorsFile(path: dir + "/x.safetensors") }())
        expect([1, 2, 3], "header length runs past the end of the file")
        expect(GGUFBuilder.le(UInt64(1) << 40) + [0, 0], "header length 1099511627776 is absurd")
        var bad = good
        bad.offsetOverride["b"] = (24, 4000)
        expect(bad.bytes(), "data_offsets [24, 4000] run past the end of the data (40 bytes) (tensor b)")
        bad = good
        bad.tensors[1].shape = [5]
        expect(bad.bytes(), "data size 16 disagrees with shape [5] of F32 (20 bytes) (tensor b)")
        bad = good
        bad.tensors[0].dtype = "Q9"
        expect(bad.bytes(), "unknown dtype Q9 (tensor a)")
        bad = good
        bad.tensors[0].shape = [1 << 40, 1 << 40]
        expect(bad.bytes(), "absurd")
        bad = good
        bad.offsetOverride["b"] = (8, 24)
        expect(bad.bytes(), "overlaps")
        var json = good.bytes()
        json[8] = UInt8(ascii: "[")
        expect(json, "header is not valid JSON (at offset 8)")
    }

    func testMissingFilesAndUnsupported() throws {
        let empty = makeTempDir()
        XCTAssertThrowsError(try ModelFile.open(path: empty)) { e in
            XCTAssertEqual("\(e)", "\(empty): missing config.json (not a Hugging Face model folder)")
        }
        let dir = makeFolder()
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        XCTAssertThrowsError(try ModelFile.open(path: dir)) { e in
            XCTAssertEqual("\(e)", "\(dir): missing model.safetensors (or model.safetensors.index.json)")
        }
        XCTAssertThrowsError(try TokenizerData.load(path: dir)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(dir): missing tokenizer.json"), "\(e)")
        }
        let gem = makeFolder(modelType: "gemma")
        XCTAssertThrowsError(try ModelFile.open(path: gem)) { e in
            XCTAssertEqual("\(e)", "\(gem)/config.json: unsupported architecture gemma (supported: llama, mistral, qwen2, qwen3) (field model_type)")
        }
        let sharded = makeFolder(sharded: true)
        try FileManager.default.removeItem(atPath: sharded + "/model-00002-of-00002.safetensors")
        XCTAssertThrowsError(try ModelFile.open(path: sharded)) { e in
            XCTAssertEqual("\(e)", "\(sharded)/model.safetensors.index.json: shard model-00002-of-00002.safetensors listed in the index is missing")
        }
        XCTAssertThrowsError(try ModelFile.open(path: "/nonexistent/model.gguf")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/model.gguf: no such file or folder")
        }
    }

    func testTensorNameMapping() {
        XCTAssertEqual(TensorNames.canonical(huggingFace: "model.layers.12.mlp.down_proj.weight"), "blk.12.ffn_down.weight")
        XCTAssertEqual(TensorNames.canonical(huggingFace: "model.layers.3.self_attn.k_norm.weight"), "blk.3.attn_k_norm.weight")
        XCTAssertEqual(TensorNames.canonical(huggingFace: "lm_head.weight"), "output.weight")
        XCTAssertNil(TensorNames.canonical(huggingFace: "model.layers.x.mlp.up_proj.weight"))
        XCTAssertNil(TensorNames.canonical(huggingFace: "model.layers.1.mlp.unknown.weight"))
    }
}

final class JSONValueTests: XCTestCase {
    /// Keys that are canonically equivalent but spelled differently stay two keys (Foundation's
    /// JSONSerialization merges them, losing a token).
    func testKeysKeepTheirExactSpelling() throws {
        let text = "{\"\u{3AC}\": 1, \"\u{1F71}\": 2, \"e\\u0301\": 3, \"\\u00e9\": 4, \"\\ud83e\\udd99\": [true, null, -1.5e2]}"
        let v = try JSONValue.parse(Array(text.utf8), file: "t.json")
        let pairs = try XCTUnwrap(v.pairs)
        XCTAssertEqual(pairs.count, 5)
        XCTAssertEqual(v["\u{3AC}"]?.int, 1)
        XCTAssertEqual(v["\u{1F71}"]?.int, 2)
        XCTAssertEqual(v["e\u{301}"]?.int, 3)
        XCTAssertEqual(v["\u{E9}"]?.int, 4)
        XCTAssertEqual(v["🦙"]?.array?.count, 3)
        XCTAssertEqual(v["🦙"]?.array?[2].double, -150)
    }

    func testMalformedJSONNamesTheOffset() {
        for (text, what) in [("{\"a\": }", "expected a value (at offset 6)"), ("[1, 2", "unexpected end of file in an array"),
                             ("{\"a\": \"x}", "unterminated string"), ("{} x", "unexpected text after the JSON value (at offset 3)"),
                             (String(repeating: "[", count: 600), "nested too deeply")] {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8), file: "t.json")) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.json: invalid JSON: "), "\(e)")
                XCTAssertTrue("\(e)".contains(what), "\(e) should contain \(what)")
            }
        }
    }
}
