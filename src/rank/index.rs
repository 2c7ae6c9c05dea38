//! Per-world indices built once before the per-user loop ([`RankIndex`]), and the per-run
//! context ([`RankContext`]: world, index, checked parameters, `as_of`, and the popular
//! stories the fallback draws from).
use super::RankParams;
use crate::world::{Action, World};

/// Indices over a world that every viewer's ranking reads. All slices are CSR-style
/// (`off[i]..off[i + 1]`), sorted by time then id, so a time window is two binary searches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankIndex {
    author_off: Vec<usize>,
    /// `(created_at, story)` of every story, grouped by author.
    author_stories: Vec<(i64, u32)>,
    story_off: Vec<usize>,
    /// `(ts, user)` of each user's first positive engagement, grouped by story.
    story_engagers: Vec<(i64, u32)>,
    user_pos_off: Vec<usize>,
    /// `(ts, story)` of each user's first positive engagement with each story, grouped by user.
    user_positive: Vec<(i64, u32)>,
    user_hist_off: Vec<usize>,
    /// `(ts, story, action)` of every event of the user (impressions and actions).
    user_history: Vec<(i64, u32, Action)>,
    /// Events or stories skipped because an index was out of range (a validated world has 0).
    pub skipped: usize,
}

/// Groups `(key, item)` pairs into CSR form over `n` keys by a counting sort, keeping the
/// input order within each key (so input sorted by time stays sorted by time per key).
fn group<T: Copy>(n: usize, rows: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<usize>, Vec<T>) {
    crate::util::group_by_key(n, rows)
}

/// The world's events in (ts, user, story, action) order: borrowed (the world's invariant),
/// or a sorted copy if they are not.
fn events_in_order(world: &World) -> std::borrow::Cow<'_, [crate::world::Event]> {
    if world.events.is_sorted() {
        std::borrow::Cow::Borrowed(&world.events)
    } else {
        tracing::warn!("rank index: events were not sorted; sorting a copy");
        let mut e = world.events.clone();
        e.sort_unstable();
        std::borrow::Cow::Owned(e)
    }
}

/// Keeps, within each group of `(ts, id)` rows (in time order), each id's first row: the
/// first positive engagement per (key, id) pair. `n_ids` bounds the ids.
fn first_per_key(
    off: &[usize],
    items: &[(i64, u32)],
    n_ids: usize,
) -> (Vec<usize>, Vec<(i64, u32)>) {
    let mut out_off = Vec::with_capacity(off.len());
    let mut out: Vec<(i64, u32)> = Vec::with_capacity(items.len());
    out_off.push(0);
    let mut stamp = vec![u32::MAX; n_ids];
    for (k, w) in off.windows(2).enumerate() {
        for &(ts, id) in &items[w[0]..w[1]] {
            if let Some(st) = stamp.get_mut(id as usize) {
                if *st != k as u32 {
                    *st = k as u32;
                    out.push((ts, id));
                }
            }
        }
        out_off.push(out.len());
    }
    (out_off, out)
}

/// The index range of `slice` (sorted by its time key) whose time lies in `[from, to)`.
#[inline]
pub(crate) fn time_range<T>(slice: &[T], ts: impl Fn(&T) -> i64, from: i64, to: i64) -> &[T] {
    let a = slice.partition_point(|x| ts(x) < from);
    let b = slice.partition_point(|x| ts(x) < to);
    &slice[a..b.max(a)]
}

impl RankIndex {
    /// Builds every index. The three independent parts (stories by author, each user's
    /// history and first positive engagements, each story's engagers) are built in parallel;
    /// the result does not depend on the thread count.
    ///
    /// # Complexity
    /// O(S log S + E) time for S stories and E events in the world's (ts, user, story,
    /// action) order (O(E log E) to sort a copy otherwise), O(U + S + E) memory.
    pub fn new(world: &World) -> RankIndex {
        Self::build(world)
    }

