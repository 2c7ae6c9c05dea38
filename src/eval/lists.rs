//! The evaluation lists: the time split and one candidate list per (viewer, UTC day) of the
//! test period, each candidate labelled with what the viewer did with it.
//!
//! Takes a [`World`] and a split time; hands on [`EvalLists`] (flat candidate storage, lists
//! as contiguous ranges, ordered by (day, viewer), candidates within a list by story id).
//!
//! - **Candidates.** `Exposure::Logged`: every impression row at or after the split; an
//!   engagement at or after the split whose (viewer, story) has no impression at or before it
//!   in the test period implies one at the engagement time (every action implies an
//!   impression). `Exposure::FriendsOfAuthor`: every friend of the author is taken to have seen
//!   each story created at or after the split, at its `created_at`. Repeated impressions of one
//!   story to one viewer on one day are one candidate (the first).
//! - **Labels.** Each engagement event at or after the split is attributed to the latest
//!   candidate of the same (viewer, story) shown at or before it (for inferred worlds this is
//!   the "horizon": any later engagement). Relevance is the largest grade among the positive
//!   actions (default click 1, like 2, comment 3, share 3); a hide makes it 0 (a negative).

use super::EvalError;
use crate::util::time::day_start;
use crate::world::{Action, Event, Exposure, World};

/// The default split: the start of the UTC day holding the point at 80% of the world's time
/// span (so the last ~20% is the test period).
///
/// # Errors
/// [`EvalError::EmptyWorld`] when the world has neither events nor stories.
pub fn default_split_at(world: &World) -> Result<i64, EvalError> {
    let (t0, t1) = world.time_span().ok_or(EvalError::EmptyWorld)?;
    let t = t0 as i128 + (t1 as i128 - t0 as i128) * 4 / 5;
    Ok(day_start(t as i64))
}

/// Checks that `split_at` leaves events on both sides: at least one event before it to train
/// on, and the last event at or after it (else every test list would be empty and every
/// metric a meaningless 0).
///
/// # Errors
/// [`EvalError::SplitAfterLastEvent`] or [`EvalError::SplitBeforeFirstEvent`] naming the split,
/// the world's first and last event and the default split;
/// [`EvalError::EmptyWorld`] when the world has neither events nor stories.
pub fn check_split_at(world: &World, split_at: i64) -> Result<(), EvalError> {
    let (first, last) = world.time_span().ok_or(EvalError::EmptyWorld)?;
    let default = default_split_at(world)?;
    if split_at > last {
        return Err(EvalError::SplitAfterLastEvent {
            split_at,
            first,
            last,
            default,
        });
    }
    if split_at <= first {
        return Err(EvalError::SplitBeforeFirstEvent {
            split_at,
            first,
            last,
            default,
        });
    }
    Ok(())
}

/// Relevance grade per engagement action, in [`Action::ENGAGEMENTS`] order (click, like,
/// comment, share, hide); the hide slot is ignored (a hide always makes relevance 0).
pub const DEFAULT_GRADES: [f64; 5] = [1.0, 2.0, 3.0, 3.0, 0.0];

/// One candidate of one list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub story: u32,
    /// When it was shown (first impression that day, or the inferred exposure time).
    pub ts: i64,
    /// Graded relevance (0 = negative).
    pub rel: f64,
    /// Bit `i` set when the viewer did `Action::ENGAGEMENTS[i]` on it.
    pub actions: u8,
}

impl Candidate {
    /// Whether the viewer did `action` (an engagement) on this candidate.
    pub fn did(&self, action: Action) -> bool {
        match action {
            Action::Impression => true,
            a => self.actions & (1 << (a.index() - 1)) != 0,
        }
    }
}

/// One (viewer, day) list: `candidates[start..end]` of [`EvalLists`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalList {
    pub viewer: u32,
    /// Start of the UTC day; also the `as_of` time every method ranks at.
    pub day: i64,
    pub start: usize,
    pub end: usize,
}

