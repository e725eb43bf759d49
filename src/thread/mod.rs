//! The thread builder: turns ingested comments into a reply forest stored as an arena.
//!
//! Steps: give duplicate ids a disambiguated id (never merge), resolve each parent (explicit
//! id, addressed name, mention or content inference; see `resolve`), create key-only articles
//! for thread keys the input does not describe, break parent cycles, then lay the nodes out in
//! depth-first pre-order (threads in order of first appearance) so a parent always precedes its
//! children. Every input comment ends up in `Forest::nodes` exactly once; everything found on
//! the way goes into the `Integrity` report. Iterative throughout: a million-deep chain is fine.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use crate::ingest::{Article, Comment, CommentKind, Input, Partial, Reject, RejectKind};

pub mod integrity;
pub mod output;
mod resolve;

pub use integrity::Integrity;
pub use output::{write, OutputFormat};

/// How a comment's parent edge was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// The source gave the parent id.
    Explicit,
    /// "X in reply to Y": Y's earlier comment.
    Name,
    /// "@Y …" or "Y, …" at the start of the text.
    Mention,
    /// A forum post that quotes an earlier post, which names it (`ingest::html::quote`).
    Quote,
    /// The parent's author was inferred from what the replies echo.
    Inferred,
    /// No parent: a root (or an orphan, cycle member, unresolved reply; see the report).
    None,
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resolution::Explicit => "explicit",
            Resolution::Name => "name",
            Resolution::Mention => "mention",
            Resolution::Quote => "quote",
            Resolution::Inferred => "inferred",
            Resolution::None => "none",
        })
    }
}

/// One comment's place in the forest (the comment itself is `Forest::comments[i]`).
#[derive(Debug, Clone)]
pub struct Node {
    /// Index of the parent node.
    pub parent: Option<usize>,
    /// Indices of the replies, in input order.
    pub children: Vec<usize>,
    pub depth: u32,
    /// Index of the thread's root node (its comment's id is the thread id: `Forest::thread_id`).
    pub root: usize,
    /// Index into `Forest::articles`.
    pub article: Option<usize>,
    pub resolution: Resolution,
    /// 0–1: how sure the builder is of this edge (or, for roots, of being a root).
    pub confidence: f32,
    /// The author was inferred from replies addressed to it, not signed.
    pub author_inferred: bool,
}

/// The reply forest: nodes in depth-first pre-order, the articles they belong to, the input's
/// rejected records and the integrity report.
///
/// `comments[i]` is node `i`'s comment. The two are kept apart, so laying the forest out moves
/// the comments in place instead of copying them into the nodes (memory at a million comments).
#[derive(Debug, Clone, Default)]
pub struct Forest {
    pub articles: Vec<Article>,
    /// The comments, in node order.
    pub comments: Vec<Comment>,
    pub nodes: Vec<Node>,
    pub rejects: Vec<Reject>,
    pub integrity: Integrity,
}

impl Forest {
    /// The thread id of node `i`: its root comment's id.
    pub fn thread_id(&self, i: usize) -> &str {
        &self.comments[self.nodes[i].root].id
    }

    /// Indices of the root nodes, in thread order.
    pub fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| n.root == *i)
            .map(|(i, _)| i)
    }
}

/// Builds the forest. Never fails: problems become entries in the integrity report.
pub fn build(input: Input) -> Forest {
    let Input {
        mut articles,
        mut comments,
        rejects,
        partials,
    } = input;
    let mut report = Integrity {
        rejected: rejects
            .iter()
            .filter(|r| r.kind == RejectKind::Record)
            .count(),
        empty_files: rejects
            .iter()
            .filter(|r| r.kind == RejectKind::EmptyFile)
            .map(|r| r.loc.file.to_string())
            .collect(),
        ..Integrity::default()
    };
    drop_repeats(&mut comments, &mut report);
    let dups = dedupe_ids(&mut comments, &mut report);
    let links = {
        let keys: HashSet<&str> = articles.iter().map(|a| a.key.as_str()).collect();
        resolve::resolve(&comments, &dups, &keys, &mut report)
    };
    let resolve::Links {
        mut parent,
        mut resolution,
        mut confidence,
        inferred,
        article_parent,
    } = links;
    let mut author_inferred = vec![false; comments.len()];
    for (j, author) in inferred {
        comments[j].author = Some(author.into());
        author_inferred[j] = true;
    }
    for (i, key) in article_parent {
        comments[i].thread_key.get_or_insert(key.into());
    }
    add_missing_articles(&comments, &mut articles, &mut report);
    break_cycles(
        &comments,
        &mut parent,
        &mut resolution,
        &mut confidence,
        &mut report,
    );
    let order = preorder(&parent);
    let nodes = layout(&mut comments, &parent, &order, &articles, |i| {
        (resolution[i], confidence[i], author_inferred[i])
    });
    finish_report(&mut report, &comments, &nodes, &articles, &partials);
    Forest {
        articles,
        comments,
        nodes,
        rejects,
        integrity: report,
    }
}

