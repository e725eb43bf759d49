//! Writers for the forest: an indented tree for reading, CSV (one row per comment, parents
//! before children) and JSON lines (one object per comment, then one final object holding the
//! integrity report and the rejects). Writers take any `io::Write` and never flush-by-drop.

use std::collections::HashSet;
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

/// One output row; shared by CSV and JSON lines.
#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    parent_id: &'a str,
    thread_id: &'a str,
    article: &'a str,
    depth: u32,
    author: &'a str,
    author_inferred: bool,
    resolution: Resolution,
    confidence: f64,
    reply_to: &'a str,
    source_parent_id: &'a str,
    time: &'a str,
    kind: &'a str,
    deleted: bool,
    spam: bool,
    location: String,
    text: &'a str,
}

fn row(forest: &Forest, i: usize) -> Row<'_> {
    let (node, c) = (&forest.nodes[i], &forest.comments[i]);
    Row {
        id: &c.id,
        parent_id: node
            .parent
            .and_then(|p| forest.comments.get(p))
            .map_or("", |p| p.id.as_str()),
        thread_id: forest.thread_id(i),
        article: node
            .article
            .and_then(|a| forest.articles.get(a))
            .map_or("", |a| a.key.as_str()),
        depth: node.depth,
        author: c.author.as_deref().unwrap_or_default(),
        author_inferred: node.author_inferred,
        resolution: node.resolution,
        confidence: (f64::from(node.confidence) * 100.0).round() / 100.0,
        reply_to: c.reply_to.as_deref().unwrap_or_default(),
        source_parent_id: c.parent_id.as_deref().unwrap_or_default(),
        time: c.time.as_deref().unwrap_or_default(),
        kind: match c.kind {
            crate::ingest::CommentKind::Comment => "comment",
            crate::ingest::CommentKind::Pingback => "pingback",
            crate::ingest::CommentKind::Trackback => "trackback",
        },
        deleted: c.deleted,
        spam: c.spam,
        location: c.loc.to_string(),
        text: &c.text,
    }
}

fn write_csv(forest: &Forest, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for i in 0..forest.nodes.len() {
        w.serialize(row(forest, i)).map_err(csv_to_io)?;
    }
    if forest.nodes.is_empty() {
        // An empty forest still gets its header, so the output is valid CSV for any reader.
        w.write_record([
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
        ])
        .map_err(csv_to_io)?;
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
    let orphans: HashSet<&str> = forest
        .integrity
        .orphans
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    let mut last_article = None;
    for (node, c) in forest.nodes.iter().zip(&forest.comments) {
        if node.depth == 0 && node.article != last_article {
            last_article = node.article;
            if let Some(a) = node.article.and_then(|a| forest.articles.get(a)) {
                let title = a
                    .title
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default();
                writeln!(out, "== {}{title}", a.key)?;
            }
        }
        let indent = "  ".repeat(node.depth as usize);
        let arrow = if node.depth > 0 { "└ " } else { "" };
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
        for (on, name) in [
            (c.deleted, "deleted"),
            (c.spam, "spam"),
            (c.kind != crate::ingest::CommentKind::Comment, "pingback"),
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
        )?;
    }
    Ok(())
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

    #[test]
    fn empty_csv_has_a_header() {
        let mut out = Vec::new();
        write(&Forest::default(), OutputFormat::Csv, &mut out).expect("writes");
        assert!(String::from_utf8(out)
            .expect("utf8")
            .starts_with("id,parent_id,thread_id"));
    }
}
