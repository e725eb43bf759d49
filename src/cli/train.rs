//! `threadlens train`: trains the sentiment, toxicity and stance heads on the labelled data in
//! ../shared/data and writes models/heads/. One command, reproducible (fixed seeds, deterministic
//! splits, cached embeddings).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use super::{Outcome, Ui};
use crate::score::encoder::{Backend, Encoder, EncoderOptions, Precision};
use crate::score::models::{describe, resolve_models_dir, ENCODER_DIR};
use crate::score::trainer::TrainConfig;
use crate::train::{self, TrainSettings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder with the labelled data (sentiment/, toxicity/, stance/ as in ../shared/data).
    #[arg(long, value_name = "DIR", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Models directory; heads are written to DIR/heads.
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Where cached embeddings live (default: ~/.cache/threadlens/embeddings).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Hidden width of each head's MLP.
    #[arg(long, default_value_t = 256)]
    pub hidden: i64,
    /// Leave FNC-1 headline/body pairs out of the stance training data.
    #[arg(long)]
    pub no_fnc: bool,
    /// Do not balance classes within each toxicity source (use a global positive weight).
    #[arg(long)]
    pub no_balance: bool,
    /// Do not add the edited sentiment sentences as toxicity negatives.
    #[arg(long)]
    pub no_clean_negatives: bool,
    /// Seed for initialisation and shuffling.
    #[arg(long, default_value_t = 20261122)]
    pub seed: i64,
}

pub fn run(args: Args, ui: &Ui) -> anyhow::Result<Outcome> {
    let models = resolve_models_dir(args.models.as_deref());
    let enc_dir = models.join(ENCODER_DIR);
    let encoder_hash = describe(&enc_dir.join("model.safetensors"))
        .with_context(|| format!("reading {}", enc_dir.display()))?
        .sha256_12;
    let opts = EncoderOptions {
        backend: Backend::Fused,
        precision: Precision::Fp32,
        ..Default::default()
    };
    let enc = Encoder::load(&enc_dir, &opts).context("loading the encoder")?;
    let cache = args.cache.unwrap_or_else(|| {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        home.join(".cache/threadlens/embeddings")
    });
    let settings = TrainSettings {
        data: args.data,
        out: models.join("heads"),
        cache,
        config: TrainConfig {
            hidden: args.hidden,
            seed: args.seed,
            max_pos_weight: if args.no_balance { 5.0 } else { 1.0 },
            ..Default::default()
        },
        fnc: !args.no_fnc,
        clean_negatives: !args.no_clean_negatives,
        balance_sources: !args.no_balance,
    };
    let metrics = train::run(&settings, &enc, &encoder_hash, ui.show_progress(), &|m| {
        ui.info(m)
    })?;
    let mut out = std::io::stdout().lock();
    for (k, v) in &metrics.scores {
        writeln!(out, "{k}\t{v:.4}")?;
    }
    ui.info(format!("wrote {}", settings.out.display()));
    Ok(Outcome::Clean)
}
