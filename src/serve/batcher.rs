//! The micro-batcher: concurrent requests are queued and scored together in one encoder call,
//! through the same `pipeline::score_texts` that `threadlens score` uses. One worker thread
//! owns the scorer (libtorch already uses every core inside a call); it takes the first job,
//! waits at most `max_wait` for more, up to `max_batch`, and answers each job on its own
//! channel. The queue is bounded: when it is full, `submit` says so at once and the server
//! answers 429 instead of growing memory.

use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::metrics::Metrics;
use crate::pipeline::score_texts;
use crate::score::scorer::{Scorer, Scores};

/// How batches are formed.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    /// Most comments in one encoder call.
    pub max_batch: usize,
    /// Longest wait for more comments once one is waiting.
    pub max_wait: Duration,
    /// Most comments waiting; more are refused (429).
    pub queue: usize,
}

/// One comment to score and where its answer goes.
struct Job {
    text: String,
    context: Option<String>,
    reply: oneshot::Sender<Result<Scores, String>>,
}

/// The handle request handlers submit to (cheap to clone).
#[derive(Clone)]
pub struct Batcher {
    tx: SyncSender<Job>,
    metrics: Arc<Metrics>,
}

/// Why a job was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full.
    Full,
    /// The worker has stopped.
    Stopped,
}

impl Batcher {
    /// Starts the worker thread, which owns `scorer` and ends when every handle is dropped.
    pub fn start(
        scorer: Scorer,
        settings: BatchSettings,
        metrics: Arc<Metrics>,
    ) -> (Batcher, std::thread::JoinHandle<()>) {
        let (tx, rx) = sync_channel::<Job>(settings.queue.max(1));
        let worker_metrics = metrics.clone();
        let handle = std::thread::Builder::new()
            .name("threadlens-scorer".into())
            .spawn(move || work(&scorer, &rx, settings, &worker_metrics))
            .expect("the scoring thread starts");
        (Batcher { tx, metrics }, handle)
    }

    /// Queues one comment; the receiver gets its scores (or the scoring error).
    pub fn submit(
        &self,
        text: String,
        context: Option<String>,
    ) -> Result<oneshot::Receiver<Result<Scores, String>>, Refused> {
        let (reply, rx) = oneshot::channel();
        match self.tx.try_send(Job {
            text,
            context,
            reply,
        }) {
            Ok(()) => {
                self.metrics.queued(1);
                Ok(rx)
            }
            Err(TrySendError::Full(_)) => Err(Refused::Full),
            Err(TrySendError::Disconnected(_)) => Err(Refused::Stopped),
        }
    }
}

fn work(scorer: &Scorer, rx: &Receiver<Job>, settings: BatchSettings, metrics: &Metrics) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + settings.max_wait;
        while jobs.len() < settings.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => jobs.push(job),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        metrics.queued(-(jobs.len() as i64));
        metrics.batch(jobs.len());
        // A request whose client gave up (timed out) is not scored.
        jobs.retain(|j| !j.reply.is_closed());
        if jobs.is_empty() {
            continue;
        }
        let items: Vec<(&str, Option<&str>)> = jobs
            .iter()
            .map(|j| (j.text.as_str(), j.context.as_deref()))
            .collect();
        match score_texts(scorer, &items) {
            Ok(scores) => {
                for (job, s) in jobs.into_iter().zip(scores) {
                    let _ = job.reply.send(Ok(s));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(msg.clone()));
                }
            }
        }
    }
}
