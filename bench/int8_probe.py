"""Probe for one throughput lever that threadlens does NOT use: dynamic int8 quantization of
all-MiniLM-L6-v2's linear layers (PyTorch's own quantize_dynamic, fbgemm, per-tensor weights),
measured against fp32 on the same comments. Prints texts/s for both and how far the int8
embeddings drift from fp32 (cosine). Run with the benchmark's venv:

    HF_HUB_OFFLINE=1 $(bench/setup-python) bench/int8_probe.py
"""
import argparse
import time

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from corpus import DEFAULT, first_distinct_comments

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
ap.add_argument("--corpus", default=DEFAULT)
ap.add_argument("--n", type=int, default=1000)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)

texts = first_distinct_comments(args.corpus, args.n)

tok = AutoTokenizer.from_pretrained(args.model)
fp32 = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
int8 = torch.ao.quantization.quantize_dynamic(fp32, {torch.nn.Linear}, dtype=torch.qint8)


def embed(model):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [None] * len(texts)
    with torch.inference_mode():
        for s in range(0, len(order), 32):
            idx = order[s : s + 32]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            e = F.normalize((h * m).sum(1) / m.sum(1), dim=-1)
            for j, i in enumerate(idx):
                out[i] = e[j]
    return torch.stack(out)


embed(fp32), embed(int8)  # warm-up
for name, model in [("fp32", fp32), ("int8 dynamic", int8)]:
    t0 = time.perf_counter()
    e = embed(model)
    rate = len(texts) / (time.perf_counter() - t0)
    if name == "fp32":
        ref, base = e, rate
        print(f"{name:<14} {rate:7.1f} texts/s")
    else:
        cos = (ref * e).sum(1)
        print(f"{name:<14} {rate:7.1f} texts/s  {rate / base:4.2f}x fp32; cosine to fp32: mean {cos.mean():.3f}, min {cos.min():.3f}")
