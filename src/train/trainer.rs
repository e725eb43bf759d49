//! Trains one head (a two-layer MLP) on fixed features with tch: Adam, class weighting,
//! dropout, and early stopping on a validation split. The trained weights come back as plain
//! `heads::Mlp` values (so inference needs no libtorch) and are saved with tch's safetensors
//! writer under the names `heads::Heads::from_bytes` reads.

use tch::{nn, nn::Module, nn::OptimizerConfig, Device, Kind, Tensor};

use crate::score::heads::{Dense, Mlp};

/// What the head predicts.
#[derive(Debug, Clone)]
pub enum Targets {
    /// One class per row; softmax + weighted cross-entropy. Without `row_weights` each class
    /// is weighted by total / (classes × its count); with them, each row's loss is weighted by
    /// its own number (which then carries any class balancing) and no class weight is added.
    Classes {
        labels: Vec<i64>,
        classes: usize,
        row_weights: Option<Vec<f32>>,
    },
    /// Several independent 0/1 labels per row with a per-cell loss weight (0 for unlabelled
    /// cells); sigmoid + weighted binary cross-entropy. `values` and `mask` are row-major
    /// (rows × outputs).
    Attributes {
        values: Vec<f32>,
        mask: Vec<f32>,
        outputs: usize,
    },
}

/// Hyper-parameters.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainConfig {
    pub hidden: i64,
    pub dropout: f64,
    pub lr: f64,
    pub weight_decay: f64,
    pub batch: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub seed: i64,
    /// Cap on per-attribute positive weight (negatives / positives) for sigmoid heads; 1 turns
    /// it off (use when the cell weights already balance the classes).
    pub max_pos_weight: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            hidden: 256,
            dropout: 0.1,
            lr: 1e-3,
            weight_decay: 1e-4,
            batch: 256,
            max_epochs: 60,
            patience: 5,
            seed: 20261122,
            max_pos_weight: 5.0,
        }
    }
}

/// Per-epoch record, for the model card.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainLog {
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub best_val_loss: f64,
}

struct Net {
    hidden: nn::Linear,
    out: nn::Linear,
    dropout: f64,
}

impl Net {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.hidden
            .forward(x)
            .relu()
            .dropout(self.dropout, train)
            .apply(&self.out)
    }
}

fn rows_tensor(x: &[f32], dim: usize) -> Tensor {
    Tensor::from_slice(x).reshape([(x.len() / dim) as i64, dim as i64])
}

