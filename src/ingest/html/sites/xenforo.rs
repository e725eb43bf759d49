//! XenForo topic pages: XenForo 2's `article.message[data-content="post-ID"]` and XenForo 1's
//! `li.message#post-ID`, with the author in `data-author`, the time in `time[datetime]` (2) or
//! `abbr.DateTime` / `span.DateTime` (1), and the text in `.bbWrapper` (2) or
//! `blockquote.messageText` (1); the user box and signature lie outside it. XenForo is flat: a
//! post replies to the one it quotes where the quote names it (`data-source="post: ID"`, or an
//! attribution link to `#post-ID`).

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, Parent};

/// The post id of a message element, from `data-content` (2) or its id (1).
fn post_id(n: N<'_>) -> Option<&str> {
    if !has_class(n, "message") || !matches!(tag(n), "article" | "li") {
        return None;
    }
    attr(n, "data-content")
        .or_else(|| id_attr(n))
        .and_then(|i| i.strip_prefix("post-"))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

pub(super) fn is_message(n: N<'_>) -> bool {
    post_id(n).is_some()
}

pub(super) fn extract(root: N<'_>) -> Extract {
    super::flat(root, is_message, message)
}

fn message(n: N<'_>) -> Item {
    let id = post_id(n).unwrap_or_default().to_string();
    let mut item = Item::new(Some(id.clone()), Parent::Top);
    item.anchor = Some(format!("post-{id}"));
    item.author = super::attr_str(n, "data-author")
        .or_else(|| dom::find(n, is_message, |x| has_class(x, "username")).map(dom::line));
    let time = dom::find(n, is_message, |x| {
        (tag(x) == "time" && attr(x, "datetime").is_some()) || has_class(x, "DateTime")
    });
    item.time = time.and_then(|t| {
        super::attr_str(t, "datetime")
            .or_else(|| {
                let date = attr(t, "data-datestring")?;
                Some(format!(
                    "{date} {}",
                    attr(t, "data-timestring").unwrap_or("")
                ))
            })
            .or_else(|| super::attr_str(t, "title"))
            .or_else(|| Some(dom::line(t)))
    });
    item.permalink = time
        .and_then(|t| t.ancestors().find(|a| tag(*a) == "a"))
        .or_else(|| dom::find(n, is_message, |x| has_class(x, "datePermalink")))
        .and_then(|a| super::attr_str(a, "href"));
    let body = dom::find(n, is_message, |x| has_class(x, "bbWrapper"))
        .or_else(|| dom::find(n, is_message, |x| has_class(x, "messageText")));
    if let Some(body) = body {
        quote::take(&mut item, body);
        item.text = dom::render(body, |x| {
            quote::is_quote(x) || has_class(x, "messageTextEndMarker")
        });
    }
    item
}
