//! CSV and TSV comment tables with a header row. Columns are found by common names (or set by
//! `--id-col` and friends, by name or 1-based number); only a text column is required. Reads
//! as a stream with one reused `ByteRecord`, so a million rows cost one allocation per field
//! kept, and a bad row (wrong field count, invalid UTF-8, over-long) is rejected with its line.
//! Line numbers come from byte offsets and the newlines seen on the way (`LineTracker`), not from
//! the csv crate's `Position::line`, which lags one line per record in CRLF files.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, Read};
use std::rc::Rc;

use super::reddit::strip_prefix;
use super::{Article, ColumnOverrides, Comment, IngestError, Input, Location, MAX_RECORD_BYTES};

/// Header names recognised for each role, best first.
const ID: &[&str] = &[
    "id",
    "comment_id",
    "commentid",
    "cid",
    "item_id",
    "message_id",
];
const PARENT: &[&str] = &[
    "parent_id",
    "in_reply_to",
    "in_reply_to_id",
    "reply_to",
    "reply_to_id",
    "parent",
    "parent_comment_id",
    "parentid",
];
const AUTHOR: &[&str] = &[
    "author",
    "user",
    "username",
    "user_name",
    "by",
    "author_name",
    "name",
    "screen_name",
    "commenter",
];
const TEXT: &[&str] = &[
    "text",
    "body",
    "comment",
    "content",
    "message",
    "comment_text",
    "comment_body",
    "text_original",
];
const TIME: &[&str] = &[
    "time",
    "created_at",
    "created_utc",
    "timestamp",
    "date",
    "created",
    "datetime",
    "published_at",
    "posted_at",
];
const THREAD: &[&str] = &[
    "thread_id",
    "article_id",
    "post_id",
    "link_id",
    "url",
    "story_id",
    "video_id",
    "submission_id",
    "thread",
    "article",
    "page_url",
    "page",
];
const TITLE: &[&str] = &[
    "article_title",
    "link_title",
    "post_title",
    "thread_title",
    "title",
];

/// Votes the site showed (Reddit's and Hacker News's `score`, YouTube's `like_count`).
const POINTS: &[&str] = &[
    "points",
    "score",
    "ups",
    "upvotes",
    "likes",
    "like_count",
    "votes",
];

/// Lowercase, trimmed, BOM-free, with spaces, dashes and dots as underscores.
pub(crate) fn normalize_header(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .trim_matches('"')
        .to_lowercase()
        .replace([' ', '-', '.'], "_")
}

/// Whether a normalised header name is one this reader recognises.
pub(crate) fn is_known_column(name: &str) -> bool {
    [ID, PARENT, TEXT, THREAD]
        .iter()
        .any(|names| names.contains(&name))
}

/// Column positions for each role.
#[derive(Debug, Default, PartialEq, Eq)]
struct Columns {
    id: Option<usize>,
    parent: Option<usize>,
    author: Option<usize>,
    text: usize,
    time: Option<usize>,
    thread: Option<usize>,
    title: Option<usize>,
    /// The title column names the article (`article_title`, `post_title`, …, not a bare
    /// `title`, which may be a comment's own) and there is no thread column: comments with the
    /// same title then belong to the same article.
    title_keys: bool,
    points: Option<usize>,
}

