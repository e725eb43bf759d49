//! The claim detector's lab (issue 35 item 2; models/README.md, "Claim detector v1"): trains
//! the head on UKP ArgMin with the product's own embedding of a text and stage-2 trainer, and
//! scores the real stance targets that `claim_targets` exported, so that
//! `scripts/claim/claim_rule.py` can apply the rule fixed in the card. A cargo example calling
//! only the library's public parts; it writes nothing under models/.
//!
//! ```sh
//! cargo run --release --example claim_head -- train DATA MODELS OUT   # OUT/claim-head.safetensors, OUT/claim-train.json
//! cargo run --release --example claim_head -- score MODELS HEAD targets.jsonl > scored.jsonl
//! ```

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use threadlens::score::batch::{embed_all, BatchOptions};
use threadlens::score::encoder::{Encoder, EncoderOptions, Precision, DIM};
use threadlens::score::heads::{read_mlp, softmax, Mlp};
use threadlens::score::models::{describe, encoder_id, ADAPTER_FILE, ENCODER_DIR};
use threadlens::train::trainer::{save_heads, train_mlp, Targets, TrainConfig};
use threadlens::train::EmbeddingCache;

/// One labelled text: claim (1) or not (0), its source, and its UKP set.
struct Row {
    text: String,
    claim: bool,
    source: &'static str,
    set: String,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["train", data, models, out] => train(Path::new(data), Path::new(models), Path::new(out)),
        ["score", models, head, targets] => {
            score(Path::new(models), Path::new(head), Path::new(targets))
        }
        _ => anyhow::bail!(
            "usage: claim_head train DATA MODELS OUT | claim_head score MODELS HEAD TARGETS.jsonl"
        ),
    }
}

/// The adapted encoder the product scores with, at `precision`, and its cache id.
fn encoder(models: &Path, precision: Precision) -> anyhow::Result<(Encoder, String)> {
    let dir = models.join(ENCODER_DIR);
    let adapter = models.join("heads").join(ADAPTER_FILE);
    let base = describe(&dir.join("model.safetensors"))?.sha256_12;
    let id = encoder_id(&base, Some(&adapter))?;
    let opts = EncoderOptions {
        adapter: Some(adapter),
        precision,
        ..Default::default()
    };
    Ok((
        Encoder::load(&dir, &opts).context("loading the encoder")?,
        id,
    ))
}

