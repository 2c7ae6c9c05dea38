//! Kill test (issue 14): `generate` and `train` are killed with SIGKILL at 20 seeded
//! pseudo-random moments each. After every kill the destination is either absent or a
//! complete, valid file (the previous one, or the new one when the kill came after the
//! rename), the next run succeeds, and once the runs are over no temporary file is left
//! (the next run sweeps what a killed one left). A second test runs two writers of the same
//! output and of the same snapshot at once: both succeed and the file is valid.
//!
//! The moments are fractions (0-1.2) of the shortest uninterrupted run seen so far (measured
//! here, never asserted). The CI world has 600 users; `FEEDRANK_KILL_USERS=20000` runs the test on a
//! 20,000-user world by hand (the figure in the README).
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 20;

fn feedrank() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_feedrank"));
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn ok(c: &mut Command) {
    let out = c.output().expect("the binary runs");
    assert!(
        out.status.success(),
        "{c:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn users() -> usize {
    std::env::var("FEEDRANK_KILL_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600)
}

fn simulate(dir: &Path, users: usize) -> PathBuf {
    let world = dir.join("world");
    ok(feedrank().args([
        "simulate",
        "--users",
        &users.to_string(),
        "--days",
        "7",
        "--seed",
        "5",
        "--out",
        world.to_str().unwrap(),
    ]));
    world
}

/// Our temporary files (`.<name>.tmp.<pid>.<seq>`) anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if e.file_name().to_string_lossy().contains(".tmp.") {
                out.push(p);
            }
        }
    }
    out
}

/// Runs `cmd` to the end and returns its wall time.
fn timed(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    ok(cmd);
    t.elapsed()
}

/// Starts `cmd`, kills it (SIGKILL) after `after` unless it ended first; true when killed.
fn kill_after(cmd: &mut Command, after: Duration) -> bool {
    let mut child = cmd.stderr(Stdio::null()).spawn().expect("spawn");
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{cmd:?} failed before the kill");
            return false;
        }
        if t.elapsed() >= after {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The kill sweep for one command: `run(variant)` builds the command writing `dest`;
/// `valid` lists the complete files the destination may hold.
fn sweep(
    name: &str,
    seed: u64,
    dest: &Path,
    dir: &Path,
    run: &dyn Fn(usize) -> Command,
    valid: &[Vec<u8>],
) -> usize {
    // the shortest uninterrupted run seen so far: the first run may parse the world where
    // later ones read its snapshot, and a loaded machine slows single runs down
    let mut full = timed(&mut run(0));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut killed = 0;
    for i in 0..KILLS {
        let at = full.mul_f64(rng.gen_range(0.0..1.2));
        killed += usize::from(kill_after(&mut run(i % valid.len()), at));
        if dest.exists() {
            let bytes = std::fs::read(dest).unwrap();
            assert!(
                valid.contains(&bytes),
                "{name}: after kill {i} at {at:?} {} is not a complete valid file ({} bytes)",
                dest.display(),
                bytes.len()
            );
        }
        // the next run succeeds (and sweeps what the killed one left)
        full = full.min(timed(&mut run(i % valid.len())));
        assert!(valid.contains(&std::fs::read(dest).unwrap()));
    }
    let left = temporaries(dir);
    assert!(left.is_empty(), "{name}: temporary files left: {left:?}");
    eprintln!(
        "{name}: {killed} of {KILLS} runs killed before they ended (shortest full run {full:?})"
    );
    killed
}

#[test]
fn sigkill_never_leaves_a_partial_file_or_a_temporary() {
    let tmp = tempfile::tempdir().unwrap();
    let world = simulate(tmp.path(), users());
    let model = tmp.path().join("model.frm");
    let train = |_: usize| {
        let mut c = feedrank();
        c.arg("train")
            .arg("--world")
            .arg(&world)
            .arg("--model")
            .arg(&model);
        c
    };
    ok(&mut train(0));
    let trained = std::fs::read(&model).unwrap();
    feedrank::model::file::decode(&trained, &model).expect("a valid model");
    let killed = sweep("train", 1, &model, tmp.path(), &train, &[trained]);
    assert!(killed > 0, "no train run was killed before it ended");

    // two different outputs (k 10 and k 20), so a kill after the rename shows the new file
    let feeds = tmp.path().join("out").join("feeds.jsonl");
    let generate = |variant: usize| {
        let mut c = feedrank();
        c.arg("generate")
            .arg("--world")
            .arg(&world)
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(&feeds)
            .args(["--k", if variant == 0 { "10" } else { "20" }]);
        c
    };
    ok(&mut generate(0));
    let k10 = std::fs::read(&feeds).unwrap();
    ok(&mut generate(1));
    let k20 = std::fs::read(&feeds).unwrap();
    assert_ne!(k10, k20);
    let killed = sweep("generate", 2, &feeds, tmp.path(), &generate, &[k10, k20]);
    assert!(killed > 0, "no generate run was killed before it ended");
}

#[test]
fn two_writers_of_one_output_and_one_snapshot_both_succeed() {
    let tmp = tempfile::tempdir().unwrap();
    let world = simulate(tmp.path(), 400);
    // sources older than the snapshot writer's 2 s "racy clean" window, and no snapshot yet
    let past = std::time::SystemTime::now() - Duration::from_secs(3600);
    for e in std::fs::read_dir(&world).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            let f = std::fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(past).unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(world.join(".feedrank"));
    let model = tmp.path().join("model.frm");
    ok(feedrank()
        .env("FEEDRANK_SNAPSHOT", "off")
        .arg("train")
        .arg("--world")
        .arg(&world)
        .arg("--model")
        .arg(&model));
    let feeds = tmp.path().join("feeds.jsonl");
    let generate = || {
        let mut c = feedrank();
        c.arg("generate")
            .arg("--world")
            .arg(&world)
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(&feeds)
            .args(["--threads", "1"]);
        c
    };
    for round in 0..3 {
        let snapshot = world.join(".feedrank").join("world.snapshot");
        let _ = std::fs::remove_file(&snapshot);
        let mut a = generate().spawn().unwrap();
        let mut b = generate().spawn().unwrap();
        let (sa, sb) = (a.wait().unwrap(), b.wait().unwrap());
        assert!(sa.success() && sb.success(), "round {round}: {sa} {sb}");
        assert!(snapshot.exists(), "round {round}: a snapshot was written");
        // the snapshot both wrote is whole: a load reads it (not the TSV files)
        let (_, _, from) = feedrank::pipeline::load_world(
            &world,
            &feedrank::pipeline::LoadOptions {
                lenient: false,
                skip_truth: true,
                snapshot: true,
            },
        )
        .unwrap();
        assert_eq!(
            from,
            feedrank::pipeline::LoadedFrom::Snapshot,
            "round {round}"
        );
        // the output is one complete run's
        ok(&mut generate());
        let once = std::fs::read(&feeds).unwrap();
        let mut a = generate().spawn().unwrap();
        let mut b = generate().spawn().unwrap();
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        assert_eq!(std::fs::read(&feeds).unwrap(), once, "round {round}");
        assert!(temporaries(tmp.path()).is_empty());
    }
}
