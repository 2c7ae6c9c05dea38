//! Candidate sources: in-network (friends' recent stories), out-of-network (stories enough
//! friends engaged with) and the popular fallback. Each appends [`Candidate`]s, remembering
//! their [`Source`], to a reused buffer, and applies its cap deterministically.
use super::filters::{self, ViewerHistory};
use super::{RankContext, Source};

/// A candidate story for one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub story: u32,
    pub author: u32,
    pub created_at: i64,
    pub source: Source,
    /// Distinct friends of the viewer who engaged positively with the story within the
    /// out-of-network window before `as_of`.
    pub friends_engaged: u32,
}

/// Per-worker scratch for counting friends' engagements (stamped arrays, reset in O(1)).
#[derive(Debug, Clone)]
pub struct SourceScratch {
    /// `(stamp, count)` per story, together for locality.
    slot: Vec<(u32, u32)>,
    epoch: u32,
    touched: Vec<u32>,
}

impl SourceScratch {
    /// Scratch for a world with `num_stories` stories.
    pub fn new(num_stories: usize) -> Self {
        Self {
            slot: vec![(0, 0); num_stories],
            epoch: 0,
            touched: Vec::new(),
        }
    }

    fn next_epoch(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.slot.fill((0, 0));
            self.epoch = 1;
        }
        self.touched.clear();
    }

    /// Distinct friends' engagements counted by [`count_friend_engagements`] (0 if none).
    #[inline]
    pub fn friends_engaged(&self, story: u32) -> u32 {
        match self.slot.get(story as usize) {
            Some(&(e, n)) if e == self.epoch => n,
            _ => 0,
        }
    }
}

/// Counts, for every story, the viewer's friends who engaged positively with it within
/// `[as_of - oon_window, as_of)`.
///
/// # Complexity
/// O(sum over friends of (log E_f + engagements in the window)).
pub fn count_friend_engagements(ctx: &RankContext<'_>, viewer: u32, scratch: &mut SourceScratch) {
    scratch.next_epoch();
    for &f in ctx.world.graph.neighbors(viewer) {
        for &(_, story) in ctx.positive_in_window(f) {
            let Some(slot) = scratch.slot.get_mut(story as usize) else {
                continue;
            };
            if slot.0 != scratch.epoch {
                *slot = (scratch.epoch, 0);
                scratch.touched.push(story);
            }
            slot.1 += 1;
        }
    }
}

/// Keeps the `cap` best of `out[start..]` by `better` (selection, not a full sort).
fn cap_by(
    out: &mut Vec<Candidate>,
    start: usize,
    cap: usize,
    better: impl Fn(&Candidate, &Candidate) -> std::cmp::Ordering,
) {
    let tail = &mut out[start..];
    if tail.len() > cap {
        tail.select_nth_unstable_by(cap - 1, &better);
        out.truncate(start + cap);
    }
}

/// In-network: stories by the viewer's friends created within `[as_of - window, as_of)`;
/// at most `in_network_cap`, the newest kept (ties by story id). Call after
/// [`count_friend_engagements`] (it fills `friends_engaged`).
pub fn in_network(
    ctx: &RankContext<'_>,
    viewer: u32,
    scratch: &SourceScratch,
    out: &mut Vec<Candidate>,
) {
    let start = out.len();
    for &f in ctx.world.graph.neighbors(viewer) {
        for &(created_at, story) in ctx.stories_in_window(f) {
            out.push(Candidate {
                story,
                author: f,
                created_at,
                source: Source::InNetwork,
                friends_engaged: scratch.friends_engaged(story),
            });
        }
    }
    cap_by(out, start, ctx.params.in_network_cap, |a, b| {
        b.created_at.cmp(&a.created_at).then(a.story.cmp(&b.story))
    });
}

/// Out-of-network: stories not by a friend that at least `oon_min_friends` distinct friends
/// engaged with (counted by [`count_friend_engagements`]); at most `oon_cap`, the most
/// engaged kept, then the newest, then by story id. The viewer's own stories are included
/// here and dropped by the filter (so the drop is counted).
pub fn out_of_network(
    ctx: &RankContext<'_>,
    viewer: u32,
    scratch: &SourceScratch,
    out: &mut Vec<Candidate>,
) {
    let start = out.len();
    let g = &ctx.world.graph;
    for &story in &scratch.touched {
        let n = scratch.friends_engaged(story);
        if n < ctx.params.oon_min_friends {
            continue;
        }
        let Some(s) = ctx.world.stories.get(story as usize) else {
            continue;
        };
        if g.has_edge(viewer, s.author) {
            continue;
        }
        out.push(Candidate {
            story,
            author: s.author,
            created_at: s.created_at,
            source: Source::OutOfNetwork,
            friends_engaged: n,
        });
    }
    cap_by(out, start, ctx.params.oon_cap, |a, b| {
        b.friends_engaged
            .cmp(&a.friends_engaged)
            .then(b.created_at.cmp(&a.created_at))
            .then(a.story.cmp(&b.story))
    });
}

/// The fallback for a viewer with no candidate: the most engaged recent stories
/// ([`RankContext::popular`]) that pass every filter, at most `fallback_cap`.
pub fn popular(
    ctx: &RankContext<'_>,
    viewer: u32,
    hist: &ViewerHistory,
    scratch: &SourceScratch,
    out: &mut Vec<Candidate>,
) {
    let mut taken = 0;
    for &(story, _) in &ctx.popular {
        if taken >= ctx.params.fallback_cap {
            break;
        }
        let Some(s) = ctx.world.stories.get(story as usize) else {
            continue;
        };
        let c = Candidate {
            story,
            author: s.author,
            created_at: s.created_at,
            source: Source::Popular,
            friends_engaged: scratch.friends_engaged(story),
        };
        if filters::reason(ctx, viewer, hist, &c).is_none() {
            out.push(c);
            taken += 1;
        }
    }
}
