//! Compressed sparse row storage of the undirected friendship graph.
//!
//! Nodes are dense `u32` indices `0..n`; every undirected edge is stored in both directions;
//! each node's neighbour slice is sorted and free of duplicates and self-loops. Per-edge
//! signals elsewhere in the crate are arrays aligned with the *edge slots* of this structure:
//! slot `i` in `offsets[u]..offsets[u + 1]` is the ordered pair `(u, targets[i])`.
//!
//! The signal code reads the graph through [`super::Adjacency`], which petgraph's CSR
//! implements too; the README ("Graph signals") gives the measurements behind keeping this
//! storage rather than petgraph's, and [`Graph::to_petgraph`] / [`Graph::to_ungraph`] hand the
//! graph to petgraph's algorithms.

use std::ops::Range;

/// Counts reported when a graph is built from a raw edge list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BuildStats {
    /// Raw edge rows seen.
    pub rows: usize,
    /// Rows dropped because both ends were the same user.
    pub self_loops: usize,
    /// Rows dropped because the undirected edge was already present (either direction).
    pub duplicates: usize,
    /// Undirected edges kept.
    pub edges: usize,
}

/// An undirected simple graph in CSR form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Graph {
    /// Builds the graph on `n` nodes from raw rows `(a, b)`: both directions are stored,
    /// duplicates (in either direction) merged, self-loops dropped.
    ///
    /// # Panics
    /// Panics (debug) if an endpoint is `>= n`; callers validate ids at the io boundary.
    ///
    /// # Complexity
    /// O(E log E) time (one sort of 2E slots), O(n + E) memory.
    pub fn from_edges(n: usize, rows: &[(u32, u32)]) -> (Graph, BuildStats) {
        let (pairs, stats) = sorted_pairs(n, rows);
        let offsets = offsets_of(n, &pairs);
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; 2 * pairs.len()];
        // Pairs are sorted by (a, b) with a < b: pushing (a -> b) in that order and (b -> a)
        // in that order leaves each slice sorted only after a final per-node sort.
        for &(a, b) in &pairs {
            targets[fill[a as usize]] = b;
            fill[a as usize] += 1;
            targets[fill[b as usize]] = a;
            fill[b as usize] += 1;
        }
        for u in 0..n {
            targets[offsets[u]..offsets[u + 1]].sort_unstable();
        }
        (Graph { offsets, targets }, stats)
    }

    /// Rebuilds a graph from the raw CSR arrays of [`Graph::raw`] (e.g. from a snapshot),
    /// checking every invariant the accessors rely on: offsets start at 0, never decrease and
    /// end at `targets.len()`; every neighbour list is strictly increasing, has no self-loop,
    /// and names a node `< n`; every slot `(u, v)` has its reverse `(v, u)`.
    ///
    /// # Errors
    /// A message naming the first broken invariant.
    ///
    /// # Complexity
    /// O(n + E log deg).
    pub fn from_csr(offsets: Vec<usize>, targets: Vec<u32>) -> Result<Graph, String> {
        if offsets.first() != Some(&0) {
            return Err("CSR offsets must start at 0".into());
        }
        if offsets.last() != Some(&targets.len()) {
            return Err(format!(
                "CSR offsets end at {:?} but there are {} targets",
                offsets.last(),
                targets.len()
            ));
        }
        let n = offsets.len() - 1;
        if n > u32::MAX as usize {
            return Err(format!("{n} nodes do not fit u32 ids"));
        }
        for u in 0..n {
            let (a, b) = (offsets[u], offsets[u + 1]);
            if a > b {
                return Err(format!("CSR offsets decrease at node {u}"));
            }
            // an offset past the end can precede a final one that fits (found by `feedrank
            // bench fuzz` on a snapshot)
            let Some(nb) = targets.get(a..b) else {
                return Err(format!(
                    "CSR offset {b} of node {u} is past the {} targets",
                    targets.len()
                ));
            };
            if nb.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("node {u}: neighbours are not strictly increasing"));
            }
            if let Some(&v) = nb.iter().find(|&&v| v as usize >= n || v as usize == u) {
                return Err(format!(
                    "node {u}: neighbour {v} is out of range or a self-loop"
                ));
            }
        }
        // Symmetry in O(E): visiting u in increasing order, the next unmatched entry of each
        // sorted list N(v) must be u.
        let mut cursor = offsets[..n].to_vec();
        for u in 0..n {
            for &v in &targets[offsets[u]..offsets[u + 1]] {
                let c = &mut cursor[v as usize];
                if *c >= offsets[v as usize + 1] || targets[*c] as usize != u {
                    return Err(format!("edge {u}->{v} has no reverse slot"));
                }
                *c += 1;
            }
        }
        Ok(Graph { offsets, targets })
    }

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of undirected edges.
    pub fn num_edges(&self) -> usize {
        self.targets.len() / 2
    }

    /// Number of edge slots (ordered adjacent pairs) = 2 * edges.
    pub fn num_slots(&self) -> usize {
        self.targets.len()
    }

    /// Sorted neighbour slice of `u`.
    #[inline]
    pub fn neighbors(&self, u: u32) -> &[u32] {
        &self.targets[self.offsets[u as usize]..self.offsets[u as usize + 1]]
    }

    /// Degree of `u`.
    #[inline]
    pub fn degree(&self, u: u32) -> usize {
        self.offsets[u as usize + 1] - self.offsets[u as usize]
    }

    /// Edge-slot range of `u`: slot `i` is the ordered pair `(u, self.target(i))`.
    #[inline]
    pub fn slot_range(&self, u: u32) -> Range<usize> {
        self.offsets[u as usize]..self.offsets[u as usize + 1]
    }

    /// Target node of edge slot `i`.
    #[inline]
    pub fn target(&self, slot: usize) -> u32 {
        self.targets[slot]
    }

    /// Edge slot of the ordered pair `(u, v)`, or `None` if they are not friends.
    ///
    /// # Complexity
    /// O(log deg(u)).
    #[inline]
    pub fn edge_slot(&self, u: u32, v: u32) -> Option<usize> {
        let start = self.offsets[u as usize];
        self.neighbors(u).binary_search(&v).ok().map(|i| start + i)
    }

    /// Whether `u` and `v` are friends.
    #[inline]
    pub fn has_edge(&self, u: u32, v: u32) -> bool {
        self.edge_slot(u, v).is_some()
    }

    /// `1 / ln(degree)` per node, 0 for degree <= 1: the Adamic-Adar weight (Adamic & Adar
    /// 2003) of each node as a common neighbour.
    pub fn inv_ln_degrees(&self) -> Vec<f64> {
        super::adjacency::inv_ln_degrees(self)
    }

    /// The CSR offsets (length n + 1) and targets (length 2E), for code that needs raw arrays.
    pub fn raw(&self) -> (&[usize], &[u32]) {
        (&self.offsets, &self.targets)
    }

    /// The same graph as petgraph's CSR, for petgraph's algorithms: node `u` is node `u`
    /// (friendless nodes included), and its neighbour slice (`neighbors_slice`) and slot
    /// order are this graph's. For example,
    /// `petgraph::algo::connected_components(&g.to_petgraph())` counts the components.
    ///
    /// # Complexity
    /// O(n + E) time; 12 bytes per edge slot at the peak (a slot list, then the copy).
    pub fn to_petgraph(&self) -> super::PetCsr {
        let mut slots = Vec::with_capacity(self.targets.len());
        for u in 0..self.num_nodes() as u32 {
            slots.extend(self.neighbors(u).iter().map(|&v| (u, v)));
        }
        super::adjacency::csr_from_sorted_slots(self.num_nodes(), &slots)
    }

    /// The same graph as a `petgraph::graph::UnGraph` (adjacency lists), for petgraph's
    /// algorithms that need one: node `u` is `NodeIndex::new(u)` (friendless nodes included);
    /// edge `k` is the `k`-th pair `(u, v)` with `u < v` in slot order, each undirected edge
    /// once.
    ///
    /// # Complexity
    /// O(n + E) time and memory.
    pub fn to_ungraph(&self) -> petgraph::graph::UnGraph<(), (), u32> {
        let n = self.num_nodes();
        let mut g = petgraph::graph::UnGraph::with_capacity(n, self.num_edges());
        for _ in 0..n {
            g.add_node(());
        }
        for u in 0..n as u32 {
            for &v in self.neighbors(u) {
                if u < v {
                    g.add_edge(u.into(), v.into(), ());
                }
            }
        }
        g
    }
}

