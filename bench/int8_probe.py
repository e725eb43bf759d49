"""Why dynamic int8 drifted, and what keeps it faithful: all-MiniLM-L6-v2's linear layers in
int8 through libtorch's fbgemm kernels (the ones threadlens can call), measured against fp32 on
the same comments. Prints texts/s and the embeddings' cosine to fp32 for each variant:

* PyTorch's own `quantize_dynamic` (per-tensor weight scale) — the earlier probe's 0.929;
* fbgemm int8 with one scale per weight tensor;
* fbgemm int8 with one scale per output channel: each weight row is divided by its own largest
  magnitude before the (per-tensor) quantisation and the output column multiplied back, which
  is exactly per-channel quantisation;
* the same with some layers kept in fp32 (where int8 is unfaithful);
* symmetric int8 with one scale per token and one per output channel, int32 accumulation by
  `torch._int_mm` (oneDNN VNNI), alone and after SmoothQuant's migration of activation
  outliers into the weights (calibrated on other comments), with bf16 autocast for reference.

Activations are quantised per batch (uint8, asymmetric) by fbgemm in the fbgemm variants. Run with
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
ap.add_argument("--n-cal", type=int, default=300, help="further comments for SmoothQuant's calibration")
ap.add_argument("--only-new", action="store_true", help="skip the fbgemm variants")
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


class TokenInt8Linear(torch.nn.Module):
    """Symmetric int8 with one scale per weight row (output channel) and one per token (row of
    the activation), multiplied with int32 accumulation by `torch._int_mm` (oneDNN, VNNI)."""

    def __init__(self, lin):
        super().__init__()
        w = lin.weight.detach().float()
        self.ws = (w.abs().amax(1) / 127).clamp(min=1e-12)
        self.wq_t = torch.round(w / self.ws[:, None]).to(torch.int8).t()  # [K, N], column-major
        self.bias = lin.bias.detach().float()

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1]).float()
        xs = (x.abs().amax(1, keepdim=True) / 127).clamp(min=1e-12)
        xq = torch.round(x / xs).to(torch.int8)
        if xq.shape[0] <= 16:  # _int_mm wants more than 16 rows
            xq = torch.cat([xq, xq.new_zeros(17 - xq.shape[0], xq.shape[1])])
        acc = torch._int_mm(xq, self.wq_t)[: x.shape[0]]
        y = torch.addcmul(self.bias, acc.float() * xs, self.ws)
        return y.reshape(*shape[:-1], -1)


class SmoothInt8Linear(TokenInt8Linear):
    """TokenInt8Linear after SmoothQuant's migration (Xiao et al. 2023): each input channel k is
    divided by s_k = max|x_k|^a / max|w_k|^(1-a) in the activation and multiplied into the
    weight, so outlier channels of the activation no longer set every token's scale. max|x_k|
    comes from a calibration pass over other comments."""

    def __init__(self, lin, xmax, a=0.5):
        w = lin.weight.detach().float()
        self.smooth = (xmax.clamp(min=1e-5) ** a / w.abs().amax(0).clamp(min=1e-5) ** (1 - a)).clamp(min=1e-5)
        scaled = torch.nn.Linear(w.shape[1], w.shape[0])
        scaled.weight.data = w * self.smooth[None, :]
        scaled.bias.data = lin.bias.detach().float()
        super().__init__(scaled)

    def forward(self, x):
        return super().forward(x / self.smooth)


def calibrate(texts_cal):
    """Largest |activation| per input channel of every linear layer, over texts_cal."""
    m = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
    stats, hooks = {}, []
    for name, mod in m.named_modules():
        if isinstance(mod, torch.nn.Linear):
            def hook(mod, inp, out, name=name):
                v = inp[0].reshape(-1, inp[0].shape[-1]).abs().amax(0)
                stats[name] = torch.maximum(stats[name], v) if name in stats else v
            hooks.append(mod.register_forward_hook(hook))
    with torch.inference_mode():
        for s in range(0, len(texts_cal), 32):
            enc = tok(texts_cal[s : s + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
            m(**enc)
    return stats


def smoothed(stats, a):
    m = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
    for name, mod in list(m.named_modules()):
        for child_name, child in list(mod.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, torch.nn.Linear):
                setattr(mod, child_name, SmoothInt8Linear(child, stats[full], a))
    return m


def quantized(per_channel, keep=(), layer=Int8Linear):
    m = AutoModel.from_pretrained(args.model, attn_implementation="sdpa").eval()
    for name, mod in list(m.named_modules()):
        for child_name, child in list(mod.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, torch.nn.Linear) and not any(k in full for k in keep):
                setattr(mod, child_name, layer(child, per_channel) if layer is Int8Linear else layer(child))
    return m


def embed(model):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [None] * len(texts)
    with torch.inference_mode():
        for s in range(0, len(order), 32):
            idx = order[s : s + 32]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="pt")
            h = model(**enc).last_hidden_state.float()
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
    ("_int_mm, per-token x per-channel", quantized(True, layer=TokenInt8Linear)),
    ("_int_mm per-token, FFN out in fp32", quantized(True, keep=("output.dense",), layer=TokenInt8Linear)),
]
cal = first_distinct_comments(args.corpus, args.n + args.n_cal)[args.n :]  # not the measured texts
stats = calibrate(cal)
for a in (0.5, 0.8):
    variants.append((f"_int_mm per-token, SmoothQuant a={a}", smoothed(stats, a)))


class Autocast(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, **kw):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.m(**kw)


variants.append(("bf16 autocast (for reference)", Autocast(fp32)))
print(f"{len(texts)} comments, {args.threads} threads")
ref, base = None, None
if args.only_new:
    variants = [v for v in variants if v[0] == "fp32" or "_int_mm" in v[0] or "autocast" in v[0]]
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
