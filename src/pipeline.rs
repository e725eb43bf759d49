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
    let mut forest = thread::build(ingest::read_inputs(paths, opts)?);
    forest.integrity.selectors = opts.selectors.as_ref().map(|s| s.flags());
    Ok(forest)
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
    score_pingbacks: bool,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Scores>, ScorerError> {
    // Pingbacks and trackbacks are links from other sites: left unscored unless asked.
    let skip: Vec<bool> = forest
        .comments
        .iter()
        .map(|c| !score_pingbacks && c.kind.is_link())
        .collect();
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
    let texts: Vec<&str> = forest
        .comments
        .iter()
        .zip(&skip)
        .map(|(c, &skip)| if skip { "" } else { c.text.as_str() })
        .collect();
    let article_of: Vec<Option<usize>> = forest
        .nodes
        .iter()
        .map(|n| {
            n.article
                .and_then(|a| slot_of_article.get(a).copied().flatten())
                .or(override_slot)
        })
        .collect();
    let mut scores = scorer.score(texts, article_of, &target_embs, progress)?;
    if scorer.pair().is_some() {
        let node_target: Vec<Option<&str>> = forest
            .nodes
            .iter()
            .map(|n| {
                n.article
                    .and_then(|a| targets.get(a).and_then(|t| t.as_deref()))
                    .or(match target {
                        StanceTarget::Text(t) => Some(t.as_str()),
                        StanceTarget::FromInput => None,
                    })
            })
            .collect();
        let texts: Vec<&str> = forest.comments.iter().map(|c| c.text.as_str()).collect();
        let parents: Vec<Option<usize>> = forest.nodes.iter().map(|n| n.parent).collect();
        pair_stance(scorer, &texts, &node_target, &parents, &mut scores)?;
    }
    for (s, _) in scores.iter_mut().zip(&skip).filter(|(_, &skip)| skip) {
        *s = Scores {
            not_scored: true,
            ..Scores::default()
        };
    }
    scorer.calls().apply(&mut scores);
    Ok(scores)
}

/// Stance from the scorer's pair model: each text that has a target toward it (replacing the
/// embedding head's), each reply toward its parent's text, then the thread rule
/// ([`infer_thread_stance`]). `parents[i]` indexes `texts` and must come before `i`. Each
/// distinct pair is scored once.
pub fn pair_stance(
    scorer: &Scorer,
    texts: &[&str],
    targets: &[Option<&str>],
    parents: &[Option<usize>],
    scores: &mut [Scores],
) -> Result<(), ScorerError> {
    use crate::score::pair::PairTask;
    let Some(pair) = scorer.pair() else {
        return Ok(());
    };
    let batch = scorer.batch.max_rows.clamp(1, 64);
    let run = |task: PairTask,
               items: Vec<(usize, &str, &str)>|
     -> Result<Vec<(usize, [f32; 3])>, ScorerError> {
        let mut index: std::collections::HashMap<(&str, &str), usize> = Default::default();
        let mut distinct: Vec<(&str, &str)> = Vec::new();
        let slots: Vec<usize> = items
            .iter()
            .map(|&(_, a, b)| {
                *index.entry((a, b)).or_insert_with(|| {
                    distinct.push((a, b));
                    distinct.len() - 1
                })
            })
            .collect();
        let probs = pair.score(task, &distinct, batch)?;
        Ok(items
            .iter()
            .zip(slots)
            .map(|(it, s)| (it.0, probs[s]))
            .collect())
    };
    if pair.reads_article() {
        let article: Vec<(usize, &str, &str)> = (0..texts.len())
            .filter_map(|i| targets[i].map(|t| (i, t, texts[i])))
            .filter(|(_, _, c)| !c.trim().is_empty())
            .collect();
        for (i, p) in run(PairTask::Article, article)? {
            scores[i].stance = Some(p);
        }
    }
    let replies: Vec<(usize, &str, &str)> = (0..texts.len())
        .filter_map(|i| parents[i].map(|p| (i, texts[p], texts[i])))
        .filter(|(_, p, c)| !p.trim().is_empty() && !c.trim().is_empty())
        .collect();
    for (i, p) in run(PairTask::Reply, replies)? {
        scores[i].reply = Some(p);
    }
    let rule = if pair.reads_article() {
        THREAD_RULE
    } else {
        THREAD_RULE_ONE_PASS
    };
    if rule {
        infer_thread_stance(parents, scores);
    }
    Ok(())
}

