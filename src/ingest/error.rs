//! The ingest error type. It always knows which file failed and, where it can, the line or
//! record, so the command line prints `reading x.csv: line 12: …` without guessing.

use super::Location;

/// Why an input file could not be read at all (as opposed to a rejected record, which is
/// counted and skipped).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("reading {file}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not well formed at a known place (truncated JSON, broken XML, bad UTF-8).
    #[error("reading {loc}: {msg}")]
    Parse { loc: Location, msg: String },
    /// The file as a whole is unusable: unknown format, binary data, a missing column.
    #[error("reading {file}: {msg}")]
    Format { file: String, msg: String },
}

impl IngestError {
    pub(crate) fn parse(loc: Location, msg: impl Into<String>) -> IngestError {
        IngestError::Parse {
            loc,
            msg: msg.into(),
        }
    }

    pub(crate) fn format(file: &str, msg: impl Into<String>) -> IngestError {
        IngestError::Format {
            file: file.to_string(),
            msg: msg.into(),
        }
    }
}
