// Shared by the GPU backend tests: the OpenCL device they run on (PoCL in CI) and one
// `GPUBackend` on it, opened once per test process because building the kernel program takes
// PoCL several seconds.
//
// Without an OpenCL platform the tests skip with the reason, unless STEPWISE_REQUIRE_OPENCL=1
// (set by .ci/run, which installs PoCL): then a missing device fails them.
import Foundation
@testable import Inference
import XCTest

/// The OpenCL device for tests: a GPU when there is one, else the CPU device (PoCL).
func openCLTestDevice() throws -> OpenCLDevice {
    try GPUTestDevices.shared.device()
}

/// Whether the environment demands that OpenCL be present (CI).
var openCLRequired: Bool { ProcessInfo.processInfo.environment["STEPWISE_REQUIRE_OPENCL"] == "1" }

/// Opens the device once and remembers the outcome (also a failure, so every test reports it
/// without retrying).
final class GPUTestDevices: @unchecked Sendable {
    static let shared = GPUTestDevices()
    fileprivate let lock = NSLock()
    private var opened: Result<OpenCLDevice, DeviceError>?
    fileprivate var cachedBackend: GPUBackend?

    func device() throws -> OpenCLDevice {
        let result: Result<OpenCLDevice, DeviceError> = lock.withLock {
            if let opened { return opened }
            let outcome: Result<OpenCLDevice, DeviceError>
            do {
                outcome = .success(try OpenCLDevice.open(allowCPU: true))
            } catch let error as DeviceError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(DeviceError("\(error)"))
            }
            opened = outcome
            return outcome
        }
        switch result {
        case .success(let device):
            return device
        case .failure(let error):
            if openCLRequired { throw error }
            throw XCTSkip("no OpenCL device (\(error)); set STEPWISE_REQUIRE_OPENCL=1 to fail instead")
        }
    }
}

/// A `GPUBackend` on the test device, built once (compiling the program is the slow part).
func openCLTestBackend() throws -> GPUBackend {
    try GPUTestDevices.shared.backend()
}

extension GPUTestDevices {
    func backend() throws -> GPUBackend {
        let device = try device()
        return try lock.withLock {
            if let cachedBackend { return cachedBackend }
            let backend = try GPUBackend(device: device)
            cachedBackend = backend
            return backend
        }
    }
}

/// Compiles the C `source` of a fake GPU library (the fake libcuda and libcublas the CUDA tests
/// load) into `folder`/`fileName` under the temporary directory and returns its path; skips
/// when there is no C compiler.
func buildFakeLibrary(folder: String, fileName: String, source: String) throws -> String {
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    let compiler = ["clang", "cc", "gcc"].lazy.compactMap { name in
        paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }.first
    guard let compiler else { throw XCTSkip("no C compiler (clang, cc, gcc) to build \(fileName)") }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(folder)-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let sourceFile = directory.appendingPathComponent(fileName + ".c")
    let output = directory.appendingPathComponent(fileName)
    try source.write(to: sourceFile, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: compiler)
    process.arguments = ["-shared", "-fPIC", "-O1", "-w", "-o", output.path, sourceFile.path]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let messages = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw DeviceError("building the fake \(fileName) failed: \(messages)") }
    return output.path
}
