//! The world reader's fast paths (parallel block parsing, the keyed `Interner`,
//! `ReadOptions::skip_truth`) give exactly what a plain sequential read gives: same World,
//! same report, same errors naming the same file and line.
use feedrank::io::world_tsv::{read_world, LoadReport, ReadOptions, WorldError};
use feedrank::io::IoError;
use feedrank::world::{Interner, World};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;

const STRICT: ReadOptions = ReadOptions {
    lenient: false,
    skip_truth: false,
};
const LENIENT: ReadOptions = ReadOptions {
    lenient: true,
    skip_truth: false,
};

/// A bad row injected into a table: (table, data row index, the row text, reason).
type Bad = (&'static str, usize, &'static str, &'static str);

/// Writes a generated world (large enough that events and truth span many parallel pieces)
/// with `bad` rows inserted before the given data rows. Returns, per table, the 1-based line
/// number of each injected row.
fn gen_world(dir: &Path, bad: &[Bad]) -> HashMap<(&'static str, usize), usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let users = 3000;
    let stories = 8000;
    let mut lines = HashMap::new();
    let mut write = |name: &'static str, header: &str, rows: Vec<String>| {
        let mut text = String::with_capacity(rows.len() * 48);
        text.push_str(header);
        text.push('\n');
        let mut line = 1;
        for (i, r) in rows.iter().enumerate() {
            for b in bad.iter().filter(|b| b.0 == name && b.1 == i) {
                text.push_str(b.2);
                text.push('\n');
                line += 1;
                lines.insert((name, i), line);
            }
            text.push_str(r);
            text.push('\n');
            line += 1;
        }
        std::fs::write(dir.join(name), text).unwrap();
    };
    std::fs::write(dir.join("world.toml"), "name = \"gen\"\n").unwrap();
    write(
        "users.tsv",
        "user_id",
        (0..users).map(|u| format!("u{u}")).collect(),
    );
    write(
        "friendships.tsv",
        "user_a\tuser_b",
        (0..users * 5)
            .map(|_| format!("u{}\tu{}", rng.gen_range(0..users), rng.gen_range(0..users)))
            .collect(),
    );
    let created: Vec<i64> = (0..stories).map(|s| 1_000_000 + 10 * s as i64).collect();
    write(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ttopic",
        (0..stories)
            .map(|s| {
                format!(
                    "s{s}\tu{}\t{}\t{}\t{}",
                    rng.gen_range(0..users),
                    created[s],
                    ["status", "photo", "link"][s % 3],
                    if s % 7 == 0 {
                        String::new()
                    } else {
                        format!("t{}", s % 13)
                    }
                )
            })
            .collect(),
    );
    let actions = ["impression", "click", "like", "comment", "share", "hide"];
    let mut ev = Vec::new();
    let mut tr = Vec::new();
    for _ in 0..90_000 {
        let s = rng.gen_range(0..stories);
        let u = rng.gen_range(0..users);
        let ts = created[s] + rng.gen_range(0..5000);
        ev.push(format!(
            "u{u}\ts{s}\t{}\t{ts}",
            actions[rng.gen_range(0..6)]
        ));
        if rng.gen_bool(0.6) {
            // Probabilities in several spellings (fast path and the general parser).
            let p: Vec<String> = (0..5)
                .map(|k| match (k + s) % 6 {
                    0 => format!("{:.6}", rng.gen::<f64>()),
                    1 => format!("{}", rng.gen::<f64>()),
                    2 => "1".to_string(),
                    3 => "0".to_string(),
                    4 => format!("{:e}", rng.gen::<f64>() / 100.0),
                    _ => format!("0.{}", rng.gen_range(0..10u64.pow(17))),
                })
                .collect();
            // Duplicate (ts, user, story) keys check that the sort stays stable.
            tr.push(format!("u{u}\ts{s}\t{}\t{}", ts - ts % 2, p.join("\t")));
        }
    }
    write("events.tsv", "user_id\tstory_id\taction\tts", ev);
    write(
        "truth.tsv",
        "user_id\tstory_id\tts\tp_click\tp_like\tp_comment\tp_share\tp_hide",
        tr,
    );
    write(
        "interactions.tsv",
        "from_user\tto_user\tkind\tts",
        (0..30_000)
            .map(|i| {
                format!(
                    "u{}\tu{}\t{}\t{}",
                    rng.gen_range(0..users),
                    rng.gen_range(0..users),
                    [
                        "message",
                        "wall_post",
                        "a_rather_long_interaction_kind_name"
                    ][i % 3],
                    rng.gen_range(0..2_000_000)
                )
            })
            .collect(),
    );
    lines
}

/// Everything read, as comparable values.
fn digest(w: &World) -> impl PartialEq + std::fmt::Debug {
    let names = |i: &Interner| i.names().to_vec();
    (
        feedrank::pipeline::world_fingerprint(w),
        [
            names(&w.users),
            names(&w.story_ids),
            names(&w.kinds),
            names(&w.topics),
            names(&w.interaction_kinds),
        ],
        w.events.clone(),
        w.interactions.clone(),
        format!("{:?}", w.truth),
    )
}

