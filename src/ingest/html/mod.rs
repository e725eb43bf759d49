//! Saved HTML comment pages (File → Save Page As, or a crawler's copy): finds the comment
//! section in the markup and rebuilds the reply tree from it. The page is parsed once with
//! html5ever (through scraper); the site engine is recognised from the markup, never from the
//! file name, and read by its own extractor (old Reddit, Hacker News, WordPress, Disqus,
//! Slashdot, YouTube, LiveJournal). A page that states its comments as schema.org data
//! (microdata, JSON-LD) goes to the structured reader, forum quotes becoming reply edges; one
//! whose posts sit inside `<noscript>` (Discourse) is read again as with scripts off. A page
//! of an unknown site goes to the generic extractor
//! (repeated comment blocks), then to the text layout the page reader has always understood (a
//! "Comments" heading followed by bulleted names). A page where none of these finds a comment
//! section is reported like an empty file: a warning naming what was looked for, and exit 1.
//! Title and lead become the page's `Article`, the stance target.

use std::borrow::Cow;

use scraper::Html;

use super::{page, Comment, CommentKind, IngestError, Input, Location, Partial, PartialSource};

mod article;
mod byline;
mod dom;
mod generic;
mod microformats;
mod pages;
mod quote;
mod selected;
mod shallow;
mod sites;
mod structured;

/// What the extractors look for, named in the warning when a page has none of it.
const LOOKED_FOR: &str = "old Reddit (div.thing.comment), Hacker News (span.comhead rows), \
    WordPress (li.comment in ol.commentlist), Disqus (li.post in #post-list), Slashdot \
    (#commentlisting), YouTube (ytd-comment-renderer), LiveJournal (div.mdspost-thread), \
    phpBB (div.post#pN), XenForo (article.message / li.message#post-N), vBulletin \
    (li.postcontainer / table#postN), Stack Exchange (div.answer), \
    schema.org Comment / DiscussionForumPosting / Answer posts as microdata or JSON-LD (also \
    inside <noscript>), repeated comment blocks with author, time and text, or a \"Comments\" heading followed by \
    bulleted names";

/// Where an extracted comment's parent is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parent {
    /// A top-level comment.
    Top,
    /// The id the markup names (Slashdot's `pid=`, LiveJournal's `data-parent`), which may be
    /// a comment that is not on the page.
    Id(String),
    /// An earlier item of the same extraction (containment, depth).
    Index(usize),
}

/// What an extracted entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ItemKind {
    Comment,
    /// Header shown, body hidden: kept, with no text to score.
    Collapsed,
    Deleted,
    Pingback,
    Trackback,
}

/// One comment as found in the markup.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub id: Option<String>,
    pub parent: Parent,
    pub author: Option<String>,
    pub time: Option<String>,
    pub text: String,
    pub kind: ItemKind,
    /// Score, points or likes shown beside the comment.
    pub points: Option<i64>,
    /// The comment's link as the markup gives it (absolute, or relative to the page).
    pub permalink: Option<String>,
    /// The element's `id`, for a `page#id` link where the markup gives none.
    pub anchor: Option<String>,
    /// The text of the posts it quotes (forums), kept out of `text`.
    pub quoted: Option<String>,
    /// The element id of the post its first quote names.
    pub quotes_post: Option<String>,
    /// The author its first quote is attributed to, and the quote's first words.
    pub quotes_author: Option<String>,
    pub quote_head: Option<String>,
    /// Its parent is the post it quotes (`quote::link`), not one the markup nests it under.
    pub by_quote: bool,
}

impl Item {
    pub fn new(id: Option<String>, parent: Parent) -> Item {
        Item {
            id: id.filter(|i| !i.trim().is_empty()),
            parent,
            author: None,
            time: None,
            text: String::new(),
            kind: ItemKind::Comment,
            points: None,
            permalink: None,
            anchor: None,
            quoted: None,
            quotes_post: None,
            quotes_author: None,
            quote_head: None,
            by_quote: false,
        }
    }
}

