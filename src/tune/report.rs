//! The human- and spreadsheet-readable outputs of `tune`: the curves CSV (confusion counts
//! and precision/recall/F1 at every distinct score, for anyone who wants a different
//! trade-off) and a short Markdown summary a moderator can read without knowing the metrics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::budget::Combined;
use super::input::Rejection;
use super::search::Objective;
use super::AttributeResult;

/// Why an output file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("writing {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("drawing {}: {message}", path.display())]
    Chart { path: PathBuf, message: String },
}

/// Writes every attribute's curve: one row per attribute and distinct score. Undefined
/// ratios are empty fields, never NaN; `chosen` is 1 on the row of the chosen threshold.
pub fn write_curves_csv(path: &Path, results: &[AttributeResult]) -> Result<(), OutputError> {
    let csv_err = |source| OutputError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv_err)?;
    w.write_record([
        "attribute",
        "threshold",
        "flagged",
        "tp",
        "fp",
        "fn",
        "tn",
        "precision",
        "recall",
        "f1",
        "fpr",
        "flagged_per_1000",
        "chosen",
    ])
    .map_err(csv_err)?;
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.6}"));
    for r in results {
        let chosen = r.choice.as_ref().and_then(|c| c.index);
        for (i, p) in r.curve.iter().enumerate() {
            w.write_record([
                r.attribute.name().to_string(),
                p.threshold.to_string(),
                p.flagged().to_string(),
                p.tp.to_string(),
                p.fp.to_string(),
                p.fn_.to_string(),
                p.tn.to_string(),
                opt(p.precision()),
                opt(p.recall()),
                opt(p.f1()),
                opt(p.fpr()),
                format!("{:.1}", p.flagged_per_1000()),
                u8::from(chosen == Some(i)).to_string(),
            ])
            .map_err(csv_err)?;
        }
    }
    w.flush().map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// What the summary says about where the numbers came from.
#[derive(Debug, Clone)]
pub struct SummaryContext {
    pub labels: String,
    pub scores: String,
    pub objective: Objective,
    pub resamples: u32,
    pub seed: u64,
    /// Labelled comments that had a score and were used.
    pub matched: usize,
    /// Rejected records (labels file, scores file, labels without a score), with locations.
    pub problems: Vec<Rejection>,
    /// Scored comments without a label (not used).
    pub unlabelled: usize,
    /// The combined queue on the sample under the written thresholds.
    pub combined: Combined,
    /// Warnings about the whole queue (a review budget that cannot be met).
    pub warnings: Vec<String>,
    /// Output file names to list, as (what, file).
    pub files: Vec<(String, String)>,
    /// What ESCALATION and AUTHOR_HISTORY add on the sample; `None` when the labels file has
    /// no `parent_id` or `author` column.
    pub context: Option<crate::tune::context::ContextEffects>,
}

/// "Context rules on this sample": what ESCALATION and AUTHOR_HISTORY add to the queue the
/// tuned thresholds build, with the precision of the flags they add.
fn context_section(effects: Option<&crate::tune::context::ContextEffects>) -> String {
    let mut md = String::from("\n## Context rules on this sample\n\n");
    let Some(e) = effects else {
        md.push_str(
            "ESCALATION and AUTHOR_HISTORY were not measured: the labels file has no \
             `parent_id` or `author` column. Add them to see what each rule adds.\n",
        );
        return md;
    };
    let pct = |a: u64, b: u64| {
        if b == 0 {
            "–".to_string()
        } else {
            format!("{:.0} %", a as f64 / b as f64 * 100.0)
        }
    };
    let _ = writeln!(
        md,
        "Judged as `analyze` would, on the {} labelled comments that reply to another labelled \
         comment and the {} with an author. The attributes alone flag {}, of which {} are \
         labelled 1 for some attribute.\n",
        e.replies,
        e.with_author,
        e.attribute_flagged,
        pct(e.attribute_positive, e.attribute_flagged)
    );
    let _ = writeln!(
        md,
        "| rule | on | gives its reason to | flags no other reason does | of those labelled 1 |"
    );
    let _ = writeln!(md, "|---|---|--:|--:|--:|");
    for r in &e.rules {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            r.code,
            if r.enabled { "yes" } else { "no" },
            r.fired,
            r.added,
            pct(r.added_positive, r.added)
        );
    }
    md.push_str(
        "\nAUTHOR_HISTORY only adds a reason to comments already flagged. Turn a rule off or \
         change its floors in the thresholds file (`[escalation]`, `[author_history]`).\n",
    );
    md
}

