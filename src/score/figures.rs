//! What the default flag thresholds were measured to do, so that a report can say it beside the
//! queue: on held-out labelled comments, the share of clean comments they flag and of toxic
//! comments they catch (models/README.md, "Defaults that catch the clear cases"). The figures
//! belong to the model files they were measured on: `threadlens train --evaluate` writes them
//! to `models/heads/evaluation-metrics.json` with those files' hashes (`measured_for`), and
//! figures measured on other files are not used ([`FlagFigures::note`] says why), as
//! [`super::calls`] does for the stance thresholds.

use std::collections::BTreeMap;

use super::models::HeadsFiles;

/// File in `models/heads` holding the held-out figures at the default thresholds.
pub const FIGURES_FILE: &str = "evaluation-metrics.json";

/// Files the figures depend on, in `models/heads`: the encoder's adapter (absent for heads on
/// the frozen encoder, and then recorded as absent) and the heads.
pub const MEASURED_FILES: [&str; 2] = ["encoder-lora.safetensors", "heads.safetensors"];

/// The held-out sources a report shows, with the words it names them by: news comments, Reddit
/// comments read in their thread (two labellings), and YouTube comments from a source the
/// model never trained on.
const SHOWN: [(&str, &str); 4] = [
    ("civil-comments", "news comments (Civil Comments)"),
    ("cad", "Reddit comments (CAD)"),
    ("toxichat", "Reddit threads (ToxiChat)"),
    (
        "youtoxic",
        "YouTube comments, a source never trained on (YouToxic)",
    ),
];

/// One source's figures at the default thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFigures {
    /// What the comments are, in words.
    pub label: &'static str,
    /// Clean test comments (every labelled attribute below one half), and the share flagged.
    pub clean_rows: u64,
    pub clean_flagged: f64,
    /// Toxic test comments (toxicity labelled at or above one half), and the share flagged.
    pub toxic_rows: u64,
    pub toxic_caught: f64,
}

/// The figures in use for this run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagFigures {
    pub sources: Vec<SourceFigures>,
    /// Why there are none (no file, or measured on other model files).
    pub note: Option<String>,
}

#[derive(serde::Deserialize)]
struct File {
    #[serde(default)]
    measured_for: BTreeMap<String, String>,
    metrics: Metrics,
}

#[derive(serde::Deserialize)]
struct Metrics {
    scores: BTreeMap<String, f64>,
}

impl FlagFigures {
    /// Reads [`FIGURES_FILE`] from the heads folder of `files`. A missing or unreadable file,
    /// or figures measured on other files than `files`, give no figures and a note (never an
    /// error).
    pub fn load(files: &HeadsFiles) -> FlagFigures {
        let path = files.dir().join(FIGURES_FILE);
        let none = |why: String| FlagFigures {
            sources: Vec::new(),
            note: Some(why),
        };
        let file: File = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => return none(format!("{}: {e}", path.display())),
        };
        let stale: Vec<&str> = MEASURED_FILES
            .iter()
            .copied()
            .filter(|name| {
                files.sha256_12(name) != file.measured_for.get(*name).map(String::as_str)
            })
            .collect();
        if !stale.is_empty() {
            return none(format!(
                "{} was measured on other model files ({}); rerun `threadlens train --evaluate models/recipes/2-stage2.toml`",
                path.display(),
                stale.join(", ")
            ));
        }
        let score = |key: String| file.metrics.scores.get(&key).copied();
        let sources = SHOWN
            .iter()
            .filter_map(|&(source, label)| {
                let key = |m: &str| format!("toxicity.test.{source}.{m}");
                Some(SourceFigures {
                    label,
                    clean_rows: score(key("clean.rows"))? as u64,
                    clean_flagged: score(key("clean.flagged_share"))?,
                    toxic_rows: score(key("toxic.rows"))? as u64,
                    toxic_caught: score(key("toxic.recall"))?,
                })
            })
            .collect();
        FlagFigures {
            sources,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::models::describe_cached;
    use std::path::Path;

    fn write(dir: &Path, measured_for: serde_json::Value) {
        for (name, bytes) in MEASURED_FILES.iter().zip([b"adapter".as_slice(), b"heads"]) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let mut scores = serde_json::Map::new();
        for (k, v) in [
            ("civil-comments.clean.rows", 400.0),
            ("civil-comments.clean.flagged_share", 0.005),
            ("civil-comments.toxic.rows", 200.0),
            ("civil-comments.toxic.recall", 0.1),
            // CAD lacks its toxic figures: left out rather than shown half.
            ("cad.clean.rows", 100.0),
            ("cad.clean.flagged_share", 0.01),
        ] {
            scores.insert(format!("toxicity.test.{k}"), v.into());
        }
        let file =
            serde_json::json!({ "measured_for": measured_for, "metrics": { "scores": scores } });
        std::fs::write(dir.join(FIGURES_FILE), file.to_string()).unwrap();
    }

    fn hashes(dir: &Path) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for name in MEASURED_FILES {
            let h = describe_cached(&dir.join(name)).unwrap().sha256_12;
            m.insert(name.to_string(), h.into());
        }
        m.into()
    }

    #[test]
    fn figures_are_read_for_the_files_they_were_measured_on_only() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), serde_json::json!({}));
        let h = hashes(dir.path());
        write(dir.path(), h);
        let f = FlagFigures::load(&HeadsFiles::read(dir.path()).unwrap());
        assert_eq!(f.note, None);
        assert_eq!(
            f.sources,
            [SourceFigures {
                label: "news comments (Civil Comments)",
                clean_rows: 400,
                clean_flagged: 0.005,
                toxic_rows: 200,
                toxic_caught: 0.1,
            }]
        );
        // Heads retrained since: the figures describe other files.
        std::fs::write(dir.path().join("heads.safetensors"), b"retrained").unwrap();
        let f = FlagFigures::load(&HeadsFiles::read(dir.path()).unwrap());
        assert!(f.sources.is_empty());
        assert!(f.note.unwrap().contains("heads.safetensors"));
        // No file at all.
        std::fs::remove_file(dir.path().join(FIGURES_FILE)).unwrap();
        assert!(FlagFigures::load(&HeadsFiles::read(dir.path()).unwrap())
            .note
            .is_some());
    }

    /// The committed figures are bound to the committed files.
    #[test]
    fn the_committed_figures_match_the_committed_heads() {
        let heads = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/heads");
        let f = FlagFigures::load(&HeadsFiles::read(&heads).unwrap());
        assert_eq!(f.note, None);
        assert_eq!(f.sources.len(), SHOWN.len());
    }
}
