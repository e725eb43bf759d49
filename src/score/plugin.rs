//! Plug-in classifiers: a fine-tuned Hugging Face sequence-classification directory (BERT,
//! DistilBERT or RoBERTa; `config.json` with `id2label`, `tokenizer.json`, weights as
//! `model.safetensors` or `rust_model.ot`) run through rust-bert, replacing a head.
//!
//! Labels come from the model's `id2label`, never from fixed positions. Multi-label models
//! (`problem_type: multi_label_classification`, e.g. toxic-bert) get a sigmoid per label,
//! others a softmax. `map_labels` then matches the model's label names to threadlens' columns;
//! a toxicity model may lack the two attributes Model v2 added ([`OPTIONAL_TOXICITY`]), which
//! then score 0.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertForSequenceClassification};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::roberta::RobertaForSequenceClassification;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("{path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("running the plug-in model: {0}")]
    Run(String),
}

fn load_err(path: &Path, m: impl ToString) -> PluginError {
    PluginError::Load {
        path: path.to_path_buf(),
        message: m.to_string(),
    }
}

/// Output activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Softmax,
    Sigmoid,
}

enum Net {
    Bert(BertForSequenceClassification),
    DistilBert(DistilBertModelClassifier),
    Roberta(RobertaForSequenceClassification),
}

/// A loaded sequence classifier.
pub struct Classifier {
    net: Net,
    _vs: nn::VarStore,
    tokenizer: Tokenizer,
    pad_id: u32,
    /// Label names in output order (from `id2label`).
    pub labels: Vec<String>,
    pub activation: Activation,
    /// `model_type` from config.json.
    pub model_type: String,
}

#[derive(serde::Deserialize)]
struct Head {
    model_type: Option<String>,
    problem_type: Option<String>,
    id2label: Option<HashMap<String, String>>,
    pad_token_id: Option<i64>,
}

