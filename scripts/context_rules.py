#!/usr/bin/env python3
"""Re-derives ESCALATION's default floor on labelled conversations (models/README.md,
"ESCALATION's default floor on conversations", issue 40).

ToxiChat dev and test become CSVs of turns (a turn's parent is the turn before). For each floor
in 0.50 … 0.95 the given binary runs `analyze` with `[escalation] min = floor`; the script
counts clean (Safe) turns flagged for any reason and by ESCALATION alone, and Offensive turns
ESCALATION alone catches, picks the floor by the written rule on dev, and reports test.

Usage: context_rules.py THREADLENS_BINARY [--data DIR]
"""
import argparse
import csv
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = [round(0.5 + 0.05 * i, 2) for i in range(10)]
ATTRIBUTE_CODES = {"TOXIC", "INSULT", "THREAT", "OBSCENE", "IDENTITY_ATTACK", "SEVERE_TOXICITY",
                   "SEXUALLY_EXPLICIT", "FLAG"}


def turns(path):
    """(id, parent id, text, label) of every human turn."""
    out = []
    for n, line in enumerate(open(path, encoding="utf-8")):
        for t in json.loads(line)["reddit_thread"]:
            i = t["turn_id"]
            out.append((f"t{n}-{i}", f"t{n}-{i - 1}" if i > 1 else "", t["text"], t["offense_label"]))
    return out


def run(binary, rows, floor, d):
    inp = Path(d) / "in.csv"
    with open(inp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "parent_id", "text"])
        for i, p, t, _ in rows:
            w.writerow([i, p, t])
    th = Path(d) / "th.toml"
    th.write_text(f"[escalation]\nmin = {floor}\n", encoding="utf-8")
    out = Path(d) / f"out-{floor}"
    subprocess.run([binary, "analyze", str(inp), "-o", str(out), "--quiet", "--thresholds", str(th),
                    "--stance-model", "embedding"], check=True)
    with open(out / "comments.csv", encoding="utf-8") as f:
        return {r["id"]: r["reasons"].split() for r in csv.DictReader(f)}


def figures(rows, reasons):
    clean = [i for i, _, _, l in rows if l == "Safe"]
    offensive = [i for i, _, _, l in rows if l == "Offensive"]
    alone = lambda i: "ESCALATION" in reasons[i] and not (set(reasons[i]) & ATTRIBUTE_CODES)
    return {
        "clean": len(clean),
        "clean_flagged": sum(bool(reasons[i]) for i in clean),
        "clean_escalation_alone": sum(alone(i) for i in clean),
        "offensive": len(offensive),
        "offensive_flagged": sum(bool(reasons[i]) for i in offensive),
        "offensive_escalation_alone": sum(alone(i) for i in offensive),
    }


def line(name, floor, f):
    pc = lambda a, b: f"{a}/{b} = {100 * a / max(b, 1):.1f} %"
    print(f"  {name:<5} min {floor:.2f}: clean flagged {pc(f['clean_flagged'], f['clean'])}, "
          f"by ESCALATION alone {pc(f['clean_escalation_alone'], f['clean'])}; offensive flagged "
          f"{pc(f['offensive_flagged'], f['offensive'])}, by ESCALATION alone "
          f"{f['offensive_escalation_alone']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    a = ap.parse_args()
    base = Path(a.data) / "toxicity/toxichat-reddit"
    dev, test = turns(base / "dev.jsonl"), turns(base / "test.jsonl")
    chosen = None
    with tempfile.TemporaryDirectory() as d:
        for floor in FLOORS:
            f = figures(dev, run(a.binary, dev, floor, d))
            line("dev", floor, f)
            if chosen is None and f["clean_escalation_alone"] <= 0.01 * f["clean"] \
                    and f["clean_flagged"] <= 0.02 * f["clean"]:
                chosen = floor
        print(f"chosen by the rule: {'off' if chosen is None else chosen}")
        for floor in sorted({0.5, chosen or 0.5}):
            line("test", floor, figures(test, run(a.binary, test, floor, d)))


if __name__ == "__main__":
    main()
