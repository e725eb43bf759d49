//! `threadlens tune`: turns a moderator's labelled sample and the scores of those comments
//! into the thresholds file `analyze` reads, plus a curves CSV, PR/ROC charts and a short
//! Markdown summary. Arguments are validated first (no I/O), then resolved into settings.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use super::common::ModelArgs;
use crate::cli::{Outcome, Ui};
use crate::score::scorer::StanceModel;
use crate::tune::charts::{write_chart, Chart};
use crate::tune::input::Rejection;
use crate::tune::labels::{read_labels, LabelledSample};
use crate::tune::report::{summary_markdown, write_curves_csv, SummaryContext};
use crate::tune::scores::{read_scores, ScoreRow, ScoreTable, ToxicityScores};
use crate::tune::search::Objective;
use crate::tune::{count, join, rounded_score, sibling, thresholds, tune, Attribute, Settings};

/// Tune per-attribute flagging thresholds on your own labelled sample.
///
/// Reads a CSV of comments you labelled (`id`, `text`, and a 0/1 column for each attribute
/// you label: toxicity, insult, threat, obscene, identity_attack, severe_toxicity,
/// sexual_explicit, or `flag` for a plain moderate/keep decision), joins it on `id` with their scores, and picks a threshold per
/// attribute. A comment is flagged when its score, rounded to 4 decimals as in the scores
/// CSV, is >= the threshold; tune reports precision and recall by that rule. Writes the
/// thresholds file (`-o`), and next to it `<name>.curves.csv`, `<name>.pr.svg`,
/// `<name>.roc.svg` and `<name>.md`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Objectives (pick at most one; default: best F1): --target-precision, \
--target-recall, --review-budget.\n\nA comment is flagged for an attribute when its score, \
rounded to 4 decimals as in the scores CSV, is >= the threshold; precision, recall and flag \
rates are reported by that rule, on the sample.\n\nExit status: 0 success; 1 done, but \
some labelled or scored records were rejected or had no match (each is listed with its file and line); 2 error."
)]
pub struct Args {
    /// Labelled sample: CSV with `id`, `text` and 0/1 label columns (`-` for stdin). Optional
    /// `parent_id` and `author` columns let tune report what ESCALATION and AUTHOR_HISTORY add.
    #[arg(long, value_name = "FILE")]
    pub labels: PathBuf,
    /// Scores of the labelled comments, as written by `threadlens score` (joined on `id`).
    /// Without it, the texts in the labels file are scored first.
    #[arg(long, value_name = "FILE")]
    pub scores: Option<PathBuf>,
    /// Where to write the thresholds file (TOML) that `analyze` reads.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Where to write the curves CSV [default: <output name>.curves.csv next to the output].
    #[arg(long, value_name = "FILE")]
    pub curves: Option<PathBuf>,
    /// Where to write the Markdown summary [default: <output name>.md next to the output].
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Choose the lowest threshold whose precision is at least P (best recall at that
    /// precision); P in (0, 1].
    #[arg(long, value_name = "P", value_parser = fraction, conflicts_with_all = ["target_recall", "review_budget"])]
    pub target_precision: Option<f64>,
    /// Choose the highest threshold whose recall is at least R (fewest flags at that
    /// recall); R in (0, 1].
    #[arg(long, value_name = "R", value_parser = fraction, conflicts_with = "review_budget")]
    pub target_recall: Option<f64>,
    /// Comments a moderator can review per 1,000, in the combined queue analyze builds (a
    /// comment is flagged when any attribute reaches its threshold; attributes not tuned keep
    /// their defaults and count too). Shared greedily on the sample: every tuned attribute
    /// starts above its top score, then the threshold of the attribute whose next distinct
    /// score adds the most of its labelled positives per newly flagged comment is lowered,
    /// while the queue stays within N per 1,000. If the defaults alone exceed N, the tuned
    /// attributes flag as little as possible and tune says so. N in 1..=1000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub review_budget: Option<u32>,
    /// Bootstrap resamples for the 95 % intervals of precision and recall (0 turns them off).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub resamples: u32,
    /// Seed of the bootstrap; the same seed gives the same intervals.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    #[command(flatten)]
    pub model: ModelArgs,
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number in (0, 1]")),
    }
}

/// Output paths, resolved and checked to be distinct from each other and from the inputs.
struct Outputs {
    thresholds: PathBuf,
    curves: PathBuf,
    summary: PathBuf,
    pr: PathBuf,
    roc: PathBuf,
}

impl Outputs {
    fn all(&self) -> [&PathBuf; 5] {
        [
            &self.thresholds,
            &self.curves,
            &self.summary,
            &self.pr,
            &self.roc,
        ]
    }
}

