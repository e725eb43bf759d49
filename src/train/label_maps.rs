//! The training and test sets' label mappings as data (`models/recipes/maps/labels.toml`): how
//! each set's columns or labels become cells of the seven attributes, a sentiment class, a
//! stance toward a target or a reply's stance toward its parent, read by the readers of
//! `datasets`, `comment_sets` and `pairs`. Every recipe names the file, so a change of mapping
//! is a change of data that the recipe records, not of code. The readers keep what is about the
//! files themselves (which files, which text column, what a deleted comment looks like, which
//! rows are test rows, which rows of a large set are read).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::score::heads::{ATTRIBUTES as ATTRS, TOXICITY_LABELS};

/// One row's cells, in [`TOXICITY_LABELS`] order (the datasets' `AttrLabels`).
pub type AttrLabels = [Option<f32>; ATTRS];

/// The mapping file the committed model was trained with, built in for the readers' callers
/// that have no recipe (measurement, the pilot export, tests).
pub const COMMITTED: &str = include_str!("../../models/recipes/maps/labels.toml");

/// Cells by attribute name.
pub type Cells = BTreeMap<String, f32>;

/// One set's mapping.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SetMap {
    /// How `columns` are read.
    pub values: Option<Values>,
    /// Attribute → the column giving its cell.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Attribute → a 0/1 column read where the `columns` fraction is empty.
    #[serde(default)]
    pub fallback: BTreeMap<String, String>,
    /// Label groups, in order: the first group holding a label of the row decides, and each
    /// of its labels the row carries adds its cells.
    #[serde(default)]
    pub groups: Vec<BTreeMap<String, Cells>>,
    /// A graded score at most this gives these cells.
    pub at_most: Option<(f32, Cells)>,
    /// A graded score at least this gives these cells.
    pub at_least: Option<(f32, Cells)>,
    /// Label → sentiment class.
    #[serde(default)]
    pub sentiment: BTreeMap<String, Sentiment>,
    /// Bounds on a mean valence.
    pub valence: Option<Valence>,
    /// Span type → the attribute it marks (other types mark toxicity only).
    #[serde(default)]
    pub span_types: BTreeMap<String, String>,
    /// Label → stance toward the target (article stance); other labels dropped.
    #[serde(default)]
    pub stance: BTreeMap<String, Stance>,
    /// Label → a reply's stance toward its parent; other labels dropped.
    #[serde(default)]
    pub reply: BTreeMap<String, ReplyStance>,
    /// Label → n: only every n-th row carrying the label is kept (counted in file order).
    #[serde(default)]
    pub keep_every: BTreeMap<String, usize>,
}

/// Stance toward a target, in the pair and stance heads' order (0 favor, 1 against, 2 none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    Favor,
    Against,
    None,
}

/// A reply's stance toward its parent (0 agree, 1 disagree, 2 neutral).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyStance {
    Agree,
    Disagree,
    Neutral,
}

/// Counts of the rows seen per thinned label (`keep_every`), one per reader pass.
#[derive(Debug, Default)]
pub struct Thinning(BTreeMap<String, usize>);

/// A sentiment class (0 negative, 1 neutral, 2 positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Negative,
    Neutral,
    Positive,
}

/// Sentiment classes from a mean valence.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Valence {
    pub negative_at_most: f32,
    pub positive_at_least: f32,
    /// |valence| below this is neutral; the rest is dropped as ambiguous.
    pub neutral_below: f32,
}

/// How a column's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Values {
    /// A rater fraction, clamped to 0–1.
    Fraction,
    /// 0/1 or true/false.
    Flag,
}

/// Every set's mapping, by source name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct LabelMaps(BTreeMap<String, SetMap>);

