//! `--precision auto`: the fastest faithful precision for the CPU the scorer runs on.
//!
//! Which precision is fastest is not a property of the instruction set alone: on one 2-core
//! AVX-512-BF16 EPYC, bf16 ran at twice fp32's speed; on an AVX-512-BF16 Xeon without AMX it
//! ran at half. So `auto` measures instead of guessing. On a CPU without native bf16 (AMX or
//! AVX-512-BF16) the bf16 paths are emulated and several times slower, and auto is fp32 without
//! a probe. Elsewhere the candidates (fp32, autocast, bf16: each within the faithfulness bar of
//! bench/throughput.py against fp32) run the same synthetic batch and the fastest wins. The
//! choice is kept in `$THREADLENS_CACHE/precision.json` (default `~/.cache/threadlens`), keyed
//! by the CPU model, its flags, the thread count and this probe's version, so the probe (about
//! three seconds) runs once per machine; `THREADLENS_PRECISION=fp32|autocast|bf16|mixed` skips
//! it, and deleting the file measures again (a first run on a busy machine may have measured
//! noise; every candidate is faithful, so only speed is at stake).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::encoder::{cpu_has_native_bf16, Encoder, EncoderError, EncoderOptions, Precision};

/// Bumped whenever the candidates or the measurement change, so older choices are re-probed.
const PROBE_VERSION: u32 = 1;

/// The candidates, in the order a tie goes (the first wins).
const CANDIDATES: [Precision; 3] = [Precision::Fp32, Precision::Autocast, Precision::Bf16];

/// What `auto` became, and how it was decided.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoChoice {
    pub precision: Precision,
    /// "no native bf16", "probed", "cached", or "THREADLENS_PRECISION".
    pub how: &'static str,
    /// Batches a second per candidate where it was probed now or earlier.
    pub rates: Vec<(String, f64)>,
}

impl AutoChoice {
    /// "fp32 3.3, autocast 5.8, bf16 6.3" (batches a second), or "" where nothing was timed.
    pub fn rates_text(&self) -> String {
        let parts: Vec<String> = self
            .rates
            .iter()
            .map(|(p, r)| format!("{p} {r:.1}"))
            .collect();
        parts.join(", ")
    }
}

/// Resolves `auto` for the encoder in `dir` with `opts` (its threads matter); other precisions
/// are returned unchanged.
pub fn resolve(dir: &Path, opts: &EncoderOptions) -> Result<AutoChoice, EncoderError> {
    if opts.precision != Precision::Auto {
        return Ok(AutoChoice {
            precision: opts.precision,
            how: "asked",
            rates: Vec::new(),
        });
    }
    if let Some(p) = std::env::var("THREADLENS_PRECISION")
        .ok()
        .and_then(|v| parse(&v))
    {
        return Ok(AutoChoice {
            precision: p,
            how: "THREADLENS_PRECISION",
            rates: Vec::new(),
        });
    }
    if !cpu_has_native_bf16() {
        return Ok(AutoChoice {
            precision: Precision::Fp32,
            how: "no native bf16",
            rates: Vec::new(),
        });
    }
    let key = cpu_key(opts.threads);
    let file = cache_file();
    let mut cache = file.as_deref().map(read_cache).unwrap_or_default();
    if let Some(entry) = cache.get(&key) {
        if let Some(p) = parse(&entry.precision) {
            return Ok(AutoChoice {
                precision: p,
                how: "cached",
                rates: entry.rates.clone().into_iter().collect(),
            });
        }
    }
    let measured = probe(dir, opts)?;
    let precision = fastest(&measured);
    let rates: Vec<(String, f64)> = measured
        .iter()
        .map(|(p, r)| (name(*p).to_string(), *r))
        .collect();
    cache.insert(
        key,
        Entry {
            precision: name(precision).to_string(),
            rates: rates.iter().cloned().collect(),
        },
    );
    if let Some(file) = file {
        write_cache(&file, &cache); // best effort: a read-only home only means probing again
    }
    Ok(AutoChoice {
        precision,
        how: "probed",
        rates,
    })
}

/// The fastest candidate; ties go to the earlier one.
fn fastest(rates: &[(Precision, f64)]) -> Precision {
    let mut best = (Precision::Fp32, f64::MIN);
    for &(p, r) in rates {
        if r > best.1 {
            best = (p, r);
        }
    }
    best.0
}

