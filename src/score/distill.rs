//! Distils the adapted encoder into a 3-layer student for `--encoder fast` (issue 19; the
//! rule is models/README.md, "Amendment fast encoder").
//!
//! On a 2-core CPU threadlens spends most of its time in the same matrix kernels Python calls,
//! so the only large throughput lever left is less arithmetic: fewer layers. The student keeps
//! the encoder's embeddings and copies of some of its layers (the adapter merged), and every
//! weight of those layers is trained to reproduce the full encoder's pooled embedding, which
//! the training embedding cache already holds for every training text, so no teacher pass
//! runs here. The loss also matches the committed sentiment and toxicity heads' logits, so the
//! student is pulled hardest where the scores move. The student file holds only its layers
//! (fp16); the scorer loads them over the encoder's (`EncoderOptions::student`).

use std::path::Path;

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::encoder::{
    batch_tensors, mean_pool_normalize, read_tensors, Encoder, EncoderError, FusedBert, DIM,
};
use super::finetune::{copy_from, epoch_batches, Head, Rng, ATTRS};

/// File the student is written to, beside the heads.
pub const STUDENT_FILE: &str = "fast-encoder.safetensors";

/// Settings of a distillation run (the amendment's, by default).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DistillConfig {
    /// Candidate layer sets; the one whose copy starts closest to the teacher (mean cosine on
    /// the checked validation rows) is trained.
    pub candidates: Vec<Vec<usize>>,
    /// Steps of the schedule (batches of `batch` texts).
    pub steps: usize,
    /// Stop at this step of the schedule (which still spans `steps`), keeping the best check.
    pub stop_at: Option<usize>,
    pub lr: f64,
    pub weight_decay: f64,
    pub batch: usize,
    /// Weight of (1 − cosine) against the heads' logit error.
    pub cosine_weight: f64,
    pub val_rows: usize,
    pub eval_every: usize,
    pub seed: i64,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            candidates: vec![vec![0, 2, 4], vec![1, 3, 5], vec![0, 2, 5]],
            steps: 4_000,
            stop_at: None,
            lr: 1e-4,
            weight_decay: 0.01,
            batch: 32,
            cosine_weight: 100.0,
            val_rows: 2_000,
            eval_every: 500,
            seed: 20261122,
        }
    }
}

/// One validation check.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DistillCheck {
    pub step: usize,
    pub train_loss: f64,
    pub val_loss: f64,
    /// Mean cosine of student and teacher embeddings.
    pub val_cosine: f64,
    /// Smallest cosine over the checked rows.
    pub val_min_cosine: f64,
    /// Share of rows whose sentiment class (argmax of the committed head) matches the teacher's.
    pub val_sentiment_agreement: f64,
    /// Share of (row, attribute) cells on the same side of 0.5 as the teacher's.
    pub val_toxicity_agreement: f64,
}

/// What a distillation run did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DistillLog {
    /// Each candidate layer set with its mean validation cosine before training.
    pub probe: Vec<(Vec<usize>, f64)>,
    pub layers: Vec<usize>,
    pub train_rows: usize,
    pub val_rows: usize,
    pub steps: usize,
    pub best_step: usize,
    pub seconds: f64,
    pub checks: Vec<DistillCheck>,
}

/// The committed sentiment and toxicity heads, frozen, as libtorch modules.
struct Heads {
    _vs: nn::VarStore,
    sentiment: Head,
    toxicity: Head,
}

impl Heads {
    fn load(path: &Path) -> Result<Heads, EncoderError> {
        let stored = read_tensors(path)?;
        // Hidden width: the length of `sentiment.hidden.bias`.
        let hidden = stored
            .get("sentiment.hidden.bias")
            .map(|v| v.size()[0])
            .ok_or_else(|| EncoderError::Load {
                path: path.to_path_buf(),
                message: "tensor sentiment.hidden.bias not found".into(),
            })?;
        let mut vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let sentiment = Head::new(&root / "sentiment", DIM as i64, hidden, 3);
        let toxicity = Head::new(&root / "toxicity", DIM as i64, hidden, ATTRS as i64);
        copy_from(path, &stored, vs.variables())?;
        vs.freeze();
        Ok(Heads {
            _vs: vs,
            sentiment,
            toxicity,
        })
    }

