//! WordPress comment lists: `ol.commentlist` / `ol.comment-list` of `li.comment#comment-ID`
//! (pingbacks and trackbacks are `li.pingback` / `li.trackback`), replies in `ul.children` or
//! `ol.children`. Most themes put the reply list inside the parent `li`, but some close the
//! `li` first so the list follows it as a sibling; the `depth-N` class WordPress writes on
//! every entry is right in both cases, so it decides the parent, and containment is used only
//! where an entry has no depth class. Drupal's comments have the same shape
//! (`article.comment#comment-ID`); where containment says top-level, their "In reply to" link
//! in the entry's `footer` names the parent, and the footer's "Name | date" line and the RDFa
//! `schema:dateCreated` give author and time where no WordPress part does.

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
    // The "Comments Like Dislike" plugin's buttons and counts (the like count is the points).
    "cld-like-dislike-wrap",
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
        let parent = match parent {
            Some(p) => Parent::Index(p),
            None => in_reply_to(*n).map_or(Parent::Top, Parent::Id),
        };
        out.items.push(entry(*n, parent));
    }
    out
}

/// The footer's parts of an entry (its own, not a reply's).
fn footer(n: N<'_>) -> Option<N<'_>> {
    dom::find(n, is_comment, |x| tag(x) == "footer")
}

/// The comment an entry's footer says it answers (Drupal's "In reply to" link to
/// `#comment-ID`), when that is another comment.
fn in_reply_to(n: N<'_>) -> Option<String> {
    let own = id_attr(n)?;
    let link = dom::find(
        footer(n)?,
        |_| false,
        |x| {
            tag(x) == "a"
                && super::attr(x, "href")
                    .and_then(super::fragment)
                    .is_some_and(|f| f != own && f.starts_with("comment-"))
        },
    )?;
    let id = super::attr(link, "href").and_then(super::fragment)?;
    let number = id.strip_prefix("comment-")?;
    number
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| number.to_string())
}

/// Drupal's footer line "Name | Di, 21. April 2020 - 16:40": the name, and the time as shown.
fn footer_byline(n: N<'_>) -> Option<(String, String)> {
    let head = dom::find(
        footer(n)?,
        |_| false,
        |x| {
            matches!(
                tag(x),
                "h2" | "h3" | "h4" | "h5" | "h6" | "p" | "span" | "div"
            ) && dom::line(x).contains(" | ")
        },
    )?;
    let line = dom::line(head);
    let (name, time) = line.split_once(" | ")?;
    let name = name.trim();
    super::super::byline::is_name(name).then(|| (name.to_string(), time.trim().to_string()))
}

/// The RDFa or microdata creation time (`schema:dateCreated`) an entry states.
fn date_created(n: N<'_>) -> Option<String> {
    let marked = dom::find(n, is_comment, |x| {
        super::attr(x, "property").is_some_and(|p| p.ends_with("dateCreated"))
            || super::attr(x, "itemprop") == Some("dateCreated")
    })?;
    super::attr_str(marked, "content").or_else(|| super::attr_str(marked, "datetime"))
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
    // An empty count is none yet.
    item.points = dom::find(n, own, |x| has_class(x, "cld-like-count-wrap")).and_then(|c| {
        let count = dom::line(c);
        match count.trim() {
            "" => Some(0),
            t => t.parse::<i64>().ok(),
        }
    });
    let byline = footer_byline(n);
    if item.author.is_none() {
        item.author = byline.as_ref().map(|b| b.0.clone());
    }
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
        })
        .or_else(|| date_created(n))
        .or_else(|| byline.map(|b| b.1));
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
