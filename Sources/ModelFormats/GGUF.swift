import Foundation

/// One metadata value of a GGUF file. Arrays hold values of a single type.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16)
    case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer type (and bool) as an Int, if it fits.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        case .bool(let v): return v ? 1 : 0
        default: return nil
        }
    }

    /// Any numeric type as a Double.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return int.map { $0 != 0 }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// A short rendering for `model-info` (arrays are summarised, long strings cut).
    public var summary: String {
        switch self {
        case .string(let s):
            let oneLine = s.replacingOccurrences(of: "\n", with: "\\n")
            return oneLine.count > 60 ? "\"\(oneLine.prefix(57))...\"" : "\"\(oneLine)\""
        case .array(let a): return "[\(a.count) items]"
        case .bool(let b): return b ? "true" : "false"
        case .float32(let f): return "\(f)"
        case .float64(let f): return "\(f)"
        default: return int.map { "\($0)" } ?? "?"
        }
    }
}

/// One tensor as described by a GGUF tensor info, with its data located in the file.
public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// GGML order: ne[0] is the innermost (contiguous) dimension.
    public let ne: [Int]
    public let type: TensorType
    /// Offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int
}

/// A parsed, memory-mapped GGUF file (version 2 or 3, little-endian).
///
/// Opening validates every count, length, offset, type and size against the file; tensor data
/// is not copied.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata key/values in file order (keys are unique; a duplicate is an error).
    public let metadata: [String: GGUFValue]
    public let metadataKeys: [String]
    public let tensorInfos: [GGUFTensorInfo]
    public let alignment: Int
    /// Offset of the tensor data section from the start of the file.
    public let dataOffset: Int
    public let mapping: MappedFile

    static let magic: UInt32 = 0x4655_4747 // "GGUF" read little-endian
    /// GGML_MAX_DIMS.
    static let maxDims = 4

    public convenience init(path: String) throws {
        try self.init(mapping: MappedFile(path: path))
    }

    public init(mapping: MappedFile) throws {
        let file = mapping.path
        self.path = file
        self.mapping = mapping
        var r = ByteReader(mapping.bytes, file: file)
        guard mapping.bytes.count >= 24 else {
            throw ModelFormatError(file: file, "too short for a GGUF header (\(mapping.bytes.count) bytes)", .offset(0))
        }
        let magic = try r.read(UInt32.self, "magic")
        guard magic == Self.magic else {
            if magic == 0x4747_5546 {
                throw ModelFormatError(file: file, "big-endian GGUF is not supported", .offset(0))
            }
            throw ModelFormatError(file: file, "bad magic, not a GGUF file", .offset(0))
        }
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw ModelFormatError(file: file, "unsupported GGUF version \(version) (expected 2 or 3)", .offset(4))
        }
        let tensorCount = try r.read(UInt64.self, "tensor count")
        let kvCount = try r.read(UInt64.self, "metadata count")
        // Each tensor info takes at least 8 (name len) + 4 (dims) + 4 (type) + 8 (offset) bytes
        // and each key/value at least 8 + 4 + 1; anything claiming more than fits is corrupt.
        guard tensorCount <= UInt64(r.remaining / 24) else {
            throw ModelFormatError(file: file, "absurd tensor count \(tensorCount)", .offset(8))
        }
        guard kvCount <= UInt64(r.remaining / 13) else {
            throw ModelFormatError(file: file, "absurd metadata count \(kvCount)", .offset(16))
        }

        var meta: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<Int(kvCount) {
            let key = try r.readString("metadata key")
            let value = try Self.readValue(&r, key: key, depth: 0)
            if meta[key] != nil {
                throw ModelFormatError(file: file, "duplicate metadata key", .key(key))
            }
            meta[key] = value
            keys.append(key)
        }
        metadata = meta
        metadataKeys = keys

        var align = 32
        if let a = meta["general.alignment"] {
            guard let v = a.int, v > 0, v <= 1 << 20, v & (v - 1) == 0 else {
                throw ModelFormatError(file: file, "general.alignment must be a power of two", .key("general.alignment"))
            }
            align = v
        }
        alignment = align

        struct Raw { let name: String; let ne: [Int]; let type: TensorType; let offset: UInt64; let at: Int }
        var raws: [Raw] = []
        raws.reserveCapacity(Int(tensorCount))
        var seen = Set<String>()
        for _ in 0..<Int(tensorCount) {
            let at = r.offset
            let name = try r.readString("tensor name")
            let nDims = try r.read(UInt32.self, "tensor dimension count")
            guard nDims >= 1, nDims <= UInt32(Self.maxDims) else {
                throw ModelFormatError(file: file, "tensor has \(nDims) dimensions (1...\(Self.maxDims) allowed)", .tensor(name))
            }
            var ne: [Int] = []
            for _ in 0..<Int(nDims) {
                let d = try r.read(UInt64.self, "tensor dimension")
                guard d <= UInt64(Int32.max) * 1024 else {
                    throw ModelFormatError(file: file, "absurd dimension \(d)", .tensor(name))
                }
                ne.append(Int(d))
            }
            let typeID = try r.read(UInt32.self, "tensor type")
            guard let type = TensorType(rawValue: typeID) else {
                throw ModelFormatError(file: file, "unknown tensor type id \(typeID)", .tensor(name))
            }
            let off = try r.read(UInt64.self, "tensor offset")
            guard seen.insert(name).inserted else {
                throw ModelFormatError(file: file, "duplicate tensor name", .tensor(name))
            }
            raws.append(Raw(name: name, ne: ne, type: type, offset: off, at: at))
        }

        // The data section starts at the next multiple of the alignment.
        let headerEnd = r.offset
        let (padded, ovf) = headerEnd.addingReportingOverflow(align - 1)
        guard !ovf else { throw ModelFormatError(file: file, "header size overflows", .offset(headerEnd)) }
        let dataStart = padded / align * align
        dataOffset = dataStart
        let fileSize = mapping.bytes.count
        if !raws.isEmpty && dataStart > fileSize {
            throw ModelFormatError(file: file, "tensor data section starts past the end of the file", .offset(dataStart))
        }

        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(raws.count)
        for raw in raws {
            var elements = 1
            for d in raw.ne {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o, p <= 1 << 48 else {
                    throw ModelFormatError(file: file, "absurd shape \(raw.ne) (element count overflows)", .tensor(raw.name))
                }
                elements = p
            }
            guard raw.ne[0] % raw.type.blockSize == 0 else {
                throw ModelFormatError(file: file, "row length \(raw.ne[0]) is not a multiple of the \(raw.type.name) block size \(raw.type.blockSize)", .tensor(raw.name))
            }
            guard let bytes = raw.type.byteCount(elements: elements) else {
                throw ModelFormatError(file: file, "byte size of shape \(raw.ne) overflows", .tensor(raw.name))
            }
            guard raw.offset % UInt64(align) == 0 else {
                throw ModelFormatError(file: file, "data offset \(raw.offset) is not aligned to \(align)", .tensor(raw.name))
            }
            guard raw.offset <= UInt64(fileSize), Int(raw.offset) <= fileSize - dataStart,
                  bytes <= fileSize - dataStart - Int(raw.offset) else {
                throw ModelFormatError(file: file, "data (offset \(raw.offset), \(bytes) bytes for shape \(raw.ne) \(raw.type.name)) runs past the end of the file", .tensor(raw.name))
            }
            infos.append(GGUFTensorInfo(name: raw.name, ne: raw.ne, type: raw.type,
                                        fileOffset: dataStart + Int(raw.offset), byteCount: bytes))
        }
        // Tensors must not overlap: sort by offset and check neighbours.
        let byOffset = infos.sorted { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw ModelFormatError(file: file, "data overlaps tensor \(a.name) (size disagrees with the offsets)", .tensor(b.name))
        }
        tensorInfos = infos
    }

    /// Reads one typed value; arrays of arrays are allowed (GGUF permits them) but bounded.
    static func readValue(_ r: inout ByteReader, key: String, depth: Int) throws -> GGUFValue {
        let typeAt = r.offset
        let type = try r.read(UInt32.self, "value type of \(key)")
        return try readValue(&r, type: type, typeAt: typeAt, key: key, depth: depth)
    }

    static func readValue(_ r: inout ByteReader, type: UInt32, typeAt: Int, key: String, depth: Int) throws -> GGUFValue {
        do {
            switch type {
            case 0: return .uint8(try r.read(UInt8.self, "value"))
            case 1: return .int8(try r.read(Int8.self, "value"))
            case 2: return .uint16(try r.read(UInt16.self, "value"))
            case 3: return .int16(try r.read(Int16.self, "value"))
            case 4: return .uint32(try r.read(UInt32.self, "value"))
            case 5: return .int32(try r.read(Int32.self, "value"))
            case 6: return .float32(try r.readF32("value"))
            case 7:
                let b = try r.read(UInt8.self, "value")
                guard b <= 1 else { throw r.fail("bool value \(b) is not 0 or 1") }
                return .bool(b == 1)
            case 8: return .string(try r.readString("string value"))
            case 9:
                guard depth < 4 else { throw r.fail("arrays nested too deeply") }
                let elemType = try r.read(UInt32.self, "array element type")
                let countAt = r.offset
                let count = try r.read(UInt64.self, "array length")
                let minSize: UInt64
                switch elemType {
                case 0, 1, 7: minSize = 1
                case 2, 3: minSize = 2
                case 4, 5, 6: minSize = 4
                case 8, 10, 11, 12: minSize = 8
                case 9: minSize = 12
                default: throw r.fail("unknown array element type \(elemType)", at: countAt - 4)
                }
                guard count <= UInt64(r.remaining) / minSize else {
                    throw r.fail("array length \(count) runs past the end of the file", at: countAt)
                }
                var items: [GGUFValue] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<Int(count) {
                    items.append(try readValue(&r, type: elemType, typeAt: r.offset, key: key, depth: depth + 1))
                }
                return .array(items)
            case 10: return .uint64(try r.read(UInt64.self, "value"))
            case 11: return .int64(try r.read(Int64.self, "value"))
            case 12: return .float64(try r.readF64("value"))
            default:
                throw ModelFormatError(file: r.file, "unknown value type \(type)", .key(key))
            }
        } catch let e as ModelFormatError {
            // Name the key rather than only the offset, unless the error already names one.
            if case .key = e.place { throw e }
            if case .offset(let o) = e.place {
                throw ModelFormatError(file: e.file, "\(e.what) at offset \(o)", .key(key))
            }
            throw e
        }
    }

    /// The data of a tensor, in place in the mapping.
    public func data(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[info.fileOffset..<(info.fileOffset + info.byteCount)])
    }

    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
    public func string(_ key: String) -> String? { metadata[key]?.string }
}
