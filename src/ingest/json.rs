//! JSON plumbing shared by the Reddit, Hacker News and YouTube readers: telling one JSON
//! document from JSON lines, reading lines one by one so a bad line is rejected (with its line
//! number) instead of sinking the whole file, and lenient field access (ids may be strings or
//! numbers). Documents of any nesting depth are read: serde_json's recursion limit is off and
//! its parser runs on a stack that grows on the heap (serde_stacker), the readers walk the
//! tree with an explicit work list, and `drop_deep` frees it without recursion, so a reply
//! chain 100,000 levels deep neither fails nor overflows the stack.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{IngestError, Input, Location, MAX_RECORD_BYTES};

/// Calls `each` with every top-level JSON value and its location: the single document of a
/// JSON file, or each non-blank line of a JSON-lines file (bad lines become rejects).
pub(crate) fn for_each_value(
    bytes: &[u8],
    file: &str,
    input: &mut Input,
    mut each: impl FnMut(&Value, Location, &mut Input),
) -> Result<(), IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if is_json_lines(bytes) {
        for_each_line(bytes, file, input, each);
        return Ok(());
    }
    if let Err(why) = proportionate(bytes) {
        return Err(IngestError::parse(Location::file(file), why));
    }
    let value: Value = parse(bytes).map_err(|err| located(file, &err))?;
    each(&value, Location::file(file), input);
    drop_deep(value);
    Ok(())
}

/// The fewest bytes a nesting level of a real comment document takes: a reply chain nests an
/// object and an array per reply, around at least an id and a text (Reddit's pages take about
/// 26 bytes a level, Algolia's Hacker News items about 45).
const MIN_BYTES_PER_LEVEL: usize = 16;

/// Nesting this deep is read whatever the size.
const ALWAYS_READ_DEPTH: usize = 1_000;

/// Refuses JSON nested far deeper than its size can hold comments for (`[[[[…` or
/// `{"a":{"a":…`): each level read costs a few hundred bytes of memory, so two bytes a level
/// would take memory hundreds of times the input's size. A scan of the bytes, before parsing.
pub(crate) fn proportionate(bytes: &[u8]) -> Result<(), String> {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > ALWAYS_READ_DEPTH && bytes.len() / deepest < MIN_BYTES_PER_LEVEL {
        return Err(format!(
            "JSON nested {deepest} levels deep in {} bytes ({} bytes a level): not read, as it \
             would take memory far out of proportion to its size (a reply chain takes at least \
             {MIN_BYTES_PER_LEVEL} bytes a level)",
            bytes.len(),
            bytes.len() / deepest
        ));
    }
    Ok(())
}

/// `serde_json::from_slice` without the recursion limit, on a stack grown as needed.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    let value = T::deserialize(serde_stacker::Deserializer::new(&mut de))?;
    de.end()?;
    Ok(value)
}

