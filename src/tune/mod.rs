//! Threshold tuning: turns a moderator's labelled sample and the model's scores into the
//! per-attribute thresholds file that `analyze` applies. The pipeline is: read the labels
//! ([`labels`]) and the scores ([`scores`]), [`join`] them on the comment id, then for each
//! labelled attribute compute the curve and summary metrics ([`metrics`]), choose a threshold
//! by the objective ([`search`]; a review budget is shared by all attributes, [`budget`]),
//! bound its precision and recall ([`bootstrap`]), and write the thresholds file
//! ([`thresholds`]), the curves and summary ([`report`]) and charts ([`charts`]).
//!
//! Scores are used rounded to 4 decimals ([`rounded_score`]), as the scores CSV shows them
//! and as `analyze` compares them, so the precision and recall reported for a threshold are
//! those of `rounded_score(score) >= threshold`.

pub mod bootstrap;
pub mod budget;
pub mod charts;
pub mod context;
pub mod input;
pub mod labels;
pub mod metrics;
pub mod report;
pub mod scores;
pub mod search;
pub mod thresholds;

use std::path::Path;

use self::bootstrap::Bootstrap;
use self::budget::Combined;
use self::input::Rejection;
use self::labels::LabelledSample;
use self::metrics::{Point, Scored};
use self::scores::{ScoreTable, ToxicityScores};
use self::search::{Choice, Objective};
pub use self::thresholds::{
    rounded_score, Attribute, Threshold, Thresholds, ThresholdsError, DEFAULTS,
};

/// Fewer positives than this makes a tuned threshold rough; the user is warned.
pub const MIN_POSITIVES: u64 = 30;
/// Fewer labelled comments than this makes every estimate rough; the user is warned.
pub const MIN_SAMPLES: u64 = 100;

/// How to tune.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub objective: Objective,
    /// Bootstrap resamples for the confidence intervals; 0 turns them off.
    pub resamples: u32,
    /// Seed of the bootstrap generator; the same seed gives the same intervals.
    pub seed: u64,
}

/// Labels joined with scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// Per labelled attribute, the scored comments (only those that have a score), in the
    /// order of [`Joined::scores`].
    pub samples: Vec<(Attribute, Vec<Scored>)>,
    /// All seven scores of each labelled comment that has a score (for the combined queue).
    pub scores: Vec<ToxicityScores>,
    /// Labelled comments that have a score.
    pub matched: usize,
    /// Labelled comments without a score: located errors in the labels file.
    pub missing_scores: Vec<Rejection>,
    /// Scored comments without a label, as (line in the scores file, id), in line order.
    pub unlabelled: Vec<(u64, String)>,
}

/// Joins labels and scores on the comment id. `scores_name` names the scores source in the
/// messages about labelled comments that have no score.
pub fn join(labels: &LabelledSample, scores: &ScoreTable, scores_name: &str) -> Joined {
    let mut samples: Vec<(Attribute, Vec<Scored>)> =
        labels.attributes.iter().map(|&a| (a, Vec::new())).collect();
    let mut missing_scores = Vec::new();
    let mut all_scores = Vec::new();
    let mut matched = 0;
    let mut labelled = std::collections::HashSet::new();
    for row in &labels.rows {
        labelled.insert(row.id.as_str());
        let Some(score) = scores.rows.get(&row.id) else {
            missing_scores.push(Rejection {
                path: labels.path.clone(),
                line: row.line,
                reason: format!("id '{}' has no score in {scores_name}", row.id),
            });
            continue;
        };
        matched += 1;
        all_scores.push(score.scores);
        for ((attribute, list), &positive) in samples.iter_mut().zip(&row.labels) {
            list.push(Scored {
                score: score.scores.get(*attribute),
                positive,
            });
        }
    }
    let mut unlabelled: Vec<(u64, String)> = scores
        .rows
        .iter()
        .filter(|(id, _)| !labelled.contains(id.as_str()))
        .map(|(id, row)| (row.line, id.clone()))
        .collect();
    unlabelled.sort();
    Joined {
        samples,
        scores: all_scores,
        matched,
        missing_scores,
        unlabelled,
    }
}

