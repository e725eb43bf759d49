//! `threadlens score`: one row of scores per comment, as a CSV stream (stdin/stdout work), for
//! pipelines and for `tune --scores`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::common::{read_and_score, InputArgs, ModelArgs, StanceArgs};
use super::{Outcome, Ui};
use crate::report::outfile;
use crate::report::scores::write_scores_csv;
use crate::score::scorer::StanceModel;

/// Score every comment for sentiment, toxicity and stance toward the article.
///
/// Output columns (stable): id, thread_id, parent_id, depth, author, sentiment,
/// sentiment_negative, sentiment_neutral, sentiment_positive, toxicity, insult, threat, obscene,
/// identity_attack, severe_toxicity, sexual_explicit, stance, stance_favor, stance_against,
/// stance_none, stance_source (model, or thread where a reply's stance was inferred from its
/// parent's), reply_stance, reply_agree, reply_disagree, reply_neutral (a reply's stance
/// toward its parent), model, text. Stance columns are empty for comments with no article (pass
/// --article or --topic); reply columns for roots. `model` is a short hash of the encoder weights and heads. Same input
/// and models give byte-identical output.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Score pingbacks and trackbacks too. By default they are listed (`kind`), counted apart
    /// and left unscored: they are links from other sites, not readers' comments.
    #[arg(long)]
    pub score_pingbacks: bool,
    /// Write the CSV here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Neutralise cells a spreadsheet would read as formulas (a leading = + - @, their
    /// full-width forms, tab or CR, also after spaces or a BOM) with a leading apostrophe. The
    /// default when writing to a file (-o); stdout stays raw for pipelines unless this is given.
    #[arg(long, conflicts_with = "raw_cells")]
    pub spreadsheet_safe: bool,
    /// Write cells exactly as read, even to a file (for programs, not spreadsheets).
    #[arg(long)]
    pub raw_cells: bool,
    #[command(flatten)]
    pub stance: StanceArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    if let Some(path) = &args.output {
        // A destination that cannot be written fails now, not after the scoring.
        outfile::check_file(path)?;
        outfile::refuse_input(path, &args.input.inputs)?;
    }
    let (forest, scores, scorer) = read_and_score(
        &args.input,
        &args.stance,
        &args.model,
        StanceModel::Embedding,
        args.score_pingbacks,
        ui,
    )?;
    match &args.output {
        Some(path) => {
            let mut f = outfile::AtomicFile::create(path)?;
            write_scores_csv(
                &mut f,
                &forest,
                &scores,
                &scorer.model_id,
                None,
                !args.raw_cells,
            )
            .with_context(|| format!("writing {}", path.display()))?;
            f.commit()?;
        }
        None => {
            let stdout = std::io::stdout().lock();
            write_scores_csv(
                std::io::BufWriter::new(stdout),
                &forest,
                &scores,
                &scorer.model_id,
                None,
                args.spreadsheet_safe,
            )
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(io) => anyhow::Error::new(io),
                other => anyhow::anyhow!("{other:?}"),
            })
            .context("writing scores")?;
            std::io::stdout().flush().ok();
        }
    }
    let n = forest.nodes.len();
    ui.info(format!(
        "scored {n} comment{}",
        if n == 1 { "" } else { "s" }
    ));
    Ok(if forest.rejects.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Rejected(forest.rejects.len())
    })
}