/// Keeps one copy of each record that appears more than once as the same comment (overlapping
/// exports): the same source, id, parent, author and text. The source is the thread or article
/// the record names, else its file, so `1, Anonymous, First!` in two articles, two thread ids
/// or two files without thread keys are two comments (issue 34 case 3). The repeats are
/// listed; records that share an id but differ are left for `dedupe_ids`, which keeps them apart.
fn drop_repeats(comments: &mut Vec<Comment>, report: &mut Integrity) {
    let mut repeats = vec![false; comments.len()];
    {
        type Key<'a> = (
            resolve::Source<'a>,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
        );
        let mut first: HashMap<Key, usize> = HashMap::with_capacity(comments.len());
        for (i, c) in comments.iter().enumerate() {
            let key = (
                resolve::source(c),
                c.id.as_str(),
                c.parent_id.as_deref(),
                c.author.as_deref(),
                c.text.as_str(),
            );
            match first.get(&key) {
                Some(&f) => {
                    repeats[i] = true;
                    report.repeated_records.push(integrity::Repeated {
                        id: c.id.to_string(),
                        loc: c.loc.clone(),
                        first: comments[f].loc.clone(),
                    });
                }
                None => {
                    first.insert(key, i);
                }
            }
        }
    }
    if report.repeated_records.is_empty() {
        return;
    }
    let mut i = 0;
    comments.retain(|_| {
        i += 1;
        !repeats[i - 1]
    });
}

/// Renames the second and later uses of an id to `id#2`, `id#3`… (skipping names in use) and
/// returns, for each duplicated original id, all indices that carried it.
fn dedupe_ids(comments: &mut [Comment], report: &mut Integrity) -> HashMap<String, Vec<usize>> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut renames: Vec<(usize, String)> = Vec::new();
    {
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(comments.len());
        for (i, c) in comments.iter().enumerate() {
            if let Some(&f) = first.get(c.id.as_str()) {
                groups
                    .entry(c.id.to_string())
                    .or_insert_with(|| vec![f])
                    .push(i);
                renames.push((i, String::new()));
            } else {
                first.insert(c.id.as_str(), i);
            }
        }
        let mut taken: HashSet<String> = HashSet::new();
        for (i, new_id) in &mut renames {
            let id = &comments[*i].id;
            let mut k = 2;
            loop {
                let candidate = format!("{id}#{k}");
                if !first.contains_key(candidate.as_str()) && !taken.contains(&candidate) {
                    taken.insert(candidate.clone());
                    *new_id = candidate;
                    break;
                }
                k += 1;
            }
        }
    }
    for (i, new_id) in renames {
        let first = groups
            .get(comments[i].id.as_str())
            .and_then(|g| g.first())
            .map(|&f| comments[f].loc.clone())
            .unwrap_or_default();
        report.duplicate_ids.push(integrity::DuplicateId {
            id: comments[i].id.to_string(),
            renamed_to: new_id.clone(),
            loc: comments[i].loc.clone(),
            first,
        });
        comments[i].id = new_id.into();
    }
    groups
}

