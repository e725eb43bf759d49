//! Whether a saved page is one page of a longer topic (issue 36): forums split a topic over
//! pages, and a moderator reading page 1 of 3 must be told the thread is partial. Signals: a
//! `rel="next"` / `rel="prev"` link to another page of the topic (its address carries a page
//! marker, or it sits in a pagination block), or a pagination block saying "Page N of M" with
//! M over 1. A blog's link to its next *post* (`rel=next` to another article, no page marker)
//! is not a page of the comments.

use super::dom::{self, attr, tag, N};

/// Address parts that mark a page of a topic.
const PAGE_MARKERS: &[&str] = &[
    "page=", "/page-", "/page/", "start=", "&p=", "?p=", "cpage=",
];

pub(super) fn is_partial(doc: &scraper::Html) -> bool {
    doc.tree.root().descendants().any(|n| {
        if !n.value().is_element() {
            return false;
        }
        let rel = attr(n, "rel").unwrap_or("");
        let paging = rel.split_whitespace().any(|r| r == "next" || r == "prev");
        if paging && matches!(tag(n), "a" | "link") {
            let href = attr(n, "href").unwrap_or("").to_ascii_lowercase();
            return PAGE_MARKERS.iter().any(|m| href.contains(m)) || in_pagination(n);
        }
        is_pagination(n) && page_of(&dom::line(n)).is_some_and(|(_, of)| of > 1)
    })
}

fn is_pagination(n: N<'_>) -> bool {
    attr(n, "class").is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("pagination") || c.contains("pagenav") || c.contains("page-nav")
    })
}

fn in_pagination(n: N<'_>) -> bool {
    dom::ancestor(n, 6, is_pagination).is_some()
}

/// "Page 2 of 10" → (2, 10).
fn page_of(text: &str) -> Option<(u32, u32)> {
    let lower = text.to_lowercase();
    let at = lower.find("page ")?;
    let mut words = lower[at + 5..].split_whitespace();
    let n = words.next()?.parse().ok()?;
    (words.next()? == "of").then_some(())?;
    let m = words
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((n, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(page: &str) -> bool {
        is_partial(&scraper::Html::parse_document(page))
    }

    #[test]
    fn pages_of_a_topic_are_partial_a_blogs_next_post_is_not() {
        assert!(partial(
            r#"<link rel="next" href="threads/a-quest.10402/page-55">"#
        ));
        assert!(partial(
            r#"<a rel="next" href="/t/slug/177814?page=2">next page</a>"#
        ));
        assert!(partial(
            r##"<div class="pagination">247 posts &bull; <a href="#">Page <strong>2</strong> of <strong>10</strong></a></div>"##
        ));
        assert!(!partial(r#"<div class="pagination">Page 1 of 1</div>"#));
        assert!(!partial(
            r#"<link rel="next" href="https://blog.example/2019/06/next-post/">"#
        ));
        assert_eq!(page_of("Page 2 of 10 • Jump"), Some((2, 10)));
    }
}
