//! Ingest: turns input files into `Comment` records and the `Article`s they belong to.
//!
//! One file per source format (scraped article pages, CSV/TSV, Reddit, Hacker News, YouTube
//! and other JSON comment records, Disqus and WordPress XML); this module holds the shared
//! record types, detects the format of each input and dispatches to the right reader. No
//! record is dropped silently: what a reader cannot use becomes a `Reject` with its location
//! and reason, and a file that cannot be read at all becomes an `IngestError`.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

mod detect;
mod disqus;
mod error;
mod hackernews;
mod html;
mod json;
mod link;
mod page;
mod records;
mod reddit;
mod table;
mod text;
mod when;
mod wxr;
mod xml;
mod youtube;

pub use error::IngestError;
pub use when::moment;

/// The longest single record (CSV record, JSON line) accepted; longer ones are rejected.
pub const MAX_RECORD_BYTES: usize = crate::csvread::MAX_RECORD_BYTES;

/// Input formats. `Auto` looks at the content first and the file extension second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect from the content (and the extension when the content is ambiguous).
    #[default]
    Auto,
    /// A scraped article page, optionally followed by its comment section (text or HTML).
    Page,
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// Reddit API JSON: submission pages, listings, morechildren responses, Pushshift NDJSON.
    Reddit,
    /// Hacker News items (Firebase or Algolia API), JSON or JSON lines.
    #[value(name = "hackernews", alias = "hn")]
    #[serde(rename = "hackernews")]
    HackerNews,
    /// YouTube Data API commentThreads (JSON lines or a list response).
    #[value(name = "youtube")]
    #[serde(rename = "youtube")]
    YouTube,
    /// Comment records in JSON of no particular site (JSON lines, an array, or an object
    /// holding one), with fields named as a table's columns.
    Json,
    /// Disqus XML export.
    Disqus,
    /// WordPress WXR export.
    #[value(alias = "wordpress")]
    Wxr,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Format::Auto => "auto",
            Format::Page => "page",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Reddit => "reddit",
            Format::HackerNews => "hackernews",
            Format::YouTube => "youtube",
            Format::Json => "json",
            Format::Disqus => "disqus",
            Format::Wxr => "wxr",
        };
        f.write_str(name)
    }
}

/// Column names (or 1-based numbers) that override CSV/TSV header detection, one per role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnOverrides {
    pub id: Option<String>,
    pub parent: Option<String>,
    pub author: Option<String>,
    pub text: Option<String>,
    pub time: Option<String>,
    pub thread: Option<String>,
}

/// Where the comments of a saved page are, when the user says (`--comment-selector` etc.): CSS
/// selectors for the comment elements and, inside each, its author, text and time; the
/// attributes holding its id and its parent's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selectors {
    pub comment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_attr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_attr: Option<String>,
}

impl Selectors {
    /// The flags that give these selectors, for repeating the run.
    pub fn flags(&self) -> String {
        let mut out = format!("--comment-selector {:?}", self.comment);
        for (flag, v) in [
            ("--author-selector", &self.author),
            ("--text-selector", &self.text),
            ("--time-selector", &self.time),
            ("--id-attr", &self.id_attr),
            ("--parent-attr", &self.parent_attr),
        ] {
            if let Some(v) = v {
                out.push_str(&format!(" {flag} {v:?}"));
            }
        }
        out
    }

    /// Checks that every selector parses; the error names the flag.
    pub fn check(&self) -> Result<(), String> {
        html::check_selectors(self)
    }
}

/// How inputs are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOptions {
    pub format: Format,
    pub columns: ColumnOverrides,
    /// When the pages were saved (`--saved-at`): relative times ("8 hours ago") count back
    /// from it. A page that states its own saving moment uses its own.
    pub saved_at: Option<jiff::Timestamp>,
    /// Where the comments of saved HTML pages are, when the user says; the page readers are
    /// not used then.
    pub selectors: Option<Selectors>,
}

/// Where a record came from: a file and a line (text formats) or a record number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Shared by every record of a file (see `file_name`), not copied per comment.
    pub file: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
}

