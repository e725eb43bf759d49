#!/usr/bin/env python3
"""Applies the claim detector's rule (models/README.md, "Claim detector v1", fixed before
measuring) to the real stance targets: tau from the calibration source, then the ship rule on
every other input. Reads the labels (claim_targets' export labelled by a reader) and the
head's probabilities (claim_head score); prints the figures as markdown and writes them as
JSON with --write.

    scripts/claim/claim_rule.py data/samples/claim-target-labels.jsonl SCORED.jsonl TRAIN.json [--write OUT.json]
"""
import json
import sys

CALIBRATION = "r_all_comments_listing_page1.json"
SEEDS = ("sputnik-trump-putin-with-comments.txt", "thehill-trump-putin-article.txt")
GRID = [round(0.05 * k, 2) for k in range(1, 20)]


def key_of(v):
    """Inputs are matched by file name (the labels file names them relative to where they were
    found; the 52 names differ) and the article key."""
    return (v["input"].split("/")[-1], v["article"])


def rows(labels_path, scored_path):
    p = {}
    for line in open(scored_path):
        v = json.loads(line)
        p[key_of(v)] = v["p_claim"]
    out = []
    for line in open(labels_path):
        v = json.loads(line)
        key = key_of(v)
        if key not in p:
            sys.exit(f"no probability for {key}")
        out.append({"file": v["input"].split("/")[-1], "input": v["input"],
                    "label": v["label"], "p": p[key]})
    return out


def figures(rs, tau):
    """Precision and recall of 'no claim' (p < tau) on rows labelled claim / no-claim."""
    known = [r for r in rs if r["label"] in ("claim", "no-claim")]
    called = [r for r in known if r["p"] < tau]
    right = sum(r["label"] == "no-claim" for r in called)
    no_claim = sum(r["label"] == "no-claim" for r in known)
    return {
        "rows": len(known), "no_claim_rows": no_claim, "called_no_claim": len(called),
        "precision": right / len(called) if called else None,
        "recall": right / no_claim if no_claim else None,
    }


def auc(p, y):
    pos = [a for a, b in zip(p, y) if b]
    neg = [a for a, b in zip(p, y) if not b]
    if not pos or not neg:
        return None
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def main():
    args = sys.argv[1:]
    write = None
    if "--write" in args:
        i = args.index("--write")
        write = args[i + 1]
        args = args[:i] + args[i + 2:]
    labels, scored, train = args
    rs = rows(labels, scored)
    cal = [r for r in rs if r["file"] == CALIBRATION]
    held = [r for r in rs if r["file"] != CALIBRATION]
    passing = [t for t in GRID
               if (f := figures(cal, t))["called_no_claim"] >= 10 and f["precision"] >= 0.85]
    tau = max(passing) if passing else None
    out = {"calibration_source": CALIBRATION, "tau": tau, "grid": {}}
    for t in GRID:
        out["grid"][str(t)] = {"calibration": figures(cal, t), "held_out": figures(held, t)}
    t = tau if tau is not None else 0.5
    h = figures(held, t)
    seeds = {r["file"]: r["p"] for r in rs if r["file"] in SEEDS}
    seeds_kept = all(p >= t for p in seeds.values()) and len(seeds) == 2
    shipped = (tau is not None and h["precision"] is not None and h["precision"] >= 0.80
               and h["recall"] >= 0.30 and seeds_kept)
    out.update({"held_out_at_tau": h, "calibration_at_tau": figures(cal, t), "seeds": seeds,
                "seeds_kept_as_claims": seeds_kept, "shipped": shipped})
    per = {}
    for r in held:
        per.setdefault(r["input"].split("/")[-2] + "/" + (r["file"] if r["file"].endswith("xml") else "*"), []).append(r)
    out["held_out_by_source"] = {k: figures(v, t) for k, v in per.items()}
    known = [r for r in rs if r["label"] in ("claim", "no-claim")]
    out["auc_real"] = {
        "calibration": auc([r["p"] for r in cal if r in known], [r["label"] == "claim" for r in cal if r in known]),
        "held_out": auc([r["p"] for r in held if r in known], [r["label"] == "claim" for r in held if r in known]),
    }
    tr = json.load(open(train))
    out["ukp_test_auc"] = tr["ukp_test_auc"]
    out["held_out_claims_called_claim"] = {
        s: sum(p >= t for p in v["probabilities"]) / len(v["probabilities"])
        for s, v in tr["held_out_claims"].items()}
    print(f"tau = {tau} (calibration: {CALIBRATION})")
    print(f"UKP test AUC {tr['ukp_test_auc']:.3f}; real targets AUC calibration "
          f"{out['auc_real']['calibration']}, held-out {out['auc_real']['held_out']}")
    print("| rows | τ | calibration: called no-claim / precision / recall | held-out: called / precision / recall |")
    print("|---|---:|---|---|")
    for g in GRID:
        c, hh = out["grid"][str(g)]["calibration"], out["grid"][str(g)]["held_out"]
        fmt = lambda f: f"{f['called_no_claim']} / {f['precision'] if f['precision'] is None else round(f['precision'], 3)} / {f['recall'] if f['recall'] is None else round(f['recall'], 3)}"
        print(f"| {c['rows']} + {hh['rows']} | {g} | {fmt(c)} | {fmt(hh)} |")
    print("held out by source:", json.dumps(out["held_out_by_source"], indent=1))
    print("seeds:", seeds, "kept as claims:", seeds_kept)
    print("held-out claims called claim:", out["held_out_claims_called_claim"])
    print("SHIPPED" if shipped else "NOT SHIPPED", json.dumps(h))
    if write:
        json.dump(out, open(write, "w"), indent=1)


if __name__ == "__main__":
    main()