/// UKP ArgMin: Argument_for / Argument_against → claim, NoArgument → not.
fn ukp(data: &Path) -> anyhow::Result<Vec<Row>> {
    let dir = data.join("stance/ukp-argmin");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "tsv"));
    files.sort();
    for p in files {
        let mut rdr = tsv(&p)?;
        let h = rdr.headers()?.clone();
        let col = |n: &str| column(&h, n, &p);
        let (s, a, set) = (col("sentence")?, col("annotation")?, col("set")?);
        for rec in rdr.records() {
            let rec = rec?;
            let (Some(text), Some(label), Some(set)) = (rec.get(s), rec.get(a), rec.get(set))
            else {
                continue;
            };
            let claim = match label {
                "Argument_for" | "Argument_against" => true,
                "NoArgument" => false,
                _ => continue,
            };
            if !text.trim().is_empty() {
                out.push(Row {
                    text: text.trim().to_string(),
                    claim,
                    source: "ukp",
                    set: set.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Claims only, two whole sources never trained on: IBM claim-stance and Perspectrum claims,
/// each distinct text once.
fn held_out_claims(data: &Path) -> anyhow::Result<Vec<Row>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let p = data.join("stance/ibm-claim-stance/claim_stance_dataset_v1_decoded.csv");
    let rdr = csv::Reader::from_path(&p)?;
    let ibm = "claims.claimCorrectedText";
    distinct_claims(rdr, ibm, &p, "ibm-claim-stance", &mut seen, &mut out)?;
    for split in ["train", "dev", "test"] {
        let p = data.join(format!("stance/perspectrum/pairs_{split}.tsv"));
        distinct_claims(
            tsv(&p)?,
            "claim",
            &p,
            "perspectrum-claims",
            &mut seen,
            &mut out,
        )?;
    }
    Ok(out)
}

/// A tab-separated file read without quoting (UKP and Perspectrum).
fn tsv(p: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    Ok(csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_path(p)?)
}

/// Index of column `name` of `p`.
fn column(h: &csv::StringRecord, name: &str, p: &Path) -> anyhow::Result<usize> {
    h.iter()
        .position(|c| c == name)
        .with_context(|| format!("{}: no column {name}", p.display()))
}

/// Appends each text of `column` not seen before as a claim of `source`.
fn distinct_claims(
    mut rdr: csv::Reader<std::fs::File>,
    name: &str,
    p: &Path,
    source: &'static str,
    seen: &mut std::collections::HashSet<String>,
    out: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let c = column(&rdr.headers()?.clone(), name, p)?;
    for rec in rdr.records() {
        if let Some(t) = rec?.get(c).map(str::trim).filter(|t| !t.is_empty()) {
            if seen.insert(t.to_string()) {
                out.push(Row {
                    text: t.to_string(),
                    claim: true,
                    source,
                    set: "test".into(),
                });
            }
        }
    }
    Ok(())
}

/// Probability of "claim" for each embedded row.
fn claim_probs(mlp: &Mlp, x: &[f32]) -> Vec<f32> {
    x.chunks_exact(DIM)
        .map(|e| softmax(&mlp.logits(e))[1])
        .collect()
}

/// ROC AUC by ranks (ties averaged).
fn auc(p: &[f32], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut ranks = vec![0f64; p.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        for k in i..=j {
            ranks[idx[k]] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    let pos = y.iter().filter(|v| **v).count() as f64;
    let neg = y.len() as f64 - pos;
    let sum: f64 = (0..p.len()).filter(|&i| y[i]).map(|i| ranks[i]).sum();
    (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn train(data: &Path, models: &Path, out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let (enc, id) = encoder(models, Precision::Fp32)?;
    let cache_dir = PathBuf::from(std::env::var("HOME")?).join(".cache/threadlens/embeddings");
    let mut cache = EmbeddingCache::open(&cache_dir, &id, &enc)?;
    let rows = ukp(data)?;
    let fit: Vec<&Row> = rows.iter().filter(|r| r.set != "test").collect();
    let texts: Vec<&str> = fit.iter().map(|r| r.text.as_str()).collect();
    let x = cache.embed(&enc, &texts, true)?;
    let is_val: Vec<bool> = fit.iter().map(|r| r.set == "val").collect();
    let targets = Targets::Classes {
        labels: fit.iter().map(|r| r.claim as i64).collect(),
        classes: 2,
        row_weights: None,
    };
    let cfg = TrainConfig {
        max_pos_weight: 1.0,
        ..Default::default()
    };
    let (mlp, log) = train_mlp(&x, DIM, &targets, &is_val, &cfg)?;
    save_heads(&out.join("claim-head.safetensors"), &[("claim", &mlp)])?;
    let test: Vec<&Row> = rows.iter().filter(|r| r.set == "test").collect();
    let tx = cache.embed(
        &enc,
        &test.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
        true,
    )?;
    let tp = claim_probs(&mlp, &tx);
    let ty: Vec<bool> = test.iter().map(|r| r.claim).collect();
    let mut record = serde_json::json!({
        "training_rows": fit.iter().filter(|r| r.set != "val").count(),
        "validation_rows": fit.iter().filter(|r| r.set == "val").count(),
        "ukp_test_rows": test.len(),
        "ukp_test_claims": ty.iter().filter(|v| **v).count(),
        "ukp_test_auc": auc(&tp, &ty),
        "config": cfg,
        "log": log,
    });
    let held = held_out_claims(data)?;
    let hx = cache.embed(
        &enc,
        &held.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
        true,
    )?;
    let hp = claim_probs(&mlp, &hx);
    let mut by_source = serde_json::Map::new();
    for source in ["ibm-claim-stance", "perspectrum-claims"] {
        let p: Vec<f32> = held
            .iter()
            .zip(&hp)
            .filter(|(r, _)| r.source == source)
            .map(|(_, p)| *p)
            .collect();
        by_source.insert(
            source.into(),
            serde_json::json!({
                "claims": p.len(),
                "probabilities": p,
            }),
        );
    }
    record["held_out_claims"] = serde_json::Value::Object(by_source);
    record["ukp_test"] = serde_json::json!({ "p": tp, "y": ty });
    std::fs::write(
        out.join("claim-train.json"),
        serde_json::to_string(&record)? + "\n",
    )?;
    eprintln!(
        "UKP test AUC {:.4} on {} rows",
        record["ukp_test_auc"],
        test.len()
    );
    Ok(())
}

fn score(models: &Path, head: &Path, targets: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(head)?;
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let mlp = read_mlp(&file, "claim", DIM, 2).map_err(anyhow::Error::msg)?;
    let (enc, _) = encoder(models, Precision::Auto)?;
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(std::fs::File::open(targets)?).lines() {
        let mut v: serde_json::Value = serde_json::from_str(&line?)?;
        let Some(t) = v["target"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .map(str::to_string)
        else {
            continue;
        };
        let x = embed_all(&enc, &[t.as_str()], &BatchOptions::default(), &mut |_| {})?;
        v["p_claim"] = serde_json::json!(claim_probs(&mlp, &x)[0]);
        writeln!(out, "{v}")?;
    }
    Ok(())
}
