//! The ranking methods compared by the evaluation, apart from the learned model: the
//! baselines every feed paper uses and, on simulated worlds, the oracle.
//!
//! Takes the [`World`] (only data strictly before each list's `as_of` is used, except by the
//! oracle, which reads the true probabilities) and hands on one score per candidate (higher
//! ranks first; the caller breaks ties with [`tie_key`], a seeded hash of (seed, viewer, day,
//! story), never by story id: imported worlds' ids encode user, artist or month, and an id
//! tie-break would hand that signal to whichever method ties most).
//!
//! - `chronological`: `created_at` (newest first).
//! - `popularity`: positive engagements (click, like, comment, share) on the story before
//!   `as_of`.
//! - `edgerank` (the classic EdgeRank of Facebook's 2010 f8 talk: affinity x edge weight x
//!   time decay), with `t = as_of`, `a` the story's author and `v` the viewer:
//!   `EdgeRank(v, s) = (b * [v ~ a] + sum_{e in E(v,a), e.ts < t} w(e) * 2^(-(t - e.ts) / H_a))
//!   * 2^(-max(0, t - created_at(s)) / H_s)`, where `E(v,a)` is the viewer's past engagements
//!   on the author's stories (weights click 1, like 2, comment 4, share 6, hide -4) plus the
//!   viewer's direct interactions with the author (weight 1), the affinity is floored at 0,
//!   `b = 1` is the friendship prior, `H_a = 14` days, `H_s = 1` day.
//! - `random`: uniform scores from a ChaCha8 stream seeded by (seed, viewer, day).
//! - `oracle`: `V = sum_k w_k * p_k` from the world's true probabilities for that impression.
//! - `ceiling` (simulated worlds whose hidden inputs the simulator reproduces): the same value
//!   from the probabilities of the `estimated_tastes_no_quality` learner of
//!   [`crate::sim::ceiling`], which knows the hidden model's form and estimates each viewer's
//!   tastes from the impressions before the split only ([`super::evaluate_learner`]).

use super::lists::{Candidate, EvalList};
use crate::util::time::DAY;
use crate::world::{Action, Truth, World};
use rand::{Rng, SeedableRng};

/// EdgeRank settings (see the module docs for the formula).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeRankParams {
    /// Weight per engagement action in [`Action::ENGAGEMENTS`] order (click, like, comment,
    /// share, hide). Default `[1, 2, 4, 6, -4]`.
    pub action_weights: [f64; 5],
    /// Weight of one direct interaction (message, wall post...). Default 1.
    pub interaction_weight: f64,
    /// Affinity prior for friends of the author. Default 1.
    pub friend_prior: f64,
    /// Half-life of past interactions, seconds. Default 14 days.
    pub affinity_half_life: f64,
    /// Half-life of the story's age, seconds. Default 1 day.
    pub story_half_life: f64,
}

impl Default for EdgeRankParams {
    fn default() -> Self {
        Self {
            action_weights: [1.0, 2.0, 4.0, 6.0, -4.0],
            interaction_weight: 1.0,
            friend_prior: 1.0,
            affinity_half_life: 14.0 * DAY as f64,
            story_half_life: DAY as f64,
        }
    }
}

/// Values precomputed once per world for the baselines.
pub(crate) struct BaselineIndex {
    /// Per story: sorted times of positive engagements (CSR).
    pop_offsets: Vec<usize>,
    pop_ts: Vec<i64>,
    /// Per user: engagements (ts, author, action index) sorted by ts (CSR).
    user_offsets: Vec<usize>,
    user_events: Vec<(i64, u32, u8)>,
    /// Per user: direct interactions (ts, to) sorted by ts (CSR).
    inter_offsets: Vec<usize>,
    inter: Vec<(i64, u32)>,
}

