//! What `analyze` concludes from a scored forest: which comments to flag and why, the
//! moderation queue, per-thread, per-author and per-article figures. Pure functions over the
//! forest and the scores, so every rule is unit-tested without a model.
//!
//! Only comments a moderator can act on count (see [`in_scope`]): deleted and spam comments,
//! pingbacks and trackbacks and empty texts stay in the forest and in comments.csv (with their
//! `status`, see `Comment::status`), but are never flagged and do not enter any share, mean or
//! stance figure.

use std::collections::{BTreeMap, HashMap};

use crate::ingest::{Comment, CommentKind};
use crate::score::heads::argmax;
use crate::score::scorer::Scores;
use crate::thread::Forest;
use crate::tune::thresholds::{Attribute, Thresholds};

/// Reason codes, in the order they are listed.
pub const TOXIC: &str = "TOXIC";
pub const INSULT: &str = "INSULT";
pub const THREAT: &str = "THREAT";
pub const OBSCENE: &str = "OBSCENE";
pub const IDENTITY_ATTACK: &str = "IDENTITY_ATTACK";
pub const SEVERE_TOXICITY: &str = "SEVERE_TOXICITY";
pub const SEXUALLY_EXPLICIT: &str = "SEXUALLY_EXPLICIT";
pub const FLAG: &str = "FLAG";
pub const ESCALATION: &str = "ESCALATION";
pub const AUTHOR_HISTORY: &str = "AUTHOR_HISTORY";
/// A comment in a language the models were not trained on (`score::lang`): queued, unscored,
/// so a person reads it.
pub const UNSCORED_LANGUAGE: &str = "UNSCORED_LANGUAGE";

/// Each toxicity attribute and its reason code, in the model's output order
/// (`Scores::toxicity`).
const ATTRS: [(Attribute, &str); crate::score::heads::ATTRIBUTES] = [
    (Attribute::Toxicity, TOXIC),
    (Attribute::Insult, INSULT),
    (Attribute::Threat, THREAT),
    (Attribute::Obscene, OBSCENE),
    (Attribute::IdentityAttack, IDENTITY_ATTACK),
    (Attribute::SevereToxicity, SEVERE_TOXICITY),
    (Attribute::SexualExplicit, SEXUALLY_EXPLICIT),
];

/// Rules beyond the per-attribute thresholds.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Whether ESCALATION and AUTHOR_HISTORY run at all.
    pub escalation: bool,
    pub author_history: bool,
    /// A reply escalates when its toxicity is at least this…
    pub escalation_min: f32,
    /// …and at least this much above its parent's, whose own toxicity is not below the
    /// grandparent's (a chain heating up).
    pub escalation_rise: f32,
    /// AUTHOR_HISTORY: an author with at least this many comments…
    pub author_min_comments: usize,
    /// …of which at least this share is flagged.
    pub author_flagged_share: f64,
    /// UNSCORED_LANGUAGE: comments read as another language with at least this many words are
    /// not judged by their scores (`None`: off, the default; `score::lang`).
    pub language_min_words: Option<usize>,
}

impl Rules {
    /// The rules as the thresholds file sets them (`[escalation]`, `[author_history]`), the
    /// defaults where it says nothing.
    pub fn from_thresholds(th: &Thresholds) -> Rules {
        let mut r = Rules::default();
        if let Some(e) = &th.escalation {
            r.escalation = e.enabled;
            r.escalation_min = e.min.map_or(r.escalation_min, |v| v as f32);
            r.escalation_rise = e.rise.map_or(r.escalation_rise, |v| v as f32);
        }
        if let Some(a) = &th.author_history {
            r.author_history = a.enabled;
            r.author_min_comments = a.min_comments.map_or(r.author_min_comments, |v| {
                usize::try_from(v).unwrap_or(usize::MAX)
            });
            r.author_flagged_share = a.flagged_share.unwrap_or(r.author_flagged_share);
        }
        if let Some(l) = th.language.as_ref().filter(|l| l.unscored) {
            r.language_min_words = Some(
                l.min_words
                    .map_or(crate::score::lang::DEFAULT_MIN_WORDS, |v| {
                        usize::try_from(v).unwrap_or(usize::MAX)
                    }),
            );
        }
        r
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            escalation: true,
            author_history: true,
            // Re-derived on ToxiChat dev (models/README.md, "ESCALATION's default floor on
            // conversations"): at 0.5 it alone flagged 4.2 % of the civil turns, at 0.75 0.6 %.
            escalation_min: 0.75,
            escalation_rise: 0.3,
            author_min_comments: 3,
            author_flagged_share: 0.5,
            // Measured: the detector reads some English as French (models/README.md,
            // "Comments in other languages"), so it takes no scores away unless asked to.
            language_min_words: None,
        }
    }
}

/// Name used for comments without an author.
pub const ANONYMOUS: &str = "(anonymous)";