/// Thread keys with no article get a key-only article; keys no source described are reported.
fn add_missing_articles(comments: &[Comment], articles: &mut Vec<Article>, report: &mut Integrity) {
    let known: HashSet<&str> = articles.iter().map(|a| a.key.as_str()).collect();
    let mut missing: Vec<(String, usize)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for key in comments.iter().filter_map(|c| c.thread_key.as_deref()) {
        if known.contains(key) {
            continue;
        }
        match at.get(key) {
            Some(&m) => missing[m].1 += 1,
            None => {
                at.insert(key, missing.len());
                missing.push((key.to_string(), 1));
            }
        }
    }
    for (key, count) in missing {
        articles.push(Article {
            key: key.clone(),
            ..Article::default()
        });
        report.missing_articles.push(integrity::MissingArticle {
            key,
            comments: count,
        });
    }
}

/// Finds parent loops and makes their earliest member a root.
fn break_cycles(
    comments: &[Comment],
    parent: &mut [Option<usize>],
    resolution: &mut [Resolution],
    confidence: &mut [f32],
    report: &mut Integrity,
) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; parent.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..parent.len() {
        if state[start] != NEW {
            continue;
        }
        path.clear();
        let mut j = start;
        let cycle_at = loop {
            match state[j] {
                ON_PATH => break Some(j),
                DONE => break None,
                _ => {}
            }
            state[j] = ON_PATH;
            path.push(j);
            match parent[j] {
                Some(p) => j = p,
                None => break None,
            }
        };
        if let Some(j) = cycle_at {
            let from = path.iter().position(|&k| k == j).unwrap_or(0);
            let members = &path[from..];
            let cut = members.iter().copied().min().unwrap_or(j);
            parent[cut] = None;
            resolution[cut] = Resolution::None;
            confidence[cut] = 0.0;
            report.cycles.push(integrity::Cycle {
                ids: members
                    .iter()
                    .map(|&k| comments[k].id.to_string())
                    .collect(),
                broken_at: comments[cut].id.to_string(),
            });
        }
        for &k in &path {
            state[k] = DONE;
        }
    }
}

/// Depth-first pre-order over the (acyclic) parent array: threads in order of first
/// appearance of any of their comments, children in input order.
fn preorder(parent: &[Option<usize>]) -> Vec<usize> {
    let n = parent.len();
    // Root of every comment, with path compression.
    let mut root = vec![usize::MAX; n];
    let mut path = Vec::new();
    for i in 0..n {
        let mut j = i;
        path.clear();
        while root[j] == usize::MAX {
            path.push(j);
            match parent[j] {
                Some(p) => j = p,
                None => {
                    root[j] = j;
                    break;
                }
            }
        }
        let r = root[j];
        for &k in &path {
            root[k] = r;
        }
    }
    let mut seen = vec![false; n];
    let roots: Vec<usize> = root
        .iter()
        .filter_map(|&r| (!std::mem::replace(&mut seen[r], true)).then_some(r))
        .collect();
    let (offsets, kids) = children_csr(parent);
    let mut order = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for r in roots {
        stack.push(r);
        while let Some(x) = stack.pop() {
            order.push(x);
            stack.extend(kids[offsets[x]..offsets[x + 1]].iter().rev());
        }
    }
    order
}

/// Children of every index in compressed form: `kids[offsets[i]..offsets[i + 1]]`.
fn children_csr(parent: &[Option<usize>]) -> (Vec<usize>, Vec<usize>) {
    let n = parent.len();
    let mut offsets = vec![0usize; n + 1];
    for p in parent.iter().flatten() {
        offsets[p + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut kids = vec![0usize; offsets[n]];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            kids[fill[p]] = i;
            fill[p] += 1;
        }
    }
    (offsets, kids)
}

