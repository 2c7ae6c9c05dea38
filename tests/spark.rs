//! The Spark job (`spark/feeds.py`) against the single-machine `feedrank generate`: the lines
//! of `OUT/feeds/` sorted must equal the lines of `generate --out -` sorted, in shard and
//! partitioned mode, on the default world and on a simulated 5,000-user world (read from TSV
//! and from Parquet), with a task failure injected once (retried by Spark), with a persistent
//! failure and with a failing feedrank process (non-zero exit, the cause reported, no
//! `_SUCCESS`).
//!
//! Needs `spark-submit`: `FEEDRANK_SPARK_SUBMIT`, else `spark-submit` on `PATH`; without it the
//! tests print `skipped: ...` and pass (`.ci/run` installs PySpark and sets the variable).
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FEEDRANK: &str = env!("CARGO_BIN_EXE_feedrank");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `spark-submit` to use, or `None` (the caller skips).
fn spark_submit() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FEEDRANK_SPARK_SUBMIT") {
        return Some(PathBuf::from(path));
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("spark-submit"))
        .find(|p| p.is_file())
}

fn spark_or_skip() -> Option<PathBuf> {
    let found = spark_submit();
    if found.is_none() {
        eprintln!("skipped: spark-submit not found; .ci/run installs it");
    }
    found
}

fn output_text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr (end) ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        tail(&String::from_utf8_lossy(&out.stderr), 12_000)
    )
}

fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        output_text(&out)
    );
    out
}

/// One spark-submit of a script under `spark/`.
struct Submit {
    spark: PathBuf,
    master: &'static str,
    script: &'static str,
    args: Vec<OsString>,
    env: Vec<(&'static str, String)>,
}

impl Submit {
    fn new(spark: &Path, script: &'static str) -> Submit {
        Submit {
            spark: spark.to_path_buf(),
            master: "local[2]",
            script,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    fn arg(mut self, a: impl Into<OsString>) -> Submit {
        self.args.push(a.into());
        self
    }

    fn flag(self, name: &str, value: impl Into<OsString>) -> Submit {
        self.arg(name).arg(value)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.spark);
        c.current_dir(repo())
            .args(["--master", self.master])
            .args(["--conf", "spark.ui.enabled=false"])
            // short jobs on small worlds: the C1 JIT alone halves the driver's CPU time
            .args([
                "--conf",
                "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1",
            ])
            .arg(repo().join("spark").join(self.script))
            .args(&self.args);
        // The Python next to a virtual environment's spark-submit has PySpark.
        if let Some(python) = self.spark.parent().map(|d| d.join("python3")) {
            if python.is_file() && std::env::var_os("PYSPARK_PYTHON").is_none() {
                c.env("PYSPARK_PYTHON", python);
            }
        }
        c.env_remove("FEEDRANK_SPARK_FAIL_ONCE")
            .env_remove("FEEDRANK_SPARK_FAIL_ALWAYS");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn output(&self) -> Output {
        let t = std::time::Instant::now();
        let out = self.command().output().expect("spark-submit starts");
        eprintln!(
            "spark-submit {} {:?}: {:.1} s",
            self.script,
            self.args,
            t.elapsed().as_secs_f64()
        );
        out
    }

    fn run(&self) {
        let out = self.output();
        assert!(
            out.status.success(),
            "spark-submit {} {:?} failed: {}",
            self.script,
            self.args,
            output_text(&out)
        );
    }
}

/// A world and its model.
struct Case<'a> {
    world: &'a Path,
    model: &'a Path,
}

impl Case<'_> {
    /// `feedrank generate --out -`'s lines, sorted.
    fn reference(&self) -> Vec<String> {
        let out = run_ok(
            Command::new(FEEDRANK)
                .arg("generate")
                .arg("--world")
                .arg(self.world)
                .arg("--model")
                .arg(self.model)
                .args(["--out", "-"]),
        );
        sorted_lines(&String::from_utf8(out.stdout).expect("UTF-8 feeds"))
    }

