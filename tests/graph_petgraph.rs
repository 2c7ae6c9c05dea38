//! The graph signals on petgraph's CSR against the crate's own CSR (bit for bit), and the
//! petgraph exports (`Graph::to_petgraph`, `Graph::to_ungraph`) against the graph they copy.
use std::collections::BTreeSet;
use std::path::PathBuf;

use feedrank::graph::adjacency::petgraph_csr_from_edges;
use feedrank::graph::fast::{self, Enumeration, FastOptions};
use feedrank::graph::{synth, Adjacency, EdgeSignals, Graph, PetCsr, SignalParams};
use feedrank::io::graph_file::{read_edges, GraphFormat};
use feedrank::world::Interner;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

/// ego-Facebook's ids and raw rows, if `FEEDRANK_DATA_DIR` is set.
fn ego_facebook() -> Option<(Interner, Vec<(u32, u32)>)> {
    let Some(dir) = std::env::var_os("FEEDRANK_DATA_DIR").map(PathBuf::from) else {
        eprintln!("skipped: FEEDRANK_DATA_DIR not set");
        return None;
    };
    let path = dir.join("snap-ego-facebook/facebook_combined.txt");
    let mut users = Interner::new();
    let rows = read_edges(&path, GraphFormat::Snap, &mut users).expect("ego-Facebook loads");
    Some((users, rows))
}

/// ego-Facebook's rows without its 10 survey egos: a harder graph with many components.
fn without_egos(users: &Interner, rows: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let egos: BTreeSet<u32> = [
        "0", "107", "348", "414", "686", "698", "1684", "1912", "3437", "3980",
    ]
    .iter()
    .map(|e| users.get(e).expect("ego id present"))
    .collect();
    rows.iter()
        .copied()
        .filter(|(a, b)| !egos.contains(a) && !egos.contains(b))
        .collect()
}

/// A clustered graph with friendless nodes at the start, in the middle and at the end (the
/// case petgraph's "node count = largest id + 1" gets wrong without care), plus a duplicate,
/// a reversed duplicate and a self-loop.
fn synthetic_with_isolated() -> (usize, Vec<(u32, u32)>) {
    let mut rows: Vec<(u32, u32)> = synth::holme_kim(1500, 6, 0.5, 11)
        .into_iter()
        .map(|(a, b)| {
            let f = |x: u32| if x < 700 { x + 2 } else { x + 3 };
            (f(a), f(b))
        })
        .collect();
    rows.push(rows[0]);
    rows.push((rows[1].1, rows[1].0));
    rows.push((9, 9));
    // Nodes 0, 1 and 702 are friendless, and so are the last four (1503..1507).
    (1507, rows)
}

fn assert_bit_identical(what: &str, a: &EdgeSignals, b: &EdgeSignals) {
    assert_eq!(a.params, b.params, "{what}");
    assert_eq!(a.egos, b.egos, "{what}: ego slots");
    assert_eq!(a.embeddedness, b.embeddedness, "{what}: embeddedness");
    assert_eq!(a.dispersion, b.dispersion, "{what}: dispersion");
    for (name, x, y) in [
        ("jaccard", &a.jaccard, &b.jaccard),
        ("adamic_adar", &a.adamic_adar, &b.adamic_adar),
        ("disp_norm", &a.disp_norm, &b.disp_norm),
        ("disp_norm_paper", &a.disp_norm_paper, &b.disp_norm_paper),
        ("recursive", &a.recursive, &b.recursive),
    ] {
        assert_eq!(x.len(), y.len(), "{what}: {name}");
        for (i, (p, q)) in x.iter().zip(y).enumerate() {
            assert_eq!(p.to_bits(), q.to_bits(), "{what}: {name}, slot {i}");
        }
    }
}

/// Both storages of the same rows: same node count, same slices, same build counts.
fn both(n: usize, rows: &[(u32, u32)]) -> (Graph, PetCsr) {
    let (own, s1) = Graph::from_edges(n, rows);
    let (pet, s2) = petgraph_csr_from_edges(n, rows);
    assert_eq!(s1, s2);
    assert_eq!(Adjacency::num_nodes(&pet), n);
    for u in 0..n as u32 {
        assert_eq!(Adjacency::neighbors(&pet, u), own.neighbors(u), "node {u}");
    }
    assert_eq!(pet.slot_starts(), own.raw().0);
    (own, pet)
}