/// A "load more" / "N more replies" placeholder: replies the page does not hold.
#[derive(Debug, Clone)]
pub(super) struct Stub {
    pub parent: Parent,
    /// How many replies it stands for, when it says.
    pub missing: u64,
    /// Replies it names that may be on the page (all present: the thread is complete).
    pub child_ids: Vec<String>,
}

/// Everything an extractor found on a page.
#[derive(Debug, Default)]
pub(super) struct Extract {
    pub items: Vec<Item>,
    pub stubs: Vec<Stub>,
    /// Entries that look like comments but could not be read, with why (item position).
    pub rejects: Vec<(usize, String)>,
    /// How sure the extractor is of the parents, when less than a known engine (generic).
    pub confidence: Option<f32>,
}

impl Extract {
    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.stubs.is_empty() && self.rejects.is_empty()
    }
}

/// An HTML comment body without the tags nested past [`shallow::MAX_DEPTH`] or left open past
/// [`shallow::MAX_FORMATTING`] formatting elements, so that html5ever and html2text (which
/// the other readers use for HTML comment bodies) stay linear. Saved pages keep their nesting
/// ([`shallow::bounded`]).
pub(crate) fn shallow(html: &str) -> Cow<'_, str> {
    shallow::shallow(html)
}

/// Whether every selector the user gave parses (the error names the flag).
pub(crate) fn check_selectors(s: &super::Selectors) -> Result<(), String> {
    selected::parse(s).map(|_| ())
}

/// Reads a saved HTML page.
pub(crate) fn read(
    bytes: &[u8],
    file: &str,
    selectors: Option<&super::Selectors>,
    input: &mut Input,
) -> Result<(), IngestError> {
    let html = decode(bytes, file)?;
    let key = page::article_key(file);
    let (doc, article, extract) = parse(&html, file, &key, selectors)?;
    match extract {
        Some(found) if found.items.is_empty() && selectors.is_some() => {
            let flags = selectors.map(|s| s.flags()).unwrap_or_default();
            input.articles.push(article);
            input.empty_page(
                file,
                format!("no comments read: {flags} matched no element"),
            );
        }
        Some(found) => {
            let base = article.url.as_deref().and_then(|u| url::Url::parse(u).ok());
            input.articles.push(article);
            add(found, file, &key, base.as_ref(), input);
            if pages::is_partial(&doc) {
                input.partials.push(Partial {
                    loc: Location::file(file),
                    source: PartialSource::Pagination,
                    thread_key: Some(key.clone()),
                    parent_id: None,
                    declared_missing: 0,
                    child_ids: Vec::new(),
                });
            }
        }
        None => text_layout(&doc, article, file, input),
    }
    Ok(())
}

/// The page parsed, its article, and its comments: where the selectors say, else by the
/// readers; a page whose posts are all inside `<noscript>` is parsed again with scripts off.
fn parse(
    html: &str,
    file: &str,
    key: &str,
    selectors: Option<&super::Selectors>,
) -> Result<(Html, super::Article, Option<Extract>), IngestError> {
    let bounded = shallow::bounded(html);
    let mut doc = Html::parse_document(&bounded);
    drop_templates(&mut doc);
    let article = article::read(&doc, html, key);
    let mut extract = match selectors {
        Some(s) => {
            let parsed = selected::parse(s).map_err(|why| IngestError::format(file, why))?;
            Some(selected::extract(doc.tree.root(), s, &parsed))
        }
        None => comments(&doc),
    };
    if extract.is_none() && html.contains("<noscript") {
        // What the page shows without scripts: Discourse and other script-built forums put
        // their server-rendered posts (the crawler view) inside <noscript>, which a parser with
        // scripting on, like a browser, reads as text.
        let mut plain = parse_without_scripts(&bounded);
        drop_templates(&mut plain);
        extract = comments(&plain);
        doc = plain;
    }
    Ok((doc, article, extract))
}

