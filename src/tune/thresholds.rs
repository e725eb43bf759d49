//! The thresholds file: the contract between `tune`, which writes it, and `analyze`, which
//! reads it to decide which comments to flag. It is TOML with one optional table per
//! attribute; an attribute without a table uses the documented default in [`DEFAULTS`].
//!
//! A comment is flagged for an attribute when its score is **greater than or equal to** the
//! threshold (`score >= threshold`).
//!
//! ```toml
//! [toxicity]
//! threshold = 0.62
//! objective = "max-f1"
//! precision = 0.84
//! recall = 0.79
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Default thresholds used when the file has no table for an attribute. Perspective users are
/// used to about 0.7–0.8; threat and identity attack are rarer and costlier to miss, so they
/// sit at the lower end.
pub const DEFAULTS: [(Attribute, f64); 6] = [
    (Attribute::Toxicity, 0.8),
    (Attribute::Insult, 0.8),
    (Attribute::Threat, 0.7),
    (Attribute::Obscene, 0.8),
    (Attribute::IdentityAttack, 0.7),
    (Attribute::Flag, 0.8),
];

/// Per-attribute flagging thresholds. TOML, `deny_unknown_fields`, every field documented.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// General toxicity: rude, disrespectful or unreasonable.
    pub toxicity: Option<Threshold>,
    /// Insulting, inflammatory or negative towards a person or group.
    pub insult: Option<Threshold>,
    /// Describes an intention to inflict pain, injury or violence.
    pub threat: Option<Threshold>,
    /// Swear words, curse words, other obscene or profane language.
    pub obscene: Option<Threshold>,
    /// Negative or hateful because of identity (race, religion, gender, orientation…).
    pub identity_attack: Option<Threshold>,
    /// A plain moderate/keep decision; its score is the maximum of the five attributes above.
    pub flag: Option<Threshold>,
}

/// One attribute's threshold and, informationally, how it was chosen.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Flag a comment when its score is >= this value; in [0, 1].
    pub threshold: f64,
    /// How the threshold was chosen, e.g. `max-f1` or `target-precision 0.9` (informational).
    pub objective: Option<String>,
    /// Precision on the labelled sample at this threshold (informational).
    pub precision: Option<f64>,
    /// Recall on the labelled sample at this threshold (informational).
    pub recall: Option<f64>,
    /// F1 on the labelled sample at this threshold (informational).
    pub f1: Option<f64>,
    /// Number of labelled comments the threshold was tuned on (informational).
    pub samples: Option<u64>,
    /// Number of those labelled positive (informational).
    pub positives: Option<u64>,
}

/// An attribute a comment can be flagged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    Toxicity,
    Insult,
    Threat,
    Obscene,
    IdentityAttack,
    Flag,
}

impl Attribute {
    /// All attributes, in file order.
    pub const ALL: [Attribute; 6] = [
        Attribute::Toxicity,
        Attribute::Insult,
        Attribute::Threat,
        Attribute::Obscene,
        Attribute::IdentityAttack,
        Attribute::Flag,
    ];

    /// The name used in CSV columns and TOML tables, e.g. `identity_attack`.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Toxicity => "toxicity",
            Attribute::Insult => "insult",
            Attribute::Threat => "threat",
            Attribute::Obscene => "obscene",
            Attribute::IdentityAttack => "identity_attack",
            Attribute::Flag => "flag",
        }
    }

    /// The attribute with this name, if any.
    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The documented default threshold.
    pub fn default_threshold(self) -> f64 {
        DEFAULTS
            .iter()
            .find(|(a, _)| *a == self)
            .map_or(0.8, |(_, t)| *t)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Attribute {
    type Err = String;
    fn from_str(s: &str) -> Result<Attribute, String> {
        Attribute::from_name(s).ok_or_else(|| format!("unknown attribute '{s}'"))
    }
}

/// Why a thresholds file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThresholdsError {
    #[error("reading {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: line {line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: line {line}: {attribute}.threshold is {value}, but must be between 0 and 1", path.display())]
    OutOfRange {
        path: PathBuf,
        line: usize,
        attribute: Attribute,
        value: f64,
    },
}

