//! Comment exports in JSON of no particular site (a CMS's or a comment plugin's export, a
//! database dump): JSON lines, an array of objects, or an object holding such an array
//! (`{"comments": [...]}`). Each object is one comment whose fields are named as a table's
//! columns are (`id`, `parent_id`, `author`, `text`, …, or set with `--id-col` and friends).
//! Fields one object down are read with their names joined (`user.name` → `user_name`).
//! An array of comments (objects with a text field) inside a comment holds its replies, which
//! answer it unless they name a parent themselves; an object with no text field of its own
//! that holds such arrays is a wrapper, and its comments are read. `threadlens threads --as
//! jsonl` output reads back this way. Every object becomes a row under the union of the fields of
//! all of them and goes through the table reader's rules ([`super::table::Sink`]), so a JSON
//! export and the same export as CSV give the same comments.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::table::{normalize_header, unnamed_id, Sink};
use super::{json, ColumnOverrides, IngestError, Input, Location};

/// One object, flattened: its fields by normalised name, and the object it is nested in.
struct Record {
    loc: Location,
    fields: Vec<(String, String)>,
    /// Index of the record this one is nested under, when it is a nested reply.
    nested_in: Option<usize>,
}

pub(crate) fn read(
    bytes: &[u8],
    file: &str,
    overrides: &ColumnOverrides,
    input: &mut Input,
) -> Result<(), IngestError> {
    let mut records = Vec::new();
    let mut ordinal = 0u64;
    let texts = TextNames(overrides.text.as_deref().map(normalize_header));
    json::for_each_value(bytes, file, input, |value, loc, input| {
        collect(
            value,
            file,
            loc.line,
            &texts,
            &mut ordinal,
            &mut records,
            input,
        );
    })?;
    if records.is_empty() {
        return Ok(());
    }
    let (headers, index) = columns(&records, file, overrides)?;
    let mut sink = Sink::new(file, headers.clone(), overrides)?;
    send(records, &headers, &index, &mut sink, input);
    sink.finish(input);
    Ok(())
}

/// The table the records make: the union of their fields in the order first seen, plus a
/// parent column where nested replies need one and the fields name none.
fn columns(
    records: &[Record],
    file: &str,
    overrides: &ColumnOverrides,
) -> Result<(Vec<String>, HashMap<String, usize>), IngestError> {
    let mut headers: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in records {
        for (name, _) in &r.fields {
            index.entry(name.clone()).or_insert_with(|| {
                headers.push(name.clone());
                headers.len() - 1
            });
        }
    }
    let nested = records.iter().any(|r| r.nested_in.is_some());
    if nested
        && Sink::new(file, headers.clone(), overrides)?
            .id_and_parent()
            .1
            .is_none()
    {
        // Nested replies name their parent by nesting alone: give them a column for it.
        index.insert("parent_id".into(), headers.len());
        headers.push("parent_id".into());
    }
    Ok((headers, index))
}

/// Makes a row of each record under `headers` and hands it to `sink`; a nested reply that
/// names no parent gets the id of the record it is nested in.
fn send(
    records: Vec<Record>,
    headers: &[String],
    index: &HashMap<String, usize>,
    sink: &mut Sink,
    input: &mut Input,
) {
    let (id_col, parent_col) = sink.id_and_parent();
    // The ids nested replies answer, taken before the records are consumed.
    let id_name = id_col.map(|i| headers[i].as_str());
    let parents: HashMap<usize, String> = records
        .iter()
        .filter_map(|r| r.nested_in)
        .map(|up| (up, own_id(&records[up], id_name)))
        .collect();
    let mut rec = csv::ByteRecord::new();
    for r in records {
        let mut cells: Vec<&str> = vec![""; headers.len()];
        for (name, value) in &r.fields {
            cells[index[name]] = value;
        }
        if let (Some(p), Some(up)) = (parent_col, r.nested_in) {
            if cells[p].trim().is_empty() {
                cells[p] = &parents[&up];
            }
        }
        rec.clear();
        for cell in &cells {
            rec.push_field(cell.as_bytes());
        }
        sink.accept(&rec, r.loc.clone(), input);
    }
}

