//! Partition worlds (README "Spark"): each partition holds only what its viewers need plus
//! the whole world's aggregates, and the partitions' feeds, taken together, are the whole
//! world's feeds byte for byte. Also: `feedrank aggregates` on slices of the events by user
//! sums to the aggregates `feedrank partition` writes; a partition refuses another `as_of`
//! and an incomplete aggregates table.
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_feedrank")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> std::process::Output {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run feedrank");
    assert!(
        out.status.success(),
        "feedrank {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn generate(world: &Path, model: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "generate",
        "--world",
        world.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        "-",
    ];
    args.extend_from_slice(extra);
    sorted_lines(&run(&args).stdout)
}

/// Partitions `world` into `n`, ranks each, and checks the union equals the whole run.
fn check_partitions(world: &Path, model: &Path, n: u32, tmp: &Path) -> Vec<PathBuf> {
    let out = tmp.join(format!("parts{n}"));
    run(&[
        "partition",
        "--world",
        world.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--partitions",
        &n.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let whole = generate(world, model, &[]);
    let mut union = Vec::new();
    let mut parts = Vec::new();
    for i in 0..n {
        let dir = out.join(format!("part-{i:05}"));
        let lines = generate(&dir, model, &[]);
        assert!(!lines.is_empty(), "partition {i} ranked nobody");
        union.extend(lines);
        parts.push(dir);
    }
    union.sort();
    assert_eq!(union.len(), whole.len(), "every user exactly once");
    assert!(
        union == whole,
        "the partitions' feeds differ from the whole world's"
    );
    parts
}

fn count_rows(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("read table");
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)
            .expect("gunzip");
        s
    } else {
        String::from_utf8(bytes).expect("utf8")
    };
    text.lines().count().saturating_sub(1)
}

#[test]
fn partitions_of_the_default_world_rank_exactly_the_whole_world() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = root().join("graph_data/sample");
    let model = root().join("models/sample.frm");
    let parts = check_partitions(&world, &model, 3, tmp.path());
    // Each partition reads a fraction of the events.
    let all_events = count_rows(&world.join("events.tsv.gz"));
    for p in &parts {
        let e = count_rows(&p.join("events.tsv"));
        assert!(
            e * 2 < all_events,
            "{} holds {e} of {all_events} events",
            p.display()
        );
    }

    // A partition answers at its own as_of only.
    let err = Command::new(bin())
        .args(["generate", "--world", parts[0].to_str().unwrap()])
        .args(["--model", model.to_str().unwrap(), "--out", "-"])
        .args(["--as-of", "1705276000"])
        .output()
        .expect("run");
    assert!(!err.status.success());
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains("as_of"), "{msg}");

    // An aggregates table missing a candidate story is an error, not a zero.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    for f in std::fs::read_dir(&parts[1]).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, broken.join(f.file_name().unwrap())).unwrap();
        }
    }
    let aggs = std::fs::read_to_string(broken.join("story_aggregates.tsv")).unwrap();
    let kept: Vec<&str> = aggs.lines().filter(|l| !l.starts_with("s7")).collect();
    std::fs::write(broken.join("story_aggregates.tsv"), kept.join("\n") + "\n").unwrap();
    let err = Command::new(bin())
        .args(["generate", "--world", broken.to_str().unwrap()])
        .args(["--model", model.to_str().unwrap(), "--out", "-"])
        .output()
        .expect("run");
    assert!(!err.status.success(), "an incomplete partition must fail");
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains("aggregates have no row"), "{msg}");
}

#[test]
fn partitions_of_a_simulated_world_rank_exactly_the_whole_world() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = tmp.path().join("w");
    let model = tmp.path().join("m.frm");
    run(&[
        "simulate",
        "--users",
        "3000",
        "--days",
        "10",
        "--seed",
        "5",
        "--out",
        world.to_str().unwrap(),
    ]);
    run(&[
        "train",
        "--world",
        world.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
    ]);
    check_partitions(&world, &model, 4, tmp.path());
}

/// `feedrank aggregates` on the events split by user, summed by story, gives the story
/// aggregates of the whole world (as `feedrank partition` writes them).
#[test]
fn aggregates_of_slices_by_user_sum_to_the_whole_worlds() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = root().join("graph_data/sample");
    let model = root().join("models/sample.frm");
    let as_of = "1705276827";
    let mut events = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(world.join("events.tsv.gz")).unwrap(),
        ),
        &mut events,
    )
    .unwrap();
    let mut lines = events.lines();
    let header = lines.next().unwrap();
    let mut slices = [header.to_string() + "\n", header.to_string() + "\n"];
    for l in lines {
        let user = l.split('\t').next().unwrap();
        let i = user.bytes().map(usize::from).sum::<usize>() % 2;
        slices[i].push_str(l);
        slices[i].push('\n');
    }
    let mut sums: std::collections::BTreeMap<String, u64> = Default::default();
    for (i, s) in slices.iter().enumerate() {
        let path = tmp.path().join(format!("slice{i}.tsv"));
        std::fs::write(&path, s).unwrap();
        let out = run(&[
            "aggregates",
            "--events",
            path.to_str().unwrap(),
            "--as-of",
            as_of,
            "--model",
            model.to_str().unwrap(),
        ]);
        let text = String::from_utf8(out.stdout).unwrap();
        let mut rows = text.lines();
        assert_eq!(
            rows.next(),
            Some("story_id\texposures\trate_exposures\trate_positives")
        );
        for r in rows {
            let f: Vec<&str> = r.split('\t').collect();
            *sums.entry(f[0].to_string()).or_default() += f[1].parse::<u64>().unwrap();
        }
    }
    let out = tmp.path().join("parts");
    run(&[
        "partition",
        "--world",
        world.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--partitions",
        "1",
        "--as-of",
        as_of,
        "--out",
        out.to_str().unwrap(),
    ]);
    let written = std::fs::read_to_string(out.join("part-00000/story_aggregates.tsv")).unwrap();
    let mut checked = 0;
    for r in written.lines().skip(1) {
        let (story, n) = r.split_once('\t').unwrap();
        let n: u64 = n.parse().unwrap();
        assert_eq!(sums.get(story).copied().unwrap_or(0), n, "story {story}");
        checked += usize::from(n > 0);
    }
    assert!(checked > 500, "only {checked} exposed stories compared");
}

/// Shards of a whole world given its aggregates (`feedrank aggregates --world`, then
/// `generate --aggregates`) rank exactly what the whole run ranks.
#[test]
fn shards_given_the_whole_worlds_aggregates_rank_the_same_feeds() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = root().join("graph_data/sample");
    let model = root().join("models/sample.frm");
    let aggs = tmp.path().join("aggs");
    run(&[
        "aggregates",
        "--world",
        world.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--out",
        aggs.to_str().unwrap(),
    ]);
    let whole = generate(&world, &model, &[]);
    let a = aggs.to_str().unwrap();
    assert_eq!(generate(&world, &model, &["--aggregates", a]), whole);
    let mut union = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        union.extend(generate(
            &world,
            &model,
            &["--aggregates", a, "--shard", &shard],
        ));
    }
    union.sort();
    assert!(
        union == whole,
        "the shards' feeds differ from the whole run's"
    );
    // Aggregates are at one as_of: another is refused.
    let err = Command::new(bin())
        .args(["generate", "--world", world.to_str().unwrap()])
        .args(["--model", model.to_str().unwrap(), "--out", "-"])
        .args(["--aggregates", a, "--as-of", "1705276000"])
        .output()
        .expect("run");
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("as_of"));
}
