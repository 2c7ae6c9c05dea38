//! The per-user and per-story lists of a [`FeatureSpace`] ([`Indices`]), each a [`Groups`]
//! (CSR: offsets and items, every group sorted by time), and their two builders: the full one
//! ([`Indices::build`]: counting sorts in event time order, independent lists in parallel)
//! and the scoped one ([`Indices::build_scoped`]: one filtered pass over the events).
//!
//! Every list holds all the data, whatever its time: the readers filter by `ts < as_of`.
use super::exposures::{build_exposures, events_by_user, ExposureRow, MAX_PACKED_EVENTS};
use super::scope::FeatureScope;
#[cfg(doc)]
use super::FeatureSpace;
use crate::util::{bit, group_by_key};
use crate::world::{Action, Exposure, World};

/// Items grouped by a dense key, each group in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Groups<T> {
    /// Group `k` is `items[off[k]..off[k + 1]]`.
    pub(super) off: Vec<usize>,
    pub(super) items: Vec<T>,
}

impl<T: Copy + Default> Groups<T> {
    /// Stable counting sort of `keyed` by key (keys must be `< n`, checked by the caller).
    fn build(n: usize, keyed: &[(u32, T)]) -> Self {
        let (off, items) = group_by_key(n, keyed.iter().copied());
        Self { off, items }
    }

