//! WordPress WXR export (RSS with the `wp:` namespace): every `<item>` with comments becomes an
//! article (title, link, content as plain text) and each `<wp:comment>` a comment with its
//! `comment_parent` (0 = top level), approval status (`0` pending, `spam`, `trash`) and type
//! (pingbacks and trackbacks are kept and marked as such).

use super::xml::{self, Element, Record};
use super::{link, text, when, Article, Comment, CommentKind, IngestError, Input, Location};

pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), IngestError> {
    text::utf8(bytes, file)?;
    let before = (input.comments.len(), input.articles.len());
    let is_item = |path: &[String]| path.len() >= 2 && path.last().is_some_and(|n| n == "item");
    let root = xml::records(bytes, file, is_item, |record| item(record, input))?;
    link::comment_anchors(&mut input.comments[before.0..], &input.articles[before.1..]);
    match root.as_deref() {
        Some("rss") | None => Ok(()),
        Some(other) => Err(IngestError::format(
            file,
            format!("root element is <{other}>, not <rss>"),
        )),
    }
}

fn item(record: Record, input: &mut Input) {
    let elem = &record.elem;
    let loc = &record.loc;
    let comments: Vec<&Element> = elem
        .children
        .iter()
        .filter(|c| c.name == "comment")
        .collect();
    if comments.is_empty() {
        return;
    }
    // A post field that cannot be decoded (an unknown entity in the title) keeps its raw
    // text; only a comment whose own elements are damaged is rejected, at its own line.
    let key = elem
        .child_text("post_id")
        .or_else(|| elem.child_text("link"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("item-{}", loc.record.unwrap_or_default()));
    input.articles.push(Article {
        key: key.clone(),
        title: elem.child_text("title").map(str::to_string),
        body: record
            .child_all_text(elem, "encoded")
            .map(text::html_to_text)
            .filter(|b| !b.is_empty()),
        url: elem.child_text("link").map(str::to_string),
        time: elem
            .child_text("post_date_gmt")
            .or_else(|| elem.child_text("post_date"))
            .map(str::to_string),
        saved_at: None,
    });
    for c in comments {
        let loc = Location::line(&loc.file, c.line);
        match c.subtree_error() {
            Some(error) => input.reject(loc, format!("<wp:comment>: {error}")),
            None => comment(c, &record, &key, loc, input),
        }
    }
}

fn comment(c: &Element, record: &Record, key: &str, loc: Location, input: &mut Input) {
    let Some(id) = c.child_text("comment_id") else {
        input.reject(loc, "<wp:comment> without a comment_id");
        return;
    };
    let approved = c.child_text("comment_approved").unwrap_or("1");
    let kind = match c.child_text("comment_type") {
        Some("pingback") => CommentKind::Pingback,
        Some("trackback") => CommentKind::Trackback,
        _ => CommentKind::Comment,
    };
    let content = record
        .child_all_text(c, "comment_content")
        .unwrap_or_default();
    let gmt = c
        .child_text("comment_date_gmt")
        .filter(|g| !g.starts_with("0000"));
    input.comments.push(Comment {
        id: id.into(),
        parent_id: c
            .child_text("comment_parent")
            .filter(|p| *p != "0")
            .map(Into::into),
        author: c.child_text("comment_author").map(Into::into),
        // WordPress keeps comments as HTML: with tags they go through html2text; without,
        // only their character references are decoded, so their line breaks stay (issue 37:
        // `&gt;`, `&amp;` and `&#8217;` stayed literal).
        text: if content.contains('<') {
            text::html_to_text(content)
        } else {
            text::decode_entities(content)
        },
        // `comment_date_gmt` is UTC (all zeros on some drafts); `comment_date` is the
        // blog's local time.
        time: gmt.or_else(|| c.child_text("comment_date")).map(Into::into),
        when: gmt
            .and_then(|g| when::iso(g, &when::Anchor::default(), true))
            .map(Into::into),
        thread_key: Some(key.into()),
        deleted: approved == "trash",
        spam: approved == "spam",
        approved: Some(approved == "1" || approved == "approve"),
        kind,
        parent_known: true,
        loc,
        ..Comment::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_comments_and_statuses() {
        let doc = r#"<rss xmlns:wp="http://wordpress.org/export/1.2/" xmlns:content="c"><channel>
<item><title>P</title><wp:post_id>7</wp:post_id><content:encoded><![CDATA[<p>Body</p>]]></content:encoded>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>a</wp:comment_content><wp:comment_parent>0</wp:comment_parent></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_type>pingback</wp:comment_type><wp:comment_approved>spam</wp:comment_approved><wp:comment_parent>1</wp:comment_parent></wp:comment>
</item><item><title>No comments</title></item></channel></rss>"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "w.xml", &mut input).expect("reads");
        assert_eq!(input.articles.len(), 1);
        assert_eq!(input.articles[0].body.as_deref(), Some("Body"));
        let c = &input.comments;
        assert_eq!(
            (c[0].parent_id.as_deref(), c[0].kind),
            (None, CommentKind::Comment)
        );
        assert_eq!(
            (c[1].parent_id.as_deref(), c[1].kind, c[1].spam),
            (Some("1"), CommentKind::Pingback, true)
        );
        assert_eq!(c[1].thread_key.as_deref(), Some("7"));
    }

    /// Issue 37: a comment without tags is HTML all the same; its character references are
    /// decoded (they stayed literal) and its line breaks kept.
    #[test]
    fn comments_without_tags_decode_their_entities() {
        let doc = r#"<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>P</title><wp:post_id>7</wp:post_id>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content><![CDATA[I don&#8217;t think 3 &gt; 2 &amp; so on.
Second line, AT&T.]]></wp:comment_content><wp:comment_parent>0</wp:comment_parent></wp:comment>
</item></channel></rss>"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "w.xml", &mut input).expect("reads");
        assert_eq!(
            input.comments[0].text,
            "I don\u{2019}t think 3 > 2 & so on.\nSecond line, AT&T."
        );
    }

    /// Issue 37: `comment_date_gmt` is UTC; a draft's all-zero one falls back to the local
    /// `comment_date`, written without a zone. Each comment links to its post's `#comment-ID`.
    #[test]
    fn gmt_dates_are_utc_local_ones_are_not_and_each_comment_has_its_anchor() {
        let doc = r#"<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>P</title>
<link>https://blog.example/2016/p/</link><wp:post_id>7</wp:post_id>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>a</wp:comment_content>
<wp:comment_date>2016-06-23 17:21:09</wp:comment_date><wp:comment_date_gmt>2016-06-23 15:21:09</wp:comment_date_gmt></wp:comment>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_content>b</wp:comment_content>
<wp:comment_date>2016-06-24 08:00:00</wp:comment_date><wp:comment_date_gmt>0000-00-00 00:00:00</wp:comment_date_gmt></wp:comment>
</item></channel></rss>"#;
        let input =
            crate::ingest::read_bytes("w.xml", doc.as_bytes(), &Default::default()).expect("reads");
        let got: Vec<(Option<&str>, Option<&str>, Option<&str>)> = input
            .comments
            .iter()
            .map(|c| (c.time.as_deref(), c.when.as_deref(), c.permalink.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some("2016-06-23 15:21:09"),
                    Some("2016-06-23T15:21:09Z"),
                    Some("https://blog.example/2016/p/#comment-1")
                ),
                (
                    Some("2016-06-24 08:00:00"),
                    Some("2016-06-24T08:00:00"),
                    Some("https://blog.example/2016/p/#comment-2")
                ),
            ]
        );
    }
}
