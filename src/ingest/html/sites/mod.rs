//! The known comment engines: which ones a page uses, recognised from its markup in one pass
//! (the engine with the most comment-shaped elements first, then any other whose comments lie
//! apart from those), and the extractor for each. One
//! file per engine; each turns the page into `Item`s with their parents and `Stub`s for the
//! "load more" links, and none of them looks at the file name.

use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::Html;

use super::dom::{attr, has_class, id_attr, tag, N};
use super::{Extract, Parent};

mod disqus;
mod hackernews;
mod livejournal;
mod phpbb;
mod reddit;
mod slashdot;
mod stackexchange;
mod vbulletin;
mod wordpress;
mod xenforo;
mod youtube;
mod zeit;

/// The comment engines read by their own extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::ingest) enum Engine {
    OldReddit,
    HackerNews,
    WordPress,
    Disqus,
    Slashdot,
    YouTube,
    LiveJournal,
    PhpBb,
    XenForo,
    VBulletin,
    StackExchange,
    Zeit,
}

const ENGINES: [Engine; 12] = [
    Engine::OldReddit,
    Engine::HackerNews,
    Engine::WordPress,
    Engine::Disqus,
    Engine::Slashdot,
    Engine::YouTube,
    Engine::LiveJournal,
    Engine::PhpBb,
    Engine::XenForo,
    Engine::VBulletin,
    Engine::StackExchange,
    Engine::Zeit,
];

impl Engine {
    /// Whether `n` is one of this engine's comment elements (the detection signal).
    fn signals(self, n: N<'_>) -> bool {
        match self {
            Engine::OldReddit => reddit::is_thing(n),
            Engine::HackerNews => hackernews::is_comhead(n),
            Engine::WordPress => wordpress::is_comment(n),
            Engine::Disqus => disqus::is_post(n),
            Engine::Slashdot => {
                tag(n) == "li"
                    && has_class(n, "comment")
                    && id_attr(n).is_some_and(|i| i.starts_with("tree_"))
                    || id_attr(n) == Some("commentlisting")
            }
            Engine::YouTube => tag(n) == "ytd-comment-renderer",
            Engine::LiveJournal => livejournal::is_thread(n),
            Engine::PhpBb => phpbb::is_post(n),
            Engine::XenForo => xenforo::is_message(n),
            Engine::VBulletin => vbulletin::is_post(n),
            Engine::StackExchange => stackexchange::is_answer(n),
            Engine::Zeit => zeit::is_comment(n),
        }
    }

    fn extract(self, doc: &Html) -> Extract {
        let root = doc.tree.root();
        match self {
            Engine::OldReddit => reddit::extract(root),
            Engine::HackerNews => hackernews::extract(root),
            Engine::WordPress => wordpress::extract(root),
            Engine::Disqus => disqus::extract(root),
            Engine::Slashdot => slashdot::extract(root),
            Engine::YouTube => youtube::extract(root),
            Engine::LiveJournal => livejournal::extract(root),
            Engine::PhpBb => phpbb::extract(root),
            Engine::XenForo => xenforo::extract(root),
            Engine::VBulletin => vbulletin::extract(root),
            Engine::StackExchange => stackexchange::extract(root),
            Engine::Zeit => zeit::extract(root),
        }
    }
}

/// Each engine's comment elements on the page, the engines with the most first (ties in
/// [`ENGINES`] order); engines with none are left out.
fn signals(doc: &Html) -> Vec<(Engine, Vec<NodeId>)> {
    let mut found: Vec<(Engine, Vec<NodeId>)> = ENGINES.iter().map(|&e| (e, Vec::new())).collect();
    for n in doc.tree.root().descendants() {
        if !n.value().is_element() {
            continue;
        }
        for (engine, nodes) in found.iter_mut() {
            if engine.signals(n) {
                nodes.push(n.id());
            }
        }
    }
    found.retain(|(_, nodes)| !nodes.is_empty());
    found.sort_by_key(|(_, nodes)| std::cmp::Reverse(nodes.len())); // stable: ties keep order
    found
}

/// Every comment system on the page (issue 34 case 10: a page with two kept only the larger):
/// the engine with the most comment elements, then each other whose comment elements lie
/// apart from those read already (a WordPress post with a Disqus thread below it). An engine
/// whose elements are, contain or sit inside elements already read (two engines' signals
/// matching the same markup) is not read again, and how many of its elements were left is a
/// reject, so nothing is dropped without a word. None for a page of no known engine.
pub(super) fn extract(doc: &Html) -> Option<Extract> {
    let found = signals(doc);
    let (main, first) = found.first()?;
    let mut claimed: HashSet<NodeId> = first.iter().copied().collect();
    let mut out = main.extract(doc);
    for (engine, nodes) in &found[1..] {
        let own: HashSet<NodeId> = nodes.iter().copied().collect();
        if overlap(doc, &own, &claimed) {
            let unread = nodes.iter().filter(|id| !claimed.contains(id)).count();
            if unread > 0 {
                out.rejects.push((
                    out.items.len(),
                    format!(
                        "{unread} comment elements of a second comment system ({engine:?}) \
                         overlap the {main:?} comments read, and were not read"
                    ),
                ));
            }
            continue;
        }
        append(&mut out, engine.extract(doc));
        claimed.extend(own);
    }
    Some(out)
}

