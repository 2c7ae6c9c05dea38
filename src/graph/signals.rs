//! Per-edge-slot tie-strength and dispersion signals, and per-node signals.
//!
//! [`EdgeSignals::compute`] is the entry point later stages call; every array is aligned with
//! the CSR edge slots of [`Graph`] (slot `i` of node `u` is the ordered pair `(u, target(i))`).
//! [`naive`] is the literal, slow transcription of the definitions (Backstrom & Kleinberg,
//! CSCW 2014; networkx `dispersion`), kept as the oracle for the fast path.

use super::Graph;

/// Parameters of the dispersion signals.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SignalParams {
    /// Normalised dispersion `(disp + b)^alpha / (emb + c)`; networkx default 1/0/0.
    pub alpha: f64,
    pub b: f64,
    pub c: f64,
    /// Rounds of recursive dispersion (synchronous updates); default 3.
    pub rounds: u32,
}

impl Default for SignalParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            b: 0.0,
            c: 0.0,
            rounds: 3,
        }
    }
}

/// The paper's best normalisation: alpha 0.61, b 0, c 5.
pub const PAPER_NORM: (f64, f64, f64) = (0.61, 0.0, 5.0);

/// Normalised dispersion `(disp + b)^alpha / (emb + c)`, dividing only when `emb + c != 0`
/// (networkx's convention).
#[inline]
pub fn normalised_dispersion(disp: f64, emb: f64, alpha: f64, b: f64, c: f64) -> f64 {
    let num = (disp + b).powf(alpha);
    if emb + c != 0.0 {
        num / (emb + c)
    } else {
        num
    }
}

/// Every per-edge signal, as arrays aligned with the graph's edge slots (or, when computed
/// for some egos only, with those egos' slots: see [`EdgeSignals::index`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeSignals {
    pub params: Option<SignalParams>,
    pub embeddedness: Vec<u32>,
    pub jaccard: Vec<f64>,
    pub adamic_adar: Vec<f64>,
    pub dispersion: Vec<u32>,
    /// Normalised with `params` (alpha, b, c).
    pub disp_norm: Vec<f64>,
    /// Normalised with the paper's (0.61, 0, 5).
    pub disp_norm_paper: Vec<f64>,
    pub recursive: Vec<f64>,
    /// `Some` when the arrays hold some egos' slots only ([`EdgeSignals::compute_for_egos`]).
    pub egos: Option<EgoSlots>,
}

/// Where each ego's slots start in signal arrays that hold some egos only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EgoSlots {
    /// Per node: the index of its first slot in the arrays, `u32::MAX` for a node that is
    /// not one of the egos.
    pub base: Vec<u32>,
    /// The number of slots of the graph the signals were computed on.
    pub graph_slots: usize,
}

impl EdgeSignals {
    /// Computes every signal for every ordered adjacent pair, by the fast path
    /// ([`super::fast`]) on the current rayon pool. The result does not depend on the
    /// number of threads.
    ///
    /// # Complexity
    /// See [`super::fast`]: near-linear in the triangles and qualifying pairs per ego.
    pub fn compute(g: &Graph, params: &SignalParams) -> EdgeSignals {
        super::fast::edge_signals(g, params, &super::fast::FastOptions::default(), None)
    }

    /// The signals of the slots `(u, v)` for `u` in `egos` only, identical to
    /// [`EdgeSignals::compute`]'s for those slots, stored compactly (read them through
    /// [`EdgeSignals::index`]). What a scoped index (a shard, one user) needs, without paying
    /// for the whole graph in time or memory.
    pub fn compute_for_egos(g: &Graph, params: &SignalParams, egos: &[u32]) -> EdgeSignals {
        super::fast::edge_signals_for_egos(g, params, &super::fast::FastOptions::default(), egos)
    }

    /// [`EdgeSignals::compute`] with explicit fast-path options and a progress callback
    /// (called with the number of egos finished per batch, from worker threads).
    pub fn compute_with(
        g: &Graph,
        params: &SignalParams,
        opts: &super::fast::FastOptions,
        progress: Option<&(dyn Fn(u64) + Sync)>,
    ) -> EdgeSignals {
        super::fast::edge_signals(g, params, opts, progress)
    }

