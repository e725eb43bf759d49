//! `threadlens serve`: the command-line face of the Perspective-compatible server (`serve`):
//! its flags, loading the models once, and the one line on stderr that says where it listens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::common::ModelArgs;
use super::{Outcome, Ui};
use crate::score::scorer::StanceModel;
use crate::serve::batcher::BatchSettings;
use crate::serve::feedback::Feedback;
use crate::serve::{ServeOptions, ANALYZE_PATH, SUGGEST_PATH};

/// Serve Perspective API's comments:analyze and comments:suggestscore locally.
///
/// Point a Perspective client (Coral Talk's "Perspective endpoint", Google's API client) at
/// http://LISTEN: POST /v1alpha1/comments:analyze answers attributeScores for TOXICITY,
/// SEVERE_TOXICITY, IDENTITY_ATTACK, INSULT, PROFANITY, THREAT, SEXUALLY_EXPLICIT (and
/// threadlens's THREADLENS_SENTIMENT_* / THREADLENS_STANCE_*, the stance toward the request's
/// context text), with the scores `threadlens score` gives. POST comments:suggestscore
/// appends moderator decisions to --feedback, a labels file for `threadlens tune --labels`.
/// GET /healthz, GET /metrics (Prometheus). SIGTERM or Ctrl-C stops it after the requests in
/// flight are answered (for at most --drain-timeout seconds). Slow and idle connections are
/// closed after --header-timeout / --body-timeout, and at most --max-connections are open.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback unless told otherwise; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Accept only requests whose `key` query parameter is one of these (repeatable).
    #[arg(long = "api-key", value_name = "KEY", value_parser = non_empty_key)]
    pub api_keys: Vec<String>,
    /// Append suggestscore decisions (TOXICITY: 0 approved, 1 rejected) to this labels CSV.
    #[arg(long, value_name = "FILE")]
    pub feedback: Option<PathBuf>,
    /// Most comments scored in one encoder call.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub max_batch: usize,
    /// Longest wait, in milliseconds, for more comments to join a batch.
    #[arg(long, default_value_t = 5, value_name = "MS")]
    pub max_wait_ms: u64,
    /// Most comments waiting to be scored; more are answered 429.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub queue: usize,
    /// Longest time, in seconds, a request waits for its scores (then 504).
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub timeout: u64,
    /// Most connections open at once; one more is closed at once (keep it below the
    /// process's descriptor limit, `ulimit -n`).
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// Longest time, in seconds, to receive a request's headers, or to wait for the next request
    /// on an idle kept-alive connection; then the connection is closed.
    #[arg(long, default_value_t = 10, value_name = "S")]
    pub header_timeout: u64,
    /// Longest time, in seconds, to receive a request's body (then 408).
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub body_timeout: u64,
    /// Longest time, in seconds, SIGTERM or Ctrl-C waits for the requests in flight.
    #[arg(long, default_value_t = 30, value_name = "S")]
    pub drain_timeout: u64,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// An API key must be something to match: an empty one would let `?key=` and a bare `?key`
/// through while the server says a key is required (issue 34 case 13).
fn non_empty_key(key: &str) -> Result<String, String> {
    if key.trim().is_empty() {
        Err("an API key cannot be empty or blank; leave --api-key out to serve without keys".into())
    } else {
        Ok(key.to_string())
    }
}

/// The largest request body read: a 20 KB comment with context, JSON-escaped.
const MAX_BODY: usize = 1 << 20;

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let feedback = args
        .feedback
        .as_deref()
        .map(|p| Feedback::open(p).with_context(|| format!("opening {}", p.display())))
        .transpose()?;
    if feedback.is_none() {
        ui.info("no --feedback file: suggestscore requests are answered but not recorded");
    }
    let scorer = args.model.load_scorer(ui, StanceModel::Embedding)?;
    let opts = ServeOptions {
        listen: args.listen,
        api_keys: args.api_keys,
        batch: BatchSettings {
            max_batch: args.max_batch.max(1),
            max_wait: Duration::from_millis(args.max_wait_ms),
            queue: args.queue.max(1),
        },
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_body: MAX_BODY,
        limits: crate::serve::ConnLimits {
            max_connections: args.max_connections.max(1),
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            body_timeout: Duration::from_secs(args.body_timeout.max(1)),
            drain: Duration::from_secs(args.drain_timeout),
        },
    };
    let keyed = if opts.api_keys.is_empty() {
        "no key needed"
    } else {
        "key required"
    };
    crate::serve::run(scorer, opts, feedback, |addr| {
        // Always printed: scripts (and the tests) read the port from it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "threadlens: listening on http://{addr} ({ANALYZE_PATH}, {SUGGEST_PATH}; {keyed})"
        );
    })?;
    ui.info("stopped");
    Ok(Outcome::Clean)
}
