//! Disqus XML export: `<thread dsq:id>` elements become articles (title, link, date) and
//! `<post dsq:id>` elements become comments pointing at their thread and optional
//! `<parent dsq:id>`. `isDeleted`/`isSpam` are kept as flags: deleted posts stay in the forest
//! so replies to them keep their place. The same page can appear as two threads under two URLs;
//! that is left to the integrity report, never merged here.

use super::xml::{self, Element, Record};
use super::{link, text, Article, Comment, IngestError, Input};

pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), IngestError> {
    text::utf8(bytes, file)?;
    let before = (input.comments.len(), input.articles.len());
    let root = xml::records(
        bytes,
        file,
        |path| path.len() == 2,
        |record| one(record, input),
    )?;
    link::comment_anchors(&mut input.comments[before.0..], &input.articles[before.1..]);
    match root.as_deref() {
        Some("disqus") | None => Ok(()),
        Some(other) => Err(IngestError::format(
            file,
            format!("root element is <{other}>, not <disqus>"),
        )),
    }
}

fn one(record: Record, input: &mut Input) {
    let elem = &record.elem;
    let loc = record.loc.clone();
    if elem.name != "thread" && elem.name != "post" {
        return; // <category> and friends
    }
    if let Some(error) = &record.error {
        input.reject(loc, format!("<{}>: {error}", elem.name));
        return;
    }
    // An id attribute that is present but empty or blank is refused, not kept as "".
    let id = match elem.attr("id") {
        Some(id) => id.trim(),
        None => elem.child_text("id").unwrap_or_default(),
    };
    if id.is_empty() {
        let why = match elem.attr("id") {
            Some(_) => "an empty dsq:id",
            None => "no dsq:id",
        };
        input.reject(loc, format!("<{}> with {why}", elem.name));
        return;
    }
    let message = record.child_all_text(elem, "message");
    if elem.name == "thread" {
        input.articles.push(Article {
            key: id.to_string(),
            title: elem.child_text("title").map(str::to_string),
            body: message.map(text::html_to_text).filter(|b| !b.is_empty()),
            url: elem.child_text("link").map(str::to_string),
            time: elem.child_text("createdAt").map(str::to_string),
            saved_at: None,
        });
        return;
    }
    let reference = |child: &str| -> Result<Option<&str>, String> {
        match elem.child(child).map(|c| c.attr("id").map(str::trim)) {
            None => Ok(None),
            Some(Some(id)) if !id.is_empty() => Ok(Some(id)),
            Some(_) => Err(format!(
                "post {id}: <{child}> with an empty or missing dsq:id"
            )),
        }
    };
    let (parent_id, thread_key) =
        match reference("parent").and_then(|p| Ok((p, reference("thread")?))) {
            Ok(refs) => refs,
            Err(why) => {
                input.reject(loc, why);
                return;
            }
        };
    let author = elem.child("author").and_then(|a: &Element| {
        a.child_text("name")
            .or_else(|| a.child_text("username"))
            .map(str::to_string)
    });
    input.comments.push(Comment {
        id: id.into(),
        parent_id: parent_id.map(Into::into),
        author: author.map(Into::into),
        text: message.map(text::html_to_text).unwrap_or_default(),
        time: elem.child_text("createdAt").map(Into::into),
        thread_key: thread_key.map(Into::into),
        deleted: elem.child_text("isDeleted") == Some("true"),
        spam: elem.child_text("isSpam") == Some("true"),
        parent_known: true,
        loc,
        ..Comment::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_posts_and_flags() {
        let doc = r#"<?xml version="1.0"?><disqus xmlns:dsq="http://disqus.com/disqus-internals">
<thread dsq:id="2"><link>http://x/</link><title>T</title></thread>
<post dsq:id="4"><message><![CDATA[<p>Hi</p>]]></message><isDeleted>true</isDeleted><author><name>p</name></author><thread dsq:id="2"/></post>
<post dsq:id="5"><message>m</message><isSpam>true</isSpam><thread dsq:id="2"/><parent dsq:id="4"/></post>
<post><message>no id</message></post>
</disqus>"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "d.xml", &mut input).expect("reads");
        assert_eq!(input.articles[0].title.as_deref(), Some("T"));
        let c = &input.comments;
        assert_eq!(
            (c[0].id.as_str(), c[0].text.as_str(), c[0].deleted),
            ("4", "Hi", true)
        );
        assert_eq!(
            (
                c[1].parent_id.as_deref(),
                c[1].spam,
                c[1].thread_key.as_deref()
            ),
            (Some("4"), true, Some("2"))
        );
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].loc.line, Some(5));
    }

    #[test]
    fn wrong_root_is_an_error() {
        let mut input = Input::default();
        assert!(read(b"<lolz><a>x</a></lolz>", "x.xml", &mut input).is_err());
    }
}
