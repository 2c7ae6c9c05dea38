//! The world simulator: overlapping circles, partners, tastes, a logging policy and a hidden
//! engagement model with known truth. Takes [`SimParams`] (checked by [`SimParams::check`]);
//! hands on a complete [`World`] (graph, stories, events, interactions, truth) that
//! [`crate::io::world_tsv::write::write_world`] writes.
//!
//! # The generative story
//! 1. **Circles** ([`social`]): each user joins 1, 2 or 3 circles (35/40/25%); circle sizes are
//!    discrete Pareto (`circle_min`, `circle_alpha`, `circle_max`), so a few circles are large.
//!    Circles of at most 10 are near-cliques (families); in larger ones each member draws about
//!    `within_degree x (size/10)^0.3 x sociability` circle-mates (sociability log-normal,
//!    sigma 0.9, mean 1).
//!    Triadic closure (`closure` friend-of-friend edges per user) and `long_range` random ties
//!    follow. Degrees are heavy-tailed (big circles, several memberships, sociability).
//! 2. **Partners**: a share `partner_share` of users are paired; the partner is tied to 2 + Poisson(2)
//!    friends of the user in *each* of the user's circles (and symmetrically), so the partner's
//!    common friends with the user span circles that do not know each other: high dispersion.
//! 3. **Close friends**: the partner plus about `close_friends - 1` other friends. Direct
//!    interactions (`interactions.tsv`: message 55%, profile_view 30%, wall_post 15%) arrive as
//!    Poisson processes at `rate_partner`, `rate_close` or `rate_other` per day from
//!    `warmup_days` before day 0 to the end.
//! 4. **Stories**: each author posts Poisson(`stories_per_day x activity`) stories a day
//!    (activity log-normal, sigma 1: heavy-tailed), from `window_days` before day 0; kind from
//!    the author's favourite kind (50%) or uniform; topic from the author's three best-matching
//!    topics (70%) or uniform; a hidden quality `q ~ N(0, 0.5^2)`.
//! 5. **Tastes**: topic factors `g_t` and user factors `f_u` of rank `taste_dim` (user factors
//!    mix their circles' factors, so friends share tastes); kind tastes `kappa_u ~ N(0, 0.7^2)`.
//! 6. **Sessions**: each user has Poisson(`sessions_per_day x rate_u`) sessions a day at
//!    uniform times. The **logging policy** (not the optimal ranking) takes unseen stories of
//!    friends from the last `window_days` plus out-of-network stories that friends liked,
//!    commented or shared (up to the previous day), scores them
//!    `-age_days + policy_noise x N(0,1) - policy_oon_penalty x oon`, and shows the top
//!    `impressions_per_session`, 20 seconds apart.
//! 7. **Engagement**: each impression draws hide, then click/like/comment/share from the hidden
//!    logistic model in [`hidden`] (tie strength, embeddedness, dispersion, topic and kind
//!    taste, quality, author popularity, structural diversity, age, out-of-network). The true
//!    marginal probabilities go to `World::truth`; each action is logged at or after its
//!    impression.
//! 8. **Tie strength evolves**: `tie(u,v)` is a decayed sum (`tie_decay` per day, 0.955 as in
//!    Twitter's RealGraph) of u's interactions towards v (message 1, profile view 0.5, wall post
//!    1.5), half of v's towards u, and u's engagements with v's stories (click 0.3, like 1,
//!    comment 2, share 1.5; the author gets a quarter back). It is updated after every day.
//!
//! # Determinism
//! Every draw comes from `ChaCha8Rng` streams keyed by (seed, stream, user, day); within a day
//! users are simulated in parallel against the state at the start of the day and results are
//! merged in user order, so the output is identical whatever the thread count.
//!
//! # Complexity
//! O(n + E log E) for the graph plus the cost of [`EdgeSignals::compute`] once on the final
//! graph; then O(sessions x (candidates + impressions)) per day; memory linear in users,
//! edges, stories and events.

pub mod ceiling;
pub mod hidden;
pub mod params;
pub mod replay;
pub mod rng;
pub mod social;

pub use params::{CheckedSimParams, SimParams};