/// Batches a second for each candidate on a synthetic batch of 32 rows × 64 tokens (the
/// default token budget): each is warmed up once, then the candidates are timed in turn, two
/// rounds, best time each, so a passing burst of load elsewhere touches all of them alike.
fn probe(dir: &Path, opts: &EncoderOptions) -> Result<Vec<(Precision, f64)>, EncoderError> {
    let rows: Vec<Vec<u32>> = (0..32u32)
        .map(|r| {
            let mut row = vec![101u32];
            row.extend((0..62u32).map(|t| 1_000 + (r * 131 + t * 17) % 20_000));
            row.push(102);
            row
        })
        .collect();
    let rows: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
    let mut encoders = Vec::new();
    for p in CANDIDATES {
        let enc = Encoder::load(
            dir,
            &EncoderOptions {
                precision: p,
                adapter: None,
                ..opts.clone()
            },
        )?;
        enc.embed_ids(&rows)?;
        encoders.push((p, enc, f64::MAX));
    }
    for _ in 0..2 {
        for (_, enc, best) in encoders.iter_mut() {
            let t = Instant::now();
            enc.embed_ids(&rows)?;
            *best = best.min(t.elapsed().as_secs_f64());
        }
    }
    Ok(encoders
        .into_iter()
        .map(|(p, _, best)| (p, 1.0 / best.max(1e-9)))
        .collect())
}

/// The precision's name as `--precision` spells it.
pub fn name(p: Precision) -> &'static str {
    match p {
        Precision::Auto => "auto",
        Precision::Fp32 => "fp32",
        Precision::Bf16 => "bf16",
        Precision::Mixed => "mixed",
        Precision::Autocast => "autocast",
        Precision::Int8 => "int8",
    }
}

fn parse(s: &str) -> Option<Precision> {
    match s.trim() {
        "fp32" => Some(Precision::Fp32),
        "bf16" => Some(Precision::Bf16),
        "mixed" => Some(Precision::Mixed),
        "autocast" => Some(Precision::Autocast),
        "int8" => Some(Precision::Int8),
        _ => None,
    }
}

/// The CPU's model name and flags, the thread count and the probe version, hashed.
fn cpu_key(threads: usize) -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |k: &str| {
        info.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_once(':'))
            .map_or("", |(_, v)| v.trim())
            .to_string()
    };
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    let text = format!(
        "v{PROBE_VERSION}|{}|{}|threads {threads}",
        field("model name"),
        field("flags")
    );
    super::models::short_hash(text.as_bytes())
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Entry {
    precision: String,
    rates: BTreeMap<String, f64>,
}

fn cache_file() -> Option<PathBuf> {
    Some(super::models::cache_dir()?.join("precision.json"))
}

/// The cached choices; an unreadable or damaged file counts as empty (it is re-probed).
fn read_cache(path: &Path) -> BTreeMap<String, Entry> {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_cache(path: &Path, cache: &BTreeMap<String, Entry>) {
    if let Ok(bytes) = serde_json::to_vec_pretty(cache) {
        super::models::write_atomic(path, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fastest_picks_the_highest_rate_and_ties_go_first() {
        let r = [
            (Precision::Fp32, 10.0),
            (Precision::Autocast, 19.0),
            (Precision::Bf16, 18.0),
        ];
        assert_eq!(fastest(&r), Precision::Autocast);
        let tie = [(Precision::Fp32, 5.0), (Precision::Bf16, 5.0)];
        assert_eq!(fastest(&tie), Precision::Fp32);
        assert_eq!(fastest(&[]), Precision::Fp32);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for p in CANDIDATES
            .iter()
            .chain([Precision::Mixed, Precision::Int8].iter())
        {
            assert_eq!(parse(name(*p)), Some(*p));
        }
        assert_eq!(parse("auto"), None);
        assert_eq!(parse("fp16"), None);
    }

    #[test]
    fn cache_round_trips_and_damaged_files_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/precision.json");
        let mut c = BTreeMap::new();
        c.insert(
            "k".to_string(),
            Entry {
                precision: "autocast".into(),
                rates: [("fp32".to_string(), 4.0), ("autocast".to_string(), 8.5)]
                    .into_iter()
                    .collect(),
            },
        );
        write_cache(&file, &c);
        let back = read_cache(&file);
        assert_eq!(back["k"].precision, "autocast");
        assert_eq!(back["k"].rates["autocast"], 8.5);
        std::fs::write(&file, b"{not json").unwrap();
        assert!(read_cache(&file).is_empty());
        assert!(read_cache(&dir.path().join("absent.json")).is_empty());
    }

    #[test]
    fn cpu_key_depends_on_threads() {
        assert_ne!(cpu_key(1), cpu_key(2));
        assert_eq!(cpu_key(2), cpu_key(2));
    }

    #[test]
    fn asked_precisions_pass_through_without_loading_anything() {
        let opts = EncoderOptions {
            precision: Precision::Fp32,
            ..Default::default()
        };
        let c = resolve(Path::new("/nonexistent"), &opts).unwrap();
        assert_eq!((c.precision, c.how), (Precision::Fp32, "asked"));
    }
}
