#!/usr/bin/env python3
"""A small GGUF holding every tensor type the engine computes with, written by gguf-py, plus
what gguf-py's own reader sees in it (names, types, shapes, byte sizes, data hashes, a few
metadata values). The Swift test reads the same file and must agree.

    /work/venv-ref/bin/python scripts/gguf-golden/make_fixture.py

Writes Tests/ModelFormatsTests/Fixtures/mixed-types.gguf (~180 KB) and mixed-types.json.
Pinned: gguf==0.19.0, numpy (from /work/venv-ref). K-quant blocks are random bytes of the
right size: gguf-py cannot quantize to Q4_K/Q6_K, and the reader test does not need real values.
"""
import json
import os

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Tests", "ModelFormatsTests", "Fixtures")
T = gguf.GGMLQuantizationType


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    rng = np.random.default_rng(1234)
    H, F, V, NH, KV = 256, 32, 16, 2, 1
    HD = H // NH
    path = os.path.join(OUT, "mixed-types.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("mixed-types")
    w.add_context_length(512)
    w.add_embedding_length(H)
    w.add_block_count(1)
    w.add_feed_forward_length(F)
    w.add_head_count(NH)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    w.add_vocab_size(V)
    w.add_array("stepwise.test.ints", [1, -2, 3])
    w.add_float64("stepwise.test.f64", 2.5)

    def f32(shape):
        return rng.standard_normal(shape).astype(np.float32)

    def add(name, shape, kind):
        if kind == "F32":
            w.add_tensor(name, f32(shape))
        elif kind == "F16":
            w.add_tensor(name, f32(shape).astype(np.float16))
        elif kind in ("Q4_0", "Q8_0", "BF16"):
            q = gguf.quants.quantize(f32(shape), T[kind])
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=T[kind])
        else:  # K-quants: random bytes, correct block size
            block, size = gguf.GGML_QUANT_SIZES[T[kind]]
            rows, cols = shape
            raw = rng.integers(0, 256, size=(rows, cols // block * size), dtype=np.uint8)
            w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=T[kind])

    add("token_embd.weight", (V, H), "Q4_K")
    add("output_norm.weight", (H,), "F32")
    add("output.weight", (V, H), "Q6_K")
    add("blk.0.attn_norm.weight", (H,), "F32")
    add("blk.0.attn_q.weight", (NH * HD, H), "Q6_K")
    add("blk.0.attn_k.weight", (KV * HD, H), "Q8_0")
    add("blk.0.attn_v.weight", (KV * HD, H), "Q4_0")
    add("blk.0.attn_output.weight", (H, NH * HD), "Q4_K")
    add("blk.0.ffn_norm.weight", (H,), "F32")
    add("blk.0.ffn_gate.weight", (F, H), "F16")
    add("blk.0.ffn_up.weight", (F, H), "BF16")
    add("blk.0.ffn_down.weight", (H, F), "F32")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(path)
    tensors = []
    for t in r.tensors:
        data = bytes(np.asarray(t.data).tobytes())
        tensors.append({
            "name": t.name,
            "type": t.tensor_type.name,
            "ggml_id": int(t.tensor_type),
            "shape": [int(x) for x in reversed(t.shape.tolist())],  # PyTorch order
            "bytes": int(t.n_bytes),
            "offset": int(t.data_offset),
            "fnv1a64": str(fnv1a64(data)),
        })
    meta = {
        "general.architecture": r.fields["general.architecture"].contents(),
        "llama.embedding_length": r.fields["llama.embedding_length"].contents(),
        "llama.rope.freq_base": r.fields["llama.rope.freq_base"].contents(),
        "stepwise.test.ints": r.fields["stepwise.test.ints"].contents(),
        "stepwise.test.f64": r.fields["stepwise.test.f64"].contents(),
    }
    with open(os.path.join(OUT, "mixed-types.json"), "w") as f:
        json.dump({"tensors": tensors, "metadata": meta, "file_size": os.path.getsize(path)}, f, indent=1)
    print(f"{path}: {os.path.getsize(path)} bytes, {len(tensors)} tensors")


if __name__ == "__main__":
    main()
