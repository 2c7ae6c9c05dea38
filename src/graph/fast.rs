//! The fast path for every per-edge signal: one pass per ego, parallel over egos.
//!
//! Takes a graph in either storage ([`Adjacency`]: the crate's [`Graph`](super::Graph) or
//! petgraph's CSR, with bit-identical results) and [`SignalParams`], and hands on
//! [`EdgeSignals`] (arrays aligned with the CSR edge slots) identical to
//! [`super::signals::naive`] up to floating-point summation order, and byte-identical whatever
//! the number of rayon threads.
//!
//! # The reduction (Backstrom & Kleinberg, CSCW 2014)
//!
//! For ego `u`, write `L(v) = N(v) ∩ N(u)` for each friend `v` (the ego's *local* graph).
//! A pair `{s, t} ⊆ C_uv = L(v)` counts for disp(u, v) iff `s ≁ t` and `s, t` have no common
//! neighbour in `N(u)` other than `v`. Since `v` is itself such a common neighbour, the pair
//! counts iff `s ≁ t` and `|L(s) ∩ L(t)| = 1`, and then it counts for exactly one friend,
//! its unique *centre*. So one enumeration of the ego's *qualifying pairs* `(s, t, centre)`
//! yields the absolute dispersion of every friend at once (`disp(u, v)` = number of pairs
//! whose centre is `v`), and each synchronous round of recursive dispersion is one sweep over
//! the local graph plus one sweep over the same pair list:
//! `x_v <- (Σ_{w∈L(v)} x_w² + 2 Σ_{(s,t,v)} x_s x_t) / |L(v)|`.
//!
//! # Per ego
//! 1. **Local graph**: `L(v)` as sorted local indices, by marking `N(u)` in a per-worker
//!    `n`-sized position array and scanning `N(v)`, or by galloping `N(u)` into `N(v)` when
//!    `deg(v)` is much larger (hubs): `O(min(deg v, deg u · log deg v))` per friend.
//!    Embeddedness, Jaccard and Adamic-Adar follow directly.
//! 2. **Qualifying pairs**, by the cheaper of two exact enumerations:
//!    - *dense* (only when `d = deg u ≤ dense_max_degree`): bitset rows of the local graph
//!      (`d²/8` bytes, at most 8 MiB with the default cap 8,192); for each `s`, OR the rows of
//!      `L(s)` into "seen once" / "seen twice" bitsets restricted to `t > s`; the pairs are
//!      `once & !twice & !row(s)`; the centre is the single bit of `row(s) & row(t)`.
//!      Time `O(t_u · d / 64 + q_u · d / 64)`, `t_u` the triangles through `u`, `q_u` the pairs.
//!    - *sparse*: for each `s`, walk the wedges `s - c - t` (`t > s`) with a counter and the
//!      last centre per `t`. Time `O(Σ_v |L(v)|²)`, scratch `O(d)`.
//!
//!    Both list the pairs in the same order (`s` ascending, then `t` ascending), so their
//!    results are bitwise identical.
//! 3. **Recursive dispersion**: `rounds` sweeps of `O(t_u + q_u)`. The pair list is kept only
//!    while it holds at most `max_stored_pairs` pairs (12 bytes each, default 2^21 = 24 MiB);
//!    beyond that, each round re-enumerates the pairs (streaming), so memory stays bounded.
//!
//! # Complexity
//! Time `O(Σ_u [Σ_{v∈N(u)} min(deg v, deg u log deg v) + min(dense, sparse) + R (t_u + q_u)])`.
//! Memory: the output arrays (`48` bytes per edge slot) plus, per worker, `O(n)` for the
//! position array and `O(d + t_u)` for the local graph of the current ego (bounded by the graph
//! itself), at most `dense_max_degree²/8` bytes of bitsets and `12 · max_stored_pairs` bytes of
//! pair list: no per-ego scratch is quadratic in the degree beyond these fixed caps.

use rayon::prelude::*;

use super::signals::{normalised_dispersion, EdgeSignals, NodeSignals, SignalParams, PAPER_NORM};
use super::Adjacency;

const NONE: u32 = u32::MAX;

/// Which exact enumeration of the qualifying pairs to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enumeration {
    /// The cheaper of the two by an operation-count estimate (default).
    #[default]
    Auto,
    /// Bitsets whenever the ego degree is at most `dense_max_degree`.
    Dense,
    /// Wedge walks always.
    Sparse,
}

