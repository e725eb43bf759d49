//! Comment–target pairs for the stance pair model (issue 15; `src/score/pair.rs`), read from
//! `../shared/data/stance` and ToxiChat, with each set's labels mapped as models/README.md
//! ("Stance v2 protocol") writes down. Two tasks:
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

use super::datasets::{err, normalize, read_lossy, split_of, DataError, Split};
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
fn mtcsd_train(st: &Path) -> Result<Vec<PairExample>, DataError> {
    Ok(jsonl(&st.join("mtcsd-reddit/train.jsonl"))?
        .iter()
        .filter_map(|r| {
            article_label(s(r, "label")).map(|l| {
                PairExample::new(s(r, "target"), s(r, "text"), PairTask::Article, l, "mtcsd")
            })
        })
        .collect())
}

fn article_label(l: &str) -> Option<u8> {
    match l.trim().to_ascii_lowercase().as_str() {
        "favor" | "pro" | "support" | "supports" | "agree" | "entailment" => Some(0),
        "against" | "con" | "undermine" | "deny" | "disagree" | "contradiction" => Some(1),
        "none" | "neutral" | "discuss" => Some(2),
        _ => None,
    }
}

/// Every training and validation pair (test pairs excluded), de-duplicated against the held-out
/// pairs.
pub fn pair_train(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let mut out = Vec::new();
    let st = data.join("stance");
    for e in super::datasets::stance_vast_train(data)? {
        out.push(PairExample::new(
            e.target.as_deref().unwrap_or(""),
            &e.text,
            PairTask::Article,
            e.label as u8,
            "vast",
        ));
    }
    for e in super::datasets::stance_tweeteval(data, "train")? {
        out.push(PairExample::new(
            e.target.as_deref().unwrap_or(""),
            &e.text,
            PairTask::Article,
            e.label as u8,
            "tweeteval-stance",
        ));
    }
    out.extend(mtcsd_train(&st)?);
    out.extend(ibm_argq(&st.join("ibm-argq30k/arg_quality_rank_30k.csv"))?);
    out.extend(perspectrum(&st.join("perspectrum"))?);
    out.extend(nli(&st.join("nli-pairs/all_pairs_normalized.jsonl"))?);
    out.extend(reply_rows(data)?);
    keep_trainable(&mut out, data)?;
    Ok(out)
}

/// The reply model's pairs (models/README.md, "Amendment stance v2.5"): ToxiChat train (every
/// labelled pair) and RumourEval train (direct replies) for training, ToxiChat dev (every
/// labelled pair) for validation, filtered as [`pair_train`] filters.
pub fn reply_train(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let mut out = reply_rows(data)?;
    keep_trainable(&mut out, data)?;
    Ok(out)
}

/// The reply pairs both [`pair_train`] and [`reply_train`] read, before filtering: ToxiChat
/// train (every labelled pair), ToxiChat dev (validation) and RumourEval train direct replies.
fn reply_rows(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let mut out = toxichat(
        &data.join("toxicity/toxichat-reddit/train.jsonl"),
        "toxichat",
        true,
    )?;
    out.extend(toxichat_dev_rows(data)?);
    out.extend(rumoureval(
        &data.join("stance/rumoureval2019/train.jsonl"),
        "rumoureval",
    )?);
    Ok(out)
}

/// The article-stance sets the one-pass head adds under stance v2.4 (models/README.md,
/// "Amendment stance v2.4"): MT-CSD train, IBM ArgQ, Perspectrum (as the pair model reads them),
/// UKP ArgMin, IBM Claim Stance and VaccineLies, filtered as [`pair_train`] filters.
pub fn article_extra(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let st = data.join("stance");
    let mut out = Vec::new();
    out.extend(mtcsd_train(&st)?);
    out.extend(ibm_argq(&st.join("ibm-argq30k/arg_quality_rank_30k.csv"))?);
    out.extend(perspectrum(&st.join("perspectrum"))?);
    out.extend(ukp_argmin(&st.join("ukp-argmin"))?);
    out.extend(claim_stance(
        &st.join("ibm-claim-stance/claim_stance_dataset_v1_decoded.csv"),
    )?);
    out.extend(vaccinelies(&st.join("vaccinelies/preprocessed.csv"))?);
    keep_trainable(&mut out, data)?;
    Ok(out)
}

