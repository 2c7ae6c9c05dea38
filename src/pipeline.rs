//! The library facade that both binaries and the integration tests call, so that the batch
//! job, a shard, the debug binary and the main command cannot disagree: load a world
//! ([`load_world`]), bind a trained model to the index of a scope ([`FeedRanker`]) and ask
//! for feeds or explanations, and decide whether a saved model is current for a world.

use crate::config::Config;
use crate::index::{Scope, WorldIndex};
use crate::io::world_tsv::{read_world_with_progress, LoadReport, ReadOptions};
use crate::model::{ModelScorer, TrainedModel};
use crate::rank::batch::head_mask;
use crate::rank::explain::Profile;
use crate::rank::{
    explain_user, generate_feeds, rank_user, BatchOptions, OutputFormat, RankParams, RankStats,
    UserExplanation, UserFeed, Worker,
};
use crate::util::progress::Progress;
use crate::world::World;
use crate::Error;
use std::path::Path;

/// How [`load_world`] loads a world directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// Skip bad rows (counted in the report) instead of failing. Lenient loads never use or
    /// write a snapshot.
    pub lenient: bool,
    /// Leave `truth.tsv` unread (`world.truth` empty): only the oracle evaluation needs it.
    pub skip_truth: bool,
    /// Use the directory's snapshot when it is fresh, and write one after parsing
    /// ([`crate::io::snapshot`]).
    pub snapshot: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            lenient: false,
            skip_truth: false,
            snapshot: true,
        }
    }
}

/// Where a loaded world came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadedFrom {
    /// The directory's fresh snapshot.
    Snapshot,
    /// The TSV files; `snapshot` says what happened to the snapshot (not used, why not, and
    /// whether a new one was written).
    Tsv { snapshot: String },
}

impl std::fmt::Display for LoadedFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadedFrom::Snapshot => write!(f, "read from the snapshot"),
            LoadedFrom::Tsv { snapshot } => write!(f, "parsed from TSV ({snapshot})"),
        }
    }
}

/// Loads a world directory: from its snapshot when allowed and fresh, else by parsing the
/// TSV files (then writing a snapshot when allowed). The world and report are identical
/// either way (a test checks).
///
/// # Errors
/// Any [`crate::io::IoError`] from the reader, naming the file and line. Snapshot problems
/// are never errors: an unusable snapshot is ignored and an unwritable one skipped (logged).
pub fn load_world(
    dir: &Path,
    opts: &LoadOptions,
) -> Result<(World, LoadReport, LoadedFrom), Error> {
    load_world_with_progress(dir, opts, &crate::util::progress::Silent)
}

/// As [`load_world`], reporting the TSV parse and the snapshot build to `progress`
/// ([`crate::io::world_tsv::read_world_with_progress`],
/// [`crate::io::snapshot::write_snapshot_with_progress`]); nothing when the snapshot is used.
///
/// # Errors
/// As [`load_world`].
pub fn load_world_with_progress(
    dir: &Path,
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<(World, LoadReport, LoadedFrom), Error> {
    use crate::io::snapshot;
    // A partition world is read once (README "Spark"): no snapshot.
    let partition = dir
        .join(crate::io::world_tsv::partition::PARTITION_FILE)
        .exists();
    let use_snapshot = opts.snapshot && !opts.lenient && !partition;
    let mut why = "snapshots off".to_string();
    if use_snapshot {
        match snapshot::read_snapshot(dir, !opts.skip_truth) {
            Ok((world, report)) => return Ok((world, report, LoadedFrom::Snapshot)),
            Err(miss) => {
                tracing::info!(dir = %dir.display(), %miss, "parsing the world");
                why = miss.to_string();
            }
        }
    }
    let (world, report) = read_world_with_progress(
        dir,
        &ReadOptions {
            lenient: opts.lenient,
            skip_truth: opts.skip_truth,
        },
        progress,
    )?;
    if use_snapshot {
        why = match snapshot::write_snapshot_with_progress(
            dir,
            &world,
            &report,
            !opts.skip_truth,
            progress,
        ) {
            Ok(true) => format!("{why}; wrote {}", snapshot::snapshot_path(dir).display()),
            Ok(false) => format!("{why}; a source changed just now, no snapshot written"),
            Err(e) => {
                tracing::info!(error = %e, "cannot write the world snapshot");
                format!("{why}; cannot write a snapshot: {e}")
            }
        };
    }
    Ok((world, report, LoadedFrom::Tsv { snapshot: why }))
}

/// A trained model bound to the [`WorldIndex`] of a [`Scope`] at one `as_of`: what the
/// binaries and the integration tests rank through. Say what you want (world, model, scope,
/// as_of, ranking parameters) and ask for feeds, one user's feed, or one user's explanation.
///
/// Every viewer of the scope gets exactly the feed the whole-world run gives it (tests
/// compare shards and single users with the full run); a user outside the scope is an
/// error.
pub struct FeedRanker<'w> {
    index: WorldIndex<'w>,
    model: &'w TrainedModel,
}

