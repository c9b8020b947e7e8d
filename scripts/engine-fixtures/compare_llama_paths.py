#!/usr/bin/env python3
"""Diagnoses a golden row that llama.cpp itself computes differently in its two paths.

For a fixture and a greedy step, runs llama.cpp (llama-cpp-python 0.3.36, same settings as
make_fixtures.py) twice over prompt + continuation: once decoding the continuation one token at
a time, once as a single pass. An eval callback (cb_eval) records every F32 intermediate tensor
of the step's position in both runs, and the script prints, in graph order, each tensor's max
|difference| between the two paths. The first tensor whose difference jumps from ulps (~1e-6)
to ~1e-3 is the matmul whose 8-bit activations rounded differently. With --ties it also prints,
for each activation that is quantized before a matmul (attn_norm, kqv_out, ffn_norm,
ffn_swiglu, result_norm), the positions whose scaled values lie closest to a rounding tie
(|frac(x * 127/max) - 0.5| in quantization steps; Q8_K's per-256 signed max, or --q8_0 for
per-32 blocks).

    /work/venv-ref/bin/python scripts/engine-fixtures/compare_llama_paths.py qwen3-q4_k 13
    /work/venv-ref/bin/python scripts/engine-fixtures/compare_llama_paths.py qwen3-q4_k 13 --ties
"""
import argparse
import ctypes
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402  (shares the llama.cpp settings)

import llama_cpp  # noqa: E402
import llama_cpp.llama_cpp as lc  # noqa: E402

QUANTIZED_INPUTS = ("attn_norm-", "kqv_out-", "ffn_norm-", "ffn_swiglu-", "result_norm")


class TensorRecorder:
    """cb_eval hook: copies every F32 tensor the graph computes, by name (last write wins)."""

    def __init__(self):
        lib = os.path.join(os.path.dirname(lc.__file__), "lib")
        self.base = ctypes.CDLL(os.path.join(lib, "libggml-base.so"))
        self.base.ggml_get_name.restype = ctypes.c_char_p
        self.base.ggml_get_name.argtypes = [ctypes.c_void_p]
        self.base.ggml_get_data.restype = ctypes.c_void_p
        self.base.ggml_get_data.argtypes = [ctypes.c_void_p]
        self.tensors = {}
        self.callback = lc.ggml_backend_sched_eval_callback(self._record)

    def _record(self, tensor, ask, _user):
        if ask:
            return True
        if ctypes.c_int32.from_address(tensor).value != 0:  # ggml_tensor.type: F32 only
            return True
        # ggml_tensor: type (4 bytes + padding), buffer pointer, int64 ne[4], size_t nb[4], ...
        ne = [ctypes.c_int64.from_address(tensor + 16 + 8 * i).value for i in range(4)]
        nb = [ctypes.c_uint64.from_address(tensor + 48 + 8 * i).value for i in range(4)]
        data = self.base.ggml_get_data(tensor)
        if data:
            span = sum((n - 1) * s for n, s in zip(ne, nb)) + 4
            raw = np.frombuffer((ctypes.c_char * span).from_address(data), dtype=np.float32)
            view = np.lib.stride_tricks.as_strided(raw, shape=ne[::-1], strides=nb[::-1])
            self.tensors[self.base.ggml_get_name(tensor).decode()] = view.copy()
        return True

    def install(self):
        original = lc.llama_context_default_params

        def params():
            p = original()
            p.cb_eval = self.callback
            return p
        lc.llama_context_default_params = params


def model(path):
    make_fixtures.no_extra_buffer_types()
    return llama_cpp.Llama(model_path=path, n_ctx=256, n_batch=256, n_threads=2, logits_all=True,
                           type_k=0, type_v=0, flash_attn=False, verbose=False, seed=0)


def tie_distance(x, per32):
    x = x.astype(np.float32)
    if per32:
        b = x.reshape(-1, 32)
        amax = np.abs(b).max(axis=1, keepdims=True)
        scaled = b * np.where(amax > 0, np.float32(127) / amax, 0).astype(np.float32)
    else:
        b = x.reshape(-1, 256)
        signed_max = b[np.arange(len(b)), np.abs(b).argmax(axis=1)][:, None]
        scaled = b * (np.float32(-127) / signed_max).astype(np.float32)
    return float(np.abs(np.abs(scaled - np.floor(scaled)) - 0.5).min())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fixture", help="e.g. qwen3-q4_k (Tests/InferenceTests/Fixtures/models/NAME.gguf)")
    ap.add_argument("step", type=int, help="greedy step (1 or more): the logits after feeding greedy token step-1")
    ap.add_argument("--ties", action="store_true", help="also list the activations closest to a rounding tie")
    ap.add_argument("--q8_0", action="store_true", help="ties in 32-value blocks (Q8_0/Q4_0 weights)")
    args = ap.parse_args()
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "InferenceTests", "Fixtures", "models")
    golden = json.load(open(os.path.join(folder, args.fixture + ".golden.json")))
    path = os.path.join(folder, args.fixture + ".gguf")
    prompt, greedy = golden["prompt_ids"], golden["greedy_ids"]
    position = len(prompt) + args.step - 1
    recorder = TensorRecorder()
    recorder.install()

    llm = model(path)
    llm.reset()
    llm.eval(prompt + greedy[:args.step])
    one_pass = dict(recorder.tensors)
    del llm
    llm = model(path)
    llm.reset()
    llm.eval(prompt)
    for token in greedy[:args.step - 1]:
        llm.eval([token])
    recorder.tensors.clear()
    llm.eval([greedy[args.step - 1]])
    decoded = dict(recorder.tensors)
    del llm

    tokens = len(prompt) + args.step
    print(f"{args.fixture} step {args.step} (position {position}): decode one token at a time vs one pass")
    for name, d in decoded.items():
        o = one_pass.get(name)
        if o is None:
            continue
        axes = [i for i, (a, b) in enumerate(zip(o.shape, d.shape)) if a != b]
        if len(axes) == 1 and o.shape[axes[0]] == tokens and d.shape[axes[0]] == 1:
            o = np.take(o, [position], axis=axes[0])
        elif o.shape != d.shape:
            continue  # whole-cache views and reshapes
        print(f"  {name:28s} {str(d.shape):22s} max |diff| {np.abs(o.astype(np.float64) - d).max():.3g}")
    if args.ties:
        print("activations closest to a rounding tie (one pass; position: distance in quantization steps)")
        for name, a in one_pass.items():
            if name.startswith(QUANTIZED_INPUTS):
                rows = a.reshape(-1, a.shape[-1])
                distances = [tie_distance(r, args.q8_0) for r in rows]
                closest = np.argsort(distances)[:3]
                print(f"  {name:14s} " + ", ".join(f"{i}: {distances[i]:.1e}" for i in closest))


if __name__ == "__main__":
    main()
