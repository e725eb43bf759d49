//! Streaming XML for the Disqus and WordPress readers: quick-xml events are folded into one
//! small element tree per record (a `<post>`, an `<item>`), handed over and dropped, so memory
//! stays proportional to one record. Entities: the five predefined ones, character references
//! and the fixed HTML5 named entities (`&eacute;`, `&nbsp;`, which exports copy from HTML) are
//! decoded; a custom entity (a DOCTYPE entity bomb, an external entity) is never expanded: the
//! element where it appears keeps its raw text and carries the error, so a reader can reject
//! just the record it damages. Each record also keeps all its text in document order
//! (`Record::all_text`), so markup inside a message loses none of the words around it.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::text::LineCounter;
use super::{IngestError, Location};

/// One element of a record: local name, attributes by local name, text content, children.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: u64,
    /// Why this element's own text or attributes could not be decoded, if so.
    pub error: Option<String>,
    /// Where this element's text, its descendants' included, lies in `Record::flat`.
    span: (usize, usize),
}

impl Element {
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Trimmed, non-empty text of the first child called `name`.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// The first decoding error in this element or any element below it (walked without
    /// recursion).
    pub(crate) fn subtree_error(&self) -> Option<&str> {
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            if let Some(error) = &e.error {
                return Some(error);
            }
            todo.extend(e.children.iter().rev());
        }
        None
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A record element, where it started, and why it is unusable if it is.
pub(crate) struct Record {
    pub elem: Element,
    pub loc: Location,
    /// The first decoding error anywhere in the record.
    pub error: Option<String>,
    /// All the record's text (text and CDATA) in document order.
    flat: String,
}

impl Record {
    /// All the text inside `elem` (an element of this record), its children's included, in
    /// document order: `<message><b>bold</b> and plain</message>` gives "bold and plain".
    pub(crate) fn all_text<'r>(&'r self, elem: &Element) -> &'r str {
        self.flat.get(elem.span.0..elem.span.1).unwrap_or_default()
    }

    /// `all_text` of the first child called `name`, trimmed and non-empty.
    pub(crate) fn child_all_text<'r>(&'r self, elem: &Element, name: &str) -> Option<&'r str> {
        elem.child(name)
            .map(|c| self.all_text(c).trim())
            .filter(|t| !t.is_empty())
    }
}

/// Decodes an entity name: XML's five, then the HTML5 named entities (fixed strings, so
/// nothing can expand into more references).
fn resolve_entity(name: &str) -> Option<&'static str> {
    quick_xml::escape::resolve_predefined_entity(name)
        .or_else(|| quick_xml::escape::resolve_html5_entity(name))
}