/// Whether an element of `a` is, contains or sits inside an element of `b`: one pass over the
/// page (walking each element's ancestors would be quadratic on a deep page).
pub(super) fn overlap(doc: &Html, a: &HashSet<NodeId>, b: &HashSet<NodeId>) -> bool {
    let (mut in_a, mut in_b) = (0usize, 0usize);
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(n) => {
                let (is_a, is_b) = (a.contains(&n.id()), b.contains(&n.id()));
                if (is_a && (is_b || in_b > 0)) || (is_b && in_a > 0) {
                    return true;
                }
                in_a += usize::from(is_a);
                in_b += usize::from(is_b);
            }
            Edge::Close(n) => {
                in_a -= usize::from(a.contains(&n.id()));
                in_b -= usize::from(b.contains(&n.id()));
            }
        }
    }
    false
}

/// Adds `more`'s items, stubs and rejects after `out`'s, their positions moved past `out`'s.
fn append(out: &mut Extract, more: Extract) {
    let offset = out.items.len();
    let shift = |p: Parent| match p {
        Parent::Index(i) => Parent::Index(i + offset),
        other => other,
    };
    out.items.extend(more.items.into_iter().map(|mut item| {
        item.parent = shift(item.parent);
        item
    }));
    out.stubs.extend(more.stubs.into_iter().map(|mut stub| {
        stub.parent = shift(stub.parent);
        stub
    }));
    out.rejects.extend(
        more.rejects
            .into_iter()
            .map(|(pos, why)| (pos + offset, why)),
    );
    out.confidence = match (out.confidence, more.confidence) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}

/// A flat forum's posts in page order, each read by `read`, all top-level until their quotes
/// are linked (`quote::link`).
pub(super) fn flat<'a>(
    root: N<'a>,
    is_post: impl Fn(N<'a>) -> bool,
    read: impl Fn(N<'a>) -> super::Item,
) -> Extract {
    Extract {
        items: root
            .descendants()
            .filter(|n| is_post(*n))
            .map(read)
            .collect(),
        ..Extract::default()
    }
}

/// The first number in `text` ("load more comments (3 replies)" → 3; "1,024" → 1024).
pub(super) fn number_in(text: &str) -> Option<u64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The first whole number in `text`, with its sign ("-3 points" → -3, "(Score:5, Insightful)"
/// → 5, "1,024 likes" → 1024): the votes a page shows beside a comment.
pub(super) fn points_in(text: &str) -> Option<i64> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let negative = text[..start].ends_with(['-', '\u{2212}']);
    let value = i64::try_from(number_in(&text[start..])?).ok()?;
    Some(if negative { -value } else { value })
}

/// The value of `key=` in a link's query (`item?id=42` → 42), up to `&` or `#`.
pub(super) fn query<'a>(href: &'a str, key: &str) -> Option<&'a str> {
    let mut rest = href;
    loop {
        let at = rest.find(key)?;
        let before = rest[..at].chars().last();
        let after = &rest[at + key.len()..];
        if matches!(before, Some('?' | '&' | ';')) {
            if let Some(value) = after.strip_prefix('=') {
                let end = value.find(['&', '#', ';']).unwrap_or(value.len());
                return Some(&value[..end]).filter(|v| !v.is_empty());
            }
        }
        rest = after;
    }
}

/// The fragment of a link (`…#19766693` → 19766693).
pub(super) fn fragment(href: &str) -> Option<&str> {
    href.rsplit_once('#')
        .map(|(_, f)| f)
        .filter(|f| !f.is_empty())
}

/// `attr`, trimmed and non-empty.
pub(super) fn attr_str(n: N<'_>, name: &str) -> Option<String> {
    attr(n, name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_keep_their_sign() {
        assert_eq!(points_in("-3 points"), Some(-3));
        assert_eq!(points_in("\u{2212}12 points"), Some(-12));
        assert_eq!(points_in(" (Score:5, Insightful)"), Some(5));
        assert_eq!(points_in("1,024 likes"), Some(1024));
        assert_eq!(points_in("no votes"), None);
    }

    #[test]
    fn link_parts() {
        assert_eq!(query("item?id=42", "id"), Some("42"));
        assert_eq!(query("x.pl?sid=1&amp;pid=7#9", "pid"), Some("7"));
        assert_eq!(query("x.pl?sid=1&pid=7#9", "id"), None);
        assert_eq!(query("https://y/watch?v=a&lc=Ugx.1", "lc"), Some("Ugx.1"));
        assert_eq!(fragment("x#19766693"), Some("19766693"));
        assert_eq!(number_in("load more comments (1,203 replies)"), Some(1203));
        assert_eq!(number_in("View reply"), None);
    }
}