/// UKP Sentential Argument Mining (8 topics, one TSV each, unquoted): Argument_for → favor,
/// Argument_against → against, NoArgument → none; the published `set` column gives the split
/// (its test rows are never trained on).
fn ukp_argmin(dir: &Path) -> Result<Vec<PairExample>, DataError> {
    let mut out = Vec::new();
    for topic in [
        "abortion",
        "cloning",
        "death_penalty",
        "gun_control",
        "marijuana_legalization",
        "minimum_wage",
        "nuclear_energy",
        "school_uniforms",
    ] {
        let p = dir.join(format!("{topic}.tsv"));
        let (h, records) = tsv_table(&p)?;
        let col = |n: &str| super::datasets::col(&h, n, &p);
        let (t, a, set) = (col("sentence")?, col("annotation")?, col("set")?);
        let target = topic.replace('_', " ");
        for rec in &records {
            let label = match rec.get(a).map(str::trim) {
                Some("Argument_for") => 0,
                Some("Argument_against") => 1,
                Some("NoArgument") => 2,
                _ => continue,
            };
            let split = match rec.get(set).map(str::trim) {
                Some("train") => Split::Train,
                Some("val") => Split::Validation,
                _ => Split::Test,
            };
            out.push(PairExample {
                split,
                ..PairExample::new(
                    &target,
                    rec.get(t).unwrap_or(""),
                    PairTask::Article,
                    label,
                    "ukp-argmin",
                )
            });
        }
    }
    Ok(out)
}

/// IBM Debater Claim Stance: Wikipedia claim → motion, PRO favor / CON against; the published
/// topic-disjoint split (test topics are never trained on).
fn claim_stance(p: &Path) -> Result<Vec<PairExample>, DataError> {
    let (h, records) = csv_table(p)?;
    let col = |n: &str| super::datasets::col(&h, n, p);
    let (split, topic, stance, claim) = (
        col("split")?,
        col("topicText")?,
        col("claims.stance")?,
        col("claims.claimCorrectedText")?,
    );
    let mut out = Vec::new();
    for rec in &records {
        let label = match rec.get(stance).map(str::trim) {
            Some("PRO") => 0,
            Some("CON") => 1,
            _ => continue,
        };
        let e = PairExample::new(
            rec.get(topic).unwrap_or(""),
            rec.get(claim).unwrap_or(""),
            PairTask::Article,
            label,
            "ibm-claim-stance",
        );
        out.push(if rec.get(split).map(str::trim) == Some("train") {
            e
        } else {
            e.test()
        });
    }
    Ok(out)
}

/// VaccineLies (tweets → misinformation claims; no published split, so the hash split):
/// Accept (2) favor, Reject (3) against, No Stance (0) and Not Relevant (1) none.
fn vaccinelies(p: &Path) -> Result<Vec<PairExample>, DataError> {
    let (h, records) = csv_table(p)?;
    let col = |n: &str| super::datasets::col(&h, n, p);
    let (target, t, l) = (col("target")?, col("text")?, col("label")?);
    let mut out = Vec::new();
    for rec in &records {
        let label = match rec.get(l).map(str::trim) {
            Some("2") => 0,
            Some("3") => 1,
            Some("0" | "1") => 2,
            _ => continue,
        };
        out.push(PairExample::new(
            rec.get(target).unwrap_or(""),
            rec.get(t).unwrap_or(""),
            PairTask::Article,
            label,
            "vaccinelies",
        ));
    }
    Ok(out)
}

