"""Throughput benchmark: threadlens score vs Python transformers on the same texts, same model
files, same thread count, side by side in one run. Not a test: CI never runs it.

    bench/throughput.sh            # builds, sets up the Python baseline, runs this

Prints texts/s for each contender and the ratio to the transformers baseline, then checks that
bf16 scores agree with fp32 (labels on >= 99.5 % of texts; largest probability difference).
"""
import argparse
import csv
import statistics
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from corpus import DEFAULT, first_distinct_comments

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/threadlens")
ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
ap.add_argument("--corpus", default=DEFAULT)
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the median is reported")
ap.add_argument("--force-bf16", action="store_true", help="run bf16 even where the CPU only emulates it")
args = ap.parse_args()

# ---- corpus: the first N distinct news-site comments (Civil Comments, CC0) -------------------
texts = first_distinct_comments(args.corpus, args.n)
TOPIC = "US-Russia relations: Trump and Putin agree to cooperate against terrorism"
tmp = tempfile.mkdtemp(prefix="threadlens-bench-")
corpus = os.path.join(tmp, "corpus.csv")
with open(corpus, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "text"])
    for i, t in enumerate(texts):
        w.writerow([i, t])
print(f"corpus: {len(texts)} comments, mean {sum(map(len, texts)) / len(texts):.0f} chars; threads: {args.threads}")

# ---- Python transformers, its best settings: sdpa attention, length-sorted batches -----------
torch.set_num_threads(args.threads)
tok = AutoTokenizer.from_pretrained(args.model)
model = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()


def encode_py(batch_texts):
    enc = tok(batch_texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    out = model(**enc).last_hidden_state
    m = enc["attention_mask"].unsqueeze(-1).float()
    return F.normalize((out * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


def python_run():
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for s in range(0, len(order), args.batch):
            encode_py([texts[i] for i in order[s : s + args.batch]])


with torch.inference_mode():
    encode_py(texts[:64])  # warm-up
def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


py_s = statistics.median(timed(python_run) for _ in range(args.repeat))
py_rate = len(texts) / py_s
print(f"{'python transformers (fp32, sdpa, sorted, batch ' + str(args.batch) + ')':<52} {py_rate:8.1f} texts/s")


def threadlens(extra, out):
    cmd = [args.binary, "score", corpus, "-o", out, "--quiet", "--threads", str(args.threads)] + extra
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def native_bf16():
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "").split()
    return "amx_bf16" in flags or "avx512_bf16" in flags


contenders = [
    ("threadlens rust-bert forward, fp32", ["--backend", "rust-bert", "--precision", "fp32"]),
    ("threadlens fused forward, fp32", ["--precision", "fp32"]),
    ("threadlens fused forward, bf16", ["--precision", "bf16"]),
    ("threadlens default (auto precision)", []),
    # Stance toward a target (issue 15): the pair model reads target and comment together,
    # one more encoder pass per comment; the embedding head costs one pass for the topic.
    ("threadlens default + --topic, --stance-model pair", ["--topic", TOPIC, "--stance-model", "pair"]),
    ("threadlens default + --topic (embedding stance)", ["--topic", TOPIC]),
]
if not native_bf16() and not args.force_bf16:
    # Without AMX / AVX-512-BF16, libtorch emulates bf16 at a fraction of fp32's speed; `auto`
    # never picks it there. --force-bf16 runs it anyway.
    print("bf16: skipped, this CPU has no native bf16 (AMX / AVX-512-BF16); auto runs fp32")
    contenders = [c for c in contenders if "bf16" not in c[0]]

results = {}
for name, extra in contenders:
    out = os.path.join(tmp, name.replace(" ", "_").replace(",", "") + ".csv")
    threadlens(extra, out)  # warm the page cache / weights
    secs = statistics.median(threadlens(extra, out) for _ in range(args.repeat))
    rate = len(texts) / secs
    results[name] = out
    print(f"{name:<52} {rate:8.1f} texts/s   {rate / py_rate:5.2f}x python  (end to end, median of {args.repeat}: {secs:.1f} s)")


# ---- bf16 vs fp32 agreement ----------------------------------------------------------------
def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


if "threadlens fused forward, bf16" not in results:
    sys.exit(0)
a = load(results["threadlens fused forward, fp32"])
b = load(results["threadlens fused forward, bf16"])
probs = ["sentiment_negative", "sentiment_neutral", "sentiment_positive", "toxicity", "insult", "threat", "obscene", "identity_attack", "severe_toxicity", "sexual_explicit"]
same_sent = sum(a[k]["sentiment"] == b[k]["sentiment"] for k in a)
same_tox = sum((float(a[k]["toxicity"]) >= 0.5) == (float(b[k]["toxicity"]) >= 0.5) for k in a)
maxdiff = max(abs(float(a[k][p]) - float(b[k][p])) for k in a for p in probs)
print(
    f"bf16 vs fp32 on {len(a)} texts: sentiment labels agree {100 * same_sent / len(a):.2f} %, "
    f"toxicity@0.5 agrees {100 * same_tox / len(a):.2f} %, largest probability difference {maxdiff:.4f}"
)
