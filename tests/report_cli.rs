//! `feedrank eval --report DIR` end to end on a small simulated world: the three files, the
//! JSON identical to `--json-out`, one inline SVG per chart, the oracle's head curves.
use std::process::Command;

#[test]
fn eval_report_on_a_simulated_world() {
    let bin = env!("CARGO_BIN_EXE_feedrank");
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let out = Command::new(bin)
        .args(["simulate", "--users", "400", "--days", "7", "--seed", "3"])
        .arg("--out")
        .arg(&world)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = dir.path().join("report");
    let json = dir.path().join("eval.json");
    let out = Command::new(bin)
        .arg("eval")
        .arg("--world")
        .arg(&world)
        .arg("--json-out")
        .arg(&json)
        .arg("--report")
        .arg(&report)
        .args(["--resamples", "200"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = std::fs::read_to_string(report.join("results.json")).unwrap();
    let b = std::fs::read_to_string(&json).unwrap();
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert!(v["methods"]["oracle"]["heads"]["click"]["auc"].is_number());
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(!html.to_lowercase().contains("http"));
    // One inline SVG per chart: feed_ndcg, ndcg_curve, calibration + ROC per head (and,
    // once the model is wired, paired_diff and coefficient charts).
    let svgs = html.matches("<svg").count();
    assert_eq!(svgs, html.matches("<div class=\"chart\">").count());
    let heads = v["methods"]["oracle"]["heads"].as_object().unwrap();
    assert!(heads.len() >= 2);
    assert!(svgs >= 2 + 2 * heads.len());
    let mut charts = vec!["feed_ndcg".to_string(), "ndcg_curve".to_string()];
    for h in heads.keys() {
        charts.push(format!("roc_{h}"));
        charts.push(format!("calibration_{h}"));
    }
    if v["methods"].get("model").is_some() {
        charts.push("paired_diff".to_string());
    }
    for c in charts {
        assert_eq!(
            html.matches(&format!("data-chart=\"{c}\"")).count(),
            1,
            "{c}"
        );
    }
    let md = std::fs::read_to_string(report.join("results.md")).unwrap();
    assert!(md.contains("| edgerank | "));
    assert!(md.contains("95% bootstrap intervals"));
}
