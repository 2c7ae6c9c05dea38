//! [`FeatureSpace`]: world indices built once (per-user event lists, per-story engagement
//! lists sorted by time, per-author exposure/engagement times, exposures with their labels,
//! edge signals), then a [`ViewerContext`] per (viewer, as_of) (decayed ties to authors in a
//! sorted vec, viewer rates, scratch buffers), then one row per candidate written into a
//! caller-provided `&mut [f32]` without allocating.
//!
//! Two ways to build it: [`FeatureSpace::with_signals`] (every user and story: the batch job
//! and training; counting sorts in event time order, no global sort, the full exposure list
//! built lazily for training only) and [`FeatureSpace::scoped`] (a [`Scope`] of users and
//! stories: one filtered pass over the events, for inspecting one viewer's feed; queries
//! outside the scope are [`super::FeatureError::OutOfScope`] errors, never a wrong row).
//!
//! Leakage rule: every quantity is filtered by `ts < as_of`; the only timeless inputs are the
//! friendship graph (static in the world model) and story metadata (author, kind, topic,
//! creation time; age is clamped at 0 for stories created after `as_of`).
use super::schema::{Feature, NUM_FEATURES};
use super::FeatureError;
use crate::config::FeatureConfig;
use crate::graph::{EdgeSignals, Graph};
use crate::util::{bit, group_by_key, prefetch_read};
use crate::world::{Action, Exposure, World};
use std::sync::{Arc, OnceLock};

const DAY: f64 = 86_400.0;

/// A provider of matrix-factorisation affinities (the MF stage plugs its factors in here).
/// Missing rows/columns should return 0.
pub trait MfAffinity: Send + Sync {
    /// Affinity of `viewer` for stories by `author` (e.g. a dot product of factors).
    fn author_affinity(&self, viewer: u32, author: u32) -> f32;
    /// Affinity of `viewer` for `topic`.
    fn topic_affinity(&self, viewer: u32, topic: u32) -> f32;
}

/// One exposure: `user` first saw `story` at `ts`; `action_ts[k]` is the first time the user
/// took [`Action::ENGAGEMENTS`]`[k]` on it (`i64::MAX` if never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExposureRow {
    pub ts: i64,
    pub user: u32,
    pub story: u32,
    pub action_ts: [i64; 5],
}

impl ExposureRow {
    /// Whether the user took engagement `k` (index into [`Action::ENGAGEMENTS`]) before `as_of`.
    #[inline]
    pub fn label(&self, k: usize, as_of: i64) -> bool {
        self.action_ts.get(k).is_some_and(|&t| t < as_of)
    }
}

/// Items grouped by a dense key, each group in input order.
#[derive(Debug, Clone, Default, PartialEq)]
struct Groups<T> {
    off: Vec<usize>,
    items: Vec<T>,
}

impl<T: Copy + Default> Groups<T> {
    /// Stable counting sort of `keyed` by key (keys must be `< n`, checked by the caller).
    fn build(n: usize, keyed: &[(u32, T)]) -> Self {
        let (off, items) = group_by_key(n, keyed.iter().copied());
        Self { off, items }
    }

    #[inline]
    fn get(&self, k: u32) -> &[T] {
        let k = k as usize;
        match (self.off.get(k), self.off.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.items[a..b],
            _ => &[],
        }
    }

    fn sort_each_by_key<K: Ord>(&mut self, key: impl Fn(&T) -> K + Copy) {
        for w in self.off.windows(2) {
            self.items[w[0]..w[1]].sort_by_key(key);
        }
    }
}

impl<T: Copy + Default> Groups<T> {
    /// As [`Groups::build`] from an iterator walked twice (count, then place), without the
    /// intermediate keyed vector. Keys must be `< n` (checked by the caller).
    fn from_iter<I: Iterator<Item = (u32, T)> + Clone>(n: usize, rows: I) -> Self {
        let (off, items) = group_by_key(n, rows);
        Self { off, items }
    }
}

impl<T: Copy + Default + Ord> Groups<T> {
    /// As [`Groups::from_iter`], each group then sorted, unless the caller knows the rows
    /// already come in sorted order within each key (`presorted`).
    fn sorted<I: Iterator<Item = (u32, T)> + Clone>(n: usize, rows: I, presorted: bool) -> Self {
        let mut g = Self::from_iter(n, rows);
        if !presorted {
            g.sort_each_by_key(|x| *x);
        }
        g
    }
}

/// Which users and stories a scoped [`FeatureSpace`] holds indices for (bitsets over the
/// world's users and stories). See [`FeatureSpace::scoped`].
#[derive(Debug, Clone)]
pub struct Scope {
    n_users: usize,
    n_stories: usize,
    users: Vec<u64>,
    stories: Vec<u64>,
    /// The first out-of-range id added, reported by [`FeatureSpace::scoped`].
    bad: Option<(&'static str, u32)>,
}

impl Scope {
    /// An empty scope over `n_users` users and `n_stories` stories (the world's counts).
    pub fn new(n_users: usize, n_stories: usize) -> Scope {
        Scope {
            n_users,
            n_stories,
            users: vec![0; n_users.div_ceil(64)],
            stories: vec![0; n_stories.div_ceil(64)],
            bad: None,
        }
    }

    /// Adds user `u` (an out-of-range id makes [`FeatureSpace::scoped`] fail).
    pub fn add_user(&mut self, u: u32) {
        match self.users.get_mut((u / 64) as usize) {
            Some(w) if (u as usize) < self.n_users => *w |= 1 << (u % 64),
            _ => {
                self.bad.get_or_insert(("user", u));
            }
        }
    }

    /// Adds story `s` (an out-of-range id makes [`FeatureSpace::scoped`] fail).
    pub fn add_story(&mut self, s: u32) {
        match self.stories.get_mut((s / 64) as usize) {
            Some(w) if (s as usize) < self.n_stories => *w |= 1 << (s % 64),
            _ => {
                self.bad.get_or_insert(("story", s));
            }
        }
    }

    #[inline]
    pub fn has_user(&self, u: u32) -> bool {
        bit(&self.users, u)
    }

    #[inline]
    pub fn has_story(&self, s: u32) -> bool {
        bit(&self.stories, s)
    }