    /// Where the signals of graph slot `slot` of ego `ego` are stored: `slot` itself for
    /// signals of the whole graph; for signals of some egos, the slot's place among them, or
    /// `None` when `ego` is not one of them (or the slot is not `ego`'s).
    #[inline]
    pub fn index(&self, g: &Graph, ego: u32, slot: usize) -> Option<usize> {
        match &self.egos {
            None => (slot < self.embeddedness.len()).then_some(slot),
            Some(e) => {
                let b = *e.base.get(ego as usize)?;
                let r = g.slot_range(ego);
                (b != u32::MAX && r.contains(&slot)).then(|| b as usize + (slot - r.start))
            }
        }
    }

    /// Whether these signals belong to a graph with `slots` edge slots (full arrays of that
    /// length, or some egos' signals computed on such a graph).
    pub fn fits(&self, slots: usize) -> bool {
        let n = self.embeddedness.len();
        let same = [
            self.jaccard.len(),
            self.adamic_adar.len(),
            self.dispersion.len(),
            self.disp_norm.len(),
            self.disp_norm_paper.len(),
            self.recursive.len(),
        ]
        .iter()
        .all(|&l| l == n);
        same && match &self.egos {
            None => n == slots,
            Some(e) => e.graph_slots == slots && n <= slots,
        }
    }

    /// Whether the signals of every slot of `ego` are held.
    pub fn has_ego(&self, ego: u32) -> bool {
        match &self.egos {
            None => true,
            Some(e) => e.base.get(ego as usize).is_some_and(|&b| b != u32::MAX),
        }
    }

    /// Number of edge slots covered.
    pub fn len(&self) -> usize {
        self.embeddedness.len()
    }

    /// Whether there are no edge slots.
    pub fn is_empty(&self) -> bool {
        self.embeddedness.is_empty()
    }
}

/// Per-node signals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSignals {
    pub degree: Vec<u32>,
    pub triangles: Vec<u64>,
    pub clustering: Vec<f64>,
}

impl NodeSignals {
    /// Degree, triangle count and local clustering of every node.
    ///
    /// # Complexity
    /// Parallel over nodes; `O(Σ_u Σ_{v∈N(u)} min(deg v, deg u · log deg v))` time.
    pub fn compute(g: &Graph) -> NodeSignals {
        super::fast::node_signals(g)
    }

    /// The same from already computed edge signals, in O(E).
    pub fn from_edge_signals(g: &Graph, s: &EdgeSignals) -> NodeSignals {
        super::fast::node_signals_from_edges(g, s)
    }
}

/// Literal transcriptions of the definitions. Slow (cubic per ego); the test oracle.
pub mod naive {
    use super::{normalised_dispersion, EdgeSignals, NodeSignals, SignalParams, PAPER_NORM};
    use crate::graph::Graph;

    fn common(g: &Graph, u: u32, v: u32) -> Vec<u32> {
        g.neighbors(u)
            .iter()
            .copied()
            .filter(|w| g.has_edge(v, *w))
            .collect()
    }

    /// Whether the pair `{s, t}` of common neighbours of `u` and `v` counts for disp(u, v):
    /// not adjacent, and no common neighbour inside N(u) other than `v` (networkx's test).
    fn qualifies(g: &Graph, u: u32, v: u32, s: u32, t: u32) -> bool {
        if g.has_edge(s, t) {
            return false;
        }
        !g.neighbors(u)
            .iter()
            .any(|&w| w != v && w != u && g.has_edge(s, w) && g.has_edge(t, w))
    }

    /// Absolute dispersion disp(u, v).
    pub fn dispersion(g: &Graph, u: u32, v: u32) -> u32 {
        let c = common(g, u, v);
        let mut total = 0;
        for i in 0..c.len() {
            for j in i + 1..c.len() {
                if qualifies(g, u, v, c[i], c[j]) {
                    total += 1;
                }
            }
        }
        total
    }

    /// Recursive dispersion of every friend of `u`, in neighbour order.
    pub fn recursive_for_ego(g: &Graph, u: u32, rounds: u32) -> Vec<f64> {
        let nu = g.neighbors(u);
        let pos = |w: u32| nu.binary_search(&w).ok();
        let mut x = vec![1.0f64; nu.len()];
        for _ in 0..rounds {
            let mut next = vec![0.0f64; nu.len()];
            for (i, &v) in nu.iter().enumerate() {
                let c = common(g, u, v);
                if c.is_empty() {
                    continue;
                }
                let mut sum = 0.0;
                for &w in &c {
                    let xw = pos(w).map_or(0.0, |p| x[p]);
                    sum += xw * xw;
                }
                for a in 0..c.len() {
                    for b in a + 1..c.len() {
                        if qualifies(g, u, v, c[a], c[b]) {
                            let xs = pos(c[a]).map_or(0.0, |p| x[p]);
                            let xt = pos(c[b]).map_or(0.0, |p| x[p]);
                            sum += 2.0 * xs * xt;
                        }
                    }
                }
                next[i] = sum / c.len() as f64;
            }
            x = next;
        }
        x
    }

