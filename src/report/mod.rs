//! Reports: the per-comment CSVs, the moderation queue, thread and author tables, and the
//! Markdown/HTML summaries `analyze` writes into its output folder. Every CSV written for
//! people is spreadsheet-safe (see `safe`).

pub mod analysis;
pub mod charts;
pub mod merge;
pub mod outfile;
pub mod safe;
pub mod scores;
pub mod summary;

use std::path::{Path, PathBuf};

use analysis::{Rules, ANONYMOUS};
use outfile::{AtomicFile, FileSet};
use safe::cell;

use crate::score::calls::StanceCalls;
use crate::score::figures::FlagFigures;
use crate::score::scorer::Scores;
use crate::thread::Forest;
use crate::tune::thresholds::Thresholds;

/// Errors while writing a report file.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {message}")]
pub struct ReportError {
    pub path: PathBuf,
    pub message: String,
}

fn werr(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> ReportError + '_ {
    move |e| ReportError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What the reports say about the model that made the scores.
pub struct ModelFacts<'a> {
    /// The model identity (the `model` column).
    pub id: &'a str,
    /// The precision it scored at, or where merged scores came from.
    pub precision: &'a str,
    /// When it asserts a stance.
    pub calls: &'a StanceCalls,
    /// What its default flag thresholds were measured to do.
    pub figures: &'a FlagFigures,
}

/// What `analyze` wrote and found.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub flagged: usize,
    /// Comments in scope (`analysis::in_scope`), and the threads that hold at least one: the
    /// counts the summary gives.
    pub comments: usize,
    pub threads: usize,
    /// Pingbacks and trackbacks, listed but counted apart.
    pub pingbacks: usize,
}

fn csv_file(path: &Path) -> Result<csv::Writer<AtomicFile>, ReportError> {
    let f = AtomicFile::create(path).map_err(|e| werr(path)(&e.source))?;
    Ok(csv::Writer::from_writer(f))
}

/// Flushes a CSV written by `csv_file` and adds it to the set renamed into place together.
fn commit(w: csv::Writer<AtomicFile>, path: &Path, set: &mut FileSet) -> Result<(), ReportError> {
    let f = w.into_inner().map_err(|e| werr(path)(&e.error()))?;
    set.add(f).map_err(|e| werr(path)(&e.source))
}

/// queue.csv's columns, in order: the toxicity attributes are those of
/// [`crate::score::heads::TOXICITY_LABELS`], in the same order as in the scores CSV.
pub const QUEUE_COLUMNS: [&str; 24] = [
    "rank",
    "severity",
    "reasons",
    "id",
    "author",
    "text",
    "toxicity",
    "insult",
    "threat",
    "obscene",
    "identity_attack",
    "severe_toxicity",
    "sexual_explicit",
    "parent_id",
    "parent_author",
    "parent_text",
    "reply_stance",
    "thread_id",
    "depth",
    "path",
    "article",
    "time",
    "time_raw",
    "permalink",
];

fn f4(v: f32) -> String {
    format!("{v:.4}")
}

/// The report files `analyze` and `merge` write into their folder (charts/ beside them).
pub const FILES: [&str; 6] = [
    "comments.csv",
    "queue.csv",
    "threads.csv",
    "authors.csv",
    "summary.md",
    "summary.html",
];

/// Refuses a report folder where a report file would replace one of `inputs` (issue 34 case 9:
/// `analyze OUT/comments.csv -o OUT`).
pub fn refuse_inputs_in(
    dir: &Path,
    inputs: &[std::path::PathBuf],
) -> Result<(), outfile::OutError> {
    FILES
        .iter()
        .try_for_each(|name| outfile::refuse_input(&dir.join(name), inputs))
}

