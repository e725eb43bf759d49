//! Bylines and action links that pages put inside a comment's own text. Newspaper systems
//! often write the author and time as the comment's first line ("Par Bruno Gobin, le mercredi
//! 15 mai 2019 à 08h07", "Ramón dijo:", "Reply #1" over "Oct. 9, 2010 - 7:28 AM EST") and the
//! action links as its last ("Reply / Quote / Report Abuse", "Antworten"). Left in, the
//! byline is scored as if the commenter had written it and the author column stays empty.
//! Every reader's items pass through here once: a leading byline gives the author and time
//! where the markup gave none (and is dropped only where its name agrees with the markup's
//! author), and trailing lines that are only action labels are dropped. A comment whose whole
//! text would go is left as it was.

use super::{Item, ItemKind};
use crate::ingest::when;

/// Words that open a byline before the name ("Par X, le …").
const LEADS: &[&str] = &[
    "Par",
    "Soumis par",
    "Posté par",
    "Publié par",
    "Von",
    "Verfasst von",
    "Posted by",
    "Submitted by",
    "By",
];
/// What comes between a byline's name and its time ("X, le …", "X am …").
const BEFORE_TIME: &[&str] = &[", le ", ", am ", ", on ", ", el ", " am ", " le ", " on "];
/// Verbs that close a byline after the name ("Ramón dijo:"); the colon is required.
const SAID: &[&str] = &[
    "dijo",
    "escribió",
    "comentó",
    "said",
    "says",
    "wrote",
    "schrieb",
    "schreibt",
    "a écrit",
    "ha scritto",
    "escreveu",
];
/// Lines that are only an action link's label.
const ACTIONS: &[&str] = &[
    "reply",
    "quote",
    "report",
    "report abuse",
    "share",
    "like",
    "flag",
    "permalink",
    "antworten",
    "melden",
    "zitieren",
    "teilen",
    "répondre",
    "signaler",
    "citer",
    "partager",
    "responder",
    "citar",
    "denunciar",
    "compartir",
    "rispondi",
    "segnala",
    "ответить",
];
/// A byline, a counter and a time line at most are read from the top.
const HEADER_LINES: usize = 3;

/// Reads and drops the bylines and action lines of every comment.
pub(super) fn apply(items: &mut [Item]) {
    for item in items.iter_mut().filter(|i| i.kind == ItemKind::Comment) {
        let end = actions_end(&item.text);
        if item.text[..end].trim().is_empty() {
            continue;
        }
        let start = read_header(item, end);
        if start > 0 || end < item.text.len() {
            item.text = item.text[start..end].to_string();
        }
    }
}

/// Where the text ends once trailing lines that are only action labels are left out.
fn actions_end(text: &str) -> usize {
    let mut end = text.len();
    loop {
        let trimmed = text[..end].trim_end();
        let Some(at) = trimmed.rfind('\n') else {
            return end;
        };
        if !ACTIONS.contains(&trimmed[at + 1..].trim().to_lowercase().as_str()) {
            return end;
        }
        end = trimmed[..at].trim_end().len();
    }
}

/// What a header line is.
enum Header {
    /// A byline: the name, and the time where it gives one.
    Byline(String, Option<String>),
    /// A post counter ("Reply #1", "#12").
    Counter,
    /// A time alone.
    Time(String),
}

/// Reads up to [`HEADER_LINES`] header lines from the top of the text's first `end` bytes.
/// Where some were read and text remains under them, the author and time they give fill the
/// item's empty ones, and the offset at which that text starts is returned; else 0.
fn read_header(item: &mut Item, end: usize) -> usize {
    let text = &item.text[..end];
    let mut dropped = 0;
    let mut rest = text;
    let (mut author, mut time) = (None, None);
    for _ in 0..HEADER_LINES {
        let trimmed = rest.trim_start();
        let (line, after) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
        let Some(header) = header(line.trim(), dropped > 0) else {
            break;
        };
        match header {
            Header::Byline(name, at) => {
                let agrees = author
                    .as_deref()
                    .or(item.author.as_deref())
                    .is_none_or(|a| a.trim().eq_ignore_ascii_case(&name));
                if !agrees {
                    break;
                }
                author.get_or_insert(name);
                if let Some(at) = at {
                    time.get_or_insert(at);
                }
            }
            Header::Counter => {}
            Header::Time(at) => {
                time.get_or_insert(at);
            }
        }
        dropped += 1;
        rest = after;
    }
    if dropped == 0 || rest.trim().is_empty() {
        return 0;
    }
    let start = end - rest.trim_start().len();
    if item.author.is_none() {
        item.author = author;
    }
    if item.time.is_none() {
        item.time = time;
    }
    start
}

/// The header `line` is, if any; a time alone counts only under another header line.
fn header(line: &str, after_header: bool) -> Option<Header> {
    if line.is_empty() || line.chars().count() > 120 {
        return None;
    }
    if is_counter(line) {
        return Some(Header::Counter);
    }
    if let Some(b) = lead_byline(line).or_else(|| said_byline(line)) {
        return Some(b);
    }
    (after_header && when::iso(line, &when::Anchor::default(), false).is_some())
        .then(|| Header::Time(line.to_string()))
}

