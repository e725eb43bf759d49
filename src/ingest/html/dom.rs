//! Small, iterative helpers over the parsed page (scraper's arena tree on html5ever), shared by
//! the site extractors: class and attribute tests, a bounded search inside one comment that
//! does not enter the comments nested in it, nesting by containment or by depth, and the
//! page-to-text rendering. Nothing here recurses, so a page nested 100,000 elements deep costs
//! the same per element as a flat one, and every walk is linear in what it visits.

use ego_tree::iter::Edge;
use ego_tree::NodeRef;
use scraper::{CaseSensitivity, Node};

/// A node of the parsed page.
pub(super) type N<'a> = NodeRef<'a, Node>;

/// The element's tag name, or "" for text and other nodes.
pub(super) fn tag<'a>(n: N<'a>) -> &'a str {
    n.value().as_element().map_or("", |e| e.name())
}

pub(super) fn attr<'a>(n: N<'a>, name: &str) -> Option<&'a str> {
    n.value().as_element()?.attr(name)
}

pub(super) fn has_class(n: N<'_>, class: &str) -> bool {
    n.value()
        .as_element()
        .is_some_and(|e| e.has_class(class, CaseSensitivity::CaseSensitive))
}

/// The element's `id` attribute.
pub(super) fn id_attr<'a>(n: N<'a>) -> Option<&'a str> {
    n.value().as_element()?.id()
}

/// The number a class carries after `prefix` (`depth-3`, `mdspost-thread--level-2`).
pub(super) fn class_number(n: N<'_>, prefix: &str) -> Option<u32> {
    n.value()
        .as_element()?
        .classes()
        .filter_map(|c| c.strip_prefix(prefix))
        .find_map(|rest| rest.parse().ok())
}

/// Elements of `root`'s subtree in document order (`root` included), as a pre-order walk with
/// an explicit stack that does not enter an element for which `prune` holds (the comments
/// nested inside the one being read). `root` itself is never pruned.
pub(super) struct Walk<'a, P> {
    stack: Vec<N<'a>>,
    root: Option<N<'a>>,
    prune: P,
}

pub(super) fn walk<'a, P: Fn(N<'a>) -> bool>(root: N<'a>, prune: P) -> Walk<'a, P> {
    Walk {
        stack: Vec::new(),
        root: Some(root),
        prune,
    }
}

impl<'a, P: Fn(N<'a>) -> bool> Iterator for Walk<'a, P> {
    type Item = N<'a>;

    fn next(&mut self) -> Option<N<'a>> {
        let n = match self.root.take() {
            Some(root) => root,
            None => loop {
                let n = self.stack.pop()?;
                if n.value().is_element() && !(self.prune)(n) {
                    break n;
                }
            },
        };
        self.stack
            .extend(n.children().rev().filter(|c| c.value().is_element()));
        Some(n)
    }
}

/// The first element in `root`'s own part (see [`walk`]) that satisfies `pred`.
pub(super) fn find<'a>(
    root: N<'a>,
    prune: impl Fn(N<'a>) -> bool,
    pred: impl Fn(N<'a>) -> bool,
) -> Option<N<'a>> {
    walk(root, prune).skip(1).find(|&n| pred(n))
}

/// The nearest ancestor (not `n` itself) that satisfies `pred`, looking at most `limit` levels up.
pub(super) fn ancestor<'a>(n: N<'a>, limit: usize, pred: impl Fn(N<'a>) -> bool) -> Option<N<'a>> {
    n.ancestors().take(limit).find(|&a| pred(a))
}

/// Items (elements for which `is_item` holds) in document order, each with the index of the
/// nearest item that contains it: reply nesting by DOM containment, in one pass.
pub(super) fn nest<'a>(
    root: N<'a>,
    is_item: impl Fn(N<'a>) -> bool,
) -> Vec<(N<'a>, Option<usize>)> {
    let mut out: Vec<(N<'a>, Option<usize>)> = Vec::new();
    let mut open: Vec<(ego_tree::NodeId, usize)> = Vec::new();
    for edge in root.traverse() {
        match edge {
            Edge::Open(n) if n.value().is_element() && is_item(n) => {
                out.push((n, open.last().map(|&(_, i)| i)));
                open.push((n.id(), out.len() - 1));
            }
            Edge::Close(n) => {
                if open.last().is_some_and(|&(id, _)| id == n.id()) {
                    open.pop();
                }
            }
            Edge::Open(_) => {}
        }
    }
    out
}

/// Parents from depths in document order (1 = top level): each item's parent is the nearest
/// earlier item one level up. A jump of more than one level hangs the item under the nearest
/// shallower one.
pub(super) fn parents_by_depth(depths: &[u32]) -> Vec<Option<usize>> {
    let mut open: Vec<(u32, usize)> = Vec::new();
    depths
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            while open.last().is_some_and(|&(od, _)| od >= d) {
                open.pop();
            }
            let parent = open.last().map(|&(_, p)| p);
            open.push((d, i));
            parent
        })
        .collect()
}

