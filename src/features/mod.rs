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
//! validation, accessors), `scope.rs` ([`FeatureScope`]), `exposures.rs` ([`ExposureRow`],
//! [`build_exposures`]), `indices.rs` (the per-user and per-story lists and their builders),
//! `asof.rs` (the tables precomputed for one `as_of`, prefetch hints), `history.rs`
//! ([`ViewerHistory`]: a viewer's topic lists over all time), `viewer.rs` ([`ViewerContext`]) and `row.rs` ([`FeatureSpace::write_row`], one function per feature
//! group).
pub mod ablation;
pub mod aggregates;
mod asof;
pub mod config;
mod exposures;
mod history;
mod indices;
mod posts;
mod row;
pub mod schema;
mod scope;
mod shrink;
mod space;
mod viewer;

pub use ablation::{AblationGroup, UnknownAblationGroup};
pub use aggregates::{story_partials, AsOfAggregates, StoryPartial};
pub use config::{FeatureConfig, SettingError};
pub use exposures::{build_exposures, ExposureRow};
pub use history::ViewerHistory;
pub use schema::{Feature, Transform, NAMES, NUM_FEATURES, SCHEMA_VERSION};
pub use scope::FeatureScope;
pub use space::{FeatureSpace, MfAffinity};
pub use viewer::ViewerContext;

/// Seconds per day (the time unit of decays and windows).
const DAY: f64 = crate::util::time::DAY as f64;

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("story {story} is out of range (the world has {stories} stories)")]
    StoryOutOfRange { story: u32, stories: usize },
    #[error("user {user} is out of range (the world has {users} users)")]
    UserOutOfRange { user: u32, users: usize },
    #[error("the feature row has {found} slots, expected {expected}")]
    RowLength { expected: usize, found: usize },
    #[error("the world is inconsistent: {0}")]
    World(WorldDefect),
    /// A query on a scoped [`FeatureSpace`] for a user (`what = "user"`) or story
    /// (`what = "story"`) outside its scope.
    #[error("{what} {id} is outside the scope of this feature space")]
    OutOfScope { what: &'static str, id: u32 },
    /// The [`FeatureScope`] (or the edge signals) given to [`FeatureSpace::scoped`] does not fit
    /// the world.
    #[error("invalid scope: {0}")]
    Scope(ScopeDefect),
    /// A partition's aggregates lack the row of an in-scope story (`what = "story"`) or of
    /// its author (`what = "author"`): the partition input is incomplete.
    #[error("the aggregates have no row for {what} {id}: the partition input is incomplete")]
    MissingAggregate { what: &'static str, id: u32 },
    /// A space built with aggregates at some `as_of`s was asked about another.
    #[error("this feature space holds aggregates at as_of {pinned:?} only, not at {asked}")]
    AsOfPinned { pinned: Vec<i64>, asked: i64 },
    /// [`FeatureSpace::viewer_with_history`] was given another viewer's [`ViewerHistory`].
    #[error("the history given for viewer {viewer} is viewer {history}'s")]
    HistoryOfAnotherViewer { viewer: u32, history: u32 },
}

/// What makes a world unusable for a feature space (ids out of range, signals of another
/// graph).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldDefect {
    #[error("the graph has {nodes} nodes but the world has {users} users")]
    GraphTooSmall { nodes: usize, users: usize },
    #[error("edge signals do not match the graph's {slots} edge slots")]
    SignalSlots { slots: usize },
    #[error("story {story} has author {author} but there are {users} users")]
    StoryAuthor {
        story: u32,
        author: u32,
        users: usize,
    },
    #[error(
        "event at ts {ts} refers to user {user} / story {story} ({users} users, {stories} stories)"
    )]
    Event {
        ts: i64,
        user: u32,
        story: u32,
        users: usize,
        stories: usize,
    },
    #[error("interaction at ts {ts} refers to user {from} -> {to} ({users} users)")]
    Interaction {
        ts: i64,
        from: u32,
        to: u32,
        users: usize,
    },
}

/// Why a scope does not fit a world.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeDefect {
    /// A user (`what = "user"`) or story id added to the scope is out of range.
    #[error("{what} {id} was added to the scope but is out of range")]
    OutOfRange { what: &'static str, id: u32 },
    #[error("the scope is for {users} users and {stories} stories, the world has {world_users} and {world_stories}")]
    Size {
        users: usize,
        stories: usize,
        world_users: usize,
        world_stories: usize,
    },
    #[error("the edge signals do not hold viewer {viewer}'s slots")]
    MissingViewerSignals { viewer: u32 },
    #[error("edge signals of some egos only need a scoped feature space")]
    EgoSignalsNeedScope,
}
