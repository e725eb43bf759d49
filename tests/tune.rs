//! Integration tests for `threadlens tune`: run the built binary on real files in a temp
//! directory, as a moderator would, and check the files it writes and the exit status.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use threadlens::tune::{Attribute, Thresholds};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/samples/labelled-comments.csv"
);
const SCORE_HEADER: &str = "id,thread_id,parent_id,depth,author,sentiment,sentiment_negative,sentiment_neutral,sentiment_positive,toxicity,insult,threat,obscene,identity_attack,stance,stance_favor,stance_against,stance_none,model,text";

/// A finished run of the binary.
struct Run {
    command: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Panics, showing the command, stdout and stderr, unless the exit status is `code`.
    fn expect(self, code: i32) -> Run {
        if self.code != Some(code) {
            panic!(
                "expected exit {code}, got {:?}\ncommand: {}\n--- stdout\n{}\n--- stderr\n{}",
                self.code, self.command, self.stdout, self.stderr
            );
        }
        self
    }

    /// Panics with the whole run shown unless stderr contains `needle`.
    fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\ncommand: {}\n--- stderr\n{}",
            self.command,
            self.stderr
        );
        self
    }
}

/// Runs `threadlens tune ARGS` in `dir`.
fn tune(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_threadlens"));
    cmd.arg("tune")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("the threadlens binary runs");
    Run {
        command: format!(
            "(cd {} && threadlens tune {})",
            dir.display(),
            args.join(" ")
        ),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A deterministic number in [0, 1) from a string (FNV-1a), to fake model scores.
fn unit(s: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Labels as (id, [toxicity, insult, threat, obscene, identity_attack]) read from a labels CSV.
fn read_labels(path: &Path) -> Vec<(String, [bool; 5])> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name);
    let names = ["toxicity", "insult", "threat", "obscene", "identity_attack"];
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let label = |i: usize| col(names[i]).is_some_and(|c| &rec[c] == "1");
            (
                rec[0].to_string(),
                [label(0), label(1), label(2), label(3), label(4)],
            )
        })
        .collect()
}

/// A scores CSV in the `threadlens score` layout: positives tend to score higher, with overlap.
fn scores_csv(labels: &[(String, [bool; 5])], extra_ids: &[&str]) -> String {
    let mut out = format!("{SCORE_HEADER}\n");
    let none = [false; 5];
    let rows = labels
        .iter()
        .map(|(id, l)| (id.as_str(), l))
        .chain(extra_ids.iter().map(|id| (*id, &none)));
    for (id, l) in rows {
        let s: Vec<String> = (0..5)
            .map(|i| {
                let u = unit(&format!("{id}/{i}"));
                let v = if l[i] { 0.3 + 0.7 * u } else { 0.7 * u * u };
                format!("{v:.4}")
            })
            .collect();
        let _ = writeln!(
            out,
            "{id},t1,,0,someone,neutral,0.2,0.6,0.2,{},none,0.1,0.1,0.8,test-model,\"text, quoted\"",
            s.join(",")
        );
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

/// The shipped sample with scores for every labelled comment plus `extra` unlabelled ones.
fn sample_with_scores(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let labels = read_labels(Path::new(SAMPLE));
    write(dir.path(), "scores.csv", &scores_csv(&labels, extra));
    dir
}

#[test]
fn sample_tunes_every_attribute_and_writes_all_outputs() {
    let dir = sample_with_scores(&["x-1", "x-2", "x-3"]);
    let d = dir.path();
    let run = tune(
        d,
        &[
            "--labels",
            SAMPLE,
            "--scores",
            "scores.csv",
            "-o",
            "thresholds.toml",
        ],
    )
    .expect(0);
    run.stderr_has("3 scored comments have no label and are not used (first: line 302, id 'x-1')")
        .stderr_has("warning: threat: only 20 positives among 300 comments (fewer than 30)")
        .stderr_has("toxicity: threshold ");
    let t = Thresholds::load(&d.join("thresholds.toml")).unwrap();
    for a in Attribute::ALL {
        let entry = t
            .entry(a)
            .clone()
            .unwrap_or_else(|| panic!("{a} not tuned"));
        assert!((0.0..=1.0).contains(&entry.threshold));
        assert_eq!(
            (entry.samples, entry.objective.as_deref()),
            (Some(300), Some("max-f1"))
        );
    }
    assert_eq!(t.toxicity.as_ref().unwrap().positives, Some(110));
    let toml = read(d, "thresholds.toml");
    assert!(
        toml.starts_with("# Flagging thresholds written by threadlens"),
        "{toml}"
    );
    let md = read(d, "thresholds.md");
    assert!(md.contains("| toxicity | 300 | 110 | "), "{md}");
    assert!(
        md.contains("95 % bootstrap intervals (1000 resamples, seed 42)"),
        "{md}"
    );
    let curves = read(d, "thresholds.curves.csv");
    assert!(curves.starts_with(
        "attribute,threshold,flagged,tp,fp,fn,tn,precision,recall,f1,fpr,flagged_per_1000,chosen\n"
    ));
    assert_eq!(
        curves.lines().filter(|l| l.ends_with(",1")).count(),
        6,
        "one chosen row per attribute"
    );
    for svg in ["thresholds.pr.svg", "thresholds.roc.svg"] {
        let text = read(d, svg);
        assert!(
            text.starts_with("<svg") && text.contains("identity_attack ("),
            "{svg}"
        );
    }
    for text in [&toml, &md, &curves] {
        assert!(!text.contains("NaN") && !text.contains("nan"), "{text}");
    }
}

#[test]
fn same_seed_gives_identical_outputs_and_another_seed_other_intervals() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    let args = |out: &'static str, seed: &'static str| {
        [
            "--labels",
            SAMPLE,
            "--scores",
            "scores.csv",
            "-o",
            out,
            "--seed",
            seed,
            "--resamples",
            "300",
        ]
    };
    tune(d, &args("a.toml", "5")).expect(0);
    tune(d, &args("b.toml", "5")).expect(0);
    tune(d, &args("c.toml", "6")).expect(0);
    assert_eq!(read(d, "a.curves.csv"), read(d, "b.curves.csv"));
    let (a, b, c) = (read(d, "a.md"), read(d, "b.md"), read(d, "c.md"));
    assert_eq!(a.replace("a.", "b."), b);
    assert_ne!(
        a.replace("a.", "c.").replace("seed 5", "seed 6"),
        c,
        "intervals should move with the seed"
    );
    assert_eq!(
        Thresholds::load(&d.join("a.toml")).unwrap(),
        Thresholds::load(&d.join("c.toml")).unwrap(),
        "the seed changes intervals, not thresholds"
    );
}

#[test]
fn review_budget_flags_at_most_n_per_1000() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    tune(
        d,
        &[
            "--labels",
            SAMPLE,
            "--scores",
            "scores.csv",
            "-o",
            "t.toml",
            "--review-budget",
            "150",
        ],
    )
    .expect(0);
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!(
        t.flag.as_ref().unwrap().objective.as_deref(),
        Some("review-budget 150 per 1000")
    );
    let curves = read(d, "t.curves.csv");
    for row in curves.lines().filter(|l| l.ends_with(",1")) {
        let per_1000: f64 = row.split(',').nth(11).unwrap().parse().unwrap();
        assert!(per_1000 <= 150.0, "{row}");
    }
}