/// Whether a comment is one a moderator acts on and the figures describe: not deleted, not
/// already marked as spam, a real comment (not a pingback or trackback), with some text.
/// Comments awaiting approval are in scope: they are exactly what a moderator reviews.
pub fn in_scope(c: &Comment) -> bool {
    !c.deleted && !c.spam && c.kind == CommentKind::Comment && !c.text.trim().is_empty()
}

/// The score a threshold is compared with: the probability rounded to the 4 decimals the CSV
/// files show, so a comment whose written score equals the threshold is flagged, exactly as
/// `tune` counted it.
fn shown(x: f32) -> f64 {
    crate::tune::thresholds::rounded_score(x)
}

/// The per-comment verdicts.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    pub flagged: Vec<bool>,
    pub reasons: Vec<Vec<&'static str>>,
    /// Most severe first: harm tier + score ([`HARM_TIER`], models/README.md "Queue order by
    /// harm"); context rules add a reason, never severity.
    pub severity: Vec<f32>,
    /// Toxicity rise over the parent when the ESCALATION rule fired.
    pub escalation: Vec<Option<f32>>,
}

/// Harm tier of each attribute's reason, in [`ATTRS`] order: 3 identity attack, threat, severe
/// toxicity, sexual content; 2 toxicity, insult; 1 profanity. FLAG (only the flag floor) is
/// tier 1 and a context rule alone tier 0. A comment's severity is its highest tier plus the
/// highest score among the attributes of that tier that crossed their thresholds, so a slur
/// ranks above profanity however high the profanity scores.
pub const HARM_TIER: [u8; crate::score::heads::ATTRIBUTES] = [2, 2, 3, 1, 3, 3, 3];

/// Tier plus score, with the score kept below 1 so tiers never overlap.
fn severity(tier: u8, score: f32) -> f32 {
    f32::from(tier) + score.clamp(0.0, 0.9999)
}

fn max_attr(s: &Scores) -> f32 {
    s.toxicity.iter().copied().fold(0.0, f32::max)
}

/// Applies thresholds and rules to every comment.
pub fn judge(forest: &Forest, scores: &[Scores], th: &Thresholds, rules: &Rules) -> Verdicts {
    let n = forest.nodes.len();
    let mut v = Verdicts {
        flagged: vec![false; n],
        reasons: vec![Vec::new(); n],
        severity: vec![0.0; n],
        escalation: vec![None; n],
    };
    let scope: Vec<bool> = forest.comments.iter().map(in_scope).collect();
    let unscored: Vec<bool> = scores
        .iter()
        .zip(&forest.comments)
        .map(|(s, c)| {
            rules
                .language_min_words
                .and_then(|w| crate::score::lang::unscored(s.lang, &c.text, w))
                .is_some()
        })
        .collect();
    for (i, s) in scores.iter().enumerate().take(n) {
        if !scope[i] {
            continue;
        }
        if unscored[i] {
            // Its scores mean nothing: a person looks at it, below every scored flag.
            v.reasons[i].push(UNSCORED_LANGUAGE);
            continue;
        }
        let mut worst: Option<(u8, f32)> = None;
        for (k, (attr, code)) in ATTRS.iter().enumerate() {
            if shown(s.toxicity[k]) >= th.get(*attr) {
                v.reasons[i].push(code);
                let here = (HARM_TIER[k], s.toxicity[k]);
                worst = Some(worst.map_or(here, |w| if here > w { here } else { w }));
            }
        }
        if v.reasons[i].is_empty() && shown(max_attr(s)) >= th.get(Attribute::Flag) {
            v.reasons[i].push(FLAG);
            worst = Some((1, max_attr(s)));
        }
        // A comment flagged by no attribute (a context rule alone) is tier 0.
        v.severity[i] = worst.map_or(severity(0, s.toxicity[0]), |(t, x)| severity(t, x));
    }
    // Escalation: toxicity rising along a reply chain (of comments in scope: a deleted
    // parent has no toxicity to rise from).
    for (i, node) in forest.nodes.iter().enumerate() {
        let Some(p) = node.parent else { continue };
        // An unscored comment's toxicity means nothing, as a reply or as a parent.
        if !scope[i] || !scope[p] || unscored[i] || unscored[p] {
            continue;
        }
        let (t, tp) = (scores[i].toxicity[0], scores[p].toxicity[0]);
        let gp_ok = forest.nodes[p]
            .parent
            .is_none_or(|g| !scope[g] || tp >= scores[g].toxicity[0]);
        if rules.escalation && t >= rules.escalation_min && t - tp >= rules.escalation_rise && gp_ok
        {
            v.reasons[i].push(ESCALATION);
            v.escalation[i] = Some(t - tp);
        }
    }
    for i in 0..n {
        v.flagged[i] = !v.reasons[i].is_empty();
    }
    // Author history: authors whose comments are mostly flagged.
    let mut per_author: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, c) in forest.comments.iter().enumerate() {
        if !scope[i] {
            continue;
        }
        if let Some(a) = c.author.as_deref() {
            let e = per_author.entry(a).or_default();
            e.0 += 1;
            e.1 += usize::from(v.flagged[i]);
        }
    }
    for (i, c) in forest.comments.iter().enumerate() {
        let Some(a) = c.author.as_deref() else {
            continue;
        };
        if !scope[i] {
            continue;
        }
        let (total, flagged) = per_author[a];
        if rules.author_history
            && v.flagged[i]
            && total >= rules.author_min_comments
            && flagged as f64 / total as f64 >= rules.author_flagged_share
        {
            v.reasons[i].push(AUTHOR_HISTORY);
        }
    }
    v
}

