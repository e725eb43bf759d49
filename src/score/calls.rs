//! When the product says a stance: a favor / against / none label (or agree / disagree /
//! neutral for a reply) is asserted only where its probability reaches a threshold chosen on
//! calibration rows, so that held-out precision stays at or above 0.75; everything else is
//! **unclear** (models/README.md, "Stance v3"). The thresholds belong to the model files they
//! were fitted for: `models/heads/stance-abstention.json`, written by
//! `scripts/stance_abstention.py`, records those files' hashes, and a threshold whose files
//! differ from the installed ones is not used (everything it covers is unclear, and
//! [`StanceCalls::note`] says why). Scoring applies the calls once, so every report and front
//! end reads the same labels.

use super::models::HeadsFiles;
use super::scorer::Scores;

/// File in `models/heads` holding the thresholds and the figures they were chosen by.
pub const CALLS_FILE: &str = "stance-abstention.json";

/// The label written where no stance is asserted.
pub const UNCLEAR: &str = "unclear";

/// Files each set of thresholds was fitted for, in `models/heads`.
const ARTICLE_ONE_PASS_FILES: [&str; 2] = ["encoder-lora.safetensors", "heads.safetensors"];
const ARTICLE_PAIR_FILES: [&str; 2] = [
    "stance-pair-lora.safetensors",
    "stance-pair-heads.safetensors",
];
const REPLY_FILES: [&str; 2] = [
    "stance-reply-lora.safetensors",
    "stance-reply-heads.safetensors",
];

/// Which model gives stance toward the article (the thresholds differ per model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleModel {
    OnePass,
    Pair,
}

/// One label per class: the least probability at which the class is asserted when it is the
/// most likely one; `None` = never asserted.
pub type Taus = [Option<f32>; 3];

/// The thresholds in use for this run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StanceCalls {
    pub article: Taus,
    pub reply: Taus,
    /// Why some thresholds are missing (no file, or fitted for other model files), for the
    /// run's messages and the summary.
    pub note: Option<String>,
}

#[derive(serde::Deserialize)]
struct Fitted {
    tau: std::collections::BTreeMap<String, Option<f32>>,
}

#[derive(serde::Deserialize)]
struct File {
    fitted_for: std::collections::BTreeMap<String, String>,
    article_embedding: Fitted,
    article_pair: Fitted,
    reply: Fitted,
}

impl StanceCalls {
    /// Reads [`CALLS_FILE`] from the heads folder of `files` for stance toward the article from
    /// `article`, and checks the hashes it records against `files`.
    /// A missing or unreadable file, or thresholds fitted for other files, leave the affected
    /// stance unclear (never an error: scoring goes on, and [`StanceCalls::note`] says so).
    pub fn load(files: &HeadsFiles, article: ArticleModel) -> StanceCalls {
        let path = files.dir().join(CALLS_FILE);
        let file: File = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => {
                return StanceCalls {
                    note: Some(format!(
                        "no stance thresholds ({}: {e}): every stance is reported as unclear",
                        path.display()
                    )),
                    ..Default::default()
                }
            }
        };
        let mut stale = Vec::new();
        let mut check = |names: &[&'static str], fitted: &Fitted, labels: [&str; 3]| -> Taus {
            for name in names {
                let installed = files.sha256_12(name);
                let fitted = file.fitted_for.get(*name).map(String::as_str);
                if installed.is_none() || installed != fitted {
                    stale.push(*name);
                    return [None; 3];
                }
            }
            labels.map(|l| fitted.tau.get(l).copied().flatten())
        };
        let (files, fitted) = match article {
            ArticleModel::OnePass => (&ARTICLE_ONE_PASS_FILES, &file.article_embedding),
            ArticleModel::Pair => (&ARTICLE_PAIR_FILES, &file.article_pair),
        };
        let article = check(files, fitted, ["favor", "against", "none"]);
        let reply = check(&REPLY_FILES, &file.reply, ["agree", "disagree", "neutral"]);
        let note = (!stale.is_empty()).then(|| {
            format!(
                "the stance thresholds in {} were fitted for other model files ({}): the stance \
                 they cover is reported as unclear; rerun scripts/stance_abstention.py",
                path.display(),
                stale.join(", ")
            )
        });
        StanceCalls {
            article,
            reply,
            note,
        }
    }

    /// Whether this model can assert both favor and against: without both, shares of stance
    /// toward the article would read a side that can never be said as 0 %.
    pub fn sides(&self) -> bool {
        self.article[0].is_some() && self.article[1].is_some()
    }

    /// Whether this model can assert that a reply disagrees with its parent.
    pub fn disagreement(&self) -> bool {
        self.reply[1].is_some()
    }

    /// What two sets of thresholds can both say (a label only one can assert is left out):
    /// for reports from scores made elsewhere, where which was used is not known.
    pub fn both(&self, other: &StanceCalls) -> StanceCalls {
        let pick = |a: Taus, b: Taus| -> Taus {
            std::array::from_fn(|k| match (a[k], b[k]) {
                (Some(x), Some(y)) => Some(x.max(y)),
                _ => None,
            })
        };
        StanceCalls {
            article: pick(self.article, other.article),
            reply: pick(self.reply, other.reply),
            note: self.note.clone().or_else(|| other.note.clone()),
        }
    }

    /// Sets every score's asserted labels from its probabilities.
    pub fn apply(&self, scores: &mut [Scores]) {
        for s in scores {
            s.stance_call = s.stance.and_then(|p| call(&p, &self.article));
            s.reply_call = s.reply.and_then(|p| call(&p, &self.reply));
        }
    }
}