/// Trains an MLP on `x` (rows × `dim`) with early stopping on the validation rows.
pub fn train_mlp(
    x: &[f32],
    dim: usize,
    targets: &Targets,
    is_val: &[bool],
    cfg: &TrainConfig,
) -> Result<(Mlp, TrainLog), tch::TchError> {
    tch::manual_seed(cfg.seed);
    let n = x.len() / dim;
    let train_idx: Vec<i64> = (0..n).filter(|&i| !is_val[i]).map(|i| i as i64).collect();
    let val_idx: Vec<i64> = (0..n).filter(|&i| is_val[i]).map(|i| i as i64).collect();
    let xs = rows_tensor(x, dim);
    let vs = nn::VarStore::new(Device::Cpu);
    let outputs = match targets {
        Targets::Classes { classes, .. } => *classes,
        Targets::Attributes { outputs, .. } => *outputs,
    } as i64;
    let net = Net {
        hidden: nn::linear(
            vs.root() / "hidden",
            dim as i64,
            cfg.hidden,
            Default::default(),
        ),
        out: nn::linear(vs.root() / "out", cfg.hidden, outputs, Default::default()),
        dropout: cfg.dropout,
    };
    let mut opt = nn::AdamW::default()
        .wd(cfg.weight_decay)
        .build(&vs, cfg.lr)?;

    // Loss pieces.
    let (y, mask, class_w, pos_w, row_w) = match targets {
        Targets::Classes {
            labels,
            row_weights: Some(rw),
            ..
        } => {
            debug_assert_eq!(rw.len(), labels.len());
            (
                Tensor::from_slice(labels),
                None,
                None,
                None,
                Some(Tensor::from_slice(rw)),
            )
        }
        Targets::Classes {
            labels,
            classes,
            row_weights: None,
        } => {
            let mut counts = vec![0f64; *classes];
            for &i in &train_idx {
                counts[labels[i as usize] as usize] += 1.0;
            }
            let total: f64 = counts.iter().sum();
            let w: Vec<f32> = counts
                .iter()
                .map(|c| {
                    if *c > 0.0 {
                        (total / (*classes as f64 * c)) as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            (
                Tensor::from_slice(labels),
                None,
                Some(Tensor::from_slice(&w)),
                None,
                None,
            )
        }
        Targets::Attributes {
            values,
            mask,
            outputs,
        } => {
            let mut pos = vec![0f64; *outputs];
            let mut neg = vec![0f64; *outputs];
            for &i in &train_idx {
                for k in 0..*outputs {
                    let c = i as usize * outputs + k;
                    if mask[c] > 0.0 && cfg.max_pos_weight > 1.0 {
                        if values[c] > 0.5 {
                            pos[k] += 1.0
                        } else {
                            neg[k] += 1.0
                        }
                    }
                }
            }
            let pw: Vec<f32> = pos
                .iter()
                .zip(&neg)
                .map(|(p, n)| {
                    if *p > 0.0 {
                        (n / p).clamp(1.0, cfg.max_pos_weight) as f32
                    } else {
                        1.0
                    }
                })
                .collect();
            (
                rows_tensor(values, *outputs),
                Some(rows_tensor(mask, *outputs)),
                None,
                Some(Tensor::from_slice(&pw)),
                None,
            )
        }
    };
    let loss_of = |logits: &Tensor, idx: &Tensor| -> Tensor {
        let yb = y.index_select(0, idx);
        if let Some(rw) = &row_w {
            let wb = rw.index_select(0, idx);
            let per =
                logits.cross_entropy_loss::<Tensor>(&yb, None, tch::Reduction::None, -100, 0.0);
            return (per * &wb).sum(Kind::Float) / wb.sum(Kind::Float).clamp_min(1e-6);
        }
        match (&class_w, &mask, &pos_w) {
            (Some(w), _, _) => logits.cross_entropy_loss::<Tensor>(
                &yb,
                Some(w.shallow_clone()),
                tch::Reduction::Mean,
                -100,
                0.0,
            ),
            (None, Some(m), Some(pw)) => {
                let mb = m.index_select(0, idx);
                let per = logits.binary_cross_entropy_with_logits::<Tensor>(
                    &yb,
                    None,
                    Some(pw.shallow_clone()),
                    tch::Reduction::None,
                );
                (per * &mb).sum(Kind::Float) / mb.sum(Kind::Float).clamp_min(1.0)
            }
            _ => unreachable!("targets always set one loss"),
        }
    };

    let val_t = Tensor::from_slice(&val_idx);
    let mut best = (f64::INFINITY, 0usize);
    let mut best_state: Option<Vec<(String, Tensor)>> = None;
    let mut epochs_run = 0;
    let mut order = train_idx.clone();
    let mut rng = cfg.seed as u64 | 1;
    for epoch in 0..cfg.max_epochs {
        epochs_run = epoch + 1;
        // Fisher–Yates with a xorshift generator: reproducible shuffles.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for chunk in order.chunks(cfg.batch) {
            let idx = Tensor::from_slice(chunk);
            let xb = xs.index_select(0, &idx);
            let loss = loss_of(&net.forward_t(&xb, true), &idx);
            opt.backward_step(&loss);
        }
        let val_loss = if val_idx.is_empty() {
            0.0
        } else {
            tch::no_grad(|| {
                loss_of(&net.forward_t(&xs.index_select(0, &val_t), false), &val_t)
                    .double_value(&[])
            })
        };
        if val_loss < best.0 - 1e-4 {
            best = (val_loss, epoch + 1);
            best_state = Some(
                vs.variables()
                    .into_iter()
                    .map(|(k, v)| (k, v.detach().copy()))
                    .collect(),
            );
        } else if epoch + 1 - best.1 >= cfg.patience {
            break;
        }
    }
    let state: std::collections::HashMap<String, Tensor> = best_state
        .unwrap_or_else(|| vs.variables().into_iter().collect())
        .into_iter()
        .collect();
    let to_vec = |name: &str| -> Vec<f32> {
        let t = state[name].to_kind(Kind::Float).contiguous();
        let n = t.numel();
        let mut v = vec![0f32; n];
        t.copy_data(&mut v, n);
        v
    };
    let mlp = Mlp {
        hidden: Dense {
            weight: to_vec("hidden.weight"),
            bias: to_vec("hidden.bias"),
            inputs: dim,
            outputs: cfg.hidden as usize,
        },
        out: Dense {
            weight: to_vec("out.weight"),
            bias: to_vec("out.bias"),
            inputs: cfg.hidden as usize,
            outputs: outputs as usize,
        },
    };
    Ok((
        mlp,
        TrainLog {
            epochs_run,
            best_epoch: best.1,
            best_val_loss: best.0,
        },
    ))
}

/// Writes heads to a safetensors file as `{name}.hidden.weight`, `{name}.out.bias`, ….
pub fn save_heads(path: &std::path::Path, heads: &[(&str, &Mlp)]) -> Result<(), tch::TchError> {
    let mut named: Vec<(String, Tensor)> = Vec::new();
    for (name, mlp) in heads {
        for (part, d) in [("hidden", &mlp.hidden), ("out", &mlp.out)] {
            named.push((
                format!("{name}.{part}.weight"),
                Tensor::from_slice(&d.weight).reshape([d.outputs as i64, d.inputs as i64]),
            ));
            named.push((format!("{name}.{part}.bias"), Tensor::from_slice(&d.bias)));
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a line, class = sign of x. Every point also appears with the wrong label; the
    /// row weights give those copies no weight, so only a trainer that honours them learns the
    /// sign (equal weights would leave every point a coin toss).
    #[test]
    fn row_weights_decide_what_the_head_learns() {
        let mut x = Vec::new();
        let mut labels = Vec::new();
        let mut weights = Vec::new();
        for i in 0..200 {
            let v = (i as f32 - 99.5) / 50.0;
            let class = i64::from(v > 0.0);
            for (label, w) in [(class, 1.0), (1 - class, 0.0)] {
                x.extend_from_slice(&[v, 1.0]);
                labels.push(label);
                weights.push(w);
            }
        }
        let targets = Targets::Classes {
            labels: labels.clone(),
            classes: 2,
            row_weights: Some(weights),
        };
        // Every fifth point (both copies) is held back, so early stopping sees a real,
        // equally weighted validation loss.
        let is_val: Vec<bool> = (0..labels.len()).map(|r| (r / 2) % 5 == 0).collect();
        let cfg = TrainConfig {
            hidden: 8,
            batch: 16,
            max_epochs: 200,
            patience: 20,
            lr: 1e-2,
            ..Default::default()
        };
        let (mlp, _) = train_mlp(&x, 2, &targets, &is_val, &cfg).unwrap();
        let mut right = 0;
        for i in 0..200 {
            let v = (i as f32 - 99.5) / 50.0;
            let l = mlp.logits(&[v, 1.0]);
            if (l[1] > l[0]) == (v > 0.0) {
                right += 1;
            }
        }
        assert!(right >= 190, "{right} of 200 on the right side");
    }
}