fn without_skips(r: &LoadReport) -> LoadReport {
    LoadReport {
        skipped: Default::default(),
        ..r.clone()
    }
}

#[test]
fn skip_truth_reads_everything_but_truth_and_never_opens_it() {
    let d = tempfile::tempdir().unwrap();
    gen_world(d.path(), &[]);
    let (full, full_report) = read_world(d.path(), &STRICT).unwrap();
    assert!(full.truth.len() > 40_000);
    assert_eq!(full_report.truth, full.truth.len());
    let skip = ReadOptions {
        skip_truth: true,
        ..STRICT
    };
    let (w, report) = read_world(d.path(), &skip).unwrap();
    assert!(w.truth.is_empty());
    assert_eq!(report.truth, 0);
    assert_eq!(
        LoadReport {
            truth: full_report.truth,
            ..report.clone()
        },
        full_report
    );
    let mut expect = full.clone();
    expect.truth.clear();
    assert_eq!(
        format!("{:?}", digest(&w)),
        format!("{:?}", digest(&expect))
    );

    // A broken truth.tsv fails a full read but is never looked at with skip_truth.
    std::fs::write(d.path().join("truth.tsv"), b"\xff\xfe not a table\n").unwrap();
    assert!(read_world(d.path(), &STRICT).is_err());
    let (w2, r2) = read_world(d.path(), &skip).unwrap();
    assert_eq!(r2, report);
    assert!(digest(&w2) == digest(&w));
}

#[test]
fn parallel_read_matches_the_written_rows_and_is_repeatable() {
    let d = tempfile::tempdir().unwrap();
    gen_world(d.path(), &[]);
    let (w, report) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(report.total_events(), 90_000);
    assert_eq!(report.interactions, 30_000);
    assert_eq!(report.users, 3000);
    assert_eq!(report.stories, 8000);
    // Events in file order re-sorted equal the loaded vector (order covers every field).
    let text = std::fs::read_to_string(d.path().join("events.tsv")).unwrap();
    let mut want: Vec<(i64, u32, u32, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[3].parse().unwrap(),
                w.users.get(f[0]).unwrap(),
                w.story_ids.get(f[1]).unwrap(),
                f[2].to_string(),
            )
        })
        .collect();
    want.sort_by_key(|x| (x.0, x.1, x.2, feedrank::world::Action::parse(&x.3).unwrap()));
    let got: Vec<(i64, u32, u32, String)> = w
        .events
        .iter()
        .map(|e| (e.ts, e.user, e.story, e.action.as_str().to_string()))
        .collect();
    assert_eq!(got, want);
    // Truth values parse exactly as `str::parse::<f64>`, and equal keys keep file order.
    let text = std::fs::read_to_string(d.path().join("truth.tsv")).unwrap();
    let mut rows: Vec<(i64, u32, u32, [u64; 5])> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let mut p = [0u64; 5];
            for k in 0..5 {
                p[k] = f[3 + k].parse::<f64>().unwrap().to_bits();
            }
            (
                f[2].parse().unwrap(),
                w.users.get(f[0]).unwrap(),
                w.story_ids.get(f[1]).unwrap(),
                p,
            )
        })
        .collect();
    rows.sort_by_key(|r| (r.0, r.1, r.2));
    let got: Vec<(i64, u32, u32, [u64; 5])> = w
        .truth
        .iter()
        .map(|t| (t.ts, t.user, t.story, t.p.map(f64::to_bits)))
        .collect();
    assert_eq!(got, rows);
    // Interaction kinds are interned in first-seen file order.
    assert_eq!(
        w.interaction_kinds.names(),
        &[
            "message",
            "wall_post",
            "a_rather_long_interaction_kind_name"
        ]
    );
    // Reading again (any thread scheduling) gives the same world.
    let (w2, report2) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(report2, report);
    assert!(digest(&w2) == digest(&w));
}

