//! World snapshots (`feedrank::io::snapshot` through `pipeline::load_world`): a load from
//! the snapshot gives exactly the parsed world; any change to a source, a corrupt snapshot,
//! a missing truth section or a lenient load falls back to parsing; a source modified just
//! now is never snapshotted.
use feedrank::io::snapshot::{read_snapshot, snapshot_path, Miss};
use feedrank::pipeline::{load_world, world_fingerprint, LoadOptions, LoadedFrom};
use feedrank::world::World;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample")
}

/// A copy of the default world whose files were last modified `age` seconds ago.
fn aged_copy(age: u64) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(sample_dir()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let to = tmp.path().join(entry.file_name());
            std::fs::copy(entry.path(), &to).unwrap();
            set_age(&to, age);
        }
    }
    tmp
}

fn set_age(path: &Path, age: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age))
        .unwrap();
}

fn load(dir: &Path, skip_truth: bool) -> (World, feedrank::io::world_tsv::LoadReport, LoadedFrom) {
    load_world(
        dir,
        &LoadOptions {
            skip_truth,
            ..LoadOptions::default()
        },
    )
    .unwrap()
}

fn assert_same(a: &World, b: &World) {
    assert_eq!(world_fingerprint(a), world_fingerprint(b));
    // Every field, truth included (World's PartialEq), without printing two whole worlds.
    assert!(a == b, "the worlds differ");
}

#[test]
fn snapshot_round_trip_is_exact_and_used_second_time() {
    let dir = aged_copy(3600);
    let (parsed, r1, from1) = load(dir.path(), false);
    assert!(matches!(from1, LoadedFrom::Tsv { .. }), "{from1}");
    assert!(snapshot_path(dir.path()).exists(), "{from1}");
    assert!(!parsed.truth.is_empty() && !parsed.events.is_empty());
    let (snap, r2, from2) = load(dir.path(), false);
    assert_eq!(from2, LoadedFrom::Snapshot);
    assert_same(&parsed, &snap);
    assert_eq!(r1, r2);
    // A load that does not want truth uses the same snapshot, without the truth rows.
    let (light, r3, from3) = load(dir.path(), true);
    assert_eq!(from3, LoadedFrom::Snapshot);
    assert!(light.truth.is_empty());
    assert_eq!(r3.truth, 0);
    assert_eq!(world_fingerprint(&light), world_fingerprint(&parsed));
}

#[test]
fn a_changed_source_makes_the_snapshot_stale() {
    let dir = aged_copy(3600);
    let (before, _, _) = load(dir.path(), true);
    assert!(snapshot_path(dir.path()).exists());
    // Rewrite world.toml with a different name, dated an hour ago as well (but not the same
    // nanosecond): the stamp differs, the snapshot is not used and the change is seen.
    let toml_path = dir.path().join("world.toml");
    let text = std::fs::read_to_string(&toml_path).unwrap();
    std::fs::write(
        &toml_path,
        text.replacen("name = ", "name = \"renamed\"\n#", 1),
    )
    .unwrap();
    set_age(&toml_path, 3599);
    assert_eq!(read_snapshot(dir.path(), false).err(), Some(Miss::Stale));
    let (after, _, from) = load(dir.path(), true);
    assert!(matches!(from, LoadedFrom::Tsv { .. }), "{from}");
    assert_eq!(after.meta.name, "renamed");
    assert_ne!(before.meta.name, after.meta.name);
    // ... and the rewritten snapshot carries the change.
    let (again, _, from) = load(dir.path(), true);
    assert_eq!(from, LoadedFrom::Snapshot);
    assert_eq!(again.meta.name, "renamed");
}

#[test]
fn a_table_that_appears_makes_the_snapshot_stale() {
    let dir = aged_copy(3600);
    let gz = dir.path().join("interactions.tsv.gz");
    let saved = std::fs::read(&gz).unwrap();
    std::fs::remove_file(&gz).unwrap();
    let (without, _, _) = load(dir.path(), true);
    assert!(without.interactions.is_empty());
    std::fs::write(&gz, saved).unwrap();
    set_age(&gz, 3600);
    assert_eq!(read_snapshot(dir.path(), false).err(), Some(Miss::Stale));
    let (with, _, _) = load(dir.path(), true);
    assert!(!with.interactions.is_empty());
}

