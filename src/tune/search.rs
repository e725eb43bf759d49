//! Choosing a threshold on one attribute's curve by the moderator's objective: best F1, a
//! precision or recall target, or a review budget for that attribute alone (`tune` shares a
//! budget across attributes with [`super::budget`]). When a target cannot be met the search
//! says so and falls back explicitly, rather than returning a threshold that silently misses
//! it: to the best F1 for a precision or recall target, to the fewest flags for a budget.

use std::fmt;

use super::metrics::Point;

/// Slack for comparing a computed ratio with a target typed by a person (0.9 vs 9/10).
const EPS: f64 = 1e-9;

/// What the threshold should optimise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// The threshold with the highest F1 (the highest such threshold when tied).
    MaxF1,
    /// The lowest threshold whose precision is >= P, i.e. the best recall at that precision.
    TargetPrecision(f64),
    /// The highest threshold whose recall is >= R, i.e. the fewest flags at that recall.
    TargetRecall(f64),
    /// The lowest threshold that flags at most N comments per 1,000 of the sample.
    ReviewBudget(u32),
    /// Not chosen by the user: what a review budget falls back to when it cannot be met, the
    /// highest threshold (fewest flags).
    FewestFlags,
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::MaxF1 => write!(f, "max-f1"),
            Objective::TargetPrecision(p) => write!(f, "target-precision {p}"),
            Objective::TargetRecall(r) => write!(f, "target-recall {r}"),
            Objective::ReviewBudget(n) => write!(f, "review-budget {n} per 1000"),
            Objective::FewestFlags => write!(f, "fewest-flags"),
        }
    }
}

/// The chosen point on a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Index into the curve; `None` when the threshold lies above every score of the sample
    /// (a shared review budget gave the attribute nothing to flag).
    pub index: Option<usize>,
    /// The confusion counts at the chosen threshold.
    pub point: Point,
    /// The objective actually used: the requested one, or the fallback's.
    pub used: Objective,
    /// Why the requested objective could not be met and what was done instead.
    pub fallback: Option<String>,
}

impl Choice {
    /// The point at `curve[index]`, chosen by `used`.
    pub fn at(curve: &[Point], index: usize, used: Objective) -> Choice {
        Choice {
            index: Some(index),
            point: curve[index],
            used,
            fallback: None,
        }
    }
}

/// Chooses a point on `curve` (highest threshold first, as [`super::metrics::curve`] makes
/// it). `None` when the curve is empty or the sample has no positives or no negatives: with
/// one class only, every threshold is as good as any other on the sample.
pub fn choose(curve: &[Point], objective: Objective) -> Option<Choice> {
    let last = curve.last()?;
    if last.tp + last.fn_ == 0 || last.fp + last.tn == 0 {
        return None;
    }
    let chosen = |index| Some(Choice::at(curve, index, objective));
    match objective {
        Objective::MaxF1 => chosen(max_f1(curve)),
        Objective::TargetPrecision(target) => {
            let reached = curve
                .iter()
                .rposition(|p| p.precision().is_some_and(|v| v + EPS >= target));
            match reached {
                Some(i) => chosen(i),
                None => {
                    let best = curve
                        .iter()
                        .filter_map(Point::precision)
                        .fold(0.0, f64::max);
                    to_max_f1(
                        curve,
                        format!(
                            "precision {target} is not reached at any threshold (best {best:.3})"
                        ),
                    )
                }
            }
        }
        Objective::TargetRecall(target) => {
            // Recall reaches 1 at the lowest threshold, so this is only unmet for targets > 1.
            match curve
                .iter()
                .position(|p| p.recall().is_some_and(|v| v + EPS >= target))
            {
                Some(i) => chosen(i),
                None => to_max_f1(curve, format!("recall {target} is not reachable")),
            }
        }
        Objective::ReviewBudget(per_1000) => {
            let within = |p: &Point| p.flagged() * 1000 <= u64::from(per_1000) * p.total();
            match curve.iter().rposition(within) {
                Some(i) => chosen(i),
                None => Some(Choice {
                    fallback: Some(format!(
                        "even the highest threshold ({}) flags {:.1} per 1000, over the budget of {per_1000}; fell back to the fewest flags",
                        curve[0].threshold,
                        curve[0].flagged_per_1000()
                    )),
                    ..Choice::at(curve, 0, Objective::FewestFlags)
                }),
            }
        }
        Objective::FewestFlags => chosen(0),
    }
}

fn to_max_f1(curve: &[Point], why: String) -> Option<Choice> {
    Some(Choice {
        fallback: Some(format!("{why}; fell back to max-f1")),
        ..Choice::at(curve, max_f1(curve), Objective::MaxF1)
    })
}

