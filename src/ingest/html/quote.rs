//! Forum quoting (issue 36): flat forums show a reply by quoting the post it answers. A quote
//! block is recognised from the markup the engines write (`blockquote`, Discourse's
//! `aside.quote`, XenForo's `bbCodeBlock--quote`, phpBB's and SMF's quote boxes), kept out of
//! the quoting post's own text (someone who quotes an abusive post is not abusive), and kept
//! apart; where the quote names the post it comes from (Discourse's `data-post`, XenForo's
//! `data-source="post: N"`, a "X wrote:" header linking to `#pN` / `#postN` / `#msgN`), the
//! quoting post becomes a reply to it.

use std::collections::{HashMap, HashSet};

use super::dom::{self, attr, has_class, tag, N};
use super::{Item, Parent};

/// Keeps the quotes in `body` apart on `item`: their text in `quoted`, and the post the first
/// of them names (if any) in `quotes_post`. The caller renders the body without them.
pub(super) fn take(item: &mut Item, body: N<'_>) {
    let found = quotes(body);
    item.quoted = joined(&found);
    item.quotes_post = found.iter().find_map(|q| source(*q));
    if let Some(first) = found.first() {
        item.quotes_author = author(*first);
        let body = dom::render(*first, is_header);
        item.quote_head = Some(words(&body, HEAD_WORDS)).filter(|h| !h.is_empty());
    }
}

/// The text of `found` quotes, apart; None where they hold none.
fn joined(found: &[N<'_>]) -> Option<String> {
    let text: Vec<String> = found
        .iter()
        .map(|q| dom::render(*q, |_| false))
        .filter(|t| !t.is_empty())
        .collect();
    (!text.is_empty()).then(|| text.join("\n\n"))
}

/// A comment's own text on a threaded site (WordPress, Disqus, Reddit, Slashdot,
/// LiveJournal), whose replies the markup nests: `body` rendered without `prune`d parts and
/// without its quotes, whose text goes to `quoted`, so quoting an abusive comment is not
/// scored as abuse. The parent stays the one the markup states.
pub(super) fn own_text<'a>(item: &mut Item, body: N<'a>, prune: impl Fn(N<'a>) -> bool) -> String {
    item.quoted = joined(&quotes(body));
    dom::render(body, |x| prune(x) || is_quote(x))
}

/// How many words of a quote are compared with the quoted post's text.
const HEAD_WORDS: usize = 8;

/// The first `n` words, lowercased: what a quote and its source share however either is
/// wrapped.
fn words(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A quote's header ("X wrote:", "X said: ↑", Discourse's "X:" title): not quoted text.
fn is_header(x: N<'_>) -> bool {
    tag(x) == "cite"
        || has_class(x, "title")
        || has_class(x, "attribution")
        || has_class(x, "bbCodeBlock-title")
        || has_class(x, "bbcode_postedby")
}

/// The name a quote is attributed to: `data-username` (Discourse), `data-author` (XenForo),
/// or its header: "X wrote:", "X said:", "Originally Posted by X", "Quote from: X".
fn author(q: N<'_>) -> Option<String> {
    let named = attr(q, "data-username").or_else(|| attr(q, "data-author"));
    if let Some(name) = named.map(str::trim).filter(|n| !n.is_empty()) {
        return Some(name.to_string());
    }
    let header = header(q)?;
    // "Originally posted by <strong>X</strong> View Post": the name is the bold part.
    if let Some(bold) = dom::find(header, |_| false, |x| matches!(tag(x), "strong" | "b")) {
        let name = dom::line(bold);
        if !name.is_empty() && name.len() < 80 {
            return Some(name);
        }
    }
    let header = dom::line(header);
    let header = header
        .trim()
        .trim_end_matches(['↑', ' '])
        .trim_end_matches(':');
    let name = if let Some((name, _)) = header.split_once(" wrote") {
        name
    } else if let Some((name, _)) = header.split_once(" said") {
        name
    } else if let Some((_, name)) = header.split_once("Posted by") {
        name
    } else if let Some((_, name)) = header.split_once("Quote from:") {
        name.split(" on ").next().unwrap_or(name)
    } else {
        return None;
    };
    Some(name.trim().to_string()).filter(|n| !n.is_empty() && n.len() < 80)
}

/// A top-level post that quotes an earlier post becomes a reply to it: the post the quote
/// names (by its number, which is its id, when it is not on the page: an earlier page of the
/// topic, reported as a missing parent), else the latest earlier post of the quoted author
/// whose text or own quote holds the quote's first words. A quote that names only an author
/// and holds no words (a quoted picture) is left to the thread builder's by-name rule
/// (`Comment::reply_to`); one whose words none of the author's posts here holds quotes a post
/// on another page, so it makes no edge at all rather than a wrong one to that author's latest
/// post.
pub(super) fn link(items: &mut [Item]) {
    // Each post by the number in its id, else in its element id; each author's posts in order.
    let mut numbered: HashMap<&str, usize> = HashMap::new();
    let mut by_author: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        for key in [item.id.as_deref(), item.anchor.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(n) = number_of(key) {
                numbered.entry(n).or_insert(i);
            }
        }
        if let Some(a) = item.author.as_deref() {
            by_author.entry(a).or_default().push(i);
        }
    }
    let found: Vec<(usize, Parent)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.parent == Parent::Top)
        .filter_map(|(i, item)| {
            let parent = match item.quotes_post.as_deref() {
                Some(p) => match numbered.get(p) {
                    Some(&j) if j < i => Some(Parent::Index(j)),
                    Some(_) => None,
                    None => Some(Parent::Id(p.to_string())),
                },
                None => by_text(items, i, &by_author).map(Parent::Index),
            };
            parent.map(|p| (i, p))
        })
        .collect();
    let found_at: HashSet<usize> = found.iter().map(|(i, _)| *i).collect();
    for (i, item) in items.iter_mut().enumerate() {
        if item.parent == Parent::Top && item.quote_head.is_some() && !found_at.contains(&i) {
            item.quotes_author = None;
        }
    }
    for (i, parent) in found {
        items[i].parent = parent;
        items[i].by_quote = true;
    }
}

