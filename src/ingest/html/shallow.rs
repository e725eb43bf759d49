//! Keeps parsing linear on pathologically deep pages. html5ever's tree builder checks, for
//! every new block element, whether a `<p>` is open "in button scope": a walk down the stack
//! of open elements that only stops at a scope boundary, so N nested `<div>`s cost N²/2 steps
//! (100,000 took about a minute, issue 17 case 12). A page whose elements nest deeper than
//! [`MAX_DEPTH`] is re-tokenised (html5ever's tokenizer is linear) and rewritten before it is
//! parsed: a comment body ([`shallow`]) without the tags of the elements past that depth,
//! keeping all their text; a saved page ([`bounded`]) with its nesting whole and a scope
//! boundary every [`STRIDE`] levels. Real pages nest far less and are parsed exactly as saved.
//!
//! The same rewrite bounds the *formatting* elements left open (`<b>`, `<i>`, `<font>`…;
//! issue 34 case 1). The parser reopens every one of them, as a new element, at each text that
//! follows a closed block, so `<p><b id=N>x` repeated N times builds N²/2 elements (294 KB took
//! 2.8 GB). Past [`MAX_FORMATTING`] open at once, further formatting tags are dropped (their
//! text stays), which bounds the parser's work per byte. A real page leaves a few open by
//! mistake, never dozens.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Write as _;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// Nesting past this depth is rewritten: dropped in comment bodies (their text stays, in the
/// element at this depth), bounded in saved pages.
pub(super) const MAX_DEPTH: usize = 1_000;

/// Formatting elements left open past this many lose their tags (their text stays).
pub(super) const MAX_FORMATTING: usize = 8;

/// Saved pages nested deeper than [`MAX_DEPTH`] get a scope boundary every this many levels.
pub(super) const STRIDE: usize = 256;

/// Elements after whose start tag a boundary may go: the block containers whose start tags
/// make the parser look for an open `<p>` down the whole stack (the walk that is quadratic in
/// the nesting). Inline elements do not walk, and are often left open inside a paragraph,
/// where an `<object>` would keep the paragraph's end tag from reaching it.
fn boundary_host(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "header"
            | "hgroup"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "section"
            | "summary"
            | "ul"
    )
}

/// The text of an HTML fragment (a comment body) as it is when it nests at most [`MAX_DEPTH`]
/// deep and leaves at most [`MAX_FORMATTING`] formatting elements open, else without the tags
/// past those limits: only its text matters, and html2text walks the tree recursively.
pub(super) fn shallow(html: &str) -> Cow<'_, str> {
    within_limits(html, Mode::Rewrite)
}

/// A saved page, whose structure the readers need at any depth (issue 34 case 2: past the
/// old depth limit 16,000 nested comments came out as 999, the last holding the others'
/// text). Formatting elements are capped as in [`shallow`]; nesting is kept whole, but past
/// [`MAX_DEPTH`] an `<object>` opens every [`STRIDE`] levels (and closes with its host). An
/// `<object>` is a scope boundary: the parser's walks down the stack of open elements (is a
/// `<p>` open? which list item to close?) stop there, so each costs at most [`STRIDE`] steps
/// and the parse stays linear. Its content shows as text, and containment, which the readers
/// take parents from, is unchanged.
pub(super) fn bounded(html: &str) -> Cow<'_, str> {
    within_limits(html, Mode::Bound)
}

/// `html` as it is when it is within both limits, else rewritten in `mode`.
fn within_limits(html: &str, mode: Mode) -> Cow<'_, str> {
    let measured = run(html, Mode::Measure);
    if measured.max_depth.get() <= MAX_DEPTH && measured.max_formatting.get() <= MAX_FORMATTING {
        Cow::Borrowed(html)
    } else {
        Cow::Owned(run(html, mode).out.into_inner())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Measure,
    /// Drops tags past the limits, keeping their text.
    Rewrite,
    /// Drops formatting tags past their limit; keeps nesting, with scope boundaries.
    Bound,
}

struct Sink {
    mode: Mode,
    out: RefCell<String>,
    /// Open elements by name (approximate nesting: the parser's implicit closes are not
    /// modelled, which is why the tags that close implicitly do not count).
    open: RefCell<HashMap<String, usize>>,
    /// Deep start tags dropped, by name, so their end tags are dropped too.
    dropped: RefCell<HashMap<String, usize>>,
    depth: Cell<usize>,
    max_depth: Cell<usize>,
    /// Formatting elements open (started, not yet ended), and the most at once.
    formatting: Cell<usize>,
    max_formatting: Cell<usize>,
    /// Inside script/style/textarea…: text is written as is (or re-escaped for RCDATA).
    raw: Cell<Option<RawKind>>,
    /// `Bound`: the depths of the hosts of the `<object>`s open, innermost last.
    bounds: RefCell<Vec<usize>>,
}

