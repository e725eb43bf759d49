//! `threadlens models`: what is installed where, and a self-check that the encoder computes
//! what the published model computes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::{Outcome, Ui};
use crate::score::encoder::{self, Backend, Encoder, EncoderOptions, Precision};
use crate::score::models::{describe, resolve_models_dir, ENCODER_DIR};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Models directory (default: $THREADLENS_MODELS, ./models, or the checkout's models/).
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Skip the encoder self-check.
    #[arg(long)]
    pub no_check: bool,
}

pub fn run(args: Args, _ui: &Ui) -> anyhow::Result<Outcome> {
    let dir = resolve_models_dir(args.models.as_deref());
    let enc_dir = dir.join(ENCODER_DIR);
    let mut out = std::io::stdout().lock();
    let exe = std::env::current_exe().map_or_else(|_| "?".to_string(), |p| p.display().to_string());
    writeln!(out, "binary: {exe}")?;
    writeln!(
        out,
        "libtorch: {}",
        loaded_libtorch().unwrap_or_else(|| "?".into())
    )?;
    let how = if args.models.is_some() {
        "--models"
    } else if std::env::var_os("THREADLENS_MODELS").is_some() {
        "THREADLENS_MODELS"
    } else {
        "found beside the binary, in ./models or the checkout"
    };
    writeln!(out, "models directory: {} ({how})", dir.display())?;
    writeln!(out, "encoder: {}", enc_dir.display())?;
    for f in encoder::REQUIRED_FILES
        .iter()
        .chain(["vocab.txt", "1_Pooling/config.json"].iter())
    {
        list_file(&mut out, f, &enc_dir.join(f), "missing")?;
    }
    let heads = dir.join("heads");
    writeln!(out, "heads: {}", heads.display())?;
    for f in [
        crate::score::heads::HEADS_FILE,
        crate::score::models::ADAPTER_FILE,
        "metrics.json",
        crate::score::calls::CALLS_FILE,
    ] {
        let absent = if f == crate::score::models::ADAPTER_FILE {
            "absent (heads run on the unadapted encoder)"
        } else if f == crate::score::calls::CALLS_FILE {
            "missing (every stance is reported as unclear)"
        } else {
            "missing"
        };
        list_file(&mut out, f, &heads.join(f), absent)?;
    }
    writeln!(
        out,
        "libtorch: {}",
        if tch::utils::has_mkldnn() {
            "with oneDNN"
        } else {
            "without oneDNN"
        }
    )?;
    writeln!(
        out,
        "native bf16 on this CPU: {}",
        if encoder::cpu_has_native_bf16() {
            "yes"
        } else {
            "no"
        }
    )?;
    writeln!(
        out,
        "int8 on this CPU: {}",
        crate::score::int8_description()
    )?;
    if args.no_check {
        return Ok(Outcome::Clean);
    }
    let opts = EncoderOptions {
        backend: Backend::Fused,
        precision: Precision::Fp32,
        ..Default::default()
    };
    let auto = crate::score::precision::resolve(
        &enc_dir,
        &EncoderOptions {
            precision: Precision::Auto,
            ..opts.clone()
        },
    )
    .context("measuring which precision is fastest here")?;
    let rates = auto.rates_text();
    writeln!(
        out,
        "precision auto on this CPU: {} ({}{})",
        crate::score::precision::name(auto.precision),
        auto.how,
        if rates.is_empty() {
            String::new()
        } else {
            format!("; batches/s: {rates}")
        }
    )?;
    let enc = Encoder::load(&enc_dir, &opts).context("loading the encoder")?;
    let e = enc
        .embed(&["A man is eating food.", "A man is eating a piece of bread."])
        .context("running the encoder self-check")?;
    let cos: f32 = e[..encoder::DIM]
        .iter()
        .zip(&e[encoder::DIM..])
        .map(|(a, b)| a * b)
        .sum();
    let ok = (cos - 0.755).abs() < 0.02;
    writeln!(
        out,
        "self-check: cosine(\"A man is eating food.\", \"A man is eating a piece of bread.\") = {cos:.4} (published 0.7553): {}",
        if ok { "ok" } else { "FAILED" }
    )?;
    if !ok {
        anyhow::bail!("encoder self-check failed: cosine {cos:.4}, expected 0.7553 ± 0.02");
    }
    // The whole scorer (adapter merged, heads): two texts whose scores cannot be confused.
    let scorer = crate::score::scorer::Scorer::load(&dir, &opts).context("loading the scorer")?;
    let texts = vec![
        "Thank you, a thoughtful and well researched article.",
        "You are a disgusting idiot.",
    ];
    let s = scorer
        .score(texts, vec![None, None], &[], &mut |_| {})
        .context("running the scorer self-check")?;
    let ok = s[1].toxicity[0] > s[0].toxicity[0] && s[0].sentiment[2] > s[0].sentiment[0];
    writeln!(
        out,
        "scorer {}: toxicity {:.2} (\"You are a disgusting idiot.\") vs {:.2} (\"Thank you, a thoughtful…\"), positive sentiment {:.2}: {}",
        scorer.model_id,
        s[1].toxicity[0],
        s[0].toxicity[0],
        s[0].sentiment[2],
        if ok { "ok" } else { "FAILED" }
    )?;
    if !ok {
        anyhow::bail!("scorer self-check failed: the heads do not tell an insult from praise");
    }
    Ok(Outcome::Clean)
}

/// One line per installed file: name, size, short hash; or `absent` and why not.
fn list_file(
    out: &mut impl Write,
    name: &str,
    path: &std::path::Path,
    absent: &str,
) -> std::io::Result<()> {
    match describe(path) {
        Ok(info) => writeln!(
            out,
            "  {:<24} {:>12} bytes  sha256 {}",
            name, info.bytes, info.sha256_12
        ),
        Err(e) => writeln!(out, "  {name:<24} {absent} ({e})"),
    }
}

/// The libtorch library this process loaded (from /proc/self/maps), to say where it was found.
fn loaded_libtorch() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(str::to_string)
}
