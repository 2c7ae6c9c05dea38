//! Exposures (a user's first sighting of a story, with the first time of each engagement on
//! it): [`ExposureRow`] and [`build_exposures`], the examples and labels that model training
//! (through [`super::FeatureSpace::exposures`]) and matrix factorisation read.
//!
//! Two builders with identical output: a linear one for logged worlds whose events are in the
//! documented (ts, user, story, action) order, and a general one that sorts.
use crate::util::group_by_key;
use crate::world::{Action, Exposure, World};

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

/// Largest event count for the packed (event index, action) tags of the fast paths.
pub(super) const MAX_PACKED_EVENTS: usize = 1 << 29;

/// Each user's events in time order, as `(ts, story, event index << 3 | action)` grouped by
/// user (a stable counting sort of events already in time order). Needs fewer than
/// [`MAX_PACKED_EVENTS`] events.
pub(super) fn events_by_user(world: &World) -> (Vec<usize>, Vec<(i64, u32, u32)>) {
    group_by_key(
        world.num_users(),
        world
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.user, (e.ts, e.story, (i as u32) << 3 | e.action as u32))),
    )
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
pub(super) fn build_exposures_general(world: &World) -> Vec<ExposureRow> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Event;

    fn sim_world(seed: u64) -> World {
        crate::sim::simulate(&crate::sim::SimParams::new(300, 4, seed)).expect("simulate")
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
