//! What the graph signals read from a friendship graph, as one small trait, so that the same
//! signal code runs on either storage: the crate's own CSR ([`Graph`]) or petgraph's
//! [`petgraph::csr::Csr`] ([`PetCsr`]).
//!
//! Takes node ids `0..n` and hands on each node's sorted, duplicate-free neighbour slice (both
//! directions stored, no self-loops). Edge slots are implied: the slots of node `u` follow
//! those of nodes `0..u`, in neighbour order, in both storages, so per-edge arrays computed on
//! either are aligned with [`Graph`]'s slots. The README's "Graph signals" section gives the
//! benchmark that compares the two storages.

use petgraph::csr::Csr;
use petgraph::Undirected;

use super::{BuildStats, Graph};

/// petgraph's CSR with the layout the signals need: undirected (each edge stored in both
/// directions), no weights, `u32` node ids; each neighbour slice sorted and duplicate-free.
pub type PetCsr = Csr<(), (), Undirected, u32>;

/// Read access to an undirected simple graph stored as sorted neighbour slices.
///
/// Implementations must give, for every `u < num_nodes()`, a strictly increasing slice of
/// node ids `< num_nodes()` without `u` itself, and store every edge in both directions.
pub trait Adjacency: Sync {
    /// Number of nodes; ids are `0..num_nodes()`.
    fn num_nodes(&self) -> usize;

    /// Sorted neighbour slice of `u`.
    ///
    /// # Panics
    /// If `u >= num_nodes()`.
    fn neighbors(&self, u: u32) -> &[u32];

    /// Degree of `u`.
    ///
    /// # Panics
    /// If `u >= num_nodes()`.
    #[inline]
    fn degree(&self, u: u32) -> usize {
        self.neighbors(u).len()
    }

    /// Number of edge slots (ordered adjacent pairs) = 2 * edges.
    ///
    /// # Complexity
    /// O(n) unless the storage knows it.
    fn num_slots(&self) -> usize {
        (0..self.num_nodes() as u32).map(|u| self.degree(u)).sum()
    }

    /// First edge slot of every node, then the slot count: `n + 1` prefix sums of the degrees.
    /// Slot `starts[u] + i` is the ordered pair `(u, neighbors(u)[i])`.
    ///
    /// # Complexity
    /// O(n) time and memory.
    fn slot_starts(&self) -> Vec<usize> {
        let n = self.num_nodes();
        let mut starts = Vec::with_capacity(n + 1);
        let mut acc = 0usize;
        starts.push(0);
        for u in 0..n as u32 {
            acc += self.degree(u);
            starts.push(acc);
        }
        starts
    }
}

impl Adjacency for Graph {
    #[inline]
    fn num_nodes(&self) -> usize {
        Graph::num_nodes(self)
    }

    #[inline]
    fn neighbors(&self, u: u32) -> &[u32] {
        Graph::neighbors(self, u)
    }

    #[inline]
    fn num_slots(&self) -> usize {
        Graph::num_slots(self)
    }

    fn slot_starts(&self) -> Vec<usize> {
        self.raw().0.to_vec()
    }
}

impl Adjacency for PetCsr {
    #[inline]
    fn num_nodes(&self) -> usize {
        self.node_count()
    }

    #[inline]
    fn neighbors(&self, u: u32) -> &[u32] {
        self.neighbors_slice(u)
    }
}

/// `1 / ln(degree)` per node, 0 for degree <= 1: the Adamic-Adar weight (Adamic & Adar 2003)
/// of each node as a common neighbour.
///
/// # Complexity
/// O(n).
pub fn inv_ln_degrees<G: Adjacency + ?Sized>(g: &G) -> Vec<f64> {
    (0..g.num_nodes() as u32)
        .map(|x| {
            let d = g.degree(x) as f64;
            if d > 1.0 {
                1.0 / d.ln()
            } else {
                0.0
            }
        })
        .collect()
}

/// Builds petgraph's CSR on `n` nodes from raw rows `(a, b)` with exactly the rules and counts
/// of [`Graph::from_edges`]: both directions stored, duplicates (in either direction) merged,
/// self-loops dropped; nodes without friends (trailing ones included) exist, so the node count
/// is `n`, not petgraph's "largest id + 1".
///
/// # Panics
/// Panics (debug) if an endpoint is `>= n`; callers validate ids at the io boundary.
///
/// # Complexity
/// O(E log E) time (one sort of the E distinct pairs, then of each neighbour list); peak
/// memory 12 bytes per edge slot (the sorted slot list `from_sorted_edges` reads, beside the
/// CSR it writes), against 8 for [`Graph::from_edges`].
pub fn petgraph_csr_from_edges(n: usize, rows: &[(u32, u32)]) -> (PetCsr, BuildStats) {
    let (pairs, stats) = super::csr::sorted_pairs(n, rows);
    let offsets = super::csr::offsets_of(n, &pairs);
    let mut fill = offsets.clone();
    let mut slots = vec![(0u32, 0u32); 2 * pairs.len()];
    for &(a, b) in &pairs {
        slots[fill[a as usize]] = (a, b);
        fill[a as usize] += 1;
        slots[fill[b as usize]] = (b, a);
        fill[b as usize] += 1;
    }
    drop((pairs, fill));
    for u in 0..n {
        slots[offsets[u]..offsets[u + 1]].sort_unstable();
    }
    drop(offsets);
    (csr_from_sorted_slots(n, &slots), stats)
}

/// petgraph's CSR on `n` nodes from every ordered slot `(u, v)`, sorted and duplicate-free.
pub(super) fn csr_from_sorted_slots(n: usize, slots: &[(u32, u32)]) -> PetCsr {
    let mut g = PetCsr::from_sorted_edges(slots)
        .expect("invariant: the slots are sorted and duplicate-free by construction");
    // `from_sorted_edges` makes nodes 0..=largest id; add the friendless nodes after it
    // (appending a node is O(1)).
    while g.node_count() < n {
        g.add_node(());
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_storages_give_the_same_slices_and_slots() {
        let rows = [(0, 1), (1, 0), (2, 2), (3, 1), (0, 3), (0, 1), (6, 3)];
        let (own, s1) = Graph::from_edges(9, &rows);
        let (pet, s2) = petgraph_csr_from_edges(9, &rows);
        assert_eq!(s1, s2);
        assert_eq!(Adjacency::num_nodes(&pet), 9);
        for u in 0..9 {
            assert_eq!(Adjacency::neighbors(&pet, u), own.neighbors(u), "node {u}");
        }
        assert_eq!(pet.slot_starts(), Adjacency::slot_starts(&own));
        assert_eq!(Adjacency::num_slots(&pet), own.num_slots());
        assert_eq!(inv_ln_degrees(&pet), own.inv_ln_degrees());
        let (empty, _) = petgraph_csr_from_edges(3, &[]);
        assert_eq!(empty.node_count(), 3);
        assert_eq!(empty.slot_starts(), vec![0, 0, 0, 0]);
    }
}