use crate::graph::{EdgeSignals, SignalParams};
use crate::util::progress::{advancer, Progress, Silent};
use crate::util::time::DAY;
use crate::world::{
    Action, Event, Exposure, Interaction, Interner, Story, Truth, World, WorldMeta,
};
use hidden::HiddenX;
use rand::Rng;
use rayon::prelude::*;
use rng::{normal, poisson, rng_for, Stream};

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error(
        "the world's recorded simulator settings do not reproduce it ({what}: {detail}): it \
         was edited or written by another version of the simulator, so its hidden inputs are \
         unknown"
    )]
    NotReproduced { what: &'static str, detail: String },
}

/// Interaction kinds and their weight in tie strength.
pub const INTERACTION_KINDS: [(&str, f64); 3] =
    [("message", 1.0), ("profile_view", 0.5), ("wall_post", 1.5)];

/// Tie-strength weight of each engagement (click, like, comment, share, hide).
pub const ENGAGEMENT_TIE_WEIGHT: [f64; 5] = [0.3, 1.0, 2.0, 1.5, 0.0];

/// Simulates a world.
///
/// # Errors
/// [`SimError::InvalidParam`] if the parameters do not pass [`SimParams::check`].
pub fn simulate(params: &SimParams) -> Result<World, SimError> {
    let p = params.check()?;
    Ok(simulate_checked(&p))
}

/// One impression with the hidden model's inputs and what the viewer did (the sampled
/// outcome, in [`Action::ENGAGEMENTS`] order), for analyses that need the latent variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HiddenRow {
    pub user: u32,
    pub story: u32,
    pub ts: i64,
    pub x: HiddenX,
    pub topic: u32,
    pub fired: [bool; 5],
    /// When each head's action is (or, not fired, would have been) logged: at or after `ts`.
    pub logged_at: [i64; 5],
}

impl HiddenRow {
    /// Whether head `k` fired and was logged before `t`: what a learner at time `t` knows.
    pub fn fired_before(&self, k: usize, t: i64) -> bool {
        self.fired.get(k).copied().unwrap_or(false)
            && self.logged_at.get(k).is_some_and(|&at| at < t)
    }
}

/// The latent side of a simulated world: every impression's hidden inputs (sorted like
/// [`World::truth`]) and the taste model needed to estimate tastes from data.
#[derive(Debug, Clone)]
pub struct Hidden {
    pub rows: Vec<HiddenRow>,
    pub taste_dim: usize,
    /// Topic factors `g_t`, `taste_dim` per topic.
    pub topic_factors: Vec<f64>,
    /// Shared (circle) part of each user's taste factors, `taste_dim` per user.
    pub taste_prior: Vec<f64>,
    /// Standard deviation of the individual part of a taste factor.
    pub taste_noise_sd: f64,
    /// Standard deviation of a kind taste `kappa_u[kind]`.
    pub kind_taste_sd: f64,
}

/// As [`simulate`], also returning the hidden inputs of every impression. The world is
/// identical to what [`simulate`] returns for the same parameters.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_with_hidden(params: &SimParams) -> Result<(World, Hidden), SimError> {
    let p = params.check()?;
    Ok(simulate_inner(&p, true, &Silent))
}

/// As [`simulate`], or [`simulate_with_hidden`] when `hidden` (the hidden side is `None`
/// otherwise), reporting two steps to `progress`: "graph signals" (one unit per user) and
/// "simulating days" (one unit per simulated day, warm-up days excluded). The world is the
/// same as without progress.
///
/// # Errors
/// As [`simulate`].
pub fn simulate_with_progress(
    params: &SimParams,
    hidden: bool,
    progress: &dyn Progress,
) -> Result<(World, Option<Hidden>), SimError> {
    let p = params.check()?;
    let (world, h) = simulate_inner(&p, hidden, progress);
    Ok((world, hidden.then_some(h)))
}

/// A story with its hidden quality (internal).
#[derive(Debug, Clone, Copy)]
struct SimStory {
    created_at: i64,
    author: u32,
    kind: u32,
    topic: u32,
    quality: f64,
}

