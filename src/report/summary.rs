//! `summary.md` and `summary.html`: a table of articles, then per article its title, counts,
//! stance toward the article (overall and thread-weighted, with the most representative
//! comments of each side), sentiment, toxicity by reply depth, the most heated threads, and the
//! thread builder's integrity report. The HTML is one self-contained file (inline SVG charts,
//! inline CSS, no scripts); every piece of user text is escaped.

use std::fmt::Write as _;

use super::analysis::{article_stats, ArticleStats, Rules, ThreadStats, Verdicts};
use super::charts::bar_chart;
use super::safe::html;
use super::ModelFacts;
use crate::score::figures::{FlagFigures, SourceFigures};
use crate::score::scorer::Scores;
use crate::thread::Forest;
use crate::tune::thresholds::{Attribute, Thresholds};

/// What the thread adds to stance: replies' stance toward their parents and how many
/// stances were inferred through the thread.
fn thread_note(st: &super::analysis::ArticleStats, disagreement: bool) -> String {
    let r = st.reply_counts;
    let known: usize = r.iter().sum();
    let mut s = if known + st.reply_unclear == 0 {
        "No reply stance: there are no replies, or this run did not read it (--stance-model \
         embedding-reply or pair reads each reply's stance toward the comment it answers)."
            .to_string()
    } else {
        format!(
            "Replies toward the comment they answer: {} agree, {} disagree, {} neutral; {} unclear \
             (the model is not sure enough to say).",
            r[0], r[1], r[2], st.reply_unclear
        )
    };
    if known + st.reply_unclear > 0 && !disagreement {
        s.push_str(
            " This model is never sure enough to say that a reply disagrees (models/README.md, \
             stance v3), so contested threads cannot be read from reply stance.",
        );
    }
    if st.stance_inferred > 0 {
        s.push_str(&format!(
            " {} stance(s) inferred through the thread: replies that only agree or disagree with a parent whose stance is clear take it (or its opposite); `stance_source` = thread in comments.csv.",
            st.stance_inferred
        ));
    }
    s
}

/// Said under every stance section: what "known" and "unclear" mean, and where the figures
/// behind them are.
const STANCE_CAVEAT: &str = "A stance is shown only where the model is sure enough that, on \
     held-out comments, such labels were right at least 3 times in 4; the rest are unclear \
     (models/README.md, stance v3). Read the comments before relying on the shares.";

/// Whether an article's stance shares are shown: enough comments have a known stance
/// ([`ArticleStats::stance_readable`]) and the model can assert both sides
/// ([`StanceCalls::sides`]).
fn shares_shown(st: &ArticleStats, sides: bool) -> bool {
    sides && st.stance_readable()
}

/// How the queue is ordered, said above its table (`analysis::HARM_TIER`).
const SEVERITY_NOTE: &str = "Ordered by severity, a harm tier plus a score: 3 for an identity \
     attack, threat, severe toxicity or sexual content, 2 for toxic or insulting, 1 for \
     profanity (or only the flag floor), 0 for a context rule alone; context rules add a reason, \
     never severity.";

/// The stance part of an article's section, in words, rendered by both summaries.
struct StanceText {
    /// One line of counts: how many comments have a known stance, how many are unclear.
    counts: String,
    /// favor / against / none: count and share among known stances; `None` where too few
    /// stances are known for shares ([`ArticleStats::stance_readable`]).
    shares: Option<[String; 3]>,
    /// What is said instead of the shares.
    unreadable: Option<String>,
}

fn stance_text(st: &ArticleStats, sides: bool) -> StanceText {
    let (known, unclear) = (st.stance_known_total(), st.stance_unclear);
    let counts = format!(
        "{known} of {} comments have a known stance toward the article; {unclear} ({}) are unclear.",
        st.stance_scored(),
        pct(unclear as f64 / st.stance_scored().max(1) as f64)
    );
    if !sides {
        return StanceText {
            counts,
            shares: None,
            unreadable: Some(
                "Stance could not be read for most comments: this model is not sure enough of \
                 favor or against on held-out comments to say either (models/README.md, stance \
                 v3), so no shares are shown."
                    .to_string(),
            ),
        };
    }
    if shares_shown(st, sides) {
        let cell = |c: usize| format!("{} ({})", pct(st.stance_shares[c]), st.stance_known[c]);
        StanceText {
            counts,
            shares: Some([cell(0), cell(1), cell(2)]),
            unreadable: None,
        }
    } else {
        StanceText {
            counts,
            shares: None,
            unreadable: Some(format!(
                "Stance could not be read for most comments: no table of shares (it needs at \
                 least {} comments with a known stance, and at least {} of the comments).",
                super::analysis::MIN_KNOWN_STANCES,
                pct(super::analysis::MIN_KNOWN_SHARE)
            )),
        }
    }
}

/// Said under "Most heated threads" when no thread has two comments or more.
const NO_DISCUSSION: &str = "No thread here has two comments or more.";

/// Said above the heated-threads table when none of its threads has a flagged comment, so a
/// moderator does not read the highest scores on a calm page as heat.
fn heated_note(threads: &[ThreadStats], heated: &[usize]) -> Option<&'static str> {
    (!heated.is_empty() && heated.iter().all(|&t| threads[t].flagged_share == 0.0)).then_some(
        "No thread here has a flagged comment: these are only the highest toxicity scores on the \
         page (a score is about the share of readers who would call the comment toxic).",
    )
}

