//! `threadlens score` and `threadlens analyze` run as a moderator runs them: the built binary on
//! the bundled seeds and on small hostile inputs, in a temp directory, with the real models.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SPUTNIK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/seeds/sputnik-trump-putin-with-comments.txt"
);
const THEHILL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/seeds/thehill-trump-putin-article.txt"
);

mod common;
use common::{parse_csv, read_csv, threadlens};
use threadlens::score::calls::{call, label, ArticleModel, StanceCalls};
use threadlens::score::heads::{REPLY_LABELS, STANCE_LABELS};

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

const STANCE_P: [&str; 3] = ["stance_favor", "stance_against", "stance_none"];
const REPLY_P: [&str; 3] = ["reply_agree", "reply_disagree", "reply_neutral"];

/// The stance thresholds installed in the checkout's models/heads (stance v3).
fn installed_calls(article: ArticleModel) -> StanceCalls {
    let heads = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/heads");
    StanceCalls::load(
        &threadlens::score::models::HeadsFiles::read(&heads).unwrap(),
        article,
    )
}

fn most_likely(p: [f64; 3]) -> usize {
    threadlens::score::heads::argmax(&f32s(p))
}

fn f32s(p: [f64; 3]) -> [f32; 3] {
    p.map(|x| x as f32)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn analyze_sputnik_writes_every_report() {
    let d = tmp();
    let out: PathBuf = d.path().join("out");
    threadlens(
        d.path(),
        &["analyze", SPUTNIK, "-o", "out", "--quiet"],
        None,
    )
    .expect(0);
    for f in [
        "comments.csv",
        "queue.csv",
        "threads.csv",
        "authors.csv",
        "summary.md",
        "summary.html",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let (h, rows) = read_csv(&out.join("comments.csv"));
    assert_eq!(rows.len(), 18, "every comment exactly once");
    let toxicity = [
        "toxicity",
        "insult",
        "threat",
        "obscene",
        "identity_attack",
        "severe_toxicity",
        "sexual_explicit",
    ];
    let at = col(&h, "sentiment_positive") + 1;
    assert_eq!(h[at..at + 7], toxicity, "{h:?}");
    assert_eq!(h[at + 7], "stance");
    assert_eq!(
        h[h.len() - 10..],
        [
            "flagged",
            "reasons",
            "status",
            "points",
            "kind",
            "lang",
            "time",
            "time_raw",
            "permalink",
            "quoted"
        ]
    );
    let ids: std::collections::HashSet<&String> = rows.iter().map(|r| &r[col(&h, "id")]).collect();
    assert_eq!(ids.len(), 18);
    for r in &rows {
        let p: f32 = [
            "sentiment_negative",
            "sentiment_neutral",
            "sentiment_positive",
        ]
        .iter()
        .map(|c| r[col(&h, c)].parse::<f32>().unwrap())
        .sum();
        assert!((p - 1.0).abs() < 1e-3, "sentiment probabilities sum to {p}");
        assert!(
            !r[col(&h, "stance")].is_empty(),
            "the page carries an article, so stance is set"
        );
    }
    let (h, threads) = read_csv(&out.join("threads.csv"));
    assert_eq!(threads.len(), 8);
    let sizes: usize = threads
        .iter()
        .map(|r| r[col(&h, "size")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(sizes, 18);
    let (h, authors) = read_csv(&out.join("authors.csv"));
    let dvd = authors
        .iter()
        .find(|r| r[col(&h, "author")] == "dvdgrg09")
        .expect("dvdgrg09 listed");
    assert_eq!(dvd[col(&h, "author_inferred")], "1");
    assert_eq!(dvd[col(&h, "replies_received")], "3");
    let (h, queue) = read_csv(&out.join("queue.csv"));
    let at = col(&h, "text") + 1;
    assert_eq!(h[at..at + 7], toxicity, "{h:?}");
    assert_eq!(h[at + 7], "parent_id");
    let sev: Vec<f32> = queue
        .iter()
        .map(|r| r[col(&h, "severity")].parse().unwrap())
        .collect();
    assert!(
        sev.windows(2).all(|w| w[0] >= w[1]),
        "most severe first: {sev:?}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("Trump, Putin Agree on Need for Cooperation in Fighting Terrorism"),
        "{md}"
    );
    assert!(md.contains("Stance toward the article"));
    // Stance says how many comments have a known stance, and where the rule for "known" is.
    assert!(
        md.contains("comments have a known stance toward the article"),
        "{md}"
    );
    let page = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(page.contains("comments have a known stance toward the article"));
    assert!(md.contains("stance v3") && page.contains("stance v3"));
    assert!(md.contains("Integrity of the threads"));
}

#[test]
fn both_seeds_in_one_run_give_a_table_of_articles() {
    let d = tmp();
    threadlens(
        d.path(),
        &["analyze", SPUTNIK, THEHILL, "-o", "out", "--quiet"],
        None,
    )
    .expect(0);
    let md = std::fs::read_to_string(d.path().join("out/summary.md")).unwrap();
    let table_rows = md.lines().filter(|l| l.starts_with("| [")).count();
    assert_eq!(table_rows, 2, "{md}");
    assert!(md.contains("No comments on this article."), "{md}");
}

#[test]
fn article_without_comments_gives_a_valid_report() {
    let d = tmp();
    let run = threadlens(d.path(), &["analyze", THEHILL, "-o", "out"], None).expect(0);
    assert!(run.stderr.contains("no comments"), "{}", run.stderr);
    let (_, rows) = read_csv(&d.path().join("out/comments.csv"));
    assert!(rows.is_empty());
    let md = std::fs::read_to_string(d.path().join("out/summary.md")).unwrap();
    assert!(
        md.contains("No comments to score.") && md.contains("none of them has comments"),
        "{md}"
    );
}

#[test]
fn empty_csv_gives_a_valid_empty_report() {
    let d = tmp();
    std::fs::write(d.path().join("empty.csv"), "id,text\n").unwrap();
    // A header-only table reads no comment: the reports are written, empty, and the file is
    // named in a warning with status 1, as an empty file is (never a silent success).
    let run = threadlens(
        d.path(),
        &["analyze", "empty.csv", "-o", "out", "--quiet"],
        None,
    )
    .expect(1);
    assert!(
        run.stderr
            .contains("empty.csv: no comments read: read as csv")
            && run.stderr.contains("header only"),
        "{}",
        run.stderr
    );
    let (h, rows) = read_csv(&d.path().join("out/queue.csv"));
    assert!(rows.is_empty());
    assert!(h.contains(&"reasons".to_string()));
    assert!(d.path().join("out/summary.html").is_file());
}

/// A zero-byte (or whitespace-only) file is not a header-only table: the reports are still
/// written, empty, but the file is named in a warning and the status is 1, as for rejects.
#[test]
fn empty_file_gives_a_valid_empty_report_a_warning_and_status_1() {
    let d = tmp();
    std::fs::write(d.path().join("x.csv"), "").unwrap();
    let run = threadlens(
        d.path(),
        &["analyze", "x.csv", "-o", "out", "--quiet"],
        None,
    )
    .expect(1);
    assert!(
        run.stderr
            .contains("threadlens: warning: x.csv: the file is empty (0 bytes); no comments read"),
        "{}",
        run.stderr
    );
    let (h, rows) = read_csv(&d.path().join("out/queue.csv"));
    assert!(rows.is_empty() && h.contains(&"reasons".to_string()));
    assert!(d.path().join("out/summary.html").is_file());
    let run = threadlens(d.path(), &["score", "-", "--quiet"], Some(" \n")).expect(1);
    assert!(
        run.stderr
            .contains("threadlens: warning: <stdin>: the file is empty"),
        "{}",
        run.stderr
    );
    let mut r = csv::Reader::from_reader(run.stdout.as_bytes());
    assert!(r.headers().unwrap().iter().any(|h| h == "toxicity"));
    assert_eq!(r.records().count(), 0);
}

const HOSTILE: &str = "id,parent_id,author,text,time,permalink\n\
1,,=cmd|' /C calc'!A0,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",1439801151,https://x.example/c/1\n\
2,1,mallory,<script>document.title='pwned'</script> you are a stupid idiot,-1+2,=HYPERLINK(\"\"http://evil.example\"\")\n\
3,1,eve,\"<img src=x onerror=\"\"document.title='pwned'\"\"> @everyone\",,\n\
4,3,bob,+1 -1 @SUM(A1:A2),,\n\
5,1,zed,you are a stupid idiot,,https://x.example/c/5\n\
6,1,kim,you are a stupid idiot and a moron,,javascript:alert(1)\n";

#[test]
fn csv_cells_are_spreadsheet_safe_and_html_is_escaped() {
    let d = tmp();
    std::fs::write(d.path().join("hostile.csv"), HOSTILE).unwrap();
    threadlens(
        d.path(),
        &[
            "analyze",
            "hostile.csv",
            "-o",
            "out",
            "--quiet",
            "--topic",
            "moderation",
        ],
        None,
    )
    .expect(0);
    // The time and link of each comment reach comments.csv and the queue, as ISO 8601 with
    // the raw value beside it.
    let (h, rows) = read_csv(&d.path().join("out/comments.csv"));
    let first = rows.iter().find(|r| r[col(&h, "id")] == "1").unwrap();
    assert_eq!(
        [
            &first[col(&h, "time")],
            &first[col(&h, "time_raw")],
            &first[col(&h, "permalink")]
        ],
        [
            "2015-08-17T08:45:51Z",
            "1439801151",
            "https://x.example/c/1"
        ]
    );
    let (h, rows) = read_csv(&d.path().join("out/queue.csv"));
    let second = rows
        .iter()
        .find(|r| r[col(&h, "id")] == "2")
        .expect("2 is queued");
    assert_eq!(
        [&second[col(&h, "time")], &second[col(&h, "time_raw")]],
        ["", "'-1+2"]
    );
    assert!(second[col(&h, "permalink")].starts_with("'=HYPERLINK"));
    for f in ["comments.csv", "queue.csv", "threads.csv", "authors.csv"] {
        let (_, rows) = read_csv(&d.path().join("out").join(f));
        for cell in rows.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{f}: formula-looking cell {cell:?}"
            );
        }
    }
    let html = std::fs::read_to_string(d.path().join("out/summary.html")).unwrap();
    // Queued comments link to their site by their permalink, only where it is http(s).
    assert!(
        html.contains("<a href=\"https://x.example/c/5\" rel=\"noopener noreferrer\">5</a>"),
        "{html}"
    );
    assert!(!html.contains("javascript:"), "a script link in HTML");
    let md = std::fs::read_to_string(d.path().join("out/summary.md")).unwrap();
    assert!(md.contains("| [5](<https://x.example/c/5>) |"), "{md}");
    assert!(!html.contains("<script>document"), "raw script tag in HTML");
    assert!(!html.contains("<img src=x"), "raw img tag in HTML");
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&lt;img"),
        "escaped text shown literally"
    );
}

/// Headless chromium without network, first-run or background work.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

#[test]
fn summary_html_runs_no_script_in_a_real_browser() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        eprintln!("skipping: chromium is not installed (apt-get install chromium) — the HTML escaping is still checked by csv_cells_are_spreadsheet_safe_and_html_is_escaped");
        return;
    };
    let d = tmp();
    std::fs::write(d.path().join("hostile.csv"), HOSTILE).unwrap();
    threadlens(
        d.path(),
        &[
            "analyze",
            "hostile.csv",
            "-o",
            "out",
            "--quiet",
            "--topic",
            "moderation",
        ],
        None,
    )
    .expect(0);
    let page = d.path().join("out/summary.html");
    let out = Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!(
            "--user-data-dir={}",
            d.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<title>threadlens summary</title>"),
        "a script changed the title or the page did not load: {dom:.400}"
    );
    // The injected markup is text, not elements: the parsed DOM has no script or img element.
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "injected markup became elements: {dom:.2000}"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the script text is shown literally"
    );
    // A screenshot of the rendered page, kept under target/ for a person to look at: the
    // hostile comments must show as text. The test checks that a real picture was drawn.
    let shot_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-check");
    std::fs::create_dir_all(&shot_dir).unwrap();
    let shot = shot_dir.join("summary-hostile.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .args(["--hide-scrollbars", "--window-size=1100,1800"])
        .arg(format!(
            "--user-data-dir={}",
            d.path().join("profile2").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}); chromium said: {}",
            shot.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot is not a rendered page ({} bytes)",
        png.len()
    );
    eprintln!("screenshot of the hostile summary: {}", shot.display());
}