/// The asserted class of `p` under `taus`: the most likely class where its probability
/// reaches its threshold, else `None` (unclear).
pub fn call(p: &[f32; 3], taus: &Taus) -> Option<usize> {
    let c = super::heads::argmax(p);
    taus[c].filter(|t| p[c] >= *t).map(|_| c)
}

/// The label written for an asserted class (`labels[c]`) or [`UNCLEAR`].
pub fn label(c: Option<usize>, labels: &[&'static str; 3]) -> &'static str {
    c.map_or(UNCLEAR, |c| labels[c])
}

/// Reads a label written by [`label`] back: `Some(None)` for unclear, `None` for a word that
/// is neither one of `labels` nor [`UNCLEAR`].
pub fn parse(s: &str, labels: &[&'static str; 3]) -> Option<Option<usize>> {
    if s == UNCLEAR {
        return Some(None);
    }
    labels.iter().position(|l| *l == s).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::models::describe_cached;

    #[test]
    fn asserts_only_at_or_above_the_threshold_of_the_most_likely_class() {
        let t: Taus = [Some(0.6), None, Some(0.5)];
        assert_eq!(call(&[0.6, 0.3, 0.1], &t), Some(0));
        assert_eq!(call(&[0.59, 0.3, 0.11], &t), None);
        // against is never asserted, however sure
        assert_eq!(call(&[0.01, 0.98, 0.01], &t), None);
        assert_eq!(call(&[0.2, 0.3, 0.5], &t), Some(2));
        // favor at 0.45 is below its threshold even though none's would pass
        assert_eq!(call(&[0.45, 0.05, 0.5], &t), Some(2));
        assert_eq!(call(&[0.45, 0.10, 0.45], &t), None);
    }

    #[test]
    fn labels_round_trip() {
        let l = super::super::heads::STANCE_LABELS;
        for c in [None, Some(0), Some(1), Some(2)] {
            assert_eq!(parse(label(c, &l), &l), Some(c));
        }
        assert_eq!(parse("maybe", &l), None);
    }

    #[test]
    fn missing_file_or_other_model_files_leave_everything_unclear() {
        let dir = tempfile::tempdir().unwrap();
        let c = StanceCalls::load(
            &HeadsFiles::read(dir.path()).unwrap(),
            ArticleModel::OnePass,
        );
        assert_eq!((c.article, c.reply), ([None; 3], [None; 3]));
        assert!(c.note.unwrap().contains("no stance thresholds"));

        for f in ARTICLE_ONE_PASS_FILES.iter().chain(&REPLY_FILES) {
            std::fs::write(dir.path().join(f), f.as_bytes()).unwrap();
        }
        let hash = |f: &str| describe_cached(&dir.path().join(f)).unwrap().sha256_12;
        let json = |reply_hash: &str| {
            format!(
                r#"{{"fitted_for": {{"encoder-lora.safetensors": "{}", "heads.safetensors": "{}",
                   "stance-reply-lora.safetensors": "{}", "stance-reply-heads.safetensors": "{}"}},
                   "article_embedding": {{"tau": {{"favor": 0.7, "against": null, "none": 0.5}}}},
                   "article_pair": {{"tau": {{"favor": 0.9, "against": 0.9, "none": 0.9}}}},
                   "reply": {{"tau": {{"agree": 0.8, "disagree": null, "neutral": 0.6}}}}}}"#,
                hash("encoder-lora.safetensors"),
                hash("heads.safetensors"),
                reply_hash,
                hash("stance-reply-heads.safetensors")
            )
        };
        let right = hash("stance-reply-lora.safetensors");
        std::fs::write(dir.path().join(CALLS_FILE), json(&right)).unwrap();
        let c = StanceCalls::load(
            &HeadsFiles::read(dir.path()).unwrap(),
            ArticleModel::OnePass,
        );
        assert_eq!(c.article, [Some(0.7), None, Some(0.5)]);
        assert_eq!(c.reply, [Some(0.8), None, Some(0.6)]);
        assert_eq!(c.note, None);
        // the pair model's files are not installed here: its thresholds are not used
        let c = StanceCalls::load(&HeadsFiles::read(dir.path()).unwrap(), ArticleModel::Pair);
        assert_eq!(c.article, [None; 3]);
        assert!(c.note.unwrap().contains("stance-pair-lora.safetensors"));

        std::fs::write(dir.path().join(CALLS_FILE), json("0123456789ab")).unwrap();
        let c = StanceCalls::load(
            &HeadsFiles::read(dir.path()).unwrap(),
            ArticleModel::OnePass,
        );
        assert_eq!((c.article[0], c.reply), (Some(0.7), [None; 3]));
        assert!(c.note.unwrap().contains("stance-reply-lora.safetensors"));
    }
}
