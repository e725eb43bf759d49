#!/usr/bin/env python3
"""Prints the model card's figures (models/README.md, "Model v2 results") from a metrics.json
that `threadlens train` wrote, so the card quotes measured numbers only:
the per-source toxicity table, the defaults, calibration, tweets, sentiment and stance.

Usage: scripts/card_figures.py [models/heads/metrics.json]"""
import json
import sys

ATTRS = ["insult", "threat", "obscene", "identity_attack", "severe_toxicity", "sexual_explicit"]


def main(path):
    m = json.load(open(path))
    s = m["metrics"]["scores"]
    g = lambda k: s.get(k)  # noqa: E731
    ft = m["metrics"].get("finetune", {})
    print(f"stage 1: {ft.get('steps')} steps, best at {ft.get('best_step')}, "
          f"{ft.get('seconds')} s; checks: {[(c.get('step'), round(c.get('val_loss', 0), 4)) for c in ft.get('checks', [])]}")
    print("defaults:", {k.split(".")[1]: round(v, 2) for k, v in s.items()
                        if k.startswith("defaults.") and k.count(".") == 1})
    print("binding source (share of its validation negatives flagged at the default):",
          {a: (src, round(s.get(f"defaults.{a}.binding_share", float("nan")), 4))
           for a, src in m["metrics"].get("threshold_binding", {}).items()})
    print("calibration (Platt scale, shift) per attribute:",
          {k.split(".")[2]: (round(v, 3), round(s[k.replace(".scale", ".shift")], 3))
           for k, v in s.items() if k.startswith("toxicity.calibration.") and k.endswith(".scale")})
    print("| source | rows | AUC | AP | clean flagged | toxic caught | other attributes (AUC) |")
    sources = sorted({k.split(".")[2] for k in s if k.startswith("toxicity.test.")})
    for src in sources:
        p = f"toxicity.test.{src}."
        if g(p + "rows") is None:
            continue
        auc, ap = g(p + "toxicity.roc_auc"), g(p + "toxicity.average_precision")
        cf, cr = g(p + "clean.flagged_share"), g(p + "clean.rows")
        tr, tn = g(p + "toxic.recall"), g(p + "toxic.rows")
        clear = g(p + "toxicity.roc_auc_vs_unanimous")
        if clear is not None:
            auc_s = f"{auc:.3f} (vs unanimous clean {clear:.3f})"
        else:
            auc_s = None
        others = ", ".join(f"{a} {g(p + a + '.roc_auc'):.3f}" for a in ATTRS if g(p + a + ".roc_auc") is not None)
        fmt = lambda v, f: "" if v is None else format(v, f)  # noqa: E731
        clean = "" if cf is None else f"{cf * 100:.2f} % of {cr:.0f}"
        toxic = "" if tr is None else f"{tr * 100:.1f} % of {tn:.0f}"
        mr, mn = g(p + "toxic_most_raters.recall"), g(p + "toxic_most_raters.rows")
        if mr is not None:
            toxic += f" (fraction ≥ 0.7: {mr * 100:.1f} % of {mn:.0f})"
        print(f"| {src} | {g(p + 'rows'):.0f} | {auc_s or fmt(auc, '.3f')} | {fmt(ap, '.3f')} | {clean} | {toxic} | {others} |")
    print("ECE (civil-comments):", fmt3(g("toxicity.test.civil-comments.toxicity.ece")),
          "uncalibrated:", fmt3(g("toxicity.test.civil-comments.toxicity.ece_uncalibrated")))
    print("calibration bins (rows, mean score, mean fraction):",
          [(b[0], round(b[1], 2), round(b[2], 2)) for b in m["metrics"].get("calibration", [])])
    print("TweetEval offensive macro-F1 at 0.5:", fmt3(g("toxicity.test.offensive.macro_f1_at_0.5")),
          "at validation threshold:", fmt3(g("toxicity.test.offensive.macro_f1_at_validation_threshold")))
    print("TweetEval hate macro-F1 at 0.5:", fmt3(g("toxicity.test.hate_identity_attack.macro_f1_at_0.5")))
    for src in sorted({k.split(".")[2] for k in s if k.startswith("sentiment.test.")}):
        print(f"sentiment {src}: macro-recall {fmt3(g(f'sentiment.test.{src}.macro_recall'))}")
    print("sentiment prior correction kept:", g("sentiment.prior_correction_kept"))
    print("stance TweetEval f1avg", fmt3(g("stance.test.f1avg")), "VAST dev macro-F1",
          fmt3(g("stance.test.vast-dev.macro_f1")), "accuracy", fmt3(g("stance.test.vast-dev.accuracy")))
    bias = {k.split(".")[2] for k in s if k.startswith("toxicity.bias.")}
    for t in sorted(bias):
        p = f"toxicity.bias.{t}."
        print(f"bias {t}: subgroup {fmt3(g(p + 'subgroup_auc'))} bpsn {fmt3(g(p + 'bpsn_auc'))} "
              f"fpr {fmt3(g(p + 'false_positive_rate'))} auc {fmt3(g(p + 'roc_auc'))}")


def fmt3(v):
    return "–" if v is None else f"{v:.3f}"


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/heads/metrics.json")