/// At 1280 px the summary does not scroll sideways, even with a long unbroken comment and id
/// (issue 37 item 7). Measured in Chromium: a page beside the report loads it in a 1280 px
/// frame and writes the frame's scroll and client widths into its own title.
#[test]
fn summary_html_fits_1280_px_without_sideways_scroll() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        eprintln!("skipping: chromium is not installed (apt-get install chromium)");
        return;
    };
    let d = tmp();
    let long = "x".repeat(600);
    std::fs::write(
        d.path().join("long.csv"),
        format!("id,parent_id,text\n{long},,You are an idiot {long}\nb,{long},and you are a moron too\n"),
    )
    .unwrap();
    threadlens(
        d.path(),
        &["analyze", "long.csv", "-o", "out", "--quiet"],
        None,
    )
    .expect(0);
    std::fs::write(
        d.path().join("out/measure.html"),
        "<html><head><title>pending</title></head><body style=margin:0>\
         <iframe id=f src=summary.html style=width:1280px;height:900px;border:0></iframe>\
         <script>document.getElementById('f').onload = function () {\
           var e = this.contentDocument.documentElement;\
           document.title = 'widths ' + e.scrollWidth + ' ' + e.clientWidth; };</script>\
         </body></html>",
    )
    .unwrap();
    let out = Command::new(chromium)
        .args(CHROMIUM_FLAGS)
        .args([
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--window-size=1300,1000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            d.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!(
            "file://{}",
            d.path().join("out/measure.html").display()
        ))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap_or("");
    let widths: Vec<u32> = title
        .strip_prefix("widths ")
        .unwrap_or_else(|| panic!("the frame was not measured: {title:?} {dom:.300}"))
        .split(' ')
        .map(|w| w.parse().unwrap())
        .collect();
    assert!(
        widths[0] <= widths[1],
        "scroll width {} > client width {}",
        widths[0],
        widths[1]
    );
}