/// Everything learnt about one attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeResult {
    pub attribute: Attribute,
    pub samples: u64,
    pub positives: u64,
    /// Confusion counts at every distinct score, highest threshold first.
    pub curve: Vec<Point>,
    /// `None` when undefined (no positives or no negatives).
    pub roc_auc: Option<f64>,
    /// `None` when undefined (no positives).
    pub average_precision: Option<f64>,
    /// The objective the user asked for.
    pub requested: Objective,
    /// Why the attribute keeps its default threshold, e.g. `no positive labels among 40`;
    /// `None` when it was tuned.
    pub not_tuned: Option<String>,
    /// The chosen point; `None` when there is nothing to tune on (no positives or no
    /// negatives).
    pub choice: Option<Choice>,
    /// Intervals at the chosen threshold; `None` when not chosen or turned off.
    pub bootstrap: Option<Bootstrap>,
    /// What the user should know, with the numbers (small sample, fallback…).
    pub warnings: Vec<String>,
}

impl AttributeResult {
    /// The confusion counts at the chosen threshold.
    pub fn chosen(&self) -> Option<&Point> {
        self.choice.as_ref().map(|c| &c.point)
    }

    /// The entry for the thresholds file; `None` when no threshold was chosen.
    pub fn threshold(&self) -> Option<Threshold> {
        let choice = self.choice.as_ref()?;
        let p = &choice.point;
        let round = |v: Option<f64>| v.map(|v| (v * 10_000.0).round() / 10_000.0);
        Some(Threshold {
            threshold: p.threshold,
            objective: Some(choice.used.to_string()),
            precision: round(p.precision()),
            recall: round(p.recall()),
            f1: round(p.f1()),
            samples: Some(self.samples),
            positives: Some(self.positives),
        })
    }
}

/// `n` and the noun, singular or plural: `1 comment`, `2 comments`.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Tunes one attribute on its scored, labelled comments, by itself (a review budget applies
/// to this attribute alone; [`tune`] shares it among attributes).
pub fn tune_attribute(
    attribute: Attribute,
    samples: &[Scored],
    settings: &Settings,
) -> AttributeResult {
    let mut r = prepare(attribute, samples, settings.objective);
    let choice = match r.not_tuned {
        None => search::choose(&r.curve, settings.objective),
        Some(_) => None,
    };
    settle(&mut r, samples, choice, settings);
    r
}

/// What [`tune`] learns from the whole sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// Per labelled attribute, in the sample's attribute order.
    pub results: Vec<AttributeResult>,
    /// The combined queue on the sample under the written thresholds.
    pub combined: Combined,
    /// Warnings about the whole queue (a review budget that cannot be met), with numbers.
    pub warnings: Vec<String>,
}

/// Tunes every labelled attribute. With a review budget, the budget holds for the combined
/// queue `analyze` builds (any attribute at or above its threshold, untuned attributes at
/// their defaults): see [`budget`] for the rule.
pub fn tune(joined: &Joined, settings: &Settings) -> Tuned {
    let mut results: Vec<AttributeResult> = joined
        .samples
        .iter()
        .map(|(a, s)| prepare(*a, s, settings.objective))
        .collect();
    let mut choices: Vec<Option<Choice>> = results
        .iter()
        .map(|r| match (r.not_tuned.as_ref(), settings.objective) {
            (Some(_), _) | (None, Objective::ReviewBudget(_)) => None,
            (None, objective) => search::choose(&r.curve, objective),
        })
        .collect();
    let warnings = match settings.objective {
        Objective::ReviewBudget(per_1000) => {
            share_budget(joined, &mut results, &mut choices, per_1000)
        }
        _ => Vec::new(),
    };
    for ((r, (_, samples)), choice) in results.iter_mut().zip(&joined.samples).zip(choices) {
        settle(r, samples, choice, settings);
    }
    let combined = budget::combined(&joined.scores, &thresholds(&results));
    Tuned {
        results,
        combined,
        warnings,
    }
}

