//! `threadlens score`: one row of scores per comment, as a CSV stream (stdin/stdout work), for
//! pipelines and for `tune --scores`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::common::{read_and_score, InputArgs, ModelArgs, StanceArgs};
use super::{Outcome, Ui};
use crate::report::scores::write_scores_csv;

/// Score every comment for sentiment, toxicity and stance toward the article.
///
/// Output columns (stable): id, thread_id, parent_id, depth, author, sentiment,
/// sentiment_negative, sentiment_neutral, sentiment_positive, toxicity, insult, threat, obscene,
/// identity_attack, severe_toxicity, sexual_explicit, stance, stance_favor, stance_against,
/// stance_none, model, text. Stance columns are empty for comments with no article (pass
/// --article or --topic). `model` is a short hash of the encoder weights and heads. Same input
/// and models give byte-identical output.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the CSV here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Neutralise cells a spreadsheet would read as formulas (leading = + - @ tab CR).
    #[arg(long)]
    pub spreadsheet_safe: bool,
    #[command(flatten)]
    pub stance: StanceArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let (forest, scores, scorer) = read_and_score(&args.input, &args.stance, &args.model, ui)?;
    match &args.output {
        Some(path) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            write_scores_csv(
                std::io::BufWriter::new(f),
                &forest,
                &scores,
                &scorer.model_id,
                None,
                args.spreadsheet_safe,
            )
            .with_context(|| format!("writing {}", path.display()))?;
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
    ui.info(format!("scored {} comments", forest.nodes.len()));
    Ok(if forest.rejects.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Rejected(forest.rejects.len())
    })
}
