//! `feedrank eval --report DIR` end to end on a small simulated world: the three files, the
//! JSON identical to `--json-out`, one inline SVG per chart, the oracle's head curves; the
//! ceiling learner beside the oracle with the AUCs of `simulate --ceiling`, and absent on a
//! world that is not simulated.
use std::ffi::OsStr;
use std::process::{Command, Output};

/// `feedrank ARGS`, checked to succeed.
fn feedrank(args: &[&OsStr]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn eval_report_on_a_simulated_world() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world");
    let os = |s: &'static str| OsStr::new(s);
    let mut args: Vec<&OsStr> = ["simulate", "--users", "400", "--days", "7"]
        .into_iter()
        .chain(["--seed", "3", "--ceiling", "--out"])
        .map(os)
        .collect();
    args.push(world.as_os_str());
    feedrank(&args);
    let report = dir.path().join("report");
    let json = dir.path().join("eval.json");
    feedrank(&[
        os("eval"),
        os("--world"),
        world.as_os_str(),
        os("--json-out"),
        json.as_os_str(),
        os("--report"),
        report.as_os_str(),
        os("--resamples"),
        os("200"),
    ]);
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

    // the ceiling learner: right after the oracle, with the AUCs `simulate --ceiling` wrote
    assert!(md.contains("| ceiling | "), "{md}");
    assert!(html.contains(">ceiling<"));
    let oracle_at = a.find("\"oracle\"").unwrap();
    let ceiling_at = a.find("\"ceiling\"").expect("a ceiling method");
    assert!(oracle_at < ceiling_at);
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(world.join("ceiling.json")).unwrap())
            .unwrap();
    assert_eq!(c["split_at"], v["split_at"]);
    // the fitted observable-input learner, one AUC per head, each better than chance
    let obs = c["observable_fitted"]
        .as_array()
        .expect("observable_fitted");
    assert_eq!(obs.len(), c["heads"].as_array().unwrap().len());
    assert!(
        obs.iter().all(|a| a.as_f64().is_some_and(|a| a > 0.5)),
        "{obs:?}"
    );
    for (k, head) in c["heads"].as_array().unwrap().iter().enumerate() {
        let want = c["estimated_tastes_no_quality"][k].as_f64();
        let got = v["methods"]["ceiling"]["heads"][head.as_str().unwrap()]["auc"].as_f64();
        match (want, got) {
            (Some(w), Some(g)) => assert!((w - g).abs() < 1e-12, "{head}: {g} vs {w}"),
            _ => assert_eq!(want, got, "{head}"),
        }
    }

    // the same world, declared imported: no ceiling method (and no warning)
    let toml = std::fs::read_to_string(world.join("world.toml")).unwrap();
    let renamed = toml.replace("name = \"simulated\"", "name = \"imported\"");
    assert_ne!(renamed, toml);
    std::fs::write(world.join("world.toml"), renamed).unwrap();
    let out = feedrank(&[os("eval"), os("--world"), world.as_os_str(), os("--json")]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["methods"].get("oracle").is_some());
    assert!(v["methods"].get("ceiling").is_none(), "{v}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("ceiling"));
}
