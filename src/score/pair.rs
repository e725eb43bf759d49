//! The stance pair model (issue 15, design b): the encoder reads the target and the comment
//! together, `[CLS] target [SEP] comment [SEP]`, so attention can relate the comment's words to
//! the target's, which comparing two separately made embeddings cannot. It has its own LoRA
//! adapter on the published MiniLM weights (the scoring adapter is untouched, so sentiment and
//! toxicity keep their figures) and two small heads on the pooled pair embedding:
//! - `article`: the comment's stance toward a target text (favor / against / none);
//! - `reply`: a reply's stance toward its parent comment (agree / disagree / neutral), the
//!   parent standing first.
//!
//! Training (`threadlens train`, stage 3) and scoring both live here, since this is the only
//! layer that touches tch. At scoring time the adapter is merged into a second encoder's
//! weights once, so a pair costs one ordinary encoder pass over its tokens.

use std::path::Path;

use sha2::Digest;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::encoder::{
    batch_tensors, mean_pool_normalize, Encoder, EncoderError, EncoderOptions, TrainPass,
};
use super::finetune::{
    adapter_tensors, balanced_class_weights, copy_stored, epoch_batches, init_from_file,
    new_adapters, Head, Rng,
};
use super::heads::{read_mlp, softmax, Mlp};

/// File of the pair model's adapter, beside the scoring adapter in `models/heads/`.
pub const PAIR_ADAPTER_FILE: &str = "stance-pair-lora.safetensors";
/// File of the pair model's two heads.
pub const PAIR_HEADS_FILE: &str = "stance-pair-heads.safetensors";
/// File of the reply model's adapter (models/README.md, "Amendment stance v2.5"): a pair
/// model trained on reply pairs only. Where it is present with [`REPLY_HEADS_FILE`], reply
/// stance is read from it (its `reply` head) and article stance still from the pair model.
pub const REPLY_ADAPTER_FILE: &str = "stance-reply-lora.safetensors";
/// File of the reply model's heads (the layout of [`PAIR_HEADS_FILE`]; only `reply` is read).
pub const REPLY_HEADS_FILE: &str = "stance-reply-heads.safetensors";

/// What a pair is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PairTask {
    /// Stance of the text toward a target (favor 0, against 1, none 2).
    Article,
    /// Stance of a reply toward its parent (agree 0, disagree 1, neutral 2).
    Reply,
}

impl PairTask {
    fn index(self) -> usize {
        match self {
            PairTask::Article => 0,
            PairTask::Reply => 1,
        }
    }
}

/// Token budget of a pair: the first text (target or parent) is cut to `first` tokens, the
/// whole pair to `total`.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct PairBudget {
    pub first: usize,
    pub total: usize,
}

impl Default for PairBudget {
    fn default() -> Self {
        PairBudget {
            first: 48,
            total: 160,
        }
    }
}

/// Token ids of `[CLS] first [SEP] second [SEP]` for each pair, within `budget`.
pub fn pair_ids(
    enc: &Encoder,
    pairs: &[(&str, &str)],
    budget: PairBudget,
) -> Result<Vec<Vec<u32>>, EncoderError> {
    let tok = enc.tokenizer();
    let (cls, sep) = tok.special_ids()?;
    let firsts: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let seconds: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    let a = tok.bare_ids(&firsts)?;
    let b = tok.bare_ids(&seconds)?;
    Ok(a.into_iter()
        .zip(b)
        .map(|(mut a, mut b)| {
            a.truncate(budget.first);
            b.truncate(budget.total.saturating_sub(a.len() + 3));
            let mut row = Vec::with_capacity(a.len() + b.len() + 3);
            row.push(cls);
            row.extend(a);
            row.push(sep);
            row.extend(b);
            row.push(sep);
            row
        })
        .collect())
}

/// The pair model at scoring time: the encoder with the pair adapter merged in, and the heads;
/// with a reply model, a second encoder with its adapter merged in answers reply pairs.
pub struct PairScorer {
    enc: Encoder,
    heads: [Mlp; 2],
    /// The reply model's encoder, where there is one (its head is `heads[1]` then).
    reply_enc: Option<Encoder>,
    budget: PairBudget,
    /// False for a reply model loaded alone ([`PairScorer::load_reply_only`]): it answers
    /// reply pairs only.
    article: bool,
    /// Short hash of the adapter and heads files, for the `model` column.
    pub hash: String,
}

