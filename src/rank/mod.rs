//! The ranker: candidate sources, filters, scoring, heuristics, top-K selection, explanations and the batch loop.

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum RankError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
