#!/usr/bin/env python3
"""Measures the thread rule beside the one-pass head (models/README.md, amendment stance v2.12).

MT-CSD dev's labelled rows become one CSV: each row's id is its reply chain, its parent the
labelled row that chain answers (empty where that row is not labelled), its entity the
`article_title` (the stance target). The given threadlens binary scores it with
`--stance-model embedding-reply`; the script prints the 3-class macro-F1 of `stance` against
the labels and how many rows were inferred through the thread (`stance_source` = thread).
Run it with two builds (the thread rule off and on) to compare.

Usage: thread_rule_one_pass.py THREADLENS_BINARY [DATA_DIR] [--models DIR]
"""
import csv
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LABELS = ["favor", "against", "none"]


def rows(data: Path):
    """MT-CSD dev as (id, parent id, text, target, label), parents first."""
    out = []
    for line in open(data / "stance/mtcsd-reddit/dev.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r.get("label") not in LABELS or not r.get("ids"):
            continue
        path = lambda n: r["target"] + "|" + "/".join(r["ids"][:n])
        parent = path(len(r["ids"]) - 1) if len(r["ids"]) > 1 else ""
        out.append((path(len(r["ids"])), parent, r["text"], r["target"], r["label"]))
    ids = {o[0] for o in out}
    out = [(i, p if p in ids else "", t, g, l) for i, p, t, g, l in out]
    out.sort(key=lambda o: o[0].count("/"))
    return out


def macro_f1(gold, pred):
    f1s = []
    for c in LABELS:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def main():
    args = sys.argv[1:]
    models = []
    if "--models" in args:
        k = args.index("--models")
        models = ["--models", args[k + 1]]
        del args[k : k + 2]
    binary = args[0]
    data = Path(args[1] if len(args) > 1 else "../shared/data")
    table = rows(data)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mtcsd-dev.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "parent_id", "text", "article_title"])
            for i, p, t, g, _ in table:
                w.writerow([i, p, t, g])
        out = subprocess.run(
            [binary, "score", str(path), "--quiet", "--stance-model", "embedding-reply", *models],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    scored = {r["id"]: r for r in csv.DictReader(io.StringIO(out))}
    missing = [i for i, *_ in table if i not in scored]
    if missing:
        sys.exit(f"{len(missing)} rows missing from the scores, e.g. {missing[0]}")
    gold = [l for *_, l in table]
    pred = [scored[i]["stance"] or "none" for i, *_ in table]
    inferred = sum(scored[i]["stance_source"] == "thread" for i, *_ in table)
    replies = sum(bool(scored[i]["reply_stance"]) for i, *_ in table)
    print(
        json.dumps(
            {
                "rows": len(table),
                "with_reply_stance": replies,
                "inferred": inferred,
                "macro_f1": round(macro_f1(gold, pred), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