/// The Markdown summary.
pub fn summary_markdown(results: &[AttributeResult], ctx: &SummaryContext) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Flagging thresholds tuned on your labelled sample\n");
    let _ = writeln!(
        md,
        "Labels: `{}`; scores: `{}`; {} labelled comments with a score were used.",
        ctx.labels, ctx.scores, ctx.matched
    );
    let _ = writeln!(md, "Objective: {}.", describe(ctx.objective));
    if ctx.resamples > 0 {
        let _ = writeln!(
            md,
            "Ranges in brackets are 95 % bootstrap intervals ({} resamples, seed {}).",
            ctx.resamples, ctx.seed
        );
    }
    let _ = writeln!(
        md,
        "A comment is flagged when its score, rounded to 4 decimals as in the scores CSV, is \
         **at least** the threshold.\n"
    );
    let _ = writeln!(md, "| attribute | labelled | positives | ROC AUC | avg. precision | threshold | precision | recall | F1 | flagged per 1,000 |");
    let _ = writeln!(md, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for r in results {
        let (auc, ap) = (num(r.roc_auc), num(r.average_precision));
        let head = format!(
            "| {} | {} | {} | {auc} | {ap} |",
            r.attribute, r.samples, r.positives
        );
        match r.chosen() {
            Some(p) => {
                let b = r.bootstrap.as_ref();
                let _ = writeln!(
                    md,
                    "{head} {} | {}{} | {}{} | {} | {:.1} |",
                    p.threshold,
                    num(p.precision()),
                    range(b.and_then(|b| b.precision)),
                    num(p.recall()),
                    range(b.and_then(|b| b.recall)),
                    num(p.f1()),
                    p.flagged_per_1000()
                );
            }
            None => {
                let d = r.attribute.default_threshold();
                let _ = writeln!(md, "{head} not tuned (default {d}) | – | – | – | – |");
            }
        }
    }
    let c = &ctx.combined;
    let defaults = match (c.defaults.is_empty(), c.by_defaults) {
        (true, _) => "every attribute has a tuned threshold".to_string(),
        (false, 0) => format!(
            "attributes without a tuned threshold use their defaults ({}), which flag none of the sample alone",
            c.defaults_list()
        ),
        (false, k) => format!(
            "attributes without a tuned threshold use their defaults ({}), which alone flag {k} ({:.1} per 1,000)",
            c.defaults_list(),
            c.by_defaults_per_1000()
        ),
    };
    let _ = writeln!(
        md,
        "\n**Combined queue on this sample: {} of {} comments flagged, {:.1} per 1,000.** \
         `analyze` flags a comment when any attribute's score is at least its threshold; \
         {defaults}.",
        c.flagged,
        c.comments,
        c.per_1000(),
    );
    if let Objective::ReviewBudget(n) = ctx.objective {
        let _ = writeln!(
            md,
            "\nHow the review budget of {n} per 1,000 was shared: {}",
            crate::tune::budget::RULE
        );
    }
    let _ = writeln!(md, "\n## What this means\n");
    for r in results {
        let Some(p) = r.chosen() else { continue };
        let (Some(prec), Some(rec)) = (p.precision(), p.recall()) else {
            continue;
        };
        let _ = writeln!(
            md,
            "- **{}** at {}: about {:.0} of every 100 comments it flags are ones you labelled {} = 1, \
             and it catches about {:.0} of every 100 of those. In this sample it flags {:.1} per 1,000 comments.",
            r.attribute, p.threshold, prec * 100.0, r.attribute, rec * 100.0, p.flagged_per_1000()
        );
    }
    if let Some(r) = results.iter().find(|r| r.samples > 0) {
        let rate = r.positives as f64 / r.samples as f64 * 100.0;
        let _ = writeln!(
            md,
            "\nThese numbers hold for comments like the sample. {:.0} % of the sample is labelled \
             {} = 1; on a site where fewer comments are, precision will be lower at the same threshold.",
            rate, r.attribute
        );
    }
    md.push_str(&context_section(ctx.context.as_ref()));
    let warnings: Vec<String> = ctx
        .warnings
        .iter()
        .map(|w| format!("- {w}"))
        .chain(results.iter().flat_map(|r| {
            r.warnings
                .iter()
                .map(move |w| format!("- {}: {w}", r.attribute))
        }))
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(md, "\n## Warnings\n\n{}", warnings.join("\n"));
    }
    if !ctx.problems.is_empty() || ctx.unlabelled > 0 {
        let _ = writeln!(md, "\n## Input problems\n");
        if !ctx.problems.is_empty() {
            let _ = writeln!(md, "{} records were not used:\n", ctx.problems.len());
            for p in ctx.problems.iter().take(20) {
                let _ = writeln!(md, "- {p}");
            }
            if ctx.problems.len() > 20 {
                let _ = writeln!(
                    md,
                    "- … and {} more (all are listed on stderr)",
                    ctx.problems.len() - 20
                );
            }
        }
        if ctx.unlabelled > 0 {
            let _ = writeln!(
                md,
                "\n{} scored comments have no label and were not used.",
                ctx.unlabelled
            );
        }
    }
    if !ctx.files.is_empty() {
        let _ = writeln!(md, "\n## Files\n");
        for (what, file) in &ctx.files {
            let _ = writeln!(md, "- {what}: `{file}`");
        }
    }
    md
}

