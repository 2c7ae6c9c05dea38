//! Partitions: a world directory holding only what one partition's viewers need, plus the
//! global aggregates computed once over the whole world (README "Spark"). The Spark job
//! builds them with DataFrame joins; [`extract`] is the same definition in Rust (the
//! reference the job is tested against, and `feedrank partition` for one machine).
//!
//! For viewers V at `as_of` T, with F the friends of V:
//! - the candidate-superset stories S: stories by F created at or after T minus the
//!   in-network window, stories with a positive event by F in the out-of-network window
//!   before T, and stories created at or after T minus the fallback window;
//! - the nodes C whose neighbour lists are read: V, F and the authors of S;
//! - the partition keeps every user and every story (ids and order unchanged), the
//!   friendships touching C, the events by V, the positive events on stories by V or in S,
//!   and the interactions touching V; and the aggregates of the stories in S and of their
//!   authors.
//!
//! Every feature and ranking read of a viewer in V then finds complete data (tests compare
//! the partitions' feeds with the whole world's).
use super::{IndexError, Scope};
use crate::features::{AsOfAggregates, FeatureSpace};
use crate::graph::EdgeSignals;
use crate::io::world_tsv::partition::{AggregateRows, PartitionFiles, PartitionMeta};
use crate::rank::RankParams;
use crate::util::bit;
use crate::world::{Exposure, World};

/// One partition of the viewers, with the aggregates its features read: at its `as_of`
/// (to rank), or at the start of every training day before it (the training input of a
/// sample of viewers, [`extract_training`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub index: u64,
    pub count: u64,
    /// The time the partition is ranked at, or the training cut-off.
    pub as_of: i64,
    /// The viewers, sorted and deduplicated.
    pub viewers: Vec<u32>,
    /// The aggregates, in increasing `as_of` order.
    pub aggregates: Vec<AsOfAggregates>,
    /// A training input ([`extract_training`]), not a partition to rank.
    pub training: bool,
    /// A training input's author rate window (seconds), which its aggregates are for.
    pub author_rate_window_s: Option<i64>,
}

impl Partition {
    /// The partition of a world directory's partition tables (ids of `world`).
    pub fn from_files(world: &World, files: PartitionFiles) -> Partition {
        let aggregates = files
            .aggregates
            .iter()
            .map(|r| aggregates_of(world, r))
            .collect();
        let mut viewers = files.viewers;
        viewers.sort_unstable();
        viewers.dedup();
        Partition {
            index: u64::from(files.meta.partition),
            count: u64::from(files.meta.partitions),
            as_of: files.meta.as_of,
            viewers,
            aggregates,
            training: files.meta.training,
            author_rate_window_s: files.meta.author_rate_window_s,
        }
    }

    /// The feature space of a training input ([`extract_training`]) loaded as `world`:
    /// scoped to its viewers and to the stories its aggregates hold, with the aggregates at
    /// the start of every training day; `feedrank train` builds from it the rows the whole
    /// world gives for these viewers.
    ///
    /// # Errors
    /// [`IndexError::NotTrainingInput`] for a partition to rank; as
    /// [`FeatureSpace::scoped_with_aggregates`].
    pub fn training_space<'w>(
        &self,
        world: &'w World,
        cfg: &crate::features::FeatureConfig,
    ) -> crate::Result<FeatureSpace<'w>> {
        if !self.training {
            return Err(IndexError::NotTrainingInput.into());
        }
        let window = rate_window_s(cfg);
        if let Some(input) = self.author_rate_window_s.filter(|&w| w != window) {
            return Err(IndexError::TrainingWindow {
                input,
                asked: window,
            }
            .into());
        }
        let mut scope = crate::features::FeatureScope::new(world.num_users(), world.stories.len());
        for &v in &self.viewers {
            scope.add_user(v);
        }
        for a in &self.aggregates {
            for (s, n) in a.story_exposures.iter().enumerate() {
                if n.is_some() {
                    scope.add_story(s as u32);
                }
            }
        }
        let signals =
            EdgeSignals::compute_for_egos(&world.graph, &cfg.signal_params(), &self.viewers);
        Ok(FeatureSpace::scoped_with_aggregates(
            world,
            cfg,
            signals,
            scope,
            &self.aggregates,
        )?)
    }

    pub fn as_of(&self) -> i64 {
        self.as_of
    }

    /// The aggregates at `as_of`, if the partition has them.
    pub fn aggregates_at(&self, as_of: i64) -> Option<&AsOfAggregates> {
        self.aggregates.iter().find(|a| a.as_of == as_of)
    }

    /// The partition's scope.
    pub fn scope(self) -> Scope {
        Scope::Partition(Box::new(self))
    }
}

