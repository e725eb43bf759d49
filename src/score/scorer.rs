//! The scorer: encoder + heads. Embeds every distinct text once (length-bucketed batches),
//! embeds each article once, and turns embeddings into sentiment, toxicity and stance scores.

use std::collections::HashMap;
use std::path::Path;

use super::batch::{embed_all, BatchOptions};
use super::calls::{ArticleModel, StanceCalls};
use super::encoder::{Encoder, EncoderError, EncoderOptions, DIM};
use super::figures::FlagFigures;
use super::heads::{Heads, HeadsError};
use super::models::{describe, describe_cached, encoder_id, HeadsFiles, ADAPTER_FILE, ENCODER_DIR};
use super::pair::PairScorer;
use super::plugin::{map_labels, map_toxicity_labels, Classifier, PluginError, SENTIMENT_SYNONYMS};
use super::precision::AutoChoice;

#[derive(Debug, thiserror::Error)]
pub enum ScorerError {
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    #[error(transparent)]
    Heads(#[from] HeadsError),
    #[error("reading {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("{path}: {message}")]
    Labels {
        path: std::path::PathBuf,
        message: String,
    },
}

/// A plug-in classifier and, for each threadlens column, the model output feeding it.
struct Plugged {
    model: Classifier,
    columns: Vec<Option<usize>>,
}

impl Plugged {
    fn columns_of(&self, probs: &[f32], out: &mut [f32]) {
        for (slot, col) in out.iter_mut().zip(&self.columns) {
            *slot = col.map_or(0.0, |c| probs[c]);
        }
    }
}

/// Scores of one text.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// negative, neutral, positive
    pub sentiment: [f32; 3],
    /// toxicity, insult, threat, obscene, identity_attack, severe_toxicity, sexual_explicit
    /// ([`super::heads::TOXICITY_LABELS`])
    pub toxicity: [f32; super::heads::ATTRIBUTES],
    /// favor, against, none — `None` when there is no article or topic to take a stance on.
    pub stance: Option<[f32; 3]>,
    /// The stance was inferred through the thread (a reply that only agrees or disagrees with
    /// a parent whose stance is clear; `pipeline::infer_thread_stance`): `stance` then holds
    /// the parent's probabilities (favor and against swapped for a disagreeing reply).
    pub stance_inferred: bool,
    /// A reply's stance toward its parent comment: agree, disagree, neutral (pair model only;
    /// `None` for roots and where no pair model is installed).
    pub reply: Option<[f32; 3]>,
    /// The stance toward the article the product asserts (index into `STANCE_LABELS`), `None`
    /// where it is unclear or there is no stance ([`super::calls`]).
    pub stance_call: Option<usize>,
    /// The asserted reply stance (index into `REPLY_LABELS`), `None` where unclear or no reply.
    pub reply_call: Option<usize>,
    /// The language the detector found (ISO 639-3), `None` where it was unsure ([`super::lang`]).
    pub lang: Option<&'static str>,
    /// Left unscored on purpose (a pingback or trackback, `pipeline::score_forest`): the
    /// numbers above are not scores and are written as empty cells.
    pub not_scored: bool,
}

/// Encoder plus heads, ready to score.
pub struct Scorer {
    encoder: Encoder,
    heads: Heads,
    /// Short hash identifying encoder weights + heads (the `model` column).
    pub model_id: String,
    pub batch: BatchOptions,
    sentiment_plugin: Option<Plugged>,
    toxicity_plugin: Option<Plugged>,
    /// The stance pair model, where `models/heads` has one and it is not switched off; with
    /// [`StanceModel::EmbeddingReply`] only its reply model.
    pair: Option<PairScorer>,
    auto: AutoChoice,
    /// When a stance is asserted, for this run's models.
    calls: StanceCalls,
    /// What the default flag thresholds were measured to do with these heads.
    figures: FlagFigures,
}

/// Which model gives stance toward the article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StanceModel {
    /// The pair model where installed (target and comment read together, plus reply stance),
    /// else `embedding`. Not the default: better on every held-out comment set, but wrong on
    /// the bundled Sputnik page, and half the throughput (models/README.md, stance v2.1).
    Pair,
    /// The head on the comment's and the target's separate embeddings (one pass per comment,
    /// no reply stance).
    #[default]
    Embedding,
    /// `embedding` for stance toward the article, and the reply model (stance v2.6) for each
    /// reply's stance toward its parent: one extra pass per reply, none per comment.
    EmbeddingReply,
}

impl Scorer {
    /// Loads `DIR/all-MiniLM-L6-v2` and `DIR/heads/heads.safetensors`.
    pub fn load(models: &Path, opts: &EncoderOptions) -> Result<Scorer, ScorerError> {
        Scorer::load_with(models, opts, StanceModel::default())
    }

