//! Settings shared by the commands that run the model: where the models are and how the
//! encoder runs. Resolved here so every command reads them the same way.

use std::path::PathBuf;

use anyhow::Context;

use super::Ui;
use crate::ingest::{ColumnOverrides, Format, IngestOptions, Selectors};
use crate::pipeline::StanceTarget;
use crate::score::encoder::{Backend, EncoderOptions, Precision};
use crate::score::models::resolve_models_dir;
use crate::score::scorer::{article_text, Scorer, StanceModel};
use crate::tune::thresholds::Thresholds;

/// Model flags (flattened into score, analyze and tune).
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Models directory holding all-MiniLM-L6-v2/ and heads/ (default: $THREADLENS_MODELS,
    /// ./models, or the checkout's models/).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Numeric precision: auto is fp32 on CPUs without native bf16 (AMX / AVX-512-BF16); on
    /// the others it measures fp32, autocast and bf16 once per machine and keeps the fastest
    /// (cached in ~/.cache/threadlens/precision.json; THREADLENS_PRECISION overrides).
    #[arg(long, value_enum, default_value_t = Precision::Auto)]
    pub precision: Precision,
    /// Forward pass: fused (fast) or rust-bert (reference).
    #[arg(long, value_enum, default_value_t = Backend::Fused, hide = true)]
    pub backend: Backend,
    /// libtorch threads (0: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,
    /// Most padded tokens in one encoder batch (rows × longest row); texts are sorted by
    /// length within windows of 4,096 so batches carry little padding. Larger batches are no
    /// faster on CPU and hold more memory.
    #[arg(long, default_value_t = crate::score::batch::BatchOptions::default().max_tokens, value_name = "N")]
    pub batch_tokens: usize,
    /// Most texts in one encoder batch.
    #[arg(long, default_value_t = crate::score::batch::BatchOptions::default().max_rows, value_name = "N")]
    pub batch_rows: usize,
    /// A fine-tuned Hugging Face sequence-classification directory (BERT, DistilBERT, RoBERTa)
    /// to use for sentiment instead of the built-in head; labels are read from its id2label.
    #[arg(long, value_name = "DIR")]
    pub sentiment_model: Option<PathBuf>,
    /// The same for toxicity (multi-label models such as toxic-bert use a sigmoid per label);
    /// severe_toxicity and sexual_explicit are 0 when the model has no label for them.
    #[arg(long, value_name = "DIR")]
    pub toxicity_model: Option<PathBuf>,
    /// Stance: embedding (toward the article from the comment's own embedding against the
    /// target's: no extra pass, no reply stance), embedding-reply (the same, plus each reply's
    /// stance toward its parent from the reply model: one extra pass per reply) or pair
    /// (experimental: the target and the comment read together, plus reply stance and the
    /// thread rule; one extra pass per comment with a target and per reply). Without the
    /// models installed, the extra stance is left out. Default: each command's own (`analyze`
    /// says it in its help; `score`, `serve` and `tune` use embedding).
    #[arg(long, value_enum, value_name = "HOW")]
    pub stance_model: Option<StanceModel>,
}

impl ModelArgs {
    /// Loads encoder and heads, with stance from `--stance-model` or else `default_stance`
    /// (the command's own default).
    pub fn load_scorer(&self, ui: &Ui, default_stance: StanceModel) -> anyhow::Result<Scorer> {
        let dir = resolve_models_dir(self.models.as_deref());
        let opts = EncoderOptions {
            backend: self.backend,
            precision: self.precision,
            threads: self.threads,
            ..Default::default()
        };
        let mut scorer =
            Scorer::load_with(&dir, &opts, self.stance_model.unwrap_or(default_stance))
                .with_context(|| format!("loading models from {}", dir.display()))?
                .with_plugins(
                    self.sentiment_model.as_deref(),
                    self.toxicity_model.as_deref(),
                )
                .context("loading a plug-in model")?;
        scorer.batch.max_tokens = self.batch_tokens.max(1);
        scorer.batch.max_rows = self.batch_rows.max(1);
        if let Some(note) = &scorer.calls().note {
            ui.warn(note.clone());
        }
        let choice = scorer.precision_choice();
        if choice.how == "probed" {
            ui.info(format!(
                "precision auto: measured this CPU once (batches/s: {}), using the fastest; kept in ~/.cache/threadlens/precision.json",
                choice.rates_text()
            ));
        }
        ui.info(format!(
            "model {} ({}{}, {}) from {}",
            scorer.model_id,
            scorer.encoder().precision_name(),
            if self.precision == Precision::Auto {
                format!(" by auto: {}", choice.how)
            } else {
                String::new()
            },
            match self.backend {
                Backend::Fused => "fused",
                Backend::RustBert => "rust-bert",
            },
            dir.display()
        ));
        Ok(scorer)
    }
}

