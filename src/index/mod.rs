//! One scoped world index: everything ranking and the features need for a [`Scope`] of
//! viewers (every user, a shard, a Spark partition, one user in the debug binary), built by
//! one builder ([`WorldIndex::build`]).
//!
//! For a scope of viewers it holds: the rank index slices of the viewers (history) and of
//! their friends (stories, first positive engagements), the recent stories' engagers (the
//! popular fallback); the graph signals of exactly the viewers' edge slots (the only slots
//! the features and the profile read); and the feature indices of the viewers, of the
//! stories that can be their candidates and of those stories' authors. Rows, scores and feeds
//! of in-scope viewers are identical to the full index's (tests compare shards with the full
//! run); asking for anything outside the scope is an error
//! ([`crate::features::FeatureError::OutOfScope`]), never a wrong value.
//!
//! Data flows one way: `world -> graph signals + feature indices + rank index -> WorldIndex`,
//! which the facade ([`crate::pipeline`]) binds to a model.
pub mod partition;

pub use partition::{
    extract, extract_training, read_aggregates, read_partition, sample_viewers,
    whole_world_aggregates, Partition,
};

use crate::features::{AsOfAggregates, FeatureConfig, FeatureSpace};
use crate::graph::EdgeSignals;
use crate::rank::{RankContext, RankIndex, RankParams, Shard, Worker};
use crate::world::World;
use rayon::prelude::*;

/// Errors of the index layer.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A viewer id outside the world.
    #[error("viewer {viewer} is out of range (the world has {users} users)")]
    ViewerOutOfRange { viewer: u32, users: usize },
    /// A user name that the world does not have.
    #[error("unknown user {name:?} (the world has {users} users)")]
    UnknownUser { name: String, users: usize },
    /// A partition world ranked at another `as_of` than its aggregates'.
    #[error("the partition's aggregates are at as_of {partition}, not {asked}: rank a partition at its own as_of")]
    PartitionAsOf { partition: i64, asked: i64 },
    /// Partitions need exposures computable from event slices.
    #[error("partitions need a world whose exposures are logged (world.toml `exposure = \"logged\"`); rank this world whole or by shards")]
    PartitionExposure,
    /// A training input given to rank, or a partition to rank given to train.
    #[error("this partition world is a training input (partition.toml `training = true`): train on it with `feedrank train`; rank the partitions of `feedrank partition` without --training")]
    TrainingInput,
    /// A training input trained with another author rate window than its aggregates'.
    #[error("the training input's aggregates are for an author rate window of {input} s, not {asked} s: write it again with the configuration you train with (`feedrank partition --training --config FILE`)")]
    TrainingWindow { input: i64, asked: i64 },
    /// A partition to rank given to train.
    #[error("this partition world was built to rank its viewers at one as_of; train on the input of `feedrank partition --training`")]
    NotTrainingInput,
}

/// Which viewers an index serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every user of the world (the batch job).
    All,
    /// These viewers only (sorted, deduplicated dense ids): a shard, one user.
    Viewers(Vec<u32>),
    /// The viewers of a partition world, with the whole world's aggregates
    /// ([`partition`]).
    Partition(Box<Partition>),
}

impl Scope {
    /// A scope of the given viewers (any order; duplicates removed).
    pub fn viewers(mut ids: Vec<u32>) -> Scope {
        ids.sort_unstable();
        ids.dedup();
        Scope::Viewers(ids)
    }

    /// The users of `world` in `shard` (by the stable FNV-1a hash of their id).
    pub fn shard(world: &World, shard: Shard) -> Scope {
        Scope::Viewers(
            (0..world.num_users() as u32)
                .filter(|&u| shard.contains(world.users.name(u)))
                .collect(),
        )
    }

    /// Users named in `names` (ids as in the input files).
    ///
    /// # Errors
    /// [`IndexError::UnknownUser`] for a name the world does not have.
    pub fn named<S: AsRef<str>>(world: &World, names: &[S]) -> Result<Scope, IndexError> {
        let ids = names
            .iter()
            .map(|n| {
                world
                    .users
                    .get(n.as_ref())
                    .ok_or_else(|| IndexError::UnknownUser {
                        name: n.as_ref().to_string(),
                        users: world.num_users(),
                    })
            })
            .collect::<Result<Vec<u32>, _>>()?;
        Ok(Scope::viewers(ids))
    }