/// "40 % of 5, 2 unclear" (the share of a thread's replies with a known reply stance that
/// disagree with their parent), or "–" where no reply has a reply stance.
fn disagreeing(t: &super::analysis::ThreadStats, disagreement: bool) -> String {
    let unclear = t.replies_with_stance - t.replies_stance_known;
    match (t.replies_with_stance, t.replies_stance_known) {
        (0, _) => "–".to_string(),
        _ if !disagreement => "not read".to_string(),
        (_, 0) => format!("unclear ({unclear})"),
        (_, k) => format!("{} of {k}, {unclear} unclear", pct(t.disagree_share)),
    }
}

/// One article's section, computed once and rendered twice.
pub struct Section {
    pub anchor: String,
    pub title: String,
    pub url: Option<String>,
    pub stats: ArticleStats,
    pub heated: Vec<usize>,
    pub charts: Vec<(String, String)>,
}

/// Everything the summaries show.
pub struct Summary {
    pub sections: Vec<Section>,
    /// The top of the moderation queue (node indices, most severe first).
    pub queue_top: Vec<usize>,
    /// Reason codes and severity of every node.
    pub reasons: Vec<String>,
    pub severity: Vec<f32>,
    pub model_id: String,
    pub precision: String,
    pub integrity_md: String,
    pub rejects: Vec<String>,
    /// How comments were flagged: one line per attribute threshold, then the other rules.
    pub rules: Vec<String>,
    /// Whether the model in use can assert favor and against ([`StanceCalls::sides`]), and a
    /// reply's disagreement ([`StanceCalls::disagreement`]).
    pub sides: bool,
    pub disagreement: bool,
    /// Comments in scope the detector reads as a language other than English, per ISO 639-3
    /// code, most first ([`languages`]).
    pub languages: Vec<(&'static str, usize)>,
    /// Whether UNSCORED_LANGUAGE is on (`[language]` in the thresholds file).
    pub language_rule: bool,
    /// Where every attribute threshold in force is a default: what the defaults were measured
    /// to do on held-out comments, or why that is not known. `None` where a thresholds file
    /// sets some (each such line says what it was tuned for).
    pub defaults_measured: Option<Result<Vec<SourceFigures>, String>>,
}

/// Counts the comments in scope that the detector reads as another language than English.
fn languages(forest: &Forest, scores: &[Scores]) -> Vec<(&'static str, usize)> {
    let mut n: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for (c, s) in forest.comments.iter().zip(scores) {
        if let Some(code) = s.lang.filter(|&l| l != crate::score::lang::ENGLISH) {
            if super::analysis::in_scope(c) {
                *n.entry(code).or_default() += 1;
            }
        }
    }
    let mut v: Vec<_> = n.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// The sentence about comments in other languages, if any: how many, which, and what it means.
fn languages_note(s: &Summary, on: bool) -> Option<String> {
    let total: usize = s.languages.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let list: Vec<String> = s
        .languages
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect();
    let what = if on {
        "those with enough words are queued as UNSCORED_LANGUAGE for a person to read"
    } else {
        "their scores come from models trained on English and may mean nothing; the `lang` column in comments.csv marks them"
    };
    Some(format!(
        "**{total} comment(s) read as another language** ({}): {what}.",
        list.join(", ")
    ))
}

/// What the default thresholds were measured to do, where every threshold in force is one.
fn defaults_measured(
    th: &Thresholds,
    figures: &FlagFigures,
) -> Option<Result<Vec<SourceFigures>, String>> {
    if Attribute::ALL.iter().any(|&a| th.entry(a).is_some()) {
        return None;
    }
    Some(match &figures.note {
        Some(why) => Err(why.clone()),
        None if figures.sources.is_empty() => {
            Err("the figures file holds none of the sources shown".to_string())
        }
        None => Ok(figures.sources.clone()),
    })
}

/// Where a tuned threshold came from, with what it was measured to do on the labelled sample
/// where the thresholds file records it.
fn tuned_source(t: &crate::tune::thresholds::Threshold) -> String {
    let mut s = match &t.objective {
        Some(o) => format!("thresholds file, tuned for {o}"),
        None => "thresholds file".to_string(),
    };
    let measured: Vec<String> = [("precision", t.precision), ("recall", t.recall)]
        .iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {v:.2}")))
        .collect();
    if !measured.is_empty() {
        s.push_str(&format!(": {}", measured.join(" and ")));
        if let Some(n) = t.samples {
            s.push_str(&format!(" on {n} labelled comments"));
        }
    }
    s
}

/// The flagging rules in force, in words: each attribute's threshold and where it came from,
/// then ESCALATION and AUTHOR_HISTORY.
fn rules_in_force(th: &Thresholds, rules: &Rules) -> Vec<String> {
    let mut out: Vec<String> = Attribute::ALL
        .iter()
        .map(|&a| {
            let source = match th.entry(a) {
                Some(t) => tuned_source(t),
                None => "default".to_string(),
            };
            let what = if a == Attribute::Flag {
                "flag (highest of the seven scores, when no attribute fired)".to_string()
            } else {
                a.name().to_string()
            };
            format!("{what} ≥ {} ({source})", th.get(a))
        })
        .collect();
    out.push(if rules.escalation {
        format!(
            "ESCALATION: a reply with toxicity ≥ {} that is ≥ {} above its parent's, whose own toxicity did not fall from its parent's",
            rules.escalation_min, rules.escalation_rise
        )
    } else {
        "ESCALATION: off (thresholds file)".to_string()
    });
    out.push(if rules.author_history {
        format!(
            "AUTHOR_HISTORY: a flagged comment whose author has ≥ {} comments here, ≥ {:.0} % of them flagged",
            rules.author_min_comments,
            100.0 * rules.author_flagged_share
        )
    } else {
        "AUTHOR_HISTORY: off (thresholds file)".to_string()
    });
    out.push(match rules.language_min_words {
        Some(w) => format!(
            "UNSCORED_LANGUAGE: a comment of ≥ {w} words the detector reads as another language is queued for a person instead of being judged by its scores"
        ),
        None => "UNSCORED_LANGUAGE: off (the default; comments in other languages are judged by their scores, which the English models cannot give them; `[language]` turns it on)".to_string(),
    });
    out
}

fn pct(x: f64) -> String {
    format!("{:.0} %", 100.0 * x)
}

fn snippet(s: &str, n: usize) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        one_line.chars().take(n).collect::<String>() + "…"
    }
}

