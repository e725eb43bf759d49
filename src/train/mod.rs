//! `threadlens train`: embeds the labelled data once (cached on disk), trains the sentiment,
//! toxicity and stance heads with a validation split, measures them on held-out test sets that
//! training never sees, and writes `models/heads/heads.safetensors` plus `metrics.json`.

pub mod clear_cases;
pub mod comment_sets;
pub mod datasets;
pub mod eval;
pub mod finetune;
pub mod heldout;
pub mod label_maps;
pub mod pair_model;
pub mod pairs;
pub mod recipe;
pub mod trainer;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::score::batch::{embed_all, BatchOptions};
use crate::score::encoder::{Encoder, DIM, FORWARD_VERSION};
use crate::score::heads::{self, argmax, sigmoid, softmax, stance_features, Mlp};
use crate::train::trainer::{train_mlp, Targets, TrainConfig, TrainLog};
use datasets::{normalize, AttrExample, ClassExample, Split};
use eval::Confusion;

/// Percentage of training rows held back for early stopping and threshold choice.
pub const VALIDATION_PERCENT: u64 = 10;

/// Training settings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainSettings {
    pub data: PathBuf,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub config: TrainConfig,
    /// Use FNC-1 headline/body pairs for stance as well as TweetEval.
    pub fnc: bool,
    /// Balance positives and negatives within each toxicity source (see attr_targets).
    pub balance_sources: bool,
    /// Add edited, non-tweet sentiment sentences as toxicity negatives (see datasets::assumed_clean).
    pub clean_negatives: bool,
    /// The label mapping file (`label_maps`); `None`: the built-in committed one.
    #[serde(default)]
    pub label_maps: Option<PathBuf>,
    /// Stage 1: the LoRA fine-tuning settings, when the encoder was adapted.
    pub finetune: Option<crate::train::finetune::FinetuneConfig>,
    /// How the sentiment head weighs its rows and whether its class priors are corrected.
    pub sentiment: SentimentOptions,
    /// Measure only: read all three heads from `out`'s heads file and use the default
    /// thresholds of `tune::thresholds::DEFAULTS`; nothing is fitted and the heads file is not
    /// written (the figures of the committed heads as they stand; metrics go to
    /// [`EVALUATION_FILE`]).
    #[serde(default)]
    pub evaluate_only: bool,
}

impl TrainSettings {
    /// The label maps `label_maps` names (the built-in committed ones without a file).
    pub fn maps(&self) -> anyhow::Result<label_maps::LabelMaps> {
        match &self.label_maps {
            Some(p) => label_maps::LabelMaps::load(p).map_err(anyhow::Error::msg),
            None => Ok(label_maps::LabelMaps::committed()),
        }
    }
}

/// Where `evaluate_only` writes its metrics, beside the heads.
pub const EVALUATION_FILE: &str = "evaluation-metrics.json";

/// How the sentiment head's loss weighs its rows (see `sentiment_row_weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentBalance {
    /// One weight per class over all sources: total / (classes × count).
    Global,
    /// Within each source, every class the source has carries equal total weight (capped at
    /// 10× per row); sources without a neutral class add none.
    Sources,
}

/// Sentiment head options (the levers measured in models/README.md).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SentimentOptions {
    pub balance: SentimentBalance,
    /// Weigh each CrowdFlower row by its annotators' confidence.
    pub confidence: bool,
    /// Allow per-class offsets on the head's output bias, fitted to maximise macro-recall on
    /// the validation rows of SemEval and GoEmotions (see `fit_prior_offsets`); they are kept
    /// only when they pass the rule of models/README.md (+0.5 points, 2-fold).
    pub prior_correction: bool,
}

impl Default for SentimentOptions {
    fn default() -> Self {
        SentimentOptions {
            balance: SentimentBalance::Global,
            confidence: false,
            prior_correction: true,
        }
    }
}

/// Everything measured, written to `metrics.json` and the model card.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Metrics {
    pub rows: HashMap<String, usize>,
    pub logs: HashMap<String, TrainLog>,
    /// metric name → value, e.g. "sentiment.test.macro_recall".
    pub scores: std::collections::BTreeMap<String, f64>,
    /// Stage 1 (LoRA fine-tuning of the encoder), when it ran in this training.
    pub finetune: Option<crate::train::finetune::FinetuneLog>,
    /// Per attribute, the sources whose validation rows decided its default threshold.
    pub threshold_sources: std::collections::BTreeMap<String, Vec<String>>,
    /// Per attribute, the source flagging the largest share of its negatives at the default.
    pub threshold_binding: std::collections::BTreeMap<String, String>,
    /// Reliability of `toxicity` on Civil Comments test rows: per tenth of the predicted
    /// probability, (rows, mean predicted, mean rater fraction).
    pub calibration: Vec<(usize, f64, f64)>,
}

/// The embedding cache's file for one encoder hash, precision, token limit and forward pass.
fn cache_file_name(encoder_hash: &str, precision: &str, max_tokens: usize) -> String {
    format!("embeddings-{encoder_hash}-{precision}-{max_tokens}-f{FORWARD_VERSION}.bin")
}

/// A disk cache of embeddings keyed by SHA-256 of (encoder hash, text), one file per encoder
/// hash, precision, token limit and forward-pass version ([`FORWARD_VERSION`]): embeddings from
/// another precision or an older forward pass are never reused.
pub struct EmbeddingCache {
    path: PathBuf,
    map: HashMap<[u8; 32], Vec<f32>>,
    salt: String,
}

impl EmbeddingCache {
    pub fn open(dir: &Path, encoder_hash: &str, enc: &Encoder) -> std::io::Result<EmbeddingCache> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(cache_file_name(
            encoder_hash,
            enc.precision_name(),
            enc.max_tokens(),
        ));
        let mut map = HashMap::new();
        if let Ok(mut f) = std::fs::File::open(&path) {
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            let rec = 32 + 4 * DIM;
            for chunk in buf.chunks_exact(rec) {
                let mut key = [0u8; 32];
                key.copy_from_slice(&chunk[..32]);
                let v = chunk[32..]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect();
                map.insert(key, v);
            }
        }
        Ok(EmbeddingCache {
            path,
            map,
            salt: encoder_hash.to_string(),
        })
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    /// Embeds every text not yet cached, appends them to the file, returns all embeddings.
    pub fn embed(&mut self, enc: &Encoder, texts: &[&str], show: bool) -> anyhow::Result<Vec<f32>> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for t in texts {
            let k = self.key(t);
            if !self.map.contains_key(&k) && seen.insert(k) {
                missing.push(t);
            }
        }
        if !missing.is_empty() {
            let bar = if show {
                indicatif::ProgressBar::new(missing.len() as u64)
            } else {
                indicatif::ProgressBar::hidden()
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "embedding [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            let emb = embed_all(enc, &missing, &BatchOptions::default(), &mut |n| {
                bar.inc(n as u64)
            })?;
            bar.finish_and_clear();
            let mut f = std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
            for (i, t) in missing.iter().enumerate() {
                let k = self.key(t);
                let v = emb[i * DIM..(i + 1) * DIM].to_vec();
                f.write_all(&k)?;
                for x in &v {
                    f.write_all(&x.to_le_bytes())?;
                }
                self.map.insert(k, v);
            }
            f.flush()?;
        }
        let mut out = Vec::with_capacity(texts.len() * DIM);
        for t in texts {
            out.extend_from_slice(&self.map[&self.key(t)]);
        }
        Ok(out)
    }
}

