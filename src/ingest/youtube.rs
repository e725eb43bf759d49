//! YouTube Data API v3 comments: `commentThreads` (a top-level comment plus the replies the
//! API chose to inline) as JSON lines or a list response, and bare `youtube#comment` items.
//! The API inlines at most a few replies per thread, so a thread whose `totalReplyCount`
//! exceeds what was exported is recorded as partial. Each video becomes an article.

use serde_json::Value;

use super::{json, text, Article, Comment, Input, Location, Partial, PartialSource};

pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), super::IngestError> {
    let mut ordinal = 0u64;
    json::for_each_value(bytes, file, input, |value, loc, input| {
        walk(value, file, loc.line, &mut ordinal, input);
    })
}

/// Visits every thread and comment in document order with an explicit work list (nested
/// arrays of any depth are walked without recursion).
fn walk(root: &Value, file: &str, line: Option<u64>, ordinal: &mut u64, input: &mut Input) {
    let mut todo: Vec<&Value> = vec![root];
    while let Some(value) = todo.pop() {
        let mut next_loc = || json::next_record(file, line, ordinal);
        match value {
            Value::Array(items) => todo.extend(items.iter().rev()),
            Value::Object(map) => match map.get("kind").and_then(Value::as_str) {
                Some("youtube#commentThreadListResponse" | "youtube#commentListResponse") => {
                    match map.get("items") {
                        Some(items) => todo.push(items),
                        None => input.reject(next_loc(), "YouTube list response without items"),
                    }
                }
                Some("youtube#commentThread") => thread(value, next_loc(), input),
                Some("youtube#comment") => {
                    let loc = next_loc();
                    comment(value, None, loc, input);
                }
                _ if map.contains_key("items") => todo.extend(map.get("items")),
                _ => input.reject(next_loc(), "not a YouTube commentThread or comment"),
            },
            other => input.reject(
                next_loc(),
                format!(
                    "expected a YouTube commentThread object, found {}",
                    json::type_name(other)
                ),
            ),
        }
    }
}

fn thread(value: &Value, loc: Location, input: &mut Input) {
    let snippet = value.get("snippet").unwrap_or(&Value::Null);
    let video = json::string(snippet, "videoId");
    let Some(top) = snippet.get("topLevelComment") else {
        input.reject(loc, "commentThread without a topLevelComment");
        return;
    };
    if let Some(video) = &video {
        input.articles.push(Article {
            key: video.clone(),
            url: Some(format!("https://www.youtube.com/watch?v={video}")),
            ..Article::default()
        });
    }
    // The replies are read even when the top comment is rejected (they are then orphans).
    let top_id = comment(top, video.clone(), loc.clone(), input);
    let replies = value
        .get("replies")
        .and_then(|r| r.get("comments"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for reply in replies {
        comment(reply, video.clone(), loc.clone(), input);
    }
    let total = snippet
        .get("totalReplyCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if let Some(top_id) = top_id.filter(|_| total > replies.len() as u64) {
        input.partials.push(Partial {
            loc,
            source: PartialSource::YouTubeReplies,
            thread_key: video,
            parent_id: Some(top_id),
            declared_missing: total - replies.len() as u64,
            child_ids: Vec::new(),
        });
    }
}

/// Pushes one `youtube#comment`; returns its id.
fn comment(
    value: &Value,
    video: Option<String>,
    loc: Location,
    input: &mut Input,
) -> Option<String> {
    let snippet = value.get("snippet").unwrap_or(&Value::Null);
    let Some(id) = json::id(value, "id") else {
        input.reject(loc, "YouTube comment without an id");
        return None;
    };
    // Reply ids are "<parent>.<reply>"; parentId says the same thing explicitly.
    let fields = (|| {
        let parent = json::reference(snippet, "parentId")?;
        let text = match json::text(snippet, "textOriginal")? {
            Some(t) => t,
            None => json::text(snippet, "textDisplay")?
                .map(|t| text::html_to_text(&t))
                .unwrap_or_default(),
        };
        Ok::<_, String>((parent, text))
    })();
    let (parent, text) = match fields {
        Ok(fields) => fields,
        Err(why) => {
            input.reject(loc, format!("YouTube comment {id}: {why}"));
            return None;
        }
    };
    let parent_id = parent.or_else(|| id.split_once('.').map(|(p, _)| p.to_string()));
    let video = video.or_else(|| json::string(snippet, "videoId"));
    input.comments.push(Comment {
        id: id.as_str().into(),
        parent_id: parent_id.map(Into::into),
        author: json::string(snippet, "authorDisplayName").map(Into::into),
        text,
        time: json::string(snippet, "publishedAt").map(Into::into),
        permalink: video
            .as_deref()
            .map(|v| format!("https://www.youtube.com/watch?v={v}&lc={id}").into()),
        thread_key: video.map(Into::into),
        points: snippet.get("likeCount").and_then(Value::as_i64),
        parent_known: true,
        loc,
        ..Comment::default()
    });
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_with_missing_replies() {
        let line = r#"{"kind":"youtube#commentThread","id":"T","snippet":{"videoId":"v","totalReplyCount":3,
            "topLevelComment":{"kind":"youtube#comment","id":"T","snippet":{"authorDisplayName":"a","textOriginal":"top","publishedAt":"t"}}},
            "replies":{"comments":[{"kind":"youtube#comment","id":"T.r1","snippet":{"parentId":"T","authorDisplayName":"b","textDisplay":"x<br />y"}}]}}"#;
        let mut input = Input::default();
        read(line.replace('\n', " ").as_bytes(), "y.jsonl", &mut input).expect("reads");
        let got: Vec<_> = input
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref()))
            .collect();
        assert_eq!(got, [("T", None), ("T.r1", Some("T"))]);
        assert_eq!(input.comments[1].text, "x\ny");
        assert_eq!(input.partials[0].declared_missing, 2);
        assert_eq!(input.articles[0].key, "v");
    }
}
