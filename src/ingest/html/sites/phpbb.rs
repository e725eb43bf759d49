//! phpBB 3 topic pages (prosilver and its descendants): one `div.post#pID` per post, the
//! author and date in `p.author` ("by X » date", or a `<time datetime>` from 3.2 on), the text
//! in `div.content`, the signature and the profile box beside it. A theme's "Message / Author"
//! header row has the class but no post id, so it is not a post. phpBB is flat: a post replies
//! to the one it quotes where the quote links to it (`quote::link`).

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{quote, Extract, Item, Parent};

/// A post: `div.post` whose id is `p` and the post number.
pub(super) fn is_post(n: N<'_>) -> bool {
    tag(n) == "div"
        && has_class(n, "post")
        && id_attr(n)
            .and_then(|i| i.strip_prefix('p'))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

pub(super) fn extract(root: N<'_>) -> Extract {
    super::flat(root, is_post, post)
}

fn post(n: N<'_>) -> Item {
    let anchor = id_attr(n).unwrap_or_default();
    let mut item = Item::new(Some(anchor[1..].to_string()), Parent::Top);
    item.anchor = Some(anchor.to_string());
    let byline = dom::find(n, is_post, |x| tag(x) == "p" && has_class(x, "author"));
    item.author = byline
        .and_then(|b| dom::find(b, |_| false, |x| tag(x) == "a" && is_profile(x)))
        .or_else(|| {
            dom::find(n, is_post, |x| {
                has_class(x, "username") || has_class(x, "username-coloured")
            })
        })
        .map(dom::line)
        .filter(|a| !a.is_empty());
    item.time = byline.and_then(|b| {
        dom::find(b, |_| false, |x| tag(x) == "time")
            .and_then(|t| super::attr_str(t, "datetime"))
            .or_else(|| {
                let line = dom::line(b);
                let (_, date) = line.rsplit_once('»')?;
                Some(date.trim().to_string()).filter(|d| !d.is_empty())
            })
    });
    item.permalink = byline
        .and_then(|b| {
            dom::walk(b, |_| false)
                .filter(|x| tag(*x) == "a")
                .find_map(|a| attr(a, "href").filter(|h| super::fragment(h) == Some(anchor)))
        })
        .map(str::to_string);
    if let Some(body) = dom::find(n, is_post, |x| tag(x) == "div" && has_class(x, "content")) {
        quote::take(&mut item, body);
        item.text = dom::render(body, quote::is_quote);
    }
    item
}

/// A link to a member's profile.
fn is_profile(a: N<'_>) -> bool {
    attr(a, "href").is_some_and(|h| h.contains("mode=viewprofile") || h.contains("memberlist"))
        || has_class(a, "username")
        || has_class(a, "username-coloured")
}