/// The file name as a shared string: consecutive calls with the same name return the same
/// allocation, so a million comments from one file hold one copy of its name.
pub fn file_name(file: &str) -> Arc<str> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<Arc<str>>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_ref() {
            Some(name) if **name == *file => name.clone(),
            _ => {
                let name: Arc<str> = Arc::from(file);
                *last = Some(name.clone());
                name
            }
        }
    })
}

impl Location {
    pub fn line(file: &str, line: u64) -> Location {
        Location {
            file: file_name(file),
            line: Some(line),
            record: None,
        }
    }

    pub fn record(file: &str, record: u64) -> Location {
        Location {
            file: file_name(file),
            line: None,
            record: Some(record),
        }
    }

    pub fn file(file: &str) -> Location {
        Location {
            file: file_name(file),
            line: None,
            record: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.record) {
            (Some(line), _) => write!(f, "{}: line {line}", self.file),
            (None, Some(record)) => write!(f, "{}: record {record}", self.file),
            (None, None) => f.write_str(&self.file),
        }
    }
}

/// What kind of entry a comment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    #[default]
    Comment,
    /// A WordPress pingback (another site linked here).
    Pingback,
    /// A WordPress trackback.
    Trackback,
    /// A comment a saved page shows collapsed (header shown, body hidden): kept in the tree,
    /// with no text to score.
    Collapsed,
}

impl CommentKind {
    /// A pingback or trackback: a link from another site, not a reader's comment.
    pub fn is_link(self) -> bool {
        matches!(self, CommentKind::Pingback | CommentKind::Trackback)
    }

    /// The lowercase name, as in the output columns.
    pub fn name(self) -> &'static str {
        match self {
            CommentKind::Comment => "comment",
            CommentKind::Pingback => "pingback",
            CommentKind::Trackback => "trackback",
            CommentKind::Collapsed => "collapsed",
        }
    }
}

impl fmt::Display for CommentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A short string (ids, names, times, keys): up to 24 bytes are stored inline, with no heap
/// allocation, which at a million comments is most of the forest's memory after the texts.
pub type Short = compact_str::CompactString;

/// One comment as read from the source, before threading.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comment {
    /// The source's id, or one synthesised from the position (`c3`, the CSV line number).
    pub id: Short,
    /// The parent comment's id as stated by the source.
    pub parent_id: Option<Short>,
    /// The name this comment says it replies to ("X in reply to Y"), when the source has no ids.
    pub reply_to: Option<Short>,
    pub author: Option<Short>,
    pub text: String,
    /// The time as the source wrote it (epoch seconds, a stamp, "8 hours ago").
    pub time: Option<Short>,
    /// `time` as ISO 8601 (`when::iso`): UTC with a `Z` where the zone is known.
    pub when: Option<Short>,
    /// The comment's own address on its site, where the source gives or implies one.
    pub permalink: Option<Short>,
    /// The text of the posts it quotes (forum quotes), kept out of `text` and so not scored.
    pub quoted: Option<Box<str>>,
    /// `parent_id` is the post it quotes, not a reply the source states.
    pub by_quote: bool,
    /// The article or thread this comment belongs to, as keyed in the source.
    pub thread_key: Option<Short>,
    pub deleted: bool,
    pub spam: bool,
    /// `Some(false)` when the source marks the comment as awaiting moderation.
    pub approved: Option<bool>,
    pub kind: CommentKind,
    /// True when the source states the reply structure explicitly (a missing `parent_id` then
    /// means top-level); false for sources without parent ids, where replies are inferred.
    pub parent_known: bool,
    /// How sure the reader is of the stated parent (or of being top-level), when it is less
    /// sure than the source's own ids: the generic reader of unknown HTML pages.
    pub confidence: Option<f32>,
    /// The score, points or likes the source showed for the comment (votes; may be negative),
    /// where it shows them.
    pub points: Option<i64>,
    pub loc: Location,
}