#[test]
fn score_is_byte_identical_across_runs_and_streams_stdin_to_stdout() {
    let d = tmp();
    let input =
        "id,text\na,I love this article\nb,You are a disgusting idiot\nc,I love this article\n";
    let first = threadlens(
        d.path(),
        &["score", "-", "--quiet", "--topic", "this article"],
        Some(input),
    )
    .expect(0);
    let second = threadlens(
        d.path(),
        &["score", "-", "--quiet", "--topic", "this article"],
        Some(input),
    )
    .expect(0);
    assert_eq!(first.stdout, second.stdout);
    let mut r = csv::Reader::from_reader(first.stdout.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        h.join(","),
        "id,thread_id,parent_id,depth,author,sentiment,sentiment_negative,sentiment_neutral,sentiment_positive,toxicity,insult,threat,obscene,identity_attack,severe_toxicity,sexual_explicit,stance,stance_favor,stance_against,stance_none,stance_source,reply_stance,reply_agree,reply_disagree,reply_neutral,model,text"
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    // Identical texts get identical scores (sentiment … model); the insult scores as more
    // toxic than the praise.
    assert_eq!(
        rows[0].iter().skip(5).take(16).collect::<Vec<_>>(),
        rows[2].iter().skip(5).take(16).collect::<Vec<_>>()
    );
    for c in 5..21 {
        assert!(!rows[0][c].is_empty(), "column {} is empty", h[c]);
    }
    let tox = |r: &csv::StringRecord| r[9].parse::<f32>().unwrap();
    assert!(
        tox(&rows[1]) > tox(&rows[0]) + 0.3,
        "{} vs {}",
        tox(&rows[1]),
        tox(&rows[0])
    );
    assert_eq!(&rows[0][5], "positive");
}

#[test]
fn score_without_article_leaves_stance_empty() {
    let d = tmp();
    let run = threadlens(
        d.path(),
        &["score", "-", "--quiet", "--format", "csv"],
        Some("text\nhello there\n"),
    )
    .expect(0);
    let mut r = csv::Reader::from_reader(run.stdout.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let row = r.records().next().unwrap().unwrap();
    for c in ["stance", "stance_favor", "stance_against", "stance_none"] {
        assert_eq!(&row[col(&h, c)], "", "{c}");
    }
    for c in ["identity_attack", "severe_toxicity", "sexual_explicit"] {
        let p: f32 = row[col(&h, c)].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{c}: {p}");
    }
    assert_eq!(&row[0], "L2", "ids are synthesised from line numbers");
}

/// A `sexual_explicit` threshold of 0 flags every comment with SEXUALLY_EXPLICIT, and one of
/// `severe_toxicity` at 0 with SEVERE_TOXICITY: both are read from the thresholds file.
#[test]
fn the_model_v2_attributes_flag_with_their_own_reason_codes() {
    let d = tmp();
    std::fs::write(
        d.path().join("t.toml"),
        "[severe_toxicity]\nthreshold = 0\n[sexual_explicit]\nthreshold = 0\n",
    )
    .unwrap();
    let args = [
        "analyze",
        SPUTNIK,
        "-o",
        "out",
        "--quiet",
        "--thresholds",
        "t.toml",
    ];
    threadlens(d.path(), &args, None).expect(0);
    let (h, rows) = read_csv(&d.path().join("out/comments.csv"));
    let in_scope: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| {
            matches!(&*r[col(&h, "status")], "" | "approved" | "pending")
                && !r[col(&h, "text")].trim().is_empty()
        })
        .collect();
    assert!(!in_scope.is_empty());
    for r in in_scope {
        let reasons: Vec<&str> = r[col(&h, "reasons")].split(' ').collect();
        assert!(reasons.contains(&"SEVERE_TOXICITY"), "{reasons:?}");
        assert!(reasons.contains(&"SEXUALLY_EXPLICIT"), "{reasons:?}");
        assert_eq!(&r[col(&h, "flagged")], "1");
    }
    let md = std::fs::read_to_string(d.path().join("out/summary.md")).unwrap();
    assert!(
        md.contains("- sexual\\_explicit ≥ 0 (thresholds file)\n"),
        "{md}"
    );
    assert!(
        md.contains("- severe\\_toxicity ≥ 0 (thresholds file)\n"),
        "{md}"
    );
    assert!(md.contains("flag (highest of the seven scores"), "{md}");
}

/// The detected language is in comments.csv and the summary; only with `[language]` on is a
/// comment in another language queued as UNSCORED_LANGUAGE instead of judged by its scores.
#[test]
fn comments_in_other_languages_are_reported_and_unscored_only_on_request() {
    let d = tmp();
    std::fs::write(
        d.path().join("c.csv"),
        "id,text\n\
         en,I think the council made the right call on the new bike lanes this spring.\n\
         de,\"Das ist wirklich der dümmste Kommentar, den ich heute gelesen habe.\"\n",
    )
    .unwrap();
    let lang_and_reasons = |out: &str| {
        let (h, rows) = read_csv(&d.path().join(out).join("comments.csv"));
        rows.iter()
            .map(|r| (r[col(&h, "lang")].clone(), r[col(&h, "reasons")].clone()))
            .collect::<Vec<_>>()
    };
    threadlens(d.path(), &["analyze", "c.csv", "-o", "a", "--quiet"], None).expect(0);
    let got = lang_and_reasons("a");
    assert_eq!(
        (got[0].0.as_str(), got[1].0.as_str()),
        ("eng", "deu"),
        "{got:?}"
    );
    assert!(!got[1].1.contains("UNSCORED_LANGUAGE"), "{got:?}");
    let md = std::fs::read_to_string(d.path().join("a/summary.md")).unwrap();
    assert!(
        md.contains("**1 comment(s) read as another language** (deu 1)"),
        "{md}"
    );
    assert!(md.contains("UNSCORED\\_LANGUAGE: off"), "{md}");
    // Two single-comment threads: nothing to list as heated.
    assert!(
        md.contains("No thread here has two comments or more."),
        "{md}"
    );
    assert!(!md.contains("| thread | size |"), "{md}");

    std::fs::write(d.path().join("t.toml"), "[language]\nunscored = true\n").unwrap();
    let args = [
        "analyze",
        "c.csv",
        "-o",
        "b",
        "--quiet",
        "--thresholds",
        "t.toml",
    ];
    threadlens(d.path(), &args, None).expect(0);
    let got = lang_and_reasons("b");
    assert_eq!(got[1].1, "UNSCORED_LANGUAGE", "{got:?}");
    assert!(!got[0].1.contains("UNSCORED_LANGUAGE"), "{got:?}");
    let (h, q) = read_csv(&d.path().join("b/queue.csv"));
    assert_eq!(q.last().map(|r| r[col(&h, "id")].as_str()), Some("de"));
}

/// A WordPress export with pingbacks: they are listed (`kind`), unscored and counted apart,
/// and the CLI line and the summary give the same thread count; `--score-pingbacks` scores
/// them.
#[test]
fn pingbacks_are_listed_apart_and_unscored_unless_asked() {
    let wxr = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/threads/samples/wordpress/cc-labs-wxr.xml"
    );
    let d = tmp();
    let run = threadlens(d.path(), &["analyze", wxr, "-o", "a"], None).expect(0);
    assert!(
        run.stderr.contains(
            "119 comments in 116 threads, 0 flagged; 62 pingbacks/trackbacks listed apart"
        ),
        "{}",
        run.stderr
    );
    let md = std::fs::read_to_string(d.path().join("a/summary.md")).unwrap();
    assert!(md.contains("119 comments in 116 threads across"), "{md}");
    let (h, rows) = read_csv(&d.path().join("a/comments.csv"));
    let pingbacks: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col(&h, "kind")] == "pingback")
        .collect();
    assert_eq!(pingbacks.len(), 62);
    for r in &pingbacks {
        assert_eq!(
            (
                r[col(&h, "toxicity")].as_str(),
                r[col(&h, "sentiment")].as_str()
            ),
            ("", "")
        );
        assert_eq!(r[col(&h, "flagged")], "0");
    }
    let args = ["analyze", wxr, "-o", "b", "--quiet", "--score-pingbacks"];
    threadlens(d.path(), &args, None).expect(0);
    let (h, rows) = read_csv(&d.path().join("b/comments.csv"));
    let scored = rows
        .iter()
        .filter(|r| r[col(&h, "kind")] == "pingback")
        .all(|r| r[col(&h, "toxicity")].parse::<f32>().is_ok());
    assert!(scored);
}

