//! Zeit Online's own comment system (a newspaper's, issue 36): `article.comment#cid-ID` in
//! `section.comment-section`, flat in the markup. A reply is indented and says whose comment
//! it answers in a form holding `input[name=cid]` (the parent's id) beside "Antwort auf #1 von
//! X". The author is `.comment-meta__name`, the time the end of the `.comment-meta__date`
//! link ("#1 — vor 8 Stunden", which is also the permalink), the readers' recommendations the
//! points. A comment the editors removed shows only their note (`em.moderation`): it is kept
//! as deleted, with no text to score; a note added to a comment that stays is cut from its text.
//! "+ 7 weitere Antworten anzeigen" stands for replies the page holds back: a stub under the
//! comment they answer.

use super::super::dom::{self, attr, has_class, id_attr, tag, N};
use super::super::{Extract, Item, ItemKind, Parent, Stub};

fn comment_id(n: N<'_>) -> Option<&str> {
    if tag(n) != "article" || !has_class(n, "comment") {
        return None;
    }
    id_attr(n)?
        .strip_prefix("cid-")
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

pub(super) fn is_comment(n: N<'_>) -> bool {
    comment_id(n).is_some()
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let mut out = super::flat(root, is_comment, comment);
    // "+ 7 weitere Antworten anzeigen": the replies under a top-level comment the page holds
    // back, loaded from `comment-replies?cid=PARENT`.
    for loader in root.descendants().filter(|&n| {
        tag(n) == "a" && attr(n, "data-url").is_some_and(|u| u.contains("comment-replies"))
    }) {
        let Some(parent) = attr(loader, "data-url").and_then(|u| super::query(u, "cid")) else {
            continue;
        };
        let missing = dom::find(
            loader,
            |_| false,
            |x| has_class(x, "comment-overlay__count"),
        )
        .and_then(|c| super::number_in(&dom::line(c)))
        .unwrap_or(0);
        out.stubs.push(Stub {
            parent: Parent::Id(parent.to_string()),
            missing,
            child_ids: Vec::new(),
        });
    }
    out
}

fn comment(n: N<'_>) -> Item {
    let id = comment_id(n).unwrap_or_default().to_string();
    let parent = dom::find(n, is_comment, |x| {
        tag(x) == "input" && attr(x, "name") == Some("cid")
    })
    .and_then(|x| super::attr_str(x, "value"))
    .filter(|p| *p != id);
    let mut item = Item::new(Some(id.clone()), parent.map_or(Parent::Top, Parent::Id));
    item.anchor = Some(format!("cid-{id}"));
    item.author = dom::find(n, is_comment, |x| has_class(x, "comment-meta__name"))
        .map(dom::line)
        .filter(|a| !a.is_empty());
    if let Some(date) = dom::find(n, is_comment, |x| has_class(x, "comment-meta__date")) {
        // "#1.1 — vor 8 Stunden": the number, a dash, then the time.
        let line = dom::line(date);
        let time = line
            .rsplit_once(['—', '–'])
            .map_or(line.as_str(), |(_, t)| t);
        item.time = Some(time.trim().to_string()).filter(|t| !t.is_empty());
        item.permalink = super::attr_str(date, "href");
    }
    item.points = dom::find(n, is_comment, |x| {
        has_class(x, "js-comment-recommendations")
    })
    .and_then(|x| super::points_in(&dom::line(x)));
    if let Some(body) = dom::find(n, is_comment, |x| has_class(x, "comment__body")) {
        let is_note = |x: N<'_>| has_class(x, "moderation");
        item.text = dom::render(body, is_note);
        if item.text.trim().is_empty() && dom::find(body, |_| false, is_note).is_some() {
            item.kind = ItemKind::Deleted;
            item.text.clear();
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    fn article(id: u32, parent: Option<u32>, who: &str, body: &str) -> String {
        let origin = parent.map_or(String::new(), |p| {
            format!(
                r#"<form class="comment__form"><input type="hidden" name="cid" value="{p}">
                <button class="comment__origin">Antwort auf <strong>#1</strong> von <strong>x</strong></button></form>"#
            )
        });
        format!(
            r#"<article id="cid-{id}" class="comment"><div class="comment__container">
            <div class="comment-meta"><h4 class="comment-meta__name"><a href="/u">{who}</a></h4>
            <a class="comment-meta__date" href="https://www.zeit.de/a?cid={id}#cid-{id}">#1 &nbsp;—&nbsp; vor 8 Stunden</a>
            <div class="comment-meta__badge"><span class="js-comment-recommendations">20</span></div></div>
            <div class="comment__body">{body}</div>
            <div class="comment__reactions">{origin}
            <form class="comment__form"><input type="hidden" name="pid" value="{id}">
            <button class="comment__reaction" data-cid="{id}"><span class="comment__action">Antworten</span></button></form>
            </div></div></article>"#
        )
    }

    #[test]
    fn replies_name_their_parent_and_removed_comments_have_no_text() {
        let page = format!(
            r#"<section class="comment-section" id="comments">{}{}{}</section>"#,
            article(
                1,
                None,
                "anna",
                "<p><em class=\"moderation\">Entfernt. Die Redaktion</em></p>"
            ),
            article(
                2,
                Some(1),
                "ben",
                "<p>Stimmt nicht.</p><p><em class=\"moderation\">Gekürzt. Die Redaktion</em></p>"
            ),
            article(3, None, "cem", "<p>Guter Artikel.</p>"),
        ) + r#"<div class="comment__container js-comment-loader"><a href="/a?cid=2#cid-1"
            data-url="https://www.zeit.de/a/comment-replies?cid=1&num_start=1">
            <span class="comment-overlay__count">+ 7</span>
            <span class="comment-overlay__cta"> weitere Antworten anzeigen</span></a></div>"#;
        let doc = Html::parse_document(&page);
        let e = extract(doc.tree.root());
        let got: Vec<_> = e
            .items
            .iter()
            .map(|i| {
                (
                    i.id.as_deref(),
                    &i.parent,
                    i.author.as_deref(),
                    i.kind,
                    i.text.trim(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("1"), &Parent::Top, Some("anna"), ItemKind::Deleted, ""),
                (
                    Some("2"),
                    &Parent::Id("1".into()),
                    Some("ben"),
                    ItemKind::Comment,
                    "Stimmt nicht."
                ),
                (
                    Some("3"),
                    &Parent::Top,
                    Some("cem"),
                    ItemKind::Comment,
                    "Guter Artikel."
                ),
            ]
        );
        let stubs: Vec<_> = e.stubs.iter().map(|s| (&s.parent, s.missing)).collect();
        assert_eq!(stubs, [(&Parent::Id("1".into()), 7)]);
        assert_eq!(e.items[1].time.as_deref(), Some("vor 8 Stunden"));
        assert_eq!(e.items[1].points, Some(20));
        assert_eq!(
            e.items[1].permalink.as_deref(),
            Some("https://www.zeit.de/a?cid=2#cid-2")
        );
    }
}
