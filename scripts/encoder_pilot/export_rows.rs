//! Writes the rows of the encoder pilot (issue 38) as JSON lines, so that a Python trainer
//! can fine-tune MiniLM and MPNet on exactly the rows the product's own stage 1 and pair model
//! read, with the same validation split. This is lab code, kept out of the product: it is a
//! cargo example (`cargo run --release --example encoder_pilot_rows -- DATA OUT`) that only
//! calls the library's public dataset readers.
//!
//! Files written to OUT:
//! * `stage1.jsonl`: every distinct stage-1 row (`train::finetune_data` at the committed
//!   settings): text, sentiment class or null, the seven toxicity targets and cell weights,
//!   and whether the row is held back for validation;
//! * `stage1_val_sources.jsonl`: the validation rows again, with their source and toxicity
//!   label, for per-source ROC AUC (only rows `finetune_data` kept as validation rows);
//! * `pairs_train.jsonl`, `pairs_val.jsonl`: the article-stance pair rows (`train::pairs::
//!   pair_train`, split by the protocol's hash) and `vast_dev.jsonl`, VAST's dev split.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;
use threadlens::score::pair::PairTask;
use threadlens::train::{comment_sets, datasets, pairs};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(out)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: encoder_pilot_rows DATA_DIR OUT_DIR");
    };
    let (data, out) = (PathBuf::from(data), PathBuf::from(out));
    std::fs::create_dir_all(&out)?;

    // The committed stage 1: clean negatives and source balancing as `train` uses them.
    let maps = threadlens::train::label_maps::LabelMaps::committed();
    let rows = threadlens::train::finetune_data(&data, &maps, true, true)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("stage1.jsonl"))?);
    let mut val_texts = HashSet::new();
    for i in 0..rows.texts.len() {
        if rows.is_val[i] {
            val_texts.insert(datasets::normalize(&rows.texts[i]));
        }
        let line = json!({
            "text": rows.texts[i],
            "sentiment": rows.sentiment[i],
            "tox": rows.toxicity[i],
            "w": rows.toxicity_weight[i],
            "val": rows.is_val[i],
        });
        writeln!(w, "{line}")?;
    }
    w.flush()?;

    let mut tox = comment_sets::toxicity_comments(&data, &maps)?;
    tox.extend(datasets::toxicity_train(&data, &maps)?);
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(out.join("stage1_val_sources.jsonl"))?);
    let mut seen = HashSet::new();
    for e in &tox {
        let key = datasets::normalize(&e.text);
        let Some(label) = e.labels[0] else { continue };
        if e.split != datasets::Split::Validation || !val_texts.contains(&key) {
            continue;
        }
        if seen.insert((e.source, key)) {
            writeln!(
                w,
                "{}",
                json!({"text": e.text, "source": e.source, "toxicity": label})
            )?;
        }
    }
    w.flush()?;

    let mut train = std::io::BufWriter::new(std::fs::File::create(out.join("pairs_train.jsonl"))?);
    let mut val = std::io::BufWriter::new(std::fs::File::create(out.join("pairs_val.jsonl"))?);
    for p in pairs::pair_train(&data, &maps)? {
        if p.task != PairTask::Article {
            continue;
        }
        let line =
            json!({"target": p.first, "text": p.second, "label": p.label, "source": p.source});
        match p.split {
            datasets::Split::Train => writeln!(train, "{line}")?,
            datasets::Split::Validation => writeln!(val, "{line}")?,
            datasets::Split::Test => {}
        }
    }
    train.flush()?;
    val.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("vast_dev.jsonl"))?);
    for e in datasets::stance_vast_dev(&data, &maps)? {
        let line = json!({"target": e.target, "text": e.text, "label": e.label});
        writeln!(w, "{line}")?;
    }
    w.flush()?;
    Ok(())
}