/// Whitespace-collapsed text of `n`'s subtree (attribute-free, entities already decoded by the
/// parser), one line per line-level element and a blank line between paragraph-level ones;
/// scripts, styles, hidden elements and pruned subtrees are left out.
pub(super) fn render<'a>(n: N<'a>, prune: impl Fn(N<'a>) -> bool) -> String {
    let mut w = Writer::default();
    let mut stack: Vec<(N<'a>, bool)> = vec![(n, false)];
    let root = n.id();
    while let Some((n, closing)) = stack.pop() {
        if closing {
            w.brk(block_break(tag(n)));
            continue;
        }
        match n.value() {
            Node::Text(t) => w.text(t),
            Node::Element(e) => {
                if n.id() != root && (invisible(n) || prune(n)) {
                    continue;
                }
                match e.name() {
                    "br" => w.brk(Break::Line),
                    "img" => {}
                    name => {
                        w.brk(block_break(name));
                        stack.push((n, true));
                        stack.extend(n.children().rev().map(|c| (c, false)));
                    }
                }
            }
            Node::Document | Node::Fragment => {
                stack.extend(n.children().rev().map(|c| (c, false)));
            }
            _ => {}
        }
    }
    super::super::text::tidy(&w.out)
}

/// The text of `n`'s subtree on one line: whitespace collapsed, nothing pruned.
pub(super) fn line(n: N<'_>) -> String {
    own_line(n, |_| false)
}

/// The text of `n`'s subtree on one line without the parts `prune` cuts: a comment's author
/// without another comment nested inside the author element (issue 34 case 12), which is a
/// comment of its own and must not leak into the name.
pub(super) fn own_line<'a>(n: N<'a>, prune: impl Fn(N<'a>) -> bool) -> String {
    render(n, prune)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parts of a page a reader never sees as text.
fn invisible(n: N<'_>) -> bool {
    let hidden = || {
        attr(n, "hidden").is_some()
            || attr(n, "style").is_some_and(|s| {
                let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                s.to_ascii_lowercase().contains("display:none")
            })
    };
    matches!(
        tag(n),
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "svg"
            | "iframe"
            | "select"
            | "textarea"
            | "button"
            | "input"
    ) || hidden()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Break {
    #[default]
    None,
    Line,
    Para,
}

fn block_break(tag: &str) -> Break {
    match tag {
        "p" | "blockquote" | "pre" | "ul" | "ol" | "dl" | "table" | "h1" | "h2" | "h3" | "h4"
        | "h5" | "h6" | "hr" | "article" | "section" | "figure" => Break::Para,
        "div" | "li" | "tr" | "dd" | "dt" | "header" | "footer" | "aside" | "nav" | "form"
        | "main" | "center" | "address" | "caption" | "body" | "html" => Break::Line,
        _ => Break::None,
    }
}

#[derive(Default)]
struct Writer {
    out: String,
    pending: Break,
    space: bool,
}

impl Writer {
    fn brk(&mut self, b: Break) {
        self.pending = self.pending.max(b);
    }

    fn text(&mut self, s: &str) {
        for c in s.chars() {
            if c.is_whitespace() {
                self.space = true;
                continue;
            }
            if self.pending != Break::None {
                if !self.out.is_empty() {
                    self.out.push_str(if self.pending == Break::Para {
                        "\n\n"
                    } else {
                        "\n"
                    });
                }
                self.pending = Break::None;
                self.space = false;
            }
            if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
                self.out.push(' ');
            }
            self.space = false;
            self.out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn doc_text(html: &str) -> String {
        let doc = Html::parse_document(html);
        render(doc.tree.root(), |_| false)
    }

    #[test]
    fn rendering_breaks_blocks_and_collapses_spaces() {
        let cases = [
            ("<p>Hello,   World.</p>", "Hello, World."),
            ("a<p>b", "a\n\nb"),
            ("<div>a</div><div>b <b>c</b></div>", "a\nb c"),
            ("x<br>y", "x\ny"),
            ("don&#x27;t &gt; x<script>var a;</script>", "don't > x"),
            ("<a href=\"http://x\">link</a> here", "link here"),
            (
                "<p hidden>no</p><p style=\"display: none\">no</p>yes",
                "yes",
            ),
        ];
        for (html, want) in cases {
            assert_eq!(doc_text(html), want, "{html}");
        }
    }

    #[test]
    fn depth_parents() {
        let got = parents_by_depth(&[1, 2, 3, 2, 1, 3, 1]);
        assert_eq!(got, [None, Some(0), Some(1), Some(0), None, Some(4), None]);
    }

    #[test]
    fn nesting_by_containment() {
        let doc = Html::parse_document(
            "<div class=c id=a><div class=c id=b><p><div class=c id=c></div></p></div></div><div class=c id=d></div>",
        );
        let items = nest(doc.tree.root(), |n| has_class(n, "c"));
        let got: Vec<_> = items
            .iter()
            .map(|(n, p)| (id_attr(*n).unwrap_or(""), *p))
            .collect();
        assert_eq!(
            got,
            [("a", None), ("b", Some(0)), ("c", Some(1)), ("d", None)]
        );
    }
}