/// Drops what never trains or validates: test-split pairs, pairs whose text is in a held-out
/// pair, and pairs with an empty side.
fn keep_trainable(rows: &mut Vec<PairExample>, data: &Path) -> Result<(), DataError> {
    let held: HashSet<String> = pair_test(data)?
        .iter()
        .map(|e| normalize(&e.second))
        .collect();
    rows.retain(|e| e.split != Split::Test && !held.contains(&normalize(&e.second)));
    rows.retain(|e| !e.first.is_empty() && !e.second.is_empty());
    Ok(())
}

/// The stance v2.1 training stream (`threadlens train --pair-news-mix`; models/README.md,
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

/// Headline templates of the stance v2.7 training stream (`--pair-headlines`; models/README.md,
/// "Amendment stance v2.7"): each reports backing for its topic `{t}`, so a comment's stance
/// toward such an article is its stance toward the topic.
pub const HEADLINES_TRAIN: [&str; 12] = [
    "Leaders agree on need for {t}",
    "Lawmakers back {t}",
    "Officials call for {t}",
    "New push for {t}",
    "Government announces plan for {t}",
    "Why {t} is the right move",
    "The case for {t}",
    "President pledges {t}",
    "Experts urge {t}",
    "Talks end with commitment to {t}",
    "Senate votes to advance {t}",
    "Campaign launched for {t}",
];

/// Lead sentences that follow a training headline on every 4th headline pair (a page's target
/// is its title and lead).
pub const LEADS_TRAIN: [&str; 2] = [
    "Officials said on Monday that {t} would be a priority in the months ahead.",
    "The announcement came after weeks of talks between the two sides.",
];

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

/// Headline templates with a person `{a}` as subject, used on every 2nd headline pair of the
/// stance v2.11 stream (`--pair-named-actors`; models/README.md, "Amendment stance v2.11"), so
/// that a name in a headline is not read as the target: MT-CSD's pairs toward Trump and
/// TweetEval's toward Hillary Clinton are mostly against, and the model had learned that.
pub const NAMED_HEADLINES_TRAIN: [&str; 6] = [
    "{a} calls for {t}",
    "{a} backs {t}",
    "{a} says yes to {t}",
    "{a} pledges support for {t}",
    "{a} makes the case for {t}",
    "{a} signs deal on {t}",
];

/// The people of [`NAMED_HEADLINES_TRAIN`].
pub const ACTORS_TRAIN: [&str; 12] = [
    "Trump",
    "Donald Trump",
    "Biden",
    "Joe Biden",
    "Hillary Clinton",
    "Elon Musk",
    "Obama",
    "Boris Johnson",
    "Angela Merkel",
    "Emmanuel Macron",
    "Xi Jinping",
    "Theresa May",
];

/// The lead after a named training headline that carries one.
pub const NAMED_LEAD_TRAIN: &str = "{a} said on Monday that {t} would be a priority.";

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
/// [`ACTORS_TRAIN`] as actors), four that no training pair names as actor.
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

/// The stance v2.7 stream (`threadlens train --pair-headlines`; models/README.md, "Amendment
/// stance v2.7"): every 2nd distinct VAST pair is added again with its topic set in a training
/// headline (source `vast-headline`, label kept), and every unrelated-topic pair of
/// [`news_mix`] likewise (`vast-headline-unrelated`, none), so that a target written as a
/// news headline is read as the topic it backs rather than as a claim to verify. Each new pair
/// keeps its comment's split. With `named` (stance v2.11), every 2nd of those headlines is
/// instead a [`NAMED_HEADLINES_TRAIN`] template with a person from [`ACTORS_TRAIN`], and its
/// lead, where it has one, is [`NAMED_LEAD_TRAIN`].
pub fn headline_mix(rows: &mut Vec<PairExample>, named: bool) {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut added = Vec::new();
    let mut n = 0usize;
    for e in rows.iter() {
        let source = match e.source {
            "vast" => "vast-headline",
            "vast-unrelated" => "vast-headline-unrelated",
            _ => continue,
        };
        if !seen.insert((e.first.clone(), e.second.clone())) {
            continue;
        }
        n += 1;
        if source == "vast-headline" && n % 2 == 1 {
            continue;
        }
        let k = n / 2;
        let first = if named && k % 2 == 1 {
            // Template j % 6 with person j / 6, every 4th with a lead (shifted per person, so
            // that every template gets some).
            let j = k / 2;
            let a = j / NAMED_HEADLINES_TRAIN.len();
            named_headline(
                NAMED_HEADLINES_TRAIN[j % NAMED_HEADLINES_TRAIN.len()],
                ACTORS_TRAIN[a % ACTORS_TRAIN.len()],
                &e.first,
                ((j + a) % 4 == 0).then_some(NAMED_LEAD_TRAIN),
            )
        } else {
            let lead = (k % 4 == 0).then(|| LEADS_TRAIN[(k / 4) % LEADS_TRAIN.len()]);
            headline(HEADLINES_TRAIN[k % HEADLINES_TRAIN.len()], &e.first, lead)
        };
        added.push(PairExample {
            first,
            source,
            ..e.clone()
        });
    }
    rows.extend(added);
}

