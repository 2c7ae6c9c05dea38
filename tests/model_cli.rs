//! `feedrank train` end to end on a small world written to disk.
mod model_world;
use feedrank::io::world_tsv::write::{write_world, WriteOptions};
use std::process::Command;

#[test]
fn train_command_writes_a_loadable_model_and_reports_heads() {
    let w = model_world::toy_world(40, 6, 21);
    let dir = tempfile::tempdir().unwrap();
    let wd = dir.path().join("world");
    write_world(&w, &wd, &WriteOptions::default()).unwrap();
    let cfg = dir.path().join("feedrank.toml");
    std::fs::write(
        &cfg,
        "[value]\nhide = -20.0\n[model]\nl2_grid = [1e-4, 1e-2]\n",
    )
    .unwrap();
    let model = dir.path().join("m.frm");
    let out = Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(["train", "--world"])
        .arg(&wd)
        .arg("--model")
        .arg(&model)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("click") && err.contains("valid_auc"), "{err}");
    let m = feedrank::model::load(&model).unwrap();
    assert_eq!(m.weights.hide, -20.0);
    assert_eq!(m.meta.as_of, feedrank::model::default_as_of(&w).unwrap());
    assert!(m.head(feedrank::world::Action::Click).is_some());
    // a bad config is a clear error naming the key
    std::fs::write(&cfg, "[value]\nhides = 1.0\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_feedrank"))
        .args(["train", "--world"])
        .arg(&wd)
        .arg("--model")
        .arg(&model)
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hides"));
}
