//! The small heads that turn an encoder embedding into scores: sentiment (softmax over
//! negative / neutral / positive), toxicity attributes (independent sigmoids) and stance toward
//! the article (softmax over favor / against / none, from the comment's and the article's
//! embeddings together).
//!
//! Heads are trained by `threadlens train` (score::train) and committed as
//! `models/heads/heads.safetensors`. Inference here is plain Rust — a two-layer MLP per head —
//! so everything downstream of the embedding runs and is tested without libtorch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Sentiment classes, in output order.
pub const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];
/// Toxicity attributes, in output order: Perspective's production attributes (TOXICITY,
/// INSULT, THREAT, PROFANITY = `obscene`, IDENTITY_ATTACK, SEVERE_TOXICITY, SEXUALLY_EXPLICIT).
pub const TOXICITY_LABELS: [&str; 7] = [
    "toxicity",
    "insult",
    "threat",
    "obscene",
    "identity_attack",
    "severe_toxicity",
    "sexual_explicit",
];

/// Number of toxicity attributes.
pub const ATTRIBUTES: usize = TOXICITY_LABELS.len();
/// Stance classes, in output order.
pub const STANCE_LABELS: [&str; 3] = ["favor", "against", "none"];
/// A reply's stance toward its parent (the pair model's `reply` head), in output order.
pub const REPLY_LABELS: [&str; 3] = ["agree", "disagree", "neutral"];

/// File name of the committed heads.
pub const HEADS_FILE: &str = "heads.safetensors";

#[derive(Debug, thiserror::Error)]
pub enum HeadsError {
    #[error("heads file {path} is missing (run `threadlens train`, or pass --models DIR)")]
    Missing { path: PathBuf },
    #[error("reading heads {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One of the three heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeadKind {
    Sentiment,
    Toxicity,
    Stance,
}

impl HeadKind {
    pub const ALL: [HeadKind; 3] = [HeadKind::Sentiment, HeadKind::Toxicity, HeadKind::Stance];

    /// Tensor-name prefix of the head in the safetensors file.
    pub fn name(self) -> &'static str {
        match self {
            HeadKind::Sentiment => "sentiment",
            HeadKind::Toxicity => "toxicity",
            HeadKind::Stance => "stance",
        }
    }

    /// The head's output labels, in order.
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            HeadKind::Sentiment => &SENTIMENT_LABELS,
            HeadKind::Toxicity => &TOXICITY_LABELS,
            HeadKind::Stance => &STANCE_LABELS,
        }
    }

    /// Number of outputs.
    pub fn outputs(self) -> usize {
        self.labels().len()
    }

    /// Width of the head's input for an embedding width `dim`.
    pub fn input_width(self, dim: usize) -> usize {
        match self {
            HeadKind::Stance => STANCE_FEATURE_BLOCKS * dim,
            _ => dim,
        }
    }
}

const STANCE_FEATURE_BLOCKS: usize = 4;

/// The stance head's input: comment `c` and article `t` embeddings as
/// `[c, t, c ⊙ t, |c − t|]`. Shared by training and inference.
pub fn stance_features(c: &[f32], t: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(c);
    out.extend_from_slice(t);
    out.extend(c.iter().zip(t).map(|(a, b)| a * b));
    out.extend(c.iter().zip(t).map(|(a, b)| (a - b).abs()));
}

/// A dense layer: `y = W x + b`, W stored row-major as (out, in) like torch's Linear.
#[derive(Debug, Clone)]
pub struct Dense {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub inputs: usize,
    pub outputs: usize,
}

impl Dense {
    fn apply(&self, x: &[f32], y: &mut Vec<f32>) {
        y.clear();
        y.extend(self.bias.iter().enumerate().map(|(o, b)| {
            let row = &self.weight[o * self.inputs..(o + 1) * self.inputs];
            b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
        }));
    }
}

/// Two dense layers with a ReLU between them.
#[derive(Debug, Clone)]
pub struct Mlp {
    pub hidden: Dense,
    pub out: Dense,
}

impl Mlp {
    /// One MLP whose logits are the mean of the `members`' logits: their hidden units side by
    /// side, each member's output weights divided by the number of members, the output biases
    /// averaged (models/README.md, "Amendment stance v2.3"). The members share their inputs
    /// and outputs; an empty slice gives `None`.
    pub fn average(members: &[Mlp]) -> Option<Mlp> {
        let first = members.first()?;
        let (inputs, outputs) = (first.hidden.inputs, first.out.outputs);
        let k = members.len() as f32;
        let width: usize = members.iter().map(|m| m.hidden.outputs).sum();
        let mut hidden_w = Vec::with_capacity(width * inputs);
        let mut hidden_b = Vec::with_capacity(width);
        for m in members {
            hidden_w.extend_from_slice(&m.hidden.weight);
            hidden_b.extend_from_slice(&m.hidden.bias);
        }
        let mut out_w = Vec::with_capacity(outputs * width);
        for o in 0..outputs {
            for m in members {
                let w = m.hidden.outputs;
                out_w.extend(m.out.weight[o * w..(o + 1) * w].iter().map(|v| v / k));
            }
        }
        let out_b = (0..outputs)
            .map(|o| members.iter().map(|m| m.out.bias[o]).sum::<f32>() / k)
            .collect();
        Some(Mlp {
            hidden: Dense {
                weight: hidden_w,
                bias: hidden_b,
                inputs,
                outputs: width,
            },
            out: Dense {
                weight: out_w,
                bias: out_b,
                inputs: width,
                outputs,
            },
        })
    }