fn texts_of<T>(rows: &[T], f: impl Fn(&T) -> &str) -> Vec<&str> {
    rows.iter().map(f).collect()
}

/// Runs stage 2 and the evaluation: keeps stage 1's sentiment and toxicity heads when the
/// encoder was adapted (trains them here otherwise), trains the stance head, derives the
/// default thresholds on validation rows, measures everything on test rows, and writes
/// `heads.safetensors` and `metrics.json`. Returns the metrics it wrote.
pub fn run(
    settings: &TrainSettings,
    enc: &Encoder,
    encoder_hash: &str,
    finetune: Option<crate::train::finetune::FinetuneLog>,
    show: bool,
    log: &dyn Fn(&str),
) -> anyhow::Result<Metrics> {
    use anyhow::Context;
    let mut cache = EmbeddingCache::open(&settings.cache, encoder_hash, enc)
        .context("opening the embedding cache")?;
    let mut st = Stage {
        settings,
        maps: settings.maps()?,
        enc,
        cache: &mut cache,
        metrics: Metrics {
            finetune,
            ..Default::default()
        },
        show,
        log,
    };
    if settings.evaluate_only {
        return evaluate_committed(st);
    }
    let stage1 = if settings.finetune.is_some() {
        stage1_heads(&settings.out)?
    } else {
        None
    };
    let (s1_sent, s1_tox) = match stage1 {
        Some((a, b)) => (Some(a), Some(b)),
        None => (None, None),
    };
    let sent = sentiment_stage(&mut st, s1_sent)?;
    let tox = toxicity_stage(&mut st, s1_tox)?;
    let stance = stance_stage(&mut st)?;
    let metrics = st.metrics;

    std::fs::create_dir_all(&settings.out)?;
    let path = settings.out.join(heads::HEADS_FILE);
    crate::train::trainer::save_heads(
        &path,
        &[
            ("sentiment", &sent),
            ("toxicity", &tox),
            ("stance", &stance),
        ],
    )
    .with_context(|| format!("writing {}", path.display()))?;
    let mpath = settings.out.join("metrics.json");
    let json = serde_json::json!({ "settings": settings, "metrics": metrics });
    std::fs::write(&mpath, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", mpath.display()))?;
    Ok(metrics)
}

/// `run` with `evaluate_only`: every held-out figure of the committed heads at the default
/// thresholds, on this encoder's embeddings, written to [`EVALUATION_FILE`].
fn evaluate_committed(mut st: Stage) -> anyhow::Result<Metrics> {
    use anyhow::Context;
    let path = st.settings.out.join(heads::HEADS_FILE);
    let [sent, tox, stance]: [Mlp; 3] = read_mlps(
        &path,
        &[
            ("sentiment", DIM, 3),
            ("toxicity", DIM, heads::ATTRIBUTES),
            ("stance", 4 * DIM, 3),
        ],
    )?
    .try_into()
    .map_err(|_| anyhow::anyhow!("three heads asked for"))?;
    sentiment_stage(&mut st, Some(sent))?;
    toxicity_stage(&mut st, Some(tox))?;
    stance_figures(&mut st, &stance)?;
    let mpath = st.settings.out.join(EVALUATION_FILE);
    // The files these figures belong to: a report shows them only beside those files.
    let mut measured_for = serde_json::Map::new();
    for name in crate::score::figures::MEASURED_FILES {
        let p = st.settings.out.join(name);
        if p.is_file() {
            let info = crate::score::models::describe(&p)
                .with_context(|| format!("reading {}", p.display()))?;
            measured_for.insert(name.to_string(), info.sha256_12.into());
        }
    }
    let json = serde_json::json!({
        "measured_for": measured_for,
        "settings": st.settings,
        "metrics": st.metrics,
    });
    std::fs::write(&mpath, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", mpath.display()))?;
    Ok(st.metrics)
}

/// The default thresholds of `tune::thresholds::DEFAULTS`, in [`heads::TOXICITY_LABELS`] order.
fn committed_defaults() -> [f64; datasets::ATTRS] {
    use crate::tune::thresholds::{Attribute, DEFAULTS};
    std::array::from_fn(|k| {
        let a =
            Attribute::from_name(heads::TOXICITY_LABELS[k]).expect("every label is an attribute");
        DEFAULTS
            .iter()
            .find(|(d, _)| *d == a)
            .map(|(_, t)| *t)
            .expect("every attribute has a default")
    })
}

/// What every stage of `run` shares.
struct Stage<'a> {
    settings: &'a TrainSettings,
    /// The label maps `settings` names, read once.
    maps: label_maps::LabelMaps,
    enc: &'a Encoder,
    cache: &'a mut EmbeddingCache,
    metrics: Metrics,
    show: bool,
    log: &'a dyn Fn(&str),
}

impl Stage<'_> {
    fn embed(&mut self, texts: &[&str]) -> anyhow::Result<Vec<f32>> {
        self.cache.embed(self.enc, texts, self.show)
    }

    fn score(&mut self, name: String, v: f64) {
        self.metrics.scores.insert(name, v);
    }
}

/// The sentiment and toxicity heads stage 1 trained with the adapter, when its file is there.
fn stage1_heads(dir: &Path) -> anyhow::Result<Option<(Mlp, Mlp)>> {
    let path = dir.join(crate::train::finetune::STAGE1_HEADS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    let [sent, tox]: [Mlp; 2] = read_mlps(
        &path,
        &[("sentiment", DIM, 3), ("toxicity", DIM, heads::ATTRIBUTES)],
    )?
    .try_into()
    .map_err(|_| anyhow::anyhow!("two heads asked for"))?;
    Ok(Some((sent, tox)))
}

/// The heads `(name, inputs, outputs)` of the safetensors file `path`, in that order; an error
/// names the file.
fn read_mlps(path: &Path, specs: &[(&str, usize, usize)]) -> anyhow::Result<Vec<Mlp>> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    specs
        .iter()
        .map(|&(name, inputs, outputs)| {
            heads::read_mlp(&file, name, inputs, outputs)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        })
        .collect()
}

/// Indices of the rows in `split`.
fn rows_in<T>(rows: &[T], split: Split, of: impl Fn(&T) -> Split) -> Vec<usize> {
    (0..rows.len()).filter(|&i| of(&rows[i]) == split).collect()
}

/// Sources whose validation rows choose the sentiment prior correction (models/README.md).
const SENTIMENT_SELECTION_SOURCES: [&str; 2] = ["semeval", "goemotions"];

