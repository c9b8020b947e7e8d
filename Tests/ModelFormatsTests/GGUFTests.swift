import XCTest
@testable import ModelFormats

final class GGUFTests: XCTestCase {
    func testReadsSharedVocabularyFiles() throws {
        let expected = ["gpt-2": ("gpt2", 50257), "llama-bpe": ("gpt2", 128256), "llama-spm": ("llama", 32000), "qwen2": ("gpt2", 151936)]
        for (name, (model, count)) in expected {
            let g = try GGUFFile(path: "\(sharedDir)/fixtures/tokenizers/ggml-vocab-\(name).gguf")
            XCTAssertEqual(g.version, 3)
            XCTAssertEqual(g.string("tokenizer.ggml.model"), model, name)
            XCTAssertEqual(g.metadata["tokenizer.ggml.tokens"]?.array?.count, count, name)
            XCTAssertTrue(g.tensorInfos.isEmpty)
        }
        let spm = try GGUFFile(path: "\(sharedDir)/fixtures/tokenizers/ggml-vocab-llama-spm.gguf")
        XCTAssertEqual(spm.metadata["tokenizer.ggml.add_bos_token"], .bool(true))
        XCTAssertEqual(spm.int("llama.context_length"), 4096)
        XCTAssertEqual(spm.metadata["tokenizer.ggml.scores"]?.array?.count, 32000)
    }

    func testTinyLlamaOpensWithReversedShapesAndDataInPlace() throws {
        let dir = makeTempDir()
        let path = dir + "/tiny.gguf"
        write(GGUFBuilder.tinyModel().bytes(), to: path)
        let m = try ModelFile.open(path: path)
        XCTAssertEqual(m.format, .gguf(version: 3))
        XCTAssertEqual(m.config.architecture, .llama)
        XCTAssertEqual(m.config.ropeLayout, .adjacentPairs)
        XCTAssertEqual(m.config.hiddenSize, 8)
        XCTAssertEqual(m.config.headDim, 4)
        XCTAssertEqual(m.config.kvHeadCount, 1)
        XCTAssertEqual(m.config.layerCount, 2)
        XCTAssertEqual(m.config.vocabSize, 12)
        XCTAssertEqual(m.config.contextLength, 64)
        XCTAssertEqual(m.config.rmsNormEps, 1e-6)
        XCTAssertFalse(m.config.tiedEmbeddings)
        XCTAssertFalse(m.config.attentionBias)
        XCTAssertEqual(m.name, "tiny-llama")
        let k = try XCTUnwrap(m.tensor("blk.1.attn_k.weight"))
        XCTAssertEqual(k.shape, [4, 8])      // [out, in]
        XCTAssertEqual(k.type, .f32)
        XCTAssertEqual(k.data.count, 4 * 8 * 4)
        // Builder values: seed (index of tensor) + i * 0.001, row-major [out][in].
        let row1col2 = k.data.loadUnaligned(fromByteOffset: (1 * 8 + 2) * 4, as: Float.self)
        let first = k.data.loadUnaligned(fromByteOffset: 0, as: Float.self)
        XCTAssertEqual(row1col2 - first, 0.010, accuracy: 1e-5)
        XCTAssertEqual(m.chatTemplate, "{{ '<|im_start|>' }}")
        XCTAssertNoThrow(try m.checkComputeTypes())
        let tok = try m.loadTokenizerData()
        XCTAssertEqual(tok.tokens.count, 12)
        XCTAssertEqual(tok.merges, [TokenizerData.Merge(left: "t", right: "1")])
        XCTAssertEqual(tok.eosID, 1)
    }

    func testQwenFlavoursAreDetectedFromTensors() throws {
        let dir = makeTempDir()
        write(GGUFBuilder.tinyModel(arch: "qwen2", tied: true, bias: true).bytes(), to: dir + "/q2.gguf")
        let q2 = try ModelFile.open(path: dir + "/q2.gguf")
        XCTAssertEqual(q2.config.architecture, .qwen2)
        XCTAssertEqual(q2.config.ropeLayout, .halfSplit)
        XCTAssertTrue(q2.config.tiedEmbeddings)
        XCTAssertNil(q2.tensor("output.weight"))
        XCTAssertTrue(q2.config.attentionBias)
        XCTAssertEqual(q2.tensor("blk.0.attn_q.bias")?.shape, [8])

        write(GGUFBuilder.tinyModel(arch: "qwen3", qkNorm: true).bytes(), to: dir + "/q3.gguf")
        let q3 = try ModelFile.open(path: dir + "/q3.gguf")
        XCTAssertTrue(q3.config.qkNorm)
        XCTAssertFalse(q3.config.attentionBias)
        XCTAssertEqual(q3.tensor("blk.1.attn_k_norm.weight")?.shape, [4])
    }

