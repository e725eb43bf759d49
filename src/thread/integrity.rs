//! The integrity report: what the thread builder found wrong or uncertain in the input, so a
//! moderator knows how far to trust the trees. Counts (comments, threads, depths, how edges
//! were found) plus every orphan, cycle, duplicate id, deleted/spam comment, reply to a deleted
//! comment, partially exported thread, unresolved reply and missing article, each with its
//! location. Serialisable as JSON; rendered as text (stderr) or Markdown.

use std::fmt::Write as _;

use serde::Serialize;

use crate::ingest::{Location, PartialSource};

/// How many items of each list the text and Markdown renderings show.
const SHOWN: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Integrity {
    pub comments: usize,
    pub threads: usize,
    pub articles: usize,
    /// Rejected records (empty files are in `empty_files`, not counted here).
    pub rejected: usize,
    /// Input files that were empty or held only whitespace.
    pub empty_files: Vec<String>,
    pub max_depth: u32,
    /// Number of comments at each depth (index 0 = top-level).
    pub depth_histogram: Vec<usize>,
    pub resolutions: ResolutionCounts,
    pub pingbacks: usize,
    pub unapproved: usize,
    pub inferred_authors: Vec<InferredAuthor>,
    pub orphans: Vec<Orphan>,
    pub cycles: Vec<Cycle>,
    pub duplicate_ids: Vec<DuplicateId>,
    /// The same record read twice (same id, author and text: an export given twice, or a
    /// submission file beside its Pushshift dump): kept once, each repeat listed here.
    pub repeated_records: Vec<Repeated>,
    pub deleted: Vec<Flagged>,
    pub spam: Vec<Flagged>,
    pub replies_to_deleted: Vec<ReplyToDeleted>,
    pub partial_threads: Vec<PartialThread>,
    pub unresolved_replies: Vec<Unresolved>,
    pub missing_articles: Vec<MissingArticle>,
    pub duplicate_articles: Vec<DuplicateArticle>,
    /// The selectors the user pointed at the comments with, as flags, so the run can be
    /// repeated (`--comment-selector`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selectors: Option<String>,
}

/// How many edges (comments) were resolved each way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResolutionCounts {
    pub explicit: usize,
    pub name: usize,
    pub mention: usize,
    pub quote: usize,
    pub inferred: usize,
    pub none: usize,
}

/// An anonymous comment given the author that replies address it by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InferredAuthor {
    pub id: String,
    pub author: String,
    pub confidence: f32,
    pub loc: Location,
}

/// A comment whose parent is not in the input; kept as a root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub id: String,
    pub parent_id: String,
    pub loc: Location,
}

/// A parent loop, broken by making `broken_at` a root. `ids` runs from a comment to its
/// parent, its parent's parent… back round to the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cycle {
    pub ids: Vec<String>,
    pub broken_at: String,
}

impl Cycle {
    /// `cycle 1 → 3 → 2 → 1 broken: 1 made a root`.
    pub fn describe(&self) -> String {
        let first = self.ids.first().map_or("?", String::as_str);
        format!(
            "cycle {} → {first} broken: {} made a root",
            self.ids.join(" → "),
            self.broken_at
        )
    }
}

/// A second (third…) comment with an id already used; kept under a new id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateId {
    pub id: String,
    pub renamed_to: String,
    pub loc: Location,
    pub first: Location,
}

/// A record that repeats an earlier one exactly; only the first is in the forest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repeated {
    pub id: String,
    pub loc: Location,
    pub first: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    pub id: String,
    pub loc: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyToDeleted {
    pub id: String,
    pub parent_id: String,
    pub loc: Location,
}

/// Replies the source says exist but the input does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartialThread {
    pub source: PartialSource,
    pub thread_key: Option<String>,
    pub parent_id: Option<String>,
    /// None when the source only says "more below" without a count.
    pub missing: Option<u64>,
    pub loc: Location,
}

/// A reply addressed to a name that matches no earlier comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    pub id: String,
    pub reply_to: String,
    pub loc: Location,
}

/// Comments point at an article (thread) key that the input does not describe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingArticle {
    pub key: String,
    pub comments: usize,
}

/// Articles under different keys that look like the same page (same title or same link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateArticle {
    pub keys: Vec<String>,
    pub reason: String,
}

impl Integrity {
    /// Total missing replies declared by partial-thread notes (those with a count).
    pub fn missing_replies(&self) -> u64 {
        self.partial_threads.iter().filter_map(|p| p.missing).sum()
    }

    /// Plain text for stderr: a summary, then one section per non-empty list.
    pub fn to_text(&self) -> String {
        self.render(false)
    }

    /// The same report as Markdown (headings and bullet lists).
    pub fn to_markdown(&self) -> String {
        self.render(true)
    }

