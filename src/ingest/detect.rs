//! Format detection from the first few kilobytes of an input, with the file extension as a
//! tie-breaker. Kept apart from the readers so the rules can be read (and tested) in one place:
//! XML roots, JSON markers per API, a CSV/TSV header with known column names, else a page.
//! Binary data (NUL bytes, control characters, UTF-16) is refused here with its line and byte
//! offset; text that is merely not UTF-8 (Latin-1, say) is left to the readers, which reject
//! the records it spoils with their lines, as they do for bad bytes further into a file.

use memchr::memmem;

use super::{Format, IngestError, Location};

/// Decides the format of an input whose first bytes are `head`. A forced format is returned
/// as is, but binary data is refused whatever the format.
pub(crate) fn detect(name: &str, head: &[u8], forced: Format) -> Result<Format, IngestError> {
    if let Some(binary) = binary(head) {
        let line = memchr::memchr_iter(b'\n', &head[..binary.offset]).count() as u64 + 1;
        return Err(IngestError::parse(Location::line(name, line), binary.msg));
    }
    if forced != Format::Auto {
        return Ok(forced);
    }
    let body = trim_start(head);
    let ext = extension(name);
    match body.first() {
        None => Ok(Format::Page),
        Some(b'<') => detect_xml(name, body),
        Some(b'[' | b'{') => detect_json(name, body),
        Some(_) => Ok(detect_text(body, &ext)),
    }
}

fn detect_xml(name: &str, body: &[u8]) -> Result<Format, IngestError> {
    let lower = body.to_ascii_lowercase();
    let has = |needle: &str| memmem::find(&lower, needle.as_bytes()).is_some();
    if has("<disqus") {
        Ok(Format::Disqus)
    } else if has("xmlns:wp=") || has("<wp:") {
        Ok(Format::Wxr)
    } else if has("<html") || has("<!doctype html") || has("<body") || has("<p>") {
        Ok(Format::Page)
    } else {
        Err(IngestError::format(
            name,
            "XML that is neither a Disqus export nor a WordPress WXR file (use --format)",
        ))
    }
}

fn detect_json(name: &str, body: &[u8]) -> Result<Format, IngestError> {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let has = |needle: &str| memmem::find(&compact, needle.as_bytes()).is_some();
    if has("\"youtube#") || has("\"topLevelComment\"") {
        Ok(Format::YouTube)
    } else if has("\"kind\":\"t1\"")
        || has("\"kind\":\"t3\"")
        || has("\"kind\":\"Listing\"")
        || has("\"parent_id\":\"t1_")
        || has("\"parent_id\":\"t3_")
        || has("\"link_id\":\"t3_")
    {
        Ok(Format::Reddit)
    } else if has("\"by\":")
        || has("\"kids\":")
        || has("\"story_id\":")
        || (has("\"parent\":") && has("\"type\":\"comment\""))
    {
        Ok(Format::HackerNews)
    } else if keys(&compact)
        .any(|k| super::table::is_known_column(&super::table::normalize_header(k)))
    {
        Ok(Format::Json)
    } else {
        Err(IngestError::format(
            name,
            "JSON of an unknown kind: no field named as a comment's id, parent, text or thread \
             (use --format reddit, hackernews, youtube, or json with --text-col and friends)",
        ))
    }
}

/// The object keys in compact JSON text: every string directly followed by a colon.
fn keys(compact: &[u8]) -> impl Iterator<Item = &str> {
    compact
        .split(|&b| b == b'"')
        .skip(1)
        .step_by(2)
        .zip(compact.split(|&b| b == b'"').skip(2).step_by(2))
        .filter(|(_, after)| after.first() == Some(&b':'))
        .filter_map(|(key, _)| std::str::from_utf8(key).ok())
}

/// A text file is CSV/TSV when its first line is a header naming a known text column.
fn detect_text(body: &[u8], ext: &str) -> Format {
    match ext {
        "csv" => return Format::Csv,
        "tsv" | "tab" => return Format::Tsv,
        _ => {}
    }
    let first = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first).to_lowercase();
    for (sep, format) in [('\t', Format::Tsv), (',', Format::Csv), (';', Format::Csv)] {
        let names: Vec<String> = first
            .split(sep)
            .map(super::table::normalize_header)
            .collect();
        if names.len() >= 2 && names.iter().any(|n| super::table::is_known_column(n)) {
            return format;
        }
    }
    Format::Page
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn extension(name: &str) -> String {
    std::path::Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Where the first sign of binary data is, and what to say about it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Binary {
    pub(crate) offset: usize,
    pub(crate) msg: String,
}

impl Binary {
    fn at(offset: usize, what: &str) -> Binary {
        Binary {
            offset,
            msg: format!("looks like binary data, not text ({what} at byte offset {offset})"),
        }
    }
}

/// Binary, not text: a UTF-16 byte-order mark, a NUL byte, or more than 5% of the characters
/// control characters other than tab, line feed, carriage return and form feed. Bytes that are
/// not UTF-8 do not count: they are text in another encoding (Latin-1 `Ren\xe9`) as often as not.
pub(crate) fn binary(head: &[u8]) -> Option<Binary> {
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some(Binary {
            offset: 0,
            msg: "the text is UTF-16, not UTF-8; convert it first: iconv -f utf-16 -t utf-8".into(),
        });
    }
    if let Some(offset) = memchr::memchr(0, head) {
        return Some(Binary::at(offset, "a NUL byte"));
    }
    // Control characters are ASCII, so counting bytes counts them whatever the encoding; the
    // total counts characters where the text is UTF-8 and bytes elsewhere.
    let junk = |b: &u8| is_junk_control(*b);
    let bad = head.iter().filter(|b| junk(b)).count();
    let total = head.iter().filter(|&&b| !(0x80..0xC0).contains(&b)).count();
    (bad * 20 > total).then(|| {
        Binary::at(
            head.iter().position(junk).unwrap_or(0),
            "control characters",
        )
    })
}

