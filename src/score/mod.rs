//! Scoring: the transformer encoder, the small heads on its embeddings, the stance pair model,
//! and where models live: the floor every front end (CLI, server, plugin) stands on. Training
//! lives apart, in `train` (stage-1 fine-tuning, the head trainer, the pair model's training);
//! nothing here imports it, which the test below keeps so. `encoder`, `int8`, `heads` and
//! `pair` are the modules here that touch libtorch; `encoder` also offers the LoRA training
//! pass (`TrainPass`) that `train` drives, since it runs the encoder's own layers.

pub mod batch;
pub mod calls;
pub mod encoder;
pub mod figures;
pub mod heads;
mod int8;
pub mod lang;
pub mod models;
pub mod pair;
pub mod plugin;
pub mod precision;
pub mod scorer;

pub use int8::describe as int8_description;

#[cfg(test)]
mod tests {
    /// Inference never imports training code (issue 39): no file of `src/score/` names the
    /// `train` module.
    #[test]
    fn scoring_imports_no_training_code() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/score");
        // Spelt in two parts so that this test does not name the module itself.
        let needles = [
            ["crate", "::train"].concat(),
            ["super::super", "::train"].concat(),
        ];
        let mut offenders = Vec::new();
        for f in std::fs::read_dir(&dir).unwrap().flatten() {
            let text = std::fs::read_to_string(f.path()).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if needles.iter().any(|n| code.contains(n.as_str())) {
                    offenders.push(format!("{}:{}", f.path().display(), n + 1));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "training imported by scoring: {offenders:?}"
        );
    }
}