    func testQuantizedTypesSizes() throws {
        XCTAssertEqual(TensorType.q8_0.byteCount(elements: 64), 68)
        XCTAssertEqual(TensorType.q4_0.byteCount(elements: 32), 18)
        XCTAssertEqual(TensorType.q4_K.byteCount(elements: 512), 288)
        XCTAssertEqual(TensorType.q6_K.byteCount(elements: 256), 210)
        XCTAssertEqual(TensorType.bf16.byteCount(elements: 3), 6)
        XCTAssertNil(TensorType.q4_K.byteCount(elements: 100))
        XCTAssertEqual(TensorType(rawValue: 30), .bf16)
        XCTAssertEqual(TensorType.q4_K.name, "Q4_K")
        XCTAssertEqual(TensorType.iq2_XXS.name, "IQ2_XXS")

        // A Q8_0 embedding in a file: the size check uses blocks.
        var b = GGUFBuilder.tinyModel(hidden: 32, heads: 2, kvHeads: 2, ffn: 32)
        b.tensors[0] = .init(name: "token_embd.weight", ne: [32, 12], type: 8, data: Array(repeating: 0, count: 12 * 34))
        let dir = makeTempDir()
        write(b.bytes(), to: dir + "/q8.gguf")
        let m = try ModelFile.open(path: dir + "/q8.gguf")
        XCTAssertEqual(m.tensor("token_embd.weight")?.type, .q8_0)
        XCTAssertEqual(m.tensor("token_embd.weight")?.data.count, 12 * 34)
        XCTAssertEqual(m.typeCounts.first { $0.0 == .q8_0 }?.1, 1)

    }

    func testUnsupportedComputeTypeIsNamed() throws {
        var b = GGUFBuilder.tinyModel(hidden: 256, heads: 2, kvHeads: 2, ffn: 256)
        b.tensors[0] = .init(name: "token_embd.weight", ne: [256, 12], type: 13, data: Array(repeating: 0, count: 12 * 176))
        let dir = makeTempDir()
        write(b.bytes(), to: dir + "/q5k.gguf")
        let m = try ModelFile.open(path: dir + "/q5k.gguf")
        XCTAssertThrowsError(try m.checkComputeTypes()) { e in
            XCTAssertEqual("\(e)", "\(dir)/q5k.gguf: unsupported type Q5_K (tensor token_embd.weight)")
        }
    }

    func testLlama3RopeFrequencies() {
        let c = ModelConfig(architecture: .llama, vocabSize: 10, hiddenSize: 128, intermediateSize: 10, layerCount: 1,
                            headCount: 1, kvHeadCount: 1, headDim: 128, contextLength: 131072, rmsNormEps: 1e-5,
                            ropeTheta: 500000,
                            ropeScaling: RopeScaling(kind: .llama3, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 8192),
                            ropeLayout: .adjacentPairs, tiedEmbeddings: false, attentionBias: false, qkNorm: false)
        let f = c.ropeInverseFrequencies()
        XCTAssertEqual(f.count, 64)
        XCTAssertEqual(f[0], 1, accuracy: 1e-6)                 // high frequency: unchanged
        let plain = Float(pow(500000.0, -2.0 * 63 / 128))
        XCTAssertEqual(f[63], plain / 8, accuracy: plain * 1e-4) // low frequency: divided by factor
        // With explicit factors (GGUF rope_freqs.weight) those win.
        let g = c.ropeInverseFrequencies(freqFactors: Array(repeating: 2, count: 64))
        XCTAssertEqual(g[0], 0.5, accuracy: 1e-6)
    }

    func testMemoryEstimate() throws {
        let dir = makeTempDir()
        write(GGUFBuilder.tinyModel().bytes(), to: dir + "/tiny.gguf")
        let m = try ModelFile.open(path: dir + "/tiny.gguf")
        let e = m.memoryEstimate(context: 64, batch: 4)
        // 2 (K,V) × 2 layers × 1 kv head × 4 dims × 64 positions × 4 sequences × 2 bytes
        XCTAssertEqual(e.kvCacheBytes, 2 * 2 * 1 * 4 * 64 * 4 * 2)
        XCTAssertEqual(e.weightBytes, m.tensors.reduce(0) { $0 + $1.elementCount * 4 })
        XCTAssertGreaterThan(e.activationBytes, 4 * 12 * 4)
        XCTAssertEqual(e.totalBytes, e.weightBytes + e.kvCacheBytes + e.activationBytes)
        XCTAssertEqual(formatBytes(1536), "1.50 KiB")
        // Absurd requests saturate instead of overflowing.
        let huge = m.memoryEstimate(context: Int.max / 2, batch: Int.max / 2)
        XCTAssertEqual(huge.kvCacheBytes, Int.max)
        XCTAssertEqual(huge.totalBytes, Int.max)
    }
}