    fn job(&self, spark: &Path, world: &Path, out: &Path, mode: &str, n: u32) -> Submit {
        Submit::new(spark, "feeds.py")
            .flag("--world", world)
            .flag("--model", self.model)
            .flag("--out", out)
            .flag("--partitions", n.to_string())
            .flag("--mode", mode)
            .flag("--bin", FEEDRANK)
    }
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Every line of the JSONL part files of `OUT/feeds/`, sorted.
fn job_lines(out: &Path) -> Vec<String> {
    let mut text = String::new();
    let dir = out.join("feeds");
    for entry in std::fs::read_dir(&dir).expect("OUT/feeds exists") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("part-") {
            text.push_str(&std::fs::read_to_string(&path).expect("part file"));
        }
    }
    sorted_lines(&text)
}

fn user_of(line: &str) -> &str {
    line.split('"').nth(3).unwrap_or("?")
}

/// The job's output equals the reference (sorted lines), with every user exactly once; the
/// metrics cover `n` partitions whose viewers add up to the users; `_SUCCESS` is there.
fn assert_identical(what: &str, out: &Path, reference: &[String], n: usize) {
    let got = job_lines(out);
    if got != reference {
        let missing: Vec<&String> = reference.iter().filter(|l| !got.contains(l)).collect();
        let extra: Vec<&String> = got.iter().filter(|l| !reference.contains(l)).collect();
        let users = |ls: &[&String]| {
            ls.iter()
                .take(10)
                .map(|l| user_of(l).to_owned())
                .collect::<Vec<_>>()
        };
        panic!(
            "{what}: {} lines from Spark, {} from feedrank generate; {} reference lines missing \
             (users {:?}), {} lines not in the reference (users {:?}); first differing: {:?} vs {:?}",
            got.len(),
            reference.len(),
            missing.len(),
            users(&missing),
            extra.len(),
            users(&extra),
            missing.first().map(|l| tail(l, 300)),
            extra.first().map(|l| tail(l, 300)),
        );
    }
    assert!(out.join("_SUCCESS").is_file(), "{what}: no _SUCCESS");
    assert!(
        out.join("feeds.parquet").is_dir(),
        "{what}: no feeds.parquet"
    );
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("_metrics.json")).expect("_metrics.json"),
    )
    .expect("_metrics.json is JSON");
    let parts = metrics["partitions"].as_array().expect("partitions array");
    assert_eq!(parts.len(), n, "{what}: metrics of every partition");
    let viewers: u64 = parts.iter().map(|p| p["viewers"].as_u64().unwrap()).sum();
    assert_eq!(
        viewers as usize,
        reference.len(),
        "{what}: viewers add up to the users"
    );
    for key in ["wall_s", "cpu_s", "peak_mib", "events", "friendships"] {
        assert!(parts[0][key].is_number(), "{what}: metrics key {key}");
    }
    assert!(metrics["totals"]["events"].as_u64().unwrap() > 0);
}

#[test]
fn spark_default_world() {
    let Some(spark) = spark_or_skip() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = Case {
        world: &repo().join("graph_data/sample"),
        model: &repo().join("models/sample.frm"),
    };
    let reference = case.reference();
    assert_eq!(reference.len(), 2000);

    let out = tmp.path().join("shard");
    case.job(&spark, case.world, &out, "shard", 3).run();
    assert_identical("default world, shard mode", &out, &reference, 3);

    // A task that fails on its first attempt is retried (local[2,2]: two attempts per task).
    let out = tmp.path().join("partitioned-retried");
    let mut job = case.job(&spark, case.world, &out, "partitioned", 4);
    job.master = "local[2,2]";
    job.env.push(("FEEDRANK_SPARK_FAIL_ONCE", "1".into()));
    job.run();
    assert_identical(
        "default world, partitioned mode, failure retried",
        &out,
        &reference,
        4,
    );

    // A failure on every attempt fails the job, says why, and leaves no _SUCCESS.
    let out = tmp.path().join("failed");
    let mut job = case.job(&spark, case.world, &out, "shard", 3);
    job.master = "local[2,2]";
    job.env.push(("FEEDRANK_SPARK_FAIL_ALWAYS", "2".into()));
    let result = job.output();
    // spark-submit passes the driver's stderr through to either stream: read both
    let stderr = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        !result.status.success(),
        "a persistent failure must fail the job"
    );
    assert!(
        stderr.contains("feeds.py: error: the Spark job failed: injected failure in partition 2"),
        "the cause is reported: {}",
        tail(&stderr, 4000)
    );
    assert!(
        !out.join("_SUCCESS").exists(),
        "no _SUCCESS after a failure"
    );

    // A feedrank process that fails (a truncated model) fails its task with feedrank's stderr.
    let bad_model = tmp.path().join("truncated.frm");
    let bytes = std::fs::read(case.model).expect("model");
    std::fs::write(&bad_model, &bytes[..1000]).expect("truncated model");
    let out = tmp.path().join("feedrank-failed");
    let bad = Case {
        world: case.world,
        model: &bad_model,
    };
    let result = bad.job(&spark, case.world, &out, "shard", 2).output();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        !result.status.success(),
        "a failing feedrank must fail the job"
    );
    let cause = text
        .split("feeds.py: error: the Spark job failed: feedrank exited with status 1")
        .nth(1)
        .unwrap_or_else(|| panic!("the cause is reported: {}", tail(&text, 4000)));
    assert!(
        cause.contains("truncated model file"),
        "feedrank's stderr is in the cause: {}",
        tail(cause, 4000)
    );
    assert!(
        !out.join("_SUCCESS").exists(),
        "no _SUCCESS after a failure"
    );
}

