//! The `feedrank graph-features` and `feedrank-debug friends` binaries end to end.
use std::path::Path;
use std::process::Command;

const FEEDRANK: &str = env!("CARGO_BIN_EXE_feedrank");
const DEBUG: &str = env!("CARGO_BIN_EXE_feedrank-debug");

/// Ego "a" with friends b, c, d, e; e knows b, c, d; b-c adjacent; plus a duplicate, a
/// reversed duplicate and a self-loop.
const SNAP: &str = "# test graph\na b\na c\na d\na e\ne b\ne c\ne d\nb c\nb a\na b\nd d\nf a\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn features(graph: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(FEEDRANK)
        .arg("graph-features")
        .arg("--graph")
        .arg(graph)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn graph_features_writes_deterministic_tsv() {
    let d = tempfile::tempdir().unwrap();
    let g = write(d.path(), "g.txt", SNAP);
    let o1 = d.path().join("one.tsv");
    let o2 = d.path().join("two.tsv");
    let r = features(&g, &o1, &["--threads", "1"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("6 users"), "{err}");
    assert!(err.contains("9 friendships"), "{err}");
    assert!(err.contains("1 self-loops dropped"), "{err}");
    assert!(err.contains("2 duplicates merged"), "{err}");
    assert!(err.contains("18 pairs"), "{err}");
    let r = features(&g, &o2, &["--threads", "3"]);
    assert!(r.status.success());
    let a = std::fs::read(&o1).unwrap();
    assert_eq!(a, std::fs::read(&o2).unwrap());
    let text = String::from_utf8(a).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "u\tv\tembeddedness\tjaccard\tadamic_adar\tdispersion\tdisp_norm\tdisp_norm_paper\trecursive_dispersion"
    );
    assert_eq!(text.lines().count(), 19);
    // a -> e: common {b, c, d}; {b,d} and {c,d} qualify: dispersion 2, disp_norm 2/3.
    let row = text.lines().find(|l| l.starts_with("a\te\t")).unwrap();
    let f: Vec<&str> = row.split('\t').collect();
    assert_eq!(f[2], "3");
    assert_eq!(f[5], "2");
    assert!((f[6].parse::<f64>().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    // jaccard = 3 / |{b,c,d,e,f} ∪ {a,b,c,d}| = 3 / 6
    assert!((f[3].parse::<f64>().unwrap() - 0.5).abs() < 1e-12);
    // Custom normalisation with --alpha/--b/--c.
    let o3 = d.path().join("norm.tsv");
    let r = features(&g, &o3, &["--alpha", "2", "--b", "1", "--c", "1"]);
    assert!(r.status.success());
    let text = std::fs::read_to_string(&o3).unwrap();
    let row = text.lines().find(|l| l.starts_with("a\te\t")).unwrap();
    let dn: f64 = row.split('\t').nth(6).unwrap().parse().unwrap();
    assert!((dn - 9.0 / 4.0).abs() < 1e-12);
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(left.is_empty());
}

#[test]
fn graph_features_detects_tsv_and_reports_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let g = write(
        d.path(),
        "g.tsv",
        "user_a\tuser_b\tsince\nx\ty\t1\ny\tz\t2\n",
    );
    let out = d.path().join("o.tsv");
    let r = features(&g, &out, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 5);

    let bad = write(d.path(), "bad.txt", "1 2\n3\n");
    let out2 = d.path().join("o2.tsv");
    let r = features(&bad, &out2, &[]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("bad.txt:2"), "{err}");
    assert!(!out2.exists());

    let r = features(&d.path().join("missing.txt"), &out2, &[]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("missing.txt"));

    let empty = write(d.path(), "empty.txt", "");
    let r = features(&empty, &out2, &[]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("empty"));
}

#[test]
fn friends_table_json_and_unknown_user() {
    let d = tempfile::tempdir().unwrap();
    let g = write(d.path(), "g.txt", SNAP);
    let r = Command::new(DEBUG)
        .args(["friends", "--user", "a", "--graph"])
        .arg(&g)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = String::from_utf8_lossy(&r.stdout);
    let marked: Vec<&str> = out.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(marked.len(), 2, "{out}"); // the marked row and the footer
    assert!(marked[0].split_whitespace().nth(1) == Some("e"), "{out}");
    assert!(out.contains("likely partner: e"), "{out}");

    let r = Command::new(DEBUG)
        .args(["friends", "--json", "--user", "a", "--graph"])
        .arg(&g)
        .output()
        .unwrap();
    assert!(r.status.success());
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["id"], "e");
    assert_eq!(rows[0]["likely_partner"], true);
    assert_eq!(rows[0]["dispersion"], 2);
    assert_eq!(rows[1]["likely_partner"], false);

    let r = Command::new(DEBUG)
        .args(["friends", "--user", "nobody", "--graph"])
        .arg(&g)
        .output()
        .unwrap();
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("nobody"), "{err}");
}