/// Tuning knobs of the fast path. They change speed and scratch memory, never the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastOptions {
    /// Largest ego degree for which the dense (bitset) pair enumeration may be used
    /// (default 8,192: at most 8 MiB of bitsets per worker).
    pub dense_max_degree: usize,
    /// Largest pair list kept per ego for the recursive rounds (default 2^21 pairs, 24 MiB);
    /// egos with more pairs re-enumerate them each round.
    pub max_stored_pairs: usize,
    /// Enumeration choice (default [`Enumeration::Auto`]).
    pub enumeration: Enumeration,
}

impl Default for FastOptions {
    fn default() -> Self {
        Self {
            dense_max_degree: 8192,
            max_stored_pairs: 1 << 21,
            enumeration: Enumeration::Auto,
        }
    }
}

/// Per-worker scratch, reused across egos.
#[derive(Default)]
struct Scratch {
    /// Global node -> local index in the current ego, `NONE` elsewhere (length n).
    pos: Vec<u32>,
    /// Local graph: `ladj[loff[i]..loff[i + 1]]` = L(n_i) as sorted local indices.
    loff: Vec<usize>,
    ladj: Vec<u32>,
    /// Dense rows (`d * words`).
    bits: Vec<u64>,
    once: Vec<u64>,
    twice: Vec<u64>,
    /// Sparse enumeration.
    cnt: Vec<u32>,
    centre: Vec<u32>,
    adj_stamp: Vec<u32>,
    touched: Vec<u32>,
    /// Qualifying pairs `(s, t, centre)`.
    pairs: Vec<[u32; 3]>,
    disp: Vec<u32>,
    x: Vec<f64>,
    acc: Vec<f64>,
}

/// Mutable views of the output arrays for a contiguous range of egos.
struct Out<'a> {
    emb: &'a mut [u32],
    jac: &'a mut [f64],
    aa: &'a mut [f64],
    disp: &'a mut [u32],
    dn: &'a mut [f64],
    dnp: &'a mut [f64],
    rec: &'a mut [f64],
}

impl<'a> Out<'a> {
    fn split_at(self, k: usize) -> (Out<'a>, Out<'a>) {
        let (e0, e1) = self.emb.split_at_mut(k);
        let (j0, j1) = self.jac.split_at_mut(k);
        let (a0, a1) = self.aa.split_at_mut(k);
        let (d0, d1) = self.disp.split_at_mut(k);
        let (n0, n1) = self.dn.split_at_mut(k);
        let (p0, p1) = self.dnp.split_at_mut(k);
        let (r0, r1) = self.rec.split_at_mut(k);
        (
            Out {
                emb: e0,
                jac: j0,
                aa: a0,
                disp: d0,
                dn: n0,
                dnp: p0,
                rec: r0,
            },
            Out {
                emb: e1,
                jac: j1,
                aa: a1,
                disp: d1,
                dn: n1,
                dnp: p1,
                rec: r1,
            },
        )
    }
}

/// Signal arrays for `m` edge slots, all 0.
fn zeroed(params: &SignalParams, m: usize) -> EdgeSignals {
    EdgeSignals {
        params: Some(*params),
        embeddedness: vec![0; m],
        jaccard: vec![0.0; m],
        adamic_adar: vec![0.0; m],
        dispersion: vec![0; m],
        disp_norm: vec![0.0; m],
        disp_norm_paper: vec![0.0; m],
        recursive: vec![0.0; m],
        egos: None,
    }
}

