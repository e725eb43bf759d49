//! What the two `tune` readers (labelled sample, scores) share: opening a CSV file or stdin,
//! finding columns by header name, and the located error and rejection types. A record that
//! cannot be used is never dropped silently: it becomes a [`Rejection`] with its line.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::csvread::{Next, Records};

/// A record that was skipped, with where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The file it came from (`-` for stdin).
    pub path: PathBuf,
    /// 1-based line where the record starts.
    pub line: u64,
    /// What was wrong, e.g. `toxicity is "maybe", expected 0 or 1`.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: line {}: {}",
            self.path.display(),
            self.line,
            self.reason
        )
    }
}

/// Why a CSV input could not be read at all. A variant with a `source` does not repeat it in
/// its message: the error chain (`threadlens: …: cause`) shows it once.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("reading {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: line {line}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error("{}: the file is empty (expected a header row with {expected})", path.display())]
    Empty { path: PathBuf, expected: String },
    #[error("{}: the header has no `{column}` column (found: {found})", path.display())]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{}: line 1: column `{column}` appears twice", path.display())]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// A CSV reader over a file or stdin (`-`) with its header already read: the shared
/// recovering reader ([`crate::csvread`]), so line numbers are right in CRLF files and a quote
/// that never closes costs its own lines, not the rest of the file (issue 34 cases 8, 16).
pub struct CsvInput {
    pub path: PathBuf,
    records: Records<Box<dyn Read>>,
    /// The record being read (reused).
    rec: csv::ByteRecord,
    /// Column index by trimmed header name.
    pub columns: HashMap<String, usize>,
    /// Header names in file order.
    pub names: Vec<String>,
}

impl CsvInput {
    /// Opens `path` and reads its header; `expected` describes the header for error messages.
    pub fn open(path: &Path, expected: &str) -> Result<CsvInput, InputError> {
        let source: Box<dyn Read> = if path == Path::new("-") {
            Box::new(std::io::stdin().lock())
        } else {
            let file = std::fs::File::open(path).map_err(|source| InputError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Box::new(std::io::BufReader::new(file))
        };
        let empty = || InputError::Empty {
            path: path.to_path_buf(),
            expected: expected.to_string(),
        };
        let mut header = csv::ByteRecord::new();
        let mut records = Records::new(source, b',', &mut header)
            .map_err(|e| csv_error(path, e))?
            .ok_or_else(empty)?;
        let names: Vec<String> = header
            .iter()
            .map(|h| {
                std::str::from_utf8(h)
                    .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                    .map_err(|_| InputError::Invalid {
                        path: path.to_path_buf(),
                        message: "line 1: the header is not valid UTF-8 (save the file as UTF-8)"
                            .into(),
                    })
            })
            .collect::<Result<_, _>>()?;
        if names.iter().all(String::is_empty) {
            return Err(empty());
        }
        let mut columns = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            if columns.insert(name.clone(), i).is_some() {
                return Err(InputError::DuplicateColumn {
                    path: path.to_path_buf(),
                    column: name.clone(),
                });
            }
        }
        records.set_id_column(columns.get("id").copied());
        Ok(CsvInput {
            path: path.to_path_buf(),
            records,
            rec: csv::ByteRecord::new(),
            columns,
            names,
        })
    }

    /// The index of a required column.
    pub fn require(&self, column: &str) -> Result<usize, InputError> {
        self.columns
            .get(column)
            .copied()
            .ok_or_else(|| InputError::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
                found: self.names.join(", "),
            })
    }

    /// Reads the next record and returns the line it starts on. `Ok(None)` at the end; a
    /// malformed record (wrong number of fields, invalid UTF-8, the lines a runaway quote
    /// swallowed) is returned as `Err(Rejection)` so the caller can count it and go on; an I/O
    /// failure is a hard error.
    pub fn next_record(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<Result<u64, Rejection>>, InputError> {
        let next = self
            .records
            .next(&mut self.rec)
            .map_err(|source| InputError::Io {
                path: self.path.clone(),
                source,
            })?;
        let reject = |line: u64, reason: String| Rejection {
            path: self.path.clone(),
            line,
            reason,
        };
        let line = match next {
            None => return Ok(None),
            Some(Next::Reject { line, reason }) => {
                return Ok(Some(Err(reject(line.unwrap_or(0), reason))))
            }
            Some(Next::Row(line)) => line,
        };
        if self.rec.len() != self.names.len() {
            let reason = format!(
                "has {} fields, but the header has {}",
                self.rec.len(),
                self.names.len()
            );
            return Ok(Some(Err(reject(line, reason))));
        }
        match csv::StringRecord::from_byte_record(std::mem::take(&mut self.rec)) {
            Ok(r) => {
                *record = r;
                Ok(Some(Ok(line)))
            }
            Err(_) => Ok(Some(Err(reject(line, "is not valid UTF-8".into())))),
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> InputError {
    let line = e.position().map_or(1, |p| p.line());
    InputError::Csv {
        path: path.to_path_buf(),
        line,
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::io::Write;

    #[test]
    fn errors_with_a_source_do_not_repeat_it() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"id,te\xffxt,flag\n1,x,1\n").unwrap();
        let err = CsvInput::open(f.path(), "id").err().unwrap();
        let path = f.path().display().to_string();
        assert_eq!(
            err.to_string(),
            format!("{path}: line 1: the header is not valid UTF-8 (save the file as UTF-8)")
        );
        let csv = csv::Reader::from_reader(&b"a\n\xff"[..])
            .records()
            .next()
            .unwrap()
            .unwrap_err();
        let shown = csv.to_string();
        let err = csv_error(Path::new("x.csv"), csv);
        assert!(err.to_string().starts_with("x.csv: line "), "{err}");
        assert!(!err.to_string().contains(&shown), "{err}");
        assert_eq!(err.source().map(ToString::to_string), Some(shown));
    }
}
