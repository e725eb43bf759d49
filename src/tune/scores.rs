//! Reads the per-comment scores CSV written by `threadlens score`, keeping only what tuning
//! needs: the id and the seven toxicity attribute scores. Columns are found by header name,
//! so column order and extra columns do not matter. A row with a missing, non-numeric or
//! out-of-range score, or a repeated id, is rejected with its line. Scores are kept rounded
//! to 4 decimals ([`rounded_score`]), as `threadlens score` writes them and `analyze` compares
//! them, so a file with more decimals tunes the same as the one `score` would have written.

use std::collections::HashMap;
use std::path::Path;

use super::input::{CsvInput, InputError, Rejection};
use super::thresholds::{rounded_score, Attribute};

/// The seven toxicity attributes that have their own score column, in column order (the
/// model's, `crate::score::heads::TOXICITY_LABELS`).
pub const SCORED: [Attribute; 7] = [
    Attribute::Toxicity,
    Attribute::Insult,
    Attribute::Threat,
    Attribute::Obscene,
    Attribute::IdentityAttack,
    Attribute::SevereToxicity,
    Attribute::SexualExplicit,
];

/// The columns a scores file must have, for messages.
const REQUIRED: &str =
    "id, toxicity, insult, threat, obscene, identity_attack, severe_toxicity, sexual_explicit";

/// One comment's toxicity scores, in [`SCORED`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToxicityScores(pub [f64; 7]);

impl ToxicityScores {
    /// The score for an attribute; `flag` is the maximum of the seven.
    pub fn get(&self, a: Attribute) -> f64 {
        match SCORED.iter().position(|&s| s == a) {
            Some(i) => self.0[i],
            None => self.0.iter().copied().fold(0.0, f64::max),
        }
    }
}

/// A scored comment and the line it was read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRow {
    pub line: u64,
    pub scores: ToxicityScores,
}

/// The scores file as read, keyed by comment id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreTable {
    pub rows: HashMap<String, ScoreRow>,
    pub rejected: Vec<Rejection>,
}

/// The column of each scored attribute. A header with the Model v1 columns but not the two
/// that Model v2 added comes from an older `threadlens score`, and the message says so.
fn score_columns(input: &CsvInput) -> Result<[usize; SCORED.len()], InputError> {
    let mut cols = [0usize; SCORED.len()];
    for (slot, a) in cols.iter_mut().zip(SCORED) {
        *slot = match input.columns.get(a.name()) {
            Some(&c) => c,
            None if is_v2(a) && input.columns.contains_key("identity_attack") => {
                return Err(InputError::Invalid {
                    path: input.path.clone(),
                    message: format!(
                        "the header has no `{a}` column (found: {}): written before Model v2 added severe_toxicity and sexual_explicit; score the comments again with `threadlens score`",
                        input.names.join(", ")
                    ),
                });
            }
            None => input.require(a.name())?,
        };
    }
    Ok(cols)
}

/// Whether Model v2 added this attribute's column.
fn is_v2(a: Attribute) -> bool {
    matches!(a, Attribute::SevereToxicity | Attribute::SexualExplicit)
}