    /// Raw outputs (logits) for one input row.
    pub fn logits(&self, x: &[f32]) -> Vec<f32> {
        let mut h = Vec::with_capacity(self.hidden.outputs);
        self.hidden.apply(x, &mut h);
        for v in &mut h {
            *v = v.max(0.0);
        }
        let mut y = Vec::with_capacity(self.out.outputs);
        self.out.apply(&h, &mut y);
        y
    }
}

/// All three heads.
#[derive(Debug, Clone)]
pub struct Heads {
    heads: HashMap<HeadKind, Mlp>,
    dim: usize,
}

impl Heads {
    /// Loads `heads.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Heads, HeadsError> {
        let path = dir.join(HEADS_FILE);
        if !path.is_file() {
            return Err(HeadsError::Missing { path });
        }
        let bytes = std::fs::read(&path).map_err(|e| HeadsError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Heads::from_bytes(&bytes, super::encoder::DIM).map_err(|message| HeadsError::Invalid {
            path: path.clone(),
            message,
        })
    }

    /// Parses heads from safetensors bytes, checking every shape against `dim`.
    pub fn from_bytes(bytes: &[u8], dim: usize) -> Result<Heads, String> {
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let mut heads = HashMap::new();
        for kind in HeadKind::ALL {
            heads.insert(
                kind,
                read_mlp(&st, kind.name(), kind.input_width(dim), kind.outputs())?,
            );
        }
        Ok(Heads { heads, dim })
    }

    fn head(&self, kind: HeadKind) -> &Mlp {
        &self.heads[&kind]
    }

    /// Embedding width the heads expect.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Sentiment probabilities (negative, neutral, positive), summing to 1.
    pub fn sentiment(&self, emb: &[f32]) -> [f32; 3] {
        let p = softmax(&self.head(HeadKind::Sentiment).logits(emb));
        [p[0], p[1], p[2]]
    }

    /// Toxicity attribute probabilities, each independent, in [`TOXICITY_LABELS`] order.
    pub fn toxicity(&self, emb: &[f32]) -> [f32; ATTRIBUTES] {
        let l = self.head(HeadKind::Toxicity).logits(emb);
        std::array::from_fn(|k| sigmoid(l[k]))
    }

    /// Stance probabilities (favor, against, none) of a comment toward an article.
    pub fn stance(&self, comment: &[f32], article: &[f32]) -> [f32; 3] {
        let mut x = Vec::with_capacity(STANCE_FEATURE_BLOCKS * self.dim);
        stance_features(comment, article, &mut x);
        let p = softmax(&self.head(HeadKind::Stance).logits(&x));
        [p[0], p[1], p[2]]
    }
}

