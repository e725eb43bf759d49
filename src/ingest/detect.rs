//! Format detection from the first few kilobytes of an input, with the file extension as a
//! tie-breaker. Kept apart from the readers so the rules can be read (and tested) in one place:
//! XML roots, JSON markers per API, a CSV/TSV header with known column names, else a page.

use memchr::memmem;

use super::{Format, IngestError};

/// Decides the format of an input whose first bytes are `head`. A forced format is returned
/// as is, but binary data is refused whatever the format.
pub(crate) fn detect(name: &str, head: &[u8], forced: Format) -> Result<Format, IngestError> {
    if looks_binary(head) {
        return Err(IngestError::format(
            name,
            "looks like binary data, not text (NUL bytes or invalid UTF-8 near the start)",
        ));
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
    } else if has("\"by\":") || has("\"kids\":") || has("\"parent\":") || has("\"story_id\":") {
        Ok(Format::HackerNews)
    } else {
        Err(IngestError::format(
            name,
            "JSON of an unknown kind (use --format reddit, hackernews or youtube)",
        ))
    }
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

/// NUL bytes, or more than 5% of invalid UTF-8 / control characters in the sample.
pub(crate) fn looks_binary(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let mut bad = 0usize;
    let mut total = 0usize;
    let mut rest = head;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                total += s.chars().count();
                bad += s.chars().filter(|c| is_junk_control(*c)).count();
                break;
            }
            Err(err) => {
                let (good, after) = rest.split_at(err.valid_up_to());
                let good = std::str::from_utf8(good).unwrap_or_default();
                total += good.chars().count();
                bad += good.chars().filter(|c| is_junk_control(*c)).count();
                match err.error_len() {
                    Some(len) => {
                        bad += 1;
                        total += 1;
                        rest = &after[len..];
                    }
                    // A character cut by the end of the sample is not junk.
                    None => break,
                }
            }
        }
    }
    bad * 20 > total
}

fn is_junk_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}')
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
    fn refuses_unknown_and_binary() {
        let cases: &[&[u8]] = &[b"<foo/>", b"{\"a\": 1}", b"\x00\x01\x02binary", &[0xff; 64]];
        for head in cases {
            assert!(detect("x", head, Format::Auto).is_err(), "{head:?}");
        }
        assert!(detect("x", b"\x00abc", Format::Csv).is_err());
    }

    #[test]
    fn utf8_cut_at_the_end_is_not_binary() {
        let text = "héllo wörld ".repeat(10);
        let bytes = text.as_bytes();
        assert!(!looks_binary(&bytes[..bytes.len() - 2]));
    }
}