#[test]
fn fresh_sources_are_not_snapshotted() {
    let dir = aged_copy(3600);
    let events = dir.path().join("events.tsv.gz");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&events)
        .unwrap();
    f.set_modified(SystemTime::now()).unwrap();
    drop(f);
    let (_, _, from) = load(dir.path(), true);
    match from {
        LoadedFrom::Tsv { snapshot } => assert!(snapshot.contains("just now"), "{snapshot}"),
        other => panic!("expected a parse, got {other}"),
    }
    assert!(!snapshot_path(dir.path()).exists());
}

#[test]
fn a_corrupt_snapshot_is_ignored_and_replaced() {
    let dir = aged_copy(3600);
    let (parsed, _, _) = load(dir.path(), false);
    let path = snapshot_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    // A byte a third of the way in (inside the main section, read by every load).
    let at = bytes.len() / 3;
    bytes[at] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();
    match read_snapshot(dir.path(), false) {
        Err(Miss::Corrupt(m)) => assert!(m.contains("checksum"), "{m}"),
        other => panic!("expected a corrupt snapshot, got {:?}", other.map(|_| ())),
    }
    let (reloaded, _, from) = load(dir.path(), false);
    assert!(matches!(from, LoadedFrom::Tsv { .. }), "{from}");
    assert_same(&parsed, &reloaded);
    assert_eq!(load(dir.path(), false).2, LoadedFrom::Snapshot);
    // A truncated file and a foreign file are misses too, never errors or panics.
    std::fs::write(&path, &bytes[..40]).unwrap();
    assert!(matches!(
        read_snapshot(dir.path(), false),
        Err(Miss::Corrupt(_))
    ));
    std::fs::write(&path, b"hello").unwrap();
    assert!(matches!(
        read_snapshot(dir.path(), false),
        Err(Miss::Corrupt(_))
    ));
}

#[test]
fn a_snapshot_without_truth_is_not_used_by_a_load_that_wants_truth() {
    let dir = aged_copy(3600);
    let (_, _, from) = load(dir.path(), true);
    assert!(matches!(from, LoadedFrom::Tsv { .. }));
    assert_eq!(read_snapshot(dir.path(), true).err(), Some(Miss::NoTruth));
    let (full, _, from) = load(dir.path(), false);
    assert!(matches!(from, LoadedFrom::Tsv { .. }), "{from}");
    assert!(!full.truth.is_empty());
    // Now the snapshot has truth, and both kinds of load use it.
    assert_eq!(load(dir.path(), false).2, LoadedFrom::Snapshot);
    assert_eq!(load(dir.path(), true).2, LoadedFrom::Snapshot);
}

#[test]
fn lenient_and_snapshot_off_loads_neither_read_nor_write_snapshots() {
    let dir = aged_copy(3600);
    for opts in [
        LoadOptions {
            lenient: true,
            ..LoadOptions::default()
        },
        LoadOptions {
            snapshot: false,
            ..LoadOptions::default()
        },
    ] {
        let (_, _, from) = load_world(dir.path(), &opts).unwrap();
        assert!(matches!(from, LoadedFrom::Tsv { .. }));
        assert!(!snapshot_path(dir.path()).exists());
    }
}

#[test]
fn a_bad_world_is_still_an_error_naming_the_file_and_line() {
    let dir = aged_copy(3600);
    load(dir.path(), true);
    // Replace the gzip events table by a plain one with a bad timestamp on line 3: the stamp
    // changes (another file), so the parse runs and fails with file and line.
    std::fs::remove_file(dir.path().join("events.tsv.gz")).unwrap();
    let bad = dir.path().join("events.tsv");
    std::fs::write(
        &bad,
        "user_id\tstory_id\taction\tts\nu1105\ts1433\timpression\t1704067418\nu1105\ts1433\tlike\tsoon\n",
    )
    .unwrap();
    set_age(&bad, 3600);
    let err = load_world(dir.path(), &LoadOptions::default()).unwrap_err();
    let msg = format!("{err}");
    assert!(msg.contains("events.tsv:3"), "{msg}");
}
