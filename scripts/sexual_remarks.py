#!/usr/bin/env python3
"""What `sexual_explicit` and the queue catch when a comment sexualises a person (issue 40 item
3; the measure is fixed in models/README.md, "Sexual remarks about people"). Runs `threadlens
analyze` at the default thresholds on each comment alone, and reports per set: rows, the share
with sexual_explicit >= 0.5 and >= 0.25, the share queued for any reason, the share queued with
SEXUALLY_EXPLICIT; on the clean sets the share reaching each candidate floor and the share the
lexicon hits.

Sets (never trained on):
- A: Civil Comments rows of the held-out hash buckets (80-99) with sexual_explicit >= 0.5;
- B: CAD test PersonDirectedAbuse/IdentityDirectedAbuse rows and Kaggle insults rows labelled
  insult whose text contains a word of LEXICON;
- clean: CAD test Neutral, ToxiChat dev and test Safe turns, Civil Comments held-out rows with
  every fraction < 0.2.

Usage: sexual_remarks.py THREADLENS_BINARY [--data DIR] [--thresholds FILE]
"""
import argparse
import csv
import json
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ["nude", "nudes", "naked", "boob", "boobs", "tits", "titties", "breasts", "dick", "cock",
           "penis", "pussy", "vagina", "clit", "clitoris", "fap", "horny", "blowjob", "cum",
           "sperm", "semen", "orgasm", "porn", "rape", "raped", "slut", "sluts", "whore",
           "whores", "sex", "sexy", "masturbate", "jerk off"]
LEX = re.compile(r"\b(" + "|".join(re.escape(w) for w in LEXICON) + r")\b", re.I)
FLOORS = [0.25, 0.30, 0.35, 0.40, 0.45]
ATTRS = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack",
         "sexual_explicit"]


def normalize(t):
    """The training split's normalisation (src/train/datasets.rs `normalize`)."""
    words, w = [], ""
    for c in t:
        if c.isalnum():
            w += c
        elif w:
            words.append(w.lower())
            w = ""
    if w:
        words.append(w.lower())
    return " ".join(words)


def bucket(t):
    """FNV-1a of the normalised text, mod 100 (src/train/datasets.rs `bucket`)."""
    h = 0xcbf29ce484222325
    for b in normalize(t).encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % 100


def civil(data):
    rows = {}
    for f in ["train_sample_4900_attributes.csv", "sample_1000_attributes.csv"]:
        for r in csv.DictReader(open(data / "toxicity/civil-comments-samples" / f, encoding="utf-8")):
            if r["text"].strip() and bucket(r["text"]) >= 80:
                rows[r["text"]] = r
    frac = lambda r, a: float(r[a] or 0)
    sexual = [t for t, r in rows.items() if frac(r, "sexual_explicit") >= 0.5]
    clean = [t for t, r in rows.items() if all(frac(r, a) < 0.2 for a in ATTRS)]
    return sexual, clean


def kaggle(data):
    out = []
    d = data / "toxicity/kaggle-insults"
    for f in ["train.csv", "test_with_solutions.csv", "impermium_verification_labels.csv"]:
        for r in csv.DictReader(open(d / f, encoding="utf-8", errors="replace")):
            if r["Insult"] == "1":
                t = r["Comment"].strip('"').replace("\\n", "\n").replace("\\xa0", " ")
                out.append(t)
    return out


def sets(data):
    cad = list(csv.DictReader(open(data / "toxicity/cad-reddit/cad_v1_1_test.tsv", encoding="utf-8"),
                              delimiter="\t"))
    labels = lambda r: set(r["labels"].split(","))
    text = lambda r: r["text"].replace("[linebreak]", "\n")
    abuse = [text(r) for r in cad if labels(r) & {"PersonDirectedAbuse", "IdentityDirectedAbuse"}]
    neutral = [text(r) for r in cad if labels(r) == {"Neutral"}]
    safe = []
    for split in ["dev", "test"]:
        for line in open(data / f"toxicity/toxichat-reddit/{split}.jsonl", encoding="utf-8"):
            safe += [t["text"] for t in json.loads(line)["reddit_thread"] if t["offense_label"] == "Safe"]
    cc_sexual, cc_clean = civil(data)
    b = [t for t in abuse + kaggle(data) if LEX.search(t)]
    return {
        "A: Civil Comments sexual_explicit >= 0.5": (cc_sexual, False),
        "B: CAD/Kaggle abuse with a sexual word": (b, False),
        "clean: CAD test Neutral": (neutral, True),
        "clean: ToxiChat dev+test Safe": (safe, True),
        "clean: Civil Comments all < 0.2": (cc_clean, True),
    }


def analyze(binary, texts, thresholds):
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "in.csv"
        with open(inp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "text"])
            for k, t in enumerate(texts):
                w.writerow([f"r{k}", t])
        out = Path(d) / "out"
        cmd = [binary, "analyze", str(inp), "-o", str(out), "--quiet", "--stance-model", "embedding"]
        if thresholds:
            cmd += ["--thresholds", thresholds]
        subprocess.run(cmd, check=True)
        comments = {r["id"]: r for r in csv.DictReader(open(out / "comments.csv", encoding="utf-8"))}
        queue = {r["id"]: r["reasons"].split() for r in csv.DictReader(open(out / "queue.csv", encoding="utf-8"))}
    return comments, queue


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data"))
    ap.add_argument("--thresholds")
    a = ap.parse_args()
    pct = lambda n, d: f"{100 * n / max(d, 1):5.1f} %"
    for name, (texts, clean) in sets(Path(a.data)).items():
        comments, queue = analyze(a.binary, texts, a.thresholds)
        sx = [float(c["sexual_explicit"]) for c in comments.values()]
        n = len(sx)
        line = (f"{name:<42} {n:>5}  sexual>=0.5 {pct(sum(s >= 0.5 for s in sx), n)}"
                f"  >=0.25 {pct(sum(s >= 0.25 for s in sx), n)}"
                f"  queued {pct(len(queue), n)}"
                f"  SEXUALLY_EXPLICIT {pct(sum('SEXUALLY_EXPLICIT' in r for r in queue.values()), n)}")
        if clean:
            line += "  floors " + ", ".join(f"{f:.2f}: {pct(sum(s >= f for s in sx), n)}" for f in FLOORS)
            line += f"  lexicon {pct(sum(bool(LEX.search(t)) for t in texts), n)}"
        else:
            unq = [c for i, c in comments.items() if i not in queue]
            line += "  not queued reaching " + ", ".join(
                f"{f:.2f}: {pct(sum(float(c['sexual_explicit']) >= f for c in unq), n)}" for f in FLOORS)
        print(line)


if __name__ == "__main__":
    main()