/// The file read with spans, so a bad threshold can be reported with its line.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    toxicity: Option<RawThreshold>,
    insult: Option<RawThreshold>,
    threat: Option<RawThreshold>,
    obscene: Option<RawThreshold>,
    identity_attack: Option<RawThreshold>,
    flag: Option<RawThreshold>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    threshold: toml::Spanned<f64>,
    objective: Option<String>,
    precision: Option<f64>,
    recall: Option<f64>,
    f1: Option<f64>,
    samples: Option<u64>,
    positives: Option<u64>,
}

impl Thresholds {
    /// Reads and validates a thresholds file. Errors name the file and the line.
    pub fn load(path: &Path) -> Result<Thresholds, ThresholdsError> {
        let text = std::fs::read_to_string(path).map_err(|source| ThresholdsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Thresholds::parse(&text, path)
    }

    /// Parses the text of a thresholds file; `path` is only used in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Thresholds, ThresholdsError> {
        let raw: RawThresholds = toml::from_str(text).map_err(|e| ThresholdsError::Parse {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: one_line(e.message()),
        })?;
        let mut out = Thresholds::default();
        let fields = [
            (Attribute::Toxicity, raw.toxicity),
            (Attribute::Insult, raw.insult),
            (Attribute::Threat, raw.threat),
            (Attribute::Obscene, raw.obscene),
            (Attribute::IdentityAttack, raw.identity_attack),
            (Attribute::Flag, raw.flag),
        ];
        for (attribute, raw) in fields {
            let Some(raw) = raw else { continue };
            let value = *raw.threshold.get_ref();
            if !(0.0..=1.0).contains(&value) {
                return Err(ThresholdsError::OutOfRange {
                    path: path.to_path_buf(),
                    line: line_of(text, raw.threshold.span().start),
                    attribute,
                    value,
                });
            }
            out.set(
                attribute,
                Some(Threshold {
                    threshold: value,
                    objective: raw.objective,
                    precision: raw.precision,
                    recall: raw.recall,
                    f1: raw.f1,
                    samples: raw.samples,
                    positives: raw.positives,
                }),
            );
        }
        Ok(out)
    }

    /// The file as TOML, with a comment header saying what wrote it and when.
    pub fn to_toml(&self) -> String {
        self.to_toml_with_note(&[])
    }

    /// Like [`Thresholds::to_toml`], with extra comment lines (how the values were chosen,
    /// which attributes were left at their defaults and why).
    pub fn to_toml_with_note(&self, note: &[String]) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "# Flagging thresholds written by threadlens {} `tune` on {}.\n",
            env!("CARGO_PKG_VERSION"),
            utc_now()
        ));
        out.push_str("# A comment is flagged for an attribute when its score >= threshold.\n");
        out.push_str("# Attributes without a table use the defaults:");
        for (a, t) in DEFAULTS {
            out.push_str(&format!(" {a} {t}"));
        }
        out.push_str(".\n# Only `threshold` is used; the other fields record how it was chosen.\n");
        for line in note {
            out.push_str(&format!("# {line}\n"));
        }
        // Serializing plain structs of numbers and strings cannot fail.
        let body = toml::to_string(self).unwrap_or_default();
        if !body.is_empty() {
            out.push('\n');
            out.push_str(&body);
        }
        out
    }

    /// The threshold for an attribute: the file's value or the documented default.
    pub fn get(&self, a: Attribute) -> f64 {
        self.entry(a)
            .as_ref()
            .map_or_else(|| a.default_threshold(), |t| t.threshold)
    }

    /// The table for an attribute, if the file has one.
    pub fn entry(&self, a: Attribute) -> &Option<Threshold> {
        match a {
            Attribute::Toxicity => &self.toxicity,
            Attribute::Insult => &self.insult,
            Attribute::Threat => &self.threat,
            Attribute::Obscene => &self.obscene,
            Attribute::IdentityAttack => &self.identity_attack,
            Attribute::Flag => &self.flag,
        }
    }

    /// Sets (or clears) the table for an attribute.
    pub fn set(&mut self, a: Attribute, value: Option<Threshold>) {
        let slot = match a {
            Attribute::Toxicity => &mut self.toxicity,
            Attribute::Insult => &mut self.insult,
            Attribute::Threat => &mut self.threat,
            Attribute::Obscene => &mut self.obscene,
            Attribute::IdentityAttack => &mut self.identity_attack,
            Attribute::Flag => &mut self.flag,
        };
        *slot = value;
    }
}