impl PairScorer {
    /// Loads the pair model from `heads_dir` on the encoder in `encoder_dir`, with the scoring
    /// encoder's options (precision, threads); `None` when the directory has no pair model.
    pub fn load(
        encoder_dir: &Path,
        heads_dir: &Path,
        opts: &EncoderOptions,
    ) -> Result<Option<PairScorer>, EncoderError> {
        let Some((adapter, heads)) = model_files(heads_dir, PAIR_ADAPTER_FILE, PAIR_HEADS_FILE)
        else {
            return Ok(None);
        };
        let (enc, [article, pair_reply], mut hasher) =
            load_model(encoder_dir, &adapter, &heads, opts)?;
        let reply_files = model_files(heads_dir, REPLY_ADAPTER_FILE, REPLY_HEADS_FILE);
        let (reply_enc, reply) = if let Some((reply_adapter, reply_heads)) = reply_files {
            let (enc, [_, reply], h) = load_model(encoder_dir, &reply_adapter, &reply_heads, opts)?;
            hasher.update(h.finalize());
            (Some(enc), reply)
        } else {
            (None, pair_reply)
        };
        let hash = short_hex(hasher);
        Ok(Some(PairScorer {
            enc,
            heads: [article, reply],
            reply_enc,
            budget: PairBudget::default(),
            article: true,
            hash,
        }))
    }

    /// Loads only the reply model from `heads_dir` (stance toward the article then comes from
    /// elsewhere); `None` when the directory has no reply model.
    pub fn load_reply_only(
        encoder_dir: &Path,
        heads_dir: &Path,
        opts: &EncoderOptions,
    ) -> Result<Option<PairScorer>, EncoderError> {
        let Some((adapter, heads)) = model_files(heads_dir, REPLY_ADAPTER_FILE, REPLY_HEADS_FILE)
        else {
            return Ok(None);
        };
        let (enc, heads, hasher) = load_model(encoder_dir, &adapter, &heads, opts)?;
        Ok(Some(PairScorer {
            enc,
            heads,
            reply_enc: None,
            budget: PairBudget::default(),
            article: false,
            hash: short_hex(hasher),
        }))
    }

    /// Whether this model gives stance toward the article (a reply model loaded alone does
    /// not).
    pub fn reads_article(&self) -> bool {
        self.article
    }

    /// Whether reply stance comes from a separate reply model.
    pub fn has_reply_model(&self) -> bool {
        self.reply_enc.is_some()
    }

    /// Class probabilities of each pair (first text = target or parent), in input order;
    /// batched by length, `batch` pairs at a time. Asking a reply model loaded alone for
    /// article stance is an error.
    pub fn score(
        &self,
        task: PairTask,
        pairs: &[(&str, &str)],
        batch: usize,
    ) -> Result<Vec<[f32; 3]>, EncoderError> {
        if task == PairTask::Article && !self.article {
            return Err(EncoderError::Torch(
                "the reply model alone gives no stance toward the article".into(),
            ));
        }
        let enc = match task {
            PairTask::Reply => self.reply_enc.as_ref().unwrap_or(&self.enc),
            PairTask::Article => &self.enc,
        };
        let ids = pair_ids(enc, pairs, self.budget)?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![[0f32; 3]; ids.len()];
        let dim = super::encoder::DIM;
        for chunk in order.chunks(batch.max(1)) {
            let rows: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            let e = enc.embed_ids(&rows)?;
            for (k, &i) in chunk.iter().enumerate() {
                let p = softmax(&self.heads[task.index()].logits(&e[k * dim..(k + 1) * dim]));
                out[i] = [p[0], p[1], p[2]];
            }
        }
        Ok(out)
    }
}

/// The adapter and heads files of one model in `heads_dir`, where both are there.
fn model_files(
    heads_dir: &Path,
    adapter: &str,
    heads: &str,
) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let (a, h) = (heads_dir.join(adapter), heads_dir.join(heads));
    (a.is_file() && h.is_file()).then_some((a, h))
}