/// Walks the document and calls `each` for every element whose path (local names from the
/// root) satisfies `is_record`. Returns the root element's local name. Malformed or truncated
/// XML is an error located at its line.
pub(crate) fn records(
    bytes: &[u8],
    file: &str,
    is_record: impl Fn(&[String]) -> bool,
    mut each: impl FnMut(Record),
) -> Result<Option<String>, IngestError> {
    let mut reader = Reader::from_reader(bytes);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut lines = LineCounter::new(bytes);
    let mut path: Vec<String> = Vec::new();
    let mut open_lines: Vec<u64> = Vec::new();
    // The record under construction: a stack of open elements, the first being the record.
    let mut stack: Vec<Element> = Vec::new();
    let mut current: Option<(Location, Option<String>)> = None;
    let mut flat = String::new();
    let mut root = None;
    let mut ordinal = 0u64;
    let mut buf = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event_into(&mut buf).map_err(|err| {
            let line = lines.line_at(reader.error_position() as usize);
            IngestError::parse(Location::line(file, line), format!("malformed XML: {err}"))
        })?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let line = lines.line_at(start);
                root.get_or_insert_with(|| name.clone());
                path.push(name.clone());
                open_lines.push(line);
                if stack.is_empty() && is_record(&path) {
                    ordinal += 1;
                    let loc = Location {
                        file: super::file_name(file),
                        line: Some(line),
                        record: Some(ordinal),
                    };
                    current = Some((loc, None));
                    flat.clear();
                }
                if current.is_some() {
                    let mut elem = Element {
                        name,
                        line,
                        span: (flat.len(), flat.len()),
                        ..Element::default()
                    };
                    for attr in e.attributes() {
                        match attr {
                            Ok(attr) => {
                                let key = String::from_utf8_lossy(attr.key.local_name().as_ref())
                                    .into_owned();
                                match attr.unescape_value_with(resolve_entity) {
                                    Ok(value) => elem.attrs.push((key, value.into_owned())),
                                    Err(err) => {
                                        let msg = format!("attribute {key}: {}", entity_msg(&err));
                                        elem.error.get_or_insert(msg.clone());
                                        note(&mut current, msg);
                                    }
                                }
                            }
                            Err(err) => {
                                let msg = format!("bad attribute: {err}");
                                elem.error.get_or_insert(msg.clone());
                                note(&mut current, msg);
                            }
                        }
                    }
                    stack.push(elem);
                }
            }
            Event::End(_) => {
                path.pop();
                open_lines.pop();
                if let Some(mut elem) = stack.pop() {
                    elem.span.1 = flat.len();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(elem),
                        None => {
                            if let Some((loc, error)) = current.take() {
                                let flat = std::mem::take(&mut flat);
                                each(Record {
                                    elem,
                                    loc,
                                    error,
                                    flat,
                                });
                            }
                        }
                    }
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    match t.unescape_with(resolve_entity) {
                        Ok(text) => {
                            top.text.push_str(&text);
                            flat.push_str(&text);
                        }
                        Err(err) => {
                            // Keep the raw text (the reference unexpanded) and say why.
                            let raw = String::from_utf8_lossy(&t);
                            top.text.push_str(&raw);
                            flat.push_str(&raw);
                            let msg = entity_msg(&err);
                            top.error.get_or_insert(msg.clone());
                            note(&mut current, msg);
                        }
                    }
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                    top.text.push_str(&text);
                    flat.push_str(&text);
                }
            }
            Event::Eof => break,
            // Declarations, comments, processing instructions and the DOCTYPE (whose entity
            // definitions are deliberately ignored) carry no comment data.
            _ => {}
        }
        buf.clear();
    }
    if let (Some(name), Some(line)) = (path.last(), open_lines.last()) {
        let end = lines.line_at(bytes.len());
        return Err(IngestError::parse(
            Location::line(file, end),
            format!(
                "unexpected end of file: <{name}> opened at line {line} is not closed (truncated?)"
            ),
        ));
    }
    Ok(root)
}

fn note(current: &mut Option<(Location, Option<String>)>, msg: String) {
    if let Some((_, error)) = current {
        error.get_or_insert(msg);
    }
}

fn entity_msg(err: &quick_xml::Error) -> String {
    match err {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
            format!("unknown entity &{name}; (custom XML entities are never expanded)")
        }
        other => format!("bad escape: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(xml: &str) -> Result<Vec<Record>, IngestError> {
        let mut out = Vec::new();
        records(xml.as_bytes(), "f.xml", |p| p.len() == 2, |r| out.push(r))?;
        Ok(out)
    }

    #[test]
    fn records_with_text_cdata_and_attrs() {
        let recs =
            collect("<r>\n<a x:id=\"1\"><b>t &amp; u</b><c><![CDATA[<p>x</p>]]></c></a>\n<a/></r>")
                .expect("parses");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].elem.attr("id"), Some("1"));
        assert_eq!(recs[0].elem.child_text("b"), Some("t & u"));
        assert_eq!(recs[0].elem.child_text("c"), Some("<p>x</p>"));
        assert_eq!(recs[1].loc.line, Some(3));
    }

    #[test]
    fn entity_bomb_is_not_expanded() {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY x SYSTEM \"file:///etc/passwd\">]><r><a>&b;</a><a>&x;</a><a>ok</a></r>";
        let recs = collect(xml).expect("parses");
        assert_eq!(recs.len(), 3);
        assert!(recs[0].error.as_deref().is_some_and(|e| e.contains("&b;")));
        assert!(recs[1].error.is_some());
        assert!(recs[2].error.is_none());
    }

    #[test]
    fn truncated_and_malformed_are_located_errors() {
        let err = collect("<r>\n<a>\n<b>x</b>")
            .err()
            .expect("truncated")
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("<a> opened at line 2"),
            "{err}"
        );
        let err = collect("<r>\n<a></b></r>")
            .err()
            .expect("mismatch")
            .to_string();
        assert!(
            err.starts_with("reading f.xml: line 2: malformed XML"),
            "{err}"
        );
    }
}
