//! Reddit API JSON: a submission page (`[t3 listing, t1 listing]` with nested `replies`),
//! flat listings, `/api/morechildren` responses (one or an array of them) and Pushshift-style
//! NDJSON (bare comment objects with `t1_`/`t3_` parent ids). Every shape is walked by the
//! same visitor over `kind`-tagged things, so mixed files work too. The walk keeps its own
//! work list instead of recursing, so a reply chain of any depth is read.

use serde_json::Value;
use std::rc::Rc;

use super::{json, text, Article, Comment, Input, Location, Partial, PartialSource};

pub(crate) fn read(bytes: &[u8], file: &str, input: &mut Input) -> Result<(), super::IngestError> {
    let mut ordinal = 0u64;
    json::for_each_value(bytes, file, input, |value, loc, input| {
        let mut walker = Walker {
            file,
            line: loc.line,
            ordinal: &mut ordinal,
            input,
        };
        walker.walk(value);
    })
}

/// Strips a Reddit type prefix (`t1_abc` → `abc`).
pub(crate) fn strip_prefix(id: &str) -> &str {
    match id.as_bytes() {
        [b't', b'1'..=b'6', b'_', ..] => &id[3..],
        _ => id,
    }
}

/// The comment whose `replies` the walk is inside.
struct Enclosing {
    id: String,
    thread_key: Option<String>,
}

struct Walker<'a> {
    file: &'a str,
    /// Set for JSON lines: every record found on the line gets that line.
    line: Option<u64>,
    ordinal: &'a mut u64,
    input: &'a mut Input,
}