/// Aggregates over `world`'s ids from the rows of the two aggregate tables at one `as_of`.
fn aggregates_of(world: &World, rows: &AggregateRows) -> AsOfAggregates {
    let mut aggregates = AsOfAggregates::new(rows.as_of, world.num_users(), world.stories.len());
    for &(s, n) in &rows.stories {
        if let Some(x) = aggregates.story_exposures.get_mut(s as usize) {
            *x = Some(n);
        }
    }
    for &(a, e, p) in &rows.authors {
        if let Some(x) = aggregates.author_counts.get_mut(a as usize) {
            *x = Some((e, p));
        }
    }
    aggregates
}

/// The whole world's aggregates at `as_of` (every story and author), computed from its
/// events.
pub fn whole_world_aggregates(
    world: &World,
    cfg: &crate::features::FeatureConfig,
    as_of: i64,
) -> AsOfAggregates {
    let partials = crate::features::story_partials(&world.events, world.stories.len(), as_of, cfg);
    let authors: Vec<u32> = world.stories.iter().map(|s| s.author).collect();
    AsOfAggregates::from_partials(as_of, world.num_users(), &authors, &partials)
}

/// Reads a directory of whole-world aggregates written by `feedrank aggregates --world`
/// (ids of `world`), so that shards of a whole world skip recomputing them.
///
/// # Errors
/// As [`crate::io::world_tsv::partition::read_aggregates_dir`], and
/// [`IndexError::PartitionExposure`] for a world whose exposures are not logged.
pub fn read_aggregates(dir: &std::path::Path, world: &World) -> crate::Result<AsOfAggregates> {
    if world.meta.exposure != Exposure::Logged {
        return Err(IndexError::PartitionExposure.into());
    }
    let rows = crate::io::world_tsv::partition::read_aggregates_dir(dir, world)?;
    Ok(aggregates_of(world, &rows))
}

/// Reads the partition tables of the world directory `dir` (loaded as `world`), or `None`
/// for a whole world.
///
/// # Errors
/// As [`crate::io::world_tsv::partition::read_partition_files`], and
/// [`IndexError::PartitionExposure`] for a world whose exposures are not logged (its
/// aggregates cannot be computed from event slices).
pub fn read_partition(dir: &std::path::Path, world: &World) -> crate::Result<Option<Partition>> {
    let Some(files) = crate::io::world_tsv::partition::read_partition_files(dir, world)? else {
        return Ok(None);
    };
    if world.meta.exposure != Exposure::Logged {
        return Err(IndexError::PartitionExposure.into());
    }
    Ok(Some(Partition::from_files(world, files)))
}

/// Bitsets of the stories and nodes a partition keeps (see the module docs).
struct Plan {
    viewers: Vec<u64>,
    stories: Vec<u64>,
    nodes: Vec<u64>,
}

fn set(bits: &mut [u64], i: u32) {
    if let Some(w) = bits.get_mut((i / 64) as usize) {
        *w |= 1 << (i % 64);
    }
}

impl Plan {
    fn new(world: &World, viewers: &[u32], as_of: i64, params: &RankParams) -> Plan {
        let (nu, ns) = (world.num_users(), world.stories.len());
        let g = &world.graph;
        let mut pv = vec![0u64; nu.div_ceil(64)];
        let mut friends = vec![0u64; nu.div_ceil(64)];
        for &v in viewers {
            set(&mut pv, v);
            for &f in g.neighbors(v) {
                set(&mut friends, f);
            }
        }
        let in_from = as_of.saturating_sub(params.in_network_window);
        let fb_from = as_of.saturating_sub(params.fallback_window);
        let oon_from = as_of.saturating_sub(params.oon_window);
        let mut stories = vec![0u64; ns.div_ceil(64)];
        for (s, st) in world.stories.iter().enumerate() {
            if (bit(&friends, st.author) && st.created_at >= in_from) || st.created_at >= fb_from {
                set(&mut stories, s as u32);
            }
        }
        for e in &world.events {
            if e.action.is_positive() && e.ts >= oon_from && e.ts < as_of && bit(&friends, e.user) {
                set(&mut stories, e.story);
            }
        }
        let mut nodes = pv.clone();
        for (n, f) in nodes.iter_mut().zip(&friends) {
            *n |= f;
        }
        for (s, st) in world.stories.iter().enumerate() {
            if bit(&stories, s as u32) {
                set(&mut nodes, st.author);
            }
        }
        Plan {
            viewers: pv,
            stories,
            nodes,
        }
    }
}