impl Comment {
    /// The moderation state in one word, from the flags the source gave: `deleted`, `spam`
    /// (also Hacker News `dead`), `pending` (awaiting approval), `pingback` or `trackback`,
    /// `approved`, or empty when the source has no moderation state (CSV, Reddit, pages…).
    pub fn status(&self) -> &'static str {
        if self.deleted {
            "deleted"
        } else if self.spam {
            "spam"
        } else if self.approved == Some(false) {
            "pending"
        } else if self.kind != CommentKind::Comment {
            self.kind.name()
        } else if self.approved == Some(true) {
            "approved"
        } else {
            ""
        }
    }
}

/// The page or post a set of comments belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Article {
    pub key: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    pub time: Option<String>,
    /// When the page was saved, where the page says (a SingleFile note, an archive's
    /// address): relative comment times count back from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<String>,
}

/// A record that could not be used, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub loc: Location,
    pub reason: String,
    /// A bad record (left out of JSON), or a whole input file with nothing in it.
    #[serde(skip_serializing_if = "RejectKind::is_record")]
    pub kind: RejectKind,
}

/// What a `Reject` stands for. Both kinds finish the command with exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// One record (row, line, element) that could not be used.
    #[default]
    Record,
    /// An input file that is empty or holds only whitespace: valid, but nothing was read.
    EmptyFile,
}

impl RejectKind {
    fn is_record(&self) -> bool {
        *self == RejectKind::Record
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.reason)
    }
}

/// Which source mechanism declared that replies are missing from the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialSource {
    /// A Reddit `more` stub listing child ids that were not expanded.
    RedditMore,
    /// A Reddit "continue this thread" stub: deeper replies exist but were not exported.
    RedditContinue,
    /// A YouTube thread whose `totalReplyCount` exceeds the replies exported inline.
    YouTubeReplies,
    /// A Hacker News item whose `kids` are not all in the input.
    HackerNewsKids,
    /// A saved page's "load more comments" / "N more replies" link.
    PageMore,
    /// A saved page that is one page of a longer topic ("Page 2 of 10", a `rel=next` link).
    Pagination,
}

impl fmt::Display for PartialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartialSource::RedditMore => "reddit more stub",
            PartialSource::RedditContinue => "reddit continue-thread stub",
            PartialSource::YouTubeReplies => "youtube totalReplyCount",
            PartialSource::HackerNewsKids => "hacker news kids",
            PartialSource::PageMore => "page load-more link",
            PartialSource::Pagination => {
                "one page of a longer topic: the other pages were not read"
            }
        })
    }
}

/// A note from the source that some replies under `parent_id` were not exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partial {
    pub loc: Location,
    pub source: PartialSource,
    pub thread_key: Option<String>,
    /// The comment whose replies are incomplete (None: the article itself).
    pub parent_id: Option<String>,
    /// How many replies the source says exist beyond those exported.
    pub declared_missing: u64,
    /// Ids of the missing replies when the source names them (they may arrive in another file).
    pub child_ids: Vec<String>,
}

/// Everything read from the inputs, in input order.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub articles: Vec<Article>,
    pub comments: Vec<Comment>,
    pub rejects: Vec<Reject>,
    pub partials: Vec<Partial>,
}

impl Input {
    pub(crate) fn reject(&mut self, loc: Location, reason: impl Into<String>) {
        self.rejects.push(Reject {
            loc,
            reason: reason.into(),
            kind: RejectKind::Record,
        });
    }

    /// Notes a page that gave no comments, with why: reported like an empty file.
    pub(crate) fn empty_page(&mut self, file: &str, reason: String) {
        self.rejects.push(Reject {
            loc: Location::file(file),
            reason,
            kind: RejectKind::EmptyFile,
        });
    }

    /// Notes an input file with nothing in it (`size` bytes of whitespace).
    fn empty_file(&mut self, file: &str, size: usize) {
        let reason = match size {
            0 => "the file is empty (0 bytes); no comments read".to_string(),
            n => format!("the file is empty (only whitespace, {n} bytes); no comments read"),
        };
        self.rejects.push(Reject {
            loc: Location::file(file),
            reason,
            kind: RejectKind::EmptyFile,
        });
    }
}

