//! Old Reddit (old.reddit.com) comment pages: each comment is a `div.thing` with
//! `data-type="comment"` and `data-fullname="t1_ID"`, and its replies sit inside it (in
//! `div.child > div.sitetable`), so the parent is the enclosing comment. A `div.thing` of type
//! `morechildren` ("load more comments (N replies)") is a stub, not a comment.

use super::super::dom::{self, attr, has_class, tag, N};
use super::super::{quote, Extract, Item, ItemKind, Parent, Stub};
use super::{attr_str, number_in, points_in};

/// A comment or a "load more comments" stub.
pub(super) fn is_thing(n: N<'_>) -> bool {
    has_class(n, "thing") && matches!(attr(n, "data-type"), Some("comment" | "morechildren"))
}

fn is_stub(n: N<'_>) -> bool {
    attr(n, "data-type") == Some("morechildren") || has_class(n, "morechildren")
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    // Stubs are items of the walk (they hold nothing), but not items of the output.
    let mut index: Vec<Option<usize>> = Vec::new();
    for (n, parent) in dom::nest(root, is_thing) {
        let parent = match parent.and_then(|p| index[p]) {
            Some(p) => Parent::Index(p),
            None => Parent::Top,
        };
        if is_stub(n) {
            let label = dom::line(n);
            out.stubs.push(Stub {
                parent,
                missing: number_in(&label).unwrap_or(0),
                child_ids: Vec::new(),
            });
            index.push(None);
            continue;
        }
        index.push(Some(out.items.len()));
        out.items.push(comment(n, parent));
    }
    out
}

fn comment(n: N<'_>, parent: Parent) -> Item {
    let id = attr(n, "data-fullname")
        .map(|f| f.strip_prefix("t1_").unwrap_or(f).to_string())
        .or_else(|| dom::id_attr(n).map(|i| i.strip_prefix("thing_t1_").unwrap_or(i).to_string()));
    let mut item = Item::new(id, parent);
    let own = |x: N<'_>| is_thing(x) || has_class(x, "child");
    item.permalink = attr_str(n, "data-permalink").map(|p| crate::ingest::link::reddit(&p));
    item.author = attr_str(n, "data-author")
        .or_else(|| dom::find(n, own, |x| has_class(x, "author")).map(|a| dom::own_line(a, own)));
    item.time = dom::find(n, own, |x| {
        tag(x) == "time" && has_class(x, "live-timestamp")
    })
    .and_then(|t| attr_str(t, "datetime"));
    // Three spans (dislikes, unvoted, likes) carry the score as the reader voted; unvoted is it.
    item.points = dom::find(n, own, |x| has_class(x, "score") && has_class(x, "unvoted"))
        .and_then(|s| attr(s, "title").map_or_else(|| points_in(&dom::line(s)), points_in));
    let body = dom::find(n, own, |x| has_class(x, "usertext-body"));
    item.text = body
        .map(|b| quote::own_text(&mut item, b, |_| false))
        .unwrap_or_default();
    let deleted = has_class(n, "deleted")
        || item.author.as_deref().is_some_and(|a| a == "[deleted]")
        || matches!(item.text.as_str(), "[deleted]" | "[removed]");
    if deleted {
        item.kind = ItemKind::Deleted;
        item.author.get_or_insert_with(|| "[deleted]".to_string());
    }
    item
}