/// Whether the thread rule is applied (models/README.md, "Stance v2 protocol": kept only if
/// it raises MT-CSD dev macro-F1 by at least 0.005). On: with the reply model of stance v2.6 it
/// infers MT-CSD dev rows that raise macro-F1 from 0.5126 to 0.5210 (+0.0084); with the pair
/// model's own reply head it had gained 0.0032 only.
pub const THREAD_RULE: bool = true;

/// Whether the thread rule is applied where stance toward the article comes from the one-pass
/// head and reply stance from the reply model (`--stance-model embedding-reply`). Off: measured
/// under the same rule (amendment stance v2.12, `scripts/thread_rule_one_pass.py`), it lowered
/// MT-CSD dev macro-F1 from 0.3457 to 0.3386 (models/README.md, "Reply stance beside the
/// one-pass head").
pub const THREAD_RULE_ONE_PASS: bool = false;

/// Least reply-stance probability of agree (or disagree) for a reply to inherit its parent's
/// stance.
pub const THREAD_RULE_MIN: f32 = 0.5;

/// The thread rule: a reply whose own stance is `none`, that agrees (or disagrees) with its
/// parent with probability ≥ [`THREAD_RULE_MIN`], under a parent whose stance (its own or
/// itself inferred) is favor or against, takes the parent's stance (or the opposite one), and
/// is marked inferred. Parents come before their replies, so one pass in order goes top-down.
pub fn infer_thread_stance(parents: &[Option<usize>], scores: &mut [Scores]) {
    use crate::score::heads::argmax;
    for i in 0..scores.len() {
        let (Some(p), Some(own), Some(reply)) = (parents[i], scores[i].stance, scores[i].reply)
        else {
            continue;
        };
        let Some(ps) = scores.get(p).and_then(|s| s.stance) else {
            continue;
        };
        if p >= i || argmax(&own) != 2 || argmax(&ps) == 2 {
            continue;
        }
        let inferred = if reply[0] >= THREAD_RULE_MIN {
            ps
        } else if reply[1] >= THREAD_RULE_MIN {
            [ps[1], ps[0], ps[2]]
        } else {
            continue;
        };
        scores[i].stance = Some(inferred);
        scores[i].stance_inferred = true;
    }
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
    let mut scores = scorer.score(texts.clone(), article_of, &target_embs, &mut |_| {})?;
    let targets: Vec<Option<&str>> = items.iter().map(|(_, t)| *t).collect();
    pair_stance(
        scorer,
        &texts,
        &targets,
        &vec![None; texts.len()],
        &mut scores,
    )?;
    scorer.calls().apply(&mut scores);
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(stance: [f32; 3], reply: Option<[f32; 3]>) -> Scores {
        Scores {
            stance: Some(stance),
            reply,
            ..Default::default()
        }
    }

    /// A root in favor; a "none" reply that agrees takes favor, a "none" reply to it that
    /// disagrees takes against (top-down), one that is unsure keeps none, and a reply with a
    /// stance of its own keeps it.
    #[test]
    fn the_thread_rule_follows_agreement_top_down() {
        let parents = [None, Some(0), Some(1), Some(0), Some(0)];
        let mut scores = vec![
            s([0.8, 0.1, 0.1], None),
            s([0.2, 0.1, 0.7], Some([0.9, 0.05, 0.05])),
            s([0.1, 0.1, 0.8], Some([0.1, 0.7, 0.2])),
            s([0.1, 0.1, 0.8], Some([0.4, 0.3, 0.3])),
            s([0.1, 0.7, 0.2], Some([0.9, 0.05, 0.05])),
        ];
        infer_thread_stance(&parents, &mut scores);
        let label = |i: usize| crate::score::heads::argmax(&scores[i].stance.unwrap());
        assert_eq!((label(1), scores[1].stance_inferred), (0, true));
        assert_eq!((label(2), scores[2].stance_inferred), (1, true));
        assert_eq!((label(3), scores[3].stance_inferred), (2, false));
        assert_eq!((label(4), scores[4].stance_inferred), (1, false));
        assert_eq!(scores[1].stance, Some([0.8, 0.1, 0.1]));
        assert_eq!(scores[2].stance, Some([0.1, 0.8, 0.1]));
    }
}
