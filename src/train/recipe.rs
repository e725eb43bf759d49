//! Training recipes: one TOML file per committed model (`models/recipes/`), read by
//! `threadlens train RECIPE.toml…`. A recipe pins the encoder, names the sources, their label
//! mapping file and the held-out split, and gives every setting of its stage (schedule, learning rate, adapter,
//! heads, precision, seed) and the rule that selects the kept checkpoint, so the committed
//! heads are reproduced by running the files in `models/recipes/` in order instead of by a
//! chain of flags. Every field is required and unknown fields are refused, so a recipe says
//! all it does; what varies per run (data folder, cache, `--evaluate`) stays a flag.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::comment_sets::HELD_OUT_SOURCES;
use super::finetune::FinetuneConfig;
use super::label_maps::LabelMaps;
use super::pair_model::PairConfig;
use super::trainer::TrainConfig;
use super::{SentimentBalance, SentimentOptions, VALIDATION_PERCENT};
use crate::score::encoder::Precision;
use crate::score::pair::PairBudget;

/// One recipe file: exactly one of `[adapt]`, `[heads]`, `[[pair]]` or `[reply]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// One line: what this recipe makes.
    pub description: String,
    /// The model card section(s) that report what it made.
    pub card: String,
    /// The published encoder the stage starts from.
    pub encoder: EncoderPin,
    /// The label mapping file every set this stage reads is mapped with, relative to the
    /// recipe (`train::label_maps`; `maps/labels.toml` is the committed one).
    pub label_maps: String,
    /// Sources and split (stages 1 and 2; the pair stages read the pair sets of
    /// `train::pairs`).
    pub sources: Option<Sources>,
    /// Stage 1: LoRA adaptation of the encoder with two temporary heads.
    pub adapt: Option<Adapt>,
    /// Stage 2: the sentiment, toxicity and stance heads on the (adapted) encoder.
    pub heads: Option<Heads>,
    /// Stage 3: the stance pair model, one entry per run, in order (a run with `resume`
    /// continues from the one before).
    #[serde(default)]
    pub pair: Vec<PairRun>,
    /// The reply model, started from the installed pair model.
    pub reply: Option<Reply>,
    /// The folder the recipe was read from (paths in it are relative to it).
    #[serde(skip)]
    pub dir: PathBuf,
    /// The label maps `label_maps` names, read and checked when the recipe is loaded.
    #[serde(skip)]
    pub maps: LabelMaps,
}

/// The encoder a recipe was written for: a different file is refused, because the heads and
/// adapters are trained for one set of weights.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderPin {
    /// Folder name under the models directory.
    pub name: String,
    /// First 12 hex digits of the SHA-256 of its `model.safetensors`.
    pub sha256_12: String,
}

/// How rows are split, and which sources training may see.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    /// How each source's own training rows are split into training and validation rows.
    pub split: SplitRule,
    /// Sources never trained on nor chosen on: test rows only (the card's outlet test). Their
    /// readers mark them so; the recipe states it and must agree.
    pub held_out: Vec<String>,
    /// Stage 2: FNC-1 headline/body pairs in the one-pass stance head's data.
    pub fnc: bool,
    /// Edited, non-tweet sentiment sentences as toxicity negatives.
    pub clean_negatives: bool,
    /// Balance positives and negatives within each toxicity source (else one global weight,
    /// capped at 5).
    pub balance: bool,
}

// `SplitRule::TextHash10` names the readers' split; it changes with it.
const _: () = assert!(VALIDATION_PERCENT == 10);

/// The split rules the readers implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitRule {
    /// 10 % of each source's training rows, chosen by a hash of the normalised text, are
    /// validation rows; official test splits are test rows; a text that is in any test row is
    /// dropped from training (`train::datasets::split_of`).
    #[serde(rename = "text-hash-10")]
    TextHash10,
}

