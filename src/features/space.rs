//! [`FeatureSpace`]: world indices built once (per-user event lists, per-story engagement
//! lists sorted by time, per-author exposure/engagement times, exposures with their labels,
//! edge signals), then a [`ViewerContext`] per (viewer, as_of) (decayed ties to authors in a
//! sorted vec, viewer rates, scratch buffers), then one row per candidate written into a
//! caller-provided `&mut [f32]` without allocating.
//!
//! Two ways to build it: [`FeatureSpace::with_signals`] (every user and story: the batch job
//! and training; counting sorts in event time order, no global sort, the full exposure list
//! built lazily for training only) and [`FeatureSpace::scoped`] (a [`FeatureScope`] of users and
//! stories: one filtered pass over the events, for inspecting one viewer's feed; queries
//! outside the scope are [`super::FeatureError::OutOfScope`] errors, never a wrong row).
//!
//! This file holds the space itself (construction, validation, accessors); the indices are
//! built in `indices.rs`, viewer contexts in `viewer.rs`, rows in `row.rs` and the tables
//! precomputed for one `as_of` in `asof.rs`.
//!
//! Leakage rule: every quantity is filtered by `ts < as_of`; the only timeless inputs are the
//! friendship graph (static in the world model) and story metadata (author, kind, topic,
//! creation time; age is clamped at 0 for stories created after `as_of`).
use super::aggregates::AsOfAggregates;
use super::asof::AsOfTables;
use super::exposures::{build_exposures, ExposureRow};
use super::indices::Indices;
use super::scope::FeatureScope;
use super::FeatureConfig;
#[cfg(doc)]
use super::ViewerContext;
use super::{FeatureError, ScopeDefect, WorldDefect};
use crate::graph::EdgeSignals;
#[cfg(doc)]
use crate::world::Action;
use crate::world::World;
use std::sync::{Arc, OnceLock};

/// A provider of matrix-factorisation affinities (the MF stage plugs its factors in here).
/// Missing rows/columns should return 0.
pub trait MfAffinity: Send + Sync {
    /// Affinity of `viewer` for stories by `author` (e.g. a dot product of factors).
    fn author_affinity(&self, viewer: u32, author: u32) -> f32;
    /// Affinity of `viewer` for `topic`.
    fn topic_affinity(&self, viewer: u32, topic: u32) -> f32;
}

/// Precomputed world indices: build once, then ask for viewer contexts and rows.
pub struct FeatureSpace<'w> {
    pub(super) world: &'w World,
    pub(super) cfg: FeatureConfig,
    pub(super) signals: EdgeSignals,
    /// The per-user and per-story lists (see [`Indices`]).
    pub(super) ix: Indices,
    /// Every exposure (training only), built on first use unless the build had it anyway.
    exposures: OnceLock<Vec<ExposureRow>>,
    pub(super) n_kinds: usize,
    pub(super) mf: Option<Arc<dyn MfAffinity>>,
    /// Per-author and per-story aggregates precomputed for one `as_of` (see
    /// [`FeatureSpace::precompute_as_of`]), or for each `as_of` of a space built with
    /// aggregates (sorted by `as_of`); contexts at such an `as_of` read them instead of
    /// binary-searching the time-sorted lists per candidate.
    pub(super) at: Vec<Arc<AsOfTables>>,
    /// The scope of a space built by [`FeatureSpace::scoped`].
    pub(super) scope: Option<FeatureScope>,
    /// A space built with aggregates answers only at the `as_of`s of its tables.
    pub(super) pinned: bool,
    /// Each author's stories by time, for `posts.rs` (built on first use).
    pub(super) posts: OnceLock<super::posts::PostIndex>,
}

impl<'w> FeatureSpace<'w> {
    /// Builds every index, computing the edge signals with the configured parameters.
    ///
    /// # Errors
    /// [`FeatureError::Setting`] for a bad configuration; [`FeatureError::World`] when an
    /// event, story or interaction refers to a user, story or kind that does not exist.
    ///
    /// # Complexity
    /// The edge-signal computation plus O(events log events + exposures log exposures).
    pub fn new(world: &'w World, cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let signals = EdgeSignals::compute(&world.graph, &cfg.signal_params());
        Self::with_signals(world, cfg, signals)
    }

