#!/usr/bin/env python3
"""Encoder pilot (issue 38): fine-tune one encoder the same way for both candidates.

Lab code, not the product. It answers one question for the model card: once fine-tuned at
equal budget, does all-mpnet-base-v2 beat all-MiniLM-L6-v2? Both encoders go through this one
script with the same rows, batches, schedule and heads, so the only difference is the encoder.

Rows come from the product's own readers (`cargo run --release --example encoder_pilot_rows
-- ../shared/data ROWS`), so the split is the protocol's hash split.

  stage 1 (--task stage1): LoRA rank 16, alpha 32, on every linear map of every layer, dropout
      0.1, a sentiment head (dim -> 256 -> 3) and a toxicity head (dim -> 256 -> 7) on the
      mean-pooled, L2-normalised embedding; class-weighted cross-entropy + cell-weighted BCE on
      rater fractions; AdamW lr 5e-4, weight decay 0.01, 6 % warm-up then linear decay, clip 1;
      batches of 32 from one seeded shuffle of the training rows, sorted by length within runs
      of 64 batches; inputs cut at 128 tokens; bf16 autocast where the CPU has native bf16.
  pairs (--task pairs): the stance pair model on the published weights: `target [SEP] text`
      (target cut at 48 tokens, 160 in all), its own LoRA and a 3-way head, lr 8e-4, batches
      of 32 from the article-stance pair rows.

Reported (JSON in --out): per-source validation toxicity ROC AUC, validation sentiment
macro-recall and loss (stage 1); VAST dev and pair-validation macro-F1 (pairs); seconds per
training step. A checkpoint every --checkpoint-every steps lets a run resume across sessions.
"""
import argparse
import hashlib
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from sklearn.metrics import f1_score, recall_score, roc_auc_score
from transformers import AutoModel, AutoTokenizer

# Sources whose validation rows decide (the rule in models/README.md, "Encoder pilot").
RULE_SOURCES = ["civil-comments", "cad", "toxichat", "ruddit", "jigsaw-wikipedia", "context-wiki"]
LINEAR_MAPS = {
    "bert": ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"],
    "mpnet": ["q", "k", "v", "o", "intermediate.dense", "output.dense"],
}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Model(torch.nn.Module):
    def __init__(self, encoder_dir, heads):
        super().__init__()
        base = AutoModel.from_pretrained(encoder_dir)
        kind = base.config.model_type
        cfg = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.1, target_modules=LINEAR_MAPS[kind])
        self.encoder = get_peft_model(base, cfg)
        dim = base.config.hidden_size
        self.heads = torch.nn.ModuleDict(
            {
                name: torch.nn.Sequential(
                    torch.nn.Dropout(0.1),
                    torch.nn.Linear(dim, 256),
                    torch.nn.ReLU(),
                    torch.nn.Dropout(0.1),
                    torch.nn.Linear(256, n),
                )
                for name, n in heads.items()
            }
        )

    def embed(self, batch):
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        hidden = out.last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)

    def forward(self, batch):
        e = self.embed(batch)
        return {name: head(e) for name, head in self.heads.items()}


def batches_of(n_rows, lengths, batch, seed):
    """One seeded shuffle, runs of 64 batches sorted by length, batches shuffled again."""
    rng = random.Random(seed)
    order = list(range(n_rows))
    rng.shuffle(order)
    out = []
    for s in range(0, len(order), batch * 64):
        run = sorted(order[s : s + batch * 64], key=lambda i: lengths[i])
        out.extend(run[k : k + batch] for k in range(0, len(run), batch))
    rng.shuffle(out)
    return out


def schedule(step, total):
    warm = max(1, math.ceil(total * 0.06))
    return (step + 1) / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))


def autocast():
    bf16 = torch.backends.cpu.get_cpu_capability() in ("AVX512",) and os.environ.get("PILOT_FP32") != "1"
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), bf16


class Stage1:
    heads = {"sentiment": 3, "toxicity": 7}

    def __init__(self, rows_dir, tok, val_per_source):
        rows = read_jsonl(os.path.join(rows_dir, "stage1.jsonl"))
        self.train = [r for r in rows if not r["val"]]
        val = [r for r in rows if r["val"]]
        random.Random(20261122).shuffle(val)
        self.val = val[:4000]
        counts = np.bincount([r["sentiment"] for r in self.train if r["sentiment"] is not None], minlength=3)
        self.class_weight = torch.tensor(counts.sum() / (3 * np.maximum(counts, 1)), dtype=torch.float32)
        by_source = {}
        for r in read_jsonl(os.path.join(rows_dir, "stage1_val_sources.jsonl")):
            by_source.setdefault(r["source"], []).append(r)
        self.sources = {}
        for s in RULE_SOURCES:
            rs = by_source.get(s, [])
            random.Random(7).shuffle(rs)
            self.sources[s] = rs[:val_per_source]
        self.tok = tok
        self.lengths = [len(r["text"]) for r in self.train]

    def encode(self, rows):
        return self.tok([r["text"] for r in rows], truncation=True, max_length=128, padding=True, return_tensors="pt")

    def loss(self, out, rows):
        sent = [(i, r["sentiment"]) for i, r in enumerate(rows) if r["sentiment"] is not None]
        total = torch.zeros(())
        if sent:
            idx = torch.tensor([i for i, _ in sent])
            y = torch.tensor([c for _, c in sent])
            total = total + F.cross_entropy(out["sentiment"][idx].float(), y, weight=self.class_weight)
        w = torch.tensor([r["w"] for r in rows], dtype=torch.float32)
        if w.sum() > 0:
            t = torch.tensor([r["tox"] for r in rows], dtype=torch.float32)
            bce = F.binary_cross_entropy_with_logits(out["toxicity"].float(), t, reduction="none")
            total = total + (bce * w).sum() / w.sum()
        return total

    def evaluate(self, model, infer):
        val_loss, preds, gold = 0.0, [], []
        for k in range(0, len(self.val), 64):
            rows = self.val[k : k + 64]
            out = infer(self.encode(rows))
            val_loss += self.loss(out, rows).item() * len(rows)
            for r, p in zip(rows, out["sentiment"].argmax(-1).tolist()):
                if r["sentiment"] is not None:
                    preds.append(p)
                    gold.append(r["sentiment"])
        result = {
            "val_loss": val_loss / len(self.val),
            "val_sentiment_macro_recall": recall_score(gold, preds, average="macro"),
            "toxicity_auc": {},
        }
        for s, rows in self.sources.items():
            scores = []
            for k in range(0, len(rows), 64):
                scores += infer(self.encode(rows[k : k + 64]))["toxicity"][:, 0].float().tolist()
            y = [int(r["toxicity"] >= 0.5) for r in rows]
            result["toxicity_auc"][s] = {"auc": roc_auc_score(y, scores), "rows": len(y), "positives": sum(y)}
        result["mean_toxicity_auc"] = float(np.mean([v["auc"] for v in result["toxicity_auc"].values()]))
        return result