/// The text layout of scraped pages ("All comments" and bulleted names), the last resort;
/// a page without it is reported like an empty file, saying what was looked for.
fn text_layout(doc: &Html, article: super::Article, file: &str, input: &mut Input) {
    let text = dom::render(doc.tree.root(), |_| false);
    let (text_article, comments) = page::parse_text(&text, file);
    if !comments.is_empty() {
        input.articles.push(text_article);
        input.comments.extend(comments);
        return;
    }
    input.articles.push(article);
    input.empty_page(
        file,
        format!(
            "no comments read: an HTML page with no comment section found; say where the \
             comments are with --comment-selector CSS (and --author-selector, --text-selector, \
             --time-selector; for example --comment-selector '.comment' --author-selector \
             '.author'); looked for {LOOKED_FOR}"
        ),
    );
}

/// The comments of a parsed page: a known engine's, else those it states as data, else the
/// generic reader's.
fn comments(doc: &Html) -> Option<Extract> {
    match sites::extract(doc) {
        Some(found) if !found.is_empty() => Some(found),
        _ => structured::extract(doc)
            .or_else(|| Some(generic::extract(doc)).filter(|g| !g.is_empty())),
    }
}

/// The page parsed as a browser with scripts off builds it: `<noscript>` content is markup.
fn parse_without_scripts(html: &str) -> Html {
    use html5ever::tendril::TendrilSink;
    let opts = html5ever::ParseOpts {
        tree_builder: html5ever::tree_builder::TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    html5ever::driver::parse_document(scraper::HtmlTreeSink::new(Html::new_document()), opts)
        .one(html)
}

/// Removes every `<template>` and what it holds: a browser never shows template content
/// (scripts clone it into the page, and a saved page holds the clones), so comment-like markup
/// there is not a comment on the page (issue 34 case 11).
fn drop_templates(doc: &mut Html) {
    let templates: Vec<ego_tree::NodeId> = doc
        .tree
        .nodes()
        .filter(|n| {
            n.value()
                .as_element()
                .is_some_and(|e| e.name() == "template")
        })
        .map(|n| n.id())
        .collect();
    for id in templates {
        if let Some(mut n) = doc.tree.get_mut(id) {
            n.detach();
        }
    }
}

/// Turns extracted items into comments (ids, parents by id) and stubs into partial-thread
/// notes, in page order.
fn add(mut extract: Extract, file: &str, key: &str, base: Option<&url::Url>, input: &mut Input) {
    byline::apply(&mut extract.items);
    quote::link(&mut extract.items);
    let ids: Vec<String> = extract
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| item.id.clone().unwrap_or_else(|| format!("p{}", i + 1)))
        .collect();
    let parent_id = |p: &Parent| match p {
        Parent::Top => None,
        Parent::Id(id) => Some(id.clone()),
        Parent::Index(i) => ids.get(*i).cloned(),
    };
    for (i, item) in extract.items.iter().enumerate() {
        let kind = match item.kind {
            ItemKind::Collapsed => CommentKind::Collapsed,
            ItemKind::Pingback => CommentKind::Pingback,
            ItemKind::Trackback => CommentKind::Trackback,
            ItemKind::Comment | ItemKind::Deleted => CommentKind::Comment,
        };
        let text = match item.kind {
            ItemKind::Collapsed => String::new(),
            _ => item.text.clone(),
        };
        input.comments.push(Comment {
            id: ids[i].as_str().into(),
            parent_id: parent_id(&item.parent).map(Into::into),
            author: item.author.as_deref().map(Into::into),
            text,
            time: item.time.as_deref().map(Into::into),
            thread_key: Some(key.into()),
            deleted: item.kind == ItemKind::Deleted,
            kind,
            parent_known: true,
            confidence: extract.confidence,
            points: item.points,
            permalink: permalink(item, base).map(Into::into),
            quoted: item.quoted.as_deref().map(Into::into),
            by_quote: item.by_quote,
            // A quote that names only its author: the thread builder's by-name rule.
            reply_to: match item.parent {
                Parent::Top => item.quotes_author.as_deref().map(Into::into),
                _ => None,
            },
            loc: Location::record(file, i as u64 + 1),
            ..Comment::default()
        });
    }
    for stub in extract.stubs {
        input.partials.push(Partial {
            loc: Location::file(file),
            source: PartialSource::PageMore,
            thread_key: Some(key.to_string()),
            parent_id: parent_id(&stub.parent),
            declared_missing: stub.missing,
            child_ids: stub.child_ids,
        });
    }
    for (pos, reason) in extract.rejects {
        input.reject(Location::record(file, pos as u64 + 1), reason);
    }
}