fn columns(
    headers: &[String],
    overrides: &ColumnOverrides,
    file: &str,
) -> Result<Columns, IngestError> {
    let pick = |flag: &str,
                given: &Option<String>,
                names: &[&str]|
     -> Result<Option<usize>, IngestError> {
        match given {
            Some(given) => find_override(headers, given).map(Some).ok_or_else(|| {
                IngestError::format(
                    file,
                    format!(
                        "{flag} {given:?} is not a column (columns: {})",
                        headers.join(", ")
                    ),
                )
            }),
            None => Ok(names
                .iter()
                .find_map(|n| headers.iter().position(|h| h == n))),
        }
    };
    let text = match pick("--text-col", &overrides.text, TEXT)? {
        Some(i) => i,
        None if headers.len() == 1 => 0,
        None => {
            return Err(IngestError::format(
                file,
                format!(
                    "no text column (looked for {}; use --text-col); columns: {}",
                    TEXT.join(", "),
                    headers.join(", ")
                ),
            ))
        }
    };
    let mut cols = Columns {
        id: pick("--id-col", &overrides.id, ID)?,
        parent: pick("--parent-col", &overrides.parent, PARENT)?,
        author: pick("--author-col", &overrides.author, AUTHOR)?,
        text,
        time: pick("--time-col", &overrides.time, TIME)?,
        thread: pick("--thread-col", &overrides.thread, THREAD)?,
        title: TITLE
            .iter()
            .find_map(|n| headers.iter().position(|h| h == n)),
        title_keys: false,
        points: POINTS
            .iter()
            .find_map(|n| headers.iter().position(|h| h == n)),
    };
    // A column found by name for two roles serves the one it was given to explicitly, or text.
    for role in [
        &mut cols.id,
        &mut cols.parent,
        &mut cols.author,
        &mut cols.time,
        &mut cols.thread,
        &mut cols.title,
        &mut cols.points,
    ] {
        if *role == Some(text) {
            *role = None;
        }
    }
    cols.title_keys = cols.thread.is_none()
        && cols
            .title
            .is_some_and(|i| headers.get(i).is_some_and(|h| h != "title"));
    Ok(cols)
}

fn find_override(headers: &[String], given: &str) -> Option<usize> {
    let norm = normalize_header(given);
    headers.iter().position(|h| *h == norm).or_else(|| {
        given
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=headers.len()).contains(n))
            .map(|n| n - 1)
    })
}

/// Picks the delimiter that splits the header line into the most fields.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| (line.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',')
}

pub(crate) fn read(
    mut reader: Box<dyn BufRead + '_>,
    file: &str,
    delimiter: Option<u8>,
    overrides: &ColumnOverrides,
    input: &mut Input,
) -> Result<(), IngestError> {
    let io_err = |source| IngestError::Io {
        file: file.to_string(),
        source,
    };
    let delimiter = match delimiter {
        Some(d) => d,
        None => sniff_delimiter(reader.fill_buf().map_err(io_err)?),
    };
    let (tap, mut lines) = LineTracker::tap(reader);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(tap);
    let mut rec = csv::ByteRecord::new();
    let read_err = |err: csv::Error| match err.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Io {
            file: file.to_string(),
            source,
        },
        other => IngestError::format(file, format!("{other:?}")),
    };
    if !rdr.read_byte_record(&mut rec).map_err(read_err)? {
        return Ok(()); // no header, no rows (empty files are noted before this reader runs)
    }
    let mut prev_end = rdr.position().byte();
    lines.record_line(prev_end, &rec);
    let mut prev_breaks = lines.counted;
    let headers: Vec<String> = rec
        .iter()
        .map(|h| normalize_header(&String::from_utf8_lossy(h)))
        .collect();
    let cols = columns(&headers, overrides, file)?;
    let mut sink = Sink {
        file,
        delimiter,
        headers,
        cols,
        seen_threads: HashSet::new(),
        zero_parent: Vec::new(),
        zero_id: false,
    };
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let loc = err.position().map_or_else(
                    || Location::file(file),
                    |p| Location::line(file, lines.line_after(p.byte())),
                );
                match err.into_kind() {
                    csv::ErrorKind::Io(source) => {
                        return Err(IngestError::Io {
                            file: file.to_string(),
                            source,
                        })
                    }
                    other => {
                        input.reject(loc, format!("unreadable CSV record: {other:?}"));
                        continue;
                    }
                }
            }
        }
        let end = rdr.position().byte();
        let line = lines.record_line(end, &rec);
        // A record that spans lines may be a quote that never closed, swallowing the rows
        // after it: look at its raw lines before believing it.
        let swallowed = (breaks_in(rec.as_slice()) > 0)
            .then(|| lines.journal.borrow_mut().span(prev_end, end))
            .flatten()
            .and_then(|span| Some((sink.swallowed(&span, &rec)?, span)));
        match swallowed {
            // The first line from the raw bytes: at the end of the file a runaway quote holds
            // the final line break, which `record_line` would take for the terminator.
            Some((resume, span)) => {
                let first = prev_breaks + 1 + breaks_in(leading_breaks(&span));
                sink.resync(&span, resume, first, input);
            }
            None => sink.accept(&rec, line, input),
        }
        lines.journal.borrow_mut().drop_before(end);
        prev_end = end;
        prev_breaks = lines.counted;
    }
    sink.finish(input);
    Ok(())
}