fn sentiment_stage(st: &mut Stage, stage1: Option<Mlp>) -> anyhow::Result<Mlp> {
    let (data, maps) = (&st.settings.data, &st.maps);
    let mut rows = comment_sets::sentiment_comments(data, maps)?;
    rows.extend(datasets::sentiment_train(data, maps)?);
    rows.extend(datasets::sentiment_test(data)?);
    (st.log)(&format!("sentiment: {} rows", rows.len()));
    let mut sent = match stage1 {
        Some(m) => m,
        None => train_class_head(st, &rows, "sentiment")?,
    };
    // Prior correction, by the rule of models/README.md.
    let sel: Vec<usize> = rows_in(&rows, Split::Validation, |e| e.split)
        .into_iter()
        .filter(|&i| SENTIMENT_SELECTION_SOURCES.contains(&rows[i].source))
        .collect();
    let texts: Vec<&str> = sel.iter().map(|&i| rows[i].text.as_str()).collect();
    let x = st.embed(&texts)?;
    let logits: Vec<[f32; 3]> = (0..sel.len())
        .map(|j| logits3(&sent, &x[j * DIM..(j + 1) * DIM]))
        .collect();
    let gold: Vec<usize> = sel.iter().map(|&i| rows[i].label).collect();
    let plain = macro_recall_with(&logits, &gold, [0.0; 3]);
    st.metrics
        .rows
        .insert("sentiment.selection".into(), sel.len());
    st.score("sentiment.validation.selection.macro_recall".into(), plain);
    if st.settings.sentiment.prior_correction && !st.settings.evaluate_only {
        let (offsets, out_of_fold) = fit_prior_offsets(&logits, &gold);
        st.score(
            "sentiment.validation.selection.prior_corrected_2fold".into(),
            out_of_fold,
        );
        let kept = out_of_fold >= plain + 0.005;
        st.score(
            "sentiment.prior_correction_kept".into(),
            f64::from(u8::from(kept)),
        );
        if kept {
            for (b, o) in sent.out.bias.iter_mut().zip(offsets) {
                *b += o;
            }
            for (c, o) in ["negative", "neutral", "positive"].iter().zip(offsets) {
                st.score(format!("sentiment.prior_offset.{c}"), f64::from(o));
            }
        }
    }
    // Test rows, per source.
    let test = rows_in(&rows, Split::Test, |e| e.split);
    let texts: Vec<&str> = test.iter().map(|&i| rows[i].text.as_str()).collect();
    let x = st.embed(&texts)?;
    let mut by_source: std::collections::BTreeMap<&str, (Vec<usize>, Vec<usize>)> =
        Default::default();
    for (j, &i) in test.iter().enumerate() {
        let e = by_source.entry(rows[i].source).or_default();
        e.0.push(rows[i].label);
        e.1.push(argmax(&sent.logits(&x[j * DIM..(j + 1) * DIM])));
    }
    for (source, (gold, pred)) in by_source {
        let c = Confusion::new(3, &gold, &pred);
        // Over the classes the source has (the review sets have no neutral class).
        let present: Vec<usize> = (0..3).filter(|k| gold.contains(k)).collect();
        let macro_recall =
            present.iter().map(|&k| c.recall(k)).sum::<f64>() / present.len().max(1) as f64;
        st.metrics
            .rows
            .insert(format!("sentiment.test.{source}"), gold.len());
        st.score(
            format!("sentiment.test.{source}.macro_recall"),
            macro_recall,
        );
        st.score(format!("sentiment.test.{source}.accuracy"), c.accuracy());
        st.score(format!("sentiment.test.{source}.macro_f1"), c.macro_f1());
        (st.log)(&format!(
            "sentiment: {source} test macro-recall {macro_recall:.3} ({} rows)",
            gold.len()
        ));
    }
    Ok(sent)
}

/// A class head trained here on the training rows (no stage 1): sentiment.
fn train_class_head(st: &mut Stage, rows: &[ClassExample], name: &str) -> anyhow::Result<Mlp> {
    let idx: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].split != Split::Test)
        .collect();
    let sub: Vec<ClassExample> = idx.iter().map(|&i| rows[i].clone()).collect();
    let texts: Vec<&str> = sub.iter().map(|e| e.text.as_str()).collect();
    let x = st.embed(&texts)?;
    let is_val: Vec<bool> = sub.iter().map(|e| e.split == Split::Validation).collect();
    let targets = class_targets(
        &sub,
        sentiment_row_weights(&sub, &is_val, &st.settings.sentiment),
    );
    let (mlp, tlog) = train_mlp(&x, DIM, &targets, &is_val, &st.settings.config)?;
    st.metrics.logs.insert(name.into(), tlog);
    Ok(mlp)
}

fn toxicity_stage(st: &mut Stage, stage1: Option<Mlp>) -> anyhow::Result<Mlp> {
    use datasets::ATTRS;
    let (data, maps) = (&st.settings.data, &st.maps);
    let mut rows = comment_sets::toxicity_comments(data, maps)?;
    rows.extend(datasets::toxicity_train(data, maps)?);
    if st.settings.clean_negatives {
        rows.extend(datasets::assumed_clean(data, maps)?);
    }
    rows.extend(datasets::toxicity_test(data, maps)?);
    rows.extend(comment_sets::identity_terms(data, maps)?);
    (st.log)(&format!("toxicity: {} rows", rows.len()));
    let raw = match stage1 {
        Some(m) => m,
        None => train_attr_head(st, &rows)?,
    };
    let logits_of = |st: &mut Stage, mlp: &Mlp, idx: &[usize]| -> anyhow::Result<Vec<Vec<f32>>> {
        let texts: Vec<&str> = idx.iter().map(|&i| rows[i].text.as_str()).collect();
        let x = st.embed(&texts)?;
        Ok((0..idx.len())
            .map(|i| mlp.logits(&x[i * DIM..(i + 1) * DIM]))
            .collect())
    };
    let probs = |l: &[Vec<f32>]| -> Vec<[f32; ATTRS]> {
        l.iter()
            .map(|z| std::array::from_fn(|k| sigmoid(z[k])))
            .collect()
    };
    // Calibration (models/README.md, "v2.1"): Platt scaling per attribute on the Civil
    // Comments validation rows against their rater fractions, folded into the output layer.
    let val = rows_in(&rows, Split::Validation, |e| e.split);
    let mut tox = raw.clone();
    let fit = !st.settings.evaluate_only;
    let raw_val = if fit {
        logits_of(st, &raw, &val)?
    } else {
        Vec::new()
    };
    for (k, name) in heads::TOXICITY_LABELS.iter().enumerate().filter(|_| fit) {
        let pairs: Vec<(f32, f32)> = val
            .iter()
            .zip(&raw_val)
            .filter(|(&i, _)| rows[i].source == CALIBRATION_SOURCE)
            .filter_map(|(&i, z)| rows[i].labels[k].map(|y| (z[k], y)))
            .collect();
        let (a, b) = heldout::fit_platt(&pairs);
        fold_platt(&mut tox, k, a, b);
        st.score(format!("toxicity.calibration.{name}.scale"), a);
        st.score(format!("toxicity.calibration.{name}.shift"), b);
        st.score(
            format!("toxicity.calibration.{name}.rows"),
            pairs.len() as f64,
        );
    }
    // Default thresholds from the calibrated validation scores ("v2.1").
    let vp = probs(&logits_of(st, &tox, &val)?);
    let scored: Vec<heldout::ScoredRow> = val
        .iter()
        .zip(&vp)
        .map(|(&i, p)| heldout::ScoredRow {
            row: &rows[i],
            probs: *p,
        })
        .collect();
    let thresholds = if fit {
        derive_defaults(st, &scored)
    } else {
        committed_defaults()
    };
    record_clear_defaults(st, &scored, &thresholds);
    // Validation figures per source, for choosing between models (models/README.md, "v2.2").
    st.metrics.scores.extend(heldout::per_source(
        &scored,
        &thresholds,
        "toxicity.validation",
    ));
    let tweet_thresholds = [
        tweet_validation_threshold(&scored, "tweeteval-offensive", datasets::TOX),
        tweet_validation_threshold(&scored, "tweeteval-hate", datasets::IDENTITY),
    ];
    for (name, t) in ["offensive", "hate"].iter().zip(tweet_thresholds) {
        st.score(
            format!("toxicity.validation.{name}.best_threshold"),
            f64::from(t),
        );
    }
    // Test rows.
    let test = rows_in(&rows, Split::Test, |e| e.split);
    let tp = probs(&logits_of(st, &tox, &test)?);
    let scored: Vec<heldout::ScoredRow> = test
        .iter()
        .zip(&tp)
        .map(|(&i, p)| heldout::ScoredRow {
            row: &rows[i],
            probs: *p,
        })
        .collect();
    st.metrics
        .scores
        .extend(heldout::per_source(&scored, &thresholds, "toxicity.test"));
    let civil_pairs = |p: &[[f32; ATTRS]]| -> Vec<(f32, f32)> {
        test.iter()
            .zip(p)
            .filter(|(&i, _)| rows[i].source == CALIBRATION_SOURCE)
            .filter_map(|(&i, p)| rows[i].labels[datasets::TOX].map(|y| (p[datasets::TOX], y)))
            .collect()
    };
    if fit {
        let raw_test = logits_of(st, &raw, &test)?;
        let (_, ece_raw) = heldout::calibration(&civil_pairs(&probs(&raw_test)));
        st.score(
            "toxicity.test.civil-comments.toxicity.ece_uncalibrated".into(),
            ece_raw,
        );
    }
    let (bins, ece) = heldout::calibration(&civil_pairs(&tp));
    st.score("toxicity.test.civil-comments.toxicity.ece".into(), ece);
    st.metrics.calibration = bins;
    let wiki: Vec<heldout::ScoredRow> = scored
        .iter()
        .filter(|r| r.row.source == "wikipedia-identity-terms")
        .map(|r| heldout::ScoredRow {
            row: r.row,
            probs: r.probs,
        })
        .collect();
    for (k, v) in heldout::identity_bias(&wiki, thresholds[datasets::TOX], 20) {
        st.score(format!("toxicity.bias.{k}"), v);
    }
    tweeteval_toxicity(st, &scored, tweet_thresholds);
    Ok(tox)
}