fn run(html: &str, mode: Mode) -> Sink {
    let sink = Sink {
        mode,
        out: RefCell::new(String::with_capacity(if mode == Mode::Measure {
            0
        } else {
            html.len()
        })),
        open: RefCell::default(),
        dropped: RefCell::default(),
        depth: Cell::new(0),
        max_depth: Cell::new(0),
        formatting: Cell::new(0),
        max_formatting: Cell::new(0),
        raw: Cell::new(None),
        bounds: RefCell::default(),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink
}

/// Elements that hold nothing, or that the parser closes by itself when the next one starts.
fn uncounted(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
            | "basefont"
            | "bgsound"
            | "frame"
            | "p"
            | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "caption"
            | "rb"
            | "rt"
            | "rp"
            | "rtc"
            | "html"
            | "head"
            | "body"
    )
}

/// The HTML parser's "formatting elements": the ones it reopens after a block closes them.
/// `<a>` and `<nobr>` are left out: the parser closes an open one when the next starts, so they
/// never pile up, and links are what the readers take authors and permalinks from.
fn formatting(name: &str) -> bool {
    matches!(
        name,
        "b" | "big"
            | "code"
            | "em"
            | "font"
            | "i"
            | "s"
            | "small"
            | "strike"
            | "strong"
            | "tt"
            | "u"
    )
}

fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

