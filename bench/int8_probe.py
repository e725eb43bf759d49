"""Why dynamic int8 drifted, and what keeps it faithful: all-MiniLM-L6-v2's linear layers in
int8 through libtorch's fbgemm kernels (the ones threadlens can call), measured against fp32 on
the same comments. Prints texts/s and the embeddings' cosine to fp32 for each variant:

* PyTorch's own `quantize_dynamic` (per-tensor weight scale) — the earlier probe's 0.929;
* fbgemm int8 with one scale per weight tensor;
* fbgemm int8 with one scale per output channel: each weight row is divided by its own largest
  magnitude before the (per-tensor) quantisation and the output column multiplied back, which
  is exactly per-channel quantisation;
* the same with some layers kept in fp32 (where int8 is unfaithful).

Activations are quantised per batch (uint8, asymmetric) by fbgemm in every variant. Run with
the benchmark's venv from the repository root:

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


class Int8Linear(torch.nn.Module):
    """nn.Linear through fbgemm_linear_int8_weight_fp32_activation; per_channel rescales rows."""

    def __init__(self, lin, per_channel):
        super().__init__()
        w = lin.weight.detach().float()
        if per_channel:
            self.s = w.abs().amax(1).clamp(min=1e-8)
            w = w / self.s[:, None]
        else:
            self.s = None
        q, col, scale, zp = torch.fbgemm_linear_quantize_weight(w)
        self.args = (q, torch.fbgemm_pack_quantized_matrix(q), col, scale, zp)
        self.bias = lin.bias.detach().float()
        self.zero = torch.zeros_like(self.bias)

    def forward(self, x):
        q, packed, col, scale, zp = self.args
        if self.s is None:
            return torch.fbgemm_linear_int8_weight_fp32_activation(x, q, packed, col, scale, zp, self.bias)
        y = torch.fbgemm_linear_int8_weight_fp32_activation(x, q, packed, col, scale, zp, self.zero)
        return torch.addcmul(self.bias, y, self.s)


def quantized(per_channel, keep=()):
    m = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
    for name, mod in list(m.named_modules()):
        for child_name, child in list(mod.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, torch.nn.Linear) and not any(k in full for k in keep):
                setattr(mod, child_name, Int8Linear(child, per_channel))
    return m


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


fp32 = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
variants = [
    ("fp32", fp32),
    ("torch quantize_dynamic (per-tensor)", torch.ao.quantization.quantize_dynamic(fp32, {torch.nn.Linear}, dtype=torch.qint8)),
    ("fbgemm int8, per-tensor weights", quantized(False)),
    ("fbgemm int8, per-channel weights", quantized(True)),
    ("per-channel, FFN out in fp32", quantized(True, keep=("output.dense",))),
    ("per-channel, attention in fp32", quantized(True, keep=("attention",))),
]
print(f"{len(texts)} comments, {args.threads} threads")
ref, base = None, None
for name, model in variants:
    embed(model)  # warm-up
    t0 = time.perf_counter()
    e = embed(model)
    rate = len(texts) / (time.perf_counter() - t0)
    if ref is None:
        ref, base = e, rate
        print(f"{name:<40} {rate:7.1f} texts/s")
        continue
    cos = (ref * e).sum(1)
    print(f"{name:<40} {rate:7.1f} texts/s  {rate / base:4.2f}x fp32; cosine to fp32: mean {cos.mean():.4f}, min {cos.min():.4f}")