/// The moderation queue: flagged node indices, most severe first (ties in input order).
pub fn queue(v: &Verdicts) -> Vec<usize> {
    let mut q: Vec<usize> = (0..v.flagged.len()).filter(|&i| v.flagged[i]).collect();
    q.sort_by(|&a, &b| v.severity[b].total_cmp(&v.severity[a]).then(a.cmp(&b)));
    q
}

/// Ids from the thread's root down to the node, joined with " > "; past [`PATH_SHOWN`] ids
/// the middle is left out: `root > … 99988 more > c99989 > … > c100000`.
pub fn path_to_root(forest: &Forest, i: usize) -> String {
    let mut ids = vec![forest.comments[i].id.as_str()];
    let mut skipped = None;
    let mut cur = forest.nodes[i].parent;
    while let Some(p) = cur {
        if ids.len() == PATH_SHOWN && forest.nodes[p].parent.is_some() {
            // A deep chain: the root, a count, then the nearest ancestors (O(PATH_SHOWN)
            // per comment, not O(depth), so the queue stays small and fast to write).
            skipped = Some(forest.nodes[p].depth); // p and its ancestors below the root
            ids.push(forest.comments[forest.nodes[i].root].id.as_str());
            break;
        }
        ids.push(forest.comments[p].id.as_str());
        cur = forest.nodes[p].parent;
    }
    ids.reverse();
    match skipped {
        None => ids.join(" > "),
        Some(n) => format!("{} > … {n} more > {}", ids[0], ids[1..].join(" > ")),
    }
}

/// The most ids `path_to_root` lists before it elides the middle of a chain.
pub const PATH_SHOWN: usize = 12;

/// One thread's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThreadStats {
    pub root: usize,
    pub article: Option<usize>,
    /// Comments in the thread, out-of-scope ones included (they hold the structure).
    pub size: usize,
    /// Of those, deleted / spam / pingback / empty comments left out of every figure.
    pub excluded: usize,
    pub depth: u32,
    pub participants: usize,
    pub mean_toxicity: f32,
    pub max_toxicity: f32,
    /// Largest toxicity rise from a comment to a reply along any chain (0 if none rises).
    pub escalation: f32,
    pub flagged_share: f64,
    /// Replies with a reply stance (the reply model's), how many of them have an asserted one
    /// (agree, disagree or neutral; the rest are unclear, `score::calls`), and the share of
    /// those asserted that disagree with their parent: how contested the thread is.
    pub replies_with_stance: usize,
    pub replies_stance_known: usize,
    pub disagree_share: f64,
}

/// Per-thread figures, in thread order.
pub fn threads(forest: &Forest, scores: &[Scores], v: &Verdicts) -> Vec<ThreadStats> {
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, n) in forest.nodes.iter().enumerate() {
        by_root.entry(n.root).or_default().push(i);
    }
    by_root
        .into_iter()
        .map(|(root, all)| {
            let members: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&i| in_scope(&forest.comments[i]))
                .collect();
            let tox: Vec<f32> = members.iter().map(|&i| scores[i].toxicity[0]).collect();
            let mut authors: Vec<&str> = members
                .iter()
                .map(|&i| forest.comments[i].author.as_deref().unwrap_or(ANONYMOUS))
                .collect();
            authors.sort_unstable();
            authors.dedup();
            let escalation = members
                .iter()
                .filter_map(|&i| {
                    forest.nodes[i]
                        .parent
                        .filter(|&p| in_scope(&forest.comments[p]))
                        .map(|p| scores[i].toxicity[0] - scores[p].toxicity[0])
                })
                .fold(0f32, f32::max);
            let with_reply = members
                .iter()
                .filter(|&&i| scores[i].reply.is_some())
                .count();
            let known: Vec<usize> = members
                .iter()
                .filter_map(|&i| scores[i].reply_call)
                .collect();
            let per = |x: f64| {
                if members.is_empty() {
                    0.0
                } else {
                    x / members.len() as f64
                }
            };
            ThreadStats {
                root,
                article: forest.nodes[root].article,
                size: all.len(),
                excluded: all.len() - members.len(),
                depth: all
                    .iter()
                    .map(|&i| forest.nodes[i].depth)
                    .max()
                    .unwrap_or(0),
                participants: authors.len(),
                mean_toxicity: per(tox.iter().map(|&t| f64::from(t)).sum::<f64>()) as f32,
                max_toxicity: tox.iter().copied().fold(0.0, f32::max),
                escalation,
                flagged_share: per(members.iter().filter(|&&i| v.flagged[i]).count() as f64),
                replies_with_stance: with_reply,
                replies_stance_known: known.len(),
                disagree_share: if known.is_empty() {
                    0.0
                } else {
                    known.iter().filter(|&&c| c == 1).count() as f64 / known.len() as f64
                },
            }
        })
        .collect()
}

