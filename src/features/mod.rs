//! Feature extraction: (viewer, story, as_of) -> a row of the named, versioned feature schema,
//! from data strictly before `as_of`.
//!
//! Takes a [`crate::world::World`] and a [`FeatureConfig`]; hands on [`FeatureSpace`] (world
//! indices built once), per-viewer [`ViewerContext`]s, and rows written into caller-provided
//! `&mut [f32]` slices in the order of [`NAMES`]. Shared by training, batch ranking and the
//! debug binary, so they cannot disagree. The [`AblationGroup`]s name sets of these features
//! that training can leave out.
//!
//! Files by concern: `schema.rs` (the names), `space.rs` (the [`FeatureSpace`]: construction,
//! validation, accessors), `scope.rs` ([`Scope`]), `exposures.rs` ([`ExposureRow`],
//! [`build_exposures`]), `indices.rs` (the per-user and per-story lists and their builders),
//! `asof.rs` (the tables precomputed for one `as_of`, prefetch hints), `viewer.rs`
//! ([`ViewerContext`]) and `row.rs` ([`FeatureSpace::write_row`], one function per feature
//! group).
pub mod ablation;
mod asof;
pub mod config;
mod exposures;
mod indices;
mod row;
pub mod schema;
mod scope;
mod space;
mod viewer;

pub use ablation::{AblationGroup, UnknownAblationGroup};
pub use config::{FeatureConfig, SettingError};
pub use exposures::{build_exposures, ExposureRow};
pub use schema::{Feature, Transform, NAMES, NUM_FEATURES, SCHEMA_VERSION};
pub use scope::Scope;
pub use space::{FeatureSpace, MfAffinity};
pub use viewer::ViewerContext;

/// Seconds per day (the time unit of decays and windows).
const DAY: f64 = crate::util::time::DAY as f64;

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("story {story} is out of range (the world has {stories} stories)")]
    StoryOutOfRange { story: u32, stories: usize },
    #[error("user {user} is out of range (the world has {users} users)")]
    UserOutOfRange { user: u32, users: usize },
    #[error("the feature row has {found} slots, expected {expected}")]
    RowLength { expected: usize, found: usize },
    #[error("the world is inconsistent: {message}")]
    World { message: String },
    /// A query on a scoped [`FeatureSpace`] for a user (`what = "user"`) or story
    /// (`what = "story"`) outside its scope.
    #[error("{what} {id} is outside the scope of this feature space")]
    OutOfScope { what: &'static str, id: u32 },
    /// The [`Scope`] given to [`FeatureSpace::scoped`] does not fit the world.
    #[error("invalid scope: {message}")]
    ScopeMismatch { message: String },
}
