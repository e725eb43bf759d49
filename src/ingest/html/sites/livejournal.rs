//! LiveJournal posts with comments (the 2018 "mdspost" layout): a flat list of
//! `div.mdspost-thread.mdspost-thread--level-N`, each holding one `article#tID`. Nesting is
//! only the level class (and the matching left margin), so the parent is the nearest earlier
//! comment one level up. `mdspost-comment--collapsed` entries show the header only: they are
//! comments with status collapsed. The "N more comments" rows (`mdspost-comment--seemore`)
//! name their parent in `data-parent` and are stubs.

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, ItemKind, Parent, Stub};
use super::{attr_str, number_in};

const LEVEL: &str = "mdspost-thread--level-";

pub(super) fn is_thread(n: N<'_>) -> bool {
    has_class(n, "mdspost-thread")
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    let mut depths = Vec::new();
    for thread in root.descendants().filter(|&n| is_thread(n)) {
        let Some(entry) = dom::find(thread, is_thread, |x| tag(x) == "article") else {
            continue;
        };
        let level = dom::class_number(thread, LEVEL).unwrap_or(1);
        if has_class(entry, "mdspost-comment--seemore") {
            let parent = attr_str(entry, "data-parent").map_or(Parent::Top, Parent::Id);
            let missing = attr(entry, "data-count")
                .and_then(|c| c.trim().parse().ok())
                .or_else(|| number_in(&dom::line(entry)))
                .unwrap_or(0);
            out.stubs.push(Stub {
                parent,
                missing,
                child_ids: Vec::new(),
            });
            continue;
        }
        out.items.push(comment(entry));
        depths.push(level);
    }
    for (item, parent) in out.items.iter_mut().zip(dom::parents_by_depth(&depths)) {
        item.parent = parent.map_or(Parent::Top, Parent::Index);
    }
    out
}

fn comment(entry: N<'_>) -> Item {
    let id = id_attr(entry).map(|i| i.strip_prefix('t').unwrap_or(i).to_string());
    let mut item = Item::new(id, Parent::Top);
    item.author = attr_str(entry, "data-username").or_else(|| {
        dom::find(entry, |_| false, |x| has_class(x, "i-ljuser-username")).map(dom::line)
    });
    let ctime = dom::find(
        entry,
        |_| false,
        |x| has_class(x, "mdspost-comment-time--ctime"),
    );
    // A collapsed comment shows no time link; LiveJournal's own form of it is relative to the
    // post's address.
    item.permalink = ctime
        .and_then(|a| attr_str(a, "href"))
        .or_else(|| item.id.as_ref().map(|i| format!("?thread={i}#t{i}")));
    item.time = ctime
        .or_else(|| dom::find(entry, |_| false, |x| tag(x) == "time"))
        .map(dom::line);
    if has_class(entry, "mdspost-comment--collapsed") {
        item.kind = ItemKind::Collapsed;
    } else if has_class(entry, "mdspost-comment--deleted") {
        item.kind = ItemKind::Deleted;
    }
    item.text = dom::find(entry, |_| false, |x| has_class(x, "mdspost-comment__body"))
        .map(|b| quote::own_text(&mut item, b, |_| false))
        .unwrap_or_default();
    item
}
