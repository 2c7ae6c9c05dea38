//! Feature extraction: (viewer, story, as_of) -> a row of the named, versioned feature schema, from data strictly before as_of.

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
}
