//! Comment–target pairs for the stance pair model (issue 15; trained by `train::pair_model`,
//! scored by `score::pair`), read from `../shared/data/stance` and ToxiChat, with each set's
//! labels mapped as the recipe's label maps say (`models/recipes/maps/labels.toml`; the card's
//! "Stance v2 protocol" describes them). Two tasks:
//! - article stance (the text's stance toward a target: favor 0, against 1, none 2): VAST
//!   train, TweetEval stance train, MT-CSD train, IBM ArgQ train/dev, Perspectrum train/dev,
//!   the NLI pairs (premise toward hypothesis);
//! - reply stance (a reply toward its parent: agree 0, disagree 1, neutral 2): ToxiChat train
//!   and dev, RumourEval's direct replies to the source post (support / deny / other, weaker).
//!
//! Held out: VAST dev, TweetEval stance val, MT-CSD dev, ToxiChat test, RumourEval dev, and the
//! whole of ARC (NYT comments toward claims, never trained on; its test pairs whose comment is
//! also a VAST training comment are left out of the figure). A training pair whose normalised
//! text is in a held-out pair is dropped.

use std::collections::HashSet;
use std::path::Path;

use super::datasets::{err, map_of, normalize, read_lossy, split_of, DataError, Split};
use super::label_maps::LabelMaps;
use crate::score::pair::PairTask;

/// One labelled pair.
#[derive(Debug, Clone)]
pub struct PairExample {
    /// The target (article stance) or the parent comment (reply stance).
    pub first: String,
    /// The comment or reply.
    pub second: String,
    pub task: PairTask,
    /// 0 favor / agree, 1 against / disagree, 2 none / neutral.
    pub label: u8,
    pub source: &'static str,
    pub split: Split,
    /// For rows in reply chains (MT-CSD): (this row's path of ids, its parent's), scoped by
    /// target, to measure the thread rule.
    pub chain: Option<(String, Option<String>)>,
}

impl PairExample {
    fn new(first: &str, second: &str, task: PairTask, label: u8, source: &'static str) -> Self {
        PairExample {
            first: first.trim().to_string(),
            second: second.trim().to_string(),
            task,
            label,
            source,
            split: split_of(second),
            chain: None,
        }
    }

    fn test(self) -> Self {
        PairExample {
            split: Split::Test,
            ..self
        }
    }
}