    /// Number of users in the scope.
    pub fn num_users(&self) -> usize {
        self.users.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of stories in the scope.
    pub fn num_stories(&self) -> usize {
        self.stories.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// Checks that the world's ids are in range and the signals match the graph; returns the
/// number of story kinds.
fn validate(world: &World, signals: &EdgeSignals) -> Result<usize, FeatureError> {
    let n_users = world.num_users();
    let n_stories = world.stories.len();
    let g = &world.graph;
    let bad = |message: String| FeatureError::World { message };
    if g.num_nodes() < n_users {
        return Err(bad(format!(
            "the graph has {} nodes but the world has {} users",
            g.num_nodes(),
            n_users
        )));
    }
    let slots = g.num_slots();
    if signals.embeddedness.len() != slots
        || signals.jaccard.len() != slots
        || signals.adamic_adar.len() != slots
        || signals.dispersion.len() != slots
        || signals.disp_norm.len() != slots
        || signals.disp_norm_paper.len() != slots
        || signals.recursive.len() != slots
    {
        return Err(bad(format!(
            "edge signals do not match the graph's {slots} edge slots"
        )));
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
            return Err(bad(format!(
                "story {i} has author {} but there are {n_users} users",
                s.author
            )));
        }
    }
    if let Some(e) = world
        .events
        .iter()
        .find(|e| e.user as usize >= n_users || e.story as usize >= n_stories)
    {
        return Err(bad(format!(
            "event at ts {} refers to user {} / story {} ({} users, {} stories)",
            e.ts, e.user, e.story, n_users, n_stories
        )));
    }
    if let Some(it) = world
        .interactions
        .iter()
        .find(|it| it.from as usize >= n_users || it.to as usize >= n_users)
    {
        return Err(bad(format!(
            "interaction at ts {} refers to user {} -> {} ({} users)",
            it.ts, it.from, it.to, n_users
        )));
    }
    Ok(n_kinds)
}

/// The per-user and per-story lists of a [`FeatureSpace`] (see its fields).
struct Indices {
    user_eng: Groups<(i64, u32, u8)>,
    recv_eng: Groups<(i64, u32)>,
    inter: Groups<(i64, u32)>,
    user_exp: Groups<(i64, u32)>,
    story_eng: Groups<(i64, u32)>,
    author_exp: Groups<i64>,
    story_exp: Groups<i64>,
    author_pos: Groups<i64>,
}

/// Largest event count for the packed (event index, action) tags of the fast paths.
const MAX_PACKED_EVENTS: usize = 1 << 29;

/// The engagement indices by receiving author, by story and the author's positive times, and
/// the interactions by user (independent of the exposures).
#[allow(clippy::type_complexity)]
fn positive_indices(
    world: &World,
    sorted: bool,
) -> (
    Groups<(i64, u32)>,
    Groups<(i64, u32)>,
    Groups<i64>,
    Groups<(i64, u32)>,
) {
    let (n_users, n_stories) = (world.num_users(), world.stories.len());
    let stories = &world.stories;
    // The positive events, compacted once (far fewer than all events): (ts, story, user, author).
    let pos: Vec<(i64, u32, u32, u32)> = world
        .events
        .iter()
        .filter(|e| e.action.is_positive())
        .map(|e| (e.ts, e.story, e.user, stories[e.story as usize].author))
        .collect();
    let positives = || pos.iter().copied();
    let ((recv_eng, story_eng), (author_pos, inter)) = rayon::join(
        || {
            rayon::join(
                || {
                    Groups::sorted(
                        n_users,
                        positives().map(|(ts, _, user, a)| (a, (ts, user))),
                        sorted,
                    )
                },
                || {
                    Groups::sorted(
                        n_stories,
                        positives().map(|(ts, s, user, _)| (s, (ts, user))),
                        sorted,
                    )
                },
            )
        },
        || {
            rayon::join(
                || Groups::sorted(n_users, positives().map(|(ts, _, _, a)| (a, ts)), sorted),
                || {
                    let rows = world
                        .interactions
                        .iter()
                        .filter(|it| it.from != it.to)
                        .flat_map(|it| [(it.from, (it.ts, it.to)), (it.to, (it.ts, it.from))]);
                    Groups::sorted(n_users, rows, false)
                },
            )
        },
    );
    (recv_eng, story_eng, author_pos, inter)
}

impl Indices {
    /// Every index of a full space, and the exposures when they had to be built anyway.
    ///
    /// With events in the world's documented (ts, user, story, action) order and logged
    /// exposures, every list comes out of counting sorts in time order (the per-group sorts of
    /// the general path would be no-ops), and each user's first sighting of each story is found
    /// by walking the user's events with a per-story stamp. Otherwise: the general path.
    fn build(world: &World) -> (Indices, Option<Vec<ExposureRow>>) {
        let sorted = world.events.is_sorted();
        let fast = sorted
            && world.meta.exposure == Exposure::Logged
            && world.events.len() < MAX_PACKED_EVENTS;
        let (a, (recv_eng, story_eng, author_pos, inter)) = rayon::join(
            || {
                if fast {
                    let (user_eng, user_exp, author_exp, story_exp) =
                        exposure_indices_sorted(world);
                    (user_eng, user_exp, author_exp, story_exp, None)
                } else {
                    exposure_indices_general(world, sorted)
                }
            },
            || positive_indices(world, sorted),
        );
        let (user_eng, user_exp, author_exp, story_exp, exposures) = a;
        let ix = Indices {
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
        };
        (ix, exposures)
    }

    /// The indices of [`FeatureSpace::scoped`] (the scope already holds the authors of its
    /// stories). Each list is sorted exactly as the full space sorts it, and each exposure is
    /// the minimum time over its (user, story) rows, as in [`build_exposures`].
    fn build_scoped(world: &World, scope: &Scope) -> Indices {
        let (n_users, n_stories) = (world.num_users(), world.stories.len());
        let stories = &world.stories;
        let g = &world.graph;
        // Stories whose author is in scope.
        let mut by_scoped_author = vec![0u64; n_stories.div_ceil(64)];
        for (s, st) in stories.iter().enumerate() {
            if scope.has_user(st.author) {
                by_scoped_author[s / 64] |= 1 << (s % 64);
            }
        }
        let mut user_eng = Vec::new();
        let mut user_exp_raw: Vec<(u32, u32, i64)> = Vec::new();
        let mut exp_raw: Vec<(u32, u32, i64)> = Vec::new();
        let mut recv = Vec::new();
        let mut author_pos = Vec::new();
        let mut story_eng = Vec::new();
        for e in &world.events {
            let su = scope.has_user(e.user);
            let sa = bit(&by_scoped_author, e.story);
            if !(su || sa) {
                continue;
            }
            if su {
                if e.action != Action::Impression {
                    user_eng.push((e.user, (e.ts, e.story, e.action as u8)));
                }
                user_exp_raw.push((e.user, e.story, e.ts));
            }
            if sa {
                exp_raw.push((e.story, e.user, e.ts));
                if e.action.is_positive() {
                    let a = stories[e.story as usize].author;
                    recv.push((a, (e.ts, e.user)));
                    author_pos.push((a, e.ts));
                    if scope.has_story(e.story) {
                        story_eng.push((e.story, (e.ts, e.user)));
                    }
                }
            }
        }
        if world.meta.exposure == Exposure::FriendsOfAuthor {
            // Friends of in-scope users (whose stories the in-scope users were exposed to).
            let mut near = vec![0u64; g.num_nodes().div_ceil(64)];
            for u in 0..n_users as u32 {
                if scope.has_user(u) {
                    for &f in g.neighbors(u) {
                        if let Some(w) = near.get_mut((f / 64) as usize) {
                            *w |= 1 << (f % 64);
                        }
                    }
                }
            }
            for (s, st) in stories.iter().enumerate() {
                let s = s as u32;
                let sa = bit(&by_scoped_author, s);
                if !(sa || bit(&near, st.author)) {
                    continue;
                }
                for &f in g.neighbors(st.author) {
                    if sa {
                        exp_raw.push((s, f, st.created_at));
                    }
                    if scope.has_user(f) {
                        user_exp_raw.push((f, s, st.created_at));
                    }
                }
            }
        }
        // First sighting per (user, story): the minimum time.
        let firsts = |mut raw: Vec<(u32, u32, i64)>| {
            raw.sort_unstable();
            raw.dedup_by_key(|x| (x.0, x.1));
            raw
        };
        let user_exp_raw = firsts(user_exp_raw);
        let exp_raw = firsts(exp_raw);

        let mut user_eng = Groups::build(n_users, &user_eng);
        user_eng.sort_each_by_key(|x| x.0);
        let recv_eng = Groups::sorted(n_users, recv.iter().copied(), false);
        let story_eng = Groups::sorted(n_stories, story_eng.iter().copied(), false);
        let author_pos = Groups::sorted(n_users, author_pos.iter().copied(), false);
        let inter_rows = world
            .interactions
            .iter()
            .filter(|it| it.from != it.to)
            .flat_map(|it| [(it.from, (it.ts, it.to)), (it.to, (it.ts, it.from))])
            .filter(|r| scope.has_user(r.0));
        let inter = Groups::sorted(n_users, inter_rows, false);
        let user_exp = Groups::sorted(
            n_users,
            user_exp_raw.iter().map(|&(u, s, t)| (u, (t, s))),
            false,
        );
        let author_exp = Groups::sorted(
            n_users,
            exp_raw
                .iter()
                .map(|&(s, _, t)| (stories[s as usize].author, t)),
            false,
        );
        let story_exp = Groups::sorted(
            n_stories,
            exp_raw
                .iter()
                .filter(|x| scope.has_story(x.0))
                .map(|&(s, _, t)| (s, t)),
            false,
        );
        Indices {
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
        }
    }
}

/// The general path for the viewer engagements and the exposure indices: exposures from
/// [`build_exposures`], every group sorted (as the space was always built).
#[allow(clippy::type_complexity)]
fn exposure_indices_general(
    world: &World,
    sorted: bool,
) -> (
    Groups<(i64, u32, u8)>,
    Groups<(i64, u32)>,
    Groups<i64>,
    Groups<i64>,
    Option<Vec<ExposureRow>>,
) {
    let (n_users, n_stories) = (world.num_users(), world.stories.len());
    let mut user_eng = Groups::from_iter(
        n_users,
        world
            .events
            .iter()
            .filter(|e| e.action != Action::Impression)
            .map(|e| (e.user, (e.ts, e.story, e.action as u8))),
    );
    if !sorted {
        user_eng.sort_each_by_key(|x| x.0);
    }
    let exposures = build_exposures(world);
    let user_exp = Groups::sorted(
        n_users,
        exposures.iter().map(|x| (x.user, (x.ts, x.story))),
        false,
    );
    let author_exp = Groups::sorted(
        n_users,
        exposures
            .iter()
            .map(|x| (world.stories[x.story as usize].author, x.ts)),
        false,
    );
    let story_exp = Groups::sorted(n_stories, exposures.iter().map(|x| (x.story, x.ts)), false);
    (user_eng, user_exp, author_exp, story_exp, Some(exposures))
}

/// Each user's events in time order, as `(ts, story, event index << 3 | action)` grouped by
/// user (a stable counting sort of events already in time order). Needs fewer than
/// [`MAX_PACKED_EVENTS`] events.
fn events_by_user(world: &World) -> (Vec<usize>, Vec<(i64, u32, u32)>) {
    let g = Groups::from_iter(
        world.num_users(),
        world
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.user, (e.ts, e.story, (i as u32) << 3 | e.action as u32))),
    );
    (g.off, g.items)
}

/// The fast path for sorted events and logged exposures: the viewer engagements and exposures
/// by walking each user's events with a per-story stamp (the first event of a (user, story)
/// pair is its exposure, in (ts, story) order per user), then the exposures by story and by
/// author from one pass over the events in time order.
#[allow(clippy::type_complexity)]
fn exposure_indices_sorted(
    world: &World,
) -> (
    Groups<(i64, u32, u8)>,
    Groups<(i64, u32)>,
    Groups<i64>,
    Groups<i64>,
) {
    let (n_users, n_stories) = (world.num_users(), world.stories.len());
    let events = &world.events;
    let (off, items) = events_by_user(world);
    let mut first = vec![0u64; events.len().div_ceil(64)];
    let mut stamp = vec![u32::MAX; n_stories];
    let mut eng = Groups {
        off: Vec::with_capacity(n_users + 1),
        items: Vec::new(),
    };
    let mut exp = Groups {
        off: Vec::with_capacity(n_users + 1),
        items: Vec::with_capacity(events.len()),
    };
    eng.off.push(0);
    exp.off.push(0);
    for (u, w) in off.windows(2).enumerate() {
        for &(ts, story, tag) in &items[w[0]..w[1]] {
            let action = (tag & 7) as u8;
            if action != Action::Impression as u8 {
                eng.items.push((ts, story, action));
            }
            let s = &mut stamp[story as usize];
            if *s != u as u32 {
                *s = u as u32;
                exp.items.push((ts, story));
                let i = (tag >> 3) as usize;
                first[i / 64] |= 1 << (i % 64);
            }
        }
        eng.off.push(eng.items.len());
        exp.off.push(exp.items.len());
    }
    drop(items);
    let firsts = || {
        events
            .iter()
            .enumerate()
            .filter(|(i, _)| bit(&first, *i as u32))
            .map(|(_, e)| e)
    };
    let stories = &world.stories;
    let (author_exp, story_exp) = rayon::join(
        || {
            Groups::from_iter(
                n_users,
                firsts().map(|e| (stories[e.story as usize].author, e.ts)),
            )
        },
        || Groups::from_iter(n_stories, firsts().map(|e| (e.story, e.ts))),
    );
    (eng, exp, author_exp, story_exp)
}

/// Precomputed world indices: build once, then ask for viewer contexts and rows.
pub struct FeatureSpace<'w> {
    world: &'w World,
    cfg: FeatureConfig,
    signals: EdgeSignals,
    /// Engagement events (not impressions) by acting user: (ts, story, action index).
    user_eng: Groups<(i64, u32, u8)>,
    /// Positive engagement events on stories authored by the user: (ts, actor).
    recv_eng: Groups<(i64, u32)>,
    /// Direct interactions involving the user (either direction): (ts, other user).
    inter: Groups<(i64, u32)>,
    /// Exposures by user: (ts, story).
    user_exp: Groups<(i64, u32)>,
    /// Positive engagement events by story: (ts, user).
    story_eng: Groups<(i64, u32)>,
    /// Exposure times of each author's stories, sorted.
    author_exp: Groups<i64>,
    /// Exposure times of each story, sorted.
    story_exp: Groups<i64>,
    /// Positive engagement times on each author's stories, sorted.
    author_pos: Groups<i64>,
    /// Every exposure (training only), built on first use unless the build had it anyway.
    exposures: OnceLock<Vec<ExposureRow>>,
    n_kinds: usize,
    mf: Option<Arc<dyn MfAffinity>>,
    /// Per-author and per-story aggregates precomputed for one `as_of` (see
    /// [`FeatureSpace::precompute_as_of`]); contexts at that `as_of` read them instead of
    /// binary-searching the time-sorted lists per candidate.
    at: Option<Arc<AsOfTables>>,
    /// The scope of a space built by [`FeatureSpace::scoped`].
    scope: Option<Scope>,
}

