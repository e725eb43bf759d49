//! Scoring: the transformer encoder, the small heads on its embeddings, and where models live.
//! `encoder`, `int8`, `finetune` and `trainer` are the only modules that touch libtorch.

pub mod batch;
pub mod calls;
pub mod encoder;
pub mod finetune;
pub mod heads;
mod int8;
pub mod lang;
pub mod models;
pub mod pair;
pub mod plugin;
pub mod precision;
pub mod scorer;
pub mod trainer;

pub use int8::describe as int8_description;
