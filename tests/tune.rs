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
const SCORE_HEADER: &str = "id,thread_id,parent_id,depth,author,sentiment,sentiment_negative,sentiment_neutral,sentiment_positive,toxicity,insult,threat,obscene,identity_attack,severe_toxicity,sexual_explicit,stance,stance_favor,stance_against,stance_none,model,text";

/// A finished run of the binary.
mod common;
use common::Run;

/// Runs `threadlens tune ARGS` in `dir`.
fn tune(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_threadlens"));
    cmd.arg("tune")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("the threadlens binary runs");
    Run::of(
        format!(
            "(cd {} && threadlens tune {})",
            dir.display(),
            args.join(" ")
        ),
        out,
    )
}

/// A deterministic number in [0, 1) from a string (FNV-1a), to fake model scores.
fn unit(s: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The toxicity attributes with a score column, in the scores CSV's order.
const SCORED: [&str; 7] = [
    "toxicity",
    "insult",
    "threat",
    "obscene",
    "identity_attack",
    "severe_toxicity",
    "sexual_explicit",
];

/// Labels per [`SCORED`] attribute read from a labels CSV, as (id, labels); `None` where the
/// file has no column for the attribute.
type Labels = (String, [Option<bool>; 7]);

fn read_labels(path: &Path) -> Vec<Labels> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let labels = SCORED.map(|name| col(name).map(|c| &rec[c] == "1"));
            (rec[0].to_string(), labels)
        })
        .collect()
}

