//! The committed default world `graph_data/sample/` regenerates byte-for-byte from the
//! documented command:
//! `feedrank simulate --users 2000 --days 14 --seed 42 --out graph_data/sample --gzip`
//! (= `SimParams::default()` written with `WriteOptions { gzip: true }`).
use feedrank::io::world_tsv::write::{write_world, WriteOptions};
use feedrank::sim::{simulate, SimParams};
use std::path::Path;

#[test]
fn default_world_regenerates_byte_for_byte() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample");
    let params = SimParams::new(2000, 14, 42);
    assert_eq!(params, SimParams::default());
    let world = simulate(&params).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_world(&world, dir.path(), &WriteOptions { gzip: true }).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // `.feedrank/` is the load cache (the world snapshot) other tests and commands may have
    // written beside the world; it is not part of the world (and is git-ignored).
    let mut committed_names: Vec<String> = std::fs::read_dir(&committed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != feedrank::io::snapshot::SNAPSHOT_DIR)
        .collect();
    committed_names.sort();
    assert_eq!(names, committed_names);
    let mut total = 0;
    for name in &names {
        let fresh = std::fs::read(dir.path().join(name)).unwrap();
        let old = std::fs::read(committed.join(name)).unwrap();
        total += old.len();
        assert!(
            fresh == old,
            "{name} differs from the committed default world"
        );
    }
    assert!(total < 3_200_000, "default world is {total} bytes");
}