/// One author's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuthorStats {
    pub author: String,
    /// Some of the author's comments were attributed by inference, not signed.
    pub inferred: bool,
    pub comments: usize,
    pub flagged: usize,
    pub mean_toxicity: f32,
    /// Counts of asserted favor / against / none stances (comments with an article only;
    /// unclear ones in `stance_unclear`).
    pub stance: [usize; 3],
    pub stance_unclear: usize,
    pub replies_received: usize,
}

/// Per-author figures, most comments first (ties by name).
pub fn authors(forest: &Forest, scores: &[Scores], v: &Verdicts) -> Vec<AuthorStats> {
    let mut map: HashMap<String, AuthorStats> = HashMap::new();
    for (i, (n, c)) in forest.nodes.iter().zip(&forest.comments).enumerate() {
        if !in_scope(c) {
            continue;
        }
        let name = c.author.as_deref().unwrap_or(ANONYMOUS).to_string();
        let e = map.entry(name.clone()).or_insert_with(|| AuthorStats {
            author: name,
            inferred: false,
            comments: 0,
            flagged: 0,
            mean_toxicity: 0.0,
            stance: [0; 3],
            stance_unclear: 0,
            replies_received: 0,
        });
        e.inferred |= n.author_inferred;
        e.comments += 1;
        e.flagged += usize::from(v.flagged[i]);
        e.mean_toxicity += scores[i].toxicity[0];
        let s = &scores[i];
        tally(
            s.stance,
            s.stance_call,
            &mut e.stance,
            &mut e.stance_unclear,
        );
        e.replies_received += n.children.len();
    }
    let mut out: Vec<AuthorStats> = map
        .into_values()
        .map(|mut a| {
            a.mean_toxicity /= a.comments as f32;
            a
        })
        .collect();
    out.sort_by(|a, b| {
        b.comments
            .cmp(&a.comments)
            .then_with(|| a.author.cmp(&b.author))
    });
    out
}

/// Least number of comments with an asserted stance, and least share of the comments with a
/// stance, for the summary to show a table of shares (issue 35): below either, it says the
/// stance could not be read for most comments.
pub const MIN_KNOWN_STANCES: usize = 10;
pub const MIN_KNOWN_SHARE: f64 = 0.2;

/// An article's stance and tone figures.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ArticleStats {
    /// Comments in scope (see [`in_scope`]).
    pub comments: usize,
    /// Deleted / spam / pingback / empty comments of the article, left out of the figures.
    pub excluded: usize,
    pub threads: usize,
    pub flagged: usize,
    /// Comments with a stance toward the article (an article or topic to take one on): how
    /// many have an asserted favor / against / none (`score::calls`), and how many are unclear.
    pub stance_known: [usize; 3],
    pub stance_unclear: usize,
    /// Shares of favor / against / none among the comments with an asserted stance.
    pub stance_shares: [f64; 3],
    /// Shares of negative / neutral / positive.
    pub sentiment_shares: [f64; 3],
    /// Mean toxicity of comments at each reply depth (index 0 = top level) and their count;
    /// the last of at most [`DEPTH_BUCKETS`] rows holds every deeper comment too.
    pub toxicity_by_depth: Vec<(f32, usize)>,
    /// The most confident comments asserted favor and against, node indices, at most three
    /// each, by the probability of that side.
    pub representative: [Vec<usize>; 2],
    /// Comments whose stance was inferred through the thread (`Scores::stance_inferred`).
    pub stance_inferred: usize,
    /// Replies toward their parent by asserted reply stance: agree, disagree, neutral.
    pub reply_counts: [usize; 3],
    /// Replies with a reply stance that is unclear.
    pub reply_unclear: usize,
}

impl ArticleStats {
    /// Comments with an asserted stance.
    pub fn stance_known_total(&self) -> usize {
        self.stance_known.iter().sum()
    }

    /// Comments with a stance toward the article, known or unclear.
    pub fn stance_scored(&self) -> usize {
        self.stance_known_total() + self.stance_unclear
    }

    /// Whether any comment has a stance toward the article (there was a target).
    pub fn has_stance(&self) -> bool {
        self.stance_scored() > 0
    }

    /// Whether enough stances are known for a table of shares ([`MIN_KNOWN_STANCES`],
    /// [`MIN_KNOWN_SHARE`]).
    pub fn stance_readable(&self) -> bool {
        let k = self.stance_known_total();
        k >= MIN_KNOWN_STANCES && k as f64 >= MIN_KNOWN_SHARE * self.stance_scored() as f64
    }
}

