//! The real all-MiniLM-L6-v2 weights compute what the published model computes: the model
//! card's example cosine, and embeddings equal to Python sentence-transformers' to 1e-4
//! (tests/fixtures/reference_embeddings.json, written by bench/reference_embeddings.py).

use std::path::PathBuf;

use threadlens::score::encoder::{Backend, Encoder, EncoderOptions, Precision, DIM};

fn encoder_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2")
}

fn load(backend: Backend) -> Encoder {
    let opts = EncoderOptions {
        backend,
        precision: Precision::Fp32,
        ..Default::default()
    };
    Encoder::load(&encoder_dir(), &opts).expect("encoder loads (run scripts/setup first)")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[derive(serde::Deserialize)]
struct Reference {
    sentences: Vec<String>,
    embeddings: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference_embeddings.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn published_example_cosine_is_076() {
    for backend in [Backend::Fused, Backend::RustBert] {
        let enc = load(backend);
        let e = enc
            .embed(&["A man is eating food.", "A man is eating a piece of bread."])
            .unwrap();
        let c = cosine(&e[..DIM], &e[DIM..]);
        assert!((c - 0.76).abs() <= 0.02, "{backend:?}: cosine {c}");
    }
}

#[test]
fn embeddings_match_sentence_transformers_to_1e4() {
    let r = reference();
    let texts: Vec<&str> = r.sentences.iter().map(String::as_str).collect();
    for backend in [Backend::Fused, Backend::RustBert] {
        let enc = load(backend);
        // One padded batch, and one text at a time: padding must not change the result.
        let batched = enc.embed(&texts).unwrap();
        for (i, want) in r.embeddings.iter().enumerate() {
            let single = enc.embed(&texts[i..=i]).unwrap();
            for (got, label) in [
                (&batched[i * DIM..(i + 1) * DIM], "batched"),
                (&single[..], "single"),
            ] {
                let worst = got
                    .iter()
                    .zip(want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "{backend:?} {label} sentence {i} {:?}: max abs diff {worst}",
                    texts[i]
                );
            }
        }
    }
}

#[test]
fn empty_batch_is_fine() {
    let enc = load(Backend::RustBert);
    assert!(enc.embed(&[]).unwrap().is_empty());
}

#[test]
fn very_long_text_is_truncated_not_rejected() {
    let enc = load(Backend::Fused);
    let long = "word ".repeat(5000);
    let e = enc.embed(&[long.as_str(), "short"]).unwrap();
    assert_eq!(e.len(), 2 * DIM);
    let norm: f32 = e[..DIM].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
}

/// Every reduced precision stays close to the published fp32 embeddings on the reference
/// sentences: the bf16 policies (which `--precision auto` may pick) within cosine 0.995 of each
/// text, int8 (an explicit option only) within 0.95. The CPU need not have native bf16: there
/// the same arithmetic is emulated, slower but with the same rounding.
#[test]
fn reduced_precisions_stay_close_to_the_published_embeddings() {
    let r = reference();
    let texts: Vec<&str> = r.sentences.iter().map(String::as_str).collect();
    for (precision, floor) in [
        (Precision::Mixed, 0.995),
        (Precision::Autocast, 0.995),
        (Precision::Bf16, 0.995),
        (Precision::Int8, 0.95),
    ] {
        let opts = EncoderOptions {
            precision,
            ..Default::default()
        };
        let enc = Encoder::load(&encoder_dir(), &opts).unwrap();
        let got = enc.embed(&texts).unwrap();
        for (i, want) in r.embeddings.iter().enumerate() {
            let c = cosine(&got[i * DIM..(i + 1) * DIM], want);
            assert!(c >= floor, "{precision:?}, text {i}: cosine {c}");
        }
    }
}

/// Issue 41: `--precision int8` gives the same scores whichever int8 kernel fbgemm picks. On a
/// CPU with VNNI this compares its 32-bit sums with the 16-bit pair sums of AVX2-only CPUs
/// (forced by `FBGEMM_ENABLE_INSTRUCTIONS=AVX2`); with 8-bit weights the pair sums saturated
/// and toxicity moved by up to 0.034 on this page. On an AVX2-only CPU both runs take the same
/// kernel, and `score::int8`'s unit tests check the arithmetic itself.
#[test]
fn int8_scores_do_not_depend_on_the_cpus_int8_kernel() {
    let page = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/seeds/sputnik-trump-putin-with-comments.txt"
    );
    let score = |isa: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_threadlens"));
        cmd.args(["score", page, "--precision", "int8", "--quiet"]);
        cmd.env_remove("FBGEMM_ENABLE_INSTRUCTIONS");
        if let Some(isa) = isa {
            cmd.env("FBGEMM_ENABLE_INSTRUCTIONS", isa);
        }
        let out = cmd.output().expect("threadlens runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 CSV")
    };
    let native = score(None);
    assert!(native.lines().count() > 10, "{native}");
    assert_eq!(
        native,
        score(Some("AVX2")),
        "int8 scores differ between fbgemm's kernels"
    );
}
