//! vBulletin 3 and 4 topic pages: vBulletin 4's `li.postcontainer#post_ID` (author
//! `a.username`, date `span.date`, text `blockquote.postcontent`) and vBulletin 3's
//! `table#postID` (author `a.bigusername`, date in the first header cell, text
//! `div#post_message_ID`). vBulletin 5 states its posts as schema.org `Comment`s and goes to the
//! structured reader. vBulletin is flat: a post replies to the one its "Originally Posted by X"
//! quote links to (`#postID`).

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, Parent};

/// The post id of a vBulletin 4 `li#post_ID` or vBulletin 3 `table#postID`.
fn post_id(n: N<'_>) -> Option<&str> {
    let digits = match tag(n) {
        "li" if has_class(n, "postcontainer") || has_class(n, "postbitlegacy") => {
            id_attr(n)?.strip_prefix("post_")?
        }
        "table" => id_attr(n)?.strip_prefix("post")?,
        _ => return None,
    };
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

pub(super) fn is_post(n: N<'_>) -> bool {
    post_id(n).is_some()
}

pub(super) fn extract(root: N<'_>) -> Extract {
    super::flat(root, is_post, post)
}

fn post(n: N<'_>) -> Item {
    let id = post_id(n).unwrap_or_default().to_string();
    let mut item = Item::new(Some(id.clone()), Parent::Top);
    item.anchor = Some(format!("post{id}"));
    let author = dom::find(n, is_post, |x| {
        tag(x) == "a" && (has_class(x, "username") || has_class(x, "bigusername"))
    });
    item.author = author.map(dom::line).filter(|a| !a.is_empty());
    item.time = match dom::find(n, is_post, |x| has_class(x, "date")) {
        Some(date) => Some(dom::line(date)),
        // vBulletin 3: the first header cell holds the date beside the status icon.
        None => dom::find(n, is_post, |x| tag(x) == "td" && has_class(x, "thead")).map(dom::line),
    }
    .map(|t| t.replace('\u{a0}', " ").trim().to_string())
    .filter(|t| !t.is_empty());
    item.permalink = dom::walk(n, is_post)
        .filter(|x| tag(*x) == "a")
        .find_map(|a| {
            let href = attr(a, "href")?;
            (super::fragment(href) == item.anchor.as_deref() && href.contains("p=")).then_some(href)
        })
        .map(str::to_string);
    let message = format!("post_message_{id}");
    let body = dom::find(n, is_post, |x| has_class(x, "postcontent"))
        .or_else(|| dom::find(n, is_post, |x| id_attr(x) == Some(message.as_str())));
    if let Some(body) = body {
        quote::take(&mut item, body);
        item.text = dom::render(body, quote::is_quote);
    }
    item
}
