//! Training the stance pair model (stage 3 of `threadlens train`; the model itself and its
//! scoring are `score::pair`): its own LoRA adapter on the published encoder weights and the
//! `article` and `reply` heads on the pooled `[CLS] target [SEP] comment [SEP]` embedding,
//! trained on the pair sets of `train::pairs`, the adapter and heads at the lowest validation
//! loss written beside the scoring model's files.

use std::path::Path;

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::finetune::{
    adapted_pooled, adapter_tensors, balanced_class_weights, copy_stored, epoch_batches,
    init_from_file, new_adapters, scheduled_lr, Head, Rng,
};
use crate::score::encoder::{Encoder, EncoderError};
use crate::score::pair::{pair_ids, PairBudget, PairTask, PAIR_ADAPTER_FILE, PAIR_HEADS_FILE};

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
    adapters: Vec<crate::score::encoder::LayerLora>,
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
        let e = adapted_pooled(enc, &self.adapters, self.scale, rows, dropout, train)?;
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
    let dim = crate::score::encoder::DIM as i64;
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
            opt.set_lr(scheduled_lr(cfg.lr, step, total_steps));
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
}
