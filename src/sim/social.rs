//! The social layer of the simulator: overlapping circles, friendships (within circles, triadic
//! closure, long-range ties), partners whose ties span several of the user's circles, close
//! friends, and latent tastes. Takes checked parameters; hands on a [`Social`] with the final
//! [`Graph`].

use super::rng::{normal, poisson, rng_for, Stream};
use super::CheckedSimParams;
use crate::graph::Graph;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Names of circle kinds (labels only; small circles are dense like families).
pub const CIRCLE_KINDS: [&str; 5] = ["family", "school", "work", "neighbourhood", "club"];

/// Standard deviation of a user's taste for one story kind.
pub const KIND_TASTE_SD: f64 = 0.7;

/// Everything about users and their ties that does not change during the simulation.
#[derive(Debug, Clone)]
pub struct Social {
    pub graph: Graph,
    /// Members of each circle, sorted.
    pub circles: Vec<Vec<u32>>,
    /// Circle kind index into [`CIRCLE_KINDS`].
    pub circle_kind: Vec<u8>,
    /// Circles of each user.
    pub user_circles: Vec<Vec<u32>>,
    /// The partner of each user, if any (symmetric).
    pub partner: Vec<Option<u32>>,
    /// Close friends of each user (sorted; the partner is one of them).
    pub close: Vec<Vec<u32>>,
    /// Log-normal sociability (sigma 0.9, mean 1).
    pub sociability: Vec<f64>,
    /// Latent user taste factors, `taste_dim` per user, row-major.
    pub user_factors: Vec<f64>,
    /// Latent topic factors, `taste_dim` per topic, row-major.
    pub topic_factors: Vec<f64>,
    /// Per-user taste for each of the 4 kinds, row-major.
    pub kind_taste: Vec<f64>,
    /// The shared part of each user's taste factors (0.6 x the mean of their circles'
    /// factors), `taste_dim` per user: what homophily reveals; the rest is individual noise
    /// of standard deviation [`Social::taste_noise_sd`].
    pub taste_prior: Vec<f64>,
    /// Standard deviation of the individual part of each taste factor.
    pub taste_noise_sd: f64,
}

impl Social {
    /// Latent factor row of user `u`.
    pub fn user_factor(&self, u: u32, dim: usize) -> &[f64] {
        &self.user_factors[u as usize * dim..(u as usize + 1) * dim]
    }
    /// Latent factor row of topic `t`.
    pub fn topic_factor(&self, t: u32, dim: usize) -> &[f64] {
        &self.topic_factors[t as usize * dim..(t as usize + 1) * dim]
    }
}

fn push_edge(adj: &mut [Vec<u32>], a: u32, b: u32) {
    if a != b {
        adj[a as usize].push(b);
        adj[b as usize].push(a);
    }
}

/// Builds the social layer: circles, ties within them, triadic closure and long-range ties,
/// partners, the graph, close friends, tastes. Every step draws from one seeded stream, in
/// this order.
///
/// # Complexity
/// O(n + E log E) time and memory.
pub fn build(p: &CheckedSimParams) -> Social {
    let n = p.users;
    let mut rng = rng_for(p.seed, Stream::Social, 0, 0);
    let sociability: Vec<f64> = (0..n)
        .map(|_| (0.9 * normal(&mut rng) - 0.405).exp())
        .collect();
    let (circles, circle_kind) = draw_circles(p, &mut rng);
    let mut user_circles: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (c, members) in circles.iter().enumerate() {
        for &m in members {
            user_circles[m as usize].push(c as u32);
        }
    }
    let mut adj = circle_ties(p, &circles, &sociability, &mut rng);
    closure_and_long_range_ties(p, &mut adj, &sociability, &mut rng);
    for a in adj.iter_mut() {
        a.sort_unstable();
        a.dedup();
    }
    let (partner, extra) = draw_partners(p, &circles, &user_circles, &adj, &mut rng);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    for (u, a) in adj.iter().enumerate() {
        for &v in a {
            if (u as u32) < v {
                edges.push((u as u32, v));
            }
        }
    }
    edges.extend(extra);
    let (graph, _) = Graph::from_edges(n, &edges);
    drop(adj);
    let close = close_friends(p, &graph, &partner, &mut rng);
    let t = draw_tastes(p, circles.len(), &user_circles, &mut rng);
    Social {
        graph,
        circles,
        circle_kind,
        user_circles,
        partner,
        close,
        sociability,
        user_factors: t.user_factors,
        topic_factors: t.topic_factors,
        kind_taste: t.kind_taste,
        taste_prior: t.taste_prior,
        taste_noise_sd: t.noise_sd,
    }
}