/// The default thresholds derived on the calibrated validation scores ("v2.1"), raised by the
/// union bound ("v2.2") until no source's clean rows are flagged by any attribute beyond the
/// same share, then moved by the clear-case search within that bound (issue 40); each
/// attribute's deciding and binding sources are recorded (those of the v2.1 step).
fn derive_defaults(st: &mut Stage, scored: &[heldout::ScoredRow]) -> [f64; datasets::ATTRS] {
    let derived = heldout::derive_thresholds(scored, THRESHOLD_MAX_SHARE, 100);
    let mut thresholds: [f64; datasets::ATTRS] = std::array::from_fn(|k| derived[k].threshold);
    if let Some((source, share)) =
        heldout::bound_union(scored, &mut thresholds, THRESHOLD_MAX_SHARE, 100)
    {
        st.score("defaults.union.binding_share".into(), share);
        st.metrics
            .threshold_binding
            .insert("union".to_string(), source);
    }
    // Then the clear-case search within the same bound (models/README.md, "Defaults that
    // catch the clear cases").
    thresholds = clear_cases::derive(scored, &thresholds, THRESHOLD_MAX_SHARE, 100).thresholds;
    for (k, d) in derived.into_iter().enumerate() {
        let name = heads::TOXICITY_LABELS[k];
        st.score(format!("defaults.{name}"), thresholds[k]);
        if let Some((source, share)) = &d.binding {
            st.score(format!("defaults.{name}.binding_share"), *share);
            st.metrics
                .threshold_binding
                .insert(name.to_string(), source.clone());
        }
        st.metrics
            .threshold_sources
            .insert(name.to_string(), d.sources);
    }
    thresholds
}

/// The clear-case search of models/README.md ("Defaults that catch the clear cases") from
/// `start`, on the validation rows, recorded as `defaults.clear.*`: the thresholds it ends
/// at, the objective before and after, each clear source's recall, and the binding source.
fn record_clear_defaults(
    st: &mut Stage,
    scored: &[heldout::ScoredRow],
    start: &[f64; datasets::ATTRS],
) {
    let d = clear_cases::derive(scored, start, THRESHOLD_MAX_SHARE, 100);
    for (k, name) in heads::TOXICITY_LABELS.iter().enumerate() {
        st.score(format!("defaults.clear.{name}"), d.thresholds[k]);
    }
    st.score("defaults.clear.objective_start".into(), d.objective_start);
    st.score("defaults.clear.objective".into(), d.objective);
    for (source, (rows, recall)) in &d.recall {
        st.score(format!("defaults.clear.{source}.rows"), *rows as f64);
        st.score(format!("defaults.clear.{source}.recall"), *recall);
    }
    if let Some((source, share)) = d.binding {
        st.score("defaults.clear.binding_share".into(), share);
        st.metrics
            .threshold_binding
            .insert("clear".to_string(), source);
    }
}

/// The source whose labels are Perspective's rater fractions: the calibration target.
const CALIBRATION_SOURCE: &str = "civil-comments";

/// Largest share of a source's validation negatives the default thresholds may flag
/// (models/README.md, "v2.1": the 1 % goal; v2 used 0.5 %).
const THRESHOLD_MAX_SHARE: f64 = 0.01;

/// Folds Platt scaling `sigmoid(a·z + b)` of output `k` into the head's last layer, so the
/// calibrated score costs nothing at scoring time.
fn fold_platt(mlp: &mut Mlp, k: usize, a: f64, b: f64) {
    let (a, b) = (a as f32, b as f32);
    let n = mlp.out.inputs;
    for w in &mut mlp.out.weight[k * n..(k + 1) * n] {
        *w *= a;
    }
    mlp.out.bias[k] = a * mlp.out.bias[k] + b;
}

/// The threshold on attribute `k` with the best macro-F1 on the held-back rows of the tweet
/// set `source` (TweetEval offensive: `toxicity`; TweetEval hate: `identity_attack`), the one a
/// tweet user would pick without the test set.
fn tweet_validation_threshold(validation: &[heldout::ScoredRow], source: &str, k: usize) -> f32 {
    let (g, p): (Vec<bool>, Vec<f32>) = validation
        .iter()
        .filter(|r| r.row.source == source)
        .filter_map(|r| r.row.labels[k].map(|y| (y >= 0.5, r.probs[k])))
        .unzip();
    if g.is_empty() {
        return 0.5;
    }
    (1..100)
        .map(|t| t as f32 / 100.0)
        .max_by(|a, b| {
            binary_confusion(&g, &p, *a)
                .macro_f1()
                .total_cmp(&binary_confusion(&g, &p, *b).macro_f1())
        })
        .unwrap_or(0.5)
}