impl Walker<'_> {
    fn loc(&mut self) -> Location {
        json::next_record(self.file, self.line, self.ordinal)
    }

    /// Visits `root` and everything under it in document order (pre-order), without
    /// recursion: each value pushes what it contains onto the work list, last first, with the
    /// comment whose replies they are (for a "more" stub that does not name its parent).
    fn walk<'v>(&mut self, root: &'v Value) {
        let mut todo: Vec<(&'v Value, Option<Rc<Enclosing>>)> = vec![(root, None)];
        while let Some((value, within)) = todo.pop() {
            self.visit(value, within, &mut todo);
        }
    }

    fn visit<'v>(
        &mut self,
        value: &'v Value,
        within: Option<Rc<Enclosing>>,
        todo: &mut Vec<(&'v Value, Option<Rc<Enclosing>>)>,
    ) {
        let mut push = |v: &'v Value, w: &Option<Rc<Enclosing>>| todo.push((v, w.clone()));
        match value {
            Value::Array(items) => items.iter().rev().for_each(|v| push(v, &within)),
            Value::Object(map) => {
                if let Some(kind) = map.get("kind").and_then(Value::as_str) {
                    let data = map.get("data").unwrap_or(&Value::Null);
                    match kind {
                        "Listing" => match data.get("children") {
                            Some(children) => push(children, &within),
                            None => {
                                let loc = self.loc();
                                self.input.reject(loc, "Reddit Listing without children");
                            }
                        },
                        "t1" => {
                            if let Some((replies, me)) = self.comment(data) {
                                push(replies, &me);
                            }
                        }
                        "t3" => self.article(data),
                        "more" => self.more(data, within.as_deref()),
                        other => {
                            let loc = self.loc();
                            self.input
                                .reject(loc, format!("unexpected Reddit thing of kind {other:?}"));
                        }
                    }
                } else if let Some(things) = map
                    .get("json")
                    .and_then(|j| j.get("data"))
                    .and_then(|d| d.get("things"))
                {
                    push(things, &within);
                } else if map.contains_key("body") || map.contains_key("parent_id") {
                    if let Some((replies, me)) = self.comment(value) {
                        push(replies, &me);
                    }
                } else if map.contains_key("title") {
                    self.article(value);
                } else if let Some(errors) = map.get("json").and_then(|j| j.get("errors")) {
                    let loc = self.loc();
                    self.input.reject(
                        loc,
                        format!("morechildren response without things (errors: {errors})"),
                    );
                } else {
                    let loc = self.loc();
                    self.input.reject(
                        loc,
                        "JSON object that is not a Reddit comment, submission or listing",
                    );
                }
            }
            other => {
                let loc = self.loc();
                self.input.reject(
                    loc,
                    format!("expected a Reddit thing, found {}", json::type_name(other)),
                );
            }
        }
    }

    /// Reads one comment and returns its `replies` listing, for the walk to visit next, with
    /// the comment they reply to (`None` when it was rejected: its replies become orphans).
    fn comment<'v>(&mut self, data: &'v Value) -> Option<(&'v Value, Option<Rc<Enclosing>>)> {
        let loc = self.loc();
        // `replies` is "" when empty, else a Listing; visited even when this comment is
        // rejected, so its replies are still read (as orphans).
        let replies = data.get("replies").filter(|r| r.is_object());
        let Some(id) = json::id(data, "id")
            .or_else(|| json::id(data, "name").map(|n| strip_prefix(&n).to_string()))
        else {
            self.input.reject(loc, "Reddit comment without an id");
            return replies.map(|r| (r, None));
        };
        let fields = json::reference(data, "parent_id")
            .and_then(|p| Ok((p, json::text(data, "body")?)))
            .map_err(|why| format!("Reddit comment {id}: {why}"));
        let (parent, body) = match fields {
            Ok((parent, body)) => (parent, body.unwrap_or_default()),
            Err(why) => {
                self.input.reject(loc, why);
                return replies.map(|r| (r, None));
            }
        };
        let link = json::string(data, "link_id").map(|l| strip_prefix(&l).to_string());
        let (parent_id, thread_key) = match parent.as_deref() {
            Some(p) if p.starts_with("t3_") => {
                (None, link.or_else(|| Some(strip_prefix(p).to_string())))
            }
            Some(p) => (Some(strip_prefix(p).to_string()), link),
            None => (None, link),
        };
        let author = json::string(data, "author");
        let deleted = matches!(body.as_str(), "[deleted]" | "[removed]")
            || (author.as_deref() == Some("[deleted]") && body.is_empty());
        if let Some(key) = &thread_key {
            // A listing of comments from many posts names each post; keep that as its article.
            if json::string(data, "link_title").is_some() {
                self.input.articles.push(Article {
                    key: key.clone(),
                    title: json::string(data, "link_title"),
                    url: json::string(data, "link_url")
                        .or_else(|| json::string(data, "link_permalink")),
                    ..Article::default()
                });
            }
        }
        let me = Rc::new(Enclosing {
            id: id.clone(),
            thread_key: thread_key.clone(),
        });
        let permalink = permalink(data, thread_key.as_deref(), &id);
        self.input.comments.push(Comment {
            id: id.into(),
            parent_id: parent_id.map(Into::into),
            author: author.filter(|a| a != "[deleted]").map(Into::into),
            text: text::unescape_reddit(&body),
            time: json::time(data, "created_utc").map(Into::into),
            permalink: permalink.map(Into::into),
            thread_key: thread_key.map(Into::into),
            deleted,
            spam: json::flag(data, "spam"),
            points: points(data),
            parent_known: true,
            loc,
            ..Comment::default()
        });
        replies.map(|r| (r, Some(me)))
    }

    fn article(&mut self, data: &Value) {
        let loc = self.loc();
        let Some(id) = json::id(data, "id")
            .or_else(|| json::id(data, "name").map(|n| strip_prefix(&n).to_string()))
        else {
            self.input.reject(loc, "Reddit submission without an id");
            return;
        };
        self.input.articles.push(Article {
            key: id,
            title: json::string(data, "title"),
            body: json::string(data, "selftext").map(|s| text::unescape_reddit(&s)),
            url: json::string(data, "url"),
            time: json::time(data, "created_utc"),
            saved_at: None,
        });
    }

    /// A "more" stub: the replies it stands for hang under its `parent_id`, or, where it names
    /// none (older dumps), under the comment whose replies listing holds it.
    fn more(&mut self, data: &Value, within: Option<&Enclosing>) {
        let loc = self.loc();
        let parent = json::string(data, "parent_id");
        let (parent_id, link) = match parent.as_deref() {
            Some(p) if p.starts_with("t3_") => (None, Some(strip_prefix(p).to_string())),
            Some(p) => (Some(strip_prefix(p).to_string()), None),
            None => (
                within.map(|w| w.id.clone()),
                within.and_then(|w| w.thread_key.clone()),
            ),
        };
        let child_ids: Vec<String> = data
            .get("children")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .map(|s| strip_prefix(s).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let count = data.get("count").and_then(Value::as_u64).unwrap_or(0);
        let source = if child_ids.is_empty() {
            PartialSource::RedditContinue
        } else {
            PartialSource::RedditMore
        };
        self.input.partials.push(Partial {
            loc,
            source,
            thread_key: link,
            parent_id,
            declared_missing: count.max(child_ids.len() as u64),
            child_ids,
        });
    }
}

/// The comment's address: the dump's `permalink` (relative to reddit.com), else the short
/// form Reddit answers for any comment, `/comments/POST/_/ID/`.
fn permalink(data: &Value, post: Option<&str>, id: &str) -> Option<String> {
    match json::string(data, "permalink") {
        Some(p) if p.starts_with('/') || p.starts_with("http") => Some(super::link::reddit(&p)),
        _ => Some(format!("https://www.reddit.com/comments/{}/_/{id}/", post?)),
    }
}