/// Where the rows of one table go, with what is needed to make comments of them.
struct Sink<'a> {
    file: &'a str,
    delimiter: u8,
    headers: Vec<String>,
    cols: Columns,
    seen_threads: HashSet<String>,
    /// `0` in the parent column means "no parent" unless a comment of this file really has
    /// the id 0; those rows are remembered and pointed at it once the file is read.
    zero_parent: Vec<usize>,
    zero_id: bool,
}

impl Sink<'_> {
    /// Makes a comment (or a reject) of one record that starts on `line`.
    fn accept(&mut self, rec: &csv::ByteRecord, line: u64, input: &mut Input) {
        let loc = Location::line(self.file, line);
        match row(rec, &self.headers, &self.cols, line) {
            Ok(mut comment) => {
                if let Some(key) = &comment.thread_key {
                    if !self.seen_threads.contains(key.as_str()) {
                        self.seen_threads.insert(key.to_string());
                        let title = self
                            .cols
                            .title
                            .and_then(|i| field(rec, i))
                            .filter(|t| !t.is_empty());
                        input.articles.push(Article {
                            key: key.to_string(),
                            title,
                            ..Article::default()
                        });
                    }
                }
                comment.loc = loc;
                self.zero_id |= comment.id == "0";
                if comment.parent_id.is_none() && is_zero(rec, self.cols.parent) {
                    self.zero_parent.push(input.comments.len());
                }
                input.comments.push(comment);
            }
            Err(reason) => input.reject(loc, reason),
        }
    }

    fn finish(self, input: &mut Input) {
        if self.zero_id {
            for i in self.zero_parent {
                input.comments[i].parent_id = Some("0".into());
            }
        }
    }

    /// Whether a multi-line record (raw bytes `span`) is a quote that opened and never closed
    /// where it should, rather than a quoted field with line breaks in it: its quote is still
    /// open at the end of the file, or one of its later lines is a complete row on its own
    /// (the header's number of fields, an id shaped like this record's id). When it is, says
    /// where reading can resume (`first_row`), found once for `resync`.
    fn swallowed(&self, span: &[u8], rec: &csv::ByteRecord) -> Option<Option<usize>> {
        let open_at_end = scan(span, self.delimiter, Quote::Start) == Quote::Quoted;
        if !open_at_end && self.cols.id.is_none() {
            return None; // without ids a row-like line in a comment is too ambiguous
        }
        let resume = self.first_row(span, rec);
        (open_at_end || resume.is_some()).then_some(resume)
    }

    /// The index (among the lines of `span`, 0 being the record's first) of the first later
    /// line that is a row of this table on its own.
    fn first_row(&self, span: &[u8], rec: &csv::ByteRecord) -> Option<usize> {
        let own_id = self
            .cols
            .id
            .map(|i| rec.get(i).unwrap_or_default().trim_ascii());
        split_lines(span).enumerate().skip(1).find_map(|(k, line)| {
            let r = self.alone(line)?;
            let id_ok = match (self.cols.id, own_id) {
                (Some(i), Some(own)) => same_shape(own, r.get(i).unwrap_or_default().trim_ascii()),
                _ => true,
            };
            (r.len() == self.headers.len() && id_ok).then_some(k)
        })
    }

    /// `line` parsed as a record on its own, if it is one (its quotes close on the line, and
    /// no quote sits inside an unquoted field: a line like `more text, the end"` is the last
    /// line of a quoted field, which no CSV writer would emit as a row).
    fn alone(&self, line: &[u8]) -> Option<csv::ByteRecord> {
        if scan(line, self.delimiter, Quote::Start) == Quote::Quoted
            || stray_quote(line, self.delimiter)
        {
            return None;
        }
        self.parse_one(line)
    }

    /// The first record in `bytes`.
    fn parse_one(&self, bytes: &[u8]) -> Option<csv::ByteRecord> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut rec = csv::ByteRecord::new();
        rdr.read_byte_record(&mut rec).ok().filter(|&got| got)?;
        Some(rec)
    }

    /// Recovers the rows a runaway quote swallowed: the lines from the one where the quote
    /// opened up to the first later line that is a row on its own are rejected together, and
    /// from that line on the lines are read again, one record at a time (a record runs on only
    /// while its own quotes are open). With no such line, the whole span is one reject.
    fn resync(&mut self, span: &[u8], resume: Option<usize>, first_line: u64, input: &mut Input) {
        let lines: Vec<&[u8]> = split_lines(span).collect();
        let last = first_line + lines.len() as u64 - 1;
        let Some(k) = resume else {
            input.reject(
                Location::line(self.file, first_line),
                format!(
                    "a quoted field opened on this line never closes; lines {first_line}-{last} \
                     are left out (no later line reads as a row to resume at)"
                ),
            );
            return;
        };
        let resume = first_line + k as u64;
        input.reject(
            Location::line(self.file, first_line),
            format!(
                "a quoted field opened on this line does not close before the next row; lines \
                 {first_line}-{} are left out and reading resumes at line {resume}",
                resume - 1
            ),
        );
        let mut at = k;
        while at < lines.len() {
            let start = at;
            let mut state = scan(lines[at], self.delimiter, Quote::Start);
            at += 1;
            while state == Quote::Quoted && at < lines.len() {
                state = scan(lines[at], self.delimiter, state);
                at += 1;
            }
            let line = first_line + start as u64;
            let chunk: Vec<u8> = lines[start..at].concat();
            if chunk.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                continue; // a blank line, as the reader skips it
            }
            if state == Quote::Quoted {
                input.reject(
                    Location::line(self.file, line),
                    format!("a quoted field opened on this line never closes; lines {line}-{last} are left out"),
                );
                continue;
            }
            match self.parse_one(&chunk) {
                Some(rec) => self.accept(&rec, line, input),
                None => input.reject(Location::line(self.file, line), "unreadable CSV record"),
            }
        }
    }
}

