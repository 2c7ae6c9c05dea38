//! Documented properties of the simulator, measured on a simulated world (the default
//! parameters: 2,000 users x 14 days, seed 42).
use feedrank::graph::{EdgeSignals, SignalParams};
use feedrank::sim::{simulate, social, SimParams};
use feedrank::world::{Action, World};
use std::collections::HashMap;
use std::sync::OnceLock;

const DAY: i64 = 86_400;

fn params() -> SimParams {
    SimParams::default()
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| simulate(&params()).expect("default params are valid"))
}

#[test]
fn partners_have_higher_dispersion_than_other_friends() {
    let p = params().check().unwrap();
    let s = social::build(&p);
    let w = world();
    assert_eq!(s.graph, w.graph, "the social layer rebuilds the same graph");
    let g = &w.graph;
    let sig = EdgeSignals::compute(g, &SignalParams::default());
    let (mut part, mut np, mut other, mut no) = (0.0, 0usize, 0.0, 0usize);
    let (mut part_abs, mut other_abs) = (0.0, 0.0);
    for u in 0..g.num_nodes() as u32 {
        for slot in g.slot_range(u) {
            let v = g.target(slot);
            if s.partner[u as usize] == Some(v) {
                part += sig.disp_norm_paper[slot];
                part_abs += sig.dispersion[slot] as f64;
                np += 1;
            } else {
                other += sig.disp_norm_paper[slot];
                other_abs += sig.dispersion[slot] as f64;
                no += 1;
            }
        }
    }
    let share = np as f64 / g.num_nodes() as f64;
    let (part, other) = (part / np as f64, other / no as f64);
    let (part_abs, other_abs) = (part_abs / np as f64, other_abs / no as f64);
    eprintln!(
        "partners {np} ({share:.3} of users): mean disp_norm {part:.3} vs {other:.3}; \
         mean disp {part_abs:.2} vs {other_abs:.2}"
    );
    assert!((share - 0.3).abs() < 0.03, "partner share {share}");
    assert!(part > 2.0 * other, "{part} vs {other}");
    assert!(part_abs > 2.0 * other_abs, "{part_abs} vs {other_abs}");
}

#[test]
fn degree_distribution_is_heavy_tailed() {
    let g = &world().graph;
    let mut deg: Vec<usize> = (0..g.num_nodes() as u32).map(|u| g.degree(u)).collect();
    deg.sort_unstable();
    let median = deg[deg.len() / 2];
    let p99 = deg[deg.len() * 99 / 100];
    let max = deg[deg.len() - 1];
    eprintln!("degree median {median}, p99 {p99}, max {max}");
    assert!(median >= 5);
    assert!(max >= 4 * median, "max {max} median {median}");
    assert!(p99 >= 5 * median / 2, "p99 {p99} median {median}");
}

/// Observed action rate per head over all impressions, and the sum of true probabilities.
#[test]
fn truth_is_calibrated_against_sampled_events() {
    let w = world();
    let mut observed = [0usize; 5];
    for e in &w.events {
        if e.action != Action::Impression {
            observed[e.action.index() - 1] += 1;
        }
    }
    let mut expected = [0.0; 5];
    for t in &w.truth {
        for (e, p) in expected.iter_mut().zip(t.p) {
            *e += p;
        }
    }
    let n = w.truth.len() as f64;
    for k in 0..5 {
        let ratio = expected[k] / observed[k] as f64;
        // Three standard deviations of a Poisson count.
        let tol = 3.0 / (observed[k] as f64).sqrt();
        eprintln!(
            "{:<8} observed rate {:.4} expected {:.4} calibration {ratio:.3} (tol {tol:.3})",
            Action::ENGAGEMENTS[k].as_str(),
            observed[k] as f64 / n,
            expected[k] / n
        );
        assert!((ratio - 1.0).abs() < tol, "head {k}: {ratio}");
    }
    // Base rates in the documented ranges.
    let rate = |k: usize| observed[k] as f64 / n;
    assert!((0.05..0.10).contains(&rate(0)), "click {}", rate(0));
    assert!((0.03..0.06).contains(&rate(1)), "like {}", rate(1));
    assert!((0.005..0.02).contains(&rate(2)), "comment {}", rate(2));
    assert!((0.0025..0.01).contains(&rate(3)), "share {}", rate(3));
    assert!((0.005..0.02).contains(&rate(4)), "hide {}", rate(4));
    // Calibration within probability buckets of p_like (the truth discriminates).
    let mut imp: HashMap<(u32, u32), usize> = HashMap::new();
    for (i, t) in w.truth.iter().enumerate() {
        imp.insert((t.user, t.story), i);
    }
    let mut liked = vec![false; w.truth.len()];
    for e in &w.events {
        if e.action == Action::Like {
            liked[imp[&(e.user, e.story)]] = true;
        }
    }
    let mut order: Vec<usize> = (0..w.truth.len()).collect();
    order.sort_by(|&a, &b| w.truth[a].p[1].total_cmp(&w.truth[b].p[1]));
    let low = &order[..order.len() / 2];
    let high = &order[order.len() * 9 / 10..];
    let obs = |s: &[usize]| s.iter().filter(|&&i| liked[i]).count() as f64 / s.len() as f64;
    let exp = |s: &[usize]| s.iter().map(|&i| w.truth[i].p[1]).sum::<f64>() / s.len() as f64;
    eprintln!(
        "like: bottom half observed {:.4} expected {:.4}; top decile observed {:.4} expected {:.4}",
        obs(low),
        exp(low),
        obs(high),
        exp(high)
    );
    assert!(obs(high) > 3.0 * obs(low));
    assert!((obs(high) / exp(high) - 1.0).abs() < 0.12);
    assert!((obs(low) / exp(low) - 1.0).abs() < 0.2);
}

