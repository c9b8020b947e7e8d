import XCTest
@testable import ModelFormats

/// Corrupt and truncated files must give one-line errors naming the file and place, never crash.
final class BadInputTests: XCTestCase {
    private func expectError(_ bytes: [UInt8], contains what: String, file: StaticString = #filePath, line: UInt = #line) {
        let dir = makeTempDir()
        let path = dir + "/bad.gguf"
        write(bytes, to: path)
        do {
            _ = try ModelFile.open(path: path)
            XCTFail("opened a bad file", file: file, line: line)
        } catch let e as ModelFormatError {
            let d = e.description
            XCTAssertTrue(d.hasPrefix(path + ": "), d, file: file, line: line)
            XCTAssertFalse(d.contains("\n"), d, file: file, line: line)
            XCTAssertTrue(d.contains(what), "\(d) should mention \(what)", file: file, line: line)
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    func testBadMagicAndVersion() {
        var b = GGUFBuilder.tinyModel().bytes()
        b[0] = UInt8(ascii: "X")
        expectError(b, contains: "bad magic, not a GGUF file (at offset 0)")
        var v = GGUFBuilder.tinyModel()
        v.version = 7
        expectError(v.bytes(), contains: "unsupported GGUF version 7")
        expectError([], contains: "too short")
    }

    func testTruncatedEverywhere() {
        let full = GGUFBuilder.tinyModel().bytes()
        // Cutting anywhere must fail cleanly (header, metadata, tensor infos or data).
        for cut in stride(from: 0, to: full.count - 1, by: 3) {
            let mapping = MappedFile(copying: Array(full[0..<cut]), path: "t.gguf")
            XCTAssertThrowsError(try ModelFile.openGGUF(GGUFFile(mapping: mapping)), "cut at \(cut)")
        }
    }

    func testOffsetPastEnd() {
        var b = GGUFBuilder.tinyModel()
        b.tensors[1].offsetOverride = 1 << 40
        expectError(b.bytes(), contains: "runs past the end of the file (tensor output_norm.weight)")
    }

    func testMisalignedOffset() {
        var b = GGUFBuilder.tinyModel()
        b.tensors[1].offsetOverride = 4
        expectError(b.bytes(), contains: "not aligned to 32 (tensor output_norm.weight)")
    }

    func testShapeDisagreesWithConfig() {
        var b = GGUFBuilder.tinyModel()
        b.tensors[1].ne = [4]
        b.tensors[1].data = Array(b.tensors[1].data[0..<16])
        expectError(b.bytes(), contains: "shape [4] disagrees with the config (expected [8]) (tensor output_norm.weight)")
    }

    func testOverlappingTensors() {
        var b = GGUFBuilder.tinyModel()
        b.tensors[2].offsetOverride = 0 // output.weight on top of token_embd
        expectError(b.bytes(), contains: "overlaps")
    }

    func testUnknownTypeAndAbsurdDims() {
        var b = GGUFBuilder.tinyModel()
        b.tensors[0].type = 99
        expectError(b.bytes(), contains: "unknown tensor type id 99 (tensor token_embd.weight)")
        var c = GGUFBuilder.tinyModel()
        c.tensors[0].ne = [UInt64.max, 2]
        expectError(c.bytes(), contains: "absurd dimension")
        var d = GGUFBuilder.tinyModel()
        d.tensors[0].ne = [1 << 30, 1 << 30, 1 << 30]
        expectError(d.bytes(), contains: "absurd shape")
        var e = GGUFBuilder.tinyModel()
        e.tensors[0].ne = [8, 12, 1, 1, 1]
        expectError(e.bytes(), contains: "5 dimensions")
    }

    func testAbsurdCountsAndLengths() {
        var b = GGUFBuilder.tinyModel().bytes()
        b.replaceSubrange(8..<16, with: GGUFBuilder.le(UInt64(1) << 60))
        expectError(b, contains: "absurd tensor count")
        var c = GGUFBuilder.tinyModel().bytes()
        c.replaceSubrange(16..<24, with: GGUFBuilder.le(UInt64(1) << 60))
        expectError(c, contains: "absurd metadata count")
        // First key's length field.
        var d = GGUFBuilder.tinyModel().bytes()
        d.replaceSubrange(24..<32, with: GGUFBuilder.le(UInt64(1) << 50))
        expectError(d, contains: "metadata key length 1125899906842624 runs past the end of the file (at offset 24)")
    }

    func testUnsupportedArchitectureAndMissingKeys() {
        var b = GGUFBuilder.tinyModel(arch: "gpt2")
        expectError(b.bytes(), contains: "unsupported architecture gpt2")
        b = GGUFBuilder.tinyModel()
        b.kv.removeAll { $0.0 == "llama.block_count" }
        expectError(b.bytes(), contains: "missing or non-integer value (key llama.block_count)")
        b = GGUFBuilder.tinyModel()
        b.tensors.removeLast()
        expectError(b.bytes(), contains: "missing tensor (tensor blk.1.ffn_down.weight)")
    }

    func testMissingTokenizerIsOneLine() throws {
        var b = GGUFBuilder.tinyModel()
        b.kv.removeAll { $0.0.hasPrefix("tokenizer.") }
        let dir = makeTempDir()
        write(b.bytes(), to: dir + "/m.gguf")
        let m = try ModelFile.open(path: dir + "/m.gguf")
        XCTAssertThrowsError(try m.loadTokenizerData()) { e in
            XCTAssertEqual("\(e)", "\(dir)/m.gguf: no tokenizer in this file (key tokenizer.ggml.model)")
        }
    }

    /// Mutates a valid file many times: truncations, bit flips, and edits of length/count
    /// fields. Opening may fail or succeed, but must never crash.
    func testFuzzMutationsNeverCrash() throws {
        let base = GGUFBuilder.tinyModel(arch: "qwen2", bias: true).bytes()
        let path = "fuzz.gguf"
        var rng = SplitMix(seed: 0x5eed)
        var opened = 0, rejected = 0
        for _ in 0..<3000 {
            var b = base
            switch rng.next() % 4 {
            case 0:
                b = Array(b[0..<Int(rng.next() % UInt64(b.count))])
            case 1:
                for _ in 0..<(1 + rng.next() % 4) {
                    let i = Int(rng.next() % UInt64(b.count))
                    b[i] ^= UInt8(1 << (rng.next() % 8))
                }
            case 2:
                // Overwrite an 8-byte little-endian field in the header region with a boundary value.
                let headerEnd = min(b.count - 8, 2048)
                let i = Int(rng.next() % UInt64(headerEnd))
                let values: [UInt64] = [0, 1, 0xFF, 0xFFFF_FFFF, UInt64.max, UInt64(b.count), 1 << 32, rng.next()]
                b.replaceSubrange(i..<(i + 8), with: GGUFBuilder.le(values[Int(rng.next() % UInt64(values.count))]))
            default:
                let i = Int(rng.next() % UInt64(b.count - 4))
                b.replaceSubrange(i..<(i + 4), with: GGUFBuilder.le(UInt32(truncatingIfNeeded: rng.next())))
            }
            do {
                let m = try ModelFile.openGGUF(GGUFFile(mapping: MappedFile(copying: b, path: path)))
                _ = try? m.loadTokenizerData()
                // Touch every tensor's bytes: all must lie inside the mapping.
                var sum = 0
                for t in m.tensors { sum &+= Int(t.data.first ?? 0) &+ Int(t.data.last ?? 0) }
                _ = sum
                opened += 1
            } catch let e as ModelFormatError {
                XCTAssertFalse(e.description.contains("\n"))
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 1000)
        XCTAssertGreaterThan(opened, 0)
    }
}

/// Small deterministic generator for the fuzz test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class SafetensorsFuzzTests: XCTestCase {
    /// Mutated safetensors headers and data: errors or success, never a crash, and every
    /// accepted tensor lies inside the file.
    func testFuzzMutationsNeverCrash() {
        let base = SafetensorsBuilder(tensors: [.f32("a.weight", [3, 4]), .bf16("b.weight", [8]), .f32("c", [])]).bytes()
        var rng = SplitMix(seed: 42)
        var rejected = 0
        for _ in 0..<2000 {
            var b = base
            switch rng.next() % 3 {
            case 0: b = Array(b[0..<Int(rng.next() % UInt64(b.count))])
            case 1:
                let i = Int(rng.next() % UInt64(b.count))
                b[i] = UInt8(truncatingIfNeeded: rng.next())
            default:
                // Rewrite one digit in the JSON header (shapes and offsets).
                let digits = b.indices.filter { $0 >= 8 && $0 < 8 + 200 && b[$0] >= 0x30 && b[$0] <= 0x39 }
                if let i = digits.isEmpty ? nil : digits[Int(rng.next() % UInt64(digits.count))] {
                    b[i] = 0x30 + UInt8(rng.next() % 10)
                }
            }
            do {
                let f = try SafetensorsFile(mapping: MappedFile(copying: b, path: "fuzz.safetensors"))
                for e in f.entries {
                    XCTAssertLessThanOrEqual(e.fileOffset + e.byteCount, b.count)
                    _ = f.data(of: e).last
                }
            } catch let e as ModelFormatError {
                XCTAssertFalse(e.description.contains("\n"))
                rejected += 1
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, 500)
    }
}
