//! `threadlens threads`: read comment exports or scraped pages, rebuild the reply forest and
//! write it as a tree, CSV or JSON lines, with the integrity report on stderr. Flags are parsed
//! by clap (no I/O), then resolved into settings (stdin, terminal detection, output file).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::cli::common::InputArgs;
use crate::cli::{Outcome, Ui};
use crate::ingest::{IngestOptions, RejectKind};
use crate::thread::{self, OutputFormat};

/// How many rejected records are listed on stderr (all of them are counted, and all are in the
/// JSON lines summary).
const REJECTS_SHOWN: usize = 50;

/// Rebuild reply trees from comment exports or scraped comment pages.
///
/// Formats are detected from the content: scraped article pages (text or HTML, comments after
/// "All comments"), CSV/TSV with a header, Reddit JSON (submission pages, listings,
/// morechildren responses, Pushshift NDJSON), Hacker News items, YouTube commentThreads,
/// other JSON comment records, Disqus XML and WordPress WXR. Several inputs are threaded
/// together (a Reddit submission and its morechildren file, say).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Output: --as tree is the default when stdout is a terminal and no -o is \
given; otherwise CSV. CSV and JSON lines columns: id, parent_id, thread_id, article, depth, author, \
author_inferred, resolution (explicit, name, mention, inferred, none), confidence, reply_to, \
source_parent_id, time, kind, deleted, spam, location, text, status (approved, pending, spam, \
deleted, pingback, trackback, or empty when the source has no moderation state). CSV cells that \
a spreadsheet would read as formulas get a leading apostrophe; JSON lines keep the text as it \
is. The integrity report goes to stderr (with --as jsonl it is the last line instead).\n\n\
Exit status: 0 success; 1 finished, but some input records were rejected or a file was empty \
(each listed with its location); 2 error (unreadable or unrecognised input)."
)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format [default: tree on a terminal, csv otherwise].
    #[arg(long = "as", value_enum, value_name = "FORMAT")]
    pub output_as: Option<OutputFormat>,
    /// Write the forest to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the integrity report as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Settings resolved from the arguments and the environment.
struct Settings {
    inputs: Vec<PathBuf>,
    ingest: IngestOptions,
    format: OutputFormat,
    output: Option<PathBuf>,
    report: Option<PathBuf>,
}

impl Settings {
    fn resolve(args: Args) -> Settings {
        let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
        let format = args.output_as.unwrap_or(if to_terminal {
            OutputFormat::Tree
        } else {
            OutputFormat::Csv
        });
        Settings {
            ingest: args.input.options(),
            inputs: args.input.inputs,
            format,
            output: args.output,
            report: args.report,
        }
    }
}

/// Runs the command: read, build, write, report.
pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let settings = Settings::resolve(args);
    for path in settings.output.iter().chain(&settings.report) {
        // A destination that cannot be written fails now, not after the reading.
        crate::report::outfile::check_file(path)?;
        crate::report::outfile::refuse_input(path, &settings.inputs)?;
    }
    let forest = crate::pipeline::read_forest(&settings.inputs, &settings.ingest)?;

    match &settings.output {
        Some(path) => {
            // Written whole under a temporary name, then renamed: an error part-way (a full
            // disk) leaves any earlier file as it was, never half a forest.
            let mut f = crate::report::outfile::AtomicFile::create(path)?;
            thread::write(&forest, settings.format, &mut f)
                .with_context(|| format!("writing {}", path.display()))?;
            f.commit()?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            thread::write(&forest, settings.format, &mut out)
                .context("writing to standard output")?;
        }
    }
    if let Some(path) = &settings.report {
        let mut f = crate::report::outfile::AtomicFile::create(path)?;
        f.write_all(forest.integrity.to_markdown().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        f.commit()?;
    }

    let mut stderr = std::io::stderr().lock();
    if settings.format != OutputFormat::Jsonl && !ui.quiet {
        let _ = stderr.write_all(forest.integrity.to_text().as_bytes());
    }
    drop(stderr);
    let (empty, records): (Vec<_>, Vec<_>) = forest
        .rejects
        .iter()
        .partition(|r| r.kind == RejectKind::EmptyFile);
    for file in &empty {
        ui.warn(file);
    }
    let mut stderr = std::io::stderr().lock();
    for reject in records.iter().take(REJECTS_SHOWN) {
        let _ = writeln!(stderr, "threadlens: rejected {reject}");
    }
    if records.len() > REJECTS_SHOWN {
        let _ = writeln!(
            stderr,
            "threadlens: … and {} more rejected records",
            records.len() - REJECTS_SHOWN
        );
    }
    drop(stderr);
    if !records.is_empty() {
        ui.info(format_args!(
            "{} input records were rejected",
            records.len()
        ));
    }
    Ok(match forest.rejects.len() {
        0 => Outcome::Clean,
        n => Outcome::Rejected(n),
    })
}
