//! The fallback for pages of no known engine (new Reddit, Discourse, Stack Exchange, a news
//! site's own system): finds the comment blocks as the largest group of repeated elements that
//! share a comment-like class (or schema.org `Comment` markup) and mostly carry a text and an
//! author or a time, then takes reply nesting from DOM containment, or, on flat lists, from
//! indentation (`depth-N` / `level-N` classes or a left margin). Every comment it reads carries
//! a confidence below that of a known engine, which the thread builder reports per comment.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;

use super::dom::{self, attr, has_class, id_attr, tag, N};
use super::{Extract, Item, Parent, Stub};

/// Confidence of a parent (or of being top-level) found by containment in an unknown layout.
pub(super) const CONTAINMENT: f32 = 0.8;
/// Confidence of a parent found by indentation in an unknown layout.
pub(super) const INDENTATION: f32 = 0.7;
/// Confidence when the list is flat: no nesting signal at all, every comment top-level.
pub(super) const FLAT: f32 = 0.6;
/// Only the largest groups are examined closely.
const GROUPS_EXAMINED: usize = 8;

/// Parts of class names that mark a comment block.
const MARKS: &[&str] = &["comment", "reply", "post", "answer", "message", "review"];
/// Words after the mark that make a class name a part of a comment, or a container of many.
const PARTS: &[&str] = &[
    "list",
    "count",
    "form",
    "body",
    "content",
    "text",
    "meta",
    "author",
    "user",
    "date",
    "time",
    "head",
    "foot",
    "link",
    "button",
    "btn",
    "action",
    "avatar",
    "vote",
    "score",
    "icon",
    "area",
    "section",
    "container",
    "wrap",
    "thread",
    "nav",
    "replies",
    "comments",
    "posts",
    "answers",
    "messages",
    "reviews",
    "title",
    "info",
    "menu",
    "share",
    "edit",
    "new",
    "input",
    "box",
];

/// The group key of an element that may be a comment block: its tag and its comment-like
/// class, or, for an element with none, the comment list it is an item of (Politico's
/// `ol#commentsList > li`).
fn key(n: N<'_>) -> Option<(String, String)> {
    let e = n.value().as_element()?;
    if attr(n, "itemtype").is_some_and(|t| t.ends_with("/Comment") || t.ends_with("/Answer")) {
        return Some((e.name().to_string(), "itemtype".to_string()));
    }
    if let Some(class) = e
        .classes()
        .find(|c| is_block_class(&c.to_ascii_lowercase()))
    {
        return Some((e.name().to_string(), class.to_string()));
    }
    let list = n.parent().filter(|p| matches!(tag(*p), "ol" | "ul"))?;
    let name = [id_attr(list), attr(list, "class")]
        .into_iter()
        .flatten()
        .find(|v| v.to_ascii_lowercase().contains("comment"))?;
    (e.name() == "li").then(|| ("li".to_string(), format!("in {name}")))
}

/// A class that names one comment block: a mark not followed by a part's name or a plural
/// (`comment`, `user-comment`, `topic-post`; not `comment-body`, `comments`, `commentlist`).
fn is_block_class(class: &str) -> bool {
    MARKS.iter().any(|m| {
        class.match_indices(m).any(|(at, _)| {
            let after = &class[at + m.len()..];
            !after.starts_with('s') && !PARTS.iter().any(|p| after.contains(p))
        })
    })
}

pub(super) fn extract(doc: &scraper::Html) -> Extract {
    let root = doc.tree.root();
    let mut groups: HashMap<(String, String), usize> = HashMap::new();
    for n in root.descendants() {
        if let Some(k) = key(n) {
            *groups.entry(k).or_default() += 1;
        }
    }
    let mut ranked: Vec<((String, String), usize)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut good_groups: Vec<(usize, (String, String))> = ranked
        .into_iter()
        .take(GROUPS_EXAMINED)
        .filter_map(|(k, _)| {
            let is_item = |n: N<'_>| key(n).as_ref() == Some(&k);
            let items = read_group(root, &is_item);
            let good = items
                .items
                .iter()
                .filter(|i| !i.text.is_empty() && (i.author.is_some() || i.time.is_some()))
                .count();
            (good >= 1 && good * 2 >= items.items.len()).then_some((good, k))
        })
        .collect();
    good_groups.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    if good_groups.first().is_none_or(|(good, _)| *good < 2) {
        return Extract::default();
    }
    // Other groups of comment blocks apart from the first (Slate's replies are
    // `div.article_comment_answer` beside the `div.article_comment_item`s): read with it, so
    // none is dropped unread. A group that is, holds or sits inside the first's blocks (their
    // parts) is not.
    let members = |k: &(String, String)| -> HashSet<NodeId> {
        root.descendants()
            .filter(|n| key(*n).as_ref() == Some(k))
            .map(|n| n.id())
            .collect()
    };
    let mut keys = vec![good_groups[0].1.clone()];
    let mut claimed = members(&keys[0]);
    for (_, k) in &good_groups[1..] {
        let own = members(k);
        if !super::sites::overlap(doc, &own, &claimed) {
            claimed.extend(own);
            keys.push(k.clone());
        }
    }
    let is_item = |n: N<'_>| key(n).is_some_and(|k| keys.contains(&k));
    read_group(root, &is_item)
}

