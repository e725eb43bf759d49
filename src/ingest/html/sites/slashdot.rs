//! Slashdot stories in the threaded view: `ul#commentlisting > li.comment#tree_ID` for full
//! comments and bare `li > a[href*="pid=PARENT#ID"]` one-line entries for collapsed ones
//! (title, author, score, time, no body). The displayed nesting stops at a fixed depth, and
//! deeper replies are listed as siblings under an ancestor, so the real parent comes from the
//! links, never from the nesting: the `pid=` of a collapsed entry and the "Parent" link
//! (`cid=PARENT`) of a full one. A full comment without a Parent link is top-level; a parent
//! that is not on the page stays as named (the thread builder reports it as an orphan).

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, ItemKind, Parent};
use super::{fragment, points_in, query};

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    let Some(listing) = root
        .descendants()
        .find(|&n| id_attr(n) == Some("commentlisting"))
        .or_else(|| {
            root.descendants()
                .find(|&n| is_full(n))
                .and_then(|n| n.parent())
        })
    else {
        return out;
    };
    for n in listing.descendants() {
        if is_full(n) {
            out.items.push(full(n));
        } else if let Some(link) = collapsed_link(n) {
            match collapsed(link) {
                Ok(item) => out.items.push(item),
                Err(why) => out.rejects.push((out.items.len(), why)),
            }
        }
    }
    out
}

fn is_full(n: N<'_>) -> bool {
    tag(n) == "li" && has_class(n, "comment") && id_attr(n).is_some_and(|i| i.starts_with("tree_"))
}

/// The link of a collapsed entry: the `li`'s first element, pointing at `…pid=PARENT#ID`.
fn collapsed_link(n: N<'_>) -> Option<N<'_>> {
    if tag(n) != "li" || is_full(n) {
        return None;
    }
    let first = n.children().find(|c| c.value().is_element())?;
    let href = attr(first, "href")?;
    (tag(first) == "a" && href.contains("pid=")).then_some(first)
}

fn full(n: N<'_>) -> Item {
    let id = id_attr(n)
        .and_then(|i| i.strip_prefix("tree_"))
        .map(str::to_string);
    let own = |x: N<'_>| tag(x) == "ul";
    let parent = dom::find(n, own, |x| {
        tag(x) == "a"
            && attr(x, "href").is_some_and(|h| query(h, "cid").is_some())
            && dom::line(x) == "Parent"
    })
    .and_then(|a| query(attr(a, "href")?, "cid"))
    .map_or(Parent::Top, |p| Parent::Id(p.to_string()));
    let mut item = Item::new(id.clone(), parent);
    item.permalink = dom::find(n, own, |x| {
        tag(x) == "a"
            && dom::line(x) != "Parent"
            && attr(x, "href").and_then(|h| query(h, "cid")) == id.as_deref()
    })
    .and_then(|a| super::attr_str(a, "href"));
    let details = dom::find(n, own, |x| has_class(x, "details"));
    item.author = details.map(|d| {
        dom::find(d, |_| false, |x| tag(x) == "a")
            .map(dom::line)
            .unwrap_or_else(|| byline_author(&dom::line(d)))
    });
    item.time = details.map(dom::line).and_then(|l| {
        let on = l.find(" on ")?;
        let rest = &l[on + 4..];
        Some(rest.split(" (").next().unwrap_or(rest).trim().to_string())
    });
    item.points = dom::find(n, own, |x| has_class(x, "score"))
        .map(dom::line)
        .and_then(|s| points_in(s.split_once("Score:")?.1));
    let body_id = id.map(|i| format!("comment_body_{i}"));
    item.text = dom::find(n, own, |x| id_attr(x) == body_id.as_deref())
        .map(|b| quote::own_text(&mut item, b, |_| false))
        .unwrap_or_default();
    item
}

/// "by Anonymous Coward on …" → "Anonymous Coward".
fn byline_author(line: &str) -> String {
    let rest = line.trim().strip_prefix("by ").unwrap_or(line);
    rest.split(" on ").next().unwrap_or(rest).trim().to_string()
}

fn collapsed(link: N<'_>) -> Result<Item, String> {
    let href = attr(link, "href").unwrap_or("");
    let id = fragment(href)
        .ok_or_else(|| format!("collapsed Slashdot comment without an id: link {href:?}"))?;
    let parent = query(href, "pid").map_or(Parent::Top, |p| Parent::Id(p.to_string()));
    let mut item = Item::new(Some(id.to_string()), parent);
    item.kind = ItemKind::Collapsed;
    item.permalink = Some(href.to_string());
    // "Re:Title by author (Score:1) Friday July 06, @08:58AM", up to the nested list.
    let mut byline = String::new();
    for sibling in link.next_siblings() {
        if tag(sibling) == "ul" {
            break;
        }
        match sibling.value().as_text() {
            Some(t) => byline.push_str(t),
            None => byline.push_str(&dom::line(sibling)),
        }
    }
    let byline = byline.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rest) = byline.strip_prefix("by ") {
        let (author, rest) = rest.split_once(" (Score").unwrap_or((rest, ""));
        item.points = rest.strip_prefix(':').and_then(points_in);
        item.author = Some(author.trim().to_string()).filter(|a| !a.is_empty());
        item.time = rest
            .split_once(')')
            .map(|(_, t)| t.trim().to_string())
            .filter(|t| !t.is_empty());
    }
    Ok(item)
}
