//! Reply resolution: finds each comment's parent and records how it was found.
//!
//! Explicit parent ids win. Without ids, a reply addressed to a name ("X in reply to Y") goes
//! to the most plausible earlier comment by Y in the same article, chosen by shared words. When
//! Y signed nothing, the anonymous comments before the reply are scored against all replies
//! addressed to Y and the best one is given Y as an inferred author. Sources without reply
//! structure also get "@Y …" / "Y, …" mentions resolved. Only earlier comments are candidates.

use std::collections::{HashMap, HashSet};

use super::integrity::{Cycle, InferredAuthor, Orphan, Unresolved};
use super::{Integrity, Resolution};
use crate::ingest::{Comment, Short};

/// Confidence of a root the source declares top-level.
const ROOT_STATED: f32 = 1.0;
/// Confidence of a root in a source without reply structure and no address found.
const ROOT_IMPLICIT: f32 = 0.8;
/// At most this many earlier comments by one author are compared.
/// Confidence of a parent found because the post quotes it: the quote names the post, but a
/// post may quote one comment and answer another.
const QUOTE: f32 = 0.9;
const MAX_CANDIDATES: usize = 50;

/// The resolved parent (index), method and confidence of every comment.
pub(crate) struct Links {
    pub parent: Vec<Option<usize>>,
    pub resolution: Vec<Resolution>,
    pub confidence: Vec<f32>,
    /// Comments given an author by inference: (index, author).
    pub inferred: Vec<(usize, String)>,
    /// Roots whose explicit parent is an article key: (index, key).
    pub article_parent: Vec<(usize, String)>,
}

/// Resolves every parent. `dups` maps an id used more than once to all its indices; `articles`
/// holds the article keys (a parent id equal to one means "top-level in that article").
pub(crate) fn resolve(
    comments: &[Comment],
    dups: &HashMap<String, Vec<usize>>,
    articles: &HashSet<&str>,
    report: &mut Integrity,
) -> Links {
    let n = comments.len();
    let mut links = Links {
        parent: vec![None; n],
        resolution: vec![Resolution::None; n],
        confidence: vec![ROOT_STATED; n],
        inferred: Vec::new(),
        article_parent: Vec::new(),
    };
    let index: HashMap<&str, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut names = comments
        .iter()
        .any(|c| c.reply_to.is_some() || (!c.parent_known && c.parent_id.is_none()))
        .then(|| Names::new(comments));
    for (i, c) in comments.iter().enumerate() {
        if let Some(p) = &c.parent_id {
            explicit(i, comments, p, &index, dups, articles, &mut links, report);
        } else if let (Some(target), Some(names)) = (&c.reply_to, names.as_mut()) {
            by_name(i, comments, target, names, &mut links, report);
        } else if let (false, Some(names)) = (c.parent_known, names.as_mut()) {
            by_mention(i, comments, names, &mut links);
        }
        if let Some(names) = names.as_mut() {
            names.add(i, comments);
        }
        // A reader unsure of the structure it stated (a page of no known layout) says so.
        // (Not for a quote edge: the quote is its own signal, whatever the list's layout.)
        if let Some(stated) = c.confidence.filter(|_| !c.by_quote) {
            links.confidence[i] = links.confidence[i].min(stated);
        }
    }
    links
}

#[allow(clippy::too_many_arguments)]
fn explicit(
    i: usize,
    comments: &[Comment],
    p: &str,
    index: &HashMap<&str, usize>,
    dups: &HashMap<String, Vec<usize>>,
    articles: &HashSet<&str>,
    links: &mut Links,
    report: &mut Integrity,
) {
    let c = &comments[i];
    let (found, confidence) = match dups.get(p) {
        Some(group) => (pick_duplicate(i, comments, group), 0.5),
        None => (
            index
                .get(p)
                .copied()
                .filter(|&j| same_article(c, &comments[j])),
            1.0,
        ),
    };
    match found {
        Some(j) if j == i => {
            links.confidence[i] = 0.0;
            report.cycles.push(Cycle {
                ids: vec![c.id.to_string()],
                broken_at: c.id.to_string(),
            });
        }
        Some(j) if c.by_quote => {
            links.parent[i] = Some(j);
            links.resolution[i] = Resolution::Quote;
            links.confidence[i] = f32::min(confidence, QUOTE);
        }
        Some(j) => {
            links.parent[i] = Some(j);
            links.resolution[i] = Resolution::Explicit;
            links.confidence[i] = confidence;
        }
        None if articles.contains(p) => links.article_parent.push((i, p.to_string())),
        None => {
            links.confidence[i] = 0.0;
            report.orphans.push(Orphan {
                id: c.id.to_string(),
                parent_id: p.to_string(),
                loc: c.loc.clone(),
            });
        }
    }
}