/// The first 4 bytes of a hasher's digest in hex (a model's short id).
fn short_hex(hasher: sha2::Sha256) -> String {
    hasher
        .finalize()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One pair model's encoder (its adapter merged in), its two heads, and a hasher fed with its
/// adapter's and heads' bytes.
fn load_model(
    encoder_dir: &Path,
    adapter: &Path,
    heads: &Path,
    opts: &EncoderOptions,
) -> Result<(Encoder, [Mlp; 2], sha2::Sha256), EncoderError> {
    let enc = Encoder::load(
        encoder_dir,
        &EncoderOptions {
            adapter: Some(adapter.to_path_buf()),
            ..opts.clone()
        },
    )?;
    let load_err = |path: &Path, message: String| EncoderError::Load {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(heads).map_err(|e| load_err(heads, e.to_string()))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| load_err(heads, e.to_string()))?;
    let dim = super::encoder::DIM;
    let article = read_mlp(&st, "article", dim, 3).map_err(|m| load_err(heads, m))?;
    let reply = read_mlp(&st, "reply", dim, 3).map_err(|m| load_err(heads, m))?;
    let mut hasher = sha2::Sha256::new();
    hasher.update(std::fs::read(adapter).map_err(|e| load_err(adapter, e.to_string()))?);
    hasher.update(&bytes);
    Ok((enc, [article, reply], hasher))
}

/// Adds `offsets` to the reply head's output bias in the heads file of `heads_dir` (the prior
/// correction of models/README.md, "Amendment stance v2.2"), rewriting the file in place.
pub fn add_reply_bias(heads_dir: &Path, offsets: [f32; 3]) -> Result<(), EncoderError> {
    let path = heads_dir.join(PAIR_HEADS_FILE);
    let mut tensors = Tensor::read_safetensors(&path)?;
    let bias = tensors
        .iter_mut()
        .find(|(name, _)| name == "reply.out.bias")
        .ok_or_else(|| EncoderError::Load {
            path: path.clone(),
            message: "tensor reply.out.bias not found".into(),
        })?;
    bias.1 = &bias.1 + Tensor::from_slice(&offsets);
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&tensors, &path)?;
    Ok(())
}

/// Hyper-parameters of the pair model's training.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PairConfig {
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
    pub lr: f64,
    pub weight_decay: f64,
    /// Steps of `batch` pairs (the learning-rate schedule spans them).
    pub max_steps: usize,
    pub batch: usize,
    pub budget: PairBudget,
    pub hidden: i64,
    pub val_rows: usize,
    pub eval_every: usize,
    pub seed: i64,
    /// "fp32" or "mixed" (bf16 products of the frozen weights).
    pub precision: String,
    /// Start from the pair model already in the output folder (its adapter and heads) instead
    /// of fresh factors; the first check (step 0) then measures that model on the same
    /// validation pairs, so a continuation is kept only where it beats it.
    #[serde(default)]
    pub resume: bool,
}

impl Default for PairConfig {
    fn default() -> Self {
        PairConfig {
            rank: 16,
            alpha: 32.0,
            dropout: 0.1,
            lr: 8e-4,
            weight_decay: 0.01,
            max_steps: 2_400,
            batch: 32,
            budget: PairBudget::default(),
            hidden: 256,
            val_rows: 2_000,
            eval_every: 400,
            seed: 20261202,
            precision: "fp32".into(),
            resume: false,
        }
    }
}

/// Training pairs: parallel vectors.
#[derive(Debug, Default)]
pub struct PairData {
    pub first: Vec<String>,
    pub second: Vec<String>,
    pub task: Vec<PairTask>,
    /// 0 favor / agree, 1 against / disagree, 2 none / neutral.
    pub label: Vec<u8>,
    pub is_val: Vec<bool>,
}

/// One validation check of the pair model.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PairCheck {
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Macro-F1 of each task on the checked validation rows.
    pub val_article_macro_f1: f64,
    pub val_reply_macro_f1: f64,
}

