//! Deterministic synthetic friendship graphs for benchmarks and tests.
//!
//! [`holme_kim`] takes a size and a seed and hands on raw rows for [`Graph::from_edges`]:
//! a clustered power-law graph (Holme & Kim, "Growing scale-free networks with tunable
//! clustering", Phys. Rev. E 65, 026107, 2002): preferential attachment (Barabási-Albert)
//! where, after each preferential link to `w`, the next link goes with probability `p_triad`
//! to a random friend of `w` (triad formation), which closes triangles.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Graph;

/// Raw rows of a Holme-Kim graph on `n` nodes: a clique on the first `m + 1` nodes, then each
/// new node links to `m` distinct earlier nodes. About `n · m` edges; same seed, same rows.
///
/// # Complexity
/// O(n · m) expected time and memory.
pub fn holme_kim(n: usize, m: usize, p_triad: f64, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let m = m.max(1);
    let core = (m + 1).min(n);
    let mut rows: Vec<(u32, u32)> = Vec::with_capacity(n * m);
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
    // Every edge endpoint, so that a uniform pick is degree-proportional.
    let mut ends: Vec<u32> = Vec::with_capacity(2 * n * m);
    for a in 0..core as u32 {
        for b in a + 1..core as u32 {
            rows.push((a, b));
            adj[a as usize].push(b);
            adj[b as usize].push(a);
            ends.push(a);
            ends.push(b);
        }
    }
    let mut chosen: Vec<u32> = Vec::with_capacity(m);
    for v in core as u32..n as u32 {
        chosen.clear();
        let mut last_pa: Option<u32> = None;
        let mut attempts = 0usize;
        while chosen.len() < m && attempts < 100 * m {
            attempts += 1;
            let triad = match last_pa {
                Some(w) if rng.gen_bool(p_triad) => {
                    let nw = &adj[w as usize];
                    let t = nw[rng.gen_range(0..nw.len())];
                    (!chosen.contains(&t)).then_some(t)
                }
                _ => None,
            };
            let t = match triad {
                Some(t) => t,
                None => {
                    let t = ends[rng.gen_range(0..ends.len())];
                    if chosen.contains(&t) {
                        continue;
                    }
                    last_pa = Some(t);
                    t
                }
            };
            chosen.push(t);
        }
        for &t in &chosen {
            rows.push((t, v));
            adj[t as usize].push(v);
            adj[v as usize].push(t);
            ends.push(t);
            ends.push(v);
        }
    }
    rows
}

/// The benchmark graph: 100,000 users, about 2.5 million friendships (m = 25, p_triad = 0.5).
pub fn bench_graph(users: usize, seed: u64) -> Graph {
    Graph::from_edges(users, &holme_kim(users, 25, 0.5, seed)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_simple_and_clustered() {
        let a = holme_kim(2000, 5, 0.5, 7);
        assert_eq!(a, holme_kim(2000, 5, 0.5, 7));
        assert_ne!(a, holme_kim(2000, 5, 0.5, 8));
        let (g, st) = Graph::from_edges(2000, &a);
        assert_eq!(st.self_loops, 0);
        assert_eq!(st.duplicates, 0);
        assert_eq!(g.num_edges(), 15 + (2000 - 6) * 5);
        // Heavy tail: the largest degree is far above the mean (10).
        let max_deg = (0..2000).map(|u| g.degree(u)).max().unwrap();
        assert!(max_deg > 60, "{max_deg}");
        // Triad formation gives clustering well above an Erdős-Rényi graph (p = 0.005).
        let ns = crate::graph::NodeSignals::compute(&g);
        let mean_c = ns.clustering.iter().sum::<f64>() / 2000.0;
        assert!(mean_c > 0.05, "{mean_c}");
    }
}