    /// The index restricted to what ranking `viewers` reads: the history of the viewers
    /// only, the stories and first positive engagements of `near` users only (callers pass
    /// the viewers and all their friends), and the engagers of stories created at or after
    /// `stories_from` only (the popular fallback's window: `as_of - fallback_window`). Every
    /// slice it holds is identical to [`RankIndex::new`]'s; slices outside the scope are
    /// empty, so rank only the viewers it was built for (tests compare the scoped and the
    /// full paths' feeds).
    ///
    /// # Complexity
    /// One pass over the stories and one over the events (three bit tests per event), then
    /// counting sorts of the k rows kept: O(S + E + k) time, memory O(k + U + S).
    pub fn scoped(world: &World, viewers: &[u32], near: &[u32], stories_from: i64) -> RankIndex {
        let nu = world.num_users();
        let ns = world.stories.len();
        let bits_of = |users: &[u32]| {
            let mut bits = vec![0u64; nu.div_ceil(64)];
            for &u in users {
                if let Some(w) = bits.get_mut((u / 64) as usize) {
                    *w |= 1 << (u % 64);
                }
            }
            bits
        };
        let (is_viewer, is_near) = (bits_of(viewers), bits_of(near));
        let has = crate::util::bit;
        let mut skipped = 0;
        let mut by_author: Vec<(u32, i64, u32)> = Vec::new();
        let mut recent = vec![0u64; ns.div_ceil(64)];
        for (id, s) in world.stories.iter().enumerate() {
            if (s.author as usize) >= nu {
                skipped += 1;
                continue;
            }
            if has(&is_near, s.author) {
                by_author.push((s.author, s.created_at, id as u32));
            }
            if s.created_at >= stories_from {
                recent[id / 64] |= 1 << (id % 64);
            }
        }
        by_author.sort_unstable();
        let (author_off, author_stories) =
            group(nu, by_author.iter().map(|&(a, t, s)| (a, (t, s))));

        let events = events_in_order(world);
        let events: &[crate::world::Event] = &events;
        // One pass: the viewers' events, the near users' positive events, and the positive
        // events on recent stories.
        let mut hist: Vec<(u32, (i64, u32, Action))> = Vec::new();
        let mut pos: Vec<(u32, (i64, u32))> = Vec::new();
        let mut eng: Vec<(u32, (i64, u32))> = Vec::new();
        for e in events {
            if (e.user as usize) >= nu || (e.story as usize) >= ns {
                skipped += 1;
                continue;
            }
            if has(&is_viewer, e.user) {
                hist.push((e.user, (e.ts, e.story, e.action)));
            }
            if e.action.is_positive() {
                if has(&is_near, e.user) {
                    pos.push((e.user, (e.ts, e.story)));
                }
                if has(&recent, e.story) {
                    eng.push((e.story, (e.ts, e.user)));
                }
            }
        }
        let (user_hist_off, user_history) = group(nu, hist.iter().copied());
        drop(hist);
        let (off, items) = group(nu, pos.iter().copied());
        drop(pos);
        let (user_pos_off, user_positive) = first_per_key(&off, &items, ns);
        let (off, items) = group(ns, eng.iter().copied());
        drop(eng);
        let (story_off, story_engagers) = first_per_key(&off, &items, nu);
        if skipped > 0 {
            tracing::warn!(skipped, "rank index: rows with out-of-range ids skipped");
        }
        RankIndex {
            author_off,
            author_stories,
            story_off,
            story_engagers,
            user_pos_off,
            user_positive,
            user_hist_off,
            user_history,
            skipped,
        }
    }

