//! The short version of `feedrank bench fuzz` (issue 14): 2,000 seeded mutations of valid
//! inputs per reader (the world tables plain and gzipped, world.toml, the model file, the
//! snapshot, the graph reader and the importers' inputs), and not one panic. The long run's
//! figure is in the README.
use std::process::Command;

#[test]
fn no_reader_panics_on_2000_mutated_inputs_each() {
    let out = Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(["bench", "fuzz", "--inputs", "2000", "--seed", "14"])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("total"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    for want in [
        "users.tsv",
        "friendships.tsv.gz",
        "events.tsv",
        "interactions.tsv.gz",
        "world.toml",
        "model",
        "snapshot",
        "graph",
        "import-snap",
        "ciao-ratings",
        "ciao-trust",
        "lastfm-tags",
    ] {
        assert!(names.contains(&want), "no {want} in {names:?}");
    }
    assert_eq!(rows.len(), 20, "{stdout}");
    for r in &rows {
        assert_eq!(r[1], "2000", "{r:?}");
        assert_eq!(r[4], "0", "panics in {r:?}");
        // every reader both refuses and accepts some inputs (the catalogue reader accepts
        // any text)
        assert!(r[2] != "0" || r[0] == "ciao-catalog", "no errors: {r:?}");
        assert!(r[3] != "0", "nothing accepted: {r:?}");
    }
    assert!(stdout.contains("0 panics"), "{stdout}");
}