/// TweetEval offensive (toxicity) and hate (identity_attack) val, as in the earlier models: at
/// 0.5 and at the threshold chosen on each set's validation rows (`thresholds`: offensive,
/// hate; models/README.md, "Amendment v2.4, reporting only"). Their ROC AUC is recorded with
/// every source's by `heldout::per_source`.
fn tweeteval_toxicity(st: &mut Stage, test: &[heldout::ScoredRow], thresholds: [f32; 2]) {
    for ((k, source, metric), threshold) in [
        (0usize, "tweeteval-offensive-val", "toxicity.test.offensive"),
        (
            4,
            "tweeteval-hate-val",
            "toxicity.test.hate_identity_attack",
        ),
    ]
    .into_iter()
    .zip(thresholds)
    {
        let (gold, probs): (Vec<bool>, Vec<f32>) = test
            .iter()
            .filter(|r| r.row.source == source)
            .filter_map(|r| r.row.labels[k].map(|y| (y >= 0.5, r.probs[k])))
            .unzip();
        let c = binary_confusion(&gold, &probs, 0.5);
        st.score(format!("{metric}.macro_f1_at_0.5"), c.macro_f1());
        st.score(format!("{metric}.f1_positive_at_0.5"), c.f1(1));
        st.score(format!("{metric}.accuracy_at_0.5"), c.accuracy());
        let v = binary_confusion(&gold, &probs, threshold);
        st.score(
            format!("{metric}.macro_f1_at_validation_threshold"),
            v.macro_f1(),
        );
        (st.log)(&format!(
            "toxicity: {source} macro-F1 {:.3} at 0.5, {:.3} at {threshold:.2} (validation)",
            c.macro_f1(),
            v.macro_f1()
        ));
    }
}

/// The attribute head trained here on the training rows (no stage 1).
fn train_attr_head(st: &mut Stage, rows: &[AttrExample]) -> anyhow::Result<Mlp> {
    let idx: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].split != Split::Test)
        .collect();
    let sub: Vec<AttrExample> = idx.iter().map(|&i| rows[i].clone()).collect();
    let texts: Vec<&str> = sub.iter().map(|e| e.text.as_str()).collect();
    let x = st.embed(&texts)?;
    let is_val: Vec<bool> = sub.iter().map(|e| e.split == Split::Validation).collect();
    let (values, mask) = attr_targets(&sub, st.settings.balance_sources);
    let targets = Targets::Attributes {
        values,
        mask,
        outputs: heads::ATTRIBUTES,
    };
    let (mlp, tlog) = train_mlp(&x, DIM, &targets, &is_val, &st.settings.config)?;
    st.metrics.logs.insert("toxicity".into(), tlog);
    Ok(mlp)
}

/// Heads the one-pass stance head averages (models/README.md, "Amendment stance v2.3"): one
/// head's test figures moved by up to 12 points between seeds and CPUs.
const STANCE_MEMBERS: i64 = 5;

/// Mean cross-entropy of `mlp`'s softmax against `gold` over the validation rows of `x`.
fn validation_cross_entropy(
    mlp: &Mlp,
    x: &[f32],
    dim: usize,
    gold: &[usize],
    is_val: &[bool],
) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (i, &g) in gold.iter().enumerate().filter(|(i, _)| is_val[*i]) {
        let p = softmax(&mlp.logits(&x[i * dim..(i + 1) * dim]));
        sum -= f64::from(p[g].max(1e-12)).ln();
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// A labelled article-stance pair as a one-pass stance row: the comment, its target, its label.
fn pair_as_class(e: &pairs::PairExample) -> ClassExample {
    ClassExample {
        target: Some(e.first.clone()),
        split: e.split,
        ..ClassExample::new(e.second.clone(), usize::from(e.label), e.source)
    }
}

/// Macro-F1 and accuracy of the one-pass stance head on held-out `rows`, recorded as
/// `stance.test.NAME.*`; returns the macro-F1.
fn held_out_stance(
    st: &mut Stage,
    stance: &Mlp,
    rows: &[ClassExample],
    name: &str,
) -> anyhow::Result<f64> {
    let (x, fdim) = stance_matrix(st.cache, st.enc, rows, st.show)?;
    let pred: Vec<usize> = (0..rows.len())
        .map(|i| argmax(&stance.logits(&x[i * fdim..(i + 1) * fdim])))
        .collect();
    let gold: Vec<usize> = rows.iter().map(|e| e.label).collect();
    let c = Confusion::new(3, &gold, &pred);
    st.metrics
        .rows
        .insert(format!("stance.test.{name}"), rows.len());
    st.score(format!("stance.test.{name}.macro_f1"), c.macro_f1());
    st.score(format!("stance.test.{name}.accuracy"), c.accuracy());
    Ok(c.macro_f1())
}

fn stance_stage(st: &mut Stage) -> anyhow::Result<Mlp> {
    let data = st.settings.data.clone();
    let train = datasets::stance_train(&data, st.settings.fnc, &st.maps)?;
    let test = datasets::stance_test(&data, &st.maps)?;
    (st.log)(&format!(
        "stance: {} training rows, {} test rows",
        train.len(),
        test.len()
    ));
    let (x, fdim) = stance_matrix(st.cache, st.enc, &train, st.show)?;
    let is_val = validation_rows(train.iter().map(|e| e.text.as_str()));
    let targets = class_targets(&train, None);
    let gold: Vec<usize> = train.iter().map(|e| e.label).collect();
    let mut members = Vec::new();
    for k in 0..STANCE_MEMBERS {
        let cfg = TrainConfig {
            seed: st.settings.config.seed + k,
            ..st.settings.config.clone()
        };
        let (member, tlog) = train_mlp(&x, fdim, &targets, &is_val, &cfg)?;
        let ce = validation_cross_entropy(&member, &x, fdim, &gold, &is_val);
        st.score(format!("stance.validation.member{k}.cross_entropy"), ce);
        st.metrics.logs.insert(format!("stance.member{k}"), tlog);
        members.push(member);
    }
    let stance = Mlp::average(&members).expect("at least one member");
    let ce = validation_cross_entropy(&stance, &x, fdim, &gold, &is_val);
    st.score("stance.validation.cross_entropy".into(), ce);
    (st.log)(&format!(
        "stance: {STANCE_MEMBERS} heads averaged, validation cross-entropy {ce:.4}"
    ));
    record_split(&mut st.metrics, "stance", &is_val, test.len());
    stance_figures(st, &stance)?;
    Ok(stance)
}

/// The one-pass stance head's held-out figures: TweetEval stance val, VAST dev, MT-CSD dev and
/// ARC test.
fn stance_figures(st: &mut Stage, stance: &Mlp) -> anyhow::Result<()> {
    let data = st.settings.data.clone();
    let test = datasets::stance_test(&data, &st.maps)?;
    let (tx, fdim) = stance_matrix(st.cache, st.enc, &test, st.show)?;
    let pred: Vec<usize> = (0..test.len())
        .map(|i| argmax(&softmax(&stance.logits(&tx[i * fdim..(i + 1) * fdim]))))
        .collect();
    let gold: Vec<usize> = test.iter().map(|e| e.label).collect();
    let c = Confusion::new(3, &gold, &pred);
    let f1avg = (c.f1(0) + c.f1(1)) / 2.0;
    st.score("stance.test.f1avg".into(), f1avg);
    st.score("stance.test.macro_f1".into(), c.macro_f1());
    st.score("stance.test.accuracy".into(), c.accuracy());
    (st.log)(&format!("stance: TweetEval stance val F1avg {f1avg:.3}"));
    let vast = datasets::stance_vast_dev(&data, &st.maps)?;
    let f1 = held_out_stance(st, stance, &vast, "vast-dev")?;
    (st.log)(&format!("stance: VAST dev macro-F1 {f1:.3}"));
    let pairs = pairs::pair_test(&data, &st.maps)?;
    for source in ["mtcsd-dev", "arc"] {
        let rows: Vec<ClassExample> = pairs
            .iter()
            .filter(|e| e.source == source)
            .map(pair_as_class)
            .collect();
        let f1 = held_out_stance(st, stance, &rows, source)?;
        (st.log)(&format!("stance: {source} macro-F1 {f1:.3}"));
    }
    Ok(())
}

/// Stage 1's rows: every distinct training text of the sentiment and toxicity sets (the
/// comment sets first, so their labels win where a text occurs twice; then the tweets and
/// review sentences, and the assumed-clean negatives when `clean_negatives`), with its
/// sentiment class and toxicity targets and cell weights (see `attr_targets`).
///
/// Texts are merged after [`datasets::normalize`], and a text that occurs in any test row
/// (a held-out source, an official test split, a hash-test bucket, TweetEval) is dropped from
/// training and validation, so no test figure is measured on a text that was trained on.
/// Validation rows are those of [`Split::Validation`]. Stance is left to stage 2.
pub fn finetune_data(
    data: &Path,
    maps: &label_maps::LabelMaps,
    clean_negatives: bool,
    balance_sources: bool,
) -> anyhow::Result<crate::train::finetune::FinetuneData> {
    use crate::train::finetune::ATTRS;
    let mut sent = comment_sets::sentiment_comments(data, maps)?;
    sent.extend(datasets::sentiment_train(data, maps)?);
    let mut tox = comment_sets::toxicity_comments(data, maps)?;
    tox.extend(datasets::toxicity_train(data, maps)?);
    if clean_negatives {
        tox.extend(datasets::assumed_clean(data, maps)?);
    }
    let tested = test_texts(data, maps, &sent, &tox)?;
    let usable =
        |text: &str, split: Split| split != Split::Test && !tested.contains(&normalize(text));
    let (values, weights) = attr_targets(&tox, balance_sources);
    let mut out = crate::train::finetune::FinetuneData::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut slot = |text: &str, out: &mut crate::train::finetune::FinetuneData| -> usize {
        *index.entry(normalize(text)).or_insert_with(|| {
            out.texts.push(text.to_string());
            out.sentiment.push(None);
            out.toxicity.push([0.0; ATTRS]);
            out.toxicity_weight.push([0.0; ATTRS]);
            out.is_val
                .push(datasets::split_of(text) == Split::Validation);
            out.texts.len() - 1
        })
    };
    // source → (train, validation, positive cells)
    let mut counts: std::collections::BTreeMap<&str, (usize, usize, usize)> = Default::default();
    for e in sent.iter().filter(|e| usable(&e.text, e.split)) {
        let i = slot(&e.text, &mut out);
        if out.sentiment[i].is_none() {
            out.sentiment[i] = Some(e.label as u8);
            let c = counts.entry(e.source).or_default();
            if out.is_val[i] {
                c.1 += 1
            } else {
                c.0 += 1
            }
        }
    }
    for (r, e) in tox.iter().enumerate() {
        if !usable(&e.text, e.split) {
            continue;
        }
        let i = slot(&e.text, &mut out);
        let mut used = false;
        let mut positives = 0;
        for k in 0..ATTRS {
            // The first source to label a cell wins; later duplicates do not overwrite it.
            if out.toxicity_weight[i][k] == 0.0 && weights[r * ATTRS + k] > 0.0 {
                out.toxicity[i][k] = values[r * ATTRS + k];
                out.toxicity_weight[i][k] = weights[r * ATTRS + k];
                used = true;
                positives += usize::from(values[r * ATTRS + k] >= 0.5);
            }
        }
        if used {
            let c = counts.entry(e.source).or_default();
            if out.is_val[i] {
                c.1 += 1
            } else {
                c.0 += 1
            }
            c.2 += positives;
        }
    }
    out.sources = counts
        .into_iter()
        .map(|(s, (t, v, p))| (s.to_string(), t, v, p))
        .collect();
    Ok(out)
}

/// Normalised texts of every row that is tested on: the test sets of both tasks and every row
/// whose split is [`Split::Test`].
fn test_texts(
    data: &Path,
    maps: &label_maps::LabelMaps,
    sent: &[ClassExample],
    tox: &[AttrExample],
) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut out: std::collections::HashSet<String> = Default::default();
    for e in datasets::sentiment_test(data)?
        .iter()
        .chain(sent.iter().filter(|e| e.split == Split::Test))
    {
        out.insert(normalize(&e.text));
    }
    for e in datasets::toxicity_test(data, maps)?
        .iter()
        .chain(&comment_sets::identity_terms(data, maps)?)
        .chain(tox.iter().filter(|e| e.split == Split::Test))
    {
        out.insert(normalize(&e.text));
    }
    Ok(out)
}

