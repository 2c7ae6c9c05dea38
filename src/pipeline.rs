//! The library facade that both binaries and the integration tests call, so that the batch
//! job, the debug binary, the evaluation and the main command cannot disagree: load a world,
//! bind a trained model to it, and decide whether a saved model is current for a world.

use crate::config::Config;
use crate::features::FeatureSpace;
use crate::io::world_tsv::{read_world, LoadReport, ReadOptions};
use crate::model::{ModelScorer, TrainedModel};
use crate::world::World;
use crate::Error;
use std::path::Path;

/// Reads a world directory (strict unless `lenient`), returning the world and its load report.
///
/// # Errors
/// Any [`crate::io::IoError`] from the reader, naming the file and line.
pub fn load_world(dir: &Path, lenient: bool) -> Result<(World, LoadReport), Error> {
    Ok(read_world(
        dir,
        &ReadOptions {
            lenient,
            ..Default::default()
        },
    )?)
}

/// How [`load_world_with`] loads a world directory.
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
pub fn load_world_with(
    dir: &Path,
    opts: &LoadOptions,
) -> Result<(World, LoadReport, LoadedFrom), Error> {
    use crate::io::snapshot;
    let use_snapshot = opts.snapshot && !opts.lenient;
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
    let (world, report) = read_world(
        dir,
        &ReadOptions {
            lenient: opts.lenient,
            skip_truth: opts.skip_truth,
        },
    )?;
    if use_snapshot {
        why = match snapshot::write_snapshot(dir, &world, &report, !opts.skip_truth) {
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

/// Builds the feature space for `world` with the model's feature settings (with the
/// candidate-independent aggregates precomputed at `as_of` when given: the batch job ranks
/// every user at one time), binds the model to it and runs `f` with the resulting scorer.
///
/// # Errors
/// [`crate::features::FeatureError`] when the feature space cannot be built, and
/// [`crate::model::ModelError`] when the model does not fit it.
pub fn with_model_scorer<R>(
    world: &World,
    model: &TrainedModel,
    as_of: Option<i64>,
    f: impl FnOnce(&ModelScorer<'_>) -> R,
) -> Result<R, Error> {
    let mut fs = FeatureSpace::new(world, &model.feature_config)?;
    if let Some(t) = as_of {
        fs.precompute_as_of(t);
    }
    let scorer = ModelScorer::new(&fs, model)?;
    Ok(f(&scorer))
}

/// As [`with_model_scorer`], for inspecting a few `viewers` and the candidate `stories` they
/// will be scored on (the debug binary; e.g. from [`crate::rank::candidates_of`]): the edge
/// signals are computed for the viewers' ego networks alone and the feature space is scoped
/// to these viewers, stories and their authors ([`FeatureSpace::scoped`]), so the cost is
/// that of the viewers, not of the world. Scores, rows and explanations for them are identical
/// to the batch path's (a test compares the debug output with the batch line); asking for a
/// viewer or story outside the scope is an error, never a wrong row. `f` also receives the
/// signals (for the profile).
///
/// # Errors
/// As [`with_model_scorer`].
pub fn with_viewer_scorer<R>(
    world: &World,
    model: &TrainedModel,
    viewers: &[u32],
    stories: &[u32],
    f: impl FnOnce(&ModelScorer<'_>, &crate::graph::EdgeSignals) -> R,
) -> Result<R, Error> {
    let signals = crate::graph::EdgeSignals::compute_for_egos(
        &world.graph,
        &model.feature_config.signal_params(),
        viewers,
    );
    let mut scope = crate::features::Scope::new(world.num_users(), world.stories.len());
    for &v in viewers {
        scope.add_user(v);
    }
    for &s in stories {
        scope.add_story(s);
    }
    // Every viewer is in the scope by construction; an out-of-range one fails here
    // (`ScopeMismatch`), so the scorer never meets a viewer it cannot build a context for.
    let fs = FeatureSpace::scoped(world, &model.feature_config, signals, scope)?;
    let scorer = ModelScorer::new(&fs, model)?;
    Ok(f(&scorer, fs.signals()))
}

/// A 64-bit FNV-1a fingerprint of a world's content (ids, graph, stories, events,
/// interactions), so a saved model can tell whether it was trained on this exact world.
///
/// # Complexity
/// O(size of the world), one pass, no allocation.
pub fn world_fingerprint(world: &World) -> u64 {
    let mut h = Fnv::default();
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
    h.0
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }
}

/// Trains the engagement model on `world` before `as_of` with `cfg`.
///
/// # Errors
/// [`crate::model::ModelError`] from training.
pub fn train_for(world: &World, as_of: i64, cfg: &Config) -> Result<TrainedModel, Error> {
    Ok(crate::model::train(world, as_of, cfg)?)
}

/// Why a saved model is not current for `world` (trained before `as_of` with `cfg`), or
/// `None` when it is.
pub fn model_staleness(
    model: &TrainedModel,
    world: &World,
    as_of: i64,
    cfg: &Config,
) -> Option<String> {
    if model.meta.world != world.meta.name {
        return Some(format!(
            "trained on world {:?}, not {:?}",
            model.meta.world, world.meta.name
        ));
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