/// The partition world of `viewers` (as the Spark job builds it) and its tables, with the
/// whole world's aggregates `whole` at `as_of` (from
/// [`AsOfAggregates::from_partials`]).
///
/// # Errors
/// [`IndexError::ViewerOutOfRange`]; [`IndexError::PartitionExposure`] for a world whose
/// exposures are not logged; [`IndexError::PartitionAsOf`] when `whole` is at another
/// `as_of`; [`crate::features::FeatureError::MissingAggregate`] when `whole` lacks a
/// candidate story or its author.
pub fn extract(
    world: &World,
    viewers: &[u32],
    meta: PartitionMeta,
    params: &RankParams,
    whole: &AsOfAggregates,
) -> crate::Result<(World, PartitionFiles)> {
    check_viewers(world, viewers)?;
    if whole.as_of != meta.as_of {
        return Err(IndexError::PartitionAsOf {
            partition: whole.as_of,
            asked: meta.as_of,
        }
        .into());
    }
    let plan = Plan::new(world, viewers, meta.as_of, params);
    let sub = plan.world(world, None);
    let aggregates = vec![plan.aggregate_rows(world, whole)?];
    Ok((sub, files(meta, viewers, aggregates)))
}

/// The training input of the sample `viewers` with cut-off `meta.as_of` (README "Spark",
/// training beyond one machine): a partition world from which `feedrank train` builds
/// exactly the rows the whole world gives for these viewers' exposures before the cut-off.
///
/// For the stories S the viewers were exposed to before the cut-off, with F the viewers'
/// friends: the nodes whose neighbour lists are read are V, F and the authors of S; the
/// world keeps every user and story, the friendships touching them, the events before the
/// cut-off by V and the positive ones on S or on V's stories, and the interactions before
/// the cut-off touching V; and the whole world's aggregates of S and of its authors at the
/// start of every day the viewers had a first exposure on (the days the rows' features are
/// computed at), from `cfg`'s author rate window. `meta.training` is set.
///
/// # Errors
/// [`IndexError::ViewerOutOfRange`]; [`IndexError::PartitionExposure`] for a world whose
/// exposures are not logged.
pub fn extract_training(
    world: &World,
    viewers: &[u32],
    mut meta: PartitionMeta,
    cfg: &crate::features::FeatureConfig,
) -> crate::Result<(World, PartitionFiles)> {
    check_viewers(world, viewers)?;
    meta.training = true;
    meta.author_rate_window_s = Some(rate_window_s(cfg));
    let (plan, days) = Plan::training(world, viewers, meta.as_of);
    let sub = plan.world(world, Some(meta.as_of));
    let authors: Vec<u32> = world.stories.iter().map(|s| s.author).collect();
    let aggregates = days
        .iter()
        .map(|&day| {
            let partials =
                crate::features::story_partials(&world.events, world.stories.len(), day, cfg);
            let whole = AsOfAggregates::from_partials(day, world.num_users(), &authors, &partials);
            plan.aggregate_rows(world, &whole)
        })
        .collect::<crate::Result<Vec<_>>>()?;
    Ok((sub, files(meta, viewers, aggregates)))
}

/// The viewers of the sample of fraction `fraction` in (0, 1]: the users whose FNV-1a hash
/// of their id, modulo 1,000,000, is below `fraction` x 1,000,000 (rounded), in id order.
/// The hash is the one of `--shard`, so the Spark job draws the same sample.
pub fn sample_viewers(world: &World, fraction: f64) -> Vec<u32> {
    let below = sample_threshold(fraction);
    (0..world.num_users() as u32)
        .filter(|&u| {
            crate::util::hash::fnv1a(world.users.name(u).as_bytes()) % SAMPLE_MODULUS < below
        })
        .collect()
}

/// The modulus of [`sample_viewers`]' hash.
pub const SAMPLE_MODULUS: u64 = 1_000_000;

/// The hash bound of a sample of fraction `fraction` (clamped to [0, 1]).
pub fn sample_threshold(fraction: f64) -> u64 {
    (fraction.clamp(0.0, 1.0) * SAMPLE_MODULUS as f64).round() as u64
}

/// The author rate window of `cfg`, in seconds.
fn rate_window_s(cfg: &crate::features::FeatureConfig) -> i64 {
    (cfg.author_rate_window_days * crate::util::time::DAY as f64) as i64
}

fn check_viewers(world: &World, viewers: &[u32]) -> crate::Result<()> {
    let users = world.num_users();
    if let Some(&viewer) = viewers.iter().find(|&&v| v as usize >= users) {
        return Err(IndexError::ViewerOutOfRange { viewer, users }.into());
    }
    if world.meta.exposure != Exposure::Logged {
        return Err(IndexError::PartitionExposure.into());
    }
    Ok(())
}

fn files(meta: PartitionMeta, viewers: &[u32], aggregates: Vec<AggregateRows>) -> PartitionFiles {
    let mut viewers = viewers.to_vec();
    viewers.sort_unstable();
    viewers.dedup();
    PartitionFiles {
        meta,
        viewers,
        aggregates,
    }
}

