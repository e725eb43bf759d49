//! `threadlens train RECIPE.toml…`: runs training recipes (`train::recipe`) in order, from the
//! labelled data in ../shared/data, writing models/heads/: stage 1 adapts the encoder (LoRA),
//! stage 2 trains the sentiment, toxicity and stance heads on its embeddings, then the stance
//! pair model and the reply model. `models/recipes/*.toml` reproduces the committed model
//! (fixed seeds, deterministic splits, cached embeddings).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::{Outcome, Ui};
use crate::score::encoder::{Backend, Encoder, EncoderOptions, Precision};
use crate::score::models::{describe, encoder_id, resolve_models_dir, ADAPTER_FILE, ENCODER_DIR};
use crate::train::finetune::{finetune, FinetuneConfig};
use crate::train::label_maps::LabelMaps;
use crate::train::pair_model::PairConfig;
use crate::train::recipe::{HeadsEncoder, PairRun, Recipe, Reply, StageKind};
use crate::train::{self, TrainSettings};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Reproduce the committed model: threadlens train models/recipes/*.toml \
(the recipes' fields are documented in src/train/recipe.rs and models/recipes/README.md)."
)]
pub struct Args {
    /// Recipe files, run in the order given (each one stage; models/recipes/ holds those of
    /// the committed model).
    #[arg(required = true, value_name = "RECIPE")]
    pub recipes: Vec<PathBuf>,
    /// Folder with the labelled data (sentiment/, toxicity/, stance/ as in ../shared/data).
    #[arg(long, value_name = "DIR", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Models directory; heads are written to DIR/heads.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Where cached embeddings live (default: ~/.cache/threadlens/embeddings).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Measure only: the heads recipe measures the heads in DIR/heads at the default
    /// thresholds (to DIR/heads/evaluation-metrics.json), the pair recipe the pair model (its
    /// record in metrics.json); nothing is trained.
    #[arg(long)]
    pub evaluate: bool,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let models = resolve_models_dir(args.models.as_deref());
    let enc_dir = models.join(ENCODER_DIR);
    let base_hash = describe(&enc_dir.join("model.safetensors"))
        .with_context(|| format!("reading {}", enc_dir.display()))?
        .sha256_12;
    let heads_dir = models.join("heads");
    // Every recipe is read and checked before any stage runs.
    let mut recipes = Vec::new();
    for path in &args.recipes {
        let recipe = Recipe::load(path)?;
        recipe
            .check_encoder(ENCODER_DIR, &base_hash)
            .map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
        recipes.push((path, recipe));
    }
    let run = Run {
        args: &args,
        enc_dir: &enc_dir,
        heads_dir: &heads_dir,
        base_hash: &base_hash,
        ui,
    };
    for (path, recipe) in &recipes {
        ui.info(format!("recipe {}: {}", path.display(), recipe.description));
        match recipe.kind() {
            StageKind::Adapt if args.evaluate => {
                ui.info("  --evaluate: stage 1 is measured through stage 2's heads; nothing to do")
            }
            StageKind::Adapt => run.stage1(recipe)?,
            StageKind::Heads => run.stage2(recipe)?,
            StageKind::Pair if args.evaluate => run.pair_evaluate(recipe)?,
            StageKind::Pair => {
                for (i, pair) in recipe.pair.iter().enumerate() {
                    ui.info(format!("  pair run {} of {}", i + 1, recipe.pair.len()));
                    pair_stage(&args.data, &recipe.maps, &enc_dir, &heads_dir, pair, ui)?;
                }
            }
            StageKind::Reply if args.evaluate => ui.info(
                "  --evaluate: the reply model is measured with the pair recipe; nothing to do",
            ),
            StageKind::Reply => {
                let reply = recipe.reply.as_ref().expect("reply recipe");
                reply_stage(&args.data, &recipe.maps, &enc_dir, &heads_dir, reply, ui)?
            }
        }
    }
    Ok(Outcome::Clean)
}

/// What every stage of one `threadlens train` call shares.
struct Run<'a> {
    args: &'a Args,
    enc_dir: &'a std::path::Path,
    heads_dir: &'a std::path::Path,
    base_hash: &'a str,
    ui: &'a Ui,
}

impl Run<'_> {
    /// Stage 1: LoRA fine-tuning of the encoder; writes the adapter, its two temporary heads
    /// and the stage-1 record of metrics.json (the pair model's record is kept).
    fn stage1(&self, recipe: &Recipe) -> anyhow::Result<()> {
        let (adapt, sources) = (
            recipe.adapt.as_ref().expect("adapt recipe"),
            recipe.sources.as_ref().expect("checked"),
        );
        let precision = adapt.precision.resolve();
        let cfg = adapt.config(precision);
        let base = Encoder::load(
            self.enc_dir,
            &EncoderOptions {
                backend: Backend::Fused,
                max_tokens: cfg.max_tokens,
                precision,
                ..Default::default()
            },
        )
        .context("loading the encoder")?;
        let (maps_path, maps) = (recipe.label_maps_path(), &recipe.maps);
        let data = train::finetune_data(
            &self.args.data,
            maps,
            sources.clean_negatives,
            sources.balance,
        )
        .context("reading the fine-tuning data")?;
        for (source, train_rows, val_rows, positives) in &data.sources {
            self.ui.info(format!(
                "  {source}: {train_rows} training, {val_rows} validation rows, {positives} positive toxicity cells"
            ));
        }
        std::fs::create_dir_all(self.heads_dir)
            .with_context(|| format!("creating {}", self.heads_dir.display()))?;
        let adapter = self.heads_dir.join(ADAPTER_FILE);
        let log = finetune(
            &base,
            &data,
            &cfg,
            &adapter,
            self.ui.show_progress(),
            &|m| self.ui.info(m),
        )
        .context("fine-tuning the encoder")?;
        self.ui.info(format!(
            "stage 1 done in {:.0} s: best validation loss at step {} of {}; wrote {}",
            log.seconds,
            log.best_step,
            log.steps,
            adapter.display()
        ));
        // The pair model is untouched, so its record stays; the rest described the adapter
        // just replaced.
        let path = self.heads_dir.join("metrics.json");
        let previous_pair = read_json(&path).and_then(|v| v.get(PAIR_KEY).cloned());
        let mut record = serde_json::json!({
            "settings": { "finetune": cfg, "label_maps": maps_path },
            "metrics": { "finetune": log },
        });
        if let Some(pair) = previous_pair {
            record[PAIR_KEY] = pair;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&record)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Stage 2: the heads on the (adapted) encoder's embeddings, or with `--evaluate` the
    /// committed heads measured as they stand.
    fn stage2(&self, recipe: &Recipe) -> anyhow::Result<()> {
        let (heads, sources) = (
            recipe.heads.as_ref().expect("heads recipe"),
            recipe.sources.as_ref().expect("checked"),
        );
        let adapter = self.heads_dir.join(ADAPTER_FILE);
        let metrics_path = self.heads_dir.join("metrics.json");
        let mut stage1 = None;
        match heads.encoder {
            HeadsEncoder::Frozen if self.args.evaluate => {}
            HeadsEncoder::Frozen => {
                if adapter.is_file() {
                    std::fs::remove_file(&adapter)
                        .with_context(|| format!("removing {}", adapter.display()))?;
                    self.ui.info(format!(
                        "removed {} (heads on the frozen encoder)",
                        adapter.display()
                    ));
                }
            }
            HeadsEncoder::Adapted => {
                if !adapter.is_file() {
                    anyhow::bail!(
                        "{} does not exist: run the stage-1 recipe first",
                        adapter.display()
                    );
                }
                // Keep the record of the stage 1 that made this adapter (its settings and
                // log), so metrics.json still describes the whole model.
                stage1 = stage1_record(&metrics_path);
                if stage1.is_none() {
                    self.ui.warn(format!(
                        "{}: no record of the stage 1 that made this adapter; metrics.json will lack it",
                        metrics_path.display()
                    ));
                }
            }
        }
        let adapter = adapter.is_file().then_some(adapter);
        let encoder_hash = encoder_id(self.base_hash, adapter.as_deref())
            .with_context(|| format!("reading {}", self.heads_dir.display()))?;
        let opts = EncoderOptions {
            backend: Backend::Fused,
            precision: Precision::Fp32,
            adapter: adapter.clone(),
            ..Default::default()
        };
        let enc = Encoder::load(self.enc_dir, &opts).context("loading the encoder")?;
        let previous_pair = read_json(&metrics_path).and_then(|v| v.get(PAIR_KEY).cloned());
        let (stage1_cfg, stage1_log) = stage1.map_or((None, None), |(c, l)| (Some(c), Some(l)));
        let settings = TrainSettings {
            data: self.args.data.clone(),
            out: self.heads_dir.to_path_buf(),
            cache: cache_dir(self.args),
            config: heads.config(sources),
            fnc: sources.fnc,
            clean_negatives: sources.clean_negatives,
            balance_sources: sources.balance,
            finetune: if adapter.is_some() { stage1_cfg } else { None },
            sentiment: heads.sentiment(),
            label_maps: Some(recipe.label_maps_path()),
            evaluate_only: self.args.evaluate,
        };
        let metrics = train::run(
            &settings,
            &enc,
            &encoder_hash,
            stage1_log,
            self.ui.show_progress(),
            &|m| self.ui.info(m),
        )?;
        {
            let mut out = std::io::stdout().lock();
            for (k, v) in &metrics.scores {
                writeln!(out, "{k}\t{v:.4}")?;
            }
        }
        if settings.evaluate_only {
            self.ui.info(format!(
                "wrote {}",
                settings.out.join(train::EVALUATION_FILE).display()
            ));
            return Ok(());
        }
        // The pair model is trained apart (3-pair.toml); its record stays.
        if let Some(v) = previous_pair {
            merge_pair_record(&metrics_path, v)?;
        }
        self.ui.info(format!("wrote {}", settings.out.display()));
        Ok(())
    }

    /// `--evaluate` with the pair recipe: the pair model in the heads folder measured again on
    /// the held-out pairs; its record keeps its training log.
    fn pair_evaluate(&self, recipe: &Recipe) -> anyhow::Result<()> {
        let mut record = read_json(&self.heads_dir.join("metrics.json"))
            .and_then(|v| v.get(PAIR_KEY).cloned())
            .context("--evaluate: metrics.json has no record of a trained pair model")?;
        let scores = measure_pairs(&self.args.data, &recipe.maps, self.enc_dir, self.heads_dir)?;
        record["scores"] = serde_json::to_value(scores)?;
        merge_pair_record(&self.heads_dir.join("metrics.json"), record)
    }
}

/// Where `threadlens train` keeps cached embeddings unless `--cache` says otherwise.
fn cache_dir(args: &Args) -> PathBuf {
    args.cache.clone().unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache/threadlens/embeddings")
    })
}

/// The pair model in `heads_dir` measured on the held-out pairs at the scoring default
/// precision; the figures are printed too.
fn measure_pairs(
    data: &std::path::Path,
    maps: &LabelMaps,
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let scorer = load_pair_scorer(enc_dir, heads_dir)?;
    let tests = train::pairs::pair_test(data, maps).context("reading the held-out pairs")?;
    let scores = train::pairs::evaluate(&scorer, &tests)?;
    let mut out = std::io::stdout().lock();
    for (k, v) in &scores {
        writeln!(out, "{k}\t{v:.4}")?;
    }
    Ok(scores)
}

/// The pair model in `heads_dir` at the scoring default precision.
fn load_pair_scorer(
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
) -> anyhow::Result<crate::score::pair::PairScorer> {
    crate::score::pair::PairScorer::load(enc_dir, heads_dir, &EncoderOptions::default())?
        .context("no stance pair model in the heads directory")
}

/// Key, in the pair model's record, of its reply-head prior correction.
const REPLY_PRIOR_KEY: &str = "reply_prior_correction";

/// Fits the reply head's prior correction on ToxiChat dev (models/README.md, "Amendment stance
/// v2.2") and folds it into the heads file when its 2-fold figure gains ≥ 0.01 macro-F1; the
/// record says what was fitted and whether it was kept.
fn reply_prior(
    data: &std::path::Path,
    maps: &LabelMaps,
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
    ui: &Ui,
) -> anyhow::Result<serde_json::Value> {
    let scorer = load_pair_scorer(enc_dir, heads_dir)?;
    let rows = train::pairs::toxichat_dev(data, maps).context("reading the ToxiChat dev pairs")?;
    let (offsets, plain, out_of_fold, n) = train::pairs::reply_prior_correction(&scorer, &rows)?;
    drop(scorer);
    let kept = out_of_fold >= plain + 0.01;
    if kept {
        crate::score::pair::add_reply_bias(heads_dir, offsets)?;
    }
    ui.info(format!(
        "reply stance prior correction on {n} {} pairs: macro-F1 {plain:.4}, 2-fold corrected {out_of_fold:.4}, offsets agree {:+.2} disagree {:+.2}: {}",
        train::pairs::REPLY_PRIOR_SOURCE,
        offsets[0],
        offsets[1],
        if kept { "kept" } else { "not kept" }
    ));
    Ok(serde_json::json!({
        "source": train::pairs::REPLY_PRIOR_SOURCE,
        "pairs": n,
        "macro_f1": plain,
        "macro_f1_corrected_2fold": out_of_fold,
        "offsets": offsets,
        "kept": kept,
    }))
}

/// Key of the pair model's record in metrics.json.
const PAIR_KEY: &str = "stance_pair";

fn read_json(path: &std::path::Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Puts the pair model's record under [`PAIR_KEY`] in metrics.json (created if missing).
fn merge_pair_record(path: &std::path::Path, record: serde_json::Value) -> anyhow::Result<()> {
    let mut v = read_json(path).unwrap_or_else(|| serde_json::json!({}));
    if let Some(obj) = v.as_object_mut() {
        obj.insert(PAIR_KEY.into(), record);
    }
    std::fs::write(path, serde_json::to_string_pretty(&v)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// Stage 3: trains the stance pair model on the base encoder, writes its adapter and heads to
/// `heads_dir`, measures it on the held-out pairs at the scoring default precision, and
/// records settings, log and figures in metrics.json.
fn pair_stage(
    data: &std::path::Path,
    maps: &LabelMaps,
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
    pair: &PairRun,
    ui: &Ui,
) -> anyhow::Result<()> {
    remove_reply_model(heads_dir, ui)?;
    let precision = pair.precision.resolve();
    let cfg = pair.config(precision);
    let mut rows = train::pairs::pair_train(data, maps).context("reading the stance pairs")?;
    if pair.news_mix {
        train::pairs::news_mix(&mut rows);
    }
    let counts = pair_counts(&rows, ui);
    std::fs::create_dir_all(heads_dir)
        .with_context(|| format!("creating {}", heads_dir.display()))?;
    let log = train_pair_rows(enc_dir, precision, &rows, &cfg, heads_dir, ui)
        .context("training the stance pair model")?;
    let prior = pair
        .reply_prior
        .then(|| reply_prior(data, maps, enc_dir, heads_dir, ui))
        .transpose()?;
    let scores = measure_pairs(data, maps, enc_dir, heads_dir)?;
    let mut record = serde_json::json!({
        "settings": cfg,
        "news_mix": pair.news_mix,
        "rows": counts,
        "log": log,
        "scores": scores,
    });
    if let Some(prior) = prior {
        record[REPLY_PRIOR_KEY] = prior;
    }
    merge_pair_record(&heads_dir.join("metrics.json"), record)?;
    ui.info(format!(
        "stage 3 done in {:.0} s: wrote the stance pair model to {}",
        log.seconds,
        heads_dir.display()
    ));
    Ok(())
}

/// Removes an installed reply model: it was trained from the pair model a pair run replaces,
/// and while it is installed the pair scorer answers reply pairs with it, so the pair model's
/// prior correction and figures would not be its own. The reply recipe makes a new one.
fn remove_reply_model(heads_dir: &std::path::Path, ui: &Ui) -> anyhow::Result<()> {
    use crate::score::pair::{REPLY_ADAPTER_FILE, REPLY_HEADS_FILE};
    for f in [REPLY_ADAPTER_FILE, REPLY_HEADS_FILE] {
        let p = heads_dir.join(f);
        if p.is_file() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
            ui.info(format!(
                "removed {} (made from the pair model this run replaces; the reply recipe makes a new one)",
                p.display()
            ));
        }
    }
    Ok(())
}

/// Trains the reply model (models/README.md, "Amendment stance v2.5") in `heads_dir/reply-run`
/// from the pair model, installs it beside the pair model where it gains the recipe's
/// `install_gain` on ToxiChat dev, and records
/// settings, log, the rule's figures and the held-out figures (either way) in metrics.json.
fn reply_stage(
    data: &std::path::Path,
    maps: &LabelMaps,
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
    reply: &Reply,
    ui: &Ui,
) -> anyhow::Result<()> {
    use crate::score::pair::{
        PAIR_ADAPTER_FILE, PAIR_HEADS_FILE, REPLY_ADAPTER_FILE, REPLY_HEADS_FILE,
    };
    let run = heads_dir.join("reply-run");
    std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
    for f in [PAIR_ADAPTER_FILE, PAIR_HEADS_FILE] {
        std::fs::copy(heads_dir.join(f), run.join(f))
            .with_context(|| format!("copying {} (the reply model starts from it)", f))?;
    }
    let precision = reply.precision.resolve();
    let cfg = reply.config(precision);
    let rows = train::pairs::reply_train(data, maps).context("reading the reply pairs")?;
    let counts = pair_counts(&rows, ui);
    let log = train_pair_rows(enc_dir, precision, &rows, &cfg, &run, ui)
        .context("training the reply model")?;
    let (before, after) = reply_dev_figures(data, maps, enc_dir, heads_dir, &run)?;
    let kept = log.best_step > 0 && after >= before + reply.install_gain;
    ui.info(format!(
        "reply model: ToxiChat dev macro-F1 {after:.4} (pair model's reply head {before:.4}; best check at step {}): {}",
        log.best_step,
        if kept { "installed" } else { "not installed" }
    ));
    // Held-out figures, read after the decision and recorded either way.
    let scores = measure_pairs(data, maps, enc_dir, &run)?;
    let record = serde_json::json!({
        "settings": cfg,
        "rows": counts,
        "log": log,
        "toxichat_dev_macro_f1": after,
        "pair_reply_head_toxichat_dev_macro_f1": before,
        "installed": kept,
        "scores": scores,
    });
    if kept {
        for f in [REPLY_ADAPTER_FILE, REPLY_HEADS_FILE] {
            std::fs::rename(run.join(f), heads_dir.join(f))?;
        }
    }
    std::fs::remove_dir_all(&run).with_context(|| format!("removing {}", run.display()))?;
    let metrics = heads_dir.join("metrics.json");
    let mut pair = read_json(&metrics)
        .and_then(|v| v.get(PAIR_KEY).cloned())
        .unwrap_or_else(|| serde_json::json!({}));
    if kept {
        // The pair model's held-out figures are now those with the reply model answering
        // reply pairs (article figures unchanged); the pair model's own are kept beside them
        // (already there where a reply model was installed before).
        if pair.get("scores_before_reply_model").is_none() {
            pair["scores_before_reply_model"] = pair["scores"].take();
        }
        pair["scores"] = record["scores"].clone();
    }
    pair["reply_model"] = record;
    merge_pair_record(&metrics, pair)
}

/// ToxiChat dev macro-F1 of the pair model's own reply head (a copy of the pair model alone,
/// whether or not a reply model is installed beside it) and of the candidate in `run`, where
/// the candidate's files (written under the pair model's names) become the reply model of a
/// copy of the pair model.
fn reply_dev_figures(
    data: &std::path::Path,
    maps: &LabelMaps,
    enc_dir: &std::path::Path,
    heads_dir: &std::path::Path,
    run: &std::path::Path,
) -> anyhow::Result<(f64, f64)> {
    use crate::score::pair::{
        PAIR_ADAPTER_FILE, PAIR_HEADS_FILE, REPLY_ADAPTER_FILE, REPLY_HEADS_FILE,
    };
    for (from, to) in [
        (PAIR_ADAPTER_FILE, REPLY_ADAPTER_FILE),
        (PAIR_HEADS_FILE, REPLY_HEADS_FILE),
    ] {
        std::fs::rename(run.join(from), run.join(to))?;
        std::fs::copy(heads_dir.join(from), run.join(from))?;
    }
    let alone = run.join("pair-model-alone");
    std::fs::create_dir_all(&alone).with_context(|| format!("creating {}", alone.display()))?;
    for f in [PAIR_ADAPTER_FILE, PAIR_HEADS_FILE] {
        std::fs::copy(heads_dir.join(f), alone.join(f))?;
    }
    let dev = train::pairs::toxichat_dev(data, maps).context("reading the ToxiChat dev pairs")?;
    let dev_f1 = |dir: &std::path::Path| -> anyhow::Result<f64> {
        train::pairs::reply_dev_macro_f1(&load_pair_scorer(enc_dir, dir)?, &dev)
    };
    Ok((dev_f1(&alone)?, dev_f1(run)?))
}

/// Trains a pair model on `rows` (the base encoder loaded for it and dropped after), writing
/// its best check into `dir`.
fn train_pair_rows(
    enc_dir: &std::path::Path,
    precision: Precision,
    rows: &[train::pairs::PairExample],
    cfg: &PairConfig,
    dir: &std::path::Path,
    ui: &Ui,
) -> anyhow::Result<crate::train::pair_model::PairLog> {
    let base = Encoder::load(
        enc_dir,
        &EncoderOptions {
            backend: Backend::Fused,
            precision,
            max_tokens: cfg.budget.total,
            ..Default::default()
        },
    )
    .context("loading the encoder")?;
    Ok(crate::train::pair_model::train_pairs(
        &base,
        &pair_data(rows),
        cfg,
        dir,
        ui.show_progress(),
        &|m| ui.info(m),
    )?)
}

/// Training and validation pairs per source, each printed.
fn pair_counts<'a>(
    rows: &'a [train::pairs::PairExample],
    ui: &Ui,
) -> std::collections::BTreeMap<&'a str, (usize, usize)> {
    use crate::train::datasets::Split;
    let mut counts: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for r in rows {
        let e = counts.entry(r.source).or_default();
        if r.split == Split::Validation {
            e.1 += 1
        } else {
            e.0 += 1
        }
    }
    for (source, (t, v)) in &counts {
        ui.info(format!("  pairs {source}: {t} training, {v} validation"));
    }
    counts
}

/// The pairs as the trainer takes them.
fn pair_data(rows: &[train::pairs::PairExample]) -> crate::train::pair_model::PairData {
    use crate::train::datasets::Split;
    crate::train::pair_model::PairData {
        first: rows.iter().map(|r| r.first.clone()).collect(),
        second: rows.iter().map(|r| r.second.clone()).collect(),
        task: rows.iter().map(|r| r.task).collect(),
        label: rows.iter().map(|r| r.label).collect(),
        is_val: rows.iter().map(|r| r.split == Split::Validation).collect(),
    }
}

/// The stage-1 settings and log recorded in an earlier metrics.json, when it has both.
fn stage1_record(
    metrics: &std::path::Path,
) -> Option<(FinetuneConfig, crate::train::finetune::FinetuneLog)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(metrics).ok()?).ok()?;
    let cfg = serde_json::from_value(v.get("settings")?.get("finetune")?.clone()).ok()?;
    let log = serde_json::from_value(v.get("metrics")?.get("finetune")?.clone()).ok()?;
    Some((cfg, log))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::finetune::{Check, FinetuneLog};

    /// Issue 39: what varies per run is a flag, the rest is in the recipe, and the help fits
    /// on one screen.
    #[test]
    fn train_help_fits_on_one_screen() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let help = cli
            .find_subcommand_mut("train")
            .expect("train subcommand")
            .render_help()
            .to_string();
        assert!(help.lines().count() <= 24, "{help}");
        assert!(help.contains("<RECIPE>"), "{help}");
    }

    /// A record merged into metrics.json keeps every other figure byte for byte: numbers are
    /// read back as the same doubles (serde_json's `float_roundtrip`; without it some came
    /// back one unit in the last place off, seen on the pair model's record).
    #[test]
    fn merging_a_record_rewrites_the_other_figures_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        let before = "{\n  \"metrics\": {\n    \"a\": 0.9565641776476329,\n    \"b\": 0.10619469026548671\n  }\n}\n";
        std::fs::write(&path, before).unwrap();
        merge_pair_record(&path, serde_json::json!({ "x": 1 })).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(
            after.contains("\"a\": 0.9565641776476329,")
                && after.contains("\"b\": 0.10619469026548671"),
            "{after}"
        );
    }

    #[test]
    fn reusing_an_adapter_keeps_the_stage_1_record_of_metrics_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.json");
        let cfg = FinetuneConfig {
            epochs: 3,
            ..Default::default()
        };
        let log = FinetuneLog {
            sources: vec![("s".to_string(), 10, 2, 1)],
            train_rows: 10,
            stream_rows: 12,
            val_rows: 2,
            steps: 7,
            best_step: 5,
            trainable_parameters: 99,
            seconds: 1.5,
            checks: vec![Check {
                step: 5,
                train_loss: 0.7,
                val_loss: 0.6,
                val_sentiment_macro_recall: 0.8,
                val_toxicity_f1: 0.9,
            }],
            continued_from: Some(Box::new(serde_json::json!({ "log": { "steps": 4500 } }))),
        };
        let json = serde_json::json!({
            "settings": { "finetune": cfg },
            "metrics": { "finetune": log, "scores": {} },
        });
        std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        let (c, l) = stage1_record(&path).expect("record read back");
        assert_eq!(c.epochs, 3);
        assert_eq!((l.steps, l.best_step, l.checks.len()), (7, 5, 1));
        assert_eq!(l.checks[0].val_loss, 0.6);
        // A continued run's record of the run it continued survives too.
        let before = l.continued_from.expect("continued_from read back");
        assert_eq!(before["log"]["steps"], 4500);
        // No file, or a model trained without stage 1: nothing to keep.
        assert!(stage1_record(&dir.path().join("missing.json")).is_none());
        std::fs::write(
            &path,
            r#"{"settings":{"finetune":null},"metrics":{"finetune":null}}"#,
        )
        .unwrap();
        assert!(stage1_record(&path).is_none());
    }
}
