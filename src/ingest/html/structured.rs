//! Comments a page publishes as data (issue 36): schema.org microdata (`itemscope`
//! `itemtype=".../Comment"`, `DiscussionForumPosting`, `Answer`, `SocialMediaPosting`, with
//! `itemprop="comment"` nesting, `author`, `dateCreated` and `text`), the same vocabulary in
//! RDFa (`typeof="schema:Comment"`, `property="schema:author"`), microformats2 (`h-entry` /
//! `h-cite` with `p-comment` and `u-in-reply-to`, in `microformats.rs`) and JSON-LD
//! (`<script type="application/ld+json">` objects of the same types with `comment`,
//! `suggestedAnswer` and `acceptedAnswer` arrays). It runs after the known engines and before
//! the generic reader's guesses: where a page states its comments, nothing is guessed.
//!
//! The outermost post (a forum topic's opening `DiscussionForumPosting`, a Q&A page's
//! `Question`, an article) is the page's article, not a comment, as a Reddit submission or a
//! Hacker News story is; the posts inside it are its comments, and a post nested inside
//! another replies to it. A flat list (Discourse's crawler view) gives top-level comments, and
//! the quote rules of the forum readers may then find their parents.

use scraper::Html;
use serde_json::Value;

use super::dom::{self, attr, id_attr, tag, N};
use super::{Extract, Item, Parent};

/// The schema.org types that are one post of a discussion.
const POSTS: &[&str] = &[
    "Comment",
    "DiscussionForumPosting",
    "Answer",
    "SocialMediaPosting",
    "Question",
];
/// Types that are a page's article when comments hang under them.
const ARTICLES: &[&str] = &[
    "Article",
    "NewsArticle",
    "BlogPosting",
    "Report",
    "OpinionNewsArticle",
    "WebPage",
    "QAPage",
    "DiscussionForumPosting",
    "Question",
    "SocialMediaPosting",
];

/// The comments of the page's microdata or RDFa, else its microformats, else its JSON-LD;
/// None where it states none.
pub(super) fn extract(doc: &Html) -> Option<Extract> {
    let mut found = Some(microdata(doc))
        .filter(|m| !m.items.is_empty())
        .or_else(|| Some(super::microformats::extract(doc)).filter(|m| !m.items.is_empty()))
        .or_else(|| {
            Some(json_ld(doc)).filter(|ld| !ld.items.is_empty() || !ld.rejects.is_empty())
        })?;
    if found.items.iter().all(|i| i.parent == Parent::Top) {
        // A flat list states that the posts belong to the page, not that none replies to
        // another: top-level with the generic reader's confidence for a flat list.
        found.confidence = Some(super::generic::FLAT);
    }
    Some(found)
}

/// The type names of an item: the last segment of each `itemtype` URL (microdata) or `typeof`
/// term (RDFa): "https://schema.org/Comment", "schema:Comment" and "Comment" → "Comment".
fn types(n: N<'_>) -> impl Iterator<Item = &str> {
    [attr(n, "itemtype"), attr(n, "typeof")]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .map(term)
}

/// A vocabulary term without its namespace (`schema:author`, `http://schema.org/author`).
fn term(t: &str) -> &str {
    t.trim_end_matches('/')
        .rsplit(['/', '#', ':'])
        .next()
        .unwrap_or(t)
}

/// Whether `n` opens an item: microdata's `itemscope` or RDFa's `typeof`.
fn is_item(n: N<'_>) -> bool {
    attr(n, "itemscope").is_some() || attr(n, "typeof").is_some()
}

/// Whether `n` is property `name` of its item: microdata's `itemprop` or RDFa's `property`.
fn is_prop(n: N<'_>, name: &str) -> bool {
    [attr(n, "itemprop"), attr(n, "property")]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .any(|p| term(p) == name)
}

fn is_post(n: N<'_>) -> bool {
    is_item(n) && types(n).any(|t| POSTS.contains(&t))
}

// ---------------------------------------------------------------- microdata

fn microdata(doc: &Html) -> Extract {
    let mut out = Extract::default();
    let root = doc.tree.root();
    let shapes = post_shapes(root);
    let nested = dom::nest(root, |n| is_post(n) || is_shaped_like_a_post(n, &shapes));
    // Which posts are the page's article: outermost ones that hold other posts.
    let mut holds = vec![false; nested.len()];
    for &(_, parent) in &nested {
        if let Some(p) = parent {
            holds[p] = true;
        }
    }
    let mut index: Vec<Option<usize>> = Vec::with_capacity(nested.len());
    for (i, &(n, parent)) in nested.iter().enumerate() {
        if parent.is_none() && holds[i] && types(n).any(|t| ARTICLES.contains(&t)) {
            index.push(None);
            continue;
        }
        let parent = parent.and_then(|p| index[p]);
        index.push(Some(out.items.len()));
        out.items
            .push(post(n, parent.map_or(Parent::Top, Parent::Index)));
    }
    out
}