#[test]
fn unreachable_target_precision_falls_back_to_max_f1_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut labels = String::from("id,text,insult\n");
    let mut scores = format!("{SCORE_HEADER}\n");
    // The top score is a negative, and every lower cut keeps precision under 0.9.
    for (i, (score, label)) in [
        (0.9, 0),
        (0.8, 1),
        (0.7, 0),
        (0.6, 1),
        (0.5, 1),
        (0.4, 0),
        (0.3, 0),
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(labels, "c{i},text {i},{label}");
        let _ = writeln!(
            scores,
            "c{i},t,,0,a,neutral,0,1,0,0.1,{score},0,0,0,none,0,0,1,m,x"
        );
    }
    write(d, "labels.csv", &labels);
    write(d, "scores.csv", &scores);
    let run = tune(
        d,
        &[
            "--labels",
            "labels.csv",
            "--scores",
            "scores.csv",
            "-o",
            "t.toml",
            "--target-precision",
            "0.9",
        ],
    )
    .expect(0);
    run.stderr_has("warning: insult: precision 0.9 is not reached at any threshold (best 0.600); fell back to max-f1")
        .stderr_has("warning: insult: only 7 labelled comments (fewer than 100)");
    let toml = read(d, "t.toml");
    assert!(
        toml.contains("# insult: precision 0.9 is not reached"),
        "{toml}"
    );
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!(
        t.insult.as_ref().unwrap().objective.as_deref(),
        Some("max-f1")
    );
    assert_eq!(t.insult.as_ref().unwrap().threshold, 0.5);
}

#[test]
fn attribute_without_positives_keeps_the_default_and_writes_no_nan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut labels = String::from("id,text,toxicity,threat\n");
    let mut scores = format!("{SCORE_HEADER}\n");
    for i in 0..40 {
        let _ = writeln!(labels, "c{i},text,1,0");
        let _ = writeln!(
            scores,
            "c{i},t,,0,a,neutral,0,1,0,{},0,{},0,0,none,0,0,1,m,x",
            i as f64 / 40.0,
            i as f64 / 80.0
        );
    }
    write(d, "labels.csv", &labels);
    write(d, "scores.csv", &scores);
    let run = tune(
        d,
        &[
            "--labels",
            "labels.csv",
            "--scores",
            "scores.csv",
            "-o",
            "t.toml",
        ],
    )
    .expect(0);
    run.stderr_has("warning: threat: no positive labels among 40 comments: cannot tune; analyze uses the default 0.7")
        .stderr_has("warning: toxicity: all 40 comments are labelled positive: ROC AUC is undefined");
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!((t.threat.clone(), t.get(Attribute::Threat)), (None, 0.7));
    assert_eq!(
        t.toxicity.as_ref().unwrap().threshold,
        0.0,
        "all positive: flag everything"
    );
    let toml = read(d, "t.toml");
    assert!(
        toml.contains(
            "# threat: not tuned (no positive labels among 40); analyze uses the default 0.7."
        ),
        "{toml}"
    );
    let md = read(d, "t.md");
    assert!(
        md.contains("| threat | 40 | 0 | undefined | undefined | not tuned (default 0.7) |"),
        "{md}"
    );
    for f in ["t.toml", "t.md", "t.curves.csv", "t.pr.svg", "t.roc.svg"] {
        assert!(!read(d, f).contains("NaN"), "{f}");
    }
}

