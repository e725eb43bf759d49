//! Classification metrics over scored, labelled comments, as pure functions: the confusion
//! counts at every distinct score, ROC AUC and average precision. Definitions follow
//! scikit-learn (`roc_auc_score`, `average_precision_score`, `precision_recall_curve`) so the
//! numbers can be checked against it; undefined values are `None`, never NaN.

/// One labelled comment with its score for the attribute being tuned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The model's score, in [0, 1].
    pub score: f64,
    /// Whether the moderator labelled the comment positive (1).
    pub positive: bool,
}

/// The confusion counts when flagging every comment whose score is >= `threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// A distinct score from the sample.
    pub threshold: f64,
    /// Flagged and labelled positive.
    pub tp: u64,
    /// Flagged but labelled negative.
    pub fp: u64,
    /// Not flagged but labelled positive.
    pub fn_: u64,
    /// Not flagged and labelled negative.
    pub tn: u64,
}

impl Point {
    /// Comments flagged at this threshold.
    pub fn flagged(&self) -> u64 {
        self.tp + self.fp
    }

    /// All comments in the sample.
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.fn_ + self.tn
    }

    /// tp / (tp + fp); `None` when nothing is flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// tp / (tp + fn), the true-positive rate; `None` when there are no positives.
    pub fn recall(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// fp / (fp + tn), the false-positive rate; `None` when there are no negatives.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.fp + self.tn)
    }

    /// 2·tp / (2·tp + fp + fn), the harmonic mean of precision and recall; 0 when tp is 0.
    pub fn f1(&self) -> Option<f64> {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Flagged comments per 1,000 in the sample.
    pub fn flagged_per_1000(&self) -> f64 {
        ratio(self.flagged() * 1000, self.total()).unwrap_or(0.0)
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// The confusion counts at every distinct score, highest threshold first. Tied scores form
/// one point (they are flagged together). Empty input gives an empty curve.
pub fn curve(samples: &[Scored]) -> Vec<Point> {
    let mut sorted: Vec<Scored> = samples.to_vec();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let positives = sorted.iter().filter(|s| s.positive).count() as u64;
    let negatives = sorted.len() as u64 - positives;
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut points = Vec::new();
    for (i, s) in sorted.iter().enumerate() {
        if s.positive {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = sorted.get(i + 1).is_none_or(|next| next.score != s.score);
        if last_of_group {
            points.push(Point {
                threshold: s.score,
                tp,
                fp,
                fn_: positives - tp,
                tn: negatives - fp,
            });
        }
    }
    points
}

/// Area under the ROC curve (trapezoidal, so ties count one half, as scikit-learn's
/// `roc_auc_score`). `None` when the sample has no positives or no negatives.
pub fn roc_auc(curve: &[Point]) -> Option<f64> {
    let last = curve.last()?;
    let (positives, negatives) = (last.tp + last.fn_, last.fp + last.tn);
    if positives == 0 || negatives == 0 {
        return None;
    }
    let (mut area, mut prev_tp, mut prev_fp) = (0.0, 0u64, 0u64);
    for p in curve {
        // Trapezoid between consecutive points, in counts; normalised at the end.
        area += (p.fp - prev_fp) as f64 * (p.tp + prev_tp) as f64 / 2.0;
        (prev_tp, prev_fp) = (p.tp, p.fp);
    }
    Some(area / (positives as f64 * negatives as f64))
}

/// Average precision, the step-wise area under the precision–recall curve used by
/// scikit-learn's `average_precision_score`: Σ (Rₙ − Rₙ₋₁)·Pₙ over the distinct scores,
/// highest first, with R₀ = 0. `None` when the sample has no positives.
pub fn average_precision(curve: &[Point]) -> Option<f64> {
    let last = curve.last()?;
    let positives = last.tp + last.fn_;
    if positives == 0 {
        return None;
    }
    let (mut ap, mut prev_tp) = (0.0, 0u64);
    for p in curve {
        let precision = p.precision().unwrap_or(0.0);
        ap += (p.tp - prev_tp) as f64 / positives as f64 * precision;
        prev_tp = p.tp;
    }
    Some(ap)
}

/// The confusion counts at an arbitrary threshold (flag when score >= threshold).
pub fn point_at(samples: &[Scored], threshold: f64) -> Point {
    let mut p = Point {
        threshold,
        tp: 0,
        fp: 0,
        fn_: 0,
        tn: 0,
    };
    for s in samples {
        match (s.score >= threshold, s.positive) {
            (true, true) => p.tp += 1,
            (true, false) => p.fp += 1,
            (false, true) => p.fn_ += 1,
            (false, false) => p.tn += 1,
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(labels: &[u8], scores: &[f64]) -> Vec<Scored> {
        labels
            .iter()
            .zip(scores)
            .map(|(&l, &score)| Scored {
                score,
                positive: l == 1,
            })
            .collect()
    }

    fn close(got: Option<f64>, want: Option<f64>) -> bool {
        match (got, want) {
            (Some(g), Some(w)) => (g - w).abs() < 1e-12,
            (None, None) => true,
            _ => false,
        }
    }

    /// name, labels, scores, expected ROC AUC, expected average precision.
    type Case = (
        &'static str,
        &'static [u8],
        &'static [f64],
        Option<f64>,
        Option<f64>,
    );

    /// Expected values from scikit-learn 1.9.1 (`python3 -m venv /tmp/skl &&
    /// /tmp/skl/bin/pip install scikit-learn`), printed by:
    ///
    /// ```python
    /// from sklearn.metrics import roc_auc_score, average_precision_score
    /// for y, s in CASES:
    ///     print(repr(roc_auc_score(y, s)), repr(average_precision_score(y, s)))
    /// ```
    ///
    /// where `CASES` holds the labels and scores below. `None` rows: with one class only,
    /// sklearn warns and returns `nan` for ROC AUC, and warns "No positive class found in
    /// y_true" and returns 0.0 for average precision; both are undefined here.
    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // name, labels, scores, roc_auc, average_precision
        ("sklearn doc example", &[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8],
            Some(0.75), Some(0.8333333333333333)),
        ("perfect ranking", &[0, 0, 1, 1], &[0.1, 0.2, 0.8, 0.9], Some(1.0), Some(1.0)),
        ("inverted ranking", &[1, 1, 0, 0], &[0.1, 0.2, 0.8, 0.9], Some(0.0), Some(0.41666666666666663)),
        ("all scores tied", &[0, 1, 0, 1, 1], &[0.5, 0.5, 0.5, 0.5, 0.5], Some(0.5), Some(0.6)),
        ("ties across classes", &[0, 1, 1, 0, 1, 0, 0, 1],
            &[0.2, 0.2, 0.7, 0.7, 0.7, 0.1, 0.9, 0.4],
            Some(0.53125), Some(0.5428571428571428)),
        ("ten mixed", &[1, 0, 1, 1, 0, 0, 1, 0, 0, 1],
            &[0.95, 0.9, 0.85, 0.6, 0.6, 0.4, 0.35, 0.3, 0.2, 0.05],
            Some(0.5800000000000001), Some(0.6676190476190476)),
        ("single positive", &[0, 0, 1, 0], &[0.3, 0.6, 0.5, 0.1],
            Some(0.6666666666666666), Some(0.5)),
        ("all positive", &[1, 1, 1], &[0.2, 0.5, 0.9], None, Some(1.0)),
        ("all negative", &[0, 0, 0], &[0.2, 0.5, 0.9], None, None),
        ("empty", &[], &[], None, None),
    ];

    #[test]
    fn roc_auc_and_average_precision_match_scikit_learn() {
        for &(name, labels, scores, want_auc, want_ap) in CASES {
            let c = curve(&samples(labels, scores));
            let (auc, ap) = (roc_auc(&c), average_precision(&c));
            assert!(
                close(auc, want_auc),
                "{name}: roc_auc {auc:?}, want {want_auc:?}"
            );
            assert!(
                close(ap, want_ap),
                "{name}: average_precision {ap:?}, want {want_ap:?}"
            );
        }
    }

    /// Expected from scikit-learn's `precision_recall_curve` (reversed to highest threshold
    /// first, without its final (recall 0, precision 1) point):
    ///
    /// ```python
    /// from sklearn.metrics import precision_recall_curve
    /// p, r, t = precision_recall_curve([0, 1, 1, 0, 1, 0, 0, 1],
    ///                                  [0.2, 0.2, 0.7, 0.7, 0.7, 0.1, 0.9, 0.4])
    /// print(t[::-1], p[:-1][::-1], r[:-1][::-1])
    /// # [0.9 0.7 0.4 0.2 0.1] [0. 0.5 0.6 0.57142857 0.5] [0. 0.5 0.75 1. 1.]
    /// ```
    #[test]
    fn curve_groups_ties_and_matches_precision_recall_curve() {
        let c = curve(&samples(
            &[0, 1, 1, 0, 1, 0, 0, 1],
            &[0.2, 0.2, 0.7, 0.7, 0.7, 0.1, 0.9, 0.4],
        ));
        let thresholds: Vec<f64> = c.iter().map(|p| p.threshold).collect();
        assert_eq!(thresholds, [0.9, 0.7, 0.4, 0.2, 0.1]);
        let precision: Vec<f64> = c.iter().map(|p| p.precision().unwrap()).collect();
        let want_p = [0.0, 0.5, 0.6, 0.5714285714285714, 0.5];
        let recall: Vec<f64> = c.iter().map(|p| p.recall().unwrap()).collect();
        for (g, w) in precision.iter().zip(want_p) {
            assert!((g - w).abs() < 1e-12, "{precision:?}");
        }
        assert_eq!(recall, [0.0, 0.5, 0.75, 1.0, 1.0]);
        // Hand-computed: at 0.7, tp 2 fp 2 fn 2 → F1 = 4 / (4 + 2 + 2).
        assert_eq!(c[1].f1(), Some(0.5));
        assert_eq!(
            c[1],
            Point {
                threshold: 0.7,
                tp: 2,
                fp: 2,
                fn_: 2,
                tn: 2
            }
        );
        assert_eq!(c[1].flagged_per_1000(), 500.0);
        assert_eq!(c[0].f1(), Some(0.0));
        assert_eq!(
            point_at(&samples(&[0, 1, 1], &[0.7, 0.7, 0.69]), 0.7).flagged(),
            2
        );
    }

    #[test]
    fn undefined_ratios_are_none_not_nan() {
        let all_negative = curve(&samples(&[0, 0], &[0.1, 0.1]));
        assert_eq!(all_negative.len(), 1);
        assert_eq!(all_negative[0].recall(), None);
        assert_eq!(all_negative[0].f1(), Some(0.0));
        let nothing = Point {
            threshold: 1.0,
            tp: 0,
            fp: 0,
            fn_: 0,
            tn: 0,
        };
        assert_eq!(
            (
                nothing.precision(),
                nothing.recall(),
                nothing.fpr(),
                nothing.f1()
            ),
            (None, None, None, None)
        );
        assert_eq!(nothing.flagged_per_1000(), 0.0);
        assert!(curve(&[]).is_empty());
    }
}