/// The votes a comment shows: `score`, or in older dumps (2012) that have none, `ups` less
/// `downs` (issue 37: the votes column stayed empty).
fn points(data: &Value) -> Option<i64> {
    let int = |k: &str| data.get(k).and_then(Value::as_i64);
    int("score").or_else(|| int("ups")?.checked_sub(int("downs").unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votes_from_score_or_from_ups_and_downs() {
        let v = |j: &str| points(&serde_json::from_str(j).unwrap());
        assert_eq!(v(r#"{"score": 7, "ups": 9, "downs": 2}"#), Some(7));
        assert_eq!(v(r#"{"ups": 9, "downs": 2}"#), Some(7));
        assert_eq!(v(r#"{"ups": 4}"#), Some(4));
        assert_eq!(v(r#"{"ups": -9223372036854775807, "downs": 9}"#), None);
        assert_eq!(v(r#"{"body": "x"}"#), None);
    }

    #[test]
    fn prefixes() {
        for (id, want) in [
            ("t1_abc", "abc"),
            ("t3_x", "x"),
            ("abc", "abc"),
            ("t9_a", "t9_a"),
            ("t1", "t1"),
        ] {
            assert_eq!(strip_prefix(id), want);
        }
    }

    #[test]
    fn nested_submission_page() {
        let doc = r#"[{"kind":"Listing","data":{"children":[{"kind":"t3","data":{"id":"p","title":"T","selftext":"","url":"u"}}]}},
            {"kind":"Listing","data":{"children":[
              {"kind":"t1","data":{"id":"a","parent_id":"t3_p","link_id":"t3_p","author":"x","body":"1 &gt; 0","replies":
                {"kind":"Listing","data":{"children":[
                  {"kind":"t1","data":{"id":"b","parent_id":"t1_a","link_id":"t3_p","author":"[deleted]","body":"[deleted]","replies":""}},
                  {"kind":"more","data":{"parent_id":"t1_a","count":3,"children":["c","d"]}}]}}}}]}}]"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "r.json", &mut input).expect("reads");
        assert_eq!(input.articles[0].title.as_deref(), Some("T"));
        let ids: Vec<_> = input
            .comments
            .iter()
            .map(|c| (c.id.as_str(), c.parent_id.as_deref()))
            .collect();
        assert_eq!(ids, [("a", None), ("b", Some("a"))]);
        assert_eq!(input.comments[0].text, "1 > 0");
        assert!(input.comments[1].deleted);
        assert_eq!(input.partials[0].declared_missing, 3);
        assert_eq!(input.partials[0].child_ids, ["c", "d"]);
    }

    /// A "more" stub that names no parent (older dumps) hangs under the comment whose replies
    /// hold it; one at the top level under none; a named parent still wins.
    #[test]
    fn a_more_stub_without_parent_id_hangs_under_its_enclosing_comment() {
        let doc = r#"[{"kind":"Listing","data":{"children":[
              {"kind":"t1","data":{"id":"a","parent_id":"t3_p","link_id":"t3_p","body":"x","replies":
                {"kind":"Listing","data":{"children":[
                  {"kind":"t1","data":{"id":"b","parent_id":"t1_a","link_id":"t3_p","body":"y","replies":
                    {"kind":"Listing","data":{"children":[{"kind":"more","data":{"count":2,"children":["e"]}}]}}}},
                  {"kind":"more","data":{"count":3,"children":["c","d"]}},
                  {"kind":"more","data":{"parent_id":"t1_z","count":1,"children":["f"]}}]}}}},
              {"kind":"more","data":{"count":5,"children":["g"]}}]}}]"#;
        let mut input = Input::default();
        read(doc.as_bytes(), "r.json", &mut input).expect("reads");
        let got: Vec<_> = input
            .partials
            .iter()
            .map(|p| {
                (
                    p.parent_id.as_deref(),
                    p.thread_key.as_deref(),
                    p.declared_missing,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("b"), Some("p"), 2),
                (Some("a"), Some("p"), 3),
                (Some("z"), None, 1),
                (None, None, 5)
            ]
        );
    }

    #[test]
    fn pushshift_lines_and_junk() {
        let doc = "{\"id\":\"a\",\"parent_id\":\"t3_p\",\"link_id\":\"t3_p\",\"body\":\"x\"}\n\"str\"\n{\"id\":\"b\",\"parent_id\":\"t1_a\",\"body\":\"y\"}\n";
        let mut input = Input::default();
        read(doc.as_bytes(), "r.ndjson", &mut input).expect("reads");
        assert_eq!(input.comments.len(), 2);
        assert_eq!(input.comments[1].parent_id.as_deref(), Some("a"));
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].loc.line, Some(2));
    }
}