    /// Loads as [`Scorer::load`], with stance from `stance`: `Embedding` leaves the pair and
    /// reply models out (the model id names the optional models that take part).
    pub fn load_with(
        models: &Path,
        opts: &EncoderOptions,
        stance: StanceModel,
    ) -> Result<Scorer, ScorerError> {
        let enc_dir = models.join(ENCODER_DIR);
        let adapter = models.join("heads").join(ADAPTER_FILE);
        let adapter = adapter.is_file().then_some(adapter);
        let auto = super::precision::resolve(&enc_dir, opts)?;
        let opts = EncoderOptions {
            adapter: opts.adapter.clone().or(adapter),
            precision: auto.precision,
            ..opts.clone()
        };
        let encoder = Encoder::load(&enc_dir, &opts)?;
        let heads = Heads::load(&models.join("heads"))?;
        let weights = enc_dir.join("model.safetensors");
        let base = describe_cached(&weights)
            .map_err(|source| ScorerError::Io {
                path: weights,
                source,
            })?
            .sha256_12;
        let enc_hash =
            encoder_id(&base, opts.adapter.as_deref()).map_err(|source| ScorerError::Io {
                path: opts.adapter.clone().unwrap_or_default(),
                source,
            })?;
        let heads_dir = models.join("heads");
        let files = HeadsFiles::read(&heads_dir).map_err(|source| ScorerError::Io {
            path: heads_dir.clone(),
            source,
        })?;
        let installed = installed_identity(&enc_hash, &files);
        let pair_opts = EncoderOptions {
            adapter: None,
            ..opts.clone()
        };
        let pair = match stance {
            StanceModel::Pair => PairScorer::load(&enc_dir, &heads_dir, &pair_opts)?,
            StanceModel::EmbeddingReply => {
                PairScorer::load_reply_only(&enc_dir, &heads_dir, &pair_opts)?
            }
            StanceModel::Embedding => None,
        };
        // The identity of the installed files, plus the optional models that take part.
        let model_id = match &pair {
            Some(p) if p.reads_article() => format!("{installed}+pair"),
            Some(_) => format!("{installed}+reply"),
            None => installed,
        };
        let article = match &pair {
            Some(p) if p.reads_article() => ArticleModel::Pair,
            _ => ArticleModel::OnePass,
        };
        // The stance thresholds file is one of the installed files, so it is in the identity.
        let calls = StanceCalls::load(&files, article);
        let figures = FlagFigures::load(&files);
        Ok(Scorer {
            encoder,
            heads,
            model_id,
            batch: BatchOptions::default(),
            sentiment_plugin: None,
            toxicity_plugin: None,
            pair,
            auto,
            calls,
            figures,
        })
    }

    /// How the precision was chosen (`--precision auto` resolves on loading).
    pub fn precision_choice(&self) -> &AutoChoice {
        &self.auto
    }

    /// When this run asserts a stance ([`super::calls`]).
    pub fn calls(&self) -> &StanceCalls {
        &self.calls
    }

    /// What the default flag thresholds were measured to do with these heads
    /// ([`super::figures`]).
    pub fn flag_figures(&self) -> &FlagFigures {
        &self.figures
    }

    /// The stance pair model in use, if any.
    pub fn pair(&self) -> Option<&PairScorer> {
        self.pair.as_ref()
    }

    /// Replaces the sentiment and/or toxicity head by a fine-tuned sequence classifier.
    /// A sentiment model with only negative/positive labels scores neutral as 0; a toxicity
    /// model without severe_toxicity or sexual_explicit labels scores those as 0.
    pub fn with_plugins(
        mut self,
        sentiment: Option<&Path>,
        toxicity: Option<&Path>,
    ) -> Result<Scorer, ScorerError> {
        if let Some(dir) = sentiment {
            let model = Classifier::load(dir)?;
            let columns = match map_labels(&model.labels, &SENTIMENT_SYNONYMS) {
                Ok(c) => c.into_iter().map(Some).collect(),
                Err(message) => {
                    let two = [SENTIMENT_SYNONYMS[0], SENTIMENT_SYNONYMS[2]];
                    let c = map_labels(&model.labels, &two).map_err(|_| ScorerError::Labels {
                        path: dir.join("config.json"),
                        message,
                    })?;
                    vec![Some(c[0]), None, Some(c[1])]
                }
            };
            let h = super::models::short_hash(dir_hash(dir).as_bytes());
            self.model_id = format!("{}+sentiment-{}", self.model_id, &h[..8]);
            self.sentiment_plugin = Some(Plugged { model, columns });
        }
        if let Some(dir) = toxicity {
            let model = Classifier::load(dir)?;
            // Severe toxicity and sexually explicit score 0 when the model has no such label.
            let columns =
                map_toxicity_labels(&model.labels).map_err(|message| ScorerError::Labels {
                    path: dir.join("config.json"),
                    message,
                })?;
            let h = super::models::short_hash(dir_hash(dir).as_bytes());
            self.model_id = format!("{}+toxicity-{}", self.model_id, &h[..8]);
            self.toxicity_plugin = Some(Plugged { model, columns });
        }
        Ok(self)
    }