/// Chooses the thresholds of the tunable attributes for a review budget shared by the whole
/// queue ([`budget::allocate`]); returns the warnings about the whole queue.
fn share_budget(
    joined: &Joined,
    results: &mut [AttributeResult],
    choices: &mut [Option<Choice>],
    per_1000: u32,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let tunable: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].not_tuned.is_none())
        .collect();
    let defaults: Vec<Attribute> = Attribute::ALL
        .into_iter()
        .filter(|a| !tunable.iter().any(|&i| results[i].attribute == *a))
        .collect();
    let by_defaults = budget::flagged_by_defaults(&joined.scores, &defaults);
    let lists: Vec<&[Scored]> = tunable
        .iter()
        .map(|&i| joined.samples[i].1.as_slice())
        .collect();
    let alloc = budget::allocate(&by_defaults, &lists, per_1000);
    let used = if alloc.met {
        Objective::ReviewBudget(per_1000)
    } else {
        Objective::FewestFlags
    };
    let n = joined.scores.len() as u64;
    // Nothing flagged at all: one note for the whole queue says why.
    let starved = alloc.met && alloc.flagged == 0 && !tunable.is_empty();
    if starved {
        warnings.push(format!(
            "the review budget of {per_1000} per 1000 allows {:.1} of the {n} comments in the sample, fewer than the highest score of any tuned attribute flags: every tuned threshold is set just above the sample's scores, so nothing is flagged here; a budget this small needs a larger sample",
            f64::from(per_1000) * n as f64 / 1000.0
        ));
    }
    for (k, &i) in tunable.iter().enumerate() {
        let r = &mut results[i];
        choices[i] = Some(match alloc.steps[k] {
            0 => {
                let top = r.curve.first().map_or(0.0, |p| p.threshold);
                // `allocate` takes the first step itself when nothing lies above the top.
                let t = budget::above(top).unwrap_or(1.0);
                if alloc.met && !starved {
                    r.warnings.push(format!(
                        "no part of the review budget went to this attribute: its threshold is set just above its top score in the sample ({t}), so it flags none of these comments"
                    ));
                }
                Choice {
                    index: None,
                    point: metrics::point_at(lists[k], t),
                    used,
                    fallback: None,
                }
            }
            steps => Choice::at(&r.curve, steps - 1, used),
        });
    }
    if !alloc.met {
        let defaults: Vec<String> = defaults
            .iter()
            .map(|a| format!("{a} {}", a.default_threshold()))
            .collect();
        warnings.push(format!(
            "the review budget of {per_1000} per 1000 cannot be met: with every tuned attribute at its fewest flags, the combined queue still holds {} of {n} comments ({:.1} per 1000), {} ({:.1} per 1000) flagged by the attributes left at their defaults ({})",
            alloc.flagged,
            budget::per_1000(alloc.flagged, n),
            alloc.by_defaults,
            budget::per_1000(alloc.by_defaults, n),
            if defaults.is_empty() { "none".to_string() } else { defaults.join(", ") }
        ));
    }
    warnings
}