#[test]
fn labelled_comments_without_scores_are_listed_with_lines_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let labels = read_labels(Path::new(SAMPLE));
    // Drop the scores of the 3rd and 10th labelled comments; the first comment's text spans
    // two lines, so they start on lines 5 and 12.
    let kept: Vec<_> = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2 && *i != 9)
        .map(|(_, l)| l.clone())
        .collect();
    write(d, "scores.csv", &scores_csv(&kept, &[]));
    let run = tune(
        d,
        &["--labels", SAMPLE, "--scores", "scores.csv", "-o", "t.toml"],
    )
    .expect(1);
    run.stderr_has(&format!(
        "labelled-comments.csv: line 5: id '{}' has no score in scores.csv",
        labels[2].0
    ))
    .stderr_has(&format!(
        "labelled-comments.csv: line 12: id '{}' has no score in scores.csv",
        labels[9].0
    ));
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!(t.toxicity.as_ref().unwrap().samples, Some(298));
    assert!(read(d, "t.md").contains("2 records were not used"));
}

#[test]
fn bad_rows_in_either_file_are_rejected_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "labels.csv", "id,text,flag\na,x,1\nb,y,yes\nc,z,0\n");
    let scores = format!(
        "{SCORE_HEADER}\na,t,,0,u,neutral,0,1,0,0.9,0,0,0,0,none,0,0,1,m,x\nc,t,,0,u,neutral,0,1,0,oops,0,0,0,0,none,0,0,1,m,x\n"
    );
    write(d, "scores.csv", &scores);
    tune(
        d,
        &[
            "--labels",
            "labels.csv",
            "--scores",
            "scores.csv",
            "-o",
            "t.toml",
        ],
    )
    .expect(1)
    .stderr_has("labels.csv: line 3: id 'b': flag is \"yes\", expected 0 or 1")
    .stderr_has("scores.csv: line 3: id 'c': toxicity is \"oops\", expected a number from 0 to 1")
    .stderr_has("labels.csv: line 4: id 'c' has no score in scores.csv");
}

#[test]
fn unusable_labels_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "scores.csv", &format!("{SCORE_HEADER}\n"));
    let cases = [
        ("", "threadlens: reading the labelled sample: labels.csv: the file is empty (expected a header row with id, text"),
        ("id,text,toxicity,flag\n", "threadlens: reading the labelled sample: labels.csv: the file has a header but no rows"),
        ("id,text,spam\n1,x,1\n", "labels.csv: the header has no label column"),
        ("id,text,flag\n1,x,1\n", "threadlens: none of the 1 labelled comments in labels.csv has a score in scores.csv"),
    ];
    for (text, want) in cases {
        write(d, "labels.csv", text);
        tune(
            d,
            &[
                "--labels",
                "labels.csv",
                "--scores",
                "scores.csv",
                "-o",
                "t.toml",
            ],
        )
        .expect(2)
        .stderr_has(want);
        assert!(!d.join("t.toml").exists(), "nothing is written on error");
    }
    tune(
        d,
        &[
            "--labels",
            "missing.csv",
            "--scores",
            "scores.csv",
            "-o",
            "t.toml",
        ],
    )
    .expect(2)
    .stderr_has("threadlens: reading the labelled sample: reading missing.csv: ");
}

#[test]
fn labels_without_text_cannot_be_scored_so_scores_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "labels.csv", "id,flag\na,1\n");
    tune(d, &["--labels", "labels.csv", "-o", "t.toml"])
        .expect(2)
        .stderr_has(
            "labels.csv has no `text` column, so its comments cannot be scored; pass --scores",
        );
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = ["--labels", SAMPLE, "--scores", "s.csv", "-o", "t.toml"];
    let cases: [(&[&str], &str); 5] = [
        (
            &["--target-precision", "0.9", "--review-budget", "50"],
            "cannot be used with",
        ),
        (
            &["--target-recall", "0.9", "--target-precision", "0.8"],
            "cannot be used with",
        ),
        (
            &["--target-precision", "1.5"],
            "'1.5' is not a number in (0, 1]",
        ),
        (&["--review-budget", "0"], "0 is not in 1..=1000"),
        (
            &["--curves", "t.toml"],
            "t.toml would be written twice or overwrite an input",
        ),
    ];
    for (extra, want) in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        tune(d, &args).expect(2).stderr_has(want);
    }
}
