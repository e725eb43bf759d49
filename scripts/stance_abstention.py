#!/usr/bin/env python3
"""Chooses and measures when threadlens says a stance (models/README.md, stance v3 protocol).

Builds the protocol's calibration and held-out rows from ../shared/data, scores them with the
given threadlens binary (`score`, one run per stance model), picks one confidence threshold per
label and model on the calibration rows only, then reports precision and coverage on the
held-out rows per source, and the precision-coverage curve. With --write FILE it writes the
thresholds and every figure as JSON (models/heads/stance-abstention.json is what the product
reads).

Usage: stance_abstention.py THREADLENS_BINARY [--data DIR] [--models DIR] [--write FILE]
"""
import argparse
import csv
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ["favor", "against", "none"]
REPLY = ["agree", "disagree", "neutral"]
GRID = [round(0.34 + 0.02 * i, 2) for i in range(33)]  # 0.34 … 0.98
MIN_ROWS = 15
CAL_PRECISION = 0.80
PAIR_MARGIN = 0.05
HELD_PRECISION = 0.75
FILES = ["encoder-lora.safetensors", "heads.safetensors", "stance-pair-lora.safetensors",
         "stance-pair-heads.safetensors", "stance-reply-lora.safetensors",
         "stance-reply-heads.safetensors"]


def even(key: str) -> bool:
    return hashlib.sha1(key.encode("utf-8")).digest()[0] % 2 == 0


def vast(data):
    """VAST dev: (text, topic, label, calibration?)."""
    out = []
    with open(data / "stance/vast/vast_dev_4col.csv", encoding="utf-8", errors="replace") as f:
        for r in csv.DictReader(f):
            lab = {"1": "favor", "0": "against", "2": "none"}.get((r.get("Stance") or "").strip())
            text, topic = r.get("Tweet") or "", (r.get("Target") or "").strip()
            if lab and text.strip() and topic:
                out.append((text, topic, lab, even(topic.lower())))
    return out