impl Classifier {
    /// Loads a classifier directory.
    pub fn load(dir: &Path) -> Result<Classifier, PluginError> {
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path).map_err(|e| load_err(&cfg_path, e))?;
        let head: Head = serde_json::from_str(&cfg_text).map_err(|e| load_err(&cfg_path, e))?;
        let model_type = head.model_type.clone().unwrap_or_default();
        let id2label = head
            .id2label
            .ok_or_else(|| load_err(&cfg_path, "no id2label: cannot name the outputs"))?;
        let mut labels = vec![String::new(); id2label.len()];
        for (k, v) in &id2label {
            let i: usize = k
                .parse()
                .map_err(|_| load_err(&cfg_path, format!("id2label key {k:?} is not a number")))?;
            let slot = labels
                .get_mut(i)
                .ok_or_else(|| load_err(&cfg_path, format!("id2label has a gap before {i}")))?;
            *slot = v.clone();
        }
        let activation = match head.problem_type.as_deref() {
            Some("multi_label_classification") => Activation::Sigmoid,
            _ => Activation::Softmax,
        };
        let mut vs = nn::VarStore::new(Device::Cpu);
        let net = match model_type.as_str() {
            "bert" => {
                let c: BertConfig =
                    serde_json::from_str(&cfg_text).map_err(|e| load_err(&cfg_path, e))?;
                Net::Bert(
                    BertForSequenceClassification::new(vs.root(), &c)
                        .map_err(|e| load_err(&cfg_path, e))?,
                )
            }
            "distilbert" => {
                let c: DistilBertConfig =
                    serde_json::from_str(&cfg_text).map_err(|e| load_err(&cfg_path, e))?;
                Net::DistilBert(
                    DistilBertModelClassifier::new(vs.root(), &c)
                        .map_err(|e| load_err(&cfg_path, e))?,
                )
            }
            "roberta" | "xlm-roberta" => {
                let c: BertConfig =
                    serde_json::from_str(&cfg_text).map_err(|e| load_err(&cfg_path, e))?;
                Net::Roberta(
                    RobertaForSequenceClassification::new(vs.root(), &c)
                        .map_err(|e| load_err(&cfg_path, e))?,
                )
            }
            other => {
                return Err(load_err(
                    &cfg_path,
                    format!("model_type {other:?} is not supported (bert, distilbert, roberta)"),
                ))
            }
        };
        let weights = ["model.safetensors", "rust_model.ot"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.is_file())
            .ok_or_else(|| load_err(dir, "no model.safetensors or rust_model.ot"))?;
        vs.load(&weights).map_err(|e| load_err(&weights, e))?;
        vs.freeze();
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| load_err(&tok_path, e))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: 256,
                ..Default::default()
            }))
            .map_err(|e| load_err(&tok_path, e))?;
        let pad_id = head
            .pad_token_id
            .map(|p| p as u32)
            .or_else(|| tokenizer.token_to_id("[PAD]"))
            .or_else(|| tokenizer.token_to_id("<pad>"))
            .unwrap_or(0);
        Ok(Classifier {
            net,
            _vs: vs,
            tokenizer,
            pad_id,
            labels,
            activation,
            model_type,
        })
    }

    /// Probabilities per text, in [`Classifier::labels`] order.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, PluginError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            if chunk.is_empty() {
                continue;
            }
            let enc = self
                .tokenizer
                .encode_batch(chunk.to_vec(), true)
                .map_err(|e| PluginError::Run(e.to_string()))?;
            let width = enc
                .iter()
                .map(|e| e.get_ids().len())
                .max()
                .unwrap_or(1)
                .max(1);
            let mut ids = vec![i64::from(self.pad_id); chunk.len() * width];
            let mut mask = vec![0i64; chunk.len() * width];
            for (r, e) in enc.iter().enumerate() {
                for (c, &id) in e.get_ids().iter().enumerate() {
                    ids[r * width + c] = i64::from(id);
                    mask[r * width + c] = 1;
                }
            }
            let shape = [chunk.len() as i64, width as i64];
            let ids = Tensor::from_slice(&ids).reshape(shape);
            let mask = Tensor::from_slice(&mask).reshape(shape);
            let _g = tch::no_grad_guard();
            let logits = match &self.net {
                Net::Bert(m) => {
                    m.forward_t(Some(&ids), Some(&mask), None, None, None, false)
                        .logits
                }
                Net::DistilBert(m) => {
                    m.forward_t(Some(&ids), Some(&mask), None, false)
                        .map_err(|e| PluginError::Run(e.to_string()))?
                        .logits
                }
                Net::Roberta(m) => {
                    m.forward_t(Some(&ids), Some(&mask), None, None, None, false)
                        .logits
                }
            };
            let probs = match self.activation {
                Activation::Softmax => logits.softmax(-1, Kind::Float),
                Activation::Sigmoid => logits.sigmoid().to_kind(Kind::Float),
            }
            .contiguous();
            let n = probs.numel();
            let mut flat = vec![0f32; n];
            probs
                .f_copy_data(&mut flat, n)
                .map_err(|e| PluginError::Run(e.to_string()))?;
            out.extend(flat.chunks(self.labels.len()).map(<[f32]>::to_vec));
        }
        Ok(out)
    }
}

/// Matches a model's label names to threadlens' columns: for each wanted column, the index of
/// the model label whose normalised name is one of its synonyms. Errors name what is missing.
pub fn map_labels(labels: &[String], wanted: &[(&str, &[&str])]) -> Result<Vec<usize>, String> {
    wanted
        .iter()
        .map(|(col, synonyms)| {
            find_label(labels, synonyms).ok_or_else(|| no_label(labels, col, synonyms))
        })
        .collect()
}

/// Like [`map_labels`] for [`TOXICITY_SYNONYMS`], but a column in [`OPTIONAL_TOXICITY`] that
/// the model has no label for is `None` (scored 0) instead of an error.
pub fn map_toxicity_labels(labels: &[String]) -> Result<Vec<Option<usize>>, String> {
    TOXICITY_SYNONYMS
        .iter()
        .map(|(col, synonyms)| match find_label(labels, synonyms) {
            Some(i) => Ok(Some(i)),
            None if OPTIONAL_TOXICITY.contains(col) => Ok(None),
            None => Err(no_label(labels, col, synonyms)),
        })
        .collect()
}

/// The index of the first label whose normalised name (lower case, `-` and space as `_`) is
/// one of `synonyms`.
fn find_label(labels: &[String], synonyms: &[&str]) -> Option<usize> {
    let norm = |s: &str| s.to_lowercase().replace(['-', ' '], "_");
    labels
        .iter()
        .position(|l| synonyms.iter().any(|s| norm(s) == norm(l)))
}