/// The id a nested reply's parent goes by: its id field, or the name the table reader gives
/// a record without one ([`unnamed_id`]).
fn own_id(record: &Record, id_name: Option<&str>) -> String {
    let id = id_name.and_then(|n| record.fields.iter().find(|(f, _)| f == n));
    match id.map(|(_, v)| v.trim()).filter(|v| !v.is_empty()) {
        Some(id) => id.to_string(),
        None => unnamed_id(&record.loc),
    }
}

/// The names a comment's text field goes by: the table reader's, or the one `--text-col` sets.
struct TextNames(Option<String>);

impl TextNames {
    /// Whether `map` is a comment: it has a field named as a text column.
    fn is_comment(&self, map: &Map<String, Value>) -> bool {
        map.keys().map(|k| normalize_header(k)).any(|n| {
            self.0
                .as_ref()
                .map_or(super::table::is_text_column(&n), |t| *t == n)
        })
    }

    /// Why an object that is not a comment is rejected.
    fn missing(&self) -> String {
        match &self.0 {
            Some(t) => format!("an object with no {t:?} field (--text-col)"),
            None => format!(
                "an object with no text field (looked for {}; use --text-col)",
                super::table::TEXT.join(", ")
            ),
        }
    }

    /// The arrays of comments in `map`, in field order.
    fn comment_arrays<'v>(&self, map: &'v Map<String, Value>) -> Vec<&'v Value> {
        map.values()
            .filter(|v| match v {
                Value::Array(items) => {
                    !items.is_empty()
                        && items.iter().all(Value::is_object)
                        && items
                            .iter()
                            .any(|i| i.as_object().is_some_and(|m| self.is_comment(m)))
                }
                _ => false,
            })
            .collect()
    }

    /// What a wrapper (an object that is not a comment) holds comments in: its arrays of
    /// comments, and its objects that hold some within [`WRAPPER_DEPTH`] more levels
    /// (`{"status": "ok", "data": {"comments": [...]}}`), in field order.
    fn wrapped<'v>(&self, map: &'v Map<String, Value>, depth: usize) -> Vec<&'v Value> {
        let arrays = self.comment_arrays(map);
        map.values()
            .filter(|v| {
                arrays.iter().any(|a| std::ptr::eq(*a, *v))
                    || (depth < WRAPPER_DEPTH
                        && v.as_object().is_some_and(|m| {
                            !self.is_comment(m) && !self.wrapped(m, depth + 1).is_empty()
                        }))
            })
            .collect()
    }
}

/// How many objects deep a wrapper's comments are looked for.
const WRAPPER_DEPTH: usize = 4;

/// Gathers the objects of one top-level value in document order, with an explicit work list
/// (nesting of any depth is walked without recursion). A value where a comment is expected
/// (a top-level value, an element of an array) that is neither a comment nor holds any is
/// rejected; a wrapper's other fields are its own and are left alone.
fn collect(
    root: &Value,
    file: &str,
    line: Option<u64>,
    texts: &TextNames,
    ordinal: &mut u64,
    records: &mut Vec<Record>,
    input: &mut Input,
) {
    // (value, the record it is nested under, whether a comment is expected there)
    let mut todo: Vec<(&Value, Option<usize>, bool)> = vec![(root, None, true)];
    while let Some((value, nested_in, expected)) = todo.pop() {
        match value {
            Value::Array(items) => {
                todo.extend(items.iter().rev().map(|v| (v, nested_in, true)));
            }
            Value::Object(map) if texts.is_comment(map) => {
                let loc = json::next_record(file, line, ordinal);
                let me = records.len();
                records.push(Record {
                    loc,
                    fields: flatten(map),
                    nested_in,
                });
                let replies = texts.comment_arrays(map).into_iter().rev();
                todo.extend(replies.map(|v| (v, Some(me), true)));
            }
            // The summary line `threadlens threads --as jsonl` ends with (its articles are not
            // comments).
            Value::Object(map) if nested_in.is_none() && map.contains_key("integrity") => {}
            Value::Object(map) => {
                let inner = texts.wrapped(map, 0);
                if inner.is_empty() {
                    if expected {
                        let loc = json::next_record(file, line, ordinal);
                        input.reject(loc, texts.missing());
                    }
                    continue;
                }
                // A wrapper such as {"count": 2, "comments": [...]}: its comments, which answer
                // what the wrapper is nested in, if anything.
                todo.extend(inner.into_iter().rev().map(|v| (v, nested_in, false)));
            }
            other if expected => input.reject(
                json::next_record(file, line, ordinal),
                format!(
                    "expected a comment object, found {}",
                    json::type_name(other)
                ),
            ),
            _ => {}
        }
    }
}