/// One user's feed with everything behind it (the debug binary's input).
pub struct FeedInspection {
    pub explanation: UserExplanation,
    pub profile: Profile,
    /// Which heads the model has (for the output columns).
    pub heads: [bool; 5],
}

impl<'w> FeedRanker<'w> {
    /// Builds the index of `scope` at `as_of` with the model's feature settings and binds
    /// the model to it.
    ///
    /// # Errors
    /// [`crate::index::IndexError`] for a viewer outside the world,
    /// [`crate::features::FeatureError`] when the feature space cannot be built, and
    /// [`crate::model::ModelError`] when the model does not fit it.
    pub fn new(
        world: &'w World,
        model: &'w TrainedModel,
        scope: Scope,
        as_of: i64,
        params: &RankParams,
    ) -> Result<FeedRanker<'w>, Error> {
        let index = WorldIndex::build(world, &model.feature_config, params, as_of, scope)?;
        ModelScorer::new(index.features(), model)?;
        Ok(FeedRanker { index, model })
    }

    /// The index (scope, viewers, coverage, as_of).
    pub fn index(&self) -> &WorldIndex<'w> {
        &self.index
    }

    /// The model bound to this index's feature space (for callers that score candidates
    /// themselves: tests, benchmarks).
    ///
    /// # Errors
    /// [`crate::model::ModelError`] when the model does not fit the feature space.
    pub fn scorer(&self) -> Result<ModelScorer<'_>, Error> {
        Ok(ModelScorer::new(self.index.features(), self.model)?)
    }

    /// Which heads the model has, in engagement order.
    pub fn heads(&self) -> [bool; 5] {
        head_mask(&self.model.actions())
    }

    /// Ranks every viewer of the scope, in id order, into `out` (JSON Lines or TSV).
    /// `progress` is called with the number of users just finished.
    ///
    /// # Errors
    /// [`crate::rank::RankError`] from ranking (a feature that cannot be computed, a
    /// non-finite score) or from writing `out`.
    pub fn write_feeds<W: std::io::Write>(
        &self,
        format: OutputFormat,
        out: &mut W,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<RankStats, Error> {
        let ctx = self.index.context();
        let scorer = self.scorer()?;
        let opts = BatchOptions {
            format,
            ..BatchOptions::default()
        };
        Ok(generate_feeds(
            &ctx,
            &scorer,
            self.index.viewers(),
            &opts,
            out,
            progress,
        )?)
    }

    /// The model against the baselines (and the oracle) on the lists of `params`
    /// ([`crate::eval::evaluate`]), scored through this index: the scope must hold every
    /// viewer of the lists ([`Scope::All`]), else the first outside one is an error.
    ///
    /// Reports each method's lists to `progress`.
    ///
    /// # Errors
    /// [`crate::eval::EvalError`] from the evaluation.
    pub fn evaluate(
        &self,
        params: &crate::eval::EvalParams,
        progress: &dyn Progress,
    ) -> Result<crate::eval::EvalResult, Error> {
        let scorer = self.scorer()?;
        Ok(crate::eval::evaluate_with_progress(
            self.index.world(),
            Some(&scorer),
            params,
            progress,
        )?)
    }

    /// One viewer's feed.
    ///
    /// # Errors
    /// [`crate::rank::RankError`] as [`FeedRanker::write_feeds`], and
    /// [`crate::model::ModelError::Score`] for a user outside the scope.
    pub fn feed(&self, user: u32) -> Result<UserFeed, Error> {
        let ctx = self.index.context();
        let scorer = self.scorer()?;
        let mut w = Worker::new(self.index.world());
        Ok(rank_user(&ctx, &scorer, &mut w, user)?)
    }

    /// One viewer's feed, every candidate's explanation, the filtered candidates and the
    /// profile of the viewer's ties.
    ///
    /// # Errors
    /// As [`FeedRanker::feed`].
    pub fn inspect(&self, user: u32) -> Result<FeedInspection, Error> {
        let ctx = self.index.context();
        let scorer = self.scorer()?;
        let mut w = Worker::new(self.index.world());
        let explanation = explain_user(&ctx, &scorer, &mut w, user)?;
        let profile = crate::rank::explain::profile(&ctx, user, self.index.features().signals());
        Ok(FeedInspection {
            explanation,
            profile,
            heads: self.heads(),
        })
    }
}

