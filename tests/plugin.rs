//! Plug-in classifiers (`--sentiment-model` / `--toxicity-model`): the test builds tiny,
//! randomly initialised Hugging Face-style models itself (config.json with id2label,
//! tokenizer.json, model.safetensors), so loading, label mapping and sigmoid-vs-softmax are
//! exercised without any download.

use std::path::Path;
use std::process::Command;

use rust_bert::bert::{BertConfig, BertForSequenceClassification};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::roberta::RobertaForSequenceClassification;
use threadlens::score::plugin::{Activation, Classifier};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::Tokenizer;

const WORDS: [&str; 12] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "you", "are", "an", "idiot", "i", "love", "this", "article",
];

fn write_tokenizer(dir: &Path) {
    let vocab: String = WORDS.iter().map(|w| format!("{w}\n")).collect();
    std::fs::write(dir.join("vocab.txt"), vocab).unwrap();
    let wp = WordPiece::from_file(&dir.join("vocab.txt").display().to_string())
        .unk_token("[UNK]".into())
        .build()
        .unwrap();
    let mut tok = Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::default()));
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), 3),
        ("[CLS]".into(), 2),
    )));
    tok.save(dir.join("tokenizer.json"), false).unwrap();
}

/// Writes a tiny random model of `model_type` with the given labels.
fn tiny_model(dir: &Path, model_type: &str, labels: &[&str], multi_label: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), serde_json::Value::from(*l)))
        .collect();
    let mut config = serde_json::json!({
        "model_type": model_type,
        "vocab_size": WORDS.len(), "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
        "initializer_range": 0.02, "pad_token_id": 0,
        // DistilBERT names
        "dim": 16, "n_layers": 1, "n_heads": 2, "hidden_dim": 32, "activation": "gelu", "dropout": 0.1,
        "attention_dropout": 0.1, "qa_dropout": 0.1, "seq_classif_dropout": 0.1, "sinusoidal_pos_embds": false,
        "tie_weights_": false,
        "id2label": id2label,
    });
    if multi_label {
        config["problem_type"] = "multi_label_classification".into();
    }
    let text = serde_json::to_string_pretty(&config).unwrap();
    std::fs::write(dir.join("config.json"), &text).unwrap();
    tch::manual_seed(7);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    match model_type {
        "bert" => {
            let c: BertConfig = serde_json::from_str(&text).unwrap();
            BertForSequenceClassification::new(vs.root(), &c).unwrap();
        }
        "distilbert" => {
            let c: DistilBertConfig = serde_json::from_str(&text).unwrap();
            DistilBertModelClassifier::new(vs.root(), &c).unwrap();
        }
        "roberta" => {
            let c: BertConfig = serde_json::from_str(&text).unwrap();
            RobertaForSequenceClassification::new(vs.root(), &c).unwrap();
        }
        other => panic!("{other}"),
    }
    vs.save(dir.join("model.safetensors")).unwrap();
    write_tokenizer(dir);
}

#[test]
fn softmax_models_of_each_architecture_load_and_sum_to_one() {
    let d = tempfile::tempdir().unwrap();
    for arch in ["bert", "distilbert", "roberta"] {
        let dir = d.path().join(arch);
        tiny_model(&dir, arch, &["NEG", "neu", "Positive"], false);
        let m = Classifier::load(&dir).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert_eq!(m.activation, Activation::Softmax);
        assert_eq!(
            m.labels,
            vec!["NEG", "neu", "Positive"],
            "labels come from id2label"
        );
        let p = m
            .predict(&["you are an idiot", "i love this article", ""])
            .unwrap();
        assert_eq!(p.len(), 3);
        for row in &p {
            assert_eq!(row.len(), 3);
            assert!(
                (row.iter().sum::<f32>() - 1.0).abs() < 1e-5,
                "{arch}: {row:?}"
            );
        }
        assert!(m.predict(&[]).unwrap().is_empty());
    }
}

#[test]
fn multi_label_models_use_a_sigmoid_per_label() {
    let d = tempfile::tempdir().unwrap();
    let labels = [
        "toxic",
        "severe_toxic",
        "obscene",
        "threat",
        "insult",
        "identity_hate",
    ];
    tiny_model(d.path(), "bert", &labels, true);
    let m = Classifier::load(d.path()).unwrap();
    assert_eq!(m.activation, Activation::Sigmoid);
    let p = m.predict(&["you are an idiot"]).unwrap();
    assert_eq!(p[0].len(), 6);
    assert!(p[0].iter().all(|v| (0.0..=1.0).contains(v)));
    // Independent sigmoids around 0.5 for a random model: they do not sum to 1.
    assert!((p[0].iter().sum::<f32>() - 1.0).abs() > 0.5, "{:?}", p[0]);
}

#[test]
fn config_without_id2label_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    tiny_model(d.path(), "bert", &["a", "b"], false);
    let cfg = std::fs::read_to_string(d.path().join("config.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    v.as_object_mut().unwrap().remove("id2label");
    std::fs::write(d.path().join("config.json"), v.to_string()).unwrap();
    let err = Classifier::load(d.path()).err().expect("fails");
    assert!(err.to_string().contains("id2label"), "{err}");
}

#[test]
fn cli_uses_the_plugin_and_maps_labels_by_name() {
    let d = tempfile::tempdir().unwrap();
    // Labels in an order unlike ours; the CSV columns must follow the names.
    let labels = [
        "insult",
        "identity_hate",
        "toxic",
        "threat",
        "obscene",
        "severe_toxic",
    ];
    tiny_model(&d.path().join("tox"), "bert", &labels, true);
    let tox = Classifier::load(&d.path().join("tox")).unwrap();
    let want = tox.predict(&["you are an idiot"]).unwrap().remove(0);
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["score", "-", "--quiet", "--toxicity-model"])
        .arg(d.path().join("tox"))
        .current_dir(d.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"id,text\n1,you are an idiot\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let row = r.records().next().unwrap().unwrap();
    let got = |name: &str| {
        let i = header.iter().position(|h| h == name).unwrap();
        row[i].parse::<f32>().unwrap()
    };
    // toxicity ← "toxic" (2), insult ← "insult" (0), threat ← 3, obscene ← 4,
    // identity_attack ← "identity_hate" (1), severe_toxicity ← "severe_toxic" (5)
    for (col, src) in [
        ("toxicity", 2),
        ("insult", 0),
        ("threat", 3),
        ("obscene", 4),
        ("identity_attack", 1),
        ("severe_toxicity", 5),
    ] {
        assert!(
            (got(col) - want[src]).abs() < 1e-3,
            "column {col}: {} vs {}",
            got(col),
            want[src]
        );
    }
    // The model has no sexual_explicit label: the column is 0, not the built-in head's score.
    assert_eq!(got("sexual_explicit"), 0.0);
    // A model whose labels cannot be mapped is refused with the labels named.
    tiny_model(
        &d.path().join("bad"),
        "bert",
        &["LABEL_0", "LABEL_1"],
        false,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_threadlens"))
        .args(["score", "-", "--quiet", "--toxicity-model"])
        .arg(d.path().join("bad"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("LABEL_0"), "{stderr}");
}