fn record_split(metrics: &mut Metrics, head: &str, is_val: &[bool], test_rows: usize) {
    let val = is_val.iter().filter(|v| **v).count();
    metrics
        .rows
        .insert(format!("{head}.train"), is_val.len() - val);
    metrics.rows.insert(format!("{head}.validation"), val);
    metrics.rows.insert(format!("{head}.test"), test_rows);
}

fn class_targets(rows: &[ClassExample], row_weights: Option<Vec<f32>>) -> Targets {
    Targets::Classes {
        labels: rows.iter().map(|e| e.label as i64).collect(),
        classes: 3,
        row_weights,
    }
}

/// Per-row loss weights for the sentiment head, or `None` for the trainer's one weight per
/// class. Counts are taken over the training rows only (validation rows get a weight too, but
/// it only scales their share of the validation loss).
fn sentiment_row_weights(
    rows: &[ClassExample],
    is_val: &[bool],
    opts: &SentimentOptions,
) -> Option<Vec<f32>> {
    if opts.balance == SentimentBalance::Global && !opts.confidence {
        return None;
    }
    let base = |e: &ClassExample| -> f32 {
        if opts.confidence {
            e.confidence.unwrap_or(1.0)
        } else {
            1.0
        }
    };
    // (source or "" for global, class) → summed base weight of the training rows.
    let group = |e: &ClassExample| -> &str {
        match opts.balance {
            SentimentBalance::Global => "",
            SentimentBalance::Sources => e.source,
        }
    };
    // Ordered maps: the sums below must add in the same order on every run.
    let mut cell: std::collections::BTreeMap<(&str, usize), f32> = Default::default();
    for (e, v) in rows.iter().zip(is_val) {
        if !v {
            *cell.entry((group(e), e.label)).or_default() += base(e);
        }
    }
    let mut total: std::collections::BTreeMap<&str, (f32, usize)> = Default::default();
    for ((g, _), w) in &cell {
        let t = total.entry(g).or_default();
        t.0 += w;
        t.1 += 1;
    }
    Some(
        rows.iter()
            .map(|e| {
                let g = group(e);
                match (cell.get(&(g, e.label)), total.get(g)) {
                    (Some(&n), Some(&(sum, k))) if n > 0.0 => {
                        base(e) * (sum / (k as f32 * n)).min(10.0)
                    }
                    // A class seen only in validation rows: its rows do not train anything.
                    _ => base(e),
                }
            })
            .collect(),
    )
}

fn logits3(mlp: &Mlp, x: &[f32]) -> [f32; 3] {
    let l = mlp.logits(x);
    [l[0], l[1], l[2]]
}

fn predict_with(l: &[f32; 3], o: [f32; 3]) -> usize {
    argmax(&[l[0] + o[0], l[1] + o[1], l[2] + o[2]])
}

