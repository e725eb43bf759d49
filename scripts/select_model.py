#!/usr/bin/env python3
"""Applies a model selection rule of models/README.md to two metrics.json files that
`threadlens train` wrote: the model in use and the candidate. `--rule v2.2` (the default):
"Amendment v2.2", written before the v2.2 adapter was trained; `--rule v2.3`: "Amendment
v2.3", written before the continued run's first check was read; `--rule v2.5`: "Amendment
v2.5" (refitted heads), which decides the toxicity and the sentiment head each on its own.
Validation figures only; test figures are never read here. Prints each condition and the
decision; exit 0 either way.

Usage: scripts/select_model.py [--rule v2.2|v2.3|v2.5] CURRENT/metrics.json CANDIDATE/metrics.json"""
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


def mean_auc(cur, cand, sources):
    """Sources both files have, and the mean validation toxicity AUC of each file over them."""
    both = [x for x in sources if val_auc(cur, x) is not None and val_auc(cand, x) is not None]
    return (both, sum(val_auc(cur, x) for x in both) / len(both),
            sum(val_auc(cand, x) for x in both) / len(both))


def toxicity_conditions(cur, cand):
    """(a) the mean validation toxicity AUC over Civil Comments and the other comment sources
    up by 0.005; (b) Civil Comments not down by more than 0.005. Prints both."""
    both, m_cur, m_cand = mean_auc(cur, cand, ["civil-comments"] + OTHER_SOURCES)
    a = m_cand >= m_cur + 0.005
    detail = ", ".join(f"{x} {val_auc(cur, x):.4f}->{val_auc(cand, x):.4f}" for x in both)
    print(f"(a) mean validation toxicity AUC over {len(both)} comment sources: "
          f"{m_cur:.4f} -> {m_cand:.4f} (needs >= {m_cur + 0.005:.4f}): "
          f"{'pass' if a else 'fail'} ({detail})")
    c_cur, c_cand = val_auc(cur, "civil-comments"), val_auc(cand, "civil-comments")
    b = c_cand >= c_cur - 0.005
    print(f"(b) Civil Comments validation toxicity AUC: {c_cur:.4f} -> {c_cand:.4f} "
          f"(may fall by 0.005 at most): {'pass' if b else 'fail'}")
    return a and b


def rule_v23(cur, cand):
    """Amendment v2.3: (a) and (b) of `toxicity_conditions`, and held-back-tweet sentiment not
    down by 1 point."""
    ab = toxicity_conditions(cur, cand)
    s_cur, s_cand = sentiment_selection(cur), sentiment_selection(cand)
    c = s_cand >= s_cur - 0.01
    print(f"(c) sentiment held-back-tweet selection figure: {s_cur:.4f} -> {s_cand:.4f} "
          f"(may fall by 0.01 at most): {'pass' if c else 'fail'}")
    return ab and c


def rule_v25(cur, cand):
    """Amendment v2.5: the toxicity head by (a) and (b) of v2.3; the sentiment head by the
    held-back selection figure, up by at least 0.5 points."""
    ab = toxicity_conditions(cur, cand)
    print("toxicity head:", "the refitted head replaces stage 1's" if ab
          else "stage 1's head stays")
    s_cur, s_cand = sentiment_selection(cur), sentiment_selection(cand)
    c = s_cand >= s_cur + 0.005
    print(f"(s) sentiment held-back selection figure: {s_cur:.4f} -> {s_cand:.4f} "
          f"(needs >= {s_cur + 0.005:.4f}): {'pass' if c else 'fail'}")
    print("sentiment head:", "the refitted head replaces stage 1's" if c
          else "stage 1's head stays")


def main(cur_path, cand_path, rule="v2.2"):
    if rule == "v2.5":
        rule_v25(scores(cur_path), scores(cand_path))
        return
    if rule == "v2.3":
        keep = rule_v23(scores(cur_path), scores(cand_path))
        print("decision:", "the candidate replaces the current model" if keep
              else "the current model stays")
        return
    cur, cand = scores(cur_path), scores(cand_path)
    a_cur, a_cand = val_auc(cur, "civil-comments"), val_auc(cand, "civil-comments")
    a = a_cand >= a_cur + 0.01
    print(f"(a) Civil Comments validation toxicity AUC: {a_cur:.4f} -> {a_cand:.4f} "
          f"(needs >= {a_cur + 0.01:.4f}): {'pass' if a else 'fail'}")
    both, m_cur, m_cand = mean_auc(cur, cand, OTHER_SOURCES)
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
    args = sys.argv[1:]
    rule = "v2.2"
    if args[:1] == ["--rule"] and len(args) >= 2:
        rule, args = args[1], args[2:]
    if len(args) != 2 or rule not in ("v2.2", "v2.3", "v2.5"):
        sys.exit(__doc__)
    main(args[0], args[1], rule)
