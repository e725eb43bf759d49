//! `threadlens merge` run as the second step of a cluster job: the comments are scored per
//! partition (`threadlens score -`, as Spark's `RDD.pipe` runs it), and merge joins the
//! partitions' scores to the whole input and writes `analyze`'s reports. The reports must be
//! `analyze`'s on the whole input, including what no partition can see alone (an author's
//! comments spread over partitions), and a partition missing, given twice or split across a
//! thread must be told. Built from a small threaded input this file writes, with the real
//! models.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod common;
use common::{read_csv, Run};

/// Runs the built binary in `dir`, with `stdin` on its standard input.
fn threadlens(dir: &Path, args: &[&str], stdin: &str) -> Run {
    common::threadlens(dir, args, Some(stdin))
}

const HEADER: &str = "id,parent_id,thread_id,author,text";

/// Three articles (the `thread_id` column), five threads, one author ("vex") who writes a
/// hostile reply under each of three threads in two articles.
const ROWS: [[&str; 5]; 12] = [
    [
        "c1",
        "",
        "a1",
        "ann",
        "The council's new parking plan will finally free up space downtown.",
    ],
    [
        "c2",
        "c1",
        "a1",
        "bob",
        "I disagree, it will only push the cars into the side streets.",
    ],
    [
        "c3",
        "c2",
        "a1",
        "vex",
        "You are a pathetic idiot and everyone here hates you, shut up.",
    ],
    [
        "c4",
        "",
        "a1",
        "cat",
        "Has anyone read the budget annex? The numbers do not add up.",
    ],
    [
        "c5",
        "c4",
        "a1",
        "vex",
        "Nobody cares what a stupid moron like you thinks. Get lost, loser.",
    ],
    [
        "c6",
        "",
        "a2",
        "dan",
        "Thanks for covering the school board meeting, great reporting.",
    ],
    [
        "c7",
        "c6",
        "a2",
        "ann",
        "Agreed, the parents asked sharp questions about the new timetable.",
    ],
    [
        "c8",
        "c6",
        "a2",
        "vex",
        "Shut up, you worthless idiot. You are all pathetic morons.",
    ],
    [
        "c9",
        "",
        "a3",
        "eve",
        "The bridge repairs should have started years ago.",
    ],
    [
        "c10",
        "c9",
        "a3",
        "bob",
        "They did start, but the contractor went bankrupt in the spring.",
    ],
    [
        "c11",
        "",
        "a3",
        "fay",
        "Will the ferry run while the bridge is closed?",
    ],
    [
        "c12",
        "c11",
        "a3",
        "dan",
        "Yes, every half hour from six in the morning, says the city.",
    ],
];

