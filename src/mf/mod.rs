//! Matrix-factorisation affinity: implicit ALS (Hu, Koren & Volinsky 2008) and a ranking-objective variant, with fold-in of new users.
//!
//! Takes a sparse count matrix ([`Interactions`]: rows = viewers, columns = authors or topics,
//! built from `(row, col, count)` triples) and hands on [`Factors`]: one `k`-vector per row and
//! per column whose dot product is the affinity feature (`mf_author_affinity`,
//! `mf_topic_affinity`). Two trainers produce the same [`Factors`] type, so the evaluation can
//! choose between them:
//! - [`fit_als`]: implicit-feedback ALS, confidence `1 + alpha * count`, with the `Y^T Y`
//!   precompute and per-row conjugate-gradient (warm-started, as the `implicit` library does) or
//!   Cholesky solves, parallel over rows with rayon and independent of the thread count;
//! - [`fit_bpr`]: Bayesian Personalised Ranking (Rendle et al. 2009), SGD on
//!   (row, positive column, sampled negative column) triples, sequential and seeded.
//!
//! [`Factors::recalculate_user`] folds a new or updated row in with one closed-form ALS solve,
//! without retraining. [`synth`] builds seeded synthetic matrices for tests and benchmarks.

mod als;
mod bpr;
mod factors;
mod interactions;
pub(crate) mod linalg;
pub mod logistic;
pub mod synth;

pub use als::{fit_als, update_rows, AlsParams, AlsTrainer, AlsValidParams, Solver};
pub use bpr::{fit_bpr, BprParams, BprValidParams};
pub use factors::Factors;
pub use interactions::Interactions;
pub use logistic::{fit_logistic_mf, BinomialCounts, LogisticMfParams};

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum MfError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error("{what} index {index} is out of range (there are {len})")]
    OutOfRange {
        what: &'static str,
        index: u64,
        len: u64,
    },
    #[error("count at row {row}, column {col} is {count}: counts must be finite and >= 0")]
    BadCount { row: u32, col: u32, count: f32 },
    #[error("shape mismatch in {what}: expected {expected}, found {found}")]
    Shape {
        what: &'static str,
        expected: usize,
        found: usize,
    },
}
