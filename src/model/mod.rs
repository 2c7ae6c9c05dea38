//! The engagement model: one logistic-regression head per engagement action (linfa-logistic)
//! on standardised features, a value score `V = sum_k w_k * P_k`, and model files.
//!
//! Takes a [`crate::features::FeatureSpace`] (or a world) and a [`crate::config::Config`];
//! hands on a [`TrainedModel`] (parameters + training metadata), a [`ModelScorer`] that
//! implements the [`Scorer`] contract for the ranker and the evaluation, and
//! [`file::save`]/[`file::load`] for model files. Two further parts live in the model and its
//! file: matrix-factorisation affinities ([`mf`]: implicit ALS or BPR, chosen on validation,
//! cross-fitted in time so no row's label is in its own factors, fold-in of viewers without a
//! fitted row at scoring time) and per-viewer GLMix offsets ([`personal`]). Ablations
//! (`Config.model.ablate`) mask feature groups or switch these parts off.
pub mod apply;
pub mod compat;
pub mod file;
pub mod fit;
pub mod mf;
pub mod personal;
pub mod scorer;
pub mod train;
pub mod trained;

pub use apply::{ModelScorer, ModelViewer};
pub use compat::{check_world, UserSketch, WorldMismatch};
pub use file::{load, save};
pub use mf::{MfMethod, MfModel};
pub use personal::Personalisation;
pub use scorer::{Contribution, Explanation, Score, Scorer};
pub use train::{build_rows, default_as_of, train, train_with, train_with_progress, Rows};
pub use trained::{DefectKind, Head, HeadMeta, ModelDefect, Scaler, TrainedModel, TrainingMeta};

use std::path::PathBuf;

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Feature(#[from] crate::features::FeatureError),
    /// A viewer's or a candidate's features could not be computed while scoring.
    #[error("cannot score for viewer {viewer}{}: {source}", story_suffix(*.story))]
    Score {
        viewer: u32,
        /// The candidate, `None` when the viewer's own context failed.
        story: Option<u32>,
        source: crate::features::FeatureError,
    },
    #[error(transparent)]
    Write(#[from] crate::io::IoError),
    #[error("no training rows: the world has no exposures before as_of {as_of}")]
    NoRows { as_of: i64 },
    #[error("fitting the {head} head failed: {message}")]
    Fit { head: &'static str, message: String },
    #[error("cannot read model file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a feedrank model file (bad magic bytes)")]
    NotAModel { path: PathBuf },
    #[error("{path}: truncated model file: expected {expected} bytes, found {found}")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error(
        "{path}: model file format version {found}, this build reads version {expected}: \
         retrain the model with `feedrank train`"
    )]
    FormatVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// The payload could not be encoded or decoded (the encoder's message), or an in-memory
    /// model failed its check.
    #[error("{path}: corrupt model file: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// The payload's checksum differs from the one in the header.
    #[error("{path}: corrupt model file: checksum mismatch")]
    Checksum {
        path: PathBuf,
        stored: u64,
        computed: u64,
    },
    /// The file is longer than its header declares.
    #[error(
        "{path}: corrupt model file: {} bytes after the declared payload",
        .found - .expected
    )]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// The payload decoded without using all its bytes.
    #[error("{path}: corrupt model file: {bytes} undecoded payload bytes")]
    UndecodedBytes { path: PathBuf, bytes: usize },
    /// The decoded model's parts do not fit together.
    #[error("{path}: corrupt model file: {defect}")]
    Inconsistent { path: PathBuf, defect: ModelDefect },
    #[error(
        "{path}: feature schema mismatch: the model has schema version {found_version}, this build \
         has {expected_version} ({defect}); retrain the model"
    )]
    SchemaMismatch {
        path: PathBuf,
        found_version: u32,
        expected_version: u32,
        defect: ModelDefect,
    },
    #[error("{path}: non-finite model parameter: {what}")]
    NonFinite { path: PathBuf, what: ModelDefect },
    /// The model was trained on another world ([`compat::check_world`]).
    #[error(
        "{0}: retrain the model on this world with `feedrank train`, or pass \
         --allow-other-world to rank with it anyway"
    )]
    OtherWorld(WorldMismatch),
    #[error(
        "the feature space was built with other feature settings than the model was trained \
         with ({message})"
    )]
    FeatureConfigMismatch { message: String },
}

/// `", story N"` for [`ModelError::Score`]'s message.
fn story_suffix(story: Option<u32>) -> String {
    story.map_or(String::new(), |s| format!(", story {s}"))
}
