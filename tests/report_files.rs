//! The evaluation report on a synthetic result: the three files exist, the HTML holds every
//! section and one inline SVG per chart, no URL, the JSON equals `to_json()`, the intervals
//! contain their means and are deterministic.

use feedrank::eval::report::{chart_names, report_stats};
use feedrank::eval::{
    write_report, EvalResult, HeadCurves, ListStats, MethodResult, ReportExtras, ReportOptions,
};
use feedrank::features::AblationGroup;
use feedrank::metrics::{calibration_curve, roc_curve, HeadMetrics, ListMetrics};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// A method whose per-list nDCG is around `level`, with head curves when `heads`.
fn method(name: &str, level: f64, lists: usize, heads: bool, seed: u64) -> MethodResult {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let per_list: Vec<ListMetrics> = (0..lists)
        .map(|_| {
            let v = (level + rng.gen_range(-0.2..0.2)).clamp(0.0, 1.0);
            ListMetrics {
                ndcg: v,
                precision: v / 2.0,
                recall: v,
                ap: v * 0.8,
                rr: v.sqrt(),
            }
        })
        .collect();
    let n = lists as f64;
    let mean = |f: fn(&ListMetrics) -> f64| per_list.iter().map(f).sum::<f64>() / n;
    let (mut hm, mut hc) = (None, BTreeMap::new());
    if heads {
        let mut map = BTreeMap::new();
        for h in ["click", "like"] {
            let p: Vec<f64> = (0..500).map(|_| rng.gen_range(0.0..0.4)).collect();
            let y: Vec<bool> = p.iter().map(|&q| rng.gen_bool(q)).collect();
            map.insert(h.to_string(), HeadMetrics::compute(&p, &y));
            hc.insert(
                h.to_string(),
                HeadCurves {
                    calibration: calibration_curve(&p, &y, 10),
                    roc: roc_curve(&p, &y, 200),
                },
            );
        }
        hm = Some(map);
    }
    MethodResult {
        name: name.to_string(),
        ndcg: mean(|l| l.ndcg),
        precision: mean(|l| l.precision),
        recall: mean(|l| l.recall),
        map: mean(|l| l.ap),
        mrr: mean(|l| l.rr),
        heads: hm,
        per_list,
        ndcg_curve: (1..=50).map(|j| level * (1.0 - 0.5 / j as f64)).collect(),
        head_curves: hc,
    }
}

fn result() -> EvalResult {
    let lists = 120;
    let mut r = EvalResult {
        world: "synthetic <test>".to_string(),
        split_at: 1_700_000_000,
        k: 10,
        lists,
        methods: vec![
            method("model", 0.6, lists, true, 1),
            method("chronological", 0.4, lists, false, 2),
            method("popularity", 0.45, lists, false, 3),
            method("edgerank", 0.5, lists, false, 4),
            method("random", 0.3, lists, false, 5),
            method("oracle", 0.65, lists, true, 6),
        ],
        ablations: None,
        stats: ListStats {
            lists_total: 150,
            lists_skipped: 30,
            candidates: 5000,
            implied_impressions: 0,
            unattributed_engagements: 0,
        },
        notes: vec!["a note".to_string()],
    };
    let without_graph = method("graph", 0.5, lists, false, 7);
    let without_mf = method("mf", 0.58, lists, false, 8);
    r.add_ablation(AblationGroup::Graph, &without_graph);
    r.add_ablation(AblationGroup::Mf, &without_mf);
    r
}

fn extras() -> ReportExtras {
    ReportExtras {
        coefficients: vec![
            (
                "click".to_string(),
                vec![
                    ("is_friend".to_string(), 0.8),
                    ("age_hours".to_string(), -1.2),
                    ("jaccard".to_string(), 0.1),
                ],
            ),
            ("like".to_string(), vec![("aff_like".to_string(), 2.0)]),
        ],
        world_summary: "1,000 users & 20,000 stories".to_string(),
        command: Some("feedrank eval --world w --report out".to_string()),
        notes: vec!["extra note".to_string()],
    }
}

