//! Readers for the labelled *comment* sets of `../shared/data` (news-site, Reddit, Wikipedia
//! talk, YouTube and forum comments), which Model v2 adds to the tweets and review sentences
//! of `datasets.rs`. They exist because a model that has seen clean comments only as tweets
//! and reviews learns that long news-comment prose is toxic.
//!
//! Each reader maps its set's labels onto the seven Perspective attributes and labels **only the
//! cells the set really labels**: an unlabelled cell (`None`) counts in no loss and no figure.
//! Every mapping is written beside its reader and in models/README.md. Two whole sources are
//! never trained on, so the card can say how the model does on outlets it has never seen:
//! Kaggle's insult comments (2012 news and forum commentary) and YouToxic (YouTube comments on
//! news videos). Official test splits (CAD, ToxiChat, GoEmotions dev) are test rows only.

use std::path::Path;

use super::datasets::{
    col, err, lines, map_of, read_lossy, AttrExample, AttrLabels, ClassExample, DataError, Split,
    ATTRS,
};
#[cfg(test)]
use super::datasets::{IDENTITY, INSULT, TOX};
use super::label_maps::{LabelMaps, SetMap, Values};

/// Sources held out whole: never trained on, never used to choose anything.
pub const HELD_OUT_SOURCES: [&str; 2] = ["kaggle-insults", "youtoxic"];

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn fraction(s: Option<&str>) -> Option<f32> {
    s.and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(0.0, 1.0))
}

fn flag(s: Option<&str>) -> Option<f32> {
    match s.map(str::trim) {
        Some("1") | Some("1.0") | Some("True") | Some("true") => Some(1.0),
        Some("0") | Some("0.0") | Some("False") | Some("false") => Some(0.0),
        _ => None,
    }
}

/// The column-mapped cells of a set ([`SetMap::columns`]), found in `h` (`alias` renames a
/// column where one file of the set calls it otherwise).
struct Columns {
    values: Values,
    cols: Vec<(usize, usize, Option<usize>)>,
}

impl Columns {
    fn new(
        m: &SetMap,
        h: &csv::StringRecord,
        p: &Path,
        alias: &[(&str, &str)],
    ) -> Result<Columns, DataError> {
        let find = |name: &str| {
            let name = alias
                .iter()
                .find(|(from, _)| *from == name)
                .map_or(name, |(_, to)| *to);
            col(h, name, p)
        };
        let mut cols = Vec::new();
        for (k, c, fallback) in m.columns() {
            cols.push((k, find(c)?, fallback.map(find).transpose()?));
        }
        Ok(Columns {
            values: m.values.unwrap_or(Values::Flag),
            cols,
        })
    }

    /// The row's labels: each mapped column's cell (its fallback's where empty).
    fn labels(&self, rec: &csv::StringRecord) -> AttrLabels {
        let mut out = [None; ATTRS];
        for &(k, c, fallback) in &self.cols {
            let v = match self.values {
                Values::Fraction => fraction(rec.get(c)),
                Values::Flag => flag(rec.get(c)),
            };
            out[k] = v.or_else(|| fallback.and_then(|f| flag(rec.get(f))));
        }
        out
    }
}

/// All comment sets for the toxicity attributes, training and held-out rows together (each
/// row's `split` says which).
/// Labels come from `maps` (`models/recipes/maps/labels.toml`).
pub fn toxicity_comments(data: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let dir = data.join("toxicity");
    let mut out = Vec::new();
    out.extend(civil_comments_samples(
        &dir.join("civil-comments-samples"),
        maps,
    )?);
    out.extend(jigsaw_and_civil_more(
        &dir.join("jigsaw-and-civil-more"),
        maps,
    )?);
    out.extend(cad(&dir.join("cad-reddit"), maps)?);
    out.extend(ruddit(&dir.join("ruddit"), maps)?);
    out.extend(toxichat(&dir.join("toxichat-reddit"), maps)?);
    out.extend(context_wiki(&dir.join("context-toxicity-wiki"), maps)?);
    out.extend(stormfront(&dir.join("stormfront-forum"), maps)?);
    out.extend(kaggle_insults(&dir.join("kaggle-insults"), maps)?);
    out.extend(youtoxic(&dir.join("youtoxic-news-videos"), maps)?);
    Ok(out)
}