/// Candidate-independent aggregates at one `as_of`: the author engagement rate, and each
/// story's engagements and exposures before `as_of`. Identical to what
/// [`FeatureSpace::write_row`] computes without them.
#[derive(Debug)]
struct AsOfTables {
    as_of: i64,
    author_rate: Vec<f64>,
    story_engagements: Vec<u32>,
    story_exposures: Vec<u32>,
    /// `1 / ln(degree)` per node (0 for degree <= 1), the Adamic-Adar weight.
    inv_ln_deg: Vec<f64>,
    /// Per story, its aggregates above packed together (one cache line instead of five
    /// scattered reads per candidate).
    story_at: Vec<StoryAt>,
}

/// One story's candidate-independent aggregates at the tables' `as_of`.
#[derive(Debug, Clone, Copy, Default)]
struct StoryAt {
    /// Its author's engagement rate (as [`FeatureSpace::author_rate`]).
    author_rate: f64,
    /// Start of its engagements in `story_eng.items`.
    eng_start: usize,
    /// Its engagements before `as_of`.
    engagements: u32,
    /// Its exposures before `as_of`.
    exposures: u32,
    /// Its author's degree.
    author_degree: u32,
}

/// Per-(viewer, as_of) state: decayed ties to authors (sorted by author), viewer rates and
/// scratch buffers sized so that [`FeatureSpace::write_row`] never allocates.
#[derive(Debug, Clone)]
pub struct ViewerContext {
    viewer: u32,
    as_of: i64,
    ties: Vec<(u32, Tie)>,
    eng_rate: f32,
    kind_rate: Vec<f32>,
    /// (topic, positive engagements / (exposures + 1)), sorted by topic.
    topic_rate: Vec<(u32, f32)>,
    friends_engaged: Vec<u32>,
    parent: Vec<u32>,
    at: Option<Arc<AsOfTables>>,
    /// The viewer's friends as a bitset over nodes, built on first use by
    /// [`FeatureSpace::write_row`] (O(1) friend tests instead of binary searches).
    friend_bits: Vec<u64>,
    friend_bits_ready: bool,
    /// Whether `write_row` uses the bitset paths (default); false gives the reference merge
    /// and binary-search paths (rows are bit-identical either way; a test checks).
    fast: bool,
}