/// Drops a value without recursing into it: serde_json's own drop recurses once per level,
/// which overflows the stack on a deep enough document.
pub(crate) fn drop_deep(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

fn for_each_line(
    bytes: &[u8],
    file: &str,
    input: &mut Input,
    mut each: impl FnMut(&Value, Location, &mut Input),
) {
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let loc = Location::line(file, n as u64 + 1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > MAX_RECORD_BYTES {
            let reason = format!(
                "line is {} bytes, over the {MAX_RECORD_BYTES} limit",
                line.len()
            );
            input.reject(loc, reason);
            continue;
        }
        if let Err(why) = proportionate(line) {
            input.reject(loc, why);
            continue;
        }
        match parse::<Value>(line) {
            Ok(value) => {
                each(&value, loc, input);
                drop_deep(value);
            }
            Err(err) => input.reject(loc, format!("invalid JSON: {}", describe(&err))),
        }
    }
}

/// JSON lines: the first line is a complete object and something follows it.
fn is_json_lines(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    if rest.first() != Some(&b'{') {
        return false;
    }
    let Some(end) = memchr::memchr(b'\n', rest) else {
        return false;
    };
    let after_first = &rest[end..];
    parse::<serde::de::IgnoredAny>(&rest[..end]).is_ok()
        && after_first.iter().any(|b| !b.is_ascii_whitespace())
}

fn located(file: &str, err: &serde_json::Error) -> IngestError {
    let loc = if err.line() > 0 {
        Location::line(file, err.line() as u64)
    } else {
        Location::file(file)
    };
    IngestError::parse(loc, format!("invalid JSON: {}", describe(err)))
}

/// serde_json's message without its own " at line X column Y" suffix, plus the column.
fn describe(err: &serde_json::Error) -> String {
    let msg = err.to_string();
    let msg = msg
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string();
    match err.classify() {
        serde_json::error::Category::Eof => format!("{msg} (truncated?)"),
        _ if err.column() > 0 => format!("{msg} at column {}", err.column()),
        _ => msg,
    }
}

/// A string or number field as a non-empty string.
pub(crate) fn id(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The location of the next record of a JSON input: numbered in document order (`ordinal`),
/// with its line for JSON lines.
pub(crate) fn next_record(file: &str, line: Option<u64>, ordinal: &mut u64) -> Location {
    *ordinal += 1;
    Location {
        file: super::file_name(file),
        line,
        record: Some(*ordinal),
    }
}

/// An id-like reference field (a parent id): a string or a number, or absent / null / empty.
/// Any other type is an error naming the field, never a silently dropped edge.
pub(crate) fn reference(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("`{key}` is {}, not an id", type_name(other))),
    }
}

/// A text field: a string, or absent / null (no text). A number, boolean, array or object is
/// an error naming the field: turning it into empty text would score a comment that is not
/// there.
pub(crate) fn text(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
        Some(other) => Err(format!("`{key}` is {}, not text", type_name(other))),
    }
}

/// "a number", "an object", … for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A non-empty string field.
pub(crate) fn string(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A timestamp field: strings as they are, numbers without a useless `.0`.
pub(crate) fn time(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", f as i64)),
            _ => Some(n.to_string()),
        },
        _ => None,
    }
}

/// A boolean field, accepting `true`, `1` and `"true"`.
pub(crate) fn flag(value: &Value, key: &str) -> bool {
    match value.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> (Vec<(Value, Location)>, Input) {
        let mut input = Input::default();
        let mut seen = Vec::new();
        for_each_value(text.as_bytes(), "f", &mut input, |v, loc, _| {
            seen.push((v.clone(), loc))
        })
        .expect("reads");
        (seen, input)
    }

    #[test]
    fn lines_and_documents() {
        let (seen, input) = values("{\"a\":1}\n{\"a\":2}\n\n{bad\n{\"a\":3}");
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2].1, Location::line("f", 5));
        assert_eq!(input.rejects.len(), 1);
        assert_eq!(input.rejects[0].loc, Location::line("f", 4));

        let (seen, input) = values("{\n \"a\": 1\n}\n");
        assert_eq!(seen.len(), 1);
        assert!(input.rejects.is_empty());
        let (seen, _) = values("[1, 2]");
        assert_eq!(seen.len(), 1);
    }

    #[test]
    fn truncated_document_is_a_located_error() {
        let mut input = Input::default();
        let err = for_each_value(b"[{\"a\":\n1", "f.json", &mut input, |_, _, _| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reading f.json: line 2: invalid JSON: EOF while parsing an object (truncated?)"
        );
    }

    #[test]
    fn field_helpers() {
        let v: Value = serde_json::json!({"n": 12, "s": " x ", "e": "", "t": 1.5e9, "b": 1});
        assert_eq!(id(&v, "n").as_deref(), Some("12"));
        assert_eq!(id(&v, "s").as_deref(), Some("x"));
        assert_eq!(id(&v, "e"), None);
        assert_eq!(time(&v, "t").as_deref(), Some("1500000000"));
        assert!(flag(&v, "b"));
        assert!(!flag(&v, "missing"));
    }
}
