// The memory bandwidth of the device a model runs on: the yardstick decode speed is judged by
// (decode reads every weight once per step, so tokens/s × weight bytes ≈ bandwidth used).

import Foundation

public struct DeviceBandwidth: Sendable {
    /// The memory's theoretical rate (CUDA: memory clock × bus width × 2), when reported.
    public let peakBytesPerSecond: Double?
    /// Device-to-device copy, bytes read plus bytes written per second (best of several).
    public let copyBytesPerSecond: Double
}

extension LoadedModel {
    /// Measures the device's bandwidth with device-to-device copies; nil on the CPU backend.
    public func measureDeviceBandwidth() throws -> DeviceBandwidth? {
        guard let gpu = backend as? GPUBackend else { return nil }
        let device = gpu.device
        let available = device.freeMemory ?? device.totalMemory
        let bytes = max(1 << 20, min(256 << 20, available / 8))
        let source = try device.allocate(bytes: bytes, what: "the bandwidth probe")
        let target = try device.allocate(bytes: bytes, what: "the bandwidth probe")
        try device.copy(source, offset: 0, to: target, offset: 0, bytes: bytes)
        try device.synchronize()
        var best = 0.0
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<4 { try device.copy(source, offset: 0, to: target, offset: 0, bytes: bytes) }
            try device.synchronize()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if seconds > 0 { best = max(best, Double(2 * 4 * bytes) / seconds) }
        }
        return DeviceBandwidth(peakBytesPerSecond: (device as? CUDADevice)?.peakMemoryBandwidth, copyBytesPerSecond: best)
    }
}
