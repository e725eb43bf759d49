//! Whether a saved page is one page of a longer topic (issue 36): forums split a topic over
//! pages, and a moderator reading page 1 of 3 must be told the thread is partial. Signals: a
//! `rel="next"` / `rel="prev"` link to another page of the topic (its address carries a page
//! marker, or it sits in a pagination block), a comment pager's "next" link or page number past
//! 1, or a pagination block saying "Page N of M" with M over 1. A blog's link to its next *post*
//! (`rel=next` to another article, no page marker) is not a page of the comments.

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
        if tag(n) == "a" {
            if let Some(pager) = Some(n)
                .filter(|&n| is_pagination(n))
                .or_else(|| dom::ancestor(n, 6, is_pagination))
            {
                return is_comment_pager_link(n, pager);
            }
        }
        is_pagination(n) && page_of(&dom::line(n)).is_some_and(|(_, of)| of > 1)
    })
}

/// A pager's link to a further page of the comments, without `rel`: a "next" button with a
/// page marker in its address (Zeit Online's `a.pager__button--next`), or "Next ›" or a page
/// number past 1 in a pager that names comments (HuffPost's `div.comments_pager`, Le Figaro's
/// `ul#fig-commentaire-pagination-nav`). A multi-page article's own pager names no comments.
fn is_comment_pager_link(a: N<'_>, pager: N<'_>) -> bool {
    let href = attr(a, "href").unwrap_or("").to_ascii_lowercase();
    if href.is_empty() || href.starts_with('#') {
        return false;
    }
    let marked = PAGE_MARKERS.iter().any(|m| href.contains(m));
    let text = dom::line(a).to_lowercase();
    let next = attr(a, "class").is_some_and(|c| c.to_ascii_lowercase().contains("next"))
        || [
            "next",
            "weiter",
            "nächste",
            "suivant",
            "siguiente",
            "›",
            "»",
        ]
        .iter()
        .any(|w| text.starts_with(w));
    if next && marked {
        return true;
    }
    let later_page = text.trim().parse::<u32>().is_ok_and(|p| p > 1);
    let names_comments = href.contains("comment")
        || [attr(pager, "class"), attr(pager, "id")]
            .into_iter()
            .flatten()
            .any(|v| v.to_ascii_lowercase().contains("comment"));
    (next || later_page) && names_comments
}

fn is_pagination(n: N<'_>) -> bool {
    [attr(n, "class"), attr(n, "id")]
        .into_iter()
        .flatten()
        .any(|c| {
            let c = c.to_ascii_lowercase();
            c.contains("pagination")
                || c.contains("pagenav")
                || c.contains("page-nav")
                || c.contains("pager")
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
        assert!(partial(
            r##"<div class="comment-section__item"><a class="pager__button pager__button--next" href="https://www.zeit.de/a?page=2#comments">Weitere Kommentare</a></div>"##
        ));
        assert!(!partial(
            r##"<a class="pager__button pager__button--next" href="#comments">Weiter</a>"##
        ));
        assert!(partial(
            r#"<div class="comments_pager">Page: <strong>1</strong> <a href="/commentsv3/show_comments/997793/?page=2">2</a></div>"#
        ));
        assert!(partial(
            r##"<ul id="fig-commentaire-pagination-nav"><li><a href="/a.php?page=&pagination=2#nbcomments"> 2 </a></li></ul>"##
        ));
        assert!(
            !partial(r#"<div class="article-pagination"><a href="/a/seite-2">2</a></div>"#),
            "an article's own pager"
        );
        assert!(!partial(r#"<div class="pagination">Page 1 of 1</div>"#));
        assert!(!partial(
            r#"<link rel="next" href="https://blog.example/2019/06/next-post/">"#
        ));
        assert_eq!(page_of("Page 2 of 10 • Jump"), Some((2, 10)));
    }
}