#[test]
fn report_files_sections_charts_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let r = result();
    let x = extras();
    let opts = ReportOptions {
        resamples: 300,
        ..ReportOptions::default()
    };
    write_report(&out, &r, &x, &opts).unwrap();
    // To look at the page: FEEDRANK_REPORT_KEEP=/some/dir cargo test --test report_files
    if let Some(keep) = std::env::var_os("FEEDRANK_REPORT_KEEP") {
        write_report(std::path::Path::new(&keep), &r, &x, &opts).unwrap();
    }
    for f in ["index.html", "results.json", "results.md"] {
        let m = std::fs::metadata(out.join(f)).unwrap();
        assert!(m.len() > 100, "{f} is too small");
    }
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);

    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    assert_eq!(json, r.to_json().unwrap());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["methods"]["model"]["ndcg"].is_number());
    assert!(v["ablations"]["graph"]["delta"].is_number());

    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.to_lowercase().contains("http"),
        "the page holds a URL"
    );
    assert!(!html.contains("<script"));
    for id in [
        "overview",
        "feed-metrics",
        "paired-differences",
        "heads",
        "ndcg-curve",
        "ablations",
        "coefficients",
        "notes",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "missing {id}"
        );
    }
    let charts = chart_names(&r, &x);
    assert_eq!(
        charts,
        [
            "feed_ndcg",
            "paired_diff",
            "calibration_click",
            "roc_click",
            "calibration_like",
            "roc_like",
            "ndcg_curve",
            "ablations",
            "coef_click",
            "coef_like"
        ]
    );
    assert_eq!(html.matches("<svg").count(), charts.len());
    assert_eq!(html.matches("</svg>").count(), charts.len());
    for c in &charts {
        assert_eq!(
            html.matches(&format!("data-chart=\"{c}\"")).count(),
            1,
            "chart {c}"
        );
    }
    // Escaping and labels.
    assert!(html.contains("synthetic &lt;test&gt;"));
    assert!(!html.contains("synthetic <test>"));
    assert!(html.contains("1,000 users &amp; 20,000 stories"));
    for name in [
        "chronological",
        "popularity",
        "edgerank",
        "random",
        "oracle",
    ] {
        assert!(html.contains(name), "{name}");
    }
    // Coefficients: the largest by absolute value comes first.
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    let age = md.find("| age_hours | -1.2000 |").unwrap();
    let friend = md.find("| is_friend | +0.8000 |").unwrap();
    assert!(age < friend);
    assert!(md.contains("## Paired differences"));
    assert!(md.contains("| graph |"));
    assert!(md.contains(&r.to_markdown()));
}

#[test]
fn intervals_contain_means_and_are_deterministic() {
    let r = result();
    let opts = ReportOptions::default();
    let s = report_stats(&r, &opts);
    assert_eq!(s, report_stats(&r, &opts));
    assert_eq!(s.methods.len(), r.methods.len());
    for m in &s.methods {
        for e in [m.ndcg, m.precision, m.recall, m.map, m.mrr] {
            let (a, b) = e.ci.unwrap();
            assert!(a <= e.mean && e.mean <= b, "{} {e:?}", m.method);
            assert!(b - a < 0.2);
        }
    }
    // model - random is about 0.3, clearly positive; the interval says so.
    let (_, d) = s.diffs.iter().find(|(m, _)| m == "random").unwrap();
    assert!((d.mean - 0.3).abs() < 0.05);
    assert!(d.ci.unwrap().0 > 0.0);
    assert_eq!(s.diffs.len(), r.methods.len() - 1);
    // Ablations: graph helps a lot (delta ~0.1), paired interval above 0.
    let (g, e) = &s.ablations[0];
    assert_eq!(g, "graph");
    assert_eq!(
        e.mean,
        r.ablations.as_ref().unwrap()[&AblationGroup::Graph].delta
    );
    let (a, b) = e.ci.unwrap();
    assert!(a > 0.0 && a <= e.mean && e.mean <= b);
    // A different seed gives different intervals; no resamples gives none.
    let other = report_stats(
        &r,
        &ReportOptions {
            seed: 99,
            ..opts.clone()
        },
    );
    assert_ne!(other.methods[0].ndcg.ci, s.methods[0].ndcg.ci);
    let none = report_stats(
        &r,
        &ReportOptions {
            resamples: 0,
            ..opts
        },
    );
    assert!(none.methods.iter().all(|m| m.ndcg.ci.is_none()));
}

#[test]
fn baselines_only_report_has_no_model_sections() {
    let mut r = result();
    r.methods.remove(0);
    r.ablations = None;
    let x = ReportExtras::default();
    let dir = tempfile::tempdir().unwrap();
    write_report(dir.path(), &r, &x, &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(!html.contains("id=\"paired-differences\""));
    assert!(!html.contains("id=\"ablations\""));
    assert!(!html.contains("id=\"coefficients\""));
    let charts = chart_names(&r, &x);
    assert_eq!(html.matches("<svg").count(), charts.len());
    assert!(charts.contains(&"roc_click".to_string())); // the oracle's curves remain
}

/// The page shows the test period's start as a UTC date, never as unix seconds.
#[test]
fn report_shows_the_split_as_a_utc_date() {
    let dir = tempfile::tempdir().unwrap();
    let r = result(); // split_at 1_700_000_000 = 2023-11-14 22:13:20 UTC
    write_report(dir.path(), &r, &extras(), &ReportOptions::default()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("Test period from 2023-11-14 22:13 UTC."),
        "no UTC date in the page"
    );
    assert!(!html.contains("1700000000"), "the page holds unix seconds");
    assert!(!html.contains("unix seconds"));
}
