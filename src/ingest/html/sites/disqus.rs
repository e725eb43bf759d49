//! Disqus threads rendered into a page (the comment frame as a browser saved it):
//! `ul#post-list > li.post#post-ID`, replies in `ul.children` inside the parent `li.post`, so
//! the parent is the enclosing post. A visible "load more comments" button is a stub for the
//! article: the page holds only the first posts of the thread.

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, ItemKind, Parent, Stub};
use super::points_in;

pub(super) fn is_post(n: N<'_>) -> bool {
    tag(n) == "li" && has_class(n, "post") && id_attr(n).is_some_and(|i| i.starts_with("post-"))
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    for (n, parent) in dom::nest(root, is_post) {
        out.items
            .push(post(n, parent.map_or(Parent::Top, Parent::Index)));
    }
    let more = root.descendants().find(|&n| {
        has_class(n, "load-more")
            && attr(n, "data-role") == Some("more")
            && !attr(n, "style").is_some_and(|s| s.replace(' ', "").contains("display:none"))
    });
    if more.is_some() && !out.items.is_empty() {
        out.stubs.push(Stub {
            parent: Parent::Top,
            missing: 0,
            child_ids: Vec::new(),
        });
    }
    out
}

fn post(n: N<'_>, parent: Parent) -> Item {
    let id = id_attr(n)
        .and_then(|i| i.strip_prefix("post-"))
        .map(str::to_string);
    let mut item = Item::new(id, parent);
    let own = |x: N<'_>| is_post(x) || has_class(x, "children");
    item.author = dom::find(n, own, |x| has_class(x, "author"))
        .map(|a| dom::own_line(a, own))
        .filter(|a| !a.is_empty());
    let time = dom::find(n, own, |x| has_class(x, "time-ago"));
    item.time = time.map(|t| attr(t, "title").map_or_else(|| dom::line(t), str::to_string));
    item.permalink = time.and_then(|t| super::attr_str(t, "href"));
    item.points = dom::find(n, own, |x| attr(x, "data-role") == Some("likes"))
        .and_then(|l| points_in(&dom::line(l)));
    item.text = dom::find(n, own, |x| has_class(x, "post-message"))
        .map(|m| quote::own_text(&mut item, m, |_| false))
        .unwrap_or_default();
    if has_class(n, "is-deleted") || dom::find(n, own, |x| has_class(x, "post-deleted")).is_some() {
        item.kind = ItemKind::Deleted;
    }
    item
}