    /// As [`FeatureSpace::new`] with precomputed edge signals (aligned with `world.graph`).
    ///
    /// The full list of exposures ([`FeatureSpace::exposures`], read by training only) is
    /// built on first use, so ranking never pays for it.
    ///
    /// # Errors
    /// As [`FeatureSpace::new`], and [`FeatureError::World`] when the signal arrays do not
    /// match the graph's edge slots.
    ///
    /// # Complexity
    /// O(events + interactions + users + stories) when the events are in the world's
    /// documented (ts, user, story, action) order and exposures are logged (counting sorts
    /// only, independent indices built in parallel); otherwise the exposures come from
    /// [`build_exposures`] (O(events log events)) and each group is sorted.
    pub fn with_signals(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
    ) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let n_kinds = validate(world, &signals)?;
        if signals.egos.is_some() {
            return Err(FeatureError::Scope(ScopeDefect::EgoSignalsNeedScope));
        }
        let (ix, exposures) = Indices::build(world);
        tracing::debug!(
            exposures = ix.user_exp.items.len(),
            engagements = ix.user_eng.items.len(),
            "feature space built"
        );
        Ok(Self::assemble(
            world, cfg, signals, ix, exposures, n_kinds, None,
        ))
    }

    /// As [`FeatureSpace::with_signals`], but holding only the indices needed to build viewer
    /// contexts for in-scope users and rows for in-scope stories: the viewer's own
    /// engagements, exposures, received engagements and interactions; each in-scope user's
    /// exposures and positive engagements as an author (for the author engagement rate, over
    /// ALL of the author's stories); and each in-scope story's engagements and exposures.
    /// The authors of in-scope stories are added to the scope. For an in-scope viewer and an
    /// in-scope story, [`FeatureSpace::viewer`] and [`FeatureSpace::write_row`] give rows
    /// bit-identical to the full space (with or without [`FeatureSpace::precompute_as_of`]).
    ///
    /// Out of scope: [`FeatureSpace::viewer`] refuses viewers and [`FeatureSpace::write_row`]
    /// refuses stories outside the scope ([`FeatureError::OutOfScope`]);
    /// [`FeatureSpace::engagements_of`] and [`FeatureSpace::exposures_of`] are empty for
    /// out-of-scope users (check [`FeatureSpace::scope`]); [`FeatureSpace::exposures`] still
    /// returns the complete list (built from the whole world on first call, as for a full
    /// space, never a partial list).
    ///
    /// # Errors
    /// As [`FeatureSpace::with_signals`], and [`FeatureError::Scope`] when the scope
    /// was sized for another world or was given an out-of-range id.
    ///
    /// # Complexity
    /// One filtered pass over the events and one over the interactions (three bit tests per
    /// event), O(stories) for the author bitset, plus O(k log k) for the k events and
    /// interactions that touch the scope; memory O(k) plus the O(users + stories) offsets.
    pub fn scoped(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
        scope: FeatureScope,
    ) -> Result<Self, FeatureError> {
        Self::scoped_inner(world, cfg, signals, scope, true)
    }

    /// As [`FeatureSpace::scoped`] for a partition world that holds only what its viewers
    /// need (README "Spark"), with the global aggregates given: the author rates and story
    /// exposures come from `aggs` (summed over the whole world's events), so the in-scope
    /// stories' authors get no author-side indices; the tables are precomputed at each
    /// `as_of` of `aggs` (one to rank, the start of every training day to train) and the
    /// space answers at those only (any other is [`FeatureError::AsOfPinned`]). Rows equal
    /// the whole world's when the partition holds the viewers' events, the positive events on
    /// the in-scope stories and on the viewers' stories, and the viewers' interactions.
    ///
    /// # Errors
    /// As [`FeatureSpace::scoped`], and [`FeatureError::MissingAggregate`] when an in-scope
    /// story or its author has no row in `aggs`.
    pub fn scoped_with_aggregates(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
        scope: FeatureScope,
        aggs: &[AsOfAggregates],
    ) -> Result<Self, FeatureError> {
        let mut fs = Self::scoped_inner(world, cfg, signals, scope, false)?;
        fs.precompute_from_aggregates(aggs)?;
        Ok(fs)
    }

    fn scoped_inner(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
        mut scope: FeatureScope,
        with_authors: bool,
    ) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let n_kinds = validate(world, &signals)?;
        scope.check(world)?;
        if let Some(u) =
            (0..world.num_users() as u32).find(|&u| scope.has_user(u) && !signals.has_ego(u))
        {
            return Err(FeatureError::Scope(ScopeDefect::MissingViewerSignals {
                viewer: u,
            }));
        }
        if with_authors {
            for (s, st) in world.stories.iter().enumerate() {
                if scope.has_story(s as u32) {
                    scope.add_author(st.author);
                }
            }
        }
        let ix = Indices::build_scoped(world, &scope);
        tracing::debug!(
            exposures = ix.user_exp.items.len() + ix.author_exp.items.len(),
            engagements = ix.user_eng.items.len(),
            "scoped feature space built"
        );
        Ok(Self::assemble(
            world,
            cfg,
            signals,
            ix,
            None,
            n_kinds,
            Some(scope),
        ))
    }

    fn assemble(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
        ix: Indices,
        exposures: Option<Vec<ExposureRow>>,
        n_kinds: usize,
        scope: Option<FeatureScope>,
    ) -> Self {
        let cell = OnceLock::new();
        if let Some(x) = exposures {
            let _ = cell.set(x);
        }
        Self {
            world,
            cfg: cfg.clone(),
            signals,
            ix,
            exposures: cell,
            n_kinds,
            mf: None,
            at: Vec::new(),
            scope,
            pinned: false,
            posts: OnceLock::new(),
        }
    }

    /// The scope of a space built by [`FeatureSpace::scoped`] (`None` for a full space).
    pub fn scope(&self) -> Option<&FeatureScope> {
        self.scope.as_ref()
    }

    /// Installs a matrix-factorisation provider for `mf_author_affinity`/`mf_topic_affinity`.
    pub fn set_mf(&mut self, mf: Arc<dyn MfAffinity>) {
        self.mf = Some(mf);
    }

    /// The viewer's engagement events (not impressions), sorted by time: `(ts, story, action
    /// index into [`Action::ALL`])`. Callers filter by `ts < as_of`. Empty for a user outside
    /// the scope of a scoped space.
    pub fn engagements_of(&self, viewer: u32) -> &[(i64, u32, u8)] {
        self.ix.user_eng.get(viewer)
    }

    /// The viewer's exposures (first sightings), sorted by time: `(ts, story)`. Callers filter
    /// by `ts < as_of`. Empty for a user outside the scope of a scoped space.
    pub fn exposures_of(&self, viewer: u32) -> &[(i64, u32)] {
        self.ix.user_exp.get(viewer)
    }

    /// Whether an MF provider is installed.
    pub fn has_mf(&self) -> bool {
        self.mf.is_some()
    }

    pub fn world(&self) -> &'w World {
        self.world
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    pub fn signals(&self) -> &EdgeSignals {
        &self.signals
    }

    /// Every exposure (first sighting of a story by a user), sorted by (ts, user, story).
    /// Logged worlds: from the events (an engagement without an impression counts as one).
    /// `FriendsOfAuthor` worlds: additionally every friend of the author at creation time.
    ///
    /// Built from the whole world on first call (also on a scoped space: always the complete
    /// list), then cached.
    ///
    /// # Complexity
    /// O(events) the first time for logged worlds with sorted events (see
    /// [`build_exposures`]), then O(1).
    pub fn exposures(&self) -> &[ExposureRow] {
        self.exposures.get_or_init(|| build_exposures(self.world))
    }
}

