//! Filters: drop the viewer's own stories, stories already impressed or engaged before
//! `as_of`, stories by authors the viewer hid within the hide filter window, and stories
//! older than the maximum age. Each drop keeps its [`FilterReason`].
use super::sources::Candidate;
use super::{RankContext, RankIndex};

/// Why a candidate was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterReason {
    /// The viewer wrote it.
    OwnStory,
    /// The viewer was shown it or engaged with it before `as_of`.
    AlreadySeen,
    /// The viewer hid a story by this author within the hide filter window.
    HiddenAuthor,
    /// Created more than `max_age` before `as_of`.
    TooOld,
}

impl FilterReason {
    /// Every reason, in index order.
    pub const ALL: [FilterReason; 4] = [
        FilterReason::OwnStory,
        FilterReason::AlreadySeen,
        FilterReason::HiddenAuthor,
        FilterReason::TooOld,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilterReason::OwnStory => "own_story",
            FilterReason::AlreadySeen => "already_seen",
            FilterReason::HiddenAuthor => "hidden_author",
            FilterReason::TooOld => "too_old",
        }
    }
}

/// The viewer's history before `as_of` in stamped per-worker arrays: which stories were seen,
/// and when each author was last hidden. Loading is O(events of the viewer), lookups O(1).
#[derive(Debug, Clone)]
pub struct ViewerHistory {
    seen: Vec<u32>,
    hide_stamp: Vec<u32>,
    hide_last: Vec<i64>,
    epoch: u32,
}

impl ViewerHistory {
    pub fn new(num_users: usize, num_stories: usize) -> Self {
        Self {
            seen: vec![0; num_stories],
            hide_stamp: vec![0; num_users],
            hide_last: vec![i64::MIN; num_users],
            epoch: 0,
        }
    }

    /// Loads `viewer`'s events strictly before `as_of`.
    pub fn load(&mut self, ctx: &RankContext<'_>, index: &RankIndex, viewer: u32) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.seen.fill(0);
            self.hide_stamp.fill(0);
            self.epoch = 1;
        }
        let hist = index.history(viewer);
        let end = hist.partition_point(|e| e.0 < ctx.as_of);
        for &(ts, story, action) in &hist[..end] {
            if let Some(x) = self.seen.get_mut(story as usize) {
                *x = self.epoch;
            }
            if action == crate::world::Action::Hide {
                if let Some(s) = ctx.world.stories.get(story as usize) {
                    let a = s.author as usize;
                    if a < self.hide_stamp.len() {
                        if self.hide_stamp[a] != self.epoch {
                            self.hide_stamp[a] = self.epoch;
                            self.hide_last[a] = ts;
                        } else {
                            self.hide_last[a] = self.hide_last[a].max(ts);
                        }
                    }
                }
            }
        }
    }

    /// Whether the viewer saw or engaged with `story` before `as_of`.
    #[inline]
    pub fn seen(&self, story: u32) -> bool {
        self.seen.get(story as usize) == Some(&self.epoch)
    }

    /// When the viewer last hid a story by `author` before `as_of`.
    #[inline]
    pub fn last_hide(&self, author: u32) -> Option<i64> {
        let a = author as usize;
        (self.hide_stamp.get(a) == Some(&self.epoch)).then(|| self.hide_last[a])
    }
}

/// Why `c` must be dropped for `viewer`, if it must (the first matching reason, in
/// [`FilterReason::ALL`] order).
#[inline]
pub fn reason(
    ctx: &RankContext<'_>,
    viewer: u32,
    hist: &ViewerHistory,
    c: &Candidate,
) -> Option<FilterReason> {
    if c.author == viewer {
        return Some(FilterReason::OwnStory);
    }
    if hist.seen(c.story) {
        return Some(FilterReason::AlreadySeen);
    }
    if let Some(t) = hist.last_hide(c.author) {
        if t >= ctx.as_of.saturating_sub(ctx.params.hide_filter) {
            return Some(FilterReason::HiddenAuthor);
        }
    }
    if c.created_at < ctx.as_of.saturating_sub(ctx.params.max_age) {
        return Some(FilterReason::TooOld);
    }
    None
}

/// Removes every candidate that must be dropped, appending it with its reason to `dropped`
/// and counting it in `counts` (indexed by [`FilterReason::index`]).
pub fn apply(
    ctx: &RankContext<'_>,
    viewer: u32,
    hist: &ViewerHistory,
    cands: &mut Vec<Candidate>,
    dropped: &mut Vec<(Candidate, FilterReason)>,
    counts: &mut [u64; 4],
) {
    cands.retain(|c| match reason(ctx, viewer, hist, c) {
        Some(r) => {
            counts[r.index()] += 1;
            dropped.push((*c, r));
            false
        }
        None => true,
    });
}
