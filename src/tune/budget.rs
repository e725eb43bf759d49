//! A review budget shared by all attributes. `analyze` flags a comment when ANY attribute's
//! score reaches its threshold, attributes the sample does not tune included (they keep their
//! defaults), so a budget of N per 1,000 must hold for that combined queue, not for each
//! attribute alone. [`allocate`] shares the budget greedily on the labelled sample, and
//! [`combined`] counts the combined queue for any set of thresholds.
//!
//! The rule: every tuned attribute starts above its top score (flagging nothing); the
//! comments that untuned attributes flag at their defaults are in the queue from the start.
//! Then, repeatedly, among the tuned attributes whose next distinct score keeps the queue
//! within N per 1,000, lower the threshold of the one that adds the most of its own labelled
//! positives per comment newly added to the queue (ties: fewer new comments, then attribute
//! order), until no step fits.

use super::metrics::Scored;

/// The rule in plain words, for the summary.
pub const RULE: &str =
    "every tuned attribute starts above its top score (flagging nothing), and the \
comments that attributes left at their defaults flag are in the queue from the start; then the \
threshold of the attribute whose next distinct score adds the most of its labelled positives per \
comment newly added to the queue is lowered, again and again, while the combined queue stays \
within the budget on the sample.";
use super::scores::ToxicityScores;
use super::thresholds::{Attribute, Thresholds};

/// How far the greedy allocation got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Per tuned attribute (input order), the distinct scores its threshold was lowered
    /// through: 0 flags nothing, k puts the threshold at the k-th highest distinct score
    /// (`curve[k - 1]`).
    pub steps: Vec<usize>,
    /// Comments in the combined queue at the end.
    pub flagged: u64,
    /// Comments that the untuned attributes flag at their defaults.
    pub by_defaults: u64,
    /// Whether the queue is within the budget; false when the untuned attributes (or a
    /// tuned attribute whose top score is 1, which no threshold can leave out) exceed it.
    pub met: bool,
}

/// Shares a budget of `per_1000` flagged comments per 1,000 among the `tuned` attributes.
/// `by_defaults[i]` says whether comment i is flagged by an untuned attribute; `tuned[a][i]`
/// is comment i's rounded score and label for tuned attribute a (every list has one entry per
/// comment, in the same order).
pub fn allocate(by_defaults: &[bool], tuned: &[&[Scored]], per_1000: u32) -> Allocation {
    let n = by_defaults.len() as u64;
    let fits = |flagged: u64| flagged * 1000 <= u64::from(per_1000) * n;
    let mut queued = by_defaults.to_vec();
    let mut flagged = queued.iter().filter(|&&q| q).count() as u64;
    let base = flagged;
    let groups: Vec<Vec<Vec<usize>>> = tuned.iter().map(|s| groups(s)).collect();
    let mut steps = vec![0; tuned.len()];
    // A top score of 1 cannot be left out: no threshold in [0, 1] lies above it.
    for (a, g) in groups.iter().enumerate() {
        if g.first()
            .is_some_and(|top| above(tuned[a][top[0]].score).is_none())
        {
            flagged += take(&g[0], &mut queued);
            steps[a] = 1;
        }
    }
    if !fits(flagged) {
        return Allocation {
            steps,
            flagged,
            by_defaults: base,
            met: false,
        };
    }
    loop {
        // (attribute, labelled positives added, comments added to the queue)
        let mut best: Option<(usize, u64, u64)> = None;
        for (a, g) in groups.iter().enumerate() {
            let Some(group) = g.get(steps[a]) else {
                continue;
            };
            let added = group.iter().filter(|&&i| !queued[i]).count() as u64;
            if !fits(flagged + added) {
                continue;
            }
            let gain = group.iter().filter(|&&i| tuned[a][i].positive).count() as u64;
            if best.is_none_or(|b| better((gain, added), (b.1, b.2))) {
                best = Some((a, gain, added));
            }
        }
        let Some((a, _, _)) = best else { break };
        flagged += take(&groups[a][steps[a]], &mut queued);
        steps[a] += 1;
    }
    Allocation {
        steps,
        flagged,
        by_defaults: base,
        met: true,
    }
}

/// Whether a step adding `x.0` positives for `x.1` new comments beats one adding `y.0` for
/// `y.1`: a higher ratio (a free step with gain beats everything), then fewer new comments.
fn better(x: (u64, u64), y: (u64, u64)) -> bool {
    let ratio = |(gain, added): (u64, u64)| {
        if added == 0 {
            if gain > 0 {
                f64::INFINITY
            } else {
                0.0
            }
        } else {
            gain as f64 / added as f64
        }
    };
    match ratio(x).total_cmp(&ratio(y)) {
        std::cmp::Ordering::Equal => x.1 < y.1,
        o => o.is_gt(),
    }
}