/// Reads every input in order (`-` is stdin) and returns their records together.
///
/// A file that cannot be read at all is an error; records that cannot be used are collected
/// in `Input::rejects`. Articles with the same key (a submission and its morechildren file)
/// are merged, keeping the first non-empty value of each field.
pub fn read_inputs(paths: &[PathBuf], opts: &IngestOptions) -> Result<Input, IngestError> {
    let mut input = Input::default();
    for path in paths {
        read_one(path, opts, &mut input)?;
    }
    input.articles = merge_articles(std::mem::take(&mut input.articles));
    strip_nul(&mut input);
    cap_records(&mut input);
    Ok(input)
}

/// Reads in-memory bytes as if they were a file called `name` (used by tests and fuzzing).
pub fn read_bytes(name: &str, bytes: &[u8], opts: &IngestOptions) -> Result<Input, IngestError> {
    let mut input = Input::default();
    read_source(name, Box::new(BufReader::new(bytes)), opts, &mut input)?;
    input.articles = merge_articles(std::mem::take(&mut input.articles));
    strip_nul(&mut input);
    cap_records(&mut input);
    Ok(input)
}

/// Applies the one record-size cap of CSV and JSON lines to every format: a comment whose text
/// is over [`MAX_RECORD_BYTES`] (one 50 MB comment inside a JSON document, a WXR body) is
/// rejected with its place, as an over-long CSV record is.
fn cap_records(input: &mut Input) {
    if input
        .comments
        .iter()
        .all(|c| c.text.len() <= MAX_RECORD_BYTES)
    {
        return;
    }
    let comments = std::mem::take(&mut input.comments);
    for c in comments {
        if c.text.len() > MAX_RECORD_BYTES {
            let reason = format!(
                "comment {}: the text is {} bytes, over the {MAX_RECORD_BYTES}-byte limit on a record",
                c.id,
                c.text.len()
            );
            input.reject(c.loc, reason);
        } else {
            input.comments.push(c);
        }
    }
}

/// Removes NUL characters (a JSON `\u0000`, a stray byte in a CSV) from every field: they
/// mean nothing in a comment, and a NUL in an output CSV makes tools (threadlens included)
/// take the file for binary.
fn strip_nul(input: &mut Input) {
    fn clean(s: &mut String) {
        if s.contains('\0') {
            s.retain(|c| c != '\0');
        }
    }
    fn clean_short(s: &mut Short) {
        if s.contains('\0') {
            *s = s.chars().filter(|&c| c != '\0').collect();
        }
    }
    for c in &mut input.comments {
        clean(&mut c.text);
        clean_short(&mut c.id);
        for field in [
            &mut c.parent_id,
            &mut c.reply_to,
            &mut c.author,
            &mut c.time,
            &mut c.when,
            &mut c.permalink,
            &mut c.thread_key,
        ]
        .into_iter()
        .flatten()
        {
            clean_short(field);
        }
    }
    for a in &mut input.articles {
        clean(&mut a.key);
        for field in [
            &mut a.title,
            &mut a.body,
            &mut a.url,
            &mut a.time,
            &mut a.saved_at,
        ]
        .into_iter()
        .flatten()
        {
            clean(field);
        }
    }
}

fn read_one(path: &Path, opts: &IngestOptions, input: &mut Input) -> Result<(), IngestError> {
    if path.as_os_str() == "-" {
        let reader = BufReader::with_capacity(1 << 16, std::io::stdin());
        return read_source("<stdin>", Box::new(reader), opts, input);
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| IngestError::Io {
        file: name.clone(),
        source,
    })?;
    read_source(
        &name,
        Box::new(BufReader::with_capacity(1 << 16, file)),
        opts,
        input,
    )
}

fn read_source(
    name: &str,
    mut reader: Box<dyn BufRead + '_>,
    opts: &IngestOptions,
    input: &mut Input,
) -> Result<(), IngestError> {
    let io_err = |source| IngestError::Io {
        file: name.to_string(),
        source,
    };
    let head = peek(&mut reader).map_err(io_err)?;
    if is_blank(&head) {
        // Empty, or starting with a lot of whitespace: read it all to tell which, then detect
        // the format from the first bytes that are not whitespace.
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(io_err)?;
        if is_blank(&bytes) {
            input.empty_file(name, bytes.len());
            return Ok(());
        }
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(0);
        let head = bytes[..bytes.len().min(start + 8192)].to_vec();
        return dispatch(name, &head, Box::new(bytes.as_slice()), opts, input);
    }
    dispatch(name, &head, reader, opts, input)
}

