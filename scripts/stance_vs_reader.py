#!/usr/bin/env python3
"""Compares the stance column of an analyze run's comments.csv on the bundled Sputnik page with
one careful reader's labels (data/samples/sputnik-stance-reader.csv): the counts each gives
(the model's "unclear", stance v3, counts as disagreeing with the reader),
the agreement, and the 3-class macro-F1. Usage: scripts/stance_vs_reader.py OUT/comments.csv"""
import csv
import sys
from pathlib import Path

reader = {r["id"]: r["reader_stance"] for r in csv.DictReader(
    open(Path(__file__).resolve().parent.parent / "data/samples/sputnik-stance-reader.csv"))}
rows = {r["id"]: r for r in csv.DictReader(open(sys.argv[1]))}
labels = ["favor", "against", "none"]
model = {i: rows[i]["stance"] for i in reader}
count = lambda d: {l: sum(v == l for v in d.values()) for l in labels + ["unclear"]}
f1s = []
for l in labels:
    tp = sum(model[i] == l and reader[i] == l for i in reader)
    fp = sum(model[i] == l and reader[i] != l for i in reader)
    fn = sum(model[i] != l and reader[i] == l for i in reader)
    f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
agree = sum(model[i] == reader[i] for i in reader)
print(f"reader {count(reader)}  model {count(model)}  "
      f"agree {agree}/{len(reader)}  macro-F1 {sum(f1s) / 3:.3f}")
for i in reader:
    if model[i] != reader[i]:
        src = rows[i].get("stance_source", "")
        print(f"  {i}: reader {reader[i]}, model {model[i]} ({src})")