/// Where a record comes from, for telling comments apart: the thread or article it names,
/// else the file it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Source<'a> {
    Thread(&'a str),
    File(&'a str),
}

pub(crate) fn source(c: &Comment) -> Source<'_> {
    match &c.thread_key {
        Some(key) => Source::Thread(key),
        None => Source::File(&c.loc.file),
    }
}

/// Replies never cross articles: a parent must be in the reply's article, unless one of the
/// two names none (sources without thread keys link across their files by id).
fn same_article(c: &Comment, parent: &Comment) -> bool {
    match (&c.thread_key, &parent.thread_key) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Of several comments sharing the parent id: the latest earlier one from the same source (the
/// same article, or the same file where neither names one), else the first later one from it,
/// else the first in the same article; none in another article (an orphan then).
fn pick_duplicate(i: usize, comments: &[Comment], group: &[usize]) -> Option<usize> {
    let me = source(&comments[i]);
    let same = |j: usize| source(&comments[j]) == me;
    group
        .iter()
        .copied()
        .rev()
        .find(|&j| j < i && same(j))
        .or_else(|| group.iter().copied().find(|&j| j != i && same(j)))
        .or_else(|| {
            group
                .iter()
                .copied()
                .find(|&j| j != i && same_article(&comments[i], &comments[j]))
        })
}

/// Earlier comments by author name and article, anonymous ones per article, and the replies
/// addressed to each name (for scoring inference against all of them at once).
struct Names {
    by_author: HashMap<(Option<Short>, String), Vec<usize>>,
    anonymous: HashMap<Option<Short>, Vec<usize>>,
    addressed: HashMap<(Option<Short>, String), Vec<usize>>,
    inferred: HashMap<usize, f32>,
    tokens: HashMap<usize, Tokens>,
}

fn name_key(c: &Comment, name: &str) -> (Option<Short>, String) {
    (c.thread_key.clone(), name.trim().to_lowercase())
}

impl Names {
    fn new(comments: &[Comment]) -> Names {
        let mut addressed: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, c) in comments.iter().enumerate() {
            if let (None, Some(target)) = (&c.parent_id, &c.reply_to) {
                addressed.entry(name_key(c, target)).or_default().push(i);
            }
        }
        Names {
            by_author: HashMap::new(),
            anonymous: HashMap::new(),
            addressed,
            inferred: HashMap::new(),
            tokens: HashMap::new(),
        }
    }

    fn add(&mut self, i: usize, comments: &[Comment]) {
        let c = &comments[i];
        match &c.author {
            Some(author) => self
                .by_author
                .entry(name_key(c, author))
                .or_default()
                .push(i),
            None => self
                .anonymous
                .entry(c.thread_key.clone())
                .or_default()
                .push(i),
        }
    }

    fn tokens(&mut self, i: usize, comments: &[Comment]) -> &Tokens {
        self.tokens
            .entry(i)
            .or_insert_with(|| Tokens::new(&comments[i].text))
    }

    fn similarity(&mut self, a: usize, b: usize, comments: &[Comment], skip: &str) -> usize {
        let ta = self.tokens(a, comments).clone();
        self.tokens(b, comments).shared(&ta, skip)
    }
}

fn by_name(
    i: usize,
    comments: &[Comment],
    target: &str,
    names: &mut Names,
    links: &mut Links,
    report: &mut Integrity,
) {
    let c = &comments[i];
    let key = name_key(c, target);
    let skip = key.1.clone();
    let signed: Vec<usize> = names
        .by_author
        .get(&key)
        .map(|v| v.iter().rev().take(MAX_CANDIDATES).copied().collect())
        .unwrap_or_default();
    if !signed.is_empty() {
        let scored: Vec<(usize, usize)> = signed
            .iter()
            .map(|&j| (names.similarity(i, j, comments, &skip), j))
            .collect();
        let (best, second) = best_two(&scored);
        let (score, j) = best;
        let confidence = if scored.len() == 1 {
            0.95
        } else {
            0.6 + 0.3 * margin(score, second)
        };
        links.parent[i] = Some(j);
        match names.inferred.get(&j) {
            Some(&inferred) => {
                links.resolution[i] = Resolution::Inferred;
                links.confidence[i] = confidence.min(inferred);
            }
            None => {
                links.resolution[i] = Resolution::Name;
                links.confidence[i] = confidence;
            }
        }
        return;
    }
    // Nobody signed as `target`: which anonymous comment do the replies to it echo?
    let candidates: Vec<usize> = names
        .anonymous
        .get(&c.thread_key)
        .map(|v| {
            v.iter()
                .copied()
                .filter(|j| *j < i && !names.inferred.contains_key(j))
                .collect()
        })
        .unwrap_or_default();
    let replies = names.addressed.get(&key).cloned().unwrap_or_default();
    let scored: Vec<(usize, usize)> = candidates
        .iter()
        .map(|&j| {
            let score = replies
                .iter()
                .filter(|&&r| r > j)
                .map(|&r| names.similarity(r, j, comments, &skip))
                .sum();
            (score, j)
        })
        .collect();
    let (best, second) = best_two(&scored);
    if best.0 == 0 {
        links.confidence[i] = 0.0;
        report.unresolved_replies.push(Unresolved {
            id: c.id.to_string(),
            reply_to: target.to_string(),
            loc: c.loc.clone(),
        });
        return;
    }
    let j = best.1;
    let confidence = (0.3 + 0.5 * margin(best.0, second)).clamp(0.3, 0.8);
    names.inferred.insert(j, confidence);
    names.by_author.entry(key).or_default().push(j);
    links.inferred.push((j, target.to_string()));
    report.inferred_authors.push(InferredAuthor {
        id: comments[j].id.to_string(),
        author: target.to_string(),
        confidence,
        loc: comments[j].loc.clone(),
    });
    links.parent[i] = Some(j);
    links.resolution[i] = Resolution::Inferred;
    links.confidence[i] = confidence;
}

fn by_mention(i: usize, comments: &[Comment], names: &mut Names, links: &mut Links) {
    let c = &comments[i];
    links.confidence[i] = ROOT_IMPLICIT;
    let Some(name) = leading_mention(&c.text) else {
        return;
    };
    let key = name_key(c, name);
    let skip = key.1.clone();
    let own = c.author.as_deref().map(|a| a.trim().to_lowercase());
    if own.as_deref() == Some(skip.as_str()) {
        return;
    }
    let Some(signed) = names.by_author.get(&key).map(|v| {
        v.iter()
            .rev()
            .take(MAX_CANDIDATES)
            .copied()
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    let scored: Vec<(usize, usize)> = signed
        .iter()
        .map(|&j| (names.similarity(i, j, comments, &skip), j))
        .collect();
    let (best, second) = best_two(&scored);
    links.parent[i] = Some(best.1);
    links.resolution[i] = Resolution::Mention;
    links.confidence[i] = if scored.len() == 1 {
        0.6
    } else {
        0.4 + 0.2 * margin(best.0, second)
    };
}

/// `@name …` or `Name, …` at the start of a comment.
pub(crate) fn leading_mention(text: &str) -> Option<&str> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('@') {
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(rest.len());
        let name = rest[..end].trim_end_matches('.');
        return (!name.is_empty()).then_some(name);
    }
    let (head, _) = text.split_once(',')?;
    let ok = !head.is_empty() && head.chars().count() <= 40 && head.split_whitespace().count() <= 3;
    ok.then_some(head.trim())
}

/// Highest (score, index) — ties go to the later comment — and the runner-up score.
fn best_two(scored: &[(usize, usize)]) -> ((usize, usize), usize) {
    let mut sorted = scored.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let best = sorted.first().copied().unwrap_or((0, 0));
    let second = sorted.get(1).map_or(0, |s| s.0);
    (best, second)
}

/// How clearly the best score beats the second, 0–1.
fn margin(best: usize, second: usize) -> f32 {
    if best == 0 {
        0.0
    } else {
        (best - second.min(best)) as f32 / best as f32
    }
}

/// Content words (lowercased, lightly stemmed, stop words dropped) and adjacent word pairs.
#[derive(Clone, Debug, Default)]
struct Tokens {
    words: HashSet<String>,
    pairs: HashSet<(String, String)>,
}

const STOP: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "have", "his", "how", "its", "may", "new", "now", "old", "see",
    "two", "who", "did", "get", "him", "let", "say", "she", "too", "use", "that", "this", "with",
    "from", "they", "them", "then", "than", "there", "their", "what", "when", "where", "which",
    "will", "would", "could", "should", "been", "being", "were", "into", "about", "just", "also",
    "very", "some", "such", "only", "more", "most", "other", "your", "yours", "these", "those",
    "here", "does", "doing", "because", "while", "each", "over", "under", "again", "after",
    "before", "like", "know", "think", "don", "yes", "really", "much", "many", "well", "even",
    "still", "said",
];

impl Tokens {
    fn new(text: &str) -> Tokens {
        let mut words = HashSet::new();
        let mut pairs = HashSet::new();
        let mut prev: Option<String> = None;
        for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
            let word = stem(&raw.trim_matches('\'').to_lowercase());
            if word.chars().count() < 3 || STOP.contains(&word.as_str()) {
                prev = None;
                continue;
            }
            if let Some(p) = prev.take() {
                pairs.insert((p, word.clone()));
            }
            prev = Some(word.clone());
            words.insert(word);
        }
        Tokens { words, pairs }
    }

    /// Shared words plus twice the shared pairs, ignoring `skip` (the addressed name).
    fn shared(&self, other: &Tokens, skip: &str) -> usize {
        let words = self
            .words
            .iter()
            .filter(|w| w.as_str() != skip && other.words.contains(*w))
            .count();
        let pairs = self
            .pairs
            .iter()
            .filter(|p| other.pairs.contains(*p))
            .count();
        words + 2 * pairs
    }
}

