//! WordPress comment lists: `ol.commentlist` / `ol.comment-list` of `li.comment#comment-ID`
//! (pingbacks and trackbacks are `li.pingback` / `li.trackback`), replies in `ul.children` or
//! `ol.children`. Most themes put the reply list inside the parent `li`, but some close the
//! `li` first so the list follows it as a sibling; the `depth-N` class WordPress writes on
//! every entry is right in both cases, so it decides the parent, and containment is used only
//! where an entry has no depth class.

use super::super::dom::{self, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, ItemKind, Parent};

/// Classes of elements inside an entry that are not its text.
const NOT_TEXT: &[&str] = &[
    "reply",
    "comment-meta",
    "comment-metadata",
    "commentmetadata",
    "comment-author",
    "comment-likes",
    "comment-actions",
    "says",
    "avatar",
    "edit-link",
];

/// An entry of the comment list: `li` (or a theme's `article` / `div`) with the id
/// `comment-NUMBER`.
pub(super) fn is_comment(n: N<'_>) -> bool {
    let Some(number) = id_attr(n).and_then(|i| i.strip_prefix("comment-")) else {
        return false;
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && (tag(n) == "li"
            || (matches!(tag(n), "article" | "div")
                && ["comment", "pingback", "trackback"]
                    .iter()
                    .any(|c| has_class(n, c))))
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let entries = dom::nest(root, is_comment);
    let depths: Option<Vec<u32>> = entries
        .iter()
        .map(|(n, _)| dom::class_number(*n, "depth-"))
        .collect();
    let by_depth = depths.map(|d| dom::parents_by_depth(&d));
    let mut out = Extract::default();
    for (i, (n, contained_in)) in entries.iter().enumerate() {
        let parent = match &by_depth {
            Some(parents) => parents[i],
            None => *contained_in,
        };
        out.items
            .push(entry(*n, parent.map_or(Parent::Top, Parent::Index)));
    }
    out
}

fn entry(n: N<'_>, parent: Parent) -> Item {
    let id = id_attr(n)
        .and_then(|i| i.strip_prefix("comment-"))
        .map(str::to_string);
    let mut item = Item::new(id, parent);
    let own = |x: N<'_>| is_comment(x) || has_class(x, "children");
    item.anchor = id_attr(n).map(str::to_string);
    item.permalink = item.anchor.as_deref().and_then(|anchor| {
        let link = dom::find(n, own, |x| {
            tag(x) == "a" && super::attr(x, "href").and_then(super::fragment) == Some(anchor)
        })?;
        super::attr_str(link, "href")
    });
    if has_class(n, "pingback") {
        item.kind = ItemKind::Pingback;
    } else if has_class(n, "trackback") {
        item.kind = ItemKind::Trackback;
    }
    let author = dom::find(n, own, |x| has_class(x, "fn")).or_else(|| {
        let box_ = dom::find(n, own, |x| has_class(x, "comment-author"))?;
        dom::find(box_, |_| false, |x| matches!(tag(x), "strong" | "b" | "a"))
            .filter(|a| !dom::line(*a).is_empty() && !has_class(*a, "comment-reply-link"))
            .or(Some(box_))
    });
    item.author = author
        .map(|a| dom::own_line(a, own))
        .filter(|a| !a.is_empty());
    // Themes without a <time> element show the date in the comment's metadata line.
    item.time = dom::find(n, own, |x| tag(x) == "time")
        .map(|t| super::attr_str(t, "datetime").unwrap_or_else(|| dom::line(t)))
        .or_else(|| {
            let meta = dom::find(n, own, |x| {
                ["commentmetadata", "comment-meta", "comment-date"]
                    .iter()
                    .any(|c| has_class(x, c))
            })?;
            Some(dom::line(meta)).filter(|t| !t.is_empty())
        });
    let body = dom::find(n, own, |x| {
        [
            "comment-content",
            "comment-text",
            "contenttext",
            "comment-body",
            "comment-entry",
        ]
        .iter()
        .any(|c| has_class(x, c))
    })
    .unwrap_or(n);
    item.text = quote::own_text(&mut item, body, |x| {
        own(x) || NOT_TEXT.iter().any(|c| has_class(x, c)) || tag(x) == "footer"
    });
    item
}