    /// Both heads' logits side by side: (rows, 3 + ATTRS).
    fn logits(&self, e: &Tensor) -> Tensor {
        Tensor::cat(
            &[
                self.sentiment.forward_t(e, 0.0, false),
                self.toxicity.forward_t(e, 0.0, false),
            ],
            1,
        )
    }
}

/// Distils `teacher` (an fp32 fused encoder with the adapter merged) into a student and
/// writes the best check's layers to `out`. `texts` are the stage-1 rows, `targets` their
/// teacher embeddings (rows × [`DIM`]), `is_val` the held-back rows; `heads` is the committed
/// heads file.
#[allow(clippy::too_many_arguments)]
pub fn distill(
    teacher: &Encoder,
    texts: &[&str],
    targets: &[f32],
    is_val: &[bool],
    heads: &Path,
    cfg: &DistillConfig,
    out: &Path,
    show_progress: bool,
    log: &dyn Fn(&str),
) -> Result<DistillLog, EncoderError> {
    let started = std::time::Instant::now();
    tch::manual_seed(cfg.seed);
    let bert = teacher
        .fused()
        .ok_or_else(|| EncoderError::Torch("distillation needs the fused backend".into()))?;
    let heads = Heads::load(heads)?;
    let ids = teacher.token_ids(texts)?;
    let target = Tensor::from_slice(targets).view([texts.len() as i64, DIM as i64]);
    let mut rng = Rng(cfg.seed as u64 | 1);
    let train_idx: Vec<usize> = (0..texts.len()).filter(|&i| !is_val[i]).collect();
    let mut val_idx: Vec<usize> = (0..texts.len()).filter(|&i| is_val[i]).collect();
    rng.shuffle(&mut val_idx);
    val_idx.truncate(cfg.val_rows);
    val_idx.sort_by_key(|&i| ids[i].len());
    let data = Data {
        ids: &ids,
        target: &target,
        heads: &heads,
        cosine_weight: cfg.cosine_weight,
    };

    // Choose the layers: the candidate whose copy starts closest to the teacher.
    let mut probe = Vec::new();
    for keep in &cfg.candidates {
        let vs = nn::VarStore::new(Device::Cpu);
        let student = bert.student(keep, &vs.root());
        let check = data.check(&student, &val_idx, 0, (0.0, 0))?;
        log(&format!(
            "layers {keep:?}: mean validation cosine {:.4} before training",
            check.val_cosine
        ));
        probe.push((keep.clone(), check.val_cosine));
    }
    let layers = probe
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|p| p.0.clone())
        .ok_or_else(|| EncoderError::Torch("no candidate layer set".into()))?;
    let vs = nn::VarStore::new(Device::Cpu);
    let student = bert.student(&layers, &vs.root());
    let mut opt = nn::AdamW::default()
        .wd(cfg.weight_decay)
        .build(&vs, cfg.lr)?;
    let warmup = (cfg.steps as f64 * 0.06).ceil().max(1.0);
    log(&format!(
        "distilling into layers {layers:?}: {} training rows, {} validation rows checked, {} steps",
        train_idx.len(),
        val_idx.len(),
        cfg.steps
    ));
    let bar = if show_progress {
        indicatif::ProgressBar::new(cfg.steps as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut checks = vec![data.check(&student, &val_idx, 0, (0.0, 0))?];
    let mut best = (checks[0].val_loss, 0usize);
    write_student(&student, &layers, out)?;
    let mut step = 0usize;
    let mut running = (0f64, 0usize);
    'outer: loop {
        for batch in epoch_batches(&train_idx, &ids, cfg.batch, &mut rng) {
            if step == cfg.steps || Some(step) == cfg.stop_at {
                break 'outer;
            }
            step += 1;
            let lr = if (step as f64) <= warmup {
                cfg.lr * step as f64 / warmup
            } else {
                cfg.lr * ((cfg.steps - step) as f64 / (cfg.steps as f64 - warmup).max(1.0))
            };
            opt.set_lr(lr);
            let l = data.pass(&student, &batch)?.loss;
            opt.backward_step_clip_norm(&l, 1.0);
            running.0 += l.double_value(&[]);
            running.1 += 1;
            bar.inc(1);
            if step % cfg.eval_every == 0 || step == cfg.steps || Some(step) == cfg.stop_at {
                let check = data.check(&student, &val_idx, step, running)?;
                running = (0.0, 0);
                log(&format!(
                    "step {step}: train loss {:.4}, validation loss {:.4}, cosine {:.4} (min {:.3}), sentiment agreement {:.4}, toxicity cells agreement {:.4} ({:.0} s)",
                    check.train_loss, check.val_loss, check.val_cosine, check.val_min_cosine,
                    check.val_sentiment_agreement, check.val_toxicity_agreement,
                    started.elapsed().as_secs_f64()
                ));
                if check.val_loss < best.0 {
                    best = (check.val_loss, step);
                    write_student(&student, &layers, out)?;
                }
                checks.push(check);
            }
        }
    }
    bar.finish_and_clear();
    Ok(DistillLog {
        probe,
        layers,
        train_rows: train_idx.len(),
        val_rows: val_idx.len(),
        steps: step,
        best_step: best.1,
        seconds: started.elapsed().as_secs_f64(),
        checks,
    })
}