/// A CSV of the rows `keep` selects, header first.
fn csv_of(keep: impl Fn(&[&str; 5]) -> bool) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER.split(',')).unwrap();
    for r in ROWS.iter().filter(|r| keep(r)) {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// `analyze` of `input.csv` in `d` with `th.toml`, into `direct/`: what merge is compared with.
fn analyze_direct(d: &Path) {
    threadlens(
        d,
        &[
            "analyze",
            "input.csv",
            "-o",
            "direct",
            "--thresholds",
            "th.toml",
            "-q",
        ],
        "",
    )
    .expect(0);
}

/// Two report CSVs hold the same rows in the same order: text cells equal, numbers within
/// `tol` (merge computes from the 4-decimal scores in the files, analyze from the model's).
fn assert_same_table(a: &Path, b: &Path, tol: f64) {
    let ((ha, ra), (hb, rb)) = (read_csv(a), read_csv(b));
    assert_eq!(ha, hb, "{}: headers", a.display());
    assert_eq!(
        ra.len(),
        rb.len(),
        "{} vs {}: row counts",
        a.display(),
        b.display()
    );
    for (x, y) in ra.iter().zip(&rb) {
        for ((cx, cy), name) in x.iter().zip(y).zip(&ha) {
            let close = match (cx.parse::<f64>(), cy.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= tol,
                _ => cx == cy,
            };
            assert!(
                close,
                "{}: column {name}: {cx:?} vs {cy:?} in {} (row {x:?} vs {y:?})",
                a.file_name().unwrap().to_string_lossy(),
                b.display()
            );
        }
    }
}

/// comments.csv's (flagged, reasons) by id.
fn verdicts(dir: &Path) -> HashMap<String, (String, String)> {
    let (h, rows) = read_csv(&dir.join("comments.csv"));
    let at = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (id, f, r) = (at("id"), at("flagged"), at("reasons"));
    rows.iter()
        .map(|row| (row[id].clone(), (row[f].clone(), row[r].clone())))
        .collect()
}

/// Thresholds the test's hostile replies clear by far and its other comments stay far
/// under, so the score differences that batch composition makes cannot move a flag.
const THRESHOLDS: &str = "[toxicity]\nthreshold = 0.3\n[insult]\nthreshold = 0.3\n";

/// The whole input scored in one process (with the stance models `analyze` uses by default),
/// its rows split by thread over the partitions' files (a Spark output folder: two partitions
/// concatenated in one part file, a `_SUCCESS` marker), merged: every report equals
/// `analyze`'s of the whole input.
#[test]
fn merged_partitions_give_analyzes_reports() {
    use clap::ValueEnum;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("input.csv"), &csv_of(|_| true));
    write(&d.join("th.toml"), THRESHOLDS);
    let stance = threadlens::cli::analyze::DEFAULT_STANCE_MODEL
        .to_possible_value()
        .unwrap();
    let args = [
        "score",
        "input.csv",
        "--quiet",
        "--stance-model",
        stance.get_name(),
    ];
    let scores = threadlens(d, &args, "").expect(0).stdout;
    let (header, body) = scores.split_once('\n').unwrap();
    let mut lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines.len(),
        ROWS.len(),
        "one line per comment (no text has a newline)"
    );
    // Partitions by thread (the thread_id column of the scores: the root's id).
    let thread = |l: &str| l.split(',').nth(1).unwrap().to_string();
    lines.sort_by_key(|l| thread(l));
    let threads: Vec<String> = {
        let mut t: Vec<String> = lines.iter().map(|l| thread(l)).collect();
        t.dedup();
        t
    };
    assert_eq!(threads.len(), 5);
    let part = |ts: &[&String]| {
        let mut s = String::new();
        for t in ts {
            s.push_str(header);
            s.push('\n');
            for l in lines.iter().filter(|l| thread(l) == **t) {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    };
    let spark = d.join("spark-out");
    std::fs::create_dir(&spark).unwrap();
    write(
        &spark.join("part-00000"),
        &part(&[&threads[4], &threads[0]]),
    );
    write(
        &spark.join("part-00001"),
        &part(&[&threads[2], &threads[1], &threads[3]]),
    );
    write(&spark.join("_SUCCESS"), "");

    analyze_direct(d);
    let run = threadlens(
        d,
        &[
            "merge",
            "input.csv",
            "--scores",
            "spark-out",
            "-o",
            "merged",
            "--thresholds",
            "th.toml",
        ],
        "",
    )
    .expect(0);
    assert!(
        run.stderr.contains("scores merged from 2 files"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    for f in ["comments.csv", "queue.csv", "threads.csv", "authors.csv"] {
        assert_same_table(&d.join("merged").join(f), &d.join("direct").join(f), 1.5e-4);
    }
    let (_, queue) = read_csv(&d.join("merged/queue.csv"));
    assert!(
        queue.iter().any(|r| r[2].contains("AUTHOR_HISTORY")),
        "the test's hostile author should be in the queue with AUTHOR_HISTORY: {queue:?}"
    );
    // The summary has the same articles, and says where the scores came from.
    let headings = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("## "))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        headings(&d.join("merged/summary.md")),
        headings(&d.join("direct/summary.md"))
    );
    let md = std::fs::read_to_string(d.join("merged/summary.md")).unwrap();
    assert!(md.contains("(scores merged from 2 files)"), "{md}");
}

/// The cluster flow itself: each article's comments scored in its own process from stdin (as
/// RDD.pipe feeds a partition), then merged. Author "vex" has two comments in one partition
/// and one in the other: only the merge sees three comments, all flagged, and gives
/// AUTHOR_HISTORY, as `analyze` on the whole input does; `analyze` on one partition cannot.
#[test]
fn merge_sees_an_author_across_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("input.csv"), &csv_of(|_| true));
    write(&d.join("th.toml"), THRESHOLDS);
    let parts = [csv_of(|r| r[2] != "a2"), csv_of(|r| r[2] == "a2")];
    for (k, p) in parts.iter().enumerate() {
        let out = threadlens(d, &["score", "-", "--format", "csv", "--quiet"], p).expect(0);
        write(&d.join(format!("part-{k}.csv")), &out.stdout);
    }
    threadlens(
        d,
        &[
            "merge",
            "input.csv",
            "--scores",
            "part-0.csv",
            "part-1.csv",
            "-o",
            "merged",
            "--thresholds",
            "th.toml",
            "-q",
        ],
        "",
    )
    .expect(0);
    analyze_direct(d);
    write(&d.join("a1.csv"), &parts[0]);
    threadlens(
        d,
        &[
            "analyze",
            "a1.csv",
            "-o",
            "alone",
            "--thresholds",
            "th.toml",
            "-q",
        ],
        "",
    )
    .expect(0);

    let merged = verdicts(&d.join("merged"));
    assert_eq!(
        merged,
        verdicts(&d.join("direct")),
        "merged flags = analyze's on the whole input"
    );
    for id in ["c3", "c5", "c8"] {
        assert!(
            merged[id].1.contains("AUTHOR_HISTORY"),
            "{id}: {:?}",
            merged[id]
        );
    }
    let alone = verdicts(&d.join("alone"));
    assert!(
        alone["c3"].0 == "1" && !alone["c3"].1.contains("AUTHOR_HISTORY"),
        "one partition alone sees only two of vex's comments: {:?}",
        alone["c3"]
    );
    let (h, authors) = read_csv(&d.join("merged/authors.csv"));
    let vex = authors
        .iter()
        .find(|r| r[0] == "vex")
        .expect("vex in authors.csv");
    let comments = h.iter().position(|c| c == "comments").unwrap();
    assert_eq!(vex[comments], "3");
}

