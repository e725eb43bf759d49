"""How much a comment's scores depend on the other rows (issue 17, case 15): the same 40
comments scored alone and inside a 1,000-comment file, and the 1,000 scored with other batch
sizes. Prints, per comparison, how many rows differ at the 4 printed decimals, the largest
difference, and how many labels (sentiment, and each toxicity attribute at its default
threshold) change. The bound stated in docs/reliability.md comes from this script's output.

Usage: python3 bench/batch_bound.py [--binary target/release/threadlens]"""
import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from corpus import DEFAULT, first_distinct_comments  # noqa: E402

SCORES = ["sentiment_negative", "sentiment_neutral", "sentiment_positive", "toxicity", "insult",
          "threat", "obscene", "identity_attack", "severe_toxicity", "sexual_explicit"]


def defaults(binary):
    """The default thresholds, from `analyze --help` (the one table of defaults)."""
    out = subprocess.run([binary, "analyze", "--help"], capture_output=True, text=True).stdout
    line = out[out.index("Default thresholds:"):].split("\n\n")[0].replace("\n", " ")
    pairs = {}
    for item in line.split(":", 1)[1].strip().rstrip(".").split(","):
        name, value = item.strip().rsplit(" ", 1)
        pairs[name] = float(value)
    return pairs


def score(binary, texts, extra=()):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.csv")
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            w.writerows([i, t] for i, t in texts)
        out = subprocess.run([binary, "score", path, "--quiet", *extra], check=True,
                             capture_output=True, text=True).stdout
    return {r["id"]: r for r in csv.DictReader(io.StringIO(out))}


def compare(name, a, b, th):
    ids = [i for i in a if i in b]
    differ, worst, labels = 0, 0.0, 0
    for i in ids:
        d = max(abs(float(a[i][c]) - float(b[i][c])) for c in SCORES)
        differ += d > 0
        worst = max(worst, d)
        labels += a[i]["sentiment"] != b[i]["sentiment"]
        for c in SCORES[3:]:
            labels += (float(a[i][c]) >= th[c]) != (float(b[i][c]) >= th[c])
    print(f"| {name} | {len(ids)} | {differ} | {worst:.4f} | {labels} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/threadlens")
    a = ap.parse_args()
    th = defaults(a.binary)
    texts = list(enumerate(first_distinct_comments(DEFAULT, 1000)))
    whole = score(a.binary, texts)
    print("| comparison | rows | rows differing (4 decimals) | largest difference | labels changed |")
    print("|---|---:|---:|---:|---:|")
    compare("40 alone vs inside 1,000", score(a.binary, texts[:40]), whole, th)
    compare("1,000 with --batch-rows 8 vs default", score(a.binary, texts, ["--batch-rows", "8"]), whole, th)
    compare("1,000 with --batch-tokens 512 vs default", score(a.binary, texts, ["--batch-tokens", "512"]), whole, th)
    compare("1,000 in fp32 vs auto", score(a.binary, texts, ["--precision", "fp32"]), whole, th)


if __name__ == "__main__":
    main()