/// Circle memberships (1, 2 or 3 seats per user, shuffled) cut into circles of power-law
/// sizes; returns each circle's sorted members and its kind.
fn draw_circles(p: &CheckedSimParams, rng: &mut ChaCha8Rng) -> (Vec<Vec<u32>>, Vec<u8>) {
    let mut seats: Vec<u32> = Vec::with_capacity(p.users * 2);
    for u in 0..p.users as u32 {
        let x: f64 = rng.gen();
        let m = if x < 0.35 {
            1
        } else if x < 0.75 {
            2
        } else {
            3
        };
        for _ in 0..m {
            seats.push(u);
        }
    }
    seats.shuffle(rng);
    let mut circles: Vec<Vec<u32>> = Vec::new();
    let mut circle_kind: Vec<u8> = Vec::new();
    let mut pos = 0;
    while pos < seats.len() {
        let x: f64 = rng.gen::<f64>().max(1e-12);
        let size = ((p.circle_min as f64) * x.powf(-1.0 / p.circle_alpha)).floor() as usize;
        let size = size.clamp(p.circle_min, p.circle_max);
        let end = (pos + size).min(seats.len());
        let mut members: Vec<u32> = seats[pos..end].to_vec();
        pos = end;
        members.sort_unstable();
        members.dedup();
        if members.len() < 2 {
            // A lone leftover seat joins the previous circle.
            if let (Some(last), Some(&m)) = (circles.last_mut(), members.first()) {
                if let Err(i) = last.binary_search(&m) {
                    last.insert(i, m);
                }
            }
            continue;
        }
        let kind = if members.len() <= 10 && rng.gen::<f64>() < 0.6 {
            0
        } else {
            rng.gen_range(1..CIRCLE_KINDS.len()) as u8
        };
        circles.push(members);
        circle_kind.push(kind);
    }
    (circles, circle_kind)
}

/// Within-circle ties: small circles (<= 10) are dense, larger ones give each member a
/// Poisson number of ties scaled by size and sociability. Adjacency lists, unsorted.
fn circle_ties(
    p: &CheckedSimParams,
    circles: &[Vec<u32>],
    sociability: &[f64],
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<u32>> {
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); p.users];
    for members in circles {
        let s = members.len();
        if s <= 10 {
            for i in 0..s {
                for j in i + 1..s {
                    if rng.gen::<f64>() < 0.7 {
                        push_edge(&mut adj, members[i], members[j]);
                    }
                }
            }
        } else {
            let size_factor = (s as f64 / 10.0).powf(0.3);
            for &m in members {
                let k = poisson(rng, p.within_degree * size_factor * sociability[m as usize]);
                for _ in 0..k.min(s as u64 - 1) {
                    let o = members[rng.gen_range(0..s)];
                    push_edge(&mut adj, m, o);
                }
            }
        }
    }
    adj
}

/// Triadic closure (a friend of a friend) and long-range ties (anyone), per user in order.
fn closure_and_long_range_ties(
    p: &CheckedSimParams,
    adj: &mut [Vec<u32>],
    sociability: &[f64],
    rng: &mut ChaCha8Rng,
) {
    let n = p.users;
    for u in 0..n as u32 {
        let k = poisson(rng, p.closure * sociability[u as usize]);
        for _ in 0..k {
            let fu = &adj[u as usize];
            if fu.is_empty() {
                break;
            }
            let v = fu[rng.gen_range(0..fu.len())];
            let fv = &adj[v as usize];
            let w = fv[rng.gen_range(0..fv.len())];
            push_edge(adj, u, w);
        }
        let k = poisson(rng, p.long_range);
        for _ in 0..k {
            let w = rng.gen_range(0..n as u32);
            push_edge(adj, u, w);
        }
    }
}