    /// Every edge signal by the literal definitions.
    pub fn edge_signals(g: &Graph, params: &SignalParams) -> EdgeSignals {
        let m = g.num_slots();
        let mut out = EdgeSignals {
            params: Some(*params),
            embeddedness: Vec::with_capacity(m),
            jaccard: Vec::with_capacity(m),
            adamic_adar: Vec::with_capacity(m),
            dispersion: Vec::with_capacity(m),
            disp_norm: Vec::with_capacity(m),
            disp_norm_paper: Vec::with_capacity(m),
            recursive: Vec::with_capacity(m),
            egos: None,
        };
        for u in 0..g.num_nodes() as u32 {
            let rec = recursive_for_ego(g, u, params.rounds);
            for (i, &v) in g.neighbors(u).iter().enumerate() {
                let c = common(g, u, v);
                let emb = c.len();
                let union = g.degree(u) + g.degree(v) - emb;
                let disp = dispersion(g, u, v);
                out.embeddedness.push(emb as u32);
                out.jaccard.push(if union == 0 {
                    0.0
                } else {
                    emb as f64 / union as f64
                });
                out.adamic_adar
                    .push(c.iter().map(|&w| 1.0 / (g.degree(w) as f64).ln()).sum());
                out.dispersion.push(disp);
                out.disp_norm.push(normalised_dispersion(
                    disp as f64,
                    emb as f64,
                    params.alpha,
                    params.b,
                    params.c,
                ));
                let (a, b, cc) = PAPER_NORM;
                out.disp_norm_paper
                    .push(normalised_dispersion(disp as f64, emb as f64, a, b, cc));
                out.recursive.push(rec[i]);
            }
        }
        out
    }

    /// Degree, triangles and local clustering by the definitions.
    pub fn node_signals(g: &Graph) -> NodeSignals {
        let n = g.num_nodes();
        let mut out = NodeSignals {
            degree: Vec::with_capacity(n),
            triangles: Vec::with_capacity(n),
            clustering: Vec::with_capacity(n),
        };
        for u in 0..n as u32 {
            let d = g.degree(u);
            let t: u64 = g
                .neighbors(u)
                .iter()
                .map(|&v| common(g, u, v).len() as u64)
                .sum::<u64>()
                / 2;
            out.degree.push(d as u32);
            out.triangles.push(t);
            out.clustering.push(if d < 2 {
                0.0
            } else {
                2.0 * t as f64 / (d as f64 * (d as f64 - 1.0))
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ego 0 with friends 1..=5; 1-2 adjacent, 3 isolated from them, 5 links all.
    #[test]
    fn naive_small_case_by_hand() {
        // u=0 friends 1,2,3,4; v=4 is friends with 1,2,3 (common = {1,2,3});
        // 1-2 adjacent: pairs {1,3} and {2,3} are non-adjacent with no other common
        // neighbour in N(0) -> disp(0,4) = 2.
        let (g, _) = Graph::from_edges(
            5,
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (4, 1),
                (4, 2),
                (4, 3),
                (1, 2),
            ],
        );
        assert_eq!(naive::dispersion(&g, 0, 4), 2);
        let s = EdgeSignals::compute(&g, &SignalParams::default());
        let slot = g.edge_slot(0, 4).unwrap();
        assert_eq!(s.embeddedness[slot], 3);
        assert!((s.disp_norm[slot] - 2.0 / 3.0).abs() < 1e-12);
        // after one round x = 1 + 2 disp / emb
        let r1 = naive::recursive_for_ego(&g, 0, 1);
        assert!((r1[3] - (1.0 + 4.0 / 3.0)).abs() < 1e-12);
        let ns = NodeSignals::compute(&g);
        assert_eq!(ns.triangles[0], 4); // 0-1-2, 0-1-4, 0-2-4, 0-3-4
    }
}
