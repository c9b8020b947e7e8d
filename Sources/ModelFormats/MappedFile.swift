import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory. Tensor data is used in place from this mapping,
/// so it must stay alive as long as any `TensorView` pointing into it (the `ModelFile` that
/// owns it guarantees that).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The mapped bytes; empty for an empty file.
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        ownsHeapCopy = false
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ModelFormatError(file: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ModelFormatError(file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw ModelFormatError(file: path, "is a directory, expected a file")
        }
        let size = Int(st.st_size)
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelFormatError(file: path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    private let ownsHeapCopy: Bool

    /// An in-memory copy standing in for a file (tests and fuzzing; `path` is only a label).
    public init(copying data: [UInt8], path: String) {
        self.path = path
        ownsHeapCopy = true
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { src in
            if let s = src.baseAddress { p.copyMemory(from: s, byteCount: data.count) }
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: data.count)
    }

    deinit {
        guard let base else { return }
        if ownsHeapCopy { base.deallocate() } else { munmap(base, bytes.count) }
    }
}

/// Bounds-checked little-endian reads over a byte buffer. Every read that would run past the
/// end throws instead of trapping, naming the offset where it happened.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    func fail(_ what: String, at: Int? = nil) -> ModelFormatError {
        ModelFormatError(file: file, what, .offset(at ?? offset))
    }

    mutating func need(_ n: Int, _ what: String) throws {
        if n < 0 || n > remaining {
            throw fail("\(what) runs past the end of the file (needs \(n) bytes, \(max(remaining, 0)) left)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        try need(MemoryLayout<T>.size, what)
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readF32(_ what: String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    mutating func readF64(_ what: String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    /// A GGUF string: u64 length then that many bytes of UTF-8 (invalid sequences are repaired
    /// with U+FFFD rather than rejected; token lists in the wild occasionally contain them).
    mutating func readString(_ what: String) throws -> String {
        let start = offset
        let len = try read(UInt64.self, "\(what) length")
        guard len <= UInt64(remaining) else {
            throw fail("\(what) length \(len) runs past the end of the file", at: start)
        }
        let n = Int(len)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
        offset += n
        return String(decoding: slice, as: UTF8.self)
    }
}