fn resolve(args: &Args) -> anyhow::Result<(Settings, Outputs)> {
    let objective = match (
        args.target_precision,
        args.target_recall,
        args.review_budget,
    ) {
        (Some(p), _, _) => Objective::TargetPrecision(p),
        (_, Some(r), _) => Objective::TargetRecall(r),
        (_, _, Some(n)) => Objective::ReviewBudget(n),
        _ => Objective::MaxF1,
    };
    if args.output.as_os_str() == "-" {
        bail!("--output needs a file name: tune writes several files next to it");
    }
    let stdin = Path::new("-");
    if args.labels == stdin && args.scores.as_deref() == Some(stdin) {
        bail!(
            "--labels and --scores cannot both read standard input (-); give one of them as a file"
        );
    }
    let out = &args.output;
    let outputs = Outputs {
        thresholds: out.clone(),
        curves: args
            .curves
            .clone()
            .unwrap_or_else(|| sibling(out, "curves.csv")),
        summary: args.summary.clone().unwrap_or_else(|| sibling(out, "md")),
        pr: sibling(out, "pr.svg"),
        roc: sibling(out, "roc.svg"),
    };
    let all = outputs.all();
    // Compared as canonical paths, so `./x.csv`, `dir/../x.csv` or a link to x.csv is x.csv.
    let inputs: Vec<PathBuf> = std::iter::once(&args.labels)
        .chain(args.scores.as_ref())
        .filter(|p| p.as_path() != stdin)
        .map(|p| canonical(p))
        .collect();
    let targets: Vec<PathBuf> = all.iter().map(|p| canonical(p)).collect();
    for (i, a) in targets.iter().enumerate() {
        if targets[i + 1..].contains(a) || inputs.contains(a) {
            bail!(
                "{} would be written twice or overwrite an input; choose other file names",
                all[i].display()
            );
        }
    }
    let settings = Settings {
        objective,
        resamples: args.resamples,
        seed: args.seed,
    };
    Ok((settings, outputs))
}

/// `path` made absolute with links resolved, for comparing file names. An output may not
/// exist yet: the longest part of it that exists is canonicalized and the rest appended.
fn canonical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component> = absolute.components().collect();
    for k in (1..=parts.len()).rev() {
        let Ok(mut out) = parts[..k].iter().collect::<PathBuf>().canonicalize() else {
            continue;
        };
        for part in &parts[k..] {
            match part {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other),
            }
        }
        return out;
    }
    absolute
}

/// Creates the folders the outputs go into, so a bad output path fails before any work.
fn create_output_folders(outputs: &Outputs) -> anyhow::Result<()> {
    for path in outputs.all() {
        let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
            continue;
        };
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the output folder {}", parent.display()))?;
    }
    Ok(())
}

