//! Moderator decisions from `comments:suggestscore`, appended to a labels CSV that
//! `threadlens tune --labels FILE` reads as it is (`id,text,toxicity`): serve, let moderators
//! decide, then tune the thresholds on their own decisions. Each row is flushed and synced
//! before the request is answered, so a crash loses no recorded decision. Cells are
//! spreadsheet-safe; `tune` reads them back as they were.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::api::Suggestion;
use crate::report::safe::cell;

/// The attribute the feedback file records (the one Coral Talk sends).
pub const ATTRIBUTE: &str = "TOXICITY";

pub struct Feedback {
    path: PathBuf,
    file: Mutex<File>,
}

/// The header of a feedback file, and of every file it appends to.
const HEADER: &[u8] = b"id,text,toxicity\n";

fn invalid(path: &Path, what: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "{}: {what}; move it aside or give another --feedback file",
            path.display()
        ),
    )
}

/// Opens `path` for appending: a regular file (a FIFO would block start-up, and is refused
/// without waiting), created with the header when new or empty. An existing file must be one
/// this server wrote: the header, whole rows of three cells, no quote left open and a final
/// line end; anything else would be corrupted by the next row (issue 34 case 6).
fn open_append(path: &Path) -> std::io::Result<File> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(invalid(path, "not a regular file".into()));
        }
        check(path, &std::fs::read(path)?)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(invalid(path, "not a regular file".into()));
    }
    if file.metadata()?.len() == 0 {
        file.write_all(HEADER)?;
        file.sync_data()?;
    }
    Ok(file)
}

/// What [`open_append`] accepts of an existing file's contents.
fn check(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    if !bytes.starts_with(HEADER) {
        let first = String::from_utf8_lossy(bytes.split(|&b| b == b'\n').next().unwrap_or(b""));
        return Err(invalid(
            path,
            format!("line 1 is {first:?}, not the feedback header id,text,toxicity"),
        ));
    }
    if !bytes.ends_with(b"\n") {
        let line = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(invalid(
            path,
            format!("line {line} has no line end (a partial row)"),
        ));
    }
    // Quotes come in pairs in whole CSV cells; an odd count leaves one open to the end.
    if bytes.iter().filter(|&&b| b == b'"').count() % 2 == 1 {
        return Err(invalid(path, "a quote is left open (a partial row)".into()));
    }
    // The reader every CSV input goes through (`csvread`), so a row this check passes is a
    // row `tune` reads.
    let mut record = csv::ByteRecord::new();
    let mut records = crate::csvread::Records::new(bytes, b',', &mut record)
        .map_err(|e| invalid(path, e.to_string()))?
        .ok_or_else(|| invalid(path, "no header".into()))?;
    records.set_id_column(Some(0));
    while let Some(next) = records.next(&mut record)? {
        match next {
            crate::csvread::Next::Row(_) if record.len() == 3 => {}
            crate::csvread::Next::Row(line) => {
                return Err(invalid(
                    path,
                    format!("line {line} has {} cells, not 3", record.len()),
                ))
            }
            crate::csvread::Next::Reject { line, reason } => {
                return Err(invalid(
                    path,
                    format!("line {}: {reason}", line.unwrap_or(0)),
                ))
            }
        }
    }
    Ok(())
}

/// Whether the file at `path` is no longer `file` (rotated, moved or deleted).
fn replaced(path: &Path, file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(path), file.metadata()) {
            (Ok(a), Ok(b)) => (a.dev(), a.ino()) != (b.dev(), b.ino()),
            _ => true,
        }
    }
    #[cfg(not(unix))]
    {
        !path.exists() || file.metadata().is_err()
    }
}

