//! Evaluation: time split, per-(viewer, day) lists, the model against baselines and the oracle, ablations, reports.

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
