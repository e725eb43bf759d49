//! Where the models live and what is installed: resolves the models directory and describes
//! its files (size, short hash) for `threadlens models`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Name of the encoder's folder inside the models directory.
pub const ENCODER_DIR: &str = "all-MiniLM-L6-v2";

/// The LoRA adapter `threadlens train` fits to the encoder, beside the heads in `heads/`.
/// When present, the scorer merges it into the encoder's weights.
pub const ADAPTER_FILE: &str = "encoder-lora.safetensors";

/// Short hash naming the encoder actually run: the base weights' hash, combined with the
/// adapter's when there is one (the adapted encoder computes different embeddings).
pub fn encoder_id(base_sha256_12: &str, adapter: Option<&Path>) -> std::io::Result<String> {
    Ok(match adapter {
        Some(a) => short_hash(format!("{base_sha256_12}+{}", describe(a)?.sha256_12).as_bytes()),
        None => base_sha256_12.to_string(),
    })
}

/// Finds the models directory: an explicit `--models` path, then `THREADLENS_MODELS`, then
/// `./models`, then `models/` beside the executable's checkout, then the source checkout
/// this binary was built from.
pub fn resolve_models_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("THREADLENS_MODELS") {
        return PathBuf::from(p);
    }
    let has_encoder = |d: &Path| d.join(ENCODER_DIR).join("model.safetensors").is_file();
    let cwd = PathBuf::from("models");
    if has_encoder(&cwd) {
        return cwd;
    }
    if let Ok(exe) = std::env::current_exe() {
        // An installed binary (PREFIX/bin/threadlens) finds PREFIX/share/threadlens/models; a
        // built one finds the checkout's models/ a few levels up.
        for dir in exe.ancestors().skip(1).take(4) {
            for cand in [dir.join("share/threadlens/models"), dir.join("models")] {
                if has_encoder(&cand) {
                    return cand;
                }
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// One installed file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileInfo {
    pub path: PathBuf,
    pub bytes: u64,
    /// First 12 hex digits of the file's SHA-256.
    pub sha256_12: String,
}

/// Size and short SHA-256 of a file.
pub fn describe(path: &Path) -> std::io::Result<FileInfo> {
    let bytes = std::fs::read(path)?;
    Ok(FileInfo {
        path: path.to_path_buf(),
        bytes: bytes.len() as u64,
        sha256_12: short_hash(&bytes),
    })
}

/// First 12 hex digits of SHA-256.
pub fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}
