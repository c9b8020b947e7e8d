import Foundation
import XCTest
@testable import ModelFormats

/// Builds small GGUF files byte by byte, so tests control every field (including broken ones).
struct GGUFBuilder {
    enum Value {
        case u32(UInt32), i32(Int32), f32(Float), bool(Bool), string(String), u64(UInt64)
        case strings([String]), i32s([Int32]), f32s([Float])
    }
    struct Tensor {
        var name: String
        var ne: [UInt64]
        var type: UInt32
        var data: [UInt8]
        var offsetOverride: UInt64? = nil
    }

    var version: UInt32 = 3
    var kv: [(String, Value)] = []
    var tensors: [Tensor] = []
    var alignment = 32

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }
    static func str(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    func bytes() -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8) + Self.le(version) + Self.le(UInt64(tensors.count)) + Self.le(UInt64(kv.count))
        for (k, v) in kv {
            out += Self.str(k)
            switch v {
            case .u32(let x): out += Self.le(UInt32(4)) + Self.le(x)
            case .i32(let x): out += Self.le(UInt32(5)) + Self.le(x)
            case .f32(let x): out += Self.le(UInt32(6)) + Self.le(x.bitPattern)
            case .bool(let x): out += Self.le(UInt32(7)) + [x ? 1 : 0]
            case .string(let x): out += Self.le(UInt32(8)) + Self.str(x)
            case .u64(let x): out += Self.le(UInt32(10)) + Self.le(x)
            case .strings(let xs):
                out += Self.le(UInt32(9)) + Self.le(UInt32(8)) + Self.le(UInt64(xs.count))
                for x in xs { out += Self.str(x) }
            case .i32s(let xs):
                out += Self.le(UInt32(9)) + Self.le(UInt32(5)) + Self.le(UInt64(xs.count))
                for x in xs { out += Self.le(x) }
            case .f32s(let xs):
                out += Self.le(UInt32(9)) + Self.le(UInt32(6)) + Self.le(UInt64(xs.count))
                for x in xs { out += Self.le(x.bitPattern) }
            }
        }
        var offsets: [UInt64] = []
        var cursor: UInt64 = 0
        for t in tensors {
            offsets.append(t.offsetOverride ?? cursor)
            cursor += UInt64(t.data.count)
            cursor = (cursor + UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
        }
        for (t, off) in zip(tensors, offsets) {
            out += Self.str(t.name) + Self.le(UInt32(t.ne.count))
            for d in t.ne { out += Self.le(d) }
            out += Self.le(t.type) + Self.le(off)
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out += t.data
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// A tiny but complete model of the given architecture, F32 weights with recognisable values.
    static func tinyModel(arch: String = "llama", layers: Int = 2, hidden: Int = 8, heads: Int = 2, kvHeads: Int = 1,
                          ffn: Int = 16, vocab: Int = 12, tied: Bool = false, bias: Bool = false, qkNorm: Bool = false) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.kv = [
            ("general.architecture", .string(arch)),
            ("general.name", .string("tiny-\(arch)")),
            ("\(arch).context_length", .u32(64)),
            ("\(arch).embedding_length", .u32(UInt32(hidden))),
            ("\(arch).feed_forward_length", .u32(UInt32(ffn))),
            ("\(arch).block_count", .u32(UInt32(layers))),
            ("\(arch).attention.head_count", .u32(UInt32(heads))),
            ("\(arch).attention.head_count_kv", .u32(UInt32(kvHeads))),
            ("\(arch).attention.layer_norm_rms_epsilon", .f32(1e-6)),
            ("\(arch).rope.freq_base", .f32(10000)),
            ("\(arch).vocab_size", .u32(UInt32(vocab))),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("qwen2")),
            ("tokenizer.ggml.tokens", .strings((0..<vocab).map { "t\($0)" })),
            ("tokenizer.ggml.merges", .strings(["t 1"])),
            ("tokenizer.ggml.eos_token_id", .u32(1)),
            ("tokenizer.chat_template", .string("{{ '<|im_start|>' }}")),
        ]
        let hd = hidden / heads
        var seed: Float = 0
        func f32(_ name: String, _ shape: [Int]) -> Tensor {
            let n = shape.reduce(1, *)
            var data: [UInt8] = []
            for i in 0..<n { data += le((seed + Float(i) * 0.001).bitPattern) }
            seed += 1
            return Tensor(name: name, ne: shape.reversed().map { UInt64($0) }, type: 0, data: data)
        }
        b.tensors.append(f32("token_embd.weight", [vocab, hidden]))
        b.tensors.append(f32("output_norm.weight", [hidden]))
        if !tied { b.tensors.append(f32("output.weight", [vocab, hidden])) }
        for l in 0..<layers {
            let p = "blk.\(l)."
            b.tensors.append(f32(p + "attn_norm.weight", [hidden]))
            b.tensors.append(f32(p + "attn_q.weight", [heads * hd, hidden]))
            b.tensors.append(f32(p + "attn_k.weight", [kvHeads * hd, hidden]))
            b.tensors.append(f32(p + "attn_v.weight", [kvHeads * hd, hidden]))
            if bias {
                b.tensors.append(f32(p + "attn_q.bias", [heads * hd]))
                b.tensors.append(f32(p + "attn_k.bias", [kvHeads * hd]))
                b.tensors.append(f32(p + "attn_v.bias", [kvHeads * hd]))
            }
            if qkNorm {
                b.tensors.append(f32(p + "attn_q_norm.weight", [hd]))
                b.tensors.append(f32(p + "attn_k_norm.weight", [hd]))
            }
            b.tensors.append(f32(p + "attn_output.weight", [hidden, heads * hd]))
            b.tensors.append(f32(p + "ffn_norm.weight", [hidden]))
            b.tensors.append(f32(p + "ffn_gate.weight", [ffn, hidden]))
            b.tensors.append(f32(p + "ffn_up.weight", [ffn, hidden]))
            b.tensors.append(f32(p + "ffn_down.weight", [hidden, ffn]))
        }
        return b
    }
}