/// Civil Comments samples: the seven Perspective attributes as rater fractions, used as soft
/// targets, so a score means the share of readers who would call the comment that. The
/// 200-row binary seed labels toxicity only (toxic → 1, not toxic → 0).
fn civil_comments_samples(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out = Vec::new();
    for file in [
        "train_sample_4900_attributes.csv",
        "sample_1000_attributes.csv",
    ] {
        let p = dir.join(file);
        let text = read_lossy(&p)?;
        let mut rdr = csv_reader(&text);
        let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
        let t = col(&h, "text", &p)?;
        let cols = Columns::new(map_of(maps, "civil-comments", &p)?, &h, &p, &[])?;
        for rec in rdr.records().flatten() {
            let Some(text) = rec.get(t).filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            let labels = cols.labels(&rec);
            if labels[0].is_some() {
                out.push(AttrExample::new(text.to_string(), labels, "civil-comments"));
            }
        }
    }
    let p = dir.join("sample_200_binary.csv");
    let binary = map_of(maps, "civil-comments-binary", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    for rec in rdr.records().flatten() {
        let label = rec.get(1).map(str::trim);
        let Some(labels) = binary.by_labels(|l| label == Some(l)) else {
            continue;
        };
        if let Some(text) = rec.get(0) {
            out.push(AttrExample::new(
                text.to_string(),
                labels,
                "civil-comments-binary",
            ));
        }
    }
    Ok(out)
}

/// Jigsaw's Wikipedia talk rows with their six labels (toxic → toxicity, severe_toxic →
/// severe_toxicity, obscene, threat, insult, identity_hate → identity_attack; an empty cell is
/// unlabelled) and the Civil Comments train rows (the toxicity fraction where kept, else the
/// source's 0/1). Jigsaw says nothing about sexual content.
fn jigsaw_and_civil_more(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out = Vec::new();
    let p = dir.join("wikipedia_talk_train_rows.csv");
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let t = col(&h, "text", &p)?;
    let cols = Columns::new(map_of(maps, "jigsaw-wikipedia", &p)?, &h, &p, &[])?;
    for rec in rdr.records().flatten() {
        let Some(text) = rec.get(t).filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        let labels = cols.labels(&rec);
        if labels[0].is_some() {
            out.push(AttrExample::new(
                text.to_string(),
                labels,
                "jigsaw-wikipedia",
            ));
        }
    }
    let p = dir.join("civil_comments_train_rows.csv");
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let t = col(&h, "text", &p)?;
    let cols = Columns::new(map_of(maps, "civil-comments-more", &p)?, &h, &p, &[])?;
    for rec in rdr.records().flatten() {
        let Some(text) = rec.get(t).filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        let labels = cols.labels(&rec);
        if labels.iter().any(Option::is_some) {
            out.push(AttrExample::new(
                text.to_string(),
                labels,
                "civil-comments-more",
            ));
        }
    }
    Ok(out)
}

/// CAD (Reddit, expert-annotated in context). Neutral → toxicity, insult, threat,
/// identity_attack and severe_toxicity 0 (obscene and sexual unlabelled: CAD allows profanity
/// that is not abuse); PersonDirectedAbuse → toxicity 1, insult 1; IdentityDirectedAbuse →
/// toxicity 1, identity_attack 1; AffiliationDirectedAbuse → toxicity 1; CounterSpeech (not
/// abusive, but often sharp) → toxicity 0 only. The official test split is test rows only.
fn cad(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let map = map_of(maps, "cad", dir)?;
    let mut out = Vec::new();
    for (file, test) in [
        ("cad_v1_1_train.tsv", false),
        ("cad_v1_1_dev.tsv", false),
        ("cad_v1_1_test.tsv", true),
    ] {
        let p = dir.join(file);
        for line in lines(&p)?.into_iter().skip(1) {
            let mut parts = line.split('\t');
            let (Some(_id), Some(text), Some(labels)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let text = text.replace("[linebreak]", "\n").trim().to_string();
            if text.is_empty() || text == "[deleted]" || text == "[removed]" {
                continue;
            }
            let set: Vec<&str> = labels.split(',').map(str::trim).collect();
            let Some(labels) = map.by_labels(|n| set.contains(&n)) else {
                continue;
            };
            out.push(if test {
                AttrExample::test(text, labels, "cad")
            } else {
                AttrExample::new(text, labels, "cad")
            });
        }
    }
    Ok(out)
}

/// Ruddit (graded offensiveness, −1 supportive … 1 offensive): ≤ 0 → toxicity 0; ≥ 0.5 →
/// toxicity 1; in between unlabelled (the scale is not a rater fraction). Deleted and removed
/// comments are dropped.
fn ruddit(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let p = dir.join("ruddit_with_text.csv");
    let map = map_of(maps, "ruddit", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let (t, s) = (col(&h, "txt", &p)?, col(&h, "offensiveness_score", &p)?);
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let Some(text) = rec.get(t).map(str::trim) else {
            continue;
        };
        if text.is_empty() || text == "[deleted]" || text == "[removed]" {
            continue;
        }
        let Some(score) = rec.get(s).and_then(|v| v.trim().parse::<f32>().ok()) else {
            continue;
        };
        let Some(labels) = map.by_score(score) else {
            continue;
        };
        out.push(AttrExample::new(text.to_string(), labels, "ruddit"));
    }
    Ok(out)
}

/// ToxiChat human turns (machine-generated replies dropped): Offensive → toxicity 1, Safe →
/// toxicity 0. Official dev and test splits are test rows only.
fn toxichat(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let p = dir.join("toxichat_turns_flat.csv");
    let map = map_of(maps, "toxichat", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let (split, source, t, label) = (
        col(&h, "split", &p)?,
        col(&h, "source", &p)?,
        col(&h, "text", &p)?,
        col(&h, "offense_label", &p)?,
    );
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        if rec.get(source) != Some("reddit_human") {
            continue;
        }
        let Some(labels) = map.by_labels(|l| rec.get(label) == Some(l)) else {
            continue;
        };
        let Some(text) = rec.get(t).map(|s| s.trim().to_string()) else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        out.push(if rec.get(split) == Some("train") {
            AttrExample::new(text, labels, "toxichat")
        } else {
            AttrExample::test(text, labels, "toxichat")
        });
    }
    Ok(out)
}

/// CAT-LARGE (gc, gn) and CAT-SMALL (labelled without the parent): toxic → toxicity.
fn context_wiki(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out = Vec::new();
    // CAT-SMALL calls its label column label_oc.
    for (file, alias) in [
        ("gc.csv", None),
        ("gn.csv", None),
        ("cat_small.csv", Some(("label", "label_oc"))),
    ] {
        let p = dir.join(file);
        let text = read_lossy(&p)?;
        let mut rdr = csv_reader(&text);
        let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
        let t = col(&h, "text", &p)?;
        let alias: Vec<(&str, &str)> = alias.into_iter().collect();
        let cols = Columns::new(map_of(maps, "context-wiki", &p)?, &h, &p, &alias)?;
        for rec in rdr.records().flatten() {
            let labels = cols.labels(&rec);
            let Some(text) = rec.get(t).filter(|_| labels.iter().any(Option::is_some)) else {
                continue;
            };
            if !text.trim().is_empty() {
                out.push(AttrExample::new(text.to_string(), labels, "context-wiki"));
            }
        }
    }
    Ok(out)
}

/// Stormfront sentences: hate → toxicity 1, identity_attack 1; noHate → identity_attack 0 only
/// (the forum's "no hate" sentences are often still insulting or loaded, so they say nothing
/// about the other attributes); relation and idk are dropped.
fn stormfront(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let p = dir.join("stormfront_sentences.csv");
    let map = map_of(maps, "stormfront", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let (t, l) = (col(&h, "text", &p)?, col(&h, "label", &p)?);
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let Some(labels) = map.by_labels(|x| rec.get(l) == Some(x)) else {
            continue;
        };
        if let Some(text) = rec.get(t).filter(|s| !s.trim().is_empty()) {
            out.push(AttrExample::new(text.to_string(), labels, "stormfront"));
        }
    }
    Ok(out)
}

/// Kaggle "Detecting Insults in Social Commentary" (held out whole): Insult → insult only. Its 0
/// means "no insult at a participant", not "clean", so it labels nothing else. The comments are
/// Python string literals (`"…\\n…\\xc2\\xa0…"`) and are unescaped first.
fn kaggle_insults(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let mut out = Vec::new();
    for file in [
        "train.csv",
        "test_with_solutions.csv",
        "impermium_verification_labels.csv",
    ] {
        let p = dir.join(file);
        let text = read_lossy(&p)?;
        let mut rdr = csv_reader(&text);
        let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
        let c = col(&h, "Comment", &p)?;
        let cols = Columns::new(map_of(maps, "kaggle-insults", &p)?, &h, &p, &[])?;
        for rec in rdr.records().flatten() {
            let labels = cols.labels(&rec);
            let Some(raw) = rec.get(c).filter(|_| labels.iter().any(Option::is_some)) else {
                continue;
            };
            let text = unescape_python_literal(raw);
            if !text.trim().is_empty() {
                out.push(AttrExample::test(text, labels, "kaggle-insults"));
            }
        }
    }
    Ok(out)
}

/// `"…"` with Python escapes (`\n`, `\t`, `\\`, `\'`, `\"`, `\xNN` bytes, `\uNNNN`) → text;
/// `\xNN` sequences are bytes of UTF-8 and are decoded together.
pub fn unescape_python_literal(raw: &str) -> String {
    let s = raw.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(ch) = it.next() {
        if ch != '\\' {
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match it.next() {
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('r') => bytes.push(b'\r'),
            Some('x') => {
                let hex: String = (0..2).filter_map(|_| it.next()).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => bytes.push(b),
                    Err(_) => bytes.extend_from_slice(format!("\\x{hex}").as_bytes()),
                }
            }
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| it.next()).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    None => bytes.extend_from_slice(format!("\\u{hex}").as_bytes()),
                }
            }
            Some(other) => {
                let mut buf = [0u8; 4];
                bytes.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            }
            None => bytes.push(b'\\'),
        }
    }
    decode_utf8_or_latin1(&bytes)
        .replace('\u{a0}', " ")
        .trim()
        .to_string()
}