/// Reads every element of one group as a comment, with its nesting.
fn read_group<'a>(root: N<'a>, is_item: &dyn Fn(N<'a>) -> bool) -> Extract {
    let mut out = Extract::default();
    let is_node = |n: N<'a>| is_item(n) || is_more(n);
    let mut index: Vec<Option<usize>> = Vec::new();
    let mut indents: Vec<Option<u32>> = Vec::new();
    let mut wrappers: Vec<u32> = Vec::new();
    let mut contained = false;
    for (n, parent) in dom::nest(root, is_node) {
        let parent = parent.and_then(|p| index[p]);
        if !is_item(n) {
            out.stubs.push(Stub {
                parent: parent.map_or(Parent::Top, Parent::Index),
                missing: super::sites::number_in(&dom::line(n)).unwrap_or(0),
                child_ids: Vec::new(),
            });
            index.push(None);
            continue;
        }
        contained |= parent.is_some();
        index.push(Some(out.items.len()));
        indents.push(indent(n));
        wrappers.push(wrapping(n));
        out.items
            .push(block(n, parent.map_or(Parent::Top, Parent::Index), is_item));
    }
    let confidence = if contained {
        CONTAINMENT
    } else if let Some(depths) = levels(&indents).or_else(|| wrapped_levels(&wrappers)) {
        for (item, p) in out.items.iter_mut().zip(dom::parents_by_depth(&depths)) {
            item.parent = p.map_or(Parent::Top, Parent::Index);
        }
        INDENTATION
    } else {
        FLAT
    };
    out.confidence = Some(confidence);
    out
}

/// A "load more" / "N more replies" link or button.
fn is_more(n: N<'_>) -> bool {
    if !matches!(tag(n), "a" | "button") {
        return false;
    }
    let text = dom::line(n).to_lowercase();
    text.len() < 60
        && (text.starts_with("load more")
            || text.starts_with("show more")
            || text.starts_with("view more")
            || (text.contains("more") && (text.contains("repl") || text.contains("comment"))))
}