/// Where a CSV scanner is within a field (csv-core's rules: a quote opens a quoted field only
/// at the start of a field; inside one, `""` is a quote and `"` closes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Start,
    Unquoted,
    Quoted,
    /// Just after a quote in a quoted field: closed, unless a second quote follows.
    Closed,
}

/// The state after reading `bytes` from state `s`.
fn scan(bytes: &[u8], delimiter: u8, mut s: Quote) -> Quote {
    for &b in bytes {
        s = match s {
            Quote::Quoted if b == b'"' => Quote::Closed,
            Quote::Quoted => Quote::Quoted,
            _ if b == b'\n' || b == b'\r' || b == delimiter => Quote::Start,
            Quote::Start | Quote::Closed if b == b'"' => Quote::Quoted,
            _ => Quote::Unquoted,
        };
    }
    s
}

/// Whether `line` has a quote inside an unquoted field (after other characters of the field).
fn stray_quote(line: &[u8], delimiter: u8) -> bool {
    let mut s = Quote::Start;
    for &b in line {
        if s == Quote::Unquoted && b == b'"' {
            return true;
        }
        s = scan(&[b], delimiter, s);
    }
    false
}

/// The line breaks at the start of `bytes` (the end of the previous record, blank lines).
fn leading_breaks(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(bytes.len());
    &bytes[..n]
}

/// The lines of `bytes` with their terminators (`\n`, `\r\n` or a lone `\r`), leading line
/// breaks skipped (the end of the previous record, blank lines the reader skips).
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = &bytes[leading_breaks(bytes).len()..];
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match memchr::memchr2(b'\n', b'\r', rest) {
            Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => i + 2,
            Some(i) => i + 1,
            None => rest.len(),
        };
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Two ids of the same kind: both numbers, or both other tokens of the same length (Reddit's
/// base-36 ids, hashes). Used to tell a swallowed row from a line of comment text.
fn same_shape(a: &[u8], b: &[u8]) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let token = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    match (digits(a), digits(b)) {
        (true, true) => true,
        (false, false) => token(a) && token(b) && a.len() == b.len(),
        _ => false,
    }
}

/// Whether the parent column of `rec` holds `0`.
fn is_zero(rec: &csv::ByteRecord, parent: Option<usize>) -> bool {
    parent
        .and_then(|i| rec.get(i))
        .is_some_and(|p| p.trim_ascii() == b"0")
}

