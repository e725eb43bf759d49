"""Throughput benchmark: threadlens score against what a Python user would run instead, on the
same texts, same model files and same thread count, side by side in one run. Not a test: CI
never runs it.

    bench/throughput.sh            # builds, sets up the Python baselines, runs this

Two corpora: tweets (the SemEval-2017 pool) and long news comments (Civil Comments samples of
at least 25 words). Contenders, each timed as the median of --repeat runs:

* Python transformers (torch 2.4) in fp32, sdpa attention, length-sorted batches;
* the same under `torch.autocast("cpu", torch.bfloat16)` where the CPU has native bf16;
* ONNX Runtime on the same model exported to ONNX, fp32, and its int8 dynamic quantisation
  (per-channel weights), with the embeddings' cosine to fp32;
* a Detoxify-sized model (bert-base shape, random weights) in fp32: what a Detoxify user pays;
* threadlens `score` end to end (start-up, read, tokenize, encode, heads, write) under each
  `--precision`, and its default.

`--avx2-proxy` stands in for an AVX2-only CPU on one with AVX-512: it re-runs itself with
ATen, oneDNN and MKL capped at AVX2 (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA,
MKL_ENABLE_INSTRUCTIONS; threadlens' libtorch reads the same variables) and threadlens at fp32,
which is what `auto` picks without native bf16; bf16 and ONNX Runtime (its kernels choose their
own instructions) are skipped. A proxy, not an AVX2 machine: caches, clocks and core design stay
those of the CPU it runs on.

The Python contenders are timed on tokenization + encoding only, which favours them. Ratios are
printed against Python's best torch setting ("python best") and against every baseline. Then
the faithfulness of each threadlens precision against fp32: label agreement per head and the
largest probability difference.
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time

AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "THREADLENS_PRECISION": "fp32"}
if "--avx2-proxy" in sys.argv and any(os.environ.get(k) != v for k, v in AVX2_ENV.items()):
    # The caps must be in place before torch loads, so the script starts again under them.
    os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, **AVX2_ENV))

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel

from corpus import DEFAULT, first_distinct

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/threadlens")
ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
ap.add_argument("--tweets", default="../shared/data/sentiment/semeval2017-4a-train/train_2013_2016_dedup.tsv")
ap.add_argument("--comments", default="../shared/data/toxicity/civil-comments-samples/train_sample_4900_attributes.csv")
ap.add_argument("--n-tweets", type=int, default=2000)
ap.add_argument("--n-long", type=int, default=1000)
ap.add_argument("--n-detox", type=int, default=200, help="texts for the (slow) bert-base-sized model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the median is reported")
ap.add_argument("--only", default="", help="comma-separated substrings: run only matching contenders")
ap.add_argument("--no-onnx", action="store_true")
ap.add_argument("--with-stance", action="store_true", help="also time --topic with both stance models")
ap.add_argument("--force-bf16", action="store_true", help="run bf16 even where the CPU only emulates it")
ap.add_argument("--avx2-proxy", action="store_true", help="cap torch and threadlens at AVX2 (see the docstring)")
args = ap.parse_args()
if args.avx2_proxy:
    args.no_onnx = True
    print("AVX2 proxy:", ", ".join(f"{k}={os.environ[k]}" for k in AVX2_ENV), "(a proxy, not an AVX2 machine)")
torch.set_num_threads(args.threads)
TOPIC = "US-Russia relations: Trump and Putin agree to cooperate against terrorism"


def native_bf16():
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "").split()
    return "amx_bf16" in flags or "avx512_bf16" in flags


BF16 = (native_bf16() or args.force_bf16) and not args.avx2_proxy


def wanted(name):
    return not args.only or any(s.strip() in name for s in args.only.split(","))


# ---- corpora ---------------------------------------------------------------------------------
def read_long(path, n, min_words=25):
    long_enough = lambda t: len(t.split()) >= min_words
    out = first_distinct(path, n, "text", keep=long_enough)
    if len(out) < n:  # top up from the toxic-spans comments
        have = set(out)
        out += first_distinct(DEFAULT, n - len(out), "comment_text", keep=lambda t: long_enough(t) and t not in have)
    return out


tmp = tempfile.mkdtemp(prefix="threadlens-bench-")
tok = AutoTokenizer.from_pretrained(args.model)


def write_csv(name, texts):
    path = os.path.join(tmp, name + ".csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text"])
        for i, t in enumerate(texts):
            w.writerow([i, t])
    return path


corpora = []
for name, texts in [("tweets", first_distinct(args.tweets, args.n_tweets, "text", delimiter="\t")), ("long comments", read_long(args.comments, args.n_long))]:
    words = sorted(len(t.split()) for t in texts)
    toks = sorted(len(tok(t, truncation=True, max_length=256)["input_ids"]) for t in texts)
    print(f"corpus {name}: {len(texts)} distinct texts, median {words[len(words) // 2]} words, median {toks[len(toks) // 2]} tokens")
    corpora.append((name, texts, write_csv(name.replace(" ", "_"), texts)))
print(f"threads: {args.threads}; native bf16: {native_bf16()}; torch {torch.__version__}, ATen kernels: {torch.backends.cpu.get_cpu_capability()}")


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def median_time(f, repeat):
    f()  # warm-up
    return statistics.median(timed(f) for _ in range(repeat))


# ---- Python contenders -------------------------------------------------------------------------
def sorted_batches(texts):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for s in range(0, len(order), args.batch):
        yield order[s : s + args.batch]


def pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return F.normalize(((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)).float(), dim=-1)


def torch_embed(model, texts, autocast=False):
    out = torch.empty(len(texts), model.config.hidden_size)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for idx in sorted_batches(texts):
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
            out[idx] = pool(model(**enc).last_hidden_state, enc["attention_mask"])
    return out


minilm = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
python = [("python transformers fp32 (sdpa, sorted, batch %d)" % args.batch, lambda t: torch_embed(minilm, t))]
if BF16:
    python.append(("python transformers bf16 autocast", lambda t: torch_embed(minilm, t, autocast=True)))

onnx = []
if not args.no_onnx:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_path = os.path.join(tmp, "minilm.onnx")
    int8_path = os.path.join(tmp, "minilm-int8.onnx")
    eager = AutoModel.from_pretrained(args.model, attn_implementation="eager").eval()
    enc = tok(["an example", "another example text"], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.onnx.export(
            eager,
            (enc["input_ids"], enc["attention_mask"]),
            fp32_path,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "last_hidden_state"]},
            opset_version=17,
        )
    quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)

    def ort_session(path):
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def ort_embed(sess, texts):
        out = torch.empty(len(texts), 384)
        for idx in sorted_batches(texts):
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="np")
            h = sess.run(None, {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]})[0]
            out[idx] = pool(torch.from_numpy(h), torch.from_numpy(enc["attention_mask"]))
        return out

    s32, s8 = ort_session(fp32_path), ort_session(int8_path)
    onnx = [
        ("onnxruntime fp32", lambda t: ort_embed(s32, t)),
        ("onnxruntime int8 dynamic (per-channel)", lambda t: ort_embed(s8, t)),
    ]

torch.manual_seed(0)
detox = BertModel(BertConfig(), add_pooling_layer=False).eval()  # bert-base shape, random weights


def detox_embed(texts, autocast=False):
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for idx in sorted_batches(texts):
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
            detox(**enc)


# ---- threadlens contenders ---------------------------------------------------------------------
def threadlens_cmd(corpus, extra, out):
    return [args.binary, "score", corpus, "-o", out, "--quiet", "--threads", str(args.threads)] + extra


threadlens = [
    ("threadlens fp32", ["--precision", "fp32"]),
    ("threadlens mixed (bf16 products, fp32 between)", ["--precision", "mixed"]),
    ("threadlens autocast (bf16 products and attention)", ["--precision", "autocast"]),
    ("threadlens bf16 (everything)", ["--precision", "bf16"]),
    ("threadlens int8 (fbgemm, per-channel weights)", ["--precision", "int8"]),
    ("threadlens default (--precision auto)", []),
]
if args.with_stance:
    threadlens += [
        ("threadlens default + --topic (embedding stance)", ["--topic", TOPIC]),
        ("threadlens default + --topic, --stance-model pair", ["--topic", TOPIC, "--stance-model", "pair"]),
    ]
if not BF16:
    print("bf16 contenders skipped: no native bf16 (AMX / AVX-512-BF16) or the AVX2 proxy; auto runs fp32")
    threadlens = [c for c in threadlens if not any(k in c[0] for k in ("bf16", "mixed", "autocast"))]
if args.avx2_proxy:  # fbgemm's int8 kernels pick their own instructions
    threadlens = [c for c in threadlens if "int8" not in c[0]]

# start-up: a one-comment file
one = write_csv("one", ["Start-up only."])
startup = median_time(lambda: subprocess.run(threadlens_cmd(one, [], os.path.join(tmp, "one.out.csv")), check=True), args.repeat)
print(f"threadlens start-up (score of a one-comment file): {startup:.2f} s")

outputs = {}
for cname, texts, path in corpora:
    print(f"\n== {cname} ({len(texts)} texts) ==")
    rates = {}
    for name, f in python + onnx:
        if not wanted(name):
            continue
        secs = median_time(lambda: f(texts), args.repeat)
        rates[name] = len(texts) / secs
    if wanted("detoxify"):
        sub = texts[: args.n_detox]
        rates["detoxify-sized: bert-base shape, fp32 (%d texts)" % len(sub)] = len(sub) / median_time(lambda: detox_embed(sub), 1)
        if BF16:
            rates["detoxify-sized: bert-base shape, bf16 autocast (%d texts)" % len(sub)] = len(sub) / median_time(lambda: detox_embed(sub, True), 1)
    for name, extra in threadlens:
        if not wanted(name):
            continue
        out = os.path.join(tmp, (cname + name).replace(" ", "_").replace("/", "") + ".csv")
        secs = median_time(lambda: subprocess.run(threadlens_cmd(path, extra, out), check=True), args.repeat)
        rates[name] = len(texts) / secs
        outputs[(cname, name)] = out
    torch_rates = [r for n, r in rates.items() if n.startswith("python")]
    best = max(torch_rates) if torch_rates else None
    for name, rate in rates.items():
        ratio = f"{rate / best:5.2f}x python best" if best else ""
        print(f"  {name:<58} {rate:8.1f} texts/s  {ratio}")
    for base in [n for n in rates if not n.startswith("threadlens")]:
        tl = rates.get("threadlens default (--precision auto)")
        if tl:
            print(f"  threadlens default vs {base}: {tl / rates[base]:.2f}x")

    if onnx and wanted("onnxruntime int8"):
        ref = torch_embed(minilm, texts)
        for name, f in onnx:
            cos = (ref * f(texts)).sum(1)
            print(f"  {name}: embedding cosine to torch fp32: mean {cos.mean():.4f}, min {cos.min():.4f}")


# ---- faithfulness of each precision against fp32 ---------------------------------------------
def load(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


ATTRS = ["toxicity", "insult", "threat", "obscene", "identity_attack", "severe_toxicity", "sexual_explicit"]
PROBS = ["sentiment_negative", "sentiment_neutral", "sentiment_positive"] + ATTRS
# The default thresholds (src/tune/thresholds.rs DEFAULTS): a comment is queued when any fires.
DEFAULTS = {"toxicity": 0.85, "insult": 0.80, "threat": 0.65, "obscene": 0.80, "identity_attack": 0.60, "severe_toxicity": 0.50, "sexual_explicit": 0.50}


def queued(r):
    return any(float(r[p]) >= t for p, t in DEFAULTS.items())


print("\n== faithfulness against threadlens fp32 (labels: sentiment argmax; each attribute at 0.5; queued at the defaults) ==")
for cname, texts, _ in corpora:
    ref_path = outputs.get((cname, "threadlens fp32"))
    if not ref_path:
        continue
    a = load(ref_path)
    for (c, name), path in outputs.items():
        if c != cname or name == "threadlens fp32" or "--topic" in name:
            continue
        b = load(path)
        agree = {"sentiment": sum(a[k]["sentiment"] == b[k]["sentiment"] for k in a) / len(a)}
        for p in ATTRS:
            agree[p] = sum((float(a[k][p]) >= 0.5) == (float(b[k][p]) >= 0.5) for k in a) / len(a)
        agree["queued at defaults"] = sum(queued(a[k]) == queued(b[k]) for k in a) / len(a)
        worst = min(agree, key=agree.get)
        maxdiff = max(abs(float(a[k][p]) - float(b[k][p])) for k in a for p in PROBS)
        print(f"  {cname:<14} {name:<52} lowest label agreement {100 * agree[worst]:6.2f} % ({worst}); largest probability difference {maxdiff:.4f}")