/// Precision of the frozen encoder's matrix products while training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainPrecision {
    /// `mixed` where the CPU has native bf16, else `fp32` (the digits then differ by CPU).
    Auto,
    Fp32,
    /// bf16 products, fp32 elsewhere.
    Mixed,
}

impl TrainPrecision {
    /// The precision on this CPU.
    pub fn resolve(self) -> Precision {
        match self {
            TrainPrecision::Auto if crate::score::encoder::cpu_has_native_bf16() => {
                Precision::Mixed
            }
            TrainPrecision::Auto | TrainPrecision::Fp32 => Precision::Fp32,
            TrainPrecision::Mixed => Precision::Mixed,
        }
    }
}

/// How a stage picks what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Select {
    /// The check with the lowest validation loss (stage 1 and pair runs; a resumed pair run
    /// is kept only where it beats the model it started from, checked at step 0).
    BestValidationLoss,
    /// Early stopping on validation loss, `patience` epochs (stage 2's heads).
    EarlyStopping,
    /// Installed only where ToxiChat dev macro-F1 gains `install_gain` over the pair model's
    /// reply head (the reply model).
    ReplyGain,
}

/// Stage 1 (`train::finetune`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Adapt {
    pub seed: i64,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Steps of `batch` texts; the learning-rate schedule (6 % warm-up, linear decay) spans
    /// them.
    pub steps: usize,
    pub batch: usize,
    /// LoRA rank and α (updates scaled by α / rank) on every linear map.
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
    /// AdamW peak learning rate and weight decay.
    pub lr: f64,
    pub weight_decay: f64,
    /// Longest training input in tokens.
    pub max_tokens: usize,
    /// Hidden width of the two temporary heads.
    pub hidden: i64,
    /// Validation rows per check, and steps between checks.
    pub val_rows: usize,
    pub eval_every: usize,
    pub precision: TrainPrecision,
    pub select: Select,
}

/// Stage 2 (`train::run`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Heads {
    /// `adapted`: the stage-1 adapter in the heads folder (it must exist); `frozen`: the
    /// published weights (any adapter there is removed).
    pub encoder: HeadsEncoder,
    pub seed: i64,
    /// Hidden width of each head's MLP.
    pub hidden: i64,
    pub dropout: f64,
    pub lr: f64,
    pub weight_decay: f64,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    /// Sentiment rows weighed per class over all sources (`global`) or within each
    /// (`sources`).
    pub sentiment_balance: SentimentBalance,
    /// Weigh CrowdFlower rows by their annotators' confidence.
    pub sentiment_confidence: bool,
    /// Fit per-class output offsets on validation rows (kept by the card's rule).
    pub sentiment_prior_correction: bool,
    pub select: Select,
}

/// Which encoder stage 2 embeds with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadsEncoder {
    Adapted,
    Frozen,
}

/// One run of the pair model (`train::pair_model`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PairRun {
    pub seed: i64,
    pub steps: usize,
    pub batch: usize,
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
    pub lr: f64,
    pub weight_decay: f64,
    /// Tokens of the first text (target or parent), and of the whole pair.
    pub first_tokens: usize,
    pub total_tokens: usize,
    pub hidden: i64,
    pub val_rows: usize,
    pub eval_every: usize,
    pub precision: TrainPrecision,
    /// Continue from the pair model in the heads folder.
    pub resume: bool,
    /// The v2.1 stream: VAST twice, plus unrelated VAST topic pairs labelled none.
    pub news_mix: bool,
    /// After the run, fit the reply head's prior correction on ToxiChat dev and fold it in
    /// where its 2-fold figure gains 0.01 (amendment stance v2.2). The committed model's first
    /// run predates the correction; its second run was measured with it (not kept).
    pub reply_prior: bool,
    pub select: Select,
}