fn escape(out: &mut String, text: &str, quote: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

impl Sink {
    /// Counts a start tag; false when it is past the depth limit and must be dropped.
    fn start(&self, name: &str, self_closing: bool) -> bool {
        if uncounted(name) || self_closing {
            return true;
        }
        let format = formatting(name);
        let too_deep = self.depth.get() >= MAX_DEPTH && self.mode == Mode::Rewrite;
        let too_many = format && self.formatting.get() >= MAX_FORMATTING;
        if (too_deep || too_many) && self.mode != Mode::Measure {
            *self
                .dropped
                .borrow_mut()
                .entry(name.to_string())
                .or_default() += 1;
            return false;
        }
        *self.open.borrow_mut().entry(name.to_string()).or_default() += 1;
        self.depth.set(self.depth.get() + 1);
        self.max_depth
            .set(self.max_depth.get().max(self.depth.get()));
        if format {
            self.formatting.set(self.formatting.get() + 1);
            self.max_formatting
                .set(self.max_formatting.get().max(self.formatting.get()));
        }
        true
    }

    /// `Bound`: whether a boundary opens after this start tag (just counted): a host at a
    /// depth past [`MAX_DEPTH`] that is a multiple of [`STRIDE`].
    fn opens_bound(&self, name: &str) -> bool {
        let d = self.depth.get();
        let open =
            self.mode == Mode::Bound && d > MAX_DEPTH && d % STRIDE == 0 && boundary_host(name);
        if open {
            self.bounds.borrow_mut().push(d);
        }
        open
    }

    /// `Bound`: whether a boundary closes before an end tag that closes the counted element
    /// at the current depth (its host, when one was opened there).
    fn closes_bound(&self) -> bool {
        let mut bounds = self.bounds.borrow_mut();
        let close = self.mode == Mode::Bound && bounds.last() == Some(&self.depth.get());
        if close {
            bounds.pop();
        }
        close
    }

    /// Counts an end tag: whether to keep it (false when its start tag was dropped), and
    /// whether a boundary closes before it.
    fn end(&self, name: &str) -> (bool, bool) {
        if uncounted(name) {
            return (true, false);
        }
        if let Some(n) = self.dropped.borrow_mut().get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            return (false, false);
        }
        let mut close = false;
        if let Some(n) = self.open.borrow_mut().get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            close = self.closes_bound();
            self.depth.set(self.depth.get().saturating_sub(1));
            if formatting(name) {
                self.formatting.set(self.formatting.get().saturating_sub(1));
            }
        }
        (true, close)
    }

    fn write(&self, token: &Token) {
        let mut out = self.out.borrow_mut();
        match token {
            Token::DoctypeToken(d) => {
                out.push_str("<!DOCTYPE ");
                out.push_str(d.name.as_deref().unwrap_or("html"));
                if let Some(public) = &d.public_id {
                    let _ = write!(out, " PUBLIC \"{public}\"");
                }
                if let Some(system) = &d.system_id {
                    let _ = write!(out, " \"{system}\"");
                }
                out.push('>');
            }
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                let _ = write!(out, "<{}", tag.name);
                for a in &tag.attrs {
                    let _ = write!(out, " {}=\"", a.name.local);
                    escape(&mut out, &a.value, true);
                    out.push('"');
                }
                out.push_str(if tag.self_closing { "/>" } else { ">" });
            }
            Token::TagToken(tag) => {
                let _ = write!(out, "</{}>", tag.name);
            }
            Token::CommentToken(c) => {
                let _ = write!(out, "<!--{}-->", c.replace("--", "- -"));
            }
            Token::CharacterTokens(t) => match self.raw.get() {
                Some(RawKind::Rcdata) | None => escape(&mut out, t, false),
                Some(_) => out.push_str(t),
            },
            Token::NullCharacterToken | Token::EOFToken | Token::ParseError(_) => {}
        }
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut next = TokenSinkResult::Continue;
        let (mut before, mut after) = (false, false);
        let keep = match &token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                let keep = self.start(&tag.name, tag.self_closing);
                after = keep && !tag.self_closing && self.opens_bound(&tag.name);
                if let Some(kind) = raw_kind(&tag.name).filter(|_| !tag.self_closing) {
                    self.raw.set(Some(kind));
                    next = TokenSinkResult::RawData(kind);
                }
                keep
            }
            Token::TagToken(tag) => {
                self.raw.set(None);
                let (keep, close) = self.end(&tag.name);
                before = close;
                keep
            }
            _ => true,
        };
        if self.mode != Mode::Measure {
            if before {
                self.out.borrow_mut().push_str("</object>");
            }
            if keep {
                self.write(&token);
            }
            if after {
                self.out.borrow_mut().push_str("<object>");
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_pages_are_untouched() {
        let page =
            "<html><body><div><p>a<div>b</div></div><script>if (a<b) x();</script></body></html>";
        assert!(matches!(shallow(page), Cow::Borrowed(_)));
    }

    #[test]
    fn formatting_left_open_is_capped_and_its_text_kept() {
        // Issue 34 case 1: each <b> stays open, so the parser would reopen all of them in every
        // paragraph. Past the cap the tags go; every paragraph's text stays.
        let n = 1_000;
        let page: String = (0..n).map(|i| format!("<p><b id={i}>x{i}")).collect();
        let flat = shallow(&page);
        assert_eq!(flat.matches("<b ").count(), MAX_FORMATTING);
        assert_eq!(flat.matches("<p>").count(), n);
        assert!((0..n).all(|i| flat.contains(&format!("x{i}"))));
        // Closed formatting elements, however many, are not touched.
        let closed = "<p><b>bold</b> and <i>it</i></p>".repeat(n);
        assert!(matches!(shallow(&closed), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_saved_pages_keep_their_nesting_with_boundaries() {
        let depth = MAX_DEPTH + 3 * STRIDE;
        let page = format!(
            "<body>{}deep{}<table><tr><td>cell</td></tr></table></body>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let bound = bounded(&page);
        assert_eq!(bound.matches("<div>").count(), depth);
        assert_eq!(bound.matches("</div>").count(), depth);
        let objects = bound.matches("<object>").count();
        assert!(objects >= 3, "{objects}");
        assert_eq!(bound.matches("</object>").count(), objects);
        // Each closes right before its host's end tag.
        assert_eq!(bound.matches("</object></div>").count(), objects);
        assert!(bound.contains("<table><tr><td>cell</td></tr></table>"));
    }

    #[test]
    fn deep_pages_lose_only_the_tags_past_the_limit() {
        let depth = MAX_DEPTH + 500;
        let page = format!(
            "<title>a &amp; b</title><script>if (a<b) x();</script>{}deep &lt;text&gt;{}<p class=\"x&quot;\">after</p>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let flat = shallow(&page);
        assert_eq!(flat.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(flat.matches("</div>").count(), MAX_DEPTH);
        assert!(flat.contains("deep &lt;text&gt;"));
        assert!(flat.contains("<title>a &amp; b</title>"));
        assert!(flat.contains("<script>if (a<b) x();</script>"));
        assert!(flat.contains("<p class=\"x&quot;\">after</p>"));
    }
}