    #[inline]
    pub(super) fn get(&self, k: u32) -> &[T] {
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

/// The per-user and per-story lists of a [`FeatureSpace`], every group sorted by time.
#[derive(Debug)]
pub(super) struct Indices {
    /// Engagement events (not impressions) by acting user: (ts, story, action index).
    pub(super) user_eng: Groups<(i64, u32, u8)>,
    /// Positive engagement events on stories authored by the user: (ts, actor).
    pub(super) recv_eng: Groups<(i64, u32)>,
    /// Direct interactions involving the user (either direction): (ts, other user).
    pub(super) inter: Groups<(i64, u32)>,
    /// Exposures by user: (ts, story).
    pub(super) user_exp: Groups<(i64, u32)>,
    /// Positive engagement events by story: (ts, user).
    pub(super) story_eng: Groups<(i64, u32)>,
    /// Exposure times of each author's stories, sorted.
    pub(super) author_exp: Groups<i64>,
    /// Exposure times of each story, sorted.
    pub(super) story_exp: Groups<i64>,
    /// Positive engagement times on each author's stories, sorted.
    pub(super) author_pos: Groups<i64>,
}

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
                || interactions_by_user(world, |_| true),
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
    pub(super) fn build(world: &World) -> (Indices, Option<Vec<ExposureRow>>) {
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
    pub(super) fn build_scoped(world: &World, scope: &FeatureScope) -> Indices {
        let span_fits = match (world.events.first(), world.events.last()) {
            (Some(a), Some(b)) => {
                b.ts.checked_sub(a.ts)
                    .is_some_and(|d| d <= i64::from(u32::MAX))
            }
            _ => true,
        };
        if world.events.is_sorted()
            && world.meta.exposure == Exposure::Logged
            && world.events.len() < MAX_PACKED_EVENTS
            && span_fits
        {
            return Self::build_scoped_sorted(world, scope);
        }
        Self::build_scoped_general(world, scope)
    }

    /// [`Indices::build_scoped`] for any world: the rows that touch the scope, each group
    /// sorted, first sightings by a sort.
    fn build_scoped_general(world: &World, scope: &FeatureScope) -> Indices {
        let (n_users, n_stories) = (world.num_users(), world.stories.len());
        let stories = &world.stories;
        let rows = ScopedRows::collect(world, scope);
        // First sighting per (user, story): the minimum time.
        let firsts = |mut raw: Vec<(u32, u32, i64)>| {
            raw.sort_unstable();
            raw.dedup_by_key(|x| (x.0, x.1));
            raw
        };
        let user_exp_raw = firsts(rows.user_exp);
        let exp_raw = firsts(rows.exp);

        let mut user_eng = Groups::build(n_users, &rows.user_eng);
        user_eng.sort_each_by_key(|x| x.0);
        let recv_eng = Groups::sorted(n_users, rows.recv.iter().copied(), false);
        let story_eng = Groups::sorted(n_stories, rows.story_eng.iter().copied(), false);
        let author_pos = Groups::sorted(n_users, rows.author_pos.iter().copied(), false);
        let inter = interactions_by_user(world, |u| scope.has_user(u));
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

    /// [`Indices::build_scoped`] for events in the world's (ts, user, story, action) order
    /// and logged exposures, without sorting the rows: the viewers' events grouped by user
    /// and walked with a per-story stamp (as [`exposure_indices_sorted`]), the events on the
    /// in-scope authors' stories grouped by story and walked with a per-user stamp (each
    /// pair's first event is its exposure). Identical lists (a test compares).
    ///
    /// # Complexity
    /// One pass over the events, then counting sorts of the k rows kept and a sort of each
    /// author's exposure times: O(E + k log(k / authors) + U + S).
    fn build_scoped_sorted(world: &World, scope: &FeatureScope) -> Indices {
        let (n_users, n_stories) = (world.num_users(), world.stories.len());
        let stories = &world.stories;
        let by_scoped_author = stories_by_scoped_authors(world, scope);
        let mut viewer_events: Vec<(u32, (i64, u32, u8))> = Vec::new();
        // Each story's author, packed (the stories themselves are wider and colder).
        let author_of: Vec<u32> = stories.iter().map(|s| s.author).collect();
        // Events on the in-scope authors' stories: (story, (user, ts - t0)), 8 bytes, read in
        // story order without going back to the events (the caller checked that the time
        // span fits in 32 bits).
        let t0 = world.events.first().map_or(0, |e| e.ts);
        let mut on_authored: Vec<(u32, (u32, u32))> = Vec::with_capacity(world.events.len());
        let mut recv = Vec::new();
        let mut author_pos = Vec::new();
        let mut story_eng = Vec::new();
        for e in &world.events {
            if scope.has_user(e.user) {
                viewer_events.push((e.user, (e.ts, e.story, e.action as u8)));
            }
            let authored = bit(&by_scoped_author, e.story);
            if authored {
                on_authored.push((e.story, (e.user, (e.ts - t0) as u32)));
            }
            if e.action.is_positive() {
                if authored {
                    let a = author_of[e.story as usize];
                    // Received engagements make a viewer's reciprocity: viewers only.
                    if scope.has_user(a) {
                        recv.push((a, (e.ts, e.user)));
                    }
                    author_pos.push((a, e.ts));
                }
                // An in-scope story's engagers, whether or not its author keeps author-side
                // indices (a space given the aggregates keeps none).
                if scope.has_story(e.story) {
                    story_eng.push((e.story, (e.ts, e.user)));
                }
            }
        }
        let (user_eng, user_exp) = viewer_lists_sorted(world, viewer_events);
        let (author_exp, story_exp) = authored_exposures_sorted(world, scope, t0, on_authored);
        let recv_eng = Groups::sorted(n_users, recv.iter().copied(), true);
        let story_eng = Groups::sorted(n_stories, story_eng.iter().copied(), true);
        let author_pos = Groups::sorted(n_users, author_pos.iter().copied(), true);
        let inter = interactions_by_user(world, |u| scope.has_user(u));
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

/// The direct interactions of the users `keep` accepts, either direction (self-interactions
/// dropped): `(ts, other user)` per user, sorted.
fn interactions_by_user(world: &World, keep: impl Fn(u32) -> bool) -> Groups<(i64, u32)> {
    let rows = world
        .interactions
        .iter()
        .filter(|it| it.from != it.to)
        .flat_map(|it| [(it.from, (it.ts, it.to)), (it.to, (it.ts, it.from))])
        .filter(|r| keep(r.0));
    Groups::sorted(world.num_users(), rows, false)
}

/// The stories whose author keeps author-side indices in `scope`, as a bitset over stories.
fn stories_by_scoped_authors(world: &World, scope: &FeatureScope) -> Vec<u64> {
    let mut by_scoped_author = vec![0u64; world.stories.len().div_ceil(64)];
    for (s, st) in world.stories.iter().enumerate() {
        if scope.has_author(st.author) {
            by_scoped_author[s / 64] |= 1 << (s % 64);
        }
    }
    by_scoped_author
}

/// For [`Indices::build_scoped_sorted`]: the viewers' engagements and first sightings (in
/// (ts, story) order) from their `(user, event index)` rows in time order.
#[allow(clippy::type_complexity)]
fn viewer_lists_sorted(
    world: &World,
    viewer_events: Vec<(u32, (i64, u32, u8))>,
) -> (Groups<(i64, u32, u8)>, Groups<(i64, u32)>) {
    let (n_users, n_stories) = (world.num_users(), world.stories.len());
    let by_user = Groups::build(n_users, &viewer_events);
    drop(viewer_events);
    let mut user_eng = Groups {
        off: Vec::with_capacity(n_users + 1),
        items: Vec::new(),
    };
    let mut user_exp = Groups {
        off: Vec::with_capacity(n_users + 1),
        items: Vec::new(),
    };
    user_eng.off.push(0);
    user_exp.off.push(0);
    let mut stamp = vec![u32::MAX; n_stories];
    for (u, w) in by_user.off.windows(2).enumerate() {
        for &(ts, story, action) in &by_user.items[w[0]..w[1]] {
            if action != Action::Impression as u8 {
                user_eng.items.push((ts, story, action));
            }
            if let Some(s) = stamp.get_mut(story as usize) {
                if *s != u as u32 {
                    *s = u as u32;
                    user_exp.items.push((ts, story));
                }
            }
        }
        user_eng.off.push(user_eng.items.len());
        user_exp.off.push(user_exp.items.len());
    }
    (user_eng, user_exp)
}

/// For [`Indices::build_scoped_sorted`]: the exposure times of the in-scope authors' stories
/// (each (story, user) pair's first event), by author and, for in-scope stories, by story,
/// from the `(story, event index)` rows of the events on those stories in time order.
fn authored_exposures_sorted(
    world: &World,
    scope: &FeatureScope,
    t0: i64,
    on_authored: Vec<(u32, (u32, u32))>,
) -> (Groups<i64>, Groups<i64>) {
    let (n_users, n_stories) = (world.num_users(), world.stories.len());
    let by_story = Groups::build(n_stories, &on_authored);
    drop(on_authored);
    let mut firsts: Vec<(u32, i64)> = Vec::with_capacity(by_story.items.len());
    let mut story_exp_rows: Vec<(u32, i64)> = Vec::new();
    let mut stamp = vec![u32::MAX; n_users];
    for (s, w) in by_story.off.windows(2).enumerate() {
        let author = world.stories[s].author;
        let keep = scope.has_story(s as u32);
        for &(user, dt) in &by_story.items[w[0]..w[1]] {
            let ts = t0 + i64::from(dt);
            if let Some(st) = stamp.get_mut(user as usize) {
                if *st != s as u32 {
                    *st = s as u32;
                    firsts.push((author, ts));
                    if keep {
                        story_exp_rows.push((s as u32, ts));
                    }
                }
            }
        }
    }
    drop(by_story);
    let author_exp = Groups::sorted(n_users, firsts.iter().copied(), false);
    let story_exp = Groups::sorted(n_stories, story_exp_rows.iter().copied(), true);
    (author_exp, story_exp)
}

/// The rows of [`Indices::build_scoped`] before grouping: what the events (and, in
/// `FriendsOfAuthor` worlds, the implied exposures) that touch the scope contribute.
#[derive(Default)]
struct ScopedRows {
    /// In-scope viewers' engagements: (user, (ts, story, action index)).
    user_eng: Vec<(u32, (i64, u32, u8))>,
    /// In-scope viewers' sightings: (user, story, ts), every one (not only the first).
    user_exp: Vec<(u32, u32, i64)>,
    /// Sightings of stories by in-scope authors: (story, user, ts).
    exp: Vec<(u32, u32, i64)>,
    /// Positive engagements received by in-scope authors: (author, (ts, actor)).
    recv: Vec<(u32, (i64, u32))>,
    /// Their times: (author, ts).
    author_pos: Vec<(u32, i64)>,
    /// Positive engagements on in-scope stories: (story, (ts, user)).
    story_eng: Vec<(u32, (i64, u32))>,
}

impl ScopedRows {
    /// One filtered pass over the events (in event order), then the implied exposures of a
    /// `FriendsOfAuthor` world (in story order).
    fn collect(world: &World, scope: &FeatureScope) -> ScopedRows {
        let stories = &world.stories;
        let by_scoped_author = stories_by_scoped_authors(world, scope);
        let mut rows = ScopedRows::default();
        for e in &world.events {
            let su = scope.has_user(e.user);
            let sa = bit(&by_scoped_author, e.story);
            // An in-scope story's engagers, whether or not its author keeps author-side
            // indices (a space given the aggregates keeps none).
            if e.action.is_positive() && scope.has_story(e.story) {
                rows.story_eng.push((e.story, (e.ts, e.user)));
            }
            if !(su || sa) {
                continue;
            }
            if su {
                if e.action != Action::Impression {
                    rows.user_eng
                        .push((e.user, (e.ts, e.story, e.action as u8)));
                }
                rows.user_exp.push((e.user, e.story, e.ts));
            }
            if sa {
                rows.exp.push((e.story, e.user, e.ts));
                if e.action.is_positive() {
                    let a = stories[e.story as usize].author;
                    // Received engagements make a viewer's reciprocity: viewers only.
                    if scope.has_user(a) {
                        rows.recv.push((a, (e.ts, e.user)));
                    }
                    rows.author_pos.push((a, e.ts));
                }
            }
        }
        if world.meta.exposure == Exposure::FriendsOfAuthor {
            rows.add_friends_of_author(world, scope, &by_scoped_author);
        }
        rows
    }

    /// The exposures a `FriendsOfAuthor` world implies (every friend of the author at the
    /// story's creation time) for in-scope viewers and for stories by in-scope authors
    /// (`by_scoped_author`, a bitset over stories).
    fn add_friends_of_author(
        &mut self,
        world: &World,
        scope: &FeatureScope,
        by_scoped_author: &[u64],
    ) {
        let g = &world.graph;
        // Friends of in-scope users (whose stories the in-scope users were exposed to).
        let mut near = vec![0u64; g.num_nodes().div_ceil(64)];
        for u in 0..world.num_users() as u32 {
            if scope.has_user(u) {
                for &f in g.neighbors(u) {
                    if let Some(w) = near.get_mut((f / 64) as usize) {
                        *w |= 1 << (f % 64);
                    }
                }
            }
        }
        for (s, st) in world.stories.iter().enumerate() {
            let s = s as u32;
            let sa = bit(by_scoped_author, s);
            if !(sa || bit(&near, st.author)) {
                continue;
            }
            for &f in g.neighbors(st.author) {
                if sa {
                    self.exp.push((s, f, st.created_at));
                }
                if scope.has_user(f) {
                    self.user_exp.push((f, s, st.created_at));
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::exposures::build_exposures_general;

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
    fn sorted_scoped_build_equals_the_general_one() {
        let world = sim_world(5);
        let mut scope = FeatureScope::new(world.num_users(), world.stories.len());
        for u in (0..world.num_users() as u32).step_by(7) {
            scope.add_user(u);
        }
        for s in (0..world.stories.len() as u32).step_by(5) {
            scope.add_story(s);
            scope.add_author(world.stories[s as usize].author);
        }
        let fast = Indices::build_scoped_sorted(&world, &scope);
        assert_same(&fast, &Indices::build_scoped_general(&world, &scope));
        assert!(fast.author_exp.items.len() > 1000 && fast.recv_eng.items.len() > 10);
        // Received engagements are kept for viewers only.
        let full = reference_indices(&world);
        for u in 0..world.num_users() as u32 {
            if scope.has_user(u) {
                assert_eq!(fast.recv_eng.get(u), full.recv_eng.get(u));
            } else {
                assert!(fast.recv_eng.get(u).is_empty());
            }
        }
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
}
