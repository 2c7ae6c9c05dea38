//! Importers of real datasets into the world format: [`ciao`] (reviews + trust links),
//! [`lastfm`] (monthly tag events + friendships) and [`snap`] (an edge list, graph only).
//!
//! Each takes the dataset's files (columns found by header name, plain or `.gz`) and hands on
//! a [`World`] plus an [`ImportReport`] with its counts; the `feedrank import` command writes
//! the world with [`crate::io::world_tsv::write_world`]. There is no impression log in these
//! datasets, so the review/tag importers set [`Exposure::FriendsOfAuthor`]: every friend of a
//! story's author is taken to have seen it at its creation time. A friend who acts on the same
//! topic (reviews the same product, tags the same artist) strictly later and within the horizon
//! is recorded as one `like` event on that story at the friend's first such time
//! ([`infer_likes`]).
pub mod ciao;
pub mod lastfm;
pub mod snap;

use crate::graph::{BuildStats, Graph};
use crate::io::world_tsv::read::thousands;
use crate::io::world_tsv::table::Table;
use crate::io::world_tsv::WorldError;
use crate::io::IoError;
use crate::util::progress::{Progress, Silent};
use crate::util::time::DAY;
use crate::world::{Action, Event, Exposure, Story, World, WorldMeta};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use ciao::{import_ciao, import_ciao_with_progress, CiaoInput};
pub use lastfm::{import_lastfm, import_lastfm_with_progress, LastfmInput};
pub use snap::import_snap;

/// How directed links (ciao trust) become undirected friendships.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TrustMode {
    /// A friendship for every pair linked in either direction.
    #[default]
    Union,
    /// A friendship only for pairs linked in both directions.
    Mutual,
}

impl TrustMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustMode::Union => "union",
            TrustMode::Mutual => "mutual",
        }
    }
}

/// Importer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// A friend's later action on the same topic counts as engagement if it happens at most
    /// this many days after the story (default 90).
    pub horizon_days: u32,
    /// Directed links to friendships (default union).
    pub trust: TrustMode,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            horizon_days: 90,
            trust: TrustMode::Union,
        }
    }
}

/// Counts produced by an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub format: &'static str,
    /// Activity rows read (reviews, tag assignments), including skipped ones.
    pub activity_rows: usize,
    /// Link rows read (trust links, friend rows, edges).
    pub link_rows: usize,
    /// Unordered pairs linked in both directions (directed inputs).
    pub reciprocal_pairs: usize,
    pub users: usize,
    /// Friendship graph build counts.
    pub friendships: BuildStats,
    pub stories: usize,
    /// Inferred `like` events.
    pub likes: usize,
    /// Inferred exposures: the sum over stories of the author's degree.
    pub exposures: u64,
    pub horizon_days: u32,
    /// Rows skipped, by reason.
    pub skipped: BTreeMap<&'static str, usize>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |n: usize| thousands(n as u64);
        writeln!(f, "import {}", self.format)?;
        writeln!(
            f,
            "  activity rows: {}, link rows: {} ({} reciprocal pairs)",
            t(self.activity_rows),
            t(self.link_rows),
            t(self.reciprocal_pairs)
        )?;
        writeln!(f, "  users:         {}", t(self.users))?;
        writeln!(
            f,
            "  friendships:   {} ({} self-loops, {} duplicates/reverse rows merged)",
            t(self.friendships.edges),
            t(self.friendships.self_loops),
            t(self.friendships.duplicates)
        )?;
        writeln!(f, "  stories:       {}", t(self.stories))?;
        write!(
            f,
            "  likes:         {} within {} days, among {} inferred exposures",
            t(self.likes),
            self.horizon_days,
            thousands(self.exposures)
        )?;
        if self.exposures > 0 {
            write!(
                f,
                " ({:.3}%)",
                100.0 * self.likes as f64 / self.exposures as f64
            )?;
        }
        for (reason, n) in &self.skipped {
            write!(f, "\n  skipped:       {}: {}", reason, t(*n))?;
        }
        Ok(())
    }
}