/// A 64-bit FNV-1a fingerprint of a world's content (ids, graph, stories, events,
/// interactions), so a saved model can tell whether it was trained on this exact world.
///
/// # Complexity
/// O(size of the world), one pass, no allocation.
pub fn world_fingerprint(world: &World) -> u64 {
    let mut h = crate::util::hash::Fnv1a::new();
    h.str(&world.meta.name);
    for name in world.users.names() {
        h.str(name);
    }
    let (offsets, targets) = world.graph.raw();
    h.u64(offsets.len() as u64);
    for &t in targets {
        h.u64(u64::from(t));
    }
    for (i, s) in world.stories.iter().enumerate() {
        h.str(world.story_ids.name(i as u32));
        h.u64(u64::from(s.author));
        h.u64(s.created_at as u64);
        h.str(world.kinds.name(s.kind));
        h.u64(s.topic.map_or(u64::MAX, u64::from));
    }
    for e in &world.events {
        h.u64(e.ts as u64);
        h.u64(u64::from(e.user) << 32 | u64::from(e.story));
        h.u64(e.action as u64);
    }
    for x in &world.interactions {
        h.u64(x.ts as u64);
        h.u64(u64::from(x.from) << 32 | u64::from(x.to));
        h.u64(u64::from(x.kind));
    }
    h.finish()
}

/// Trains the engagement model on `world` before `as_of` with `cfg`, reporting its steps to
/// `progress` ([`crate::model::train_with_progress`]).
///
/// # Errors
/// [`crate::model::ModelError`] from training (and from building its feature space).
pub fn train_for(
    world: &World,
    as_of: i64,
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<TrainedModel, Error> {
    let fs = crate::features::FeatureSpace::new(world, &cfg.features)
        .map_err(crate::model::ModelError::from)?;
    Ok(crate::model::train_with_progress(
        &fs, as_of, cfg, progress,
    )?)
}

/// Trains the engagement model on a training input (the world directory of `feedrank
/// partition --training`, loaded as `world`, with its partition tables `partition`) before
/// its cut-off: the rows are the ones the whole world gives for the sample's viewers, and
/// MF is fitted on the sample's events.
///
/// # Errors
/// [`crate::index::IndexError::NotTrainingInput`] for a partition to rank; as
/// [`train_for`].
pub fn train_sample(
    world: &World,
    partition: &crate::index::Partition,
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<TrainedModel, Error> {
    let fs = partition.training_space(world, &cfg.features)?;
    Ok(crate::model::train_with_progress(
        &fs,
        partition.as_of(),
        cfg,
        progress,
    )?)
}

/// Why a saved model is not current for `world` (trained before `as_of` with `cfg`), or
/// `None` when it is. The world is recognised as `generate` and `eval` recognise it
/// ([`crate::model::check_world`]): by the world identity the model recorded (its name and,
/// for models that keep one, the sketch of its users), so a model of another world that
/// bears the same name is stale.
pub fn model_staleness(
    model: &TrainedModel,
    world: &World,
    as_of: i64,
    cfg: &Config,
) -> Option<String> {
    if let Err(mismatch) = crate::model::check_world(model, world) {
        return Some(mismatch.to_string());
    }
    if model.meta.as_of != as_of {
        return Some(format!(
            "trained before {}, expected {as_of}",
            model.meta.as_of
        ));
    }
    if model.feature_config != cfg.features {
        return Some("feature settings differ from the configuration".into());
    }
    if model.weights != cfg.value {
        return Some("value weights differ from the configuration".into());
    }
    None
}
