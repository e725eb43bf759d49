//! The per-comment scores CSV (`threadlens score`) and its extension `comments.csv`
//! (`analyze`: plus `flagged`, `reasons`, `status`, the source's `points`, `kind` and `lang`). Columns are stable and documented in
//! [`SCORE_COLUMNS`]; probabilities are written with 4 decimals so the same input and models
//! give byte-identical files.

use std::io::Write;

use crate::score::calls::label;
use crate::score::heads::{argmax, REPLY_LABELS, SENTIMENT_LABELS, STANCE_LABELS};
use crate::score::scorer::Scores;
use crate::thread::Forest;

/// The scores CSV's columns, in order.
pub const SCORE_COLUMNS: [&str; 27] = [
    "id",
    "thread_id",
    "parent_id",
    "depth",
    "author",
    "sentiment",
    "sentiment_negative",
    "sentiment_neutral",
    "sentiment_positive",
    "toxicity",
    "insult",
    "threat",
    "obscene",
    "identity_attack",
    "severe_toxicity",
    "sexual_explicit",
    "stance",
    "stance_favor",
    "stance_against",
    "stance_none",
    "stance_source",
    "reply_stance",
    "reply_agree",
    "reply_disagree",
    "reply_neutral",
    "model",
    "text",
];

/// The columns `analyze` appends to [`SCORE_COLUMNS`] in `comments.csv`.
pub const FLAG_COLUMNS: [&str; 10] = [
    "flagged",
    "reasons",
    "status",
    "points",
    "kind",
    "lang",
    "time",
    "time_raw",
    "permalink",
    "quoted",
];

/// Per-comment extras that `analyze` appends: `flagged`, `reasons` and `status` (then, from the
/// comment and the scorer: `points`, the votes the source showed; `kind`, comment, pingback,
/// trackback or collapsed; `lang`, the language the detector found, ISO 639-3, empty where it
/// was unsure; `time`, ISO 8601, and `time_raw`, as the source wrote it; `permalink`;
/// `quoted`, the text a forum post quotes, which is not scored).
pub struct Flags<'a> {
    pub flagged: &'a [bool],
    pub reasons: &'a [Vec<&'static str>],
    /// `Comment::status`: deleted, spam, pending, pingback, trackback, approved, or empty.
    pub status: &'a [&'static str],
}

fn p(v: f32) -> String {
    format!("{v:.4}")
}

/// Writes one row per node. `safe` neutralises spreadsheet formulas in free-text cells.
pub fn write_scores_csv<W: Write>(
    out: W,
    forest: &Forest,
    scores: &[Scores],
    model_id: &str,
    flags: Option<&Flags<'_>>,
    safe: bool,
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = SCORE_COLUMNS.to_vec();
    if flags.is_some() {
        header.extend(FLAG_COLUMNS);
    }
    w.write_record(&header)?;
    let cell = |s: &str| -> String {
        if safe {
            super::safe::cell(s).into_owned()
        } else {
            s.to_string()
        }
    };
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for (i, ((node, c), s)) in forest
        .nodes
        .iter()
        .zip(&forest.comments)
        .zip(scores)
        .enumerate()
    {
        row.clear();
        row.push(cell(&c.id));
        row.push(cell(forest.thread_id(i)));
        row.push(
            node.parent
                .map(|p| cell(&forest.comments[p].id))
                .unwrap_or_default(),
        );
        row.push(node.depth.to_string());
        row.push(cell(c.author.as_deref().unwrap_or("")));
        if s.not_scored {
            // Sentiment (4), toxicity (7), stance (5 with its source), reply stance (4).
            row.extend(std::iter::repeat_n(String::new(), 20));
            row.push(model_id.to_string());
            row.push(cell(&c.text));
            push_flags(&mut row, flags, i, c, s, &cell);
            w.write_record(&row)?;
            continue;
        }
        row.push(SENTIMENT_LABELS[argmax(&s.sentiment)].to_string());
        row.extend(s.sentiment.iter().map(|v| p(*v)));
        row.extend(s.toxicity.iter().map(|v| p(*v)));
        match s.stance {
            Some(st) => {
                row.push(label(s.stance_call, &STANCE_LABELS).to_string());
                row.extend(st.iter().map(|v| p(*v)));
            }
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        row.push(
            match (s.stance, s.stance_inferred) {
                (None, _) => "",
                (Some(_), false) => "model",
                (Some(_), true) => "thread",
            }
            .to_string(),
        );
        match s.reply {
            Some(r) => {
                row.push(label(s.reply_call, &REPLY_LABELS).to_string());
                row.extend(r.iter().map(|v| p(*v)));
            }
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        row.push(model_id.to_string());
        row.push(cell(&c.text));
        push_flags(&mut row, flags, i, c, s, &cell);
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// `analyze`'s extra cells ([`Flags`]) for node `i`, when it writes them.
fn push_flags(
    row: &mut Vec<String>,
    flags: Option<&Flags<'_>>,
    i: usize,
    c: &crate::ingest::Comment,
    s: &Scores,
    cell: &dyn Fn(&str) -> String,
) {
    if let Some(f) = flags {
        row.push(if f.flagged[i] { "1" } else { "0" }.to_string());
        row.push(f.reasons[i].join(" "));
        row.push(f.status[i].to_string());
        row.push(c.points.map(|p| p.to_string()).unwrap_or_default());
        row.push(c.kind.name().to_string());
        row.push(s.lang.unwrap_or_default().to_string());
        for field in [&c.when, &c.time, &c.permalink] {
            row.push(cell(field.as_deref().unwrap_or_default()));
        }
        row.push(cell(c.quoted.as_deref().unwrap_or_default()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Comment, Input};
    use crate::score::heads::TOXICITY_LABELS;

    /// The toxicity columns of `columns`: where `toxicity` starts, as many as the model has.
    fn toxicity_columns<'a>(columns: &[&'a str]) -> (usize, Vec<&'a str>) {
        let at = columns.iter().position(|c| *c == "toxicity").unwrap();
        (at, columns[at..at + TOXICITY_LABELS.len()].to_vec())
    }

    #[test]
    fn toxicity_columns_are_the_model_attributes_in_order() {
        let (at, cols) = toxicity_columns(&SCORE_COLUMNS);
        assert_eq!(cols, TOXICITY_LABELS);
        assert_eq!(
            (SCORE_COLUMNS[at - 1], SCORE_COLUMNS[at + cols.len()]),
            ("sentiment_positive", "stance")
        );
        let (at, cols) = toxicity_columns(&crate::report::QUEUE_COLUMNS);
        assert_eq!(cols, TOXICITY_LABELS);
        assert_eq!(crate::report::QUEUE_COLUMNS[at + cols.len()], "parent_id");
    }

    #[test]
    fn each_toxicity_score_lands_in_its_column() {
        let forest = crate::thread::build(Input {
            comments: vec![Comment {
                id: "c1".into(),
                text: "hello".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        let scores = [Scores {
            sentiment: [0.2, 0.6, 0.2],
            toxicity: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
            stance: None,
            ..Default::default()
        }];
        let mut out = Vec::new();
        write_scores_csv(&mut out, &forest, &scores, "m", None, false).unwrap();
        let mut r = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, SCORE_COLUMNS);
        let row = r.records().next().unwrap().unwrap();
        let get = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(get("identity_attack"), "0.5000");
        assert_eq!(get("severe_toxicity"), "0.6000");
        assert_eq!(get("sexual_explicit"), "0.7000");
        assert_eq!(
            (get("stance"), get("model"), get("text")),
            ("", "m", "hello")
        );
    }
}