#[test]
fn spark_simulated_5000_users() {
    let Some(spark) = spark_or_skip() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let world = tmp.path().join("world");
    let model = tmp.path().join("model.frm");
    run_ok(
        Command::new(FEEDRANK)
            .args(["simulate", "--users", "5000", "--days", "14", "--seed", "3"])
            .arg("--out")
            .arg(&world),
    );
    run_ok(
        Command::new(FEEDRANK)
            .arg("train")
            .arg("--world")
            .arg(&world)
            .arg("--model")
            .arg(&model),
    );
    let case = Case {
        world: &world,
        model: &model,
    };
    let reference = case.reference();
    assert_eq!(reference.len(), 5000);

    // Shard mode with a failure injected once.
    let out = tmp.path().join("shard-retried");
    let mut job = case.job(&spark, &world, &out, "shard", 4);
    job.master = "local[2,2]";
    job.env.push(("FEEDRANK_SPARK_FAIL_ONCE", "0".into()));
    job.run();
    assert_identical(
        "5,000 users, shard mode, failure retried",
        &out,
        &reference,
        4,
    );

    // Partitioned mode on the same world as Parquet tables.
    let parquet = tmp.path().join("world-parquet");
    Submit::new(&spark, "to_parquet.py")
        .flag("--world", &world)
        .flag("--out", &parquet)
        .run();
    let out = tmp.path().join("partitioned-parquet");
    case.job(&spark, &parquet, &out, "partitioned", 5).run();
    assert_identical(
        "5,000 users from Parquet, partitioned mode",
        &out,
        &reference,
        5,
    );
}

/// The sorted lines of `dir/name`.
fn table_lines(dir: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
    sorted_lines(&text)
}

/// Training beyond one machine: the Spark job writes the training input of a viewer sample
/// with the same rows as `feedrank partition --training`, and `feedrank train` gives the same
/// model from either.
#[test]
fn spark_training_input_of_a_viewer_sample() {
    let Some(spark) = spark_or_skip() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let world = repo().join("graph_data/sample");
    let input = tmp.path().join("spark-input");
    Submit::new(&spark, "feeds.py")
        .flag("--world", &world)
        .flag("--sample-viewers", "0.3")
        .flag("--write-inputs", &input)
        .flag("--partitions", "3")
        .flag("--bin", FEEDRANK)
        .run();
    let reference = tmp.path().join("reference-input");
    run_ok(
        Command::new(FEEDRANK)
            .args(["partition", "--training", "--sample-viewers", "0.3"])
            .arg("--world")
            .arg(&world)
            .arg("--out")
            .arg(&reference),
    );
    for name in [
        "partition.toml",
        "world.toml",
        "users.tsv",
        "stories.tsv",
        "friendships.tsv",
        "events.tsv",
        "interactions.tsv",
        "viewers.tsv",
        "story_aggregates.tsv",
        "author_aggregates.tsv",
    ] {
        let (got, want) = (table_lines(&input, name), table_lines(&reference, name));
        assert!(got.len() > 1, "{name}: empty");
        assert!(
            got == want,
            "{name}: {} lines from Spark, {} from feedrank partition",
            got.len(),
            want.len()
        );
    }
    assert!(table_lines(&input, "partition.toml").contains(&"training = true".to_string()));
    let mut models = Vec::new();
    for dir in [&input, &reference] {
        let model = dir.with_extension("frm");
        run_ok(
            Command::new(FEEDRANK)
                .arg("train")
                .arg("--world")
                .arg(dir)
                .arg("--model")
                .arg(&model),
        );
        models.push(std::fs::read(&model).expect("model"));
    }
    assert!(
        models[0] == models[1],
        "the two inputs train the same model"
    );
}