impl ViewerContext {
    pub fn viewer(&self) -> u32 {
        self.viewer
    }
    pub fn as_of(&self) -> i64 {
        self.as_of
    }
    /// Number of authors the viewer has any tie with before `as_of`.
    pub fn num_ties(&self) -> usize {
        self.ties.len()
    }
}

#[derive(Debug, Clone, Copy)]
struct Tie {
    aff: [f32; 5],
    recip: f32,
    direct: f32,
    last: i64,
}

impl Default for Tie {
    fn default() -> Self {
        Self {
            aff: [0.0; 5],
            recip: 0.0,
            direct: 0.0,
            last: i64::MIN,
        }
    }
}

impl<'w> FeatureSpace<'w> {
    /// Builds every index, computing the edge signals with the configured parameters.
    ///
    /// # Errors
    /// [`FeatureError::InvalidParam`] for a bad configuration; [`FeatureError::World`] when an
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
    /// As [`FeatureSpace::with_signals`], and [`FeatureError::ScopeMismatch`] when the scope
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
        mut scope: Scope,
    ) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let n_kinds = validate(world, &signals)?;
        if let Some((what, id)) = scope.bad {
            return Err(FeatureError::ScopeMismatch {
                message: format!("{what} {id} was added to the scope but is out of range"),
            });
        }
        if scope.n_users != world.num_users() || scope.n_stories != world.stories.len() {
            return Err(FeatureError::ScopeMismatch {
                message: format!(
                    "the scope is for {} users and {} stories, the world has {} and {}",
                    scope.n_users,
                    scope.n_stories,
                    world.num_users(),
                    world.stories.len()
                ),
            });
        }
        for (s, st) in world.stories.iter().enumerate() {
            if scope.has_story(s as u32) {
                scope.add_user(st.author);
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
        scope: Option<Scope>,
    ) -> Self {
        let Indices {
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
        } = ix;
        let cell = OnceLock::new();
        if let Some(x) = exposures {
            let _ = cell.set(x);
        }
        Self {
            world,
            cfg: cfg.clone(),
            signals,
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
            exposures: cell,
            n_kinds,
            mf: None,
            at: None,
            scope,
        }
    }

    /// The scope of a space built by [`FeatureSpace::scoped`] (`None` for a full space).
    pub fn scope(&self) -> Option<&Scope> {
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
        self.user_eng.get(viewer)
    }

    /// The viewer's exposures (first sightings), sorted by time: `(ts, story)`. Callers filter
    /// by `ts < as_of`. Empty for a user outside the scope of a scoped space.
    pub fn exposures_of(&self, viewer: u32) -> &[(i64, u32)] {
        self.user_exp.get(viewer)
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

    /// Positive engagements per exposure (+1) on `author`'s stories in the rate window
    /// before `as_of`.
    fn author_rate(&self, author: u32, as_of: i64) -> f64 {
        let lo = as_of - (self.cfg.author_rate_window_days * DAY) as i64;
        let count_in =
            |xs: &[i64]| xs.partition_point(|&t| t < as_of) - xs.partition_point(|&t| t < lo);
        let exp = count_in(self.author_exp.get(author));
        let posn = count_in(self.author_pos.get(author));
        posn as f64 / (exp as f64 + 1.0)
    }

    /// Precomputes the candidate-independent per-author and per-story aggregates at `as_of`
    /// (the batch job ranks every user at one `as_of`), so that contexts built afterwards at
    /// that `as_of` look them up instead of searching per candidate. Rows are identical with
    /// and without it.
    ///
    /// On a scoped space the tables are restricted to the scope: the entries of in-scope
    /// authors and stories are exact (an author's rate reads all of their stories, which the
    /// scoped indices hold); the others are 0 and never read, since
    /// [`FeatureSpace::write_row`] refuses out-of-scope stories and the authors of in-scope
    /// stories are in scope.
    ///
    /// # Complexity
    /// O((users + stories) log events), once.
    pub fn precompute_as_of(&mut self, as_of: i64) {
        let w = self.world;
        let author_rate = (0..w.num_users() as u32)
            .map(|a| self.author_rate(a, as_of))
            .collect();
        let (story_engagements, story_exposures) = (0..w.stories.len() as u32)
            .map(|s| {
                (
                    self.story_eng.get(s).partition_point(|e| e.0 < as_of) as u32,
                    self.story_exp.get(s).partition_point(|&t| t < as_of) as u32,
                )
            })
            .unzip();
        self.at = Some(Arc::new(AsOfTables {
            as_of,
            author_rate,
            story_engagements,
            story_exposures,
            inv_ln_deg: w.graph.inv_ln_degrees(),
            story_at: Vec::new(),
        }));
        self.pack_story_tables();
    }

    /// Builds the per-viewer context at `as_of` (data strictly before `as_of`).
    ///
    /// # Errors
    /// [`FeatureError::UserOutOfRange`]; [`FeatureError::OutOfScope`] for a viewer outside the
    /// scope of a scoped space.
    ///
    /// # Complexity
    /// O((viewer's events + events on the viewer's stories + interactions) log of that).
    pub fn viewer(&self, viewer: u32, as_of: i64) -> Result<ViewerContext, FeatureError> {
        let w = self.world;
        if viewer as usize >= w.num_users() {
            return Err(FeatureError::UserOutOfRange {
                user: viewer,
                users: w.num_users(),
            });
        }
        if let Some(sc) = &self.scope {
            if !sc.has_user(viewer) {
                return Err(FeatureError::OutOfScope {
                    what: "user",
                    id: viewer,
                });
            }
        }
        let ln_decay = self.cfg.decay_per_day.ln();
        let decay = |ts: i64| -> f32 { (ln_decay * ((as_of - ts) as f64 / DAY)).exp() as f32 };
        let mut entries: Vec<(u32, Tie)> = Vec::new();
        let mut pos = 0u32;
        let mut kind_pos = vec![0u32; self.n_kinds];
        // (topic, positives, exposures), merged by topic below.
        let mut topic_counts: Vec<(u32, u32, u32)> = Vec::new();
        for &(ts, story, action) in self.user_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            let st = &w.stories[story as usize];
            let mut t = Tie {
                last: ts,
                ..Tie::default()
            };
            // action index 1..=5 -> ENGAGEMENTS index 0..=4
            if let Some(slot) = (action as usize).checked_sub(1).filter(|&k| k < 5) {
                t.aff[slot] = decay(ts);
            }
            if Action::ALL
                .get(action as usize)
                .is_some_and(|a| a.is_positive())
            {
                pos += 1;
                if let Some(c) = kind_pos.get_mut(st.kind as usize) {
                    *c += 1;
                }
                if let Some(t) = st.topic {
                    topic_counts.push((t, 1, 0));
                }
            }
            if st.author != viewer {
                entries.push((st.author, t));
            }
        }
        for &(ts, actor) in self.recv_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            if actor != viewer {
                entries.push((
                    actor,
                    Tie {
                        recip: decay(ts),
                        last: ts,
                        ..Tie::default()
                    },
                ));
            }
        }
        for &(ts, other) in self.inter.get(viewer) {
            if ts >= as_of {
                break;
            }
            entries.push((
                other,
                Tie {
                    direct: decay(ts),
                    last: ts,
                    ..Tie::default()
                },
            ));
        }
        entries.sort_by_key(|e| e.0);
        let mut ties: Vec<(u32, Tie)> = Vec::new();
        for (a, t) in entries {
            match ties.last_mut() {
                Some((b, acc)) if *b == a => {
                    for k in 0..5 {
                        acc.aff[k] += t.aff[k];
                    }
                    acc.recip += t.recip;
                    acc.direct += t.direct;
                    acc.last = acc.last.max(t.last);
                }
                _ => ties.push((a, t)),
            }
        }
        let mut imp = 0u32;
        let mut kind_imp = vec![0u32; self.n_kinds];
        for &(ts, story) in self.user_exp.get(viewer) {
            if ts >= as_of {
                break;
            }
            imp += 1;
            let st = &w.stories[story as usize];
            if let Some(c) = kind_imp.get_mut(st.kind as usize) {
                *c += 1;
            }
            if let Some(t) = st.topic {
                topic_counts.push((t, 0, 1));
            }
        }
        topic_counts.sort_unstable_by_key(|c| c.0);
        let mut topic_rate: Vec<(u32, f32)> = Vec::new();
        let mut i = 0;
        while i < topic_counts.len() {
            let t = topic_counts[i].0;
            let (mut p, mut e) = (0u32, 0u32);
            while i < topic_counts.len() && topic_counts[i].0 == t {
                p += topic_counts[i].1;
                e += topic_counts[i].2;
                i += 1;
            }
            topic_rate.push((t, p as f32 / (e as f32 + 1.0)));
        }
        let kind_rate = kind_pos
            .iter()
            .zip(&kind_imp)
            .map(|(&p, &i)| p as f32 / (i as f32 + 1.0))
            .collect();
        let deg = self.world.graph.degree(viewer);
        Ok(ViewerContext {
            viewer,
            as_of,
            ties,
            eng_rate: pos as f32 / (imp as f32 + 1.0),
            kind_rate,
            topic_rate,
            friends_engaged: Vec::with_capacity(deg + 1),
            parent: Vec::with_capacity(deg + 1),
            at: self.at.as_ref().filter(|t| t.as_of == as_of).cloned(),
            friend_bits: Vec::new(),
            friend_bits_ready: false,
            fast: true,
        })
    }

    /// Writes the features of `story` for the context's viewer and time into `out`, in
    /// [`super::NAMES`] order. Does not allocate.
    ///
    /// # Errors
    /// [`FeatureError::RowLength`], [`FeatureError::StoryOutOfRange`];
    /// [`FeatureError::OutOfScope`] for a story outside the scope of a scoped space.
    ///
    /// # Complexity
    /// O(deg(viewer) + deg(author)) for non-friends (common neighbours by merge), plus
    /// O(log) searches, plus O(engagements on the story before as_of) and the structural
    /// diversity union-find over engaged friends (O(sum of their degrees)).
    pub fn write_row(
        &self,
        ctx: &mut ViewerContext,
        story: u32,
        out: &mut [f32],
    ) -> Result<(), FeatureError> {
        if out.len() != NUM_FEATURES {
            return Err(FeatureError::RowLength {
                expected: NUM_FEATURES,
                found: out.len(),
            });
        }
        let w = self.world;
        let st = w
            .stories
            .get(story as usize)
            .ok_or(FeatureError::StoryOutOfRange {
                story,
                stories: w.stories.len(),
            })?;
        if let Some(sc) = &self.scope {
            if !sc.has_story(story) {
                return Err(FeatureError::OutOfScope {
                    what: "story",
                    id: story,
                });
            }
        }
        let g = &w.graph;
        let u = ctx.viewer;
        let a = st.author;
        let as_of = ctx.as_of;
        out.fill(0.0);
        let set = |out: &mut [f32], f: Feature, v: f64| out[f.idx()] = v as f32;

        // graph
        let du = g.degree(u);
        let da = match ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            Some(r) => r.author_degree as usize,
            None => g.degree(a),
        };
        set(out, Feature::ViewerDegree, du as f64);
        set(out, Feature::AuthorDegree, da as f64);
        if u != a {
            if let Some(slot) = g.edge_slot(u, a) {
                let s = &self.signals;
                set(out, Feature::IsFriend, 1.0);
                set(out, Feature::Embeddedness, s.embeddedness[slot] as f64);
                set(out, Feature::Jaccard, s.jaccard[slot]);
                set(out, Feature::AdamicAdar, s.adamic_adar[slot]);
                set(out, Feature::Dispersion, s.dispersion[slot] as f64);
                set(out, Feature::DispNorm, s.disp_norm[slot]);
                set(out, Feature::DispNormPaper, s.disp_norm_paper[slot]);
                set(out, Feature::RecursiveDispersion, s.recursive[slot]);
            } else {
                let (c, aa) = if ctx.fast {
                    ctx.ensure_friend_bits(g);
                    common_neighbours_bits(g, &ctx.friend_bits, ctx.at.as_deref(), a)
                } else {
                    common_neighbours(g, u, a)
                };
                set(out, Feature::Embeddedness, c as f64);
                let union = du + da - c;
                if union > 0 {
                    set(out, Feature::Jaccard, c as f64 / union as f64);
                }
                set(out, Feature::AdamicAdar, aa);
            }
        }

        // tie strength
        let max_days = self.cfg.max_days_since;
        let mut days_since = max_days;
        if let Ok(i) = ctx.ties.binary_search_by_key(&a, |t| t.0) {
            let t = &ctx.ties[i].1;
            for k in 0..5 {
                out[Feature::AffClick.idx() + k] = t.aff[k];
            }
            set(out, Feature::RecipEngagement, t.recip as f64);
            set(out, Feature::DirectInteractions, t.direct as f64);
            if t.last != i64::MIN {
                days_since = ((as_of - t.last) as f64 / DAY).clamp(0.0, max_days);
            }
        }
        set(out, Feature::DaysSinceInteraction, days_since);

        // story
        set(
            out,
            Feature::AgeHours,
            ((as_of - st.created_at) as f64 / 3600.0).max(0.0),
        );
        let (author_rate, engs_before, n_exp) = self.story_aggregates(ctx, story, a);
        let n_before = engs_before.len();
        set(out, Feature::AuthorEngagementRate, author_rate);
        set(out, Feature::StoryEngagements, n_before as f64);
        set(
            out,
            Feature::StoryEngagementRate,
            n_before as f64 / (n_exp as f64 + 1.0),
        );
        let friends = g.neighbors(u);
        let fast = ctx.fast && n_before > 0;
        if fast {
            ctx.ensure_friend_bits(g);
        }
        let bits = &ctx.friend_bits;
        let fe = &mut ctx.friends_engaged;
        fe.clear();
        for &(_, x) in engs_before {
            let is_friend = if fast {
                bit(bits, x)
            } else {
                friends.binary_search(&x).is_ok()
            };
            if x != u && is_friend {
                if fe.len() == fe.capacity() {
                    fe.sort_unstable();
                    fe.dedup();
                }
                if fe.len() < fe.capacity() {
                    fe.push(x);
                }
            }
        }
        fe.sort_unstable();
        fe.dedup();
        let k = fe.len();
        set(out, Feature::FriendsEngaged, k as f64);
        if k > 0 {
            let parent = &mut ctx.parent;
            parent.clear();
            parent.extend(0..k as u32);
            let mut comps = k;
            for i in 0..k {
                // merge-intersect N(fe[i]) with fe
                let ns = g.neighbors(fe[i]);
                let (mut p, mut q) = (0, 0);
                while p < ns.len() && q < k {
                    match ns[p].cmp(&fe[q]) {
                        std::cmp::Ordering::Less => p += 1,
                        std::cmp::Ordering::Greater => q += 1,
                        std::cmp::Ordering::Equal => {
                            if union(parent, i as u32, q as u32) {
                                comps -= 1;
                            }
                            p += 1;
                            q += 1;
                        }
                    }
                }
            }
            set(out, Feature::StructuralDiversity, comps as f64);
        }

        // viewer
        set(out, Feature::ViewerEngagementRate, ctx.eng_rate as f64);
        let kr = ctx.kind_rate.get(st.kind as usize).copied().unwrap_or(0.0);
        set(out, Feature::ViewerKindRate, kr as f64);
        if let Some(t) = st.topic {
            if let Ok(i) = ctx.topic_rate.binary_search_by_key(&t, |x| x.0) {
                out[Feature::ViewerTopicRate.idx()] = ctx.topic_rate[i].1;
            }
        }

        // matrix factorisation
        if let Some(mf) = &self.mf {
            out[Feature::MfAuthorAffinity.idx()] = mf.author_affinity(u, a);
            if let Some(t) = st.topic {
                out[Feature::MfTopicAffinity.idx()] = mf.topic_affinity(u, t);
            }
        }
        Ok(())
    }
}