/// Every test list of a world.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalLists {
    pub split_at: i64,
    pub exposure: Exposure,
    /// Ordered by (day, viewer).
    pub lists: Vec<EvalList>,
    /// All candidates, list after list.
    pub candidates: Vec<Candidate>,
    /// Logged worlds: engagements that implied an impression missing from the log.
    pub implied_impressions: usize,
    /// Engagements in the test period that matched no candidate (ignored).
    pub unattributed_engagements: usize,
}

impl EvalLists {
    /// Builds the lists of `world` for the test period starting at `split_at`, with relevance
    /// grades `grades` (see [`DEFAULT_GRADES`]).
    ///
    /// # Errors
    /// [`EvalError::UnknownStory`] / [`EvalError::UnknownUser`] when an event or story points
    /// outside the world's tables.
    ///
    /// # Complexity
    /// O(C log C + E log C) for C candidates and E test events.
    pub fn build(world: &World, split_at: i64, grades: &[f64; 5]) -> Result<Self, EvalError> {
        let bounds = Bounds::of(world);
        // (viewer, story, ts) exposures.
        let mut raw = test_exposures(world, split_at, &bounds)?;
        raw.sort_unstable();
        let implied = if world.meta.exposure == Exposure::Logged {
            add_implied_impressions(world, split_at, &bounds, &mut raw)?
        } else {
            0
        };
        // One candidate per (viewer, story, day): the first exposure.
        raw.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1 && day_start(a.2) == day_start(b.2));
        let mut actions = vec![0u8; raw.len()];
        let mut unattributed = 0usize;
        for ev in test_engagements(world, split_at) {
            match latest(&raw, ev.user, ev.story, ev.ts) {
                Some(i) => actions[i] |= 1 << (ev.action.index() - 1),
                None => unattributed += 1,
            }
        }
        let mut cands: Vec<(i64, u32, Candidate)> = raw
            .iter()
            .zip(&actions)
            .map(|(&(v, s, ts), &a)| {
                let cand = Candidate {
                    story: s,
                    ts,
                    rel: relevance(a, grades),
                    actions: a,
                };
                (day_start(ts), v, cand)
            })
            .collect();
        cands.sort_unstable_by_key(|c| (c.0, c.1, c.2.story));
        let mut lists = Vec::new();
        let mut i = 0;
        while i < cands.len() {
            let (day, viewer) = (cands[i].0, cands[i].1);
            let mut j = i;
            while j < cands.len() && cands[j].0 == day && cands[j].1 == viewer {
                j += 1;
            }
            lists.push(EvalList {
                viewer,
                day,
                start: i,
                end: j,
            });
            i = j;
        }
        Ok(EvalLists {
            split_at,
            exposure: world.meta.exposure,
            lists,
            candidates: cands.into_iter().map(|c| c.2).collect(),
            implied_impressions: implied,
            unattributed_engagements: unattributed,
        })
    }

    /// The candidates of one list (ordered by story id).
    pub fn candidates_of(&self, list: &EvalList) -> &[Candidate] {
        self.candidates.get(list.start..list.end).unwrap_or(&[])
    }

    /// Number of lists holding at least one positive.
    pub fn lists_with_positive(&self) -> usize {
        self.lists
            .iter()
            .filter(|l| self.candidates_of(l).iter().any(|c| c.rel > 0.0))
            .count()
    }
}

/// The id ranges events and stories must fall in.
struct Bounds {
    users: usize,
    stories: usize,
}

impl Bounds {
    fn of(world: &World) -> Self {
        Self {
            users: world.num_users().max(world.graph.num_nodes()),
            stories: world.stories.len(),
        }
    }

    fn user(&self, u: u32) -> Result<(), EvalError> {
        if (u as usize) < self.users {
            Ok(())
        } else {
            Err(EvalError::UnknownUser {
                user: u,
                users: self.users,
            })
        }
    }

