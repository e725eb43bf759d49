//! `threadlens merge`: the second step of a cluster run. Spark or Hadoop runs `threadlens
//! score -` per partition; the reports `analyze` writes need the whole input at once (an
//! author's comments across partitions, the queue's one order, per-article figures), so this
//! command joins the partitions' scores to the input, read and threaded again but not scored,
//! and writes the same reports with the same code as `analyze`.

use std::path::PathBuf;

use anyhow::Context;

use super::analyze::default_thresholds_help;
use super::common::{load_thresholds, read_forest, report_written, InputArgs};
use super::{Outcome, Ui};
use crate::report::{merge, write_analysis};
use crate::score::calls::{ArticleModel, StanceCalls};
use crate::score::figures::FlagFigures;
use crate::score::models::HeadsFiles;

/// Write analyze's reports from scores computed elsewhere (per partition on a cluster).
///
/// INPUT is what was scored, read with the same flags as `analyze` would read it: the whole
/// input, because the reports need whole threads, every comment of an author, the articles
/// and the moderation status the scores files do not carry. It is read and threaded, not
/// scored: each comment's scores come from its row in the --scores files (joined on `id`),
/// which together must hold every comment of INPUT exactly once, from one model. Writes into
/// OUTDIR what `analyze` writes (comments.csv, queue.csv, threads.csv, authors.csv,
/// summary.md, summary.html, charts/); figures are computed from the 4-decimal scores in the
/// files, so a mean can differ from analyze's in the last decimal.
#[derive(Debug, clap::Args)]
#[command(after_help = default_thresholds_help())]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Scores CSVs written by `threadlens score`, e.g. one per partition (headers repeated
    /// inside a file are skipped). A folder stands for the files in it, as Spark and Hadoop
    /// write them (names starting with _ or . are skipped); - reads standard input.
    #[arg(long, value_name = "SCORES", required = true, num_args = 1..)]
    pub scores: Vec<PathBuf>,
    /// Output folder (created if needed).
    #[arg(short, long, value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Thresholds file written by `threadlens tune` (TOML); missing attributes keep defaults.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Models directory the scores were made with (default: as `score` finds it). Only its
    /// stance thresholds (which stances that model can assert at all) and the measured
    /// figures of its default flag thresholds are read.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

/// What the scoring runs' models can assert: the scores files carry each comment's asserted
/// labels, but not whether a label could have been asserted at all, so the thresholds are
/// read from the models directory; as the files do not say which stance model made them, a
/// label counts only where both models could assert it.
fn merge_calls(files: &HeadsFiles, ui: &Ui) -> StanceCalls {
    let calls = StanceCalls::load(files, ArticleModel::OnePass)
        .both(&StanceCalls::load(files, ArticleModel::Pair));
    if let Some(note) = &calls.note {
        ui.warn(note.clone());
    }
    calls
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let stdin = std::path::Path::new("-");
    if args.input.inputs.iter().any(|p| p == stdin) && args.scores.iter().any(|p| p == stdin) {
        anyhow::bail!(
            "INPUT and --scores cannot both read standard input (-); give one of them as files"
        );
    }
    let thresholds = load_thresholds(args.thresholds.as_deref())?;
    crate::report::outfile::check_dir(&args.output)?;
    let read: Vec<PathBuf> = args
        .input
        .inputs
        .iter()
        .chain(&args.scores)
        .cloned()
        .collect();
    crate::report::refuse_inputs_in(&args.output, &read)?;
    let forest = read_forest(&args.input, ui)?;
    let merged = merge::merge(&forest, &args.scores).context("merging the scores")?;
    if !merged.restructured.is_empty() {
        let n = merged.restructured.len();
        let first: Vec<&str> = merged
            .restructured
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        ui.warn(format!(
            "{n} comments were scored with another thread_id, parent_id or depth than the whole \
input gives them (first: {}): their partition did not hold their whole thread; the reports use \
the input's threads, but a reply's stance toward its parent (--stance-model pair) is missing \
where the parent was elsewhere. Partition by thread (or article) id",
            first.join(", ")
        ));
    }
    let heads = HeadsFiles::read_or_none(
        &crate::score::models::resolve_models_dir(args.models.as_deref()).join("heads"),
    );
    let source = format!(
        "scores merged from {} file{}",
        merged.files.len(),
        if merged.files.len() == 1 { "" } else { "s" }
    );
    let w = write_analysis(
        &args.output,
        &forest,
        &merged.scores,
        &thresholds,
        &crate::report::ModelFacts {
            id: &merged.model_id,
            precision: &source,
            calls: &merge_calls(&heads, ui),
            figures: &FlagFigures::load(&heads),
        },
    )?;
    Ok(report_written(ui, &w, Some(&source), &args.output, &forest))
}
