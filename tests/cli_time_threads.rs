//! `--as-of` takes a date like `--split-at` does, and `train` and `feedrank-debug` take
//! `--threads` (issue 14: consistent flags). Both are checked against known outputs: the
//! committed model is the one `train` makes as of the start of the default world's last day.
use std::path::Path;
use std::process::Command;

fn run(bin: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn train_takes_a_date_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.frm");
    let model = model.to_str().unwrap();
    // 2024-01-14 00:00 UTC is the default cut-off of graph_data/sample (its last day)
    run(
        env!("CARGO_BIN_EXE_feedrank"),
        &[
            "train",
            "--world",
            "graph_data/sample",
            "--model",
            model,
            "--as-of",
            "2024-01-14",
            "--threads",
            "1",
        ],
    );
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sample.frm");
    assert_eq!(
        std::fs::read(model).unwrap(),
        std::fs::read(committed).unwrap()
    );
}

#[test]
fn debug_feed_takes_a_date_and_threads() {
    let feed = |as_of: &str, threads: &str| {
        run(
            env!("CARGO_BIN_EXE_feedrank-debug"),
            &[
                "feed",
                "--world",
                "graph_data/sample",
                "--model",
                "models/sample.frm",
                "--user",
                "u5",
                "--json",
                "--as-of",
                as_of,
                "--threads",
                threads,
            ],
        )
    };
    let by_date = feed("2024-01-14", "1");
    assert_eq!(by_date, feed("1705190400", "2"));
    let friends = |threads: &str| {
        run(
            env!("CARGO_BIN_EXE_feedrank-debug"),
            &[
                "friends",
                "--graph",
                "graph_data/sample/friendships.tsv.gz",
                "--user",
                "u5",
                "--threads",
                threads,
            ],
        )
    };
    assert_eq!(friends("1"), friends("2"));
    let bad = Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(["generate", "--world", "x", "--model", "y", "--out", "-"])
        .args(["--as-of", "2024-13-01"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
}
