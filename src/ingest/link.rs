//! Comment permalinks the source implies rather than states: the page's address with the
//! `#comment-ID` anchor that WordPress and Disqus give every comment, and a relative link
//! made absolute. Readers that find a link in the record itself (Reddit's `permalink`, a saved
//! page's time link) set it themselves; this fills the rest for the export formats.

use super::{Article, Comment};

/// A Reddit permalink as given (`/r/…/comments/…/`), made absolute.
pub(super) fn reddit(path: &str) -> String {
    match path.starts_with('/') {
        true => format!("https://www.reddit.com{path}"),
        false => path.to_string(),
    }
}

/// A Hacker News item's address, for a numeric item id.
pub(super) fn hacker_news(id: &str) -> Option<String> {
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("https://news.ycombinator.com/item?id={id}"))
}

/// `page#fragment`, where `page` is an absolute http(s) address.
pub(super) fn on_page(page: &str, fragment: &str) -> Option<String> {
    let mut url = url::Url::parse(page.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(Some(fragment));
    Some(url.to_string())
}

/// Gives each comment without a permalink its article's address with `#comment-ID` (the
/// anchor WordPress themes and Disqus write for every comment).
pub(super) fn comment_anchors(comments: &mut [Comment], articles: &[Article]) {
    // Each key's first address, as `merge_articles` keeps it; looked up once per comment.
    let mut pages: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for a in articles {
        if let Some(url) = a.url.as_deref() {
            pages.entry(a.key.as_str()).or_insert(url);
        }
    }
    for c in comments.iter_mut().filter(|c| c.permalink.is_none()) {
        let page = c.thread_key.as_deref().and_then(|k| pages.get(k).copied());
        c.permalink = page
            .and_then(|p| on_page(p, &format!("comment-{}", c.id)))
            .map(Into::into);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_go_on_http_pages_only() {
        assert_eq!(
            on_page("https://x.org/post/?p=1#top", "comment-5").as_deref(),
            Some("https://x.org/post/?p=1#comment-5")
        );
        assert_eq!(on_page("post-17", "comment-5"), None);
        assert_eq!(on_page("javascript:alert(1)", "comment-5"), None);
    }
}