/// Reads a scores CSV from `path` (`-` for stdin).
pub fn read_scores(path: &Path) -> Result<ScoreTable, InputError> {
    let mut input = CsvInput::open(path, REQUIRED)?;
    let id_col = input.require("id")?;
    let cols = score_columns(&input)?;
    let mut table = ScoreTable::default();
    let mut record = csv::StringRecord::new();
    while let Some(next) = input.next_record(&mut record)? {
        let line = match next {
            Ok(line) => line,
            Err(rejection) => {
                table.rejected.push(rejection);
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
            table.rejected.push(reject("the id is empty".into()));
            continue;
        }
        if let Some(first) = table.rows.get(&id) {
            let reason = format!("id '{id}' repeats the row on line {}", first.line);
            table.rejected.push(reject(reason));
            continue;
        }
        // A row left unscored on purpose (a pingback: every score cell empty) is no score.
        if cols
            .iter()
            .all(|&c| record.get(c).unwrap_or("").trim().is_empty())
        {
            continue;
        }
        let mut scores = [0.0; SCORED.len()];
        let mut bad = None;
        for ((slot, &col), a) in scores.iter_mut().zip(&cols).zip(SCORED) {
            let raw = record.get(col).unwrap_or("").trim();
            match raw.parse::<f64>() {
                // As a model score (f32), shown with 4 decimals: identical for 4-decimal text.
                Ok(v) if (0.0..=1.0).contains(&v) => *slot = rounded_score(v as f32),
                _ => {
                    bad = Some(format!(
                        "id '{id}': {a} is {raw:?}, expected a number from 0 to 1"
                    ));
                    break;
                }
            }
        }
        match bad {
            Some(reason) => table.rejected.push(reject(reason)),
            None => {
                let row = ScoreRow {
                    line,
                    scores: ToxicityScores(scores),
                };
                table.rows.insert(id, row);
            }
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const HEADER: &str = "id,thread_id,parent_id,depth,author,sentiment,sentiment_negative,sentiment_neutral,sentiment_positive,toxicity,insult,threat,obscene,identity_attack,severe_toxicity,sexual_explicit,stance,stance_favor,stance_against,stance_none,model,text";

    #[test]
    fn reads_the_score_command_output_and_rejects_bad_rows() {
        let rows = [
            "c1,t1,,0,ann,negative,0.7,0.2,0.1,0.91,0.8,0.05,0.3,0.95,0.4,0.2,none,0.1,0.1,0.8,m,\"you, idiot\"",
            "c2,t1,c1,1,bob,neutral,0.2,0.7,0.1,0.1,0.2,0.0,0.0,0.0,0.0,0.6,none,0.1,0.1,0.8,m,fine",
            "c3,t1,c1,1,bob,neutral,0.2,0.7,0.1,NaN,0.2,0.0,0.0,0.0,0.0,0.0,none,0.1,0.1,0.8,m,x",
            "c4,t1,c1,1,bob,neutral,0.2,0.7,0.1,0.1,1.2,0.0,0.0,0.0,0.0,0.0,none,0.1,0.1,0.8,m,x",
            "c2,t1,c1,1,bob,neutral,0.2,0.7,0.1,0.1,0.2,0.0,0.0,0.0,0.0,0.0,none,0.1,0.1,0.8,m,dup",
            "c5,t1,c1,1,bob,neutral,0.2,0.7,0.1,,0.2,0.0,0.0,0.0,0.0,0.0,none,0.1,0.1,0.8,m,x",
            "c6,t1,c1,1,bob,neutral,0.2,0.7,0.1,0.1,0.2,0.0,0.0,0.0,-0.1,0.0,none,0.1,0.1,0.8,m,x",
        ];
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "{HEADER}\n{}\n", rows.join("\n")).unwrap();
        let t = read_scores(f.path()).unwrap();
        assert_eq!(t.rows.len(), 2);
        let c1 = t.rows["c1"].scores;
        assert_eq!(c1.get(Attribute::Toxicity), 0.91);
        assert_eq!(c1.get(Attribute::IdentityAttack), 0.95);
        assert_eq!(c1.get(Attribute::SevereToxicity), 0.4);
        assert_eq!(c1.get(Attribute::SexualExplicit), 0.2);
        assert_eq!(c1.get(Attribute::Flag), 0.95);
        let c2 = t.rows["c2"].scores;
        assert_eq!(c2.get(Attribute::SexualExplicit), 0.6);
        assert_eq!(
            c2.get(Attribute::Flag),
            0.6,
            "flag is the maximum of all seven"
        );
        assert_eq!(t.rows["c2"].line, 3);
        let reasons: Vec<String> = t
            .rejected
            .iter()
            .map(|r| format!("{}: {}", r.line, r.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "4: id 'c3': toxicity is \"NaN\", expected a number from 0 to 1",
                "5: id 'c4': insult is \"1.2\", expected a number from 0 to 1",
                "6: id 'c2' repeats the row on line 3",
                "7: id 'c5': toxicity is \"\", expected a number from 0 to 1",
                "8: id 'c6': severe_toxicity is \"-0.1\", expected a number from 0 to 1",
            ]
        );
    }

    #[test]
    fn scores_are_rounded_to_4_decimals_like_the_scores_csv() {
        // (text in the file, value used): 4-decimal text is kept as it is; longer text is
        // rounded half to even as `threadlens score` would have printed that f32.
        let cases = [
            ("0.5761", 0.5761),
            ("0.57609999", 0.5761),
            ("0.03125", 0.0312),
            ("0.0938", 0.0938),
            ("1", 1.0),
            ("0.99996", 1.0),
            ("0.00004", 0.0),
        ];
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "id,toxicity,insult,threat,obscene,identity_attack,severe_toxicity,sexual_explicit"
        )
        .unwrap();
        for (i, (text, _)) in cases.iter().enumerate() {
            writeln!(f, "c{i},{text},0,0,0,0,0,{text}").unwrap();
        }
        let t = read_scores(f.path()).unwrap();
        for (i, (text, want)) in cases.iter().enumerate() {
            let s = t.rows[&format!("c{i}")].scores;
            assert_eq!(s.get(Attribute::Toxicity), *want, "{text}");
            assert_eq!(s.get(Attribute::SexualExplicit), *want, "{text}");
        }
    }

    #[test]
    fn a_missing_score_column_is_named() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "id,toxicity,insult,threat,obscene\nc1,0.1,0.1,0.1,0.1\n").unwrap();
        let err = read_scores(f.path()).unwrap_err().to_string();
        assert!(err.ends_with(
            "the header has no `identity_attack` column (found: id, toxicity, insult, threat, obscene)"
        ), "{err}");
        // A scores file written before Model v2 (five attributes) lacks the new columns.
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(
            f,
            "id,toxicity,insult,threat,obscene,identity_attack\nc1,0,0,0,0,0\n"
        )
        .unwrap();
        let err = read_scores(f.path()).unwrap_err().to_string();
        assert!(err.ends_with(
            "the header has no `severe_toxicity` column (found: id, toxicity, insult, threat, obscene, identity_attack): written before Model v2 added severe_toxicity and sexual_explicit; score the comments again with `threadlens score`"
        ), "{err}");
        assert!(
            err.starts_with(&format!("{}: the header", f.path().display())),
            "{err}"
        );
    }
}
