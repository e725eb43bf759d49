//! Hacker News item pages, old (2012: nested tables, unquoted attributes) and newer
//! (`tr.athing.comtr`) markup. The comments are a flat list of table rows; nesting is only the
//! width of the indent image (`img[src$="s.gif"]`, 40 px a level) at the start of each row, so
//! the parent is the nearest earlier comment one level up. The comment header (`span.comhead`)
//! marks a comment row; the "More" link at the end of a long thread is a stub for the article.

use super::super::dom::{self, attr, has_class, tag, N};
use super::super::{Extract, Item, ItemKind, Parent, Stub};
use super::query;

/// Pixels of indent per reply level.
const INDENT_PX: u32 = 40;
/// How far up from a comment header its table row is looked for.
const ROW_LEVELS: usize = 8;

/// A comment header (not the `sitebit comhead` that shows a story's domain).
pub(super) fn is_comhead(n: N<'_>) -> bool {
    tag(n) == "span" && has_class(n, "comhead") && !has_class(n, "sitebit")
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    let mut depths = Vec::new();
    for n in root.descendants() {
        if is_comhead(n) {
            if let Some((item, depth)) = comment(n) {
                out.items.push(item);
                depths.push(depth);
            }
        } else if is_more_link(n) {
            out.stubs.push(Stub {
                parent: Parent::Top,
                missing: 0,
                child_ids: Vec::new(),
            });
        }
    }
    for (item, parent) in out.items.iter_mut().zip(dom::parents_by_depth(&depths)) {
        item.parent = parent.map_or(Parent::Top, Parent::Index);
    }
    out
}

/// The "More" link under the last comment of a page of a long thread.
fn is_more_link(n: N<'_>) -> bool {
    tag(n) == "a"
        && (has_class(n, "morelink")
            || (attr(n, "href").is_some_and(|h| h.contains("fnid=") || h.contains("&p="))
                && dom::line(n) == "More"))
}

/// The comment whose header is `head`, with its depth (1 = top level); None when the header
/// is not in a row with an indent image (a story's header).
fn comment(head: N<'_>) -> Option<(Item, u32)> {
    let row = dom::ancestor(head, ROW_LEVELS, |a| tag(a) == "tr")?;
    let indent = dom::find(
        row,
        |_| false,
        |x| tag(x) == "img" && attr(x, "src").is_some_and(|s| s.ends_with("s.gif")),
    )?;
    let width: u32 = attr(indent, "width")?.trim().parse().ok()?;
    let depth = width / INDENT_PX + 1;
    let outer = dom::ancestor(row, ROW_LEVELS, |a| has_class(a, "athing"));
    let id = outer
        .and_then(dom::id_attr)
        .map(str::to_string)
        .or_else(|| vote_id(row))
        .or_else(|| {
            dom::find(
                head,
                |_| false,
                |x| {
                    attr(x, "href").is_some_and(|h| query(h, "id").is_some() && h.contains("item?"))
                },
            )
            .and_then(|a| attr(a, "href"))
            .and_then(|h| query(h, "id"))
            .map(str::to_string)
        });
    let mut item = Item::new(id, Parent::Top);
    item.permalink = item
        .id
        .as_deref()
        .and_then(crate::ingest::link::hacker_news);
    let user = dom::find(
        head,
        |_| false,
        |x| has_class(x, "hnuser") || attr(x, "href").is_some_and(|h| h.contains("user?id=")),
    );
    item.author = user.map(dom::line).filter(|a| !a.is_empty());
    item.time = dom::find(head, |_| false, |x| has_class(x, "age"))
        .map(|a| attr(a, "title").map_or_else(|| dom::line(a), str::to_string))
        .or_else(|| {
            let line = dom::line(head);
            let after = line.split('|').next()?;
            let after = match &item.author {
                Some(a) => after.split_once(a.as_str()).map_or(after, |(_, t)| t),
                None => after,
            };
            Some(after.trim().to_string()).filter(|t| !t.is_empty())
        });
    let body = dom::find(
        row,
        |_| false,
        |x| has_class(x, "comment") && matches!(tag(x), "span" | "div"),
    );
    item.text = body
        .map(|b| dom::render(b, |x| has_class(x, "reply")))
        .unwrap_or_default();
    if item.text == "[deleted]" {
        item.kind = ItemKind::Deleted;
    }
    Some((item, depth))
}

/// The id in the comment's upvote link (`a#up_ID`).
fn vote_id(row: N<'_>) -> Option<String> {
    let up = dom::find(
        row,
        |_| false,
        |x| tag(x) == "a" && dom::id_attr(x).is_some_and(|i| i.starts_with("up_")),
    )?;
    dom::id_attr(up)?.strip_prefix("up_").map(str::to_string)
}
