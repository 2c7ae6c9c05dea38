//! The ranker: takes a [`World`](crate::world::World), a [`Scorer`](crate::model::Scorer) and a
//! [`RankConfig`], and hands on one ranked [`UserFeed`] per user.
//!
//! Stages, each a small unit with its own tests (the shape the README describes; X home-mixer,
//! Facebook's passes, LinkedIn's first/second pass):
//! [`sources`] (in-network, out-of-network, popular fallback) -> [`filters`] (own, seen,
//! hidden author, too old) -> scoring with the model -> [`heuristics`] (out-of-network
//! factor, hide fatigue, author diversity) -> [`select`] (greedy top-K, ties by story id) ->
//! [`explain`] ("why am I seeing this"); [`html`] renders one explained feed as a page.
//! [`ranker::rank_user`] is the single facade used by the batch loop
//! ([`batch::generate_feeds`]) and the debug binary, so they cannot disagree.
pub mod batch;
pub mod config;
pub mod explain;
pub mod filters;
pub mod heuristics;
pub mod html;
pub mod index;
pub mod ranker;
pub mod select;
pub mod sources;
#[doc(hidden)]
pub mod testkit;

pub use batch::{generate_feeds, BatchOptions, OutputFormat, RankStats, Shard};
pub use config::{RankConfig, RankParams};
pub use explain::{explain_user, why_line, UserExplanation};
pub use filters::FilterReason;
pub use index::{RankContext, RankIndex};
pub(crate) use ranker::candidates_into;
pub use ranker::{candidates_of, rank_user, FeedItem, Multipliers, UserFeed, Worker};

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A story by one of the viewer's friends, created within the in-network window.
    InNetwork,
    /// A story not by a friend that enough of the viewer's friends engaged with.
    OutOfNetwork,
    /// A popular recent story, used only when the viewer has no other candidate (fallback).
    Popular,
}

impl Source {
    /// The name used in every output (`in_network`, `out_of_network`, `popular`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::InNetwork => "in_network",
            Source::OutOfNetwork => "out_of_network",
            Source::Popular => "popular",
        }
    }
}

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum RankError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error("the scorer returned a non-finite value {value} for user {user:?}, story {story:?}")]
    NonFiniteScore {
        user: String,
        story: String,
        value: f64,
    },
    #[error("unknown user id {0:?}")]
    UnknownUser(String),
    #[error("invalid shard {spec:?}: expected i/N with 0 <= i < N")]
    InvalidShard { spec: String },
    #[error("cannot write the feeds")]
    Write { source: std::io::Error },
    #[error(transparent)]
    Score(#[from] crate::model::ModelError),
}

#[cfg(test)]
mod tests;
