//! Reading CSV the way every CSV input of threadlens is read: comment tables (`ingest`), the
//! labelled sample and scores (`tune`), scores files (`merge`). Two things the csv crate does
//! not do are done here once for all of them (issue 34 cases 8 and 16):
//!
//! * **Lines right in every file.** A record's first line comes from byte offsets and the line
//!   breaks seen on the way (`LineTracker`), not from the csv crate's `Position::line`, which
//!   lags one line per record in CRLF files.
//! * **Recovery from a quote that never closes.** Such a quote swallows the rows after it into
//!   one field. A record that spans lines is checked against its raw lines: where a later line
//!   is a row on its own (the header's number of fields, an id of the same shape), the lines
//!   from the quote up to it are one located reject and reading resumes there.
//!
//! [`Records`] yields each record with its line, or a reject with its line and reason, in file
//! order, and keeps one reused record on the common path.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// The largest record read whole (a CSV row, a JSON line, a comment's text): a journal of
/// the record being read is kept up to this size (plus read-ahead) to look at a suspect one.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// What [`Records::next`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A record (now in the caller's `ByteRecord`) that starts on this line. Its number of
    /// fields may differ from the header's: that is the caller's to judge.
    Row(u64),
    /// Lines that are not a record, with where (when known) and why.
    Reject { line: Option<u64>, reason: String },
}

/// Records recovered from a swallowed span, handed out before reading on.
enum Pending {
    Row(u64, csv::ByteRecord),
    Reject(u64, String),
}

/// A CSV stream with its header read, yielding records with their lines (see the top).
pub struct Records<R: Read> {
    rdr: csv::Reader<NewlineTap<R>>,
    lines: LineTracker,
    delimiter: u8,
    /// The header's number of fields.
    width: usize,
    /// The id column, which tells a swallowed row from a line of text (see `swallowed`).
    id: Option<usize>,
    prev_end: u64,
    prev_breaks: u64,
    pending: VecDeque<Pending>,
}

impl<R: Read> Records<R> {
    /// Reads the header of `reader` into `header`; `None` when the stream holds no record.
    pub fn new(
        reader: R,
        delimiter: u8,
        header: &mut csv::ByteRecord,
    ) -> Result<Option<Records<R>>, csv::Error> {
        let (tap, mut lines) = LineTracker::tap(reader);
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(tap);
        if !rdr.read_byte_record(header)? {
            return Ok(None);
        }
        let prev_end = rdr.position().byte();
        lines.record_line(prev_end, header);
        lines.journal.borrow_mut().drop_before(prev_end);
        let prev_breaks = lines.counted;
        Ok(Some(Records {
            rdr,
            lines,
            delimiter,
            width: header.len(),
            id: None,
            prev_end,
            prev_breaks,
            pending: VecDeque::new(),
        }))
    }

    /// Names the id column, once the header has been read: with it, a line inside a quoted
    /// field that reads as a row with an id of the same shape ends a runaway quote. Without
    /// one only a quote still open at the end of the file is taken for a runaway.
    pub fn set_id_column(&mut self, id: Option<usize>) {
        self.id = id;
    }