/// A scores CSV in the `threadlens score` layout: positives tend to score higher, with overlap.
/// Attributes the labels file has no column for score low (under 0.3), so what the defaults
/// flag does not hang on their default thresholds.
fn scores_csv(labels: &[Labels], extra_ids: &[&str]) -> String {
    let mut out = format!("{SCORE_HEADER}\n");
    let none = [Some(false); 7];
    let rows = labels
        .iter()
        .map(|(id, l)| (id.as_str(), l))
        .chain(extra_ids.iter().map(|id| (*id, &none)));
    for (id, l) in rows {
        let s: Vec<String> = (0..SCORED.len())
            .map(|i| {
                let u = unit(&format!("{id}/{i}"));
                let v = match l[i] {
                    Some(true) => 0.3 + 0.7 * u,
                    Some(false) => 0.7 * u * u,
                    None => 0.3 * u * u,
                };
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
/// `tune` on the bundled sample with the scores written by [`sample_with_scores`].
fn tune_sample(dir: &Path, args: &[&str]) -> Run {
    let all: Vec<&str> = ["--labels", SAMPLE, "--scores", "scores.csv"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    tune(dir, &all)
}

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
    let run = tune_sample(d, &["-o", "thresholds.toml"]).expect(0);
    run.stderr_has("3 scored comments have no label and are not used (first: line 302, id 'x-1')")
        .stderr_has("warning: threat: only 20 positives among 300 comments (fewer than 30)")
        .stderr_has("toxicity: threshold ");
    let t = Thresholds::load(&d.join("thresholds.toml")).unwrap();
    // The sample labels every attribute but the two Model v2 added, which keep their defaults.
    let unlabelled = [Attribute::SevereToxicity, Attribute::SexualExplicit];
    for a in Attribute::ALL {
        if unlabelled.contains(&a) {
            assert_eq!(t.entry(a), &None, "{a} is not labelled in the sample");
            assert_eq!(t.get(a), a.default_threshold(), "{a}");
            continue;
        }
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
    assert!(
        toml.contains(
            "\n# Not labelled in the sample (defaults apply): severe_toxicity, sexual_explicit.\n"
        ),
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

/// Comments `analyze` would flag among the rows of a scores CSV, counted here independently of
/// `tune`: any of the seven attributes at or above its threshold, or their maximum at or above
/// the `flag` threshold (missing tables use the defaults). Returns (flagged, rows).
fn combined_queue(scores: &Path, t: &Thresholds) -> (usize, usize) {
    let mut r = csv::Reader::from_path(scores).unwrap();
    let names = SCORED;
    let h = r.headers().unwrap().clone();
    let cols: Vec<usize> = names
        .iter()
        .map(|n| h.iter().position(|c| c == *n).unwrap())
        .collect();
    let (mut flagged, mut rows) = (0, 0);
    for rec in r.records() {
        let rec = rec.unwrap();
        let v: Vec<f64> = cols.iter().map(|&c| rec[c].parse().unwrap()).collect();
        let max = v.iter().copied().fold(0.0, f64::max);
        let hit = names
            .iter()
            .zip(&v)
            .any(|(n, &x)| x >= t.get(n.parse().unwrap()))
            || max >= t.get(Attribute::Flag);
        flagged += usize::from(hit);
        rows += 1;
    }
    (flagged, rows)
}

/// Regression: the budget held for each attribute alone, and `analyze`'s combined queue
/// (any attribute) flagged 213 per 1,000 of the sample with a budget of 50.
#[test]
fn review_budget_holds_for_the_combined_queue() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    for budget in ["50", "150"] {
        let run = tune_sample(d, &["-o", "t.toml", "--review-budget", budget]).expect(0);
        let t = Thresholds::load(&d.join("t.toml")).unwrap();
        assert_eq!(
            t.flag.as_ref().unwrap().objective.as_deref(),
            Some(format!("review-budget {budget} per 1000").as_str())
        );
        let (flagged, rows) = combined_queue(&d.join("scores.csv"), &t);
        let limit: usize = budget.parse().unwrap();
        assert!(
            flagged * 1000 <= limit * rows,
            "{flagged} of {rows} flagged"
        );
        // The greedy fills the budget unless the next step of every attribute overshoots.
        assert!(
            flagged * 1000 > (limit - 10) * rows,
            "{flagged} of {rows} flagged"
        );
        let rate = format!(
            "{flagged} of {rows} comments flagged, {:.1} per 1000",
            flagged as f64 * 1000.0 / rows as f64
        );
        run.stderr_has(&format!(
            "combined queue on the sample (any attribute at or above its threshold): {rate}"
        ));
        assert!(read(d, "t.toml").contains(&rate));
        let md = read(d, "t.md");
        assert!(
            md.contains(&format!(
                "**Combined queue on this sample: {flagged} of {rows} comments flagged, {:.1} per 1,000.**",
                flagged as f64 * 1000.0 / rows as f64
            )),
            "{md}"
        );
        assert!(
            md.contains(&format!("How the review budget of {budget} per 1,000 was shared: every tuned attribute starts above its top score")),
            "{md}"
        );
    }
}

/// Regression: `--review-budget 3` fell back to max F1 and flagged 640 per 1,000.
#[test]
fn a_budget_below_one_comment_of_the_sample_flags_nothing_and_says_so() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    tune_sample(
        d,
        &[
            "-o",
            "t.toml",
            "--review-budget",
            "3",
        ],
    )
    .expect(0)
    .stderr_has("warning: the review budget of 3 per 1000 allows 0.9 of the 300 comments in the sample, fewer than the highest score of any tuned attribute flags")
    .stderr_has("combined queue on the sample (any attribute at or above its threshold): 0 of 300 comments flagged, 0.0 per 1000");
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!(combined_queue(&d.join("scores.csv"), &t), (0, 300));
}

#[test]
fn a_budget_the_untuned_defaults_exceed_falls_back_to_the_fewest_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Only insult is labelled; toxicity (at its default) flags 4 of 20 on its own.
    let d_ = Attribute::default_threshold;
    let mut labels = String::from("id,text,insult\n");
    let mut scores = format!("{SCORE_HEADER}\n");
    for i in 0..20 {
        let toxicity = if i < 4 { d_(Attribute::Toxicity) } else { 0.1 };
        let insult = f64::from(i) / 40.0;
        let _ = writeln!(labels, "c{i},text {i},{}", u8::from(i >= 15));
        let _ = writeln!(
            scores,
            "c{i},t,,0,a,neutral,0,1,0,{toxicity},{insult:.4},0,0,0,0,0,none,0,0,1,m,x"
        );
    }
    write(d, "labels.csv", &labels);
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
            "--review-budget",
            "100",
        ],
    )
    .expect(0)
    .stderr_has(&format!("warning: the review budget of 100 per 1000 cannot be met: with every tuned attribute at its fewest flags, the combined queue still holds 4 of 20 comments (200.0 per 1000), 4 (200.0 per 1000) flagged by the attributes left at their defaults (toxicity {}, threat {}, obscene {}, identity_attack {}, severe_toxicity {}, sexual_explicit {}, flag {})",
        d_(Attribute::Toxicity),
        d_(Attribute::Threat),
        d_(Attribute::Obscene),
        d_(Attribute::IdentityAttack),
        d_(Attribute::SevereToxicity),
        d_(Attribute::SexualExplicit),
        d_(Attribute::Flag)));
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    let insult = t.insult.as_ref().unwrap();
    // Just above the top insult score 19/40 = 0.475: flags nothing more.
    assert_eq!(
        (insult.threshold, insult.objective.as_deref()),
        (0.4751, Some("fewest-flags"))
    );
    assert_eq!(combined_queue(&d.join("scores.csv"), &t), (4, 20));
    assert!(read(d, "t.md").contains("- the review budget of 100 per 1000 cannot be met"));
}

#[test]
fn precision_targets_warn_about_their_interval_and_support() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    let run = tune_sample(d, &["-o", "t.toml", "--target-precision", "0.95"]).expect(0);
    // Checked against the curves CSV: the chosen threat row flags fewer than 60 comments,
    // which confirming 0.95 takes (3 / 0.05).
    let curves = read(d, "t.curves.csv");
    let row = curves
        .lines()
        .find(|l| l.starts_with("threat,") && l.ends_with(",1"))
        .unwrap();
    let flagged: u64 = row.split(',').nth(2).unwrap().parse().unwrap();
    assert!(flagged < 60, "{row}");
    run.stderr_has(&format!(
        "warning: threat: the threshold rests on only {flagged} flagged comments: confirming precision 0.95 takes at least 60"
    ));
    assert!(
        run.stderr
            .contains("meets the target 0.95 on the sample, but its 95 % interval ("),
        "{}",
        run.stderr
    );
    // Max F1 promises no precision: no target warnings.
    let run = tune_sample(d, &["-o", "f.toml"]).expect(0);
    assert!(!run.stderr.contains("meets the target"), "{}", run.stderr);
    assert!(!run.stderr.contains("rests on only"), "{}", run.stderr);
}

/// Thresholds follow `analyze`'s rule: the score rounded to 4 decimals (as the scores CSV
/// shows it) >= threshold. 0.57609999 is shown as 0.5761 and ties with c2.
#[test]
fn scores_are_compared_rounded_to_4_decimals_and_ties_with_the_threshold_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "labels.csv",
        "id,text,insult\nc0,a,1\nc1,b,1\nc2,c,0\nc3,d,0\n",
    );
    let mut scores = format!("{SCORE_HEADER}\n");
    for (id, insult) in [
        ("c0", "0.9"),
        ("c1", "0.57609999"),
        ("c2", "0.5761"),
        ("c3", "0.2"),
    ] {
        let _ = writeln!(
            scores,
            "{id},t,,0,a,neutral,0,1,0,0.1,{insult},0,0,0,0,0,none,0,0,1,m,x"
        );
    }
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
    .expect(0);
    // By hand: at 0.5761 both c1 and c2 are flagged: tp 2, fp 1 → precision 2/3, recall 1,
    // F1 0.8 (the best; 0.9 gives 0.667). Unrounded, 0.57609999 would be its own point.
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    let insult = t.insult.unwrap();
    assert_eq!(
        (insult.threshold, insult.precision, insult.recall),
        (0.5761, Some(0.6667), Some(1.0))
    );
    let curves = read(d, "t.curves.csv");
    let thresholds: Vec<&str> = curves
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(thresholds, ["0.9", "0.5761", "0.2"]);
}

