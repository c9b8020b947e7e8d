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
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, decoders, trainers
from transformers import LlamaConfig, LlamaForCausalLM

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"

# Qwen2's pre-tokenizer pattern: like Llama 3's but one digit per piece, so every number is
# spelled digit by digit and the model can learn column arithmetic. Stepwise's tokenizer
# recognises this pattern in tokenizer.json (Sources/ModelFormats/TokenizerData.swift).
DIGITWISE_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                     r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def load_examples(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def train_tokenizer(examples, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(DIGITWISE_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD, BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    sample = examples[: min(len(examples), 40000)]
    tok.train_from_iterator((e["prompt"] + e["completion"] for e in sample), trainer=trainer)
    return tok


def encode(tok, examples, max_len):
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    prompts = tok.encode_batch([e["prompt"] for e in examples])
    completions = tok.encode_batch([e["completion"] for e in examples])
    out = []
    for p, c in zip(prompts, completions):
        p, c = p.ids, c.ids + [eos]
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


def verdict_weights(ids, labels, tok, weight):
    """Per-token loss weights: `weight` on each step verdict of a check line (the ` right` or
    ` wrong` after `, `), 1 elsewhere. A verdict is about one token in thirty of a verifier's
    answer and four in five are ` right`, so at weight 1 the model learns to copy the numbers
    and call every step right long before it learns to compare them."""
    w = torch.ones(labels.shape)
    verdict = torch.tensor([tok.token_to_id("\u0120right"), tok.token_to_id("\u0120wrong")])
    after_comma = torch.zeros_like(labels, dtype=torch.bool)
    after_comma[:, 1:] = ids[:, :-1] == tok.token_to_id(",")
    w[torch.isin(labels, verdict) & after_comma] = weight
    return w


def recompute_weights(w, ids, labels, tok, weight):
    """Puts `weight` on the number a check line recomputes when the attempt's number is wrong
    (the `59` of `158 - 99 = 69 | 59, wrong.`). On a right line copying the attempt's number
    gives the same tokens as recomputing it, and right lines are most lines, so a small model
    learns to copy: in the 500-problem evaluation of the 4,688-step model the blind critique
    copied the attempt's number on 89% of the lines whose arithmetic was wrong (blind-check.py
    on that evaluation's journal). Only the wrong
    lines tell copying and recomputing apart; this makes them count."""
    pipe, comma, wrong = tok.token_to_id("|"), tok.token_to_id(","), tok.token_to_id("\u0120wrong")
    rows, cols = torch.nonzero(ids == pipe, as_tuple=True)
    n = ids.shape[1]
    for r, p in zip(rows.tolist(), cols.tolist()):
        # The recomputed number is a few digit tokens; a comma further than that is not its end.
        for c in range(p + 1, min(p + 10, n - 1)):
            if ids[r, c] == comma:
                if ids[r, c + 1] == wrong:
                    span = slice(p + 1, c)
                    w[r, span] = torch.where(labels[r, span] != -100, weight, w[r, span])
                break
    return w


def weighted_loss(model, ids, labels, mask, weights):
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
    target, w = labels[:, 1:].reshape(-1), weights[:, 1:].reshape(-1)
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target,
                                           ignore_index=-100, reduction="none")
    w = w * (target != -100)
    return (ce * w).sum() / w.sum()


def save_folder(model, tok, out, max_len):
    os.makedirs(out, exist_ok=True)
    # Stored as BF16 (half the size of F32; Stepwise reads BF16 safetensors directly).
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    model.to(torch.float32)
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
    ap.add_argument("--data", help="training examples from `stepwise arith-data` (not needed with --export-only)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/stepwise-demo-train")
    ap.add_argument("--minutes", type=float, default=110)
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--max-len", type=int, default=512)
    ap.add_argument("--tokens-per-batch", type=int, default=12288)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verdict-weight", type=float, default=1.0,
                    help="loss weight of the right/wrong verdict on each checked step (see verdict_weights)")
    ap.add_argument("--recompute-weight", type=float, default=1.0,
                    help="loss weight of the recomputed number on each check line whose step is wrong "
                         "(see recompute_weights)")
    # One thread by default: on a machine shared with builds, two OpenMP threads stall at every
    # barrier whenever one is preempted; a single thread keeps its core busy.
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--export-only", action="store_true",
                    help="write the Hugging Face folder from the last checkpoint in --work and stop")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    tok_path = os.path.join(args.work, "tokenizer.json")
    examples = [] if args.export_only else load_examples(args.data)
    if (args.resume or args.export_only) and os.path.exists(tok_path):
        tok = Tokenizer.from_file(tok_path)
    else:
        tok = train_tokenizer(examples, args.vocab)
        tok.save(tok_path)
    data = encode(tok, examples, args.max_len) if examples else []
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
    if (args.resume or args.export_only) and os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, log = state["step"], state["log"]
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters", flush=True)
    if args.export_only:
        model.eval()
        save_folder(model, tok, args.out, args.max_len)
        print(f"saved {args.out} from the checkpoint at step {step}", flush=True)
        return

    # The schedule follows the clock, not a step count: the machine is shared, so how many steps
    # fit in the budget is not known in advance. Linear warm-up, then cosine down to a tenth.
    budget = args.minutes * 60
    spent = log[-1]["seconds"] if log else 0.0
    start = time.time() - spent
    pad = tok.token_to_id(PAD)
    # A resumed run draws a fresh batch order, so it does not repeat the batches it has seen.
    rng = random.Random(args.seed + step)
    seen_tokens = log[-1].get("tokens", 0) if log else 0
    model.train()
    while time.time() - start < budget:
        for idx in batches(data, args.tokens_per_batch, rng):
            elapsed = time.time() - start
            if elapsed >= budget:
                break
            progress = elapsed / budget
            lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
            for g in opt.param_groups:
                g["lr"] = lr
            ids, labels, mask = collate(data, idx, pad)
            seen_tokens += int(mask.sum())
            if args.verdict_weight == 1 and args.recompute_weight == 1:
                loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            else:
                w = recompute_weights(verdict_weights(ids, labels, tok, args.verdict_weight),
                                      ids, labels, tok, args.recompute_weight)
                loss = weighted_loss(model, ids, labels, mask, w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 25 == 0:
                log.append({"step": step, "seconds": round(time.time() - start, 1), "loss": round(loss.item(), 4),
                            "lr": round(lr, 6), "tokens": seen_tokens})
                print(json.dumps(log[-1]), flush=True)
            if step % 200 == 0:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log}, ckpt)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log}, ckpt)
    model.eval()
    save_folder(model, tok, args.out, args.max_len)
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"steps": step, "examples": len(data), "args": vars(args), "loss": log}, f)
    print(f"saved {args.out} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