/// What the pair training did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PairLog {
    pub train_rows: usize,
    pub val_rows: usize,
    pub steps: usize,
    pub best_step: usize,
    pub seconds: f64,
    pub checks: Vec<PairCheck>,
}

struct PairModel {
    vs: nn::VarStore,
    adapters: Vec<super::encoder::LayerLora>,
    names: Vec<[String; 6]>,
    heads: [Head; 2],
    scale: f64,
}

impl PairModel {
    fn forward(
        &self,
        enc: &Encoder,
        rows: &[&[u32]],
        dropout: f64,
        train: bool,
    ) -> Result<[Tensor; 2], EncoderError> {
        let bert = enc.fused().ok_or_else(|| {
            EncoderError::Torch("training the pair model needs the fused backend".into())
        })?;
        let (ids, mask) = batch_tensors(rows);
        let pass = TrainPass {
            adapters: &self.adapters,
            scale: self.scale,
            dropout: if train { dropout } else { 0.0 },
        };
        let hidden = bert.forward_t(&ids, &mask, Some(&pass))?;
        let e = mean_pool_normalize(&hidden, &mask);
        Ok([
            self.heads[0].forward_t(&e, dropout, train),
            self.heads[1].forward_t(&e, dropout, train),
        ])
    }

    /// Sets the adapter and heads to the pair model stored in `dir` (an earlier run's files).
    fn init_from(&self, dir: &Path) -> Result<(), EncoderError> {
        init_from_file(
            &dir.join(PAIR_ADAPTER_FILE),
            &self.adapters,
            &self.names,
            self.scale,
        )?;
        copy_stored(&dir.join(PAIR_HEADS_FILE), self.head_vars())
    }

    /// The heads' variables (shallow handles) under their file names.
    fn head_vars(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for (name, head) in [("article", &self.heads[0]), ("reply", &self.heads[1])] {
            for (part, lin) in [("hidden", &head.hidden), ("out", &head.out)] {
                out.push((format!("{name}.{part}.weight"), lin.ws.shallow_clone()));
                let b = lin.bs.as_ref().expect("linear layers have a bias");
                out.push((format!("{name}.{part}.bias"), b.shallow_clone()));
            }
        }
        out
    }

