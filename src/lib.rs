//! threadlens: rebuild reply trees from comment sections and exports, score every comment for
//! sentiment, toxicity and stance with a local transformer, and write moderation reports.
//!
//! The data flow is ingest → thread → score → report (+ tune). Only `score::encoder` and the
//! training/plug-in code under `score` touch libtorch; everything else is plain Rust.

pub mod cli;
pub mod csvread;
pub mod ingest;
pub mod pipeline;
pub mod report;
pub mod score;
pub mod serve;
pub mod thread;
pub mod train;
pub mod tune;
