// NVRTC, NVIDIA's run-time CUDA C++ compiler, loaded with dlopen (libnvrtc.so.13 / .so.12 /
// .so.11.2, or the file named by $STEPWISE_NVRTC).
//
// The CUDA device compiles the kernel source with it for the GPU's compute capability: to a
// cubin (`--gpu-architecture=sm_XY`, machine code the driver loads as is) when NVRTC knows the
// GPU, else to PTX for the newest architecture NVRTC knows (`compute_XY`), which the driver
// compiles for the GPU when it loads the module. `NVRTCCompileCheck` uses the same compiler to
// check the kernels in CI, where there is no GPU: NVRTC itself needs none.
//
// C declarations (nvrtc.h): nvrtcResult is a C enum (int); nvrtcProgram is a pointer to an
// opaque struct; sizes are size_t.

import Foundation

/// The NVRTC library and the entry points we use.
final class NVRTC: @unchecked Sendable {
    typealias Program = OpaquePointer

    private typealias VersionFn = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    private typealias ErrorStringFn = @convention(c) (Int32) -> UnsafePointer<CChar>?
    private typealias CreateProgramFn = @convention(c) (
        UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private typealias DestroyProgramFn = @convention(c) (UnsafeMutablePointer<Program?>) -> Int32
    private typealias CompileProgramFn = @convention(c) (Program, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private typealias GetSizeFn = @convention(c) (Program, UnsafeMutablePointer<Int>) -> Int32
    private typealias GetBytesFn = @convention(c) (Program, UnsafeMutablePointer<CChar>) -> Int32
    private typealias NumArchsFn = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    private typealias ArchsFn = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32

    /// NVRTC_ERROR_COMPILATION: the source did not compile (the log says why).
    private static let compilationError: Int32 = 6

    /// The file that was opened.
    let path: String
    /// NVRTC's version, which is the CUDA toolkit version it comes from (e.g. 12.9).
    let version: (major: Int, minor: Int)
    /// The real architectures NVRTC can make cubins for, as 10 * major + minor (e.g. 80, 90).
    let supportedArchitectures: [Int]

    private let library: DynamicLibrary
    private let errorString: ErrorStringFn
    private let createProgram: CreateProgramFn
    private let destroyProgram: DestroyProgramFn
    private let compileProgram: CompileProgramFn
    private let getPTXSize: GetSizeFn
    private let getPTX: GetBytesFn
    private let getCUBINSize: GetSizeFn?
    private let getCUBIN: GetBytesFn?
    private let getLogSize: GetSizeFn
    private let getLog: GetBytesFn

    /// Where NVRTC is looked for: $STEPWISE_NVRTC alone when set, else the CUDA 13, 12 and 11.2+
    /// sonames on the loader's path, then in a toolkit's lib64 ($CUDA_HOME, /usr/local/cuda),
    /// which installers do not always put on that path.
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let path = environment["STEPWISE_NVRTC"], !path.isEmpty { return [path] }
        let sonames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]
        var toolkits = ["/usr/local/cuda"]
        if let home = environment["CUDA_HOME"], !home.isEmpty, home != "/usr/local/cuda" { toolkits.insert(home, at: 0) }
        return sonames + toolkits.flatMap { toolkit in sonames.map { "\(toolkit)/lib64/\($0)" } }
    }

    /// Opens the first NVRTC of `candidates` that loads. Throws a one-line error naming what was
    /// tried when none does.
    convenience init(candidates: [String] = NVRTC.candidates()) throws {
        let library: DynamicLibrary
        do {
            library = try DynamicLibrary(candidates: candidates)
        } catch {
            throw DeviceError("NVRTC not found (the CUDA runtime compiler; install the CUDA toolkit or pip's nvidia-cuda-nvrtc-cu12, or set STEPWISE_NVRTC=/path/to/libnvrtc.so.12): \(error)")
        }
        try self.init(library: library)
    }

    /// Opens NVRTC from one file (e.g. the PyPI wheel's lib/libnvrtc.so.12).
    convenience init(path: String) throws {
        try self.init(candidates: [path])
    }