fn jsonl(path: &Path) -> Result<Vec<serde_json::Value>, DataError> {
    read_lossy(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| err(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or("")
}

/// A CSV file's header and its records (unreadable records are skipped).
fn csv_table(p: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), DataError> {
    let text = read_lossy(p)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().map_err(|e| err(p, e))?.clone();
    Ok((h, rdr.records().flatten().collect()))
}

/// An unquoted tab-separated file's header and its records (rows may have more or fewer cells).
fn tsv_table(p: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), DataError> {
    let text = read_lossy(p)?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let h = rdr.headers().map_err(|e| err(p, e))?.clone();
    Ok((h, rdr.records().flatten().collect()))
}

/// MT-CSD train: Reddit replies → the entity their post is about.
fn mtcsd_train(st: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let p = st.join("mtcsd-reddit/train.jsonl");
    let map = map_of(maps, "mtcsd", &p)?;
    Ok(jsonl(&p)?
        .iter()
        .filter_map(|r| {
            map.stance_of(s(r, "label").trim()).map(|l| {
                PairExample::new(s(r, "target"), s(r, "text"), PairTask::Article, l, "mtcsd")
            })
        })
        .collect())
}

/// Every training and validation pair (test pairs excluded), de-duplicated against the held-out
/// pairs.
pub fn pair_train(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let mut out = Vec::new();
    let st = data.join("stance");
    for e in super::datasets::stance_vast_train(data, maps)? {
        out.push(PairExample::new(
            e.target.as_deref().unwrap_or(""),
            &e.text,
            PairTask::Article,
            e.label as u8,
            "vast",
        ));
    }
    for e in super::datasets::stance_tweeteval(data, "train", maps)? {
        out.push(PairExample::new(
            e.target.as_deref().unwrap_or(""),
            &e.text,
            PairTask::Article,
            e.label as u8,
            "tweeteval-stance",
        ));
    }
    out.extend(mtcsd_train(&st, maps)?);
    out.extend(ibm_argq(
        &st.join("ibm-argq30k/arg_quality_rank_30k.csv"),
        maps,
    )?);
    out.extend(perspectrum(&st.join("perspectrum"), maps)?);
    out.extend(nli(&st.join("nli-pairs/all_pairs_normalized.jsonl"), maps)?);
    out.extend(reply_rows(data, maps)?);
    keep_trainable(&mut out, data, maps)?;
    Ok(out)
}

/// The reply model's pairs (models/README.md, "Amendment stance v2.5"): ToxiChat train (every
/// labelled pair) and RumourEval train (direct replies) for training, ToxiChat dev (every
/// labelled pair) for validation, filtered as [`pair_train`] filters.
pub fn reply_train(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let mut out = reply_rows(data, maps)?;
    keep_trainable(&mut out, data, maps)?;
    Ok(out)
}

/// The reply pairs both [`pair_train`] and [`reply_train`] read, before filtering: ToxiChat
/// train (every labelled pair), ToxiChat dev (validation) and RumourEval train direct replies.
fn reply_rows(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let mut out = toxichat(
        &data.join("toxicity/toxichat-reddit/train.jsonl"),
        "toxichat",
        true,
        maps,
    )?;
    out.extend(toxichat_dev_rows(data, maps)?);
    out.extend(rumoureval(
        &data.join("stance/rumoureval2019/train.jsonl"),
        "rumoureval",
        maps,
    )?);
    Ok(out)
}

/// Drops what never trains or validates: test-split pairs, pairs whose text is in a held-out
/// pair, and pairs with an empty side.
fn keep_trainable(
    rows: &mut Vec<PairExample>,
    data: &Path,
    maps: &LabelMaps,
) -> Result<(), DataError> {
    let held: HashSet<String> = pair_test(data, maps)?
        .iter()
        .map(|e| normalize(&e.second))
        .collect();
    rows.retain(|e| e.split != Split::Test && !held.contains(&normalize(&e.second)));
    rows.retain(|e| !e.first.is_empty() && !e.second.is_empty());
    Ok(())
}

/// The stance v2.1 training stream (`news_mix` in a pair recipe; models/README.md,
/// "Amendment stance v2.1"). VAST (NYT comments toward free-text topics, the closest set to
/// "stance toward this article") is under a fifth of the pairs, so its training rows are added a
/// second time; and, since no set teaches that a comment about something else has no stance
/// toward the target, every 8th VAST comment is also paired with the topic of the VAST row half
/// the list away (a different topic) and labelled none. Each new pair keeps its comment's split.
pub fn news_mix(rows: &mut Vec<PairExample>) {
    let vast: Vec<PairExample> = rows
        .iter()
        .filter(|e| e.source == "vast")
        .cloned()
        .collect();
    let n = vast.len();
    for (i, e) in vast.iter().enumerate() {
        if e.split == Split::Train {
            rows.push(e.clone());
        }
        if i % 8 != 0 {
            continue;
        }
        let other = &vast[(i + n / 2) % n];
        if normalize(&other.first) != normalize(&e.first) {
            rows.push(PairExample {
                first: other.first.clone(),
                label: 2,
                source: "vast-unrelated",
                ..e.clone()
            });
        }
    }
}

/// Held-out headline templates: VAST dev is also measured with its topics set in these
/// (`vast-dev-headline`), which no training pair uses.
pub const HEADLINES_HELD_OUT: [&str; 8] = [
    "Ministers endorse {t}",
    "Both sides welcome {t}",
    "Mayor promises {t}",
    "Agreement reached on {t}",
    "Opinion: it is time for {t}",
    "Council moves forward with {t}",
    "Summit ends with pledge on {t}",
    "Report recommends {t}",
];

/// The held-out lead sentence, after every 2nd held-out headline.
pub const LEAD_HELD_OUT: &str =
    "The decision follows months of discussion, according to a statement.";

/// Held-out headline templates with a person as subject (`vast-dev-headline-named`).
pub const NAMED_HEADLINES_HELD_OUT: [&str; 6] = [
    "{a} endorses {t}",
    "{a} welcomes {t}",
    "{a} promises {t}",
    "{a} vows to pursue {t}",
    "{a} throws weight behind {t}",
    "{a} unveils plan for {t}",
];

/// The people of the held-out named headlines: four that training sets have as targets (and
/// the stance v2.11 candidate as actors), four that no training pair names as actor.
pub const ACTORS_HELD_OUT: [&str; 8] = [
    "Trump",
    "Biden",
    "Hillary Clinton",
    "Elon Musk",
    "Modi",
    "Erdogan",
    "Trudeau",
    "Netanyahu",
];

/// The held-out lead after every 2nd held-out named headline.
pub const NAMED_LEAD_HELD_OUT: &str = "{a} said the decision follows months of discussion.";

/// [`headline`] with `actor` in place of `{a}` in the template and the lead.
pub fn named_headline(template: &str, actor: &str, topic: &str, lead: Option<&str>) -> String {
    let lead = lead.map(|l| l.replace("{a}", actor));
    headline(&template.replace("{a}", actor), topic, lead.as_deref())
}

/// `template` with the topic in place of `{t}`, followed by `lead` (its `{t}` filled too).
pub fn headline(template: &str, topic: &str, lead: Option<&str>) -> String {
    let mut s = template.replace("{t}", topic.trim());
    if let Some(l) = lead {
        s.push_str(". ");
        s.push_str(&l.replace("{t}", topic.trim()));
    }
    s
}

/// The held-out pairs, each set under its own source name.
pub fn pair_test(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let st = data.join("stance");
    let mut out = Vec::new();
    for e in super::datasets::stance_vast_dev(data, maps)? {
        out.push(
            PairExample::new(
                e.target.as_deref().unwrap_or(""),
                &e.text,
                PairTask::Article,
                e.label as u8,
                "vast-dev",
            )
            .test(),
        );
    }
    let in_headlines: Vec<PairExample> = out
        .iter()
        .enumerate()
        .map(|(i, e)| PairExample {
            first: headline(
                HEADLINES_HELD_OUT[i % HEADLINES_HELD_OUT.len()],
                &e.first,
                (i % 2 == 1).then_some(LEAD_HELD_OUT),
            ),
            source: "vast-dev-headline",
            ..e.clone()
        })
        .collect();
    let named: Vec<PairExample> = out
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let j = i / NAMED_HEADLINES_HELD_OUT.len();
            PairExample {
                first: named_headline(
                    NAMED_HEADLINES_HELD_OUT[i % NAMED_HEADLINES_HELD_OUT.len()],
                    ACTORS_HELD_OUT[j % ACTORS_HELD_OUT.len()],
                    &e.first,
                    ((i + j) % 2 == 1).then_some(NAMED_LEAD_HELD_OUT),
                ),
                source: "vast-dev-headline-named",
                ..e.clone()
            }
        })
        .collect();
    out.extend(in_headlines);
    out.extend(named);
    for e in super::datasets::stance_tweeteval(data, "val", maps)? {
        out.push(
            PairExample::new(
                e.target.as_deref().unwrap_or(""),
                &e.text,
                PairTask::Article,
                e.label as u8,
                "tweeteval-stance-val",
            )
            .test(),
        );
    }
    let p = st.join("mtcsd-reddit/dev.jsonl");
    let mtcsd = map_of(maps, "mtcsd", &p)?;
    for r in jsonl(&p)? {
        if let Some(l) = mtcsd.stance_of(s(&r, "label").trim()) {
            let ids: Vec<&str> = r
                .get("ids")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let target = s(&r, "target");
            let path = |n: usize| format!("{target}|{}", ids[..n].join("/"));
            let chain = (!ids.is_empty()).then(|| {
                (
                    path(ids.len()),
                    (ids.len() > 1).then(|| path(ids.len() - 1)),
                )
            });
            let mut e =
                PairExample::new(target, s(&r, "text"), PairTask::Article, l, "mtcsd-dev").test();
            e.chain = chain;
            out.push(e);
        }
    }
    // ARC's comments are NYT comments, and most of VAST train's recur in ARC test: the ARC
    // figure is measured on the ARC test pairs whose comment VAST does not train on.
    let vast: HashSet<String> = super::datasets::stance_vast_train(data, maps)?
        .iter()
        .map(|e| normalize(&e.text))
        .collect();
    out.extend(
        arc(&st.join("arc-nyt-comments"), maps)?
            .into_iter()
            .filter(|e| !vast.contains(&normalize(&e.second)))
            .map(PairExample::test),
    );
    let tc = data.join("toxicity/toxichat-reddit/test.jsonl");
    out.extend(
        toxichat(&tc, "toxichat-test", false, maps)?
            .into_iter()
            .map(PairExample::test),
    );
    out.extend(
        toxichat(&tc, "toxichat-test-all", true, maps)?
            .into_iter()
            .map(PairExample::test),
    );
    out.extend(
        rumoureval(&st.join("rumoureval2019/dev.jsonl"), "rumoureval-dev", maps)?
            .into_iter()
            .map(PairExample::test),
    );
    Ok(out)
}