fn macro_recall_with(logits: &[[f32; 3]], gold: &[usize], offsets: [f32; 3]) -> f64 {
    let pred: Vec<usize> = logits.iter().map(|l| predict_with(l, offsets)).collect();
    Confusion::new(3, gold, &pred).macro_recall()
}

/// Sentiment's prior correction: offsets (negative, 0, positive) that maximise macro-recall;
/// see [`fit_offsets`].
fn fit_prior_offsets(logits: &[[f32; 3]], gold: &[usize]) -> ([f32; 3], f64) {
    fit_offsets(logits, gold, 1, Confusion::macro_recall)
}

/// Offsets for the two classes other than `fixed` (which keeps 0), each in −2…2 by 0.05, that
/// maximise `metric` of `argmax(logits + offsets)`; ties go to the smallest total shift.
/// Returns the offsets fitted on all rows and the metric of 2-fold out-of-fold predictions
/// (offsets fitted on the even rows score the odd ones and back), an honest figure for choosing
/// this lever. Used for sentiment (macro-recall) and the pair model's reply head (macro-F1).
pub(crate) fn fit_offsets(
    logits: &[[f32; 3]],
    gold: &[usize],
    fixed: usize,
    metric: fn(&Confusion) -> f64,
) -> ([f32; 3], f64) {
    let free: Vec<usize> = (0..3).filter(|&k| k != fixed).collect();
    let score = |l: &[[f32; 3]], g: &[usize], o: [f32; 3]| {
        let pred: Vec<usize> = l.iter().map(|x| predict_with(x, o)).collect();
        metric(&Confusion::new(3, g, &pred))
    };
    let fit = |logits: &[[f32; 3]], gold: &[usize]| -> [f32; 3] {
        let mut best = (f64::NEG_INFINITY, 0i32, [0.0f32; 3]);
        for a in -40..=40i32 {
            for b in -40..=40i32 {
                let mut o = [0.0f32; 3];
                o[free[0]] = a as f32 * 0.05;
                o[free[1]] = b as f32 * 0.05;
                let r = score(logits, gold, o);
                let shift = a.abs() + b.abs();
                if r > best.0 + 1e-12 || ((r - best.0).abs() <= 1e-12 && shift < best.1) {
                    best = (r, shift, o);
                }
            }
        }
        best.2
    };
    let split = |parity: usize| -> (Vec<[f32; 3]>, Vec<usize>) {
        logits
            .iter()
            .zip(gold)
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, (l, g))| (*l, *g))
            .unzip()
    };
    let (even_l, even_g) = split(0);
    let (odd_l, odd_g) = split(1);
    let (from_even, from_odd) = (fit(&even_l, &even_g), fit(&odd_l, &odd_g));
    let mut pred = Vec::with_capacity(logits.len());
    for (i, l) in logits.iter().enumerate() {
        let o = if i % 2 == 0 { from_odd } else { from_even };
        pred.push(predict_with(l, o));
    }
    let out_of_fold = metric(&Confusion::new(3, gold, &pred));
    (fit(logits, gold), out_of_fold)
}

fn validation_rows<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<bool> {
    texts
        .map(|t| datasets::split_of(t) == Split::Validation)
        .collect()
}

/// Sources whose labels are rater fractions (soft targets): their cells are never rebalanced,
/// so the head learns the share of readers who would call a comment toxic, as Perspective's
/// scores mean; each row weighs [`SOFT_WEIGHT`].
const SOFT_SOURCES: [&str; 2] = ["civil-comments", "civil-comments-more"];

/// Loss weight of a row with rater fractions: the only news comments with Perspective's full
/// attribute set, and a small set among far larger binary ones.
const SOFT_WEIGHT: f32 = 3.0;

/// Targets and per-cell loss weights for the attribute head, `ATTRS` per row. Within each
/// binary source, positives and negatives of an attribute carry equal total weight (capped at
/// 10 per row; counted over the training rows), so the head cannot learn "looks like source X"
/// as a shortcut for "toxic": the toxic-spans comments were pre-selected as toxic and Davidson
/// is 83 % offensive. Soft-target sources keep their fractions with [`SOFT_WEIGHT`].
/// Unlabelled cells get weight 0.
fn attr_targets(rows: &[AttrExample], balance: bool) -> (Vec<f32>, Vec<f32>) {
    use datasets::ATTRS;
    let mut counts: HashMap<(&str, usize), (f32, f32)> = HashMap::new();
    for r in rows.iter().filter(|r| r.split == Split::Train) {
        for (k, l) in r.labels.iter().enumerate() {
            let e = counts.entry((r.source, k)).or_default();
            match l {
                Some(v) if *v >= 0.5 => e.0 += 1.0,
                Some(_) => e.1 += 1.0,
                None => {}
            }
        }
    }
    let mut values = Vec::with_capacity(rows.len() * ATTRS);
    let mut weights = Vec::with_capacity(rows.len() * ATTRS);
    for r in rows {
        let soft = SOFT_SOURCES.contains(&r.source);
        for (k, l) in r.labels.iter().enumerate() {
            values.push(l.unwrap_or(0.0));
            let (pos, neg) = counts.get(&(r.source, k)).copied().unwrap_or_default();
            let w = match l {
                None => 0.0,
                Some(_) if soft => SOFT_WEIGHT,
                Some(_) if !balance || pos == 0.0 || neg == 0.0 => 1.0,
                Some(v) if *v >= 0.5 => ((pos + neg) / (2.0 * pos)).min(10.0),
                Some(_) => ((pos + neg) / (2.0 * neg)).min(10.0),
            };
            weights.push(w);
        }
    }
    (values, weights)
}

fn binary_confusion(gold: &[bool], probs: &[f32], threshold: f32) -> Confusion {
    let g: Vec<usize> = gold.iter().map(|&b| usize::from(b)).collect();
    let p: Vec<usize> = probs.iter().map(|&v| usize::from(v >= threshold)).collect();
    Confusion::new(2, &g, &p)
}

