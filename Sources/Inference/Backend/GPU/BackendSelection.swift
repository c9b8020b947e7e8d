// `--device auto|cpu|cuda|opencl`: which backend a model is loaded on.
//
// `auto` takes CUDA when it is usable and otherwise the CPU. A machine with no CUDA driver at
// all is the ordinary CPU case and says nothing; a driver that is there but unusable (too old,
// no device, not enough free memory) gets a warning before falling back. An OpenCL device is
// only used when asked for by name: it exists to run the GPU kernels on machines without an
// NVIDIA GPU (PoCL in CI), and an OpenCL CPU device would be slower than the CPU backend.

import Foundation
import ModelFormats

public enum BackendSelection {
    /// A bare backend for `device` (what `stepwise selftest` checks), and warnings to show.
    public static func backend(_ device: ModelLoadOptions.Device, threads: Int? = nil) throws -> (InferenceBackend, [String]) {
        try make(ModelLoadOptions(device: device, threads: threads), path: "selftest", weightBytes: 0)
    }

    /// The backend for `options.device`, and warnings for the caller to show.
    static func make(_ options: ModelLoadOptions, path: String, weightBytes: Int) throws -> (InferenceBackend, [String]) {
        switch options.device {
        case .cpu:
            return (CPUBackend(threads: options.threads), [])
        case .cuda:
            do {
                return (try gpu(try CUDADevice.open(), weightBytes: weightBytes), [])
            } catch {
                throw InferenceError("\(path): --device cuda: \(error)")
            }
        case .opencl:
            do {
                return (try gpu(try OpenCLDevice.open(allowCPU: true), weightBytes: weightBytes), [])
            } catch {
                throw InferenceError("\(path): --device opencl: \(error)")
            }
        case .auto:
            guard cudaDriverPresent() else { return (CPUBackend(threads: options.threads), []) }
            do {
                return (try gpu(try CUDADevice.open(), weightBytes: weightBytes), [])
            } catch {
                return (CPUBackend(threads: options.threads), ["CUDA is not usable (\(error)); running on the CPU"])
            }
        }
    }

    /// A GPU backend on `device` when the weights fit in its free memory (with a tenth kept
    /// for activations and the KV cache, which are checked again when allocated).
    private static func gpu(_ device: ComputeDevice, weightBytes: Int) throws -> InferenceBackend {
        let free = device.freeMemory ?? device.totalMemory
        if weightBytes > free / 10 * 9 {
            throw DeviceError("\(device.name): the weights need \(formatBytes(weightBytes)) but the device has "
                + "\(formatBytes(free)) free")
        }
        return try GPUBackend(device: device)
    }

    /// Whether libcuda.so.1 can be opened at all (it is not kept open: CUDADevice loads it).
    static func cudaDriverPresent() -> Bool {
        (try? DynamicLibrary(candidates: ["libcuda.so.1"])) != nil
    }
}