/// Whether `n` is a quote of another post.
pub(super) fn is_quote(n: N<'_>) -> bool {
    tag(n) == "blockquote"
        || (matches!(tag(n), "aside" | "div") && has_class(n, "quote"))
        || has_class(n, "bbCodeBlock--quote")
        || has_class(n, "bbCodeQuote")
        || has_class(n, "quotecontent")
        || has_class(n, "bbc_standard_quote")
        || has_class(n, "bbcode_container")
        || is_vb3_quote(n)
}

/// vBulletin 3's quote: an unclassed `div` that opens with a `div.smallfont` "Quote:".
fn is_vb3_quote(n: N<'_>) -> bool {
    tag(n) == "div"
        && n.children()
            .find(|c| c.value().is_element())
            .is_some_and(|c| has_class(c, "smallfont") && dom::line(c).starts_with("Quote"))
}

/// The part of a quote that says whose it is: a `cite`, a title or attribution line, or
/// vBulletin's "Originally Posted by X" line.
fn header(q: N<'_>) -> Option<N<'_>> {
    dom::find(q, |_| false, is_header).or_else(|| {
        dom::find(
            q,
            |_| false,
            |x| {
                tag(x) == "div"
                    && dom::line(x).starts_with("Originally Posted by")
                    && dom::line(x).len() < 120
            },
        )
    })
}

/// The post a quote names, as the number the engine gives it: Discourse's `data-post="3"`,
/// XenForo's `data-source="post: 123"`, or a header link to `#p123`, `#post123` or `#msg123`.
/// [`link`] finds the post whose id or element id carries that number.
pub(super) fn source(n: N<'_>) -> Option<String> {
    if let Some(number) = attr(n, "data-post").map(str::trim).filter(|p| is_number(p)) {
        return Some(number.to_string());
    }
    if let Some(post) = attr(n, "data-source")
        .and_then(|s| s.trim().strip_prefix("post:"))
        .map(str::trim)
        .filter(|p| is_number(p))
    {
        return Some(post.to_string());
    }
    // A header ("cite", ".attribution", ".title") whose link points at the quoted post.
    let header = header(n)?;
    dom::walk(header, |_| false)
        .filter(|x| tag(*x) == "a")
        .find_map(|a| number_of(super::sites::fragment(attr(a, "href")?)?))
        .map(str::to_string)
}

/// The number in a post's id or anchor: `123`, `p123`, `post123`, `post-123`, `post_3`, `msg12`.
fn number_of(id: &str) -> Option<&str> {
    let digits = id
        .strip_prefix("post")
        .or_else(|| id.strip_prefix("msg"))
        .or_else(|| id.strip_prefix('p'))
        .unwrap_or(id)
        .trim_start_matches(['-', '_']);
    is_number(digits).then_some(digits)
}

/// How many of the quoted author's earlier posts are compared with a quote, newest first: a
/// page of one prolific author cannot make the linking quadratic.
const CANDIDATES: usize = 50;

/// The latest post before `i` by the author `i` quotes whose text holds the quote's head.
fn by_text(items: &[Item], i: usize, by_author: &HashMap<&str, Vec<usize>>) -> Option<usize> {
    let (who, head) = (
        items[i].quotes_author.as_deref()?,
        items[i].quote_head.as_deref()?,
    );
    let theirs = by_author.get(who)?;
    let before = theirs.partition_point(|&j| j < i);
    theirs[..before]
        .iter()
        .rev()
        .take(CANDIDATES)
        .copied()
        .find(|&j| {
            // A post that itself only quotes (its words all in a quote) is quoted whole.
            words(&items[j].text, usize::MAX).contains(head)
                || items[j]
                    .quoted
                    .as_deref()
                    .is_some_and(|q| words(q, usize::MAX).contains(head))
        })
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The quotes inside a post's body (not inside a quote: a quote of a quote belongs to the
/// outer one), in order.
pub(super) fn quotes<'a>(body: N<'a>) -> Vec<N<'a>> {
    let mut found = Vec::new();
    let mut stack: Vec<N<'a>> = body.children().rev().collect();
    while let Some(x) = stack.pop() {
        if !x.value().is_element() {
            continue;
        }
        if is_quote(x) {
            found.push(x);
        } else {
            stack.extend(x.children().rev());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    /// The quote blocks of a body, each with the post number it names.
    fn sources(body: &str) -> Vec<Option<String>> {
        let doc = Html::parse_fragment(body);
        quotes(doc.tree.root()).into_iter().map(source).collect()
    }

    #[test]
    fn quotes_name_their_post_in_each_engines_markup() {
        let phpbb = r##"<blockquote><div><cite><a href="./memberlist.php?u=5">ann</a> wrote:
            <a href="./viewtopic.php?p=56829#p56829" data-post-id="56829">↑</a></cite>text</div></blockquote>"##;
        let xenforo =
            r#"<div class="bbCodeBlock bbCodeBlock--quote" data-source="post: 123">x</div>"#;
        let discourse = r#"<aside class="quote" data-post="3" data-username="bob"><blockquote>y</blockquote></aside>"#;
        let bare = "<blockquote>Someone said this.</blockquote>";
        assert_eq!(sources(phpbb), [Some("56829".to_string())]);
        assert_eq!(sources(xenforo), [Some("123".to_string())]);
        // The blockquote inside Discourse's aside belongs to the aside: one quote.
        assert_eq!(sources(discourse), [Some("3".to_string())]);
        assert_eq!(sources(bare), [None]);
    }

    #[test]
    fn a_top_level_post_hangs_under_the_earlier_post_it_quotes() {
        let post = |id: &str, quotes: Option<&str>| {
            let mut item = Item::new(Some(id.to_string()), Parent::Top);
            item.quotes_post = quotes.map(str::to_string);
            item
        };
        let mut items = vec![
            post("p10", None),
            post("p11", Some("10")),
            post("p12", Some("13")), // a later post: not its parent
            post("p13", Some("99")), // not on the page: an earlier page's post
        ];
        link(&mut items);
        let parents: Vec<(&Parent, bool)> = items.iter().map(|i| (&i.parent, i.by_quote)).collect();
        assert_eq!(
            parents,
            [
                (&Parent::Top, false),
                (&Parent::Index(0), true),
                (&Parent::Top, false),
                (&Parent::Id("99".to_string()), true)
            ]
        );
    }
}