/// Detects the format from `head` (the first bytes of `reader`, not consumed) and reads.
fn dispatch(
    name: &str,
    head: &[u8],
    reader: Box<dyn BufRead + '_>,
    opts: &IngestOptions,
    input: &mut Input,
) -> Result<(), IngestError> {
    let format = detect::detect(name, head, opts.format)?;
    let before = (
        input.comments.len(),
        input.rejects.len(),
        input.partials.len(),
        input.articles.len(),
    );
    read_as(format, name, reader, opts, input)?;
    when::fill(
        &mut input.comments[before.0..],
        &input.articles[before.3..],
        opts.saved_at,
    );
    let found_nothing = input.comments.len() == before.0
        && input.rejects.len() == before.1
        && input.partials.len() == before.2;
    let has_article = input.articles[before.3..]
        .iter()
        .any(|a| a.title.is_some() || a.body.is_some());
    if found_nothing && !has_article {
        // A non-empty file that gave nothing is reported like an empty one, never as success.
        input.rejects.push(Reject {
            loc: Location::file(name),
            reason: nothing_found(format),
            kind: RejectKind::EmptyFile,
        });
    }
    Ok(())
}

/// Why a non-empty file gave no comments, by the format it was read as.
fn nothing_found(format: Format) -> String {
    let looked_for = match format {
        Format::Csv | Format::Tsv => "rows under the header; the table has a header only",
        Format::Page => "an article or a comment section",
        Format::Reddit => "Reddit comments (t1 things) or submissions",
        Format::HackerNews => "Hacker News items",
        Format::YouTube => "YouTube commentThreads or comments",
        Format::Json => "objects with a text field",
        Format::Disqus => "<thread> or <post> elements under <disqus>",
        Format::Wxr => "<item> elements with <wp:comment>s",
        Format::Auto => "comments",
    };
    format!("no comments read: read as {format}, found no {looked_for}")
}

fn read_as(
    format: Format,
    name: &str,
    mut reader: Box<dyn BufRead + '_>,
    opts: &IngestOptions,
    input: &mut Input,
) -> Result<(), IngestError> {
    if let Format::Csv | Format::Tsv = format {
        let delimiter = (format == Format::Tsv).then_some(b'\t');
        return table::read(reader, name, delimiter, &opts.columns, input);
    }
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| IngestError::Io {
            file: name.to_string(),
            source,
        })?;
    match format {
        Format::Page if page::is_html(&bytes) => {
            html::read(&bytes, name, opts.selectors.as_ref(), input)
        }
        Format::Page => page::read(&bytes, name, input),
        Format::Reddit => reddit::read(&bytes, name, input),
        Format::HackerNews => hackernews::read(&bytes, name, input),
        Format::YouTube => youtube::read(&bytes, name, input),
        Format::Json => records::read(&bytes, name, &opts.columns, input),
        Format::Disqus => disqus::read(&bytes, name, input),
        Format::Wxr => wxr::read(&bytes, name, input),
        Format::Auto | Format::Csv | Format::Tsv => {
            Err(IngestError::format(name, "internal: format not resolved"))
        }
    }
}

