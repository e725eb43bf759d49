//! The default thresholds that catch the clear cases (models/README.md, "Defaults that catch
//! the clear cases", issue 40 item 4). The v2.2 union bound keeps every source's clean
//! validation comments under 1 % flagged, but spends that budget greedily; this search keeps
//! the same bound and, among the thresholds that respect it, moves toward the ones that flag
//! the most unambiguous abuse. It is a pure function over scored validation rows, so the rule
//! can be read and tested apart from training.

use std::collections::BTreeMap;

use super::datasets::{AttrExample, ATTRS, INSULT, TOX};
use super::heldout::{is_clean, ScoredRow, TWEET_SOURCES};

/// The sources whose clear cases the objective averages over, in the card's order.
pub const CLEAR_SOURCES: [&str; 3] = ["civil-comments", "jigsaw-wikipedia", "cad"];

/// Grid the search moves on: 0.50, 0.55, …, 0.95, then 1.0 (off, in effect).
fn grid() -> Vec<f64> {
    let mut g = super::heldout::threshold_grid();
    g.push(1.0);
    g
}

/// A clear case of abuse, by its source's own labels: a Civil Comments toxicity fraction of at
/// least 0.8; a Jigsaw Wikipedia row labelled toxic and at least one more of its labels; a CAD
/// row labelled PersonDirectedAbuse (read as insult 1). Other sources have none.
pub fn is_clear(row: &AttrExample) -> bool {
    let at = |k: usize, v: f32| row.labels[k].is_some_and(|x| x >= v);
    match row.source {
        "civil-comments" => at(TOX, 0.8),
        "jigsaw-wikipedia" => at(TOX, 0.5) && (1..ATTRS).any(|k| at(k, 0.5)),
        "cad" => at(INSULT, 0.5),
        _ => false,
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct ClearDefaults {
    pub thresholds: [f64; ATTRS],
    /// Mean clear-case recall over [`CLEAR_SOURCES`] at the start and at the end.
    pub objective_start: f64,
    pub objective: f64,
    /// Per clear source: (clear rows, recall at the end).
    pub recall: BTreeMap<String, (usize, f64)>,
    /// The bounded source with the largest clean share flagged at the end, with that share.
    pub binding: Option<(String, f64)>,
}

/// A row reduced to, per attribute, how many grid values its score reaches: it is flagged by
/// attribute `k` at grid index `t` exactly when `t < reach[k]`.
type Reach = [u8; ATTRS];

fn reach(probs: &[f32; ATTRS], grid: &[f64]) -> Reach {
    std::array::from_fn(|k| {
        let r = crate::tune::thresholds::rounded_score(probs[k]);
        grid.iter().filter(|&&g| r >= g - 1e-9).count() as u8
    })
}

fn hit(r: &Reach, t: &[usize; ATTRS]) -> bool {
    (0..ATTRS).any(|k| t[k] < usize::from(r[k]))
}

/// The bounded sources' clean rows and the clear sources' clear rows, as reaches.
struct Rows {
    clean: Vec<(String, Vec<Reach>)>,
    clear: Vec<(String, Vec<Reach>)>,
}

impl Rows {
    fn new(validation: &[ScoredRow], min_rows: usize, grid: &[f64]) -> Rows {
        let mut clean: BTreeMap<&str, Vec<Reach>> = BTreeMap::new();
        let mut clear: BTreeMap<&str, Vec<Reach>> = BTreeMap::new();
        for r in validation {
            if TWEET_SOURCES.contains(&r.row.source) {
                continue;
            }
            if is_clean(r.row) {
                clean
                    .entry(r.row.source)
                    .or_default()
                    .push(reach(&r.probs, grid));
            }
            if is_clear(r.row) {
                clear
                    .entry(r.row.source)
                    .or_default()
                    .push(reach(&r.probs, grid));
            }
        }
        clean.retain(|_, v| v.len() >= min_rows);
        let own = |m: BTreeMap<&str, Vec<Reach>>| {
            m.into_iter()
                .map(|(s, v)| (s.to_string(), v))
                .collect::<Vec<_>>()
        };
        Rows {
            clean: own(clean),
            clear: own(clear),
        }
    }

    /// The largest clean share flagged over the bounded sources, and which source.
    fn worst(&self, t: &[usize; ATTRS]) -> Option<(String, f64)> {
        self.clean
            .iter()
            .map(|(s, rows)| {
                let n = rows.iter().filter(|r| hit(r, t)).count();
                (s.clone(), n as f64 / rows.len() as f64)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn within(&self, t: &[usize; ATTRS], max_share: f64) -> bool {
        self.clean.iter().all(|(_, rows)| {
            let n = rows.iter().filter(|r| hit(r, t)).count();
            n as f64 <= max_share * rows.len() as f64 + 1e-9
        })
    }

    fn recall(&self, t: &[usize; ATTRS]) -> BTreeMap<String, (usize, f64)> {
        self.clear
            .iter()
            .filter(|(s, rows)| CLEAR_SOURCES.contains(&s.as_str()) && !rows.is_empty())
            .map(|(s, rows)| {
                let n = rows.iter().filter(|r| hit(r, t)).count();
                (s.clone(), (rows.len(), n as f64 / rows.len() as f64))
            })
            .collect()
    }

    fn objective(&self, t: &[usize; ATTRS]) -> f64 {
        let r = self.recall(t);
        if r.is_empty() {
            return 0.0;
        }
        r.values().map(|(_, x)| x).sum::<f64>() / r.len() as f64
    }
}

/// Every threshold vector one or two grid moves away from `t`.
fn neighbours(t: &[usize; ATTRS], levels: usize) -> Vec<[usize; ATTRS]> {
    let mut out = Vec::new();
    for a in 0..ATTRS {
        for va in (0..levels).filter(|&v| v != t[a]) {
            let mut one = *t;
            one[a] = va;
            out.push(one);
            for b in a + 1..ATTRS {
                for vb in (0..levels).filter(|&v| v != t[b]) {
                    let mut two = one;
                    two[b] = vb;
                    out.push(two);
                }
            }
        }
    }
    out
}

/// The search of the card's rule: from `start`, repeatedly take the change of one or two
/// thresholds that keeps every bounded source (non-tweet, ≥ `min_rows` clean rows) at most
/// `max_share` flagged and raises the mean clear-case recall the most (ties: the larger sum of
/// thresholds, then the first candidate in attribute order); stop when none raises it.
/// `start` is snapped up to the grid. If `start` breaks the bound, it is returned as it is.
pub fn derive(
    validation: &[ScoredRow],
    start: &[f64; ATTRS],
    max_share: f64,
    min_rows: usize,
) -> ClearDefaults {
    let grid = grid();
    let rows = Rows::new(validation, min_rows, &grid);
    let snap = |v: f64| {
        grid.iter()
            .position(|&g| g >= v - 1e-9)
            .unwrap_or(grid.len() - 1)
    };
    let mut t: [usize; ATTRS] = std::array::from_fn(|k| snap(start[k]));
    let objective_start = rows.objective(&t);
    let mut best = objective_start;
    if rows.within(&t, max_share) {
        loop {
            let sum = |c: &[usize; ATTRS]| c.iter().sum::<usize>();
            let mut chosen: Option<([usize; ATTRS], f64)> = None;
            for c in neighbours(&t, grid.len()) {
                let o = rows.objective(&c);
                if o <= best + 1e-12 || !rows.within(&c, max_share) {
                    continue;
                }
                let better = match &chosen {
                    None => true,
                    Some((bc, bo)) => {
                        o > bo + 1e-12 || ((o - bo).abs() <= 1e-12 && sum(&c) > sum(bc))
                    }
                };
                if better {
                    chosen = Some((c, o));
                }
            }
            match chosen {
                Some((c, o)) => {
                    t = c;
                    best = o;
                }
                None => break,
            }
        }
    }
    ClearDefaults {
        thresholds: std::array::from_fn(|k| grid[t[k]]),
        objective_start,
        objective: best,
        recall: rows.recall(&t),
        binding: rows.worst(&t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::datasets::{Split, IDENTITY};

    fn row(source: &'static str, labels: &[(usize, f32)]) -> AttrExample {
        let mut l = [None; ATTRS];
        for &(k, v) in labels {
            l[k] = Some(v);
        }
        AttrExample {
            text: String::new(),
            labels: l,
            source,
            split: Split::Validation,
        }
    }

    #[test]
    fn clear_cases_follow_each_sources_labels() {
        assert!(is_clear(&row("civil-comments", &[(TOX, 0.8)])));
        assert!(!is_clear(&row("civil-comments", &[(TOX, 0.7)])));
        assert!(is_clear(&row(
            "jigsaw-wikipedia",
            &[(TOX, 1.0), (IDENTITY, 1.0)]
        )));
        assert!(!is_clear(&row(
            "jigsaw-wikipedia",
            &[(TOX, 1.0), (IDENTITY, 0.0)]
        )));
        assert!(is_clear(&row("cad", &[(TOX, 1.0), (INSULT, 1.0)])));
        assert!(!is_clear(&row("cad", &[(TOX, 1.0), (IDENTITY, 1.0)])));
        assert!(!is_clear(&row("toxichat", &[(TOX, 1.0), (INSULT, 1.0)])));
    }

    /// Source "cad": 100 clean rows, one of which scores 0.6 on toxicity and one 0.62 on
    /// insult (so the bound of 1 % lets one of them through); 10 clear rows score 0.62 on
    /// toxicity. Starting with toxicity at 0.9 and insult at 0.6 (the insult row flagged), the
    /// only gain is lowering toxicity to 0.65, which needs insult raised past 0.62 in the same
    /// move: a pair move. Lowering toxicity alone to 0.6 would flag two clean rows.
    #[test]
    fn the_search_trades_one_threshold_for_another_within_the_bound() {
        let mut rows: Vec<AttrExample> = (0..100).map(|_| row("cad", &[(TOX, 0.0)])).collect();
        rows.extend((0..10).map(|_| row("cad", &[(TOX, 1.0), (INSULT, 1.0)])));
        let scored: Vec<ScoredRow> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut p = [0.0; ATTRS];
                match i {
                    0 => p[TOX] = 0.6,
                    1 => p[INSULT] = 0.62,
                    100.. => p[TOX] = 0.62,
                    _ => {}
                }
                ScoredRow { row: r, probs: p }
            })
            .collect();
        let start = [0.9, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0];
        let d = derive(&scored, &start, 0.01, 50);
        assert_eq!(d.objective_start, 0.0);
        assert_eq!(d.objective, 1.0);
        // Of the moves that reach every clear row, the one with the largest thresholds.
        assert!((d.thresholds[TOX] - 0.6).abs() < 1e-9, "{:?}", d.thresholds);
        assert_eq!(d.thresholds[INSULT], 1.0, "{:?}", d.thresholds);
        assert_eq!(d.recall["cad"], (10, 1.0));
        assert_eq!(d.binding, Some(("cad".to_string(), 0.01)));
        // A start that already breaks the bound is returned unchanged.
        let d = derive(&scored, &[0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0], 0.01, 50);
        assert_eq!(d.thresholds[TOX], 0.5);
        assert_eq!(d.objective, d.objective_start);
    }
}
