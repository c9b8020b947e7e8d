#!/usr/bin/env bash
# The demo model's figures in one command: sample 4 attempts for each of the 500 held-out
# builtin:arith problems, critique every attempt blind and shown the reference, run one
# refinement round from the blind critique, and print Stepwise's report of the journal
# (accuracy and pass@k, the first-error localisation table, refinement fixes and breaks).
#
#   scripts/demo-model/eval.sh [MODEL_DIR] [extra `stepwise run` options, e.g. --temperature 0.4]
#
# Needs only Swift. The journal is kept (its path is printed) to open with `stepwise tui`.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:-Models/arith-llama-2.5m}
shift || true
journal=/tmp/stepwise-demo-eval-$(date +%Y%m%d-%H%M%S)-$$.jsonl
swift build -c release --product stepwise >&2
.build/release/stepwise run --model "$model" --dataset builtin:arith --samples 4 --rounds 1 \
    --verifiers critique --informed --parallel 8 --max-tokens 200 --out "$journal" "$@" >&2
.build/release/stepwise report "$journal"
echo "journal: $journal"
