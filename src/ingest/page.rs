//! Scraped article pages: the text (or HTML) of a news page, optionally followed by its
//! comment section. The article part gives the title (the first headline-like line), the date
//! line and the body (prose paragraphs); page furniture (share buttons, credits, related
//! headlines, tag lists) is dropped. After a comments marker ("All comments", "Comments",
//! "12 comments"), each bullet (`• name`, `• avatar`) starts a comment; a reply says
//! `X in reply to Y` (often glued: `Xin reply toY(Show commentHide comment)`) on the bullet line
//! or the next one. Comments get ids `c1`, `c2`… and no parent ids: replies are resolved by the
//! thread builder from the addressed name.

use super::{text, Article, Comment, IngestError, Input, Location};

/// Reads a page in the text layout (an HTML page goes to `html::read` instead, chosen by
/// `ingest`, so the two readers do not import each other).
pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), IngestError> {
    let raw = text::utf8(bytes, file)?;
    let (article, comments) = parse_text(raw, file);
    if article.title.is_some() || article.body.is_some() || !comments.is_empty() {
        input.articles.push(article);
    }
    input.comments.extend(comments);
    Ok(())
}

/// Markup rather than text: the first character that is not whitespace (after a byte-order
/// mark) opens a tag.
pub(crate) fn is_html(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// The article and the comments of a page in the text layout (also what is left of an HTML
/// page of no known layout once rendered to text).
pub(crate) fn parse_text(content: &str, file: &str) -> (Article, Vec<Comment>) {
    let lines: Vec<&str> = content.lines().collect();
    let marker = lines.iter().position(|l| is_comments_marker(&normalize(l)));
    let (article_lines, comment_lines) = match marker {
        Some(m) => (&lines[..m], &lines[m + 1..]),
        None => (&lines[..], &lines[..0]),
    };
    let key = article_key(file);
    let article = parse_article(article_lines, &key);
    let comments = parse_comments(comment_lines, marker.map_or(0, |m| m + 1), file, &key);
    (article, comments)
}

/// The file name without directories identifies the page.
pub(crate) fn article_key(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Lowercase, Cyrillic look-alikes folded to Latin, whitespace collapsed.
fn normalize(line: &str) -> String {
    let folded: String = line
        .chars()
        .map(|c| match c {
            'С' | 'с' => 'c',
            'О' | 'о' => 'o',
            'Е' | 'е' => 'e',
            'А' | 'а' => 'a',
            'Р' | 'р' => 'p',
            'Х' | 'х' => 'x',
            'Т' => 't',
            'М' => 'm',
            'Н' => 'h',
            'К' => 'k',
            'В' => 'b',
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_comments_marker(norm: &str) -> bool {
    let words: Vec<&str> = norm.split(' ').collect();
    match words.as_slice() {
        ["all", "comments"] | ["comments"] | ["reader", "comments"] | ["show", "comments"] => true,
        [n, "comment" | "comments"] => n.parse::<u64>().is_ok(),
        ["comments", n] => n.trim_matches(['(', ')']).parse::<u64>().is_ok(),
        _ => false,
    }
}

/// Buttons, credits and notices that are neither article text nor comments.
fn is_furniture(norm: &str) -> bool {
    const EXACT: &[&str] = &[
        "comment",
        "comments",
        "reply",
        "share",
        "report",
        "like",
        "subscribe",
        "print",
        "email",
        "advertisement",
        "read more",
        "load more comments",
        "show more comments",
        "get short url",
        "avatar",
        "hide comment",
        "show comment",
    ];
    const PREFIX: &[&str] = &[
        "show new comments",
        "community standards",
        "comment via",
        "get short url",
        "©",
        "(c) ",
        "photo:",
        "image:",
        "updated:",
        "log in to",
        "login to",
        "sign in to",
        "sign up",
        "show commenthide comment",
        "all comments",
        "share this",
        "follow us",
    ];
    EXACT.contains(&norm) || PREFIX.iter().any(|p| norm.starts_with(p))
}

fn words(line: &str) -> usize {
    line.split_whitespace().count()
}

fn ends_sentence(line: &str) -> bool {
    line.trim_end()
        .ends_with(['.', '!', '?', '…', '"', '”', '’', '\'', ')', ':', ';', '»'])
}

/// English month names, January first.
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A date/time line like "23:06 GMT +3 24 March 2017" or "March 24, 2017".
fn is_date_line(line: &str) -> bool {
    let norm = line.to_lowercase();
    let has_month = MONTHS.iter().any(|m| norm.contains(m));
    let has_year = norm
        .split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() == 4 && (d.starts_with("19") || d.starts_with("20")));
    let has_clock = norm.split_whitespace().any(|w| {
        w.len() >= 4 && w.contains(':') && w.chars().all(|c| c.is_ascii_digit() || c == ':')
    });
    words(line) <= 10 && has_year && (has_month || has_clock)
}

/// The month (1–12) a word names: "March", "mar", "Sept.".
fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&w))
        .map(|i| i as u32 + 1)
}

fn number(word: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
    (digits.contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// A UTC offset in minutes from `+3`, `+03`, `-0500`, `+05:30`.
fn utc_offset(word: &str) -> Option<i32> {
    let sign = match word.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &word[1..];
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (number(h, 1..=2)?, number(m, 2..=2)?),
        None if digits.len() == 4 => (
            number(digits.get(..2)?, 2..=2)?,
            number(digits.get(2..)?, 2..=2)?,
        ),
        None => (number(digits, 1..=2)?, 0),
    };
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m) as i32)
}

