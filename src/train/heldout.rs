//! The toxicity figures of the model card, as pure functions over scored rows: per-source ROC
//! AUC and average precision, the share of clean comments flagged and of toxic comments caught
//! at given thresholds, calibration against rater fractions, identity-term bias, and the rule
//! that derives the default thresholds from validation rows. They live apart from training so
//! that what is measured, and on which rows, can be read (and tested) in one place.

use std::collections::BTreeMap;

use super::datasets::{AttrExample, ATTRS, TOX};
use crate::score::heads::TOXICITY_LABELS;
use crate::tune::metrics::{average_precision, curve, roc_auc, Scored};

/// A row with the model's seven probabilities.
pub struct ScoredRow<'a> {
    pub row: &'a AttrExample,
    pub probs: [f32; ATTRS],
}

/// Sources whose rows are tweets: excluded from the threshold rule and reported apart.
pub const TWEET_SOURCES: [&str; 5] = [
    "tweeteval-offensive",
    "tweeteval-hate",
    "davidson",
    "tweeteval-offensive-val",
    "tweeteval-hate-val",
];

/// Grid of candidate default thresholds: 0.50, 0.55, …, 0.95.
pub fn threshold_grid() -> Vec<f64> {
    (10..=19).map(|i| f64::from(i) * 0.05).collect()
}

/// Whether a score is at or above a threshold, compared as the CSV shows it (4 decimals).
fn at_or_above(p: f32, t: f64) -> bool {
    crate::tune::thresholds::rounded_score(p) >= t - 1e-9
}

/// One attribute's default threshold as the rule derived it.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub threshold: f64,
    /// The sources whose validation negatives the rule looked at.
    pub sources: Vec<String>,
    /// The source that flags the largest share of its negatives at `threshold`, with that
    /// share: the one that decided the value (or kept every grid value from passing).
    pub binding: Option<(String, f64)>,
}

