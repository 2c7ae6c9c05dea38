//! A model knows the world it was trained on (issue 14): `generate` and `feedrank-debug feed`
//! refuse a model from another world (naming both, suggesting `--allow-other-world`), accept
//! it with a warning under that flag, and accept the daily production case: yesterday's model
//! on the same world after new events, stories and a few new users arrived.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(name: &str) -> Command {
    Command::new(match name {
        "feedrank" => env!("CARGO_BIN_EXE_feedrank"),
        _ => env!("CARGO_BIN_EXE_feedrank-debug"),
    })
}

fn run(c: &mut Command) -> (Output, String) {
    let out = c.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

fn ok(c: &mut Command) -> (String, String) {
    let (out, stderr) = run(c);
    assert!(out.status.success(), "{c:?} failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn simulate(dir: &Path, users: u32, seed: u64) -> PathBuf {
    let out = dir.join(format!("world-{users}-{seed}"));
    ok(bin("feedrank").args([
        "simulate",
        "--users",
        &users.to_string(),
        "--days",
        "5",
        "--seed",
        &seed.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]));
    out
}

fn train(world: &Path, model: &Path) {
    ok(bin("feedrank")
        .arg("train")
        .arg("--world")
        .arg(world)
        .arg("--model")
        .arg(model));
}

fn generate(world: &Path, model: &Path, out: &Path, extra: &[&str]) -> (Output, String) {
    run(bin("feedrank")
        .arg("generate")
        .arg("--world")
        .arg(world)
        .arg("--model")
        .arg(model)
        .arg("--out")
        .arg(out)
        .args(extra))
}

fn rename_world(world: &Path, name: &str) {
    let toml = world.join("world.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = text.replacen("name = \"simulated\"", &format!("name = {name:?}"), 1);
    std::fs::write(&toml, text).unwrap();
}

#[test]
fn a_model_from_another_world_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let a = simulate(dir.path(), 300, 3);
    let model = dir.path().join("a.frm");
    train(&a, &model);
    let out = dir.path().join("feeds.jsonl");

    // Another name: refused, both worlds named, the flag suggested, nothing written.
    let b = simulate(dir.path(), 300, 4);
    rename_world(&b, "elsewhere");
    let (o, err) = generate(&b, &model, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("\"simulated\"") && err.contains("\"elsewhere\""),
        "{err}"
    );
    assert!(err.contains("--allow-other-world"), "{err}");
    assert!(!out.exists());

    // The same name but a world with many users the model never saw (a 300-user model on a
    // 400-user world): refused too.
    let c = simulate(dir.path(), 400, 5);
    let (o, err) = generate(&c, &model, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("300 users") && err.contains("400 users"),
        "{err}"
    );
    assert!(err.contains("100 users are new"), "{err}");

    // With the flag: a warning, and the feeds.
    let (o, err) = generate(&c, &model, &out, &["--allow-other-world"]);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("warning:") && err.contains("anyway"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 400);

    // The debug binary: the same refusal, the same flag.
    let debug = |extra: &[&str]| {
        run(bin("feedrank-debug")
            .arg("feed")
            .arg("--world")
            .arg(&c)
            .arg("--model")
            .arg(&model)
            .args(["--user", "u7"])
            .args(extra))
    };
    let (o, err) = debug(&[]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--allow-other-world"), "{err}");
    let (o, err) = debug(&["--allow-other-world"]);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("warning:"), "{err}");
}

/// The daily production case: trained yesterday, ranked today on the same world, which now
/// has more events and stories and 7% new users (every old user still there).
#[test]
fn yesterdays_model_is_accepted_after_new_users_events_and_stories() {
    let dir = tempfile::tempdir().unwrap();
    let world = simulate(dir.path(), 300, 7);
    let model = dir.path().join("yesterday.frm");
    train(&world, &model);

    let last: i64 = std::fs::read_to_string(world.join("events.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit('\t').next()?.parse().ok())
        .max()
        .unwrap();
    let append = |file: &str, lines: &[String]| {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(world.join(file))
            .unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    };
    let new_users: Vec<String> = (0..21).map(|i| format!("new{i}")).collect();
    append("users.tsv", &new_users);
    let friendships: Vec<String> = new_users
        .iter()
        .enumerate()
        .flat_map(|(i, u)| [format!("{u}\tu{}", i * 3), format!("{u}\tu{}", i * 3 + 1)])
        .collect();
    append("friendships.tsv", &friendships);
    let stories: Vec<String> = (0..40)
        .map(|i| format!("today{i}\tu{}\t{}\tphoto\tt1", i * 7 % 300, last + 60 + i))
        .chain((0..21).map(|i| format!("todaynew{i}\tnew{i}\t{}\tstatus\tt2", last + 100)))
        .collect();
    append("stories.tsv", &stories);
    let events: Vec<String> = (0..40)
        .flat_map(|i| {
            let t = last + 3600 + i;
            [
                format!("u{}\ttoday{i}\timpression\t{t}", i * 5 % 300),
                format!("u{}\ttoday{i}\tlike\t{}", i * 5 % 300, t + 1),
                format!("new{}\ttoday{i}\tclick\t{}", i % 21, t + 2),
            ]
        })
        .collect();
    append("events.tsv", &events);

    let out = dir.path().join("today.jsonl");
    let (o, err) = generate(&world, &model, &out, &[]);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("warning: the model"), "{err}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 321);
}

/// `feedrank run` recognises the model's world as `generate` does (by the identity the model
/// recorded, not by the world's name alone): a model of another world that bears the same
/// name (every simulated world is called "simulated"), trained at the same cut-off with the
/// same settings, is retrained, not used.
#[test]
fn run_retrains_a_model_from_another_world_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let a = simulate(dir.path(), 300, 3);
    let c = simulate(dir.path(), 400, 5);
    // the cut-off `run` expects on world c, so that only the users tell the worlds apart
    let (world_c, _, _) = feedrank::pipeline::load_world(
        &c,
        &feedrank::pipeline::LoadOptions {
            snapshot: false,
            ..Default::default()
        },
    )
    .unwrap();
    let as_of = feedrank::model::default_as_of(&world_c).unwrap();
    let model = dir.path().join("a.frm");
    ok(bin("feedrank")
        .arg("train")
        .arg("--world")
        .arg(&a)
        .arg("--model")
        .arg(&model)
        .args(["--as-of", &as_of.to_string()]));
    let feedrank_run = |world: &Path| {
        ok(bin("feedrank")
            .arg("run")
            .arg("--world")
            .arg(world)
            .arg("--model")
            .arg(&model)
            .arg("--out")
            .arg(dir.path().join("out")))
        .1
    };
    // the same name, the same cut-off and settings, 100 users the model never saw: retrained
    let err = feedrank_run(&c);
    assert!(
        err.contains("is stale") && err.contains("retraining"),
        "{err}"
    );
    assert!(
        err.contains("300 users") && err.contains("400 users"),
        "{err}"
    );
    assert!(!err.contains("trained before"), "{err}");
    // the retrained model is world c's: used on the next run
    let err = feedrank_run(&c);
    assert!(err.contains("(current for this world)"), "{err}");
}