/// Runs `threadlens tune`.
pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let (settings, outputs) = resolve(&args)?;
    create_output_folders(&outputs)?;
    let labels = read_labels(&args.labels).context("reading the labelled sample")?;
    if labels.rows.is_empty() {
        for p in &labels.rejected {
            ui.warn(p);
        }
        bail!(
            "{}: no usable labelled rows ({} rejected, each listed above)",
            args.labels.display(),
            count(labels.rejected.len() as u64, "row", "rows")
        );
    }
    if !labels.ignored_columns.is_empty() {
        ui.info(format!(
            "{}: ignoring columns that are not labels: {}",
            args.labels.display(),
            labels.ignored_columns.join(", ")
        ));
    }
    if let Some((id, first, last)) = labels.superseded.first() {
        ui.info(format!(
            "{}: {} superseded by a later row for the same id; the latest decision wins \
             (first: id '{id}', line {first} replaced by line {last})",
            args.labels.display(),
            count(labels.superseded.len() as u64, "row", "rows")
        ));
    }
    let mut problems: Vec<Rejection> = labels.rejected.clone();
    let (scores, scores_name) = match &args.scores {
        Some(path) => (
            read_scores(path).context("reading the scores")?,
            path.display().to_string(),
        ),
        None => (
            scores_for_texts(&labels, &args.model, ui)?,
            "the scorer's output".to_string(),
        ),
    };
    problems.extend(scores.rejected.iter().cloned());
    let joined = join(&labels, &scores, &scores_name);
    problems.extend(joined.missing_scores.iter().cloned());
    for p in &problems {
        ui.warn(p);
    }
    if let Some((line, id)) = joined.unlabelled.first() {
        ui.info(format!(
            "{} scored comments have no label and are not used (first: line {line}, id '{id}')",
            joined.unlabelled.len()
        ));
    }
    if joined.matched == 0 {
        let which = match labels.rows.len() {
            1 => "the only labelled comment".to_string(),
            n => format!("none of the {n} labelled comments"),
        };
        let has = if labels.rows.len() == 1 {
            "has no score"
        } else {
            "has a score"
        };
        bail!(
            "{which} in {} {has} in {scores_name}; check that the ids match",
            args.labels.display()
        );
    }

    let tuned = tune(&joined, &settings);
    let results = &tuned.results;
    for w in &tuned.warnings {
        ui.warn(w);
    }
    for r in results {
        for w in &r.warnings {
            ui.warn(format!("{}: {w}", r.attribute));
        }
        if let Some(t) = r.threshold() {
            ui.info(format!(
                "{}: threshold {} ({}; precision {}, recall {}, F1 {})",
                r.attribute,
                t.threshold,
                t.objective.unwrap_or_default(),
                show(t.precision),
                show(t.recall),
                show(t.f1)
            ));
        }
    }

    let c = &tuned.combined;
    let combined = format!(
        "{} of {} comments flagged, {:.1} per 1000",
        c.flagged,
        c.comments,
        c.per_1000()
    );
    ui.info(format!(
        "combined queue on the sample (any attribute at or above its threshold): {combined}"
    ));
    let mut notes = vec![format!(
        "Tuned on {} ({} labelled comments with a score) and {scores_name}; objective: {}.",
        args.labels.display(),
        joined.matched,
        settings.objective
    )];
    notes.push(format!(
        "Combined queue on the sample (any attribute at or above its threshold, defaults for the attributes not tuned): {combined}."
    ));
    notes.extend(tuned.warnings.iter().map(|w| format!("{w}.")));
    for r in results {
        if let Some(why) = &r.not_tuned {
            notes.push(format!(
                "{}: not tuned ({why}); analyze uses the default {}.",
                r.attribute,
                r.attribute.default_threshold()
            ));
        }
    }
    for r in results {
        if let Some(why) = r.choice.as_ref().and_then(|c| c.fallback.as_ref()) {
            notes.push(format!("{}: {why}.", r.attribute));
        }
    }
    let unlabelled: Vec<&str> = Attribute::ALL
        .iter()
        .filter(|a| !labels.attributes.contains(a))
        .map(|a| a.name())
        .collect();
    if !unlabelled.is_empty() {
        notes.push(format!(
            "Not labelled in the sample (defaults apply): {}.",
            unlabelled.join(", ")
        ));
    }
    let context = crate::tune::context::measure(&labels, &scores, &thresholds(results));
    match &context {
        Some(e) => {
            for r in &e.rules {
                ui.info(format!(
                    "{} on the sample: gives its reason to {}, adds {} flags no other reason gives{}",
                    r.code,
                    r.fired,
                    r.added,
                    r.precision()
                        .map(|p| format!(" ({:.0} % labelled 1)", p * 100.0))
                        .unwrap_or_default()
                ));
            }
        }
        None => ui.info(
            "ESCALATION and AUTHOR_HISTORY not measured: the labels file has no parent_id or author column",
        ),
    }
    let toml = thresholds(results).to_toml_with_note(&notes);
    write(&outputs.thresholds, &toml)?;
    write_curves_csv(&outputs.curves, results)?;
    write_chart(&outputs.pr, Chart::PrecisionRecall, results)?;
    write_chart(&outputs.roc, Chart::Roc, results)?;
    let name = |p: &Path| p.display().to_string();
    let ctx = SummaryContext {
        labels: name(&args.labels),
        scores: scores_name,
        objective: settings.objective,
        resamples: settings.resamples,
        seed: settings.seed,
        matched: joined.matched,
        problems: problems.clone(),
        unlabelled: joined.unlabelled.len(),
        combined: tuned.combined.clone(),
        warnings: tuned.warnings.clone(),
        context,
        files: vec![
            (
                "thresholds file (read by analyze)".into(),
                name(&outputs.thresholds),
            ),
            (
                "curves (every distinct score)".into(),
                name(&outputs.curves),
            ),
            ("precision–recall chart".into(), name(&outputs.pr)),
            ("ROC chart".into(), name(&outputs.roc)),
        ],
    };
    write(&outputs.summary, &summary_markdown(results, &ctx))?;
    ui.info(format!(
        "wrote {}, {}, {}, {} and {}",
        name(&outputs.thresholds),
        name(&outputs.curves),
        name(&outputs.pr),
        name(&outputs.roc),
        name(&outputs.summary)
    ));
    Ok(if problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Rejected(problems.len())
    })
}

/// Scores the texts of the labelled sample when no `--scores` file is given.
fn scores_for_texts(
    labels: &LabelledSample,
    model: &ModelArgs,
    ui: &Ui,
) -> anyhow::Result<ScoreTable> {
    if !labels.has_text {
        bail!(
            "{} has no `text` column, so its comments cannot be scored; pass --scores",
            labels.path.display()
        );
    }
    let scorer = model.load_scorer(ui, StanceModel::Embedding)?;
    let texts: Vec<&str> = labels.rows.iter().map(|r| r.text.as_str()).collect();
    let bar = ui.progress(texts.len() as u64, "scoring");
    let scores = scorer
        .score(texts, Vec::new(), &[], &mut |n| bar.inc(n as u64))
        .context("scoring the labelled texts")?;
    bar.finish_and_clear();
    let mut table = ScoreTable::default();
    for (row, s) in labels.rows.iter().zip(scores) {
        // Rounded exactly as the scores CSV writes them (and as analyze compares them), so
        // tuning on `--scores` and tuning here give the same thresholds.
        let t = s.toxicity.map(rounded_score);
        table.rows.insert(
            row.id.clone(),
            ScoreRow {
                line: row.line,
                scores: ToxicityScores(t),
            },
        );
    }
    Ok(table)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "undefined".into(), |v| format!("{v:.3}"))
}