fn csr<T: Copy>(n: usize, items: &[(usize, T)]) -> (Vec<usize>, Vec<T>) {
    let mut offsets = vec![0usize; n + 1];
    for &(k, _) in items {
        offsets[k + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut out: Vec<Option<T>> = vec![None; items.len()];
    for &(k, v) in items {
        out[fill[k]] = Some(v);
        fill[k] += 1;
    }
    (offsets, out.into_iter().flatten().collect())
}

impl BaselineIndex {
    /// Builds the index. Events pointing outside the world's tables are skipped (the list
    /// builder has already rejected them for the test period).
    pub(crate) fn new(world: &World) -> Self {
        let n_stories = world.stories.len();
        let n_users = world.num_users().max(world.graph.num_nodes());
        let mut pop = Vec::new();
        let mut ue = Vec::new();
        // Events are sorted by ts, so each CSR row comes out sorted by ts.
        for ev in &world.events {
            if ev.action == Action::Impression || (ev.story as usize) >= n_stories {
                continue;
            }
            if ev.action.is_positive() {
                pop.push((ev.story as usize, ev.ts));
            }
            if (ev.user as usize) < n_users {
                let author = world.stories[ev.story as usize].author;
                ue.push((
                    ev.user as usize,
                    (ev.ts, author, (ev.action.index() - 1) as u8),
                ));
            }
        }
        let inter: Vec<(usize, (i64, u32))> = world
            .interactions
            .iter()
            .filter(|i| (i.from as usize) < n_users)
            .map(|i| (i.from as usize, (i.ts, i.to)))
            .collect();
        let (pop_offsets, pop_ts) = csr(n_stories, &pop);
        let (user_offsets, user_events) = csr(n_users, &ue);
        let (inter_offsets, inter) = csr(n_users, &inter);
        Self {
            pop_offsets,
            pop_ts,
            user_offsets,
            user_events,
            inter_offsets,
            inter,
        }
    }

    fn popularity(&self, story: u32, as_of: i64) -> f64 {
        let s = story as usize;
        let row = match (self.pop_offsets.get(s), self.pop_offsets.get(s + 1)) {
            (Some(&a), Some(&b)) => &self.pop_ts[a..b],
            _ => return 0.0,
        };
        row.partition_point(|&t| t < as_of) as f64
    }

    fn user_row(&self, u: u32) -> &[(i64, u32, u8)] {
        let u = u as usize;
        match (self.user_offsets.get(u), self.user_offsets.get(u + 1)) {
            (Some(&a), Some(&b)) => &self.user_events[a..b],
            _ => &[],
        }
    }

    fn inter_row(&self, u: u32) -> &[(i64, u32)] {
        let u = u as usize;
        match (self.inter_offsets.get(u), self.inter_offsets.get(u + 1)) {
            (Some(&a), Some(&b)) => &self.inter[a..b],
            _ => &[],
        }
    }
}

/// A baseline ranking method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Baseline {
    Chronological,
    Popularity,
    EdgeRank,
    Random,
}

impl Baseline {
    /// Every baseline, in report order.
    pub const ALL: [Baseline; 4] = [
        Baseline::Chronological,
        Baseline::Popularity,
        Baseline::EdgeRank,
        Baseline::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Baseline::Chronological => "chronological",
            Baseline::Popularity => "popularity",
            Baseline::EdgeRank => "edgerank",
            Baseline::Random => "random",
        }
    }
}

