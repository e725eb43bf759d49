//! The scoring pipeline shared by `score`, `analyze`: read inputs, build the forest, choose each
//! comment's stance target (its article, or an `--article`/`--topic` override), and score every
//! comment with one encoder pass per distinct text.

use std::path::PathBuf;

use crate::ingest::{self, IngestError, IngestOptions};
use crate::score::encoder::DIM;
use crate::score::scorer::{article_text, Scorer, ScorerError, Scores};
use crate::thread::{self, Forest};

/// What comments take a stance toward.
#[derive(Debug, Clone, Default)]
pub enum StanceTarget {
    /// Each comment's article from the input (title and lead); no stance where there is none.
    #[default]
    FromInput,
    /// One text for every comment (`--article FILE` or `--topic TEXT`).
    Text(String),
}

/// Reads and threads the inputs.
pub fn read_forest(paths: &[PathBuf], opts: &IngestOptions) -> Result<Forest, IngestError> {
    Ok(thread::build(ingest::read_inputs(paths, opts)?))
}

/// The stance target text of each article (`None`: nothing to take a stance on).
pub fn article_targets(forest: &Forest, target: &StanceTarget) -> Vec<Option<String>> {
    forest
        .articles
        .iter()
        .map(|a| match target {
            StanceTarget::Text(t) => Some(t.clone()),
            StanceTarget::FromInput => {
                let t = article_text(a.title.as_deref(), a.body.as_deref());
                (!t.trim().is_empty()).then_some(t)
            }
        })
        .collect()
}

/// Scores every node of the forest, in node order.
pub fn score_forest(
    forest: &Forest,
    scorer: &Scorer,
    target: &StanceTarget,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Scores>, ScorerError> {
    // Stance targets: one embedding per distinct target text; comments without an article
    // use the override when one is given.
    let targets = article_targets(forest, target);
    let mut target_texts: Vec<&str> = Vec::new();
    let mut slot_of_article: Vec<Option<usize>> = Vec::with_capacity(targets.len());
    for t in &targets {
        slot_of_article.push(t.as_deref().map(
            |t| match target_texts.iter().position(|x| *x == t) {
                Some(p) => p,
                None => {
                    target_texts.push(t);
                    target_texts.len() - 1
                }
            },
        ));
    }
    let override_slot = match target {
        StanceTarget::Text(t) => Some(match target_texts.iter().position(|x| *x == t.as_str()) {
            Some(p) => p,
            None => {
                target_texts.push(t.as_str());
                target_texts.len() - 1
            }
        }),
        StanceTarget::FromInput => None,
    };
    let target_embs = scorer.embed_distinct(&target_texts, &mut |_| {})?;
    debug_assert_eq!(target_embs.len(), target_texts.len() * DIM);
    let texts: Vec<&str> = forest.comments.iter().map(|c| c.text.as_str()).collect();
    let article_of: Vec<Option<usize>> = forest
        .nodes
        .iter()
        .map(|n| {
            n.article
                .and_then(|a| slot_of_article.get(a).copied().flatten())
                .or(override_slot)
        })
        .collect();
    scorer.score(texts, article_of, &target_embs, progress)
}

/// Scores loose texts, each with an optional stance target text (the server's requests): the
/// same path as `score_forest`, one embedding per distinct target and one encoder pass per
/// distinct text, so a text gets the scores `threadlens score` gives it.
pub fn score_texts(
    scorer: &Scorer,
    items: &[(&str, Option<&str>)],
) -> Result<Vec<Scores>, ScorerError> {
    let mut target_texts: Vec<&str> = Vec::new();
    let article_of: Vec<Option<usize>> = items
        .iter()
        .map(|(_, target)| {
            target.map(|t| match target_texts.iter().position(|x| *x == t) {
                Some(p) => p,
                None => {
                    target_texts.push(t);
                    target_texts.len() - 1
                }
            })
        })
        .collect();
    let target_embs = scorer.embed_distinct(&target_texts, &mut |_| {})?;
    let texts: Vec<&str> = items.iter().map(|(t, _)| *t).collect();
    scorer.score(texts, article_of, &target_embs, &mut |_| {})
}
