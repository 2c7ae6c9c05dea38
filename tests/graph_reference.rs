//! The fast graph signals against networkx's reference values on ego-Facebook, the whole-graph
//! identities, and the fast path against the naive oracle on random and real graphs.
use std::path::PathBuf;

use feedrank::graph::fast::{self, Enumeration, FastOptions};
use feedrank::graph::signals::naive;
use feedrank::graph::{EdgeSignals, Graph, NodeSignals, SignalParams};
use feedrank::io::graph_file::{load_graph, GraphFormat, LoadedGraph};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

fn env_dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) => Some(PathBuf::from(v)),
        None => {
            eprintln!("skipped: {var} not set");
            None
        }
    }
}

fn ego_facebook() -> Option<LoadedGraph> {
    let dir = env_dir("FEEDRANK_DATA_DIR")?;
    let path = dir.join("snap-ego-facebook/facebook_combined.txt");
    Some(load_graph(&path, GraphFormat::Snap, None).expect("ego-Facebook loads"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn assert_matches_naive(g: &Graph, p: &SignalParams, opts: &FastOptions) {
    let f = fast::edge_signals(g, p, opts, None);
    let s = naive::edge_signals(g, p);
    assert_eq!(f.embeddedness, s.embeddedness);
    assert_eq!(f.dispersion, s.dispersion);
    for i in 0..g.num_slots() {
        for (name, a, b) in [
            ("jaccard", f.jaccard[i], s.jaccard[i]),
            ("adamic_adar", f.adamic_adar[i], s.adamic_adar[i]),
            ("disp_norm", f.disp_norm[i], s.disp_norm[i]),
            (
                "disp_norm_paper",
                f.disp_norm_paper[i],
                s.disp_norm_paper[i],
            ),
            ("recursive", f.recursive[i], s.recursive[i]),
        ] {
            assert!(close(a, b), "slot {i} {name}: fast {a} naive {b}");
        }
    }
    assert_eq!(NodeSignals::compute(g), naive::node_signals(g));
}

#[test]
fn reference_sample_and_identities() {
    let Some(lg) = ego_facebook() else { return };
    let Some(refdir) = env_dir("FEEDRANK_REFERENCE_DIR") else {
        return;
    };
    let g = &lg.graph;
    assert_eq!(g.num_nodes(), 4039);
    assert_eq!(g.num_edges(), 88_234);
    let s = EdgeSignals::compute(g, &SignalParams::default());

    // Whole-graph identities.
    let ns = NodeSignals::from_edge_signals(g, &s);
    assert_eq!(ns.triangles.iter().sum::<u64>() / 3, 1_612_010);
    assert_eq!(ns, NodeSignals::compute(g));
    let sum_emb: u64 = s.embeddedness.iter().map(|&e| e as u64).sum();
    assert_eq!(sum_emb, 9_672_060);
    let sum_disp: u64 = s.dispersion.iter().map(|&e| e as u64).sum();
    assert_eq!(sum_disp, 329_448);
    let (max_slot, max_disp) = s
        .dispersion
        .iter()
        .enumerate()
        .max_by_key(|&(i, &d)| (d, std::cmp::Reverse(i)))
        .map(|(i, &d)| (i, d))
        .unwrap();
    assert_eq!(max_disp, 4971);
    let ego = lg.users.get("483").unwrap();
    let friend = lg.users.get("107").unwrap();
    assert_eq!(g.edge_slot(ego, friend), Some(max_slot));
    let asym = (0..g.num_nodes() as u32)
        .flat_map(|u| g.neighbors(u).iter().map(move |&v| (u, v)))
        .filter(|&(u, v)| {
            u < v
                && s.dispersion[g.edge_slot(u, v).unwrap()]
                    != s.dispersion[g.edge_slot(v, u).unwrap()]
        })
        .count();
    assert_eq!(asym, 2430);

    // The 2,000 reference rows.
    let text = std::fs::read_to_string(refdir.join("ego_facebook_dispersion_sample.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "u\tv\tembeddedness\tdispersion\tdisp_norm_default\tdisp_norm_061_0_5\trecursive_dispersion"
    );
    let (pa, pb, pc) = feedrank::graph::signals::PAPER_NORM;
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "{line}");
        let u = lg.users.get(f[0]).unwrap();
        let v = lg.users.get(f[1]).unwrap();
        let slot = g.edge_slot(u, v).expect("reference pair is an edge");
        let num = |k: usize| f[k].parse::<f64>().unwrap();
        assert_eq!(s.embeddedness[slot], f[2].parse::<u32>().unwrap(), "{line}");
        assert_eq!(s.dispersion[slot], f[3].parse::<u32>().unwrap(), "{line}");
        assert!((s.disp_norm[slot] - num(4)).abs() <= 1e-9, "{line}");
        assert!((s.disp_norm_paper[slot] - num(5)).abs() <= 1e-9, "{line}");
        assert!((s.recursive[slot] - num(6)).abs() <= 1e-9, "{line}");
        // The paper's normalisation recomputed from the integers.
        let e = s.embeddedness[slot] as f64;
        let d = s.dispersion[slot] as f64;
        assert!((s.disp_norm_paper[slot] - (d + pb).powf(pa) / (e + pc)).abs() < 1e-12);
        rows += 1;
    }
    assert_eq!(rows, 2000);

    // The argmax file: per ego, the friend with the largest value of each signal.
    let text =
        std::fs::read_to_string(refdir.join("ego_facebook_dispersion_sample_argmax.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut egos = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), header.len());
        let u = lg.users.get(f[0]).unwrap();
        assert_eq!(g.degree(u), f[1].parse::<usize>().unwrap());
        let range = g.slot_range(u);
        let signals: [(&str, Vec<f64>); 5] = [
            (
                "embeddedness",
                s.embeddedness[range.clone()]
                    .iter()
                    .map(|&x| x as f64)
                    .collect(),
            ),
            (
                "dispersion",
                s.dispersion[range.clone()]
                    .iter()
                    .map(|&x| x as f64)
                    .collect(),
            ),
            ("disp_norm_default", s.disp_norm[range.clone()].to_vec()),
            (
                "disp_norm_061_0_5",
                s.disp_norm_paper[range.clone()].to_vec(),
            ),
            ("recursive_dispersion", s.recursive[range.clone()].to_vec()),
        ];
        for (name, values) in signals {
            let col = header
                .iter()
                .position(|h| *h == format!("max_{name}"))
                .unwrap();
            let want_max: f64 = f[col].parse().unwrap();
            let want_ties: usize = f[col + 1].parse().unwrap();
            let max = values.iter().copied().fold(f64::MIN, f64::max);
            assert!(
                close(max, want_max),
                "ego {} {name}: {max} vs {want_max}",
                f[0]
            );
            let ties: Vec<usize> = (0..values.len())
                .filter(|&i| close(values[i], max))
                .collect();
            assert_eq!(ties.len(), want_ties, "ego {} {name}", f[0]);
            if want_ties == 1 {
                let v = g.target(range.start + ties[0]);
                assert_eq!(lg.users.name(v), f[col - 1], "ego {} {name}", f[0]);
            }
        }
        egos += 1;
    }
    assert_eq!(egos, 20);
}

/// ego-Facebook without its 10 survey egos: far more non-zero dispersion. Fast vs naive on a
/// spot-check of egos (the naive oracle is cubic per ego).
#[test]
fn harder_graph_spot_check_against_naive() {
    let Some(lg) = ego_facebook() else { return };
    let drop: Vec<u32> = [
        "0", "107", "348", "414", "686", "698", "1684", "1912", "3437", "3980",
    ]
    .iter()
    .map(|id| lg.users.get(id).unwrap())
    .collect();
    let g0 = &lg.graph;
    let mut rows = Vec::new();
    for u in 0..g0.num_nodes() as u32 {
        for &v in g0.neighbors(u) {
            if u < v && !drop.contains(&u) && !drop.contains(&v) {
                rows.push((u, v));
            }
        }
    }
    let (g, _) = Graph::from_edges(g0.num_nodes(), &rows);
    let p = SignalParams::default();
    let auto = fast::edge_signals(&g, &p, &FastOptions::default(), None);
    let sparse = fast::edge_signals(
        &g,
        &p,
        &FastOptions {
            enumeration: Enumeration::Sparse,
            max_stored_pairs: 0,
            ..FastOptions::default()
        },
        None,
    );
    let dense = fast::edge_signals(
        &g,
        &p,
        &FastOptions {
            enumeration: Enumeration::Dense,
            ..FastOptions::default()
        },
        None,
    );
    // The two enumerations list the pairs in the same order: bitwise identical.
    assert_eq!(auto, sparse);
    assert_eq!(auto, dense);
    let nonzero = auto.dispersion.iter().filter(|&&d| d > 0).count();
    assert!(nonzero > 10_000, "only {nonzero} non-zero dispersions");
    // Spot-check 12 egos with degree 10..=80 and some dispersion (the naive oracle is cubic),
    // spread over the id range, every friend.
    let candidates: Vec<u32> = (0..g.num_nodes() as u32)
        .filter(|&u| (10..=80).contains(&g.degree(u)))
        .filter(|&u| g.slot_range(u).any(|s| auto.dispersion[s] > 0))
        .collect();
    assert!(candidates.len() >= 12);
    let step = candidates.len() / 12;
    for k in 0..12 {
        let u = candidates[k * step];
        let rec = naive::recursive_for_ego(&g, u, p.rounds);
        for (i, &v) in g.neighbors(u).iter().enumerate() {
            let slot = g.slot_range(u).start + i;
            assert_eq!(
                auto.dispersion[slot],
                naive::dispersion(&g, u, v),
                "({u},{v})"
            );
            assert!(close(auto.recursive[slot], rec[i]), "({u},{v})");
        }
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let Some(lg) = ego_facebook() else { return };
    let p = SignalParams {
        alpha: 0.7,
        b: 1.0,
        c: 2.0,
        rounds: 4,
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| EdgeSignals::compute(&lg.graph, &p))
    };
    assert_eq!(run(1), run(3));
}

fn arb_graph() -> impl Strategy<Value = Graph> {
    (2usize..14).prop_flat_map(|n| {
        proptest::collection::vec((0..n as u32, 0..n as u32), 0..(n * n / 2 + 2))
            .prop_map(move |rows| Graph::from_edges(n, &rows).0)
    })
}

/// Random graphs with a planted dense core and pendant structures, where dispersion is often
/// non-zero and asymmetric.
fn arb_clustered() -> impl Strategy<Value = Graph> {
    (6usize..20, any::<u64>()).prop_map(|(n, seed)| {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut rows = Vec::new();
        let hub_p = rng.gen_range(0.5..1.0);
        let p = rng.gen_range(0.05..0.4);
        for a in 0..n as u32 {
            for b in a + 1..n as u32 {
                let pr = if a < 2 { hub_p } else { p };
                if rng.gen_bool(pr) {
                    rows.push((a, b));
                }
            }
        }
        Graph::from_edges(n, &rows).0
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fast_matches_naive_random(g in arb_graph(), rounds in 0u32..5, alpha in 0.1f64..2.0, b in 0.0f64..3.0, c in 0.0f64..6.0) {
        let p = SignalParams { alpha, b, c, rounds };
        for opts in [
            FastOptions::default(),
            FastOptions { enumeration: Enumeration::Dense, max_stored_pairs: 1, ..FastOptions::default() },
            FastOptions { enumeration: Enumeration::Sparse, max_stored_pairs: 0, ..FastOptions::default() },
        ] {
            assert_matches_naive(&g, &p, &opts);
        }
    }

    #[test]
    fn fast_matches_naive_clustered(g in arb_clustered()) {
        let p = SignalParams::default();
        for opts in [
            FastOptions { enumeration: Enumeration::Dense, ..FastOptions::default() },
            FastOptions { enumeration: Enumeration::Sparse, max_stored_pairs: 2, ..FastOptions::default() },
        ] {
            assert_matches_naive(&g, &p, &opts);
        }
    }
}

#[test]
fn clustered_graphs_do_have_asymmetric_dispersion() {
    // Guards the property test above against generating only trivial cases.
    let mut asymmetric = 0;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..50 {
        let g = arb_clustered().new_tree(&mut runner).unwrap().current();
        let s = EdgeSignals::compute(&g, &SignalParams::default());
        for u in 0..g.num_nodes() as u32 {
            for &v in g.neighbors(u) {
                let a = s.dispersion[g.edge_slot(u, v).unwrap()];
                let b = s.dispersion[g.edge_slot(v, u).unwrap()];
                if a != b {
                    asymmetric += 1;
                }
            }
        }
    }
    assert!(asymmetric > 20, "{asymmetric}");
}