    private init(library: DynamicLibrary) throws {
        self.library = library
        self.path = library.path
        let versionFn = try library.symbol("nvrtcVersion", as: VersionFn.self)
        errorString = try library.symbol("nvrtcGetErrorString", as: ErrorStringFn.self)
        createProgram = try library.symbol("nvrtcCreateProgram", as: CreateProgramFn.self)
        destroyProgram = try library.symbol("nvrtcDestroyProgram", as: DestroyProgramFn.self)
        compileProgram = try library.symbol("nvrtcCompileProgram", as: CompileProgramFn.self)
        getPTXSize = try library.symbol("nvrtcGetPTXSize", as: GetSizeFn.self)
        getPTX = try library.symbol("nvrtcGetPTX", as: GetBytesFn.self)
        getLogSize = try library.symbol("nvrtcGetProgramLogSize", as: GetSizeFn.self)
        getLog = try library.symbol("nvrtcGetProgramLog", as: GetBytesFn.self)
        // Cubin output and the architecture list came with CUDA 11.1/11.2.
        getCUBINSize = library.optionalSymbol("nvrtcGetCUBINSize", as: GetSizeFn.self)
        getCUBIN = library.optionalSymbol("nvrtcGetCUBIN", as: GetBytesFn.self)

        var major: Int32 = 0, minor: Int32 = 0
        let status = versionFn(&major, &minor)
        guard status == 0 else {
            throw DeviceError("NVRTC (\(library.path)): nvrtcVersion failed with status \(status)")
        }
        version = (Int(major), Int(minor))

        var architectures: [Int] = []
        if let count = library.optionalSymbol("nvrtcGetNumSupportedArchs", as: NumArchsFn.self),
           let list = library.optionalSymbol("nvrtcGetSupportedArchs", as: ArchsFn.self) {
            var n: Int32 = 0
            if count(&n) == 0, n > 0 {
                var values = [Int32](repeating: 0, count: Int(n))
                if list(&values) == 0 { architectures = values.map(Int.init) }
            }
        }
        supportedArchitectures = architectures.sorted()
    }

    var versionString: String { "\(version.major).\(version.minor)" }

    /// The name NVRTC gives a status code (e.g. "NVRTC_ERROR_INVALID_OPTION").
    func name(of status: Int32) -> String {
        guard let text = errorString(status) else { return "NVRTC status \(status)" }
        return String(cString: text)
    }

    /// What one compilation produced. `log` is NVRTC's whole log (errors and warnings);
    /// `ptx` and `cubin` are nil when the compilation failed (or, for `cubin`, when the target
    /// was a virtual `compute_XY` architecture).
    struct Compilation {
        let succeeded: Bool
        let log: String
        let ptx: Data?
        let cubin: Data?
    }

    /// Compiles `source` with `options` (e.g. ["--gpu-architecture=sm_80"]). A source that does
    /// not compile is not an error here: the result says so and carries the log. Throws only
    /// when NVRTC itself fails (bad option, out of memory, ...).
    func compile(source: String, name: String = "stepwise.cu", options: [String]) throws -> Compilation {
        var program: Program?
        let created = source.withCString { src in
            name.withCString { createProgram(&program, src, $0, 0, nil, nil) }
        }
        guard created == 0, let program else {
            throw DeviceError("NVRTC: nvrtcCreateProgram failed: \(self.name(of: created))")
        }
        defer {
            var doomed: Program? = program
            _ = destroyProgram(&doomed)
        }

        let status = Self.withCStringArray(options) { compileProgram(program, Int32(options.count), $0) }
        let log = (try? fetch(program, size: getLogSize, bytes: getLog)).map(Self.text(of:)) ?? ""
        if status == Self.compilationError {
            return Compilation(succeeded: false, log: log, ptx: nil, cubin: nil)
        }
        guard status == 0 else {
            let detail = log.isEmpty ? "" : ": " + Self.firstLines(log, 3)
            throw DeviceError("NVRTC: nvrtcCompileProgram failed: \(self.name(of: status))\(detail)")
        }

        let ptx = try fetch(program, size: getPTXSize, bytes: getPTX)
        var cubin: Data?
        let realTarget = options.contains { $0.hasPrefix("--gpu-architecture=sm_") || $0.hasPrefix("-arch=sm_") }
        if realTarget, let getCUBINSize, let getCUBIN {
            let bytes = try fetch(program, size: getCUBINSize, bytes: getCUBIN)
            if !bytes.isEmpty { cubin = bytes }
        }
        return Compilation(succeeded: true, log: log, ptx: ptx, cubin: cubin)
    }

    /// One of NVRTC's "size, then bytes" outputs.
    private func fetch(_ program: Program, size: GetSizeFn, bytes: GetBytesFn) throws -> Data {
        var count = 0
        let sized = size(program, &count)
        guard sized == 0 else { throw DeviceError("NVRTC: reading output failed: \(name(of: sized))") }
        guard count > 0 else { return Data() }
        var buffer = [CChar](repeating: 0, count: count)
        let read = bytes(program, &buffer)
        guard read == 0 else { throw DeviceError("NVRTC: reading output failed: \(name(of: read))") }
        return buffer.withUnsafeBytes { Data($0) }
    }

