// A shared library opened at run time (dlopen/dlsym).
//
// The GPU APIs (libcuda, libnvrtc, libOpenCL) are loaded this way rather than linked, so the
// binary builds and runs on machines that have none of them; a missing library or symbol is a
// one-line `DeviceError`, never a crash at load time.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open shared library; closed when the last reference goes (symbols taken from it must
/// not outlive it, so the API wrappers keep the library alongside their function pointers).
final class DynamicLibrary: @unchecked Sendable {
    /// The candidate that opened.
    let path: String
    private let handle: UnsafeMutableRawPointer

    /// Opens the first of `candidates` that dlopen accepts (names are searched on the loader's
    /// path, e.g. "libOpenCL.so.1"; absolute paths are opened as they are).
    init(candidates: [String]) throws {
        var failures: [String] = []
        for candidate in candidates {
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                self.path = candidate
                self.handle = handle
                return
            }
            failures.append(Self.lastError() ?? "\(candidate): not found")
        }
        let tried = candidates.joined(separator: ", ")
        let why = failures.isEmpty ? "" : " (" + failures.joined(separator: "; ") + ")"
        throw DeviceError("cannot load \(tried.isEmpty ? "a library (no candidates)" : tried)\(why)")
    }

    deinit { dlclose(handle) }

    /// The function `name` as the C function type `type` (a `@convention(c)` function type
    /// whose signature must match the library's declaration; that is not checked).
    func symbol<T>(_ name: String, as type: T.Type) throws -> T {
        guard let function = optionalSymbol(name, as: type) else {
            throw DeviceError("\(path) has no symbol \(name)")
        }
        return function
    }

    /// The function `name`, or nil when the library does not export it (an entry point that
    /// only newer versions have).
    func optionalSymbol<T>(_ name: String, as type: T.Type) -> T? {
        precondition(MemoryLayout<T>.size == MemoryLayout<UnsafeMutableRawPointer>.size,
                     "DynamicLibrary.symbol: \(T.self) is not a C function pointer type")
        _ = dlerror()  // clear a stale error
        guard let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// dlerror() as one line, or nil.
    private static func lastError() -> String? {
        guard let message = dlerror() else { return nil }
        return String(cString: message).replacingOccurrences(of: "\n", with: " ")
    }
}
