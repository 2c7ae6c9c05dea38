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
use crate::features::AsOfAggregates;
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
        }
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
    let users = world.num_users();
    if let Some(&viewer) = viewers.iter().find(|&&v| v as usize >= users) {
        return Err(IndexError::ViewerOutOfRange { viewer, users }.into());
    }
    if world.meta.exposure != Exposure::Logged {
        return Err(IndexError::PartitionExposure.into());
    }
    if whole.as_of != meta.as_of {
        return Err(IndexError::PartitionAsOf {
            partition: whole.as_of,
            asked: meta.as_of,
        }
        .into());
    }
    let plan = Plan::new(world, viewers, meta.as_of, params);
    let g = &world.graph;
    let mut edges = Vec::new();
    for u in 0..g.num_nodes() as u32 {
        for &v in g.neighbors(u) {
            if u < v && (bit(&plan.nodes, u) || bit(&plan.nodes, v)) {
                edges.push((u, v));
            }
        }
    }
    let (graph, _) = crate::graph::Graph::from_edges(g.num_nodes(), &edges);
    let by_viewer = |s: u32| {
        world
            .stories
            .get(s as usize)
            .is_some_and(|st| bit(&plan.viewers, st.author))
    };
    let events = world
        .events
        .iter()
        .filter(|e| {
            bit(&plan.viewers, e.user)
                || (e.action.is_positive() && (bit(&plan.stories, e.story) || by_viewer(e.story)))
        })
        .copied()
        .collect();
    let interactions = world
        .interactions
        .iter()
        .filter(|it| bit(&plan.viewers, it.from) || bit(&plan.viewers, it.to))
        .copied()
        .collect();
    let sub = World {
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
    };
    let missing = |what, id| crate::features::FeatureError::MissingAggregate { what, id };
    let mut story_exposures = Vec::new();
    let mut authors = vec![0u64; users.div_ceil(64)];
    for (s, st) in world.stories.iter().enumerate() {
        if bit(&plan.stories, s as u32) {
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
    let mut viewers = viewers.to_vec();
    viewers.sort_unstable();
    viewers.dedup();
    Ok((
        sub,
        PartitionFiles {
            meta,
            viewers,
            aggregates: vec![AggregateRows {
                as_of: meta.as_of,
                stories: story_exposures,
                authors: author_counts,
            }],
        },
    ))
}