/// Puts the comments in `order` (in place) and builds their nodes, remapping indices.
fn layout(
    comments: &mut [Comment],
    parent: &[Option<usize>],
    order: &[usize],
    articles: &[Article],
    edge: impl Fn(usize) -> (Resolution, f32, bool),
) -> Vec<Node> {
    let n = comments.len();
    debug_assert_eq!(order.len(), n);
    let mut new_index = vec![0usize; n];
    for (pos, &old) in order.iter().enumerate() {
        new_index[old] = pos;
    }
    permute(comments, order);
    let article_at: HashMap<&str, usize> = articles
        .iter()
        .enumerate()
        .map(|(i, a)| (a.key.as_str(), i))
        .collect();
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    for (pos, (&old, comment)) in order.iter().zip(comments.iter()).enumerate() {
        let parent_pos = parent[old].map(|p| new_index[p]);
        let (resolution, confidence, author_inferred) = edge(old);
        let own_article = comment
            .thread_key
            .as_deref()
            .and_then(|k| article_at.get(k).copied());
        let (depth, root, article) = match parent_pos.and_then(|p| nodes.get_mut(p)) {
            Some(p) => {
                p.children.push(pos);
                (p.depth + 1, p.root, own_article.or(p.article))
            }
            None => (0, pos, own_article),
        };
        nodes.push(Node {
            parent: parent_pos,
            children: Vec::new(),
            depth,
            root,
            article,
            resolution,
            confidence,
            author_inferred,
        });
    }
    nodes
}

/// Reorders `v` in place so that `v[pos]` becomes the old `v[order[pos]]` (`order` is a
/// permutation); follows each cycle with swaps, so no element is copied aside.
fn permute<T>(v: &mut [T], order: &[usize]) {
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        let mut pos = start;
        while !done[pos] {
            done[pos] = true;
            let src = order[pos];
            if src == start {
                break;
            }
            v.swap(pos, src);
            pos = src;
        }
    }
}

/// Counts, flags and partial threads, once the nodes are laid out.
fn finish_report(
    report: &mut Integrity,
    comments: &[Comment],
    nodes: &[Node],
    articles: &[Article],
    partials: &[Partial],
) {
    report.comments = nodes.len();
    report.articles = articles.len();
    for (i, (node, c)) in nodes.iter().zip(comments).enumerate() {
        let depth = node.depth as usize;
        if report.depth_histogram.len() <= depth {
            report.depth_histogram.resize(depth + 1, 0);
        }
        report.depth_histogram[depth] += 1;
        report.max_depth = report.max_depth.max(node.depth);
        if node.root == i {
            report.threads += 1;
        }
        let r = &mut report.resolutions;
        match node.resolution {
            Resolution::Explicit => r.explicit += 1,
            Resolution::Name => r.name += 1,
            Resolution::Mention => r.mention += 1,
            Resolution::Quote => r.quote += 1,
            Resolution::Inferred => r.inferred += 1,
            Resolution::None => r.none += 1,
        }
        if c.kind.is_link() {
            report.pingbacks += 1;
        }
        // Pingbacks and trackbacks are counted apart, awaiting approval or not.
        if c.approved == Some(false) && !c.spam && !c.deleted && c.kind == CommentKind::Comment {
            report.unapproved += 1;
        }
        let flagged = || integrity::Flagged {
            id: c.id.to_string(),
            loc: c.loc.clone(),
        };
        if c.deleted {
            report.deleted.push(flagged());
        }
        if c.spam {
            report.spam.push(flagged());
        }
        if let Some(p) = node
            .parent
            .and_then(|p| comments.get(p))
            .filter(|p| p.deleted)
        {
            report.replies_to_deleted.push(integrity::ReplyToDeleted {
                id: c.id.to_string(),
                parent_id: p.id.to_string(),
                loc: c.loc.clone(),
            });
        }
    }
    let present: HashSet<&str> = comments.iter().map(|c| c.id.as_str()).collect();
    for p in partials {
        let missing = if p.child_ids.is_empty() {
            (p.declared_missing > 0).then_some(p.declared_missing)
        } else {
            Some(
                p.child_ids
                    .iter()
                    .filter(|id| !present.contains(id.as_str()))
                    .count() as u64,
            )
        };
        if missing == Some(0) {
            continue;
        }
        report.partial_threads.push(integrity::PartialThread {
            source: p.source,
            thread_key: p.thread_key.clone(),
            parent_id: p.parent_id.clone(),
            missing,
            loc: p.loc.clone(),
        });
    }
    report.duplicate_articles = duplicate_articles(articles);
}