fn check_config(cfg: &FeatureConfig) -> Result<(), FeatureError> {
    Ok(cfg.validate()?)
}

/// Checks that the world's ids are in range and the signals match the graph; returns the
/// number of story kinds.
fn validate(world: &World, signals: &EdgeSignals) -> Result<usize, FeatureError> {
    let n_users = world.num_users();
    let n_stories = world.stories.len();
    let g = &world.graph;
    let bad = FeatureError::World;
    if g.num_nodes() < n_users {
        return Err(bad(WorldDefect::GraphTooSmall {
            nodes: g.num_nodes(),
            users: n_users,
        }));
    }
    let slots = g.num_slots();
    if !signals.fits(slots) {
        return Err(bad(WorldDefect::SignalSlots { slots }));
    }
    let n_kinds = world.kinds.len().max(
        world
            .stories
            .iter()
            .map(|s| s.kind as usize + 1)
            .max()
            .unwrap_or(0),
    );
    for (i, s) in world.stories.iter().enumerate() {
        if s.author as usize >= n_users {
            return Err(bad(WorldDefect::StoryAuthor {
                story: i as u32,
                author: s.author,
                users: n_users,
            }));
        }
    }
    if let Some(e) = world
        .events
        .iter()
        .find(|e| e.user as usize >= n_users || e.story as usize >= n_stories)
    {
        return Err(bad(WorldDefect::Event {
            ts: e.ts,
            user: e.user,
            story: e.story,
            users: n_users,
            stories: n_stories,
        }));
    }
    if let Some(it) = world
        .interactions
        .iter()
        .find(|it| it.from as usize >= n_users || it.to as usize >= n_users)
    {
        return Err(bad(WorldDefect::Interaction {
            ts: it.ts,
            from: it.from,
            to: it.to,
            users: n_users,
        }));
    }
    Ok(n_kinds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::exposures::build_exposures_general;
    use crate::features::NUM_FEATURES;

    fn sim_world(seed: u64) -> World {
        crate::sim::simulate(&crate::sim::SimParams::new(300, 4, seed)).expect("simulate")
    }

    #[test]
    fn exposures_are_built_lazily_and_match_build_exposures() {
        let world = sim_world(7);
        let cfg = FeatureConfig::default();
        let fs = FeatureSpace::new(&world, &cfg).expect("space");
        assert!(fs.exposures.get().is_none());
        assert_eq!(fs.exposures(), build_exposures_general(&world).as_slice());
        assert!(fs.exposures.get().is_some());
    }

    #[test]
    fn scoped_space_checks_its_scope_and_refuses_queries_outside_it() {
        let world = sim_world(8);
        let cfg = FeatureConfig::default();
        let sig = EdgeSignals::compute(&world.graph, &cfg.signal_params());
        let mut bad = FeatureScope::new(world.num_users(), world.stories.len());
        bad.add_user(world.num_users() as u32);
        assert!(matches!(
            FeatureSpace::scoped(&world, &cfg, sig.clone(), bad),
            Err(FeatureError::Scope(_))
        ));
        let wrong = FeatureScope::new(world.num_users() + 1, world.stories.len());
        assert!(matches!(
            FeatureSpace::scoped(&world, &cfg, sig.clone(), wrong),
            Err(FeatureError::Scope(_))
        ));
        // One viewer and one story in scope: the story's author keeps its author-side
        // indices but is not a viewer; everything else is refused.
        let mut one = FeatureScope::new(world.num_users(), world.stories.len());
        one.add_story(3);
        let author = world.stories[3].author;
        let viewer = (author + 1) % world.num_users() as u32;
        one.add_user(viewer);
        let fs = FeatureSpace::scoped(&world, &cfg, sig, one).expect("scoped");
        assert!(fs
            .scope()
            .is_some_and(|s| s.has_author(author) && !s.has_user(author)));
        assert!(matches!(
            fs.viewer(author, 0),
            Err(FeatureError::OutOfScope { what: "user", id }) if id == author
        ));
        let mut ctx = fs.viewer(viewer, i64::MAX).expect("viewer in scope");
        let mut row = vec![0f32; NUM_FEATURES];
        assert!(fs.write_row(&mut ctx, 3, &mut row).is_ok());
        assert!(matches!(
            fs.write_row(&mut ctx, 4, &mut row),
            Err(FeatureError::OutOfScope {
                what: "story",
                id: 4
            })
        ));
    }
}