/// IBM ArgQ-30k: argument → motion by `stance_WA`; its train and dev sets (dev as validation),
/// every second train row (the set is large and one-sided: no "none").
fn ibm_argq(p: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let map = map_of(maps, "ibm-argq", p)?;
    let (h, records) = csv_table(p)?;
    let col = |n: &str| super::datasets::col(&h, n, p);
    let (a, t, set, st) = (
        col("argument")?,
        col("topic")?,
        col("set")?,
        col("stance_WA")?,
    );
    let mut out = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let Some(label) = rec.get(st).and_then(|l| map.stance_of(l.trim())) else {
            continue;
        };
        let split = match rec.get(set) {
            Some("train") if i % 2 == 0 => Split::Train,
            Some("dev") => Split::Validation,
            _ => continue,
        };
        out.push(PairExample {
            split,
            ..PairExample::new(
                rec.get(t).unwrap_or(""),
                rec.get(a).unwrap_or(""),
                PairTask::Article,
                label,
                "ibm-argq",
            )
        });
    }
    Ok(out)
}

/// Perspectrum: perspective → claim; train and dev (dev as validation).
fn perspectrum(dir: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let map = map_of(maps, "perspectrum", dir)?;
    let mut out = Vec::new();
    for (file, split) in [
        ("pairs_train.tsv", Split::Train),
        ("pairs_dev.tsv", Split::Validation),
    ] {
        let p = dir.join(file);
        let (h, records) = tsv_table(&p)?;
        let col = |n: &str| super::datasets::col(&h, n, &p);
        let (c, pe, l) = (col("claim")?, col("perspective")?, col("stance_label_3")?);
        for rec in &records {
            if let Some(label) = rec.get(l).and_then(|l| map.stance_of(l.trim())) {
                out.push(PairExample {
                    split,
                    ..PairExample::new(
                        rec.get(c).unwrap_or(""),
                        rec.get(pe).unwrap_or(""),
                        PairTask::Article,
                        label,
                        "perspectrum",
                    )
                });
            }
        }
    }
    Ok(out)
}

