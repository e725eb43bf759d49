//! Scores files back into scores: a cluster runs `threadlens score -` per partition, and
//! `threadlens merge` rebuilds `analyze`'s reports from those outputs without scoring again.
//! This module reads the per-partition scores CSVs (the columns [`super::scores`] writes),
//! and joins them by id to the forest of the whole input, so the reports are written by the
//! same code as `analyze`'s from the same kind of data: one scoring path, one report path.
//!
//! What the scores files cannot carry (articles, moderation status, the integrity report) comes
//! from the input, which is only read and threaded here. The join is strict: every comment of
//! the input must have exactly one row, every row must be a comment of the input, and all rows
//! must come from one model; a missing partition or one given twice is an error, not a smaller
//! report. A row whose reply structure (thread_id, parent_id, depth) differs from the whole
//! input's was scored in a partition that did not hold its whole thread; it is listed in
//! [`Merged::restructured`] for the caller to warn about (only the pair model's reply stance
//! depends on that structure; the reports take the structure from the input).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::score::heads::{ATTRIBUTES, REPLY_LABELS, STANCE_LABELS};
use crate::score::scorer::Scores;
use crate::thread::Forest;
use crate::tune::input::{CsvInput, InputError};

/// Why the scores files could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("reading the folder {}", path.display())]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no scores files in this folder (files whose names start with _ or . are skipped)", path.display())]
    EmptyFolder { path: PathBuf },
    #[error("{}: line {line}: {reason}", path.display())]
    Record {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("id '{id}' is in {first} and again in {second}: a partition's output given twice?")]
    Repeated {
        id: String,
        first: String,
        second: String,
    },
    #[error("{count} comments of the input have no row in the scores files (first: {examples}): was every partition's output given?")]
    Missing { count: usize, examples: String },
    #[error("{count} rows of the scores files are not comments of the input (first: {examples}): were these scores made from this input, with the same column flags?")]
    Unknown { count: usize, examples: String },
    #[error("the scores come from {models}: score every partition with the same models")]
    Models { models: String },
    #[error("{count} rows of the scores files hold another text than the input's comment with the same id (first: {examples}): were these scores made from this input?")]
    TextDiffers { count: usize, examples: String },
}

/// The scores of every comment of a forest, read from scores files.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// In node order, as `pipeline::score_forest` returns them.
    pub scores: Vec<Scores>,
    /// The `model` column every row shares (empty when the input has no comments).
    pub model_id: String,
    /// The scores files read (folders expanded).
    pub files: Vec<PathBuf>,
    /// Ids whose row's thread_id, parent_id or depth differ from the whole input's.
    pub restructured: Vec<String>,
}

/// One row of a scores file, as far as merging needs it.
#[derive(Debug, Clone)]
struct Row {
    /// Index into `Merged::files`, and the line, for messages.
    file: usize,
    line: u64,
    thread_id: String,
    parent_id: String,
    depth: String,
    model: String,
    /// Hashes of the text cell as written and without a spreadsheet-safe apostrophe (files
    /// written to stdout are raw); None where the file has no text column.
    text: Option<[u64; 2]>,
    scores: Scores,
}

fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.trim().hash(&mut h);
    h.finish()
}