/// Finds the 1-based line where each record starts, in O(n) over the whole stream.
///
/// The CSV reader reads through `NewlineTap`, which notes the offset of every line break it
/// passes on (`\n`, or a `\r` not followed by `\n`); the tracker drops the offsets it has
/// counted, so it holds only the breaks in the reader's look-ahead buffer. A record's first
/// line is one plus the breaks before its end (the byte after its terminator), less the
/// terminator itself and the breaks inside quoted fields. The end offset is exact with LF,
/// CRLF, CR and blank lines alike, where the record's start offset (the previous record's end,
/// before any skipped blank lines or the `\n` of a CRLF) is not.
struct LineTracker {
    seen: Rc<RefCell<VecDeque<u64>>>,
    journal: Rc<RefCell<Journal>>,
    /// Breaks counted (and dropped from `seen`) so far.
    counted: u64,
    /// Offset of the last break counted.
    last_break: Option<u64>,
}

/// Passes bytes through unchanged, noting where the line breaks are and keeping the bytes
/// of the record being read (`Journal`), so a suspect record can be looked at line by line.
struct NewlineTap<R> {
    inner: R,
    offset: u64,
    /// A `\r` that ended the previous read: a break unless the next byte is `\n`.
    pending_cr: Option<u64>,
    seen: Rc<RefCell<VecDeque<u64>>>,
    journal: Rc<RefCell<Journal>>,
}

/// The raw bytes read since the end of the last record (the record in progress and the csv
/// reader's look-ahead), up to a cap; older bytes are dropped as records complete.
#[derive(Default)]
struct Journal {
    /// Stream offset of `bytes[0]`.
    base: u64,
    bytes: VecDeque<u8>,
    /// Bytes were not kept because the cap was reached (spans past `base + len` are lost).
    overflowed: bool,
}

/// What the journal keeps at most: one record at the size limit, plus read-ahead.
const JOURNAL_CAP: usize = MAX_RECORD_BYTES + (1 << 20);

impl Journal {
    fn push(&mut self, bytes: &[u8]) {
        if self.overflowed || self.bytes.len() + bytes.len() > JOURNAL_CAP {
            self.overflowed = true;
            return;
        }
        self.bytes.extend(bytes);
    }

    /// Forgets everything before stream offset `end`.
    fn drop_before(&mut self, end: u64) {
        if self.overflowed {
            // What was not kept cannot be recovered: restart at the reader's position.
            self.bytes.clear();
            self.base = end;
            self.overflowed = false;
            return;
        }
        let n = (end.saturating_sub(self.base) as usize).min(self.bytes.len());
        self.bytes.drain(..n);
        self.base += n as u64;
    }

    /// The bytes from stream offset `start` to `end`, if they were all kept.
    fn span(&mut self, start: u64, end: u64) -> Option<Vec<u8>> {
        if self.overflowed || start < self.base || end > self.base + self.bytes.len() as u64 {
            return None;
        }
        let (a, b) = ((start - self.base) as usize, (end - self.base) as usize);
        Some(self.bytes.range(a..b).copied().collect())
    }
}

impl<R: Read> Read for NewlineTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n.min(buf.len())];
        self.journal.borrow_mut().push(read);
        let mut seen = self.seen.borrow_mut();
        if let Some(cr) = self.pending_cr.take() {
            if read.first().is_some_and(|&b| b != b'\n') {
                seen.push_back(cr);
            }
        }
        for i in memchr::memchr2_iter(b'\n', b'\r', read) {
            let at = self.offset + i as u64;
            match (read[i], read.get(i + 1)) {
                (b'\n', _) => seen.push_back(at),
                (_, Some(b'\n')) => {}
                (_, Some(_)) => seen.push_back(at),
                (_, None) => self.pending_cr = Some(at),
            }
        }
        self.offset += read.len() as u64;
        Ok(n)
    }
}

/// Line breaks inside a record's fields, counted the way `NewlineTap` counts them.
fn breaks_in(bytes: &[u8]) -> u64 {
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
        .count() as u64
}

