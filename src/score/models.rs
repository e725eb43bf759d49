//! Where the models live and what is installed: resolves the models directory, describes its
//! files (size, short hash) for `threadlens models` and the `model` column, and finds the cache
//! outside the checkout that the scorer keeps its per-machine facts in.

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

/// The installed files of a heads folder with their short hashes, read once per load: the model
/// identity, the stance thresholds ([`super::calls`]) and the flag figures ([`super::figures`])
/// are all bound to these files. The training records (`*metrics.json`) are not model files
/// and are left out.
#[derive(Debug, Clone, Default)]
pub struct HeadsFiles {
    dir: PathBuf,
    sha256_12: std::collections::BTreeMap<String, String>,
}

impl HeadsFiles {
    /// Hashes every file in `dir` but the training records (through [`describe_cached`]).
    pub fn read(dir: &Path) -> std::io::Result<HeadsFiles> {
        let mut sha256_12 = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.is_file() && !name.ends_with("metrics.json") {
                sha256_12.insert(name.to_string(), describe_cached(&path)?.sha256_12);
            }
        }
        Ok(HeadsFiles {
            dir: dir.to_path_buf(),
            sha256_12,
        })
    }

    /// [`HeadsFiles::read`], or no files where `dir` cannot be read (what is bound to the files
    /// then says it has none).
    pub fn read_or_none(dir: &Path) -> HeadsFiles {
        HeadsFiles::read(dir).unwrap_or_else(|_| HeadsFiles {
            dir: dir.to_path_buf(),
            ..Default::default()
        })
    }

    /// The folder the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The short hash of the installed file `name`; `None` where it is not installed.
    pub fn sha256_12(&self, name: &str) -> Option<&str> {
        self.sha256_12.get(name).map(String::as_str)
    }

    /// Every installed file's name and short hash, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sha256_12.iter().map(|(n, h)| (n.as_str(), h.as_str()))
    }
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

/// Root of threadlens's cache outside any checkout: `$THREADLENS_CACHE`, else
/// `~/.cache/threadlens` (where scripts/setup keeps the downloads).
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os("THREADLENS_CACHE") {
        Some(d) => Some(PathBuf::from(d)),
        None => Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache/threadlens")),
    }
}

/// [`describe`] through a table of earlier digests keyed by the file's canonical path, size and
/// modification time (as git's index does), so loading the scorer does not re-hash the 90 MB
/// encoder every time. A file that changes gets a new key and is hashed again; without a
/// writable cache every call hashes.
pub fn describe_cached(path: &Path) -> std::io::Result<FileInfo> {
    describe_through(path, cache_dir().map(|d| d.join("digests.json")).as_deref())
}

/// [`describe_cached`] with the table at `table`. A new entry replaces the file's earlier ones,
/// and entries of files that no longer exist are dropped, so the table holds at most one entry
/// per existing file, however many model copies and temporary folders came and went.
fn describe_through(path: &Path, table: Option<&Path>) -> std::io::Result<FileInfo> {
    let meta = std::fs::metadata(path)?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let canonical = std::fs::canonicalize(path)?;
    let key = format!("{}|{}|{mtime}", canonical.display(), meta.len());
    let mut known: std::collections::BTreeMap<String, String> = table
        .and_then(|t| std::fs::read(t).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if let Some(sha) = known.get(&key) {
        return Ok(FileInfo {
            path: path.to_path_buf(),
            bytes: meta.len(),
            sha256_12: sha.clone(),
        });
    }
    let info = describe(path)?;
    if let Some(table) = table {
        let file_of = |k: &str| k.rsplitn(3, '|').nth(2).map(str::to_string);
        let this = file_of(&key);
        known.retain(|k, _| match file_of(k) {
            Some(f) => Some(&f) != this.as_ref() && Path::new(&f).exists(),
            None => false,
        });
        known.insert(key, info.sha256_12.clone());
        if let Ok(bytes) = serde_json::to_vec_pretty(&known) {
            write_atomic(table, &bytes);
        }
    }
    Ok(info)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so concurrent processes
/// never read half a file. Best effort: a failure leaves the old file (or none).
pub fn write_atomic(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_digest_matches_and_follows_changes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.bin");
        std::fs::write(&f, b"first weights").unwrap();
        let a = describe_cached(&f).unwrap();
        assert_eq!(a.sha256_12, describe(&f).unwrap().sha256_12);
        assert_eq!(describe_cached(&f).unwrap().sha256_12, a.sha256_12);
        // A different size is a different key, whatever the clock says.
        std::fs::write(&f, b"second, longer weights").unwrap();
        let b = describe_cached(&f).unwrap();
        assert_eq!(b.sha256_12, describe(&f).unwrap().sha256_12);
        assert_ne!(a.sha256_12, b.sha256_12);
    }

    /// The table keeps one entry per existing file: a changed file's old entry and a removed
    /// file's entry go when a new entry is written.
    #[test]
    fn the_digest_table_keeps_one_entry_per_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("digests.json");
        let entries = || -> Vec<String> {
            let m: std::collections::BTreeMap<String, String> =
                serde_json::from_slice(&std::fs::read(&table).unwrap()).unwrap();
            m.into_keys().collect()
        };
        let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        describe_through(&a, Some(&table)).unwrap();
        describe_through(&b, Some(&table)).unwrap();
        assert_eq!(entries().len(), 2);
        std::fs::write(&a, b"a, changed").unwrap();
        let changed = describe_through(&a, Some(&table)).unwrap();
        assert_eq!(changed.sha256_12, describe(&a).unwrap().sha256_12);
        let keys = entries();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys.iter().any(|k| k.contains("a.bin|10|")), "{keys:?}");
        std::fs::remove_file(&b).unwrap();
        std::fs::write(&a, b"a, changed again").unwrap();
        describe_through(&a, Some(&table)).unwrap();
        assert_eq!(entries().len(), 1);
    }

    #[test]
    fn write_atomic_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/x.json");
        write_atomic(&f, b"1");
        write_atomic(&f, b"22");
        assert_eq!(std::fs::read(&f).unwrap(), b"22");
        assert_eq!(std::fs::read_dir(f.parent().unwrap()).unwrap().count(), 1);
    }
}