fn check_config(cfg: &FeatureConfig) -> Result<(), FeatureError> {
    let c = crate::config::Config {
        features: cfg.clone(),
        ..Default::default()
    };
    c.check().map_err(|message| FeatureError::InvalidParam {
        name: "features",
        message,
    })
}

/// Number of common neighbours of `u` and `v` and their Adamic-Adar sum, by merging the two
/// sorted neighbour slices.
fn common_neighbours(g: &Graph, u: u32, v: u32) -> (usize, f64) {
    let (a, b) = (g.neighbors(u), g.neighbors(v));
    let (mut i, mut j, mut c, mut aa) = (0, 0, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                c += 1;
                let d = g.degree(a[i]) as f64;
                if d > 1.0 {
                    aa += 1.0 / d.ln();
                }
                i += 1;
                j += 1;
            }
        }
    }
    (c, aa)
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let gp = parent[parent[x as usize] as usize];
        parent[x as usize] = gp;
        x = gp;
    }
    x
}

/// Unites the sets of `a` and `b`; true if they were separate.
fn union(parent: &mut [u32], a: u32, b: u32) -> bool {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return false;
    }
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi as usize] = lo;
    true
}

/// Exposures from the events (first event of each (user, story) pair), plus, for
/// `FriendsOfAuthor` worlds, every friend of the author at the story's creation time; sorted
/// by (ts, user, story).
///
/// # Complexity
/// O(events) for logged worlds whose events are in the documented (ts, user, story, action)
/// order (no sort: the first events of the pairs, in event order, are already in (ts, user,
/// story) order); O(rows log rows) otherwise.
pub fn build_exposures(world: &World) -> Vec<ExposureRow> {
    if world.meta.exposure == Exposure::Logged
        && world.events.len() < MAX_PACKED_EVENTS
        && world.events.is_sorted()
        && world.events.iter().all(|e| {
            (e.user as usize) < world.num_users() && (e.story as usize) < world.stories.len()
        })
    {
        return build_exposures_sorted(world);
    }
    build_exposures_general(world)
}