class Pairs:
    heads = {"article": 3}

    def __init__(self, rows_dir, tok, val_rows):
        self.train = read_jsonl(os.path.join(rows_dir, "pairs_train.jsonl"))
        val = read_jsonl(os.path.join(rows_dir, "pairs_val.jsonl"))
        random.Random(20261202).shuffle(val)
        self.val = val[:val_rows]
        self.vast = read_jsonl(os.path.join(rows_dir, "vast_dev.jsonl"))
        self.tok = tok
        self.lengths = [len(r["text"]) + len(r["target"]) for r in self.train]

    def encode(self, rows):
        targets = [self.tok.convert_tokens_to_string(self.tok.tokenize(r["target"] or "")[:48]) for r in rows]
        return self.tok(targets, [r["text"] for r in rows], truncation="only_second", max_length=160,
                        padding=True, return_tensors="pt")

    def loss(self, out, rows):
        return F.cross_entropy(out["article"].float(), torch.tensor([r["label"] for r in rows]))

    def macro_f1(self, infer, rows):
        preds = []
        for k in range(0, len(rows), 64):
            preds += infer(self.encode(rows[k : k + 64]))["article"].argmax(-1).tolist()
        return f1_score([r["label"] for r in rows], preds, average="macro")

    def evaluate(self, model, infer):
        return {"vast_dev_macro_f1": self.macro_f1(infer, self.vast),
                "pair_val_macro_f1": self.macro_f1(infer, self.val)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--task", choices=["stage1", "pairs"], default="stage1")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--stop", type=int, default=None, help="stop at this step (schedule unchanged); resume later")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint-every", type=int, default=50)
    ap.add_argument("--val-per-source", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=20261122)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(args.encoder)
    task = Stage1(args.rows, tok, args.val_per_source) if args.task == "stage1" else Pairs(args.rows, tok, 2000)
    lr = 5e-4 if args.task == "stage1" else 8e-4
    model = Model(args.encoder, task.heads)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    batches = batches_of(len(task.train), task.lengths, args.batch, args.seed)[: args.steps]
    ctx_bf16 = autocast()[1]

    ckpt = os.path.join(args.out, "checkpoint.pt")
    step, train_seconds, losses = 0, 0.0, []
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        step, train_seconds, losses = state["step"], state["train_seconds"], state["losses"]
        print(f"resumed at step {step}", flush=True)

    def save():
        trainable = {k: v for k, v in model.state_dict().items() if "lora_" in k or k.startswith("heads.")}
        tmp = ckpt + ".tmp"
        torch.save({"model": trainable, "opt": opt.state_dict(), "step": step,
                    "train_seconds": train_seconds, "losses": losses}, tmp)
        os.replace(tmp, ckpt)

    stop = min(args.stop or args.steps, len(batches))
    model.train()
    while step < stop:
        rows = [task.train[i] for i in batches[step]]
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr * schedule(step, len(batches))
        with autocast()[0]:
            out = model(task.encode(rows))
        loss = task.loss(out, rows)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        train_seconds += time.perf_counter() - t0
        losses.append(loss.item())
        step += 1
        if step % 10 == 0:
            print(f"step {step}/{len(batches)} loss {np.mean(losses[-10:]):.4f} "
                  f"{train_seconds / step:.2f} s/step", flush=True)
        if step % args.checkpoint_every == 0 or step == stop:
            save()
    if step < len(batches):
        print(f"stopped at step {step} of {len(batches)}; run again to resume", flush=True)
        return

    model.eval()

    def infer(batch):
        with torch.no_grad(), autocast()[0]:
            return model(batch)

    t0 = time.perf_counter()
    result = task.evaluate(model, infer)
    result.update({
        "encoder": os.path.basename(os.path.normpath(args.encoder)),
        "encoder_sha256": file_hash(os.path.join(args.encoder, "model.safetensors")),
        "rows_sha256": {f: file_hash(os.path.join(args.rows, f)) for f in sorted(os.listdir(args.rows))},
        "task": args.task, "steps": step, "batch": args.batch, "bf16": ctx_bf16,
        "threads": args.threads, "seconds_per_step": train_seconds / step,
        "eval_seconds": time.perf_counter() - t0,
        "train_loss_last_100": float(np.mean(losses[-100:])),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    })
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
