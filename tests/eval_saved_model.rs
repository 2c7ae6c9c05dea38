//! `feedrank eval --model FILE` evaluates a saved model instead of training one, and refuses a
//! model whose training saw the test period.
use std::path::Path;
use std::process::Command;

fn feedrank(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(args)
        .output()
        .expect("run feedrank")
}

#[test]
fn eval_takes_a_saved_model_trained_before_the_split_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let world = root.join("graph_data/sample");
    let world = world.to_str().unwrap();
    let tmp = tempfile::tempdir().expect("tmp");
    let model = tmp.path().join("early.frm");
    let json = tmp.path().join("eval.json");
    let out = feedrank(&[
        "train",
        "--world",
        world,
        "--model",
        model.to_str().unwrap(),
        "--as-of",
        "2024-01-10",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = feedrank(&[
        "eval",
        "--world",
        world,
        "--model",
        model.to_str().unwrap(),
        "--split-at",
        "2024-01-10",
        "--json-out",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("trained on world"),
        "eval trained a model although one was given:\n{stderr}"
    );
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let text = result.to_string();
    assert!(text.contains("\"model\""), "no model method in {text:.300}");
    // the table on stdout beside the file
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("split_at"), "{table}");
    assert!(serde_json::from_str::<serde_json::Value>(&table).is_err());

    // `--json` (a switch, as in feedrank-debug): the same JSON on stdout, no table, no file
    let out = feedrank(&[
        "eval",
        "--world",
        world,
        "--model",
        model.to_str().unwrap(),
        "--split-at",
        "2024-01-10",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let written = std::fs::read_to_string(&json).unwrap();
    assert_eq!(printed.trim_end(), written.trim_end());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&printed).unwrap(),
        result
    );

    // The committed model was trained up to 2024-01-14: the default split is before it.
    let committed = root.join("models/sample.frm");
    let out = feedrank(&[
        "eval",
        "--world",
        world,
        "--model",
        committed.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("after the test period starts"), "{msg}");
}
