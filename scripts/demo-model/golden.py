#!/usr/bin/env python3
"""Golden logits of the shipped demo model, from PyTorch (transformers), for Stepwise's engine test.

    python3 scripts/demo-model/golden.py --model Models/arith-llama-2.5m \
        --out Tests/InferenceTests/Fixtures/demo-model.golden.json

The prompt is a held-out builtin:arith problem in the model's own generation prompt. The file
holds the prompt's token ids (from the Hugging Face tokenizer, BOS first), the logits at every
prompt position, the greedy continuation and the logits at each of its steps — the same layout
as scripts/engine-fixtures writes, so Tests/InferenceTests reads both the same way. The weights
are BF16 on disk and computed in F32 here, as Stepwise computes them.
"""
import argparse
import json

import torch
from tokenizers import Tokenizer
from transformers import LlamaForCausalLM

# builtin:arith test problem 7 (`stepwise run --dataset builtin:arith --problems 7`), in the
# model's generate-arith prompt.
PROMPT = ("Liam has 19 coins. Then the number of coins becomes 5 times as large. He buys 8 packs with "
          "8 coins in each. He splits them equally into 3 boxes and keeps one box. How many coins does "
          "Liam have now?\nSolution:")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--prompt", default=PROMPT)
    args = ap.parse_args()

    torch.manual_seed(0)
    tok = Tokenizer.from_file(f"{args.model}/tokenizer.json")
    model = LlamaForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    bos = tok.token_to_id("<|bos|>")
    prompt_ids = [bos] + tok.encode(args.prompt).ids
    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        prompt_logits = model(ids).logits[0]
        # greedy_logits[i] are the logits the i-th greedy token was chosen from: the prompt's
        # last position first, then the step after each greedy token but the last.
        greedy, steps = [], []
        out = model(ids, use_cache=True)
        past, row = out.past_key_values, out.logits[0, -1]
        for i in range(args.steps):
            steps.append(row)
            greedy.append(int(row.argmax()))
            if i + 1 < args.steps:
                out = model(torch.tensor([[greedy[-1]]]), past_key_values=past, use_cache=True)
                past, row = out.past_key_values, out.logits[0, -1]
    margins = [float(s.topk(2).values[0] - s.topk(2).values[1]) for s in steps]
    golden = {
        "reference": "transformers 4.57.6 LlamaForCausalLM, F32 compute of the BF16 weights",
        "architecture": "llama",
        "type": "hf-bf16",
        "prompt": args.prompt,
        "prompt_ids": prompt_ids,
        "greedy_ids": greedy,
        "greedy_text": tok.decode(greedy),
        "greedy_min_margin": round(min(margins), 4),
        "logits": [[round(float(x), 5) for x in row] for row in prompt_logits],
        "greedy_logits": [[round(float(x), 5) for x in row] for row in steps],
    }
    with open(args.out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
    print(f"wrote {args.out}: {len(prompt_ids)} prompt tokens, greedy {golden['greedy_text']!r}")


if __name__ == "__main__":
    main()