/// Regression: the overwrite guard compared paths as text, so `-o ./tcopy.csv` overwrote
/// the labels file `tcopy.csv`.
#[test]
fn outputs_that_are_inputs_by_another_name_are_refused() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    let original = std::fs::read_to_string(SAMPLE).unwrap();
    write(d, "tcopy.csv", &original);
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("tcopy.csv", d.join("link.toml")).unwrap();
    let cases: [&[&str]; 4] = [
        &["-o", "./tcopy.csv"],
        &["-o", "sub/../tcopy.csv"],
        &["-o", "link.toml"],
        &["-o", "t.toml", "--summary", "./scores.csv"],
    ];
    for extra in cases {
        let mut args = vec!["--labels", "tcopy.csv", "--scores", "scores.csv"];
        args.extend_from_slice(extra);
        tune(d, &args)
            .expect(2)
            .stderr_has("would be written twice or overwrite an input; choose other file names");
        assert_eq!(read(d, "tcopy.csv"), original, "{extra:?}");
    }
    let abs = d.join("t.toml").display().to_string();
    tune_sample(d, &["-o", "t.toml", "--curves", &abs])
        .expect(2)
        .stderr_has("would be written twice");
}

#[test]
fn a_missing_output_folder_is_created_and_a_bad_one_fails_before_any_work() {
    let dir = sample_with_scores(&[]);
    let d = dir.path();
    tune_sample(d, &["-o", "out/deep/t.toml"]).expect(0);
    for f in ["t.toml", "t.md", "t.curves.csv", "t.pr.svg", "t.roc.svg"] {
        assert!(d.join("out/deep").join(f).is_file(), "{f}");
    }
    // A file where the folder should be: the error comes before the labels are even read
    // (this labels file has no text, which would otherwise be the complaint).
    write(d, "notext.csv", "id,flag\na,1\nb,0\n");
    let run = tune(d, &["--labels", "notext.csv", "-o", "scores.csv/t.toml"]).expect(2);
    run.stderr_has("threadlens: creating the output folder scores.csv: ");
    assert!(!run.stderr.contains("text"), "{}", run.stderr);
}