/// The object's scalar fields, and those of the objects directly inside it (`user.name` as
/// `user_name`), by normalised name; arrays and deeper objects are not columns.
fn flatten(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in map {
        let name = normalize_header(name);
        match value {
            Value::Object(inner) => {
                for (sub, v) in inner {
                    if let Some(s) = scalar(v) {
                        out.push((format!("{name}_{}", normalize_header(sub)), s));
                    }
                }
            }
            v => out.extend(scalar(v).map(|s| (name, s))),
        }
    }
    out
}

/// A field's text as a table cell: strings as they are, numbers and booleans as written, null
/// as empty; arrays and objects are not cells.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str) -> Input {
        let mut input = Input::default();
        read(
            text.as_bytes(),
            "c.json",
            &ColumnOverrides::default(),
            &mut input,
        )
        .expect("reads");
        input
    }

    fn edges(input: &Input) -> Vec<(&str, Option<&str>, &str)> {
        input
            .comments
            .iter()
            .map(|c| (&*c.id, c.parent_id.as_deref(), c.text.as_str()))
            .collect()
    }

    #[test]
    fn json_lines_an_array_and_a_wrapper_give_the_same_comments() {
        let lines = r#"{"id": 1, "parent_id": null, "user": {"name": "ann"}, "body": "First."}
{"id": 2, "parent_id": 1, "user": {"name": "bob"}, "body": "A reply."}
"#;
        let array = format!("[{}]", lines.trim().replace('\n', ","));
        let wrapper = format!(r#"{{"count": 2, "comments": {array}}}"#);
        for text in [lines.to_string(), array, wrapper] {
            let input = read_str(&text);
            assert_eq!(
                edges(&input),
                [("1", None, "First."), ("2", Some("1"), "A reply.")],
                "{text}"
            );
            assert_eq!(input.comments[1].author.as_deref(), Some("bob"));
            assert!(input.rejects.is_empty());
        }
    }

    #[test]
    fn nested_replies_answer_the_object_they_are_in_unless_they_say_otherwise() {
        let text = r#"[{"id": "a", "text": "top", "replies": [
            {"id": "b", "text": "under a", "children": [{"id": "c", "text": "under b"}]},
            {"id": "d", "parent": "b", "text": "says b"}]},
          {"text": "no id", "replies": [{"id": "e", "text": "under the one with no id"}]}]"#;
        let input = read_str(text);
        assert_eq!(
            edges(&input),
            [
                ("a", None, "top"),
                ("b", Some("a"), "under a"),
                ("c", Some("b"), "under b"),
                ("d", Some("b"), "says b"),
                ("e", Some("R5"), "under the one with no id"),
            ]
        );
        // As in a table with an id column, a comment without an id is rejected; its reply
        // names it by its record number, which the reject is listed with.
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].loc.record, Some(5));
        assert_eq!(input.rejects[0].reason, "empty id");
        // With no ids at all, comments are named by their record numbers.
        let input = read_str(r#"[{"text": "top", "replies": [{"text": "under it"}]}]"#);
        assert_eq!(
            edges(&input),
            [("R1", None, "top"), ("R2", Some("R1"), "under it")]
        );
    }

    /// Shapes of real CMS and app exports: a wrapper two objects deep with camelCase names,
    /// a MongoDB dump with `_id` and nested children, an author object.
    #[test]
    fn common_export_shapes_are_read() {
        let wrapped = r#"{"status": "success", "data": {"total": 2, "comments": [
            {"commentID": 7, "parentID": 0, "memberID": 1, "content": "Top.", "createdAt": 1561334400},
            {"commentID": 8, "parentID": 7, "memberID": 2, "content": "Reply.", "createdAt": 1561334500}]}}"#;
        let input = read_str(wrapped);
        assert_eq!(
            edges(&input),
            [("7", None, "Top."), ("8", Some("7"), "Reply.")]
        );
        assert_eq!(input.comments[1].time.as_deref(), Some("1561334500"));
        assert!(input.rejects.is_empty(), "{:?}", input.rejects);

        let mongo = r#"[{"_id": "a1", "thread_id": "t", "user_id": "eve", "text": "First",
            "children": [{"_id": "a2", "thread_id": "t", "user_id": "sam", "text": "Second"}]}]"#;
        let input = read_str(mongo);
        assert_eq!(
            edges(&input),
            [("a1", None, "First"), ("a2", Some("a1"), "Second")]
        );

        let authored = r#"{"comments": [{"id": 1, "body": "Hi", "parent": null,
            "author": {"username": "jo", "bio": null, "following": false}}]}"#;
        let input = read_str(authored);
        assert_eq!(input.comments[0].author.as_deref(), Some("jo"));
        assert!(input.rejects.is_empty(), "{:?}", input.rejects);
    }

    /// `threadlens threads --as jsonl` output reads back as the same forest.
    #[test]
    fn threads_own_json_lines_read_back() {
        let text = r#"{"id":"1","parent_id":null,"thread_id":"t","depth":0,"author":"ann","text":"hi"}
{"id":"2","parent_id":"1","thread_id":"t","depth":1,"author":"bob","text":"hello"}
{"integrity":{"comments":2},"rejects":[],"articles":[{"key":"t","title":"T","body":"The article."}]}
"#;
        let input = read_str(text);
        assert_eq!(
            edges(&input),
            [("1", None, "hi"), ("2", Some("1"), "hello")]
        );
        assert!(input.rejects.is_empty(), "{:?}", input.rejects);
    }

    #[test]
    fn what_is_not_a_comment_is_rejected_with_its_record() {
        let input = read_str("[{\"id\": 1, \"text\": \"ok\"}, 5, \"text\"]");
        assert_eq!(input.comments.len(), 1);
        let reasons: Vec<(Option<u64>, &str)> = input
            .rejects
            .iter()
            .map(|r| (r.loc.record, r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (Some(2), "expected a comment object, found a number"),
                (Some(3), "expected a comment object, found a string"),
            ]
        );
        // A bad JSON line is rejected with its line, and the others are read.
        let input =
            read_str("{\"id\": 1, \"text\": \"ok\"}\n{\"id\": 2,\n{\"id\": 3, \"text\": \"ok\"}\n");
        assert_eq!(input.comments.len(), 2);
        assert_eq!(input.rejects[0].loc.line, Some(2));
    }

    #[test]
    fn an_object_without_a_text_field_is_rejected_unless_text_col_names_one() {
        let doc = b"[{\"id\": 1, \"note\": \"x\"}, {\"id\": 2, \"text\": \"y\"}]";
        let mut input = Input::default();
        read(doc, "c.json", &ColumnOverrides::default(), &mut input).unwrap();
        assert_eq!(edges(&input), [("2", None, "y")]);
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].loc.record, Some(1));
        assert!(input.rejects[0].reason.contains("use --text-col"));
        let overrides = ColumnOverrides {
            text: Some("note".into()),
            ..ColumnOverrides::default()
        };
        let mut input = Input::default();
        read(doc, "c.json", &overrides, &mut input).unwrap();
        assert_eq!(edges(&input), [("1", None, "x")]);
        assert!(input.rejects[0].reason.contains("no \"note\" field"));
    }
}