impl LineTracker {
    fn tap<R: Read>(inner: R) -> (NewlineTap<R>, LineTracker) {
        let seen = Rc::new(RefCell::new(VecDeque::new()));
        let journal = Rc::new(RefCell::new(Journal::default()));
        let tap = NewlineTap {
            inner,
            offset: 0,
            pending_cr: None,
            seen: seen.clone(),
            journal: journal.clone(),
        };
        let tracker = LineTracker {
            seen,
            journal,
            counted: 0,
            last_break: None,
        };
        (tap, tracker)
    }

    /// Counts the breaks before byte `end` (offsets never go backwards).
    fn count_before(&mut self, end: u64) -> u64 {
        let mut seen = self.seen.borrow_mut();
        while let Some(&at) = seen.front() {
            if at >= end {
                break;
            }
            seen.pop_front();
            self.counted += 1;
            self.last_break = Some(at);
        }
        self.counted
    }

    /// The line of the byte after offset `end` (for errors, which know only an offset).
    fn line_after(&mut self, end: u64) -> u64 {
        self.count_before(end) + 1
    }

    /// The first line of `rec`, which the reader has just read, ending before byte `end`. A
    /// `\r` terminator still waiting for the next read to show it is not half of a CRLF is not
    /// counted yet, and then not subtracted either: the result is the same.
    fn record_line(&mut self, end: u64, rec: &csv::ByteRecord) -> u64 {
        let before = self.count_before(end);
        let terminator = u64::from(end > 0 && self.last_break == Some(end - 1));
        (before + 1)
            .saturating_sub(terminator + breaks_in(rec.as_slice()))
            .max(1)
    }
}

fn field(rec: &csv::ByteRecord, i: usize) -> Option<String> {
    rec.get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(|s| s.trim().to_string())
}