/// The comment's address: its link from the markup, made absolute against the page's own
/// address (`//host/…` takes https); else the page's address with the element's id as the
/// fragment. None where neither can be made absolute.
fn permalink(item: &Item, base: Option<&url::Url>) -> Option<String> {
    let absolute = |href: &str| -> Option<url::Url> {
        let href = href.trim();
        match href.strip_prefix("//") {
            Some(rest) => url::Url::parse(&format!("https://{rest}")).ok(),
            None => url::Url::parse(href).ok().or_else(|| base?.join(href).ok()),
        }
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    };
    if let Some(link) = item.permalink.as_deref().and_then(absolute) {
        return Some(link.to_string());
    }
    let mut page = base?.clone();
    page.set_fragment(Some(item.anchor.as_deref()?));
    Some(page.to_string())
}

/// The page as text: UTF-8, or the single-byte charset its `<meta>` declares (ISO-8859-1 and
/// Windows-1252, which browsers treat as one). Anything else that is not UTF-8 is the usual
/// located error.
fn decode<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, str>, IngestError> {
    let bytes_ = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes_) {
        return Ok(Cow::Borrowed(s));
    }
    if declares_latin1(&bytes[..bytes.len().min(4096)]) {
        return Ok(Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect()));
    }
    super::text::utf8(bytes, file).map(Cow::Borrowed)
}

