//! The world simulator: overlapping circles, partners, tastes, a logging policy and a hidden engagement model with known truth.

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