    /// NVRTC's text outputs (log, PTX) end with a NUL; drop it and surrounding whitespace.
    static func text(of data: Data) -> String {
        let bytes = data.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The first `count` non-empty lines of a log, joined with " | " (errors are one line).
    static func firstLines(_ log: String, _ count: Int) -> String {
        log.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .prefix(count)
            .joined(separator: " | ")
    }

    /// Calls `body` with a C `const char *const *` of `strings`.
    private static func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// The code to load for a GPU of compute capability `major.minor`: a cubin when NVRTC
    /// supports that architecture, else PTX for the newest architecture NVRTC supports that is
    /// not newer than the GPU (the driver compiles PTX for the GPU it runs on). Nil when NVRTC
    /// supports nothing the GPU can run.
    func target(forComputeCapability major: Int, _ minor: Int) -> CompileTarget? {
        let wanted = major * 10 + minor
        // Without the architecture list (NVRTC before 11.2), trust that it knows the GPU.
        if supportedArchitectures.isEmpty || supportedArchitectures.contains(wanted) {
            return CompileTarget(architecture: wanted, kind: .cubin)
        }
        guard let older = supportedArchitectures.last(where: { $0 < wanted }) else { return nil }
        return CompileTarget(architecture: older, kind: .ptx)
    }
}

/// What NVRTC is asked to produce for one GPU.
struct CompileTarget: Equatable, Sendable {
    enum Kind: String, Sendable { case cubin, ptx }
    /// 10 * major + minor of the compute capability compiled for.
    let architecture: Int
    let kind: Kind

    /// NVRTC's architecture option: a real `sm_XY` for a cubin, a virtual `compute_XY` for PTX.
    var architectureOption: String {
        "--gpu-architecture=" + (kind == .cubin ? "sm_" : "compute_") + String(architecture)
    }

    /// Every option the kernels are compiled with. `--fmad=false`: no multiply-add contraction,
    /// as in OpenCL (FP_CONTRACT OFF), so CUDA rounds as the OpenCL runs that CI checks against
    /// the CPU backend; kernels that want a fused multiply-add call fmaf explicitly.
    var options: [String] { [architectureOption, "--fmad=false"] }
}

/// Compiles the kernels of `GPUKernelSource.program(.cuda)` with NVRTC and reports every
/// diagnostic. Used by the NVRTC compile test (CI, no GPU) and by `stepwise selftest`.
public enum NVRTCCompileCheck {
    public struct Result: Sendable {
        /// e.g. "sm_80".
        public let architecture: String
        /// NVRTC's version, e.g. "12.9".
        public let compilerVersion: String
        /// False when NVRTC reported a compilation error.
        public let compiled: Bool
        /// Every non-empty line NVRTC logged (errors, warnings, remarks): a clean compile has none.
        public let diagnostics: [String]
        /// Kernels of the source that are missing from the compiled PTX/cubin.
        public let missingKernels: [String]
        public let ptxBytes: Int
        public let cubinBytes: Int

        /// Compiled, nothing logged, every kernel present.
        public var passed: Bool { compiled && diagnostics.isEmpty && missingKernels.isEmpty }
    }

    /// Compiles the CUDA program for `architecture` (10 * major + minor, e.g. 80 for sm_80) as a
    /// cubin with the NVRTC at `nvrtcPath` (or found as the CUDA device finds it when nil).
    /// Throws when NVRTC cannot be loaded or fails for a reason other than the source.
    public static func run(architecture: Int, nvrtcPath: String? = nil) throws -> Result {
        let nvrtc = try nvrtcPath.map { try NVRTC(path: $0) } ?? NVRTC()
        return try run(architecture: architecture, nvrtc: nvrtc)
    }

    static func run(architecture: Int, nvrtc: NVRTC,
                    source: String = GPUKernelSource.program(.cuda),
                    kernels: [String] = GPUKernelSource.kernelNames) throws -> Result {
        let target = CompileTarget(architecture: architecture, kind: .cubin)
        let compilation = try nvrtc.compile(source: source, options: target.options)
        let diagnostics = compilation.log.split(whereSeparator: \.isNewline)
            .map { String($0) }
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        var missing: [String] = []
        if compilation.succeeded {
            let ptx = compilation.ptx.map(NVRTC.text(of:)) ?? ""
            let cubin = compilation.cubin ?? Data()
            missing = kernels.filter { !containsEntry(named: $0, ptx: ptx, cubin: cubin) }
        }
        return Result(architecture: "sm_\(architecture)", compilerVersion: nvrtc.versionString,
                      compiled: compilation.succeeded, diagnostics: diagnostics, missingKernels: missing,
                      ptxBytes: compilation.ptx?.count ?? 0, cubinBytes: compilation.cubin?.count ?? 0)
    }

    /// A kernel is present when the PTX declares `.entry name(` and the cubin's ELF string
    /// table holds the symbol (kernels are extern "C", so names are not mangled; entries in a
    /// string table are NUL-separated, hence the NULs around the name).
    static func containsEntry(named name: String, ptx: String, cubin: Data) -> Bool {
        let inPTX = ptx.contains(".entry \(name)(")
        let inCubin = cubin.range(of: Data([0]) + Data(name.utf8) + Data([0])) != nil
        return inPTX && inCubin
    }
}