fn declares_latin1(head: &[u8]) -> bool {
    let head = head.to_ascii_lowercase();
    let Some(at) = memchr::memmem::find(&head, b"charset=") else {
        return false;
    };
    let rest = &head[at + 8..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    [
        &b"iso-8859-1"[..],
        b"iso8859-1",
        b"latin1",
        b"latin-1",
        b"windows-1252",
        b"cp1252",
        b"us-ascii",
    ]
    .iter()
    .any(|name| rest.starts_with(name))
}

/// One Windows-1252 byte as a character (ISO-8859-1 with printable 0x80–0x9F).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::RejectKind;

    #[test]
    fn latin1_pages_are_decoded_by_their_meta_charset() {
        let page = b"<html><head><meta charset=\"iso-8859-1\"></head><body>Caf\xe9 \x93x\x94</body></html>";
        let s = decode(page, "p.html").expect("decodes");
        assert!(s.contains("Café “x”"), "{s}");
        let undeclared = b"<html><body>Caf\xe9</body></html>";
        let err = decode(undeclared, "p.html").expect_err("not UTF-8");
        assert!(err.to_string().contains("invalid UTF-8"), "{err}");
    }

    /// Drupal's comment shape (made after Cicero's page, which cannot be committed): the reply
    /// sits in a `div.indented` beside its parent, not inside it, and names it in an "In reply
    /// to" link; the author and time are the footer's "Name | date" line and RDFa.
    #[test]
    fn drupal_comments_give_their_parent_author_and_time() {
        let comment = |id: u32, name: &str, at: &str, reply_to: Option<u32>, text: &str| {
            let reply = reply_to.map_or(String::new(), |p| {
                format!("<p class=\"visually-hidden\">In reply to <a href=\"/comment/{p}#comment-{p}\">Titel</a> by <span>Gast</span></p>")
            });
            format!(
                "<div class=\"portlet\"><article id=\"comment-{id}\" typeof=\"schema:Comment\" class=\"js-comment comment\">\
                 <footer><h6>{name} | Di, 21. April 2020 - 16:40 <span property=\"schema:dateCreated\" content=\"{at}\"></span></h6>{reply}</footer>\
                 <div><div property=\"schema:text\"><p>{text}</p></div>\
                 <ul class=\"links\"><li class=\"comment-reply\"><a href=\"/comment/reply/{id}\">Antworten</a></li></ul></div></article></div>"
            )
        };
        let page = format!(
            "<html><body><h1>Artikel</h1><div id=\"comments\">{}<div class=\"indented\">{}</div>{}</div></body></html>",
            comment(1, "Heidemarie Heim", "2020-04-21T14:40:07+00:00", None, "Vielen Dank für diese Einblicke."),
            comment(2, "Horst Kessler", "2020-04-22T13:44:38+00:00", Some(1), "Da bin ich anderer Meinung."),
            comment(3, "Ellen Wolff", "2020-04-23T08:00:00+00:00", None, "Danke."),
        );
        let mut input = Input::default();
        read(page.as_bytes(), "cicero.html", None, &mut input).expect("reads");
        let got: Vec<(&str, Option<&str>, Option<&str>, &str)> = input
            .comments
            .iter()
            .map(|c| {
                (
                    &*c.id,
                    c.parent_id.as_deref(),
                    c.author.as_deref(),
                    c.text.trim(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "1",
                    None,
                    Some("Heidemarie Heim"),
                    "Vielen Dank für diese Einblicke."
                ),
                (
                    "2",
                    Some("1"),
                    Some("Horst Kessler"),
                    "Da bin ich anderer Meinung."
                ),
                ("3", None, Some("Ellen Wolff"), "Danke."),
            ]
        );
        assert_eq!(
            input.comments[1].time.as_deref(),
            Some("2020-04-22T13:44:38+00:00")
        );
    }

    /// The "Comments Like Dislike" WordPress plugin (made after exxpress.at's page): its
    /// buttons and counts are not the comment's text, and the like count is its points.
    #[test]
    fn like_dislike_buttons_are_points_not_text() {
        let comment = |id: u32, likes: &str| {
            format!(
                "<li class=\"comment depth-1\" id=\"comment-{id}\"><div class=\"comment-body\">\
                 <div class=\"comment-author vcard\"><cite class=\"fn\">Anna</cite> <span class=\"says\">sagt:</span></div>\
                 <p>Dieses Amt gehört abgeschafft.</p>\
                 <div class=\"cld-like-dislike-wrap\"><div class=\"cld-like-wrap\"><a href=\"#\"><i></i></a>\
                 <span class=\"cld-like-count-wrap cld-count-wrap\">{likes}</span></div>\
                 <div class=\"cld-dislike-wrap\"><span class=\"cld-dislike-count-wrap\">2</span></div></div>\
                 <div class=\"reply\"><a class=\"comment-reply-link\" href=\"#\">Antworten</a></div></div></li>"
            )
        };
        let page = format!(
            "<html><body><ul class=\"comments-list\">{}{}</ul></body></html>",
            comment(1, "43 "),
            comment(2, "")
        );
        let mut input = Input::default();
        read(page.as_bytes(), "exxpress.html", None, &mut input).expect("reads");
        let got: Vec<(&str, Option<i64>)> = input
            .comments
            .iter()
            .map(|c| (c.text.trim(), c.points))
            .collect();
        assert_eq!(
            got,
            [
                ("Dieses Amt gehört abgeschafft.", Some(43)),
                ("Dieses Amt gehört abgeschafft.", Some(0))
            ]
        );
    }

    #[test]
    fn a_page_without_comments_warns_and_keeps_the_article() {
        let page = "<html><head><meta property=\"og:title\" content=\"A Title\">\
                    <meta property=\"og:description\" content=\"The lead.\"></head>\
                    <body><h1>A Title</h1><p>Some text of the article here.</p></body></html>";
        let mut input = Input::default();
        read(page.as_bytes(), "dir/a.html", None, &mut input).expect("reads");
        assert!(input.comments.is_empty());
        assert_eq!(input.articles[0].title.as_deref(), Some("A Title"));
        assert_eq!(input.articles[0].body.as_deref(), Some("The lead."));
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].kind, RejectKind::EmptyFile);
        assert!(input.rejects[0].reason.contains("looked for old Reddit"));
    }
}
