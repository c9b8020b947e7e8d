import Foundation
import XCTest
@testable import ModelFormats

/// A GGUF written by gguf-py (scripts/gguf-golden/make_fixture.py) with every compute type:
/// our reader must see the same tensors, types, shapes, sizes, offsets and bytes as gguf-py's
/// reader did, and the same metadata.
final class GGUFPyAgreementTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static func fnv1a64(_ data: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    func testAgreesWithGGUFPy() throws {
        let path = "\(Self.fixtures)/mixed-types.gguf"
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/mixed-types.json"))) as? [String: Any])
        let tensors = try XCTUnwrap(expected["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, 12)

        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.mapping.bytes.count, expected["file_size"] as? Int)
        let m = try ModelFile.openGGUF(g)
        XCTAssertEqual(m.tensors.count, tensors.count)
        var seenTypes = Set<TensorType>()
        for want in tensors {
            let name = try XCTUnwrap(want["name"] as? String)
            let t = try XCTUnwrap(m.tensor(name), name)
            let info = try XCTUnwrap(g.tensorInfos.first { $0.name == name })
            XCTAssertEqual(t.type.name, want["type"] as? String, name)
            XCTAssertEqual(Int(t.type.ggmlID), want["ggml_id"] as? Int, name)
            XCTAssertEqual(t.shape, want["shape"] as? [Int], name)
            XCTAssertEqual(t.data.count, want["bytes"] as? Int, name)
            XCTAssertEqual(info.fileOffset, want["offset"] as? Int, name)
            XCTAssertEqual(String(Self.fnv1a64(t.data)), want["fnv1a64"] as? String, name)
            seenTypes.insert(t.type)
        }
        XCTAssertEqual(seenTypes, TensorType.computeTypes)
        XCTAssertNoThrow(try m.checkComputeTypes())

        XCTAssertEqual(m.config.architecture, .llama)
        XCTAssertEqual(m.config.ropeLayout, .adjacentPairs)
        XCTAssertEqual(m.config.hiddenSize, 256)
        XCTAssertEqual(m.config.headDim, 128)
        XCTAssertEqual(m.config.ropeTheta, 500_000)
        XCTAssertFalse(m.config.tiedEmbeddings)
        XCTAssertEqual(m.metadata["stepwise.test.ints"], .array([.int32(1), .int32(-2), .int32(3)]))
        XCTAssertEqual(m.metadata["stepwise.test.f64"]?.double, 2.5)
        XCTAssertEqual(g.alignment, 32)
        XCTAssertEqual(m.memoryEstimate(context: 512, batch: 1).weightBytes, tensors.reduce(0) { $0 + ($1["bytes"] as? Int ?? 0) })
    }
}