fn stance_matrix(
    cache: &mut EmbeddingCache,
    enc: &Encoder,
    rows: &[ClassExample],
    show: bool,
) -> anyhow::Result<(Vec<f32>, usize)> {
    let c = cache.embed(enc, &texts_of(rows, |e| &e.text), show)?;
    let t = cache.embed(
        enc,
        &texts_of(rows, |e| e.target.as_deref().unwrap_or("")),
        show,
    )?;
    let fdim = heads::HeadKind::Stance.input_width(DIM);
    let mut x = Vec::with_capacity(rows.len() * fdim);
    let mut buf = Vec::new();
    for i in 0..rows.len() {
        stance_features(
            &c[i * DIM..(i + 1) * DIM],
            &t[i * DIM..(i + 1) * DIM],
            &mut buf,
        );
        x.extend_from_slice(&buf);
    }
    Ok((x, fdim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_cache_files_differ_by_precision_tokens_and_forward_version() {
        let a = cache_file_name("abc", "fp32", 256);
        assert_ne!(a, cache_file_name("abc", "bf16", 256));
        assert_ne!(a, cache_file_name("abc", "fp32", 128));
        assert_ne!(a, cache_file_name("abd", "fp32", 256));
        assert!(a.ends_with(&format!("-f{FORWARD_VERSION}.bin")), "{a}");
    }

    #[test]
    fn tweet_threshold_is_chosen_on_its_own_source_and_attribute() {
        let mut rows = Vec::new();
        // TweetEval hate: identity_attack separates the rows between 0.1 and 0.3.
        for (i, (y, p)) in [(1.0, 0.3), (1.0, 0.35), (0.0, 0.1), (0.0, 0.05)]
            .into_iter()
            .enumerate()
        {
            let mut labels = [None; datasets::ATTRS];
            labels[datasets::IDENTITY] = Some(y);
            let mut probs = [0.9; datasets::ATTRS];
            probs[datasets::IDENTITY] = p;
            rows.push((
                AttrExample::new(format!("h{i}"), labels, "tweeteval-hate"),
                probs,
            ));
        }
        // Another source whose scores would pull the threshold elsewhere.
        let mut labels = [None; datasets::ATTRS];
        labels[datasets::IDENTITY] = Some(0.0);
        let other = AttrExample::new("o".into(), labels, "cad");
        let scored: Vec<heldout::ScoredRow> = rows
            .iter()
            .map(|(row, probs)| heldout::ScoredRow { row, probs: *probs })
            .chain(std::iter::once(heldout::ScoredRow {
                row: &other,
                probs: [0.99; datasets::ATTRS],
            }))
            .collect();
        let t = tweet_validation_threshold(&scored, "tweeteval-hate", datasets::IDENTITY);
        assert!(t > 0.1 && t <= 0.3, "{t}");
        // No rows of the source: the fixed 0.5.
        assert_eq!(
            tweet_validation_threshold(&scored, "tweeteval-offensive", datasets::TOX),
            0.5
        );
    }

    fn row(source: &'static str, label: usize, confidence: Option<f32>) -> ClassExample {
        ClassExample {
            confidence,
            ..ClassExample::new(String::new(), label, source)
        }
    }

    fn class_totals(rows: &[ClassExample], w: &[f32], source: &str) -> [f32; 3] {
        let mut t = [0.0; 3];
        for (e, w) in rows.iter().zip(w) {
            if e.source == source {
                t[e.label] += w;
            }
        }
        t
    }

    #[test]
    fn global_unweighted_sentiment_leaves_weighting_to_the_trainer() {
        let rows = vec![row("a", 0, None), row("a", 1, None)];
        assert!(
            sentiment_row_weights(&rows, &[false, false], &SentimentOptions::default()).is_none()
        );
    }

    #[test]
    fn per_source_balancing_equalises_the_classes_each_source_has() {
        // Source "tweets": 6 negative, 3 neutral, 1 positive. Source "reviews": 2 negative,
        // 8 positive, no neutral. One extra tweet is held back for validation.
        let mut rows = Vec::new();
        for (label, n) in [(0, 6), (1, 3), (2, 1)] {
            rows.extend((0..n).map(|_| row("tweets", label, None)));
        }
        for (label, n) in [(0, 2), (2, 8)] {
            rows.extend((0..n).map(|_| row("reviews", label, None)));
        }
        rows.push(row("tweets", 2, None));
        let mut is_val = vec![false; rows.len()];
        *is_val.last_mut().unwrap() = true;
        let opts = SentimentOptions {
            balance: SentimentBalance::Sources,
            ..Default::default()
        };
        let w = sentiment_row_weights(&rows, &is_val, &opts).unwrap();
        let train: Vec<ClassExample> = rows[..rows.len() - 1].to_vec();
        let t = class_totals(&train, &w[..w.len() - 1], "tweets");
        for c in t {
            assert!((c - 10.0 / 3.0).abs() < 1e-5, "{t:?}");
        }
        let r = class_totals(&train, &w[..w.len() - 1], "reviews");
        assert!(
            (r[0] - 5.0).abs() < 1e-5 && r[1] == 0.0 && (r[2] - 5.0).abs() < 1e-5,
            "{r:?}"
        );
    }

    #[test]
    fn the_per_row_weight_is_capped_at_ten() {
        let mut rows: Vec<ClassExample> = (0..99).map(|_| row("s", 0, None)).collect();
        rows.push(row("s", 2, None));
        let opts = SentimentOptions {
            balance: SentimentBalance::Sources,
            ..Default::default()
        };
        let w = sentiment_row_weights(&rows, &[false; 100], &opts).unwrap();
        assert_eq!(w[99], 10.0);
        assert!((w[0] - 100.0 / 198.0).abs() < 1e-6);
    }

    #[test]
    fn confidence_scales_rows_and_classes_stay_balanced() {
        let rows = vec![
            row("crowdflower", 0, Some(0.5)),
            row("crowdflower", 0, Some(1.0)),
            row("crowdflower", 2, Some(0.75)),
            row("other", 2, None),
        ];
        let opts = SentimentOptions {
            confidence: true,
            ..Default::default()
        };
        let w = sentiment_row_weights(&rows, &[false; 4], &opts).unwrap();
        // Global: negative carries 1.5, positive 1.75 of confidence; each class gets half.
        let neg = w[0] + w[1];
        let pos = w[2] + w[3];
        assert!((neg - pos).abs() < 1e-5, "{w:?}");
        assert!((w[1] / w[0] - 2.0).abs() < 1e-5, "{w:?}");
    }

    #[test]
    fn prior_offsets_undo_a_shifted_class_and_score_out_of_fold() {
        // Logits that would be right but for a +1.5 bias towards neutral.
        let mut logits = Vec::new();
        let mut gold = Vec::new();
        for i in 0..300 {
            let c = i % 3;
            let mut l = [0.0f32; 3];
            l[c] = 1.0 + (i % 7) as f32 * 0.05;
            l[1] += 1.5;
            logits.push(l);
            gold.push(c);
        }
        assert!(macro_recall_with(&logits, &gold, [0.0; 3]) < 0.5);
        let (o, out_of_fold) = fit_prior_offsets(&logits, &gold);
        assert_eq!(macro_recall_with(&logits, &gold, o), 1.0, "{o:?}");
        assert_eq!(out_of_fold, 1.0);
        assert_eq!(o[1], 0.0);
        // Already right: the smallest shift wins, i.e. none.
        let right: Vec<[f32; 3]> = logits.iter().map(|l| [l[0], l[1] - 1.5, l[2]]).collect();
        let (o, _) = fit_prior_offsets(&right, &gold);
        assert_eq!(o, [0.0; 3]);
    }

    #[test]
    fn reply_offsets_keep_the_fixed_class_and_find_a_rare_one() {
        // Disagree (1) is rare and its logits sit 1.2 below where they would win; neutral (2)
        // is fixed, as for the reply head.
        let mut logits = Vec::new();
        let mut gold = Vec::new();
        // Every fifth row, so both folds of the 2-fold check hold disagreeing rows.
        for i in 0..400 {
            let c = if i % 5 == 0 {
                1
            } else if i % 3 == 0 {
                0
            } else {
                2
            };
            let mut l = [0.0f32; 3];
            l[c] = 1.0 + (i % 5) as f32 * 0.05;
            l[1] -= 1.2;
            logits.push(l);
            gold.push(c);
        }
        let f1 = |o: [f32; 3]| {
            let pred: Vec<usize> = logits.iter().map(|l| predict_with(l, o)).collect();
            Confusion::new(3, &gold, &pred).macro_f1()
        };
        assert!(f1([0.0; 3]) < 0.8);
        let (o, out_of_fold) = fit_offsets(&logits, &gold, 2, Confusion::macro_f1);
        assert_eq!(o[2], 0.0);
        assert!(o[1] > 0.2, "{o:?}");
        assert_eq!(f1(o), 1.0, "{o:?}");
        assert_eq!(out_of_fold, 1.0);
    }
}