#[test]
fn bad_thresholds_file_is_a_located_error() {
    let d = tmp();
    std::fs::write(d.path().join("t.toml"), "[toxicity]\nthreshold = 1.5\n").unwrap();
    let run = threadlens(
        d.path(),
        &["analyze", SPUTNIK, "-o", "out", "--thresholds", "t.toml"],
        None,
    )
    .expect(2);
    assert!(run.stderr.contains("t.toml"), "{}", run.stderr);
}

#[test]
fn output_into_a_closed_pipe_exits_0_without_panicking() {
    // Regression: `threadlens models | head -1` panicked in println! on the broken pipe.
    for args in [
        &["models", "--no-check"][..],
        &["score", SPUTNIK, "--quiet"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_threadlens"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        drop(child.stdout.take()); // the reader goes away before anything is written
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Issue 17, case 9: `score -o FILE` is spreadsheet-safe without a flag (full-width signs,
/// cells that were formulas in the input); stdout stays raw for pipelines; `--raw-cells` opts out.
#[test]
fn score_to_a_file_is_spreadsheet_safe_by_default() {
    let d = tmp();
    std::fs::write(
        d.path().join("in.csv"),
        "id,parent_id,author,text\n=1,,+ann,＝HYPERLINK(\"x\")\n2,=1,bob,  @SUM(A1)\n",
    )
    .unwrap();
    threadlens(
        d.path(),
        &["score", "in.csv", "-o", "safe.csv", "--quiet"],
        None,
    )
    .expect(0);
    let (h, rows) = read_csv(&d.path().join("safe.csv"));
    let (id, author, parent, text) = (
        col(&h, "id"),
        col(&h, "author"),
        col(&h, "parent_id"),
        col(&h, "text"),
    );
    assert_eq!(rows[0][id], "'=1");
    assert_eq!(rows[0][author], "'+ann");
    assert_eq!(rows[0][text], "'＝HYPERLINK(\"x\")");
    assert_eq!(
        (rows[1][parent].as_str(), rows[1][text].as_str()),
        ("'=1", "'@SUM(A1)")
    );
    let run = threadlens(d.path(), &["score", "in.csv", "--quiet"], None).expect(0);
    assert!(run.stdout.contains("\n=1,"), "{}", run.stdout);
    threadlens(
        d.path(),
        &["score", "in.csv", "-o", "raw.csv", "--raw-cells", "--quiet"],
        None,
    )
    .expect(0);
    let (_, rows) = read_csv(&d.path().join("raw.csv"));
    assert_eq!(rows[0][id], "=1");
}

/// Issue 17, case 13: a symlink planted in the output folder is replaced, never followed; a
/// stale chart goes; an unwritable destination fails before any scoring.
#[test]
fn analyze_never_writes_through_a_planted_symlink() {
    let d = tmp();
    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::create_dir_all(d.path().join("out/charts")).unwrap();
    std::os::unix::fs::symlink(&victim, d.path().join("out/comments.csv")).unwrap();
    // A chart threadlens never wrote stays (issue 34 case 14); one an earlier run wrote and
    // this run does not draw goes.
    std::fs::write(d.path().join("out/charts/mine.svg"), "<svg/>").unwrap();
    std::fs::write(d.path().join("out/charts/stale-old.svg"), "<svg/>").unwrap();
    std::fs::write(
        d.path().join("out/charts/.threadlens-written"),
        "stale-old.svg\n",
    )
    .unwrap();
    threadlens(
        d.path(),
        &["analyze", SPUTNIK, "-o", "out", "--quiet"],
        None,
    )
    .expect(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(d.path().join("out/comments.csv")).unwrap();
    assert!(meta.is_file() && !meta.is_symlink());
    assert!(!d.path().join("out/charts/stale-old.svg").exists());
    assert!(d.path().join("out/charts/mine.svg").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d.path().join("out"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".threadlens"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    std::fs::write(d.path().join("plain"), "x").unwrap();
    let run = threadlens(
        d.path(),
        &["score", SPUTNIK, "-o", "plain/x.csv", "--quiet"],
        None,
    )
    .expect(2);
    assert!(run.stderr.contains("plain"), "{}", run.stderr);
    assert!(!run.stderr.contains("scored"), "{}", run.stderr);
}

/// `--stance-model pair` reads target and comment together and adds each reply's stance
/// toward its parent; roots get no reply stance, and the default (embedding) mode none at all.
#[test]
fn pair_stance_model_adds_reply_stance_to_replies_only() {
    let d = tmp();
    let input = "id,parent_id,text\na,,The city should build the new bridge now.\nb,a,\"I agree completely, it is long overdue.\"\nc,a,\"No, that is a waste of money.\"\n";
    let args = |mode: &'static str| {
        vec![
            "score",
            "-",
            "--quiet",
            "--topic",
            "the new bridge",
            "--stance-model",
            mode,
        ]
    };
    let out = threadlens(d.path(), &args("pair"), Some(input)).expect(0);
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert!(!row[col(&h, "stance")].is_empty());
    }
    assert_eq!(&rows[0][col(&h, "stance_source")], "model");
    // The reply model reads these two plain replies as a person would (the most likely reply
    // stance), and the thread rule (on since stance v2.6) only ever copies the parent's
    // probabilities, swapped for a disagreeing reply, onto a reply that is sure of its stance
    // toward it. The labels are what the installed thresholds assert (stance v3).
    let p = |row: &csv::StringRecord, c: &str| row[col(&h, c)].parse::<f64>().unwrap();
    let three = |row: &csv::StringRecord, cs: [&str; 3]| cs.map(|c| p(row, c));
    assert_eq!(most_likely(three(&rows[1], REPLY_P)), 0, "agree");
    assert_eq!(most_likely(three(&rows[2], REPLY_P)), 1, "disagree");
    assert_eq!(most_likely(three(&rows[2], STANCE_P)), 1, "against");
    let calls = installed_calls(ArticleModel::Pair);
    for row in &rows {
        assert_eq!(
            &row[col(&h, "stance")],
            label(
                call(&f32s(three(row, STANCE_P)), &calls.article),
                &STANCE_LABELS
            )
        );
    }
    for row in &rows[1..] {
        assert_eq!(
            &row[col(&h, "reply_stance")],
            label(
                call(&f32s(three(row, REPLY_P)), &calls.reply),
                &REPLY_LABELS
            )
        );
    }
    for row in &rows[1..] {
        if &row[col(&h, "stance_source")] != "thread" {
            assert_eq!(&row[col(&h, "stance_source")], "model");
            continue;
        }
        let (fa, ag) = match most_likely(three(row, REPLY_P)) {
            0 => ("stance_favor", "stance_against"),
            1 => ("stance_against", "stance_favor"),
            other => panic!("inferred under reply stance {other}"),
        };
        assert!(p(row, "reply_agree").max(p(row, "reply_disagree")) >= 0.5);
        assert_ne!(
            most_likely(three(&rows[0], STANCE_P)),
            2,
            "the parent is not none"
        );
        assert_eq!(p(row, fa), p(&rows[0], "stance_favor"));
        assert_eq!(p(row, ag), p(&rows[0], "stance_against"));
        assert_eq!(p(row, "stance_none"), p(&rows[0], "stance_none"));
    }
    assert!(
        rows[0][col(&h, "reply_stance")].is_empty(),
        "a root has no parent"
    );
    for row in &rows[1..] {
        assert!(
            ["agree", "disagree", "neutral", "unclear"].contains(&&row[col(&h, "reply_stance")])
        );
        let sum: f64 = ["reply_agree", "reply_disagree", "reply_neutral"]
            .iter()
            .map(|c| row[col(&h, c)].parse::<f64>().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 2e-3, "{sum}");
    }
    let out = threadlens(d.path(), &args("embedding"), Some(input)).expect(0);
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    for row in r.records().map(Result::unwrap) {
        assert!(row[col(&h, "reply_stance")].is_empty());
        assert_eq!(&row[col(&h, "stance_source")], "model");
    }
}

/// `--stance-model embedding-reply` keeps the one-pass head's stance toward the article, to the
/// digit, and adds the reply model's stance of each reply toward its parent (the same as the
/// pair mode's, which reads replies with the same model); no stance is inferred through the
/// thread (`pipeline::THREAD_RULE_ONE_PASS`).
#[test]
fn embedding_reply_adds_reply_stance_and_leaves_article_stance_alone() {
    let d = tmp();
    let input = "id,parent_id,text\na,,The city should build the new bridge now.\nb,a,\"I agree completely, it is long overdue.\"\nc,a,\"No, that is a waste of money.\"\n";
    let rows = |mode: &'static str| {
        let args = [
            "score",
            "-",
            "--quiet",
            "--precision",
            "fp32",
            "--topic",
            "the new bridge",
            "--stance-model",
            mode,
        ];
        let out = threadlens(d.path(), &args, Some(input)).expect(0);
        let (h, rows) = parse_csv(&out.stdout);
        let get =
            |c: &str| -> Vec<String> { rows.iter().map(|row| row[col(&h, c)].clone()).collect() };
        [
            "stance_favor",
            "stance_against",
            "stance_none",
            "stance_source",
            "reply_stance",
            "reply_agree",
            "reply_disagree",
            "reply_neutral",
        ]
        .map(get)
    };
    let [fa, ag, no, source, reply, agree, rd, rn] = rows("embedding-reply");
    let [fa1, ag1, no1, _, reply1, ..] = rows("embedding");
    let [_, _, _, _, reply2, agree2, ..] = rows("pair");
    let ra = &agree;
    assert_eq!(
        (&fa, &ag, &no),
        (&fa1, &ag1, &no1),
        "article stance unchanged"
    );
    assert!(source.iter().all(|s| s == "model"), "{source:?}");
    assert!(reply1.iter().all(String::is_empty));
    // the labels the installed thresholds give (a root has none)
    let calls = installed_calls(ArticleModel::OnePass);
    for k in 1..3 {
        let probs = [&ra[k], &rd[k], &rn[k]].map(|x| x.parse::<f64>().unwrap());
        assert_eq!(
            reply[k],
            label(call(&f32s(probs), &calls.reply), &REPLY_LABELS)
        );
    }
    assert_eq!(reply[0], "");
    assert_eq!(
        (&reply, &agree),
        (&reply2, &agree2),
        "the pair mode's reply model"
    );
}

/// Without `--stance-model`, `analyze` reads stance with `DEFAULT_STANCE_MODEL` (chosen by the
/// rule of models/README.md, amendment stance v2.7) and `score` with the one-pass head: reply
/// stance appears exactly where the pair model was used, and `analyze --help` names the default.
#[test]
fn each_command_uses_its_own_default_stance_model() {
    use threadlens::score::scorer::StanceModel;
    let d = tmp();
    let input = "id,parent_id,text\na,,The city should build the new bridge now.\nb,a,\"I agree completely, it is long overdue.\"\n";
    std::fs::write(d.path().join("in.csv"), input).unwrap();
    threadlens(
        d.path(),
        &[
            "analyze",
            "in.csv",
            "-o",
            "out",
            "--quiet",
            "--topic",
            "the new bridge",
        ],
        None,
    )
    .expect(0);
    let (h, rows) = read_csv(&d.path().join("out/comments.csv"));
    let analyzed: Vec<&str> = rows
        .iter()
        .map(|r| r[col(&h, "reply_stance")].as_str())
        .collect();
    let default = threadlens::cli::analyze::DEFAULT_STANCE_MODEL;
    let replies = default != StanceModel::Embedding;
    assert_eq!(analyzed[0], "", "a root has no parent");
    assert_eq!(!analyzed[1].is_empty(), replies, "{analyzed:?}");
    let out = threadlens(
        d.path(),
        &["score", "in.csv", "--quiet", "--topic", "the new bridge"],
        None,
    )
    .expect(0);
    let (h, rows) = parse_csv(&out.stdout);
    for row in &rows {
        assert!(
            row[col(&h, "reply_stance")].is_empty(),
            "score: one-pass head"
        );
    }
    let help = threadlens(d.path(), &["analyze", "--help"], None).expect(0);
    let name = match default {
        StanceModel::Pair => "pair",
        StanceModel::EmbeddingReply => "embedding-reply",
        StanceModel::Embedding => "embedding",
    };
    assert!(
        help.stdout
            .contains(&format!("Stance without --stance-model: {name}.")),
        "{}",
        help.stdout
    );
}

/// Issue 34 case 9: an output that is an input is refused before anything is written, by file
/// identity (`./x.csv` and a hard link are the same file), and the input is left as it was.
#[test]
fn an_output_that_would_replace_an_input_is_refused() {
    let d = tmp();
    let csv = "id,parent_id,author,text\n1,,ann,hello there\n2,1,bob,hi ann\n";
    std::fs::write(d.path().join("x.csv"), csv).unwrap();
    std::fs::hard_link(d.path().join("x.csv"), d.path().join("link.csv")).unwrap();
    for args in [
        &["score", "x.csv", "-o", "./x.csv"][..],
        &["threads", "x.csv", "-o", "link.csv"][..],
    ] {
        let run = threadlens(d.path(), args, None).expect(2);
        assert!(
            run.stderr.contains("it is the input"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("x.csv")).unwrap(),
            csv
        );
    }
    threadlens(d.path(), &["analyze", "x.csv", "-o", "out"], None).expect(0);
    let written = std::fs::read_to_string(d.path().join("out/comments.csv")).unwrap();
    let run = threadlens(
        d.path(),
        &["analyze", "out/comments.csv", "-o", "out"],
        None,
    )
    .expect(2);
    assert!(run.stderr.contains("comments.csv"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(d.path().join("out/comments.csv")).unwrap(),
        written
    );
}

/// Issue 34 case 13: an empty or blank `--api-key` is refused at start (it used to be taken,
/// and then `?key=` passed).
#[test]
fn an_empty_api_key_is_refused_at_start() {
    let d = tmp();
    for key in ["", "  "] {
        let run = threadlens(
            d.path(),
            &["serve", "--api-key", key, "--listen", "127.0.0.1:0"],
            None,
        )
        .expect(2);
        assert!(run.stderr.contains("cannot be empty"), "{}", run.stderr);
    }
}

/// Issue 34 case 17: when the disk fills up part way through writing the reports (here a file
/// size limit that summary.html passes and the others do not), the folder keeps the earlier
/// run's whole set: no file of the new run, no temporary file, no marker.
#[test]
fn a_full_disk_part_way_leaves_the_earlier_reports_whole() {
    let d = tmp();
    threadlens(
        d.path(),
        &["analyze", SPUTNIK, "-o", "out", "--quiet"],
        None,
    )
    .expect(0);
    let snapshot = |dir: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&d.path().join("out"));
    let mut csv = String::from("id,parent_id,author,text\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "{i},,user{i},another thread entirely and comment number {i}\n"
        ));
    }
    std::fs::write(d.path().join("other.csv"), csv).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 40; exec \"$0\" analyze other.csv -o out --quiet")
        .arg(env!("CARGO_BIN_EXE_threadlens"))
        .env("THREADLENS_PRECISION", "fp32")
        .current_dir(d.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the limit should stop it: {stderr}");
    assert!(stderr.contains("summary.html"), "{stderr}");
    assert_eq!(snapshot(&d.path().join("out")), before, "{stderr}");
}