/// One head `NAME.{hidden,out}.{weight,bias}` from a safetensors file, its shapes checked
/// (`inputs` wide in, `outputs` wide out, any hidden width).
pub fn read_mlp(
    st: &safetensors::SafeTensors,
    name: &str,
    inputs: usize,
    outputs: usize,
) -> Result<Mlp, String> {
    let get = |tensor: &str, shape: &[usize]| -> Result<Vec<f32>, String> {
        let t = st
            .tensor(tensor)
            .map_err(|_| format!("tensor {tensor} not found"))?;
        if t.dtype() != safetensors::Dtype::F32 {
            return Err(format!("tensor {tensor} is {:?}, expected F32", t.dtype()));
        }
        if t.shape() != shape {
            return Err(format!(
                "tensor {tensor} has shape {:?}, expected {shape:?}",
                t.shape()
            ));
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    };
    let hidden_b = st
        .tensor(&format!("{name}.hidden.bias"))
        .map_err(|_| format!("tensor {name}.hidden.bias not found"))?;
    let width = hidden_b.shape().first().copied().unwrap_or(0);
    check_outputs(st, name, outputs)?;
    Ok(Mlp {
        hidden: Dense {
            weight: get(&format!("{name}.hidden.weight"), &[width, inputs])?,
            bias: get(&format!("{name}.hidden.bias"), &[width])?,
            inputs,
            outputs: width,
        },
        out: Dense {
            weight: get(&format!("{name}.out.weight"), &[outputs, width])?,
            bias: get(&format!("{name}.out.bias"), &[outputs])?,
            inputs: width,
            outputs,
        },
    })
}

/// Checks the head's output count before any weight shape, so a heads file written for another
/// set of outputs (e.g. Model v1's five toxicity attributes) says so plainly.
fn check_outputs(st: &safetensors::SafeTensors, name: &str, outputs: usize) -> Result<(), String> {
    let tensor = format!("{name}.out.bias");
    let t = st
        .tensor(&tensor)
        .map_err(|_| format!("tensor {tensor} not found"))?;
    match t.shape() {
        [n] if *n == outputs => Ok(()),
        shape => {
            let found = shape.first().map_or("no".to_string(), ToString::to_string);
            let labels = HeadKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .map_or(String::new(), |k| format!(" ({})", k.labels().join(", ")));
            Err(format!(
                "{name} head has {found} outputs, expected {outputs}{labels}: the heads file was trained for another set of outputs; retrain with `threadlens train` or use a heads file from this version"
            ))
        }
    }
}

/// Numerically stable softmax.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Index of the largest value (the first on ties).
pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in p.iter().enumerate() {
        if *v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heads file of zeros for embeddings `dim` wide, its toxicity head `toxicity` wide out.
    fn zero_heads(dim: usize, toxicity: usize) -> Vec<u8> {
        let hidden = 2;
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for kind in HeadKind::ALL {
            let inputs = kind.input_width(dim);
            let outputs = match kind {
                HeadKind::Toxicity => toxicity,
                _ => kind.outputs(),
            };
            let parts = [
                ("hidden.weight", vec![hidden, inputs]),
                ("hidden.bias", vec![hidden]),
                ("out.weight", vec![outputs, hidden]),
                ("out.bias", vec![outputs]),
            ];
            for (part, shape) in parts {
                let bytes = vec![0u8; 4 * shape.iter().product::<usize>()];
                tensors.push((format!("{}.{part}", kind.name()), shape, bytes));
            }
        }
        let views = tensors.iter().map(|(name, shape, bytes)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes);
            (name.clone(), view.unwrap())
        });
        safetensors::serialize(views, &None).unwrap()
    }

    #[test]
    fn a_heads_file_with_the_v1_toxicity_head_is_named_as_such() {
        let heads = Heads::from_bytes(&zero_heads(4, ATTRIBUTES), 4).unwrap();
        assert_eq!(heads.toxicity(&[0.0; 4]), [0.5; ATTRIBUTES]);
        let err = Heads::from_bytes(&zero_heads(4, 5), 4).unwrap_err();
        assert_eq!(
            err,
            "toxicity head has 5 outputs, expected 7 (toxicity, insult, threat, obscene, identity_attack, severe_toxicity, sexual_explicit): the heads file was trained for another set of outputs; retrain with `threadlens train` or use a heads file from this version"
        );
    }

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        for logits in [
            vec![0.0, 0.0, 0.0],
            vec![1000.0, 0.0, -1000.0],
            vec![-3.0, 2.0, 0.5],
        ] {
            let p = softmax(&logits);
            assert!(
                (p.iter().sum::<f32>() - 1.0).abs() < 1e-6,
                "{logits:?} -> {p:?}"
            );
            assert!(p.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn dense_matches_hand_computation() {
        let d = Dense {
            weight: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            bias: vec![0.5, -1.0],
            inputs: 3,
            outputs: 2,
        };
        let mut y = Vec::new();
        d.apply(&[1.0, 0.0, -1.0], &mut y);
        assert_eq!(y, vec![1.0 - 3.0 + 0.5, 4.0 - 6.0 - 1.0]);
    }

    #[test]
    fn averaged_mlp_gives_the_mean_of_its_members_logits() {
        let mlp = |seed: f32, width: usize| {
            let v = |n: usize, o: f32| (0..n).map(|i| ((i as f32 + o) * 0.37).sin()).collect();
            Mlp {
                hidden: Dense {
                    weight: v(width * 3, seed),
                    bias: v(width, seed + 1.0),
                    inputs: 3,
                    outputs: width,
                },
                out: Dense {
                    weight: v(2 * width, seed + 2.0),
                    bias: v(2, seed + 3.0),
                    inputs: width,
                    outputs: 2,
                },
            }
        };
        let members = [mlp(0.0, 4), mlp(5.0, 4), mlp(9.0, 6)];
        let avg = Mlp::average(&members).unwrap();
        assert_eq!((avg.hidden.outputs, avg.out.inputs), (14, 14));
        for x in [[0.3, -1.2, 2.0], [1.0, 0.5, -0.25]] {
            let want: Vec<f32> = (0..2)
                .map(|o| members.iter().map(|m| m.logits(&x)[o]).sum::<f32>() / 3.0)
                .collect();
            let got = avg.logits(&x);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "{got:?} {want:?}");
            }
        }
        assert!(Mlp::average(&[]).is_none());
    }

    #[test]
    fn stance_features_layout() {
        let mut out = Vec::new();
        stance_features(&[1.0, -2.0], &[3.0, 4.0], &mut out);
        assert_eq!(out, vec![1.0, -2.0, 3.0, 4.0, 3.0, -8.0, 2.0, 6.0]);
    }

    #[test]
    fn argmax_takes_first_on_ties() {
        assert_eq!(argmax(&[0.2, 0.4, 0.4]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn from_bytes_rejects_garbage_without_panicking() {
        assert!(Heads::from_bytes(b"not a safetensors file", 384).is_err());
        assert!(Heads::from_bytes(&[], 384).is_err());
    }
}
