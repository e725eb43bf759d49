//! Stack Exchange question pages (Stack Overflow and its sister sites): the answers
//! (`div.answer[data-answerid]`) and the comments under the question and under each answer
//! (`li.comment` now, `tr.comment` in the 2016 markup). The question is the page's article; a
//! comment under an answer replies to it, one under the question is top-level. Read with the
//! same code as `--comment-selector`, with these selectors fixed.

use super::super::dom::{attr, has_class, tag, N};
use super::super::{selected, Extract};
use crate::ingest::Selectors;

/// An answer, the engine's signal.
pub(super) fn is_answer(n: N<'_>) -> bool {
    tag(n) == "div" && has_class(n, "answer") && attr(n, "data-answerid").is_some()
}

pub(super) fn extract(root: N<'_>) -> Extract {
    let s = Selectors {
        comment: "div.answer[data-answerid], li.comment, tr.comment".into(),
        // The last signature is the author's ("answered"); an editor's ("edited") comes first.
        author: Some(".post-signature:last-child .user-details a, a.comment-user".into()),
        text: Some(".post-text, .s-prose, .comment-copy".into()),
        // "answered <time>", not the "edited <time>" link before it.
        time: Some(".user-action-time > .relativetime, .comment-date .relativetime-clean".into()),
        id_attr: None,
        parent_attr: None,
    };
    match selected::parse(&s) {
        Ok(parsed) => selected::extract(root, &s, &parsed),
        Err(_) => Extract::default(),
    }
}