/// Articles with the same title, or the same link once scheme, `www.`, query and trailing
/// slash are ignored. A set of articles that matches on both is listed once, with both reasons.
fn duplicate_articles(articles: &[Article]) -> Vec<integrity::DuplicateArticle> {
    let mut out: Vec<integrity::DuplicateArticle> = Vec::new();
    let mut at: HashMap<Vec<String>, usize> = HashMap::new();
    for (what, key_of) in [
        (
            "same title",
            (|a: &Article| a.title.as_deref().map(|t| t.trim().to_lowercase()))
                as fn(&Article) -> Option<String>,
        ),
        ("same link", |a: &Article| {
            a.url.as_deref().map(normalize_url)
        }),
    ] {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut group_at: HashMap<String, usize> = HashMap::new();
        for a in articles {
            let Some(k) = key_of(a).filter(|k| !k.is_empty()) else {
                continue;
            };
            match group_at.get(&k) {
                Some(&g) => groups[g].1.push(a.key.clone()),
                None => {
                    group_at.insert(k.clone(), groups.len());
                    groups.push((k, vec![a.key.clone()]));
                }
            }
        }
        for (k, keys) in groups.into_iter().filter(|(_, keys)| keys.len() > 1) {
            let reason = format!("{what}: {k}");
            match at.get(&keys) {
                Some(&i) => {
                    let d: &mut integrity::DuplicateArticle = &mut out[i];
                    d.reason = format!("{}; {reason}", d.reason);
                }
                None => {
                    at.insert(keys.clone(), out.len());
                    out.push(integrity::DuplicateArticle { keys, reason });
                }
            }
        }
    }
    out
}

