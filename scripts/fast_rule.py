#!/usr/bin/env python3
"""Applies the rule of models/README.md, "Amendment fast encoder", conditions (a)-(c), to the
committed model's metrics.json and the fast student's evaluation-metrics.json (written by
`threadlens train --evaluate --student FILE`: the committed heads at the default thresholds,
nothing fitted). Condition (d), throughput, is bench/throughput.sh's. Prints each condition,
per source, and the decision; exit 0 either way.

Usage: scripts/fast_rule.py models/heads/metrics.json DIR/heads/evaluation-metrics.json"""
import json
import sys

TWEETS = ("davidson", "tweeteval")


def scores(path):
    return json.load(open(path))["metrics"]["scores"]


def comment_sources(s):
    """Non-tweet sources with a test `toxicity` AUC (so with test positives and negatives),
    and Kaggle insults, which labels only `insult`."""
    out = []
    for k in s:
        parts = k.split(".")
        if (len(parts) == 5 and parts[:2] == ["toxicity", "test"] and parts[3:] == ["toxicity", "roc_auc"]
                and not parts[2].startswith(TWEETS)):
            out.append((parts[2], "toxicity"))
    if "toxicity.test.kaggle-insults.insult.roc_auc" in s:
        out.append(("kaggle-insults", "insult"))
    return sorted(out)


def main(cur_path, cand_path):
    cur, cand = scores(cur_path), scores(cand_path)
    ok = True
    print("(a) test ROC AUC within 0.02 of the default encoder's, every non-tweet comment source:")
    for source, attr in comment_sources(cur):
        key = f"toxicity.test.{source}.{attr}.roc_auc"
        a, b = cur[key], cand.get(key)
        passed = b is not None and b >= a - 0.02
        ok &= passed
        print(f"    {source:<26} {attr:<9} {a:.4f} -> {b:.4f}  {'pass' if passed else 'FAIL'}")
    print("(b) clean test comments flagged at the defaults, at most 2 % on every source:")
    for k in sorted(k for k in cand if k.startswith("toxicity.test.") and k.endswith(".clean.flagged_share")):
        source = k.split(".")[2]
        passed = cand[k] <= 0.02
        ok &= passed
        print(f"    {source:<26} {100 * cur.get(k, float('nan')):5.2f} % -> {100 * cand[k]:5.2f} %  {'pass' if passed else 'FAIL'}")
    print("(c) sentiment macro-recall within 2 points (SemEval held-out, GoEmotions dev):")
    for source in ("semeval", "goemotions-dev"):
        key = f"sentiment.test.{source}.macro_recall"
        a, b = cur[key], cand[key]
        passed = b >= a - 0.02
        ok &= passed
        print(f"    {source:<26} {100 * a:.1f} -> {100 * b:.1f}  {'pass' if passed else 'FAIL'}")
    print(f"(a)-(c): {'pass' if ok else 'fail'}; (d) is bench/throughput.sh's")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
