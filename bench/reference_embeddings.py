"""Writes reference all-MiniLM-L6-v2 embeddings computed by Python sentence-transformers.

The Rust encoder test (tests/encoder.rs) checks threadlens against these numbers to 1e-4.
Regenerate with:
    $(bench/setup-python) bench/reference_embeddings.py models/all-MiniLM-L6-v2 tests/fixtures/reference_embeddings.json
"""
import json
import sys

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "They assured each other their nations' citizens view the others' positively. Sure thing, har har.",
    "You are an idiot and everyone here knows it!!!",
    "dvdgrg09, the news here in America is mostly propaganda.",
    "",
    "Ünïcödé, emoji 🙂 and CJK 日本語 survive tokenisation.",
]

model_dir, out = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
model = SentenceTransformer(model_dir, device="cpu")
emb = model.encode(SENTENCES, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
json.dump(
    {
        "produced_by": "bench/reference_embeddings.py",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "sentences": SENTENCES,
        "embeddings": [[round(float(x), 7) for x in row] for row in emb],
    },
    open(out, "w"),
    indent=None,
)
print("wrote", out, emb.shape, "cos(0,1) =", float(emb[0] @ emb[1]))