/// Input flags (flattened into score and analyze).
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input files; "-" reads standard input.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Input format (auto: detect from the content, then the extension).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// CSV/TSV: column holding the comment id (name or 1-based number).
    #[arg(long, value_name = "COL")]
    pub id_col: Option<String>,
    /// CSV/TSV: column holding the parent comment id.
    #[arg(long, value_name = "COL")]
    pub parent_col: Option<String>,
    /// CSV/TSV: column holding the author name.
    #[arg(long, value_name = "COL")]
    pub author_col: Option<String>,
    /// CSV/TSV: column holding the comment text.
    #[arg(long, value_name = "COL")]
    pub text_col: Option<String>,
    /// CSV/TSV: column holding the time.
    #[arg(long, value_name = "COL")]
    pub time_col: Option<String>,
    /// CSV/TSV: column holding the thread or article id.
    #[arg(long, value_name = "COL")]
    pub thread_col: Option<String>,
    /// When the pages were saved (2018-04-24T12:00:00Z, or a date): relative times such as
    /// "8 hours ago" count back from it. Without it, and where a page does not say when it was
    /// saved, they keep only their raw value (`time_raw`).
    #[arg(long, value_name = "TIME", value_parser = saved_at)]
    pub saved_at: Option<jiff::Timestamp>,
    /// Saved HTML pages: a CSS selector for the comment elements, for a site no reader knows
    /// (the page readers are then not used). A comment inside another replies to it.
    #[arg(long, value_name = "CSS", value_parser = css)]
    pub comment_selector: Option<String>,
    /// With --comment-selector: the author's element inside each comment.
    #[arg(long, value_name = "CSS", requires = "comment_selector", value_parser = css)]
    pub author_selector: Option<String>,
    /// With --comment-selector: the text's element inside each comment (default: the whole
    /// comment less its author, time and replies).
    #[arg(long, value_name = "CSS", requires = "comment_selector", value_parser = css)]
    pub text_selector: Option<String>,
    /// With --comment-selector: the time's element inside each comment (its `datetime` or
    /// `title`, else its text).
    #[arg(long, value_name = "CSS", requires = "comment_selector", value_parser = css)]
    pub time_selector: Option<String>,
    /// With --comment-selector: the attribute holding each comment's id (default: its `id`).
    #[arg(long, value_name = "ATTR", requires = "comment_selector")]
    pub id_attr: Option<String>,
    /// With --comment-selector: the attribute holding the id of the comment it replies to
    /// (default: the comment it sits inside).
    #[arg(long, value_name = "ATTR", requires = "comment_selector")]
    pub parent_attr: Option<String>,
}

/// A CSS selector that parses.
fn css(raw: &str) -> Result<String, String> {
    let probe = Selectors {
        comment: raw.to_string(),
        ..Selectors::default()
    };
    probe
        .check()
        .map(|()| raw.to_string())
        .map_err(|e| e.replace("--comment-selector ", ""))
}

fn saved_at(raw: &str) -> Result<jiff::Timestamp, String> {
    crate::ingest::moment(raw).ok_or_else(|| {
        format!("cannot read {raw:?} as a time: give RFC 3339 (2018-04-24T12:00:00Z) or a date")
    })
}

impl InputArgs {
    /// The ingest options these flags describe.
    pub fn options(&self) -> IngestOptions {
        IngestOptions {
            format: self.format,
            columns: ColumnOverrides {
                id: self.id_col.clone(),
                parent: self.parent_col.clone(),
                author: self.author_col.clone(),
                text: self.text_col.clone(),
                time: self.time_col.clone(),
                thread: self.thread_col.clone(),
            },
            saved_at: self.saved_at,
            selectors: self.comment_selector.as_ref().map(|comment| Selectors {
                comment: comment.clone(),
                author: self.author_selector.clone(),
                text: self.text_selector.clone(),
                time: self.time_selector.clone(),
                id_attr: self.id_attr.clone(),
                parent_attr: self.parent_attr.clone(),
            }),
        }
    }
}