/// [`build_exposures`] for sorted events, logged exposures and in-range ids: each event is
/// linked to the first event of its (user, story) pair by walking each user's events with a
/// per-story stamp; one pass in event order then emits a row at each first event and folds
/// the later events into their pair's row.
fn build_exposures_sorted(world: &World) -> Vec<ExposureRow> {
    let events = &world.events;
    let (off, items) = events_by_user(world);
    // head[i]: the index of the first event of event i's pair.
    let mut head = vec![0u32; events.len()];
    // Per story: (user stamp, index of the user's first event on it).
    let mut stamp = vec![(u32::MAX, 0u32); world.stories.len()];
    for (u, w) in off.windows(2).enumerate() {
        for &(_, story, tag) in &items[w[0]..w[1]] {
            let i = tag >> 3;
            let s = &mut stamp[story as usize];
            if s.0 != u as u32 {
                *s = (u as u32, i);
            }
            head[i as usize] = s.1;
        }
    }
    drop((off, items, stamp));
    let mut out: Vec<ExposureRow> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let h = head[i] as usize;
        let r = if h == i {
            // The pair's first event: its row number replaces the link (later events of the
            // pair come after it and read it).
            head[i] = out.len() as u32;
            out.push(ExposureRow {
                ts: e.ts,
                user: e.user,
                story: e.story,
                action_ts: [i64::MAX; 5],
            });
            out.len() - 1
        } else {
            head[h] as usize
        };
        let x = &mut out[r];
        x.ts = x.ts.min(e.ts);
        if let Some(k) = (e.action as usize).checked_sub(1).filter(|&k| k < 5) {
            x.action_ts[k] = x.action_ts[k].min(e.ts);
        }
    }
    out
}

