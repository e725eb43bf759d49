#!/usr/bin/env python3
"""Applies the model selection rule of models/README.md ("Amendment v2.2", written before the
v2.2 adapter was trained) to two metrics.json files that `threadlens train` wrote: the model in
use (v2.1, re-measured with the union bound) and the candidate (v2.2). Validation figures only;
test figures are never read here. Prints each condition and the decision; exit 0 either way.

Usage: scripts/select_model.py CURRENT/metrics.json CANDIDATE/metrics.json"""
import json
import sys

# Non-tweet comment sources with validation positives, besides Civil Comments (the toxic
# spans are all toxic, the Civil binary/more rows too few; Stormfront labels no toxicity).
OTHER_SOURCES = ["cad", "toxichat", "ruddit", "jigsaw-wikipedia", "context-wiki"]


def scores(path):
    return json.load(open(path))["metrics"]["scores"]


def val_auc(s, source):
    return s.get(f"toxicity.validation.{source}.toxicity.roc_auc")


def sentiment_selection(s):
    """The held-back-tweet figure of the sentiment head as shipped (prior-corrected or not)."""
    if s.get("sentiment.prior_correction_kept") == 1.0:
        return s.get("sentiment.validation.selection.prior_corrected_2fold")
    return s.get("sentiment.validation.selection.macro_recall")


def main(cur_path, cand_path):
    cur, cand = scores(cur_path), scores(cand_path)
    a_cur, a_cand = val_auc(cur, "civil-comments"), val_auc(cand, "civil-comments")
    a = a_cand >= a_cur + 0.01
    print(f"(a) Civil Comments validation toxicity AUC: {a_cur:.4f} -> {a_cand:.4f} "
          f"(needs >= {a_cur + 0.01:.4f}): {'pass' if a else 'fail'}")
    both = [x for x in OTHER_SOURCES if val_auc(cur, x) is not None and val_auc(cand, x) is not None]
    m_cur = sum(val_auc(cur, x) for x in both) / len(both)
    m_cand = sum(val_auc(cand, x) for x in both) / len(both)
    b = m_cand >= m_cur - 0.01
    detail = ", ".join(f"{x} {val_auc(cur, x):.4f}->{val_auc(cand, x):.4f}" for x in both)
    print(f"(b) mean validation toxicity AUC over {len(both)} other comment sources: "
          f"{m_cur:.4f} -> {m_cand:.4f} (may fall by 0.01 at most): {'pass' if b else 'fail'} ({detail})")
    s_cur, s_cand = sentiment_selection(cur), sentiment_selection(cand)
    c = s_cand >= s_cur - 0.01
    print(f"(c) sentiment held-back-tweet selection figure: {s_cur:.4f} -> {s_cand:.4f} "
          f"(may fall by 0.01 at most): {'pass' if c else 'fail'}")
    print("decision:", "the candidate replaces the current model" if a and b and c
          else "the current model stays")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