#[test]
fn errors_deep_in_a_block_name_the_exact_line_and_lenient_counts_match() {
    let bad: Vec<Bad> = vec![
        (
            "events.tsv",
            70_001,
            "u1\ts1\tpoke\t2000000",
            "unknown action",
        ),
        (
            "events.tsv",
            85_555,
            "u1\ts1\timpression",
            "wrong column count",
        ),
        (
            "events.tsv",
            89_999,
            "u1\tnope\tclick\t2000000",
            "unknown story id",
        ),
        (
            "events.tsv",
            89_999,
            "u1\ts5\tclick\t5",
            "event before its story",
        ),
        (
            "truth.tsv",
            40_000,
            "u1\ts1\t5\t0.1\t0.1\t2\t0\t0",
            "bad probability",
        ),
        (
            "truth.tsv",
            2,
            "u1\ts1\tx\t0.1\t0.1\t0.2\t0\t0",
            "non-integer timestamp",
        ),
        (
            "interactions.tsv",
            29_000,
            "zz\tu1\tmessage\t5",
            "unknown user id",
        ),
    ];
    let clean = tempfile::tempdir().unwrap();
    gen_world(clean.path(), &[]);
    let (want, want_report) = read_world(clean.path(), &STRICT).unwrap();

    // Each bad row alone: strict fails naming its file and line.
    for b in &bad {
        let d = tempfile::tempdir().unwrap();
        let lines = gen_world(d.path(), std::slice::from_ref(b));
        let line = lines[&(b.0, b.1)];
        assert!(line > b.1, "{b:?}");
        match read_world(d.path(), &STRICT) {
            Err(IoError::World(e)) => {
                assert_eq!(e.reason(), b.3, "{e}");
                let msg = e.to_string();
                let at = format!("{}:{line}:", d.path().join(b.0).display());
                assert!(msg.starts_with(&at), "{msg} should start with {at}");
            }
            Err(e) => panic!("{b:?}: expected a world error, got {e}"),
            Ok(_) => panic!("{b:?}: expected an error"),
        }
    }

    // All of them: strict reports the first in file order; lenient skips exactly them.
    let d = tempfile::tempdir().unwrap();
    let lines = gen_world(d.path(), &bad);
    match read_world(d.path(), &STRICT) {
        Err(IoError::World(WorldError::UnknownAction { line, .. })) => {
            assert_eq!(line, lines[&("events.tsv", 70_001)])
        }
        other => panic!("expected the unknown action first, got {other:?}"),
    }
    let (w, report) = read_world(d.path(), &LENIENT).unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for b in &bad {
        *counts.entry((b.0.to_string(), b.3)).or_insert(0) += 1;
    }
    assert_eq!(report.skipped, counts);
    assert_eq!(without_skips(&report), want_report);
    assert!(digest(&w) == digest(&want));
}

#[test]
fn gz_tables_read_like_plain_ones() {
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    gen_world(d.path(), &[]);
    let (want, want_report) = read_world(d.path(), &STRICT).unwrap();
    for name in ["events.tsv", "truth.tsv", "interactions.tsv"] {
        let p = d.path().join(name);
        let text = std::fs::read(&p).unwrap();
        let gz = std::fs::File::create(d.path().join(format!("{name}.gz"))).unwrap();
        let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        enc.finish().unwrap();
        std::fs::remove_file(&p).unwrap();
    }
    let (w, report) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(report, want_report);
    assert!(digest(&w) == digest(&want));
}

/// The reference: a plain map and list.
#[derive(Default)]
struct Model {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Model {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

fn random_id(rng: &mut rand_chacha::ChaCha8Rng) -> String {
    match rng.gen_range(0..10) {
        0 => format!("u{}", rng.gen_range(0..50)),
        1 => format!("u{}", rng.gen_range(0..100_000_000u64)),
        2 => format!("u0{}", rng.gen_range(0..50)),
        3 => format!("{}", rng.gen_range(0..200)),
        4 => format!("user{}", rng.gen_range(0..100)),
        5 => format!("u{}x", rng.gen_range(0..20)),
        6 => "u".to_string(),
        7 => format!("a-much-longer-identifier-{}", rng.gen_range(0..30)),
        8 => format!("mid{}", rng.gen_range(0..1_000_000_000_000u64)),
        _ => format!("u{}", rng.gen_range(0..20_000)),
    }
}

#[test]
fn interner_matches_a_plain_map() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for case in 0..60 {
        let mut a = Interner::new();
        let mut b = Interner::new();
        let mut m = Model::default();
        // The first id decides the numbered prefix: vary it.
        let first = ["u0", "u7", "12", "alice", "u01", "x", "s123456789012"][case % 7];
        for s in std::iter::once(first.to_string()).chain((0..3000).map(|_| random_id(&mut rng))) {
            let want = m.intern(&s);
            assert_eq!(a.intern(&s), want, "case {case}: {s:?}");
            assert_eq!(b.intern(&s), want);
            assert_eq!(a.get(&s), Some(want));
        }
        assert_eq!(a.names(), &m.names[..]);
        assert_eq!(a.len(), m.names.len());
        for (i, n) in m.names.iter().enumerate() {
            assert_eq!(a.get(n), Some(i as u32), "case {case}: {n:?}");
            assert_eq!(a.name(i as u32), n);
        }
        for _ in 0..3000 {
            let s = random_id(&mut rng);
            assert_eq!(a.get(&s), m.index.get(&s).copied(), "case {case}: {s:?}");
        }
        assert_eq!(a.get(""), None);
        assert!(a == b);
        assert!(a.clone() == a);
        b.intern("one-more");
        assert!(a != b);
    }
}
