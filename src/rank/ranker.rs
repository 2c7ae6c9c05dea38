//! The per-user facade: [`rank_user`] runs sources -> filters -> scoring -> heuristics ->
//! selection for one viewer with a reused [`Worker`]. The batch loop and the debug binary
//! both call it, so they cannot disagree.
use super::filters::{self, FilterReason, ViewerHistory};
use super::heuristics::{self, demote};
use super::select::{select_top_k, Placed, SelectScratch, Selectable};
use super::sources::{self, Candidate, SourceScratch};
use super::{RankContext, RankError, RankStats, Source};
use crate::model::{Score, Scorer};

/// The heuristic multipliers applied to one item's value score.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Multipliers {
    pub diversity: f64,
    pub out_of_network: f64,
    pub fatigue: f64,
}

/// One ranked story.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedItem {
    pub story: u32,
    pub author: u32,
    pub source: Source,
    pub friends_engaged: u32,
    /// Final score: the value score after every multiplier (see [`heuristics::demote`]).
    pub score: f64,
    /// The model's value score V.
    pub value: f64,
    /// Head probabilities (click, like, comment, share, hide; 0 for missing heads).
    pub p: [f64; 5],
    pub multipliers: Multipliers,
}

/// One user's ranked feed. `fallback` is true when the user had no candidate and the feed
/// holds popular recent stories instead (possibly none, if nothing was popular).
#[derive(Debug, Clone, PartialEq)]
pub struct UserFeed {
    pub user: u32,
    pub as_of: i64,
    pub fallback: bool,
    pub items: Vec<FeedItem>,
}

/// A scored candidate (aligned with [`Worker::candidates`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoredCandidate {
    pub score: Score,
    pub out_of_network: f64,
    pub fatigue: f64,
    /// `value` after the out-of-network and fatigue multipliers.
    pub base: f64,
}

/// Per-worker scratch reused across users (sized to the world once; no allocation per
/// candidate), plus the worker's running [`RankStats`].
#[derive(Debug, Clone)]
pub struct Worker {
    sources: SourceScratch,
    hist: ViewerHistory,
    select: SelectScratch,
    selectable: Vec<Selectable>,
    /// The last user's candidates that passed the filters.
    pub candidates: Vec<Candidate>,
    /// Their scores, aligned with `candidates`.
    pub scored: Vec<ScoredCandidate>,
    /// The last user's dropped candidates with reasons.
    pub filtered: Vec<(Candidate, FilterReason)>,
    /// The last user's placed candidates, best first (indices into `candidates`).
    pub placed: Vec<Placed>,
    pub stats: RankStats,
}

impl Worker {
    /// Scratch sized for `world`.
    pub fn new(world: &crate::world::World) -> Worker {
        let (nu, ns) = (world.num_users(), world.stories.len());
        Worker {
            sources: SourceScratch::new(ns),
            hist: ViewerHistory::new(nu, ns),
            select: SelectScratch::new(nu),
            selectable: Vec::new(),
            candidates: Vec::new(),
            scored: Vec::new(),
            filtered: Vec::new(),
            placed: Vec::new(),
            stats: RankStats::default(),
        }
    }

    /// Stories by `author` placed in the last feed (for the diversity multiplier an unplaced
    /// candidate would get next).
    pub fn placed_by(&self, author: u32) -> u32 {
        self.select.placed_by(author)
    }
}

/// How many candidates ahead the scoring loop asks the scorer to prefetch (two stages: the
/// story's own data first, then what it points to).
const PREFETCH_FAR: usize = 6;
const PREFETCH_NEAR: usize = 2;

/// The sources and filters stages for one user: fills `w.candidates` (what will be scored)
/// and `w.filtered`, falling back to popular stories when nothing passes; returns whether the
/// fallback was used. Updates `w.stats` (considered, filtered, fallbacks).
fn gather(ctx: &RankContext<'_>, user: u32, w: &mut Worker) -> bool {
    w.candidates.clear();
    w.filtered.clear();
    w.scored.clear();
    sources::count_friend_engagements(ctx, user, &mut w.sources);
    sources::in_network(ctx, user, &w.sources, &mut w.candidates);
    sources::out_of_network(ctx, user, &w.sources, &mut w.candidates);
    w.hist.load(ctx, ctx.index, user);
    w.stats.considered += w.candidates.len() as u64;
    filters::apply(
        ctx,
        user,
        &w.hist,
        &mut w.candidates,
        &mut w.filtered,
        &mut w.stats.filtered,
    );
    let fallback = w.candidates.is_empty();
    if fallback {
        sources::popular(ctx, user, &w.hist, &w.sources, &mut w.candidates);
        w.stats.considered += w.candidates.len() as u64;
        w.stats.fallbacks += 1;
    }
    fallback
}

