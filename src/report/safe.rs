//! Spreadsheet safety for CSV cells: moderators open these files in Excel or LibreOffice, where
//! a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is read as a formula (CSV
//! injection). Spreadsheets also read the full-width forms `＝＋－＠`, and skip leading spaces
//! and a byte-order mark before deciding, so those count too. Such cells get a leading
//! apostrophe, the OWASP-recommended neutraliser; the csv crate still quotes per RFC 4180.
//! `original` undoes it, so threadlens reads its own safe files (ids in `tune`) as written.

use std::borrow::Cow;

/// Characters that start a formula.
fn is_trigger(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
}

/// Whether a spreadsheet would read `s` as a formula.
fn is_formula(s: &str) -> bool {
    if s.starts_with(['\t', '\r']) {
        return true;
    }
    // Leading spaces, other whitespace and BOMs are skipped before the first character counts.
    s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .starts_with(is_trigger)
}

/// A formula, or an apostrophe before one (which `original` would otherwise take for the
/// neutraliser and remove).
fn needs_mark(s: &str) -> bool {
    is_formula(s) || s.strip_prefix('\'').is_some_and(is_formula)
}

/// Neutralises a cell that a spreadsheet would read as a formula.
pub fn cell(s: &str) -> Cow<'_, str> {
    if needs_mark(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The cell as it was before `cell`: the apostrophe `cell` added is removed, any other left.
pub fn original(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_mark(rest) => rest,
        _ => s,
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (input, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("", ""),
            ("a=b", "a=b"),
            ("＝1+1", "'＝1+1"),
            ("＋x", "'＋x"),
            ("－x", "'－x"),
            ("＠x", "'＠x"),
            ("  =1+1", "'  =1+1"),
            ("\u{feff}=1", "'\u{feff}=1"),
            ("\u{feff} @x", "'\u{feff} @x"),
            (" \n-1", "' \n-1"),
            ("  plain", "  plain"),
            ("'=x", "''=x"),
            ("'plain", "'plain"),
        ] {
            assert_eq!(cell(input), want, "{input:?}");
            assert_eq!(original(&cell(input)), input, "{input:?}");
        }
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
