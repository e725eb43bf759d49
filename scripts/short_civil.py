#!/usr/bin/env python3
"""Toxicity of short civil comments (issue 40 item 5): comments of at most 12 words that their
source's people label civil, scored by the given threadlens binary, per source: how many, the
median and 90th percentile of toxicity, and the share reaching 0.5 and the ESCALATION floor
(0.75). Sources never trained on: CAD test (Neutral), ToxiChat dev and test (Safe human turns).

Usage: short_civil.py THREADLENS_BINARY [--data DIR]
"""
import argparse
import csv
import io
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def short(t):
    return 0 < len(t.split()) <= 12


def sources(data):
    cad = [r["text"].replace("[linebreak]", " ") for r in csv.DictReader(
        open(data / "toxicity/cad-reddit/cad_v1_1_test.tsv", encoding="utf-8"), delimiter="\t")
        if r["labels"] == "Neutral"]
    out = {"cad-test Neutral": cad}
    for split in ["dev", "test"]:
        turns = [t["text"] for line in open(data / f"toxicity/toxichat-reddit/{split}.jsonl", encoding="utf-8")
                 for t in json.loads(line)["reddit_thread"] if t["offense_label"] == "Safe"]
        out[f"toxichat-{split} Safe"] = turns
    return {k: [t.strip() for t in v if short(t)] for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    a = ap.parse_args()
    for name, texts in sources(Path(a.data)).items():
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "in.csv"
            with open(p, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["id", "text"])
                for k, t in enumerate(texts):
                    w.writerow([f"r{k}", t])
            out = subprocess.run([a.binary, "score", str(p), "--quiet"], check=True,
                                 capture_output=True, text=True).stdout
        tox = sorted(float(r["toxicity"]) for r in csv.DictReader(io.StringIO(out)))
        n = len(tox)
        q = lambda x: tox[min(n - 1, int(x * n))]
        print(f"{name:<20} {n:>5} short civil; toxicity median {q(0.5):.3f}, p90 {q(0.9):.3f}; "
              f"≥ 0.5: {sum(t >= 0.5 for t in tox) / n * 100:.1f} %; "
              f"≥ 0.75: {sum(t >= 0.75 for t in tox) / n * 100:.1f} %")


if __name__ == "__main__":
    main()
