#!/usr/bin/env python3
"""Writes Tests/InferenceTests/Fixtures/kernels/act_quantize.bin: activation rows and the 8-bit
blocks that llama.cpp's CPU backend (ggml-cpu, as shipped in llama-cpp-python 0.3.36) turns them
into before integer matmuls — Q8_0 blocks for Q8_0/Q4_0 weights, Q8_K blocks for Q4_K/Q6_K
weights — computed by ggml-cpu's own conversion function (`from_float` of the weights'
`vec_dot_type`, reached through ctypes), not by a re-implementation. The golden-logit tests
depend on these matching bit for bit: a different rounding of one activation moves a logit of
the small test models by up to ~0.7 (see make_fixtures.py).

Rows: normal values at three scales, rows with a few large outliers, exact rounding ties
(x * 127/amax exactly k + 0.5, with the largest value of either sign), equal-magnitude maxima of
both signs, an all-zero block, and subnormal-sized values. The output buffer is zeroed first
(ggml leaves a Q8_K zero block's sums unwritten).

Format (little-endian): b"CKAQ", u32 sections; per section: u32 weight ggml_type (8 = Q8_0,
12 = Q4_K), u32 n, f32 input[n], u32 byte count, expected blocks.

Run with the pinned venv:  /work/venv-ref/bin/python scripts/engine-fixtures/make_act_quant_fixture.py
"""
import ctypes
import os
import struct

import numpy as np
import llama_cpp.llama_cpp as lc

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "InferenceTests",
                   "Fixtures", "kernels", "act_quantize.bin")
LIB = os.path.join(os.path.dirname(lc.__file__), "lib")


class TypeTraitsCPU(ctypes.Structure):
    # struct ggml_type_traits_cpu (ggml-cpu.h)
    _fields_ = [("from_float", ctypes.c_void_p), ("vec_dot", ctypes.c_void_p),
                ("vec_dot_type", ctypes.c_int), ("nrows", ctypes.c_int64)]


def ggml_cpu():
    ctypes.CDLL(os.path.join(LIB, "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    cpu = ctypes.CDLL(os.path.join(LIB, "libggml-cpu.so"), mode=ctypes.RTLD_GLOBAL)
    cpu.ggml_cpu_init()
    cpu.ggml_get_type_traits_cpu.restype = ctypes.POINTER(TypeTraitsCPU)
    return cpu


def activation_blocks(cpu, weight_type, x):
    """ggml-cpu's conversion of `x` for a matmul with `weight_type` weights."""
    vec_dot_type = cpu.ggml_get_type_traits_cpu(weight_type).contents.vec_dot_type
    block, block_bytes = {8: (32, 34), 15: (256, 292)}[vec_dot_type]  # Q8_0, Q8_K
    from_float = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(
        cpu.ggml_get_type_traits_cpu(vec_dot_type).contents.from_float)
    y = np.zeros(len(x) // block * block_bytes, np.uint8)
    from_float(x.ctypes.data, y.ctypes.data, len(x))
    return y


def rows(block, rng):
    n = block * 8
    out = []
    for scale in (1e-3, 1.0, 50.0):
        out.append(rng.standard_normal(n) * scale)
    x = rng.standard_normal(n)
    x[rng.integers(0, n, 5)] *= 40
    out.append(x)
    for sign in (1, -1):  # exact ties: largest |x| = 127 -> x * 127/amax = x
        x = rng.integers(-126, 126, n) + 0.5
        x[::block] = 127 * sign
        out.append(x)
    x = rng.standard_normal(n)
    x[3], x[7] = 5, -5
    out.append(x)
    x = rng.standard_normal(n)
    x[3], x[7] = -5, 5
    x[block:2 * block] = 0
    out.append(x)
    out.append(rng.standard_normal(n) * 1e-40)
    return np.concatenate(out).astype(np.float32)


def main():
    cpu = ggml_cpu()
    rng = np.random.default_rng(20261122)
    sections = []
    for weight_type, block in ((8, 32), (12, 256)):  # Q8_0 (-> Q8_0 blocks), Q4_K (-> Q8_K)
        x = np.ascontiguousarray(rows(block, rng))
        sections.append((weight_type, x, activation_blocks(cpu, weight_type, x)))
    with open(OUT, "wb") as f:
        f.write(b"CKAQ" + struct.pack("<I", len(sections)))
        for weight_type, x, y in sections:
            f.write(struct.pack("<II", weight_type, len(x)) + x.tobytes())
            f.write(struct.pack("<I", len(y)) + y.tobytes())
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