/// The reply model: a pair model continued on reply pairs only.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub seed: i64,
    pub steps: usize,
    pub batch: usize,
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
    pub lr: f64,
    pub weight_decay: f64,
    pub first_tokens: usize,
    pub total_tokens: usize,
    pub hidden: i64,
    pub val_rows: usize,
    pub eval_every: usize,
    pub precision: TrainPrecision,
    /// ToxiChat dev macro-F1 the reply model must gain over the pair model's reply head.
    pub install_gain: f64,
    pub select: Select,
}

/// What a recipe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    Adapt,
    Heads,
    Pair,
    Reply,
}

/// A recipe that cannot be used, with the file it came from.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RecipeError {
    pub path: PathBuf,
    pub message: String,
}

impl Recipe {
    /// Reads and checks a recipe file.
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let fail = |message: String| RecipeError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let mut recipe: Recipe = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        recipe.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        recipe.check().map_err(fail)?;
        recipe.maps = LabelMaps::load(&recipe.label_maps_path()).map_err(fail)?;
        Ok(recipe)
    }

    /// The one stage this recipe runs.
    pub fn kind(&self) -> StageKind {
        if self.adapt.is_some() {
            StageKind::Adapt
        } else if self.heads.is_some() {
            StageKind::Heads
        } else if !self.pair.is_empty() {
            StageKind::Pair
        } else {
            StageKind::Reply
        }
    }

    fn check(&self) -> Result<(), String> {
        let stages = [
            self.adapt.is_some(),
            self.heads.is_some(),
            !self.pair.is_empty(),
            self.reply.is_some(),
        ];
        if stages.iter().filter(|s| **s).count() != 1 {
            return Err(
                "a recipe has exactly one of [adapt], [heads], [[pair]] or [reply]".to_string(),
            );
        }
        let needs_sources = self.adapt.is_some() || self.heads.is_some();
        match (&self.sources, needs_sources) {
            (None, true) => return Err("[adapt] and [heads] need a [sources] table".into()),
            (Some(_), false) => return Err(
                "[sources] applies to [adapt] and [heads] only; the pair stages read the pair sets"
                    .into(),
            ),
            _ => {}
        }
        if let Some(s) = &self.sources {
            let mut stated: Vec<&str> = s.held_out.iter().map(String::as_str).collect();
            stated.sort_unstable();
            let mut fixed = HELD_OUT_SOURCES.to_vec();
            fixed.sort_unstable();
            if stated != fixed {
                return Err(format!(
                    "sources.held_out must be {fixed:?}: the readers hold out exactly those (src/train/comment_sets.rs)"
                ));
            }
        }
        let select_ok = match self.kind() {
            StageKind::Adapt => self.adapt.as_ref().unwrap().select == Select::BestValidationLoss,
            StageKind::Heads => self.heads.as_ref().unwrap().select == Select::EarlyStopping,
            StageKind::Pair => self
                .pair
                .iter()
                .all(|p| p.select == Select::BestValidationLoss),
            StageKind::Reply => self.reply.as_ref().unwrap().select == Select::ReplyGain,
        };
        if !select_ok {
            return Err("select: stage 1 and pair runs use best-validation-loss, [heads] early-stopping, [reply] reply-gain".into());
        }
        Ok(())
    }

    /// The label mapping file the recipe names.
    pub fn label_maps_path(&self) -> PathBuf {
        self.dir.join(&self.label_maps)
    }

    /// Refuses an encoder other than the one the recipe names.
    pub fn check_encoder(&self, dir_name: &str, sha256_12: &str) -> Result<(), String> {
        if self.encoder.name != dir_name || self.encoder.sha256_12 != sha256_12 {
            return Err(format!(
                "written for encoder {} ({}), but the models folder has {dir_name} ({sha256_12})",
                self.encoder.name, self.encoder.sha256_12
            ));
        }
        Ok(())
    }
}