fn gen_stories(p: &CheckedSimParams, s: &social::Social) -> Vec<SimStory> {
    let d = p.taste_dim;
    let per_author: Vec<Vec<SimStory>> = (0..p.users as u32)
        .into_par_iter()
        .map(|a| {
            let mut rng = rng_for(p.seed, Stream::Stories, a as u64, 0);
            let activity = (normal(&mut rng) - 0.5).exp();
            let fav = rng.gen_range(0..4u32);
            let uf = s.user_factor(a, d);
            let mut scored: Vec<(f64, u32)> = (0..p.topics as u32)
                .map(|t| {
                    let g = s.topic_factor(t, d);
                    (uf.iter().zip(g).map(|(x, y)| x * y).sum::<f64>(), t)
                })
                .collect();
            scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            let top: Vec<u32> = scored.iter().take(3).map(|x| x.1).collect();
            let mut out = Vec::new();
            for day in -(p.window_days as i64)..p.days as i64 {
                let k = poisson(&mut rng, p.stories_per_day * activity);
                for _ in 0..k {
                    let created_at = p.start + day * DAY + rng.gen_range(0..DAY);
                    let kind = if rng.gen::<f64>() < 0.5 {
                        fav
                    } else {
                        rng.gen_range(0..4)
                    };
                    let topic = if rng.gen::<f64>() < 0.7 {
                        top[rng.gen_range(0..top.len())]
                    } else {
                        rng.gen_range(0..p.topics as u32)
                    };
                    let quality = 0.5 * normal(&mut rng);
                    out.push(SimStory {
                        created_at,
                        author: a,
                        kind,
                        topic,
                        quality,
                    });
                }
            }
            out.sort_by_key(|x| x.created_at);
            out
        })
        .collect();
    let mut all: Vec<(SimStory, u32)> = Vec::new();
    for v in per_author {
        for (i, st) in v.into_iter().enumerate() {
            all.push((st, i as u32));
        }
    }
    all.par_sort_unstable_by(|x, y| {
        (x.0.created_at, x.0.author, x.1).cmp(&(y.0.created_at, y.0.author, y.1))
    });
    all.into_iter().map(|x| x.0).collect()
}

fn gen_interactions(p: &CheckedSimParams, s: &social::Social) -> Vec<Interaction> {
    let g = &s.graph;
    let span_days = (p.warmup_days + p.days) as i64;
    let t0 = p.start - p.warmup_days as i64 * DAY;
    let per_user: Vec<Vec<Interaction>> = (0..p.users as u32)
        .into_par_iter()
        .map(|u| {
            let mut rng = rng_for(p.seed, Stream::Interactions, u as u64, 0);
            let mut out = Vec::new();
            for &v in g.neighbors(u) {
                let rate = if s.partner[u as usize] == Some(v) {
                    p.rate_partner
                } else if s.close[u as usize].binary_search(&v).is_ok() {
                    p.rate_close
                } else {
                    p.rate_other
                };
                let k = poisson(&mut rng, rate * span_days as f64);
                for _ in 0..k {
                    let ts = t0 + rng.gen_range(0..span_days * DAY);
                    let x: f64 = rng.gen();
                    let kind = if x < 0.55 {
                        0
                    } else if x < 0.85 {
                        1
                    } else {
                        2
                    };
                    out.push(Interaction {
                        ts,
                        from: u,
                        to: v,
                        kind,
                    });
                }
            }
            out
        })
        .collect();
    let mut all: Vec<Interaction> = per_user.into_iter().flatten().collect();
    all.par_sort_unstable();
    all
}

/// Read-only state shared by all users during one day.
struct Ctx<'a> {
    p: &'a CheckedSimParams,
    s: &'a social::Social,
    stories: &'a [SimStory],
    /// Story indices of each author in time order (CSR).
    author_off: &'a [usize],
    author_stories: &'a [u32],
    emb: &'a [u32],
    dispn: &'a [f64],
    tie: &'a [f64],
    pop: &'a [f64],
    session_rate: &'a [f64],
    /// Users who liked/commented/shared each story before today (sorted).
    engaged_by: &'a [Vec<u32>],
    /// Stories each user liked/commented/shared in the last `window_days` days.
    recent_pos: &'a [Vec<(i64, u32)>],
    /// Whether to record [`HiddenRow`]s.
    record: bool,
}

/// What one user did in one day (also the log of every day so far).
#[derive(Default)]
struct DayOut {
    events: Vec<Event>,
    truth: Vec<Truth>,
    hidden: Vec<HiddenRow>,
}

/// Connected components of the subgraph induced by `nodes` (sorted).
fn components(g: &crate::graph::Graph, nodes: &[u32]) -> usize {
    let k = nodes.len();
    let mut parent: Vec<usize> = (0..k).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut comps = k;
    for i in 0..k {
        for j in i + 1..k {
            if g.has_edge(nodes[i], nodes[j]) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b {
                    parent[a] = b;
                    comps -= 1;
                }
            }
        }
    }
    comps
}

