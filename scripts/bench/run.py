#!/usr/bin/env python3
"""Stepwise vs llama.cpp, side by side on the same GGUF files and thread count.

For each model (default: the random-weight Qwen2.5-0.5B and 1.5B shapes in Q8_0 and F16 that
make_models.py writes to /work/bench-models), runs `stepwise bench --json` and bench_llama.py
ALTERNATELY for --rounds rounds, keeps each side's best figure (the machine is shared, so the
best run is the least disturbed one), and prints each figure with the ratio Stepwise/llama.cpp.
Decode speed is also given as bandwidth: bytes of weights read per token (every matrix once,
the embedding table only if it doubles as the output projection) × tokens/s, and as a fraction
of this machine's read bandwidth measured with bandwidth.c on the same thread count.

    /work/venv-ref/bin/python scripts/bench/run.py [--threads 2] [--rounds 2] [--models A.gguf,B.gguf]
        [--stepwise .build/release/stepwise] [--prompt-tokens 512] [--gen-tokens 128]
        [--batch 16] [--batch-prompt-tokens 256] [--json OUT.json] [--device cuda]

With --device cuda (a machine with an NVIDIA GPU; llama-cpp-python built with CUDA:
CMAKE_ARGS="-DGGML_CUDA=on" pip install llama-cpp-python==0.3.36), both engines run on the GPU
(llama.cpp with every layer offloaded), the default models are the 1.5B shape in BF16, the
shared-prompt batch is 64, and decode bandwidth is compared with the GPU's rated memory
bandwidth (memory clock × bus width, from the driver; else the device-to-device copy rate
`stepwise bench --device cuda` measures). The issue's targets are printed beside the
figures: decode >= 0.9x llama.cpp and >= 80% of the bandwidth; 64 shared samples >= 1.0x.

    /work/venv-ref/bin/python scripts/bench/run.py --device cuda
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PY = sys.executable


def sh(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    if "env" in kw and kw["env"] is None:
        del kw["env"]
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def bandwidth_gbs(threads):
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "bandwidth")
        sh(["cc", "-O3", "-mavx2", "-pthread", os.path.join(HERE, "bandwidth.c"), "-o", exe])
        return float(sh([exe, str(threads)]).strip())


def weight_bytes_per_token(path):
    import gguf
    reader = gguf.GGUFReader(path)
    names = {t.name: int(t.n_bytes) for t in reader.tensors}
    total = sum(b for n, b in names.items() if n != "token_embd.weight")
    if "output.weight" not in names:
        total += names.get("token_embd.weight", 0)  # tied: the embedding is the output projection
    return total


def keep_best(kept, new):
    """Field by field maximum of two runs' figures (speeds: higher is better)."""
    if kept is None:
        return new
    return {k: max(kept.get(k, 0), v) for k, v in new.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--models", default="")
    ap.add_argument("--stepwise", default=os.path.join(ROOT, ".build", "release", "stepwise"))
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batch-prompt-tokens", type=int, default=256)
    ap.add_argument("--json", default="")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--llama-env", action="append", default=[],
                    help="KEY=VALUE for llama.cpp's environment, e.g. OMP_WAIT_POLICY=PASSIVE on a busy machine")
    args = ap.parse_args()

    gpu = args.device == "cuda"
    if gpu and args.batch == 16:
        args.batch = 64
    if args.models:
        models = args.models.split(",")
    else:
        made = [PY, os.path.join(HERE, "make_models.py")] + (["--sizes", "1.5b", "--types", "bf16"] if gpu else [])
        models = [m for m in sh(made).split() if m.endswith(".gguf")]
    if not os.path.exists(args.stepwise):
        sh(["swift", "build", "-c", "release", "--product", "stepwise"], cwd=ROOT)

    llama_env = None
    if args.llama_env:
        llama_env = dict(os.environ)
        for item in args.llama_env:
            key, _, value = item.partition("=")
            llama_env[key] = value
    bw = None if gpu else bandwidth_gbs(args.threads)
    if bw:
        print(f"memory read bandwidth ({args.threads} threads): {bw:.2f} GB/s", flush=True)
    report = {"bandwidth_gbs": bw, "threads": args.threads, "models": []}
    for model in models:
        ours = theirs = None
        ours_batch = theirs_batch = None
        for _ in range(args.rounds):
            s = json.loads(sh([args.stepwise, "bench", "--model", model, "--threads", str(args.threads), "--device", args.device,
                               "--prompt-tokens", str(args.prompt_tokens), "--gen-tokens", str(args.gen_tokens),
                               "--batch", f"1,{args.batch}", "--batch-prompt-tokens", str(args.batch_prompt_tokens),
                               "--json"]).strip().splitlines()[-1])
            runs = {r["batch"]: r for r in s["runs"]}
            ours = keep_best(ours, {"prompt_tokens_per_s": runs[1]["prompt_tokens_per_s"],
                                    "decode_tokens_per_s": runs[1]["decode_tokens_per_s"],
                                    "peak": s.get("peak_resident_bytes", 0)})
            ours_batch = keep_best(ours_batch, {"decode_tokens_per_s": runs[args.batch]["decode_tokens_per_s"]})
            l = json.loads(sh([PY, os.path.join(HERE, "bench_llama.py"), model, "--threads", str(args.threads),
                               "--prompt-tokens", str(args.prompt_tokens), "--gen-tokens", str(args.gen_tokens),
                               "--shared-batch", str(args.batch), "--shared-prompt", str(args.batch_prompt_tokens),
                               "--shared-gen", str(args.gen_tokens), "--gpu-layers", "999" if gpu else "0"],
                              env=llama_env).strip().splitlines()[-1])
            if gpu:
                # The GPU's rated bandwidth when the driver reports it, else measured copies.
                bw = s.get("device_peak_bandwidth_gbs") or max(bw or 0, s.get("device_bandwidth_gbs", 0)) or None
            theirs = keep_best(theirs, {"prompt_tokens_per_s": l["prompt_tokens_per_s"],
                                        "decode_tokens_per_s": l["decode_tokens_per_s"]})
            theirs_batch = keep_best(theirs_batch, {"decode_tokens_per_s": l["shared"]["decode_tokens_per_s"]})
        per_token = weight_bytes_per_token(model)
        rows = [
            ("prompt tokens/s", ours["prompt_tokens_per_s"], theirs["prompt_tokens_per_s"]),
            ("decode tokens/s", ours["decode_tokens_per_s"], theirs["decode_tokens_per_s"]),
            (f"{args.batch} seqs shared prompt, decode tokens/s", ours_batch["decode_tokens_per_s"], theirs_batch["decode_tokens_per_s"]),
        ]
        print(f"\n{os.path.basename(model)}  ({per_token / 1e6:.0f} MB of weights read per decoded token)")
        print(f"  {'figure':44s} {'stepwise':>10s} {'llama.cpp':>10s} {'ratio':>7s}")
        for name, a, b in rows:
            print(f"  {name:44s} {a:10.2f} {b:10.2f} {a / b if b else 0:7.2f}")
        for who, tps in (("stepwise", ours["decode_tokens_per_s"]), ("llama.cpp", theirs["decode_tokens_per_s"])):
            gbs = per_token * tps / 1e9
            if bw:
                print(f"  decode bandwidth {who:10s} {gbs:6.2f} GB/s = {gbs / bw:5.1%} of measured {bw:.2f} GB/s")
        if gpu:
            decode_ratio = ours["decode_tokens_per_s"] / max(theirs["decode_tokens_per_s"], 1e-9)
            batch_ratio = ours_batch["decode_tokens_per_s"] / max(theirs_batch["decode_tokens_per_s"], 1e-9)
            share = per_token * ours["decode_tokens_per_s"] / 1e9 / bw if bw else 0
            print(f"  targets: decode {decode_ratio:.2f}x (>= 0.9) {'met' if decode_ratio >= 0.9 else 'MISSED'}; "
                  f"bandwidth {share:.0%} (>= 80%) {'met' if share >= 0.8 else 'MISSED'}; "
                  f"{args.batch} shared {batch_ratio:.2f}x (>= 1.0) {'met' if batch_ratio >= 1.0 else 'MISSED'}")
        if ours.get("peak"):
            print(f"  stepwise peak resident memory {ours['peak'] / 2**20:.0f} MiB")
        sys.stdout.flush()
        report["models"].append({"model": model, "weight_bytes_per_token": per_token, "stepwise": ours,
                                 "stepwise_batch": ours_batch, "llama_cpp": theirs, "llama_cpp_batch": theirs_batch})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
