//! Writers for the forest: an indented tree for reading, CSV (one row per comment, parents
//! before children) and JSON lines (one object per comment, then one final object holding the
//! integrity report and the rejects). Writers take any `io::Write` and never flush-by-drop.
//! CSV cells from the input are spreadsheet-safe (`report::safe::cell`); JSON lines are not
//! touched. The tree lists each article once, with all its threads under it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use serde::Serialize;

use super::{Forest, Resolution};

/// Output formats of `threadlens threads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Indented tree, one line per comment (for reading).
    Tree,
    /// CSV with a header row.
    Csv,
    /// JSON lines; the last line is `{"integrity": …, "rejects": […], "articles": […]}`.
    Jsonl,
}

/// Writes the forest in `format` and flushes.
pub fn write(forest: &Forest, format: OutputFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        OutputFormat::Tree => write_tree(forest, out)?,
        OutputFormat::Csv => write_csv(forest, out)?,
        OutputFormat::Jsonl => write_jsonl(forest, out)?,
    }
    out.flush()
}

/// The CSV and JSON lines columns, in order. New columns go at the end, so readers that
/// index by position keep working.
pub const COLUMNS: &[&str] = &[
    "id",
    "parent_id",
    "thread_id",
    "article",
    "depth",
    "author",
    "author_inferred",
    "resolution",
    "confidence",
    "reply_to",
    "source_parent_id",
    "time",
    "kind",
    "deleted",
    "spam",
    "location",
    "text",
    "status",
    "points",
    "time_raw",
    "permalink",
    "quoted",
];

/// One output row; shared by CSV and JSON lines (field order = `COLUMNS`).
#[derive(Serialize)]
struct Row<'a> {
    id: Cow<'a, str>,
    parent_id: Cow<'a, str>,
    thread_id: Cow<'a, str>,
    article: Cow<'a, str>,
    depth: u32,
    author: Cow<'a, str>,
    author_inferred: bool,
    resolution: Resolution,
    confidence: f64,
    reply_to: Cow<'a, str>,
    source_parent_id: Cow<'a, str>,
    /// ISO 8601 (`ingest::when`); the value as the source wrote it is `time_raw`.
    time: Cow<'a, str>,
    kind: &'a str,
    deleted: bool,
    spam: bool,
    location: Cow<'a, str>,
    text: Cow<'a, str>,
    /// `Comment::status`: approved, pending, spam, deleted, pingback, trackback or empty.
    status: &'a str,
    /// The score, points or likes the source showed, where it did.
    points: Option<i64>,
    time_raw: Cow<'a, str>,
    permalink: Cow<'a, str>,
    /// Text the comment quotes from other posts (forums), kept out of `text`.
    quoted: Cow<'a, str>,
}

fn row(forest: &Forest, i: usize) -> Row<'_> {
    let (node, c) = (&forest.nodes[i], &forest.comments[i]);
    Row {
        id: Cow::Borrowed(&c.id),
        parent_id: Cow::Borrowed(
            node.parent
                .and_then(|p| forest.comments.get(p))
                .map_or("", |p| p.id.as_str()),
        ),
        thread_id: Cow::Borrowed(forest.thread_id(i)),
        article: Cow::Borrowed(
            node.article
                .and_then(|a| forest.articles.get(a))
                .map_or("", |a| a.key.as_str()),
        ),
        depth: node.depth,
        author: Cow::Borrowed(c.author.as_deref().unwrap_or_default()),
        author_inferred: node.author_inferred,
        resolution: node.resolution,
        confidence: (f64::from(node.confidence) * 100.0).round() / 100.0,
        reply_to: Cow::Borrowed(c.reply_to.as_deref().unwrap_or_default()),
        source_parent_id: Cow::Borrowed(c.parent_id.as_deref().unwrap_or_default()),
        time: Cow::Borrowed(c.when.as_deref().unwrap_or_default()),
        kind: c.kind.name(),
        deleted: c.deleted,
        spam: c.spam,
        location: Cow::Owned(c.loc.to_string()),
        text: Cow::Borrowed(&c.text),
        status: c.status(),
        points: c.points,
        time_raw: Cow::Borrowed(c.time.as_deref().unwrap_or_default()),
        permalink: Cow::Borrowed(c.permalink.as_deref().unwrap_or_default()),
        quoted: Cow::Borrowed(c.quoted.as_deref().unwrap_or_default()),
    }
}

