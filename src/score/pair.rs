//! The stance pair model (issue 15, design b): the encoder reads the target and the comment
//! together, `[CLS] target [SEP] comment [SEP]`, so attention can relate the comment's words to
//! the target's, which comparing two separately made embeddings cannot. It has its own LoRA
//! adapter on the published MiniLM weights (the scoring adapter is untouched, so sentiment and
//! toxicity keep their figures) and two small heads on the pooled pair embedding:
//! - `article`: the comment's stance toward a target text (favor / against / none);
//! - `reply`: a reply's stance toward its parent comment (agree / disagree / neutral), the
//!   parent standing first.
//!
//! This is the scoring side; the pair model is trained by `train::pair_model` (stage 3). At
//! scoring time the adapter is merged into a second encoder's weights once, so a pair costs
//! one ordinary encoder pass over its tokens.

use std::path::Path;

use sha2::Digest;
use tch::Tensor;

use super::encoder::{Encoder, EncoderError, EncoderOptions};
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
    pub(crate) fn index(self) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

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