/// Index of the highest F1; ties go to the highest threshold (fewest flags).
fn max_f1(curve: &[Point]) -> usize {
    let mut best = (0, -1.0);
    for (i, p) in curve.iter().enumerate() {
        let f1 = p.f1().unwrap_or(0.0);
        if f1 > best.1 {
            best = (i, f1);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::metrics::{curve, Scored};

    /// Ten comments, highest score first; labels 1 0 1 1 0 0 1 0 0 1 (5 positives).
    /// Hand-computed per distinct threshold (tp, fp → precision, recall, F1):
    /// 0.95: 1,0 → 1.00, 0.2, 0.333 | 0.90: 1,1 → 0.50, 0.2, 0.286
    /// 0.85: 2,1 → 0.67, 0.4, 0.500 | 0.60: 3,2 → 0.60, 0.6, 0.600 (tie: two comments)
    /// 0.40: 3,3 → 0.50, 0.6, 0.545 | 0.35: 4,3 → 0.57, 0.8, 0.667
    /// 0.30: 4,4 → 0.50, 0.8, 0.615 | 0.20: 4,5 → 0.44, 0.8, 0.571
    /// 0.05: 5,5 → 0.50, 1.0, 0.667
    fn ten() -> Vec<Point> {
        let labels = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1];
        let scores = [0.95, 0.9, 0.85, 0.6, 0.6, 0.4, 0.35, 0.3, 0.2, 0.05];
        let s: Vec<Scored> = labels
            .iter()
            .zip(scores)
            .map(|(&l, score)| Scored {
                score,
                positive: l == 1,
            })
            .collect();
        curve(&s)
    }

    #[test]
    fn objectives_pick_the_documented_point() {
        let c = ten();
        #[rustfmt::skip]
        let cases = [
            (Objective::MaxF1, 0.35, None),                       // 0.667 tie with 0.05 → higher
            (Objective::TargetPrecision(0.6), 0.6, None),         // lowest with precision >= 0.6
            (Objective::TargetPrecision(0.5), 0.05, None),
            (Objective::TargetPrecision(1.0), 0.95, None),
            (Objective::TargetRecall(0.8), 0.35, None),           // highest with recall >= 0.8
            (Objective::TargetRecall(0.5), 0.6, None),
            (Objective::TargetRecall(1.0), 0.05, None),
            (Objective::ReviewBudget(500), 0.6, None),            // 5 of 10 flagged
            (Objective::ReviewBudget(499), 0.85, None),           // 0.6 would flag 5: over
            (Objective::ReviewBudget(100), 0.95, None),
            (Objective::ReviewBudget(99), 0.95, Some("even the highest threshold (0.95) flags 100.0 per 1000, over the budget of 99; fell back to the fewest flags")),
            (Objective::TargetRecall(1.5), 0.35, Some("recall 1.5 is not reachable; fell back to max-f1")),
            (Objective::FewestFlags, 0.95, None),
        ];
        for (objective, want, fallback) in cases {
            let got = choose(&c, objective).unwrap();
            let index = got.index.unwrap();
            assert_eq!(
                (c[index].threshold, got.point),
                (want, c[index]),
                "{objective}"
            );
            assert_eq!(got.fallback.as_deref(), fallback, "{objective}");
            let used = match (fallback, objective) {
                (None, o) => o,
                (Some(_), Objective::ReviewBudget(_)) => Objective::FewestFlags,
                (Some(_), _) => Objective::MaxF1,
            };
            assert_eq!(got.used, used);
        }
    }

    /// Regression: 3 of 900 comments tie at the top score, so even the highest threshold
    /// flags 3.33 per 1000; the message said "flags 3 per 1000, over the budget of 3", and the
    /// fallback (max F1) flagged far more than the budget.
    #[test]
    fn an_unmeetable_budget_falls_back_to_the_fewest_flags_with_one_decimal() {
        let s: Vec<Scored> = (0..900)
            .map(|i| Scored {
                score: if i < 3 {
                    0.9
                } else {
                    f64::from(i % 50) / 100.0
                },
                positive: i < 3 || i % 50 > 40,
            })
            .collect();
        let c = curve(&s);
        let got = choose(&c, Objective::ReviewBudget(3)).unwrap();
        assert_eq!((got.index, got.point.flagged()), (Some(0), 3));
        assert_eq!(got.used, Objective::FewestFlags);
        assert_eq!(
            got.fallback.as_deref(),
            Some("even the highest threshold (0.9) flags 3.3 per 1000, over the budget of 3; fell back to the fewest flags")
        );
        assert_eq!(got.used.to_string(), "fewest-flags");
    }

    #[test]
    fn unreachable_precision_falls_back_and_says_so() {
        let s = [(0.9, false), (0.8, true), (0.7, false), (0.6, true)]
            .map(|(score, positive)| Scored { score, positive });
        let c = curve(&s);
        let got = choose(&c, Objective::TargetPrecision(0.9)).unwrap();
        assert_eq!(
            got.fallback.as_deref(),
            Some("precision 0.9 is not reached at any threshold (best 0.500); fell back to max-f1")
        );
        assert_eq!(got.used, Objective::MaxF1);
    }

    #[test]
    fn no_positives_no_negatives_or_no_points_choose_nothing() {
        let s = [Scored {
            score: 0.3,
            positive: false,
        }];
        assert_eq!(choose(&curve(&s), Objective::MaxF1), None);
        assert_eq!(choose(&[], Objective::MaxF1), None);
        let all_pos = [
            Scored {
                score: 0.3,
                positive: true,
            },
            Scored {
                score: 0.6,
                positive: true,
            },
        ];
        // Regression: an all-positive sample chose its lowest score (precision 1), so analyze
        // would have flagged everything.
        for objective in [
            Objective::MaxF1,
            Objective::TargetPrecision(0.9),
            Objective::ReviewBudget(500),
        ] {
            assert_eq!(choose(&curve(&all_pos), objective), None, "{objective}");
        }
    }
}
