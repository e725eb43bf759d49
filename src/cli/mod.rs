//! Command-line front end: clap commands, settings resolution and the one place where errors
//! become messages and exit statuses. The only module that uses `anyhow`.
//!
//! Exit statuses: 0 success; 1 finished, but some input records were rejected or a file was
//! empty (each one is listed with its location); 2 error (unreadable input, bad arguments,
//! missing models).

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod analyze;
pub mod common;
pub mod merge;
pub mod models;
pub mod score;
pub mod serve;
pub mod threads;
pub mod train;
pub mod tune;

/// threadlens: rebuild comment reply trees, score every comment for sentiment, toxicity and
/// stance with a local transformer, and write moderation reports. Works offline.
#[derive(Debug, Parser)]
#[command(name = "threadlens", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success; 1 finished, but some input records were rejected or a \
file was empty; 2 error."
)]
pub struct Cli {
    /// Hide progress bars and informational messages on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rebuild reply trees from comment pages and exports (tree, CSV or JSONL) with an
    /// integrity report.
    Threads(threads::Args),
    /// Score every comment for sentiment, toxicity and stance toward the article (CSV).
    Score(score::Args),
    /// Build threads, score, and write the moderation queue, summaries and article stance.
    Analyze(analyze::Args),
    /// Rebuild analyze's reports from per-partition `score` outputs (a cluster run), without
    /// scoring again.
    Merge(merge::Args),
    /// List the installed models (paths, sizes, hashes) and run a self-check of the encoder.
    Models(models::Args),
    /// Train the sentiment, toxicity and stance heads on labelled data (writes models/heads/).
    Train(train::Args),
    /// Tune per-attribute flagging thresholds on your own labelled sample.
    Tune(tune::Args),
    /// Serve Perspective API's comments:analyze locally (a drop-in for moderation tools).
    Serve(serve::Args),
}

/// The outcome of a command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was processed.
    Clean,
    /// Processing finished, but this many input records were rejected (or files were empty).
    Rejected(usize),
}

/// Parses the arguments, runs the command and maps the result to an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected(_)) => ExitCode::from(1),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "threadlens: {}", chain(&err));
            ExitCode::from(2)
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let ui = Ui::new(cli.quiet);
    match cli.command {
        Command::Threads(args) => threads::run(args, &ui),
        Command::Score(args) => score::run(args, &ui),
        Command::Analyze(args) => analyze::run(args, &ui),
        Command::Merge(args) => merge::run(args, &ui),
        Command::Models(args) => models::run(args, &ui),
        Command::Train(args) => train::run(args, &ui),
        Command::Tune(args) => tune::run(args, &ui),
        Command::Serve(args) => serve::run(args, &ui),
    }
}

/// Terminal settings shared by commands: whether to show progress and messages.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    pub stderr_is_terminal: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        use std::io::IsTerminal;
        Ui {
            quiet,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Whether progress bars should be drawn.
    pub fn show_progress(&self) -> bool {
        !self.quiet && self.stderr_is_terminal
    }

    /// Prints a warning on stderr (even with `--quiet`: warnings are about the data). A closed
    /// stderr is ignored (`eprintln!` would panic): the outputs still get written.
    pub fn warn(&self, msg: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr().lock(), "threadlens: warning: {msg}");
    }

    /// Prints an informational message on stderr unless `--quiet`; a closed stderr is ignored.
    pub fn info(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "threadlens: {msg}");
        }
    }

    /// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
    pub fn progress(&self, len: u64, what: &str) -> indicatif::ProgressBar {
        if !self.show_progress() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }
}

/// Formats an error and its causes on one line: `reading x.csv: line 12: bad quote`.
pub fn chain(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