/// [`build_exposures`] for any world: sort every (user, story, ts, action) row.
fn build_exposures_general(world: &World) -> Vec<ExposureRow> {
    let mut raw: Vec<(u32, u32, i64, u8)> = world
        .events
        .iter()
        .map(|e| (e.user, e.story, e.ts, e.action as u8))
        .collect();
    if world.meta.exposure == Exposure::FriendsOfAuthor {
        for (s, st) in world.stories.iter().enumerate() {
            for &f in world.graph.neighbors(st.author) {
                raw.push((f, s as u32, st.created_at, Action::Impression as u8));
            }
        }
    }
    raw.sort_unstable();
    let mut out: Vec<ExposureRow> = Vec::new();
    for (user, story, ts, action) in raw {
        let same = out
            .last()
            .is_some_and(|x| x.user == user && x.story == story);
        if !same {
            out.push(ExposureRow {
                ts,
                user,
                story,
                action_ts: [i64::MAX; 5],
            });
        }
        let x = out.last_mut().expect("invariant: pushed above");
        x.ts = x.ts.min(ts);
        if let Some(k) = (action as usize).checked_sub(1).filter(|&k| k < 5) {
            x.action_ts[k] = x.action_ts[k].min(ts);
        }
    }
    out.sort_unstable_by_key(|x| (x.ts, x.user, x.story));
    out
}

/// [`common_neighbours`] with the viewer's friends as a bitset: one pass over `N(v)` in
/// sorted order, so the count and the Adamic-Adar sum (same terms, same order) are
/// bit-identical to the merge.
///
/// # Complexity
/// O(deg(v)).
fn common_neighbours_bits(
    g: &Graph,
    friends: &[u64],
    at: Option<&AsOfTables>,
    v: u32,
) -> (usize, f64) {
    let (mut c, mut aa) = (0usize, 0.0f64);
    let inv = at.map(|t| t.inv_ln_deg.as_slice());
    for &x in g.neighbors(v) {
        if bit(friends, x) {
            c += 1;
            match inv.and_then(|t| t.get(x as usize)) {
                Some(&w) => {
                    if w != 0.0 {
                        aa += w;
                    }
                }
                None => {
                    let d = g.degree(x) as f64;
                    if d > 1.0 {
                        aa += 1.0 / d.ln();
                    }
                }
            }
        }
    }
    (c, aa)
}

/// The fast-path helpers of [`ViewerContext`].
impl ViewerContext {
    /// Builds the viewer's friends as a bitset over the graph's nodes (once per context).
    fn ensure_friend_bits(&mut self, g: &Graph) {
        if !self.friend_bits_ready {
            self.friend_bits.clear();
            self.friend_bits.resize(g.num_nodes().div_ceil(64), 0);
            if (self.viewer as usize) < g.num_nodes() {
                for &f in g.neighbors(self.viewer) {
                    if let Some(w) = self.friend_bits.get_mut((f / 64) as usize) {
                        *w |= 1u64 << (f % 64);
                    }
                }
            }
            self.friend_bits_ready = true;
        }
    }

    /// Switches between the fast (bitset) paths of [`FeatureSpace::write_row`] (the default)
    /// and the reference paths (sorted merges and binary searches). Rows are bit-identical
    /// either way; this exists so tests can check that.
    pub fn set_fast(&mut self, fast: bool) {
        self.fast = fast;
    }
}

/// The per-story packed tables of the fast path.
impl FeatureSpace<'_> {
    /// Fills [`AsOfTables::story_at`] from the other tables (called by `precompute_as_of`).
    fn pack_story_tables(&mut self) {
        let Some(t) = self.at.as_mut().and_then(Arc::get_mut) else {
            return;
        };
        let w = self.world;
        let mut rows = Vec::with_capacity(w.stories.len());
        for (i, st) in w.stories.iter().enumerate() {
            let (Some(&rate), Some(&engagements), Some(&exposures), Some(&eng_start)) = (
                t.author_rate.get(st.author as usize),
                t.story_engagements.get(i),
                t.story_exposures.get(i),
                self.story_eng.off.get(i),
            ) else {
                // Inconsistent tables: leave them unpacked (the searched path is used).
                return;
            };
            rows.push(StoryAt {
                author_rate: rate,
                eng_start,
                engagements,
                exposures,
                author_degree: w.graph.degree(st.author).min(u32::MAX as usize) as u32,
            });
        }
        t.story_at = rows;
    }

    /// The author's engagement rate, the story's engagements before `as_of` (as a slice of
    /// `(ts, user)`) and its exposures before `as_of`: from the packed tables when the
    /// context has them, else by binary searches (identical values).
    #[inline]
    fn story_aggregates(
        &self,
        ctx: &ViewerContext,
        story: u32,
        author: u32,
    ) -> (f64, &[(i64, u32)], usize) {
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            let end = r.eng_start + r.engagements as usize;
            if let Some(engs) = self.story_eng.items.get(r.eng_start..end) {
                return (r.author_rate, engs, r.exposures as usize);
            }
        }
        let engs = self.story_eng.get(story);
        let as_of = ctx.as_of;
        match &ctx.at {
            Some(t) => (
                t.author_rate[author as usize],
                &engs[..(t.story_engagements[story as usize] as usize).min(engs.len())],
                t.story_exposures[story as usize] as usize,
            ),
            None => (
                self.author_rate(author, as_of),
                &engs[..engs.partition_point(|e| e.0 < as_of)],
                self.story_exp.get(story).partition_point(|&t| t < as_of),
            ),
        }
    }
}

