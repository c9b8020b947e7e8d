#!/usr/bin/env python3
"""Random-weight GGUF models at real Qwen2.5 shapes for the speed benchmark.

Writes <out>/qwen2.5-<size>-f16.gguf (and -bf16.gguf with --types ...,bf16, the GPU benchmark's
type) with gguf-py (weights ~ N(0, 0.02), the real Qwen2
tokenizer copied from ../shared/fixtures/tokenizers/ggml-vocab-qwen2.gguf so that llama.cpp and
Stepwise both load the file as an ordinary model), then <out>/qwen2.5-<size>-q8_0.gguf with
llama.cpp's own quantizer (llama_model_quantize through llama-cpp-python), exactly as a user's
`llama-quantize model.gguf Q8_0` would. Files already present are kept. Never commit them.

    /work/venv-ref/bin/python scripts/bench/make_models.py [--out /work/bench-models] [--sizes 0.5b,1.5b]
        [--types f16,q8_0,bf16]
"""
import argparse
import ctypes
import os
import sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB_FILE = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "tokenizers", "ggml-vocab-qwen2.gguf"))

# Hugging Face config values of Qwen2.5-0.5B and Qwen2.5-1.5B (both tie the output to the embedding).
SHAPES = {
    "0.5b": dict(hidden=896, ffn=4864, layers=24, heads=14, kv_heads=2, vocab=151936),
    "1.5b": dict(hidden=1536, ffn=8960, layers=28, heads=12, kv_heads=2, vocab=151936),
}


def copy_tokenizer(writer):
    reader = gguf.GGUFReader(VOCAB_FILE)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        value_type = field.types[0]
        if value_type == gguf.GGUFValueType.ARRAY:
            item_type = field.types[1]
            if item_type == gguf.GGUFValueType.STRING:
                values = [bytes(field.parts[i]).decode("utf-8", errors="surrogateescape") for i in field.data]
            else:
                values = [int(field.parts[i][0]) for i in field.data]
            writer.add_array(key, values)
        elif value_type == gguf.GGUFValueType.STRING:
            writer.add_string(key, bytes(field.parts[field.data[0]]).decode("utf-8"))
        else:
            writer.add_uint32(key, int(field.parts[field.data[0]][0]))


def write_float(path, shape, kind="f16"):
    rng = np.random.default_rng(1234)
    h, f, L = shape["hidden"], shape["ffn"], shape["layers"]
    nh, nkv = shape["heads"], shape["kv_heads"]
    hd = h // nh
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_name("bench-random-qwen2")
    w.add_context_length(32768)
    w.add_embedding_length(h)
    w.add_block_count(L)
    w.add_feed_forward_length(f)
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_BF16 if kind == "bf16" else gguf.LlamaFileType.MOSTLY_F16)
    copy_tokenizer(w)

    def matrix(rows, cols):
        values = rng.standard_normal((rows, cols), dtype=np.float32) * 0.02
        if kind == "bf16":
            return gguf.quants.quantize(values, gguf.GGMLQuantizationType.BF16)
        return values.astype(np.float16)

    def add_matrix(name, rows, cols):
        raw = gguf.GGMLQuantizationType.BF16 if kind == "bf16" else None
        w.add_tensor(name, matrix(rows, cols), raw_dtype=raw)

    def vector(n, around=0.0):
        return (around + rng.standard_normal(n, dtype=np.float32) * 0.02).astype(np.float32)

    add_matrix("token_embd.weight", shape["vocab"], h)
    for i in range(L):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", vector(h, 1.0))
        add_matrix(p + "attn_q.weight", h, h)
        w.add_tensor(p + "attn_q.bias", vector(h))
        add_matrix(p + "attn_k.weight", nkv * hd, h)
        w.add_tensor(p + "attn_k.bias", vector(nkv * hd))
        add_matrix(p + "attn_v.weight", nkv * hd, h)
        w.add_tensor(p + "attn_v.bias", vector(nkv * hd))
        add_matrix(p + "attn_output.weight", h, h)
        w.add_tensor(p + "ffn_norm.weight", vector(h, 1.0))
        add_matrix(p + "ffn_gate.weight", f, h)
        add_matrix(p + "ffn_up.weight", f, h)
        add_matrix(p + "ffn_down.weight", h, f)
    w.add_tensor("output_norm.weight", vector(h, 1.0))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantize_q8_0(src, dst):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = 2
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
    if rc != 0:
        sys.exit(f"llama_model_quantize failed ({rc}) for {src}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/bench-models")
    ap.add_argument("--sizes", default="0.5b,1.5b")
    ap.add_argument("--types", default="f16,q8_0", help="any of f16, q8_0 (from the f16 file), bf16")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    types = args.types.split(",")
    for size in args.sizes.split(","):
        f16 = os.path.join(args.out, f"qwen2.5-{size}-f16.gguf")
        q8 = os.path.join(args.out, f"qwen2.5-{size}-q8_0.gguf")
        bf16 = os.path.join(args.out, f"qwen2.5-{size}-bf16.gguf")
        if ("f16" in types or "q8_0" in types) and not os.path.exists(f16):
            print("writing", f16, file=sys.stderr)
            write_float(f16 + ".tmp", SHAPES[size])
            os.rename(f16 + ".tmp", f16)
        if "q8_0" in types and not os.path.exists(q8):
            print("quantizing", q8, file=sys.stderr)
            quantize_q8_0(f16, q8 + ".tmp")
            os.rename(q8 + ".tmp", q8)
        if "bf16" in types and not os.path.exists(bf16):
            print("writing", bf16, file=sys.stderr)
            write_float(bf16 + ".tmp", SHAPES[size], kind="bf16")
            os.rename(bf16 + ".tmp", bf16)
        for kind, path in (("f16", f16), ("q8_0", q8), ("bf16", bf16)):
            if kind in types:
                print(path)


if __name__ == "__main__":
    main()