    fn story(&self, s: u32) -> Result<(), EvalError> {
        if (s as usize) < self.stories {
            Ok(())
        } else {
            Err(EvalError::UnknownStory {
                story: s,
                stories: self.stories,
            })
        }
    }
}

/// The `(viewer, story, ts)` exposures of the test period, unsorted: the logged impressions,
/// or every friend of the author of each test-period story at its creation.
fn test_exposures(
    world: &World,
    split_at: i64,
    bounds: &Bounds,
) -> Result<Vec<(u32, u32, i64)>, EvalError> {
    let mut raw: Vec<(u32, u32, i64)> = Vec::new();
    match world.meta.exposure {
        Exposure::Logged => {
            for ev in world.events.iter().filter(|e| e.ts >= split_at) {
                if ev.action == Action::Impression {
                    bounds.user(ev.user)?;
                    bounds.story(ev.story)?;
                    raw.push((ev.user, ev.story, ev.ts));
                }
            }
        }
        Exposure::FriendsOfAuthor => {
            for (s, story) in world.stories.iter().enumerate() {
                if story.created_at < split_at {
                    continue;
                }
                if (story.author as usize) < world.graph.num_nodes() {
                    for &f in world.graph.neighbors(story.author) {
                        raw.push((f, s as u32, story.created_at));
                    }
                }
            }
        }
    }
    Ok(raw)
}

/// The engagement events (every action but impressions) of the test period.
fn test_engagements(world: &World, split_at: i64) -> impl Iterator<Item = &Event> {
    world
        .events
        .iter()
        .filter(move |e| e.ts >= split_at && e.action != Action::Impression)
}

/// Latest exposure of (viewer, story) at or before `ts` in sorted `raw`, as an index.
fn latest(raw: &[(u32, u32, i64)], v: u32, s: u32, ts: i64) -> Option<usize> {
    let end = raw.partition_point(|&(a, b, t)| (a, b, t) <= (v, s, ts));
    (end > 0 && raw[end - 1].0 == v && raw[end - 1].1 == s).then(|| end - 1)
}

/// Logged worlds: adds to sorted `raw` (and keeps it sorted) the impression each engagement
/// implies when the log has none of its (viewer, story) at or before it, one per (viewer,
/// story, day); returns how many were added.
fn add_implied_impressions(
    world: &World,
    split_at: i64,
    bounds: &Bounds,
    raw: &mut Vec<(u32, u32, i64)>,
) -> Result<usize, EvalError> {
    let mut extra = Vec::new();
    for ev in test_engagements(world, split_at) {
        bounds.user(ev.user)?;
        bounds.story(ev.story)?;
        if latest(raw, ev.user, ev.story, ev.ts).is_none() {
            extra.push((ev.user, ev.story, ev.ts));
        }
    }
    extra.sort_unstable();
    // Several engagements of one pair on one day imply a single impression.
    extra.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1 && day_start(a.2) == day_start(b.2));
    let implied = extra.len();
    raw.extend(extra);
    raw.sort_unstable();
    Ok(implied)
}

/// Relevance of an action bitmask: 0 when hidden, else the largest positive grade.
fn relevance(actions: u8, grades: &[f64; 5]) -> f64 {
    if actions & (1 << (Action::Hide.index() - 1)) != 0 {
        return 0.0;
    }
    Action::ENGAGEMENTS
        .iter()
        .enumerate()
        .filter(|&(i, a)| a.is_positive() && actions & (1 << i) != 0)
        .map(|(i, _)| grades[i])
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relevance_grades_and_hide() {
        let g = DEFAULT_GRADES;
        assert_eq!(relevance(0, &g), 0.0);
        assert_eq!(relevance(0b00001, &g), 1.0); // click
        assert_eq!(relevance(0b00011, &g), 2.0); // click + like
        assert_eq!(relevance(0b01000, &g), 3.0); // share
        assert_eq!(relevance(0b10011, &g), 0.0); // hidden
    }
}