impl LabelMaps {
    /// The committed mapping ([`COMMITTED`]).
    pub fn committed() -> LabelMaps {
        LabelMaps::parse(COMMITTED).expect("the built-in labels.toml is valid")
    }

    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<LabelMaps, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        LabelMaps::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse(text: &str) -> Result<LabelMaps, String> {
        let maps: LabelMaps = toml::from_str(text).map_err(|e| e.to_string())?;
        for (source, m) in &maps.0 {
            let named = m
                .columns
                .keys()
                .chain(m.fallback.keys())
                .chain(
                    m.groups
                        .iter()
                        .flat_map(|g| g.values().flat_map(|c| c.keys())),
                )
                .chain(
                    m.at_most
                        .iter()
                        .chain(&m.at_least)
                        .flat_map(|(_, c)| c.keys()),
                )
                .chain(m.span_types.values());
            for a in named {
                if attribute(a).is_none() {
                    return Err(format!(
                        "[{source}]: {a} is not an attribute ({})",
                        TOXICITY_LABELS.join(", ")
                    ));
                }
            }
            for (label, n) in &m.keep_every {
                if *n == 0 || !(m.stance.contains_key(label) || m.reply.contains_key(label)) {
                    return Err(format!(
                        "[{source}]: keep_every.{label} needs n ≥ 1 and a stance or reply label {label}"
                    ));
                }
            }
            if !m.columns.is_empty() && m.values.is_none() {
                return Err(format!(
                    "[{source}]: columns need values = \"fraction\" or \"flag\""
                ));
            }
        }
        Ok(maps)
    }

    /// The mapping of `source`; a reader asks only for its own, so a missing one is an error
    /// that names the file's table.
    pub fn of(&self, source: &str) -> Result<&SetMap, String> {
        self.0
            .get(source)
            .ok_or_else(|| format!("the label maps have no [{source}] table"))
    }
}

/// Index of an attribute name in [`TOXICITY_LABELS`] order.
fn attribute(name: &str) -> Option<usize> {
    TOXICITY_LABELS.iter().position(|l| *l == name)
}

/// Cells as labels.
pub fn labels(cells: &Cells) -> AttrLabels {
    let mut out = [None; ATTRS];
    for (a, v) in cells {
        if let Some(k) = attribute(a) {
            out[k] = Some(*v);
        }
    }
    out
}

impl SetMap {
    /// The labels the row's carried `has` labels give under `groups`, `None` where no group
    /// holds one of them.
    pub fn by_labels(&self, has: impl Fn(&str) -> bool) -> Option<AttrLabels> {
        let group = self.groups.iter().find(|g| g.keys().any(|l| has(l)))?;
        let mut out = [None; ATTRS];
        for (label, cells) in group {
            if has(label) {
                for (k, v) in labels(cells).iter().enumerate() {
                    if v.is_some() {
                        out[k] = *v;
                    }
                }
            }
        }
        Some(out)
    }

    /// The labels a graded score gives, `None` between the bounds.
    pub fn by_score(&self, score: f32) -> Option<AttrLabels> {
        match (&self.at_most, &self.at_least) {
            (Some((max, cells)), _) if score <= *max => Some(labels(cells)),
            (_, Some((min, cells))) if score >= *min => Some(labels(cells)),
            _ => None,
        }
    }

    /// The sentiment class of `label`, `None` for a label the map drops.
    pub fn class(&self, label: &str) -> Option<usize> {
        self.sentiment.get(label).map(|s| *s as usize)
    }

    /// The sentiment class of a mean valence, `None` where it is ambiguous.
    pub fn class_of_valence(&self, v: f32) -> Option<usize> {
        let b = self.valence?;
        if v <= b.negative_at_most {
            Some(0)
        } else if v >= b.positive_at_least {
            Some(2)
        } else if v.abs() < b.neutral_below {
            Some(1)
        } else {
            None
        }
    }

    /// The stance class (0 favor, 1 against, 2 none) of `label`, `None` for a label the map
    /// drops.
    pub fn stance_of(&self, label: &str) -> Option<u8> {
        self.stance.get(label).map(|s| *s as u8)
    }

    /// The reply class (0 agree, 1 disagree, 2 neutral) of `label`, `None` for a label the
    /// map drops.
    pub fn reply_of(&self, label: &str) -> Option<u8> {
        self.reply.get(label).map(|s| *s as u8)
    }

    /// Whether the next row carrying `label` is kept under `keep_every`, counted in `seen`.
    pub fn keeps(&self, label: &str, seen: &mut Thinning) -> bool {
        let Some(n) = self.keep_every.get(label) else {
            return true;
        };
        let count = seen.0.entry(label.to_string()).or_default();
        *count += 1;
        *count % n == 0
    }