/// The files a list of paths names: a folder stands for the files in it, in name order,
/// without the `_SUCCESS` markers and `.crc` files Spark and Hadoop write beside the parts.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MergeError> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let err = |source| MergeError::Folder {
            path: path.clone(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name();
            let hidden = name.to_string_lossy().starts_with(['_', '.']);
            if !hidden && entry.path().is_file() {
                files.push(entry.path());
            }
        }
        if files.is_empty() {
            return Err(MergeError::EmptyFolder { path: path.clone() });
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// Reads the scores files `paths` (folders expanded, `-` for stdin) and joins them by id to
/// `forest`, the whole input threaded.
pub fn merge(forest: &Forest, paths: &[PathBuf]) -> Result<Merged, MergeError> {
    let files = expand(paths)?;
    let mut rows: HashMap<String, Row> = HashMap::with_capacity(forest.nodes.len());
    for (k, path) in files.iter().enumerate() {
        read_file(path, k, &files, &mut rows)?;
    }
    let mut models: Vec<(&str, usize)> = Vec::new();
    for row in rows.values() {
        match models.iter_mut().find(|(m, _)| *m == row.model) {
            Some((_, n)) => *n += 1,
            None => models.push((&row.model, 1)),
        }
    }
    if models.len() > 1 {
        models.sort();
        let list: Vec<String> = models
            .iter()
            .map(|(m, n)| format!("model {m} ({n} rows)"))
            .collect();
        return Err(MergeError::Models {
            models: list.join(", "),
        });
    }
    let model_id = models
        .first()
        .map(|(m, _)| m.to_string())
        .unwrap_or_default();

    let mut merged = Merged {
        scores: Vec::with_capacity(forest.nodes.len()),
        model_id,
        ..Default::default()
    };
    let mut missing = Vec::new();
    let mut other_text = Vec::new();
    for (i, (node, c)) in forest.nodes.iter().zip(&forest.comments).enumerate() {
        let Some(row) = rows.remove(c.id.as_str()) else {
            missing.push(c.id.to_string());
            continue;
        };
        if row.text.is_some_and(|h| !h.contains(&text_hash(&c.text))) {
            other_text.push(c.id.to_string());
        }
        let parent = node.parent.map_or("", |p| forest.comments[p].id.as_str());
        if row.thread_id != forest.thread_id(i)
            || row.parent_id != parent
            || row.depth != node.depth.to_string()
        {
            merged.restructured.push(c.id.to_string());
        }
        // The language is read off the text as the scorer reads it (`score::lang`), so a
        // merged report treats other languages as `analyze` does.
        let mut scores = row.scores;
        if !scores.not_scored {
            scores.lang = crate::score::lang::detect(&c.text);
        }
        merged.scores.push(scores);
    }
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            count: missing.len(),
            examples: examples(missing),
        });
    }
    if !other_text.is_empty() {
        return Err(MergeError::TextDiffers {
            count: other_text.len(),
            examples: examples(other_text),
        });
    }
    if !rows.is_empty() {
        let mut unknown: Vec<(usize, u64, String)> = rows
            .into_iter()
            .map(|(id, r)| (r.file, r.line, id))
            .collect();
        unknown.sort();
        return Err(MergeError::Unknown {
            count: unknown.len(),
            examples: examples(unknown.into_iter().map(|(_, _, id)| id).collect()),
        });
    }
    merged.files = files;
    Ok(merged)
}

/// The first few ids, quoted, for a message.
fn examples(ids: Vec<String>) -> String {
    let n = ids.len();
    let mut s: Vec<String> = ids
        .into_iter()
        .take(5)
        .map(|id| format!("'{id}'"))
        .collect();
    if n > 5 {
        s.push("…".into());
    }
    s.join(", ")
}

/// The probability columns, in [`Scores`] order: sentiment, the toxicity attributes, stance,
/// reply stance.
const SENTIMENT: [&str; 3] = [
    "sentiment_negative",
    "sentiment_neutral",
    "sentiment_positive",
];
const TOXICITY: [&str; ATTRIBUTES] = crate::score::heads::TOXICITY_LABELS;
const STANCE: [&str; 3] = ["stance_favor", "stance_against", "stance_none"];
const REPLY: [&str; 3] = ["reply_agree", "reply_disagree", "reply_neutral"];

/// Where each column merging reads sits in a file's header.
struct Columns {
    id: usize,
    thread_id: usize,
    parent_id: usize,
    depth: usize,
    model: usize,
    stance_source: usize,
    text: Option<usize>,
    sentiment: [usize; 3],
    toxicity: [usize; ATTRIBUTES],
    stance: [usize; 3],
    reply: [usize; 3],
    /// The asserted labels (`stance`, `reply_stance`: a label, `unclear` or empty).
    stance_call: usize,
    reply_call: usize,
}

impl Columns {
    fn find(input: &CsvInput) -> Result<Columns, InputError> {
        let all = |names: &[&str]| -> Result<Vec<usize>, InputError> {
            names.iter().map(|n| input.require(n)).collect()
        };
        let three = |names: &[&str; 3]| -> Result<[usize; 3], InputError> {
            let v = all(names)?;
            Ok([v[0], v[1], v[2]])
        };
        let (id, thread_id) = (input.require("id")?, input.require("thread_id")?);
        let (parent_id, depth) = (input.require("parent_id")?, input.require("depth")?);
        let tox = all(&TOXICITY)?;
        Ok(Columns {
            id,
            thread_id,
            parent_id,
            depth,
            model: input.require("model")?,
            stance_source: input.require("stance_source")?,
            text: input.columns.get("text").copied(),
            sentiment: three(&SENTIMENT)?,
            toxicity: std::array::from_fn(|k| tox[k]),
            stance: three(&STANCE)?,
            reply: three(&REPLY)?,
            stance_call: input.require("stance")?,
            reply_call: input.require("reply_stance")?,
        })
    }
}