/// What comments take a stance toward, for inputs that carry no article.
#[derive(Debug, Clone, clap::Args)]
pub struct StanceArgs {
    /// Article to measure stance against, for every comment (a text or scraped page file;
    /// its title and lead are used).
    #[arg(long, value_name = "FILE", conflicts_with = "topic")]
    pub article: Option<PathBuf>,
    /// Topic or claim to measure stance against, for every comment.
    #[arg(long, value_name = "TEXT")]
    pub topic: Option<String>,
}

impl StanceArgs {
    /// Resolves the flags into a stance target (reads `--article`).
    pub fn resolve(&self) -> anyhow::Result<StanceTarget> {
        if let Some(t) = &self.topic {
            if t.trim().is_empty() {
                anyhow::bail!("--topic is empty");
            }
            return Ok(StanceTarget::Text(t.trim().to_string()));
        }
        if let Some(path) = &self.article {
            let opts = IngestOptions {
                format: Format::Page,
                ..Default::default()
            };
            let input = crate::ingest::read_inputs(std::slice::from_ref(path), &opts)
                .with_context(|| format!("reading the article {}", path.display()))?;
            let text = input
                .articles
                .first()
                .map(|a| article_text(a.title.as_deref(), a.body.as_deref()))
                .unwrap_or_default();
            if text.trim().is_empty() {
                anyhow::bail!("{}: no article text found", path.display());
            }
            return Ok(StanceTarget::Text(text));
        }
        Ok(StanceTarget::FromInput)
    }
}

/// Reads and threads the inputs and warns about rejected records and empty files (both make
/// the command exit 1 through `forest.rejects`): the part `score`, `analyze` and `merge` share.
pub fn read_forest(input: &InputArgs, ui: &Ui) -> anyhow::Result<crate::thread::Forest> {
    let forest = crate::pipeline::read_forest(&input.inputs, &input.options())
        .context("reading comments")?;
    for r in &forest.rejects {
        match r.kind {
            crate::ingest::RejectKind::EmptyFile => ui.warn(r),
            crate::ingest::RejectKind::Record => ui.warn(format!("rejected {r}")),
        }
    }
    Ok(forest)
}

/// The thresholds `--thresholds` names, or the defaults (`analyze` and `merge`).
pub fn load_thresholds(path: Option<&std::path::Path>) -> anyhow::Result<Thresholds> {
    match path {
        Some(p) => Thresholds::load(p).context("reading the thresholds"),
        None => Ok(Thresholds::default()),
    }
}

/// Reads and threads the inputs ([`read_forest`]), loads the models and scores every
/// comment (with a progress bar): the part `score` and `analyze` share.
pub fn read_and_score(
    input: &InputArgs,
    stance: &StanceArgs,
    model: &ModelArgs,
    default_stance: StanceModel,
    score_pingbacks: bool,
    ui: &Ui,
) -> anyhow::Result<(
    crate::thread::Forest,
    Vec<crate::score::scorer::Scores>,
    Scorer,
)> {
    let target = stance.resolve()?;
    let forest = read_forest(input, ui)?;
    let scorer = model.load_scorer(ui, default_stance)?;
    let bar = ui.progress(forest.nodes.len() as u64, "scoring");
    let scores =
        crate::pipeline::score_forest(&forest, &scorer, &target, score_pingbacks, &mut |n| {
            bar.inc(n as u64)
        })
        .context("scoring comments")?;
    bar.finish_and_clear();
    Ok((forest, scores, scorer))
}

/// What `analyze` and `merge` say once the reports are written, and their exit outcome: the
/// counts (with `how` the scores were obtained, where it is worth saying) and rejected input.
pub fn report_written(
    ui: &Ui,
    w: &crate::report::Written,
    how: Option<&str>,
    output: &std::path::Path,
    forest: &crate::thread::Forest,
) -> super::Outcome {
    if w.comments == 0 {
        ui.info("no comments in the input: wrote an empty report");
    }
    let how = how.map(|h| format!(" ({h})")).unwrap_or_default();
    let links = match w.pingbacks {
        0 => String::new(),
        n => format!("; {n} pingbacks/trackbacks listed apart"),
    };
    ui.info(format!(
        "{} comments in {} threads, {} flagged{how}{links}; wrote {}",
        w.comments,
        w.threads,
        w.flagged,
        output.display()
    ));
    if forest.rejects.is_empty() {
        super::Outcome::Clean
    } else {
        super::Outcome::Rejected(forest.rejects.len())
    }
}
