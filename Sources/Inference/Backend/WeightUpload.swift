// The checks and host-side conversion every backend's `uploadWeight` needs (see the contract
// in Backend.swift): the bytes must be exactly `rows` rows of the format, and `storeAs` may
// only ask for F32 (norms, biases) or Q8_0 from a float format (`--quantize q8_0`).

import CKernels
import Foundation

struct WeightUpload {
    let name: String
    let format: WeightFormat
    let rows: Int
    let columns: Int
    let base: UnsafeRawPointer
    /// Bytes of one stored row as given.
    let rowBytes: Int
    /// The format the backend keeps (`storeAs` or the given one) and its row size.
    let target: WeightFormat
    let targetRowBytes: Int

    /// Checks an upload request; errors are one-line `BackendError`s naming the weight.
    init(name: String, format: WeightFormat, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer,
         storeAs: WeightFormat?) throws {
        guard rows > 0, columns > 0, let rowBytes = format.rowBytes(columns) else {
            throw BackendError("weight \(name): \(format) cannot hold \(rows) x \(columns) (row length must be a multiple of \(format.blockElements))")
        }
        let (expected, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow, bytes.count == expected, let base = bytes.baseAddress else {
            throw BackendError("weight \(name): \(bytes.count) bytes, expected \(rows) x \(columns) \(format) = \(overflow ? "overflow" : String(expected))")
        }
        let target = storeAs ?? format
        guard target == format || target == .f32 || (target == .q8_0 && [.f32, .f16, .bf16].contains(format)) else {
            throw BackendError("weight \(name): cannot convert \(format) to \(target)")
        }
        guard let targetRowBytes = target.rowBytes(columns) else {
            throw BackendError("weight \(name): \(columns) columns is not a multiple of \(target)'s block of \(target.blockElements)")
        }
        self.name = name
        self.format = format
        self.rows = rows
        self.columns = columns
        self.base = base
        self.rowBytes = rowBytes
        self.target = target
        self.targetRowBytes = targetRowBytes
    }

    var converts: Bool { target != format }

    /// Writes rows `range` in the target format to `destination` (`range.count * targetRowBytes`
    /// bytes): copied as they are, dequantized to F32, or requantized to Q8_0.
    func writeRows(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
        let row = UnsafeMutablePointer<Float>.allocate(capacity: columns)
        defer { row.deallocate() }
        let type = ck_type(format.rawValue)
        for (i, r) in range.enumerated() {
            let source = base + r * rowBytes
            let target = destination + i * targetRowBytes
            if !converts {
                memcpy(target, source, rowBytes)
            } else if self.target == .f32 {
                ck_dequantize_row(type, source, target.assumingMemoryBound(to: Float.self), Int64(columns))
            } else {
                // Unaligned float input is copied to `row` first by the dequantizer (memcpy).
                ck_dequantize_row(type, source, row, Int64(columns))
                ck_quantize_row_q8_0(row, target, Int64(columns))
            }
        }
    }
}
