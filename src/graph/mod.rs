//! The friendship graph (CSR) and every graph signal computed on it: embeddedness, Jaccard,
//! Adamic-Adar, dispersion (absolute, normalised, recursive; Backstrom & Kleinberg 2014),
//! per-node degree, triangles and clustering.
pub mod adjacency;
pub mod csr;
pub mod fast;
pub mod signals;
pub mod synth;
pub mod ties;

pub use adjacency::{Adjacency, PetCsr};
pub use csr::{BuildStats, Graph};
pub use signals::{EdgeSignals, EgoSlots, NodeSignals, SignalParams};
pub use ties::{friend_ties, TieRow};

/// Errors from building or querying a graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("unknown user id {0:?}")]
    UnknownUser(String),
    #[error("edge signals cover {found} edge slots but the graph has {expected}")]
    SignalsMismatch { expected: usize, found: usize },
}
