//! The v2.5 candidate (models/README.md, "Amendment v2.5"): stage 1 trained the sentiment and
//! toxicity heads together with the adapter on about half of its training rows, once, with a
//! learning rate decaying to zero. This refits both heads on the frozen adapted encoder's
//! embeddings of every stage-1 row (the same rows, targets and per-cell weights), trained to
//! early stopping as the stance head is, several seeds' heads averaged into one MLP.

use super::{finetune_data, Stage, STANCE_MEMBERS};
use crate::score::encoder::DIM;
use crate::score::heads::{self, Mlp};
use crate::score::trainer::{train_mlp, Targets, TrainConfig};

/// The refitted (sentiment, toxicity) heads.
pub(super) fn refit_heads(st: &mut Stage) -> anyhow::Result<(Mlp, Mlp)> {
    let s = st.settings;
    let fd = finetune_data(&s.data, s.clean_negatives, s.balance_sources, false)?;
    (st.log)(&format!(
        "refit: embedding {} stage-1 rows (frozen adapter)",
        fd.texts.len()
    ));
    let texts: Vec<&str> = fd.texts.iter().map(String::as_str).collect();
    let x = st.embed(&texts)?;

    let rows: Vec<usize> = (0..fd.texts.len())
        .filter(|&i| fd.sentiment[i].is_some())
        .collect();
    let targets = Targets::Classes {
        labels: rows
            .iter()
            .map(|&i| i64::from(fd.sentiment[i].unwrap_or(0)))
            .collect(),
        classes: 3,
        row_weights: None,
    };
    let sent = averaged(
        st,
        "sentiment",
        &gather(&x, &rows),
        &targets,
        &rows,
        &fd.is_val,
    )?;

    let rows: Vec<usize> = (0..fd.texts.len())
        .filter(|&i| fd.toxicity_weight[i].iter().any(|&w| w > 0.0))
        .collect();
    let targets = Targets::Attributes {
        values: rows.iter().flat_map(|&i| fd.toxicity[i]).collect(),
        mask: rows.iter().flat_map(|&i| fd.toxicity_weight[i]).collect(),
        outputs: heads::ATTRIBUTES,
    };
    let tox = averaged(
        st,
        "toxicity",
        &gather(&x, &rows),
        &targets,
        &rows,
        &fd.is_val,
    )?;
    Ok((sent, tox))
}

/// The embeddings of `rows`, in order.
fn gather(x: &[f32], rows: &[usize]) -> Vec<f32> {
    rows.iter()
        .flat_map(|&i| x[i * DIM..(i + 1) * DIM].iter().copied())
        .collect()
}

/// [`STANCE_MEMBERS`] heads with seeds s…s+4 on the same rows, their logits averaged.
fn averaged(
    st: &mut Stage,
    name: &str,
    x: &[f32],
    targets: &Targets,
    rows: &[usize],
    is_val: &[bool],
) -> anyhow::Result<Mlp> {
    let val: Vec<bool> = rows.iter().map(|&i| is_val[i]).collect();
    let mut members = Vec::new();
    for k in 0..STANCE_MEMBERS {
        let cfg = TrainConfig {
            seed: st.settings.config.seed + k,
            ..st.settings.config.clone()
        };
        let (m, log) = train_mlp(x, DIM, targets, &val, &cfg)?;
        (st.log)(&format!(
            "refit: {name} member {k}: best validation loss {:.4} at epoch {}",
            log.best_val_loss, log.best_epoch
        ));
        st.metrics
            .logs
            .insert(format!("refit.{name}.member{k}"), log);
        members.push(m);
    }
    Mlp::average(&members).ok_or_else(|| anyhow::anyhow!("no {name} head was trained"))
}