def mtcsd(data):
    out = []
    for line in open(data / "stance/mtcsd-reddit/dev.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r.get("label") in ARTICLE and r.get("ids") and (r.get("text") or "").strip():
            out.append((r["text"], r["target"], r["label"], even(r["target"] + "|" + r["ids"][0])))
    return out


def tweeteval(data):
    targets = [("abortion", "Legalization of Abortion"), ("atheism", "Atheism"),
               ("climate", "Climate Change is a Real Concern"), ("feminist", "Feminist Movement"),
               ("hillary", "Hillary Clinton")]
    out = []
    for folder, target in targets:
        d = data / "stance/tweeteval-stance" / folder
        labels = [l.strip() for l in open(d / "val_labels.txt", encoding="utf-8") if l.strip()]
        texts = open(d / "val_text.txt", encoding="utf-8").read().split("\n")[: len(labels)]
        for t, l in zip(texts, labels):
            out.append((t, target, {"2": "favor", "1": "against"}.get(l, "none"), False))
    return out


def arc(data):
    d = data / "stance/arc-nyt-comments"
    with open(d / "arc_bodies.csv", encoding="utf-8", errors="replace") as f:
        bodies = {r["Body ID"]: r["articleBody"] for r in csv.DictReader(f)}
    out = []
    with open(d / "arc_stances_test.csv", encoding="utf-8", errors="replace") as f:
        for r in csv.DictReader(f):
            lab = {"agree": "favor", "disagree": "against", "discuss": "none",
                   "unrelated": "none"}.get(r["Stance"])
            body = bodies.get(r["Body ID"])
            if lab and body and body.strip():
                out.append((body, r["Headline"], lab, False))
    return out


def toxichat(data, split):
    """Human replies toward the turn before: (parent text, reply text, label)."""
    out = []
    lab = {"Agree": "agree", "Disagree": "disagree", "Neutral": "neutral"}
    for line in open(data / f"toxicity/toxichat-reddit/{split}.jsonl", encoding="utf-8"):
        thread = json.loads(line).get("reddit_thread") or []
        text = {t.get("turn_id"): t.get("text") or "" for t in thread}
        for t in thread:
            i = t.get("turn_id")
            l = lab.get(t.get(f"stance_label_towards_turn_{(i or 0) - 1}"))
            if l and text.get(i - 1, "").strip() and (t.get("text") or "").strip():
                out.append((text[i - 1], t["text"], l))
    return out


def rumoureval(data):
    lab = {"support": "agree", "deny": "disagree", "query": "neutral", "comment": "neutral"}
    out = []
    for line in open(data / "stance/rumoureval2019/dev.jsonl", encoding="utf-8"):
        r = json.loads(line)
        l = lab.get(r.get("label"))
        if r.get("depth") == 1 and l and (r.get("parent_text") or "").strip() and (r.get("text") or "").strip():
            out.append((r["parent_text"], r["text"], l))
    return out


def run(binary, models, args):
    p = subprocess.run([binary, "score", "--quiet", *models, *args],
                       check=True, capture_output=True, text=True)
    return list(csv.DictReader(io.StringIO(p.stdout)))


def score_article(binary, models, rows, stance_model):
    """Probabilities (favor, against, none) per row, in order."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "article.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text", "article_title"])
            for k, (text, target, *_) in enumerate(rows):
                w.writerow([f"r{k}", text, target])
        out = {r["id"]: r for r in run(binary, models, [str(path), "--stance-model", stance_model])}
    return [[float(out[f"r{k}"][f"stance_{l}"]) for l in ARTICLE] for k in range(len(rows))]


def score_reply(binary, models, rows):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "reply.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "parent_id", "text"])
            for k, (parent, text, _) in enumerate(rows):
                w.writerow([f"p{k}", "", parent])
                w.writerow([f"c{k}", f"p{k}", text])
        out = {r["id"]: r for r in run(binary, models, [str(path), "--stance-model", "embedding-reply"])}
    return [[float(out[f"c{k}"][f"reply_{l}"]) for l in REPLY] for k in range(len(rows))]


def sputnik(binary, models, stance_model):
    reader = {r["id"]: r["reader_stance"] for r in csv.DictReader(
        open(ROOT / "data/samples/sputnik-stance-reader.csv", encoding="utf-8"))}
    page = ROOT / "data/seeds/sputnik-trump-putin-with-comments.txt"
    out = {r["id"]: r for r in run(binary, models, [str(page), "--stance-model", stance_model])}
    ids = sorted(reader)
    return ids, [reader[i] for i in ids], [[float(out[i][f"stance_{l}"]) for l in ARTICLE] for i in ids]


def decide(p, labels, tau):
    c = max(range(3), key=lambda j: (p[j], -j))
    return labels[c] if p[c] >= tau[labels[c]] else "unclear"


def choose(sources, labels):
    """The protocol's rule: per label, the smallest grid value passing on every calibration
    source that has MIN_ROWS rows of that label; None = never."""
    tau = {}
    for lab in labels:
        tau[lab] = None
        for t in GRID:
            evidence, ok = 0, True
            for gold, probs in sources.values():
                picked = [g for g, p in zip(gold, probs) if decide(p, labels, {l: t for l in labels}) == lab]
                if len(picked) >= MIN_ROWS:
                    evidence += 1
                    ok &= sum(g == lab for g in picked) / len(picked) >= CAL_PRECISION
            if evidence and ok:
                tau[lab] = t
                break
    return tau


def held_check(tau, held, labels):
    """Amendment v3.1: keep a label only where its precision is at least HELD_PRECISION on every
    held-out source asserting it on MIN_ROWS rows or more (at least one such source)."""
    kept = {}
    for lab, t in tau.items():
        if t is None:
            kept[lab] = None
            continue
        fs = [figures(g, p, labels, tau)[lab] for g, p in held.values()]
        fs = [f for f in fs if f["asserted"] >= MIN_ROWS]
        kept[lab] = t if fs and all(f["precision"] >= HELD_PRECISION for f in fs) else None
    return kept


def sha12(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def figures(gold, probs, labels, tau):
    t = {l: (9.0 if v is None else v) for l, v in tau.items()}
    pred = [decide(p, labels, t) for p in probs]
    n = len(gold)
    f = {"rows": n}
    sides = labels[:2]
    for lab in labels:
        picked = [g for g, p in zip(gold, pred) if p == lab]
        f[lab] = {"asserted": len(picked),
                  "precision": round(sum(g == lab for g in picked) / len(picked), 4) if picked else None}
    both = [(g, p) for g, p in zip(gold, pred) if p in sides]
    f["sides_asserted"] = len(both)
    f["sides_coverage"] = round(len(both) / n, 4) if n else 0.0
    f["sides_precision"] = round(sum(g == p for g, p in both) / len(both), 4) if both else None
    f["known_coverage"] = round(sum(p != "unclear" for p in pred) / n, 4) if n else 0.0
    f["gold"] = {l: sum(g == l for g in gold) for l in labels}
    return f


def curve(gold, probs, labels, tau):
    """One τ for both sides across the grid, the third label at its chosen τ."""
    pts = []
    for t in GRID:
        tt = dict(tau)
        tt[labels[0]] = tt[labels[1]] = t
        f = figures(gold, probs, labels, tt)
        pts.append([t, f["sides_coverage"], f["sides_precision"]])
    return pts


def fmt(x):
    return "–" if x is None else f"{x:.3f}"


def table(title, results, labels):
    print(f"\n{title}")
    print(f"  {'source':<22}{'rows':>6}{'cover':>8}{'prec':>7}  " +
          "  ".join(f"{l}: n/prec" for l in labels) + "  known")
    for name, f in results.items():
        per = "  ".join(f"{f[l]['asserted']:>4}/{fmt(f[l]['precision'])}" for l in labels)
        print(f"  {name:<22}{f['rows']:>6}{f['sides_coverage']:>8.3f}{fmt(f['sides_precision']):>7}  {per}  {f['known_coverage']:.3f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    ap.add_argument("--models", default=None)
    ap.add_argument("--write", default=None)
    a = ap.parse_args()
    data, models = Path(a.data), (["--models", a.models] if a.models else [])

    sets = {"vast-dev": vast(data), "mtcsd-dev": mtcsd(data),
            "tweeteval-val": tweeteval(data), "arc-test": arc(data)}
    heads = Path(a.models or ROOT / "models") / "heads"
    report = {"protocol": "models/README.md, stance v3 and amendment v3.1",
              "fitted_for": {f: sha12(heads / f) for f in FILES if (heads / f).is_file()},
              "grid": [GRID[0], GRID[-1], 0.02],
              "min_rows": MIN_ROWS, "calibration_precision": CAL_PRECISION}
    for model in ["embedding", "pair"]:
        probs = {}
        for name, rows in sets.items():
            probs[name] = score_article(a.binary, models, rows, model)
            print(f"{model}: scored {name} ({len(rows)} rows)", file=sys.stderr)
        cal, held = {}, {}
        for name, rows in sets.items():
            for part in (True, False):
                sel = [k for k, r in enumerate(rows) if r[3] == part]
                if not sel:
                    continue
                key = name if name in ("tweeteval-val", "arc-test") else f"{name}-{'cal' if part else 'held'}"
                target = cal if part and name in ("vast-dev", "mtcsd-dev") else held
                target[key] = ([rows[k][2] for k in sel], [probs[name][k] for k in sel])
        ids, gold, sp = sputnik(a.binary, models, model)
        held["sputnik-reader"] = (gold, sp)
        first = choose(cal, ARTICLE)
        tau = held_check(first, held, ARTICLE)
        cal_f = {k: figures(g, p, ARTICLE, tau) for k, (g, p) in cal.items()}
        held_f = {k: figures(g, p, ARTICLE, tau) for k, (g, p) in held.items()}
        first_f = {k: figures(g, p, ARTICLE, first) for k, (g, p) in held.items()}
        print(f"\n== article stance, {model}: calibration rule {first}")
        table("held out at the calibration rule's thresholds", first_f, ARTICLE)
        print(f"\n== article stance, {model}: after the held-out check (v3.1) {tau}")
        table("calibration", cal_f, ARTICLE)
        table("held out", held_f, ARTICLE)
        sp_pred = [decide(p, ARTICLE, {l: 9.0 if v is None else v for l, v in tau.items()}) for p in sp]
        print("  sputnik asserted:", [(i, g, p) for i, g, p in zip(ids, gold, sp_pred) if p != "unclear"])
        report[f"article_{model}"] = {
            "tau": tau, "calibration_rule_tau": first, "held_out_at_calibration_rule": first_f,
            "calibration": cal_f, "held_out": held_f,
            "mean_calibration_sides_coverage": round(sum(f["sides_coverage"] for f in cal_f.values()) / len(cal_f), 4),
            "curve": {k: curve(g, p, ARTICLE, first) for k, (g, p) in held.items()},
        }
    one, pair = (report[f"article_{m}"]["mean_calibration_sides_coverage"] for m in ["embedding", "pair"])
    report["article_model"] = "pair" if pair >= one + PAIR_MARGIN else "embedding"
    print(f"\narticle model by the rule: {report['article_model']} (coverage one-pass {one:.3f}, pair {pair:.3f})")

    rcal = {"toxichat-dev": toxichat(data, "dev")}
    rheld = {"toxichat-test": toxichat(data, "test"), "rumoureval-dev": rumoureval(data)}
    rp = {k: ([r[2] for r in v], score_reply(a.binary, models, v)) for k, v in {**rcal, **rheld}.items()}
    first = choose({k: rp[k] for k in rcal}, REPLY)
    tau = held_check(first, {k: rp[k] for k in rheld}, REPLY)
    cal_f = {k: figures(*rp[k], REPLY, tau) for k in rcal}
    held_f = {k: figures(*rp[k], REPLY, tau) for k in rheld}
    first_f = {k: figures(*rp[k], REPLY, first) for k in rheld}
    print(f"\n== reply stance: calibration rule {first}")
    table("held out at the calibration rule's thresholds", first_f, REPLY)
    print(f"\n== reply stance: after the held-out check (v3.1) {tau}")
    table("calibration", cal_f, REPLY)
    table("held out", held_f, REPLY)
    report["reply"] = {"tau": tau, "calibration_rule_tau": first,
                       "held_out_at_calibration_rule": first_f,
                       "calibration": cal_f, "held_out": held_f,
                       "curve": {k: curve(*rp[k], REPLY, first) for k in rheld}}
    if a.write:
        Path(a.write).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