    /// The encoder, e.g. to report its precision.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Embeds texts, each distinct text once, in input order.
    pub fn embed_distinct(
        &self,
        texts: &[&str],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<f32>, EncoderError> {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut distinct: Vec<&str> = Vec::new();
        let slots: Vec<usize> = texts
            .iter()
            .map(|t| {
                *index.entry(t).or_insert_with(|| {
                    distinct.push(t);
                    distinct.len() - 1
                })
            })
            .collect();
        let dups = texts.len() - distinct.len();
        let emb = embed_all(&self.encoder, &distinct, &self.batch, progress)?;
        progress(dups);
        let mut out = Vec::with_capacity(texts.len() * DIM);
        for s in slots {
            out.extend_from_slice(&emb[s * DIM..(s + 1) * DIM]);
        }
        Ok(out)
    }

    /// Scores texts; `article_of[i]` indexes `article_embs` (rows of DIM) or is `None`.
    ///
    /// Each distinct (text, article) pair is scored once, in order of first appearance. Work
    /// proceeds in chunks of distinct texts, so memory holds a chunk's embeddings, not the whole
    /// input's. The inputs are taken by value and dropped before the per-text scores are laid
    /// out: at a million comments every byte per comment counts.
    pub fn score(
        &self,
        texts: Vec<&str>,
        article_of: Vec<Option<usize>>,
        article_embs: &[f32],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Scores>, ScorerError> {
        const CHUNK: usize = 16 * 1024;
        let key = |i: usize| (texts[i], article_of.get(i).copied().flatten());
        let (slots, firsts) = dedupe(texts.len(), |a, b| key(a).cmp(&key(b)));
        let distinct: Vec<(&str, Option<usize>)> =
            firsts.iter().map(|&i| key(i as usize)).collect();
        drop(firsts);
        let n = texts.len();
        drop(article_of);
        drop(texts);
        let mut key_scores: Vec<Scores> = Vec::with_capacity(distinct.len());
        for chunk in distinct.chunks(CHUNK) {
            let chunk_texts: Vec<&str> = chunk.iter().map(|(t, _)| *t).collect();
            let emb = embed_all(&self.encoder, &chunk_texts, &self.batch, progress)?;
            let mut scores: Vec<Scores> = chunk
                .iter()
                .enumerate()
                .map(|(k, (text, article))| {
                    let e = &emb[k * DIM..(k + 1) * DIM];
                    let stance = article
                        .map(|a| self.heads.stance(e, &article_embs[a * DIM..(a + 1) * DIM]));
                    Scores {
                        sentiment: self.heads.sentiment(e),
                        toxicity: self.heads.toxicity(e),
                        stance,
                        lang: super::lang::detect(text),
                        ..Default::default()
                    }
                })
                .collect();
            if let Some(p) = &self.sentiment_plugin {
                for (s, probs) in scores.iter_mut().zip(p.model.predict(&chunk_texts)?) {
                    p.columns_of(&probs, &mut s.sentiment);
                }
            }
            if let Some(p) = &self.toxicity_plugin {
                for (s, probs) in scores.iter_mut().zip(p.model.predict(&chunk_texts)?) {
                    p.columns_of(&probs, &mut s.toxicity);
                }
            }
            key_scores.extend(scores);
        }
        progress(n - distinct.len());
        drop(distinct);
        Ok(expand(key_scores, &slots))
    }
}

/// `out[i] = per_group[slots[i]]`, in place: groups are numbered by first appearance, so
/// `slots[i] <= i`, and filling from the back never overwrites a group's score before its
/// last use. No second per-comment vector.
fn expand<T: Copy + Default>(mut per_group: Vec<T>, slots: &[u32]) -> Vec<T> {
    per_group.resize(slots.len(), T::default());
    for (i, &s) in slots.iter().enumerate().rev() {
        debug_assert!(s as usize <= i);
        per_group[i] = per_group[s as usize];
    }
    per_group
}

/// Groups `0..n` by equality under `cmp` without hashing (an index sort, 4 bytes per item):
/// returns each item's group and each group's first item, groups numbered in order of first
/// appearance.
fn dedupe(n: usize, cmp: impl Fn(usize, usize) -> std::cmp::Ordering) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..n as u32).collect();
    // Stable: within a group, items stay in input order, so the first is the group's earliest.
    order.sort_by(|&a, &b| cmp(a as usize, b as usize));
    let mut slots = vec![0u32; n];
    let mut firsts: Vec<u32> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if k == 0 || cmp(order[k - 1] as usize, i as usize).is_ne() {
            firsts.push(i);
        }
        slots[i as usize] = (firsts.len() - 1) as u32;
    }
    // Renumber the groups by first appearance.
    let mut by_first: Vec<u32> = (0..firsts.len() as u32).collect();
    by_first.sort_unstable_by_key(|&g| firsts[g as usize]);
    let mut renumber = vec![0u32; firsts.len()];
    for (new, &old) in by_first.iter().enumerate() {
        renumber[old as usize] = new as u32;
    }
    for s in &mut slots {
        *s = renumber[*s as usize];
    }
    firsts.sort_unstable();
    (slots, firsts)
}