#[test]
fn labels_and_scores_cannot_both_come_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    tune(
        dir.path(),
        &["--labels", "-", "--scores", "-", "-o", "t.toml"],
    )
    .expect(2)
    .stderr_has("threadlens: --labels and --scores cannot both read standard input (-); give one of them as a file");
}

/// Regression: the CSV error was printed twice (in the message and again as its cause).
#[test]
fn a_non_utf8_header_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("labels.csv"), b"id,te\xffxt,flag\n1,x,1\n").unwrap();
    write(d, "scores.csv", &format!("{SCORE_HEADER}\n"));
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
    .expect(2);
    assert_eq!(
        run.stderr,
        "threadlens: reading the labelled sample: labels.csv: line 1: the header is not valid UTF-8 (save the file as UTF-8)\n"
    );
}

#[test]
fn help_documents_the_shared_budget_and_the_rounding() {
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["tune", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for needle in [
        "in the combined queue analyze builds",
        "attributes not tuned keep their defaults and count too",
        "the threshold of the attribute whose next distinct score adds the most of its labelled positives per newly flagged comment is lowered",
        "rounded to 4 decimals as in the scores CSV",
    ] {
        assert!(help.contains(needle), "{needle}\n{help}");
    }
}

/// The path without `--scores`: tune scores the texts itself with the real encoder and heads
/// in models/, and must tune exactly as on the scores `threadlens score` writes for them.
#[test]
fn scoring_the_texts_gives_the_same_thresholds_as_the_scores_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first 40 labelled comments of the sample (some texts span lines: copy as CSV).
    let mut r = csv::Reader::from_path(SAMPLE).unwrap();
    let mut w = csv::Writer::from_path(d.join("labels.csv")).unwrap();
    w.write_record(r.headers().unwrap()).unwrap();
    for rec in r.records().take(40) {
        w.write_record(&rec.unwrap()).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["score", "labels.csv", "-o", "scores.csv", "--quiet"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "threadlens score: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tune(
        d,
        &[
            "--labels",
            "labels.csv",
            "--scores",
            "scores.csv",
            "-o",
            "a/t.toml",
        ],
    )
    .expect(0);
    tune(d, &["--labels", "labels.csv", "-o", "b/t.toml"])
        .expect(0)
        .stderr_has("threadlens: model ")
        .stderr_has("b/t.toml");
    let (a, b) = (
        Thresholds::load(&d.join("a/t.toml")).unwrap(),
        Thresholds::load(&d.join("b/t.toml")).unwrap(),
    );
    assert!(a.toxicity.is_some() && a.flag.is_some(), "{a:?}");
    assert_eq!(a, b);
    assert_eq!(read(d, "a/t.curves.csv"), read(d, "b/t.curves.csv"));
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
            "c{i},t,,0,a,neutral,0,1,0,0.1,{score},0,0,0,0,0,none,0,0,1,m,x"
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

/// The two attributes Model v2 added are labelled, tuned and written like the others.
#[test]
fn severe_toxicity_and_sexual_explicit_are_tuned_from_their_own_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut labels = String::from("id,text,sexual_explicit,severe_toxicity\n");
    let mut scores = format!("{SCORE_HEADER}\n");
    // severe_toxicity i/20, positive from i = 15; sexual_explicit (19 − i)/20, positive up to
    // i = 3. By hand, the best F1 (1.0) is at 0.75 and at 0.8.
    for i in 0..20 {
        let _ = writeln!(
            labels,
            "c{i},text {i},{},{}",
            u8::from(i <= 3),
            u8::from(i >= 15)
        );
        let _ = writeln!(
            scores,
            "c{i},t,,0,a,neutral,0,1,0,0.1,0,0,0,0,{:.4},{:.4},none,0,0,1,m,x",
            f64::from(i) / 20.0,
            f64::from(19 - i) / 20.0
        );
    }
    write(d, "labels.csv", &labels);
    write(d, "scores.csv", &scores);
    let args = [
        "--labels",
        "labels.csv",
        "--scores",
        "scores.csv",
        "-o",
        "t.toml",
    ];
    tune(d, &args).expect(0);
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    let got = |e: &Option<threadlens::tune::Threshold>| {
        e.as_ref()
            .map(|e| (e.threshold, e.precision, e.recall, e.samples, e.positives))
    };
    assert_eq!(
        got(&t.severe_toxicity),
        Some((0.75, Some(1.0), Some(1.0), Some(20), Some(5)))
    );
    assert_eq!(
        got(&t.sexual_explicit),
        Some((0.8, Some(1.0), Some(1.0), Some(20), Some(4)))
    );
    let toml = read(d, "t.toml");
    assert!(
        toml.contains("\n[severe_toxicity]\nthreshold = 0.75\n"),
        "{toml}"
    );
    assert!(
        toml.contains("# Not labelled in the sample (defaults apply): toxicity, insult, threat, obscene, identity_attack, flag.\n"),
        "{toml}"
    );
    let md = read(d, "t.md");
    assert!(md.contains("| severe_toxicity | 20 | 5 | "), "{md}");
    assert!(md.contains("| sexual_explicit | 20 | 4 | "), "{md}");
    let curves = read(d, "t.curves.csv");
    for a in ["severe_toxicity,0.75,", "sexual_explicit,0.8,"] {
        assert!(
            curves
                .lines()
                .any(|l| l.starts_with(a) && l.ends_with(",1")),
            "{a}\n{curves}"
        );
    }
}

#[test]
fn a_scores_file_from_before_model_v2_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "labels.csv", "id,text,toxicity\na,x,1\nb,y,0\n");
    let old = "id,thread_id,parent_id,depth,author,sentiment,sentiment_negative,sentiment_neutral,sentiment_positive,toxicity,insult,threat,obscene,identity_attack,stance,stance_favor,stance_against,stance_none,model,text";
    write(
        d,
        "scores.csv",
        &format!("{old}\na,t,,0,u,neutral,0,1,0,0.9,0,0,0,0,none,0,0,1,m,x\n"),
    );
    tune(d, &["--labels", "labels.csv", "--scores", "scores.csv", "-o", "t.toml"])
        .expect(2)
        .stderr_has("scores.csv: the header has no `severe_toxicity` column (found: id, thread_id, ")
        .stderr_has("): written before Model v2 added severe_toxicity and sexual_explicit; score the comments again with `threadlens score`");
    assert!(!d.join("t.toml").exists());
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
            "c{i},t,,0,a,neutral,0,1,0,{},0,{},0,0,0,0,none,0,0,1,m,x",
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
    let threat = Attribute::Threat.default_threshold();
    let toxicity = Attribute::Toxicity.default_threshold();
    run.stderr_has(&format!("warning: threat: no positive labels among 40 comments: cannot tune; analyze uses the default {threat}"))
        .stderr_has(&format!("warning: toxicity: all 40 comments are labelled positive: with no negatives, ROC AUC and precision cannot be judged and any threshold would look perfect; not tuned, analyze uses the default {toxicity}"));
    let t = Thresholds::load(&d.join("t.toml")).unwrap();
    assert_eq!((t.threat.clone(), t.get(Attribute::Threat)), (None, threat));
    // Regression: an all-positive attribute got threshold 0.0, so analyze flagged everything.
    assert_eq!(
        (t.toxicity.clone(), t.get(Attribute::Toxicity)),
        (None, toxicity)
    );
    let toml = read(d, "t.toml");
    for note in [
        format!("# threat: not tuned (no positive labels among 40); analyze uses the default {threat}."),
        format!("# toxicity: not tuned (no negative labels among 40); analyze uses the default {toxicity}."),
    ] {
        assert!(toml.contains(&note), "{toml}");
    }
    let md = read(d, "t.md");
    assert!(
        md.contains(&format!(
            "| threat | 40 | 0 | undefined | undefined | not tuned (default {threat}) |"
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| toxicity | 40 | 40 | undefined | 1.000 | not tuned (default {toxicity}) |"
        )),
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
        "{SCORE_HEADER}\na,t,,0,u,neutral,0,1,0,0.9,0,0,0,0,0,0,none,0,0,1,m,x\nc,t,,0,u,neutral,0,1,0,oops,0,0,0,0,0,0,none,0,0,1,m,x\n"
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
        ("id,text,flag\n1,x,1\n", "threadlens: the only labelled comment in labels.csv has no score in scores.csv; check that the ids match"),
        ("id,text,flag\n1,x,1\n2,y,0\n", "threadlens: none of the 2 labelled comments in labels.csv has a score in scores.csv"),
        // Regression: every row rejected said "none of the 0 labelled comments …".
        ("id,text,flag\na,x,maybe\nb,y,2\n", "threadlens: labels.csv: no usable labelled rows (2 rows rejected, each listed above)"),
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

#[test]
fn the_mit_notice_of_the_davidson_rows_travels_with_the_sample() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples");
    let notice = std::fs::read_to_string(dir.join("LICENSE-davidson")).unwrap();
    assert!(notice.starts_with("MIT License\n\nCopyright (c) 2017 Tom Davidson\n"));
    assert!(notice.contains("The above copyright notice and this permission notice shall be included in all\ncopies or substantial portions of the Software."));
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    assert!(sources.contains("[`LICENSE-davidson`](LICENSE-davidson)"));
}
