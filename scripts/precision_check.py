#!/usr/bin/env python3
"""Do the model card's held-out figures hold under the precision `--precision auto` picks?

Scores whole held-out comment sets with `threadlens score` twice, in fp32 (the precision the
card was measured in) and in the precision under test (default: whatever auto picks on this
CPU), and prints the card's figures side by side, with how often the labels agree:

* YouToxic (YouTube news-video comments; never trained on): toxicity ROC AUC, clean comments
  queued at the default thresholds, toxic comments caught;
* CAD test (Reddit; the official test split): the same, Neutral and CounterSpeech as clean;
* GoEmotions dev (Reddit; single-label negative / neutral / positive rows of the grouping):
  sentiment macro-recall.

    scripts/precision_check.py [--precision auto] [--binary target/release/threadlens]

Standard library only; reads ../shared/data. Not a test: CI never runs it.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/threadlens")
ap.add_argument("--data", default="../shared/data")
ap.add_argument("--precision", default="auto", help="the precision compared with fp32")
args = ap.parse_args()

# src/tune/thresholds.rs DEFAULTS: a comment is queued when any attribute reaches its value.
DEFAULTS = {"toxicity": 0.85, "insult": 0.80, "threat": 0.65, "obscene": 0.80, "identity_attack": 0.60, "severe_toxicity": 0.50, "sexual_explicit": 0.50}
csv.field_size_limit(sys.maxsize)


def read_sets(data):
    rows = []  # (set, id, text, label)
    with open(os.path.join(data, "toxicity/youtoxic-news-videos/youtoxic_english_1000.export.csv"), newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            flags = ["IsToxic", "IsAbusive", "IsThreat", "IsObscene", "IsHatespeech"]
            toxic = r["IsToxic"] == "True"
            clean = not any(r[k] == "True" for k in flags)
            rows.append(("youtoxic", f"yt{i}", r["Text"], "toxic" if toxic else ("clean" if clean else None)))
    with open(os.path.join(data, "toxicity/cad-reddit/cad_v1_1_test.tsv"), newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            labels = set(r["labels"].split(","))
            clean = labels <= {"Neutral", "CounterSpeech"}
            text = r["text"].replace("[linebreak]", "\n")
            rows.append(("cad", f"cad{i}", text, "clean" if clean else "toxic"))
    names = {"1": "negative", "2": "neutral", "3": "positive"}
    with open(os.path.join(data, "sentiment/goemotions-reddit/group/dev.tsv"), newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if len(r) >= 2 and r[1] in names:
                rows.append(("goemotions", f"ge{i}", r[0], names[r[1]]))
    return rows


def score(rows, precision, tmp):
    src = os.path.join(tmp, "in.csv")
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text"])
        for _, i, t, _ in rows:
            w.writerow([i, t])
    out = os.path.join(tmp, f"out-{precision}.csv")
    r = subprocess.run([args.binary, "score", src, "-o", out, "--precision", precision], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(r.stderr)
    used = next((l for l in r.stderr.splitlines() if "model " in l), "").strip()
    with open(out, newline="", encoding="utf-8") as f:
        return {x["id"]: x for x in csv.DictReader(f)}, used


def auc(pos, neg):
    """ROC AUC by ranks (ties count half)."""
    allv = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        avg = (i + j + 1) / 2
        rank_sum += avg * sum(1 for k in range(i, j) if allv[k][1] == 1)
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def queued(r):
    return any(float(r[a]) >= t for a, t in DEFAULTS.items())


def figures(rows, scored):
    out = {}
    for name in ["youtoxic", "cad"]:
        sel = [(l, scored[i]) for s, i, _, l in rows if s == name and l]
        pos = [float(r["toxicity"]) for l, r in sel if l == "toxic"]
        neg = [float(r["toxicity"]) for l, r in sel if l == "clean"]
        clean = [r for l, r in sel if l == "clean"]
        toxic = [r for l, r in sel if l == "toxic"]
        out[f"{name} toxicity AUC"] = auc(pos, neg)
        out[f"{name} clean queued %"] = 100 * sum(map(queued, clean)) / len(clean)
        out[f"{name} toxic caught %"] = 100 * sum(map(queued, toxic)) / len(toxic)
    sel = [(l, scored[i]["sentiment"]) for s, i, _, l in rows if s == "goemotions"]
    recalls = []
    for c in ["negative", "neutral", "positive"]:
        have = [p for l, p in sel if l == c]
        recalls.append(sum(p == c for p in have) / len(have))
    out["goemotions sentiment macro-recall"] = 100 * sum(recalls) / 3
    return out


rows = read_sets(args.data)
with tempfile.TemporaryDirectory() as tmp:
    a, used_a = score(rows, "fp32", tmp)
    b, used_b = score(rows, args.precision, tmp)
print(f"{len(rows)} held-out texts; fp32 run: {used_a}; compared run: {used_b}")
fa, fb = figures(rows, a), figures(rows, b)
print(f"{'figure':<36} {'fp32':>9} {args.precision:>9}")
for k in fa:
    print(f"{k:<36} {fa[k]:9.3f} {fb[k]:9.3f}")
ids = list(a)
same_sent = sum(a[i]["sentiment"] == b[i]["sentiment"] for i in ids) / len(ids)
same_queue = sum(queued(a[i]) == queued(b[i]) for i in ids) / len(ids)
worst_attr = min((sum((float(a[i][t]) >= 0.5) == (float(b[i][t]) >= 0.5) for i in ids) / len(ids), t) for t in DEFAULTS)
maxdiff = max(abs(float(a[i][t]) - float(b[i][t])) for i in ids for t in list(DEFAULTS) + ["sentiment_negative", "sentiment_neutral", "sentiment_positive"])
print(f"agreement with fp32 on {len(ids)} texts: sentiment labels {100 * same_sent:.2f} %, queued at the defaults {100 * same_queue:.2f} %, "
      f"lowest attribute at 0.5 {100 * worst_attr[0]:.2f} % ({worst_attr[1]}); largest probability difference {maxdiff:.4f}")