/// Builds the sections: one per article with comments or with a title, plus one for comments
/// without an article.
pub fn build(
    forest: &Forest,
    scores: &[Scores],
    v: &Verdicts,
    threads: &[ThreadStats],
    thresholds: &Thresholds,
    model: &ModelFacts,
) -> Summary {
    let calls = model.calls;
    let mut keys: Vec<Option<usize>> = (0..forest.articles.len()).map(Some).collect();
    if forest.nodes.iter().any(|n| n.article.is_none()) {
        keys.push(None);
    }
    let mut sections = Vec::new();
    for (k, key) in keys.into_iter().enumerate() {
        let stats = article_stats(forest, scores, v, key);
        let (title, url) = match key {
            Some(a) => {
                let art = &forest.articles[a];
                (
                    art.title
                        .clone()
                        .unwrap_or_else(|| format!("article {}", art.key)),
                    art.url.clone(),
                )
            }
            None => ("Comments without an article".to_string(), None),
        };
        // A thread of one comment is not a discussion: heated threads have two or more.
        let mut heated: Vec<usize> = (0..threads.len())
            .filter(|&t| threads[t].article == key && threads[t].size - threads[t].excluded >= 2)
            .collect();
        // Threads with flagged comments first (most flagged first), then by toxicity.
        let flagged =
            |t: usize| threads[t].flagged_share * (threads[t].size - threads[t].excluded) as f64;
        heated.sort_by(|&a, &b| {
            let ha = threads[a].max_toxicity + threads[a].mean_toxicity;
            let hb = threads[b].max_toxicity + threads[b].mean_toxicity;
            flagged(b)
                .total_cmp(&flagged(a))
                .then(hb.total_cmp(&ha))
                .then(a.cmp(&b))
        });
        heated.truncate(5);
        let mut charts = Vec::new();
        if stats.comments > 0 {
            let labels = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            if shares_shown(&stats, calls.sides()) {
                charts.push((
                    "stance".to_string(),
                    bar_chart(
                        "Stance toward the article",
                        &labels(&["favor", "against", "none"]),
                        &stats.stance_shares,
                        1.0,
                        "share",
                        &super::charts::STANCE_COLORS,
                    ),
                ));
            }
            charts.push((
                "sentiment".to_string(),
                bar_chart(
                    "Sentiment",
                    &labels(&["negative", "neutral", "positive"]),
                    &stats.sentiment_shares,
                    1.0,
                    "share",
                    &super::charts::SENTIMENT_COLORS,
                ),
            ));
            let depth_labels: Vec<String> = (0..stats.toxicity_by_depth.len())
                .map(|d| format!("depth {}", super::analysis::depth_label(d)))
                .collect();
            let depth_values: Vec<f64> = stats
                .toxicity_by_depth
                .iter()
                .map(|(m, _)| f64::from(*m))
                .collect();
            charts.push((
                "toxicity-by-depth".to_string(),
                bar_chart(
                    "Mean toxicity by reply depth",
                    &depth_labels,
                    &depth_values,
                    1.0,
                    "toxicity",
                    &super::charts::SINGLE_COLOR,
                ),
            ));
        }
        sections.push(Section {
            anchor: format!("article-{}", k + 1),
            title,
            url,
            stats,
            heated,
            charts,
        });
    }
    let mut queue_top = super::analysis::queue(v);
    queue_top.truncate(10);
    Summary {
        sections,
        queue_top,
        reasons: v.reasons.iter().map(|r| r.join(" ")).collect(),
        severity: v.severity.clone(),
        model_id: model.id.to_string(),
        precision: model.precision.to_string(),
        integrity_md: demote_headings(&forest.integrity.to_markdown(), 2),
        rejects: forest.rejects.iter().map(|r| r.to_string()).collect(),
        rules: rules_in_force(thresholds, &Rules::from_thresholds(thresholds)),
        sides: calls.sides(),
        disagreement: calls.disagreement(),
        languages: languages(forest, scores),
        language_rule: Rules::from_thresholds(thresholds)
            .language_min_words
            .is_some(),
        defaults_measured: defaults_measured(thresholds, model.figures),
    }
}