/// Turns one record into a comment (location filled in by the caller).
fn row(
    rec: &csv::ByteRecord,
    headers: &[String],
    cols: &Columns,
    line: u64,
) -> Result<Comment, String> {
    if rec.len() != headers.len() {
        return Err(format!(
            "has {} fields, the header has {}",
            rec.len(),
            headers.len()
        ));
    }
    let size = rec.as_slice().len();
    if size > MAX_RECORD_BYTES {
        return Err(format!(
            "record is {size} bytes, over the {MAX_RECORD_BYTES} limit"
        ));
    }
    let get = |i: Option<usize>| -> Result<Option<&str>, String> {
        let Some(i) = i else { return Ok(None) };
        let bytes = rec.get(i).unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(|s| Some(s.trim()).filter(|s| !s.is_empty()))
            .map_err(|err| {
                format!(
                    "invalid UTF-8 in column {:?} (byte 0x{:02X}); {}",
                    headers.get(i).map_or("", String::as_str),
                    bytes.get(err.valid_up_to()).copied().unwrap_or_default(),
                    super::text::NOT_UTF8_HINT
                )
            })
    };
    let text = get(Some(cols.text))?.unwrap_or_default().to_string();
    let id = match cols.id {
        Some(_) => strip_prefix(get(cols.id)?.ok_or("empty id")?).to_string(),
        None => format!("L{line}"),
    };
    let mut thread_key = get(cols.thread)?.map(|t| strip_prefix(t).to_string());
    let parent_id = match get(cols.parent)? {
        None => None,
        Some(p)
            if matches!(
                p.to_ascii_lowercase().as_str(),
                "0" | "null" | "none" | "nan" | "-"
            ) =>
        {
            None
        }
        Some(p) if p.starts_with("t3_") => {
            thread_key.get_or_insert_with(|| strip_prefix(p).to_string());
            None
        }
        Some(p) => Some(strip_prefix(p).to_string()),
    };
    if thread_key.is_none() && cols.title_keys {
        thread_key = get(cols.title)?.map(str::to_string);
    }
    Ok(Comment {
        id: id.into(),
        parent_id: parent_id.map(Into::into),
        author: get(cols.author)?.map(Into::into),
        text,
        time: get(cols.time)?.map(Into::into),
        thread_key: thread_key.map(Into::into),
        parent_known: cols.parent.is_some(),
        // Whole numbers only ("12", "-3", "12.0"); anything else in the column is not a vote
        // count and is left out rather than guessed.
        points: get(cols.points)?.and_then(|p| {
            p.parse::<i64>().ok().or_else(|| {
                let f = p.parse::<f64>().ok()?;
                (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
            })
        }),
        ..Comment::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, overrides: &ColumnOverrides) -> Result<Input, IngestError> {
        let mut input = Input::default();
        read(
            Box::new(text.as_bytes()),
            "t.csv",
            None,
            overrides,
            &mut input,
        )?;
        Ok(input)
    }

    fn read_bytes_str(bytes: &[u8]) -> Result<Input, IngestError> {
        let mut input = Input::default();
        read(
            Box::new(bytes),
            "t.csv",
            None,
            &ColumnOverrides::default(),
            &mut input,
        )?;
        Ok(input)
    }

    #[test]
    fn points_column_reads_whole_numbers_only() {
        let input = read_str(
            "id,text,score\na,one,12\nb,two,-3\nc,three,4.0\nd,four,0.87\ne,five,\n",
            &ColumnOverrides::default(),
        )
        .expect("reads");
        let got: Vec<Option<i64>> = input.comments.iter().map(|c| c.points).collect();
        assert_eq!(got, [Some(12), Some(-3), Some(4), None, None]);
        assert!(input.rejects.is_empty());
    }

    #[test]
    fn header_detection() {
        type Case<'a> = (&'a str, Option<usize>, Option<usize>, usize, Option<usize>);
        let cases: &[Case] = &[
            // header, id, parent, text, thread
            ("id,parent_id,author,text", Some(0), Some(1), 3, None),
            (
                "comment_id,in_reply_to,user,body,link_id",
                Some(0),
                Some(1),
                3,
                Some(4),
            ),
            (
                "Comment ID,Reply-To,By,Message,Article ID",
                Some(0),
                Some(1),
                3,
                Some(4),
            ),
            ("text", None, None, 0, None),
            ("whatever", None, None, 0, None),
        ];
        for (header, id, parent, text, thread) in cases {
            let headers: Vec<String> = header.split(',').map(normalize_header).collect();
            let cols = columns(&headers, &ColumnOverrides::default(), "t").expect(header);
            assert_eq!(
                (cols.id, cols.parent, cols.text, cols.thread),
                (*id, *parent, *text, *thread),
                "{header}"
            );
        }
    }

    #[test]
    fn overrides_by_name_and_number_and_errors() {
        let headers: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let o = ColumnOverrides {
            text: Some("3".into()),
            parent: Some("B".into()),
            ..Default::default()
        };
        let cols = columns(&headers, &o, "t").expect("valid");
        assert_eq!((cols.text, cols.parent), (2, Some(1)));
        let o = ColumnOverrides {
            text: Some("zz".into()),
            ..Default::default()
        };
        assert!(columns(&headers, &o, "t")
            .unwrap_err()
            .to_string()
            .contains("--text-col \"zz\""));
        assert!(columns(&headers, &ColumnOverrides::default(), "t").is_err());
    }

    #[test]
    fn an_article_title_column_without_a_thread_column_groups_by_title() {
        let csv = "id,parent_id,text,article_title\n1,,root,Bridge plan\n2,1,reply,Bridge plan\n3,,other,Tax cut\n4,3,no title,\n";
        let input = read_str(csv, &ColumnOverrides::default()).expect("reads");
        let keys: Vec<_> = input
            .comments
            .iter()
            .map(|c| c.thread_key.as_deref())
            .collect();
        assert_eq!(
            keys,
            [
                Some("Bridge plan"),
                Some("Bridge plan"),
                Some("Tax cut"),
                None
            ]
        );
        let titles: Vec<_> = input.articles.iter().map(|a| a.title.as_deref()).collect();
        assert_eq!(titles, [Some("Bridge plan"), Some("Tax cut")]);
        // A bare `title` may be each comment's own (a review's): it makes no article.
        let csv = "id,text,title\n1,great,Loved it\n";
        let input = read_str(csv, &ColumnOverrides::default()).expect("reads");
        assert_eq!(input.comments[0].thread_key, None);
        assert!(input.articles.is_empty());
    }

    #[test]
    fn rows_parents_threads_and_rejects() {
        let csv = "id,parent_id,text,thread_id\n1,,root,a\n2,1,\"multi\nline\",a\n3,0,x,b\n4,t1_2,y\n,,no id,a\n5,t3_zz,z,\n";
        let input = read_str(csv, &ColumnOverrides::default()).expect("reads");
        let got: Vec<_> = input
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref(), c.loc.line))
            .collect();
        assert_eq!(
            got,
            [
                ("1", None, Some(2)),
                ("2", Some("1"), Some(3)),
                ("3", None, Some(5)),
                ("5", None, Some(8))
            ]
        );
        assert_eq!(input.comments[1].text, "multi\nline");
        assert_eq!(input.comments[3].thread_key.as_deref(), Some("zz"));
        let reasons: Vec<_> = input
            .rejects
            .iter()
            .map(|r| (r.loc.line, r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (Some(6), "has 3 fields, the header has 4"),
                (Some(7), "empty id")
            ]
        );
        let keys: Vec<_> = input.articles.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "zz"]);
    }

    #[test]
    fn text_only_and_bad_utf8() {
        let input = read_bytes_str(b"text\nhello\n\xff\xfe\nbye\n").expect("reads");
        let ids: Vec<_> = input.comments.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["L2", "L4"]);
        assert_eq!(
            input.rejects[0].reason,
            format!(
                "invalid UTF-8 in column \"text\" (byte 0xFF); {}",
                super::super::text::NOT_UTF8_HINT
            )
        );
        assert!(read_str("", &ColumnOverrides::default())
            .expect("empty")
            .comments
            .is_empty());
    }

    /// The csv crate's `Position::line` lags one line per record with CRLF endings.
    #[test]
    fn line_numbers_with_crlf_blank_lines_and_quoted_newlines() {
        type Case<'a> = (&'a [u8], &'a [(&'a str, u64)], &'a [u64]);
        let cases: &[Case] = &[
            // input, (id, line) of each comment, lines of the rejects
            (
                b"id,text\r\n1,a\r\n2,b,extra\r\n3,c\r\n",
                &[("1", 2), ("3", 4)],
                &[3],
            ),
            (b"id,text\n1,a\n2,b,extra\n3,c", &[("1", 2), ("3", 4)], &[3]),
            (
                b"id,text\r\n\r\n1,\"x\r\ny\"\r\n\r\n\r\n2,b\r\n3,\"p\nq\nr\",z\n4,c\r\n",
                &[("1", 3), ("2", 7), ("4", 11)],
                &[8],
            ),
            (b"\n\nid,text\n\n1,a\n", &[("1", 5)], &[]),
            (
                b"id,text\r1,a\r2,b,c\r3,\"x\ry\"\r4,d",
                &[("1", 2), ("3", 4), ("4", 6)],
                &[3],
            ),
        ];
        for (bytes, comments, rejects) in cases {
            let input = read_bytes_str(bytes).expect("reads");
            let got: Vec<(&str, u64)> = input
                .comments
                .iter()
                .map(|c| (c.id.as_str(), c.loc.line.unwrap_or(0)))
                .collect();
            assert_eq!(got, *comments, "{:?}", String::from_utf8_lossy(bytes));
            let got: Vec<u64> = input
                .rejects
                .iter()
                .map(|r| r.loc.line.unwrap_or(0))
                .collect();
            assert_eq!(got, *rejects, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn line_numbers_stay_right_across_read_buffers() {
        let mut csv = String::from("id,text\r\n");
        for i in 0..5000 {
            csv.push_str(&format!(
                "{i},\"line one\r\nline two {}\"\r\n",
                "x".repeat(i % 97)
            ));
        }
        let input = read_str(&csv, &ColumnOverrides::default()).expect("reads");
        assert_eq!(input.comments.len(), 5000);
        for (i, c) in input.comments.iter().enumerate() {
            assert_eq!(c.loc.line, Some(2 + 2 * i as u64), "{}", c.id);
        }
    }

    #[test]
    fn sniffs_delimiters() {
        for (head, want) in [
            ("a,b,c", b','),
            ("a\tb\tc,d", b'\t'),
            ("a;b;c", b';'),
            ("text", b','),
        ] {
            assert_eq!(sniff_delimiter(head.as_bytes()), want, "{head}");
        }
    }
}