/// Counts one stance output: its asserted label in `known`, or one more `unclear`; nothing
/// where there is no stance (`probs` is `None`).
fn tally(
    probs: Option<[f32; 3]>,
    call: Option<usize>,
    known: &mut [usize; 3],
    unclear: &mut usize,
) {
    if probs.is_some() {
        match call {
            Some(c) => known[c] += 1,
            None => *unclear += 1,
        }
    }
}

/// Rows of the toxicity-by-depth table and chart: depths 0 to 18, then "19+", so a chain
/// 100,000 replies deep still gives a short table and a small chart.
pub const DEPTH_BUCKETS: usize = 20;

/// The label of a depth row: its depth, or "19+" for the last row.
pub fn depth_label(d: usize) -> String {
    if d + 1 >= DEPTH_BUCKETS {
        format!("{}+", DEPTH_BUCKETS - 1)
    } else {
        d.to_string()
    }
}

/// Figures for the comments of one article (`article` = None: comments without one).
pub fn article_stats(
    forest: &Forest,
    scores: &[Scores],
    v: &Verdicts,
    article: Option<usize>,
) -> ArticleStats {
    let all: Vec<usize> = (0..forest.nodes.len())
        .filter(|&i| forest.nodes[i].article == article)
        .collect();
    let members: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| in_scope(&forest.comments[i]))
        .collect();
    let mut a = ArticleStats {
        comments: members.len(),
        excluded: all.len() - members.len(),
        ..Default::default()
    };
    if members.is_empty() {
        return a;
    }
    let mut roots: Vec<usize> = members.iter().map(|&i| forest.nodes[i].root).collect();
    roots.sort_unstable();
    roots.dedup();
    a.threads = roots.len();
    a.flagged = members.iter().filter(|&&i| v.flagged[i]).count();
    for &i in &members {
        let s = &scores[i];
        a.sentiment_shares[argmax(&s.sentiment)] += 1.0;
        let d = (forest.nodes[i].depth as usize).min(DEPTH_BUCKETS - 1);
        if a.toxicity_by_depth.len() <= d {
            a.toxicity_by_depth.resize(d + 1, (0.0, 0));
        }
        a.toxicity_by_depth[d].0 += s.toxicity[0];
        a.toxicity_by_depth[d].1 += 1;
        tally(
            s.reply,
            s.reply_call,
            &mut a.reply_counts,
            &mut a.reply_unclear,
        );
        a.stance_inferred += usize::from(s.stance_inferred && s.stance.is_some());
        tally(
            s.stance,
            s.stance_call,
            &mut a.stance_known,
            &mut a.stance_unclear,
        );
    }
    for x in &mut a.sentiment_shares {
        *x /= members.len() as f64;
    }
    for (sum, n) in &mut a.toxicity_by_depth {
        if *n > 0 {
            *sum /= *n as f32;
        }
    }
    if a.has_stance() {
        let known = a.stance_known_total();
        if known > 0 {
            for (x, n) in a.stance_shares.iter_mut().zip(a.stance_known) {
                *x = n as f64 / known as f64;
            }
        }
        // The most confident comments asserted to each side.
        for side in [0usize, 1] {
            let p = |i: usize| scores[i].stance.map_or(0.0, |s| s[side]);
            let mut c: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&i| scores[i].stance_call == Some(side))
                .collect();
            c.sort_by(|&x, &y| p(y).total_cmp(&p(x)).then(x.cmp(&y)));
            c.truncate(3);
            a.representative[side] = c;
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Comment, Input};

    fn forest(parents: &[Option<&str>]) -> Forest {
        let comments = parents
            .iter()
            .enumerate()
            .map(|(i, p)| Comment {
                id: format!("c{i}").into(),
                parent_id: p.map(Into::into),
                author: Some(if i % 2 == 0 { "ann" } else { "bob" }.into()),
                text: format!("text {i}"),
                parent_known: true,
                ..Default::default()
            })
            .collect();
        crate::thread::build(Input {
            comments,
            ..Default::default()
        })
    }

    fn s(tox: f32) -> Scores {
        Scores {
            sentiment: [0.2, 0.6, 0.2],
            toxicity: [tox, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            stance: None,
            ..Default::default()
        }
    }

    #[test]
    fn thresholds_use_greater_or_equal_and_name_reasons() {
        // c0 sits exactly on the toxicity default, c1 just below it but over threat's.
        let f = forest(&[None, None]);
        let tox = Attribute::Toxicity.default_threshold() as f32;
        let mut scores = vec![s(tox), s(tox - 0.01)];
        scores[1].toxicity[2] = 0.95; // threat
        assert!(f64::from(scores[1].toxicity[2]) >= Attribute::Threat.default_threshold());
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        assert_eq!(v.reasons[0], vec![TOXIC]);
        assert_eq!(v.reasons[1], vec![THREAT]);
        assert_eq!(v.flagged, vec![true, true]);
    }

    /// Severe toxicity and sexually explicit (Model v2) have their own reason codes, count in
    /// FLAG's maximum and in the severity.
    #[test]
    fn the_model_v2_attributes_have_reasons_and_count_in_flag_and_severity() {
        let f = forest(&[None, None, None, None]);
        let mut scores = vec![s(0.0); 4];
        scores[0].toxicity[5] = Attribute::SevereToxicity.default_threshold() as f32;
        scores[1].toxicity[6] = 1.0; // sexual_explicit
        scores[2].toxicity[5] = 0.6;
        scores[3].toxicity[6] = 0.59;
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        assert_eq!(v.reasons[0], vec![SEVERE_TOXICITY]);
        assert_eq!(v.reasons[1], vec![SEXUALLY_EXPLICIT]);
        // tier 3 (sexual content), the score kept below the next tier
        assert!((v.severity[1] - 3.9999).abs() < 1e-6, "{}", v.severity[1]);
        let th: Thresholds = toml::from_str(
            "[severe_toxicity]\nthreshold = 1\n[sexual_explicit]\nthreshold = 1\n[flag]\nthreshold = 0.6\n",
        )
        .unwrap();
        let v = judge(&f, &scores, &th, &Rules::default());
        assert_eq!(v.reasons[2], vec![FLAG], "flag is the highest of the seven");
        assert!(v.reasons[3].is_empty());
        // tier 1: only the flag floor
        assert!((v.severity[2] - 1.6).abs() < 1e-6, "{}", v.severity[2]);
    }

    /// The queue ranks by harm: an identity attack above insults, insults above profanity
    /// alone, and a context rule alone last; ESCALATION and AUTHOR_HISTORY add a reason but
    /// cannot lift profanity over a slur (issue 40).
    #[test]
    fn the_queue_ranks_by_harm_and_context_rules_do_not_lift_profanity() {
        // c0 a profanity-only root, c1 its profane reply (escalates), c2 a slur, c3 an
        // insult, c5 a reply that only escalates over its calm parent c4.
        let f = forest(&[None, Some("c0"), None, None, None, Some("c4")]);
        let th = Thresholds::default();
        let at = |a: Attribute| th.get(a) as f32;
        let mut sc = vec![s(0.0); 6];
        sc[0].toxicity[3] = 0.99; // obscene
        sc[1].toxicity[3] = 0.99;
        sc[1].toxicity[0] = 0.95_f32.min(at(Attribute::Toxicity) - 0.01); // rises, not TOXIC
        sc[2].toxicity[4] = at(Attribute::IdentityAttack); // just over its threshold
        sc[3].toxicity[1] = at(Attribute::Insult);
        sc[4].toxicity[0] = 0.0;
        sc[5].toxicity[0] = (at(Attribute::Toxicity) - 0.01).max(0.5);
        let rules = Rules {
            escalation_min: 0.5,
            escalation_rise: 0.3,
            author_min_comments: 1,
            author_flagged_share: 0.5,
            ..Default::default()
        };
        let v = judge(&f, &sc, &th, &rules);
        assert!(v.reasons[1].contains(&ESCALATION), "{:?}", v.reasons[1]);
        // a context rule alone (and the author's history), no attribute
        assert_eq!(v.reasons[5], vec![ESCALATION, AUTHOR_HISTORY]);
        // the rules did fire on the profanity: they add a reason, not severity
        assert!(v.reasons[0].contains(&AUTHOR_HISTORY), "{:?}", v.reasons[0]);
        let q = queue(&v);
        assert_eq!(q, vec![2, 3, 0, 1, 5], "severity {:?}", v.severity);
        assert!(v.severity[2] >= 3.0 && v.severity[3] >= 2.0 && v.severity[3] < 3.0);
        assert!(v.severity[0] < 2.0 && v.severity[5] < 1.0);
    }

    #[test]
    fn escalation_needs_a_rising_chain() {
        // c0 (0.1) <- c1 (0.3) <- c2 (0.8): rises by 0.5 over a parent that rose too.
        let f = forest(&[None, Some("c0"), Some("c1")]);
        let v = judge(
            &f,
            &[s(0.1), s(0.3), s(0.8)],
            &Thresholds::default(),
            &Rules::default(),
        );
        assert_eq!(v.reasons[2], vec![ESCALATION]);
        assert!(v.flagged[2] && !v.flagged[1]);
        // Below the default floor (0.75, re-derived on ToxiChat dev), a rise is not enough.
        let v = judge(
            &f,
            &[s(0.1), s(0.3), s(0.7)],
            &Thresholds::default(),
            &Rules::default(),
        );
        assert!(v.reasons[2].is_empty());
        // Parent cooled down from the grandparent: not an escalating chain.
        let v = judge(
            &f,
            &[s(0.5), s(0.2), s(0.8)],
            &Thresholds::default(),
            &Rules::default(),
        );
        assert!(v.reasons[2].is_empty());
    }

    /// With `[language]` on, a comment in another language is queued as UNSCORED_LANGUAGE
    /// only, at the bottom, whatever its scores (c3 at 0.95); no ESCALATION is read off an
    /// unscored parent (c2 rises 0.7 over c1, which escalates with the rule off).
    #[test]
    fn comments_in_other_languages_are_queued_unscored_below_every_flag() {
        let f = forest(&[None, Some("c0"), Some("c1"), None]);
        let other = |tox| Scores {
            lang: Some("spa"),
            ..s(tox)
        };
        let on = Rules {
            language_min_words: Some(1),
            ..Rules::default()
        };
        let scores = [s(0.1), other(0.2), s(0.9), other(0.95)];
        let v = judge(&f, &scores, &Thresholds::default(), &on);
        assert_eq!(v.reasons[3], vec![UNSCORED_LANGUAGE]);
        assert_eq!(v.reasons[1], vec![UNSCORED_LANGUAGE]);
        assert_eq!(v.reasons[2], vec![TOXIC]);
        assert_eq!(queue(&v), vec![2, 1, 3]);
        // With the rule off (the default) the detected language changes nothing: the chain
        // escalates and the Spanish root is flagged by its score.
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        assert!(v.reasons[2].contains(&ESCALATION), "{:?}", v.reasons[2]);
        assert_eq!(v.reasons[3], vec![TOXIC]);
    }

    #[test]
    fn author_history_marks_repeat_offenders() {
        // ann writes c0, c2, c4 — all toxic; bob writes c1, c3 — clean.
        let f = forest(&[None, None, None, None, None]);
        let th: Thresholds = toml::from_str("[toxicity]\nthreshold = 0.8\n").unwrap();
        let v = judge(
            &f,
            &[s(0.9), s(0.0), s(0.9), s(0.0), s(0.9)],
            &th,
            &Rules::default(),
        );
        for i in [0, 2, 4] {
            assert_eq!(v.reasons[i], vec![TOXIC, AUTHOR_HISTORY], "{i}");
        }
        assert_eq!(queue(&v).len(), 3);
    }

    /// Issue 40: the thresholds file turns the context rules off or tunes them.
    #[test]
    fn the_thresholds_file_turns_context_rules_off_or_tunes_them() {
        let chain = forest(&[None, Some("c0"), Some("c1")]);
        let scores = [s(0.1), s(0.3), s(0.7)];
        let rules = |toml_text: &str| {
            let th = Thresholds::parse(toml_text, std::path::Path::new("t.toml")).unwrap();
            Rules::from_thresholds(&th)
        };
        let th = Thresholds::default();
        let off = rules("[escalation]\nenabled = false\n");
        assert!(judge(&chain, &scores, &th, &off).reasons[2].is_empty());
        let higher = rules("[escalation]\nrise = 0.5\n");
        assert!(judge(&chain, &scores, &th, &higher).reasons[2].is_empty());
        let lower = rules("[escalation]\nmin = 0.6\nrise = 0.35\n");
        assert_eq!(
            judge(&chain, &scores, &th, &lower).reasons[2],
            vec![ESCALATION]
        );

        let five = forest(&[None, None, None, None, None]);
        let th: Thresholds = toml::from_str("[toxicity]\nthreshold = 0.8\n").unwrap();
        let scores = [s(0.9), s(0.0), s(0.9), s(0.0), s(0.9)];
        for text in [
            "[author_history]\nenabled = false\n",
            "[author_history]\nmin_comments = 4\n",
        ] {
            let v = judge(&five, &scores, &th, &rules(text));
            assert_eq!(v.reasons[0], vec![TOXIC], "{text}");
        }
    }

    #[test]
    fn queue_is_most_severe_first_and_stable() {
        let f = forest(&[None, None, None]);
        let th: Thresholds = toml::from_str("[toxicity]\nthreshold = 0.8\n").unwrap();
        let v = judge(&f, &[s(0.85), s(0.95), s(0.85)], &th, &Rules::default());
        assert_eq!(queue(&v), vec![1, 0, 2]);
    }

    #[test]
    fn path_and_thread_stats() {
        let f = forest(&[None, Some("c0"), Some("c1"), None]);
        let scores = vec![s(0.1), s(0.2), s(0.9), s(0.0)];
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        let leaf = f.comments.iter().position(|c| c.id == "c2").unwrap();
        assert_eq!(path_to_root(&f, leaf), "c0 > c1 > c2");
        let t = threads(&f, &scores, &v);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].size, t[0].depth, t[0].participants), (3, 2, 2));
        assert!((t[0].max_toxicity - 0.9).abs() < 1e-6);
        assert!((t[0].escalation - 0.7).abs() < 1e-6);
    }

    #[test]
    fn shares_and_examples_count_only_asserted_stances() {
        let f = forest(&[None, None, None, None, None]);
        let mut scores = vec![s(0.0); 5];
        // (probabilities, asserted label)
        for (i, (st, call)) in [
            ([0.8, 0.1, 0.1], Some(0)),
            ([0.9, 0.05, 0.05], Some(0)),
            ([0.2, 0.7, 0.1], Some(1)),
            ([0.45, 0.1, 0.45], None),
            ([0.6, 0.3, 0.1], None),
        ]
        .into_iter()
        .enumerate()
        {
            scores[i].stance = Some(st);
            scores[i].stance_call = call;
        }
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        let a = article_stats(&f, &scores, &v, None);
        assert_eq!((a.stance_scored(), a.stance_known), (5, [2, 1, 0]));
        // the most confident asserted favor first; an unclear comment leaning to favor never shows
        assert_eq!(a.representative, [vec![1, 0], vec![2]]);
        assert_eq!(a.stance_shares, [2.0 / 3.0, 1.0 / 3.0, 0.0]);
        // 3 known: fewer than MIN_KNOWN_STANCES, so no table of shares
        assert!(!a.stance_readable());
    }

    #[test]
    fn stances_are_readable_with_enough_known_of_enough_comments() {
        let n = 50;
        let f = forest(&vec![None; n]);
        let mut scores = vec![s(0.0); n];
        for (i, sc) in scores.iter_mut().enumerate() {
            sc.stance = Some([0.5, 0.3, 0.2]);
            sc.stance_call = (i < 10).then_some(0);
        }
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        // 10 of 50 known: exactly the least count and the least share
        assert!(article_stats(&f, &scores, &v, None).stance_readable());
        scores[9].stance_call = None;
        assert!(!article_stats(&f, &scores, &v, None).stance_readable());
    }

    #[test]
    fn disagreement_is_a_share_of_the_known_reply_stances() {
        let f = forest(&[None, Some("c0"), Some("c0"), Some("c0"), Some("c0")]);
        let mut scores = vec![s(0.0); 5];
        for (i, call) in [(1, Some(1)), (2, Some(2)), (3, None), (4, Some(1))] {
            scores[i].reply = Some([0.2, 0.5, 0.3]);
            scores[i].reply_call = call;
        }
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        let t = &threads(&f, &scores, &v)[0];
        assert_eq!((t.replies_with_stance, t.replies_stance_known), (4, 3));
        assert!((t.disagree_share - 2.0 / 3.0).abs() < 1e-9);
        let a = article_stats(&f, &scores, &v, None);
        assert_eq!((a.reply_counts, a.reply_unclear), ([0, 2, 1], 1));
    }

    #[test]
    fn a_score_equal_to_the_threshold_as_written_is_flagged() {
        // 0.5761 as f32 is 0.57609999…; the CSV shows 0.5761 and tune counted it as 0.5761.
        let f = forest(&[None]);
        let th: Thresholds = toml::from_str("[toxicity]\nthreshold = 0.5761\n").unwrap();
        let v = judge(&f, &[s(0.5761)], &th, &Rules::default());
        assert_eq!(v.reasons[0], vec![TOXIC]);
        let v = judge(&f, &[s(0.57604)], &th, &Rules::default());
        assert!(v.reasons[0].is_empty());
    }

    #[test]
    fn deleted_spam_pingbacks_and_empty_texts_are_never_flagged_nor_counted() {
        let mut f = forest(&[None, Some("c0"), Some("c1"), None, None]);
        f.comments[0].deleted = true;
        f.comments[0].text.clear();
        f.comments[3].spam = true;
        f.comments[4].kind = CommentKind::Pingback;
        let scores = vec![s(0.0), s(0.1), s(0.9), s(0.95), s(0.95)];
        let v = judge(&f, &scores, &Thresholds::default(), &Rules::default());
        let flagged: Vec<&str> = (0..5)
            .filter(|&i| v.flagged[i])
            .map(|i| f.comments[i].id.as_str())
            .collect();
        assert_eq!(flagged, ["c2"]);
        let statuses: Vec<&str> = f.comments.iter().map(Comment::status).collect();
        assert_eq!(statuses, ["deleted", "", "", "spam", "pingback"]);
        let a = article_stats(&f, &scores, &v, None);
        assert_eq!((a.comments, a.excluded, a.flagged), (2, 3, 1));
        let t = threads(&f, &scores, &v);
        assert_eq!((t[0].size, t[0].excluded), (3, 1));
        assert!((t[0].mean_toxicity - 0.5).abs() < 1e-6);
        // c1's parent c0 is deleted: no escalation measured from it.
        assert!((t[0].escalation - 0.8).abs() < 1e-6);
        let names: Vec<String> = authors(&f, &scores, &v)
            .into_iter()
            .map(|a| a.author)
            .collect();
        assert_eq!(names, ["ann", "bob"]);
    }

    #[test]
    fn empty_forest_gives_empty_figures() {
        let f = forest(&[]);
        let v = judge(&f, &[], &Thresholds::default(), &Rules::default());
        assert!(queue(&v).is_empty());
        assert!(threads(&f, &[], &v).is_empty());
        assert!(authors(&f, &[], &v).is_empty());
        assert_eq!(article_stats(&f, &[], &v, None).comments, 0);
    }
}
