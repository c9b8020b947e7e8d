// cuBLAS (libcublas, from the CUDA toolkit or pip's nvidia-cublas-cu12), loaded with dlopen.
//
// Optional: the CUDA backend runs without it (its own kernels do every matrix product); with it,
// F16/BF16 products of many activation rows go through cuBLAS's tensor-core GEMM
// (CUBLASMatmul.swift). So a missing library is "not available", never an error for the user.
//
// Only the entry points CUBLASMatmul needs. cublas_v2.h renames several functions with a `_v2`
// suffix (`#define cublasCreate cublasCreate_v2`, ...); dlsym sees the real symbol names, so
// those are what we look up. cublasGemmEx, cublasSetMathMode and cublasGetStatusString have no
// suffix.
//
// C types (cublas_api.h, library_types.h): cublasStatus_t, cublasOperation_t, cudaDataType,
// cublasComputeType_t and cublasGemmAlgo_t are C enums (int); cublasHandle_t is a pointer to an
// opaque struct; cudaStream_t is the same pointer as the driver API's CUstream. Matrices are
// device pointers (`const void *`), which CUDADevice's CUdeviceptr values are under the unified
// address space of every 64-bit CUDA platform; alpha and beta are host pointers (the default
// CUBLAS_POINTER_MODE_HOST) to values of the compute type's scale type (float for
// CUBLAS_COMPUTE_32F).

import Foundation

final class CUBLAS: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias Status = Int32

    // cublasOperation_t
    static let opN: Int32 = 0
    static let opT: Int32 = 1
    // cudaDataType (library_types.h)
    static let typeR32F: Int32 = 0
    static let typeR16F: Int32 = 2
    static let typeR16BF: Int32 = 14
    // cublasComputeType_t: F32 accumulation (and float alpha/beta); on Volta and newer, 16-bit
    // inputs run on tensor cores under the default math mode.
    static let compute32F: Int32 = 68
    // cublasGemmAlgo_t: let cuBLAS choose (tensor cores included).
    static let gemmDefault: Int32 = -1

    static let statusArchMismatch: Status = 8
    static let statusNotSupported: Status = 15
    /// cublasStatus_t names (cublas_api.h); values not listed are printed as numbers.
    static let statusNames: [Int32: String] = [
        0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
        7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
        13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
        16: "CUBLAS_STATUS_LICENSE_ERROR",
    ]

    let path: String
    private let library: DynamicLibrary

    let cublasCreate: @convention(c) (UnsafeMutablePointer<Handle?>) -> Status                 // _v2
    let cublasDestroy: @convention(c) (Handle?) -> Status                                      // _v2
    let cublasGetVersion: @convention(c) (Handle?, UnsafeMutablePointer<Int32>) -> Status      // _v2
    let cublasSetStream: @convention(c) (Handle?, CUDADriverAPI.CUstream?) -> Status           // _v2
    /// cublasGemmEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb,
    ///              beta, C, Ctype, ldc, computeType, algo)
    let cublasGemmEx: @convention(c) (Handle?, Int32, Int32, Int32, Int32, Int32,
                                      UnsafeRawPointer?, UnsafeRawPointer?, Int32, Int32,
                                      UnsafeRawPointer?, Int32, Int32,
                                      UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Int32,
                                      Int32, Int32) -> Status
    /// The status's description (CUDA 11.4.2+; nil with older libraries).
    let cublasGetStatusString: (@convention(c) (Status) -> UnsafePointer<CChar>?)?

    /// Where cuBLAS is looked for: $STEPWISE_CUBLAS alone when set, else the CUDA 12 and 11
    /// libraries on the loader's path.
    static func candidates(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        if let path = environment["STEPWISE_CUBLAS"], !path.isEmpty { return [path] }
        return ["libcublas.so.12", "libcublas.so.11", "libcublas.so"]
    }

    /// Opens the first of `candidates` that loads and resolves every entry point; a one-line
    /// error when none loads ("cuBLAS not found ...") or one lacks a symbol.
    init(candidates: [String] = CUBLAS.candidates()) throws {
        do {
            library = try DynamicLibrary(candidates: candidates)
        } catch {
            throw DeviceError("cuBLAS not found (optional; install the CUDA toolkit or pip's nvidia-cublas-cu12, or set STEPWISE_CUBLAS=/path/to/libcublas.so.12): \(error)")
        }
        path = library.path
        cublasCreate = try library.symbol("cublasCreate_v2", as: (@convention(c) (UnsafeMutablePointer<Handle?>) -> Status).self)
        cublasDestroy = try library.symbol("cublasDestroy_v2", as: (@convention(c) (Handle?) -> Status).self)
        cublasGetVersion = try library.symbol("cublasGetVersion_v2", as: (@convention(c) (Handle?, UnsafeMutablePointer<Int32>) -> Status).self)
        cublasSetStream = try library.symbol("cublasSetStream_v2", as: (@convention(c) (Handle?, CUDADriverAPI.CUstream?) -> Status).self)
        cublasGemmEx = try library.symbol("cublasGemmEx", as: (@convention(c) (Handle?, Int32, Int32, Int32, Int32, Int32,
                                                                               UnsafeRawPointer?, UnsafeRawPointer?, Int32, Int32,
                                                                               UnsafeRawPointer?, Int32, Int32,
                                                                               UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Int32,
                                                                               Int32, Int32) -> Status).self)
        cublasGetStatusString = library.optionalSymbol("cublasGetStatusString", as: (@convention(c) (Status) -> UnsafePointer<CChar>?).self)
    }

    /// cuBLAS when it loads, else nil (it is optional).
    static func loadIfAvailable(candidates: [String] = CUBLAS.candidates()) -> CUBLAS? {
        try? CUBLAS(candidates: candidates)
    }

    /// "CUBLAS_STATUS_NOT_SUPPORTED (the functionality requested is not supported)".
    func describe(_ status: Status) -> String {
        let name = Self.statusNames[status] ?? "cuBLAS status \(status)"
        guard let text = cublasGetStatusString?(status).map({ String(cString: $0) }), !text.isEmpty, text != name else {
            return name
        }
        return "\(name) (\(text.replacingOccurrences(of: "\n", with: " ")))"
    }

    func check(_ status: Status, _ what: String) throws {
        guard status == 0 else { throw DeviceError("cuBLAS \(what) failed: \(describe(status))") }
    }

    /// "12.4.5" from cublasGetVersion's number: 10000 * major + 100 * minor + patch since
    /// cuBLAS 11.7 or so (cublas_api.h's CUBLAS_VERSION), 1000 * major + ... before.
    static func versionString(_ version: Int) -> String {
        if version >= 100_000 { return "\(version / 10000).\(version / 100 % 100).\(version % 100)" }
        return "\(version / 1000).\(version % 1000 / 100).\(version % 100)"
    }
}
