//! Integration tests for `threadlens threads`: run the built binary on the seeds, the real
//! real samples (copied from ../shared/data/threads into tests/fixtures) and small fixtures, and check the forests, the integrity
//! report and the exit statuses. On failure the helper prints command, stdout and stderr.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

// ---------------------------------------------------------------- helpers (cf. ripgrep tests/util.rs)

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn seed(name: &str) -> PathBuf {
    root().join("data/seeds").join(name)
}

/// The real exports, copied unchanged from ../shared/data/threads (provenance and licences in
/// tests/fixtures/threads/samples/SOURCES.md), so the tests need nothing outside the clone.
fn sample(rel: &str) -> PathBuf {
    root().join("tests/fixtures/threads/samples").join(rel)
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/threads").join(name)
}

/// A finished run of the binary.
struct Run {
    cmd: String,
    out: Output,
}

impl Run {
    fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Panics with the whole story unless the exit status is `want`.
    fn expect_code(self, want: i32) -> Run {
        if self.code() != want {
            self.fail(&format!("expected exit status {want}, got {}", self.code()));
        }
        self
    }

    fn fail(&self, why: &str) -> ! {
        panic!(
            "\n{why}\n\ncommand: {}\n\n--- stdout ---\n{}\n--- stderr ---\n{}\n",
            self.cmd,
            truncate(&self.stdout()),
            truncate(&self.stderr())
        );
    }

    fn check(&self, ok: bool, why: &str) {
        if !ok {
            self.fail(why);
        }
    }

    /// Parses `--as jsonl` output: the comment rows and the final summary object.
    fn jsonl(&self) -> (Vec<Value>, Value) {
        let mut rows: Vec<Value> = Vec::new();
        for line in self.stdout().lines() {
            match serde_json::from_str(line) {
                Ok(v) => rows.push(v),
                Err(e) => self.fail(&format!("bad JSON line {line:?}: {e}")),
            }
        }
        let Some(summary) = rows.pop() else {
            self.fail("no output lines")
        };
        if summary.get("integrity").is_none() {
            self.fail("last line is not the integrity summary");
        }
        (rows, summary)
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 6000 {
        return s.to_string();
    }
    let cut = (0..=6000)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}\n… ({} bytes in all)", &s[..cut], s.len())
}