impl Row<'_> {
    /// Neutralises every cell that comes from the input and that a spreadsheet would read as
    /// a formula (CSV only: JSON lines are data and keep the text as it was).
    fn spreadsheet_safe(self) -> Self {
        fn safe(s: Cow<'_, str>) -> Cow<'_, str> {
            match crate::report::safe::cell(&s) {
                Cow::Borrowed(_) => s,
                Cow::Owned(neutralised) => Cow::Owned(neutralised),
            }
        }
        Row {
            id: safe(self.id),
            parent_id: safe(self.parent_id),
            thread_id: safe(self.thread_id),
            article: safe(self.article),
            author: safe(self.author),
            reply_to: safe(self.reply_to),
            source_parent_id: safe(self.source_parent_id),
            time: safe(self.time),
            time_raw: safe(self.time_raw),
            permalink: safe(self.permalink),
            quoted: safe(self.quoted),
            location: safe(self.location),
            text: safe(self.text),
            ..self
        }
    }
}

fn write_csv(forest: &Forest, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for i in 0..forest.nodes.len() {
        w.serialize(row(forest, i).spreadsheet_safe())
            .map_err(csv_to_io)?;
    }
    if forest.nodes.is_empty() {
        // An empty forest still gets its header, so the output is valid CSV for any reader.
        w.write_record(COLUMNS).map_err(csv_to_io)?;
    }
    w.flush()
}

fn csv_to_io(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_jsonl(forest: &Forest, out: &mut dyn Write) -> io::Result<()> {
    for i in 0..forest.nodes.len() {
        serde_json::to_writer(&mut *out, &row(forest, i))?;
        out.write_all(b"\n")?;
    }
    #[derive(Serialize)]
    struct Summary<'a> {
        integrity: &'a super::Integrity,
        rejects: &'a [crate::ingest::Reject],
        articles: &'a [crate::ingest::Article],
    }
    let summary = Summary {
        integrity: &forest.integrity,
        rejects: &forest.rejects,
        articles: &forest.articles,
    };
    serde_json::to_writer(&mut *out, &summary)?;
    out.write_all(b"\n")
}

/// Snippet length in characters for the tree view.
const SNIPPET: usize = 100;