/// "Reply #1", "#12", "Comment #3", "Kommentar #4".
fn is_counter(line: &str) -> bool {
    let Some((word, number)) = line.rsplit_once('#') else {
        return false;
    };
    !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && matches!(
            word.trim().to_lowercase().as_str(),
            "" | "reply" | "comment" | "kommentar" | "commentaire" | "comentario" | "post"
        )
}

/// "Par X, le DATE", "Von X am DATE", "Posted by X".
fn lead_byline(line: &str) -> Option<Header> {
    let rest = LEADS.iter().find_map(|lead| {
        line.strip_prefix(lead)
            .and_then(|r| r.strip_prefix(' '))
            .map(str::trim)
    })?;
    let (name, at) = match BEFORE_TIME
        .iter()
        .filter_map(|sep| rest.find(sep).map(|at| (at, sep.len())))
        .min()
    {
        Some((at, len)) => (&rest[..at], Some(rest[at + len..].trim().to_string())),
        None => (rest, None),
    };
    let name = name.trim().trim_end_matches(',');
    is_name(name).then(|| Header::Byline(name.to_string(), at.filter(|a| !a.is_empty())))
}

/// "Ramón dijo:", "Anna schrieb:".
fn said_byline(line: &str) -> Option<Header> {
    let head = line.strip_suffix(':')?.trim_end();
    let name = SAID.iter().find_map(|verb| {
        head.strip_suffix(verb)
            .filter(|n| n.ends_with(' '))
            .map(str::trim)
    })?;
    is_name(name).then(|| Header::Byline(name.to_string(), None))
}

/// A name, not a sentence: one to six words, no sentence punctuation, a letter somewhere.
pub(super) fn is_name(name: &str) -> bool {
    let words = name.split_whitespace().count();
    (1..=6).contains(&words)
        && name.chars().count() <= 60
        && name.chars().any(char::is_alphabetic)
        && !name.contains(['!', '?', ':', ';', '"', '“', '”'])
        && !name.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::super::Parent;
    use super::*;

    fn item(author: Option<&str>, text: &str) -> Item {
        let mut i = Item::new(Some("c1".into()), Parent::Top);
        i.author = author.map(String::from);
        i.text = text.to_string();
        i
    }

    fn read(author: Option<&str>, text: &str) -> (Option<String>, Option<String>, String) {
        let mut items = [item(author, text)];
        apply(&mut items);
        let [i] = items;
        (i.author, i.time, i.text)
    }

    #[test]
    fn a_leading_byline_gives_the_author_and_time_and_leaves_the_text() {
        let (a, t, text) = read(
            None,
            "Par Bruno Gobin, le mercredi 15 mai 2019 à 08h07\nException.\nSauf sur une forme rarissime.",
        );
        assert_eq!(a.as_deref(), Some("Bruno Gobin"));
        assert_eq!(t.as_deref(), Some("mercredi 15 mai 2019 à 08h07"));
        assert_eq!(text, "Exception.\nSauf sur une forme rarissime.");
        let (a, t, text) = read(None, "Ramón dijo:\n\nEstoy convencido que no son pocos.");
        assert_eq!(
            (a.as_deref(), t, text.as_str()),
            (Some("Ramón"), None, "Estoy convencido que no son pocos.")
        );
    }

    #[test]
    fn a_counter_and_a_time_line_go_and_the_time_is_kept() {
        let (a, t, text) = read(
            Some("Dread-neck"),
            "Reply #1\nOct. 9, 2010 - 7:28 AM EST\n\nPeople are fleeing the blue states.\n\nReply\nQuote\nReport Abuse",
        );
        assert_eq!(a.as_deref(), Some("Dread-neck"));
        assert_eq!(t.as_deref(), Some("Oct. 9, 2010 - 7:28 AM EST"));
        assert_eq!(text, "People are fleeing the blue states.");
    }

    #[test]
    fn what_is_not_a_byline_stays() {
        // A byline naming someone else than the markup's author is the commenter's own words.
        let text = "Par Bruno Gobin, le mercredi 15 mai\nJe cite son texte.";
        assert_eq!(read(Some("Anne"), text).2, text);
        // A first line that is a sentence, or a time with no header above it.
        for text in [
            "By the way, this is wrong.\nSecond line.",
            "My neighbour said: no.\nThen he left.",
            "Oct. 9, 2010 - 7:28 AM EST\nThat was the day.",
            "Reply",
        ] {
            let (a, t, out) = read(None, text);
            assert_eq!((a, t, out.as_str()), (None, None, text), "{text}");
        }
        // A comment that is only a byline keeps its text.
        assert_eq!(read(None, "Ramón dijo:").2, "Ramón dijo:");
        // An action word inside the text, not a line of its own, stays.
        assert_eq!(
            read(None, "I will reply later.\nQuote me.").2,
            "I will reply later.\nQuote me."
        );
    }
}