/// The candidates [`rank_user`] would score for `user` (after the sources, the filters and
/// the fallback), without scoring them: what a caller needs to know in advance to build
/// features for this one user only (the debug binary's scoped feature space).
///
/// # Errors
/// [`RankError::UnknownUser`] if `user` is out of range.
pub fn candidates_of(
    ctx: &RankContext<'_>,
    user: u32,
) -> Result<Vec<super::sources::Candidate>, RankError> {
    if (user as usize) >= ctx.world.num_users() {
        return Err(RankError::UnknownUser(user.to_string()));
    }
    let mut w = Worker::new(ctx.world);
    gather(ctx, user, &mut w);
    Ok(w.candidates)
}

/// As [`candidates_of`] with a caller's [`Worker`] (no allocation per user; for gathering
/// many users' candidates). `user` must be in range.
pub(crate) fn candidates_into<'w>(
    ctx: &RankContext<'_>,
    user: u32,
    w: &'w mut Worker,
) -> &'w [super::sources::Candidate] {
    gather(ctx, user, w);
    &w.candidates
}

/// Ranks one user into the worker's buffers; returns whether the fallback was used.
pub(crate) fn rank_into<S: Scorer>(
    ctx: &RankContext<'_>,
    scorer: &S,
    vs: &mut S::Viewer,
    w: &mut Worker,
    user: u32,
) -> Result<bool, RankError> {
    let p = ctx.params;
    let fallback = gather(ctx, user, w);
    w.selectable.clear();
    for (i, c) in w.candidates.iter().enumerate() {
        for d in [PREFETCH_FAR, PREFETCH_NEAR] {
            if let Some(next) = w.candidates.get(i + d) {
                scorer.prefetch(vs, next.story, d);
            }
        }
        let score = scorer.score(vs, c.story)?;
        if !score.value.is_finite() {
            return Err(RankError::NonFiniteScore {
                user: ctx.world.users.name(user).to_string(),
                story: ctx.world.story_ids.name(c.story).to_string(),
                value: score.value,
            });
        }
        let oon = heuristics::out_of_network(p, c.source);
        let fatigue = heuristics::fatigue(p, ctx.as_of, w.hist.last_hide(c.author));
        let base = demote(demote(score.value, oon), fatigue);
        w.scored.push(ScoredCandidate {
            score,
            out_of_network: oon,
            fatigue,
            base,
        });
        w.selectable.push(Selectable {
            idx: i as u32,
            story: c.story,
            author: c.author,
            base,
        });
    }
    w.stats.scored += w.candidates.len() as u64;
    select_top_k(
        &w.selectable,
        p.k,
        p.diversity_decay,
        p.diversity_floor,
        &mut w.select,
        &mut w.placed,
    );
    w.stats.users += 1;
    w.stats.items += w.placed.len() as u64;
    if w.placed.is_empty() {
        w.stats.empty_feeds += 1;
    }
    Ok(fallback)
}

/// Copies the worker's placed candidates into [`FeedItem`]s.
pub(crate) fn items_of(w: &Worker, out: &mut Vec<FeedItem>) {
    out.clear();
    out.extend(w.placed.iter().map(|pl| {
        let c = &w.candidates[pl.idx as usize];
        let s = &w.scored[pl.idx as usize];
        FeedItem {
            story: c.story,
            author: c.author,
            source: c.source,
            friends_engaged: c.friends_engaged,
            score: pl.score,
            value: s.score.value,
            p: s.score.p,
            multipliers: Multipliers {
                diversity: pl.diversity,
                out_of_network: s.out_of_network,
                fatigue: s.fatigue,
            },
        }
    }));
}

/// Ranks one user's feed at `ctx.as_of`: the facade both the batch job and the debug binary
/// call. Updates `worker.stats`.
///
/// # Errors
/// [`RankError::UnknownUser`] if `user` is out of range; [`RankError::NonFiniteScore`] if the
/// scorer returns NaN or an infinity.
///
/// # Complexity
/// O(F log E + C log C_cap + K log C) for F friends, C candidates and feed length K, plus C
/// scorer calls; no allocation per candidate.
pub fn rank_user<S: Scorer>(
    ctx: &RankContext<'_>,
    scorer: &S,
    worker: &mut Worker,
    user: u32,
) -> Result<UserFeed, RankError> {
    if (user as usize) >= ctx.world.num_users() {
        return Err(RankError::UnknownUser(user.to_string()));
    }
    let mut vs = scorer.viewer(user, ctx.as_of)?;
    let fallback = rank_into(ctx, scorer, &mut vs, worker, user)?;
    let mut items = Vec::with_capacity(worker.placed.len());
    items_of(worker, &mut items);
    Ok(UserFeed {
        user,
        as_of: ctx.as_of,
        fallback,
        items,
    })
}