impl Feedback {
    /// Opens `path` for appending (see [`open_append`]).
    pub fn open(path: &Path) -> std::io::Result<Feedback> {
        Ok(Feedback {
            path: path.to_path_buf(),
            file: Mutex::new(open_append(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one decision and syncs it to disk, all or nothing: a write that fails (a full
    /// disk) is cut back to the file's length before it, and the error answers the request
    /// 500. A file rotated or deleted since the last row is opened anew (with its header), so
    /// no decision goes to a file nobody reads. The id is the client token (Coral sends the
    /// comment id), or a hash of the text when there is none.
    pub fn record(&self, s: &Suggestion) -> std::io::Result<()> {
        let Some(&(_, label)) = s.labels.iter().find(|(a, _)| a == ATTRIBUTE) else {
            return Ok(());
        };
        let id = s
            .client_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map_or_else(|| format!("text-{:016x}", fnv(&s.text)), str::to_string);
        let mut row = csv::Writer::from_writer(Vec::new());
        row.write_record([&*cell(&id), &*cell(&s.text), if label { "1" } else { "0" }])
            .map_err(std::io::Error::other)?;
        let bytes = row
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if replaced(&self.path, &file) {
            *file = open_append(&self.path)?;
        }
        let before = file.metadata()?.len();
        let written = file.write_all(&bytes).and_then(|()| file.sync_data());
        if let Err(e) = written {
            let _ = file.set_len(before);
            let _ = file.sync_data();
            return Err(e);
        }
        Ok(())
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_append_as_a_labels_file_tune_reads() {
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("fb.csv");
        let fb = Feedback::open(&path).expect("open");
        let s = |text: &str, label, token: Option<&str>| Suggestion {
            text: text.to_string(),
            labels: vec![(ATTRIBUTE.to_string(), label)],
            client_token: token.map(String::from),
        };
        fb.record(&s("You fool, \"really\"", true, Some("c1")))
            .expect("1");
        fb.record(&s("=1+1 is two", false, None)).expect("2");
        drop(fb);
        // Reopening appends; the header is not written twice.
        Feedback::open(&path)
            .expect("reopen")
            .record(&s("fine", false, Some("c3")))
            .expect("3");
        let sample = crate::tune::labels::read_labels(&path).expect("tune reads it");
        let got: Vec<(&str, &str, bool)> = sample
            .rows
            .iter()
            .map(|r| (r.id.as_str(), r.text.as_str(), r.labels[0]))
            .collect();
        assert_eq!(got[0], ("c1", "You fool, \"really\"", true));
        assert_eq!((got[1].1, got[1].2), ("=1+1 is two", false));
        assert!(got[1].0.starts_with("text-"));
        assert_eq!(got[2], ("c3", "fine", false));
        assert!(sample.rejected.is_empty());
    }

    fn decision(token: &str) -> Suggestion {
        Suggestion {
            text: format!("text of {token}"),
            labels: vec![(ATTRIBUTE.to_string(), true)],
            client_token: Some(token.to_string()),
        }
    }

    /// Issue 34 case 6: a file this server did not write whole is refused at start, naming
    /// the file and what is wrong, instead of being appended to and corrupted.
    #[test]
    fn files_that_would_be_corrupted_are_refused_at_start() {
        let d = tempfile::tempdir().expect("tempdir");
        let cases = [
            ("foreign.csv", "id,label\n1,0\n", "line 1 is \"id,label\""),
            (
                "partial.csv",
                "id,text,toxicity\na,hi,1",
                "line 2 has no line end",
            ),
            (
                "quote.csv",
                "id,text,toxicity\na,\"open,1\n",
                "a quote is left open",
            ),
            (
                "cells.csv",
                "id,text,toxicity\na,hi\n",
                "line 2 has 2 cells",
            ),
        ];
        for (name, text, want) in cases {
            let path = d.path().join(name);
            std::fs::write(&path, text).expect("write");
            let err = Feedback::open(&path).err().expect("refused").to_string();
            assert!(err.contains(name) && err.contains(want), "{name}: {err}");
            assert_eq!(
                std::fs::read_to_string(&path).expect("read"),
                text,
                "{name} changed"
            );
        }
        // A FIFO is refused at once (opening it for writing would wait for a reader).
        let fifo = d.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf-8")).expect("c path");
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = Feedback::open(&fifo).err().expect("refused").to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    /// Issue 34 case 6: a file rotated (moved away) or deleted since the last decision is
    /// opened anew, with its header, so no decision goes to a file nobody reads.
    #[test]
    fn a_rotated_or_deleted_file_is_opened_anew() {
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("fb.csv");
        let fb = Feedback::open(&path).expect("open");
        fb.record(&decision("a")).expect("a");
        std::fs::rename(&path, d.path().join("fb.csv.1")).expect("rotate");
        fb.record(&decision("b")).expect("b");
        std::fs::remove_file(&path).expect("delete");
        fb.record(&decision("c")).expect("c");
        let ids = |p: &Path| -> Vec<String> {
            crate::tune::labels::read_labels(p)
                .expect("reads")
                .rows
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids(&d.path().join("fb.csv.1")), ["a"]);
        assert_eq!(ids(&path), ["c"]);
    }
}