/// Positive engagement (like or comment) per impression, bucketed by the number of direct
/// interactions from the viewer to the author before the impression.
#[test]
fn engagement_rises_with_tie_strength() {
    let w = world();
    let mut inter: HashMap<(u32, u32), Vec<i64>> = HashMap::new();
    for x in &w.interactions {
        inter.entry((x.from, x.to)).or_default().push(x.ts);
    }
    let mut pos: HashMap<(u32, u32), bool> = HashMap::new();
    for e in &w.events {
        if matches!(e.action, Action::Like | Action::Comment) {
            pos.insert((e.user, e.story), true);
        }
    }
    let bounds = [0usize, 1, 3, 10, usize::MAX];
    let mut imps = [0usize; 4];
    let mut hits = [0usize; 4];
    for e in w.events.iter().filter(|e| e.action == Action::Impression) {
        let a = w.stories[e.story as usize].author;
        if !w.graph.has_edge(e.user, a) {
            continue;
        }
        let c = inter
            .get(&(e.user, a))
            .map_or(0, |v| v.partition_point(|&t| t < e.ts));
        let b = (0..4)
            .find(|&i| c >= bounds[i] && c < bounds[i + 1])
            .unwrap();
        imps[b] += 1;
        if pos.contains_key(&(e.user, e.story)) {
            hits[b] += 1;
        }
    }
    let rates: Vec<f64> = (0..4).map(|i| hits[i] as f64 / imps[i] as f64).collect();
    eprintln!(
        "interaction buckets [0], [1,3), [3,10), [10,): impressions {imps:?} rates {rates:.4?}"
    );
    for i in 0..3 {
        assert!(imps[i] >= 500, "bucket {i} has {} impressions", imps[i]);
        assert!(rates[i + 1] > rates[i], "{rates:?}");
    }
    assert!(rates[3] > 2.0 * rates[0], "{rates:?}");
}

/// Among impressions with exactly two friends who engaged (liked, commented or shared) on an
/// earlier day, those two friends in separate components get higher engagement probability
/// than two friends who know each other (Ugander et al. 2012).
#[test]
fn structural_diversity_raises_engagement() {
    let w = world();
    let g = &w.graph;
    let mut engaged: HashMap<u32, Vec<(u32, i64)>> = HashMap::new();
    for e in &w.events {
        if matches!(e.action, Action::Like | Action::Comment | Action::Share) {
            engaged.entry(e.story).or_default().push((e.user, e.ts));
        }
    }
    let start = w
        .meta
        .params
        .get("start")
        .and_then(|v| v.as_integer())
        .unwrap();
    let day = |ts: i64| (ts - start).div_euclid(DAY);
    let (mut n1, mut s1, mut n2, mut s2) = (0usize, 0.0, 0usize, 0.0);
    let (mut o1, mut o2) = (0usize, 0usize);
    let mut pos: HashMap<(u32, u32), bool> = HashMap::new();
    for e in &w.events {
        if matches!(
            e.action,
            Action::Like | Action::Comment | Action::Share | Action::Click
        ) {
            pos.insert((e.user, e.story), true);
        }
    }
    for t in &w.truth {
        let Some(list) = engaged.get(&t.story) else {
            continue;
        };
        let mut f: Vec<u32> = list
            .iter()
            .filter(|(u, ts)| day(*ts) < day(t.ts) && g.has_edge(t.user, *u))
            .map(|x| x.0)
            .collect();
        f.sort_unstable();
        f.dedup();
        if f.len() != 2 {
            continue;
        }
        let p: f64 = t.p[0] + t.p[1] + t.p[3];
        let hit = pos.contains_key(&(t.user, t.story)) as usize;
        if g.has_edge(f[0], f[1]) {
            n1 += 1;
            s1 += p;
            o1 += hit;
        } else {
            n2 += 1;
            s2 += p;
            o2 += hit;
        }
    }
    eprintln!(
        "two engaged friends: connected n={n1} mean p {:.4} observed {:.4}; separate n={n2} \
         mean p {:.4} observed {:.4}",
        s1 / n1 as f64,
        o1 as f64 / n1 as f64,
        s2 / n2 as f64,
        o2 as f64 / n2 as f64
    );
    assert!(n1 >= 30 && n2 >= 30, "{n1} {n2}");
    assert!(s2 / n2 as f64 > s1 / n1 as f64);
}
