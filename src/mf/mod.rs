//! Matrix-factorisation affinity: implicit ALS (Hu, Koren & Volinsky 2008) and a ranking-objective variant, with fold-in of new users.

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum MfError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
