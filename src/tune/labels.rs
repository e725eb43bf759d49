//! Reads the moderator's labelled sample: a CSV with `id`, `text` and one 0/1 column per
//! attribute it labels (any of `toxicity, insult, threat, obscene, identity_attack,
//! severe_toxicity, sexual_explicit, flag`).
//! Optional `parent_id` and `author` columns let `tune` measure the context rules
//! (ESCALATION, AUTHOR_HISTORY) on the sample ([`super::context`]).
//! Other columns are ignored and reported; a row with a bad label is rejected with its line,
//! never dropped silently. A repeated id is a changed decision (Coral sends a new one when a
//! moderator reverses a decision, and `serve --feedback` appends it): the latest row wins and
//! the earlier ones are counted as superseded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::input::{CsvInput, InputError, Rejection};
use super::thresholds::Attribute;

/// One labelled comment.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledRow {
    /// 1-based line in the labels file.
    pub line: u64,
    pub id: String,
    /// The comment text; empty when the file has no `text` column.
    pub text: String,
    /// One label per attribute, in the order of [`LabelledSample::attributes`].
    pub labels: Vec<bool>,
    /// The parent comment's id (`parent_id` column; `None` when empty or absent).
    pub parent_id: Option<String>,
    /// The author (`author` column; `None` when empty or absent).
    pub author: Option<String>,
}

/// The labelled sample as read.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSample {
    /// Where it was read from (`-` for stdin).
    pub path: PathBuf,
    /// The attributes the file labels, in [`Attribute::ALL`] order.
    pub attributes: Vec<Attribute>,
    pub rows: Vec<LabelledRow>,
    /// Whether the file has a `text` column (needed to score the texts).
    pub has_text: bool,
    /// Whether the file has `parent_id` and `author` columns.
    pub has_parent: bool,
    pub has_author: bool,
    /// Header columns that are neither `id`, `text` nor an attribute.
    pub ignored_columns: Vec<String>,
    pub rejected: Vec<Rejection>,
    /// Rows replaced by a later row with the same id: (id, its line, the line that won).
    pub superseded: Vec<(String, u64, u64)>,
}

/// The label columns accepted, in [`Attribute::ALL`] order, for messages (a literal, so
/// [`EXPECTED`] can be built from it at compile time).
macro_rules! label_columns {
    () => {
        "toxicity, insult, threat, obscene, identity_attack, severe_toxicity, sexual_explicit, flag"
    };
}

/// Columns read besides the labels.
const KNOWN: [&str; 4] = ["id", "text", "parent_id", "author"];

const EXPECTED: &str = concat!("id, text and 0/1 columns among ", label_columns!());

