//! `threadlens analyze`: the daily moderator command. Builds the threads, scores every comment
//! and writes comments.csv, queue.csv, threads.csv, authors.csv, summary.md and summary.html
//! into the output folder.

use std::path::PathBuf;

use super::common::{
    load_thresholds, read_and_score, report_written, InputArgs, ModelArgs, StanceArgs,
};
use super::{Outcome, Ui};
use crate::report::write_analysis;
use crate::score::scorer::StanceModel;
use crate::tune::thresholds::{Attribute, DEFAULTS};

/// Build the threads, score every comment and write the moderation reports.
///
/// Writes into OUTDIR: comments.csv (scores + flagged + reasons), queue.csv (flagged comments,
/// most severe first, with reason codes TOXIC INSULT THREAT OBSCENE IDENTITY_ATTACK
/// SEVERE_TOXICITY SEXUALLY_EXPLICIT FLAG ESCALATION AUTHOR_HISTORY, the parent as context and
/// the path to the thread's root), threads.csv, authors.csv, summary.md and summary.html
/// (self-contained), charts/*.svg. A comment is flagged when an attribute's score is >= its
/// threshold (the defaults are listed below).
#[derive(Debug, clap::Args)]
#[command(after_help = analyze_help())]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder (created if needed).
    #[arg(short, long, value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Thresholds file written by `threadlens tune` (TOML); missing attributes keep defaults.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Score pingbacks and trackbacks too. By default they are listed (`kind`), counted apart
    /// and left unscored: they are links from other sites, not readers' comments.
    #[arg(long)]
    pub score_pingbacks: bool,
    #[command(flatten)]
    pub stance: StanceArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `Default thresholds: toxicity 0.8, …, flag (max of all) 0.8.`, from the one table of
/// defaults.
pub(super) fn default_thresholds_help() -> String {
    let items: Vec<String> = DEFAULTS
        .iter()
        .map(|&(a, t)| match a {
            Attribute::Flag => format!("flag (max of all) {t}"),
            _ => format!("{a} {t}"),
        })
        .collect();
    format!("Default thresholds: {}.", items.join(", "))
}

/// The stance models `analyze` reads stance with when `--stance-model` is not given: the
/// one-pass head toward the article (models/README.md, "Amendment stance v2.7", says how it was
/// chosen over the pair model) and the reply model for each reply's stance toward its parent
/// (docs/outputs.md, Stance: the report is where contested threads are read, and it is not bound by
/// `score`'s throughput rule).
pub const DEFAULT_STANCE_MODEL: StanceModel = StanceModel::EmbeddingReply;

/// The default thresholds, then the default stance model.
fn analyze_help() -> String {
    use clap::ValueEnum;
    let name = DEFAULT_STANCE_MODEL
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    format!(
        "{}\nStance without --stance-model: {name}.",
        default_thresholds_help()
    )
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let thresholds = load_thresholds(args.thresholds.as_deref())?;
    // A folder that cannot be written fails now, not after the scoring.
    crate::report::outfile::check_dir(&args.output)?;
    crate::report::refuse_inputs_in(&args.output, &args.input.inputs)?;
    let (forest, scores, scorer) = read_and_score(
        &args.input,
        &args.stance,
        &args.model,
        DEFAULT_STANCE_MODEL,
        args.score_pingbacks,
        ui,
    )?;
    let w = write_analysis(
        &args.output,
        &forest,
        &scores,
        &thresholds,
        &crate::report::ModelFacts {
            id: &scorer.model_id,
            precision: scorer.encoder().precision_name(),
            calls: scorer.calls(),
            figures: scorer.flag_figures(),
        },
    )?;
    Ok(report_written(ui, &w, None, &args.output, &forest))
}