/// A partition's output left out, or given twice, is an error that says so, with nothing
/// written; a thread split across partitions is merged whole, with a warning naming the reply
/// that was scored apart from its parent.
#[test]
fn a_missing_repeated_or_split_partition_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("input.csv"), &csv_of(|r| r[2] == "a3"));
    // c9 (root) and c10 (its reply) apart; c11 and c12 together.
    let parts = [
        csv_of(|r| r[0] == "c9"),
        csv_of(|r| r[0] == "c10"),
        csv_of(|r| r[0] == "c11" || r[0] == "c12"),
    ];
    for (k, p) in parts.iter().enumerate() {
        let out = threadlens(d, &["score", "-", "--format", "csv", "--quiet"], p).expect(0);
        write(&d.join(format!("p{k}.csv")), &out.stdout);
    }
    let merge = |scores: &[&str], out: &str| {
        let mut args = vec!["merge", "input.csv", "--scores"];
        args.extend(scores);
        args.extend(["-o", out]);
        threadlens(d, &args, "")
    };
    let run = merge(&["p0.csv", "p1.csv"], "missing").expect(2);
    assert!(
        run.stderr.contains(
            "2 comments of the input have no row in the scores files (first: 'c11', 'c12')"
        ),
        "{}",
        run.stderr
    );
    assert!(!d.join("missing/comments.csv").exists());
    let run = merge(&["p0.csv", "p1.csv", "p2.csv", "p1.csv"], "twice").expect(2);
    assert!(
        run.stderr
            .contains("id 'c10' is in p1.csv line 2 and again in p1.csv line 2"),
        "{}",
        run.stderr
    );

    let run = merge(&["p2.csv", "p1.csv", "p0.csv"], "split").expect(0);
    assert!(
        run.stderr.contains("warning: 1 comments were scored with another thread_id, parent_id or depth than the whole input gives them (first: c10)"),
        "{}",
        run.stderr
    );
    let (h, rows) = read_csv(&d.join("split/comments.csv"));
    let at = |n: &str| h.iter().position(|c| c == n).unwrap();
    let c10 = rows.iter().find(|r| r[at("id")] == "c10").unwrap();
    assert_eq!(
        (c10[at("parent_id")].as_str(), c10[at("depth")].as_str()),
        ("c9", "1")
    );
    let (_, threads) = read_csv(&d.join("split/threads.csv"));
    assert_eq!(
        threads.len(),
        2,
        "the input's two threads, whole: {threads:?}"
    );
}