/// A possibly multi-line parser message on one line, without a final period.
fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    parts.join(", ").trim_end_matches('.').to_string()
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`, without a date crate.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Thresholds, ThresholdsError> {
        Thresholds::parse(text, Path::new("t.toml"))
    }

    #[test]
    fn missing_tables_use_documented_defaults() {
        let t = parse("[insult]\nthreshold = 0.55\n").unwrap();
        assert_eq!(t.get(Attribute::Insult), 0.55);
        assert_eq!(t.get(Attribute::Toxicity), 0.8);
        assert_eq!(t.get(Attribute::Threat), 0.7);
        assert_eq!(t.get(Attribute::IdentityAttack), 0.7);
        assert_eq!(Thresholds::default().get(Attribute::Flag), 0.8);
    }

    #[test]
    fn integer_thresholds_are_accepted() {
        let t = parse("[flag]\nthreshold = 1\n").unwrap();
        assert_eq!(t.get(Attribute::Flag), 1.0);
    }

    #[test]
    fn written_file_reads_back_identically() {
        let mut t = Thresholds::default();
        t.set(
            Attribute::IdentityAttack,
            Some(Threshold {
                threshold: 0.123456789,
                objective: Some("target-precision 0.9".into()),
                precision: Some(0.9),
                recall: Some(0.5),
                f1: Some(0.6429),
                samples: Some(300),
                positives: Some(27),
            }),
        );
        let text = t.to_toml_with_note(&["from labels x.csv".into()]);
        assert!(text.starts_with("# Flagging thresholds written by threadlens"));
        assert!(text.contains("# from labels x.csv\n"));
        assert!(text.contains("[identity_attack]"));
        assert_eq!(parse(&text).unwrap(), t);
        assert_eq!(
            parse(&Thresholds::default().to_toml()).unwrap(),
            Thresholds::default()
        );
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let cases = [
            (
                "[toxicity]\nthreshold = 0.5\nthreshhold = 0.4\n",
                "t.toml: line 3: unknown field `threshhold`",
            ),
            (
                "[toxicity]\nthreshold = 0.5\n[insults]\nthreshold = 0.5\n",
                "t.toml: line 3: unknown field `insults`",
            ),
            (
                "[threat]\nobjective = \"x\"\n",
                "t.toml: line 1: missing field `threshold`",
            ),
            (
                "[threat]\nthreshold = \"high\"\n",
                "t.toml: line 2: invalid type",
            ),
            (
                "\n[obscene]\nthreshold = 1.5\n",
                "t.toml: line 3: obscene.threshold is 1.5, but must be between 0 and 1",
            ),
            (
                "[flag]\nthreshold = -0.1\n",
                "t.toml: line 2: flag.threshold is -0.1",
            ),
            (
                "[flag]\nthreshold = nan\n",
                "t.toml: line 2: flag.threshold is NaN",
            ),
            ("[flag\n", "t.toml: line 1:"),
        ];
        for (text, want) in cases {
            let got = parse(text).unwrap_err().to_string();
            assert!(
                got.starts_with(want),
                "{text:?}: got {got:?}, want {want:?}"
            );
            assert!(!got.contains('\n'), "{got:?} spans lines");
        }
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let err = Thresholds::load(Path::new("/nonexistent/t.toml")).unwrap_err();
        assert_eq!(err.to_string(), "reading /nonexistent/t.toml");
    }

    #[test]
    fn attribute_names_round_trip() {
        for a in Attribute::ALL {
            assert_eq!(a.name().parse::<Attribute>(), Ok(a));
        }
        assert_eq!(Attribute::IdentityAttack.name(), "identity_attack");
        assert!("identity-attack".parse::<Attribute>().is_err());
    }

    #[test]
    fn utc_now_looks_like_a_date() {
        let s = utc_now();
        assert_eq!(s.len(), "2026-01-31 12:00 UTC".len(), "{s}");
        assert!(s.starts_with("20"), "{s}");
    }
}
