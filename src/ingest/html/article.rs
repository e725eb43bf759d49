//! The article a saved page is about, read from its markup: the title (og:title, else the
//! `<title>` without the site name, else the first `<h1>`) and the lead (og:description or the
//! meta description, else the first paragraph of the article body), plus the canonical link
//! and publication time when the page states them. They become the stance target, as for the
//! text pages.

use scraper::Html;

use super::super::Article;
use super::dom::{self, attr, has_class, tag, N};

/// Paragraphs shorter than this are bylines or captions, not a lead.
const LEAD_MIN_WORDS: usize = 8;

pub(super) fn read(doc: &Html, html: &str, key: &str) -> Article {
    let mut meta = Meta::default();
    let mut h1 = None;
    let mut title = None;
    let mut lead = None;
    for n in doc.tree.root().descendants() {
        match tag(n) {
            "meta" => meta.take(n),
            "link" if attr(n, "rel") == Some("canonical") => {
                meta.url
                    .get_or_insert_with(|| attr(n, "href").unwrap_or("").to_string());
            }
            "title" if title.is_none() => title = Some(dom::line(n)),
            "h1" if h1.is_none() => {
                h1 = Some(dom::line(n)).filter(|t| !t.is_empty() && !t.contains("[["));
            }
            "p" if lead.is_none() && in_article_body(n) => {
                let text = dom::line(n);
                if text.split_whitespace().count() >= LEAD_MIN_WORDS {
                    lead = Some(text);
                }
            }
            _ => {}
        }
    }
    let title = meta
        .title
        .or_else(|| title.map(|t| headline(&t)))
        .filter(|t| !t.is_empty())
        .or(h1);
    let body = meta
        .og_description
        .or(meta.description)
        .or(lead)
        .filter(|b| !b.is_empty());
    Article {
        key: key.to_string(),
        title,
        body,
        url: meta.url.filter(|u| !u.is_empty()),
        time: meta.time,
        saved_at: saved_at(html),
    }
}

/// When the page says it was saved: SingleFile's "saved date:" note, or the 14-digit moment in
/// a Wayback Machine address (`web.archive.org/web/20180424120000/…`), both in UTC. Only the
/// page's head (the first 64 KiB) is searched.
pub(super) fn saved_at(html: &str) -> Option<String> {
    let mut end = html.len().min(1 << 16);
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let head = &html[..end];
    if let Some(at) = head.find("saved date:") {
        let line = head[at + 11..].lines().next().unwrap_or("").trim();
        let line = line.split(" (").next().unwrap_or(line);
        if let Some(t) = crate::ingest::moment(line) {
            return Some(t.to_string());
        }
    }
    let at = head.find("web.archive.org/web/")?;
    let digits: String = head[at + 20..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.len() < 14 {
        return None;
    }
    let (d, t) = digits.split_at(8);
    let raw = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[..4],
        &d[4..6],
        &d[6..8],
        &t[..2],
        &t[2..4],
        &t[4..6]
    );
    crate::ingest::moment(&raw).map(|t| t.to_string())
}

#[derive(Default)]
struct Meta {
    title: Option<String>,
    og_description: Option<String>,
    description: Option<String>,
    url: Option<String>,
    time: Option<String>,
}

impl Meta {
    fn take(&mut self, n: N<'_>) {
        let name = attr(n, "property")
            .or_else(|| attr(n, "name"))
            .unwrap_or("");
        let Some(content) = attr(n, "content").map(str::trim).filter(|c| !c.is_empty()) else {
            return;
        };
        let slot = match name.to_ascii_lowercase().as_str() {
            "og:title" | "twitter:title" => &mut self.title,
            "og:description" => &mut self.og_description,
            "description" | "twitter:description" => &mut self.description,
            "og:url" => &mut self.url,
            "article:published_time" => &mut self.time,
            _ => return,
        };
        slot.get_or_insert_with(|| content.to_string());
    }
}

/// The headline in a `<title>`: its longest part once the site name is split off
/// ("Slashdot | Microsoft States…", "… Which to Buy? - YouTube").
fn headline(title: &str) -> String {
    [" | ", " - ", " – ", " — ", " :: ", " « ", " » "]
        .iter()
        .fold(vec![title.trim()], |parts, sep| {
            parts
                .iter()
                .flat_map(|p| p.split(sep))
                .map(str::trim)
                .collect()
        })
        .into_iter()
        .max_by_key(|p| p.chars().count())
        .unwrap_or("")
        .to_string()
}

/// A paragraph inside the article's body (an `<article>`, `itemprop=articleBody` or an
/// `entry-content`-like block) and not inside a comment.
fn in_article_body(p: N<'_>) -> bool {
    let mut body = false;
    for a in p.ancestors().take(64) {
        let class = attr(a, "class").unwrap_or("").to_ascii_lowercase();
        let id = attr(a, "id").unwrap_or("");
        if class.contains("comment")
            || class.contains("post-message")
            || id.contains("comment")
            || id == "post-list"
        {
            return false;
        }
        body = body
            || tag(a) == "article"
            || attr(a, "itemprop") == Some("articleBody")
            || has_class(a, "entry-content")
            || has_class(a, "post-content")
            || has_class(a, "article-body");
    }
    body
}

#[cfg(test)]
mod tests {
    use super::saved_at;

    #[test]
    fn a_page_says_when_it_was_saved() {
        let singlefile =
            "<!DOCTYPE html> <html><!--\n Page saved with SingleFile \n url: https://x/ \n \
            saved date: Tue Apr 24 2018 14:00:00 GMT+0200 (Central European Summer Time)\n-->";
        assert_eq!(
            saved_at(singlefile).as_deref(),
            Some("2018-04-24T12:00:00Z")
        );
        let wayback = r#"<link rel="canonical" href="https://web.archive.org/web/20180424120000/https://news.ycombinator.com/item?id=1">"#;
        assert_eq!(saved_at(wayback).as_deref(), Some("2018-04-24T12:00:00Z"));
        assert_eq!(saved_at("<html><body>saved date: soon</body></html>"), None);
    }
}