impl Adapt {
    /// Stage 1's settings at `precision` (resolved for this CPU).
    pub fn config(&self, precision: Precision) -> FinetuneConfig {
        FinetuneConfig {
            rank: self.rank,
            alpha: self.alpha,
            dropout: self.dropout,
            lr: self.lr,
            weight_decay: self.weight_decay,
            epochs: self.epochs,
            max_steps: (self.steps > 0).then_some(self.steps),
            stop_at: None,
            batch: self.batch,
            max_tokens: self.max_tokens,
            hidden: self.hidden,
            val_rows: self.val_rows,
            eval_every: self.eval_every,
            seed: self.seed,
            init_adapter: None,
            init_heads: None,
            skip_batches: 0,
            precision: precision_name(precision),
        }
    }
}

impl Heads {
    /// Stage 2's head settings under `sources`.
    pub fn config(&self, sources: &Sources) -> TrainConfig {
        TrainConfig {
            hidden: self.hidden,
            dropout: self.dropout,
            lr: self.lr,
            weight_decay: self.weight_decay,
            batch: self.batch,
            max_epochs: self.max_epochs,
            patience: self.patience,
            seed: self.seed,
            max_pos_weight: if sources.balance { 1.0 } else { 5.0 },
        }
    }

    pub fn sentiment(&self) -> SentimentOptions {
        SentimentOptions {
            balance: self.sentiment_balance,
            confidence: self.sentiment_confidence,
            prior_correction: self.sentiment_prior_correction,
        }
    }
}

impl PairRun {
    pub fn config(&self, precision: Precision) -> PairConfig {
        PairConfig {
            rank: self.rank,
            alpha: self.alpha,
            dropout: self.dropout,
            lr: self.lr,
            weight_decay: self.weight_decay,
            max_steps: self.steps,
            batch: self.batch,
            budget: PairBudget {
                first: self.first_tokens,
                total: self.total_tokens,
            },
            hidden: self.hidden,
            val_rows: self.val_rows,
            eval_every: self.eval_every,
            seed: self.seed,
            precision: precision_name(precision),
            resume: self.resume,
        }
    }
}

impl Reply {
    /// The reply model is a pair run that always starts from the installed pair model.
    pub fn config(&self, precision: Precision) -> PairConfig {
        PairRun {
            seed: self.seed,
            steps: self.steps,
            batch: self.batch,
            rank: self.rank,
            alpha: self.alpha,
            dropout: self.dropout,
            lr: self.lr,
            weight_decay: self.weight_decay,
            first_tokens: self.first_tokens,
            total_tokens: self.total_tokens,
            hidden: self.hidden,
            val_rows: self.val_rows,
            eval_every: self.eval_every,
            precision: self.precision,
            resume: true,
            news_mix: false,
            reply_prior: false,
            select: Select::BestValidationLoss,
        }
        .config(precision)
    }
}