fn threadlens(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let bin = env!("CARGO_BIN_EXE_threadlens");
    let mut cmd = Command::new(bin);
    cmd.arg("threads").args(args).current_dir(root());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let shown = format!("{bin} threads {}", args.join(" "));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(data).expect("write stdin");
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {shown}: {e}"));
    Run { cmd: shown, out }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn jsonl(paths: &[PathBuf], extra: &[&str]) -> Run {
    let mut args: Vec<&str> = vec!["--as", "jsonl"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| path(p)));
    threadlens(&args, None)
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// (id, parent id, thread id, depth) of every comment, in output order.
fn forest_shape(run: &Run) -> Vec<(String, String, String, u64)> {
    let rows = run.jsonl().0;
    let shape = rows.iter().map(|r| {
        let depth = r["depth"].as_u64().unwrap_or(0);
        (s(r, "id"), s(r, "parent_id"), s(r, "thread_id"), depth)
    });
    shape.collect()
}

/// id → row.
fn by_id(rows: &[Value]) -> HashMap<String, &Value> {
    rows.iter().map(|r| (s(r, "id"), r)).collect()
}

// ---------------------------------------------------------------- seeds

#[test]
fn sputnik_seed_replies_hang_under_the_right_comments() {
    let run = jsonl(&[seed("sputnik-trump-putin-with-comments.txt")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(rows.len() == 18, "18 comments");
    let roots = rows.iter().filter(|r| s(r, "parent_id").is_empty()).count();
    run.check(roots == 8, &format!("8 top-level comments, got {roots}"));
    let ids = by_id(&rows);
    let parent_author = |r: &Value| -> String {
        ids.get(&s(r, "parent_id"))
            .map(|p| s(p, "author"))
            .unwrap_or_default()
    };
    let replies_by = |author: &str| -> Vec<&Value> {
        rows.iter()
            .filter(|r| s(r, "author") == author && !s(r, "parent_id").is_empty())
            .collect()
    };

    let mut marc: Vec<String> = replies_by("marcanhalt")
        .into_iter()
        .map(&parent_author)
        .collect();
    marc.sort();
    run.check(
        marc == ["Donny", "flatzee"],
        &format!("marcanhalt replies under {marc:?}"),
    );

    let mut chot: Vec<String> = replies_by("choticastile")
        .into_iter()
        .map(&parent_author)
        .collect();
    chot.sort();
    run.check(
        chot == ["RedBanner", "anne00marie", "dc801", "dvdgrg09", "flatzee"],
        &format!("choticastile replies under {chot:?}"),
    );

    let first = &rows[0];
    run.check(
        s(first, "id") == "c1" && s(first, "author") == "dvdgrg09",
        "first comment is c1 by dvdgrg09",
    );
    run.check(
        first["author_inferred"] == true,
        "dvdgrg09 is an inferred author",
    );
    let to_dvd: Vec<&Value> = rows
        .iter()
        .filter(|r| s(r, "reply_to") == "dvdgrg09")
        .collect();
    run.check(to_dvd.len() == 3, "three replies address dvdgrg09");
    for r in &to_dvd {
        run.check(
            s(r, "parent_id") == "c1",
            &format!("{} hangs under c1", s(r, "id")),
        );
        run.check(
            s(r, "resolution") == "inferred",
            "edges to an inferred author are marked inferred",
        );
        let c = r["confidence"].as_f64().unwrap_or(-1.0);
        run.check((0.0..=1.0).contains(&c), "confidence in 0..1");
    }
    for r in rows.iter().filter(|r| s(r, "resolution") == "name") {
        run.check(
            r["confidence"].as_f64().unwrap_or(0.0) >= 0.9,
            "single-candidate name edges are confident",
        );
    }
    let texts: Vec<String> = rows.iter().map(|r| s(r, "text")).collect();
    for furniture in [
        "Show new comments",
        "Community standards",
        "Comment via",
        "Сomment",
        "Get short URL",
    ] {
        run.check(
            !texts.iter().any(|t| t.contains(furniture)),
            &format!("furniture {furniture:?} leaked into a comment"),
        );
    }
    let redbanner = rows
        .iter()
        .find(|r| s(r, "author") == "RedBanner")
        .map(|r| s(r, "text"))
        .unwrap_or_default();
    run.check(
        redbanner.contains("\n\nHopefully"),
        "multi-paragraph body kept",
    );

    let article = &summary["articles"][0];
    run.check(
        s(article, "title") == "Trump, Putin Agree on Need for Cooperation in Fighting Terrorism",
        "article title",
    );
    let body = s(article, "body");
    run.check(
        body.starts_with("In their first conversation"),
        "article body starts at the first paragraph",
    );
    for furniture in [
        "Get short URL",
        "REUTERS",
        "What to Expect",
        "Daesh, Donald Trump Jr",
        "Comment via",
        "All comments",
    ] {
        run.check(
            !body.contains(furniture),
            &format!("{furniture:?} leaked into the article body"),
        );
    }
    run.check(
        rows.iter().all(|r| s(r, "article") == s(article, "key")),
        "every comment points at the page article",
    );
    let inferred = &summary["integrity"]["inferred_authors"];
    run.check(
        inferred.as_array().map_or(0, Vec::len) == 1 && s(&inferred[0], "author") == "dvdgrg09",
        "report lists the inferred author",
    );
}

#[test]
fn thehill_seed_is_an_article_without_comments() {
    let run = jsonl(&[seed("thehill-trump-putin-article.txt")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(rows.is_empty(), "no comments");
    run.check(
        summary["integrity"]["comments"] == 0,
        "integrity counts 0 comments",
    );
    let article = &summary["articles"][0];
    run.check(
        s(article, "title") == "Trump, Putin discuss ‘coordination’ against ISIS",
        "title",
    );
    let body = s(article, "body");
    run.check(
        body.starts_with("President Trump and Russian President Vladimir Putin on Saturday"),
        "body",
    );
    run.check(
        body.ends_with("to both nations."),
        "body ends before the 'Updated' line",
    );
    // The tree view shows the article and says it has no comments, and exits 0.
    let tree = threadlens(
        &[
            "--as",
            "tree",
            path(&seed("thehill-trump-putin-article.txt")),
        ],
        None,
    )
    .expect_code(0);
    tree.check(
        tree.stdout()
            == "== thehill-trump-putin-article.txt: Trump, Putin discuss ‘coordination’ against \
                ISIS\n  (no comments)\n",
        "tree: article header and a no-comments line",
    );
}

#[test]
fn sputnik_seed_date_line_is_read_as_iso_8601() {
    // The page runs the "+3" of "GMT +3" into the "24" of "24 March 2017".
    let run = jsonl(&[seed("sputnik-trump-putin-with-comments.txt")], &[]).expect_code(0);
    let (_, summary) = run.jsonl();
    let time = s(&summary["articles"][0], "time");
    run.check(
        time == "2017-03-24T23:06+03:00",
        &format!("article time {time:?}"),
    );
}

// ---------------------------------------------------------------- times and links

/// Issue 37: every export gives its comments' times as ISO 8601 (UTC where the zone is known),
/// the value as written in `time_raw`, and each comment's own address where the export gives
/// or implies one.
#[test]
fn exports_give_iso_times_raw_times_and_permalinks() {
    let cases = [
        (
            "reddit/3hahrw_submission_comments.json",
            "cu5pebp",
            "1439801151",
            "2015-08-17T08:45:51Z",
            "https://www.reddit.com/comments/3hahrw/_/cu5pebp/",
        ),
        (
            "hackernews/hn-comments-1000-sample.jsonl",
            "33223750",
            "1665929544",
            "2022-10-16T14:12:24Z",
            "https://news.ycombinator.com/item?id=33223750",
        ),
        (
            "youtube/EZBeo_k1k-A_commentthreads.jsonl",
            "Ugxzxq55VC7KW391adN4AaABAg",
            "2019-09-04T03:28:43.000Z",
            "2019-09-04T03:28:43Z",
            "https://www.youtube.com/watch?v=EZBeo_k1k-A&lc=Ugxzxq55VC7KW391adN4AaABAg",
        ),
        (
            "wordpress/cc-labs-wxr.xml",
            "2",
            "2007-04-11 23:18:48",
            "2007-04-11T23:18:48Z",
            "http://labs.creativecommons.org/2007/04/11/wplicense-076/#comment-2",
        ),
        (
            "disqus/isso-fixture-disqus.xml",
            "8",
            "2013-10-11T06:51:33Z",
            "2013-10-11T06:51:33Z",
            "http://localhost:4000/blog/2013/02/12/redacted/index.html#comment-8",
        ),
        // Its thread is not in the export: no page to link to.
        (
            "disqus/isso-fixture-disqus.xml",
            "6",
            "2013-10-10T19:20:29Z",
            "2013-10-10T19:20:29Z",
            "",
        ),
    ];
    for (file, id, raw, iso, link) in cases {
        let run = jsonl(&[sample(file)], &[]);
        let (rows, _) = run.jsonl();
        let rows = by_id(&rows);
        let Some(row) = rows.get(id) else {
            run.fail(&format!("{file}: no comment {id}"));
        };
        let got = [s(row, "time_raw"), s(row, "time"), s(row, "permalink")];
        run.check(got == [raw, iso, link], &format!("{file} {id}: {got:?}"));
    }
    // Through the binary: --saved-at anchors a page's relative times; a bad value is refused.
    let page = root()
        .join("../shared/data/threads/html-pages/hackernews/hn-2012-ask-hn-who-is-hiring.html");
    if page.exists() {
        let run = jsonl(std::slice::from_ref(&page), &["--saved-at", "2013-01-05"]).expect_code(0);
        let (rows, _) = run.jsonl();
        let days = rows
            .iter()
            .find(|r| s(r, "time_raw") == "368 days ago")
            .expect("a row");
        run.check(s(days, "time") == "2012-01-03", &format!("{days}"));
    }
    let run = threadlens(
        &[
            "--saved-at",
            "last tuesday",
            path(&sample("reddit/3hahrw_submission_comments.json")),
        ],
        None,
    )
    .expect_code(2);
    run.check(
        run.stderr()
            .contains("cannot read \"last tuesday\" as a time"),
        "the error says why",
    );
}

// ---------------------------------------------------------------- reddit

/// (id, parent id or None) pairs from the nesting of a Reddit submission page.
fn reddit_nesting(doc: &Value) -> Vec<(String, Option<String>)> {
    fn walk(listing: &Value, parent: Option<&str>, out: &mut Vec<(String, Option<String>)>) {
        for child in listing["data"]["children"].as_array().into_iter().flatten() {
            if child["kind"] == "t1" {
                let id = s(&child["data"], "id");
                out.push((id.clone(), parent.map(String::from)));
                if child["data"]["replies"].is_object() {
                    walk(&child["data"]["replies"], Some(&id), out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&doc[1], None, &mut out);
    out
}

fn edges(rows: &[Value]) -> Vec<(String, Option<String>)> {
    rows.iter()
        .map(|r| {
            (
                s(r, "id"),
                Some(s(r, "parent_id")).filter(|p| !p.is_empty()),
            )
        })
        .collect()
}

#[test]
fn reddit_nested_submission_keeps_all_476_and_the_nesting() {
    let file = sample("reddit/3hahrw_submission_comments.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).expect("sample")).expect("json");
    let mut want = reddit_nesting(&doc);
    let run = jsonl(&[file], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(
        rows.len() == 476 && want.len() == 476,
        &format!("476 comments, got {}", rows.len()),
    );
    let mut got = edges(&rows);
    got.sort();
    want.sort();
    run.check(got == want, "edges equal the JSON nesting");
    run.check(
        rows.iter().all(|r| s(r, "resolution") != "name"),
        "no name guessing with explicit ids",
    );
    run.check(
        s(&summary["articles"][0], "title") == "Ba Dum Tsss",
        "the t3 submission is the article",
    );
    let partial = summary["integrity"]["partial_threads"]
        .as_array()
        .map_or(0, Vec::len);
    run.check(
        partial == 18,
        &format!("18 more stubs reported as partial threads, got {partial}"),
    );
}

#[test]
fn reddit_flat_ndjson_gives_the_identical_forest() {
    let nested = jsonl(&[sample("reddit/3hahrw_submission_comments.json")], &[]).expect_code(0);
    let flat = jsonl(&[sample("reddit/3hahrw_flat_pushshift_style.ndjson")], &[]).expect_code(0);
    flat.check(
        forest_shape(&nested) == forest_shape(&flat),
        "same ids, parents, threads, depths in the same order",
    );
}

/// The JSON lines `threads` writes are a comment export too: read back (as JSON comment
/// records), they give the same forest, authors and text (trimmed, as every table cell is).
#[test]
fn threads_json_lines_output_reads_back_as_the_same_forest() {
    let first = jsonl(&[sample("reddit/3hahrw_submission_comments.json")], &[]).expect_code(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let saved = dir.path().join("forest.jsonl");
    std::fs::write(&saved, &first.out.stdout).expect("write");
    let again = jsonl(&[saved], &[]).expect_code(0);
    let said = |run: &Run| -> Vec<(String, String)> {
        let rows = run.jsonl().0;
        let said = rows
            .iter()
            .map(|r| (s(r, "author"), s(r, "text").trim().to_string()));
        said.collect()
    };
    again.check(
        forest_shape(&first).len() == 476 && forest_shape(&first) == forest_shape(&again),
        "the same 476 comments and edges",
    );
    again.check(said(&first) == said(&again), "the same authors and text");
}

#[test]
fn reddit_morechildren_attach_to_their_parents_with_the_submission() {
    let more = sample("reddit/3hahrw_morechildren_responses.json");
    let run = jsonl(
        &[
            sample("reddit/3hahrw_submission_comments.json"),
            more.clone(),
        ],
        &[],
    )
    .expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(
        rows.len() == 476 + 57,
        "submission plus 57 morechildren comments",
    );
    let ids = by_id(&rows);
    let doc: Value = serde_json::from_slice(&std::fs::read(&more).expect("sample")).expect("json");
    let mut attached = 0;
    for response in doc.as_array().into_iter().flatten() {
        for thing in response["json"]["data"]["things"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = s(&thing["data"], "id");
            let parent = s(&thing["data"], "parent_id");
            let row = ids
                .get(&id)
                .unwrap_or_else(|| run.fail(&format!("{id} missing")));
            match parent.strip_prefix("t1_") {
                Some(p) if ids.contains_key(p) => {
                    run.check(s(row, "parent_id") == p, &format!("{id} under {p}"));
                    attached += 1;
                }
                Some(_) => run.check(s(row, "parent_id").is_empty(), "orphan kept as root"),
                None => run.check(s(row, "parent_id").is_empty(), "t3 parent means top-level"),
            }
        }
    }
    run.check(
        attached == 50,
        &format!("50 morechildren comments have their parent in the input, got {attached}"),
    );
    run.check(
        summary["integrity"]["duplicate_ids"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "no duplicates",
    );
}

// ---------------------------------------------------------------- XML

/// (comment_id, comment_parent) from a WXR file, by plain string splitting.
fn wxr_parents(text: &str) -> Vec<(String, String)> {
    let field = |block: &str, tag: &str| -> String {
        let open = format!("<wp:{tag}>");
        block
            .split_once(&open)
            .and_then(|(_, rest)| rest.split_once('<'))
            .map(|(v, _)| v.trim().to_string())
            .unwrap_or_default()
    };
    text.split("<wp:comment>")
        .skip(1)
        .map(|b| (field(b, "comment_id"), field(b, "comment_parent")))
        .collect()
}

#[test]
fn wordpress_comment_parents_are_rebuilt() {
    for (file, comments, replies) in [
        ("wordpress/isso-fixture-wxr.xml", 8, 3),
        ("wordpress/cc-labs-wxr.xml", 181, 3),
    ] {
        let file = sample(file);
        let text = std::fs::read_to_string(&file).expect("sample");
        let want: Vec<(String, String)> = wxr_parents(&text)
            .into_iter()
            .filter(|(_, p)| p != "0")
            .collect();
        let run = jsonl(&[file], &[]).expect_code(0);
        let (rows, summary) = run.jsonl();
        run.check(rows.len() == comments, &format!("{comments} comments"));
        run.check(want.len() == replies, "replies in the sample");
        let ids = by_id(&rows);
        for (id, parent) in &want {
            let row = ids
                .get(id)
                .unwrap_or_else(|| run.fail(&format!("comment {id} missing")));
            run.check(
                s(row, "parent_id") == *parent && s(row, "resolution") == "explicit",
                &format!("{id} under {parent}"),
            );
        }
        if comments == 181 {
            let pingbacks = rows.iter().filter(|r| s(r, "kind") == "pingback").count();
            run.check(
                pingbacks == 62 && summary["integrity"]["pingbacks"] == 62,
                "62 pingbacks marked",
            );
            run.check(
                rows.iter().all(|r| !s(r, "article").is_empty()),
                "every comment has its post as article",
            );
        } else {
            let dups = &summary["integrity"]["duplicate_ids"];
            run.check(
                dups.as_array().map_or(0, Vec::len) == 1 && s(&dups[0], "renamed_to") == "11#2",
                "duplicate id 11 kept as 11#2",
            );
            run.check(
                ids.contains_key("11") && ids.contains_key("11#2"),
                "both comments 11 kept",
            );
        }
    }
}

#[test]
fn wordpress_status_column_and_pending_in_the_tree() {
    let run = jsonl(&[sample("wordpress/cc-labs-wxr.xml")], &[]).expect_code(0);
    let (rows, _) = run.jsonl();
    let count = |status: &str| rows.iter().filter(|r| s(r, "status") == status).count();
    run.check(
        count("approved") == 119 && count("pingback") == 62,
        "cc-labs: 119 approved comments and 62 pingbacks",
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("statuses.xml");
    let comment = |id: u32, approved: &str, kind: &str| {
        let field = |tag: &str, value: &str| format!("<wp:{tag}>{value}</wp:{tag}>");
        [
            field("comment_id", &id.to_string()),
            field("comment_author", &format!("a{id}")),
            field("comment_content", &format!("text {id}")),
            field("comment_approved", approved),
            field("comment_type", kind),
            field("comment_parent", "0"),
        ]
        .concat()
    };
    let comments: String = [
        (1, "1", ""),
        (2, "0", ""),
        (3, "spam", ""),
        (4, "trash", ""),
        (5, "1", "pingback"),
    ]
    .map(|(id, approved, kind)| format!("<wp:comment>{}</wp:comment>", comment(id, approved, kind)))
    .concat();
    std::fs::write(
        &file,
        format!(
            "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><item><title>Post</title>\
             <wp:post_id>7</wp:post_id>{comments}</item></channel></rss>"
        ),
    )
    .expect("write");
    let run = jsonl(std::slice::from_ref(&file), &[]).expect_code(0);
    let (rows, _) = run.jsonl();
    let got: Vec<String> = rows.iter().map(|r| s(r, "status")).collect();
    run.check(
        got == ["approved", "pending", "spam", "deleted", "pingback"],
        &format!("statuses: {got:?}"),
    );
    let run = threadlens(&["--as", "csv", path(&file)], None).expect_code(0);
    let header = run.stdout().lines().next().unwrap_or_default().to_string();
    run.check(
        header
            == "id,parent_id,thread_id,article,depth,author,author_inferred,resolution,confidence,\
                reply_to,source_parent_id,time,kind,deleted,spam,location,text,status,points,\
                time_raw,permalink,quoted",
        "existing columns keep their order; status, points, time_raw and permalink are appended",
    );
    let tree = threadlens(&["--as", "tree", path(&file)], None).expect_code(0);
    tree.check(
        tree.stdout()
            == "== 7: Post\n1 a1: text 1\n2 a2 [pending]: text 2\n3 a3 [spam]: text 3\n\
                4 a4 [deleted]: text 4\n5 a5 [pingback]: text 5\n",
        "pending, spam, deleted and pingbacks are marked",
    );
}

#[test]
fn disqus_fixture_orphan_deleted_and_reply_to_deleted_are_reported() {
    let run = jsonl(&[sample("disqus/isso-fixture-disqus.xml")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (s(r, "id"), s(r, "parent_id")))
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    let want: Vec<(String, String)> = [
        ("11", "9"),
        ("4", ""),
        ("5", "4"),
        ("6", ""),
        ("8", ""),
        ("9", ""),
    ]
    .map(|(a, b)| (a.into(), b.into()))
    .to_vec();
    run.check(sorted == want, &format!("posts and parents: {got:?}"));
    let integrity = &summary["integrity"];
    run.check(
        s(&integrity["deleted"][0], "id") == "9",
        "deleted post 9 reported",
    );
    run.check(
        s(&integrity["replies_to_deleted"][0], "id") == "11",
        "reply to the deleted post reported",
    );
    run.check(
        s(&integrity["missing_articles"][0], "key") == "1337",
        "orphaned post (thread 1337 missing) reported",
    );
    let titles: Vec<String> = summary["articles"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| s(a, "title"))
        .collect();
    run.check(
        titles.contains(&"Hello, World!".to_string()),
        "threads become articles with titles",
    );
    let ids = by_id(&rows);
    run.check(
        ids.get("5").map(|r| s(r, "text")).as_deref() == Some("Hello, World."),
        "HTML message turned into text",
    );
    // The text report names them too.
    let text = threadlens(
        &[
            "--as",
            "csv",
            path(&sample("disqus/isso-fixture-disqus.xml")),
        ],
        None,
    )
    .expect_code(0);
    let err = text.stderr();
    text.check(
        err.contains("deleted (1)")
            && err.contains("replies to deleted comments (1)")
            && err.contains("1337"),
        "text report",
    );
    // The tree lists article 2 once, with both of its threads (posts 4 and 9 come before and
    // after posts of other threads in the export), and the empty thread 3 as such.
    let tree = threadlens(
        &[
            "--as",
            "tree",
            path(&sample("disqus/isso-fixture-disqus.xml")),
        ],
        None,
    )
    .expect_code(0);
    let out = tree.stdout();
    let headers: Vec<&str> = out.lines().filter(|l| l.starts_with("== ")).collect();
    tree.check(
        headers
            == [
                "== 2: Hello, World! (http://example.org/)",
                "== 1337",
                "== 7 (http://localhost:4000/blog/2013/02/12/redacted/index.html)",
                "== 3",
            ],
        &format!("one header per article: {headers:?}"),
    );
    let after_2: Vec<&str> = out
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("== "))
        .map(|l| l.split_whitespace().find(|w| *w != "└").unwrap_or_default())
        .collect();
    tree.check(after_2 == ["4", "5", "9", "11"], &format!("{after_2:?}"));
    tree.check(out.ends_with("== 3\n  (no comments)\n"), "empty thread");
}

#[test]
fn entity_bomb_and_external_entities_are_never_expanded() {
    let started = std::time::Instant::now();
    let run = jsonl(&[fixture("billion-laughs-disqus.xml")], &[]).expect_code(1);
    run.check(started.elapsed().as_secs() < 10, "finishes quickly");
    let (rows, summary) = run.jsonl();
    run.check(
        rows.len() == 1 && s(&rows[0], "id") == "12",
        "the plain post is kept",
    );
    run.check(
        s(&rows[0], "text") == "a plain comment & fine",
        "predefined entities still work",
    );
    let rejects = summary["rejects"].as_array().cloned().unwrap_or_default();
    run.check(rejects.len() == 2, "both entity posts rejected");
    run.check(
        s(&rejects[0], "reason").contains("&lol9;"),
        "reason names the entity",
    );
    run.check(!run.stdout().contains("root:"), "no /etc/passwd content");
    run.check(
        run.stderr().contains("rejected"),
        "rejects listed on stderr",
    );
}

// ---------------------------------------------------------------- JSON APIs

#[test]
fn youtube_threads_and_missing_replies() {
    let run = jsonl(&[sample("youtube/EZBeo_k1k-A_commentthreads.jsonl")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(
        rows.len() == 716 + 54,
        "716 top-level comments and 54 replies",
    );
    let replies = rows
        .iter()
        .filter(|r| !s(r, "parent_id").is_empty())
        .count();
    run.check(replies == 54, "54 replies attached");
    let partial = &summary["integrity"]["partial_threads"];
    let missing: u64 = partial
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["missing"].as_u64())
        .sum();
    run.check(
        missing == 2,
        &format!("2 replies declared but not exported, got {missing}"),
    );
    run.check(
        rows.iter().all(|r| s(r, "article") == "EZBeo_k1k-A"),
        "the video is the article",
    );
}

#[test]
fn hackernews_sample_keeps_every_comment_and_flags_orphans() {
    let run = jsonl(&[sample("hackernews/hn-comments-1000-sample.jsonl")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(rows.len() == 1000, "1000 comments");
    let orphans = summary["integrity"]["orphans"]
        .as_array()
        .map_or(0, Vec::len);
    let attached = rows
        .iter()
        .filter(|r| !s(r, "parent_id").is_empty())
        .count();
    run.check(
        orphans + attached == 1000 && attached == 2,
        &format!("orphans {orphans}, attached {attached}"),
    );
    let first = &rows[0];
    run.check(
        s(first, "text").contains("don't even consider"),
        "HTML entities decoded",
    );
    run.check(
        !rows.iter().any(|r| s(r, "text").contains("<p>")),
        "no HTML left",
    );
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_minimal_files_and_stdin() {
    let run = threadlens(
        &["--as", "jsonl", "-"],
        Some(b"id,text\na,hello\nb,world\n"),
    )
    .expect_code(0);
    let (rows, _) = run.jsonl();
    run.check(
        rows.len() == 2 && rows.iter().all(|r| s(r, "parent_id").is_empty()),
        "id,text: all roots",
    );

    let run = threadlens(
        &["--as", "jsonl", "--format", "csv", "-"],
        Some(b"text\nhello\n\"two\nlines\"\n"),
    )
    .expect_code(0);
    let (rows, _) = run.jsonl();
    let ids: Vec<String> = rows.iter().map(|r| s(r, "id")).collect();
    run.check(
        ids == ["L2", "L3"],
        &format!("ids from line numbers: {ids:?}"),
    );

    let tsv = b"cid\tanswer_to\twho\tsaid\tpage\n1\t\tx\thi\tp1\n2\t1\ty\tho\tp1\n";
    let run = threadlens(
        &[
            "--as",
            "jsonl",
            "--format",
            "tsv",
            "--id-col",
            "cid",
            "--parent-col",
            "answer_to",
            "--author-col",
            "who",
            "--text-col",
            "said",
            "--thread-col",
            "page",
            "-",
        ],
        Some(tsv),
    )
    .expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(
        s(&rows[1], "parent_id") == "1" && s(&rows[1], "author") == "y",
        "column overrides",
    );
    run.check(
        s(&summary["articles"][0], "key") == "p1" && s(&rows[0], "article") == "p1",
        "article from the thread column",
    );

    let run = threadlens(&["--text-col", "nope", "-"], Some(b"id,text\n1,x\n")).expect_code(2);
    run.check(
        run.stderr().contains("--text-col \"nope\" is not a column"),
        "bad override is a clear error",
    );
}

#[test]
fn csv_duplicates_cycles_and_orphans_are_reported_and_nothing_is_lost() {
    let run = jsonl(&[fixture("duplicates-and-cycle.csv")], &[]).expect_code(0);
    let (rows, summary) = run.jsonl();
    run.check(rows.len() == 6, "all six comments kept");
    let ids: HashSet<String> = rows.iter().map(|r| s(r, "id")).collect();
    run.check(
        ids.contains("1") && ids.contains("1#2"),
        "duplicate kept as 1#2",
    );
    let i = &summary["integrity"];
    run.check(
        s(&i["duplicate_ids"][0], "renamed_to") == "1#2",
        "duplicate reported",
    );
    run.check(
        i["cycles"].as_array().map_or(0, Vec::len) == 1,
        "cycle reported",
    );
    run.check(s(&i["orphans"][0], "id") == "5", "orphan reported");
    let two = rows
        .iter()
        .find(|r| s(r, "id") == "2")
        .map(|r| s(r, "parent_id"));
    run.check(
        two.as_deref() == Some("1"),
        "reply to 1 goes to the first 1",
    );
}

#[test]
fn csv_mentions_without_parent_column() {
    let run = jsonl(&[fixture("mentions.csv")], &[]).expect_code(0);
    let (rows, _) = run.jsonl();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (s(r, "author"), s(r, "resolution")))
        .collect();
    let want: Vec<(String, String)> = [
        ("ann", "none"),
        ("bob", "mention"),
        ("cat", "mention"),
        ("dan", "none"),
    ]
    .map(|(a, b)| (a.into(), b.into()))
    .to_vec();
    run.check(got == want, &format!("{got:?}"));
}

#[test]
fn csv_bad_rows_are_rejected_with_lines_and_the_rest_is_kept() {
    let run = jsonl(&[fixture("bad-rows.csv")], &[]).expect_code(1);
    let (rows, summary) = run.jsonl();
    let ids: Vec<String> = rows.iter().map(|r| s(r, "id")).collect();
    run.check(ids == ["1", "2", "5"], &format!("good rows kept: {ids:?}"));
    let rejects: Vec<(u64, String)> = summary["rejects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["loc"]["line"].as_u64().unwrap_or(0), s(r, "reason")))
        .collect();
    run.check(
        rejects.len() == 2 && rejects[0].0 == 4 && rejects[1].0 == 5,
        &format!("{rejects:?}"),
    );
    run.check(rejects[1].1.contains("invalid UTF-8"), "reason");
    let err = threadlens(&["--as", "csv", path(&fixture("bad-rows.csv"))], None)
        .expect_code(1)
        .stderr();
    assert!(err.contains("bad-rows.csv: line 4"), "{err}");
}

/// csv's `Position::line` lags one line per record with CRLF endings; lines must not.
#[test]
fn csv_crlf_line_numbers_are_right() {
    let run = threadlens(
        &["--as", "jsonl", "-"],
        Some(b"id,text\r\n1,a\r\n2,b,extra\r\n3,c\r\n"),
    )
    .expect_code(1);
    let (rows, summary) = run.jsonl();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (s(r, "id"), s(r, "location")))
        .collect();
    run.check(
        got == [
            ("1".to_string(), "<stdin>: line 2".to_string()),
            ("3".to_string(), "<stdin>: line 4".to_string()),
        ],
        &format!("locations: {got:?}"),
    );
    run.check(
        summary["rejects"][0]["loc"]["line"] == 3,
        "the three-field row is rejected at line 3",
    );
    let err = threadlens(
        &["--as", "csv", "-"],
        Some(b"id,text\r\n1,a\r\n2,b,extra\r\n3,c\r\n"),
    )
    .expect_code(1)
    .stderr();
    assert!(
        err.contains("threadlens: rejected <stdin>: line 3: has 3 fields, the header has 2"),
        "{err}"
    );
}

#[test]
fn csv_output_is_spreadsheet_safe_and_jsonl_is_not_changed() {
    let input =
        b"id,parent_id,author,text\n=1,,@mallory,\"=cmd|'/C calc'!A0\"\n2,=1,+bob,-1 for this\n";
    let run = threadlens(&["--as", "csv", "-"], Some(input)).expect_code(0);
    let mut rdr = csv::Reader::from_reader(run.out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
    let cells: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (&r[0], &r[1], &r[5], &r[16])).collect();
    run.check(
        cells
            == [
                ("'=1", "", "'@mallory", "'=cmd|'/C calc'!A0"),
                ("2", "'=1", "'+bob", "'-1 for this"),
            ],
        &format!("neutralised cells: {cells:?}"),
    );
    let run = threadlens(&["--as", "jsonl", "-"], Some(input)).expect_code(0);
    let (rows, _) = run.jsonl();
    run.check(
        s(&rows[0], "text") == "=cmd|'/C calc'!A0" && s(&rows[1], "parent_id") == "=1",
        "JSON lines keep the data as it is",
    );
}

#[test]
fn latin1_text_is_rejected_per_record_with_its_line_and_a_hint() {
    let latin1 = b"id,author,text\n1,Ren\xe9,bonjour\n2,Bob,hi\n3,Zo\xe9,salut\n";
    for extra in [&[][..], &["--format", "csv"][..]] {
        let mut args = vec!["--as", "jsonl"];
        args.extend_from_slice(extra);
        args.push("-");
        let run = threadlens(&args, Some(latin1)).expect_code(1);
        let (rows, summary) = run.jsonl();
        let ids: Vec<String> = rows.iter().map(|r| s(r, "id")).collect();
        run.check(ids == ["2"], &format!("the UTF-8 row is kept: {ids:?}"));
        let rejects: Vec<(u64, String)> = summary["rejects"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (r["loc"]["line"].as_u64().unwrap_or(0), s(r, "reason")))
            .collect();
        run.check(
            rejects.len() == 2
                && rejects[0].0 == 2
                && rejects[1].0 == 4
                && rejects[0]
                    .1
                    .contains("invalid UTF-8 in column \"author\" (byte 0xE9)")
                && rejects[0].1.contains("iconv -f latin1 -t utf-8"),
            &format!("{rejects:?}"),
        );
    }
    // A page that is not UTF-8 stops with the line, the byte offset and the hint.
    let run = threadlens(
        &["--format", "page", "-"],
        Some(b"A Title For The Page Here\n\nCaf\xe9 society is fine.\n"),
    )
    .expect_code(2);
    let err = run.stderr();
    run.check(
        err.starts_with(
            "threadlens: reading <stdin>: line 3: invalid UTF-8 at column 4 (byte offset 30, byte \
             0xE9)",
        ) && err.contains("iconv -f latin1 -t utf-8"),
        "located error with a hint",
    );
}

// ---------------------------------------------------------------- robustness

#[test]
fn empty_input_gives_valid_empty_output_a_warning_and_status_1() {
    let run = threadlens(&["--as", "csv", "-"], Some(b"")).expect_code(1);
    run.check(
        run.stdout().starts_with("id,parent_id,thread_id") && run.stdout().lines().count() == 1,
        "CSV header only",
    );
    run.check(
        run.stderr().contains(
            "threadlens: warning: <stdin>: the file is empty (0 bytes); no comments read",
        ),
        "warning names the file",
    );
    let run = threadlens(&["--as", "jsonl", "-"], Some(b"  \n")).expect_code(1);
    let (rows, summary) = run.jsonl();
    run.check(
        rows.is_empty() && summary["integrity"]["comments"] == 0,
        "empty forest",
    );
    run.check(
        summary["integrity"]["empty_files"][0] == "<stdin>"
            && summary["integrity"]["rejected"] == 0
            && summary["rejects"][0]["kind"] == "empty_file",
        "the empty file is in the summary, not counted as a rejected record",
    );
    run.check(
        run.stderr().contains(
            "threadlens: warning: <stdin>: the file is empty (only whitespace, 3 bytes); no \
             comments read",
        ),
        "whitespace-only warning",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("x.csv");
    std::fs::write(&empty, b"").expect("write");
    let run = threadlens(&["--as", "tree", path(&empty)], None).expect_code(1);
    run.check(run.stdout().is_empty(), "empty tree");
    run.check(
        run.stderr().contains(&format!(
            "threadlens: warning: {}: the file is empty (0 bytes); no comments read",
            path(&empty)
        )),
        "the warning names the file",
    );
    // The other inputs are still read.
    let run = jsonl(&[empty.clone(), fixture("mentions.csv")], &[]).expect_code(1);
    let (rows, _) = run.jsonl();
    run.check(rows.len() == 4, "comments of the non-empty file kept");
    // A header-only CSV reads nothing either: said the same way, with its reason.
    let header_only = dir.path().join("h.csv");
    std::fs::write(&header_only, b"id,text\n").expect("write");
    let run = jsonl(&[header_only], &[]).expect_code(1);
    let (rows, summary) = run.jsonl();
    run.check(
        rows.is_empty()
            && summary["rejects"][0]["kind"] == "empty_file"
            && summary["rejects"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("header only")),
        "header-only CSV: empty, named, with the reason",
    );
}

#[test]
fn unreadable_inputs_are_located_errors_with_status_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.bin");
    std::fs::write(
        &junk,
        (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("write");
    let bad_utf8 = dir.path().join("page.txt");
    std::fs::write(
        &bad_utf8,
        b"A Title For The Page Here\n\nSome text.\n\xff\xfe more\n",
    )
    .expect("write");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![path(&junk).into()],
            "junk.bin: line 1: looks like binary data, not text (a NUL byte at byte offset 0)",
        ),
        (
            vec!["--format".into(), "csv".into(), path(&junk).into()],
            "junk.bin: line 1: looks like binary data",
        ),
        (
            vec![path(&fixture("truncated-reddit.json")).into()],
            "truncated-reddit.json: line",
        ),
        (
            vec![path(&fixture("truncated-disqus.xml")).into()],
            "not closed (truncated?)",
        ),
        (
            vec!["--format".into(), "page".into(), path(&bad_utf8).into()],
            "page.txt: line 4: invalid UTF-8 at column 1 (byte offset 38, byte 0xFF)",
        ),
        (
            vec![path(&dir.path().join("nope.csv")).into()],
            "nope.csv: No such file",
        ),
        (
            vec![
                "--format".into(),
                "disqus".into(),
                path(&sample("wordpress/isso-fixture-wxr.xml")).into(),
            ],
            "not <disqus>",
        ),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = threadlens(&args, None).expect_code(2);
        let err = run.stderr();
        run.check(
            err.starts_with("threadlens: reading ") && err.contains(want),
            &format!("stderr should contain {want:?}"),
        );
        run.check(err.lines().count() == 1, "one-line error chain");
    }
}

#[test]
fn gigantic_json_line_is_rejected_and_the_rest_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.jsonl");
    let mut data = String::from("{\"id\":\"1\",\"by\":\"a\",\"parent\":\"0\",\"text\":\"ok\"}\n");
    data.push_str(&format!(
        "{{\"id\":\"2\",\"by\":\"b\",\"text\":\"{}\"}}\n",
        "x".repeat(17 * 1024 * 1024)
    ));
    data.push_str("{\"id\":\"3\",\"by\":\"c\",\"parent\":\"1\",\"text\":\"fine\"}\n");
    std::fs::write(&file, data).expect("write");
    let run = jsonl(&[file], &["--format", "hackernews"]).expect_code(1);
    let (rows, summary) = run.jsonl();
    run.check(rows.len() == 2, "two good records");
    run.check(summary["rejects"][0]["loc"]["line"] == 2, "line 2 rejected");
}

#[test]
fn help_documents_output_and_exit_status() {
    let run = threadlens(&["--help"], None).expect_code(0);
    let out = run.stdout();
    run.check(
        out.contains("Exit status") && out.contains("--as") && out.contains("tree"),
        "help text",
    );
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    run.check(
        out.contains("1 finished, but some input records were rejected or a file was empty")
            && out.contains("status (approved, pending, spam"),
        "exit status 1 covers empty files; status column documented",
    );
    let bin = env!("CARGO_BIN_EXE_threadlens");
    let top = Command::new(bin).arg("--help").output().expect("runs");
    let top = String::from_utf8_lossy(&top.stdout);
    let top = top.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        top.contains("1 finished, but some input records were rejected or a file was empty"),
        "{top}"
    );
}

/// Issue 17, case 11: a chain 5,000 replies deep prints one short line per comment in
/// `--as tree` (indentation stops at 40 levels and deeper lines state their depth), not a
/// file that grows with the square of the depth.
#[test]
fn tree_of_a_deep_chain_grows_linearly() {
    let mut csv = String::from("id,parent_id,text\n0,,root\n");
    for i in 1..5000 {
        csv.push_str(&format!("{i},{},reply\n", i - 1));
    }
    let run = threadlens(&["--as", "tree", "-"], Some(csv.as_bytes())).expect_code(0);
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    run.check(lines.len() == 5000, "one line per comment");
    run.check(
        lines.iter().all(|l| l.len() < 160),
        "every line short (indentation capped)",
    );
    run.check(
        lines[4999].contains("[depth 4999]") && lines[10].starts_with(&" ".repeat(20)),
        "deep lines state their depth; shallow ones are indented",
    );
}

/// `threads -o` writes its file whole or not at all: stopped part-way by a file-size limit
/// (as a full disk would), it leaves the earlier output as it was.
#[test]
fn an_output_cut_short_leaves_the_earlier_file_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let small = "id,parent_id,text\na,,first\nb,a,second\n";
    std::fs::write(dir.path().join("small.csv"), small).unwrap();
    let bin = env!("CARGO_BIN_EXE_threadlens");
    let ok = Command::new(bin)
        .args(["threads", "small.csv", "--format", "csv", "-o", "out.csv"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let before = std::fs::read(dir.path().join("out.csv")).unwrap();
    let mut big = String::from("id,parent_id,text\n");
    for i in 0..3000 {
        big.push_str(&format!(
            "c{i},,a comment long enough to make the output large {i}\n"
        ));
    }
    std::fs::write(dir.path().join("big.csv"), big).unwrap();
    let cut = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 40; exec \"$0\" threads big.csv --format csv -o out.csv")
        .arg(bin)
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert!(!cut.status.success(), "the limit should stop it");
    assert_eq!(std::fs::read(dir.path().join("out.csv")).unwrap(), before);
}
