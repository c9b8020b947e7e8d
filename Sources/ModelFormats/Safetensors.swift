import Foundation

/// Element types of safetensors files. Only the float types are used by the engine; the
/// others are recognised so they are reported as unsupported rather than misread.
public enum SafetensorsDType: String, Sendable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2", u16 = "U16", u32 = "U32", u64 = "U64"

    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool, .f8e4m3, .f8e5m2: return 1
        }
    }

    /// The matching `TensorType`, for the types the engine can use.
    public var tensorType: TensorType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }
}

/// One memory-mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}}`, then the data. Offsets are relative
/// to the end of the header. Data is not necessarily aligned to its element size; readers
/// must use unaligned loads (or copy).
public final class SafetensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Offset from the start of the file.
        public let fileOffset: Int
        public let byteCount: Int
    }

    public let path: String
    public let mapping: MappedFile
    public let entries: [Entry]
    public let metadata: [String: String]

    public convenience init(path: String) throws {
        try self.init(mapping: MappedFile(path: path))
    }

    public init(mapping: MappedFile) throws {
        let path = mapping.path
        self.path = path
        self.mapping = mapping
        let bytes = mapping.bytes
        var r = ByteReader(bytes, file: path)
        let headerLen = try r.read(UInt64.self, "header length")
        guard headerLen >= 2, headerLen <= 100_000_000, headerLen <= UInt64(r.remaining) else {
            throw ModelFormatError(file: path, "header length \(headerLen) is absurd or runs past the end of the file (\(bytes.count) bytes); not a safetensors file?", .offset(0))
        }
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + Int(headerLen))]))
        let dataStart = 8 + Int(headerLen)
        let dataSize = bytes.count - dataStart
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw ModelFormatError(file: path, "header is not valid JSON", .offset(8))
        }
        guard let header = parsed as? [String: Any] else {
            throw ModelFormatError(file: path, "header is not a JSON object", .offset(8))
        }
        var meta: [String: String] = [:]
        var list: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                if let m = value as? [String: Any] {
                    for (k, v) in m { if let s = v as? String { meta[k] = s } }
                }
                continue
            }
            guard let obj = value as? [String: Any] else {
                throw ModelFormatError(file: path, "entry is not an object", .tensor(name))
            }
            guard let dtypeName = obj["dtype"] as? String else {
                throw ModelFormatError(file: path, "missing dtype", .tensor(name))
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw ModelFormatError(file: path, "unknown dtype \(dtypeName)", .tensor(name))
            }
            guard let shapeAny = obj["shape"] as? [Any] else {
                throw ModelFormatError(file: path, "missing shape", .tensor(name))
            }
            var shape: [Int] = []
            var elements = 1
            for d in shapeAny {
                guard let n = jsonInt(d), n >= 0, n <= 1 << 40 else {
                    throw ModelFormatError(file: path, "absurd dimension in shape \(shapeAny)", .tensor(name))
                }
                let (p, o) = elements.multipliedReportingOverflow(by: n)
                guard !o, p <= 1 << 48 else {
                    throw ModelFormatError(file: path, "absurd shape \(shapeAny) (element count overflows)", .tensor(name))
                }
                elements = p
                shape.append(n)
            }
            guard let offs = obj["data_offsets"] as? [Any], offs.count == 2,
                  let begin = jsonInt(offs[0]), let end = jsonInt(offs[1]) else {
                throw ModelFormatError(file: path, "missing or malformed data_offsets", .tensor(name))
            }
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw ModelFormatError(file: path, "data_offsets [\(begin), \(end)] run past the end of the data (\(dataSize) bytes)", .tensor(name))
            }
            let expected = elements * dtype.byteSize
            guard end - begin == expected else {
                throw ModelFormatError(file: path, "data size \(end - begin) disagrees with shape \(shape) of \(dtypeName) (\(expected) bytes)", .tensor(name))
            }
            list.append(Entry(name: name, dtype: dtype, shape: shape, fileOffset: dataStart + begin, byteCount: expected))
        }
        list.sort { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(list, list.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw ModelFormatError(file: path, "data overlaps tensor \(a.name)", .tensor(b.name))
        }
        entries = list
        metadata = meta
    }

    public func data(of entry: Entry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[entry.fileOffset..<(entry.fileOffset + entry.byteCount)])
    }
}

/// Reads `model.safetensors.index.json`: which shard file holds each tensor.
public func readSafetensorsIndex(path: String) throws -> [String: String] {
    let obj = try readJSONObject(path: path)
    guard let map = obj["weight_map"] as? [String: Any] else {
        throw ModelFormatError(file: path, "missing weight_map", .field("weight_map"))
    }
    var out: [String: String] = [:]
    for (k, v) in map {
        guard let s = v as? String, !s.contains("/"), !s.isEmpty else {
            throw ModelFormatError(file: path, "weight_map entry is not a plain file name", .field("weight_map.\(k)"))
        }
        out[k] = s
    }
    return out
}

// MARK: - JSON helpers (Foundation's JSONSerialization; values come back as Any)

/// Integer from a JSON number (fractions rejected). JSON booleans are not distinguished from
/// 0/1 here; Foundation on Linux bridges them the same way.
func jsonInt(_ v: Any?) -> Int? {
    guard let n = v as? NSNumber else { return nil }
    let d = n.doubleValue
    guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
    return Int(d)
}

func jsonDouble(_ v: Any?) -> Double? {
    (v as? NSNumber)?.doubleValue
}

func jsonBool(_ v: Any?) -> Bool? {
    if let b = v as? Bool { return b }
    return (v as? NSNumber).map { $0.intValue != 0 }
}

func readJSONObject(path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ModelFormatError(file: path, "cannot read file")
    }
    let parsed: Any
    do {
        parsed = try JSONSerialization.jsonObject(with: data)
    } catch {
        let ns = error as NSError
        let detail = (ns.userInfo["NSDebugDescription"] as? String).map { ": \($0)" } ?? ""
        throw ModelFormatError(file: path, "not valid JSON\(detail)")
    }
    guard let obj = parsed as? [String: Any] else {
        throw ModelFormatError(file: path, "expected a JSON object at the top level")
    }
    return obj
}