/// First existing `dir/name` (or `.gz`) among `names`.
///
/// # Errors
/// [`WorldError::MissingFile`] naming the first candidate.
pub(crate) fn find_any(dir: &Path, names: &[&'static str]) -> Result<PathBuf, IoError> {
    names
        .iter()
        .find_map(|n| crate::io::find_table(dir, n))
        .ok_or_else(|| {
            IoError::World(WorldError::MissingFile {
                dir: dir.to_path_buf(),
                name: names.first().copied().unwrap_or("?"),
            })
        })
}

/// Index of the column named by one of `aliases` (case-insensitive).
///
/// # Errors
/// [`WorldError::MissingColumn`] naming the first alias.
pub(crate) fn column(t: &Table, aliases: &[&'static str]) -> Result<usize, IoError> {
    t.find(aliases).ok_or_else(|| {
        IoError::World(WorldError::MissingColumn {
            path: t.path().to_path_buf(),
            column: aliases.first().copied().unwrap_or("?"),
            header: t.header().to_vec(),
        })
    })
}

/// The engagement inferred from later same-topic activity of the author's friends.
///
/// For each story `s` (author `a`, topic `p`, time `t`) and each friend `f` of `a` whose own
/// story on topic `p` has a time `t'` with `t < t' <= t + horizon_secs`, one `like` event
/// `(f, s)` at the smallest such `t'`. Stories without a topic get none. Returned sorted by
/// (ts, user, story, action).
///
/// # Complexity
/// O(S log S + sum over stories of the same-topic stories inside the horizon window, times
/// log degree).
pub fn infer_likes(graph: &Graph, stories: &[Story], horizon_secs: i64) -> Vec<Event> {
    infer_likes_with_progress(graph, stories, horizon_secs, &Silent)
}

/// As [`infer_likes`], reporting the step "inferring likes" (one unit per story) to
/// `progress`.
pub fn infer_likes_with_progress(
    graph: &Graph,
    stories: &[Story],
    horizon_secs: i64,
    progress: &dyn Progress,
) -> Vec<Event> {
    /// Stories per progress report.
    const BATCH: usize = 4096;
    progress.step("inferring likes", stories.len() as u64);
    // Stories grouped by topic, each group sorted by (time, author).
    let mut by_topic: Vec<(u32, i64, u32)> = stories
        .iter()
        .filter_map(|s| s.topic.map(|p| (p, s.created_at, s.author)))
        .collect();
    by_topic.sort_unstable();
    let mut events = Vec::new();
    let mut found: Vec<(u32, i64)> = Vec::new();
    for (i, s) in stories.iter().enumerate() {
        if i % BATCH == BATCH - 1 {
            progress.advance(BATCH as u64);
        }
        let Some(p) = s.topic else { continue };
        let t = s.created_at;
        // First entry of topic p strictly after t.
        let start = by_topic.partition_point(|&(q, ts, _)| (q, ts) <= (p, t));
        found.clear();
        for &(q, ts, f) in &by_topic[start..] {
            if q != p || ts > t.saturating_add(horizon_secs) {
                break;
            }
            if f != s.author && graph.has_edge(s.author, f) {
                found.push((f, ts));
            }
        }
        found.sort_unstable();
        found.dedup_by_key(|x| x.0);
        for &(f, ts) in &found {
            events.push(Event {
                ts,
                user: f,
                story: i as u32,
                action: Action::Like,
            });
        }
    }
    progress.advance((stories.len() % BATCH) as u64);
    events.sort_unstable();
    events
}

/// The size in bytes of each input file (0 when it cannot be read: opening it will say why).
pub(crate) fn file_sizes(paths: &[&Path]) -> Vec<u64> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect()
}

/// Sum over stories of the author's degree (the inferred exposures).
pub fn friends_of_author_exposures(graph: &Graph, stories: &[Story]) -> u64 {
    stories.iter().map(|s| graph.degree(s.author) as u64).sum()
}

/// Parses a timestamp field: integer unix seconds, or milliseconds when the value is at least
/// 10^11 (after year 5138 in seconds, so unambiguous for real data).
pub(crate) fn parse_ts(s: &str) -> Option<i64> {
    let v: i64 = s.trim().parse().ok()?;
    Some(if v.abs() >= 100_000_000_000 {
        v.div_euclid(1000)
    } else {
        v
    })
}

/// Infers the likes of an imported world from its graph and stories ([`infer_likes`], within
/// `horizon_days`) and fills the report's counts of users, stories, likes and inferred
/// exposures.
pub(crate) fn infer_and_count(
    world: &mut World,
    horizon_days: u32,
    report: &mut ImportReport,
    progress: &dyn Progress,
) {
    let horizon = i64::from(horizon_days) * DAY;
    world.events = infer_likes_with_progress(&world.graph, &world.stories, horizon, progress);
    report.users = world.users.len();
    report.stories = world.stories.len();
    report.likes = world.events.len();
    report.exposures = friends_of_author_exposures(&world.graph, &world.stories);
}

/// Gives an imported world with inferred exposures its metadata: the name, description,
/// provenance and importer parameters, the time span of its stories, and
/// [`Exposure::FriendsOfAuthor`].
pub(crate) fn with_inferred_meta(
    mut world: World,
    name: &str,
    description: String,
    provenance: String,
    params: toml::Table,
) -> World {
    world.meta = WorldMeta {
        name: name.into(),
        description,
        provenance,
        start: world.stories.iter().map(|s| s.created_at).min(),
        end: world.stories.iter().map(|s| s.created_at).max(),
        exposure: Exposure::FriendsOfAuthor,
        seed: None,
        params,
    };
    world
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(author: u32, t: i64, topic: u32) -> Story {
        Story {
            author,
            created_at: t,
            kind: 0,
            topic: Some(topic),
        }
    }

    #[test]
    fn likes_need_friend_same_topic_strictly_later_within_horizon() {
        // 0-1, 0-2 friends; 3 is not a friend of 0.
        let (g, _) = Graph::from_edges(4, &[(0, 1), (0, 2)]);
        let stories = vec![
            story(0, 100, 7), // s0
            story(1, 100, 7), // same time: not strictly later
            story(2, 150, 7), // within horizon 100 -> like by 2 at 150
            story(2, 160, 7), // second by same friend: only the first counts
            story(3, 120, 7), // not a friend
            story(1, 201, 7), // after horizon (100 + 100)
            story(1, 150, 8), // other topic
        ];
        let ev = infer_likes(&g, &stories, 100);
        let got: Vec<(i64, u32, u32)> = ev.iter().map(|e| (e.ts, e.user, e.story)).collect();
        // Only s0 (author 0, t=100) gains a like: friend 2 at 150 (its first later story).
        // s1/s5 (author 1): friend 0 has no topic-7 story strictly later. s4: 3 is no friend.
        assert_eq!(got, vec![(150, 2, 0)]);
        assert!(ev.iter().all(|e| e.action == Action::Like));
        assert_eq!(friends_of_author_exposures(&g, &stories), 7);
    }

    #[test]
    fn timestamps_in_ms_are_scaled() {
        assert_eq!(parse_ts("1239062400000"), Some(1_239_062_400));
        assert_eq!(parse_ts("959670000"), Some(959_670_000));
        assert_eq!(parse_ts("x"), None);
    }
}
