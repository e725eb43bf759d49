//! What the context rules add on the moderator's labelled sample (issue 40): ESCALATION (a
//! reply whose toxicity rises sharply over its parent's) and AUTHOR_HISTORY (a reason on a
//! flagged comment whose author has mostly flagged comments). They need the reply structure
//! and the authors, so they are measured only when the labels file has `parent_id` or
//! `author` columns. The sample is threaded and judged by the same code `analyze` uses
//! (`thread::build`, `report::analysis::judge`), under the thresholds `tune` writes, so what
//! is reported here is what `analyze` would do with them.

use std::collections::HashMap;

use super::labels::LabelledSample;
use super::scores::ScoreTable;
use super::thresholds::Thresholds;
use crate::ingest::{Comment, Input};
use crate::report::analysis::{self, Rules, AUTHOR_HISTORY, ESCALATION};
use crate::score::scorer::Scores;

/// One rule's effect on the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEffect {
    /// The reason code.
    pub code: &'static str,
    /// Whether the thresholds leave the rule on.
    pub enabled: bool,
    /// Comments the rule gives its reason to.
    pub fired: u64,
    /// Of those, comments flagged for no other reason: the flags the rule adds to the queue.
    pub added: u64,
    /// Of the added ones, comments labelled 1 for some attribute.
    pub added_positive: u64,
}

impl RuleEffect {
    /// Share of the added flags labelled positive; `None` when it adds none.
    pub fn precision(&self) -> Option<f64> {
        (self.added > 0).then(|| self.added_positive as f64 / self.added as f64)
    }
}

/// What the context rules do on the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextEffects {
    /// Labelled, scored comments whose parent is also labelled and scored (ESCALATION can only
    /// judge these).
    pub replies: u64,
    /// Labelled, scored comments with an author.
    pub with_author: u64,
    /// Comments flagged by an attribute, and of those labelled 1 for some attribute (for
    /// comparison with the rules' added flags).
    pub attribute_flagged: u64,
    pub attribute_positive: u64,
    /// ESCALATION, then AUTHOR_HISTORY.
    pub rules: Vec<RuleEffect>,
}