/// Prefetch hints for candidates about to be scored (the batch loop calls these a few
/// candidates ahead; rows do not depend on them).
impl FeatureSpace<'_> {
    /// Stage 1 (several candidates ahead): the story's metadata and packed aggregates.
    #[inline]
    pub fn prefetch_story(&self, ctx: &ViewerContext, story: u32) {
        if let Some(st) = self.world.stories.get(story as usize) {
            prefetch_read(st);
        }
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            prefetch_read(r);
        }
    }

    /// Stage 2 (a couple of candidates ahead, after stage 1): what the story's author and
    /// engagement list point to. Returns the story's author, if the story exists.
    #[inline]
    pub fn prefetch_story_deps(&self, ctx: &ViewerContext, story: u32) -> Option<u32> {
        let st = self.world.stories.get(story as usize)?;
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            if r.engagements > 0 {
                if let Some(e) = self.story_eng.items.get(r.eng_start) {
                    prefetch_read(e);
                }
            }
        }
        let (offsets, _) = self.world.graph.raw();
        if let Some(o) = offsets.get(st.author as usize) {
            prefetch_read(o);
        }
        Some(st.author)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Event;

    /// The indices as the space was always built: exposures from the sort, every group sorted.
    fn reference_indices(world: &World) -> Indices {
        let (user_eng, user_exp, author_exp, story_exp, _) = exposure_indices_general(world, false);
        let (recv_eng, story_eng, author_pos, inter) = positive_indices(world, false);
        Indices {
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
        }
    }

    fn assert_same(a: &Indices, b: &Indices) {
        assert_eq!(a.user_eng, b.user_eng, "user_eng");
        assert_eq!(a.recv_eng, b.recv_eng, "recv_eng");
        assert_eq!(a.inter, b.inter, "inter");
        assert_eq!(a.user_exp, b.user_exp, "user_exp");
        assert_eq!(a.story_eng, b.story_eng, "story_eng");
        assert_eq!(a.author_exp, b.author_exp, "author_exp");
        assert_eq!(a.story_exp, b.story_exp, "story_exp");
        assert_eq!(a.author_pos, b.author_pos, "author_pos");
    }

    fn sim_world(seed: u64) -> World {
        crate::sim::simulate(&crate::sim::SimParams::new(300, 4, seed)).expect("simulate")
    }

    #[test]
    fn fast_indices_equal_the_sorted_reference() {
        for seed in [3, 4] {
            let world = sim_world(seed);
            assert!(world.events.is_sorted());
            assert!(world.events.len() > 1000);
            let (fast, exposures) = Indices::build(&world);
            assert!(exposures.is_none(), "the fast path defers the exposures");
            assert_same(&fast, &reference_indices(&world));
            assert!(fast.user_exp.items.len() > 500);
            assert!(fast.inter.items.len() > 10);
        }
    }

    #[test]
    fn fast_exposures_equal_the_sorted_reference() {
        let world = sim_world(5);
        let fast = build_exposures(&world);
        assert_eq!(fast, build_exposures_general(&world));
        assert!(fast
            .iter()
            .any(|x| x.action_ts.iter().any(|&t| t != i64::MAX)));
        assert!(fast.len() > 500);
    }

    #[test]
    fn unsorted_and_friends_of_author_worlds_take_the_general_path() {
        let mut world = sim_world(6);
        // Reverse the events: unsorted, with equal timestamps in reversed order.
        world.events.reverse();
        let (ix, exposures) = Indices::build(&world);
        assert!(exposures.is_some());
        assert_same(&ix, &reference_indices(&world));
        assert_eq!(build_exposures(&world), build_exposures_general(&world));

        let mut world = sim_world(6);
        world.meta.exposure = Exposure::FriendsOfAuthor;
        let (ix, exposures) = Indices::build(&world);
        assert!(exposures.is_some());
        assert_same(&ix, &reference_indices(&world));
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
    fn scope_bitsets_and_errors() {
        let mut s = Scope::new(100, 70);
        s.add_user(0);
        s.add_user(99);
        s.add_story(69);
        assert!(s.has_user(0) && s.has_user(99) && !s.has_user(1) && !s.has_user(100));
        assert!(s.has_story(69) && !s.has_story(0) && !s.has_story(70));
        assert_eq!((s.num_users(), s.num_stories()), (2, 1));
        assert!(s.bad.is_none());
        s.add_story(70);
        assert_eq!(s.bad, Some(("story", 70)));

        let world = sim_world(8);
        let cfg = FeatureConfig::default();
        let sig = EdgeSignals::compute(&world.graph, &cfg.signal_params());
        let mut bad = Scope::new(world.num_users(), world.stories.len());
        bad.add_user(world.num_users() as u32);
        assert!(matches!(
            FeatureSpace::scoped(&world, &cfg, sig.clone(), bad),
            Err(FeatureError::ScopeMismatch { .. })
        ));
        let wrong = Scope::new(world.num_users() + 1, world.stories.len());
        assert!(matches!(
            FeatureSpace::scoped(&world, &cfg, sig.clone(), wrong),
            Err(FeatureError::ScopeMismatch { .. })
        ));
        // One story in scope: its author joins the scope; everything else is refused.
        let mut one = Scope::new(world.num_users(), world.stories.len());
        one.add_story(3);
        let author = world.stories[3].author;
        let fs = FeatureSpace::scoped(&world, &cfg, sig, one).expect("scoped");
        assert!(fs.scope().is_some_and(|s| s.has_user(author)));
        let other = (author + 1) % world.num_users() as u32;
        assert!(matches!(
            fs.viewer(other, 0),
            Err(FeatureError::OutOfScope { what: "user", id }) if id == other
        ));
        let mut ctx = fs.viewer(author, i64::MAX).expect("author in scope");
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

    #[test]
    fn build_exposures_handles_out_of_range_events_without_panicking() {
        let mut world = sim_world(9);
        let n = world.stories.len() as u32;
        world.events.push(Event {
            ts: i64::MAX,
            user: 0,
            story: n + 5,
            action: Action::Impression,
        });
        assert_eq!(build_exposures(&world), build_exposures_general(&world));
    }
}