    fn render(&self, md: bool) -> String {
        let mut out = String::new();
        let (h, bullet) = if md { ("## ", "- ") } else { ("", "  ") };
        if md {
            out.push_str("# Thread integrity\n\n");
        }
        let _ = writeln!(
            out,
            "{}{} comments in {} threads ({} articles), max depth {}, {} rejected records",
            if md { "" } else { "integrity: " },
            self.comments,
            self.threads,
            self.articles,
            self.max_depth,
            self.rejected
        );
        if let Some(flags) = &self.selectors {
            let _ = writeln!(
                out,
                "{}comments found with: {flags}",
                if md { "\n" } else { "" }
            );
        }
        let depths: Vec<String> = self
            .depth_histogram
            .iter()
            .enumerate()
            .map(|(d, n)| format!("{d}: {n}"))
            .collect();
        if !depths.is_empty() {
            let _ = writeln!(
                out,
                "{}depths: {}",
                if md { "\n" } else { "" },
                depths.join(", ")
            );
        }
        let r = &self.resolutions;
        let _ = writeln!(
            out,
            "{}edges: {} explicit, {} by name, {} by mention, {} by quote, {} inferred, {} roots",
            if md { "\n" } else { "" },
            r.explicit,
            r.name,
            r.mention,
            r.quote,
            r.inferred,
            r.none
        );
        if self.pingbacks > 0 || self.unapproved > 0 {
            let _ = writeln!(
                out,
                "{} pingbacks/trackbacks, {} awaiting approval",
                self.pingbacks, self.unapproved
            );
        }
        let mut section = |title: &str, items: Vec<String>| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(
                out,
                "{}{}{} ({}):",
                if md { "\n" } else { "" },
                h,
                title,
                items.len()
            );
            if md {
                out.push('\n');
            }
            for item in items.iter().take(SHOWN) {
                let _ = writeln!(out, "{bullet}{item}");
            }
            if items.len() > SHOWN {
                let _ = writeln!(out, "{bullet}… and {} more", items.len() - SHOWN);
            }
        };
        section(
            "inferred authors",
            self.inferred_authors
                .iter()
                .map(|a| {
                    format!(
                        "{} → {} (confidence {:.2}) at {}",
                        a.id, a.author, a.confidence, a.loc
                    )
                })
                .collect(),
        );
        section(
            "orphans (parent not in the input, kept as roots)",
            self.orphans
                .iter()
                .map(|o| format!("{} (parent {}) at {}", o.id, o.parent_id, o.loc))
                .collect(),
        );
        section("empty files (nothing read)", self.empty_files.clone());
        section(
            "cycles (each comment → its parent; broken)",
            self.cycles.iter().map(Cycle::describe).collect(),
        );
        section(
            "duplicate ids (both kept)",
            self.duplicate_ids
                .iter()
                .map(|d| {
                    format!(
                        "{} at {} renamed {} (first at {})",
                        d.id, d.loc, d.renamed_to, d.first
                    )
                })
                .collect(),
        );
        section(
            "repeated records (the same comment read twice; kept once)",
            self.repeated_records
                .iter()
                .map(|d| format!("{} at {} (first at {})", d.id, d.loc, d.first))
                .collect(),
        );
        section(
            "deleted",
            self.deleted
                .iter()
                .map(|f| format!("{} at {}", f.id, f.loc))
                .collect(),
        );
        section(
            "spam or dead",
            self.spam
                .iter()
                .map(|f| format!("{} at {}", f.id, f.loc))
                .collect(),
        );
        section(
            "replies to deleted comments",
            self.replies_to_deleted
                .iter()
                .map(|r| format!("{} (parent {}) at {}", r.id, r.parent_id, r.loc))
                .collect(),
        );
        section(
            "partial threads (replies missing from the export)",
            self.partial_threads
                .iter()
                .map(|p| {
                    let missing = p
                        .missing
                        .map_or_else(|| "more".to_string(), |m| m.to_string());
                    let under = p.parent_id.as_deref().map_or_else(
                        || format!("article {}", p.thread_key.as_deref().unwrap_or("?")),
                        |id| format!("comment {id}"),
                    );
                    format!(
                        "{missing} replies missing under {under} ({}) at {}",
                        p.source, p.loc
                    )
                })
                .collect(),
        );
        section(
            "unresolved replies (kept as roots)",
            self.unresolved_replies
                .iter()
                .map(|u| format!("{} in reply to {:?} at {}", u.id, u.reply_to, u.loc))
                .collect(),
        );
        section(
            "missing articles",
            self.missing_articles
                .iter()
                .map(|m| format!("{} ({} comments)", m.key, m.comments))
                .collect(),
        );
        section(
            "articles that look like the same page",
            self.duplicate_articles
                .iter()
                .map(|d| format!("{} ({})", d.keys.join(", "), d.reason))
                .collect(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sections_only_when_needed() {
        let mut integrity = Integrity {
            comments: 2,
            threads: 1,
            articles: 1,
            depth_histogram: vec![1, 1],
            ..Integrity::default()
        };
        let text = integrity.to_text();
        assert!(
            text.starts_with("integrity: 2 comments in 1 threads"),
            "{text}"
        );
        assert!(!text.contains("orphans"));
        integrity.orphans = (0..25)
            .map(|i| Orphan {
                id: i.to_string(),
                parent_id: "p".into(),
                loc: Location::line("f", i),
            })
            .collect();
        let text = integrity.to_text();
        assert!(text.contains("orphans (parent not in the input, kept as roots) (25):"));
        assert!(text.contains("… and 5 more"));
        let md = integrity.to_markdown();
        assert!(md.starts_with("# Thread integrity") && md.contains("## orphans"));
    }

    #[test]
    fn cycles_read_as_a_loop_and_name_the_new_root() {
        let cases = [
            (
                vec!["1", "3", "2"],
                "1",
                "cycle 1 → 3 → 2 → 1 broken: 1 made a root",
            ),
            (vec!["s"], "s", "cycle s → s broken: s made a root"),
        ];
        for (ids, broken_at, want) in cases {
            let cycle = Cycle {
                ids: ids.into_iter().map(String::from).collect(),
                broken_at: broken_at.into(),
            };
            assert_eq!(cycle.describe(), want);
            let integrity = Integrity {
                cycles: vec![cycle],
                ..Integrity::default()
            };
            assert!(integrity.to_text().contains(&format!("  {want}\n")));
        }
    }
}
