//! Where the binaries' output goes when it is not a terminal: a pipe closed early by its
//! reader ends the program quietly with exit 0 (as `head` expects); a full disk (`/dev/full`)
//! is an error on stderr and exit 1; `--out -` is standard output; an `--out` that is a
//! directory fails before any work and leaves no temporary file.
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const FEEDRANK: &str = env!("CARGO_BIN_EXE_feedrank");
const DEBUG: &str = env!("CARGO_BIN_EXE_feedrank-debug");

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `feedrank-debug feed` on the committed default world and model for one user.
fn feed_cmd(extra: &[&str]) -> Command {
    let mut c = Command::new(DEBUG);
    c.arg("feed")
        .arg("--world")
        .arg(repo("graph_data/sample"))
        .arg("--model")
        .arg(repo("models/sample.frm"))
        .args(["--user", "u0"])
        .args(extra);
    c
}

/// A star graph: user 0 with `n` friends, so that `friends --user 0` prints far more than a
/// pipe holds (64 KiB).
fn star_graph(dir: &Path, n: usize) -> PathBuf {
    let mut text = String::new();
    for i in 1..=n {
        text.push_str(&format!("0 {i}\n"));
    }
    let p = dir.join("star.txt");
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `cmd` with stdout to a pipe that is closed after `lines` lines were read (0: closed
/// before the program writes anything); returns the exit status and stderr.
fn with_closed_pipe(cmd: &mut Command, lines: usize) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    if lines > 0 {
        let mut r = BufReader::new(stdout);
        for _ in 0..lines {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            assert!(
                !line.is_empty(),
                "the program printed fewer than {lines} lines"
            );
        }
        drop(r);
    } else {
        drop(stdout);
    }
    child.wait_with_output().unwrap()
}

/// Runs `cmd` with stdout to `/dev/full` (every write fails with "no space left").
fn to_dev_full(cmd: &mut Command) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    cmd.stdout(Stdio::from(full)).output().unwrap()
}

fn assert_quiet_exit_0(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(!err.contains("error:"), "{what}: {err}");
}

fn assert_disk_full_error(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(err.contains("error:"), "{what}: {err}");
    assert!(
        err.contains("writing to standard output: No space left on device"),
        "{what}: {err}"
    );
}

#[test]
fn friends_to_a_closed_pipe_or_a_full_disk() {
    let d = tempfile::tempdir().unwrap();
    let g = star_graph(d.path(), 5000);
    let friends = |json: bool| {
        let mut c = Command::new(DEBUG);
        c.arg("friends")
            .arg("--graph")
            .arg(&g)
            .args(["--user", "0"]);
        if json {
            c.arg("--json");
        }
        c
    };
    // `friends ... | head -1`
    assert_quiet_exit_0(
        &with_closed_pipe(&mut friends(false), 1),
        "friends | head -1",
    );
    assert_quiet_exit_0(
        &with_closed_pipe(&mut friends(true), 1),
        "friends --json | head -1",
    );
    assert_disk_full_error(&to_dev_full(&mut friends(false)), "friends > /dev/full");
    assert_disk_full_error(
        &to_dev_full(&mut friends(true)),
        "friends --json > /dev/full",
    );
}

#[test]
fn feed_to_a_closed_pipe_or_a_full_disk() {
    // Closed before the program writes (loading the world comes first), as `head -c 100`
    // that has already exited.
    assert_quiet_exit_0(&with_closed_pipe(&mut feed_cmd(&[]), 0), "feed | head");
    assert_quiet_exit_0(
        &with_closed_pipe(&mut feed_cmd(&["--json"]), 0),
        "feed --json | head -c 100",
    );
    assert_disk_full_error(&to_dev_full(&mut feed_cmd(&[])), "feed > /dev/full");
    assert_disk_full_error(
        &to_dev_full(&mut feed_cmd(&["--json"])),
        "feed --json > /dev/full",
    );
}