/// A date line as ISO 8601: "23:06 GMT +324 March 2017" (the page runs the "+3" of the time
/// zone into the "24" of the date) is "2017-03-24T23:06+03:00", "March 3, 2020" is
/// "2020-03-03". `None` when there is no day, month and year to be sure of.
fn parse_date(line: &str) -> Option<String> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let (mut clock, mut zone, mut offset) = (None, false, None);
    let (mut day, mut mon, mut year) = (None, None, None);
    for (i, &w) in words.iter().enumerate() {
        let next_is_month = words.get(i + 1).and_then(|n| month(n)).is_some();
        let prev_is_month = i > 0 && month(words[i - 1]).is_some();
        let upper = w.to_ascii_uppercase();
        if let Some((h, m)) = w.split_once(':').filter(|_| clock.is_none()) {
            let m = m.get(..2).unwrap_or(m);
            if let (Some(h), Some(m)) = (number(h, 1..=2), number(m, 2..=2)) {
                if h < 24 && m < 60 {
                    clock = Some((h, m));
                    continue;
                }
            }
        }
        if let Some(rest) = ["GMT", "UTC"].iter().find_map(|z| upper.strip_prefix(z)) {
            zone = true;
            if rest.is_empty() {
                continue;
            }
            if let Some(o) = utc_offset(rest) {
                offset = Some(o);
            }
            continue;
        }
        if w.starts_with(['+', '-']) && offset.is_none() {
            if let Some(o) = utc_offset(w) {
                offset = Some(o);
                continue;
            }
            // "+324" before a month: an offset glued to the day of the month.
            let digits = &w[1..];
            if next_is_month && day.is_none() {
                let split = (1..=2).find_map(|n| {
                    let (o, d) = (digits.get(..n)?, digits.get(n..)?);
                    let d = number(d, 1..=2).filter(|d| (1..=31).contains(d))?;
                    Some((utc_offset(&format!("{}{o}", &w[..1]))?, d))
                });
                if let Some((o, d)) = split {
                    offset = Some(o);
                    day = Some(d);
                    continue;
                }
            }
        }
        if let Some(m) = month(w).filter(|_| mon.is_none()) {
            mon = Some(m);
            continue;
        }
        let w = w.trim_end_matches(['.', 's', 't', 'h', 'n', 'd', 'r']);
        if let Some(y) = number(w, 4..=4).filter(|y| (1900..2100).contains(y)) {
            year.get_or_insert(y);
        } else if let Some(d) = number(w, 1..=2).filter(|d| (1..=31).contains(d)) {
            if (next_is_month || prev_is_month) && day.is_none() {
                day = Some(d);
            }
        }
    }
    let (day, mon, year) = (day?, mon?, year?);
    let mut out = format!("{year:04}-{mon:02}-{day:02}");
    if let Some((h, m)) = clock {
        out.push_str(&format!("T{h:02}:{m:02}"));
        match (offset, zone) {
            (Some(0), _) | (None, true) => out.push('Z'),
            (Some(o), _) => {
                let sign = if o < 0 { '-' } else { '+' };
                out.push_str(&format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60));
            }
            (None, false) => {}
        }
    }
    Some(out)
}

/// Title-case lines (related headlines) and comma lists of short items (tags).
fn is_headline_or_tags(line: &str) -> bool {
    let items: Vec<&str> = line.split(',').map(str::trim).collect();
    if items.len() >= 3 && items.iter().all(|i| words(i) <= 3) {
        return true;
    }
    let long: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.chars().count() > 3)
        .collect();
    let capitalised = long
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    !long.is_empty() && capitalised * 10 >= long.len() * 6
}

fn is_prose(line: &str) -> bool {
    let n = words(line);
    if ends_sentence(line) {
        return n >= 3;
    }
    n >= 4 && !is_headline_or_tags(line)
}

