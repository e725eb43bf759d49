//! YouTube watch pages saved with their comments rendered (the Polymer layout):
//! `ytd-comment-thread-renderer` holds the top comment (`ytd-comment-renderer`) and, in
//! `ytd-comment-replies-renderer`, its loaded replies (`ytd-comment-renderer[is-reply]`).
//! Replies are one level deep by design, so a reply's parent is its thread's top comment. A
//! comment's id is the `lc=` value of its timestamp link. The replies button ("View all 4
//! replies") is a stub for the replies not loaded; an expanded thread names the replies it
//! holds, so the integrity report sees it is complete.

use super::super::dom::{self, attr, id_attr, tag, N};
use super::super::{Extract, Item, Parent, Stub};
use super::{number_in, points_in, query};

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = Extract::default();
    for thread in root
        .descendants()
        .filter(|&n| tag(n) == "ytd-comment-thread-renderer")
    {
        read_thread(thread, &mut out);
    }
    out
}

fn read_thread(thread: N<'_>, out: &mut Extract) {
    let mut top: Option<usize> = None;
    let mut replies: Vec<String> = Vec::new();
    let mut button: Option<String> = None;
    let nested = |x: N<'_>| tag(x) == "ytd-comment-renderer";
    for n in dom::walk(thread, |_| false) {
        match tag(n) {
            "ytd-comment-renderer" => {
                let is_reply = attr(n, "is-reply").is_some();
                let parent = match (is_reply, top) {
                    (true, Some(t)) => Parent::Index(t),
                    _ => Parent::Top,
                };
                let item = comment(n, parent);
                if is_reply {
                    replies.extend(item.id.clone());
                } else if top.is_none() {
                    top = Some(out.items.len());
                }
                out.items.push(item);
            }
            "ytd-comment-replies-renderer" => {
                button = Some(replies_button(n, nested).unwrap_or_default());
            }
            _ => {}
        }
    }
    let (Some(label), Some(top)) = (button, top) else {
        return;
    };
    let expanded = !replies.is_empty();
    let said = number_in(&label).unwrap_or(u64::from(!expanded));
    out.stubs.push(Stub {
        parent: Parent::Index(top),
        missing: if expanded { 0 } else { said },
        child_ids: replies,
    });
}

/// The visible label of the replies button ("View all 4 replies", "Hide replies").
fn replies_button<'a>(renderer: N<'a>, nested: impl Fn(N<'a>) -> bool) -> Option<String> {
    dom::walk(renderer, nested)
        .filter(|&x| tag(x) == "paper-button" && matches!(id_attr(x), Some("more" | "less")))
        .find(|&x| attr(x, "hidden").is_none())
        .map(dom::line)
}

fn comment(n: N<'_>, parent: Parent) -> Item {
    let own = |x: N<'_>| tag(x) == "ytd-comment-replies-renderer";
    let time_link = dom::find(n, own, |x| {
        tag(x) == "a" && attr(x, "href").is_some_and(|h| query(h, "lc").is_some())
    });
    let id = time_link
        .and_then(|a| query(attr(a, "href")?, "lc"))
        .map(str::to_string);
    let mut item = Item::new(id, parent);
    item.time = time_link.map(dom::line).filter(|t| !t.is_empty());
    item.permalink = time_link
        .and_then(|a| attr(a, "href"))
        .map(|h| match h.starts_with('/') {
            true => format!("https://www.youtube.com{h}"),
            false => h.to_string(),
        });
    item.author = dom::find(n, own, |x| id_attr(x) == Some("author-text"))
        .map(|a| dom::own_line(a, own))
        .filter(|a| !a.is_empty());
    // "72 likes" in the label; the visible count may be abbreviated ("1.2K"), so it is read
    // only when it is a plain number (a hidden "0" where nobody liked the comment).
    item.points = dom::find(n, own, |x| id_attr(x) == Some("vote-count-middle")).and_then(|v| {
        attr(v, "aria-label")
            .and_then(points_in)
            .or_else(|| dom::line(v).trim().parse().ok())
    });
    item.text = dom::find(n, own, |x| id_attr(x) == Some("content-text"))
        .map(|t| dom::render(t, |_| false))
        .unwrap_or_default();
    item
}