/// Raw rows to sorted, distinct pairs `(a, b)` with `a < b`, and the counts of what was
/// dropped: the first step of every graph build.
///
/// # Complexity
/// O(E log E) time, 8 bytes per row.
pub(super) fn sorted_pairs(n: usize, rows: &[(u32, u32)]) -> (Vec<(u32, u32)>, BuildStats) {
    let mut stats = BuildStats {
        rows: rows.len(),
        ..BuildStats::default()
    };
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(rows.len());
    for &(a, b) in rows {
        debug_assert!((a as usize) < n && (b as usize) < n);
        if a == b {
            stats.self_loops += 1;
            continue;
        }
        pairs.push(if a < b { (a, b) } else { (b, a) });
    }
    pairs.sort_unstable();
    let before = pairs.len();
    pairs.dedup();
    stats.duplicates = before - pairs.len();
    stats.edges = pairs.len();
    (pairs, stats)
}

/// CSR offsets (`n + 1` prefix sums of the degrees) of the graph on `n` nodes with these
/// distinct pairs, each stored in both directions.
pub(super) fn offsets_of(n: usize, pairs: &[(u32, u32)]) -> Vec<usize> {
    let mut degree = vec![0usize; n];
    for &(a, b) in pairs {
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(n + 1);
    let mut acc = 0usize;
    offsets.push(acc);
    for d in degree {
        acc += d;
        offsets.push(acc);
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_csr_round_trips_and_rejects_broken_arrays() {
        let (g, _) = Graph::from_edges(5, &[(0, 1), (3, 1), (0, 3), (2, 4)]);
        let (o, t) = g.raw();
        assert_eq!(Graph::from_csr(o.to_vec(), t.to_vec()).unwrap(), g);
        let bad = |o: Vec<usize>, t: Vec<u32>| Graph::from_csr(o, t).unwrap_err();
        assert!(bad(vec![1, 1], vec![]).contains("start at 0"));
        assert!(bad(vec![0, 2], vec![1]).contains("end at"));
        // 0 -> 1 without 1 -> 0.
        assert!(bad(vec![0, 1, 1], vec![1]).contains("reverse"));
        // Unsorted, self-loop, out of range.
        assert!(bad(vec![0, 2, 3, 4], vec![2, 1, 0, 0]).contains("increasing"));
        assert!(bad(vec![0, 1], vec![0]).contains("self-loop"));
        assert!(bad(vec![0, 1, 2], vec![5, 0]).contains("out of range"));
    }

    /// Regression (`feedrank bench fuzz --seed 3 --reader snapshot --input 3933`): a middle
    /// offset past the targets, followed by a last offset that fits, panicked on slicing.
    #[test]
    fn from_csr_rejects_a_middle_offset_past_the_targets() {
        let e = Graph::from_csr(vec![0, 536_871_667, 2], vec![1, 0]).unwrap_err();
        assert!(e.contains("past the 2 targets"), "{e}");
    }

    #[test]
    fn builds_sorted_dedup_both_directions() {
        let (g, s) = Graph::from_edges(5, &[(0, 1), (1, 0), (2, 2), (3, 1), (0, 3), (0, 1)]);
        assert_eq!(s.rows, 6);
        assert_eq!(s.self_loops, 1);
        assert_eq!(s.duplicates, 2);
        assert_eq!(s.edges, 3);
        assert_eq!(g.neighbors(0), &[1, 3]);
        assert_eq!(g.neighbors(1), &[0, 3]);
        assert_eq!(g.neighbors(3), &[0, 1]);
        assert_eq!(g.neighbors(4), &[] as &[u32]);
        assert_eq!(g.num_edges(), 3);
        assert_eq!(g.edge_slot(1, 3), Some(3));
        assert_eq!(g.target(3), 3);
        assert!(!g.has_edge(0, 2));
        let pg = g.to_petgraph();
        assert_eq!(pg.node_count(), 5);
        assert_eq!(pg.neighbors_slice(0), &[1, 3]);
    }
}