/// The curve, summary metrics and general warnings of one attribute; no choice yet.
fn prepare(attribute: Attribute, samples: &[Scored], objective: Objective) -> AttributeResult {
    let curve = metrics::curve(samples);
    let n = samples.len() as u64;
    let positives = samples.iter().filter(|s| s.positive).count() as u64;
    let default = attribute.default_threshold();
    let mut warnings = Vec::new();
    let mut not_tuned = None;
    if positives == 0 {
        warnings.push(format!(
            "no positive labels among {}: cannot tune; analyze uses the default {default}",
            count(n, "comment", "comments")
        ));
        not_tuned = Some(format!("no positive labels among {n}"));
    } else if positives == n {
        let all = if n == 1 {
            "the only comment is labelled positive".to_string()
        } else {
            format!("all {n} comments are labelled positive")
        };
        warnings.push(format!(
            "{all}: with no negatives, ROC AUC and precision cannot be judged and any threshold would look perfect; not tuned, analyze uses the default {default}"
        ));
        not_tuned = Some(format!("no negative labels among {n}"));
    }
    if n < MIN_SAMPLES {
        warnings.push(format!(
            "only {} (fewer than {MIN_SAMPLES}): every estimate is rough",
            count(n, "labelled comment", "labelled comments")
        ));
    }
    if not_tuned.is_none() && positives < MIN_POSITIVES {
        warnings.push(format!(
            "only {} among {} (fewer than {MIN_POSITIVES}): the threshold is rough, see the intervals",
            count(positives, "positive", "positives"),
            count(n, "comment", "comments")
        ));
    }
    AttributeResult {
        attribute,
        samples: n,
        positives,
        roc_auc: metrics::roc_auc(&curve),
        average_precision: metrics::average_precision(&curve),
        curve,
        requested: objective,
        not_tuned,
        choice: None,
        bootstrap: None,
        warnings,
    }
}

/// Records the choice, its intervals and what the user should know about it.
fn settle(
    r: &mut AttributeResult,
    samples: &[Scored],
    choice: Option<Choice>,
    settings: &Settings,
) {
    let Some(choice) = choice else { return };
    if let Some(note) = &choice.fallback {
        r.warnings.push(note.clone());
    }
    let p = choice.point;
    let bootstrap = (settings.resamples > 0)
        .then(|| bootstrap::bootstrap(samples, p.threshold, settings.resamples, settings.seed));
    if choice.used == r.requested {
        r.warnings
            .extend(target_warnings(&p, r.requested, bootstrap.as_ref()));
    }
    r.warnings.extend(perfect_score_notes(&p));
    r.choice = Some(choice);
    r.bootstrap = bootstrap;
}

/// The fewest flagged comments (precision target `target`) or positives (recall target)
/// that can support the target: the rule of three says k of k correct gives a 95 % lower
/// bound of 1 − 3/k, which reaches the target at k = 3/(1 − target); and never below 10.
/// `None` for a target of 1, which no sample can confirm.
pub fn support_needed(target: f64) -> Option<u64> {
    (target < 1.0).then(|| ((3.0 / (1.0 - target) - 1e-9).ceil() as u64).max(10))
}