fn parse_article(lines: &[&str], key: &str) -> Article {
    let mut time = None;
    let mut title: Option<(usize, String)> = None;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        let norm = normalize(line);
        if line.is_empty() || is_furniture(&norm) {
            continue;
        }
        if is_date_line(line) {
            time.get_or_insert_with(|| parse_date(line).unwrap_or_else(|| line.to_string()));
            continue;
        }
        let n = words(line);
        if (3..=25).contains(&n) && line.chars().count() <= 200 && !line.ends_with('.') {
            title = Some((i, line.to_string()));
            break;
        }
    }
    let body_start = title.as_ref().map_or(0, |(i, _)| i + 1);
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in &lines[body_start..] {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
            continue;
        }
        let norm = normalize(line);
        if is_furniture(&norm) || is_date_line(line) || !is_prose(line) {
            continue;
        }
        current.push(line);
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    let body = paragraphs.join("\n\n");
    Article {
        key: key.to_string(),
        title: title.map(|(_, t)| t),
        body: Some(body).filter(|b| !b.is_empty()),
        url: None,
        time,
        saved_at: None,
    }
}

/// The text after a bullet character, if the line starts with one.
fn bullet(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(['•', '●', '◦', '▪'])?;
    Some(rest.trim())
}

/// `X in reply to Y`, spaced or glued, optionally followed by `(Show comment…)`.
pub(crate) fn reply_header(line: &str) -> Option<(Option<String>, String)> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("in reply to")?;
    let author = line[..at].trim().trim_end_matches(':').trim();
    let rest = &line[at + "in reply to".len()..];
    let target = rest
        .split('(')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches(':')
        .trim();
    let furniture = lower.contains("(show comment");
    if target.is_empty() || !(furniture || words(line) <= 8) {
        return None;
    }
    let author = match normalize(author).as_str() {
        "" | "avatar" | "anonymous" | "guest" => None,
        _ => Some(author.to_string()),
    };
    Some((author, target.to_string()))
}

struct Pending {
    line: u64,
    author: Option<String>,
    reply_to: Option<String>,
    body: String,
    blank: bool,
}