fn stem(word: &str) -> String {
    let word = word.strip_suffix("'s").unwrap_or(word);
    for (suffix, min) in [("ing", 6), ("ly", 5), ("ed", 5), ("es", 5), ("s", 5)] {
        if word.len() >= min && word.ends_with(suffix) && !word.ends_with("ss") {
            return word[..word.len() - suffix.len()].to_string();
        }
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions() {
        let cases = [
            ("@bob_1 hi", Some("bob_1")),
            ("@bob. hi", Some("bob")),
            ("Donny, I agree", Some("Donny")),
            ("They assured each other their nations, sure", None),
            ("no comma here", None),
            ("@ nothing", None),
        ];
        for (text, want) in cases {
            assert_eq!(leading_mention(text), want, "{text}");
        }
    }

    #[test]
    fn stems_and_similarity() {
        for (word, want) in [
            ("viewing", "view"),
            ("positively", "positive"),
            ("others", "other"),
            ("class", "class"),
            ("news", "news"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
        let a =
            Tokens::new("Tell that to the US Fake News bureau, they view the others positively");
        let b = Tokens::new("dvdgrg09, The 'True Fake News' do not speak for the people; viewing each other positively");
        let c = Tokens::new("Merkel and Hollande are freaking out about the people");
        assert!(b.shared(&a, "dvdgrg09") > b.shared(&c, "dvdgrg09"));
    }

    #[test]
    fn margins() {
        assert_eq!(best_two(&[(1, 0), (3, 1), (3, 2)]), ((3, 2), 3));
        assert_eq!(margin(4, 1), 0.75);
        assert_eq!(margin(0, 0), 0.0);
    }
}