/// The model identity every command prints and writes for the same installed files (issue
/// 37 item 6): `threadlens-VERSION-minilm-HASH`, where HASH covers the encoder (with its
/// adapter, `enc_hash`) and every file in the heads folder, loaded by this command or not
/// (the pair and reply models, the stance thresholds), except the training records
/// (`*metrics.json`). The optional models a command uses are appended (`+reply`, `+pair`).
fn installed_identity(enc_hash: &str, files: &HeadsFiles) -> String {
    let mut all = enc_hash.to_string();
    for (name, sha) in files.iter() {
        all.push_str(&format!(";{name}={sha}"));
    }
    let h = super::models::short_hash(all.as_bytes());
    format!(
        "threadlens-{}-minilm-{}",
        env!("CARGO_PKG_VERSION"),
        &h[..8]
    )
}

fn dir_hash(dir: &Path) -> String {
    ["config.json", "model.safetensors", "rust_model.ot"]
        .iter()
        .filter_map(|f| describe(&dir.join(f)).ok())
        .map(|i| i.sha256_12)
        .collect::<Vec<_>>()
        .join("")
}

/// The text an article is represented by for stance: its title and lead (the first
/// paragraphs of the body, up to about 600 characters; the encoder truncates at 256 tokens).
pub fn article_text(title: Option<&str>, body: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(t) = title {
        s.push_str(t.trim());
    }
    if let Some(b) = body {
        let mut lead = String::new();
        for para in b.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
            if !lead.is_empty() {
                lead.push(' ');
            }
            lead.push_str(para);
            if lead.len() >= 600 {
                break;
            }
        }
        if !lead.is_empty() {
            if !s.is_empty() {
                s.push_str(". ");
            }
            s.push_str(&lead);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::installed_identity;
    use crate::score::models::HeadsFiles;

    /// The identity covers every heads file but the training records, whatever was loaded.
    #[test]
    fn the_identity_covers_the_installed_files_but_not_the_records() {
        let d = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| std::fs::write(d.path().join(name), text).unwrap();
        put("heads.safetensors", "h");
        put("stance-reply-heads.safetensors", "r");
        put("metrics.json", "1");
        let id_of = |enc: &str| installed_identity(enc, &HeadsFiles::read(d.path()).unwrap());
        let id = id_of("enc");
        assert!(
            id.starts_with(&format!("threadlens-{}-minilm-", env!("CARGO_PKG_VERSION"))),
            "{id}"
        );
        put("metrics.json", "2");
        put("evaluation-metrics.json", "3");
        assert_eq!(id_of("enc"), id);
        put("stance-reply-heads.safetensors", "r2");
        assert_ne!(id_of("enc"), id);
        assert_ne!(id_of("enc2"), id_of("enc"));
    }
    use super::{article_text, dedupe, expand};

    #[test]
    fn dedupe_groups_by_first_appearance() {
        let items = ["b", "a", "b", "c", "a", "b"];
        let (slots, firsts) = dedupe(items.len(), |x, y| items[x].cmp(items[y]));
        assert_eq!(slots, [0, 1, 0, 2, 1, 0]);
        assert_eq!(firsts, [0, 1, 3]);
        let per_group: Vec<&str> = firsts.iter().map(|&i| items[i as usize]).collect();
        assert_eq!(expand(per_group, &slots), items);
        let (slots, firsts) = dedupe(0, |_, _| std::cmp::Ordering::Equal);
        assert!(slots.is_empty() && firsts.is_empty());
    }

    #[test]
    fn article_text_takes_title_and_lead() {
        assert_eq!(
            article_text(Some(" Title "), Some("One.\n\nTwo.")),
            "Title. One. Two."
        );
        assert_eq!(article_text(None, None), "");
        assert_eq!(article_text(Some("T"), None), "T");
        let long = "x".repeat(700);
        let body = format!("{long}\n\nsecond");
        assert_eq!(article_text(None, Some(&body)), long);
    }
}
