//! Fuzzing harness library: the product's ingest and thread modules (and `report::safe`, which
//! the CSV writer calls) compiled by path (so `crate::ingest` resolves as in the product) plus
//! `check`, the property every target asserts: any bytes either fail with an error or build a
//! forest that holds every ingested comment exactly once and can be written in every output
//! format.

#[path = "../../src/csvread.rs"]
pub mod csvread;
#[path = "../../src/ingest/mod.rs"]
pub mod ingest;
#[path = "../../src/thread/mod.rs"]
pub mod thread;
/// Only the spreadsheet-safety helper the thread writers use, not the reports.
#[path = "../../src/report"]
pub mod report {
    pub mod safe;
}

use ingest::{Format, IngestOptions};
use thread::OutputFormat;

/// Reads `data` as `format`, builds the forest and writes it; panics only on a real bug.
pub fn check(format: Format, data: &[u8]) {
    let opts = IngestOptions {
        format,
        ..IngestOptions::default()
    };
    let Ok(input) = ingest::read_bytes("fuzz", data, &opts) else {
        return;
    };
    let comments = input.comments.len();
    let forest = thread::build(input);
    // Repeats of one comment (same source, id, parent, author, text) are kept once and listed.
    let repeats = forest.integrity.repeated_records.len();
    assert_eq!(
        (forest.nodes.len(), forest.comments.len()),
        (comments - repeats, comments - repeats),
        "a comment was lost or duplicated"
    );
    for (i, node) in forest.nodes.iter().enumerate() {
        if let Some(p) = node.parent {
            assert!(p < i, "parent after child");
            assert_eq!(forest.nodes[p].depth + 1, node.depth);
        }
    }
    for format in [OutputFormat::Tree, OutputFormat::Csv, OutputFormat::Jsonl] {
        let mut sink = Vec::new();
        thread::write(&forest, format, &mut sink).expect("writing to memory cannot fail");
    }
    let _ = forest.integrity.to_text();
}