fn no_label(labels: &[String], col: &str, synonyms: &[&str]) -> String {
    format!(
        "the model has no label for {col} (its labels: {}; accepted: {})",
        labels.join(", "),
        synonyms.join(", ")
    )
}

/// Label synonyms for sentiment models.
pub const SENTIMENT_SYNONYMS: [(&str, &[&str]); 3] = [
    ("negative", &["negative", "neg"]),
    ("neutral", &["neutral", "neu"]),
    ("positive", &["positive", "pos"]),
];

/// Label synonyms for toxicity models (Jigsaw / toxic-bert and Perspective names included), in
/// [`super::heads::TOXICITY_LABELS`] order. `sexual_explicit` was an `obscene` synonym until
/// Model v2 gave it its own column.
pub const TOXICITY_SYNONYMS: [(&str, &[&str]); super::heads::ATTRIBUTES] = [
    ("toxicity", &["toxicity", "toxic"]),
    ("insult", &["insult"]),
    ("threat", &["threat"]),
    ("obscene", &["obscene", "profanity"]),
    (
        "identity_attack",
        &["identity_attack", "identity_hate", "hate"],
    ),
    (
        "severe_toxicity",
        &["severe_toxicity", "severe_toxic", "severe toxicity"],
    ),
    (
        "sexual_explicit",
        &["sexual_explicit", "sexually_explicit", "sexual"],
    ),
];

/// Toxicity columns a plug-in model may lack (scored 0 then): the attributes Model v2 added,
/// which Jigsaw-style models such as toxic-bert do not all have. The other five are required.
pub const OPTIONAL_TOXICITY: [&str; 2] = ["severe_toxicity", "sexual_explicit"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_by_name_not_position() {
        let labels: Vec<String> = [
            "severe_toxic",
            "Toxic",
            "identity-hate",
            "insult",
            "obscene",
            "threat",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            map_toxicity_labels(&labels).unwrap(),
            [Some(1), Some(3), Some(5), Some(4), Some(2), Some(0), None]
        );
        let err = map_labels(&labels, &TOXICITY_SYNONYMS).unwrap_err();
        assert!(err.contains("no label for sexual_explicit"), "{err}");
        let err = map_labels(&["LABEL_0".to_string()], &SENTIMENT_SYNONYMS).unwrap_err();
        assert!(err.contains("no label for negative"), "{err}");
    }

    #[test]
    fn perspective_and_jigsaw_names_fill_all_seven_columns() {
        // Perspective's attribute names, in its own order.
        let labels: Vec<String> = [
            "SEXUALLY_EXPLICIT",
            "PROFANITY",
            "Severe Toxicity",
            "IDENTITY_ATTACK",
            "INSULT",
            "THREAT",
            "TOXICITY",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            map_toxicity_labels(&labels).unwrap(),
            [6, 4, 5, 1, 3, 2, 0].map(Some)
        );
        // A sexual_explicit label fills its own column, no longer obscene's.
        let labels: Vec<String> = ["toxicity", "insult", "threat", "sexual_explicit", "hate"]
            .map(String::from)
            .into();
        let err = map_toxicity_labels(&labels).unwrap_err();
        assert!(
            err.starts_with("the model has no label for obscene"),
            "{err}"
        );
    }

    #[test]
    fn only_the_model_v2_attributes_may_be_missing() {
        let names: Vec<&str> = TOXICITY_SYNONYMS.iter().map(|(c, _)| *c).collect();
        assert_eq!(names, super::super::heads::TOXICITY_LABELS);
        for (col, _) in TOXICITY_SYNONYMS {
            let labels: Vec<String> = TOXICITY_SYNONYMS
                .iter()
                .filter(|(c, _)| *c != col)
                .map(|(c, _)| c.to_string())
                .collect();
            let got = map_toxicity_labels(&labels);
            if OPTIONAL_TOXICITY.contains(&col) {
                let got = got.unwrap();
                let k = names.iter().position(|c| *c == col).unwrap();
                assert_eq!(got[k], None, "{col}");
                assert_eq!(got.iter().filter(|c| c.is_none()).count(), 1, "{col}");
            } else {
                let err = got.unwrap_err();
                assert!(err.contains(&format!("no label for {col} ")), "{err}");
            }
        }
    }
}