fn generate(out: &str, cwd: &Path) -> Command {
    let mut c = Command::new(FEEDRANK);
    c.current_dir(cwd)
        .arg("generate")
        .arg("--world")
        .arg(repo("graph_data/sample"))
        .arg("--model")
        .arg(repo("models/sample.frm"))
        .args(["--out", out]);
    c
}

#[test]
fn generate_out_dash_is_stdout_and_a_closed_pipe_ends_quietly() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("feeds.jsonl");
    let out = generate(file.to_str().unwrap(), d.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read(&file).unwrap();

    let out = generate("-", d.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!d.path().join("-").exists(), "no file named `-`");
    assert_eq!(
        out.stdout, expected,
        "`--out -` prints what `--out FILE` writes"
    );
    assert!(err.contains("wrote standard output"), "{err}");

    // `generate --out - | head -1` (megabytes of output: the pipe is closed mid-way)
    assert_quiet_exit_0(
        &with_closed_pipe(&mut generate("-", d.path()), 1),
        "generate --out - | head -1",
    );
    assert_disk_full_error(
        &to_dev_full(&mut generate("-", d.path())),
        "generate --out - > /dev/full",
    );
}

#[test]
fn generate_out_directory_fails_at_once_and_leaves_no_temporary() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("feeds.jsonl");
    std::fs::create_dir(&target).unwrap();
    let out = generate(target.to_str().unwrap(), d.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a directory, not a regular file"), "{err}");
    assert!(
        !err.contains("loaded in"),
        "fails before loading the world: {err}"
    );
    let mut left: Vec<String> = Vec::new();
    for e in std::fs::read_dir(d.path()).unwrap() {
        left.push(e.unwrap().file_name().to_string_lossy().into_owned());
    }
    assert_eq!(left, ["feeds.jsonl"], "nothing but the directory");
    assert!(target.is_dir());
}

#[test]
fn generate_sweeps_a_killed_runs_temporary() {
    let d = tempfile::tempdir().unwrap();
    // as left by a SIGKILLed run (a PID above the kernel's maximum never exists)
    let stale = d.path().join(".feeds.jsonl.tmp.999999999.0");
    std::fs::write(&stale, vec![b'x'; 1 << 16]).unwrap();
    let out = generate("feeds.jsonl", d.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stale.exists(), "the stale temporary is removed");
    assert!(d.path().join("feeds.jsonl").is_file());
}

#[test]
fn graph_features_out_dash_is_stdout() {
    let d = tempfile::tempdir().unwrap();
    let g = star_graph(d.path(), 50);
    let file = d.path().join("f.tsv");
    let run = |out: &Path| {
        Command::new(FEEDRANK)
            .current_dir(d.path())
            .arg("graph-features")
            .arg("--graph")
            .arg(&g)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    assert!(run(&file).status.success());
    let out = run(Path::new("-"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!d.path().join("-").exists(), "no file named `-`");
    let mut expected = Vec::new();
    std::fs::File::open(&file)
        .unwrap()
        .read_to_end(&mut expected)
        .unwrap();
    assert_eq!(out.stdout, expected);
}

#[test]
fn train_to_an_unwritable_model_path_fails_before_training() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("m.frm");
    std::fs::create_dir(&model).unwrap();
    let out = Command::new(FEEDRANK)
        .arg("train")
        .arg("--world")
        .arg(repo("graph_data/sample"))
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a directory, not a regular file"), "{err}");
    assert!(
        !err.contains("loaded in"),
        "fails before loading the world: {err}"
    );
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        1,
        "no temporary left"
    );
}

/// `eval` prints its table through the checked stdout: a full disk is an error, not a panic.
#[test]
fn eval_to_a_full_disk() {
    let mut c = Command::new(FEEDRANK);
    c.arg("eval").arg("--world").arg(repo("graph_data/sample"));
    assert_disk_full_error(&to_dev_full(&mut c), "eval > /dev/full");
}