/// Reads one scores file into `rows`; `k` is its index in `files`.
fn read_file(
    path: &Path,
    k: usize,
    files: &[PathBuf],
    rows: &mut HashMap<String, Row>,
) -> Result<(), MergeError> {
    let expected = crate::report::scores::SCORE_COLUMNS.join(", ");
    let mut input = CsvInput::open(path, &expected)?;
    let cols = Columns::find(&input)?;
    let header = input.names.clone();
    let mut record = csv::StringRecord::new();
    while let Some(next) = input.next_record(&mut record)? {
        let line = next.map_err(|r| MergeError::Record {
            path: r.path,
            line: r.line,
            reason: r.reason,
        })?;
        // Partitions concatenated into one file repeat the header; a data row never equals it
        // (its depth is a number).
        if record
            .iter()
            .map(str::trim)
            .eq(header.iter().map(String::as_str))
        {
            continue;
        }
        let bad = |reason: String| MergeError::Record {
            path: path.to_path_buf(),
            line,
            reason,
        };
        // Cells as `threadlens score` wrote them, without the apostrophe of a safe file.
        let get = |c: usize| crate::report::safe::original(record.get(c).unwrap_or("").trim());
        let id = get(cols.id).to_string();
        if id.is_empty() {
            return Err(bad("the id is empty".into()));
        }
        let prob = |c: usize| -> Result<f32, MergeError> {
            let raw = get(c);
            match raw.parse::<f32>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
                _ => Err(bad(format!(
                    "id '{id}': {} is {raw:?}, expected a number from 0 to 1",
                    header[c]
                ))),
            }
        };
        // Stance and reply stance are three numbers or three empty cells (no target, a root).
        let optional = |cs: [usize; 3]| -> Result<Option<[f32; 3]>, MergeError> {
            if cs.iter().all(|&c| get(c).is_empty()) {
                return Ok(None);
            }
            Ok(Some([prob(cs[0])?, prob(cs[1])?, prob(cs[2])?]))
        };
        // The label the scoring run asserted: one of `labels`, `unclear`, or empty with no
        // probabilities.
        let call = |c: usize, labels: &[&'static str; 3], present: bool| {
            let raw = get(c);
            if !present {
                return Ok(None);
            }
            crate::score::calls::parse(raw, labels).ok_or_else(|| {
                bad(format!(
                    "id '{id}': {} is {raw:?}, expected one of {}, {}",
                    header[c],
                    labels.join(", "),
                    crate::score::calls::UNCLEAR
                ))
            })
        };
        // A row left unscored on purpose (a pingback) has every score cell empty.
        let unscored = cols
            .sentiment
            .iter()
            .chain(&cols.toxicity)
            .all(|&c| get(c).is_empty());
        let scores = if unscored {
            Scores {
                not_scored: true,
                ..Default::default()
            }
        } else {
            let mut scores = Scores {
                sentiment: [
                    prob(cols.sentiment[0])?,
                    prob(cols.sentiment[1])?,
                    prob(cols.sentiment[2])?,
                ],
                stance: optional(cols.stance)?,
                stance_inferred: get(cols.stance_source) == "thread",
                reply: optional(cols.reply)?,
                ..Default::default()
            };
            scores.stance_call = call(cols.stance_call, &STANCE_LABELS, scores.stance.is_some())?;
            scores.reply_call = call(cols.reply_call, &REPLY_LABELS, scores.reply.is_some())?;
            for (slot, &c) in scores.toxicity.iter_mut().zip(&cols.toxicity) {
                *slot = prob(c)?;
            }
            scores
        };
        let row = Row {
            file: k,
            line,
            thread_id: get(cols.thread_id).to_string(),
            parent_id: get(cols.parent_id).to_string(),
            depth: get(cols.depth).to_string(),
            model: get(cols.model).to_string(),
            text: cols.text.map(|c| {
                let raw = record.get(c).unwrap_or("");
                [
                    text_hash(raw),
                    text_hash(crate::report::safe::original(raw.trim())),
                ]
            }),
            scores,
        };
        if let Some(first) = rows.get(&id) {
            let place = |file: usize, line: u64| format!("{} line {line}", files[file].display());
            return Err(MergeError::Repeated {
                id,
                first: place(first.file, first.line),
                second: place(k, line),
            });
        }
        rows.insert(id, row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Comment, Input};
    use std::io::Write;

    fn forest(parents: &[(&str, Option<&str>)]) -> Forest {
        let comments = parents
            .iter()
            .map(|(id, p)| Comment {
                id: (*id).into(),
                parent_id: p.map(Into::into),
                text: format!("text of {id}"),
                parent_known: true,
                ..Default::default()
            })
            .collect();
        crate::thread::build(Input {
            comments,
            ..Default::default()
        })
    }

    /// Scores whose toxicity is `tox`, the rest fixed.
    fn scores(tox: f32, reply: bool) -> Scores {
        Scores {
            sentiment: [0.1, 0.7, 0.2],
            toxicity: [tox, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06],
            stance: Some([0.2, 0.3, 0.5]),
            stance_inferred: false,
            reply: reply.then_some([0.6, 0.3, 0.1]),
            // one asserted, one unclear: both read back
            stance_call: Some(2),
            reply_call: None,
            ..Default::default()
        }
    }

    /// The scores CSV of `f` as `threadlens score` writes it.
    fn scores_csv(f: &Forest, s: &[Scores], model: &str) -> String {
        let mut out = Vec::new();
        crate::report::scores::write_scores_csv(&mut out, f, s, model, None, true).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path
    }

    /// A file written from a forest reads back into the same scores (4 decimals), in node
    /// order, whatever order the partitions come in; a header repeated inside a file (two
    /// partitions in one part file) is skipped.
    #[test]
    fn partitions_read_back_into_node_order() {
        let whole = forest(&[
            ("a", None),
            ("b", Some("a")),
            ("=c", None),
            ("d", Some("=c")),
        ]);
        let s: Vec<Scores> = (0..4).map(|i| scores(0.1 * i as f32, i % 2 == 1)).collect();
        // The second thread's partition first, the first's appended after its own header.
        let (first, second) = (
            forest(&whole_ids(&whole, 0..2)),
            forest(&whole_ids(&whole, 2..4)),
        );
        let text = scores_csv(&second, &s[2..], "m1") + &scores_csv(&first, &s[..2], "m1");
        let dir = tempfile::tempdir().unwrap();
        let m = merge(&whole, &[file(dir.path(), "part-0", &text)]).unwrap();
        assert_eq!(m.model_id, "m1");
        assert!(m.restructured.is_empty(), "{:?}", m.restructured);
        for (got, want) in m.scores.iter().zip(&s) {
            assert_eq!(got.toxicity[0], (want.toxicity[0] * 1e4).round() / 1e4);
            assert_eq!(got.stance, want.stance);
            assert_eq!(got.reply, want.reply);
            assert_eq!(
                (got.stance_call, got.reply_call),
                (want.stance_call, want.reply_call)
            );
        }
        assert_eq!(m.scores.len(), 4);
    }

    /// A row written unscored (a pingback: empty score cells) reads back as unscored, not as
    /// a bad record.
    #[test]
    fn unscored_rows_read_back_unscored() {
        let whole = forest(&[("a", None), ("b", Some("a"))]);
        let s = [
            scores(0.3, false),
            Scores {
                not_scored: true,
                ..Default::default()
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let text = scores_csv(&whole, &s, "m1");
        let m = merge(&whole, &[file(dir.path(), "part-0", &text)]).unwrap();
        assert!(!m.scores[0].not_scored && m.scores[1].not_scored);
    }

    /// The (id, parent) pairs of some of a forest's nodes, to build a partition's forest.
    fn whole_ids(f: &Forest, range: std::ops::Range<usize>) -> Vec<(&str, Option<&str>)> {
        range
            .map(|i| {
                (
                    f.comments[i].id.as_str(),
                    f.nodes[i].parent.map(|p| f.comments[p].id.as_str()),
                )
            })
            .collect()
    }

    #[test]
    fn a_folder_reads_its_part_files_and_skips_markers() {
        let dir = tempfile::tempdir().unwrap();
        file(dir.path(), "part-00001", "x");
        file(dir.path(), "part-00000", "x");
        file(dir.path(), "_SUCCESS", "");
        file(dir.path(), ".part-00000.crc", "x");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names: Vec<String> = expand(&[dir.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["part-00000", "part-00001"]);
        let empty = tempfile::tempdir().unwrap();
        file(empty.path(), "_SUCCESS", "");
        assert!(matches!(
            expand(&[empty.path().to_path_buf()]),
            Err(MergeError::EmptyFolder { .. })
        ));
    }

    #[test]
    fn missing_repeated_unknown_rows_and_mixed_models_are_errors() {
        let whole = forest(&[("a", None), ("b", Some("a")), ("c", None)]);
        let s: Vec<Scores> = (0..3).map(|_| scores(0.5, false)).collect();
        let dir = tempfile::tempdir().unwrap();
        let ab = file(
            dir.path(),
            "ab",
            &scores_csv(&forest(&whole_ids(&whole, 0..2)), &s[..2], "m"),
        );
        let c = file(
            dir.path(),
            "c",
            &scores_csv(&forest(&whole_ids(&whole, 2..3)), &s[2..], "m"),
        );
        let c2 = file(
            dir.path(),
            "c2",
            &scores_csv(&forest(&whole_ids(&whole, 2..3)), &s[2..], "n"),
        );
        let extra = forest(&[("c", None), ("z", None)]);
        let cz = file(dir.path(), "cz", &scores_csv(&extra, &s[1..], "m"));

        let err = merge(&whole, std::slice::from_ref(&ab)).unwrap_err();
        assert!(
            matches!(&err, MergeError::Missing { count: 1, examples } if examples == "'c'"),
            "{err}"
        );
        let err = merge(&whole, &[ab.clone(), c.clone(), c.clone()]).unwrap_err();
        assert!(
            matches!(&err, MergeError::Repeated { id, .. } if id == "c"),
            "{err}"
        );
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = merge(&whole, &[ab.clone(), cz]).unwrap_err();
        assert!(
            matches!(&err, MergeError::Unknown { count: 1, examples } if examples == "'z'"),
            "{err}"
        );
        let err = merge(&whole, &[ab.clone(), c2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the scores come from model m (2 rows), model n (1 rows): score every partition with the same models"
        );
        assert_eq!(merge(&whole, &[ab, c]).unwrap().scores.len(), 3);
    }

    /// Issue 34 case 4: the same ids with other texts are scores of another input.
    #[test]
    fn rows_whose_text_differs_from_the_input_are_an_error() {
        let whole = forest(&[("a", None), ("b", Some("a"))]);
        let s: Vec<Scores> = (0..2).map(|_| scores(0.5, false)).collect();
        let dir = tempfile::tempdir().unwrap();
        let same = file(dir.path(), "same", &scores_csv(&whole, &s, "m"));
        assert_eq!(merge(&whole, &[same]).unwrap().scores.len(), 2);
        let mut other = forest(&[("a", None), ("b", Some("a"))]);
        other.comments[1].text = "=another text".into();
        let changed = file(dir.path(), "changed", &scores_csv(&other, &s, "m"));
        let err = merge(&whole, &[changed]).unwrap_err();
        assert!(
            matches!(&err, MergeError::TextDiffers { count: 1, examples } if examples == "'b'"),
            "{err}"
        );
        // A spreadsheet-safe cell ('=…) still matches its input's text.
        let mut formula = forest(&[("a", None), ("b", Some("a"))]);
        formula.comments[1].text = "=SUM(A1)".into();
        let safe = file(dir.path(), "safe", &scores_csv(&formula, &s, "m"));
        assert_eq!(merge(&formula, &[safe]).unwrap().scores.len(), 2);
    }

    /// A reply scored in a partition without its parent was a root there: the reports take
    /// the input's structure, and the row is listed for a warning.
    #[test]
    fn rows_scored_apart_from_their_thread_are_listed() {
        let whole = forest(&[("a", None), ("b", Some("a"))]);
        let s = [scores(0.1, false), scores(0.2, false)];
        let dir = tempfile::tempdir().unwrap();
        let a = file(
            dir.path(),
            "a",
            &scores_csv(&forest(&[("a", None)]), &s[..1], "m"),
        );
        let b = file(
            dir.path(),
            "b",
            &scores_csv(&forest(&[("b", None)]), &s[1..], "m"),
        );
        let m = merge(&whole, &[a, b]).unwrap();
        assert_eq!(m.restructured, ["b"]);
    }

    #[test]
    fn bad_cells_are_located() {
        let whole = forest(&[("a", None)]);
        let good = scores_csv(&whole, &[scores(0.15, false)], "m");
        let dir = tempfile::tempdir().unwrap();
        let bad = good.replacen(",0.1500,", ",1.5,", 1);
        assert_ne!(bad, good);
        let err = merge(&whole, &[file(dir.path(), "x", &bad)]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("x: line 2: id 'a': toxicity is \"1.5\", expected a number from 0 to 1"),
            "{err}"
        );
        let half = good.replacen(",0.2000,0.3000,0.5000,", ",0.2000,,0.5000,", 1);
        assert_ne!(half, good);
        let err = merge(&whole, &[file(dir.path(), "y", &half)]).unwrap_err();
        assert!(err.to_string().contains("stance_against is \"\""), "{err}");
        let err = merge(&whole, &[file(dir.path(), "z", "id,text\na,x\n")]).unwrap_err();
        assert!(err.to_string().contains("no `thread_id` column"), "{err}");
    }
}
