#!/usr/bin/env python3
"""Writes the kernel test fixtures (Tests/InferenceTests/Fixtures/kernels/*.bin).

The expected values come from gguf-py's quants module (gguf==0.19.0, the reference
(de)quantizers that ship with llama.cpp's converter) and numpy, an implementation independent
of Stepwise's C kernels. Q4_K and Q6_K blocks are random bytes (every byte pattern is a valid
block once the float16 scales are finite), decoded by gguf-py; Q8_0, Q4_0 and BF16 are
quantized by gguf-py from random floats.

Format of <type>.bin (little-endian):
    b"CKF1", u32 ggml_type, u32 rows, u32 cols, u32 xrows,
    weight bytes (rows * row_bytes), f32 dequantized [rows, cols],
    f32 x [xrows, cols], f32 y [xrows, rows] = x @ dequantized.T computed in float64.
q8_0_quantize.bin: b"CKQ8", u32 n, f32 input[n], expected Q8_0 blocks (n/32 * 34 bytes).
float_convert.bin: b"CKFC", u32 n, f32 input[n], u16 f16[n] (numpy), u16 bf16[n] (gguf-py).
"""
import os
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "InferenceTests", "Fixtures", "kernels")
rng = np.random.default_rng(20261122)


def random_x(xrows, cols):
    x = rng.standard_normal((xrows, cols)).astype(np.float32)
    # A block of zeros (the quantizer's scale-0 path) and a large-magnitude row.
    x[0, :32] = 0
    if xrows > 2:
        x[2] *= 50
    return x


def k_quant_blocks(qtype, rows, cols):
    """Random K-quant blocks with sane float16 scales."""
    block_bytes = {T.Q4_K: 144, T.Q6_K: 210}[qtype]
    blocks = rows * cols // 256
    raw = rng.integers(0, 256, size=(blocks, block_bytes), dtype=np.uint8)
    if qtype == T.Q4_K:
        raw[:, 0:2] = np.frombuffer(rng.uniform(0.001, 0.02, blocks).astype(np.float16).tobytes(), np.uint8).reshape(blocks, 2)
        raw[:, 2:4] = np.frombuffer(rng.uniform(0.001, 0.02, blocks).astype(np.float16).tobytes(), np.uint8).reshape(blocks, 2)
    else:
        raw[:, 208:210] = np.frombuffer(rng.uniform(0.0005, 0.005, blocks).astype(np.float16).tobytes(), np.uint8).reshape(blocks, 2)
    return raw.reshape(rows, -1)


def weights(qtype, rows, cols):
    if qtype in (T.Q4_K, T.Q6_K):
        return k_quant_blocks(qtype, rows, cols)
    w = (rng.standard_normal((rows, cols)) * 0.05).astype(np.float32)
    if qtype == T.F32:
        return w.view(np.uint8).reshape(rows, -1)
    if qtype == T.F16:
        return w.astype(np.float16).view(np.uint8).reshape(rows, -1)
    return quants.quantize(w, qtype)  # Q8_0, Q4_0, BF16


def write_type(name, qtype, rows, cols, xrows):
    data = np.ascontiguousarray(weights(qtype, rows, cols))
    if qtype == T.F32:
        deq = data.view(np.float32).reshape(rows, cols)
    elif qtype == T.F16:
        deq = data.view(np.float16).astype(np.float32).reshape(rows, cols)
    else:
        deq = quants.dequantize(data, qtype).astype(np.float32).reshape(rows, cols)
    x = random_x(xrows, cols)
    y = (x.astype(np.float64) @ deq.astype(np.float64).T).astype(np.float32)
    with open(os.path.join(OUT, f"{name}.bin"), "wb") as f:
        f.write(b"CKF1" + struct.pack("<4I", int(qtype), rows, cols, xrows))
        f.write(data.tobytes())
        f.write(deq.tobytes())
        f.write(x.tobytes())
        f.write(y.tobytes())


def write_q8_0_quantize():
    n = 32 * 40
    x = (rng.standard_normal(n) * rng.choice([1e-3, 1.0, 300.0], n)).astype(np.float32)
    x[:32] = 0  # all-zero block
    x[32:64] = np.linspace(-1, 1, 32, dtype=np.float32) * 127 / 2  # exact .5 ties
    expected = quants.quantize(x.reshape(1, n), T.Q8_0)
    with open(os.path.join(OUT, "q8_0_quantize.bin"), "wb") as f:
        f.write(b"CKQ8" + struct.pack("<I", n))
        f.write(x.tobytes())
        f.write(expected.tobytes())


def write_float_convert():
    parts = [
        rng.standard_normal(2000) * 100,
        rng.uniform(-7e-5, 7e-5, 1000),     # float16 subnormal range
        rng.uniform(-1e-7, 1e-7, 200),      # underflow to zero / smallest subnormal
        rng.uniform(60000, 70000, 200),     # around float16's largest (65504) and overflow
        np.array([0.0, -0.0, np.inf, -np.inf, 65504, 65520, 65519.99, 2.0 ** -24, 2.0 ** -25, 1.5 * 2.0 ** -25]),
        np.array([1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8]),  # ties to even
    ]
    x = np.concatenate(parts).astype(np.float32)
    with np.errstate(over="ignore"):
        f16 = x.astype(np.float16).view(np.uint16)
    bf16 = quants.quantize(x.reshape(1, -1), T.BF16).view(np.uint16).reshape(-1)
    with open(os.path.join(OUT, "float_convert.bin"), "wb") as f:
        f.write(b"CKFC" + struct.pack("<I", len(x)))
        f.write(x.tobytes())
        f.write(f16.tobytes())
        f.write(bf16.tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    # Row counts that are not multiples of any chunk or tile; column counts of several blocks.
    write_type("f32", T.F32, 13, 37, 5)
    write_type("f16", T.F16, 13, 37, 5)
    write_type("bf16", T.BF16, 13, 70, 5)
    write_type("q8_0", T.Q8_0, 11, 160, 5)
    write_type("q4_0", T.Q4_0, 11, 160, 5)
    write_type("q4_k", T.Q4_K, 9, 512, 5)
    write_type("q6_k", T.Q6_K, 9, 512, 5)
    write_q8_0_quantize()
    write_float_convert()
    print("wrote fixtures to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