/// Partners: pairs drawn in a shuffled order (a circle-mate half the time), each partner then
/// tied into several of the other's circles. Returns each user's partner and the extra
/// edges (the pairs and the partners' new ties).
fn draw_partners(
    p: &CheckedSimParams,
    circles: &[Vec<u32>],
    user_circles: &[Vec<u32>],
    adj: &[Vec<u32>],
    rng: &mut ChaCha8Rng,
) -> (Vec<Option<u32>>, Vec<(u32, u32)>) {
    let n = p.users;
    let mut partner: Vec<Option<u32>> = vec![None; n];
    let target_pairs = ((p.partner_share * n as f64) / 2.0).round() as usize;
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.shuffle(rng);
    let mut pairs = 0;
    let mut extra: Vec<(u32, u32)> = Vec::new();
    for &u in &order {
        if pairs >= target_pairs {
            break;
        }
        if partner[u as usize].is_some() {
            continue;
        }
        let mut chosen = None;
        for _ in 0..20 {
            let cands = &user_circles[u as usize];
            let q = if !cands.is_empty() && rng.gen::<f64>() < 0.5 {
                let c = &circles[cands[rng.gen_range(0..cands.len())] as usize];
                c[rng.gen_range(0..c.len())]
            } else {
                rng.gen_range(0..n as u32)
            };
            if q != u && partner[q as usize].is_none() {
                chosen = Some(q);
                break;
            }
        }
        let Some(q) = chosen else { continue };
        partner[u as usize] = Some(q);
        partner[q as usize] = Some(u);
        pairs += 1;
        extra.push((u, q));
        for (a, b) in [(u, q), (q, u)] {
            // b joins several friends of a in each of a's circles.
            for &c in &user_circles[a as usize] {
                let members = &circles[c as usize];
                let friends: Vec<u32> = adj[a as usize]
                    .iter()
                    .copied()
                    .filter(|f| members.binary_search(f).is_ok() && *f != b)
                    .collect();
                if friends.is_empty() {
                    continue;
                }
                let k = (2 + poisson(rng, 2.0) as usize).min(friends.len());
                for f in friends.choose_multiple(rng, k) {
                    extra.push((b, *f));
                }
            }
        }
    }
    (partner, extra)
}

/// Close friends: the partner plus friends drawn at random, sorted.
fn close_friends(
    p: &CheckedSimParams,
    graph: &Graph,
    partner: &[Option<u32>],
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<u32>> {
    let n = p.users;
    let mut close: Vec<Vec<u32>> = vec![Vec::new(); n];
    for u in 0..n as u32 {
        let nb = graph.neighbors(u);
        if nb.is_empty() {
            continue;
        }
        let mut list: Vec<u32> = Vec::new();
        if let Some(q) = partner[u as usize] {
            list.push(q);
        }
        let want = 1 + poisson(rng, (p.close_friends - 1.0).max(0.0)) as usize;
        let mut tries = 0;
        while list.len() < want.min(nb.len()) && tries < 4 * want + 8 {
            tries += 1;
            list.push(nb[rng.gen_range(0..nb.len())]);
            list.sort_unstable();
            list.dedup();
        }
        list.sort_unstable();
        close[u as usize] = list;
    }
    close
}

/// The latent tastes of [`Social`].
struct Tastes {
    user_factors: Vec<f64>,
    topic_factors: Vec<f64>,
    kind_taste: Vec<f64>,
    taste_prior: Vec<f64>,
    noise_sd: f64,
}

/// Tastes: topic factors, user factors mixing their circles' factors (homophily) with
/// individual noise, and kind tastes.
fn draw_tastes(
    p: &CheckedSimParams,
    n_circles: usize,
    user_circles: &[Vec<u32>],
    rng: &mut ChaCha8Rng,
) -> Tastes {
    let (n, d) = (p.users, p.taste_dim);
    let scale = (d as f64).powf(-0.25);
    let topic_factors: Vec<f64> = (0..p.topics * d).map(|_| scale * normal(rng)).collect();
    let circle_factors: Vec<f64> = (0..n_circles * d).map(|_| scale * normal(rng)).collect();
    let mut user_factors = vec![0.0; n * d];
    let mut taste_prior = vec![0.0; n * d];
    for u in 0..n {
        let cs = &user_circles[u];
        for k in 0..d {
            let mut m = 0.0;
            for &c in cs {
                m += circle_factors[c as usize * d + k];
            }
            if !cs.is_empty() {
                m /= cs.len() as f64;
            }
            taste_prior[u * d + k] = 0.6 * m;
            user_factors[u * d + k] = 0.6 * m + 0.8 * scale * normal(rng);
        }
    }
    let kind_taste: Vec<f64> = (0..n * 4).map(|_| KIND_TASTE_SD * normal(rng)).collect();
    Tastes {
        user_factors,
        topic_factors,
        kind_taste,
        taste_prior,
        noise_sd: 0.8 * scale,
    }
}
