//! Threshold tuning: turns a moderator's labelled sample and the model's scores into the
//! per-attribute thresholds file that `analyze` applies. The pipeline is: read the labels
//! ([`labels`]) and the scores ([`scores`]), [`join`] them on the comment id, then for each
//! labelled attribute compute the curve and summary metrics ([`metrics`]), choose a threshold
//! by the objective ([`search`]), bound its precision and recall ([`bootstrap`]), and write
//! the thresholds file ([`thresholds`]), the curves and summary ([`report`]) and charts
//! ([`charts`]).

pub mod bootstrap;
pub mod charts;
pub mod input;
pub mod labels;
pub mod metrics;
pub mod report;
pub mod scores;
pub mod search;
pub mod thresholds;

use std::path::Path;

use self::bootstrap::Bootstrap;
use self::input::Rejection;
use self::labels::LabelledSample;
use self::metrics::{Point, Scored};
use self::scores::ScoreTable;
use self::search::{Choice, Objective};
pub use self::thresholds::{Attribute, Threshold, Thresholds, ThresholdsError, DEFAULTS};

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
    /// Per labelled attribute, the scored comments (only those that have a score).
    pub samples: Vec<(Attribute, Vec<Scored>)>,
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
    /// The chosen point; `None` when there is nothing to tune on (no positives).
    pub choice: Option<Choice>,
    /// Intervals at the chosen threshold; `None` when not chosen or turned off.
    pub bootstrap: Option<Bootstrap>,
    /// What the user should know, with the numbers (small sample, fallback…).
    pub warnings: Vec<String>,
}

impl AttributeResult {
    /// The chosen point on the curve.
    pub fn chosen(&self) -> Option<&Point> {
        self.choice.as_ref().and_then(|c| self.curve.get(c.index))
    }

    /// The entry for the thresholds file; `None` when no threshold was chosen.
    pub fn threshold(&self) -> Option<Threshold> {
        let choice = self.choice.as_ref()?;
        let p = self.curve.get(choice.index)?;
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

/// Tunes one attribute on its scored, labelled comments.
pub fn tune_attribute(
    attribute: Attribute,
    samples: &[Scored],
    settings: &Settings,
) -> AttributeResult {
    let curve = metrics::curve(samples);
    let n = samples.len() as u64;
    let positives = samples.iter().filter(|s| s.positive).count() as u64;
    let mut warnings = Vec::new();
    if positives == 0 {
        warnings.push(format!(
            "no positive labels among {n} comments: cannot tune; analyze uses the default {}",
            attribute.default_threshold()
        ));
    } else if positives == n {
        warnings.push(format!(
            "all {n} comments are labelled positive: ROC AUC is undefined and precision cannot be judged"
        ));
    }
    if n < MIN_SAMPLES {
        warnings.push(format!(
            "only {n} labelled comments (fewer than {MIN_SAMPLES}): every estimate is rough"
        ));
    }
    if positives > 0 && positives < MIN_POSITIVES {
        warnings.push(format!(
            "only {positives} positives among {n} comments (fewer than {MIN_POSITIVES}): the threshold is rough, see the intervals"
        ));
    }
    let choice = search::choose(&curve, settings.objective);
    if let Some(note) = choice.as_ref().and_then(|c| c.fallback.clone()) {
        warnings.push(note);
    }
    let chosen = choice.as_ref().and_then(|c| curve.get(c.index));
    if let Some(p) = chosen {
        warnings.extend(perfect_score_notes(p));
    }
    let threshold = chosen.map(|p| p.threshold);
    let bootstrap = threshold
        .filter(|_| settings.resamples > 0)
        .map(|t| bootstrap::bootstrap(samples, t, settings.resamples, settings.seed));
    AttributeResult {
        attribute,
        samples: n,
        positives,
        roc_auc: metrics::roc_auc(&curve),
        average_precision: metrics::average_precision(&curve),
        curve,
        requested: settings.objective,
        choice,
        bootstrap,
        warnings,
    }
}

/// A perfect precision or recall on a sample is optimistic, and the bootstrap cannot show it
/// (every resample is perfect too). The rule of three gives the 95 % lower bound 1 − 3/n.
fn perfect_score_notes(p: &Point) -> Vec<String> {
    let bound = |n: u64| (1.0 - 3.0 / n as f64).max(0.0);
    let mut notes = Vec::new();
    if p.fp == 0 && p.flagged() > 0 && p.tn > 0 {
        notes.push(format!(
            "no false positive among the {} flagged comments: precision is likely below 1, at least {:.2} with 95 % confidence (rule of three)",
            p.flagged(),
            bound(p.flagged())
        ));
    }
    let positives = p.tp + p.fn_;
    if p.fn_ == 0 && positives > 0 && p.tn > 0 {
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
                },
                LabelledRow {
                    line: 3,
                    id: "b".into(),
                    text: String::new(),
                    labels: vec![false, false],
                },
            ],
            has_text: false,
            ignored_columns: vec![],
            rejected: vec![],
        };
        let mut scores = ScoreTable::default();
        let row = |line, s| ScoreRow {
            line,
            scores: ToxicityScores(s),
        };
        scores
            .rows
            .insert("a".into(), row(5, [0.1, 0.6, 0.2, 0.9, 0.3]));
        scores.rows.insert("z".into(), row(4, [0.0; 5]));
        scores.rows.insert("y".into(), row(2, [0.0; 5]));
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
            ["no positive labels among 200 comments: cannot tune; analyze uses the default 0.7"]
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