fn normalize_url(url: &str) -> String {
    let url = url.trim().to_lowercase();
    let url = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let url = url.strip_prefix("www.").unwrap_or(url);
    let url = url.split(['?', '#']).next().unwrap_or_default();
    url.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Location;

    fn comment(id: &str, parent: Option<&str>) -> Comment {
        Comment {
            id: id.into(),
            parent_id: parent.map(Into::into),
            text: format!("text {id}"),
            parent_known: true,
            loc: Location::line("t", 1),
            ..Comment::default()
        }
    }

    fn shape(forest: &Forest) -> Vec<(String, Option<String>, u32)> {
        forest
            .nodes
            .iter()
            .zip(&forest.comments)
            .map(|(n, c)| {
                (
                    c.id.to_string(),
                    n.parent.map(|p| forest.comments[p].id.to_string()),
                    n.depth,
                )
            })
            .collect()
    }

    fn ids(v: &[(&str, Option<&str>, u32)]) -> Vec<(String, Option<String>, u32)> {
        v.iter()
            .map(|(a, b, d)| (a.to_string(), b.map(String::from), *d))
            .collect()
    }

    #[test]
    fn preorder_orphans_cycles_and_duplicates() {
        type Case<'a> = (
            Vec<Comment>,
            Vec<(&'a str, Option<&'a str>, u32)>,
            usize,
            usize,
            usize,
        );
        let cases: Vec<Case> = vec![
            // comments, expected (id, parent, depth) in order, orphans, cycles, duplicates
            (
                vec![
                    comment("b", Some("a")),
                    comment("a", None),
                    comment("c", None),
                    comment("d", Some("b")),
                ],
                vec![
                    ("a", None, 0),
                    ("b", Some("a"), 1),
                    ("d", Some("b"), 2),
                    ("c", None, 0),
                ],
                0,
                0,
                0,
            ),
            (
                vec![comment("x", Some("gone")), comment("y", Some("x"))],
                vec![("x", None, 0), ("y", Some("x"), 1)],
                1,
                0,
                0,
            ),
            (
                vec![
                    comment("p", Some("q")),
                    comment("q", Some("p")),
                    comment("s", Some("s")),
                ],
                vec![("p", None, 0), ("q", Some("p"), 1), ("s", None, 0)],
                0,
                2,
                0,
            ),
            (
                vec![
                    comment("1", None),
                    // Same id, another text: a genuine conflict, kept apart (an identical
                    // record would be a repeat, kept once).
                    Comment {
                        text: "another text".into(),
                        ..comment("1", None)
                    },
                    comment("1#2", None),
                    comment("2", Some("1")),
                ],
                vec![
                    ("1", None, 0),
                    ("1#3", None, 0),
                    ("2", Some("1#3"), 1),
                    ("1#2", None, 0),
                ],
                0,
                0,
                1,
            ),
        ];
        for (input, want, orphans, cycles, dups) in cases {
            let n = input.len();
            let forest = build(Input {
                comments: input,
                ..Input::default()
            });
            assert_eq!(forest.nodes.len(), n);
            assert_eq!(shape(&forest), ids(&want));
            let r = &forest.integrity;
            assert_eq!(
                (r.orphans.len(), r.cycles.len(), r.duplicate_ids.len()),
                (orphans, cycles, dups),
                "{r:?}"
            );
        }
    }

    #[test]
    fn deep_chain_does_not_overflow() {
        let n = 200_000;
        let comments: Vec<Comment> = (0..n)
            .map(|i| {
                comment(
                    &i.to_string(),
                    (i > 0).then(|| (i - 1).to_string()).as_deref(),
                )
            })
            .collect();
        let forest = build(Input {
            comments,
            ..Input::default()
        });
        assert_eq!(forest.integrity.max_depth, n as u32 - 1);
        assert_eq!(forest.integrity.threads, 1);
    }

    #[test]
    fn articles_missing_and_inherited() {
        let mut a = comment("a", None);
        a.thread_key = Some("k".into());
        let b = comment("b", Some("a"));
        let c = comment("c", Some("story"));
        let input = Input {
            comments: vec![a, b, c],
            articles: vec![Article {
                key: "story".into(),
                ..Article::default()
            }],
            ..Input::default()
        };
        let forest = build(input);
        let keys: Vec<_> = forest
            .nodes
            .iter()
            .map(|n| n.article.map(|i| forest.articles[i].key.as_str()))
            .collect();
        assert_eq!(keys, [Some("k"), Some("k"), Some("story")]);
        assert_eq!(forest.integrity.missing_articles.len(), 1);
        assert!(forest.integrity.orphans.is_empty());
    }

    #[test]
    fn permute_moves_in_place_by_cycles() {
        for order in [
            vec![],
            vec![0],
            vec![2, 0, 1],
            vec![1, 0, 3, 2, 4],
            vec![4, 3, 2, 1, 0],
        ] {
            let mut v: Vec<String> = (0..order.len()).map(|i| format!("x{i}")).collect();
            permute(&mut v, &order);
            let want: Vec<String> = order.iter().map(|i| format!("x{i}")).collect();
            assert_eq!(v, want);
        }
    }

    #[test]
    fn duplicate_articles_are_listed_once_with_every_reason() {
        let article = |key: &str, title: Option<&str>, url: Option<&str>| Article {
            key: key.into(),
            title: title.map(Into::into),
            url: url.map(Into::into),
            ..Article::default()
        };
        type Case<'a> = (Vec<Article>, Vec<(Vec<&'a str>, &'a str)>);
        let cases: Vec<Case> = vec![
            (
                vec![
                    article("a", Some("Hello"), Some("http://x.org/p")),
                    article("b", Some("hello "), Some("https://www.x.org/p/")),
                ],
                vec![(vec!["a", "b"], "same title: hello; same link: x.org/p")],
            ),
            (
                vec![
                    article("a", Some("T"), Some("http://x.org/1")),
                    article("b", Some("T"), Some("http://x.org/2")),
                    article("c", Some("U"), Some("http://x.org/2")),
                ],
                vec![
                    (vec!["a", "b"], "same title: t"),
                    (vec!["b", "c"], "same link: x.org/2"),
                ],
            ),
            (
                vec![article("a", Some(""), None), article("b", Some(""), None)],
                vec![],
            ),
        ];
        for (articles, want) in cases {
            let got = duplicate_articles(&articles);
            let got: Vec<(Vec<&str>, &str)> = got
                .iter()
                .map(|d| {
                    (
                        d.keys.iter().map(String::as_str).collect(),
                        d.reason.as_str(),
                    )
                })
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn url_normalisation() {
        for (url, want) in [
            ("https://www.x.org/a/?utm=1", "x.org/a"),
            ("http://x.org/a#c", "x.org/a"),
            ("x.org/A/", "x.org/a"),
        ] {
            assert_eq!(normalize_url(url), want);
        }
    }
}