/// Nothing but whitespace (after an optional UTF-8 byte-order mark).
fn is_blank(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Returns up to the first 8 KiB without consuming them.
fn peek(reader: &mut dyn BufRead) -> std::io::Result<Vec<u8>> {
    loop {
        match reader.fill_buf() {
            Ok(buf) => return Ok(buf[..buf.len().min(8192)].to_vec()),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Merges articles that share a key, keeping first appearance order.
fn merge_articles(articles: Vec<Article>) -> Vec<Article> {
    let mut out: Vec<Article> = Vec::with_capacity(articles.len());
    let mut index = std::collections::HashMap::new();
    for article in articles {
        match index.get(&article.key) {
            Some(&i) => {
                let kept: &mut Article = &mut out[i];
                kept.title = kept.title.take().or(article.title);
                kept.body = kept.body.take().or(article.body);
                kept.url = kept.url.take().or(article.url);
                kept.time = kept.time.take().or(article.time);
                kept.saved_at = kept.saved_at.take().or(article.saved_at);
            }
            None => {
                index.insert(article.key.clone(), out.len());
                out.push(article);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_display() {
        let cases = [
            (Location::line("x.csv", 12), "x.csv: line 12"),
            (Location::record("x.json", 7), "x.json: record 7"),
            (Location::file("x.xml"), "x.xml"),
        ];
        for (loc, want) in cases {
            assert_eq!(loc.to_string(), want);
        }
    }

    #[test]
    fn status_from_the_flags() {
        let c = |deleted, spam, approved, kind| Comment {
            deleted,
            spam,
            approved,
            kind,
            ..Comment::default()
        };
        use CommentKind::{Comment as Plain, Pingback, Trackback};
        let cases = [
            (c(false, false, None, Plain), ""),
            (c(false, false, Some(true), Plain), "approved"),
            (c(false, false, Some(false), Plain), "pending"),
            (c(false, true, Some(false), Plain), "spam"),
            (c(true, true, None, Plain), "deleted"),
            (c(false, false, Some(true), Pingback), "pingback"),
            (c(false, false, Some(true), Trackback), "trackback"),
            (c(false, false, Some(false), Pingback), "pending"),
        ];
        for (comment, want) in cases {
            assert_eq!(comment.status(), want, "{comment:?}");
        }
    }

    #[test]
    fn merge_articles_fills_fields_in_order() {
        let a = Article {
            key: "k".into(),
            ..Article::default()
        };
        let b = Article {
            key: "k".into(),
            title: Some("T".into()),
            ..Article::default()
        };
        let c = Article {
            key: "j".into(),
            ..Article::default()
        };
        let merged = merge_articles(vec![a, c, b]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].title.as_deref(), Some("T"));
        assert_eq!(merged[1].key, "j");
    }

    #[test]
    fn empty_input_is_valid_and_noted_as_an_empty_file() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "the file is empty (0 bytes); no comments read"),
            (
                b" \r\n\t\n",
                "the file is empty (only whitespace, 5 bytes); no comments read",
            ),
            (
                b"\xEF\xBB\xBF\n",
                "the file is empty (only whitespace, 4 bytes); no comments read",
            ),
        ];
        for format in [
            Format::Auto,
            Format::Csv,
            Format::Page,
            Format::Reddit,
            Format::Disqus,
        ] {
            for (bytes, reason) in cases {
                let opts = IngestOptions {
                    format,
                    ..IngestOptions::default()
                };
                let input = read_bytes("empty", bytes, &opts).expect("empty input reads");
                assert!(input.comments.is_empty(), "{format}");
                assert_eq!(
                    input.rejects,
                    [Reject {
                        loc: Location::file("empty"),
                        reason: reason.to_string(),
                        kind: RejectKind::EmptyFile,
                    }],
                    "{format} {bytes:?}"
                );
            }
        }
    }

    #[test]
    fn content_after_a_long_run_of_whitespace_is_detected_and_read() {
        let mut bytes = vec![b'\n'; 10_000];
        bytes.extend_from_slice(b"id,parent_id,text\n1,,hello\n");
        let input = read_bytes("w", &bytes, &IngestOptions::default()).expect("reads");
        assert_eq!(input.comments.len(), 1);
        assert_eq!(input.comments[0].loc.line, Some(10_002));
        // A header-only table reads nothing, and says so like an empty file.
        let input = read_bytes("h.csv", b"id,text\n", &IngestOptions::default()).expect("reads");
        assert!(input.comments.is_empty());
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].kind, RejectKind::EmptyFile);
        assert!(
            input.rejects[0].reason.contains("header only"),
            "{:?}",
            input.rejects
        );
    }
}
