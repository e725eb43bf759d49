//! CSV and TSV comment tables with a header row. Columns are found by common names (or set by
//! `--id-col` and friends, by name or 1-based number); only a text column is required. Reads
//! as a stream with one reused `ByteRecord`, so a million rows cost one allocation per field
//! kept, and a bad row (wrong field count, invalid UTF-8, over-long) is rejected with its line.
//! Lines, and recovery from a quote that never closes, come from [`crate::csvread`], which
//! every CSV input of threadlens reads through.

use std::collections::HashSet;
use std::io::BufRead;

use super::{Article, ColumnOverrides, Comment, IngestError, Input, Location, MAX_RECORD_BYTES};
use crate::csvread::{Next, Records};

/// Header names recognised for each role, best first.
const ID: &[&str] = &[
    "id",
    "_id",
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
    // Fields of an author object in JSON records (`author.username` and the like).
    "author_username",
    "author_display_name",
    "author_login",
    "user_username",
    "user_display_name",
    "user_login",
];
pub(crate) const TEXT: &[&str] = &[
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

/// The comment's own address (a bare `url` is the article's, under THREAD).
const PERMALINK: &[&str] = &[
    "permalink",
    "comment_url",
    "comment_link",
    "comment_permalink",
];

/// Lowercase, trimmed, BOM-free, with spaces, dashes and dots as underscores, and camelCase
/// words split as snake_case words are (`parentId` and `commentID` as `parent_id` and
/// `comment_id`, `createdAt` as `created_at`).
pub(crate) fn normalize_header(name: &str) -> String {
    let name = name.trim().trim_start_matches('\u{feff}').trim_matches('"');
    let mut out = String::with_capacity(name.len() + 4);
    let mut after_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && after_lower {
            out.push('_');
        }
        after_lower = c.is_lowercase() || c.is_ascii_digit();
        match c {
            ' ' | '-' | '.' => out.push('_'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Whether a normalised header name is one this reader recognises.
pub(crate) fn is_known_column(name: &str) -> bool {
    [ID, PARENT, TEXT, THREAD]
        .iter()
        .any(|names| names.contains(&name))
}

/// Whether a normalised header name is one a text column goes by.
pub(crate) fn is_text_column(name: &str) -> bool {
    TEXT.contains(&name)
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
    permalink: Option<usize>,
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
        permalink: PERMALINK
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
        &mut cols.permalink,
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
    let mut rec = csv::ByteRecord::new();
    let read_err = |err: csv::Error| match err.into_kind() {
        csv::ErrorKind::Io(source) => IngestError::Io {
            file: file.to_string(),
            source,
        },
        other => IngestError::format(file, format!("{other:?}")),
    };
    let Some(mut records) = Records::new(reader, delimiter, &mut rec).map_err(read_err)? else {
        return Ok(()); // no header, no rows (empty files are noted before this reader runs)
    };
    let headers: Vec<String> = rec
        .iter()
        .map(|h| normalize_header(&String::from_utf8_lossy(h)))
        .collect();
    let mut sink = Sink::new(file, headers, overrides)?;
    records.set_id_column(sink.cols.id);
    while let Some(next) = records.next(&mut rec).map_err(io_err)? {
        match next {
            Next::Row(line) => sink.accept(&rec, Location::line(file, line), input),
            Next::Reject { line, reason } => {
                let loc = line.map_or_else(|| Location::file(file), |l| Location::line(file, l));
                input.reject(loc, reason);
            }
        }
    }
    sink.finish(input);
    Ok(())
}

/// Where the rows of one table go, with what is needed to make comments of them (the JSON
/// records reader makes rows of its objects and sends them here too).
pub(crate) struct Sink {
    headers: Vec<String>,
    cols: Columns,
    seen_threads: HashSet<String>,
    /// `0` in the parent column means "no parent" unless a comment of this file really has
    /// the id 0; those rows are remembered and pointed at it once the file is read.
    zero_parent: Vec<usize>,
    zero_id: bool,
}

impl Sink {
    /// A sink for rows under `headers` (normalised names), with the columns found by name or
    /// set by `overrides`.
    pub(crate) fn new(
        file: &str,
        headers: Vec<String>,
        overrides: &ColumnOverrides,
    ) -> Result<Sink, IngestError> {
        let cols = columns(&headers, overrides, file)?;
        Ok(Sink {
            headers,
            cols,
            seen_threads: HashSet::new(),
            zero_parent: Vec::new(),
            zero_id: false,
        })
    }

    /// The position of the id and parent columns, where there are such columns.
    pub(crate) fn id_and_parent(&self) -> (Option<usize>, Option<usize>) {
        (self.cols.id, self.cols.parent)
    }

    /// Makes a comment (or a reject) of one record found at `loc` (a comment with no id
    /// column is named after its line, else its record number).
    pub(crate) fn accept(&mut self, rec: &csv::ByteRecord, loc: Location, input: &mut Input) {
        match row(rec, &self.headers, &self.cols, &unnamed_id(&loc)) {
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

    /// Points the rows whose parent is `0` at the comment with id `0`, where there is one.
    pub(crate) fn finish(self, input: &mut Input) {
        if self.zero_id {
            for i in self.zero_parent {
                input.comments[i].parent_id = Some("0".into());
            }
        }
    }
}

/// The id a comment without an id column goes by: `R` and its record number where it has one
/// (JSON records), else `L` and its line (a table row).
pub(crate) fn unnamed_id(loc: &Location) -> String {
    match (loc.line, loc.record) {
        (_, Some(n)) => format!("R{n}"),
        (Some(n), None) => format!("L{n}"),
        (None, None) => "R0".to_string(),
    }
}

/// Whether the parent column of `rec` holds `0`.
fn is_zero(rec: &csv::ByteRecord, parent: Option<usize>) -> bool {
    parent
        .and_then(|i| rec.get(i))
        .is_some_and(|p| p.trim_ascii() == b"0")
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
    fallback_id: &str,
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
        Some(_) => comment_fullname(get(cols.id)?.ok_or("empty id")?).to_string(),
        None => fallback_id.to_string(),
    };
    let mut thread_key = get(cols.thread)?.map(|t| link_fullname(t).to_string());
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
            thread_key.get_or_insert_with(|| link_fullname(p).to_string());
            None
        }
        Some(p) => Some(comment_fullname(p).to_string()),
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
        // Reddit tables give `/r/…/comments/…` paths.
        permalink: get(cols.permalink)?.map(|p| match p.starts_with("/r/") {
            true => super::link::reddit(p).into(),
            false => p.into(),
        }),
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

/// A Reddit comment's fullname (`t1_abc`) as its bare id (`abc`), for tables exported from
/// Reddit where `parent_id` holds fullnames and `id` bare ids. Only the comment kind is
/// stripped: an id such as `t6_3` in another table is kept as written, so two ids that differ
/// only in such a prefix never merge.
fn comment_fullname(id: &str) -> &str {
    id.strip_prefix("t1_").unwrap_or(id)
}

/// A Reddit post's fullname (`t3_xyz`) as its bare id, for thread keys.
fn link_fullname(id: &str) -> &str {
    id.strip_prefix("t3_").unwrap_or(id)
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
    fn headers_are_normalised_to_snake_case() {
        for (given, want) in [
            ("Parent ID", "parent_id"),
            ("parentId", "parent_id"),
            ("commentID", "comment_id"),
            ("createdAt", "created_at"),
            ("\u{feff}\"Comment-Text\"", "comment_text"),
            ("user.name", "user_name"),
            ("ID", "id"),
            ("video2Id", "video2_id"),
        ] {
            assert_eq!(normalize_header(given), want, "{given}");
        }
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
        // Only Reddit's comment and post prefixes are stripped: other `tN_` ids stay apart.
        let csv = "id,parent_id,text\nt6_3,,a\n3,,b\nt2_1,t6_3,c\n";
        let other = read_str(csv, &ColumnOverrides::default()).expect("reads");
        let got: Vec<_> = other
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref()))
            .collect();
        assert_eq!(got, [("t6_3", None), ("3", None), ("t2_1", Some("t6_3"))]);
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
