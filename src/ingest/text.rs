//! Small text helpers shared by the readers: HTML to plain text (through html2text), the few
//! entities Reddit leaves escaped, and strict UTF-8 decoding that reports the line of the first
//! bad byte.

use super::{IngestError, Location};

/// Converts an HTML fragment to plain text without link markers or wrapping. Returns the input
/// unchanged when it holds no markup at all.
pub(crate) fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return html.trim().to_string();
    }
    let decorator = html2text::render::TrivialDecorator::new();
    // Tags nested past a thousand levels are dropped first: html5ever's tree builder is
    // quadratic in the nesting depth (issue 17 case 12).
    let html = super::html::shallow(html);
    match html2text::from_read_with_decorator(html.as_bytes(), 100_000, decorator) {
        Ok(text) => tidy(&text),
        // html2text only fails on pathological input; the raw text is better than nothing.
        Err(_) => html.trim().to_string(),
    }
}

/// Decodes HTML character references (`&gt;`, `&amp;`, `&#8217;`, `&#x2019;`) in text that
/// has no markup, keeping its line breaks (html2text would join them). A `&` that starts no
/// known reference (`AT&T`, `&unknown;`) stays as it is.
pub(crate) fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let name = rest[1..]
            .find(';')
            .filter(|&end| end > 0 && end <= 32)
            .map(|end| &rest[1..=end]);
        let decoded = name.and_then(|n| {
            let num = |digits: &str, radix| {
                u32::from_str_radix(digits, radix)
                    .ok()
                    .and_then(char::from_u32)
            };
            match n.strip_prefix('#') {
                Some(hex) if hex.starts_with(['x', 'X']) => num(&hex[1..], 16).map(String::from),
                Some(dec) => num(dec, 10).map(String::from),
                None => quick_xml::escape::resolve_predefined_entity(n)
                    .or_else(|| quick_xml::escape::resolve_html5_entity(n))
                    .map(str::to_string),
            }
            .filter(|c| c != "\0")
        });
        match (name, decoded) {
            (Some(n), Some(d)) => {
                out.push_str(&d);
                rest = &rest[n.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Trims trailing spaces on every line, and blank lines at both ends.
pub(crate) fn tidy(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').trim().to_string()
}

/// Reddit bodies are Markdown with `&amp;`, `&lt;` and `&gt;` still escaped.
pub(crate) fn unescape_reddit(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What to do about text that is not UTF-8 (most often Latin-1 or Windows-1252).
pub(crate) const NOT_UTF8_HINT: &str =
    "the text is not UTF-8; if it is Latin-1, convert it first: iconv -f latin1 -t utf-8";

/// Decodes UTF-8 or fails with the line, column and byte offset of the first invalid byte.
pub(crate) fn utf8<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, IngestError> {
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let bytes = &bytes[bom..];
    std::str::from_utf8(bytes).map_err(|err| {
        let before = &bytes[..err.valid_up_to()];
        let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
        IngestError::parse(
            Location::line(file, line),
            format!(
                "invalid UTF-8 at column {} (byte offset {}, byte 0x{:02X}); {NOT_UTF8_HINT}",
                column + 1,
                bom + err.valid_up_to(),
                bytes.get(err.valid_up_to()).copied().unwrap_or_default()
            ),
        )
    })
}

/// 1-based line number of a byte offset, counting from a known (offset, line) pair forward.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// The line of `offset`; offsets must not go backwards (earlier ones return the last line).
    pub(crate) fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.bytes.len());
        if offset > self.pos {
            self.line += memchr::memchr_iter(b'\n', &self.bytes[self.pos..offset]).count() as u64;
            self.pos = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_to_text_cases() {
        let cases = [
            ("plain words", "plain words"),
            ("<p>Hello, World.</p>", "Hello, World."),
            ("don&#x27;t &gt; x", "don't > x"),
            ("a<p>b", "a\n\nb"),
            ("<a href=\"http://x\">link</a> here", "link here"),
        ];
        for (html, want) in cases {
            assert_eq!(html_to_text(html), want, "{html}");
        }
    }

    #[test]
    fn entities_decode_in_plain_text_and_line_breaks_stay() {
        assert_eq!(
            decode_entities("a &gt; b &amp; c&#8217;s &#x2019;\nAT&T &unknown; & &;"),
            "a > b & c\u{2019}s \u{2019}\nAT&T &unknown; & &;"
        );
        assert_eq!(
            decode_entities("&#0; &#xZZ; &eacute;"),
            "&#0; &#xZZ; \u{e9}"
        );
    }

    #[test]
    fn utf8_reports_line_and_column() {
        let err = utf8(b"ok\nab\xffc", "f.txt").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "reading f.txt: line 2: invalid UTF-8 at column 3 (byte offset 5, byte 0xFF); \
                 {NOT_UTF8_HINT}"
            )
        );
    }

    #[test]
    fn line_counter_moves_forward() {
        let mut lc = LineCounter::new(b"a\nb\nc");
        assert_eq!(lc.line_at(0), 1);
        assert_eq!(lc.line_at(2), 2);
        assert_eq!(lc.line_at(4), 3);
        assert_eq!(lc.line_at(1), 3);
    }
}