fn write_student(student: &FusedBert, layers: &[usize], out: &Path) -> Result<(), EncoderError> {
    Tensor::write_safetensors(&student.student_tensors(layers), out)?;
    Ok(())
}

/// What the loss and the checks read.
struct Data<'a> {
    ids: &'a [Vec<u32>],
    target: &'a Tensor,
    heads: &'a Heads,
    cosine_weight: f64,
}

/// One batch through the student: the loss and the pieces the checks read.
struct Pass {
    loss: Tensor,
    /// Cosine of student and teacher embedding, per row.
    cosine: Tensor,
    /// Both heads' logits on the student's and the teacher's embeddings: (rows, 3 + ATTRS).
    student_logits: Tensor,
    teacher_logits: Tensor,
}

impl Data<'_> {
    /// The loss on `rows`: cosine_weight · (1 − mean cosine) + the heads' mean squared logit
    /// error.
    fn pass(&self, student: &FusedBert, rows: &[usize]) -> Result<Pass, EncoderError> {
        let batch: Vec<&[u32]> = rows.iter().map(|&i| self.ids[i].as_slice()).collect();
        let (ids, mask) = batch_tensors(&batch);
        let hidden = student.forward_t(&ids, &mask, None)?;
        let e = mean_pool_normalize(&hidden, &mask);
        let index = Tensor::from_slice(&rows.iter().map(|&i| i as i64).collect::<Vec<_>>());
        let t = self.target.index_select(0, &index);
        let cosine = (&e * &t).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        let teacher_logits = tch::no_grad(|| self.heads.logits(&t));
        let student_logits = self.heads.logits(&e);
        let logit_error = (&student_logits - &teacher_logits)
            .square()
            .mean(Kind::Float);
        let loss =
            cosine.neg().mean(Kind::Float).g_add_scalar(1.0) * self.cosine_weight + logit_error;
        Ok(Pass {
            loss,
            cosine,
            student_logits,
            teacher_logits,
        })
    }

    /// Validation loss, cosine and label agreement on `val` (no gradients).
    fn check(
        &self,
        student: &FusedBert,
        val: &[usize],
        step: usize,
        running: (f64, usize),
    ) -> Result<DistillCheck, EncoderError> {
        let _guard = tch::no_grad_guard();
        let (mut loss, mut cos_sum, mut cos_min) = (0f64, 0f64, f64::INFINITY);
        let (mut sent_same, mut tox_same) = (0usize, 0usize);
        for chunk in val.chunks(64) {
            let p = self.pass(student, chunk)?;
            loss += p.loss.double_value(&[]) * chunk.len() as f64;
            for c in Vec::<f32>::try_from(&p.cosine)? {
                cos_sum += f64::from(c);
                cos_min = cos_min.min(f64::from(c));
            }
            let (ls, lt) = (&p.student_logits, &p.teacher_logits);
            let same_sent = ls
                .narrow(1, 0, 3)
                .argmax(1, false)
                .eq_tensor(&lt.narrow(1, 0, 3).argmax(1, false));
            sent_same += same_sent.sum(Kind::Int64).int64_value(&[]) as usize;
            let same_tox = ls
                .narrow(1, 3, ATTRS as i64)
                .gt(0.0)
                .eq_tensor(&lt.narrow(1, 3, ATTRS as i64).gt(0.0));
            tox_same += same_tox.sum(Kind::Int64).int64_value(&[]) as usize;
        }
        let n = val.len().max(1) as f64;
        Ok(DistillCheck {
            step,
            train_loss: running.0 / running.1.max(1) as f64,
            val_loss: loss / n,
            val_cosine: cos_sum / n,
            val_min_cosine: cos_min,
            val_sentiment_agreement: sent_same as f64 / n,
            val_toxicity_agreement: tox_same as f64 / (n * ATTRS as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::encoder::{Backend, EncoderOptions, Precision};
    use std::path::PathBuf;

    fn models_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
    }

    fn load(student: Option<PathBuf>) -> Encoder {
        let opts = EncoderOptions {
            backend: Backend::Fused,
            precision: Precision::Fp32,
            student,
            ..Default::default()
        };
        Encoder::load(&models_dir().join("all-MiniLM-L6-v2"), &opts)
            .expect("encoder loads (run scripts/setup first)")
    }

    const TEXTS: [&str; 6] = [
        "A man is eating food.",
        "Short.",
        "Nobody expects the inquisition!",
        "The council voted to close the library on Sundays, which nobody asked for.",
        "you are an idiot",
        "Great article, thanks for writing it.",
    ];

    /// A "student" made of all six layers starts exactly at the teacher: the targets line up
    /// with their texts, and the pooling is the scorer's. Its file, stored in fp16, loads over
    /// the encoder's layers and reproduces the encoder up to that rounding; the distilled
    /// weights really are what the scorer then runs (a student of three layers differs).
    #[test]
    fn a_student_of_every_layer_is_the_teacher_and_its_file_loads() {
        let teacher = load(None);
        let targets = teacher.embed(&TEXTS).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(STUDENT_FILE);
        let cfg = DistillConfig {
            candidates: vec![(0..6).collect()],
            steps: 1,
            val_rows: 3,
            ..Default::default()
        };
        let is_val = [false, true, false, true, false, true];
        let heads = models_dir()
            .join("heads")
            .join(crate::score::heads::HEADS_FILE);
        let log = distill(
            &teacher,
            &TEXTS,
            &targets,
            &is_val,
            &heads,
            &cfg,
            &out,
            false,
            &|_| {},
        )
        .unwrap();
        assert_eq!(log.layers, (0..6).collect::<Vec<_>>());
        assert!(
            log.probe[0].1 > 0.99999,
            "cosine at the start {}",
            log.probe[0].1
        );
        assert_eq!(log.checks[0].val_sentiment_agreement, 1.0);
        assert_eq!((log.train_rows, log.val_rows, log.steps), (3, 3, 1));
        // The file written at step 0 (the best check, as nothing beat it or it was replaced
        // by the step-1 check) loads and runs six layers close to the teacher.
        let student = load(Some(out.clone()));
        let e = student.embed(&TEXTS).unwrap();
        for i in 0..TEXTS.len() {
            let cos: f32 = (0..DIM)
                .map(|k| e[i * DIM + k] * targets[i * DIM + k])
                .sum();
            assert!(cos > 0.999, "text {i}: cosine {cos}");
        }
        // Three layers are a different encoder.
        let bert = teacher.fused().unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let three = bert.student(&[0, 2, 5], &vs.root());
        Tensor::write_safetensors(&three.student_tensors(&[0, 2, 5]), &out).unwrap();
        let e3 = load(Some(out)).embed(&TEXTS).unwrap();
        let cos: f32 = (0..DIM).map(|k| e3[k] * targets[k]).sum();
        assert!(
            cos < 0.99,
            "three layers should not match six: cosine {cos}"
        );
    }

    #[test]
    fn a_broken_student_file_names_itself_and_the_tensor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("student.safetensors");
        let t = Tensor::from_slice(&[0i64]);
        Tensor::write_safetensors(&[("student.layers", t)], &path).unwrap();
        let opts = EncoderOptions {
            student: Some(path.clone()),
            ..Default::default()
        };
        let err = Encoder::load(&models_dir().join("all-MiniLM-L6-v2"), &opts)
            .err()
            .expect("a student without its layers does not load")
            .to_string();
        assert!(err.contains("student.safetensors"), "{err}");
        assert!(err.contains("layer.0.qkv_w"), "{err}");
        let missing = dir.path().join("none.safetensors");
        let opts = EncoderOptions {
            student: Some(missing),
            ..Default::default()
        };
        let err = Encoder::load(&models_dir().join("all-MiniLM-L6-v2"), &opts)
            .err()
            .expect("a missing student file is an error")
            .to_string();
        assert!(err.contains("none.safetensors"), "{err}");
    }
}