    /// The attribute index a span type marks (toxicity for any other type).
    pub fn span_attribute(&self, span_type: &str) -> usize {
        self.span_types
            .get(span_type)
            .and_then(|a| attribute(a))
            .unwrap_or(0)
    }

    /// (attribute index, column) pairs of `columns`, with the fallback column of each.
    pub fn columns(&self) -> Vec<(usize, &str, Option<&str>)> {
        self.columns
            .iter()
            .filter_map(|(a, c)| {
                Some((
                    attribute(a)?,
                    c.as_str(),
                    self.fallback.get(a).map(String::as_str),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_maps_read_and_unknown_attributes_or_fields_are_refused() {
        let m = LabelMaps::committed();
        let cad = m.of("cad").unwrap();
        let row = |labels: &'static [&'static str]| cad.by_labels(|l| labels.contains(&l));
        // Abuse first, its labels' cells together; Neutral beside abuse does not count.
        let l = row(&["Neutral", "PersonDirectedAbuse", "IdentityDirectedAbuse"]).unwrap();
        assert_eq!(
            (l[0], l[1], l[4], l[2]),
            (Some(1.0), Some(1.0), Some(1.0), None)
        );
        assert_eq!(row(&["CounterSpeech"]).unwrap()[0], Some(0.0));
        assert!(row(&["Slur"]).is_none());
        let ruddit = m.of("ruddit").unwrap();
        assert_eq!(ruddit.by_score(-0.2).unwrap()[0], Some(0.0));
        assert_eq!(ruddit.by_score(0.5).unwrap()[0], Some(1.0));
        assert!(ruddit.by_score(0.3).is_none());
        assert!(m.of("nowhere").unwrap_err().contains("[nowhere]"));
        let vader = m.of("vader").unwrap();
        let classes = [-1.5, -0.5, 0.1, 0.5, 1.0].map(|v| vader.class_of_valence(v));
        assert_eq!(classes, [Some(0), None, Some(1), None, Some(2)]);
        assert_eq!(m.of("goemotions").unwrap().class("3"), Some(2));
        assert_eq!(m.of("goemotions").unwrap().class("0"), None);
        let spans = m.of("civil-comments-spans").unwrap();
        assert_eq!(
            (
                spans.span_attribute("Threat"),
                spans.span_attribute("Other")
            ),
            (2, 0)
        );
        let bad = COMMITTED.replace(
            "identity_attack = 1.0 }, noHate",
            "identity = 1.0 }, noHate",
        );
        assert!(LabelMaps::parse(&bad)
            .unwrap_err()
            .contains("identity is not an attribute"));
        let bad = COMMITTED.replace("[ruddit]\n", "[ruddit]\nscale = 2\n");
        assert!(LabelMaps::parse(&bad).unwrap_err().contains("scale"));
    }

    #[test]
    fn stance_maps_name_their_classes_and_thin_as_written() {
        let m = LabelMaps::committed();
        let tweeteval = m.of("tweeteval-stance").unwrap();
        assert_eq!(
            ["2", "1", "0", "3"].map(|l| tweeteval.stance_of(l)),
            [Some(0), Some(1), Some(2), None]
        );
        let rumour = m.of("rumoureval").unwrap();
        assert_eq!(
            ["support", "deny", "query", "comment"].map(|l| rumour.reply_of(l)),
            [Some(0), Some(1), Some(2), Some(2)]
        );
        // FNC-1: every 10th unrelated pair is kept, every other label always.
        let fnc = m.of("fnc-1").unwrap();
        let mut seen = Thinning::default();
        let kept: Vec<usize> = (1..=25)
            .filter(|_| fnc.keeps("unrelated", &mut seen))
            .collect();
        assert_eq!(kept.len(), 2);
        assert!(fnc.keeps("agree", &mut seen));
        let bad = COMMITTED.replace(
            "keep_every = { unrelated = 10 }",
            "keep_every = { unrelated = 0 }",
        );
        assert!(LabelMaps::parse(&bad)
            .unwrap_err()
            .contains("keep_every.unrelated"));
        let bad = COMMITTED.replace("\"1\" = \"favor\"", "\"1\" = \"pro\"");
        assert!(LabelMaps::parse(&bad).unwrap_err().contains("pro"));
    }
}