/// Bytes as UTF-8 where they are valid UTF-8, each other byte as Latin-1 (the Kaggle file
/// mixes `\xc2\xa0`, UTF-8, with a lone `\xa0`, Latin-1).
fn decode_utf8_or_latin1(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len()).max(1);
                out.extend(rest[..bad].iter().map(|&b| char::from(b)));
                bytes = &rest[bad..];
            }
        }
    }
}

/// YouToxic (YouTube comments under news videos; held out whole): IsToxic → toxicity,
/// IsAbusive → insult, IsThreat → threat, IsObscene → obscene, IsHatespeech → identity_attack.
fn youtoxic(dir: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let p = dir.join("youtoxic_english_1000.export.csv");
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let t = col(&h, "Text", &p)?;
    let cols = Columns::new(map_of(maps, "youtoxic", &p)?, &h, &p, &[])?;
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let Some(text) = rec.get(t).filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        let labels = cols.labels(&rec);
        if labels.iter().any(Option::is_some) {
            out.push(AttrExample::test(text.to_string(), labels, "youtoxic"));
        }
    }
    Ok(out)
}

/// Jigsaw's identity-term test set (Wikipedia talk; test only): toxic → toxicity.
pub fn identity_terms(data: &Path, maps: &LabelMaps) -> Result<Vec<AttrExample>, DataError> {
    let p = data.join("toxicity/wikipedia-identity-terms/toxicity_nonfuzzed_testset.csv");
    let text = read_lossy(&p)?;
    let mut rdr = csv_reader(&text);
    let h = rdr.headers().map_err(|e| err(&p, e))?.clone();
    let t = col(&h, "comment", &p)?;
    let cols = Columns::new(map_of(maps, "wikipedia-identity-terms", &p)?, &h, &p, &[])?;
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let labels = cols.labels(&rec);
        if let Some(text) = rec.get(t).filter(|_| labels.iter().any(Option::is_some)) {
            out.push(AttrExample::test(
                text.trim().to_string(),
                labels,
                "wikipedia-identity-terms",
            ));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// sentiment

/// Sentiment comment sets: the SemEval-2013…2016 Task 4A pool (tweets; the rows whose text is in
/// TweetEval sentiment val are dropped, so that set stays held out) and GoEmotions' sentiment
/// grouping (Reddit; single-label positive, negative and neutral rows; ambiguous and
/// multi-label rows dropped). GoEmotions dev is test rows only.
pub fn sentiment_comments(data: &Path, maps: &LabelMaps) -> Result<Vec<ClassExample>, DataError> {
    let dir = data.join("sentiment");
    let tweeteval: std::collections::HashSet<String> = super::datasets::sentiment_test(data)?
        .iter()
        .map(|e| super::datasets::normalize(&e.text))
        .collect();
    let mut out = Vec::new();
    let p = dir.join("semeval2017-4a-train/train_2013_2016_dedup.tsv");
    let semeval = map_of(maps, "semeval", &p)?;
    for line in lines(&p)?.into_iter().skip(1) {
        let mut parts = line.split('\t');
        let (Some(_id), Some(label), Some(text)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Some(label) = semeval.class(label.trim()) else {
            continue;
        };
        if text.trim().is_empty() || tweeteval.contains(&super::datasets::normalize(text)) {
            continue;
        }
        out.push(ClassExample::new(text.to_string(), label, "semeval"));
    }
    // group/labels.txt: ambiguous, negative, neutral, positive (ids 0–3).
    for (file, test) in [("train.tsv", false), ("dev.tsv", true)] {
        let p = dir.join("goemotions-reddit/group").join(file);
        let groups = map_of(maps, "goemotions", &p)?;
        for line in lines(&p)? {
            let mut parts = line.split('\t');
            let (Some(text), Some(ids)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(label) = groups.class(ids.trim()) else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            out.push(if test {
                ClassExample {
                    split: Split::Test,
                    ..ClassExample::new(text.to_string(), label, "goemotions-dev")
                }
            } else {
                ClassExample::new(text.to_string(), label, "goemotions")
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_unescape_to_utf8_text() {
        assert_eq!(
            unescape_python_literal(r#""i really don't\xa0 see\nit""#),
            "i really don't  see\nit"
        );
        assert_eq!(
            unescape_python_literal(r#""Holder\xe2\x80\x99s \"DOJ\"""#),
            "Holder\u{2019}s \"DOJ\""
        );
        assert_eq!(
            unescape_python_literal(r#""bad \xZZ end""#),
            "bad \\xZZ end"
        );
        assert_eq!(unescape_python_literal("plain"), "plain");
    }

    #[test]
    fn flags_and_fractions_read_every_spelling_and_reject_others() {
        assert_eq!(flag(Some("True")), Some(1.0));
        assert_eq!(flag(Some("0.0")), Some(0.0));
        assert_eq!(flag(Some("")), None);
        assert_eq!(fraction(Some("1.5")), Some(1.0));
        assert_eq!(fraction(Some("NaN")), None);
    }

    /// Every reader runs on the shared data and labels only the cells its set labels.
    #[test]
    fn comment_sets_read_and_label_only_their_cells() {
        let d = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
        if !d.join("toxicity/civil-comments-samples").is_dir() {
            eprintln!("skipping: ../shared/data comment sets not present");
            return;
        }
        let rows = toxicity_comments(&d, &LabelMaps::committed()).unwrap();
        let count = |s: &str| rows.iter().filter(|r| r.source == s).count();
        assert!(
            count("civil-comments") > 5_500,
            "{}",
            count("civil-comments")
        );
        assert!(count("jigsaw-wikipedia") > 80_000);
        assert!(count("cad") > 20_000);
        assert!(count("kaggle-insults") > 8_000);
        assert_eq!(count("youtoxic"), 1_000);
        for r in &rows {
            if HELD_OUT_SOURCES.contains(&r.source) {
                assert_eq!(r.split, Split::Test, "{}", r.source);
            }
            if r.source == "kaggle-insults" {
                assert!(r
                    .labels
                    .iter()
                    .enumerate()
                    .all(|(k, l)| (k == INSULT) == l.is_some()));
            }
            if r.source == "stormfront" && r.labels[TOX].is_none() {
                assert_eq!(r.labels[IDENTITY], Some(0.0));
            }
            assert!(r.labels.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        }
        // The fractions are kept as soft targets.
        assert!(rows
            .iter()
            .any(|r| r.source == "civil-comments"
                && r.labels[TOX].is_some_and(|v| v > 0.1 && v < 0.9)));
        let sent = sentiment_comments(&d, &LabelMaps::committed()).unwrap();
        assert!(sent.iter().filter(|e| e.source == "semeval").count() > 45_000);
        assert!(sent
            .iter()
            .all(|e| e.source != "goemotions-dev" || e.split == Split::Test));
    }
}