fn parse_comments(lines: &[&str], first_line: usize, file: &str, key: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut cur: Option<Pending> = None;
    let finish = |cur: &mut Option<Pending>, out: &mut Vec<Comment>| {
        if let Some(p) = cur.take() {
            let n = out.len() as u64 + 1;
            out.push(Comment {
                id: compact_str::format_compact!("c{n}"),
                reply_to: p.reply_to.map(Into::into),
                author: p.author.map(Into::into),
                text: p.body,
                thread_key: Some(key.into()),
                parent_known: false,
                loc: Location {
                    file: super::file_name(file),
                    line: Some(p.line),
                    record: Some(n),
                },
                ..Comment::default()
            });
        }
    };
    for (i, raw) in lines.iter().enumerate() {
        let line_no = (first_line + i + 1) as u64;
        let line = raw.trim();
        if let Some(header) = bullet(line) {
            finish(&mut cur, &mut out);
            let norm = normalize(header);
            if is_furniture(&norm) && norm != "avatar" {
                continue; // a "• Comment" button
            }
            let (author, reply_to) = match reply_header(header) {
                Some((author, target)) => (author, Some(target)),
                None if matches!(norm.as_str(), "" | "avatar" | "anonymous" | "guest") => {
                    (None, None)
                }
                None => (Some(header.to_string()), None),
            };
            cur = Some(Pending {
                line: line_no,
                author,
                reply_to,
                body: String::new(),
                blank: false,
            });
            continue;
        }
        let Some(p) = cur.as_mut() else { continue };
        if line.is_empty() {
            p.blank = true;
            continue;
        }
        if is_furniture(&normalize(line)) {
            continue;
        }
        if p.body.is_empty() && p.reply_to.is_none() {
            if let Some((author, target)) = reply_header(line) {
                p.author = author.or(p.author.take());
                p.reply_to = Some(target);
                continue;
            }
        }
        if !p.body.is_empty() {
            p.body.push_str(if p.blank { "\n\n" } else { "\n" });
        }
        p.blank = false;
        p.body.push_str(line);
    }
    finish(&mut cur, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_headers() {
        type Case<'a> = (&'a str, Option<(Option<&'a str>, &'a str)>);
        let cases: &[Case] = &[
            (
                "anne00mariein reply todvdgrg09(Show commentHide comment)",
                Some((Some("anne00marie"), "dvdgrg09")),
            ),
            (
                "Capt'n Skippy in reply to Donny",
                Some((Some("Capt'n Skippy"), "Donny")),
            ),
            (
                "avatarin reply tox(Show commentHide comment)",
                Some((None, "x")),
            ),
            (
                "I said this in reply to the article because it was long and rambling",
                None,
            ),
            ("nothing here", None),
        ];
        for (line, want) in cases {
            let got = reply_header(line);
            let got = got.as_ref().map(|(a, t)| (a.as_deref(), t.as_str()));
            assert_eq!(got, *want, "{line}");
        }
    }

    #[test]
    fn markers_furniture_and_lines() {
        for (line, marker) in [
            ("All comments", true),
            ("12 Comments", true),
            ("Comments (3)", true),
            ("Comment via Facebook", false),
        ] {
            assert_eq!(is_comments_marker(&normalize(line)), marker, "{line}");
        }
        for (line, furniture) in [
            ("• Сomment", false),
            ("Сomment", true),
            ("Show new comments (0)", true),
            ("Great article", false),
        ] {
            assert_eq!(is_furniture(&normalize(line)), furniture, "{line}");
        }
        for (line, prose) in [
            (
                "US President Trump Holds First Official Phone Call With Russian President Putin",
                false,
            ),
            (
                "ISIS, phone call, terrorism, Daesh, Donald Trump Jr, Vladimir Putin",
                false,
            ),
            (
                "the two leaders agreed to keep talking about trade and other things",
                true,
            ),
            ("He said it was fine.", true),
        ] {
            assert_eq!(is_prose(line), prose, "{line}");
        }
        assert!(is_date_line("23:06 GMT +324 March 2017"));
        assert!(!is_date_line(
            "Trump, Putin discuss coordination against ISIS"
        ));
    }

    #[test]
    fn date_lines_become_iso_8601() {
        let cases = [
            ("23:06 GMT +324 March 2017", Some("2017-03-24T23:06+03:00")),
            ("23:06 GMT +3 24 March 2017", Some("2017-03-24T23:06+03:00")),
            ("March 3, 2020", Some("2020-03-03")),
            ("Saturday, 28 January 2017 14:05", Some("2017-01-28T14:05")),
            ("Jan 28th, 2017 9:30 UTC", Some("2017-01-28T09:30Z")),
            ("10:00 GMT-0500 4 July 2019", Some("2019-07-04T10:00-05:00")),
            ("01/28/17 05:22 PM EST", None),
            ("March 2017", None),
            ("4 May 2019 +a\u{e9}b", Some("2019-05-04")),
            ("4 May 2019 12:00 +\u{e9}\u{e9}", Some("2019-05-04T12:00")),
        ];
        for (line, want) in cases {
            assert_eq!(parse_date(line).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn date_parsing_never_panics_on_odd_words() {
        let words = [
            "+",
            "-",
            "+3",
            "+324",
            "-0",
            "+99999",
            "\u{e9}",
            "+\u{e9}\u{e9}",
            "+a\u{e9}b",
            "March",
            "Sept.",
            "31",
            "0",
            ":",
            "12:",
            ":5",
            "1\u{e9}:\u{e9}5",
            "GMT+",
            "UTC-99",
            "GMT+\u{e9}",
            "2017",
            "1st",
        ];
        for a in words {
            for b in words {
                for c in words {
                    let _ = parse_date(&format!("{a} {b}{c} {c},{a}"));
                }
            }
        }
    }

    #[test]
    fn small_page() {
        let page = "March 3, 2020\nBig News About Things Today\nThe first paragraph says a thing.\n\nRelated Headline Number One Here\n\nAll comments\n• alice\n  Hello there.\n\n  Second paragraph.\n• avatar\n  bobin reply toalice(Show commentHide comment)\n  alice, hi\n• Сomment\nShow new comments (0)\n";
        let mut input = Input::default();
        read(page.as_bytes(), "dir/p.txt", &mut input).expect("reads");
        let a = &input.articles[0];
        assert_eq!(
            (a.key.as_str(), a.title.as_deref(), a.time.as_deref()),
            (
                "p.txt",
                Some("Big News About Things Today"),
                Some("2020-03-03")
            )
        );
        assert_eq!(a.body.as_deref(), Some("The first paragraph says a thing."));
        let c: Vec<_> = input
            .comments
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.author.as_deref(),
                    c.reply_to.as_deref(),
                    c.text.as_str(),
                    c.loc.line,
                )
            })
            .collect();
        assert_eq!(
            c,
            [
                (
                    "c1",
                    Some("alice"),
                    None,
                    "Hello there.\n\nSecond paragraph.",
                    Some(8)
                ),
                ("c2", Some("bob"), Some("alice"), "alice, hi", Some(12)),
            ]
        );
    }
}