impl Plan {
    /// The plan of a training input (see [`extract_training`]) and the days (UTC day
    /// starts, increasing) of the viewers' first exposures before `as_of`.
    fn training(world: &World, viewers: &[u32], as_of: i64) -> (Plan, Vec<i64>) {
        let (nu, ns) = (world.num_users(), world.stories.len());
        let g = &world.graph;
        let mut pv = vec![0u64; nu.div_ceil(64)];
        let mut nodes = vec![0u64; nu.div_ceil(64)];
        for &v in viewers {
            set(&mut pv, v);
            set(&mut nodes, v);
            for &f in g.neighbors(v) {
                set(&mut nodes, f);
            }
        }
        // first sightings: the first event of each (viewer, story) pair
        let mut pairs: Vec<(u32, u32, i64)> = world
            .events
            .iter()
            .filter(|e| e.ts < as_of && bit(&pv, e.user))
            .map(|e| (e.user, e.story, e.ts))
            .collect();
        pairs.sort_unstable();
        pairs.dedup_by_key(|p| (p.0, p.1));
        let mut stories = vec![0u64; ns.div_ceil(64)];
        let mut days = std::collections::BTreeSet::new();
        for &(_, s, ts) in &pairs {
            set(&mut stories, s);
            days.insert(crate::util::time::day_start(ts));
        }
        for (s, st) in world.stories.iter().enumerate() {
            if bit(&stories, s as u32) {
                set(&mut nodes, st.author);
            }
        }
        let plan = Plan {
            viewers: pv,
            stories,
            nodes,
        };
        (plan, days.into_iter().collect())
    }

    /// The partition world: every user and story, the friendships touching the plan's
    /// nodes, the events by its viewers and the positive events on its stories or on the
    /// viewers' stories, and the interactions touching its viewers; with `before`, only
    /// the events and interactions before it.
    fn world(&self, world: &World, before: Option<i64>) -> World {
        let g = &world.graph;
        let mut edges = Vec::new();
        for u in 0..g.num_nodes() as u32 {
            for &v in g.neighbors(u) {
                if u < v && (bit(&self.nodes, u) || bit(&self.nodes, v)) {
                    edges.push((u, v));
                }
            }
        }
        let (graph, _) = crate::graph::Graph::from_edges(g.num_nodes(), &edges);
        let by_viewer = |s: u32| {
            world
                .stories
                .get(s as usize)
                .is_some_and(|st| bit(&self.viewers, st.author))
        };
        let in_time = |ts: i64| before.is_none_or(|b| ts < b);
        let events = world
            .events
            .iter()
            .filter(|e| {
                in_time(e.ts)
                    && (bit(&self.viewers, e.user)
                        || (e.action.is_positive()
                            && (bit(&self.stories, e.story) || by_viewer(e.story))))
            })
            .copied()
            .collect();
        let interactions = world
            .interactions
            .iter()
            .filter(|it| {
                in_time(it.ts) && (bit(&self.viewers, it.from) || bit(&self.viewers, it.to))
            })
            .copied()
            .collect();
        World {
            meta: world.meta.clone(),
            users: world.users.clone(),
            graph,
            stories: world.stories.clone(),
            story_ids: world.story_ids.clone(),
            kinds: world.kinds.clone(),
            topics: world.topics.clone(),
            events,
            interactions,
            interaction_kinds: world.interaction_kinds.clone(),
            truth: Vec::new(),
        }
    }

    /// The rows of `whole` for the plan's stories and their authors.
    ///
    /// # Errors
    /// [`crate::features::FeatureError::MissingAggregate`] when `whole` lacks one.
    fn aggregate_rows(
        &self,
        world: &World,
        whole: &AsOfAggregates,
    ) -> crate::Result<AggregateRows> {
        let users = world.num_users();
        let missing = |what, id| crate::features::FeatureError::MissingAggregate { what, id };
        let mut story_exposures = Vec::new();
        let mut authors = vec![0u64; users.div_ceil(64)];
        for (s, st) in world.stories.iter().enumerate() {
            if bit(&self.stories, s as u32) {
                let n = whole.story_exposures.get(s).copied().flatten();
                story_exposures.push((s as u32, n.ok_or(missing("story", s as u32))?));
                set(&mut authors, st.author);
            }
        }
        let author_counts = (0..users as u32)
            .filter(|&a| bit(&authors, a))
            .map(|a| {
                let c = whole.author_counts.get(a as usize).copied().flatten();
                c.map(|(e, p)| (a, e, p)).ok_or(missing("author", a))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AggregateRows {
            as_of: whole.as_of,
            stories: story_exposures,
            authors: author_counts,
        })
    }
}