/// Enters the training pairs of `source` `times` times in all (amendment stance v2.9: TweetEval
/// stance, the only tweets, three times); validation pairs are not repeated.
pub fn repeat_source(rows: &mut Vec<PairExample>, source: &str, times: usize) {
    let extra: Vec<PairExample> = rows
        .iter()
        .filter(|e| e.source == source && e.split == Split::Train)
        .cloned()
        .collect();
    for _ in 1..times {
        rows.extend(extra.iter().cloned());
    }
}

/// The held-out pairs, each set under its own source name.
pub fn pair_test(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let st = data.join("stance");
    let mut out = Vec::new();
    for e in super::datasets::stance_vast_dev(data)? {
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
    for e in super::datasets::stance_tweeteval(data, "val")? {
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
    for r in jsonl(&st.join("mtcsd-reddit/dev.jsonl"))? {
        if let Some(l) = article_label(s(&r, "label")) {
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
    let vast: HashSet<String> = super::datasets::stance_vast_train(data)?
        .iter()
        .map(|e| normalize(&e.text))
        .collect();
    out.extend(
        arc(&st.join("arc-nyt-comments"))?
            .into_iter()
            .filter(|e| !vast.contains(&normalize(&e.second)))
            .map(PairExample::test),
    );
    let tc = data.join("toxicity/toxichat-reddit/test.jsonl");
    out.extend(
        toxichat(&tc, "toxichat-test", false)?
            .into_iter()
            .map(PairExample::test),
    );
    out.extend(
        toxichat(&tc, "toxichat-test-all", true)?
            .into_iter()
            .map(PairExample::test),
    );
    out.extend(
        rumoureval(&st.join("rumoureval2019/dev.jsonl"), "rumoureval-dev")?
            .into_iter()
            .map(PairExample::test),
    );
    Ok(out)
}

/// IBM ArgQ-30k: argument → motion, stance_WA 1 pro / −1 con; its train and dev sets (dev as
/// validation), every second train row (the set is large and one-sided: no "none").
fn ibm_argq(p: &Path) -> Result<Vec<PairExample>, DataError> {
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
        let label = match rec.get(st).map(str::trim) {
            Some("1") => 0,
            Some("-1") => 1,
            _ => continue,
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

/// Perspectrum: perspective → claim, SUPPORT / UNDERMINE; train and dev (dev as validation).
fn perspectrum(dir: &Path) -> Result<Vec<PairExample>, DataError> {
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
            if let Some(label) = rec.get(l).and_then(article_label) {
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

/// NLI pairs: the premise's stance toward the hypothesis (entailment favor, contradiction
/// against, neutral none; RTE's not_entailment is not used), every second pair.
fn nli(p: &Path) -> Result<Vec<PairExample>, DataError> {
    Ok(jsonl(p)?
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .filter_map(|(_, r)| {
            let l = article_label(s(r, "label"))?;
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

/// ARC (NYT comments toward claims, FNC-1 format): the comment's stance toward the claim
/// (agree favor, disagree against, discuss none, unrelated none), its test split only: the
/// whole set is held out.
fn arc(dir: &Path) -> Result<Vec<PairExample>, DataError> {
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
    let text = read_lossy(&p)?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records().flatten() {
        let (Some(claim), Some(id), Some(stance)) = (rec.get(0), rec.get(1), rec.get(2)) else {
            continue;
        };
        let label = match stance {
            "agree" => 0,
            "disagree" => 1,
            "discuss" | "unrelated" => 2,
            _ => continue,
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

fn reply_label(l: &str) -> Option<u8> {
    match l {
        "Agree" => Some(0),
        "Disagree" => Some(1),
        "Neutral" => Some(2),
        _ => None,
    }
}

/// ToxiChat: each turn's stance toward an earlier turn. `all`: every labelled pair, the two
/// machine-written final responses included (as the dataset's authors evaluate); otherwise
/// only human replies toward the turn they answer (the parent).
fn toxichat(p: &Path, source: &'static str, all: bool) -> Result<Vec<PairExample>, DataError> {
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
                    t.get(&key).and_then(|x| x.as_str()).and_then(reply_label),
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

/// RumourEval 2019: direct replies to the source post (their parent), support agree, deny
/// disagree, query and comment neutral (weaker labels: stance toward the claim).
fn rumoureval(p: &Path, source: &'static str) -> Result<Vec<PairExample>, DataError> {
    Ok(jsonl(p)?
        .iter()
        .filter(|r| r.get("depth").and_then(|d| d.as_u64()) == Some(1))
        .filter_map(|r| {
            let l = match s(r, "label") {
                "support" => 0,
                "deny" => 1,
                "query" | "comment" => 2,
                _ => return None,
            };
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
pub fn toxichat_dev(data: &Path) -> Result<Vec<PairExample>, DataError> {
    let mut rows = toxichat_dev_rows(data)?;
    keep_trainable(&mut rows, data)?;
    Ok(rows)
}

/// ToxiChat's dev turns as reply pairs, all marked validation, before filtering.
fn toxichat_dev_rows(data: &Path) -> Result<Vec<PairExample>, DataError> {
    Ok(toxichat(
        &data.join("toxicity/toxichat-reddit/dev.jsonl"),
        REPLY_PRIOR_SOURCE,
        true,
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

/// Amendment stance v2.10's rule (models/README.md): whether dividing each target's prior out
/// of article stance is kept, from the held-out figures without (`plain`) and with
/// (`calibrated`) it, as [`evaluate`] keys them. Kept if `vast-dev-headline` macro-F1 rises by
/// ≥ 0.03, VAST dev falls by ≤ 0.01, TweetEval stance val F1avg by ≤ 0.02 (2 points), and
/// MT-CSD dev and ARC macro-F1 by ≤ 0.02. A figure missing from either side fails the rule.
pub fn calibration_kept(
    plain: &std::collections::BTreeMap<String, f64>,
    calibrated: &std::collections::BTreeMap<String, f64>,
) -> bool {
    let gain = |source: &str, metric: &str| {
        let key = format!("stance_pair.test.{source}.{metric}");
        match (plain.get(&key), calibrated.get(&key)) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NEG_INFINITY,
        }
    };
    gain("vast-dev-headline", "macro_f1") >= 0.03
        && gain("vast-dev", "macro_f1") >= -0.01
        && gain("tweeteval-stance-val", "f1avg") >= -0.02
        && gain("mtcsd-dev", "macro_f1") >= -0.02
        && gain("arc", "macro_f1") >= -0.02
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

    #[test]
    fn the_calibration_rule_needs_the_headline_gain_and_every_other_set_held() {
        let figures = |headline: f64, vast: f64, tweeteval: f64, mtcsd: f64, arc: f64| {
            [
                ("vast-dev-headline.macro_f1", headline),
                ("vast-dev.macro_f1", vast),
                ("tweeteval-stance-val.f1avg", tweeteval),
                ("mtcsd-dev.macro_f1", mtcsd),
                ("arc.macro_f1", arc),
            ]
            .into_iter()
            .map(|(k, v)| (format!("stance_pair.test.{k}"), v))
            .collect::<std::collections::BTreeMap<_, _>>()
        };
        let plain = figures(0.40, 0.60, 0.63, 0.50, 0.30);
        assert!(calibration_kept(
            &plain,
            &figures(0.431, 0.591, 0.611, 0.481, 0.281)
        ));
        // Each condition failing alone: too little headline gain, then each other set down
        // by just more than it may fall.
        for failing in [
            figures(0.429, 0.62, 0.65, 0.52, 0.32),
            figures(0.5, 0.589, 0.63, 0.5, 0.3),
            figures(0.5, 0.6, 0.609, 0.5, 0.3),
            figures(0.5, 0.6, 0.63, 0.479, 0.3),
            figures(0.5, 0.6, 0.63, 0.5, 0.279),
        ] {
            assert!(!calibration_kept(&plain, &failing), "{failing:?}");
        }
        let mut missing = figures(0.5, 0.6, 0.63, 0.5, 0.3);
        missing.remove("stance_pair.test.arc.macro_f1");
        assert!(!calibration_kept(&plain, &missing));
    }

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
    fn headline_mix_sets_half_the_vast_topics_in_headlines_and_keeps_labels() {
        let mut rows = sixteen_vast_and_a_claim(|i| (i % 3) as u8);
        news_mix(&mut rows);
        let before = rows.len();
        headline_mix(&mut rows, false);
        let added = &rows[before..];
        let vast_h: Vec<&PairExample> = added
            .iter()
            .filter(|e| e.source == "vast-headline")
            .collect();
        let unrelated_h: Vec<&PairExample> = added
            .iter()
            .filter(|e| e.source == "vast-headline-unrelated")
            .collect();
        // Half of the 16 distinct VAST pairs (the repeats of news_mix are not counted twice),
        // and both unrelated pairs.
        assert_eq!(vast_h.len(), 8);
        assert_eq!(unrelated_h.len(), 2);
        assert_eq!(added.len(), 10);
        for h in &vast_h {
            let i: usize = h.second.rsplit(' ').next().unwrap().parse().unwrap();
            assert_eq!(h.label, (i % 3) as u8, "label kept");
            assert!(h.first.contains(&format!("topic {i}")), "{}", h.first);
            assert_ne!(h.first, format!("topic {i}"));
            assert!(HEADLINES_TRAIN
                .iter()
                .any(|t| h.first.starts_with(t.split("{t}").next().unwrap())));
            assert_eq!(h.split, split_of(&h.second));
        }
        assert!(unrelated_h.iter().all(|e| e.label == 2));
        // Some carry a lead sentence, most do not.
        let with_lead = vast_h.iter().filter(|e| e.first.contains(". ")).count();
        assert!(with_lead >= 1 && with_lead < vast_h.len());
        // No held-out template is used in training.
        for t in HEADLINES_HELD_OUT {
            let stem = t.split("{t}").next().unwrap();
            assert!(added.iter().all(|e| !e.first.starts_with(stem)), "{t}");
        }
    }

    #[test]
    fn named_headlines_put_a_training_person_in_every_second_headline() {
        let mut plain = sixteen_vast_and_a_claim(|i| (i % 3) as u8);
        news_mix(&mut plain);
        let mut named = plain.clone();
        let before = plain.len();
        headline_mix(&mut plain, false);
        headline_mix(&mut named, true);
        assert_eq!(plain.len(), named.len(), "the same pairs, other headlines");
        let mut with_actor = 0;
        for (p, n) in plain[before..].iter().zip(&named[before..]) {
            assert_eq!(
                (p.label, &p.second, p.source),
                (n.label, &n.second, n.source)
            );
            if p.first == n.first {
                continue;
            }
            with_actor += 1;
            let actor = ACTORS_TRAIN
                .iter()
                .find(|a| n.first.starts_with(&format!("{a} ")))
                .unwrap_or_else(|| panic!("no training person leads {:?}", n.first));
            assert!(NAMED_HEADLINES_TRAIN.iter().any(|t| {
                let stem = t.replace("{a}", actor);
                n.first.starts_with(stem.split("{t}").next().unwrap())
            }));
            assert!(!n.first.contains('{'), "{}", n.first);
        }
        assert_eq!(with_actor, 5, "every 2nd of the 10 headline pairs");
        // No held-out template, named or not, is used in training.
        for t in NAMED_HEADLINES_HELD_OUT {
            let verb = t.split("{t}").next().unwrap().replace("{a}", "");
            assert!(named.iter().all(|e| !e.first.contains(&verb)), "{t}");
        }
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
    fn repeat_source_repeats_only_that_sources_training_pairs() {
        let mut rows: Vec<PairExample> = (0..40)
            .map(|i| {
                let src = if i % 2 == 0 {
                    "tweeteval-stance"
                } else {
                    "vast"
                };
                PairExample::new("t", &format!("text {i}"), PairTask::Article, 0, src)
            })
            .collect();
        let train = rows
            .iter()
            .filter(|e| e.source == "tweeteval-stance" && e.split == Split::Train)
            .count();
        assert!(train > 0 && train < 20, "{train}");
        let other = rows.len() - 20;
        repeat_source(&mut rows, "tweeteval-stance", 3);
        let n = |rows: &[PairExample], src: &str| rows.iter().filter(|e| e.source == src).count();
        assert_eq!(n(&rows, "tweeteval-stance"), 20 + 2 * train);
        assert_eq!(n(&rows, "vast"), other);
        repeat_source(&mut rows, "vast", 1);
        assert_eq!(n(&rows, "vast"), other);
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

#[cfg(test)]
mod data_tests {
    use super::*;

    fn data() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
    }

    #[test]
    fn article_extra_reads_six_sets_and_never_a_held_out_comment() {
        let d = data();
        if !d.join("stance/ukp-argmin").is_dir() {
            eprintln!("skipped: ../shared/data/stance is not here");
            return;
        }
        let rows = article_extra(&d).unwrap();
        let count = |s: &str| rows.iter().filter(|e| e.source == s).count();
        assert!(count("mtcsd") > 8_000, "mtcsd {}", count("mtcsd"));
        assert!(count("ibm-argq") > 8_000, "ibm-argq {}", count("ibm-argq"));
        assert!(count("perspectrum") > 5_000);
        // UKP: train + val only (18,336 + 2,042 published), every class present.
        let ukp = count("ukp-argmin");
        assert!((15_000..=20_378).contains(&ukp), "ukp {ukp}");
        for l in 0..3 {
            assert!(rows
                .iter()
                .any(|e| e.source == "ukp-argmin" && e.label == l));
        }
        assert!(rows
            .iter()
            .any(|e| e.source == "ukp-argmin" && e.first == "gun control"));
        // Claim Stance: the 25 train motions only, PRO / CON only.
        let claims: Vec<&PairExample> = rows
            .iter()
            .filter(|e| e.source == "ibm-claim-stance")
            .collect();
        assert!((900..=1_039).contains(&claims.len()), "{}", claims.len());
        let motions: HashSet<&str> = claims.iter().map(|e| e.first.as_str()).collect();
        assert!(motions.len() <= 25, "{} motions", motions.len());
        assert!(claims.iter().all(|e| e.label < 2));
        assert!(count("vaccinelies") > 3_000);
        assert!(rows.iter().all(|e| e.split != Split::Test));
        assert!(rows
            .iter()
            .all(|e| !e.first.is_empty() && !e.second.is_empty()));
        let held: HashSet<String> = pair_test(&d)
            .unwrap()
            .iter()
            .map(|e| normalize(&e.second))
            .collect();
        assert!(rows.iter().all(|e| !held.contains(&normalize(&e.second))));
    }
}