/// NLI pairs: the premise's stance toward the hypothesis, every second pair.
fn nli(p: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let map = map_of(maps, "nli", p)?;
    Ok(jsonl(p)?
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .filter_map(|(_, r)| {
            let l = map.stance_of(s(r, "label").trim())?;
            Some(PairExample::new(
                s(r, "hypothesis"),
                s(r, "premise"),
                PairTask::Article,
                l,
                "nli",
            ))
        })
        .collect())
}

/// ARC (NYT comments toward claims, FNC-1 format): the comment's stance toward the claim, its
/// test split only: the whole set is held out.
fn arc(dir: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let p = dir.join("arc_bodies.csv");
    let text = read_lossy(&p)?;
    let mut bodies = std::collections::HashMap::new();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    for rec in rdr.records().flatten() {
        if let (Some(id), Some(b)) = (rec.get(0), rec.get(1)) {
            bodies.insert(id.to_string(), b.to_string());
        }
    }
    let p = dir.join("arc_stances_test.csv");
    let map = map_of(maps, "arc", &p)?;
    let text = read_lossy(&p)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let (Some(claim), Some(id), Some(stance)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            continue;
        };
        let Some(label) = map.stance_of(stance) else {
            continue;
        };
        if let Some(body) = bodies.get(id) {
            out.push(PairExample::new(
                claim,
                body,
                PairTask::Article,
                label,
                "arc",
            ));
        }
    }
    Ok(out)
}