/// Sorted intersection of two sorted slices, at most `cap` elements.
fn intersect(a: &[u32], b: &[u32], cap: usize, out: &mut Vec<u32>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() && out.len() < cap {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
}

/// The hidden-model inputs for viewer `u`, story `si` at time `t`.
fn features(ctx: &Ctx, u: u32, si: u32, t: i64, scratch: &mut Vec<u32>) -> HiddenX {
    let p = ctx.p;
    let g = &ctx.s.graph;
    let st = &ctx.stories[si as usize];
    let a = st.author;
    let mut x = [0.0; 10];
    if let Some(slot) = g.edge_slot(u, a) {
        x[0] = ctx.tie[slot].ln_1p();
        x[1] = (ctx.emb[slot] as f64).ln_1p();
        x[2] = ctx.dispn[slot].min(2.0);
    } else {
        x[9] = 1.0;
    }
    let d = p.taste_dim;
    x[3] = ctx
        .s
        .user_factor(u, d)
        .iter()
        .zip(ctx.s.topic_factor(st.topic, d))
        .map(|(a, b)| a * b)
        .sum();
    x[4] = ctx.s.kind_taste[u as usize * 4 + st.kind as usize];
    x[5] = st.quality;
    x[6] = ctx.pop[a as usize];
    intersect(&ctx.engaged_by[si as usize], g.neighbors(u), 40, scratch);
    x[7] = (components(g, scratch) as f64).min(5.0);
    x[8] = (t - st.created_at) as f64 / DAY as f64;
    HiddenX {
        x,
        kind: st.kind as usize,
    }
}

/// Delay ranges (seconds) of each engagement after its impression.
const DELAY: [(i64, i64); 5] = [(2, 60), (3, 120), (10, 300), (5, 200), (1, 30)];

fn user_day(ctx: &Ctx, u: u32, day: i64, seen: &mut Vec<u32>) -> DayOut {
    let p = ctx.p;
    let g = &ctx.s.graph;
    let mut rng = rng_for(p.seed, Stream::Sessions, u as u64, day);
    let mut out = DayOut::default();
    let day_start = p.start + day * DAY;
    let window = p.window_days as i64 * DAY;
    // Forget stories that can no longer be candidates.
    seen.retain(|&s| ctx.stories[s as usize].created_at >= day_start - window);
    let k = poisson(&mut rng, ctx.session_rate[u as usize]).min(8);
    let mut times: Vec<i64> = (0..k).map(|_| day_start + rng.gen_range(0..DAY)).collect();
    times.sort_unstable();
    let mut cands: Vec<(f64, u32)> = Vec::new();
    let mut scratch: Vec<u32> = Vec::new();
    let nb = g.neighbors(u);
    for t in times {
        let lo = t - window;
        cands.clear();
        for &f in nb {
            let list =
                &ctx.author_stories[ctx.author_off[f as usize]..ctx.author_off[f as usize + 1]];
            let start = list.partition_point(|&s| ctx.stories[s as usize].created_at < lo);
            for &s in &list[start..] {
                let c = ctx.stories[s as usize].created_at;
                if c >= t {
                    break;
                }
                if seen.contains(&s) {
                    continue;
                }
                let score = -((t - c) as f64 / DAY as f64) + p.policy_noise * normal(&mut rng);
                cands.push((score, s));
            }
        }
        let in_network = cands.len();
        for &f in nb {
            for &(_, s) in &ctx.recent_pos[f as usize] {
                let st = &ctx.stories[s as usize];
                if st.author == u
                    || st.created_at < lo
                    || st.created_at >= t
                    || nb.binary_search(&st.author).is_ok()
                    || seen.contains(&s)
                {
                    continue;
                }
                let score = -((t - st.created_at) as f64 / DAY as f64)
                    + p.policy_noise * normal(&mut rng)
                    - p.policy_oon_penalty;
                cands.push((score, s));
            }
        }
        // Several friends may share the same out-of-network story: keep its best score.
        if cands.len() > in_network {
            cands[in_network..].sort_by(|x, y| x.1.cmp(&y.1).then(y.0.total_cmp(&x.0)));
            let mut w = in_network;
            for r in in_network..cands.len() {
                if w == in_network || cands[w - 1].1 != cands[r].1 {
                    cands[w] = cands[r];
                    w += 1;
                }
            }
            cands.truncate(w);
        }
        cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        for (i, &(_, s)) in cands.iter().take(p.impressions_per_session).enumerate() {
            let ts = t + 20 * i as i64;
            let h = features(ctx, u, s, ts, &mut scratch);
            let pr = hidden::probabilities(&h);
            seen.push(s);
            out.events.push(Event {
                ts,
                user: u,
                story: s,
                action: Action::Impression,
            });
            out.truth.push(Truth {
                user: u,
                story: s,
                ts,
                p: pr,
            });
            let r: [f64; 5] = rng.gen();
            let mut fired = [false; 5];
            if r[4] < pr[4] {
                fired[4] = true;
            } else {
                let keep = 1.0 - pr[4];
                for k in 0..4 {
                    fired[k] = r[k] * keep < pr[k];
                }
            }
            let mut logged_at = [ts; 5];
            for (k, &f) in fired.iter().enumerate() {
                logged_at[k] = ts + rng.gen_range(DELAY[k].0..=DELAY[k].1);
                if f {
                    out.events.push(Event {
                        ts: logged_at[k],
                        user: u,
                        story: s,
                        action: Action::ENGAGEMENTS[k],
                    });
                }
            }
            if ctx.record {
                out.hidden.push(HiddenRow {
                    user: u,
                    story: s,
                    ts,
                    x: h,
                    topic: ctx.stories[s as usize].topic,
                    fired,
                    logged_at,
                });
            }
        }
    }
    out
}

/// Simulates a world from checked parameters (see the module docs for the generative story).
///
/// # Complexity
/// See the module docs.
pub fn simulate_checked(p: &CheckedSimParams) -> World {
    simulate_inner(p, false, &Silent).0
}

/// The simulation; `record` fills [`Hidden::rows`] (left empty otherwise).
fn simulate_inner(p: &CheckedSimParams, record: bool, progress: &dyn Progress) -> (World, Hidden) {
    let n = p.users;
    let s = social::build(p);
    let g = &s.graph;
    tracing::info!(users = n, edges = g.num_edges(), "simulated graph");

    // Graph signals, once, on the final graph.
    progress.step("graph signals", g.num_nodes() as u64);
    let sig = EdgeSignals::compute_with(
        g,
        &SignalParams::default(),
        &crate::graph::fast::FastOptions::default(),
        Some(&advancer(progress)),
    );
    tracing::info!("graph signals computed");
    let emb = sig.embeddedness;
    let dispn = sig.disp_norm_paper;
    drop(sig.jaccard);
    drop(sig.adamic_adar);
    drop(sig.recursive);

    let pop = centred_log_degrees(g);
    let session_rate = session_rates(p);
    let stories = gen_stories(p, &s);
    let (author_off, author_stories) = stories_by_author(n, &stories);
    tracing::info!(stories = stories.len(), "stories generated");
    let interactions = gen_interactions(p, &s);
    tracing::info!(interactions = interactions.len(), "interactions generated");
    let mut dynamics = Dynamics::new(g.num_slots(), n, stories.len());
    for day in -(p.warmup_days as i64)..0 {
        dynamics.decay_and_interact(p, g, &interactions, day);
    }

    let mut seen: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut log = DayOut::default();
    progress.step("simulating days", p.days as u64);
    for day in 0..p.days as i64 {
        let ctx = Ctx {
            p,
            s: &s,
            stories: &stories,
            author_off: &author_off,
            author_stories: &author_stories,
            emb: &emb,
            dispn: &dispn,
            tie: &dynamics.tie,
            pop: &pop,
            session_rate: &session_rate,
            engaged_by: &dynamics.engaged_by,
            recent_pos: &dynamics.recent_pos,
            record,
        };
        let outs: Vec<DayOut> = seen
            .par_iter_mut()
            .enumerate()
            .map(|(u, sn)| user_day(&ctx, u as u32, day, sn))
            .collect();
        // Merge in user order.
        dynamics.decay_and_interact(p, g, &interactions, day);
        dynamics.absorb(p, g, &stories, day, outs, &mut log);
        tracing::debug!(day, events = log.events.len(), "simulated day");
        progress.advance(1);
    }
    let DayOut {
        mut events,
        mut truth,
        hidden: mut hidden_rows,
    } = log;
    events.par_sort_unstable();
    truth.par_sort_unstable_by(|a, b| (a.ts, a.user, a.story).cmp(&(b.ts, b.user, b.story)));
    hidden_rows.par_sort_unstable_by(|a, b| (a.ts, a.user, a.story).cmp(&(b.ts, b.user, b.story)));
    let hidden = Hidden {
        rows: hidden_rows,
        taste_dim: p.taste_dim,
        topic_factors: s.topic_factors,
        taste_prior: s.taste_prior,
        taste_noise_sd: s.taste_noise_sd,
        kind_taste_sd: social::KIND_TASTE_SD,
    };
    let world = assemble_world(p, s.graph, &stories, events, interactions, truth);
    (world, hidden)
}

/// Author popularity: `ln(1 + degree)`, centred on its mean over users.
fn centred_log_degrees(g: &crate::graph::Graph) -> Vec<f64> {
    let n = g.num_nodes();
    let pop_raw: Vec<f64> = (0..n as u32)
        .map(|u| (g.degree(u) as f64).ln_1p())
        .collect();
    let mean_pop = pop_raw.iter().sum::<f64>() / n as f64;
    pop_raw.iter().map(|x| x - mean_pop).collect()
}

/// Each user's expected sessions per day (log-normal around `sessions_per_day`, from the
/// user's own stream).
fn session_rates(p: &CheckedSimParams) -> Vec<f64> {
    (0..p.users as u64)
        .map(|u| {
            let mut r = rng_for(p.seed, Stream::Users, u, 0);
            p.sessions_per_day * (0.5 * normal(&mut r) - 0.125).exp()
        })
        .collect()
}

/// Story indices of each author in story order, as CSR `(offsets, stories)`.
fn stories_by_author(n: usize, stories: &[SimStory]) -> (Vec<usize>, Vec<u32>) {
    let mut author_off = vec![0usize; n + 1];
    for st in stories {
        author_off[st.author as usize + 1] += 1;
    }
    for i in 0..n {
        author_off[i + 1] += author_off[i];
    }
    let mut fill = author_off.clone();
    let mut author_stories = vec![0u32; stories.len()];
    for (i, st) in stories.iter().enumerate() {
        author_stories[fill[st.author as usize]] = i as u32;
        fill[st.author as usize] += 1;
    }
    (author_off, author_stories)
}

/// What the day loop carries from one day to the next: tie strengths (per edge slot) and who
/// engaged with what.
struct Dynamics {
    tie: Vec<f64>,
    /// The first direct interaction not yet applied to `tie`.
    next_interaction: usize,
    /// Users who liked/commented/shared each story (sorted).
    engaged_by: Vec<Vec<u32>>,
    /// Stories each user liked/commented/shared in the last `window_days` days.
    recent_pos: Vec<Vec<(i64, u32)>>,
}

impl Dynamics {
    fn new(slots: usize, users: usize, stories: usize) -> Self {
        Self {
            tie: vec![0.0; slots],
            next_interaction: 0,
            engaged_by: vec![Vec::new(); stories],
            recent_pos: vec![Vec::new(); users],
        }
    }

    /// Day `day` ends for tie strength: every tie decays, then the day's direct interactions
    /// (sorted by time) add to the sender's tie and half as much to the receiver's.
    fn decay_and_interact(
        &mut self,
        p: &CheckedSimParams,
        g: &crate::graph::Graph,
        interactions: &[Interaction],
        day: i64,
    ) {
        self.tie.iter_mut().for_each(|t| *t *= p.tie_decay);
        let day_of = |ts: i64| (ts - p.start).div_euclid(DAY);
        while let Some(&x) = interactions
            .get(self.next_interaction)
            .filter(|x| day_of(x.ts) <= day)
        {
            let w = INTERACTION_KINDS[x.kind as usize].1;
            if let Some(slot) = g.edge_slot(x.from, x.to) {
                self.tie[slot] += w;
            }
            if let Some(slot) = g.edge_slot(x.to, x.from) {
                self.tie[slot] += 0.5 * w;
            }
            self.next_interaction += 1;
        }
    }

    /// Folds one day's outcomes, in user order, into the ties and engagement memory, and
    /// appends them to `log`.
    fn absorb(
        &mut self,
        p: &CheckedSimParams,
        g: &crate::graph::Graph,
        stories: &[SimStory],
        day: i64,
        outs: Vec<DayOut>,
        log: &mut DayOut,
    ) {
        let mut touched: Vec<u32> = Vec::new();
        for rp in self.recent_pos.iter_mut() {
            rp.retain(|&(d, _)| d > day - p.window_days as i64);
        }
        for out in outs {
            for e in &out.events {
                let k = e.action.index();
                if k == 0 {
                    continue;
                }
                let author = stories[e.story as usize].author;
                let w = ENGAGEMENT_TIE_WEIGHT[k - 1];
                if w > 0.0 {
                    if let Some(slot) = g.edge_slot(e.user, author) {
                        self.tie[slot] += w;
                    }
                    if let Some(slot) = g.edge_slot(author, e.user) {
                        self.tie[slot] += 0.25 * w;
                    }
                }
                if matches!(e.action, Action::Like | Action::Comment | Action::Share) {
                    self.engaged_by[e.story as usize].push(e.user);
                    touched.push(e.story);
                    let rp = &mut self.recent_pos[e.user as usize];
                    if !rp.iter().any(|&(_, s)| s == e.story) {
                        rp.push((day, e.story));
                    }
                }
            }
            log.events.extend(out.events);
            log.truth.extend(out.truth);
            log.hidden.extend(out.hidden);
        }
        touched.sort_unstable();
        touched.dedup();
        for s in touched {
            let v = &mut self.engaged_by[s as usize];
            v.sort_unstable();
            v.dedup();
        }
    }
}

/// The [`World`] of a simulation: ids `u<i>`, `s<i>`, `t<i>`, the hidden model's kinds, the
/// interaction kinds, and the metadata that records the parameters.
fn assemble_world(
    p: &CheckedSimParams,
    graph: crate::graph::Graph,
    stories: &[SimStory],
    events: Vec<Event>,
    interactions: Vec<Interaction>,
    truth: Vec<Truth>,
) -> World {
    let mut users = Interner::new();
    for u in 0..p.users {
        users.intern(&format!("u{u}"));
    }
    let mut story_ids = Interner::new();
    for i in 0..stories.len() {
        story_ids.intern(&format!("s{i}"));
    }
    let mut kinds = Interner::new();
    for k in hidden::KINDS {
        kinds.intern(k);
    }
    let mut topics = Interner::new();
    for t in 0..p.topics {
        topics.intern(&format!("t{t}"));
    }
    let mut interaction_kinds = Interner::new();
    for (k, _) in INTERACTION_KINDS {
        interaction_kinds.intern(k);
    }
    let first = [
        stories.first().map(|s| s.created_at),
        interactions.first().map(|x| x.ts),
    ]
    .into_iter()
    .flatten()
    .min();
    let last = [
        events.last().map(|e| e.ts),
        interactions.last().map(|x| x.ts),
        stories.last().map(|s| s.created_at),
    ]
    .into_iter()
    .flatten()
    .max();
    let meta = WorldMeta {
        name: "simulated".to_string(),
        description: format!(
            "feedrank simulator: {} users, {} days, seed {}",
            p.users, p.days, p.seed
        ),
        provenance: format!(
            "feedrank simulate --users {} --days {} --seed {} (all parameters in [params])",
            p.users, p.days, p.seed
        ),
        start: first,
        end: last,
        exposure: Exposure::Logged,
        seed: Some(p.seed),
        params: p.to_toml(),
    };
    World {
        meta,
        users,
        graph,
        stories: stories
            .iter()
            .map(|x| Story {
                author: x.author,
                created_at: x.created_at,
                kind: x.kind,
                topic: Some(x.topic),
            })
            .collect(),
        story_ids,
        kinds,
        topics,
        events,
        interactions,
        interaction_kinds,
        truth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_intersect() {
        let (g, _) = crate::graph::Graph::from_edges(6, &[(0, 1), (2, 3), (3, 4)]);
        assert_eq!(components(&g, &[0, 1, 2, 3, 4, 5]), 3);
        assert_eq!(components(&g, &[0, 2, 4]), 3);
        assert_eq!(components(&g, &[]), 0);
        let mut out = Vec::new();
        intersect(&[1, 3, 5, 7], &[2, 3, 4, 7, 9], 10, &mut out);
        assert_eq!(out, vec![3, 7]);
    }

    #[test]
    fn tiny_world_is_consistent() {
        let w = simulate(&SimParams::new(300, 4, 7)).unwrap();
        assert_eq!(w.num_users(), 300);
        assert!(!w.events.is_empty());
        let imps = w
            .events
            .iter()
            .filter(|e| e.action == Action::Impression)
            .count();
        assert_eq!(imps, w.truth.len());
        for e in &w.events {
            assert!(e.ts >= w.stories[e.story as usize].created_at);
        }
    }
}
