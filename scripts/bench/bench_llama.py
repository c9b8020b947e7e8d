#!/usr/bin/env python3
"""Times llama.cpp (through llama-cpp-python's low-level API) on one GGUF file, the way
`stepwise bench` times Stepwise:

  prompt   one llama_decode of P random tokens (logits of the last only)      -> prompt tokens/s
  decode   G single-token steps after that prompt                              -> decode tokens/s
  shared   a P2-token prompt decoded once as sequence 0, copied to sequences 1..N-1 with
           llama_memory_seq_cp (KV shared, unified cache: no copy, as llama-batched-bench
           does with -pps), then G2 steps of one llama_batch holding N tokens (one per
           sequence, all logits)                                               -> aggregate tokens/s

Prints one JSON object. Random tokens: speed does not depend on them, and nothing is sampled
(Stepwise's figure includes its sampler, which is small next to a step).

    /work/venv-ref/bin/python bench_llama.py MODEL [--threads 2] [--prompt-tokens 512] [--gen-tokens 128]
        [--shared-batch 16] [--shared-prompt 256] [--shared-gen 128] [--gpu-layers 999]
"""
import argparse
import ctypes
import json
import random
import sys
import time

import llama_cpp as L


def _silence(level, text, data):
    pass


_LOG = L.llama_log_callback(_silence)


def make_batch(capacity, n_seq_max):
    return L.llama_batch_init(capacity, 0, n_seq_max)


def fill(batch, tokens, positions, seqs, logits):
    batch.n_tokens = len(tokens)
    for i, (t, p, s, l) in enumerate(zip(tokens, positions, seqs, logits)):
        batch.token[i] = t
        batch.pos[i] = p
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = s
        batch.logits[i] = 1 if l else 0


def decode(ctx, batch):
    rc = L.llama_decode(ctx, batch)
    if rc != 0:
        sys.exit(f"llama_decode failed: {rc}")
    L.llama_synchronize(ctx)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--shared-batch", type=int, default=16)
    ap.add_argument("--shared-prompt", type=int, default=256)
    ap.add_argument("--shared-gen", type=int, default=128)
    ap.add_argument("--extra-bufts", action="store_true", help="let llama.cpp use AMX/repacked weights")
    ap.add_argument("--gpu-layers", type=int, default=0,
                    help="layers offloaded to the GPU (999: all; needs llama-cpp-python built with CUDA)")
    args = ap.parse_args()

    L.llama_log_set(_LOG, ctypes.c_void_p())
    L.llama_backend_init()
    mparams = L.llama_model_default_params()
    mparams.n_gpu_layers = args.gpu_layers
    # llama-cpp-python 0.3.36 builds ggml with GGML_NATIVE, which on this Xeon includes the AMX
    # buffer type; its kernels die with SIGILL (tilezero) in this VM. Extra buffer types (AMX,
    # and the repacked layouts) are therefore off unless --extra-bufts is given.
    mparams.use_extra_bufts = bool(args.extra_bufts)
    model = L.llama_model_load_from_file(args.model.encode(), mparams)
    if not model:
        sys.exit(f"cannot load {args.model}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    rng = random.Random(7)

    def tokens(n):
        return [rng.randrange(1000, min(n_vocab, 150000)) for _ in range(n)]

    n_seq = max(1, args.shared_batch)
    cparams = L.llama_context_default_params()
    cparams.n_ctx = max(args.prompt_tokens + args.gen_tokens, args.shared_prompt + n_seq * args.shared_gen) + 64
    cparams.n_batch = max(args.prompt_tokens, args.shared_prompt, n_seq)
    cparams.n_ubatch = cparams.n_batch
    cparams.n_seq_max = n_seq
    cparams.kv_unified = True
    cparams.n_threads = args.threads
    cparams.n_threads_batch = args.threads
    ctx = L.llama_init_from_model(model, cparams)
    if not ctx:
        sys.exit("cannot create a llama.cpp context")
    mem = L.llama_get_memory(ctx)
    batch = make_batch(cparams.n_batch, n_seq)
    result = {"engine": "llama.cpp", "model": args.model, "threads": args.threads,
              "extra_bufts": bool(args.extra_bufts), "flash_attn_type": int(cparams.flash_attn_type),
              "system_info": L.llama_print_system_info().decode()}

    # Warm-up: page the weights in and let the thread pool spin up.
    fill(batch, tokens(8), range(8), [0] * 8, [False] * 7 + [True])
    decode(ctx, batch)
    L.llama_memory_clear(mem, True)

    # Prompt, then decode of one sequence.
    P, G = args.prompt_tokens, args.gen_tokens
    fill(batch, tokens(P), range(P), [0] * P, [False] * (P - 1) + [True])
    t0 = time.perf_counter()
    decode(ctx, batch)
    prompt_s = time.perf_counter() - t0
    steps = []
    for i in range(G):
        fill(batch, tokens(1), [P + i], [0], [True])
        t0 = time.perf_counter()
        decode(ctx, batch)
        steps.append(time.perf_counter() - t0)
    result["prompt_tokens"] = P
    result["prompt_tokens_per_s"] = P / prompt_s
    result["time_to_first_token_s"] = prompt_s
    result["decode_tokens"] = G
    result["decode_tokens_per_s"] = G / sum(steps)

    # Shared prompt, N sequences decoding as one batch.
    if n_seq > 1:
        L.llama_memory_clear(mem, True)
        P2, G2 = args.shared_prompt, args.shared_gen
        fill(batch, tokens(P2), range(P2), [0] * P2, [False] * (P2 - 1) + [True])
        t0 = time.perf_counter()
        decode(ctx, batch)
        for s in range(1, n_seq):
            L.llama_memory_seq_cp(mem, 0, s, -1, -1)
        prompt2 = time.perf_counter() - t0
        t1 = time.perf_counter()
        for i in range(G2):
            fill(batch, tokens(n_seq), [P2 + i] * n_seq, list(range(n_seq)), [True] * n_seq)
            decode(ctx, batch)
        gen2 = time.perf_counter() - t1
        result["shared"] = {"sequences": n_seq, "prompt_tokens": P2, "gen_tokens": G2,
                            "prompt_s": prompt2, "decode_s": gen2,
                            "decode_tokens_per_s": n_seq * G2 / gen2,
                            "total_tokens_per_s": (P2 + n_seq * G2) / (prompt2 + gen2)}
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