/// ToxiChat: each turn's stance toward an earlier turn. `all`: every labelled pair, the two
/// machine-written final responses included (as the dataset's authors evaluate); otherwise
/// only human replies toward the turn they answer (the parent).
fn toxichat(
    p: &Path,
    source: &'static str,
    all: bool,
    maps: &LabelMaps,
) -> Result<Vec<PairExample>, DataError> {
    let map = map_of(maps, "toxichat", p)?;
    let mut out = Vec::new();
    for r in jsonl(p)? {
        let thread: Vec<&serde_json::Value> = r
            .get("reddit_thread")
            .and_then(|t| t.as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let text_of = |turn: u64| {
            thread
                .iter()
                .find(|t| t.get("turn_id").and_then(|x| x.as_u64()) == Some(turn))
                .map(|t| s(t, "text"))
        };
        let mut turns: Vec<&serde_json::Value> = thread.clone();
        if all {
            for k in ["final_dgpt_response", "final_gpt3_response"] {
                if let Some(t) = r.get(k) {
                    turns.push(t);
                }
            }
        }
        for t in turns {
            let Some(id) = t.get("turn_id").and_then(|x| x.as_u64()) else {
                continue;
            };
            for earlier in 1..id {
                if !all && earlier + 1 != id {
                    continue;
                }
                let key = format!("stance_label_towards_turn_{earlier}");
                let (Some(l), Some(parent)) = (
                    t.get(&key)
                        .and_then(|x| x.as_str())
                        .and_then(|l| map.reply_of(l)),
                    text_of(earlier),
                ) else {
                    continue;
                };
                out.push(PairExample::new(
                    parent,
                    s(t, "text"),
                    PairTask::Reply,
                    l,
                    source,
                ));
            }
        }
    }
    Ok(out)
}

/// RumourEval 2019: direct replies to the source post (their parent).
fn rumoureval(
    p: &Path,
    source: &'static str,
    maps: &LabelMaps,
) -> Result<Vec<PairExample>, DataError> {
    let map = map_of(maps, "rumoureval", p)?;
    Ok(jsonl(p)?
        .iter()
        .filter(|r| r.get("depth").and_then(|d| d.as_u64()) == Some(1))
        .filter_map(|r| {
            let l = map.reply_of(s(r, "label"))?;
            Some(PairExample::new(
                s(r, "parent_text"),
                s(r, "text"),
                PairTask::Reply,
                l,
                source,
            ))
        })
        .collect())
}

/// ToxiChat's dev turns as reply pairs toward their previous turn, filtered as in
/// [`pair_train`] (where they are the reply head's validation pairs): the pairs
/// [`reply_prior_correction`] is fitted on.
pub fn toxichat_dev(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    let mut rows = toxichat_dev_rows(data, maps)?;
    keep_trainable(&mut rows, data, maps)?;
    Ok(rows)
}

/// ToxiChat's dev turns as reply pairs, all marked validation, before filtering.
fn toxichat_dev_rows(data: &Path, maps: &LabelMaps) -> Result<Vec<PairExample>, DataError> {
    Ok(toxichat(
        &data.join("toxicity/toxichat-reddit/dev.jsonl"),
        REPLY_PRIOR_SOURCE,
        true,
        maps,
    )?
    .into_iter()
    .map(|e| PairExample {
        split: Split::Validation,
        ..e
    })
    .collect())
}

/// The reply head's prior correction (models/README.md, "Amendment stance v2.2"), fitted on
/// the ToxiChat dev pairs among `rows`: the offsets (agree, disagree, 0) fitted on all of them,
/// the uncorrected macro-F1, the 2-fold out-of-fold macro-F1, and the pairs used.
pub fn reply_prior_correction(
    scorer: &crate::score::pair::PairScorer,
    rows: &[PairExample],
) -> anyhow::Result<([f32; 3], f64, f64, usize)> {
    use super::eval::Confusion;
    let (logits, gold) = reply_dev_logits(scorer, rows)?;
    let plain = logits_macro_f1(&logits, &gold);
    let (offsets, out_of_fold) = super::fit_offsets(&logits, &gold, 2, Confusion::macro_f1);
    Ok((offsets, plain, out_of_fold, gold.len()))
}

/// Uncorrected 3-class macro-F1 of the scorer's reply stance on the ToxiChat dev pairs among
/// `rows` (the reply model's rule, models/README.md, "Amendment stance v2.5").
pub fn reply_dev_macro_f1(
    scorer: &crate::score::pair::PairScorer,
    rows: &[PairExample],
) -> anyhow::Result<f64> {
    let (logits, gold) = reply_dev_logits(scorer, rows)?;
    Ok(logits_macro_f1(&logits, &gold))
}

/// Log-probabilities of the scorer's reply stance on the ToxiChat dev pairs among `rows`, with
/// their gold labels.
fn reply_dev_logits(
    scorer: &crate::score::pair::PairScorer,
    rows: &[PairExample],
) -> anyhow::Result<(Vec<[f32; 3]>, Vec<usize>)> {
    let dev: Vec<&PairExample> = rows
        .iter()
        .filter(|e| e.source == REPLY_PRIOR_SOURCE && e.split == Split::Validation)
        .collect();
    anyhow::ensure!(!dev.is_empty(), "no {REPLY_PRIOR_SOURCE} pairs to fit on");
    let pairs: Vec<(&str, &str)> = dev
        .iter()
        .map(|e| (e.first.as_str(), e.second.as_str()))
        .collect();
    let probs = scorer.score(PairTask::Reply, &pairs, 32)?;
    let logits = probs.iter().map(|p| p.map(|x| x.max(1e-12).ln())).collect();
    let gold = dev.iter().map(|e| e.label as usize).collect();
    Ok((logits, gold))
}

/// Macro-F1 of the argmax of `logits` against `gold`.
fn logits_macro_f1(logits: &[[f32; 3]], gold: &[usize]) -> f64 {
    let pred: Vec<usize> = logits
        .iter()
        .map(|l| crate::score::heads::argmax(l))
        .collect();
    super::eval::Confusion::new(3, gold, &pred).macro_f1()
}

/// The validation pairs the reply head's prior correction is fitted on.
pub const REPLY_PRIOR_SOURCE: &str = "toxichat-dev";

/// Figures of a pair scorer on the held-out pairs, per source: rows, accuracy, 3-class
/// macro-F1, and for TweetEval SemEval's F1avg (mean F1 of favor and against), as
/// `stance_pair.test.SOURCE.METRIC`.
pub fn evaluate(
    scorer: &crate::score::pair::PairScorer,
    tests: &[PairExample],
) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    use super::eval::Confusion;
    let mut by_source: std::collections::BTreeMap<&str, Vec<&PairExample>> = Default::default();
    for e in tests {
        by_source.entry(e.source).or_default().push(e);
    }
    let mut out = std::collections::BTreeMap::new();
    for (source, rows) in by_source {
        let pairs: Vec<(&str, &str)> = rows
            .iter()
            .map(|e| (e.first.as_str(), e.second.as_str()))
            .collect();
        let probs = scorer.score(rows[0].task, &pairs, 32)?;
        let gold: Vec<usize> = rows.iter().map(|e| e.label as usize).collect();
        let pred: Vec<usize> = probs
            .iter()
            .map(|p| crate::score::heads::argmax(p))
            .collect();
        let c = Confusion::new(3, &gold, &pred);
        let key = |m: &str| format!("stance_pair.test.{source}.{m}");
        out.insert(key("rows"), rows.len() as f64);
        out.insert(key("accuracy"), c.accuracy());
        out.insert(key("macro_f1"), c.macro_f1());
        out.insert(key("f1avg"), (c.f1(0) + c.f1(1)) / 2.0);
        for (k, name) in ["favor", "against", "none"].iter().enumerate() {
            out.insert(key(&format!("f1.{name}")), c.f1(k));
        }
        if rows.iter().any(|e| e.chain.is_some()) {
            let (f1_rule, inferred) = thread_rule_figure(scorer, &rows, &probs)?;
            out.insert(key("thread_rule.macro_f1"), f1_rule);
            out.insert(key("thread_rule.inferred"), inferred as f64);
        }
    }
    Ok(out)
}

