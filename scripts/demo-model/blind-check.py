#!/usr/bin/env python3
"""Why the blind critique misses a wrong step: the figures in scripts/demo-model/README.md.

    python3 scripts/demo-model/blind-check.py JOURNAL [MODEL_DIR] [--lines N]

JOURNAL is a `stepwise run` journal with blind step critiques (scripts/demo-model/eval.sh keeps
one). For every check line of a blind critique at an attempt step whose arithmetic is wrong
(`89 + 104 = 203 | …`), it counts whether the critique recomputed the step (another number) or
repeated the attempt's number. Then, for the first N such lines, it has the model solve the
problem greedily (`stepwise generate`, temperature 0) and counts whether its own solution writes
the same wrong number at that step: a wrong step the model makes again that way is one that
checking by redoing the step cannot catch. Standard library only; needs a release build.
"""
import argparse, collections, json, os, re, subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CHECK = re.compile(r"Step \d+: (\d+) ([-+*/]) (\d+) = (-?\d+) \| (-?\d+), (right|wrong)")


def apply(a, op, b):
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else None}[op]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("journal")
    ap.add_argument("model", nargs="?", default=os.path.join(ROOT, "Models", "arith-llama-2.5m"))
    ap.add_argument("--lines", type=int, default=150, help="wrong lines to re-solve greedily (0: none)")
    args = ap.parse_args()
    events = [json.loads(line) for line in open(args.journal) if line.strip()]
    problems = {e["problem"]["id"]: e["problem"]["text"] for e in events if e.get("event") == "problem"}
    problem_of = {e["solution"]["id"]: e["solution"]["problemID"] for e in events if e.get("event") == "solution"}
    wrong_lines = []  # (problem text, a, op, b, the attempt's wrong number)
    tally = collections.Counter()
    for e in events:
        if e.get("event") != "critique" or e["critique"]["informed"]:
            continue
        for line in e["critique"]["raw"].split("\n"):
            m = CHECK.match(line)
            if not m:
                continue
            a, op, b, claimed, checked = int(m[1]), m[2], int(m[3]), int(m[4]), int(m[5])
            if apply(a, op, b) == claimed:
                continue
            tally["recomputed" if checked != claimed else "repeated the attempt's number"] += 1
            wrong_lines.append((problems[problem_of[e["critique"]["solutionID"]]], a, op, b, claimed))
    print(f"blind check lines at wrong steps: {sum(tally.values())}:", dict(tally))

    stepwise = os.path.join(ROOT, ".build", "release", "stepwise")
    greedy = collections.Counter()
    for text, a, op, b, claimed in wrong_lines[: args.lines]:
        lhs = f"{a} {op} {b} = "
        out = subprocess.run([stepwise, "generate", "--model", args.model, "--prompt", text + "\nSolution:",
                              "--temperature", "0", "--max-tokens", "120", "--threads", "1"],
                             capture_output=True, text=True, check=True).stdout
        if lhs not in out:
            greedy["never writes that step"] += 1
            continue
        got = out.split(lhs, 1)[1].split("\n")[0].strip()
        greedy["same wrong number" if got == str(claimed) else "right" if got == str(apply(a, op, b))
               else "another number"] += 1
    if wrong_lines and args.lines:
        print(f"the model solving the first {min(args.lines, len(wrong_lines))} of those problems greedily, at that step:",
              dict(greedy))


if __name__ == "__main__":
    main()