/// Where top-level posts sit and what they look like: (the parent element, tag, first class).
type Shape<'a> = (ego_tree::NodeId, &'a str, &'a str);

fn post_shapes(root: N<'_>) -> Vec<Shape<'_>> {
    let mut shapes: Vec<Shape<'_>> = Vec::new();
    for (n, parent) in dom::nest(root, is_post) {
        let (Some(holder), Some(class)) = (n.parent(), first_class(n)) else {
            continue;
        };
        let shape = (holder.id(), tag(n), class);
        if parent.is_none() && !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    shapes
}

fn first_class(n: N<'_>) -> Option<&str> {
    attr(n, "class")?.split_whitespace().next()
}

/// A `CreativeWork` (schema.org's type above `Comment`) among the posts and shaped like them,
/// as vBulletin 5's opening post (`li.b-post` beside the replies' `Comment`s): a post too, not
/// lost. Other types shaped like a post are not (Discourse's "next page" link is a
/// `SiteNavigationElement` in a post's classes).
fn is_shaped_like_a_post(n: N<'_>, shapes: &[Shape<'_>]) -> bool {
    if shapes.is_empty() || attr(n, "itemscope").is_none() || !types(n).any(|t| t == "CreativeWork")
    {
        return false;
    }
    let (Some(holder), Some(class)) = (n.parent(), first_class(n)) else {
        return false;
    };
    shapes.contains(&(holder.id(), tag(n), class))
}

/// The elements holding `n`'s property `name` (`itemprop` or `property` lists it), not looking inside nested
/// items, which hold their own properties; a nested item that is the property is returned.
fn props<'a>(n: N<'a>, name: &str) -> Vec<N<'a>> {
    let mut found = Vec::new();
    let mut stack: Vec<N<'a>> = n.children().rev().collect();
    while let Some(x) = stack.pop() {
        if !x.value().is_element() {
            continue;
        }
        if is_prop(x, name) {
            found.push(x);
        }
        if !is_item(x) {
            stack.extend(x.children().rev());
        }
    }
    found
}