/// The rule of models/README.md ("Model v2 protocol", amended in v2.1): for each attribute,
/// the smallest grid value at which it flags at most `max_share` of the validation rows
/// labelled negative for it, in every non-tweet source with at least `min_rows` such rows;
/// 1.0 if no grid value does.
pub fn derive_thresholds(
    validation: &[ScoredRow],
    max_share: f64,
    min_rows: usize,
) -> [Derived; ATTRS] {
    std::array::from_fn(|k| {
        // source → negative rows' scores for attribute k
        let mut neg: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
        for r in validation {
            if TWEET_SOURCES.contains(&r.row.source) {
                continue;
            }
            if let Some(v) = r.row.labels[k] {
                if v < 0.5 {
                    neg.entry(r.row.source).or_default().push(r.probs[k]);
                }
            }
        }
        neg.retain(|_, v| v.len() >= min_rows);
        let sources: Vec<String> = neg.keys().map(|s| s.to_string()).collect();
        let share = |scores: &[f32], t: f64| {
            let flagged = scores.iter().filter(|&&p| at_or_above(p, t)).count();
            flagged as f64 / scores.len() as f64
        };
        let ok = |t: f64| {
            neg.values()
                .all(|scores| share(scores, t) <= max_share + 1e-12)
        };
        let threshold = if neg.is_empty() {
            1.0
        } else {
            threshold_grid().into_iter().find(|&t| ok(t)).unwrap_or(1.0)
        };
        let binding = neg
            .iter()
            .map(|(s, scores)| (s.to_string(), share(scores, threshold)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        Derived {
            threshold,
            sources,
            binding,
        }
    })
}

/// The union bound of models/README.md ("v2.2"): a comment is queued when *any* attribute
/// reaches its threshold, so per-attribute bounds can add up. While some non-tweet source with
/// at least `min_rows` clean validation rows ([`is_clean`]) has more than `max_share` of them
/// flagged, the threshold of the attribute that flags the most clean rows of the worst such
/// source is raised by one grid step (past 0.95 to 1.0). Returns the worst source and its
/// flagged share at the final thresholds.
pub fn bound_union(
    validation: &[ScoredRow],
    thresholds: &mut [f64; ATTRS],
    max_share: f64,
    min_rows: usize,
) -> Option<(String, f64)> {
    let mut clean: BTreeMap<&str, Vec<&[f32; ATTRS]>> = BTreeMap::new();
    for r in validation {
        if !TWEET_SOURCES.contains(&r.row.source) && is_clean(r.row) {
            clean.entry(r.row.source).or_default().push(&r.probs);
        }
    }
    clean.retain(|_, v| v.len() >= min_rows);
    let share = |rows: &[&[f32; ATTRS]], t: &[f64; ATTRS]| {
        rows.iter().filter(|p| flagged(p, t)).count() as f64 / rows.len() as f64
    };
    loop {
        let (source, worst) = clean
            .iter()
            .map(|(s, rows)| (*s, share(rows, thresholds)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        if worst <= max_share + 1e-12 {
            return Some((source.to_string(), worst));
        }
        let rows = &clean[source];
        let k = (0..ATTRS)
            .filter(|&k| thresholds[k] < 1.0)
            .max_by_key(|&k| {
                let n = rows
                    .iter()
                    .filter(|p| at_or_above(p[k], thresholds[k]))
                    .count();
                (n, std::cmp::Reverse(k))
            })?;
        thresholds[k] = threshold_grid()
            .into_iter()
            .find(|&g| g > thresholds[k] + 1e-9)
            .unwrap_or(1.0);
    }
}

/// Platt scaling: the (a, b) minimising the binary cross-entropy of `sigmoid(a·z + b)`
/// against targets in [0, 1] (rater fractions), over (logit z, target) pairs, by Newton's
/// method with a small ridge on (a − 1, b) so a degenerate sample stays near the identity.
/// Returns (1, 0) for an empty sample.
pub fn fit_platt(pairs: &[(f32, f32)]) -> (f64, f64) {
    const RIDGE: f64 = 1e-3;
    let n = pairs.len() as f64;
    let loss = |a: f64, b: f64| {
        let data: f64 = pairs
            .iter()
            .map(|&(z, y)| {
                let (z, y) = (f64::from(z), f64::from(y));
                let t = a * z + b;
                // log(1 + e^t) − y·t, stable for large |t|
                t.max(0.0) + (-t.abs()).exp().ln_1p() - y * t
            })
            .sum();
        data / n + 0.5 * RIDGE * ((a - 1.0).powi(2) + b * b)
    };
    let (mut a, mut b) = (1.0f64, 0.0f64);
    if pairs.is_empty() {
        return (a, b);
    }
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(z, y) in pairs {
            let (z, y) = (f64::from(z), f64::from(y));
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let w = p * (1.0 - p);
            ga += (p - y) * z;
            gb += p - y;
            haa += w * z * z;
            hab += w * z;
            hbb += w;
        }
        let ga = ga / n + RIDGE * (a - 1.0);
        let gb = gb / n + RIDGE * b;
        let (haa, hab, hbb) = (haa / n + RIDGE, hab / n, hbb / n + RIDGE);
        let det = haa * hbb - hab * hab;
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        // Damped Newton: halve the step until the loss does not rise.
        let before = loss(a, b);
        let mut step = 1.0;
        while step > 1e-6 && loss(a - step * da, b - step * db) > before {
            step *= 0.5;
        }
        a -= step * da;
        b -= step * db;
        if (step * da).abs() < 1e-10 && (step * db).abs() < 1e-10 {
            break;
        }
    }
    (a, b)
}

/// Whether any attribute reaches its threshold (the queue's rule, `flag` being the toxicity
/// threshold and so never firing alone).
pub fn flagged(probs: &[f32; ATTRS], thresholds: &[f64; ATTRS]) -> bool {
    probs
        .iter()
        .zip(thresholds)
        .any(|(&p, &t)| at_or_above(p, t))
}

/// A clean row: toxicity labelled below one half and no labelled attribute at or above it.
pub fn is_clean(row: &AttrExample) -> bool {
    row.labels[TOX].is_some_and(|v| v < 0.5) && row.labels.iter().flatten().all(|&v| v < 0.5)
}

/// A toxic row: toxicity labelled at or above one half.
pub fn is_toxic(row: &AttrExample) -> bool {
    row.labels[TOX].is_some_and(|v| v >= 0.5)
}

/// Per-source figures on test rows, as `metric name → value` (names under `prefix`).
pub fn per_source(
    rows: &[ScoredRow],
    thresholds: &[f64; ATTRS],
    prefix: &str,
) -> BTreeMap<String, f64> {
    let mut by_source: BTreeMap<&str, Vec<&ScoredRow>> = BTreeMap::new();
    for r in rows {
        by_source.entry(r.row.source).or_default().push(r);
    }
    let mut out = BTreeMap::new();
    for (source, rs) in by_source {
        let key = |m: String| format!("{prefix}.{source}.{m}");
        out.insert(key("rows".into()), rs.len() as f64);
        for (k, name) in TOXICITY_LABELS.iter().enumerate() {
            let s: Vec<Scored> = rs
                .iter()
                .filter_map(|r| {
                    r.row.labels[k].map(|v| Scored {
                        score: f64::from(r.probs[k]),
                        positive: v >= 0.5,
                    })
                })
                .collect();
            let c = curve(&s);
            if let (Some(auc), Some(ap)) = (roc_auc(&c), average_precision(&c)) {
                out.insert(key(format!("{name}.roc_auc")), auc);
                out.insert(key(format!("{name}.average_precision")), ap);
                out.insert(
                    key(format!("{name}.positives")),
                    s.iter().filter(|x| x.positive).count() as f64,
                );
            }
            if let Some(auc) = clear_cut_auc(rs.iter().copied(), k) {
                out.insert(key(format!("{name}.roc_auc_vs_unanimous")), auc);
            }
        }
        // The rows of a kind, and the share of them the thresholds flag: `KIND.rows` and
        // `KIND.MEASURE`.
        let mut share = |kind: &str, measure: &str, keep: &dyn Fn(&AttrExample) -> bool| {
            let rows: Vec<&&ScoredRow> = rs.iter().filter(|r| keep(r.row)).collect();
            if rows.is_empty() {
                return;
            }
            let n = rows
                .iter()
                .filter(|r| flagged(&r.probs, thresholds))
                .count();
            out.insert(key(format!("{kind}.rows")), rows.len() as f64);
            out.insert(
                key(format!("{kind}.{measure}")),
                n as f64 / rows.len() as f64,
            );
        };
        share("clean", "flagged_share", &is_clean);
        share("toxic", "recall", &is_toxic);
        // The clear cases of models/README.md ("Defaults that catch the clear cases").
        share("clear", "recall", &super::clear_cases::is_clear);
        // Sources labelled with rater fractions: also the comments most raters (≥ 70 %) call
        // toxic, the ones a default near Perspective's 0.7–0.8 is meant to queue.
        let fractions = rs
            .iter()
            .any(|r| r.row.labels[TOX].is_some_and(|v| v > 0.0 && v < 1.0));
        if fractions {
            share("toxic_most_raters", "recall", &|row| {
                row.labels[TOX].is_some_and(|v| v >= MOST_RATERS)
            });
        }
    }
    out
}

/// Rater fraction from which a comment counts as one "most raters call toxic".
const MOST_RATERS: f32 = 0.7;

/// For sources labelled with rater fractions (some labels strictly between 0 and 0.5): the
/// ROC AUC of attribute `k` with only the rows no rater marked (fraction 0) as negatives, so a
/// stratified sample full of borderline rows can be compared with natural-rate figures,
/// where most negatives are unanimous. `None` for sources without such fractions.
fn clear_cut_auc<'a>(
    rows: impl Iterator<Item = &'a ScoredRow<'a>> + Clone,
    k: usize,
) -> Option<f64> {
    let borderline = rows
        .clone()
        .any(|r| r.row.labels[k].is_some_and(|v| v > 0.0 && v < 0.5));
    if !borderline {
        return None;
    }
    let s: Vec<Scored> = rows
        .filter_map(|r| {
            r.row.labels[k]
                .filter(|&v| v == 0.0 || v >= 0.5)
                .map(|v| Scored {
                    score: f64::from(r.probs[k]),
                    positive: v >= 0.5,
                })
        })
        .collect();
    roc_auc(&curve(&s))
}

/// Reliability of `toxicity` against rater fractions: ten equal-width bins of the predicted
/// probability, each with (rows, mean predicted, mean fraction), and the expected calibration
/// error Σ (n_b / N)·|mean predicted − mean fraction|.
pub fn calibration(pairs: &[(f32, f32)]) -> (Vec<(usize, f64, f64)>, f64) {
    let mut bins = vec![(0usize, 0f64, 0f64); 10];
    for &(p, y) in pairs {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += f64::from(p);
        bins[b].2 += f64::from(y);
    }
    let n = pairs.len().max(1) as f64;
    let mut ece = 0.0;
    for b in &mut bins {
        if b.0 > 0 {
            b.1 /= b.0 as f64;
            b.2 /= b.0 as f64;
            ece += b.0 as f64 / n * (b.1 - b.2).abs();
        }
    }
    (bins, ece)
}

/// Identity terms of Dixon et al. (2018), "Measuring and Mitigating Unintended Bias in Text
/// Classification" (the terms of Jigsaw's bias-madlibs set), matched as whole words.
pub const IDENTITY_TERMS: [&str; 24] = [
    "lesbian",
    "gay",
    "bisexual",
    "transgender",
    "trans",
    "queer",
    "homosexual",
    "straight",
    "heterosexual",
    "male",
    "female",
    "african",
    "black",
    "white",
    "european",
    "hispanic",
    "latino",
    "asian",
    "christian",
    "muslim",
    "jewish",
    "buddhist",
    "catholic",
    "protestant",
];

fn mentions(text: &str, term: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(term))
}

/// Per identity term with at least `min_rows` mentions: subgroup AUC (rows mentioning it),
/// BPSN AUC (background positives with subgroup negatives, Borkan et al. 2019) and the
/// false-positive rate of `toxicity` at `threshold` on its non-toxic rows; plus the same over
/// all rows under `overall`.
pub fn identity_bias(rows: &[ScoredRow], threshold: f64, min_rows: usize) -> BTreeMap<String, f64> {
    let scored = |r: &ScoredRow| {
        r.row.labels[TOX].map(|v| Scored {
            score: f64::from(r.probs[TOX]),
            positive: v >= 0.5,
        })
    };
    let fpr = |s: &[Scored]| {
        let neg: Vec<&Scored> = s.iter().filter(|x| !x.positive).collect();
        let fp = neg.iter().filter(|x| x.score >= threshold).count();
        (!neg.is_empty()).then(|| fp as f64 / neg.len() as f64)
    };
    let mut out = BTreeMap::new();
    let all: Vec<Scored> = rows.iter().filter_map(scored).collect();
    if let Some(a) = roc_auc(&curve(&all)) {
        out.insert("overall.roc_auc".to_string(), a);
    }
    if let Some(f) = fpr(&all) {
        out.insert("overall.false_positive_rate".to_string(), f);
    }
    for term in IDENTITY_TERMS {
        let (sub, background): (Vec<&ScoredRow>, Vec<&ScoredRow>) =
            rows.iter().partition(|r| mentions(&r.row.text, term));
        if sub.len() < min_rows {
            continue;
        }
        let s: Vec<Scored> = sub.iter().filter_map(|r| scored(r)).collect();
        out.insert(format!("{term}.rows"), s.len() as f64);
        if let Some(a) = roc_auc(&curve(&s)) {
            out.insert(format!("{term}.subgroup_auc"), a);
        }
        let bpsn: Vec<Scored> = s
            .iter()
            .filter(|x| !x.positive)
            .copied()
            .chain(
                background
                    .iter()
                    .filter_map(|r| scored(r))
                    .filter(|x| x.positive),
            )
            .collect();
        if let Some(a) = roc_auc(&curve(&bpsn)) {
            out.insert(format!("{term}.bpsn_auc"), a);
        }
        if let Some(f) = fpr(&s) {
            out.insert(format!("{term}.false_positive_rate"), f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::datasets::{only, Split};

    fn row(source: &'static str, tox: f32, text: &str) -> AttrExample {
        AttrExample {
            text: text.to_string(),
            labels: only(&[(TOX, tox)]),
            source,
            split: Split::Validation,
        }
    }

    fn probs(t: f32) -> [f32; ATTRS] {
        let mut p = [0.0; ATTRS];
        p[TOX] = t;
        p
    }

    /// 200 negatives per source: at most 0.5 % (1 row) may reach the threshold. Source a's
    /// negatives score 0.000 … 0.995, so even 0.95 flags 10 of them and the rule says 1.0;
    /// without a, b decides (its negatives stop at 0.60, so 0.65 is the smallest passing
    /// value). Tweets, all at 0.99, never count.
    #[test]
    fn thresholds_follow_the_written_rule() {
        let mut rows = Vec::new();
        for _ in 0..200 {
            rows.push(row("a", 0.0, ""));
            rows.push(row("b", 0.0, ""));
            rows.push(row("tweeteval-offensive", 0.0, ""));
        }
        let mut scored: Vec<ScoredRow> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let k = (i / 3) as f32;
            let p = match r.source {
                "a" => k / 200.0,
                "b" => (k / 200.0).min(0.60),
                _ => 0.99,
            };
            scored.push(ScoredRow {
                row: r,
                probs: probs(p),
            });
        }
        let th = derive_thresholds(&scored, 0.005, 100);
        assert_eq!(th[TOX].threshold, 1.0);
        assert_eq!(th[TOX].sources, vec!["a".to_string(), "b".to_string()]);
        let without_a: Vec<ScoredRow> =
            scored.into_iter().filter(|r| r.row.source != "a").collect();
        let th = derive_thresholds(&without_a, 0.005, 100);
        assert!((th[TOX].threshold - 0.65).abs() < 1e-9, "{:?}", th[TOX]);
        assert_eq!(th[TOX].binding, Some(("b".to_string(), 0.0)));
        // Attributes nobody labels get 1.0 and no deciding source.
        assert_eq!(
            th[1],
            Derived {
                threshold: 1.0,
                sources: vec![],
                binding: None
            }
        );
    }

    /// 200 negatives scoring 0.000 … 0.995: 5 % allowed gives 0.95 (10 rows flagged), 10 %
    /// gives 0.90 (20 rows), 1 % finds no grid value (1.0); the binding source is named with
    /// its share at the value chosen.
    #[test]
    fn a_looser_share_moves_the_threshold_and_names_the_binding_source() {
        let rows: Vec<AttrExample> = (0..200).map(|_| row("a", 0.0, "")).collect();
        let scored: Vec<ScoredRow> = rows
            .iter()
            .enumerate()
            .map(|(k, r)| ScoredRow {
                row: r,
                probs: probs(k as f32 / 200.0),
            })
            .collect();
        // At 0.90 the scores 0.900 … 0.995 (20 rows, 10 %) are flagged; at 0.95, 10 rows (5 %).
        assert!((derive_thresholds(&scored, 0.05, 100)[TOX].threshold - 0.95).abs() < 1e-9);
        assert!((derive_thresholds(&scored, 0.10, 100)[TOX].threshold - 0.9).abs() < 1e-9);
        let d = &derive_thresholds(&scored, 0.01, 100)[TOX];
        assert_eq!(d.threshold, 1.0);
        assert_eq!(d.binding, Some(("a".to_string(), 0.0)));
    }

    /// 100 clean rows: with toxicity at 0.5 and insult at 0.6, ten rows flagged by toxicity
    /// (scores 0.50 … 0.59) and ten others by insult (0.60 … 0.69) make 20 % of the union.
    /// Toxicity flags as many rows as insult at first; ties go to the earlier attribute, and
    /// each step raises whichever flags more, until no row is flagged (toxicity ≥ 0.60, insult
    /// ≥ 0.70). A source under `min_rows` clean rows and tweets never count.
    #[test]
    fn the_union_bound_raises_the_attribute_that_flags_most() {
        let mut rows: Vec<AttrExample> = (0..100).map(|_| row("a", 0.0, "")).collect();
        rows.extend((0..10).map(|_| row("small", 0.0, "")));
        rows.extend((0..200).map(|_| row("davidson", 0.0, "")));
        let ins = 1;
        let scored: Vec<ScoredRow> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut p = [0.0; ATTRS];
                match (r.source, i) {
                    ("a", 0..=9) => p[TOX] = 0.50 + i as f32 * 0.01,
                    ("a", 10..=19) => p[ins] = 0.60 + (i - 10) as f32 * 0.01,
                    ("a", _) => {}
                    _ => p = [0.99; ATTRS],
                }
                ScoredRow { row: r, probs: p }
            })
            .collect();
        let mut t = [0.5, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0];
        let worst = bound_union(&scored, &mut t, 0.01, 50);
        assert_eq!(worst, Some(("a".to_string(), 0.0)));
        assert!(
            (t[TOX] - 0.60).abs() < 1e-9 && (t[ins] - 0.70).abs() < 1e-9,
            "{t:?}"
        );
        // Already within the bound: nothing moves.
        let mut t = [0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(
            bound_union(&scored, &mut t, 0.05, 50),
            Some(("a".to_string(), 0.0))
        );
        assert_eq!(t[TOX], 0.95);
    }

    /// Borderline rows (0 < fraction < 0.5) are left out of the clear-cut AUC, and a source
    /// without fractions has none.
    #[test]
    fn clear_cut_auc_ignores_borderline_rows() {
        let rows = [row("s", 0.0, "a"), row("s", 0.3, "b"), row("s", 0.8, "c")];
        let scored: Vec<ScoredRow> = rows
            .iter()
            .zip([0.1, 0.9, 0.5])
            .map(|(r, p)| ScoredRow {
                row: r,
                probs: probs(p),
            })
            .collect();
        // With the borderline row as a negative scoring 0.9, the AUC would be 0.5.
        assert_eq!(clear_cut_auc(scored.iter(), TOX), Some(1.0));
        let binary = [row("s", 0.0, "a"), row("s", 1.0, "c")];
        let scored: Vec<ScoredRow> = binary
            .iter()
            .map(|r| ScoredRow {
                row: r,
                probs: probs(0.5),
            })
            .collect();
        assert_eq!(clear_cut_auc(scored.iter(), TOX), None);
    }

    /// Platt scaling recovers the map that generated the targets, and leaves calibrated
    /// scores alone.
    #[test]
    fn platt_scaling_recovers_a_known_map() {
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let pairs: Vec<(f32, f32)> = (-40..=40)
            .map(|i| {
                let z = f64::from(i) / 5.0;
                (z as f32, sig(0.5 * z - 1.0) as f32)
            })
            .collect();
        let (a, b) = fit_platt(&pairs);
        assert!((a - 0.5).abs() < 0.02 && (b + 1.0).abs() < 0.02, "{a} {b}");
        let same: Vec<(f32, f32)> = (-40..=40)
            .map(|i| {
                let z = f64::from(i) / 5.0;
                (z as f32, sig(z) as f32)
            })
            .collect();
        let (a, b) = fit_platt(&same);
        assert!((a - 1.0).abs() < 1e-3 && b.abs() < 1e-3, "{a} {b}");
        assert_eq!(fit_platt(&[]), (1.0, 0.0));
    }

    #[test]
    fn clean_flagged_share_and_toxic_recall_per_source() {
        let rows = [
            row("s", 0.0, "a"),
            row("s", 0.2, "b"),
            row("s", 0.9, "c"),
            row("s", 0.6, "d"),
        ];
        let ps = [0.85, 0.1, 0.95, 0.5];
        let scored: Vec<ScoredRow> = rows
            .iter()
            .zip(ps)
            .map(|(r, p)| ScoredRow {
                row: r,
                probs: probs(p),
            })
            .collect();
        let mut th = [1.0; ATTRS];
        th[TOX] = 0.8;
        let m = per_source(&scored, &th, "test");
        assert_eq!(m["test.s.clean.flagged_share"], 0.5);
        assert_eq!(m["test.s.toxic.recall"], 0.5);
        // Of the toxic rows only "c" (0.9) has most raters; it is flagged.
        assert_eq!(m["test.s.toxic_most_raters.rows"], 1.0);
        assert_eq!(m["test.s.toxic_most_raters.recall"], 1.0);
        // Toxic (c 0.95, d 0.5) against clean (a 0.85, b 0.1): three of four pairs ordered.
        assert_eq!(m["test.s.toxicity.roc_auc"], 0.75);
        // A source labelled 0/1 only has no such figure (it would repeat toxic.recall).
        let binary = [row("b", 0.0, "e"), row("b", 1.0, "f")];
        let scored: Vec<ScoredRow> = binary
            .iter()
            .map(|r| ScoredRow {
                row: r,
                probs: probs(0.9),
            })
            .collect();
        let m = per_source(&scored, &th, "test");
        assert_eq!(m["test.b.toxic.recall"], 1.0);
        assert!(!m.contains_key("test.b.toxic_most_raters.recall"));
    }

    #[test]
    fn calibration_of_a_perfect_and_a_shifted_model() {
        let perfect: Vec<(f32, f32)> = (0..100)
            .map(|i| (i as f32 / 100.0, i as f32 / 100.0))
            .collect();
        assert!(calibration(&perfect).1 < 1e-6);
        let shifted: Vec<(f32, f32)> = perfect
            .iter()
            .map(|&(p, y)| ((p + 0.2).min(0.99), y))
            .collect();
        assert!(calibration(&shifted).1 > 0.15);
    }

    #[test]
    fn identity_terms_match_whole_words_and_measure_false_positives() {
        assert!(mentions("I am Gay.", "gay"));
        assert!(!mentions("gayety", "gay"));
        let rows: Vec<AttrExample> = (0..40)
            .map(|i| {
                row(
                    "w",
                    if i % 4 == 0 { 1.0 } else { 0.0 },
                    if i < 20 { "a gay man" } else { "a man" },
                )
            })
            .collect();
        // Subgroup negatives score 0.9 (false positives at 0.8), background negatives 0.1.
        let scored: Vec<ScoredRow> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = if r.labels[TOX] == Some(1.0) {
                    0.95
                } else if i < 20 {
                    0.9
                } else {
                    0.1
                };
                ScoredRow {
                    row: r,
                    probs: probs(p),
                }
            })
            .collect();
        let b = identity_bias(&scored, 0.8, 10);
        assert_eq!(b["gay.false_positive_rate"], 1.0);
        assert_eq!(b["gay.subgroup_auc"], 1.0);
        assert!(b["overall.false_positive_rate"] > 0.4 && b["overall.false_positive_rate"] < 0.6);
        assert!(!b.contains_key("muslim.rows"));
    }
}