/// The integrity report's Markdown (headings, bullet lists, lines of text: all it uses) as
/// HTML, every piece of text escaped: ids and file names come from the input.
fn integrity_html(md: &str) -> String {
    let mut out = String::new();
    let mut in_list = false;
    for line in md.lines() {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let item = line.strip_prefix("- ");
        if in_list && item.is_none() {
            out.push_str("</ul>\n");
            in_list = false;
        }
        if hashes > 0 && line[hashes..].starts_with(' ') {
            // The section sits under an <h2> (the Markdown is demoted to match): <h3> and below.
            let level = hashes.clamp(3, 6);
            let _ = writeln!(out, "<h{level}>{}</h{level}>", html(line[hashes..].trim()));
        } else if let Some(item) = item {
            if !in_list {
                out.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(out, "<li>{}</li>", html(item));
        } else if !line.trim().is_empty() {
            let _ = writeln!(out, "<p>{}</p>", html(line.trim()));
        }
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

/// Moves Markdown headings `by` levels down, so a report embedded under an `##` heading
/// keeps a sensible outline.
fn demote_headings(md: &str, by: usize) -> String {
    let mut out = String::with_capacity(md.len() + 16);
    for line in md.lines() {
        if line.starts_with('#') {
            out.push_str(&"#".repeat(by));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The sentence under the headline when nothing was scored.
fn nothing_to_score(s: &Summary) -> &'static str {
    if s.sections.is_empty() {
        "No comments and no articles were found in the input."
    } else {
        "The articles below were read, but none of them has comments."
    }
}

/// "; N left out (deleted, spam, pingbacks, empty)" when any were.
fn excluded_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!("; {n} more left out of every figure (deleted, spam, pingbacks or empty)")
    }
}

fn totals(s: &Summary) -> (usize, usize, usize) {
    s.sections.iter().fold((0, 0, 0), |acc, x| {
        (
            acc.0 + x.stats.comments,
            acc.1 + x.stats.threads,
            acc.2 + x.stats.flagged,
        )
    })
}

/// The articles table's favor / against / none / unclear cells: shares among known stances
/// where they can be read, and the share of comments whose stance is unclear.
fn stance_cells(st: &ArticleStats, sides: bool) -> [String; 4] {
    if !st.has_stance() {
        return ["–".into(), "–".into(), "–".into(), "–".into()];
    }
    let unclear = pct(st.stance_unclear as f64 / st.stance_scored() as f64);
    if shares_shown(st, sides) {
        [
            pct(st.stance_shares[0]),
            pct(st.stance_shares[1]),
            pct(st.stance_shares[2]),
            unclear,
        ]
    } else {
        ["–".into(), "–".into(), "–".into(), unclear]
    }
}

/// Markdown rendering; charts are linked as files under `charts/`.
pub fn markdown(
    s: &Summary,
    forest: &Forest,
    scores: &[Scores],
    threads: &[ThreadStats],
) -> String {
    let mut m = String::new();
    md_overview(&mut m, s);
    md_queue_top(&mut m, s, forest, scores);
    for sec in &s.sections {
        md_article(&mut m, s, sec, forest, scores, threads);
    }
    md_rules_and_integrity(&mut m, s);
    m
}

/// The headline, the note on other languages and the table of articles.
fn md_overview(m: &mut String, s: &Summary) {
    let (c, t, f) = totals(s);
    let _ = writeln!(m, "# threadlens summary\n");
    let _ = writeln!(
        m,
        "{c} comments in {t} threads across {} article(s); {f} flagged. Model `{}` ({}).\n",
        s.sections.len(),
        s.model_id,
        s.precision
    );
    if c == 0 {
        let _ = writeln!(m, "**No comments to score.** {}\n", nothing_to_score(s));
    }
    if let Some(note) = languages_note(s, s.language_rule) {
        let _ = writeln!(m, "{note}\n");
    }
    let _ = writeln!(m, "| article | comments | threads | flagged | favor | against | none | stance unclear |\n|---|---:|---:|---:|---:|---:|---:|---:|");
    for sec in &s.sections {
        let st = stance_cells(&sec.stats, s.sides);
        let flagged = if sec.stats.comments > 0 {
            pct(sec.stats.flagged as f64 / sec.stats.comments as f64)
        } else {
            "–".into()
        };
        let _ = writeln!(
            m,
            "| [{}](#{}) | {} | {} | {} | {} | {} | {} | {} |",
            md_text(&sec.title),
            sec.anchor,
            sec.stats.comments,
            sec.stats.threads,
            flagged,
            st[0],
            st[1],
            st[2],
            st[3]
        );
    }
}

/// The first rows of the moderation queue.
fn md_queue_top(m: &mut String, s: &Summary, forest: &Forest, scores: &[Scores]) {
    if !s.queue_top.is_empty() {
        let _ = writeln!(m, "\n## Top of the moderation queue\n\nThe full queue, with parent comments as context, is in `queue.csv`. {SEVERITY_NOTE}\n");
        let _ = writeln!(
            m,
            "| # | severity | id | author | reasons | toxicity | comment |\n|---:|---:|---|---|---|---:|---|"
        );
        for (rank, &i) in s.queue_top.iter().enumerate() {
            let n = &forest.comments[i];
            let _ = writeln!(
                m,
                "| {} | {:.2} | {} | {} | {} | {:.2} | {} |",
                rank + 1,
                s.severity[i],
                match web_link(n) {
                    Some(url) => format!("[{}](<{url}>)", md_text(&n.id)),
                    None => md_text(&n.id),
                },
                md_text(n.author.as_deref().unwrap_or("(anonymous)")),
                s.reasons[i],
                scores[i].toxicity[0],
                md_text(&snippet(&n.text, 160))
            );
        }
    }
}

/// One article's section: counts, stance, charts, sentiment, toxicity by depth, heated threads.
fn md_article(
    m: &mut String,
    s: &Summary,
    sec: &Section,
    forest: &Forest,
    scores: &[Scores],
    threads: &[ThreadStats],
) {
    let _ = writeln!(
        m,
        "\n<a id=\"{}\"></a>\n## {}\n",
        sec.anchor,
        md_text(&sec.title)
    );
    if let Some(u) = &sec.url {
        let _ = writeln!(m, "<{}>\n", md_text(u));
    }
    let st = &sec.stats;
    if st.comments == 0 {
        let _ = writeln!(
            m,
            "No comments on this article{}.",
            excluded_note(st.excluded)
        );
        return;
    }
    let _ = writeln!(
        m,
        "{} comments in {} threads; {} flagged{}.\n",
        st.comments,
        st.threads,
        st.flagged,
        excluded_note(st.excluded)
    );
    md_stance(m, s, sec, forest, scores);
    for (name, _) in &sec.charts {
        let _ = writeln!(m, "![{name}](charts/{}-{name}.svg)", sec.anchor);
    }
    let sh = st.sentiment_shares;
    let _ = writeln!(
        m,
        "\n### Sentiment\n\nnegative {} · neutral {} · positive {}\n",
        pct(sh[0]),
        pct(sh[1]),
        pct(sh[2])
    );
    let _ = writeln!(
        m,
        "### Toxicity by reply depth\n\n| depth | comments | mean toxicity |\n|---:|---:|---:|"
    );
    for (d, (mean, n)) in st.toxicity_by_depth.iter().enumerate() {
        let d = super::analysis::depth_label(d);
        let _ = writeln!(m, "| {d} | {n} | {mean:.2} |");
    }
    md_heated(m, s, sec, forest, threads);
}

/// An article's stance: counts, shares where they can be read, the most confident comments.
fn md_stance(m: &mut String, s: &Summary, sec: &Section, forest: &Forest, scores: &[Scores]) {
    let st = &sec.stats;
    let _ = writeln!(m, "### Stance toward the article\n");
    if st.has_stance() {
        let text = stance_text(st, s.sides);
        let _ = writeln!(m, "{}\n", text.counts);
        if let Some(c) = &text.shares {
            let _ = writeln!(
                m,
                "| among known stances | favor | against | none |\n|---|---:|---:|---:|"
            );
            let _ = writeln!(m, "| share (comments) | {} | {} | {} |\n", c[0], c[1], c[2]);
        }
        if let Some(u) = &text.unreadable {
            let _ = writeln!(m, "**{u}**\n");
        }
        let _ = writeln!(m, "{}\n", md_text(&thread_note(st, s.disagreement)));
        for (side, name) in [(0, "favor"), (1, "against")] {
            if !s.sides {
                break;
            }
            if side == 0 {
                let _ = writeln!(m, "{STANCE_CAVEAT}\n");
            }
            let _ = writeln!(m, "Most confident {name} (probability of {name}):\n");
            if st.representative[side].is_empty() {
                let _ = writeln!(m, "- no comment is known to be {name}");
            }
            for &i in &st.representative[side] {
                let n = &forest.comments[i];
                let p = scores[i].stance.map_or([0.0; 3], |x| x);
                let _ = writeln!(
                    m,
                    "- {} ({:.2}): {}",
                    md_text(n.author.as_deref().unwrap_or("(anonymous)")),
                    p[side],
                    md_text(&snippet(&n.text, 200))
                );
            }
            m.push('\n');
        }
    } else {
        let _ = writeln!(
            m,
            "No article text to take a stance on (pass --article or --topic).\n"
        );
    }
}

/// An article's most heated threads (two comments or more).
fn md_heated(m: &mut String, s: &Summary, sec: &Section, forest: &Forest, threads: &[ThreadStats]) {
    let _ = writeln!(m, "\n### Most heated threads\n");
    if sec.heated.is_empty() {
        let _ = writeln!(m, "{NO_DISCUSSION}\n");
    }
    if let Some(note) = heated_note(threads, &sec.heated) {
        let _ = writeln!(m, "{note}\n");
    }
    if !sec.heated.is_empty() {
        let _ = writeln!(m, "| thread | size | depth | participants | mean tox. | max tox. | escalation | flagged | replies disagreeing |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    }
    for &ti in &sec.heated {
        let t = &threads[ti];
        let root = &forest.comments[t.root];
        let _ = writeln!(
            m,
            "| {} ({}) | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            md_text(&root.id),
            md_text(&snippet(&root.text, 60)),
            t.size,
            t.depth,
            t.participants,
            t.mean_toxicity,
            t.max_toxicity,
            t.escalation,
            pct(t.flagged_share),
            disagreeing(t, s.disagreement)
        );
    }
}

/// The words around the table of what the defaults were measured to do: the sentence before
/// it, its rows (comments, clean ones flagged, toxic ones flagged), and what the rows mean.
struct DefaultsText {
    intro: String,
    rows: Vec<[String; 3]>,
    after: Option<String>,
}

fn defaults_text(measured: &Result<Vec<SourceFigures>, String>) -> DefaultsText {
    let figures = match measured {
        Ok(f) => f,
        Err(why) => {
            return DefaultsText {
                intro: format!(
                    "What the default thresholds do on held-out comments is not known for this model: {why}."
                ),
                rows: Vec::new(),
                after: None,
            }
        }
    };
    let rows = figures
        .iter()
        .map(|f| {
            [
                f.label.to_string(),
                format!("{:.1} % of {}", 100.0 * f.clean_flagged, f.clean_rows),
                format!("{:.0} % of {}", 100.0 * f.toxic_caught, f.toxic_rows),
            ]
        })
        .collect();
    let most_missed = figures.iter().all(|f| f.toxic_caught < 0.5);
    let civil_out = figures.iter().all(|f| f.clean_flagged <= 0.02);
    DefaultsText {
        intro: "What the default thresholds do, measured on held-out labelled comments that \
                training never saw (models/heads/evaluation-metrics.json; the attribute scores \
                alone, before ESCALATION and AUTHOR_HISTORY):"
            .to_string(),
        rows,
        after: most_missed.then(|| {
            format!(
                "{}ost comments that raters call toxic score below them: a short or empty queue \
                 does not mean a clean page. The command threadlens tune sets thresholds on your \
                 own labelled comments.",
                if civil_out {
                    "They keep civil comments out of the queue, but m"
                } else {
                    "M"
                }
            )
        }),
    }
}

/// The rules in force, the integrity report and the rejected records.
fn md_rules_and_integrity(m: &mut String, s: &Summary) {
    let _ = writeln!(m, "\n## How comments were flagged\n");
    for r in &s.rules {
        let _ = writeln!(m, "- {}", md_text(r));
    }
    if let Some(measured) = &s.defaults_measured {
        let d = defaults_text(measured);
        let _ = writeln!(m, "\n{}\n", md_text(&d.intro));
        if !d.rows.is_empty() {
            let _ = writeln!(
                m,
                "| comments | clean ones flagged | toxic ones flagged |\n|---|---:|---:|"
            );
            for [a, b, c] in &d.rows {
                let _ = writeln!(m, "| {} | {b} | {c} |", md_text(a));
            }
        }
        if let Some(after) = &d.after {
            let _ = writeln!(m, "\n{}", md_text(after));
        }
    }
    let _ = writeln!(m, "\n## Integrity of the threads\n\n{}", s.integrity_md);
    if !s.rejects.is_empty() {
        let _ = writeln!(
            m,
            "\n## Rejected records and empty files ({})\n",
            s.rejects.len()
        );
        for r in &s.rejects {
            let _ = writeln!(m, "- {}", md_text(r));
        }
    }
}

/// Escapes text for Markdown table cells and inline text: no raw HTML, no table breaks.
/// The comment's permalink where it is a plain http(s) address that can stand in a link as it
/// is (no spaces, quotes or angle brackets), so the queue's ids open the comment on its site.
fn web_link(c: &crate::ingest::Comment) -> Option<&str> {
    let url = c.permalink.as_deref()?;
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && !url
            .contains(|ch: char| ch.is_whitespace() || matches!(ch, '"' | '\'' | '<' | '>' | '`'));
    plain.then_some(url)
}

fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '*' | '_' | '`' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The self-contained HTML rendering.
pub fn html_page(
    s: &Summary,
    forest: &Forest,
    scores: &[Scores],
    threads: &[ThreadStats],
) -> String {
    let mut h = String::new();
    let (c, t, f) = totals(s);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    h.push_str("<title>threadlens summary</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere}td.n{text-align:right}blockquote{margin:.3em 0 .3em 1em;color:#444;white-space:pre-wrap}section{border-top:2px solid #888;margin-top:2em}.charts svg{margin:.5em}</style></head><body>\n");
    let _ = writeln!(h, "<h1>threadlens summary</h1>\n<p>{c} comments in {t} threads across {} article(s); {f} flagged. Model <code>{}</code> ({}).</p>", s.sections.len(), html(&s.model_id), html(&s.precision));
    if c == 0 {
        let _ = writeln!(
            h,
            "<p><strong>No comments to score.</strong> {}</p>",
            nothing_to_score(s)
        );
    }
    h.push_str("<table><tr><th>article</th><th>comments</th><th>threads</th><th>flagged</th><th>favor</th><th>against</th><th>none</th><th>stance unclear</th></tr>\n");
    for sec in &s.sections {
        let st = stance_cells(&sec.stats, s.sides);
        let flagged = if sec.stats.comments > 0 {
            pct(sec.stats.flagged as f64 / sec.stats.comments as f64)
        } else {
            "–".into()
        };
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{}\">{}</a></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            sec.anchor,
            html(&sec.title),
            sec.stats.comments,
            sec.stats.threads,
            flagged,
            st[0],
            st[1],
            st[2],
            st[3]
        );
    }
    h.push_str("</table>\n");
    if !s.queue_top.is_empty() {
        let _ = writeln!(h, "<h2>Top of the moderation queue</h2><p>The full queue, with parent comments as context, is in <code>queue.csv</code>. {}</p>", html(SEVERITY_NOTE));
        h.push_str("<table><tr><th>#</th><th>severity</th><th>id</th><th>author</th><th>reasons</th><th>toxicity</th><th>comment</th></tr>\n");
        for (rank, &i) in s.queue_top.iter().enumerate() {
            let n = &forest.comments[i];
            let _ = writeln!(
                h,
                "<tr><td class=n>{}</td><td class=n>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{:.2}</td><td>{}</td></tr>",
                rank + 1,
                s.severity[i],
                match web_link(n) {
                    Some(url) => format!(
                        "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                        html(url),
                        html(&n.id)
                    ),
                    None => html(&n.id),
                },
                html(n.author.as_deref().unwrap_or("(anonymous)")),
                html(&s.reasons[i]),
                scores[i].toxicity[0],
                html(&snippet(&n.text, 300))
            );
        }
        h.push_str("</table>\n");
    }
    for sec in &s.sections {
        let _ = writeln!(
            h,
            "<section id=\"{}\"><h2>{}</h2>",
            sec.anchor,
            html(&sec.title)
        );
        if let Some(u) = &sec.url {
            let _ = writeln!(h, "<p>{}</p>", html(u));
        }
        let st = &sec.stats;
        if st.comments == 0 {
            let _ = writeln!(
                h,
                "<p>No comments on this article{}.</p></section>",
                excluded_note(st.excluded)
            );
            continue;
        }
        let _ = writeln!(
            h,
            "<p>{} comments in {} threads; {} flagged{}.</p>",
            st.comments,
            st.threads,
            st.flagged,
            excluded_note(st.excluded)
        );
        h.push_str("<h3>Stance toward the article</h3>\n");
        if st.has_stance() {
            let text = stance_text(st, s.sides);
            let _ = writeln!(h, "<p>{}</p>", html(&text.counts));
            if let Some(c) = &text.shares {
                let _ = writeln!(h, "<table><tr><th>among known stances</th><th>favor</th><th>against</th><th>none</th></tr><tr><td>share (comments)</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr></table>",
                    html(&c[0]), html(&c[1]), html(&c[2]));
            }
            if let Some(u) = &text.unreadable {
                let _ = writeln!(h, "<p><strong>{}</strong></p>", html(u));
            }
            let _ = writeln!(h, "<p>{}</p>", html(&thread_note(st, s.disagreement)));
            for (side, name) in [(0, "favor"), (1, "against")] {
                if !s.sides {
                    break;
                }
                if side == 0 {
                    let _ = writeln!(h, "<p>{}</p>", html(STANCE_CAVEAT));
                }
                let _ = writeln!(h, "<h4>Most confident {name} (probability of {name})</h4>");
                if st.representative[side].is_empty() {
                    let _ = writeln!(h, "<p>No comment is known to be {name}.</p>");
                }
                for &i in &st.representative[side] {
                    let n = &forest.comments[i];
                    let p = scores[i].stance.map_or([0.0; 3], |x| x);
                    let _ = writeln!(
                        h,
                        "<p><b>{}</b> ({:.2})</p><blockquote>{}</blockquote>",
                        html(n.author.as_deref().unwrap_or("(anonymous)")),
                        p[side],
                        html(&snippet(&n.text, 400))
                    );
                }
            }
        } else {
            h.push_str("<p>No article text to take a stance on (pass --article or --topic).</p>\n");
        }
        h.push_str("<div class=\"charts\">");
        for (_, svg) in &sec.charts {
            h.push_str(svg);
        }
        h.push_str("</div>\n");
        let sh = st.sentiment_shares;
        let _ = writeln!(
            h,
            "<h3>Sentiment</h3><p>negative {} · neutral {} · positive {}</p>",
            pct(sh[0]),
            pct(sh[1]),
            pct(sh[2])
        );
        h.push_str("<h3>Toxicity by reply depth</h3><table><tr><th>depth</th><th>comments</th><th>mean toxicity</th></tr>");
        for (d, (mean, n)) in st.toxicity_by_depth.iter().enumerate() {
            let d = super::analysis::depth_label(d);
            let _ = write!(
                h,
                "<tr><td class=n>{d}</td><td class=n>{n}</td><td class=n>{mean:.2}</td></tr>"
            );
        }
        h.push_str("</table>\n<h3>Most heated threads</h3>");
        if sec.heated.is_empty() {
            let _ = write!(h, "<p>{}</p>", html(NO_DISCUSSION));
        }
        if let Some(note) = heated_note(threads, &sec.heated) {
            let _ = write!(h, "<p>{}</p>", html(note));
        }
        if !sec.heated.is_empty() {
            h.push_str("<table><tr><th>thread</th><th>size</th><th>depth</th><th>participants</th><th>mean tox.</th><th>max tox.</th><th>escalation</th><th>flagged</th><th>replies disagreeing</th></tr>\n");
        }
        for &ti in &sec.heated {
            let t = &threads[ti];
            let root = &forest.comments[t.root];
            let _ = writeln!(h, "<tr><td>{} <small>{}</small></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.2}</td><td class=n>{:.2}</td><td class=n>{:.2}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                html(&root.id), html(&snippet(&root.text, 60)), t.size, t.depth, t.participants, t.mean_toxicity, t.max_toxicity, t.escalation, pct(t.flagged_share), html(&disagreeing(t, s.disagreement)));
        }
        if !sec.heated.is_empty() {
            h.push_str("</table>");
        }
        h.push_str("</section>\n");
    }
    h.push_str("<section><h2>How comments were flagged</h2><ul>\n");
    for r in &s.rules {
        let _ = writeln!(h, "<li>{}</li>", html(r));
    }
    h.push_str("</ul>\n");
    if let Some(measured) = &s.defaults_measured {
        let d = defaults_text(measured);
        let _ = writeln!(h, "<p>{}</p>", html(&d.intro));
        if !d.rows.is_empty() {
            h.push_str("<table><tr><th>comments</th><th>clean ones flagged</th><th>toxic ones flagged</th></tr>\n");
            for [a, b, c] in &d.rows {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                    html(a),
                    html(b),
                    html(c)
                );
            }
            h.push_str("</table>\n");
        }
        if let Some(after) = &d.after {
            let _ = writeln!(h, "<p>{}</p>", html(after));
        }
    }
    h.push_str("</section>\n");
    let _ = writeln!(
        h,
        "<section><h2>Integrity of the threads</h2>\n{}</section>",
        integrity_html(&s.integrity_md)
    );
    if !s.rejects.is_empty() {
        let _ = writeln!(
            h,
            "<section><h2>Rejected records and empty files ({})</h2><ul>",
            s.rejects.len()
        );
        for r in &s.rejects {
            let _ = writeln!(h, "<li>{}</li>", html(r));
        }
        h.push_str("</ul></section>\n");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(flagged_share: f64) -> ThreadStats {
        ThreadStats {
            root: 0,
            article: None,
            size: 2,
            excluded: 0,
            depth: 1,
            participants: 2,
            mean_toxicity: 0.4,
            max_toxicity: 0.45,
            escalation: 0.0,
            flagged_share,
            replies_with_stance: 0,
            replies_stance_known: 0,
            disagree_share: 0.0,
        }
    }

    #[test]
    fn calm_pages_say_their_heated_threads_are_not_heated() {
        let calm = [thread(0.0), thread(0.0)];
        assert!(heated_note(&calm, &[0, 1]).is_some());
        let one_flagged = [thread(0.0), thread(0.5)];
        assert!(heated_note(&one_flagged, &[0, 1]).is_none());
        assert!(heated_note(&calm, &[]).is_none());
    }

    #[test]
    fn markdown_text_cannot_break_tables_or_inject_html() {
        assert_eq!(md_text("a|b<script>\n*x*"), "a\\|b&lt;script&gt; \\*x\\*");
    }

    #[test]
    fn embedded_headings_move_down() {
        assert_eq!(
            demote_headings("# A\ntext\n## B", 2),
            "### A\ntext\n#### B\n"
        );
    }

    #[test]
    fn rules_name_each_threshold_and_its_source() {
        let th: Thresholds = toml::from_str(
            "[insult]\nthreshold = 0.61\nobjective = \"max-f1\"\n[sexual_explicit]\nthreshold = 0.44\n",
        )
        .unwrap();
        let r = rules_in_force(&th, &Rules::default());
        assert_eq!(r.len(), Attribute::ALL.len() + 3);
        assert_eq!(
            r[0],
            format!(
                "toxicity ≥ {} (default)",
                Attribute::Toxicity.default_threshold()
            )
        );
        assert_eq!(r[1], "insult ≥ 0.61 (thresholds file, tuned for max-f1)");
        assert_eq!(
            r[5],
            format!(
                "severe_toxicity ≥ {} (default)",
                Attribute::SevereToxicity.default_threshold()
            )
        );
        assert_eq!(r[6], "sexual_explicit ≥ 0.44 (thresholds file)");
        assert_eq!(
            r[7],
            format!(
                "flag (highest of the seven scores, when no attribute fired) ≥ {} (default)",
                Attribute::Flag.default_threshold()
            )
        );
        assert!(r[8].starts_with("ESCALATION: a reply with toxicity ≥ 0.75"));
        assert!(r[9].contains("≥ 3 comments here, ≥ 50 % of them flagged"));
        assert!(
            r[10].starts_with("UNSCORED_LANGUAGE: off (the default"),
            "{}",
            r[10]
        );
        let on = Rules {
            language_min_words: Some(8),
            ..Rules::default()
        };
        assert!(
            rules_in_force(&th, &on)[10].starts_with("UNSCORED_LANGUAGE: a comment of ≥ 8 words")
        );
        // A tuned threshold says what it was measured to do where the file records it.
        let tuned: Thresholds = toml::from_str(
            "[insult]\nthreshold = 0.61\nobjective = \"max-f1\"\nprecision = 0.8234\nrecall = 0.61\nsamples = 400\n",
        )
        .unwrap();
        assert_eq!(
            rules_in_force(&tuned, &Rules::default())[1],
            "insult ≥ 0.61 (thresholds file, tuned for max-f1: precision 0.82 and recall 0.61 on 400 labelled comments)"
        );
    }

    /// What the defaults were measured to do is shown only while every threshold is a default,
    /// and an unknown measurement says why instead of a table.
    #[test]
    fn the_defaults_measured_figures_appear_only_under_the_defaults() {
        let figures = FlagFigures {
            sources: vec![SourceFigures {
                label: "news comments (Civil Comments)",
                clean_rows: 397,
                clean_flagged: 0.005,
                toxic_rows: 190,
                toxic_caught: 0.1,
            }],
            note: None,
        };
        let defaults = Thresholds::default();
        let shown = defaults_measured(&defaults, &figures).unwrap();
        let d = defaults_text(&shown);
        assert_eq!(
            d.rows,
            [[
                "news comments (Civil Comments)".to_string(),
                "0.5 % of 397".to_string(),
                "10 % of 190".to_string()
            ]]
        );
        assert!(d
            .after
            .unwrap()
            .starts_with("They keep civil comments out of the queue, but most comments"));
        let tuned: Thresholds = toml::from_str("[toxicity]\nthreshold = 0.5\n").unwrap();
        assert!(defaults_measured(&tuned, &figures).is_none());
        let unknown = FlagFigures {
            sources: Vec::new(),
            note: Some("measured on other model files".into()),
        };
        let d = defaults_text(&defaults_measured(&defaults, &unknown).unwrap());
        assert!(d.rows.is_empty() && d.after.is_none());
        assert!(d
            .intro
            .contains("not known for this model: measured on other"));
        // A catch rate of one half or more: no claim that most toxic comments are missed.
        let catching = FlagFigures {
            sources: vec![SourceFigures {
                toxic_caught: 0.6,
                ..figures.sources[0].clone()
            }],
            note: None,
        };
        assert!(
            defaults_text(&defaults_measured(&defaults, &catching).unwrap())
                .after
                .is_none()
        );
        // Many clean comments flagged: no claim that civil ones stay out.
        let noisy = FlagFigures {
            sources: vec![SourceFigures {
                clean_flagged: 0.05,
                ..figures.sources[0].clone()
            }],
            note: None,
        };
        let after = defaults_text(&defaults_measured(&defaults, &noisy).unwrap()).after;
        assert!(after
            .unwrap()
            .starts_with("Most comments that raters call toxic"));
    }

    #[test]
    fn the_integrity_report_is_html_with_its_text_escaped() {
        let md = "# Thread integrity\n\n3 comments in 2 threads\n\n## orphans (1):\n\n- <b>x</b> (parent y) at f.csv:2\n- z\n";
        let h = integrity_html(&demote_headings(md, 2));
        assert!(h.contains("<h3>Thread integrity</h3>"), "{h}");
        assert!(h.contains("<p>3 comments in 2 threads</p>"), "{h}");
        assert!(h.contains("<h4>orphans (1):</h4>\n<ul>\n<li>&lt;b&gt;x&lt;/b&gt; (parent y) at f.csv:2</li>\n<li>z</li>\n</ul>"), "{h}");
        assert!(!h.contains('#') && !h.contains("<pre>"), "{h}");
    }

    #[test]
    fn snippet_cuts_on_characters() {
        assert_eq!(snippet("  a\n b  ", 10), "a b");
        assert_eq!(snippet("ééééé", 3), "ééé…");
    }
}
