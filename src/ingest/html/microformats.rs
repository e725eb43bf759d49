//! Comments stated as microformats2 (issue 36), as IndieWeb sites and WordPress with the
//! Semantic Linkbacks plugin publish them: each post is an `h-entry` or `h-cite`; a post's
//! comments are nested in it as `p-comment h-cite` (or `h-entry`); its parts are classes on
//! its elements, never looked for inside a nested `h-*` item: `p-author` / `u-author` (an
//! `h-card` whose `p-name` is the name), `dt-published`, `u-url`, `e-content` / `p-content`,
//! and `u-in-reply-to`, the address of the post it answers. Read by `structured` after
//! microdata and RDFa, with the same rule: the outermost entry that holds others is the
//! page's article.

use std::collections::HashMap;

use scraper::Html;

use super::dom::{self, attr, has_class, id_attr, N};
use super::{Extract, Item, Parent};

fn is_entry(n: N<'_>) -> bool {
    has_class(n, "h-entry") || has_class(n, "h-cite")
}

/// Any microformats2 item (`h-entry`, `h-card`, …): its properties are its own.
fn is_item(n: N<'_>) -> bool {
    attr(n, "class").is_some_and(|c| c.split_whitespace().any(|c| c.starts_with("h-")))
}

pub(super) fn extract(doc: &Html) -> Extract {
    let mut out = Extract::default();
    let nested = dom::nest(doc.tree.root(), is_entry);
    let mut holds = vec![false; nested.len()];
    for &(_, parent) in &nested {
        if let Some(p) = parent {
            holds[p] = true;
        }
    }
    let mut index: Vec<Option<usize>> = Vec::with_capacity(nested.len());
    let mut reply_to: Vec<Option<String>> = Vec::new();
    for (i, &(n, parent)) in nested.iter().enumerate() {
        if parent.is_none() && holds[i] {
            index.push(None); // the article
            continue;
        }
        let parent = parent.and_then(|p| index[p]);
        index.push(Some(out.items.len()));
        let (item, answers) = entry(n, parent.map_or(Parent::Top, Parent::Index));
        out.items.push(item);
        reply_to.push(answers);
    }
    link_replies(&mut out.items, &reply_to);
    out
}

/// A top-level entry whose `u-in-reply-to` is another entry's `u-url` (or names its element
/// id as the fragment) replies to it; one pointing elsewhere (the article) stays top-level.
fn link_replies(items: &mut [Item], reply_to: &[Option<String>]) {
    let mut by_link: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        for key in [item.permalink.as_deref(), item.anchor.as_deref()]
            .into_iter()
            .flatten()
        {
            by_link.entry(key).or_insert(i);
        }
    }
    let found: Vec<(usize, usize)> = reply_to
        .iter()
        .enumerate()
        .filter(|(i, _)| items[*i].parent == Parent::Top)
        .filter_map(|(i, to)| {
            let to = to.as_deref()?;
            let j = by_link
                .get(to)
                .or_else(|| by_link.get(super::sites::fragment(to)?))?;
            (*j != i).then_some((i, *j))
        })
        .collect();
    for (i, j) in found {
        items[i].parent = Parent::Index(j);
    }
}

/// The elements of `n`'s own part carrying one of the property classes `names`, in page
/// order; a nested item may itself be the property but is not looked inside.
fn props<'a>(n: N<'a>, names: &[&str]) -> Vec<N<'a>> {
    let mut found = Vec::new();
    let mut stack: Vec<N<'a>> = n.children().rev().collect();
    while let Some(x) = stack.pop() {
        if !x.value().is_element() {
            continue;
        }
        if names.iter().any(|p| has_class(x, p)) {
            found.push(x);
        }
        if !is_item(x) {
            stack.extend(x.children().rev());
        }
    }
    found
}

/// A `u-*` or `dt-*` property's value: its link or datetime, else its text.
fn value(n: N<'_>) -> Option<String> {
    ["href", "datetime", "value", "title"]
        .iter()
        .find_map(|a| super::sites::attr_str(n, a))
        .or_else(|| Some(dom::line(n)).filter(|l| !l.is_empty()))
}

/// One entry and the address it answers.
fn entry(n: N<'_>, parent: Parent) -> (Item, Option<String>) {
    let mut item = Item::new(id_attr(n).map(str::to_string), parent);
    item.anchor = id_attr(n).map(str::to_string);
    item.author = props(n, &["p-author", "u-author"])
        .into_iter()
        .find_map(|a| {
            let name = if is_item(a) {
                props(a, &["p-name"]).into_iter().next().map(dom::line)
            } else {
                None
            };
            name.or_else(|| Some(dom::line(a)))
                .filter(|name| !name.is_empty())
        });
    item.time = props(n, &["dt-published"]).into_iter().find_map(value);
    item.permalink = props(n, &["u-url"]).into_iter().find_map(value);
    if item.id.is_none() {
        item.id = item.permalink.clone();
    }
    let body = props(n, &["e-content", "p-content"]).into_iter().next();
    if let Some(b) = body {
        super::quote::take(&mut item, b);
        item.text = dom::render(b, |x| is_entry(x) || super::quote::is_quote(x));
    }
    let answers = props(n, &["u-in-reply-to"]).into_iter().find_map(|r| {
        if is_item(r) {
            props(r, &["u-url"]).into_iter().find_map(value)
        } else {
            value(r)
        }
    });
    (item, answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_comments_and_in_reply_to_links_give_parents() {
        let page = r#"<article class="h-entry"><h1 class="p-name">Post</h1>
            <div class="e-content">The post itself.</div>
            <div id="c1" class="p-comment h-cite">
              <a class="u-author h-card" href="/ann"><img src="a.png"><span class="p-name">Ann</span></a>
              <a class="u-url" href="https://blog.example/post#c1"><time class="dt-published" datetime="2020-01-02T03:04:05Z">Jan 2</time></a>
              <div class="p-content">First.</div>
              <div id="c2" class="p-comment h-cite"><span class="p-author">Bob</span>
                <div class="e-content">Nested reply.</div></div>
            </div>
            <div id="c3" class="p-comment h-cite"><span class="p-author h-card"><span class="p-name">Cy</span></span>
              <a class="u-in-reply-to" href="https://blog.example/post#c1">in reply to Ann</a>
              <div class="e-content"><blockquote>First.</blockquote>Answering Ann.</div></div>
            <div id="c4" class="p-comment h-cite"><span class="p-author">Di</span>
              <a class="u-in-reply-to" href="https://blog.example/post">the post</a>
              <div class="e-content">To the post.</div></div>
          </article>"#;
        let e = extract(&Html::parse_document(page));
        let got: Vec<_> = e
            .items
            .iter()
            .map(|i| {
                (
                    i.id.as_deref(),
                    &i.parent,
                    i.author.as_deref(),
                    i.text.trim(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("c1"), &Parent::Top, Some("Ann"), "First."),
                (Some("c2"), &Parent::Index(0), Some("Bob"), "Nested reply."),
                (Some("c3"), &Parent::Index(0), Some("Cy"), "Answering Ann."),
                (Some("c4"), &Parent::Top, Some("Di"), "To the post."),
            ]
        );
        assert_eq!(e.items[0].time.as_deref(), Some("2020-01-02T03:04:05Z"));
        assert_eq!(e.items[2].quoted.as_deref(), Some("First."));
    }
}