/// A property's value: `content`, `datetime` or the link, else its text.
fn value(n: N<'_>) -> Option<String> {
    let v = match tag(n) {
        "meta" => attr(n, "content").map(str::to_string),
        "time" => attr(n, "datetime")
            .map(str::to_string)
            .or_else(|| Some(dom::line(n))),
        "a" | "link" => attr(n, "href").map(str::to_string),
        _ => attr(n, "content")
            .map(str::to_string)
            .or_else(|| Some(dom::line(n))),
    }?;
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

fn first_value(n: N<'_>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| props(n, name).into_iter().find_map(value))
}

/// One post: id, author, time, link and text from its own properties.
fn post(n: N<'_>, parent: Parent) -> Item {
    // Discourse's crawler view numbers its posts ("#3") and quotes them by that number.
    let id = id_attr(n)
        .map(str::to_string)
        .or_else(|| first_value(n, &["identifier"]))
        .or_else(|| {
            [
                "data-pid",
                "data-node-id",
                "data-post-id",
                "data-comment-id",
                "data-id",
            ]
            .iter()
            .find_map(|a| super::sites::attr_str(n, a))
        })
        .or_else(|| {
            let position = first_value(n, &["position"])?;
            Some(position.trim_start_matches('#').to_string())
        });
    let mut item = Item::new(id, parent);
    item.anchor = id_attr(n).map(str::to_string);
    // A linked author (`<a itemprop="author" href="/user/x">x</a>`) is its text, not its link.
    // A person without a `name` property (vBulletin 5): the first link with text in it.
    item.author = props(n, "author").into_iter().find_map(|a| {
        if is_item(a) {
            first_value(a, &["name", "alternateName"]).or_else(|| {
                dom::walk(a, |_| false)
                    .filter(|x| tag(*x) == "a")
                    .map(dom::line)
                    .find(|l| !l.is_empty())
            })
        } else if tag(a) == "meta" {
            value(a)
        } else {
            Some(dom::line(a)).filter(|l| !l.is_empty())
        }
    });
    // A parent the markup states beside the post (NodeBB's `component="post/parent"` link).
    if item.parent == Parent::Top {
        let stated = dom::find(n, is_post, |x| attr(x, "component") == Some("post/parent"))
            .and_then(|a| attr(a, "data-topid").or_else(|| attr(a, "href")?.rsplit('/').next()))
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if let Some(p) = stated {
            item.parent = Parent::Id(p.to_string());
        }
    }
    item.time = first_value(
        n,
        &["dateCreated", "datePublished", "commentTime", "uploadDate"],
    );
    item.permalink = first_value(n, &["url"]);
    let body = ["text", "articleBody", "commentText", "description"]
        .iter()
        .find_map(|name| props(n, name).into_iter().next());
    // Where the data marks no text or author (L'Opinion's Drupal comments are typed
    // `sioc:Post sioct:Comment` with no properties), the generic reader's parts are taken.
    let author_part = if item.author.is_none() {
        let (part, name) = super::generic::author(n, is_post);
        item.author = name;
        part
    } else {
        None
    };
    let body = body.or_else(|| super::generic::body(n, is_post, author_part));
    item.text = match body {
        Some(b) if tag(b) == "meta" => value(b).unwrap_or_default(),
        Some(b) => {
            super::quote::take(&mut item, b);
            dom::render(b, |x| is_post(x) || super::quote::is_quote(x))
        }
        None => String::new(),
    };
    item
}

// ---------------------------------------------------------------- JSON-LD

fn json_ld(doc: &Html) -> Extract {
    let mut out = Extract::default();
    for n in doc.tree.root().descendants() {
        if tag(n) != "script"
            || !attr(n, "type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        {
            continue;
        }
        let text: String = n
            .children()
            .filter_map(|c| c.value().as_text())
            .map(|t| &**t)
            .collect();
        match crate::ingest::json::parse::<Value>(text.as_bytes()) {
            Ok(v) => roots(&v, &mut out),
            Err(e) if text.contains("\"comment\"") => out.rejects.push((
                out.items.len(),
                format!("JSON-LD block that could not be read: {e}"),
            )),
            Err(_) => {}
        }
    }
    out
}

fn type_names(v: &Value) -> Vec<&str> {
    match v.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The replies a JSON-LD object lists.
fn replies(v: &Value) -> Vec<&Value> {
    ["comment", "suggestedAnswer", "acceptedAnswer"]
        .iter()
        .filter_map(|k| v.get(*k))
        .flat_map(|r| match r {
            Value::Array(a) => a.iter().collect::<Vec<_>>(),
            one => vec![one],
        })
        .filter(|r| r.is_object())
        .collect()
}

/// Walks top-level objects (and `@graph`, and a Q&A page's `mainEntity`): an article or post
/// that lists replies gives them as top-level comments; a post alone at the top is a comment.
fn roots(v: &Value, out: &mut Extract) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| roots(x, out)),
        Value::Object(o) => {
            if let Some(graph) = o.get("@graph") {
                roots(graph, out);
            }
            if let Some(main) = o.get("mainEntity") {
                roots(main, out);
            }
            let types = type_names(v);
            let listed = replies(v);
            if !listed.is_empty() && types.iter().any(|t| ARTICLES.contains(t)) {
                // Iterative, so a deep reply chain cannot overflow the stack.
                let mut stack: Vec<(&Value, Parent)> =
                    listed.into_iter().rev().map(|r| (r, Parent::Top)).collect();
                while let Some((r, parent)) = stack.pop() {
                    let at = out.items.len();
                    out.items.push(ld_post(r, parent));
                    stack.extend(replies(r).into_iter().rev().map(|c| (c, Parent::Index(at))));
                }
            }
        }
        _ => {}
    }
}