/// Writes every report of `analyze` into `dir` (created if needed).
pub fn write_analysis(
    dir: &Path,
    forest: &Forest,
    scores: &[Scores],
    thresholds: &Thresholds,
    model: &ModelFacts,
) -> Result<Written, ReportError> {
    outfile::check_dir(dir).map_err(|e| werr(&e.path)(&e.source))?;
    let charts = outfile::subdir(dir, "charts").map_err(|e| werr(&e.path)(&e.source))?;
    let mut set = FileSet::default();
    let v = analysis::judge(
        forest,
        scores,
        thresholds,
        &Rules::from_thresholds(thresholds),
    );
    let threads = analysis::threads(forest, scores, &v);
    let mut written = counts(forest, &threads, &v);

    // comments.csv
    let path = dir.join(FILES[0]);
    let mut f = AtomicFile::create(&path).map_err(|e| werr(&path)(&e.source))?;
    let status: Vec<&'static str> = forest.comments.iter().map(|c| c.status()).collect();
    let flags = scores::Flags {
        flagged: &v.flagged,
        reasons: &v.reasons,
        status: &status,
    };
    scores::write_scores_csv(&mut f, forest, scores, model.id, Some(&flags), true)
        .map_err(|e| werr(&path)(&e))?;
    set.add(f).map_err(|e| werr(&path)(&e.source))?;
    written.files.push(path.clone());

    written
        .files
        .push(write_queue(dir, forest, scores, &v, &mut set)?);
    written
        .files
        .push(write_threads(dir, forest, &threads, model.calls, &mut set)?);
    written
        .files
        .push(write_authors(dir, forest, scores, &v, &mut set)?);

    // summaries and charts
    let s = summary::build(forest, scores, &v, &threads, thresholds, model);
    let mut put =
        |path: &Path, bytes: &[u8]| set.write(path, bytes).map_err(|e| werr(&e.path)(&e.source));
    let mut drawn = Vec::new();
    for sec in &s.sections {
        for (name, svg) in &sec.charts {
            let path = charts.join(format!("{}-{name}.svg", sec.anchor));
            put(&path, svg.as_bytes())?;
            drawn.push(path);
        }
    }
    let path = dir.join(FILES[4]);
    put(
        &path,
        summary::markdown(&s, forest, scores, &threads).as_bytes(),
    )?;
    written.files.push(path.clone());
    let path = dir.join(FILES[5]);
    put(
        &path,
        summary::html_page(&s, forest, scores, &threads).as_bytes(),
    )?;
    written.files.push(path.clone());
    // Everything is written: the set replaces the earlier run's at once.
    set.commit(dir).map_err(|e| werr(&e.path)(&e.source))?;
    // Charts of an earlier run that this one did not draw would sit beside the new ones.
    outfile::remove_stale(&charts, &drawn).map_err(|e| werr(&e.path)(&e.source))?;
    Ok(written)
}

/// The counts `analyze` reports: comments in scope, the threads holding them, pingbacks
/// apart, flagged comments.
fn counts(forest: &Forest, threads: &[analysis::ThreadStats], v: &analysis::Verdicts) -> Written {
    Written {
        comments: forest
            .comments
            .iter()
            .filter(|c| analysis::in_scope(c))
            .count(),
        threads: threads.iter().filter(|t| t.size > t.excluded).count(),
        // Counted once, by the thread builder.
        pingbacks: forest.integrity.pingbacks,
        flagged: v.flagged.iter().filter(|f| **f).count(),
        ..Default::default()
    }
}

/// An article's title (else its key) for the CSV files; empty for comments without one.
fn article_title(forest: &Forest, a: Option<usize>) -> String {
    a.and_then(|a| forest.articles.get(a))
        .map(|a| a.title.clone().unwrap_or_else(|| a.key.clone()))
        .unwrap_or_default()
}

/// queue.csv: the flagged comments, most severe first, with their parent as context.
fn write_queue(
    dir: &Path,
    forest: &Forest,
    scores: &[Scores],
    v: &analysis::Verdicts,
    set: &mut FileSet,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(FILES[1]);
    let mut w = csv_file(&path)?;
    let e = werr(&path);
    w.write_record(QUEUE_COLUMNS).map_err(|x| e(&x))?;
    for (rank, i) in analysis::queue(v).into_iter().enumerate() {
        let (n, c) = (&forest.nodes[i], &forest.comments[i]);
        let s = &scores[i];
        let parent = n.parent.map(|p| &forest.comments[p]);
        let mut row: Vec<String> = vec![
            (rank + 1).to_string(),
            f4(v.severity[i]),
            v.reasons[i].join(" "),
            cell(&c.id).into_owned(),
            cell(c.author.as_deref().unwrap_or(ANONYMOUS)).into_owned(),
            cell(&c.text).into_owned(),
        ];
        row.extend(s.toxicity.iter().map(|t| f4(*t)));
        row.extend([
            parent.map(|p| cell(&p.id).into_owned()).unwrap_or_default(),
            parent
                .map(|p| cell(p.author.as_deref().unwrap_or(ANONYMOUS)).into_owned())
                .unwrap_or_default(),
            parent
                .map(|p| cell(&p.text).into_owned())
                .unwrap_or_default(),
            s.reply
                .map(|_| {
                    crate::score::calls::label(s.reply_call, &crate::score::heads::REPLY_LABELS)
                        .to_string()
                })
                .unwrap_or_default(),
            cell(forest.thread_id(i)).into_owned(),
            n.depth.to_string(),
            cell(&analysis::path_to_root(forest, i)).into_owned(),
            cell(&article_title(forest, n.article)).into_owned(),
        ]);
        for field in [&c.when, &c.time, &c.permalink] {
            row.push(cell(field.as_deref().unwrap_or_default()).into_owned());
        }
        w.write_record(&row).map_err(|x| e(&x))?;
    }
    commit(w, &path, set)?;
    Ok(path.clone())
}