/// SplitMix64 finaliser: mixes (seed, viewer, day) into one RNG seed.
pub(crate) fn mix_seed(seed: u64, viewer: u32, day: i64) -> u64 {
    let mut z = seed
        ^ (u64::from(viewer)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (day as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The evaluation's tie-break key of `story` in the list of (`viewer`, `day`): a SplitMix64
/// mix of (seed, viewer, day, story). Candidates with equal scores are ranked by this key
/// ascending (then by story id, for the astronomically rare equal keys), so ties are broken
/// in a seeded pseudo-random order that carries no signal from how ids were assigned, and is
/// the same on every run and for every thread count. The same key is used for every method.
pub fn tie_key(seed: u64, viewer: u32, day: i64, story: u32) -> u64 {
    // A different stream from the random baseline's (which seeds ChaCha with `mix_seed`).
    let base = mix_seed(seed ^ 0xA5A5_5A5A_C3C3_3C3C, viewer, day);
    let mut z = base ^ u64::from(story).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What the baselines read: the world, its index, EdgeRank settings and the random seed.
pub(crate) struct BaselineCtx<'a> {
    pub world: &'a World,
    pub index: &'a BaselineIndex,
    pub params: &'a EdgeRankParams,
    pub seed: u64,
}

/// Scores one list with a baseline into `out` (one score per candidate, same order).
pub(crate) fn score_baseline(
    ctx: &BaselineCtx<'_>,
    b: Baseline,
    list: &EvalList,
    cands: &[Candidate],
    out: &mut Vec<f64>,
) {
    let BaselineCtx {
        world,
        index,
        params,
        seed,
    } = *ctx;
    out.clear();
    let as_of = list.day;
    let created = |s: u32| world.stories.get(s as usize).map_or(0, |st| st.created_at);
    let author = |s: u32| world.stories.get(s as usize).map(|st| st.author);
    match b {
        Baseline::Chronological => out.extend(cands.iter().map(|c| created(c.story) as f64)),
        Baseline::Popularity => out.extend(cands.iter().map(|c| index.popularity(c.story, as_of))),
        Baseline::Random => {
            let mut rng =
                rand_chacha::ChaCha8Rng::seed_from_u64(mix_seed(seed, list.viewer, as_of));
            out.extend(cands.iter().map(|_| rng.gen::<f64>()));
        }
        Baseline::EdgeRank => {
            // Affinity per distinct author of the list (small: one list's authors).
            let mut authors: Vec<u32> = cands.iter().filter_map(|c| author(c.story)).collect();
            authors.sort_unstable();
            authors.dedup();
            let mut aff = vec![0.0f64; authors.len()];
            let decay = |dt: i64, h: f64| (-(dt.max(0) as f64) / h).exp2();
            let row = index.user_row(list.viewer);
            for &(ts, a, act) in &row[..row.partition_point(|e| e.0 < as_of)] {
                if let Ok(i) = authors.binary_search(&a) {
                    let w = params
                        .action_weights
                        .get(act as usize)
                        .copied()
                        .unwrap_or(0.0);
                    aff[i] += w * decay(as_of - ts, params.affinity_half_life);
                }
            }
            let row = index.inter_row(list.viewer);
            for &(ts, to) in &row[..row.partition_point(|e| e.0 < as_of)] {
                if let Ok(i) = authors.binary_search(&to) {
                    aff[i] +=
                        params.interaction_weight * decay(as_of - ts, params.affinity_half_life);
                }
            }
            let n = world.graph.num_nodes();
            for (i, a) in authors.iter().enumerate() {
                let friend = (list.viewer as usize) < n
                    && (*a as usize) < n
                    && world.graph.has_edge(list.viewer, *a);
                aff[i] = (aff[i] + if friend { params.friend_prior } else { 0.0 }).max(0.0);
            }
            out.extend(cands.iter().map(|c| {
                let a = author(c.story).and_then(|a| authors.binary_search(&a).ok());
                let affinity = a.map_or(0.0, |i| aff[i]);
                affinity * decay(as_of - created(c.story), params.story_half_life)
            }));
        }
    }
}

/// Per-impression probabilities (the world's truth, or a reference learner's), indexed by
/// (user, story, ts).
pub(crate) struct TruthIndex {
    rows: Vec<(u32, u32, i64, [f64; 5])>,
}

impl TruthIndex {
    /// Indexes `truth` (the world's, or a learner's rows of the same shape).
    pub(crate) fn new(truth: &[Truth]) -> Self {
        let mut rows: Vec<_> = truth.iter().map(|t| (t.user, t.story, t.ts, t.p)).collect();
        rows.sort_by_key(|r| (r.0, r.1, r.2));
        Self { rows }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The truth row of (user, story) at the latest time at or before `ts`, else the earliest
    /// one after it; `None` when the pair has no row.
    pub(crate) fn lookup(&self, user: u32, story: u32, ts: i64) -> Option<[f64; 5]> {
        let lo = self.rows.partition_point(|r| (r.0, r.1) < (user, story));
        let hi = self.rows.partition_point(|r| (r.0, r.1) <= (user, story));
        let pair = self.rows.get(lo..hi)?;
        if pair.is_empty() {
            return None;
        }
        let at = pair.partition_point(|r| r.2 <= ts);
        Some(if at > 0 { pair[at - 1].3 } else { pair[0].3 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_groups_in_input_order() {
        let (off, v) = csr(3, &[(2, 'a'), (0, 'b'), (2, 'c')]);
        assert_eq!(off, vec![0, 1, 1, 3]);
        assert_eq!(v, vec!['b', 'a', 'c']);
    }

    #[test]
    fn mix_seed_differs_per_viewer_and_day() {
        assert_ne!(mix_seed(1, 2, 0), mix_seed(1, 3, 0));
        assert_ne!(mix_seed(1, 2, 0), mix_seed(1, 2, DAY));
        assert_eq!(mix_seed(7, 2, DAY), mix_seed(7, 2, DAY));
    }

    #[test]
    fn tie_key_order_is_not_id_order() {
        // Over many lists of 10 stories, the story with the smallest key is each position
        // about equally often (id order would always pick story 0).
        let mut first = [0usize; 10];
        for viewer in 0..2000u32 {
            let best = (0..10u32)
                .min_by_key(|&s| tie_key(3, viewer, DAY, s))
                .unwrap_or(0);
            first[best as usize] += 1;
        }
        for (s, &c) in first.iter().enumerate() {
            assert!(
                (130..=270).contains(&c),
                "story {s} first {c} times of 2000"
            );
        }
        // deterministic, and the seed, viewer, day and story all matter
        assert_eq!(tie_key(1, 2, DAY, 3), tie_key(1, 2, DAY, 3));
        assert_ne!(tie_key(1, 2, DAY, 3), tie_key(2, 2, DAY, 3));
        assert_ne!(tie_key(1, 2, DAY, 3), tie_key(1, 3, DAY, 3));
        assert_ne!(tie_key(1, 2, DAY, 3), tie_key(1, 2, 2 * DAY, 3));
        assert_ne!(tie_key(1, 2, DAY, 3), tie_key(1, 2, DAY, 4));
    }
}