/// Warnings for a precision or recall target met on the sample: its interval reaches below
/// the target, or too few comments carry it.
fn target_warnings(p: &Point, objective: Objective, b: Option<&Bootstrap>) -> Vec<String> {
    let (name, target, value, interval, support, what) = match objective {
        Objective::TargetPrecision(t) => (
            "precision",
            t,
            p.precision(),
            b.and_then(|b| b.precision),
            p.flagged(),
            ("flagged comment", "flagged comments"),
        ),
        Objective::TargetRecall(t) => (
            "recall",
            t,
            p.recall(),
            b.and_then(|b| b.recall),
            p.tp + p.fn_,
            ("positive", "positives"),
        ),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    if let (Some(v), Some(i)) = (value, interval) {
        if i.low < target {
            out.push(format!(
                "{name} {v:.3} meets the target {target} on the sample, but its 95 % interval ({:.2}–{:.2}) reaches below it: on new comments {name} may well be under {target}",
                i.low, i.high
            ));
        }
    }
    match support_needed(target) {
        Some(needed) if support < needed => out.push(format!(
            "the threshold rests on only {}: confirming {name} {target} takes at least {needed} (rule of three, 3/(1 − {target}), and at least 10)",
            count(support, what.0, what.1)
        )),
        None => out.push(format!(
            "the threshold rests on {}: a {name} target of 1 cannot be confirmed by any sample (k of k correct only shows {name} >= 1 − 3/k with 95 % confidence)",
            count(support, what.0, what.1)
        )),
        Some(_) => {}
    }
    out
}

/// A perfect precision or recall on a sample is optimistic, and the bootstrap cannot show it
/// (every resample is perfect too). The rule of three gives the 95 % lower bound 1 − 3/n,
/// which says something only for n > 3.
fn perfect_score_notes(p: &Point) -> Vec<String> {
    let bound = |n: u64| 1.0 - 3.0 / n as f64;
    let mut notes = Vec::new();
    if p.fp == 0 && p.flagged() > 3 && p.tn > 0 {
        notes.push(format!(
            "no false positive among the {} flagged comments: precision is likely below 1, at least {:.2} with 95 % confidence (rule of three)",
            p.flagged(),
            bound(p.flagged())
        ));
    }
    let positives = p.tp + p.fn_;
    if p.fn_ == 0 && positives > 3 && p.tn > 0 {
        notes.push(format!(
            "no positive missed among {positives}: recall is likely below 1, at least {:.2} with 95 % confidence (rule of three)",
            bound(positives)
        ));
    }
    notes
}

/// The thresholds file for the tuned attributes.
pub fn thresholds(results: &[AttributeResult]) -> Thresholds {
    let mut out = Thresholds::default();
    for r in results {
        out.set(r.attribute, r.threshold());
    }
    out
}

/// The file next to `output` with `suffix` replacing its extension:
/// `out/thresholds.toml` + `curves.csv` → `out/thresholds.curves.csv`.
pub fn sibling(output: &Path, suffix: &str) -> std::path::PathBuf {
    let stem = output
        .file_stem()
        .map_or_else(|| "thresholds".into(), |s| s.to_string_lossy().into_owned());
    output.with_file_name(format!("{stem}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::labels::LabelledRow;
    use crate::tune::scores::{ScoreRow, ToxicityScores};

    #[test]
    fn join_reports_both_directions_and_scores_flag_as_the_maximum() {
        let labels = LabelledSample {
            path: "labels.csv".into(),
            attributes: vec![Attribute::Insult, Attribute::Flag],
            rows: vec![
                LabelledRow {
                    line: 2,
                    id: "a".into(),
                    text: String::new(),
                    labels: vec![true, true],
                    parent_id: None,
                    author: None,
                },
                LabelledRow {
                    line: 3,
                    id: "b".into(),
                    text: String::new(),
                    labels: vec![false, false],
                    parent_id: None,
                    author: None,
                },
            ],
            has_text: false,
            has_parent: false,
            has_author: false,
            ignored_columns: vec![],
            rejected: vec![],
            superseded: Vec::new(),
        };
        let mut scores = ScoreTable::default();
        let row = |line, s| ScoreRow {
            line,
            scores: ToxicityScores(s),
        };
        scores
            .rows
            .insert("a".into(), row(5, [0.1, 0.6, 0.2, 0.5, 0.3, 0.4, 0.9]));
        scores.rows.insert("z".into(), row(4, [0.0; 7]));
        scores.rows.insert("y".into(), row(2, [0.0; 7]));
        let j = join(&labels, &scores, "s.csv");
        assert_eq!(j.matched, 1);
        assert_eq!(
            j.samples[0],
            (
                Attribute::Insult,
                vec![Scored {
                    score: 0.6,
                    positive: true
                }]
            )
        );
        assert_eq!(
            j.samples[1],
            (
                Attribute::Flag,
                vec![Scored {
                    score: 0.9,
                    positive: true
                }]
            )
        );
        assert_eq!(
            j.missing_scores[0].to_string(),
            "labels.csv: line 3: id 'b' has no score in s.csv"
        );
        assert_eq!(j.unlabelled, [(2, "y".to_string()), (4, "z".to_string())]);
    }

    #[test]
    fn all_negative_attribute_is_not_tuned_and_says_why() {
        let s = vec![
            Scored {
                score: 0.4,
                positive: false
            };
            200
        ];
        let settings = Settings {
            objective: Objective::MaxF1,
            resamples: 100,
            seed: 1,
        };
        let r = tune_attribute(Attribute::Threat, &s, &settings);
        assert_eq!(
            (
                r.roc_auc,
                r.average_precision,
                r.choice.clone(),
                r.bootstrap
            ),
            (None, None, None, None)
        );
        assert_eq!(r.threshold(), None);
        assert_eq!(
            r.warnings,
            [format!(
                "no positive labels among 200 comments: cannot tune; analyze uses the default {}",
                Attribute::Threat.default_threshold()
            )]
        );
        assert_eq!(thresholds(&[r]), Thresholds::default());
    }

    #[test]
    fn small_samples_warn_with_the_numbers() {
        let s: Vec<Scored> = (0..50)
            .map(|i| Scored {
                score: i as f64 / 50.0,
                positive: i >= 40,
            })
            .collect();
        let settings = Settings {
            objective: Objective::MaxF1,
            resamples: 0,
            seed: 1,
        };
        let r = tune_attribute(Attribute::Insult, &s, &settings);
        assert_eq!(r.warnings, [
            "only 50 labelled comments (fewer than 100): every estimate is rough",
            "only 10 positives among 50 comments (fewer than 30): the threshold is rough, see the intervals",
            "no false positive among the 10 flagged comments: precision is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
            "no positive missed among 10: recall is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
        ]);
        let t = r.threshold().unwrap();
        assert_eq!(
            (t.threshold, t.precision, t.recall, t.f1),
            (0.8, Some(1.0), Some(1.0), Some(1.0))
        );
        assert_eq!(r.roc_auc, Some(1.0));
        assert_eq!(r.bootstrap, None);
    }

    /// 200 comments scored i/200; the 10 with i >= 190 are positive, and those in `extra`.
    fn two_hundred(extra: &[usize]) -> Vec<Scored> {
        (0..200)
            .map(|i| Scored {
                score: i as f64 / 200.0,
                positive: i >= 190 || extra.contains(&i),
            })
            .collect()
    }

    fn settings(objective: Objective, resamples: u32) -> Settings {
        Settings {
            objective,
            resamples,
            seed: 7,
        }
    }

    /// Warnings follow the objective. Expected points worked by hand on [`two_hundred`]:
    /// precision 0.9 → lowest threshold with precision >= 0.9 is 0.945 (i = 189, a negative:
    /// 10 of 11 flagged, 0.909); recall 0.8 → highest threshold with 8 of 10 positives is
    /// 0.96; precision 1 → 0.95 (10 of 10). Needed support: max(10, ⌈3/(1 − t)⌉) = 30 for
    /// 0.9, 15 for 0.8.
    #[test]
    fn warnings_depend_on_the_objective_and_give_numbers() {
        let few = "only 10 positives among 200 comments (fewer than 30): the threshold is rough, see the intervals";
        #[rustfmt::skip]
        let cases: Vec<(Objective, f64, Vec<&str>)> = vec![
            (Objective::MaxF1, 0.95, vec![
                few,
                "no false positive among the 10 flagged comments: precision is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
                "no positive missed among 10: recall is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
            ]),
            (Objective::TargetPrecision(0.9), 0.945, vec![
                few,
                "the threshold rests on only 11 flagged comments: confirming precision 0.9 takes at least 30 (rule of three, 3/(1 − 0.9), and at least 10)",
                "no positive missed among 10: recall is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
            ]),
            (Objective::TargetRecall(0.8), 0.96, vec![
                few,
                "the threshold rests on only 10 positives: confirming recall 0.8 takes at least 15 (rule of three, 3/(1 − 0.8), and at least 10)",
                "no false positive among the 8 flagged comments: precision is likely below 1, at least 0.62 with 95 % confidence (rule of three)",
            ]),
            (Objective::TargetPrecision(1.0), 0.95, vec![
                few,
                "the threshold rests on 10 flagged comments: a precision target of 1 cannot be confirmed by any sample (k of k correct only shows precision >= 1 − 3/k with 95 % confidence)",
                "no false positive among the 10 flagged comments: precision is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
                "no positive missed among 10: recall is likely below 1, at least 0.70 with 95 % confidence (rule of three)",
            ]),
        ];
        for (objective, threshold, want) in cases {
            let r = tune_attribute(
                Attribute::Insult,
                &two_hundred(&[]),
                &settings(objective, 0),
            );
            assert_eq!(
                r.chosen().map(|p| p.threshold),
                Some(threshold),
                "{objective}"
            );
            assert_eq!(r.warnings, want, "{objective}");
        }
    }

    #[test]
    fn a_target_whose_interval_reaches_below_it_is_flagged() {
        let r = tune_attribute(
            Attribute::Insult,
            &two_hundred(&[]),
            &settings(Objective::TargetPrecision(0.9), 500),
        );
        // 0.945 flags 11 with one negative (189 is not positive here): 10/11 = 0.909.
        assert_eq!(
            r.chosen().map(|p| (p.threshold, p.tp, p.fp)),
            Some((0.945, 10, 1))
        );
        let low = r.bootstrap.unwrap().precision.unwrap().low;
        assert!(low < 0.9, "{low}");
        let want = format!(
            "precision 0.909 meets the target 0.9 on the sample, but its 95 % interval ({low:.2}–"
        );
        assert!(
            r.warnings.iter().any(|w| w.starts_with(&want)),
            "{:?}",
            r.warnings
        );
        // Max F1 does not promise a precision: no such warning.
        let r = tune_attribute(
            Attribute::Insult,
            &two_hundred(&[]),
            &settings(Objective::MaxF1, 500),
        );
        assert!(
            !r.warnings.iter().any(|w| w.contains("meets the target")),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn tiny_and_one_class_samples_read_correctly() {
        let s = |rows: &[(f64, bool)]| -> Vec<Scored> {
            rows.iter()
                .map(|&(score, positive)| Scored { score, positive })
                .collect()
        };
        let max_f1 = settings(Objective::MaxF1, 0);
        // Three comments, one positive: no rule-of-three note (it said "at least 0.00").
        let r = tune_attribute(
            Attribute::Insult,
            &s(&[(0.9, true), (0.5, false), (0.2, false)]),
            &max_f1,
        );
        assert_eq!(r.warnings, [
            "only 3 labelled comments (fewer than 100): every estimate is rough",
            "only 1 positive among 3 comments (fewer than 30): the threshold is rough, see the intervals",
        ]);
        // Regression: an all-positive sample wrote its lowest score, so analyze flagged all.
        let r = tune_attribute(Attribute::Toxicity, &s(&[(0.3, true)]), &max_f1);
        assert_eq!(
            (r.threshold(), r.not_tuned.as_deref()),
            (None, Some("no negative labels among 1"))
        );
        assert_eq!(r.warnings, [
            format!("the only comment is labelled positive: with no negatives, ROC AUC and precision cannot be judged and any threshold would look perfect; not tuned, analyze uses the default {}", Attribute::Toxicity.default_threshold()),
            "only 1 labelled comment (fewer than 100): every estimate is rough".to_string(),
        ]);
        let all: Vec<Scored> = (0..40)
            .map(|i| Scored {
                score: i as f64 / 40.0,
                positive: true,
            })
            .collect();
        let r = tune_attribute(
            Attribute::Toxicity,
            &all,
            &settings(Objective::TargetRecall(0.5), 100),
        );
        assert_eq!(
            (r.choice.clone(), r.bootstrap, r.threshold()),
            (None, None, None)
        );
        assert_eq!(r.warnings[0], format!("all 40 comments are labelled positive: with no negatives, ROC AUC and precision cannot be judged and any threshold would look perfect; not tuned, analyze uses the default {}", Attribute::Toxicity.default_threshold()));
        let r = tune_attribute(Attribute::Threat, &s(&[(0.3, false)]), &max_f1);
        assert_eq!(
            r.warnings[0],
            format!(
                "no positive labels among 1 comment: cannot tune; analyze uses the default {}",
                Attribute::Threat.default_threshold()
            )
        );
    }

    /// Ten comments labelled for insult only, scored .99 .95 .7 .6 … .1, .05 with labels
    /// 1 1 0 1 0 0 0 0 0 0; comment 0 also has toxicity at its default. The untuned
    /// attributes keep their defaults: toxicity flags comment 0, and flag (the maximum of the
    /// seven scores) flags comment 1 too where its default is at most 0.95, so the queue
    /// starts as {0} or {0, 1} (`by_defaults()`). By hand, budget 300 (3 of 10): insult .99
    /// and .95 add at most comment 1 (+1 positive each), .7 adds comment 2 → 3 queued; .6
    /// would make 4. Insult ends at 0.7: tp 2, fp 1.
    fn insult_only() -> Joined {
        let insult = [0.99, 0.95, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
        let labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0];
        let toxic = Attribute::Toxicity.default_threshold();
        let flag = Attribute::Flag.default_threshold();
        // What the hand count above rests on: comments 2 and later stay under the flag
        // default, and their toxicity (0.1) under toxicity's.
        assert!(insult[2] < flag && 0.1 < toxic, "{toxic} {flag}");
        let scores: Vec<ToxicityScores> = insult
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let toxicity = if i == 0 { toxic } else { 0.1 };
                ToxicityScores([toxicity, v, 0.0, 0.0, 0.0, 0.0, 0.0])
            })
            .collect();
        Joined {
            samples: vec![(
                Attribute::Insult,
                insult
                    .iter()
                    .zip(labels)
                    .map(|(&score, l)| Scored {
                        score,
                        positive: l == 1,
                    })
                    .collect(),
            )],
            scores,
            matched: 10,
            missing_scores: vec![],
            unlabelled: vec![],
        }
    }

    /// How many of `insult_only`'s comments the defaults alone flag: comment 0 (toxicity at
    /// its default), and comment 1 when insult .95 reaches the flag default.
    fn by_defaults() -> u64 {
        1 + u64::from(0.95 >= Attribute::Flag.default_threshold())
    }

    #[test]
    fn a_review_budget_holds_for_the_combined_queue() {
        let t = tune(&insult_only(), &settings(Objective::ReviewBudget(300), 0));
        let r = &t.results[0];
        assert_eq!(
            r.chosen().map(|p| (p.threshold, p.tp, p.fp)),
            Some((0.7, 2, 1))
        );
        assert_eq!(
            r.threshold().and_then(|t| t.objective),
            Some("review-budget 300 per 1000".into())
        );
        assert_eq!(
            (
                t.combined.flagged,
                t.combined.by_defaults,
                t.combined.per_1000()
            ),
            (3, by_defaults(), 300.0)
        );
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn a_budget_the_defaults_alone_exceed_says_so_with_the_numbers() {
        let t = tune(&insult_only(), &settings(Objective::ReviewBudget(50), 0));
        let d = Attribute::default_threshold;
        let n = by_defaults();
        let per = n as f64 * 100.0;
        assert_eq!(t.warnings, [format!(
            "the review budget of 50 per 1000 cannot be met: with every tuned attribute at its fewest flags, the combined queue still holds {n} of 10 comments ({per:.1} per 1000), {n} ({per:.1} per 1000) flagged by the attributes left at their defaults (toxicity {}, threat {}, obscene {}, identity_attack {}, severe_toxicity {}, sexual_explicit {}, flag {})",
            d(Attribute::Toxicity),
            d(Attribute::Threat),
            d(Attribute::Obscene),
            d(Attribute::IdentityAttack),
            d(Attribute::SevereToxicity),
            d(Attribute::SexualExplicit),
            d(Attribute::Flag),
        )]);
        let r = &t.results[0];
        let c = r.choice.as_ref().unwrap();
        assert_eq!(
            (c.index, c.point.threshold, c.point.flagged(), c.used),
            (None, 0.9901, 0, Objective::FewestFlags)
        );
        assert_eq!(r.threshold().map(|t| t.threshold), Some(0.9901));
        assert_eq!(t.combined.flagged, n);
    }

    #[test]
    fn sibling_files_sit_next_to_the_output() {
        assert_eq!(
            sibling(Path::new("out/t.toml"), "curves.csv"),
            Path::new("out/t.curves.csv")
        );
        assert_eq!(
            sibling(Path::new("thresholds"), "md"),
            Path::new("thresholds.md")
        );
    }
}