/// The indentation an element states: a level class, or a left margin / padding in pixels.
fn indent(n: N<'_>) -> Option<u32> {
    for prefix in ["depth-", "level-", "indent-", "depth", "level"] {
        if let Some(l) = dom::class_number(n, prefix) {
            return Some(l * 1000);
        }
    }
    let style = attr(n, "style")?.to_ascii_lowercase();
    ["margin-left", "padding-left"].iter().find_map(|p| {
        let at = style.find(p)?;
        let value = style[at + p.len()..].trim_start_matches([':', ' ']);
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// Classes of the elements a theme wraps replies in, one per level (Drupal's `div.indented`).
const REPLY_WRAPPERS: &[&str] = &[
    "indented",
    "indent",
    "children",
    "replies",
    "comment-replies",
];

/// How many reply wrappers hold `n` (looking at most 64 levels up).
fn wrapping(n: N<'_>) -> u32 {
    n.ancestors()
        .take(64)
        .filter(|a| REPLY_WRAPPERS.iter().any(|c| has_class(*a, c)))
        .count() as u32
}

/// Depths (1 = top level) from reply wrappers, when some block sits in one.
fn wrapped_levels(wrappers: &[u32]) -> Option<Vec<u32>> {
    wrappers
        .iter()
        .any(|&w| w > 0)
        .then(|| wrappers.iter().map(|w| w + 1).collect())
}

/// Depths (1 = top level) from indents, when every block states one and they differ.
fn levels(indents: &[Option<u32>]) -> Option<Vec<u32>> {
    let indents: Vec<u32> = indents.iter().copied().collect::<Option<_>>()?;
    let mut distinct = indents.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 {
        return None;
    }
    Some(
        indents
            .iter()
            .map(|i| distinct.binary_search(i).map_or(1, |p| p as u32 + 1))
            .collect(),
    )
}

/// One comment block: id from the element or its permalink, author, time and text from the
/// parts whose class names say what they are.
fn block<'a>(n: N<'a>, parent: Parent, is_item: &dyn Fn(N<'a>) -> bool) -> Item {
    let own = |x: N<'a>| is_item(x);
    let id = id_attr(n).map(str::to_string).or_else(|| {
        ["data-comment-id", "data-post-id", "data-id", "data-cid"]
            .iter()
            .find_map(|a| super::sites::attr_str(n, a))
    });
    let mut item = Item::new(id, parent);
    let (author, name) = author(n, own);
    item.author = name;
    let time = dom::find(n, own, |x| tag(x) == "time")
        .or_else(|| dom::find(n, own, |x| class_has(x, &["date", "time"])));
    item.time = time.map(|t| super::sites::attr_str(t, "datetime").unwrap_or_else(|| dom::line(t)));
    item.anchor = id_attr(n).map(str::to_string);
    // The link around the time, or one to this block's own id, is the comment's permalink.
    item.permalink = time
        .and_then(|t| {
            t.ancestors()
                .take_while(|a| a.id() != n.id())
                .find(|a| tag(*a) == "a")
        })
        .or_else(|| {
            let anchor = item.anchor.as_deref()?;
            dom::find(n, own, |x| {
                tag(x) == "a" && attr(x, "href").and_then(super::sites::fragment) == Some(anchor)
            })
        })
        .and_then(|a| super::sites::attr_str(a, "href"));
    let body = body(n, own, author);
    if let Some(b) = body {
        super::quote::take(&mut item, b);
    }
    let skip = |x: N<'a>| {
        own(x)
            || super::quote::is_quote(x)
            || is_more(x)
            || Some(x.id()) == author.map(|a| a.id())
            || Some(x.id()) == time.map(|t| t.id())
    };
    item.text = dom::render(body.unwrap_or(n), skip);
    item
}

/// Whether `x`'s class names hold any of `words` (lower case).
fn class_has(x: N<'_>, words: &[&str]) -> bool {
    let class = attr(x, "class").unwrap_or("").to_ascii_lowercase();
    words.iter().any(|w| class.contains(w))
}

/// The author part of a comment block and the name in it: the first part marked as the
/// author (`itemprop=author`, `rel=author`, or a class such as `author`, `username`,
/// `comment-user`) that shows a name. Where the part holds a link with text, the name is that
/// link's (HuffPost's author box also holds a rank, a bio and "830 Fans"); a part with no text
/// (an avatar link) is passed over.
pub(super) fn author<'a>(
    n: N<'a>,
    own: impl Fn(N<'a>) -> bool + Copy,
) -> (Option<N<'a>>, Option<String>) {
    let marked = |x: N<'_>| {
        attr(x, "itemprop") == Some("author")
            || attr(x, "rel").is_some_and(|r| r.contains("author"))
            || class_has(
                x,
                &[
                    "author",
                    "username",
                    "user-name",
                    "user-link",
                    "byline",
                    "commenter",
                    "commentor",
                    "-user",
                    "_user",
                ],
            )
    };
    let parts: Vec<N<'a>> = dom::walk(n, own)
        .filter(|&x| x.id() != n.id() && marked(x))
        .take(CANDIDATES)
        .collect();
    // A part that holds a marked *name* is passed over for it: Slate's `div.comment_author`
    // ("Soumis par X, le …") holds `span.comment_author_name`. (HuffPost's author box holds
    // its fan count, marked `author_fans_count`, which is no name.)
    let holds_another = |p: N<'a>| {
        parts
            .iter()
            .any(|&q| q.id() != p.id() && class_has(q, &["name"]) && within(q, p, n))
    };
    for &part in parts.iter().filter(|&&p| !holds_another(p)) {
        let link = dom::find(part, own, |x| tag(x) == "a" && !dom::line(x).is_empty())
            .filter(|_| tag(part) != "a");
        let name = link.map_or_else(|| dom::own_line(part, own), dom::line);
        if !name.is_empty() && name.chars().count() <= 80 {
            return (Some(part), Some(name));
        }
    }
    (None, None)
}

/// Whether `part` sits inside `holder`, both inside the comment block `block`: the walk up stops
/// at the block, so a deep page costs no walk to its root per pair of parts.
fn within(part: N<'_>, holder: N<'_>, block: N<'_>) -> bool {
    part.ancestors()
        .take_while(|a| a.id() != block.id())
        .any(|a| a.id() == holder.id())
}

/// At most this many marked parts of one block are weighed as its author or text (a hostile
/// page's thousands of nested "content" elements cost a bounded number of renderings).
const CANDIDATES: usize = 16;

/// The text part of a comment block: of the parts marked as its text (`itemprop=text`, or a
/// class naming a body, content, text, message or msg) that do not hold the author, the one
/// with the most text, so a wrapper around the whole comment or a "text" of the page's chrome
/// (HuffPost's `badges_opt_out_text`) is not taken for it.
pub(super) fn body<'a>(
    n: N<'a>,
    own: impl Fn(N<'a>) -> bool + Copy,
    author: Option<N<'a>>,
) -> Option<N<'a>> {
    let marked = |x: N<'_>| {
        attr(x, "itemprop") == Some("text")
            || class_has(x, &["body", "content", "text", "message", "cooked", "msg"])
                && !class_has(x, &["badge", "opt_out", "opt-out", "teaser", "bio"])
    };
    let holds_author = |x: N<'a>| author.is_some_and(|a| within(a, x, n));
    dom::walk(n, own)
        .filter(|&x| x.id() != n.id() && marked(x) && !holds_author(x))
        .take(CANDIDATES)
        .map(|x| (dom::render(x, own).len(), x))
        .fold(None, |best: Option<(usize, N<'a>)>, (len, x)| match best {
            Some((b, _)) if b >= len => best,
            _ => Some((len, x)),
        })
        .map(|(_, x)| x)
}