fn write_tree(forest: &Forest, out: &mut dyn Write) -> io::Result<()> {
    // Threads are contiguous in node order (pre-order), so thread k spans roots[k]..roots[k+1].
    // Group them by the root's article, articles in order of their first thread, so an article
    // whose threads are interleaved with other articles' in the input gets one header.
    let roots: Vec<usize> = forest.roots().collect();
    let mut groups: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<Option<usize>, usize> = HashMap::new();
    for (k, &r) in roots.iter().enumerate() {
        let article = forest.nodes[r].article;
        let g = *group_of.entry(article).or_insert_with(|| {
            groups.push((article, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(k);
    }
    let headers = !forest.articles.is_empty();
    let orphans: HashSet<&str> = forest
        .integrity
        .orphans
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    for (article, threads) in &groups {
        if headers {
            write_article_header(forest, *article, out)?;
        }
        for &k in threads {
            let end = roots.get(k + 1).copied().unwrap_or(forest.nodes.len());
            for i in roots[k]..end {
                write_tree_line(forest, i, &orphans, out)?;
            }
        }
    }
    let mut with_comments = vec![false; forest.articles.len()];
    for a in forest.nodes.iter().filter_map(|n| n.article) {
        if let Some(seen) = with_comments.get_mut(a) {
            *seen = true;
        }
    }
    for (a, _) in with_comments.iter().enumerate().filter(|(_, seen)| !**seen) {
        write_article_header(forest, Some(a), out)?;
        writeln!(out, "  (no comments)")?;
    }
    Ok(())
}

/// `== key: title (link)`, or `== (no article)` for threads that belong to none.
fn write_article_header(
    forest: &Forest,
    article: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some(a) = article.and_then(|a| forest.articles.get(a)) else {
        return writeln!(out, "== (no article)");
    };
    let title = a
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| format!(": {}", snippet(t)))
        .unwrap_or_default();
    let url = a
        .url
        .as_deref()
        .filter(|u| !u.trim().is_empty() && *u != a.key)
        .map(|u| format!(" ({})", u.trim()))
        .unwrap_or_default();
    writeln!(out, "== {}{title}{url}", a.key)
}

/// The deepest indentation `--as tree` prints.
pub const MAX_INDENT: usize = 40;

fn write_tree_line(
    forest: &Forest,
    i: usize,
    orphans: &HashSet<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (node, c) = (&forest.nodes[i], &forest.comments[i]);
    // Indentation stops at MAX_INDENT levels, deeper lines say their depth: a chain 100,000
    // replies deep prints 100,000 short lines, not gigabytes of spaces.
    let indent = "  ".repeat((node.depth as usize).min(MAX_INDENT));
    let arrow = match node.depth as usize {
        0 => String::new(),
        d if d > MAX_INDENT => format!("└ [depth {d}] "),
        _ => "└ ".to_string(),
    };
    let author = match (&c.author, node.author_inferred) {
        (Some(a), true) => format!("{a} (inferred)"),
        (Some(a), false) => a.to_string(),
        (None, _) => "(anonymous)".to_string(),
    };
    let mut flags = Vec::new();
    if node.depth > 0 {
        flags.push(format!("{} {:.2}", node.resolution, node.confidence));
    }
    if orphans.contains(c.id.as_str()) {
        flags.push(format!(
            "orphan of {}",
            c.parent_id.as_deref().unwrap_or("?")
        ));
    }
    let pending = c.approved == Some(false) && !c.deleted && !c.spam;
    for (on, name) in [
        (c.deleted, "deleted"),
        (c.spam, "spam"),
        (pending, "pending"),
        (c.kind != crate::ingest::CommentKind::Comment, c.kind.name()),
    ] {
        if on {
            flags.push(name.to_string());
        }
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    writeln!(
        out,
        "{indent}{arrow}{} {author}{flags}: {}",
        c.id,
        snippet(&c.text)
    )
}

fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SNIPPET {
        return flat;
    }
    let cut: String = flat.chars().take(SNIPPET).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Comment, Input, Location};

    fn forest() -> Forest {
        let comments = vec![
            Comment {
                id: "1".into(),
                text: "root, with \"quotes\"\nand lines".into(),
                parent_known: true,
                loc: Location::line("f", 2),
                ..Comment::default()
            },
            Comment {
                id: "2".into(),
                parent_id: Some("1".into()),
                author: Some("b".into()),
                text: "reply".into(),
                parent_known: true,
                loc: Location::line("f", 3),
                ..Comment::default()
            },
        ];
        super::super::build(Input {
            comments,
            ..Input::default()
        })
    }

    #[test]
    fn csv_round_trips() {
        let mut out = Vec::new();
        write(&forest(), OutputFormat::Csv, &mut out).expect("writes");
        let mut rdr = csv::Reader::from_reader(out.as_slice());
        let headers = rdr.headers().expect("header").clone();
        assert_eq!(&headers[0], "id");
        let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][16], "root, with \"quotes\"\nand lines");
        assert_eq!(&rows[0][17], "");
        assert_eq!(
            (&rows[1][1], &rows[1][7], &rows[1][8]),
            ("1", "explicit", "1.0")
        );
    }

    #[test]
    fn jsonl_ends_with_integrity_and_tree_indents() {
        let mut out = Vec::new();
        write(&forest(), OutputFormat::Jsonl, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        let last: serde_json::Value =
            serde_json::from_str(text.lines().last().expect("line")).expect("json");
        assert_eq!(last["integrity"]["comments"], 2);
        let mut out = Vec::new();
        write(&forest(), OutputFormat::Tree, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(
            text,
            "1 (anonymous): root, with \"quotes\" and lines\n  └ 2 b [explicit 1.00]: reply\n"
        );
    }

    fn comment(id: &str, parent: Option<&str>, key: &str, text: &str) -> Comment {
        Comment {
            id: id.into(),
            parent_id: parent.map(Into::into),
            thread_key: Some(key.into()),
            text: text.into(),
            parent_known: true,
            loc: Location::line("f", 2),
            ..Comment::default()
        }
    }

    fn article(key: &str, title: Option<&str>, url: Option<&str>) -> crate::ingest::Article {
        crate::ingest::Article {
            key: key.into(),
            title: title.map(Into::into),
            url: url.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn csv_cells_are_spreadsheet_safe_but_jsonl_keeps_the_text() {
        let mut c = comment("=1+1", None, "@k", "=cmd|'/C calc'!A0");
        c.author = Some("+mallory".into());
        c.time = Some("-2+3".into());
        c.permalink = Some("=HYPERLINK(\"x\")".into());
        let forest = super::super::build(Input {
            comments: vec![c, comment("2", Some("=1+1"), "@k", "fine")],
            ..Input::default()
        });
        let mut out = Vec::new();
        write(&forest, OutputFormat::Csv, &mut out).expect("writes");
        let mut rdr = csv::Reader::from_reader(out.as_slice());
        let headers: Vec<String> = rdr
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(headers, COLUMNS);
        let rows: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>().expect("rows");
        let cell = |r: usize, name: &str| {
            let col = COLUMNS.iter().position(|c| *c == name).expect(name);
            rows[r][col].to_string()
        };
        let cases = [
            (0, "id", "'=1+1"),
            (0, "thread_id", "'=1+1"),
            (0, "article", "'@k"),
            (0, "author", "'+mallory"),
            (0, "time_raw", "'-2+3"),
            (0, "permalink", "'=HYPERLINK(\"x\")"),
            (0, "text", "'=cmd|'/C calc'!A0"),
            (1, "parent_id", "'=1+1"),
            (1, "source_parent_id", "'=1+1"),
            (1, "text", "fine"),
            (1, "depth", "1"),
        ];
        for (r, name, want) in cases {
            assert_eq!(cell(r, name), want, "row {r} {name}");
        }
        let mut out = Vec::new();
        write(&forest, OutputFormat::Jsonl, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("line")).expect("json");
        assert_eq!(first["text"], "=cmd|'/C calc'!A0");
        assert_eq!(first["id"], "=1+1");
        let keys: Vec<&str> = first
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), COLUMNS.len());
    }

    #[test]
    fn status_column_marks_pending_and_the_tree_shows_it() {
        use crate::ingest::CommentKind;
        let mut pending = comment("p", None, "a", "wait");
        pending.approved = Some(false);
        let mut approved = comment("q", Some("p"), "a", "ok");
        approved.approved = Some(true);
        let mut ping = comment("r", None, "a", "linked");
        ping.kind = CommentKind::Pingback;
        ping.approved = Some(true);
        let mut spam = comment("s", None, "a", "buy");
        spam.spam = true;
        spam.approved = Some(false);
        let forest = super::super::build(Input {
            comments: vec![pending, approved, ping, spam],
            articles: vec![article("a", None, None)],
            ..Input::default()
        });
        let mut out = Vec::new();
        write(&forest, OutputFormat::Csv, &mut out).expect("writes");
        let mut rdr = csv::Reader::from_reader(out.as_slice());
        let status: Vec<String> = rdr
            .records()
            .map(|r| {
                let at = COLUMNS.iter().position(|c| *c == "status").expect("status");
                r.expect("row")[at].to_string()
            })
            .collect();
        assert_eq!(status, ["pending", "approved", "pingback", "spam"]);
        let mut out = Vec::new();
        write(&forest, OutputFormat::Tree, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(
            text,
            "== a\n\
             p (anonymous) [pending]: wait\n  \
             └ q (anonymous) [explicit 1.00]: ok\n\
             r (anonymous) [pingback]: linked\n\
             s (anonymous) [spam]: buy\n"
        );
    }

    #[test]
    fn tree_lists_each_article_once_and_articles_without_comments() {
        let forest = super::super::build(Input {
            comments: vec![
                comment("1", None, "a", "one"),
                comment("2", None, "b", "two"),
                comment("3", None, "a", "three"),
                comment("4", Some("3"), "a", "four"),
                Comment {
                    thread_key: None,
                    ..comment("5", None, "", "five")
                },
            ],
            articles: vec![
                article("a", Some("Hello"), Some("http://x.org/")),
                article("b", Some("Hello"), Some("http://x.org/b")),
                article("c", Some("Quiet"), None),
            ],
            ..Input::default()
        });
        let mut out = Vec::new();
        write(&forest, OutputFormat::Tree, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf8");
        assert_eq!(
            text,
            "== a: Hello (http://x.org/)\n\
             1 (anonymous): one\n\
             3 (anonymous): three\n  \
             └ 4 (anonymous) [explicit 1.00]: four\n\
             == b: Hello (http://x.org/b)\n\
             2 (anonymous): two\n\
             == (no article)\n\
             5 (anonymous): five\n\
             == c: Quiet\n  \
             (no comments)\n"
        );
    }

    #[test]
    fn empty_csv_has_a_header() {
        let mut out = Vec::new();
        write(&Forest::default(), OutputFormat::Csv, &mut out).expect("writes");
        assert!(String::from_utf8(out)
            .expect("utf8")
            .starts_with("id,parent_id,thread_id"));
    }
}