    fn head_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self
            .head_vars()
            .into_iter()
            .map(|(name, t)| (name, t.detach().copy()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Per task, class weights balanced over the training rows (total / (3 · count)).
fn class_weights(data: &PairData, train_idx: &[usize]) -> [Tensor; 2] {
    let mut counts = [[0f64; 3]; 2];
    for &i in train_idx {
        counts[data.task[i].index()][data.label[i] as usize] += 1.0;
    }
    counts.map(|c| balanced_class_weights(&c))
}

/// Mean class-weighted cross-entropy of each task's rows in the batch, summed over tasks.
#[allow(clippy::assign_op_pattern)]
fn batch_loss(
    logits: &[Tensor; 2],
    weights: &[Tensor; 2],
    data: &PairData,
    idx: &[usize],
) -> Tensor {
    let mut total = Tensor::zeros([], (Kind::Float, Device::Cpu));
    for task in [PairTask::Article, PairTask::Reply] {
        let t = task.index();
        let (rows, labels): (Vec<i64>, Vec<i64>) = idx
            .iter()
            .enumerate()
            .filter(|(_, &i)| data.task[i] == task)
            .map(|(k, &i)| (k as i64, i64::from(data.label[i])))
            .unzip();
        if rows.is_empty() {
            continue;
        }
        let l = logits[t].index_select(0, &Tensor::from_slice(&rows));
        total = total
            + l.cross_entropy_loss::<Tensor>(
                &Tensor::from_slice(&labels),
                Some(weights[t].shallow_clone()),
                tch::Reduction::Mean,
                -100,
                0.0,
            );
    }
    total
}

/// Macro-F1 over the three classes from a gold × predicted confusion matrix.
pub fn macro_f1(conf: &[[usize; 3]; 3]) -> f64 {
    let f1 = |c: usize| {
        let tp = conf[c][c] as f64;
        let fp: f64 = (0..3).filter(|&g| g != c).map(|g| conf[g][c] as f64).sum();
        let fneg: f64 = (0..3).filter(|&p| p != c).map(|p| conf[c][p] as f64).sum();
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fneg)
        }
    };
    (0..3).map(f1).sum::<f64>() / 3.0
}

/// Trains the pair model, writing the best adapter and heads (lowest validation loss) into
/// `dir` each time they improve. `enc` is the
/// base encoder (fused backend).
pub fn train_pairs(
    enc: &Encoder,
    data: &PairData,
    cfg: &PairConfig,
    dir: &Path,
    show_progress: bool,
    log: &dyn Fn(&str),
) -> Result<PairLog, EncoderError> {
    let started = std::time::Instant::now();
    tch::manual_seed(cfg.seed);
    let bert = enc.fused().ok_or_else(|| {
        EncoderError::Torch("training the pair model needs the fused backend".into())
    })?;
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let (adapters, names) = new_adapters(&(&root / "pair"), bert, cfg.rank);
    let dim = super::encoder::DIM as i64;
    let heads = [
        Head::new(&root / "article", dim, cfg.hidden, 3),
        Head::new(&root / "reply", dim, cfg.hidden, 3),
    ];
    let model = PairModel {
        vs,
        adapters,
        names,
        heads,
        scale: cfg.alpha / cfg.rank as f64,
    };
    if cfg.resume {
        model.init_from(dir)?;
    }
    let pairs: Vec<(&str, &str)> = data
        .first
        .iter()
        .zip(&data.second)
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let ids = pair_ids(enc, &pairs, cfg.budget)?;
    let mut rng = Rng(cfg.seed as u64 | 1);
    let train_idx: Vec<usize> = (0..ids.len()).filter(|&i| !data.is_val[i]).collect();
    let mut val_idx: Vec<usize> = (0..ids.len()).filter(|&i| data.is_val[i]).collect();
    rng.shuffle(&mut val_idx);
    val_idx.truncate(cfg.val_rows);
    val_idx.sort_by_key(|&i| ids[i].len());
    let weights = class_weights(data, &train_idx);
    let total_steps = cfg.max_steps.max(1);
    let warmup = (total_steps as f64 * 0.06).ceil().max(1.0);
    let mut opt = nn::AdamW::default()
        .wd(cfg.weight_decay)
        .build(&model.vs, cfg.lr)?;
    log(&format!(
        "pair model: {} training pairs, {} validation pairs checked, {} steps (data ready after {:.0} s)",
        train_idx.len(),
        val_idx.len(),
        total_steps,
        started.elapsed().as_secs_f64()
    ));
    let bar = if show_progress {
        indicatif::ProgressBar::new(total_steps as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut checks = Vec::new();
    let mut best = (f64::INFINITY, 0usize);
    let mut step = 0usize;
    let mut running = (0f64, 0usize);
    std::fs::create_dir_all(dir).map_err(|e| EncoderError::Torch(e.to_string()))?;
    if cfg.resume {
        // The model resumed from, on the same validation pairs: the bar to beat.
        let check = evaluate(&model, enc, &weights, data, &ids, &val_idx, 0, running)?;
        log(&format!(
            "pair step 0 (resumed model): validation loss {:.4}, article macro-F1 {:.3}, reply macro-F1 {:.3}",
            check.val_loss, check.val_article_macro_f1, check.val_reply_macro_f1
        ));
        best = (check.val_loss, 0);
        checks.push(check);
    }
    'epochs: loop {
        for batch in epoch_batches(&train_idx, &ids, cfg.batch, &mut rng) {
            if step == total_steps {
                break 'epochs;
            }
            step += 1;
            let lr = if (step as f64) <= warmup {
                cfg.lr * step as f64 / warmup
            } else {
                cfg.lr * ((total_steps - step) as f64 / (total_steps as f64 - warmup).max(1.0))
            };
            opt.set_lr(lr);
            let rows: Vec<&[u32]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            let logits = model.forward(enc, &rows, cfg.dropout, true)?;
            let l = batch_loss(&logits, &weights, data, &batch);
            opt.backward_step_clip_norm(&l, 1.0);
            running.0 += l.double_value(&[]);
            running.1 += 1;
            bar.inc(1);
            if step % cfg.eval_every == 0 || step == total_steps {
                let check = evaluate(&model, enc, &weights, data, &ids, &val_idx, step, running)?;
                running = (0.0, 0);
                log(&format!(
                    "pair step {}: train loss {:.4}, validation loss {:.4}, article macro-F1 {:.3}, reply macro-F1 {:.3} ({:.0} s elapsed)",
                    check.step, check.train_loss, check.val_loss, check.val_article_macro_f1,
                    check.val_reply_macro_f1, started.elapsed().as_secs_f64()
                ));
                if check.val_loss < best.0 {
                    best = (check.val_loss, step);
                    Tensor::write_safetensors(
                        &adapter_tensors(&model.adapters, &model.names, model.scale),
                        dir.join(PAIR_ADAPTER_FILE),
                    )?;
                    Tensor::write_safetensors(&model.head_tensors(), dir.join(PAIR_HEADS_FILE))?;
                }
                checks.push(check);
            }
        }
        if train_idx.is_empty() {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(PairLog {
        train_rows: train_idx.len(),
        val_rows: val_idx.len(),
        steps: step,
        best_step: best.1,
        seconds: started.elapsed().as_secs_f64(),
        checks,
    })
}

#[allow(clippy::too_many_arguments)]
fn evaluate(
    model: &PairModel,
    enc: &Encoder,
    weights: &[Tensor; 2],
    data: &PairData,
    ids: &[Vec<u32>],
    val_idx: &[usize],
    step: usize,
    running: (f64, usize),
) -> Result<PairCheck, EncoderError> {
    let _guard = tch::no_grad_guard();
    let (mut loss_sum, mut n) = (0.0, 0usize);
    let mut conf = [[[0usize; 3]; 3]; 2];
    for chunk in val_idx.chunks(64) {
        let rows: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
        let logits = model.forward(enc, &rows, 0.0, false)?;
        loss_sum +=
            batch_loss(&logits, weights, data, chunk).double_value(&[]) * chunk.len() as f64;
        n += chunk.len();
        let pred: [Vec<i64>; 2] = [
            Vec::<i64>::try_from(logits[0].argmax(-1, false))?,
            Vec::<i64>::try_from(logits[1].argmax(-1, false))?,
        ];
        for (k, &i) in chunk.iter().enumerate() {
            let t = data.task[i].index();
            conf[t][data.label[i] as usize][pred[t][k] as usize] += 1;
        }
    }
    Ok(PairCheck {
        step,
        train_loss: if running.1 == 0 {
            0.0
        } else {
            running.0 / running.1 as f64
        },
        val_loss: if n == 0 { 0.0 } else { loss_sum / n as f64 },
        val_article_macro_f1: macro_f1(&conf[0]),
        val_reply_macro_f1: macro_f1(&conf[1]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_of_a_perfect_and_a_constant_classifier() {
        let perfect = [[5, 0, 0], [0, 3, 0], [0, 0, 2]];
        assert!((macro_f1(&perfect) - 1.0).abs() < 1e-12);
        // Always "none": F1 of none = 2·2/(2·2+8) = 1/3, the others 0.
        let constant = [[0, 0, 5], [0, 0, 3], [0, 0, 2]];
        assert!((macro_f1(&constant) - 1.0 / 9.0).abs() < 1e-12);
    }

    #[test]
    fn the_reply_bias_is_added_and_nothing_else_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PAIR_HEADS_FILE);
        let tensors = vec![
            (
                "article.out.bias".to_string(),
                Tensor::from_slice(&[0.1f32, 0.2, 0.3]),
            ),
            (
                "reply.out.bias".to_string(),
                Tensor::from_slice(&[0.5f32, -0.5, 0.0]),
            ),
            (
                "reply.out.weight".to_string(),
                Tensor::from_slice(&[1.0f32, 2.0]),
            ),
        ];
        Tensor::write_safetensors(&tensors, &path).unwrap();
        add_reply_bias(dir.path(), [0.25, 1.0, 0.0]).unwrap();
        let back: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&path)
            .unwrap()
            .into_iter()
            .collect();
        let v = |name: &str| Vec::<f32>::try_from(&back[name]).unwrap();
        assert_eq!(v("reply.out.bias"), vec![0.75, 0.5, 0.0]);
        assert_eq!(v("article.out.bias"), vec![0.1, 0.2, 0.3]);
        assert_eq!(v("reply.out.weight"), vec![1.0, 2.0]);
        // A heads file without a reply head is an error naming the file.
        let other = tempfile::tempdir().unwrap();
        Tensor::write_safetensors(&tensors[..1], other.path().join(PAIR_HEADS_FILE)).unwrap();
        let err = add_reply_bias(other.path(), [0.0; 3])
            .unwrap_err()
            .to_string();
        assert!(err.contains("reply.out.bias"), "{err}");
    }

    #[test]
    fn a_reply_model_answers_reply_pairs_and_leaves_article_stance_alone() {
        use crate::score::encoder::{Backend, Precision};
        let models = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
        let enc_dir = models.join("all-MiniLM-L6-v2");
        let dir = tempfile::tempdir().unwrap();
        for f in [PAIR_ADAPTER_FILE, PAIR_HEADS_FILE] {
            std::fs::copy(models.join("heads").join(f), dir.path().join(f)).unwrap();
        }
        let opts = EncoderOptions {
            backend: Backend::Fused,
            precision: Precision::Fp32,
            ..Default::default()
        };
        let pairs = [
            ("Cooperation against terrorism", "Great news, about time."),
            ("Cats are better than dogs.", "No, that is plainly wrong."),
        ];
        let score = |dir: &Path| {
            let s = PairScorer::load(&enc_dir, dir, &opts).unwrap().unwrap();
            let a = s.score(PairTask::Article, &pairs, 8).unwrap();
            let r = s.score(PairTask::Reply, &pairs, 8).unwrap();
            (s.has_reply_model(), s.hash.clone(), a, r)
        };
        let (had, hash, article, reply) = score(dir.path());
        assert!(!had);
        // A reply model: the same adapter, its reply head pushed hard toward disagree.
        std::fs::copy(
            dir.path().join(PAIR_ADAPTER_FILE),
            dir.path().join(REPLY_ADAPTER_FILE),
        )
        .unwrap();
        std::fs::copy(
            dir.path().join(PAIR_HEADS_FILE),
            dir.path().join(REPLY_HEADS_FILE),
        )
        .unwrap();
        let reply_dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.path().join(REPLY_HEADS_FILE),
            reply_dir.path().join(PAIR_HEADS_FILE),
        )
        .unwrap();
        add_reply_bias(reply_dir.path(), [0.0, 20.0, 0.0]).unwrap();
        std::fs::copy(
            reply_dir.path().join(PAIR_HEADS_FILE),
            dir.path().join(REPLY_HEADS_FILE),
        )
        .unwrap();
        let (has, hash2, article2, reply2) = score(dir.path());
        assert!(has);
        // Loaded alone, the reply model gives the same reply stance and no article stance.
        let alone = PairScorer::load_reply_only(&enc_dir, dir.path(), &opts)
            .unwrap()
            .unwrap();
        assert!(!alone.reads_article());
        assert_eq!(alone.score(PairTask::Reply, &pairs, 8).unwrap(), reply2);
        assert!(alone.score(PairTask::Article, &pairs, 8).is_err());
        assert!(
            PairScorer::load_reply_only(&enc_dir, reply_dir.path(), &opts)
                .unwrap()
                .is_none()
        );
        assert_ne!(hash, hash2, "the model id must change with the reply model");
        assert_eq!(article, article2, "article stance must not move");
        for (before, after) in reply.iter().zip(&reply2) {
            assert!(
                after[1] > 0.99 && before[1] < 0.99,
                "{before:?} -> {after:?}"
            );
        }
        // A broken reply heads file is an error naming it.
        std::fs::write(dir.path().join(REPLY_HEADS_FILE), b"not safetensors").unwrap();
        let err = match PairScorer::load(&enc_dir, dir.path(), &opts) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a broken reply heads file must not load"),
        };
        assert!(err.contains(REPLY_HEADS_FILE), "{err}");
    }
}
