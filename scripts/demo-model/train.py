#!/usr/bin/env python3
"""Train Stepwise's demo model: a few-million-parameter Llama on builtin:arith.

The data comes from Stepwise itself (`stepwise arith-data`), so the model learns exactly the
prompts and answer formats the loop uses. The result is a Hugging Face folder (config.json,
model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json) that
Stepwise's engine loads like any other checkpoint, plus the loss curve and golden logits
for the engine test.

    swift build -c release
    .build/release/stepwise arith-data --split train --count 60000 --out /tmp/arith-train.jsonl
    python3 scripts/demo-model/train.py --data /tmp/arith-train.jsonl --out Models/arith-demo --minutes 110

Runs on CPU (2 cores here); `--minutes` bounds the training time, and `--resume` continues
from the last checkpoint in --work.
"""
import argparse
import json
import math
import os
import random
import time

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
from transformers import LlamaConfig, LlamaForCausalLM

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"


def load_examples(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def train_tokenizer(examples, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    sample = examples[: min(len(examples), 40000)]
    tok.train_from_iterator((e["prompt"] + e["completion"] for e in sample), trainer=trainer)
    return tok


def encode(tok, examples, max_len):
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    out = []
    for e in examples:
        p = tok.encode(e["prompt"]).ids
        c = tok.encode(e["completion"]).ids + [eos]
        ids = [bos] + p + c
        if len(ids) > max_len:
            continue
        labels = [-100] * (1 + len(p)) + c
        out.append((ids, labels))
    return out


def batches(data, tokens_per_batch, rng):
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    groups, cur, cur_max = [], [], 0
    for i in order:
        n = len(data[i][0])
        if cur and max(cur_max, n) * (len(cur) + 1) > tokens_per_batch:
            groups.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, n)
    if cur:
        groups.append(cur)
    rng.shuffle(groups)
    return groups


def collate(data, idx, pad):
    n = max(len(data[i][0]) for i in idx)
    ids = torch.full((len(idx), n), pad, dtype=torch.long)
    labels = torch.full((len(idx), n), -100, dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        a, b = data[i]
        ids[r, : len(a)] = torch.tensor(a)
        labels[r, : len(b)] = torch.tensor(b)
        mask[r, : len(a)] = 1
    return ids, labels, mask


def save_folder(model, tok, out, max_len):
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": BOS, "eos_token": EOS, "pad_token": PAD, "add_bos_token": True,
                   "add_eos_token": False, "model_max_length": max_len,
                   "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": tok.token_to_id(BOS), "eos_token_id": tok.token_to_id(EOS),
                   "pad_token_id": tok.token_to_id(PAD)}, f, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/stepwise-demo-train")
    ap.add_argument("--minutes", type=float, default=110)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=704)
    ap.add_argument("--max-len", type=int, default=768)
    ap.add_argument("--tokens-per-batch", type=int, default=12288)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.work, exist_ok=True)
    examples = load_examples(args.data)
    tok_path = os.path.join(args.work, "tokenizer.json")
    if args.resume and os.path.exists(tok_path):
        tok = Tokenizer.from_file(tok_path)
    else:
        tok = train_tokenizer(examples, args.vocab)
        tok.save(tok_path)
    data = encode(tok, examples, args.max_len)
    print(f"{len(data)} examples, vocab {tok.get_vocab_size()}", flush=True)

    config = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=args.hidden, intermediate_size=args.ffn,
                         num_hidden_layers=args.layers, num_attention_heads=args.heads,
                         num_key_value_heads=args.kv_heads, max_position_embeddings=args.max_len,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                         bos_token_id=tok.token_to_id(BOS), eos_token_id=tok.token_to_id(EOS),
                         pad_token_id=tok.token_to_id(PAD), torch_dtype="float32")
    model = LlamaForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.05)
    step, log = 0, []
    ckpt = os.path.join(args.work, "checkpoint.pt")
    if args.resume and os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, log = state["step"], state["log"]
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)

    budget = args.minutes * 60
    start = time.time()
    est_steps = None
    pad = tok.token_to_id(PAD)
    model.train()
    while time.time() - start < budget:
        for idx in batches(data, args.tokens_per_batch, rng):
            elapsed = time.time() - start
            if elapsed >= budget:
                break
            if step == 50:
                est_steps = int(budget / (elapsed / 50)) if elapsed > 0 else None
            total = est_steps or 10_000
            warm = 100
            lr = args.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / total))))
            for g in opt.param_groups:
                g["lr"] = lr
            ids, labels, mask = collate(data, idx, pad)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 25 == 0:
                log.append({"step": step, "seconds": round(time.time() - start, 1), "loss": round(loss.item(), 4), "lr": lr})
                print(json.dumps(log[-1]), flush=True)
            if step % 500 == 0:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log}, ckpt)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log}, ckpt)
    model.eval()
    save_folder(model, tok, args.out, args.max_len)
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"steps": step, "examples": len(data), "args": vars(args), "loss": log}, f)
    print(f"saved {args.out} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