/// Macro-F1 of chain rows after the thread rule (`pipeline::infer_thread_stance`), with the
/// number of rows it changed: each row's reply stance toward its parent row is scored, rows
/// are ordered parents first, and the rule runs as in the product.
fn thread_rule_figure(
    scorer: &crate::score::pair::PairScorer,
    rows: &[&PairExample],
    probs: &[[f32; 3]],
) -> anyhow::Result<(f64, usize)> {
    use crate::score::scorer::Scores;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| {
        rows[i]
            .chain
            .as_ref()
            .map_or(0, |c| c.0.matches('/').count())
    });
    let pos: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| rows[i].chain.as_ref().map(|c| (c.0.as_str(), k)))
        .collect();
    let parents: Vec<Option<usize>> = order
        .iter()
        .map(|&i| {
            rows[i]
                .chain
                .as_ref()
                .and_then(|c| c.1.as_deref())
                .and_then(|p| pos.get(p).copied())
        })
        .collect();
    let pairs: Vec<(&str, &str)> = order
        .iter()
        .zip(&parents)
        .map(|(&i, p)| match p {
            Some(p) => (rows[order[*p]].second.as_str(), rows[i].second.as_str()),
            None => ("", ""),
        })
        .collect();
    let with_parent: Vec<usize> = (0..order.len()).filter(|&k| parents[k].is_some()).collect();
    let reply = scorer.score(
        PairTask::Reply,
        &with_parent.iter().map(|&k| pairs[k]).collect::<Vec<_>>(),
        32,
    )?;
    let mut scores: Vec<Scores> = order
        .iter()
        .map(|&i| Scores {
            stance: Some(probs[i]),
            ..Default::default()
        })
        .collect();
    for (&k, r) in with_parent.iter().zip(reply) {
        scores[k].reply = Some(r);
    }
    crate::pipeline::infer_thread_stance(&parents, &mut scores);
    let gold: Vec<usize> = order.iter().map(|&i| rows[i].label as usize).collect();
    let pred: Vec<usize> = scores
        .iter()
        .map(|s| crate::score::heads::argmax(&s.stance.unwrap_or([0.0, 0.0, 1.0])))
        .collect();
    let inferred = scores.iter().filter(|s| s.stance_inferred).count();
    Ok((
        super::eval::Confusion::new(3, &gold, &pred).macro_f1(),
        inferred,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vast(topic: &str, text: &str, label: u8) -> PairExample {
        PairExample::new(topic, text, PairTask::Article, label, "vast")
    }

    /// VAST pairs "topic i" / "comment number i" (i < 16, label `label(i)`), then one
    /// Perspectrum pair.
    fn sixteen_vast_and_a_claim(label: impl Fn(usize) -> u8) -> Vec<PairExample> {
        let mut rows: Vec<PairExample> = (0..16)
            .map(|i| {
                vast(
                    &format!("topic {i}"),
                    &format!("comment number {i}"),
                    label(i),
                )
            })
            .collect();
        rows.push(PairExample::new(
            "a claim",
            "an argument",
            PairTask::Article,
            1,
            "perspectrum",
        ));
        rows
    }

    #[test]
    fn news_mix_repeats_vast_training_rows_and_adds_unrelated_topics() {
        let mut rows = sixteen_vast_and_a_claim(|_| 0);
        let before = rows.clone();
        news_mix(&mut rows);
        let train_vast = before
            .iter()
            .filter(|e| e.source == "vast" && e.split == Split::Train)
            .count();
        assert_eq!(
            rows.iter().filter(|e| e.source == "vast").count(),
            16 + train_vast
        );
        let unrelated: Vec<&PairExample> = rows
            .iter()
            .filter(|e| e.source == "vast-unrelated")
            .collect();
        // Rows 0 and 8, each paired with the topic half the list away.
        assert_eq!(unrelated.len(), 2);
        assert_eq!(unrelated[0].second, "comment number 0");
        assert_eq!(unrelated[0].first, "topic 8");
        assert_eq!(unrelated[1].first, "topic 0");
        assert!(unrelated.iter().all(|e| e.label == 2));
        assert_eq!(unrelated[0].split, split_of("comment number 0"));
        // Other sources are untouched.
        assert_eq!(rows.iter().filter(|e| e.source == "perspectrum").count(), 1);
    }

    #[test]
    fn named_headline_fills_the_person_and_the_topic() {
        assert_eq!(
            named_headline(
                "{a} backs {t}",
                "Modi",
                "tax reform",
                Some("{a} said {t} matters.")
            ),
            "Modi backs tax reform. Modi said tax reform matters."
        );
        assert_eq!(
            named_headline("{a} backs {t}", "Modi", "tax reform", None),
            "Modi backs tax reform"
        );
    }

    #[test]
    fn headline_fills_the_topic_and_the_lead() {
        assert_eq!(
            headline(
                "Lawmakers back {t}",
                " gun control ",
                Some("More on {t} soon.")
            ),
            "Lawmakers back gun control. More on gun control soon."
        );
        assert_eq!(
            headline("The case for {t}", "zoos", None),
            "The case for zoos"
        );
    }
}