    /// The viewers in id order.
    pub fn viewer_ids(&self, world: &World) -> Vec<u32> {
        match self {
            Scope::All => (0..world.num_users() as u32).collect(),
            Scope::Viewers(v) => v.clone(),
            Scope::Partition(p) => p.viewers.clone(),
        }
    }
}

/// Wall seconds of each stage of [`WorldIndex::build`] (stages that run in parallel
/// overlap: `rank_index_and_signals` is both).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BuildTimings {
    pub rank_index_and_signals: f64,
    /// Gathering the viewers' candidates (scoped indices only).
    pub candidates: f64,
    pub feature_space: f64,
    pub as_of_tables: f64,
}

/// Everything ranking and the features need for one [`Scope`] at one `as_of`.
pub struct WorldIndex<'w> {
    world: &'w World,
    /// The scope's viewers in id order (every user for [`Scope::All`]).
    viewers: Vec<u32>,
    as_of: i64,
    params: RankParams,
    rank: RankIndex,
    features: FeatureSpace<'w>,
    timings: BuildTimings,
    coverage: Coverage,
}

/// How much of the world a [`WorldIndex`] covers (for summaries and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    pub viewers: usize,
    /// Viewers and their friends (whose stories and engagements the sources read).
    pub near: usize,
    /// Stories whose feature indices are kept (every story for [`Scope::All`]).
    pub stories: usize,
}

impl<'w> WorldIndex<'w> {
    /// Builds the index of `scope` at `as_of`, with the feature settings `cfg` (a model's)
    /// and the ranking parameters `params` (their windows decide the candidates).
    ///
    /// [`Scope::All`] builds every index over the whole world (parallel builders).
    /// [`Scope::Viewers`]: the viewers' graph signals only; the rank index of the viewers
    /// and their friends; each viewer's candidates gathered (sources, filters, fallback) to
    /// decide which stories the feature indices keep; then the scoped feature indices.
    ///
    /// # Errors
    /// [`IndexError::ViewerOutOfRange`]; [`crate::features::FeatureError`] from the feature
    /// space (bad settings, a world whose ids do not fit).
    ///
    /// # Complexity
    /// All: the full signal computation plus O(E + S + U) index building. Viewers V with
    /// friends F: the signals of V's egos, one pass over the events for each of the rank and
    /// feature indices, and the candidate gathering of V (O(sum of their candidates)).
    pub fn build(
        world: &'w World,
        cfg: &FeatureConfig,
        params: &RankParams,
        as_of: i64,
        scope: Scope,
    ) -> Result<WorldIndex<'w>, crate::Error> {
        let mut timings = BuildTimings::default();
        let mut clock = std::time::Instant::now();
        let mut lap = || {
            let s = clock.elapsed().as_secs_f64();
            clock = std::time::Instant::now();
            s
        };
        let (viewers, near_count, rank, mut features) = match scope {
            Scope::All => {
                let (rank, signals) = rayon::join(
                    || RankIndex::new(world),
                    || EdgeSignals::compute(&world.graph, &cfg.signal_params()),
                );
                timings.rank_index_and_signals = lap();
                let fs = FeatureSpace::with_signals(world, cfg, signals)?;
                timings.feature_space = lap();
                let all: Vec<u32> = (0..world.num_users() as u32).collect();
                (all, world.num_users(), rank, fs)
            }
            Scope::Viewers(viewers) => build_scoped(
                world,
                cfg,
                params,
                as_of,
                viewers,
                None,
                &mut lap,
                &mut timings,
            )?,
            Scope::Partition(p) => {
                if p.training {
                    return Err(IndexError::TrainingInput.into());
                }
                let Some(aggregates) = p.aggregates_at(as_of).filter(|_| p.as_of() == as_of) else {
                    return Err(IndexError::PartitionAsOf {
                        partition: p.as_of(),
                        asked: as_of,
                    }
                    .into());
                };
                let aggregates = aggregates.clone();
                build_scoped(
                    world,
                    cfg,
                    params,
                    as_of,
                    p.viewers,
                    Some(&aggregates),
                    &mut lap,
                    &mut timings,
                )?
            }
        };
        features.precompute_as_of(as_of);
        timings.as_of_tables = lap();
        let coverage = Coverage {
            viewers: viewers.len(),
            near: near_count,
            stories: features
                .scope()
                .map_or(world.stories.len(), |sc| sc.num_stories()),
        };
        Ok(WorldIndex {
            world,
            viewers,
            as_of,
            params: params.clone(),
            rank,
            features,
            timings,
            coverage,
        })
    }

    /// How long each stage of the build took.
    pub fn timings(&self) -> BuildTimings {
        self.timings
    }

    pub fn world(&self) -> &'w World {
        self.world
    }

    /// The viewers in id order.
    pub fn viewers(&self) -> &[u32] {
        &self.viewers
    }

    pub fn as_of(&self) -> i64 {
        self.as_of
    }

    pub fn params(&self) -> &RankParams {
        &self.params
    }

    pub fn rank_index(&self) -> &RankIndex {
        &self.rank
    }

    pub fn features(&self) -> &FeatureSpace<'w> {
        &self.features
    }

    /// The per-run ranking context (candidate windows, the popular fallback list).
    pub fn context(&self) -> RankContext<'_> {
        RankContext::new(self.world, &self.rank, &self.params, self.as_of)
    }

    /// How much of the world the index covers.
    pub fn coverage(&self) -> Coverage {
        self.coverage
    }
}

