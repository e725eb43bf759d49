//! Writes the stance target of every article in the given inputs (title and lead, exactly the
//! text `analyze` takes a stance toward) as JSON lines, so that a reader can label each one
//! "states a claim or position" or not without seeing any model output (issue 35 item 2, the
//! claim detector's real-page check). Lab code: a cargo example
//! (`cargo run --release --example claim_targets -- INPUT... > targets.jsonl`) calling only the
//! library's public readers; an input that cannot be read is reported on stderr and skipped.

use std::io::Write;
use std::path::PathBuf;

use threadlens::ingest::IngestOptions;
use threadlens::pipeline::{article_targets, read_forest, StanceTarget};

fn main() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for input in std::env::args().skip(1).map(PathBuf::from) {
        let forest = match read_forest(std::slice::from_ref(&input), &IngestOptions::default()) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{}: {e}", input.display());
                continue;
            }
        };
        let targets = article_targets(&forest, &StanceTarget::FromInput);
        for (article, target) in forest.articles.iter().zip(targets) {
            let i = forest.articles.iter().position(|a| a.key == article.key);
            let comments = forest.nodes.iter().filter(|n| n.article == i).count();
            let line = serde_json::json!({
                "input": input.display().to_string(),
                "article": article.key,
                "comments": comments,
                "target": target,
            });
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