/// Measures the context rules on the scored rows of `sample` under `th` (and the rule
/// settings of its `[escalation]` and `[author_history]` sections). `None` when the labels
/// file has neither a `parent_id` nor an `author` column.
pub fn measure(
    sample: &LabelledSample,
    scores: &ScoreTable,
    th: &Thresholds,
) -> Option<ContextEffects> {
    if !sample.has_parent && !sample.has_author {
        return None;
    }
    let rows: Vec<_> = sample
        .rows
        .iter()
        .filter(|r| scores.rows.contains_key(&r.id))
        .collect();
    let positive: HashMap<&str, bool> = rows
        .iter()
        .map(|r| (r.id.as_str(), r.labels.iter().any(|&l| l)))
        .collect();
    let comments: Vec<Comment> = rows
        .iter()
        .map(|r| Comment {
            id: r.id.as_str().into(),
            parent_id: r.parent_id.as_deref().map(Into::into),
            author: r.author.as_deref().map(Into::into),
            // Only comments with text are judged; a sample scored from a file without texts
            // stands in its id.
            text: if r.text.trim().is_empty() {
                r.id.clone()
            } else {
                r.text.clone()
            },
            parent_known: sample.has_parent,
            ..Comment::default()
        })
        .collect();
    let forest = crate::thread::build(Input {
        comments,
        ..Input::default()
    });
    let node_scores: Vec<Scores> = forest
        .comments
        .iter()
        .map(|c| {
            let t = scores.rows.get(c.id.as_str()).map(|s| s.scores.0);
            Scores {
                toxicity: t.map_or([0.0; 7], |t| t.map(|v| v as f32)),
                ..Scores::default()
            }
        })
        .collect();
    let rules = Rules::from_thresholds(th);
    let v = analysis::judge(&forest, &node_scores, th, &rules);
    let pos = |i: usize| positive.get(forest.comments[i].id.as_str()) == Some(&true);
    // Flagged for some reason other than `code`: AUTHOR_HISTORY never flags by itself (it
    // only joins comments already flagged), so it does not count as another reason. Other
    // than ESCALATION, that leaves the attributes' reasons.
    let by_other = |i: usize, code: &str| {
        v.reasons[i]
            .iter()
            .any(|&c| c != code && c != AUTHOR_HISTORY)
    };
    let n = forest.nodes.len();
    let effect = |code: &'static str, enabled: bool| {
        let fired: Vec<usize> = (0..n).filter(|&i| v.reasons[i].contains(&code)).collect();
        let added: Vec<usize> = fired
            .iter()
            .copied()
            .filter(|&i| !by_other(i, code))
            .collect();
        RuleEffect {
            code,
            enabled,
            fired: fired.len() as u64,
            added: added.len() as u64,
            added_positive: added.iter().filter(|&&i| pos(i)).count() as u64,
        }
    };
    let attribute: Vec<usize> = (0..n).filter(|&i| by_other(i, ESCALATION)).collect();
    Some(ContextEffects {
        replies: forest
            .nodes
            .iter()
            .filter(|node| node.parent.is_some())
            .count() as u64,
        with_author: forest
            .comments
            .iter()
            .filter(|c| c.author.is_some())
            .count() as u64,
        attribute_flagged: attribute.len() as u64,
        attribute_positive: attribute.iter().filter(|&&i| pos(i)).count() as u64,
        rules: vec![
            effect(ESCALATION, rules.escalation),
            effect(AUTHOR_HISTORY, rules.author_history),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::labels::LabelledRow;
    use crate::tune::scores::{ScoreRow, ToxicityScores};
    use crate::tune::thresholds::Attribute;

    fn sample(rows: &[(&str, Option<&str>, Option<&str>, bool)]) -> LabelledSample {
        LabelledSample {
            path: "labels.csv".into(),
            attributes: vec![Attribute::Toxicity],
            rows: rows
                .iter()
                .enumerate()
                .map(|(k, (id, parent, author, label))| LabelledRow {
                    line: k as u64 + 2,
                    id: id.to_string(),
                    text: format!("text {id}"),
                    labels: vec![*label],
                    parent_id: parent.map(str::to_string),
                    author: author.map(str::to_string),
                })
                .collect(),
            has_text: true,
            has_parent: true,
            has_author: true,
            ignored_columns: vec![],
            rejected: vec![],
            superseded: vec![],
        }
    }

    fn scores(tox: &[(&str, f64)]) -> ScoreTable {
        ScoreTable {
            rows: tox
                .iter()
                .enumerate()
                .map(|(k, (id, t))| {
                    let mut s = [0.0; 7];
                    s[0] = *t;
                    (
                        id.to_string(),
                        ScoreRow {
                            line: k as u64 + 2,
                            scores: ToxicityScores(s),
                        },
                    )
                })
                .collect(),
            rejected: vec![],
        }
    }

    /// a (0.1) has two replies: b (0.8, rises 0.7: ESCALATION alone, labelled toxic) and c
    /// (0.95: flagged by toxicity and rising, so ESCALATION adds a reason but no flag); d is a
    /// root at 0.9 (flagged by toxicity, labelled clean); e replies to a comment outside the
    /// sample. Author x wrote b, c and d, all flagged, so AUTHOR_HISTORY fires on each and
    /// adds no flag.
    #[test]
    fn the_rules_report_what_they_add_beyond_the_attributes() {
        let s = sample(&[
            ("a", None, Some("y"), false),
            ("b", Some("a"), Some("x"), true),
            ("c", Some("a"), Some("x"), true),
            ("d", None, Some("x"), false),
            ("e", Some("zz"), None, false),
        ]);
        let t = scores(&[("a", 0.1), ("b", 0.8), ("c", 0.95), ("d", 0.9), ("e", 0.9)]);
        let th = Thresholds::default();
        let e = measure(&s, &t, &th).unwrap();
        assert_eq!(e.replies, 2, "b and c; e's parent is not in the sample");
        assert_eq!(e.with_author, 4);
        assert_eq!((e.attribute_flagged, e.attribute_positive), (3, 1));
        let esc = &e.rules[0];
        assert_eq!(
            (esc.code, esc.fired, esc.added, esc.added_positive),
            (ESCALATION, 2, 1, 1)
        );
        assert_eq!(esc.precision(), Some(1.0));
        let ah = &e.rules[1];
        assert_eq!((ah.code, ah.fired, ah.added), (AUTHOR_HISTORY, 3, 0));
        assert_eq!(ah.precision(), None);
    }

    #[test]
    fn without_parent_or_author_columns_nothing_is_measured() {
        let mut s = sample(&[("a", None, None, false)]);
        s.has_parent = false;
        s.has_author = false;
        assert_eq!(
            measure(&s, &scores(&[("a", 0.9)]), &Thresholds::default()),
            None
        );
    }
}