/// The stories that can be candidates of `viewers` at `ctx.as_of` (after the sources, the
/// filters and the fallback), in id order. Parallel over viewers with one scratch
/// [`Worker`] per task; the result does not depend on the thread count.
fn candidate_stories(ctx: &RankContext<'_>, viewers: &[u32]) -> Vec<u32> {
    let ns = ctx.world.stories.len();
    let bits = viewers
        .par_chunks(512)
        .map_init(
            || Worker::new(ctx.world),
            |w, chunk| {
                let mut bits = vec![0u64; ns.div_ceil(64)];
                for &v in chunk {
                    for c in crate::rank::candidates_into(ctx, v, w) {
                        if let Some(b) = bits.get_mut((c.story / 64) as usize) {
                            *b |= 1 << (c.story % 64);
                        }
                    }
                }
                bits
            },
        )
        .reduce(
            || vec![0u64; ns.div_ceil(64)],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x |= y;
                }
                a
            },
        );
    (0..ns as u32)
        .filter(|&s| crate::util::bit(&bits, s))
        .collect()
}

/// The scoped part of [`WorldIndex::build`]: the viewers' signals, the rank index of the
/// viewers and their friends, the candidates, then the scoped feature space (with a
/// partition's aggregates when given, precomputed at `as_of`). Returns the viewers, the
/// number of viewers and friends, the rank index and the feature space.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn build_scoped<'w>(
    world: &'w World,
    cfg: &FeatureConfig,
    params: &RankParams,
    as_of: i64,
    viewers: Vec<u32>,
    aggregates: Option<&AsOfAggregates>,
    lap: &mut impl FnMut() -> f64,
    timings: &mut BuildTimings,
) -> Result<(Vec<u32>, usize, RankIndex, FeatureSpace<'w>), crate::Error> {
    let sp = cfg.signal_params();
    let users = world.num_users();
    if let Some(&viewer) = viewers.iter().find(|&&v| v as usize >= users) {
        return Err(IndexError::ViewerOutOfRange { viewer, users }.into());
    }
    let mut near = viewers.clone();
    for &v in &viewers {
        near.extend_from_slice(world.graph.neighbors(v));
    }
    near.sort_unstable();
    near.dedup();
    let (rank, signals) = rayon::join(
        || {
            RankIndex::scoped(
                world,
                &viewers,
                &near,
                as_of.saturating_sub(params.fallback_window),
            )
        },
        || EdgeSignals::compute_for_egos(&world.graph, &sp, &viewers),
    );
    timings.rank_index_and_signals = lap();
    let ctx = RankContext::new(world, &rank, params, as_of);
    let mut fscope = crate::features::FeatureScope::new(users, world.stories.len());
    for &v in &viewers {
        fscope.add_user(v);
    }
    for s in candidate_stories(&ctx, &viewers) {
        fscope.add_story(s);
    }
    timings.candidates = lap();
    let fs = match aggregates {
        None => FeatureSpace::scoped(world, cfg, signals, fscope)?,
        Some(a) => FeatureSpace::scoped_with_aggregates(
            world,
            cfg,
            signals,
            fscope,
            std::slice::from_ref(a),
        )?,
    };
    timings.feature_space = lap();
    drop(ctx);
    Ok((viewers, near.len(), rank, fs))
}
