//! Feature extraction: (viewer, story, as_of) -> a row of the named, versioned feature schema,
//! from data strictly before `as_of`.
//!
//! Takes a [`crate::world::World`] and a [`FeatureConfig`]; hands on [`FeatureSpace`] (world
//! indices built once), per-viewer [`ViewerContext`]s, and rows written into caller-provided
//! `&mut [f32]` slices in the order of [`NAMES`]. Shared by training, batch ranking and the
//! debug binary, so they cannot disagree. The [`AblationGroup`]s name sets of these features
//! that training can leave out.
pub mod ablation;
pub mod config;
pub mod schema;
pub mod space;

pub use ablation::{AblationGroup, UnknownAblationGroup};
pub use config::{FeatureConfig, SettingError};
pub use schema::{Feature, Transform, NAMES, NUM_FEATURES, SCHEMA_VERSION};
pub use space::{ExposureRow, FeatureSpace, MfAffinity, Scope, ViewerContext};

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
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
