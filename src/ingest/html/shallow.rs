//! Keeps parsing linear on pathologically deep pages. html5ever's tree builder checks, for
//! every new block element, whether a `<p>` is open "in button scope": a walk down the stack
//! of open elements that only stops at a scope boundary, so N nested `<div>`s cost N²/2 steps
//! (100,000 took about a minute, issue 17 case 12). A page whose elements nest deeper than
//! [`MAX_DEPTH`] is re-tokenised (html5ever's tokenizer is linear) and rewritten without the
//! tags of the elements past that depth, keeping all their text, before it is parsed. Real
//! pages nest far less and are parsed exactly as saved.
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

/// Deeper elements lose their tags (their text stays, in the element at this depth).
pub(super) const MAX_DEPTH: usize = 1_000;

/// Formatting elements left open past this many lose their tags (their text stays).
pub(super) const MAX_FORMATTING: usize = 8;

/// The page as it is when it nests at most [`MAX_DEPTH`] deep and leaves at most
/// [`MAX_FORMATTING`] formatting elements open, else without the tags past those limits.
pub(super) fn shallow(html: &str) -> Cow<'_, str> {
    let measured = run(html, Mode::Measure);
    if measured.max_depth.get() <= MAX_DEPTH && measured.max_formatting.get() <= MAX_FORMATTING {
        Cow::Borrowed(html)
    } else {
        Cow::Owned(run(html, Mode::Rewrite).out.into_inner())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Measure,
    Rewrite,
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
}

fn run(html: &str, mode: Mode) -> Sink {
    let sink = Sink {
        mode,
        out: RefCell::new(String::with_capacity(if mode == Mode::Rewrite {
            html.len()
        } else {
            0
        })),
        open: RefCell::default(),
        dropped: RefCell::default(),
        depth: Cell::new(0),
        max_depth: Cell::new(0),
        formatting: Cell::new(0),
        max_formatting: Cell::new(0),
        raw: Cell::new(None),
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
        let too_deep = self.depth.get() >= MAX_DEPTH;
        let too_many = format && self.formatting.get() >= MAX_FORMATTING;
        if (too_deep || too_many) && self.mode == Mode::Rewrite {
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

    /// Counts an end tag; false when its start tag was dropped.
    fn end(&self, name: &str) -> bool {
        if uncounted(name) {
            return true;
        }
        if let Some(n) = self.dropped.borrow_mut().get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            return false;
        }
        if let Some(n) = self.open.borrow_mut().get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            self.depth.set(self.depth.get().saturating_sub(1));
            if formatting(name) {
                self.formatting.set(self.formatting.get().saturating_sub(1));
            }
        }
        true
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
        let keep = match &token {
            Token::TagToken(tag) if tag.kind == TagKind::StartTag => {
                let keep = self.start(&tag.name, tag.self_closing);
                if let Some(kind) = raw_kind(&tag.name).filter(|_| !tag.self_closing) {
                    self.raw.set(Some(kind));
                    next = TokenSinkResult::RawData(kind);
                }
                keep
            }
            Token::TagToken(tag) => {
                self.raw.set(None);
                self.end(&tag.name)
            }
            _ => true,
        };
        if keep && self.mode == Mode::Rewrite {
            self.write(&token);
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