/// Reads a labelled sample from `path` (`-` for stdin).
pub fn read_labels(path: &Path) -> Result<LabelledSample, InputError> {
    let mut input = CsvInput::open(path, EXPECTED)?;
    let id_col = input.require("id")?;
    let text_col = input.columns.get("text").copied();
    let parent_col = input.columns.get("parent_id").copied();
    let author_col = input.columns.get("author").copied();
    let attributes: Vec<(Attribute, usize)> = Attribute::ALL
        .into_iter()
        .filter_map(|a| input.columns.get(a.name()).map(|&i| (a, i)))
        .collect();
    if attributes.is_empty() {
        return Err(InputError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "the header has no label column (expected at least one of {}; found: {})",
                label_columns!(),
                input.names.join(", ")
            ),
        });
    }
    let ignored_columns = input
        .names
        .iter()
        .filter(|n| !KNOWN.contains(&n.as_str()) && Attribute::from_name(n).is_none())
        .cloned()
        .collect();
    let mut sample = LabelledSample {
        path: path.to_path_buf(),
        attributes: attributes.iter().map(|(a, _)| *a).collect(),
        rows: Vec::new(),
        has_text: text_col.is_some(),
        has_parent: parent_col.is_some(),
        has_author: author_col.is_some(),
        ignored_columns,
        rejected: Vec::new(),
        superseded: Vec::new(),
    };
    // The row holding each id's latest decision so far.
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut record = csv::StringRecord::new();
    while let Some(next) = input.next_record(&mut record)? {
        let line = match next {
            Ok(line) => line,
            Err(rejection) => {
                sample.rejected.push(rejection);
                continue;
            }
        };
        let reject = |reason: String| Rejection {
            path: path.to_path_buf(),
            line,
            reason,
        };
        // Ids from threadlens's own spreadsheet-safe files lose the apostrophe it added.
        let id = crate::report::safe::original(record.get(id_col).unwrap_or("").trim())
            .trim()
            .to_string();
        if id.is_empty() {
            sample.rejected.push(reject("the id is empty".into()));
            continue;
        }
        let labels: Result<Vec<bool>, String> = attributes
            .iter()
            .map(|&(a, col)| {
                parse_label(record.get(col).unwrap_or("")).ok_or_else(|| {
                    format!(
                        "{a} is {:?}, expected 0 or 1",
                        record.get(col).unwrap_or("")
                    )
                })
            })
            .collect();
        match labels {
            Ok(labels) => {
                let text = text_col
                    .and_then(|c| record.get(c))
                    .map(crate::report::safe::original)
                    .unwrap_or("")
                    .to_string();
                let cell = |c: Option<usize>| {
                    c.and_then(|c| record.get(c))
                        .map(|v| crate::report::safe::original(v.trim()).trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let row = LabelledRow {
                    line,
                    id: id.clone(),
                    text,
                    labels,
                    parent_id: cell(parent_col),
                    author: cell(author_col),
                };
                match at.get(&id) {
                    Some(&i) => {
                        sample.superseded.push((id, sample.rows[i].line, line));
                        sample.rows[i] = row;
                    }
                    None => {
                        at.insert(id, sample.rows.len());
                        sample.rows.push(row);
                    }
                }
            }
            Err(reason) => sample.rejected.push(reject(format!("id '{id}': {reason}"))),
        }
    }
    if sample.rows.is_empty() && sample.rejected.is_empty() {
        return Err(InputError::Invalid {
            path: path.to_path_buf(),
            message: "the file has a header but no rows".to_string(),
        });
    }
    Ok(sample)
}

/// `0`/`1` (also `true`/`false`), surrounding spaces ignored.
fn parse_label(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Reads `text` from a temp file; errors name the file `L`.
    fn read(text: &str) -> Result<LabelledSample, String> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let path = f.path().display().to_string();
        read_labels(f.path()).map_err(|e| e.to_string().replace(&path, "L"))
    }

    #[test]
    fn reads_labels_in_attribute_order_and_reports_extra_columns() {
        let s = read("\u{feff}id,text,flag,note,insult\na,\"hi, you\",1,x,0\nb,ok, 0 ,,true\n")
            .unwrap();
        assert_eq!(s.attributes, [Attribute::Insult, Attribute::Flag]);
        assert_eq!(s.ignored_columns, ["note"]);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].text, "hi, you");
        assert_eq!(s.rows[0].labels, [false, true]);
        assert_eq!(
            (s.rows[1].line, s.rows[1].labels.clone()),
            (3, vec![true, false])
        );
        assert!(s.rejected.is_empty());
    }

    /// `parent_id` and `author` are read (empty cells are none), not reported as ignored.
    #[test]
    fn parent_and_author_columns_are_read() {
        let s = read("id,parent_id,author,toxicity\na,,ann,0\nb, a ,,1\n").unwrap();
        assert!(s.ignored_columns.is_empty(), "{:?}", s.ignored_columns);
        assert!(s.has_parent && s.has_author);
        assert_eq!(
            (s.rows[0].parent_id.as_deref(), s.rows[0].author.as_deref()),
            (None, Some("ann"))
        );
        assert_eq!(
            (s.rows[1].parent_id.as_deref(), s.rows[1].author.as_deref()),
            (Some("a"), None)
        );
        let s = read("id,toxicity\na,0\n").unwrap();
        assert!(!s.has_parent && !s.has_author);
    }

    #[test]
    fn every_attribute_is_a_label_column_and_named_in_messages() {
        let names: Vec<&str> = Attribute::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(label_columns!(), names.join(", "));
        let s = read("id,sexual_explicit,text,severe_toxicity\na,1,x,0\nb,0,y,1\n").unwrap();
        assert_eq!(
            s.attributes,
            [Attribute::SevereToxicity, Attribute::SexualExplicit]
        );
        assert_eq!(s.rows[0].labels, [false, true]);
        assert_eq!(s.rows[1].labels, [true, false]);
        assert!(s.ignored_columns.is_empty());
        let err = read("id,text,spam\n1,x,1\n").unwrap_err();
        assert_eq!(err, "L: the header has no label column (expected at least one of toxicity, insult, threat, obscene, identity_attack, severe_toxicity, sexual_explicit, flag; found: id, text, spam)");
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line() {
        let s = read("id,toxicity\na,1\nb,maybe\na,0\n,1\nc,0,9\nd,0\n").unwrap();
        let ids: Vec<&str> = s.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "d"]);
        let reasons: Vec<String> = s.rejected.iter().map(ToString::to_string).collect();
        let path = s.rejected[0].path.display().to_string();
        let want = [
            "line 3: id 'b': toxicity is \"maybe\", expected 0 or 1",
            "line 5: the id is empty",
            "line 6: has 3 fields, but the header has 2",
        ];
        assert_eq!(reasons, want.map(|w| format!("{path}: {w}")));
        assert!(!s.has_text);
    }

    /// Issue 34 case 16: in a CRLF file the lines named are the lines of the file (the csv
    /// crate's own count lagged one line per record there).
    #[test]
    fn crlf_files_name_the_right_lines() {
        let s = read("id,toxicity\r\na,1\r\nb,1\r\nc,maybe\r\nd,0\r\n").unwrap();
        let reasons: Vec<String> = s.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].ends_with("line 4: id 'c': toxicity is \"maybe\", expected 0 or 1"),
            "{reasons:?}"
        );
        assert_eq!(s.rows[2].line, 5);
    }

    /// Issue 34 case 8: a quote that never closes costs its own lines, not the rest of the
    /// file (2 of 100 rows used to be read, with one bad line reported).
    #[test]
    fn an_unclosed_quote_loses_only_its_own_row() {
        let mut text = String::from("id,text,toxicity\n");
        for i in 1..=100 {
            if i == 3 {
                text.push_str("3,\"a quote that never closes,1\n");
            } else {
                text.push_str(&format!("{i},comment {i},{}\n", i % 2));
            }
        }
        let s = read(&text).unwrap();
        assert_eq!(s.rows.len(), 99, "{:?}", s.rejected);
        assert_eq!(s.rejected.len(), 1);
        assert_eq!(s.rejected[0].line, 4, "{}", s.rejected[0]);
        assert!(s.rows.iter().all(|r| r.id != "3"));
        assert_eq!(s.rows[2].line, 5);
    }

    /// Issue 34 case 7: a reversed decision (the same id again) replaces the earlier one.
    #[test]
    fn the_latest_decision_for_an_id_wins() {
        let s = read("id,text,toxicity\na,x,1\nb,y,0\na,x,0\na,x,1\nc,z,1\n").unwrap();
        let got: Vec<(&str, u64, bool)> = s
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.line, r.labels[0]))
            .collect();
        assert_eq!(got, [("a", 5, true), ("b", 3, false), ("c", 6, true)]);
        assert_eq!(
            s.superseded,
            [("a".to_string(), 2, 4), ("a".to_string(), 4, 5)]
        );
        assert!(s.rejected.is_empty());
    }

    #[test]
    fn unusable_files_are_clear_errors() {
        let cases = [
            (
                "",
                "L: the file is empty (expected a header row with id, text and 0/1 columns",
            ),
            ("id,text,toxicity\n", "L: the file has a header but no rows"),
            ("id,text,toxicity", "L: the file has a header but no rows"),
            (
                "text,toxicity\nx,1\n",
                "L: the header has no `id` column (found: text, toxicity)",
            ),
            ("id,text,spam\n1,x,1\n", "L: the header has no label column"),
            (
                "id,id,flag\n1,2,1\n",
                "L: line 1: column `id` appears twice",
            ),
        ];
        for (text, want) in cases {
            let got = read(text).unwrap_err();
            assert!(got.starts_with(want), "{text:?}: got {got:?}");
        }
        let missing = read_labels(Path::new("/nonexistent/labels.csv")).unwrap_err();
        assert_eq!(missing.to_string(), "reading /nonexistent/labels.csv");
    }
}