/// Every signal through every fast-path option on both storages, bit for bit.
fn assert_same_signals(what: &str, own: &Graph, pet: &PetCsr) {
    let p = SignalParams {
        alpha: 0.61,
        b: 0.0,
        c: 5.0,
        rounds: 3,
    };
    for opts in [
        FastOptions::default(),
        FastOptions {
            dense_max_degree: 0,
            max_stored_pairs: 16,
            enumeration: Enumeration::Sparse,
        },
        FastOptions {
            dense_max_degree: usize::MAX,
            max_stored_pairs: 1 << 21,
            enumeration: Enumeration::Dense,
        },
    ] {
        let a = fast::edge_signals(own, &p, &opts, None);
        let b = fast::edge_signals(pet, &p, &opts, None);
        assert_bit_identical(&format!("{what} {opts:?}"), &a, &b);
        assert_eq!(
            fast::node_signals_from_edges(own, &a),
            fast::node_signals_from_edges(pet, &b)
        );
        // The public entry point (own storage) is the same computation.
        assert_bit_identical(what, &a, &EdgeSignals::compute_with(own, &p, &opts, None));
    }
    assert_eq!(fast::node_signals(own), fast::node_signals(pet));
    let egos = [0u32, 3, 107, 500, 1000, 1506];
    let opts = FastOptions::default();
    assert_bit_identical(
        &format!("{what}, egos"),
        &fast::edge_signals_for_egos(own, &p, &opts, &egos),
        &fast::edge_signals_for_egos(pet, &p, &opts, &egos),
    );
}

#[test]
fn signals_on_petgraph_csr_are_bit_identical_synthetic() {
    let (n, rows) = synthetic_with_isolated();
    let (own, pet) = both(n, &rows);
    assert!(own.neighbors(0).is_empty() && own.neighbors(1506).is_empty());
    assert_same_signals("synthetic", &own, &pet);
}

#[test]
fn signals_on_petgraph_csr_are_bit_identical_ego_facebook() {
    let Some((users, rows)) = ego_facebook() else {
        return;
    };
    let n = users.len();
    let (own, pet) = both(n, &rows);
    assert_same_signals("ego-Facebook", &own, &pet);
    let (own, pet) = both(n, &without_egos(&users, &rows));
    assert_same_signals("ego-Facebook without the egos", &own, &pet);
}

/// Connected components by breadth-first search on the graph itself: the oracle.
fn components_bfs(g: &Graph) -> usize {
    let n = g.num_nodes();
    let mut seen = vec![false; n];
    let mut queue = std::collections::VecDeque::new();
    let mut count = 0;
    for s in 0..n {
        if seen[s] {
            continue;
        }
        count += 1;
        seen[s] = true;
        queue.push_back(s as u32);
        while let Some(u) = queue.pop_front() {
            for &v in g.neighbors(u) {
                if !seen[v as usize] {
                    seen[v as usize] = true;
                    queue.push_back(v);
                }
            }
        }
    }
    count
}

/// Both exports hold exactly our nodes and edges, and petgraph's component count is ours.
fn assert_exports_agree(what: &str, g: &Graph) -> usize {
    let ours: BTreeSet<(u32, u32)> = (0..g.num_nodes() as u32)
        .flat_map(|u| g.neighbors(u).iter().map(move |&v| (u, v)))
        .filter(|(u, v)| u < v)
        .collect();
    assert_eq!(ours.len(), g.num_edges(), "{what}");

    let csr = g.to_petgraph();
    assert_eq!(csr.node_count(), g.num_nodes(), "{what}");
    let csr_edges: BTreeSet<(u32, u32)> = csr
        .edge_references()
        .map(|e| (e.source(), e.target()))
        .filter(|(u, v)| u < v)
        .collect();
    assert_eq!(csr_edges, ours, "{what}: Csr edge set");
    for u in 0..g.num_nodes() as u32 {
        assert_eq!(csr.neighbors_slice(u), g.neighbors(u), "{what}: node {u}");
    }

    let ug = g.to_ungraph();
    assert_eq!(ug.node_count(), g.num_nodes(), "{what}");
    assert_eq!(ug.edge_count(), g.num_edges(), "{what}");
    let ug_edges: Vec<(u32, u32)> = ug
        .edge_references()
        .map(|e| (e.source().index() as u32, e.target().index() as u32))
        .collect();
    // Each edge once, as (u, v) with u < v, in slot order.
    assert_eq!(ug_edges, ours.iter().copied().collect::<Vec<_>>(), "{what}");

    let k = components_bfs(g);
    assert_eq!(petgraph::algo::connected_components(&csr), k, "{what}: Csr");
    assert_eq!(
        petgraph::algo::connected_components(&ug),
        k,
        "{what}: UnGraph"
    );
    k
}

#[test]
fn petgraph_exports_match_the_graph_and_count_its_components() {
    let (n, rows) = synthetic_with_isolated();
    let (g, _) = Graph::from_edges(n, &rows);
    // The Holme-Kim graph is connected; the 7 friendless nodes are components of their own.
    assert_eq!(assert_exports_agree("synthetic", &g), 8);
    let (g, _) = Graph::from_edges(5, &[]);
    assert_eq!(assert_exports_agree("empty", &g), 5);
    assert_eq!(assert_exports_agree("no nodes", &Graph::default()), 0);

    let Some((users, rows)) = ego_facebook() else {
        return;
    };
    let n = users.len();
    let (g, _) = Graph::from_edges(n, &rows);
    assert_eq!(assert_exports_agree("ego-Facebook", &g), 1);
    let (g, _) = Graph::from_edges(n, &without_egos(&users, &rows));
    assert!(assert_exports_agree("ego-Facebook without the egos", &g) > 10);
}