    /// The next record (into `rec`) or reject; `None` at the end. Only a read failure of the
    /// underlying stream is an error.
    pub fn next(&mut self, rec: &mut csv::ByteRecord) -> std::io::Result<Option<Next>> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Ok(Some(match p {
                    Pending::Row(line, r) => {
                        *rec = r;
                        Next::Row(line)
                    }
                    Pending::Reject(line, reason) => Next::Reject {
                        line: Some(line),
                        reason,
                    },
                }));
            }
            match self.rdr.read_byte_record(rec) {
                Ok(false) => return Ok(None),
                Ok(true) => {}
                Err(err) => {
                    let line = err.position().map(|p| self.lines.line_after(p.byte()));
                    return match err.into_kind() {
                        csv::ErrorKind::Io(source) => Err(source),
                        other => Ok(Some(Next::Reject {
                            line,
                            reason: format!("unreadable CSV record: {other:?}"),
                        })),
                    };
                }
            }
            let end = self.rdr.position().byte();
            let line = self.lines.record_line(end, rec);
            // A record that spans lines may be a quote that never closed, swallowing the rows
            // after it: look at its raw lines before believing it.
            let swallowed = (breaks_in(rec.as_slice()) > 0)
                .then(|| self.lines.journal.borrow_mut().span(self.prev_end, end))
                .flatten()
                .and_then(|span| Some((self.swallowed(&span, rec)?, span)));
            let found = match swallowed {
                // The first line from the raw bytes: at the end of the file a runaway quote
                // holds the final line break, which `record_line` would take for the terminator.
                Some((resume, span)) => {
                    let first = self.prev_breaks + 1 + breaks_in(leading_breaks(&span));
                    self.resync(&span, resume, first);
                    None
                }
                None => Some(Next::Row(line)),
            };
            self.lines.journal.borrow_mut().drop_before(end);
            self.prev_end = end;
            self.prev_breaks = self.lines.counted;
            if let Some(found) = found {
                return Ok(Some(found));
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
        if !open_at_end && self.id.is_none() {
            return None; // without ids a row-like line in a comment is too ambiguous
        }
        let resume = self.first_row(span, rec);
        (open_at_end || resume.is_some()).then_some(resume)
    }

    /// The index (among the lines of `span`, 0 being the record's first) of the first later
    /// line that is a row of this table on its own.
    fn first_row(&self, span: &[u8], rec: &csv::ByteRecord) -> Option<usize> {
        let own_id = self.id.map(|i| rec.get(i).unwrap_or_default().trim_ascii());
        split_lines(span).enumerate().skip(1).find_map(|(k, line)| {
            let r = self.alone(line)?;
            let id_ok = match (self.id, own_id) {
                // A line of text often starts with a space; a writer's id cell does not
                // unless this record's own id does.
                (Some(i), Some(own)) => {
                    let raw = r.get(i).unwrap_or_default();
                    let indented = |s: &[u8]| s.first().is_some_and(u8::is_ascii_whitespace);
                    same_shape(own, raw.trim_ascii())
                        && indented(raw) == indented(rec.get(i).unwrap_or_default())
                }
                _ => true,
            };
            (r.len() == self.width && id_ok).then_some(k)
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
    fn resync(&mut self, span: &[u8], resume: Option<usize>, first_line: u64) {
        let lines: Vec<&[u8]> = split_lines(span).collect();
        let last = first_line + lines.len() as u64 - 1;
        let Some(k) = resume else {
            self.pending.push_back(Pending::Reject(
                first_line,
                format!(
                    "a quoted field opened on this line never closes; lines {first_line}-{last} \
                     are left out (no later line reads as a row to resume at)"
                ),
            ));
            return;
        };
        let resume = first_line + k as u64;
        self.pending.push_back(Pending::Reject(
            first_line,
            format!(
                "a quoted field opened on this line does not close before the next row; lines \
                 {first_line}-{} are left out and reading resumes at line {resume}",
                resume - 1
            ),
        ));
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
                self.pending.push_back(Pending::Reject(
                    line,
                    format!("a quoted field opened on this line never closes; lines {line}-{last} are left out"),
                ));
                continue;
            }
            self.pending.push_back(match self.parse_one(&chunk) {
                Some(rec) => Pending::Row(line, rec),
                None => Pending::Reject(line, "unreadable CSV record".into()),
            });
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

/// Two ids of the same kind: both numbers, or both other tokens of the same length with digits
/// in both or in neither (Reddit's base-36 ids, hashes: `r3857` and `dx3k9a` have digits, the
/// word `Sadly` starting a line of text does not). Used to tell a swallowed row from a line of
/// comment text.
fn same_shape(a: &[u8], b: &[u8]) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let token = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    let some_digit = |s: &[u8]| s.iter().any(u8::is_ascii_digit);
    match (digits(a), digits(b)) {
        (true, true) => true,
        (false, false) => {
            token(a) && token(b) && a.len() == b.len() && some_digit(a) == some_digit(b)
        }
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Next> {
        let mut header = csv::ByteRecord::new();
        let mut r = Records::new(text.as_bytes(), b',', &mut header)
            .unwrap()
            .unwrap();
        r.set_id_column(Some(0));
        let mut rec = csv::ByteRecord::new();
        std::iter::from_fn(|| r.next(&mut rec).unwrap()).collect()
    }

    /// A valid quoted field whose later lines start with a word and a comma (CAD test row
    /// r3857) is one record, not a runaway quote: the word has no digits, the ids do, and the
    /// line is indented.
    #[test]
    fn a_line_of_text_with_a_comma_is_not_taken_for_a_row() {
        let csv = "id,text\nr3856,\"one\n\n Otherwise, fine.\"\nr3857,\"The concept.\n  \n Sadly, the project was compromised.\n\n They can't win.\"\nr3858,last\n";
        let got = read(csv);
        assert_eq!(got, vec![Next::Row(2), Next::Row(5), Next::Row(10)]);
    }

    /// A real runaway quote is still caught: the next row's id has the same shape.
    #[test]
    fn a_quote_that_never_closes_is_still_rejected_at_the_next_row() {
        let csv = "id,text\nr1001,\"broken\nr1002,fine\nr1003,also fine\n";
        let got = read(csv);
        assert!(
            matches!(&got[0], Next::Reject { line: Some(2), .. }),
            "{got:?}"
        );
        assert_eq!(got[1..], [Next::Row(3), Next::Row(4)]);
    }
}