/// Every edge signal by the fast path, on the current rayon pool.
///
/// `progress`, if given, is called with the number of egos finished in each batch (from
/// worker threads; the sum over calls is the node count).
///
/// # Complexity
/// See the module documentation.
pub fn edge_signals<G: Adjacency + ?Sized>(
    g: &G,
    params: &SignalParams,
    opts: &FastOptions,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> EdgeSignals {
    let n = g.num_nodes();
    let offsets = g.slot_starts();
    let m = offsets[n];
    let mut out = zeroed(params, m);
    // Only used for common neighbours, whose degree is >= 2.
    let inv_ln_deg = super::adjacency::inv_ln_degrees(g);

    // Chunks of consecutive egos, balanced by an estimate of their work.
    let cost = |u: usize| -> u64 {
        let d = (offsets[u + 1] - offsets[u]) as u64;
        1 + d * d.div_ceil(8).max(1)
    };
    let total: u64 = (0..n).map(cost).sum();
    let target = (total / (rayon::current_num_threads() as u64 * 32).max(1)).max(1);
    let mut chunks: Vec<(usize, usize, Out<'_>)> = Vec::new();
    {
        let mut rest = Out {
            emb: &mut out.embeddedness,
            jac: &mut out.jaccard,
            aa: &mut out.adamic_adar,
            disp: &mut out.dispersion,
            dn: &mut out.disp_norm,
            dnp: &mut out.disp_norm_paper,
            rec: &mut out.recursive,
        };
        let mut start = 0usize;
        while start < n {
            let mut end = start;
            let mut acc = 0u64;
            while end < n && (end == start || acc + cost(end) <= target) {
                acc += cost(end);
                end += 1;
            }
            let k = offsets[end] - offsets[start];
            let (head, tail) = rest.split_at(k);
            chunks.push((start, end, head));
            rest = tail;
            start = end;
        }
    }

    chunks.into_par_iter().for_each_init(
        || Scratch {
            pos: vec![NONE; n],
            ..Scratch::default()
        },
        |sc, (start, end, mut o)| {
            let base = offsets[start];
            for u in start..end {
                let r = offsets[u] - base..offsets[u + 1] - base;
                ego(g, u as u32, params, opts, &inv_ln_deg, sc, &mut o, r);
            }
            if let Some(p) = progress {
                p((end - start) as u64);
            }
        },
    );
    out
}

/// [`edge_signals`] for the slots of the given egos only, stored compactly: the arrays hold
/// the egos' slots one ego after another (in id order) and [`EdgeSignals::index`] maps a
/// graph slot `(u, v)` of an ego `u` to its place. Each value is exactly the full
/// computation's (an ego's values depend only on its own ego network). For a shard or one
/// user of a large graph. Parallel over chunks of egos, results in ego order (independent of
/// the thread count).
///
/// # Complexity
/// The full computation's cost for these egos alone; memory O(n + their slots).
pub fn edge_signals_for_egos<G: Adjacency + ?Sized>(
    g: &G,
    params: &SignalParams,
    opts: &FastOptions,
    egos: &[u32],
) -> EdgeSignals {
    use rayon::prelude::*;
    let n = g.num_nodes();
    let mut egos: Vec<u32> = egos.iter().copied().filter(|&u| (u as usize) < n).collect();
    egos.sort_unstable();
    egos.dedup();
    let mut base = vec![u32::MAX; n];
    let mut total = 0usize;
    for &u in &egos {
        base[u as usize] = total as u32;
        total += g.degree(u);
    }
    let inv_ln_deg = super::adjacency::inv_ln_degrees(g);
    let parts: Vec<EdgeSignals> = egos
        .par_chunks(256)
        .map(|chunk| {
            let m: usize = chunk.iter().map(|&u| g.degree(u)).sum();
            let mut part = zeroed(params, m);
            let mut sc = Scratch {
                pos: vec![NONE; n],
                ..Scratch::default()
            };
            let mut at = 0;
            for &u in chunk {
                let len = g.degree(u);
                let r = at..at + len;
                let mut o = Out {
                    emb: &mut part.embeddedness[r.clone()],
                    jac: &mut part.jaccard[r.clone()],
                    aa: &mut part.adamic_adar[r.clone()],
                    disp: &mut part.dispersion[r.clone()],
                    dn: &mut part.disp_norm[r.clone()],
                    dnp: &mut part.disp_norm_paper[r.clone()],
                    rec: &mut part.recursive[r],
                };
                ego(g, u, params, opts, &inv_ln_deg, &mut sc, &mut o, 0..len);
                at += len;
            }
            part
        })
        .collect();
    let mut out = zeroed(params, 0);
    out.embeddedness.reserve_exact(total);
    out.dispersion.reserve_exact(total);
    for v in [
        &mut out.jaccard,
        &mut out.adamic_adar,
        &mut out.disp_norm,
        &mut out.disp_norm_paper,
        &mut out.recursive,
    ] {
        v.reserve_exact(total);
    }
    for part in parts {
        out.embeddedness.extend_from_slice(&part.embeddedness);
        out.jaccard.extend_from_slice(&part.jaccard);
        out.adamic_adar.extend_from_slice(&part.adamic_adar);
        out.dispersion.extend_from_slice(&part.dispersion);
        out.disp_norm.extend_from_slice(&part.disp_norm);
        out.disp_norm_paper.extend_from_slice(&part.disp_norm_paper);
        out.recursive.extend_from_slice(&part.recursive);
    }
    out.egos = Some(super::signals::EgoSlots {
        base,
        graph_slots: g.num_slots(),
    });
    out
}

/// Builds the local graph of ego `u` into `sc.loff` / `sc.ladj` (positions must be marked).
fn local_graph<G: Adjacency + ?Sized>(g: &G, u: u32, sc: &mut Scratch) {
    let nu = g.neighbors(u);
    let du = nu.len();
    sc.loff.clear();
    sc.ladj.clear();
    sc.loff.push(0);
    let log_du = usize::BITS - du.leading_zeros();
    for &v in nu {
        let nv = g.neighbors(v);
        let log_dv = (usize::BITS - nv.len().leading_zeros()) as usize;
        if nv.len() > du * log_dv.max(1) * 2 && log_du > 0 {
            // Gallop N(u) into the (much longer) N(v).
            let mut lo = 0usize;
            for (i, &w) in nu.iter().enumerate() {
                let rest = &nv[lo..];
                let k = rest.partition_point(|&x| x < w);
                lo += k;
                if lo >= nv.len() {
                    break;
                }
                if nv[lo] == w {
                    sc.ladj.push(i as u32);
                    lo += 1;
                }
            }
        } else {
            for &w in nv {
                let p = sc.pos[w as usize];
                if p != NONE {
                    sc.ladj.push(p);
                }
            }
        }
        sc.loff.push(sc.ladj.len());
    }
}

#[inline]
fn lrow(sc: &Scratch, i: usize) -> &[u32] {
    &sc.ladj[sc.loff[i]..sc.loff[i + 1]]
}

/// Calls `f(s, t, centre)` for every qualifying pair of the current ego, `s` ascending then
/// `t` ascending. `dense` requires `sc.bits` to hold the rows.
fn for_each_pair(sc: &mut Scratch, d: usize, dense: bool, mut f: impl FnMut(u32, u32, u32)) {
    if dense {
        let words = d.div_ceil(64);
        sc.once.clear();
        sc.once.resize(words, 0);
        sc.twice.clear();
        sc.twice.resize(words, 0);
        for s in 0..d {
            let ls = sc.loff[s]..sc.loff[s + 1];
            if ls.is_empty() {
                continue;
            }
            let w0 = (s + 1) / 64;
            if w0 >= words {
                continue;
            }
            for w in w0..words {
                sc.once[w] = 0;
                sc.twice[w] = 0;
            }
            for &c in &sc.ladj[ls.clone()] {
                let row = &sc.bits[c as usize * words + w0..(c as usize + 1) * words];
                for ((o, t), &r) in sc.once[w0..].iter_mut().zip(&mut sc.twice[w0..]).zip(row) {
                    *t |= *o & r;
                    *o |= r;
                }
            }
            let rs = &sc.bits[s * words..(s + 1) * words];
            for w in w0..words {
                let mut m = sc.once[w] & !sc.twice[w] & !rs[w];
                if w == w0 {
                    let low = (s + 1) % 64;
                    m &= !0u64 << low;
                }
                while m != 0 {
                    let b = m.trailing_zeros() as usize;
                    m &= m - 1;
                    let t = w * 64 + b;
                    let rt = &sc.bits[t * words..(t + 1) * words];
                    let mut centre = NONE;
                    for k in 0..words {
                        let x = rs[k] & rt[k];
                        if x != 0 {
                            centre = (k * 64 + x.trailing_zeros() as usize) as u32;
                            break;
                        }
                    }
                    debug_assert!(centre != NONE);
                    f(s as u32, t as u32, centre);
                }
            }
        }
    } else {
        sc.cnt.clear();
        sc.cnt.resize(d, 0);
        sc.centre.clear();
        sc.centre.resize(d, NONE);
        sc.adj_stamp.clear();
        sc.adj_stamp.resize(d, NONE);
        for s in 0..d {
            let ls = sc.loff[s]..sc.loff[s + 1];
            sc.touched.clear();
            for &c in &sc.ladj[ls.clone()] {
                sc.adj_stamp[c as usize] = s as u32;
                let lc = sc.loff[c as usize]..sc.loff[c as usize + 1];
                // L(c) is sorted: skip to t > s.
                let row = &sc.ladj[lc];
                let from = row.partition_point(|&t| t as usize <= s);
                for &t in &row[from..] {
                    let ti = t as usize;
                    if sc.cnt[ti] == 0 {
                        sc.touched.push(t);
                        sc.centre[ti] = c;
                    }
                    sc.cnt[ti] += 1;
                }
            }
            sc.touched.sort_unstable();
            for k in 0..sc.touched.len() {
                let t = sc.touched[k] as usize;
                if sc.cnt[t] == 1 && sc.adj_stamp[t] != s as u32 {
                    f(s as u32, t as u32, sc.centre[t]);
                }
                sc.cnt[t] = 0;
            }
        }
    }
}

/// Every signal of ego `u`, written into `o[r]`.
#[allow(clippy::too_many_arguments)]
fn ego<G: Adjacency + ?Sized>(
    g: &G,
    u: u32,
    params: &SignalParams,
    opts: &FastOptions,
    inv_ln_deg: &[f64],
    sc: &mut Scratch,
    o: &mut Out<'_>,
    r: std::ops::Range<usize>,
) {
    let nu = g.neighbors(u);
    let d = nu.len();
    if d == 0 {
        return;
    }
    for (i, &v) in nu.iter().enumerate() {
        sc.pos[v as usize] = i as u32;
    }
    local_graph(g, u, sc);
    for &v in nu {
        sc.pos[v as usize] = NONE;
    }
    let two_t = local_ties(g, nu, inv_ln_deg, sc, o, r.start);
    let dense = choose_enumeration(d, two_t, opts, sc);

    // Pass 1: dispersion counts (and the pair list if it fits).
    let mut disp = std::mem::take(&mut sc.disp);
    disp.clear();
    disp.resize(d, 0);
    let mut pairs = std::mem::take(&mut sc.pairs);
    pairs.clear();
    let mut stored = true;
    let cap = opts.max_stored_pairs;
    for_each_pair(sc, d, dense, |s, t, c| {
        disp[c as usize] += 1;
        if stored {
            if pairs.len() < cap {
                pairs.push([s, t, c]);
            } else {
                stored = false;
                pairs.clear();
            }
        }
    });
    let pairs_or_none = stored.then_some(pairs.as_slice());
    let x = recursive_rounds(sc, d, dense, params.rounds, pairs_or_none);

    let (pa, pb, pc) = PAPER_NORM;
    for i in 0..d {
        let slot = r.start + i;
        let emb = o.emb[slot] as f64;
        let ds = disp[i];
        o.disp[slot] = ds;
        o.dn[slot] = normalised_dispersion(ds as f64, emb, params.alpha, params.b, params.c);
        o.dnp[slot] = normalised_dispersion(ds as f64, emb, pa, pb, pc);
        o.rec[slot] = x[i];
    }
    sc.disp = disp;
    sc.pairs = pairs;
    sc.x = x;
}

/// Embeddedness, Jaccard and Adamic-Adar of the ego's slots from its local graph (in
/// `sc`), written from `o`'s slot `start`; returns twice the triangles through the ego.
#[inline]
fn local_ties<G: Adjacency + ?Sized>(
    g: &G,
    nu: &[u32],
    inv_ln_deg: &[f64],
    sc: &Scratch,
    o: &mut Out<'_>,
    start: usize,
) -> u64 {
    let d = nu.len();
    let mut two_t = 0u64;
    for (i, &v) in nu.iter().enumerate() {
        let row = lrow(sc, i);
        let emb = row.len();
        two_t += emb as u64;
        let slot = start + i;
        o.emb[slot] = emb as u32;
        let union = d + g.degree(v) - emb;
        o.jac[slot] = if union == 0 {
            0.0
        } else {
            emb as f64 / union as f64
        };
        let mut aa = 0.0;
        for &w in row {
            aa += inv_ln_deg[nu[w as usize] as usize];
        }
        o.aa[slot] = aa;
    }
    two_t
}

/// Chooses the pair enumeration for an ego of degree `d` (dense bitsets or sparse wedges,
/// whichever is cheaper, unless `opts` forces one) and builds the bitsets when dense.
#[inline]
fn choose_enumeration(d: usize, two_t: u64, opts: &FastOptions, sc: &mut Scratch) -> bool {
    let du = d as u64;
    let words = d.div_ceil(64) as u64;
    let dense_cost = two_t * words / 2 + du * words;
    let sparse_cost: u64 = (0..d)
        .map(|i| (lrow(sc, i).len() as u64).pow(2))
        .sum::<u64>()
        / 2;
    let dense = d <= opts.dense_max_degree
        && match opts.enumeration {
            Enumeration::Auto => dense_cost < sparse_cost,
            Enumeration::Dense => true,
            Enumeration::Sparse => false,
        };
    if dense {
        let w = words as usize;
        sc.bits.clear();
        sc.bits.resize(d * w, 0);
        for i in 0..d {
            for k in sc.loff[i]..sc.loff[i + 1] {
                let j = sc.ladj[k] as usize;
                sc.bits[i * w + j / 64] |= 1u64 << (j % 64);
            }
        }
    }
    dense
}

/// Recursive dispersion: `rounds` synchronous rounds from `x = 1`, over the stored
/// qualifying pairs when they fit (`pairs`), else re-listing them each round. Returns `x`
/// (in `sc.x`'s buffer; the caller puts it back).
#[inline]
fn recursive_rounds(
    sc: &mut Scratch,
    d: usize,
    dense: bool,
    rounds: u32,
    pairs: Option<&[[u32; 3]]>,
) -> Vec<f64> {
    let mut x = std::mem::take(&mut sc.x);
    let mut acc = std::mem::take(&mut sc.acc);
    x.clear();
    x.resize(d, 1.0);
    for _ in 0..rounds {
        acc.clear();
        acc.resize(d, 0.0);
        for (v, a) in acc.iter_mut().enumerate() {
            let mut sum = 0.0;
            for &w in lrow(sc, v) {
                let xw = x[w as usize];
                sum += xw * xw;
            }
            *a = sum;
        }
        match pairs {
            Some(pairs) => {
                for &[s, t, c] in pairs {
                    acc[c as usize] += 2.0 * x[s as usize] * x[t as usize];
                }
            }
            None => {
                let xr = &x;
                let ar = &mut acc;
                for_each_pair(sc, d, dense, |s, t, c| {
                    ar[c as usize] += 2.0 * xr[s as usize] * xr[t as usize];
                });
            }
        }
        for (v, a) in acc.iter_mut().enumerate() {
            let emb = sc.loff[v + 1] - sc.loff[v];
            *a = if emb == 0 { 0.0 } else { *a / emb as f64 };
        }
        std::mem::swap(&mut x, &mut acc);
    }
    sc.acc = acc;
    x
}

/// Degree, triangles and local clustering of every node, in parallel over nodes.
///
/// # Complexity
/// `O(Σ_u Σ_{v∈N(u)} min(deg v, deg u · log deg v))` time, `O(n)` scratch per worker.
pub fn node_signals<G: Adjacency + ?Sized>(g: &G) -> NodeSignals {
    let n = g.num_nodes();
    let triangles: Vec<u64> = (0..n as u32)
        .into_par_iter()
        .map_init(
            || vec![false; n],
            |mark, u| {
                let nu = g.neighbors(u);
                for &v in nu {
                    mark[v as usize] = true;
                }
                let mut two_t = 0u64;
                for &v in nu {
                    let nv = g.neighbors(v);
                    two_t += if nv.len() > 8 * nu.len() {
                        nu.iter().filter(|w| nv.binary_search(w).is_ok()).count() as u64
                    } else {
                        nv.iter().filter(|&&w| mark[w as usize]).count() as u64
                    };
                }
                for &v in nu {
                    mark[v as usize] = false;
                }
                two_t / 2
            },
        )
        .collect();
    node_signals_from_triangles(g, triangles)
}

/// Per-node signals from edge signals already computed (triangles = half the sum of the
/// node's embeddedness values). O(E).
pub fn node_signals_from_edges<G: Adjacency + ?Sized>(g: &G, s: &EdgeSignals) -> NodeSignals {
    let offsets = g.slot_starts();
    let triangles = (0..g.num_nodes())
        .map(|u| {
            s.embeddedness[offsets[u]..offsets[u + 1]]
                .iter()
                .map(|&e| e as u64)
                .sum::<u64>()
                / 2
        })
        .collect();
    node_signals_from_triangles(g, triangles)
}

fn node_signals_from_triangles<G: Adjacency + ?Sized>(g: &G, triangles: Vec<u64>) -> NodeSignals {
    let n = g.num_nodes();
    let degree: Vec<u32> = (0..n as u32).map(|u| g.degree(u) as u32).collect();
    let clustering = degree
        .iter()
        .zip(&triangles)
        .map(|(&d, &t)| {
            if d < 2 {
                0.0
            } else {
                2.0 * t as f64 / (d as f64 * (d as f64 - 1.0))
            }
        })
        .collect();
    NodeSignals {
        degree,
        triangles,
        clustering,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::signals::naive;
    use crate::graph::Graph;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    fn check(g: &Graph, opts: &FastOptions) {
        let p = SignalParams::default();
        let f = edge_signals(g, &p, opts, None);
        let s = naive::edge_signals(g, &p);
        assert_eq!(f.embeddedness, s.embeddedness);
        assert_eq!(f.dispersion, s.dispersion);
        for i in 0..g.num_slots() {
            assert!(close(f.jaccard[i], s.jaccard[i]));
            assert!(close(f.adamic_adar[i], s.adamic_adar[i]));
            assert!(close(f.disp_norm[i], s.disp_norm[i]));
            assert!(close(f.disp_norm_paper[i], s.disp_norm_paper[i]));
            assert!(close(f.recursive[i], s.recursive[i]), "slot {i}");
        }
    }

    #[test]
    fn ego_subset_matches_the_full_computation_bit_for_bit() {
        let g = crate::graph::synth::bench_graph(400, 3);
        let p = SignalParams::default();
        let opts = FastOptions::default();
        let full = edge_signals(&g, &p, &opts, None);
        let egos = [7u32, 3, 250, 7, 399, 100_000];
        let part = edge_signals_for_egos(&g, &p, &opts, &egos);
        let mut covered = 0;
        assert!(part.fits(g.num_slots()) && !part.fits(g.num_slots() + 1));
        for u in 0..g.num_nodes() as u32 {
            let mine = egos.contains(&u);
            assert_eq!(part.has_ego(u), mine);
            for i in g.slot_range(u) {
                let Some(j) = part.index(&g, u, i) else {
                    assert!(!mine, "ego {u} slot {i} missing");
                    continue;
                };
                assert!(mine);
                covered += 1;
                assert_eq!(part.embeddedness[j], full.embeddedness[i]);
                assert_eq!(part.dispersion[j], full.dispersion[i]);
                for (a, b) in [
                    (&part.jaccard, &full.jaccard),
                    (&part.adamic_adar, &full.adamic_adar),
                    (&part.disp_norm, &full.disp_norm),
                    (&part.disp_norm_paper, &full.disp_norm_paper),
                    (&part.recursive, &full.recursive),
                ] {
                    assert_eq!(a[j].to_bits(), b[i].to_bits(), "ego {u} slot {i}");
                }
            }
        }
        assert!(covered > 20, "the chosen egos have {covered} slots");
        assert!(full.recursive.iter().any(|&x| x > 0.0));
    }

    fn sample() -> Graph {
        Graph::from_edges(
            8,
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (0, 5),
                (4, 1),
                (4, 2),
                (4, 3),
                (1, 2),
                (5, 1),
                (5, 3),
                (6, 0),
                (6, 1),
                (6, 7),
            ],
        )
        .0
    }

    #[test]
    fn all_paths_agree_with_naive() {
        let g = sample();
        for opts in [
            FastOptions::default(),
            FastOptions {
                dense_max_degree: 0,
                max_stored_pairs: 0,
                enumeration: Enumeration::Sparse,
            },
            FastOptions {
                dense_max_degree: usize::MAX,
                max_stored_pairs: 1,
                enumeration: Enumeration::Dense,
            },
        ] {
            check(&g, &opts);
        }
        assert_eq!(node_signals(&g), naive::node_signals(&g));
        let s = edge_signals(&g, &SignalParams::default(), &FastOptions::default(), None);
        assert_eq!(node_signals_from_edges(&g, &s), naive::node_signals(&g));
    }
}
