//! The engagement model: one logistic-regression head per action (linfa-logistic), a value score, model files.
pub mod scorer;
pub use scorer::{Contribution, Explanation, Score, Scorer};

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