/// Comment indices grouped by distinct score, highest first: group k is the comments that
/// `curve[k]` adds (same order and ties as [`super::metrics::curve`]).
fn groups(samples: &[Scored]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..samples.len()).collect();
    order.sort_by(|&a, &b| samples[b].score.total_cmp(&samples[a].score));
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match out.last_mut() {
            Some(g) if samples[g[0]].score == samples[i].score => g.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

/// Queues the comments of `group`; returns how many were not queued yet.
fn take(group: &[usize], queued: &mut [bool]) -> u64 {
    let mut added = 0;
    for &i in group {
        added += u64::from(!queued[i]);
        queued[i] = true;
    }
    added
}

/// The smallest 4-decimal threshold above `top` (so nothing in the sample reaches it);
/// `None` when that would exceed 1.
pub fn above(top: f64) -> Option<f64> {
    let k = (top * 1e4).round();
    let t = if k / 1e4 > top { k } else { k + 1.0 };
    (t <= 1e4).then(|| t / 1e4)
}

/// The combined queue on the sample under a thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    /// Labelled comments with a score.
    pub comments: u64,
    /// Those flagged by at least one attribute.
    pub flagged: u64,
    /// Those flagged by an attribute that keeps its default threshold.
    pub by_defaults: u64,
    /// The attributes that keep their default threshold, with it.
    pub defaults: Vec<(Attribute, f64)>,
}

impl Combined {
    /// Flagged comments per 1,000 of the sample.
    pub fn per_1000(&self) -> f64 {
        per_1000(self.flagged, self.comments)
    }

    /// Comments flagged by the defaults alone, per 1,000 of the sample.
    pub fn by_defaults_per_1000(&self) -> f64 {
        per_1000(self.by_defaults, self.comments)
    }

    /// `insult 0.8, threat 0.7`, or `none`.
    pub fn defaults_list(&self) -> String {
        if self.defaults.is_empty() {
            return "none".into();
        }
        let items: Vec<String> = self
            .defaults
            .iter()
            .map(|(a, t)| format!("{a} {t}"))
            .collect();
        items.join(", ")
    }
}

/// `k` per 1,000 of `n` (0 for an empty sample).
pub fn per_1000(k: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 * 1000.0 / n as f64
    }
}

/// Whether `a` flags a comment with these (already rounded) scores: score >= threshold.
fn flags(th: &Thresholds, a: Attribute, scores: &ToxicityScores) -> bool {
    scores.get(a) >= th.get(a)
}

/// Counts the combined queue: a comment is flagged when any attribute's (rounded) score is
/// at least its threshold in `th`, the attributes without a table in `th` at their defaults.
pub fn combined(scores: &[ToxicityScores], th: &Thresholds) -> Combined {
    let defaults: Vec<Attribute> = Attribute::ALL
        .into_iter()
        .filter(|&a| th.entry(a).is_none())
        .collect();
    let mut out = Combined {
        comments: scores.len() as u64,
        flagged: 0,
        by_defaults: 0,
        defaults: defaults
            .iter()
            .map(|&a| (a, a.default_threshold()))
            .collect(),
    };
    for s in scores {
        out.flagged += u64::from(Attribute::ALL.into_iter().any(|a| flags(th, a, s)));
        out.by_defaults += u64::from(defaults.iter().any(|&a| flags(th, a, s)));
    }
    out
}