fn is_junk_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C)) || b == 0x7F
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        let cases: &[(&str, &str, Format)] = &[
            (
                "a.xml",
                "<?xml version=\"1.0\"?>\n<disqus xmlns=\"x\">",
                Format::Disqus,
            ),
            (
                "a.xml",
                "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\">",
                Format::Wxr,
            ),
            ("a.html", "<!DOCTYPE html><html><body>", Format::Page),
            (
                "a.json",
                "[{\"kind\": \"Listing\", \"data\": {}}]",
                Format::Reddit,
            ),
            (
                "a",
                "{\"parent_id\": \"t3_abc\", \"body\": \"x\"}",
                Format::Reddit,
            ),
            (
                "a.jsonl",
                "{\"id\":\"1\",\"by\":\"pg\",\"parent\":\"2\"}",
                Format::HackerNews,
            ),
            (
                "a.jsonl",
                "{\"kind\": \"youtube#commentThread\"}",
                Format::YouTube,
            ),
            (
                "a.json",
                "{\"id\": 1, \"parent\": null, \"text\": \"a CMS export\"}",
                Format::Json,
            ),
            (
                "a.json",
                "{\"count\": 1, \"comments\": [{\"body\": \"x\", \"user\": {}}]}",
                Format::Json,
            ),
            (
                "a.json",
                "{\"id\": 3, \"parent\": 2, \"type\": \"comment\", \"text\": \"x\"}",
                Format::HackerNews,
            ),
            ("a.txt", "id,parent_id,text\n1,,hi\n", Format::Csv),
            ("a.txt", "comment_id\tbody\n1\thi\n", Format::Tsv),
            ("a.txt", "text\nhello\n", Format::Page),
            ("a.csv", "text\nhello\n", Format::Csv),
            ("a.txt", "23:06 GMT\nSome title, here\n", Format::Page),
            ("empty", "", Format::Page),
        ];
        for (name, head, want) in cases {
            let got = detect(name, head.as_bytes(), Format::Auto).expect(name);
            assert_eq!(got, *want, "{name}: {head:?}");
        }
    }

    #[test]
    fn refuses_unknown_kinds() {
        let cases: &[&[u8]] = &[b"<foo/>", b"{\"a\": 1}", b"[{\"note\": \"id\"}]"];
        for head in cases {
            assert!(detect("x", head, Format::Auto).is_err(), "{head:?}");
        }
    }

    #[test]
    fn binary_is_a_located_error_whatever_the_format() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"\x00\x01\x02binary",
                "reading x: line 1: looks like binary data, not text (a NUL byte at byte offset 0)",
            ),
            (
                b"id,text\n1,ok\n2,\x00\x00",
                "reading x: line 3: looks like binary data, not text (a NUL byte at byte offset \
                 15)",
            ),
            (
                b"ab\ncd\x01\x02\x03\x04\x05\x06\x07\x08",
                "reading x: line 2: looks like binary data, not text (control characters at byte \
                 offset 5)",
            ),
            (
                b"\xFF\xFEi\x00d\x00",
                "reading x: line 1: the text is UTF-16, not UTF-8; convert it first: iconv -f \
                 utf-16 -t utf-8",
            ),
        ];
        for (head, want) in cases {
            for format in [Format::Auto, Format::Csv, Format::Page] {
                let err = detect("x", head, format).expect_err("binary");
                assert_eq!(err.to_string(), *want, "{format}");
            }
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_not_binary() {
        let ansi = "h\u{e9}llo w\u{f6}rld, some text \u{1b}[1m bold ".repeat(10);
        let cases: &[&[u8]] = &[
            b"id,author,text\n1,Ren\xe9,bonjour\n",
            &[0xff; 64],
            ansi.as_bytes(),
            b"\xc3",
        ];
        for head in cases {
            assert_eq!(binary(head), None, "{head:?}");
            assert!(detect("x.csv", head, Format::Auto).is_ok(), "{head:?}");
        }
        let text = "h\u{e9}llo w\u{f6}rld ".repeat(10);
        let bytes = text.as_bytes();
        assert_eq!(binary(&bytes[..bytes.len() - 2]), None);
    }
}
