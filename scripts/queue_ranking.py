#!/usr/bin/env python3
"""Measures the moderation queue's order by harm (issue 40, models/README.md "Queue order by
harm"): runs `threadlens analyze` at the default thresholds on CAD test (Reddit comments with
human abuse labels; never trained on), then reports
- the identity-attack set: flagged comments CAD labels IdentityDirectedAbuse;
- the profanity-only set: flagged comments whose attribute reasons are only OBSCENE (context
  codes aside) and that CAD labels not abusive (Neutral or CounterSpeech);
- strict: the share of the identity set ranked above every comment of the profanity-only set;
- pairwise: the share of (identity, profanity-only) pairs in which the identity comment ranks
  higher.

Usage: queue_ranking.py THREADLENS_BINARY [--data DIR]
"""
import argparse
import csv
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATTRIBUTE_CODES = {"TOXIC", "INSULT", "THREAT", "OBSCENE", "IDENTITY_ATTACK", "SEVERE_TOXICITY",
                   "SEXUALLY_EXPLICIT", "FLAG"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    a = ap.parse_args()
    src = Path(a.data) / "toxicity/cad-reddit/cad_v1_1_test.tsv"
    with open(src, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    labels = {r["id"]: set(r["labels"].split(",")) for r in rows}
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "cad-test.csv"
        with open(inp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            for r in rows:
                w.writerow([r["id"], r["text"].replace("[linebreak]", "\n")])
        out = Path(d) / "out"
        subprocess.run([a.binary, "analyze", str(inp), "-o", str(out), "--quiet",
                        "--stance-model", "embedding"], check=True)
        with open(out / "queue.csv", encoding="utf-8") as f:
            queue = list(csv.DictReader(f))
    rank = {q["id"]: int(q["rank"]) for q in queue}
    identity = [q["id"] for q in queue if "IdentityDirectedAbuse" in labels[q["id"]]]
    profanity = [q["id"] for q in queue
                 if {c for c in q["reasons"].split() if c in ATTRIBUTE_CODES} == {"OBSCENE"}
                 and labels[q["id"]] <= {"Neutral", "CounterSpeech"}]
    worst = min((rank[p] for p in profanity), default=len(queue) + 1)
    strict = sum(rank[i] < worst for i in identity)
    pairs = sum(rank[i] < rank[p] for i in identity for p in profanity)
    n_pairs = len(identity) * len(profanity)
    print(f"flagged {len(queue)} of {len(rows)}; identity set {len(identity)}, "
          f"profanity-only set {len(profanity)} (highest at rank {worst})")
    print(f"strict: {strict}/{len(identity)} = {strict / max(len(identity), 1):.3f} of identity "
          f"attacks rank above every profanity-only flag")
    print(f"pairwise: {pairs}/{n_pairs} = {pairs / max(n_pairs, 1):.3f}")
    for q in queue[:10]:
        print(f"  {q['rank']:>3} {q['severity']} {q['reasons']:<30} "
              f"{','.join(sorted(labels[q['id']])):<25} {q['text'][:70]!r}")


if __name__ == "__main__":
    main()
