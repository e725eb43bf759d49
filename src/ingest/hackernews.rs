//! Hacker News items, from the Firebase API (`id`, `by`, `parent`, `kids`, HTML `text`,
//! `dead`, `deleted`) or the Algolia API (`author`, `parent_id`, `story_id`, nested
//! `children`), as one JSON document (an item or an array) or JSON lines. Ids may be strings
//! or numbers. Stories become articles; their comments point at them through `parent`.

use serde_json::Value;

use super::{json, text, Article, Comment, Input, Location, Partial, PartialSource};

pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), super::IngestError> {
    let mut ordinal = 0u64;
    json::for_each_value(bytes, file, input, |value, loc, input| {
        walk(value, file, loc.line, &mut ordinal, input);
    })
}

/// Visits every item in document order (pre-order) with an explicit work list, so an
/// Algolia `children` tree of any depth is read without recursion.
fn walk(root: &Value, file: &str, line: Option<u64>, ordinal: &mut u64, input: &mut Input) {
    let mut todo: Vec<&Value> = vec![root];
    while let Some(value) = todo.pop() {
        let mut next_loc = || json::next_record(file, line, ordinal);
        match value {
            Value::Array(items) => todo.extend(items.iter().rev()),
            Value::Object(map) => {
                if let Some(hits) = map.get("hits").filter(|h| h.is_array()) {
                    todo.push(hits);
                    continue;
                }
                item(value, next_loc(), input);
                match map.get("children") {
                    None | Some(Value::Null) => {}
                    Some(children) => todo.push(children),
                }
            }
            other => input.reject(
                next_loc(),
                format!(
                    "expected a Hacker News item object, found {}",
                    json::type_name(other)
                ),
            ),
        }
    }
}

fn item(value: &Value, loc: Location, input: &mut Input) {
    let Some(id) = json::id(value, "id").or_else(|| json::id(value, "objectID")) else {
        input.reject(loc, "Hacker News item without an id");
        return;
    };
    let kind = json::string(value, "type").unwrap_or_default();
    let fields = (|| {
        let parent = match json::reference(value, "parent")? {
            Some(p) => Some(p),
            None => json::reference(value, "parent_id")?,
        };
        let html = match json::text(value, "text")? {
            Some(t) => Some(t),
            None => json::text(value, "comment_text")?,
        };
        Ok::<_, String>((parent, html.unwrap_or_default()))
    })();
    let (parent, html) = match fields {
        Ok(fields) => fields,
        Err(why) => {
            input.reject(loc, format!("Hacker News item {id}: {why}"));
            return;
        }
    };
    let is_story = matches!(kind.as_str(), "story" | "job" | "poll")
        || (parent.is_none() && value.get("title").is_some_and(|t| !t.is_null()));
    if is_story {
        input.articles.push(Article {
            key: id.clone(),
            title: json::string(value, "title"),
            body: Some(text::html_to_text(&html)).filter(|b| !b.is_empty()),
            url: json::string(value, "url"),
            time: json::time(value, "time").or_else(|| json::time(value, "created_at")),
            saved_at: None,
        });
    } else {
        let story = json::id(value, "story_id");
        input.comments.push(Comment {
            id: id.as_str().into(),
            parent_id: parent.map(Into::into),
            author: json::string(value, "by")
                .or_else(|| json::string(value, "author"))
                .map(Into::into),
            text: text::html_to_text(&html),
            time: json::time(value, "time")
                .or_else(|| json::time(value, "created_at"))
                .map(Into::into),
            thread_key: story.map(Into::into),
            permalink: super::link::hacker_news(&id).map(Into::into),
            deleted: json::flag(value, "deleted"),
            // Dead items were killed by moderators or user flags: the closest thing to spam.
            spam: json::flag(value, "dead"),
            parent_known: true,
            loc: loc.clone(),
            ..Comment::default()
        });
    }
    if let Some(kids) = value
        .get("kids")
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty())
    {
        let child_ids: Vec<String> = kids
            .iter()
            .filter_map(|k| match k {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect();
        input.partials.push(Partial {
            loc,
            source: PartialSource::HackerNewsKids,
            thread_key: is_story.then(|| id.clone()),
            parent_id: (!is_story).then_some(id),
            declared_missing: 0,
            child_ids,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firebase_and_algolia_items() {
        let doc = r#"[{"id": 1, "type": "story", "title": "S", "kids": [2]},
            {"id": "2", "by": "pg", "parent": 1, "text": "a &gt; b<p>c"},
            {"id": 3, "author": "x", "parent_id": 2, "story_id": 1, "text": "<i>hi</i>", "children": [
                {"id": 4, "author": "y", "parent_id": 3, "story_id": 1, "text": "yo", "dead": true}]}]"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "hn.json", &mut input).expect("reads");
        assert_eq!(input.articles.len(), 1);
        let got: Vec<_> = input
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref(), c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("2", Some("1"), "a > b\n\nc"),
                ("3", Some("2"), "hi"),
                ("4", Some("3"), "yo")
            ]
        );
        assert!(input.comments[2].spam);
        assert_eq!(input.partials.len(), 1);
    }
}
