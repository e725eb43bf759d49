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

impl Feedback {
    /// Opens `path` for appending, writing the header when the file is new or empty.
    pub fn open(path: &Path) -> std::io::Result<Feedback> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(b"id,text,toxicity\n")?;
            file.sync_data()?;
        }
        Ok(Feedback {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one decision and syncs it to disk. The id is the client token (Coral sends the
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
        file.write_all(&bytes)?;
        file.sync_data()
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
}
