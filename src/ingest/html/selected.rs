//! Comments found where the user says they are (`--comment-selector` and friends, issue 36):
//! for a site no reader knows, a CSS selector picks the comment elements, and optional ones
//! pick each comment's author, text and time inside it; `--id-attr` and `--parent-attr` name
//! the attributes holding its id and its parent's. Without a parent attribute, a comment inside
//! another selected comment replies to it. What is nested inside a comment's own replies is
//! never taken for its author, text or time.

use scraper::{ElementRef, Selector};

use super::dom::{self, id_attr, N};
use super::{quote, Extract, Item, Parent};
use crate::ingest::Selectors;

/// The parsed selectors; an invalid one is an error naming its flag.
pub(crate) struct Parsed {
    comment: Selector,
    author: Option<Selector>,
    text: Option<Selector>,
    time: Option<Selector>,
}

pub(crate) fn parse(s: &Selectors) -> Result<Parsed, String> {
    let one = |flag: &str, css: &str| {
        Selector::parse(css).map_err(|e| format!("{flag} {css:?} is not a CSS selector: {e}"))
    };
    let opt = |flag: &str, css: &Option<String>| css.as_deref().map(|c| one(flag, c)).transpose();
    Ok(Parsed {
        comment: one("--comment-selector", &s.comment)?,
        author: opt("--author-selector", &s.author)?,
        text: opt("--text-selector", &s.text)?,
        time: opt("--time-selector", &s.time)?,
    })
}

pub(super) fn extract(root: N<'_>, s: &Selectors, p: &Parsed) -> Extract {
    let picked: std::collections::HashSet<ego_tree::NodeId> = root
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| p.comment.matches(e))
        .map(|e| e.id())
        .collect();
    let is_item = |n: N<'_>| picked.contains(&n.id());
    let mut out = Extract::default();
    for (n, contained_in) in dom::nest(root, is_item) {
        let id = s
            .id_attr
            .as_deref()
            .and_then(|a| super::sites::attr_str(n, a))
            .or_else(|| id_attr(n).map(str::to_string));
        let parent = match s.parent_attr.as_deref() {
            Some(a) => super::sites::attr_str(n, a).map_or(Parent::Top, Parent::Id),
            None => contained_in.map_or(Parent::Top, Parent::Index),
        };
        let mut item = Item::new(id, parent);
        item.anchor = id_attr(n).map(str::to_string);
        let inside = |sel: &Option<Selector>| -> Option<N<'_>> {
            let e = ElementRef::wrap(n)?;
            e.select(sel.as_ref()?)
                .map(|x| *x)
                .find(|x| !x.ancestors().take_while(|a| a.id() != n.id()).any(is_item))
        };
        let author = inside(&p.author);
        let time = inside(&p.time);
        item.author = author.map(dom::line).filter(|a| !a.is_empty());
        item.time = time.map(|t| {
            super::sites::attr_str(t, "datetime")
                .or_else(|| super::sites::attr_str(t, "title"))
                .unwrap_or_else(|| dom::line(t))
        });
        let body = inside(&p.text).unwrap_or(n);
        quote::take(&mut item, body);
        let skip = |x: N<'_>| {
            is_item(x)
                || quote::is_quote(x)
                || (p.text.is_none()
                    && (Some(x.id()) == author.map(|a| a.id())
                        || Some(x.id()) == time.map(|t| t.id())))
        };
        item.text = dom::render(body, skip);
        out.items.push(item);
    }
    out
}