    fn build(world: &World) -> RankIndex {
        let nu = world.num_users();
        let ns = world.stories.len();

        let events = events_in_order(world);
        let events: &[crate::world::Event] = &events;
        let valid = |e: &&crate::world::Event| (e.user as usize) < nu && (e.story as usize) < ns;
        let by_author = || {
            let mut skipped = 0;
            let mut by_author: Vec<(u32, i64, u32)> = Vec::with_capacity(ns);
            for (id, s) in world.stories.iter().enumerate() {
                if (s.author as usize) < nu {
                    by_author.push((s.author, s.created_at, id as u32));
                } else {
                    skipped += 1;
                }
            }
            by_author.sort_unstable();
            let g = group(nu, by_author.iter().map(|&(a, t, s)| (a, (t, s))));
            (g, skipped)
        };
        let by_user = || {
            let skipped = events.iter().filter(|e| !valid(e)).count();
            let (user_hist_off, user_history) = group(
                nu,
                events
                    .iter()
                    .filter(valid)
                    .map(|e| (e.user, (e.ts, e.story, e.action))),
            );
            // First positive engagement per (user, story): walk each user's history in time
            // order with a per-story stamp.
            let mut user_pos_off = Vec::with_capacity(nu + 1);
            let mut user_positive: Vec<(i64, u32)> = Vec::new();
            user_pos_off.push(0);
            let mut stamp = vec![u32::MAX; ns];
            for (u, w) in user_hist_off.windows(2).enumerate() {
                for &(ts, story, action) in &user_history[w[0]..w[1]] {
                    if action.is_positive() && stamp[story as usize] != u as u32 {
                        stamp[story as usize] = u as u32;
                        user_positive.push((ts, story));
                    }
                }
                user_pos_off.push(user_positive.len());
            }
            (
                (user_hist_off, user_history),
                (user_pos_off, user_positive),
                skipped,
            )
        };
        // Per story in (ts, user) order: the story's positive events in time order, keeping
        // each user's first (the same pairs and times as the per-user walk).
        let by_story = || {
            let (off, items) = group(
                ns,
                events
                    .iter()
                    .filter(valid)
                    .filter(|e| e.action.is_positive())
                    .map(|e| (e.story, (e.ts, e.user))),
            );
            first_per_key(&off, &items, nu)
        };
        let (((author_off, author_stories), skipped_stories), (users, (story_off, story_engagers))) =
            rayon::join(by_author, || rayon::join(by_user, by_story));
        let ((user_hist_off, user_history), (user_pos_off, user_positive), skipped_events) = users;
        let skipped = skipped_stories + skipped_events;
        if skipped > 0 {
            tracing::warn!(skipped, "rank index: rows with out-of-range ids skipped");
        }
        RankIndex {
            author_off,
            author_stories,
            story_off,
            story_engagers,
            user_pos_off,
            user_positive,
            user_hist_off,
            user_history,
            skipped,
        }
    }

    fn slice<'a, T>(off: &[usize], data: &'a [T], i: u32) -> &'a [T] {
        let i = i as usize;
        match (off.get(i), off.get(i + 1)) {
            (Some(&a), Some(&b)) => &data[a..b],
            _ => &[],
        }
    }

    /// `(created_at, story)` of the author's stories, oldest first.
    pub fn stories_by(&self, author: u32) -> &[(i64, u32)] {
        Self::slice(&self.author_off, &self.author_stories, author)
    }

    /// `(ts, user)` of each user's first positive engagement with the story, earliest first.
    pub fn engagers(&self, story: u32) -> &[(i64, u32)] {
        Self::slice(&self.story_off, &self.story_engagers, story)
    }

    /// `(ts, story)` of the user's first positive engagement with each story, earliest first.
    pub fn positive_of(&self, user: u32) -> &[(i64, u32)] {
        Self::slice(&self.user_pos_off, &self.user_positive, user)
    }

    /// Every event of the user, earliest first.
    pub fn history(&self, user: u32) -> &[(i64, u32, Action)] {
        Self::slice(&self.user_hist_off, &self.user_history, user)
    }
}