/// Which comments the attributes in `defaults` flag at their default thresholds.
pub fn flagged_by_defaults(scores: &[ToxicityScores], defaults: &[Attribute]) -> Vec<bool> {
    let none = Thresholds::default();
    scores
        .iter()
        .map(|s| defaults.iter().any(|&a| flags(&none, a, s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(rows: &[(f64, u8)]) -> Vec<Scored> {
        rows.iter()
            .map(|&(score, l)| Scored {
                score,
                positive: l == 1,
            })
            .collect()
    }

    /// Ten comments, two tuned attributes A and B; comment 9 is flagged by the defaults.
    ///
    /// ```text
    /// comment   0    1    2    3    4    5    6    7    8    9
    /// A score  .9   .8   .8   .7   .6   .5   .4   .3   .2   .1
    /// A label   1    0    1    1    0    0    0    0    0    0
    /// B score  .1   .2   .3   .95  .9   .85  .4   .4   .2   .99
    /// B label   0    0    0    1    1    0    0    0    0    1
    /// ```
    ///
    /// Hand-worked greedy; the queue starts as {9}; each candidate is (positives, new comments):
    /// 1. A .9 {0}: (1, 1); B .99 {9}: (1, 0), a gain for free → B to .99; queue 1.
    /// 2. A .9: (1, 1); B .95 {3}: (1, 1); same ratio and cost → A (attribute order); queue 2.
    /// 3. A .8 {1, 2}: (1, 2) = 0.5; B .95: 1 → B to .95; queue 3.
    /// 4. A .8: 0.5; B .9 {4}: 1 → B to .9; queue 4.
    /// 5. A .8: 0.5; B .85 {5}: (0, 1) = 0 → A to .8; queue 6.
    /// 6. A .7 {3}: (1, 0), a gain for free → A to .7.
    /// 7. A .6 {4}: (0, 0); B .85: (0, 1); both ratio 0, fewer new → A to .6.
    /// 8. A .5 {5}: (0, 1); B .85 {5}: (0, 1) → A (order); queue 7.
    /// 9. A .4 {6}: (0, 1); B .85: (0, 0) → B to .85.
    /// 10. A .4: (0, 1); B .4 {6, 7}: (0, 2) → A to .4; queue 8; and so on up to all 10.
    ///
    /// Budget 600 or 699 per 1,000 (at most 6 of 10): B .85 no longer fits from step 6, and
    /// after step 7 A .5 does not fit either: A 4 steps (.6), B 3 (.9), 6 queued. Budget 700
    /// (7 of 10): after step 9 neither A .4 nor B .4 fits: A 5 steps (.5), B 4 (.85).
    #[test]
    fn greedy_allocation_follows_the_hand_worked_table() {
        let a = scored(&[
            (0.9, 1),
            (0.8, 0),
            (0.8, 1),
            (0.7, 1),
            (0.6, 0),
            (0.5, 0),
            (0.4, 0),
            (0.3, 0),
            (0.2, 0),
            (0.1, 0),
        ]);
        let b = scored(&[
            (0.1, 0),
            (0.2, 0),
            (0.3, 0),
            (0.95, 1),
            (0.9, 1),
            (0.85, 0),
            (0.4, 0),
            (0.4, 0),
            (0.2, 0),
            (0.99, 1),
        ]);
        let mut base = vec![false; 10];
        base[9] = true;
        #[rustfmt::skip]
        let cases: [(u32, Vec<usize>, u64, bool); 7] = [
            (600, vec![4, 3], 6, true),
            (699, vec![4, 3], 6, true),
            (700, vec![5, 4], 7, true),
            (100, vec![0, 1], 1, true),   // only B's free step
            (200, vec![1, 1], 2, true),
            (0, vec![0, 0], 1, false),
            (1000, vec![9, 8], 10, true),
        ];
        for (budget, steps, flagged, met) in cases {
            let got = allocate(&base, &[&a, &b], budget);
            assert_eq!(
                got,
                Allocation {
                    steps,
                    flagged,
                    by_defaults: 1,
                    met
                },
                "budget {budget}"
            );
        }
    }

    #[test]
    fn a_top_score_of_one_cannot_be_left_out() {
        let a = scored(&[(1.0, 1), (0.5, 0), (0.2, 0), (0.1, 0)]);
        let got = allocate(&[false; 4], &[&a], 100);
        assert_eq!((got.steps, got.flagged, got.met), (vec![1], 1, false));
        assert_eq!(above(1.0), None);
        assert_eq!(above(0.9999), Some(1.0));
        assert_eq!(above(0.5761), Some(0.5762));
        assert_eq!(above(0.0), Some(0.0001));
        assert_eq!(above(0.12341), Some(0.1235));
        assert_eq!(above(0.12346), Some(0.1235));
    }

    #[test]
    fn combined_queue_is_the_union_with_untuned_attributes_at_their_defaults() {
        // toxicity, insult, threat, obscene, identity_attack, severe_toxicity,
        // sexual_explicit; flag is their maximum.
        let d = Attribute::default_threshold;
        let threat = d(Attribute::Threat);
        let ia = d(Attribute::IdentityAttack);
        let severe = d(Attribute::SevereToxicity);
        // Row 3 must stay under the tuned flag (0.95), so only identity_attack's default flags it.
        assert!(ia < 0.95);
        let scores = [
            ToxicityScores([0.1, 0.1, threat, 0.0, 0.0, 0.0, 0.0]), // threat at its default: flagged
            ToxicityScores([0.5, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0]),    // toxicity 0.5 >= tuned 0.5
            ToxicityScores([0.4, 0.1, 0.1, 0.0, 0.0, 0.0, 0.0]),
            ToxicityScores([0.1, 0.1, 0.1, 0.0, ia, 0.0, 0.0]), // flag tuned at 0.95, ia at its default
            ToxicityScores([0.1, 0.1, 0.1, 0.0, 0.0, severe, 0.0]), // severe_toxicity at its default
        ];
        let mut th = Thresholds::default();
        let t = |threshold| {
            Some(crate::tune::Threshold {
                threshold,
                objective: None,
                precision: None,
                recall: None,
                f1: None,
                samples: None,
                positives: None,
            })
        };
        th.set(Attribute::Toxicity, t(0.5));
        th.set(Attribute::Flag, t(0.95));
        let c = combined(&scores, &th);
        assert_eq!((c.comments, c.flagged, c.by_defaults), (5, 4, 3));
        assert_eq!(c.per_1000(), 800.0);
        assert_eq!(c.by_defaults_per_1000(), 600.0);
        assert_eq!(
            c.defaults_list(),
            format!(
                "insult {}, threat {threat}, obscene {}, identity_attack {ia}, severe_toxicity {severe}, sexual_explicit {}",
                d(Attribute::Insult),
                d(Attribute::Obscene),
                d(Attribute::SexualExplicit)
            )
        );
        let defaults: Vec<Attribute> = c.defaults.iter().map(|(a, _)| *a).collect();
        assert_eq!(
            flagged_by_defaults(&scores, &defaults),
            [true, false, false, true, true]
        );
    }
}
