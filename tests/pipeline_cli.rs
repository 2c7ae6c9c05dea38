//! End-to-end tests of the real binaries on the committed default world
//! (`graph_data/sample`): train, the main command, batch generation (thread-count
//! determinism and the union of shards), and the debug binary's identity with the batch.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin(name: &str) -> Command {
    let path = match name {
        "feedrank" => env!("CARGO_BIN_EXE_feedrank"),
        _ => env!("CARGO_BIN_EXE_feedrank-debug"),
    };
    let mut c = Command::new(path);
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn ok(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "command failed: {cmd:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample")
}

fn generate(model: &Path, out: &Path, extra: &[&str]) -> Vec<u8> {
    let mut c = bin("feedrank");
    c.arg("generate")
        .arg("--world")
        .arg(sample())
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra);
    ok(&mut c);
    std::fs::read(out).expect("feeds written")
}

#[test]
fn default_world_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("sample.frm");
    let out = dir.path().join("out");

    // The main command trains when the model is missing ...
    let (stdout, stderr) = ok(bin("feedrank")
        .arg("run")
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out));
    assert!(stderr.contains("training one"), "{stderr}");
    assert!(
        stderr.contains(" validation from ") && !stderr.contains("Some("),
        "the training summary prints times, not Rust options: {stderr}"
    );
    assert!(
        stdout.contains("friends --graph ") && stdout.contains("friendships.tsv"),
        "{stdout}"
    );
    assert!(model.exists());
    let feeds = std::fs::read_to_string(out.join("feeds.jsonl")).expect("feeds.jsonl");
    assert_eq!(feeds.lines().count(), 2000, "one line per user");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("summary is JSON");
    assert_eq!(summary["users"], 2000);
    let methods = &summary["evaluation"]["methods"];
    for m in [
        "model",
        "chronological",
        "popularity",
        "edgerank",
        "random",
        "oracle",
    ] {
        assert!(methods[m]["ndcg"].is_f64(), "{m} missing in {summary}");
    }
    assert!(stdout.contains("feedrank-debug"), "suggests next commands");
    // ... and reuses it when it is current.
    let (_, stderr) = ok(bin("feedrank")
        .arg("run")
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(&out));
    assert!(stderr.contains("current for this world"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("feeds.jsonl")).expect("feeds"),
        feeds,
        "same model, same world: same feeds"
    );

    // Batch output is byte-identical whatever the thread count ...
    let one = generate(&model, &dir.path().join("t1.jsonl"), &["--threads", "1"]);
    let two = generate(&model, &dir.path().join("t2.jsonl"), &["--threads", "2"]);
    assert_eq!(one, two, "1 thread vs 2 threads");
    assert_eq!(
        one,
        feeds.as_bytes(),
        "generate equals the main command's feeds"
    );

    // ... and the union of 3 shards is the full output (in user order).
    let full = String::from_utf8(one).expect("utf8");
    let mut by_user = std::collections::HashMap::new();
    let mut total = 0;
    for i in 0..3 {
        let shard = generate(
            &model,
            &dir.path().join(format!("s{i}.jsonl")),
            &["--shard", &format!("{i}/3")],
        );
        for line in String::from_utf8(shard).expect("utf8").lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("json line");
            by_user.insert(
                v["user"].as_str().expect("user").to_string(),
                line.to_string(),
            );
            total += 1;
        }
    }
    assert_eq!(total, 2000, "shards are disjoint and cover every user");
    for line in full.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert_eq!(by_user[v["user"].as_str().expect("user")], line);
    }

    // The debug binary's feed is the batch line, byte for byte, for many users.
    let lines: Vec<&str> = full.lines().collect();
    for line in lines.iter().step_by(250) {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        let user = v["user"].as_str().expect("user");
        let (stdout, _) = ok(bin("feedrank-debug")
            .args(["feed", "--json", "--user", user, "--world"])
            .arg(sample())
            .arg("--model")
            .arg(&model));
        let dbg: serde_json::Value = serde_json::from_str(&stdout).expect("debug json");
        assert_eq!(
            serde_json::to_string(&dbg["feed"]).expect("json"),
            serde_json::to_string(&v).expect("json"),
            "debug vs batch for {user}"
        );
        assert!(dbg["candidates"].is_array());
    }

    // An unknown user is a clear error with a non-zero exit.
    let out = bin("feedrank-debug")
        .args(["feed", "--user", "nobody", "--world"])
        .arg(sample())
        .arg("--model")
        .arg(&model)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}

#[test]
fn bad_model_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("junk.frm");
    std::fs::write(&model, b"not a model").expect("write");
    let out = bin("feedrank")
        .arg("generate")
        .arg("--world")
        .arg(sample())
        .arg("--model")
        .arg(&model)
        .arg("--out")
        .arg(dir.path().join("f.jsonl"))
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("junk.frm"), "{err}");
    assert!(!dir.path().join("f.jsonl").exists(), "nothing half-written");

    // A missing model: its path and the system's reason, each said once.
    let missing = dir.path().join("missing.frm");
    let out = bin("feedrank")
        .arg("generate")
        .arg("--world")
        .arg(sample())
        .arg("--model")
        .arg(&missing)
        .arg("--out")
        .arg(dir.path().join("f.jsonl"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or("");
    assert_eq!(last.matches("missing.frm").count(), 1, "{err}");
    assert_eq!(last.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn run_outside_the_repository_names_the_missing_world() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bin("feedrank")
        .current_dir(dir.path())
        .arg("run")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no world at graph_data/sample") && stderr.contains("--world DIR"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing written");
}