/// The name the training records use for a precision ("fp32", "mixed").
pub fn precision_name(p: Precision) -> String {
    format!("{p:?}").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipes_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/recipes")
    }

    fn committed_metrics() -> serde_json::Value {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/heads/metrics.json");
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }

    fn load(name: &str) -> Recipe {
        Recipe::load(&recipes_dir().join(name)).unwrap()
    }

    fn json<T: Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn the_recipes_run_in_file_order_one_stage_each() {
        let mut names: Vec<String> = std::fs::read_dir(recipes_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        names.sort();
        let kinds: Vec<StageKind> = names.iter().map(|n| load(n).kind()).collect();
        assert_eq!(
            kinds,
            [
                StageKind::Adapt,
                StageKind::Heads,
                StageKind::Pair,
                StageKind::Reply
            ],
            "{names:?}"
        );
        let enc = crate::score::models::describe(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("models")
                .join(crate::score::models::ENCODER_DIR)
                .join("model.safetensors"),
        );
        if let Ok(info) = enc {
            for n in &names {
                load(n)
                    .check_encoder(crate::score::models::ENCODER_DIR, &info.sha256_12)
                    .unwrap();
            }
        }
    }

    /// The recipes give exactly the settings the committed model's metrics.json records for
    /// each stage (stage 1 ran in mixed precision on a bf16 CPU).
    #[test]
    fn recipes_give_the_settings_metrics_json_records() {
        let m = committed_metrics();
        let s1 = load("1-stage1.toml");
        assert_eq!(
            json(&s1.adapt.as_ref().unwrap().config(Precision::Mixed)),
            m["settings"]["finetune"]
        );
        let s2 = load("2-stage2.toml");
        let (heads, sources) = (s2.heads.as_ref().unwrap(), s2.sources.as_ref().unwrap());
        assert_eq!(json(&heads.config(sources)), m["settings"]["config"]);
        assert_eq!(json(&heads.sentiment()), m["settings"]["sentiment"]);
        assert_eq!(sources.fnc, m["settings"]["fnc"]);
        assert_eq!(sources.clean_negatives, m["settings"]["clean_negatives"]);
        assert_eq!(sources.balance, m["settings"]["balance_sources"]);
        assert_eq!(heads.encoder, HeadsEncoder::Adapted);
        let pair = load("3-pair.toml");
        let last = pair.pair.last().unwrap();
        assert_eq!(
            json(&last.config(Precision::Mixed)),
            m["stance_pair"]["settings"]
        );
        assert_eq!(last.news_mix, m["stance_pair"]["news_mix"]);
        // The last run's record holds the prior correction it was measured with; the first
        // run (its record at 1a54106) has none.
        assert!(last.reply_prior && m["stance_pair"]["reply_prior_correction"].is_object());
        // The run it continued: the stance v2 pair model (its record, replaced by v2.1's, is in
        // commit 1a54106: 2,000 steps at lr 8e-4, fresh factors, no news mixture).
        assert_eq!(pair.pair.len(), 2);
        let first = &pair.pair[0];
        assert_eq!(
            (
                first.steps,
                first.lr,
                first.resume,
                first.news_mix || first.reply_prior
            ),
            (2000, 8e-4, false, false)
        );
        assert!(last.resume);
        let reply = load("4-reply.toml");
        let r = reply.reply.as_ref().unwrap();
        assert_eq!(
            json(&r.config(Precision::Mixed)),
            m["stance_pair"]["reply_model"]["settings"]
        );
        assert_eq!(m["stance_pair"]["reply_model"]["installed"], true);
    }

    #[test]
    fn a_recipe_with_an_unknown_or_missing_field_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read_to_string(recipes_dir().join("4-reply.toml")).unwrap();
        let p = dir.path().join("r.toml");
        std::fs::write(&p, good.replace("install_gain", "install_gian")).unwrap();
        let e = Recipe::load(&p).unwrap_err().to_string();
        assert!(e.contains("r.toml") && e.contains("install_gian"), "{e}");
        std::fs::write(&p, good.replace("steps = ", "# steps = ")).unwrap();
        let e = Recipe::load(&p).unwrap_err().to_string();
        assert!(e.contains("steps"), "{e}");
        // Two stages in one file, or a held-out set the readers do not implement.
        let two = format!(
            "{good}\n{}",
            std::fs::read_to_string(recipes_dir().join("3-pair.toml"))
                .unwrap()
                .split("[[pair]]")
                .nth(1)
                .map(|rest| format!("[[pair]]{rest}"))
                .unwrap()
        );
        std::fs::write(&p, two).unwrap();
        assert!(Recipe::load(&p)
            .unwrap_err()
            .to_string()
            .contains("exactly one"));
        let s2 = std::fs::read_to_string(recipes_dir().join("2-stage2.toml")).unwrap();
        std::fs::write(&p, s2.replace("\"youtoxic\"", "\"cad\"")).unwrap();
        assert!(Recipe::load(&p)
            .unwrap_err()
            .to_string()
            .contains("held_out"));
        assert!(load("4-reply.toml").check_encoder("other", "000").is_err());
    }
}
