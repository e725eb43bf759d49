#!/usr/bin/env python3
"""Sets the word minimum of the rule for comments in other languages (issue 37 item 5;
models/README.md, "Comments in other languages"). Runs `threadlens analyze` on English comment
sets never used to build the rule, reads the detector's reliable guess from comments.csv's
`lang` column, and for each candidate minimum W (words = whitespace tokens with a letter)
reports the share of each set the rule would mark as not English. W is the smallest whose share
is <= 0.2 % on every set; then the fresh check (amendment v1.1: Kaggle insults, YouToxic) at
that W; the comments marked at that W are printed to be read.

Usage: language_rule.py THREADLENS_BINARY [--data DIR] [--show N]
"""
import argparse
import csv
import json
from pathlib import Path

import sexual_remarks  # shared: the training split's bucket() and analyze()

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = [1, 3, 5, 8, 12]
MAX_SHARE = 0.002


def words(t):
    return sum(1 for w in t.split() if any(c.isalpha() for c in w))


def english_sets(data):
    cad = [r["text"].replace("[linebreak]", "\n") for r in csv.DictReader(
        open(data / "toxicity/cad-reddit/cad_v1_1_test.tsv", encoding="utf-8"), delimiter="\t")]
    tc = []
    for split in ["dev", "test"]:
        for line in open(data / f"toxicity/toxichat-reddit/{split}.jsonl", encoding="utf-8"):
            tc += [t["text"].strip() for t in json.loads(line)["reddit_thread"]]
    cc = {}
    for f in ["train_sample_4900_attributes.csv", "sample_1000_attributes.csv"]:
        for r in csv.DictReader(open(data / "toxicity/civil-comments-samples" / f, encoding="utf-8")):
            if r["text"].strip() and sexual_remarks.bucket(r["text"]) >= 80:
                cc[r["text"]] = 1
    return {"CAD test": cad, "ToxiChat dev+test": tc, "Civil Comments held-out": list(cc)}


def fresh_sets(data):
    """English sets first looked at under amendment v1.1 (the fresh check)."""
    yt = [r["Text"] for r in csv.DictReader(open(
        data / "toxicity/youtoxic-news-videos/youtoxic_english_1000.export.csv", encoding="utf-8"))]
    kaggle = []
    for f in ["train.csv", "test_with_solutions.csv", "impermium_verification_labels.csv"]:
        for r in csv.DictReader(open(data / "toxicity/kaggle-insults" / f, encoding="utf-8",
                                     errors="replace")):
            kaggle.append(r["Comment"].strip('"').replace("\\n", "\n").replace("\\xa0", " "))
    return {"Kaggle insults": kaggle, "YouToxic": yt}


def langs(binary, texts):
    """(text, lang, reasons) of each text, from `threadlens analyze` (sexual_remarks.analyze)."""
    comments, _ = sexual_remarks.analyze(binary, texts, None)
    return [(t, comments[f"r{k}"]["lang"], comments[f"r{k}"]["reasons"]) for k, t in enumerate(texts)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    ap.add_argument("--show", type=int, default=60)
    a = ap.parse_args()
    got = {name: langs(a.binary, texts) for name, texts in english_sets(Path(a.data)).items()}
    fresh = {name: langs(a.binary, texts) for name, texts in fresh_sets(Path(a.data)).items()}
    marked = lambda rows, w: [r for r in rows if r[1] not in ("", "eng") and words(r[0]) >= w]
    chosen = None
    for w in CANDIDATES:
        shares = {n: len(marked(rows, w)) / len(rows) for n, rows in got.items()}
        print(f"W={w:>2}: " + "; ".join(f"{n} {len(marked(got[n], w))}/{len(got[n])} = {100 * s:.2f} %"
                                        for n, s in shares.items()))
        if chosen is None and all(s <= MAX_SHARE for s in shares.values()):
            chosen = w
    print(f"chosen W: {chosen}")
    if chosen is not None:
        for n, rows in fresh.items():
            m = marked(rows, chosen)
            print(f"fresh check at W={chosen}: {n} {len(m)}/{len(rows)} = {100 * len(m) / len(rows):.2f} %"
                  f" ({'pass' if len(m) <= MAX_SHARE * len(rows) else 'FAIL'})")
        got.update({f"fresh: {n}": rows for n, rows in fresh.items()})
    if chosen is not None:
        for n, rows in got.items():
            for t, lang, reasons in marked(rows, chosen)[:a.show]:
                print(f"  [{n}] {lang} {reasons!r}: {t[:110]!r}")


if __name__ == "__main__":
    main()