/// Everything candidate-independent for one ranking run at one `as_of`.
#[derive(Debug, Clone)]
pub struct RankContext<'a> {
    pub world: &'a World,
    pub index: &'a RankIndex,
    pub params: &'a RankParams,
    pub as_of: i64,
    /// Recent stories (created within the fallback window) with their positive engagement
    /// count within the window, most engaged first, then newest, then by id.
    pub popular: Vec<(u32, u32)>,
    /// Per user, the index range of [`RankIndex::positive_of`] within the out-of-network
    /// window `[as_of - oon_window, as_of)` (candidate-independent, so searched once).
    oon_positive: Vec<(u32, u32)>,
    /// Per user, the index range of [`RankIndex::stories_by`] within the in-network window.
    in_stories: Vec<(u32, u32)>,
}

impl<'a> RankContext<'a> {
    /// Builds the context, including the popular list for the fallback.
    ///
    /// # Complexity
    /// O(R log R) for the R stories created within the fallback window (binary searches over
    /// each author's stories would not help: the scan is over all stories, O(S)).
    pub fn new(
        world: &'a World,
        index: &'a RankIndex,
        params: &'a RankParams,
        as_of: i64,
    ) -> RankContext<'a> {
        let from = as_of.saturating_sub(params.fallback_window);
        let mut popular: Vec<(u32, u32, i64)> = world
            .stories
            .iter()
            .enumerate()
            .filter(|(_, s)| s.created_at >= from && s.created_at < as_of)
            .map(|(id, s)| {
                let n = time_range(index.engagers(id as u32), |e| e.0, from, as_of).len();
                (id as u32, n as u32, s.created_at)
            })
            .collect();
        popular.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        let window = |slice: &[(i64, u32)], from: i64| -> (u32, u32) {
            let a = slice.partition_point(|x| x.0 < from);
            let b = slice.partition_point(|x| x.0 < as_of).max(a);
            (a as u32, b as u32)
        };
        let oon_from = as_of.saturating_sub(params.oon_window);
        let in_from = as_of.saturating_sub(params.in_network_window);
        let users = 0..world.num_users() as u32;
        let oon_positive = users
            .clone()
            .map(|u| window(index.positive_of(u), oon_from))
            .collect();
        let in_stories = users
            .map(|u| window(index.stories_by(u), in_from))
            .collect();
        RankContext {
            world,
            index,
            params,
            as_of,
            popular: popular.into_iter().map(|(s, n, _)| (s, n)).collect(),
            oon_positive,
            in_stories,
        }
    }

    /// `(ts, story)` of `user`'s first positive engagements within the out-of-network window
    /// `[as_of - oon_window, as_of)`, earliest first.
    #[inline]
    pub fn positive_in_window(&self, user: u32) -> &'a [(i64, u32)] {
        self.window(
            self.index.positive_of(user),
            self.oon_positive.get(user as usize),
            self.params.oon_window,
        )
    }

    /// `(created_at, story)` of `author`'s stories within the in-network window
    /// `[as_of - in_network_window, as_of)`, oldest first.
    #[inline]
    pub fn stories_in_window(&self, author: u32) -> &'a [(i64, u32)] {
        self.window(
            self.index.stories_by(author),
            self.in_stories.get(author as usize),
            self.params.in_network_window,
        )
    }

    /// The part of time-sorted `all` within `[as_of - width, as_of)`: from the range
    /// precomputed by [`RankContext::new`] when there is one, else by two binary searches.
    #[inline]
    fn window(
        &self,
        all: &'a [(i64, u32)],
        cached: Option<&(u32, u32)>,
        width: i64,
    ) -> &'a [(i64, u32)] {
        match cached {
            Some(&(a, b)) => all.get(a as usize..b as usize).unwrap_or(&[]),
            None => time_range(all, |e| e.0, self.as_of.saturating_sub(width), self.as_of),
        }
    }

    /// The default ranking time: one second after the last event (or story) of the world.
    pub fn default_as_of(world: &World) -> i64 {
        world.time_span().map_or(0, |(_, b)| b.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Event;

    /// The index as it was built before the parallel version (one-pass counting sorts, a
    /// global sort for the engagers), kept to check that the contents are identical.
    fn reference(world: &World) -> RankIndex {
        fn group<T: Copy>(n: usize, rows: &[(u32, T)]) -> (Vec<usize>, Vec<T>) {
            let mut off = vec![0usize; n + 1];
            for (k, _) in rows {
                off[*k as usize + 1] += 1;
            }
            for i in 0..n {
                off[i + 1] += off[i];
            }
            let mut next = off.clone();
            let mut out: Vec<Option<T>> = vec![None; rows.len()];
            for &(k, t) in rows {
                out[next[k as usize]] = Some(t);
                next[k as usize] += 1;
            }
            (off, out.into_iter().flatten().collect())
        }
        let nu = world.num_users();
        let ns = world.stories.len();
        let mut skipped = 0;
        let mut by_author: Vec<(u32, i64, u32)> = Vec::new();
        for (id, s) in world.stories.iter().enumerate() {
            if (s.author as usize) < nu {
                by_author.push((s.author, s.created_at, id as u32));
            } else {
                skipped += 1;
            }
        }
        by_author.sort_unstable();
        let rows: Vec<_> = by_author.iter().map(|&(a, t, s)| (a, (t, s))).collect();
        let (author_off, author_stories) = group(nu, &rows);
        let mut events = world.events.clone();
        events.sort_unstable();
        let valid = |e: &&Event| (e.user as usize) < nu && (e.story as usize) < ns;
        skipped += events.iter().filter(|e| !valid(e)).count();
        let rows: Vec<_> = events
            .iter()
            .filter(valid)
            .map(|e| (e.user, (e.ts, e.story, e.action)))
            .collect();
        let (user_hist_off, user_history) = group(nu, &rows);
        let mut keep_user: Vec<(u32, (i64, u32))> = Vec::new();
        let mut stamp = vec![u32::MAX; ns];
        for u in 0..nu {
            for &(ts, story, action) in &user_history[user_hist_off[u]..user_hist_off[u + 1]] {
                if action.is_positive() && stamp[story as usize] != u as u32 {
                    stamp[story as usize] = u as u32;
                    keep_user.push((u as u32, (ts, story)));
                }
            }
        }
        let (user_pos_off, user_positive) = group(nu, &keep_user);
        let mut by_story: Vec<(u32, i64, u32)> =
            keep_user.iter().map(|&(u, (t, s))| (s, t, u)).collect();
        by_story.sort_unstable();
        let rows: Vec<_> = by_story.iter().map(|&(s, t, u)| (s, (t, u))).collect();
        let (story_off, story_engagers) = group(ns, &rows);
        RankIndex {
            author_off,
            author_stories,
            story_off,
            story_engagers,
            user_pos_off,
            user_positive,
            user_hist_off,
            user_history,
            skipped,
        }
    }

    fn sim_world(seed: u64) -> World {
        crate::sim::simulate(&crate::sim::SimParams::new(300, 4, seed)).expect("simulate")
    }

    #[test]
    fn index_equals_the_reference_build() {
        let world = sim_world(21);
        let index = RankIndex::new(&world);
        assert_eq!(index, reference(&world));
        assert!(index.story_engagers.len() > 100);
        assert!(index.user_history.len() > 1000);
    }

    #[test]
    fn unsorted_and_out_of_range_rows_give_the_reference_index() {
        let mut world = sim_world(22);
        world.events.reverse();
        let n = world.stories.len() as u32;
        world.events.push(Event {
            ts: 5,
            user: 1,
            story: n + 3,
            action: Action::Like,
        });
        world.stories[2].author = world.num_users() as u32 + 9;
        let index = RankIndex::new(&world);
        assert_eq!(index.skipped, 2);
        assert_eq!(index, reference(&world));
    }
}