/// Builds safetensors files.
struct SafetensorsBuilder {
    struct Tensor { var name: String; var dtype: String; var shape: [Int]; var data: [UInt8] }
    var tensors: [Tensor] = []
    /// Replace the computed offsets of a tensor (by name) to make a broken file.
    var offsetOverride: [String: (Int, Int)] = [:]

    func bytes() -> [UInt8] {
        var header: [String] = []
        var cursor = 0
        var payload: [UInt8] = []
        for t in tensors {
            let (b, e) = offsetOverride[t.name] ?? (cursor, cursor + t.data.count)
            header.append("\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(b),\(e)]}")
            payload += t.data
            cursor += t.data.count
        }
        var json = Array(("{\"__metadata__\":{\"format\":\"pt\"}," + header.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return GGUFBuilder.le(UInt64(json.count)) + json + payload
    }
}

extension SafetensorsBuilder.Tensor {
    static func f32(_ name: String, _ shape: [Int], start: Float = 0) -> SafetensorsBuilder.Tensor {
        let n = shape.reduce(1, *)
        var d: [UInt8] = []
        for i in 0..<n { d += GGUFBuilder.le((start + Float(i)).bitPattern) }
        return SafetensorsBuilder.Tensor(name: name, dtype: "F32", shape: shape, data: d)
    }

    static func bf16(_ name: String, _ shape: [Int], start: Float = 0) -> SafetensorsBuilder.Tensor {
        let n = shape.reduce(1, *)
        var d: [UInt8] = []
        for i in 0..<n { d += GGUFBuilder.le(UInt16((start + Float(i)).bitPattern >> 16)) }
        return SafetensorsBuilder.Tensor(name: name, dtype: "BF16", shape: shape, data: d)
    }
}

extension XCTestCase {
    /// A fresh temporary folder, removed when the test ends.
    func makeTempDir(_ tag: String = #function) -> String {
        let clean = tag.filter { $0.isLetter || $0.isNumber }
        let p = NSTemporaryDirectory() + "stepwise-mf-\(clean)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
        return p
    }
}

func write(_ bytes: [UInt8], to path: String) {
    // Plain (non-atomic) write: FileManager.createFile syncs and is ~30x slower here.
    do { try Data(bytes).write(to: URL(fileURLWithPath: path)) } catch { fatalError("test setup: cannot write \(path): \(error)") }
}

/// ../shared relative to this repository, found from this source file's path.
let sharedDir: String = {
    // realpath: the file may be reached through a symlinked folder.
    var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/ModelFormatsTests/TestFiles.swift → repo
    return url.deletingLastPathComponent().appendingPathComponent("shared").path
}()