/// threads.csv: one row per thread.
fn write_threads(
    dir: &Path,
    forest: &Forest,
    threads: &[analysis::ThreadStats],
    calls: &StanceCalls,
    set: &mut FileSet,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(FILES[2]);
    let mut w = csv_file(&path)?;
    let e = werr(&path);
    w.write_record([
        "thread_id",
        "article",
        "root_author",
        "size",
        "depth",
        "participants",
        "mean_toxicity",
        "max_toxicity",
        "escalation",
        "flagged_share",
        "excluded",
        "replies_with_stance",
        "replies_stance_unclear",
        "disagree_share",
    ])
    .map_err(|x| e(&x))?;
    for t in threads {
        let root = &forest.comments[t.root];
        w.write_record([
            cell(&root.id).into_owned(),
            cell(&article_title(forest, t.article)).into_owned(),
            cell(root.author.as_deref().unwrap_or(ANONYMOUS)).into_owned(),
            t.size.to_string(),
            t.depth.to_string(),
            t.participants.to_string(),
            f4(t.mean_toxicity),
            f4(t.max_toxicity),
            f4(t.escalation),
            format!("{:.4}", t.flagged_share),
            t.excluded.to_string(),
            t.replies_with_stance.to_string(),
            (t.replies_with_stance - t.replies_stance_known).to_string(),
            // Empty where this model never asserts disagreement (0 would read as "none").
            if calls.disagreement() && t.replies_stance_known > 0 {
                format!("{:.4}", t.disagree_share)
            } else {
                String::new()
            },
        ])
        .map_err(|x| e(&x))?;
    }
    commit(w, &path, set)?;
    Ok(path.clone())
}

/// authors.csv: one row per author.
fn write_authors(
    dir: &Path,
    forest: &Forest,
    scores: &[Scores],
    v: &analysis::Verdicts,
    set: &mut FileSet,
) -> Result<PathBuf, ReportError> {
    let path = dir.join(FILES[3]);
    let mut w = csv_file(&path)?;
    let e = werr(&path);
    w.write_record([
        "author",
        "author_inferred",
        "comments",
        "flagged",
        "flagged_share",
        "mean_toxicity",
        "stance",
        "stance_favor",
        "stance_against",
        "stance_none",
        "stance_unclear",
        "replies_received",
    ])
    .map_err(|x| e(&x))?;
    for a in analysis::authors(forest, scores, v) {
        // The author's most frequent asserted stance; unclear where none is asserted.
        let known: usize = a.stance.iter().sum();
        let stance = if known == 0 && a.stance_unclear == 0 {
            String::new()
        } else {
            crate::score::calls::label(
                (known > 0).then(|| crate::score::heads::argmax(&a.stance.map(|x| x as f32))),
                &crate::score::heads::STANCE_LABELS,
            )
            .to_string()
        };
        w.write_record([
            cell(&a.author).into_owned(),
            if a.inferred { "1" } else { "0" }.to_string(),
            a.comments.to_string(),
            a.flagged.to_string(),
            format!("{:.4}", a.flagged as f64 / a.comments as f64),
            f4(a.mean_toxicity),
            stance,
            a.stance[0].to_string(),
            a.stance[1].to_string(),
            a.stance[2].to_string(),
            a.stance_unclear.to_string(),
            a.replies_received.to_string(),
        ])
        .map_err(|x| e(&x))?;
    }
    commit(w, &path, set)?;
    Ok(path.clone())
}