fn ld_post(v: &Value, parent: Parent) -> Item {
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let id = s("identifier")
        .or_else(|| s("@id"))
        .map(str::to_string)
        .or_else(|| {
            v.get("identifier")
                .and_then(Value::as_i64)
                .map(|i| i.to_string())
        });
    let mut item = Item::new(id, parent);
    item.author = match v.get("author") {
        Some(Value::String(a)) => Some(a.clone()),
        Some(Value::Array(a)) => a
            .first()
            .and_then(|a| a.get("name")?.as_str().map(str::to_string)),
        Some(a) => a.get("name").and_then(Value::as_str).map(str::to_string),
        None => None,
    }
    .filter(|a| !a.trim().is_empty());
    item.time = s("dateCreated")
        .or_else(|| s("datePublished"))
        .map(str::to_string);
    item.permalink = s("url").map(str::to_string);
    let text = s("text")
        .or_else(|| s("articleBody"))
        .or_else(|| s("description"))
        .unwrap_or("");
    item.text = if text.contains('<') {
        crate::ingest::text::html_to_text(text)
    } else {
        crate::ingest::text::decode_entities(text)
    };
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(page: &str) -> Extract {
        extract(&Html::parse_document(page)).unwrap_or_default()
    }

    #[test]
    fn microdata_nesting_gives_parents_and_the_opening_post_is_the_article() {
        let page = r#"<div itemscope itemtype="https://schema.org/DiscussionForumPosting">
            <h1 itemprop="headline">Topic</h1><div itemprop="text">Opening post.</div>
            <div id="c1" itemprop="comment" itemscope itemtype="https://schema.org/Comment">
              <span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">ann</span></span>
              <time itemprop="dateCreated" datetime="2020-01-02T03:04:05Z">Jan 2</time>
              <div itemprop="text">First reply.</div>
              <div id="c2" itemprop="comment" itemscope itemtype="https://schema.org/Comment">
                <meta itemprop="author" content="bob"><div itemprop="text">Reply to ann.</div>
              </div>
            </div>
            <div id="c3" itemprop="comment" itemscope itemtype="http://schema.org/Comment">
              <span itemprop="author">cy</span><p itemprop="text">Second.</p></div>
          </div>"#;
        let e = read(page);
        let got: Vec<(Option<&str>, &Parent, Option<&str>, &str)> = e
            .items
            .iter()
            .map(|i| {
                (
                    i.id.as_deref(),
                    &i.parent,
                    i.author.as_deref(),
                    i.text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("c1"), &Parent::Top, Some("ann"), "First reply."),
                (Some("c2"), &Parent::Index(0), Some("bob"), "Reply to ann."),
                (Some("c3"), &Parent::Top, Some("cy"), "Second."),
            ]
        );
        assert_eq!(e.items[0].time.as_deref(), Some("2020-01-02T03:04:05Z"));
    }

    #[test]
    fn rdfa_is_read_as_microdata_is() {
        let page = r#"<article vocab="https://schema.org/" typeof="Article"><h1 property="headline">A</h1>
            <div id="r1" property="comment" typeof="Comment"><span property="author">ann</span>
              <time property="dateCreated" datetime="2021-05-06T07:08:09Z">May 6</time>
              <div property="text">First.</div>
              <div id="r2" property="schema:comment" typeof="schema:Comment">
                <span property="schema:author" typeof="Person"><span property="name">bob</span></span>
                <p property="schema:text">Reply.</p></div></div>
          </article>"#;
        let e = read(page);
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
                (Some("r1"), &Parent::Top, Some("ann"), "First."),
                (Some("r2"), &Parent::Index(0), Some("bob"), "Reply."),
            ]
        );
        assert_eq!(e.items[0].time.as_deref(), Some("2021-05-06T07:08:09Z"));
    }

    #[test]
    fn json_ld_comment_arrays_give_comments_and_replies() {
        let page = r#"<script type="application/ld+json">{"@context":"https://schema.org",
            "@type":"NewsArticle","headline":"H","comment":[
              {"@type":"Comment","identifier":"7","author":{"@type":"Person","name":"ann"},
               "dateCreated":"2021-05-01T10:00:00+02:00","text":"I disagree &amp; here is why.",
               "comment":[{"@type":"Comment","identifier":"8","author":"bob","text":"<p>No.</p>"}]},
              {"@type":"Comment","identifier":"9","text":"Third."}]}</script>"#;
        let e = read(page);
        let got: Vec<(Option<&str>, &Parent, &str)> = e
            .items
            .iter()
            .map(|i| (i.id.as_deref(), &i.parent, i.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("7"), &Parent::Top, "I disagree & here is why."),
                (Some("8"), &Parent::Index(0), "No."),
                (Some("9"), &Parent::Top, "Third."),
            ]
        );
        assert_eq!(e.items[1].author.as_deref(), Some("bob"));
    }

    /// NodeBB's layout: flat `Comment`s keyed by `data-pid`, a linked author, and the parent in
    /// a `component="post/parent"` link.
    #[test]
    fn flat_posts_take_the_parent_their_markup_states() {
        let page = r#"<ul component="topic">
            <li component="post" data-pid="73812" itemscope itemtype="http://schema.org/Comment">
              <a href="/user/ann" itemprop="author">ann</a><div component="post/content" itemprop="text">First.</div></li>
            <li component="post" data-pid="73817" itemscope itemtype="http://schema.org/Comment">
              <a href="/user/bob" itemprop="author">bob</a>
              <a component="post/parent" data-topid="73812" href="/post/73812">@ann</a>
              <div itemprop="text">Second.</div></li></ul>"#;
        let e = read(page);
        let got: Vec<(Option<&str>, &Parent, Option<&str>)> = e
            .items
            .iter()
            .map(|i| (i.id.as_deref(), &i.parent, i.author.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("73812"), &Parent::Top, Some("ann")),
                (Some("73817"), &Parent::Id("73812".to_string()), Some("bob")),
            ]
        );
        assert_eq!(e.confidence, None, "a stated parent: not a flat list");
    }

    #[test]
    fn a_page_without_structured_comments_gives_none() {
        let page = r#"<script type="application/ld+json">{"@type":"NewsArticle","headline":"H"}</script>
            <div itemscope itemtype="https://schema.org/Person"><span itemprop="name">x</span></div>"#;
        assert!(extract(&Html::parse_document(page)).is_none());
    }
}