fn describe(o: Objective) -> String {
    match o {
        Objective::MaxF1 => "the best F1 (balance of precision and recall)".into(),
        Objective::TargetPrecision(p) => format!("the best recall with precision at least {p}"),
        Objective::TargetRecall(r) => format!("the best precision with recall at least {r}"),
        Objective::ReviewBudget(n) => format!(
            "flag at most {n} comments per 1,000 in the combined queue (all attributes together)"
        ),
        Objective::FewestFlags => "the fewest flags".into(),
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "undefined".into(), |v| format!("{v:.3}"))
}

fn range(i: Option<super::bootstrap::Interval>) -> String {
    i.map_or_else(String::new, |i| format!(" ({:.2}–{:.2})", i.low, i.high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tune::metrics::Scored;
    use crate::tune::{tune_attribute, Attribute, Settings};

    fn results() -> Vec<AttributeResult> {
        let settings = Settings {
            objective: Objective::MaxF1,
            resamples: 200,
            seed: 3,
        };
        let tox: Vec<Scored> = (0..10)
            .map(|i| Scored {
                score: i as f64 / 10.0,
                positive: i >= 6,
            })
            .collect();
        let none: Vec<Scored> = tox
            .iter()
            .map(|s| Scored {
                positive: false,
                ..*s
            })
            .collect();
        vec![
            tune_attribute(Attribute::Toxicity, &tox, &settings),
            tune_attribute(Attribute::Threat, &none, &settings),
        ]
    }

    #[test]
    fn curves_csv_has_a_row_per_distinct_score_and_no_nan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        write_curves_csv(&path, &results()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 10 + 10);
        assert_eq!(lines[0], "attribute,threshold,flagged,tp,fp,fn,tn,precision,recall,f1,fpr,flagged_per_1000,chosen");
        assert!(
            lines.contains(&"toxicity,0.6,4,4,0,0,6,1.000000,1.000000,1.000000,0.000000,400.0,1"),
            "{text}"
        );
        assert!(
            lines.contains(&"threat,0.9,1,0,1,0,9,0.000000,,0.000000,0.100000,100.0,0"),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("nan"));
    }

    #[test]
    fn summary_reads_plainly_and_says_what_was_not_tuned() {
        let threat = Attribute::Threat.default_threshold();
        let ctx = SummaryContext {
            labels: "l.csv".into(),
            scores: "s.csv".into(),
            objective: Objective::MaxF1,
            resamples: 200,
            seed: 3,
            matched: 10,
            problems: vec![Rejection {
                path: "l.csv".into(),
                line: 4,
                reason: "id 'x' has no score in s.csv".into(),
            }],
            unlabelled: 2,
            combined: Combined {
                comments: 10,
                flagged: 5,
                by_defaults: 2,
                defaults: vec![(Attribute::Threat, threat)],
            },
            warnings: vec!["the queue is long".into()],
            files: vec![("thresholds".into(), "t.toml".into())],
            context: None,
        };
        let md = summary_markdown(&results(), &ctx);
        assert!(md.contains("| toxicity | 10 | 4 | 1.000 | 1.000 | 0.6 | 1.000 (1.00–1.00) | 1.000 (1.00–1.00) | 1.000 | 400.0 |"), "{md}");
        assert!(
            md.contains(
                "**Combined queue on this sample: 5 of 10 comments flagged, 500.0 per 1,000.**"
            ),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "use their defaults (threat {threat}), which alone flag 2 (200.0 per 1,000)."
            )),
            "{md}"
        );
        assert!(
            md.contains("## Warnings\n\n- the queue is long\n- toxicity: "),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "| threat | 10 | 0 | undefined | undefined | not tuned (default {threat}) |"
            )),
            "{md}"
        );
        assert!(
            md.contains(
                "about 100 of every 100 comments it flags are ones you labelled toxicity = 1"
            ),
            "{md}"
        );
        assert!(
            md.contains("- threat: no positive labels among 10 comments"),
            "{md}"
        );
        assert!(!md.contains("How the review budget"), "{md}");
        let budget = SummaryContext {
            objective: Objective::ReviewBudget(50),
            ..ctx
        };
        let md = summary_markdown(&results(), &budget);
        assert!(
            md.contains("Objective: flag at most 50 comments per 1,000 in the combined queue"),
            "{md}"
        );
        assert!(
            md.contains(&format!(
                "How the review budget of 50 per 1,000 was shared: {}",
                crate::tune::budget::RULE
            )),
            "{md}"
        );
        assert!(
            md.contains("- l.csv: line 4: id 'x' has no score in s.csv"),
            "{md}"
        );
        assert!(md.contains("2 scored comments have no label"), "{md}");
        assert!(!md.to_lowercase().contains("nan"));
    }

    #[test]
    fn the_context_rules_section_says_what_each_rule_adds_or_why_it_was_not_measured() {
        use crate::tune::context::{ContextEffects, RuleEffect};
        assert!(
            context_section(None).contains("were not measured: the labels file has no `parent_id`")
        );
        let e = ContextEffects {
            replies: 40,
            with_author: 0,
            attribute_flagged: 10,
            attribute_positive: 7,
            rules: vec![RuleEffect {
                code: "ESCALATION",
                enabled: true,
                fired: 5,
                added: 4,
                added_positive: 1,
            }],
        };
        let md = context_section(Some(&e));
        assert!(
            md.contains("The attributes alone flag 10, of which 70 % are"),
            "{md}"
        );
        assert!(md.contains("| ESCALATION | yes | 5 | 4 | 25 % |"), "{md}");
    }
}
