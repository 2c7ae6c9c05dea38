//! `feedrank bench fuzz`: a seeded, deterministic, mutation-based fuzzer for every reader:
//! the world tables (plain and `.gz`), `world.toml`, the model file, the world snapshot, the
//! SNAP/TSV graph reader and the importers' inputs. Each reader starts from valid seed
//! inputs (a small simulated world, a model trained on it, hand-made import files), applies
//! 1-4 random mutations per input (bit flips, interesting bytes, deleted, duplicated or
//! swapped ranges and lines, boundary numbers and odd tokens in fields, truncation) and
//! hands the bytes to the library reader. An error is the expected answer; a panic (caught
//! with `catch_unwind`) is a finding, printed with the seed and input number that reproduce
//! it. Input `i` of reader `r` depends only on (seed, r, i).
use anyhow::Context;
use feedrank::io::world_tsv::{read_world, write_world, ReadOptions, WriteOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inputs per reader.
    #[arg(long, default_value_t = 10_000)]
    pub inputs: u64,
    /// Seed of the mutations (the seed inputs are fixed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only the readers whose name contains this text.
    #[arg(long)]
    pub reader: Option<String>,
    /// Only this input number (to reproduce a finding).
    #[arg(long)]
    pub input: Option<u64>,
    /// Where the inputs are written (default: /dev/shm if present, else the temporary
    /// directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Save every input that panicked into this directory.
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// Which library reader an input goes through.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// One table of a world directory (`read_world`, strict and lenient alternately).
    Table {
        file: &'static str,
        gz: bool,
    },
    WorldToml,
    Model,
    Snapshot,
    Graph,
    ImportSnap,
    CiaoRatings,
    CiaoTrust,
    CiaoCatalog,
    LastfmFriends,
    LastfmTags,
}

struct Reader {
    name: String,
    target: Target,
    /// Valid inputs the mutations start from.
    seeds: Vec<Vec<u8>>,
    /// A directory holding the other files the reader needs.
    dir: PathBuf,
    /// For the snapshot: the fingerprint of the world it holds. The snapshot's bytes are
    /// checksummed, so a mutated snapshot that loads must load this same world; another one
    /// would be a silent wrong answer, counted as a finding.
    world: Option<u64>,
}

/// What a reader made of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Refused,
    /// Accepted, but not what the bytes can mean (see [`Reader::world`]).
    Wrong,
}

const TABLES: [&str; 5] = [
    "users.tsv",
    "friendships.tsv",
    "stories.tsv",
    "events.tsv",
    "interactions.tsv",
];

/// Bytes that often break parsers.
const BYTES: &[u8] = &[
    0, 0xff, b'\t', b'\n', b'\r', b' ', b'-', b'+', b'0', b'9', b'#', b'"', b'=', b'[', b']', b',',
    b'.', 0xc3, 0x80, b'e',
];

/// Tokens that often break parsers (boundary numbers, odd floats, ids and actions).
const TOKENS: &[&str] = &[
    "-1",
    "0",
    "1",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "0.5",
    "",
    "\t",
    "\n",
    "\t\t",
    "u0",
    "s0",
    "impression",
    "like",
    "hide",
    "share",
    "user_id",
    "story_id",
    "\u{feff}",
    "\u{fffd}",
    "\\",
    "name = \"x\"",
    "[params]",
    "exposure = \"friends_of_author\"",
    "start = -1",
    "end = 0",
    "#",
    "4294967295",
    "4294967296",
];

/// The panic message of the last panic, set by the hook installed in [`run`].
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

pub fn run(a: Args) -> anyhow::Result<()> {
    // every input is written to a file: in memory (/dev/shm) when the system has it, since
    // a disk-backed temporary directory made the run 50 times slower
    let base = match &a.dir {
        Some(d) => d.clone(),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    let tmp = base.join(format!("feedrank-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = fuzz_in(&a, &tmp);
    // best effort: a leftover directory in the system's temporary folder is harmless
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn fuzz_in(a: &Args, tmp: &Path) -> anyhow::Result<()> {
    let readers = readers(tmp)?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
    let result = fuzz_all(a, &readers);
    std::panic::set_hook(previous);
    let panics = result?;
    if panics > 0 {
        anyhow::bail!("{panics} inputs panicked");
    }
    Ok(())
}

fn fuzz_all(a: &Args, readers: &[Reader]) -> anyhow::Result<u64> {
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>7} {:>10}",
        "reader", "inputs", "errors", "oks", "panics", "inputs/s"
    );
    let (mut total, mut panics) = (0u64, 0u64);
    let t_all = Instant::now();
    for (r_idx, r) in readers.iter().enumerate() {
        if a.reader
            .as_ref()
            .is_some_and(|f| !r.name.contains(f.as_str()))
        {
            continue;
        }
        let (mut errors, mut oks, mut bad) = (0u64, 0u64, 0u64);
        let t = Instant::now();
        let range = match a.input {
            Some(i) => i..i + 1,
            None => 0..a.inputs,
        };
        let n = range.end - range.start;
        for i in range {
            let mut rng = ChaCha8Rng::seed_from_u64(input_seed(a.seed, r_idx as u64, i));
            let (bytes, sealed) = mutate_for(r, &mut rng);
            let lenient = i % 2 == 1;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                feed(r, &bytes, lenient, sealed)
            }));
            match outcome {
                Ok(Err(e)) => {
                    anyhow::bail!(
                        "cannot write input {i} of {} under {}: {e}",
                        r.name,
                        r.dir.display()
                    )
                }
                Ok(Ok(Outcome::Accepted)) => oks += 1,
                Ok(Ok(Outcome::Refused)) => errors += 1,
                Ok(Ok(Outcome::Wrong)) => {
                    bad += 1;
                    println!(
                        "WRONG in {} (input {i}, seed {}): accepted as another world\n  \
                         reproduce: feedrank bench fuzz --seed {} --reader {} --input {i}",
                        r.name, a.seed, a.seed, r.name
                    );
                }
                Err(_) => {
                    bad += 1;
                    let msg = LAST_PANIC
                        .lock()
                        .ok()
                        .and_then(|mut m| m.take())
                        .unwrap_or_default();
                    println!(
                        "PANIC in {} (input {i}, seed {}): {msg}\n  reproduce: feedrank bench \
                         fuzz --seed {} --reader {} --input {i} --save DIR",
                        r.name, a.seed, a.seed, r.name
                    );
                    if let Some(dir) = &a.save {
                        std::fs::create_dir_all(dir)?;
                        let path = dir.join(format!("{}-{}-{i}", r.name, a.seed));
                        std::fs::write(&path, &bytes)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                    }
                }
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{:<24} {:>10} {:>10} {:>10} {:>7} {:>10.0}",
            r.name,
            n,
            errors,
            oks,
            bad,
            n as f64 / secs.max(1e-9)
        );
        total += n;
        panics += bad;
    }
    let secs = t_all.elapsed().as_secs_f64();
    println!(
        "total: {total} inputs, {panics} panics, {secs:.1} s, {:.0} inputs/s (seed {})",
        total as f64 / secs.max(1e-9),
        a.seed
    );
    Ok(panics)
}

/// The seed of input `i` of reader `r`: SplitMix64 steps over (seed, r, i).
fn input_seed(seed: u64, r: u64, i: u64) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    mix(mix(mix(seed) ^ r) ^ i)
}

/// One mutated input for reader `r`, and whether its checksums are the seed's (then a
/// snapshot that loads must hold the seed's world).
fn mutate_for(r: &Reader, rng: &mut ChaCha8Rng) -> (Vec<u8>, bool) {
    let seed = &r.seeds[rng.gen_range(0..r.seeds.len())];
    if matches!(r.target, Target::Snapshot) && rng.gen_bool(0.5) {
        return (remade_snapshot(seed, rng).unwrap_or_default(), false);
    }
    let bytes = match r.target {
        // compressed tables: mutate the text then compress, or mutate the compressed bytes
        Target::Table { gz: true, .. } => {
            if rng.gen_bool(0.5) {
                gzip(&mutate(seed, &r.seeds, rng))
            } else {
                mutate(&gzip(seed), &[], rng)
            }
        }
        // the model: half of the time behind a valid header (length and checksum fixed up),
        // so the mutations reach the decoder and the model checks
        Target::Model if rng.gen_bool(0.5) && seed.len() >= 28 => {
            let mut payload = mutate(&seed[28..], &[], rng);
            if payload.is_empty() {
                payload.push(0);
            }
            let mut out = seed[..12].to_vec();
            out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
            out.extend_from_slice(&feedrank::util::hash::fnv1a(&payload).to_le_bytes());
            out.extend_from_slice(&payload);
            out
        }
        _ => mutate(seed, &r.seeds, rng),
    };
    (bytes, true)
}

/// The snapshot, half of the time: `seed` (magic 8 | version 4 | header length 8 | header | world length 8 |
/// world checksum 8 | world | truth section) with its world section mutated and its length
/// and checksum recomputed; `None` when the seed does not have that layout.
fn remade_snapshot(seed: &[u8], rng: &mut ChaCha8Rng) -> Option<Vec<u8>> {
    let u64_at = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(seed.get(i..i + 8)?.try_into().ok()?))
    };
    let hlen = usize::try_from(u64_at(12)?).ok()?;
    let at = 20usize.checked_add(hlen)?;
    let len = usize::try_from(u64_at(at)?).ok()?;
    let start = at + 16;
    let world = seed.get(start..start.checked_add(len)?)?;
    let mutated = mutate(world, &[], rng);
    let mut out = seed[..at].to_vec();
    out.extend_from_slice(&(mutated.len() as u64).to_le_bytes());
    out.extend_from_slice(&feedrank::io::snapshot::checksum(&mutated).to_le_bytes());
    out.extend_from_slice(&mutated);
    out.extend_from_slice(&seed[start + len..]);
    Some(out)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // writing into a Vec cannot fail
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Applies 1-4 random mutations to `seed` (`others`: inputs to splice from).
fn mutate(seed: &[u8], others: &[Vec<u8>], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = b.len();
        let pos = |rng: &mut ChaCha8Rng| rng.gen_range(0..=len);
        match rng.gen_range(0..11) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                b[i] = BYTES[rng.gen_range(0..BYTES.len())];
            }
            2 => {
                let i = pos(rng);
                let n = rng.gen_range(1..=16).min(len - i);
                b.drain(i..i + n);
            }
            3 => {
                let i = pos(rng);
                let n = rng.gen_range(1..=64).min(len - i);
                let copy = b[i..i + n].to_vec();
                let at = rng.gen_range(0..=len);
                b.splice(at..at, copy);
            }
            4 => {
                let at = pos(rng);
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                b.splice(at..at, t.bytes());
            }
            5 => b.truncate(pos(rng)),
            6 => replace_field(&mut b, rng),
            7 => swap_lines(&mut b, rng),
            8 => {
                // a long field
                let at = pos(rng);
                let n = rng.gen_range(80..2000);
                b.splice(at..at, std::iter::repeat_n(b'7', n));
            }
            9 if !others.is_empty() => {
                // splice: a prefix of this input, a suffix of another
                let o = &others[rng.gen_range(0..others.len())];
                let cut = pos(rng);
                let from = rng.gen_range(0..=o.len());
                b.truncate(cut);
                b.extend_from_slice(&o[from..]);
            }
            _ => {
                // a repeated line
                if let Some((s, e)) = line_at(&b, rng) {
                    let line = b[s..e].to_vec();
                    for _ in 0..rng.gen_range(1..8) {
                        b.splice(e..e, line.iter().copied());
                    }
                }
            }
        }
    }
    b
}

/// The byte range of a random line (with its newline).
fn line_at(b: &[u8], rng: &mut ChaCha8Rng) -> Option<(usize, usize)> {
    if b.is_empty() {
        return None;
    }
    let i = rng.gen_range(0..b.len());
    let s = b[..i]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let e = b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p + 1);
    Some((s, e))
}

/// Replaces one tab-, space- or comma-separated field with a token.
fn replace_field(b: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    if b.is_empty() {
        return;
    }
    let sep = |c: u8| matches!(c, b'\t' | b'\n' | b' ' | b',');
    let i = rng.gen_range(0..b.len());
    let s = b[..i].iter().rposition(|&c| sep(c)).map_or(0, |p| p + 1);
    let e = b[i..]
        .iter()
        .position(|&c| sep(c))
        .map_or(b.len(), |p| i + p);
    let t = TOKENS[rng.gen_range(0..TOKENS.len())];
    b.splice(s..e.max(s), t.bytes());
}

fn swap_lines(b: &mut Vec<u8>, rng: &mut ChaCha8Rng) {
    let (Some(x), Some(y)) = (line_at(b, rng), line_at(b, rng)) else {
        return;
    };
    let (first, second) = if x.0 <= y.0 { (x, y) } else { (y, x) };
    if first.1 > second.0 {
        return;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first.0]);
    out.extend_from_slice(&b[second.0..second.1]);
    out.extend_from_slice(&b[first.1..second.0]);
    out.extend_from_slice(&b[first.0..first.1]);
    out.extend_from_slice(&b[second.1..]);
    *b = out;
}

/// Hands one input to the library reader (accepted or refused are both fine; a panic or a
/// wrong acceptance is a finding).
/// `sealed`: the input's checksums are the seed's, so an accepted snapshot must hold the
/// seed's world.
///
/// # Errors
/// When the input cannot be written to its file (the fuzzer's own failure, never counted as
/// the reader refusing the input).
fn feed(r: &Reader, bytes: &[u8], lenient: bool, sealed: bool) -> std::io::Result<Outcome> {
    use feedrank::io::import::{self, CiaoInput, ImportOptions, LastfmInput};
    let dir = &r.dir;
    let put = |name: &str| -> std::io::Result<PathBuf> {
        let p = dir.join(name);
        std::fs::write(&p, bytes)?;
        Ok(p)
    };
    let opts = ReadOptions {
        lenient,
        skip_truth: true,
    };
    let ok = |b: bool| {
        Ok(if b {
            Outcome::Accepted
        } else {
            Outcome::Refused
        })
    };
    match r.target {
        Target::Table { file, gz } => {
            put(&if gz {
                format!("{file}.gz")
            } else {
                file.to_string()
            })?;
            ok(read_world(dir, &opts).is_ok())
        }
        Target::WorldToml => {
            put("world.toml")?;
            ok(read_world(dir, &opts).is_ok())
        }
        Target::Model => ok(feedrank::model::file::decode(bytes, Path::new("fuzz.frm")).is_ok()),
        Target::Snapshot => {
            let p = feedrank::io::snapshot::snapshot_path(dir);
            std::fs::write(&p, bytes)?;
            match feedrank::io::snapshot::read_snapshot(dir, false) {
                Ok((w, _))
                    if sealed && Some(feedrank::pipeline::world_fingerprint(&w)) != r.world =>
                {
                    Ok(Outcome::Wrong)
                }
                Ok(_) => Ok(Outcome::Accepted),
                Err(_) => Ok(Outcome::Refused),
            }
        }
        Target::Graph => {
            let p = put("graph.txt")?;
            match feedrank::io::graph_file::GraphFormat::detect(&p) {
                Ok(format) => ok(feedrank::io::graph_file::load_graph(&p, format, None).is_ok()),
                Err(_) => ok(false),
            }
        }
        Target::ImportSnap => {
            let p = put("edges.txt")?;
            ok(import::import_snap(&p).is_ok())
        }
        Target::CiaoRatings | Target::CiaoTrust | Target::CiaoCatalog => {
            let name = match r.target {
                Target::CiaoRatings => "ratings.tsv",
                Target::CiaoTrust => "trust.tsv",
                _ => "catalog.txt",
            };
            put(name)?;
            let input = CiaoInput {
                ratings: dir.join("ratings.tsv"),
                trust: dir.join("trust.tsv"),
                catalog: Some(dir.join("catalog.txt")),
            };
            ok(import::import_ciao(&input, &ImportOptions::default()).is_ok())
        }
        Target::LastfmFriends | Target::LastfmTags => {
            put(if matches!(r.target, Target::LastfmFriends) {
                "user_friends.dat"
            } else {
                "user_taggedartists.dat"
            })?;
            let input = LastfmInput {
                friends: dir.join("user_friends.dat"),
                tags: dir.join("user_taggedartists.dat"),
            };
            ok(import::import_lastfm(&input, &ImportOptions::default()).is_ok())
        }
    }
}

/// Sets a file's modification time an hour back, so that a snapshot may be written (no
/// snapshot is written while a source is less than 2 s old).
fn age(path: &Path) -> anyhow::Result<()> {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)?
        .set_modified(past)?;
    Ok(())
}

/// The readers with their seed inputs, each in its own directory under `tmp`.
fn readers(tmp: &Path) -> anyhow::Result<Vec<Reader>> {
    let world = feedrank::sim::simulate(&feedrank::sim::SimParams::new(60, 3, 11))
        .context("simulating the seed world")?;
    let base = tmp.join("world");
    write_world(&world, &base, &WriteOptions { gzip: false })?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let copy_world = |to: &Path| -> anyhow::Result<()> {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(&base)? {
            let e = e?;
            if e.file_type()?.is_file() {
                std::fs::copy(e.path(), to.join(e.file_name()))?;
            }
        }
        Ok(())
    };
    let mut out = Vec::new();
    for file in TABLES {
        for gz in [false, true] {
            let name = format!("{file}{}", if gz { ".gz" } else { "" });
            let dir = tmp.join(format!("t-{name}"));
            copy_world(&dir)?;
            if gz {
                std::fs::remove_file(dir.join(file))?;
            }
            out.push(Reader {
                name,
                target: Target::Table { file, gz },
                seeds: vec![read(&base.join(file))?],
                dir,
                world: None,
            });
        }
    }
    let dir = tmp.join("toml");
    copy_world(&dir)?;
    out.push(Reader {
        name: "world.toml".into(),
        target: Target::WorldToml,
        seeds: vec![read(&base.join("world.toml"))?],
        dir,
        world: None,
    });

    let as_of = feedrank::model::default_as_of(&world).context("the seed world has no events")?;
    let model = feedrank::model::train(&world, as_of, &feedrank::config::Config::default())
        .context("training the seed model")?;
    out.push(Reader {
        name: "model".into(),
        target: Target::Model,
        seeds: vec![feedrank::model::file::encode(&model)?],
        dir: tmp.to_path_buf(),
        world: None,
    });

    let dir = tmp.join("snapshot");
    copy_world(&dir)?;
    for e in std::fs::read_dir(&dir)? {
        age(&e?.path())?;
    }
    let (w, report) = read_world(&dir, &ReadOptions::default())?;
    if !feedrank::io::snapshot::write_snapshot(&dir, &w, &report, true)? {
        anyhow::bail!("the seed snapshot was not written");
    }
    if let Err(miss) = feedrank::io::snapshot::read_snapshot(&dir, false) {
        anyhow::bail!("the seed snapshot does not load: {miss}");
    }
    out.push(Reader {
        name: "snapshot".into(),
        target: Target::Snapshot,
        seeds: vec![read(&feedrank::io::snapshot::snapshot_path(&dir))?],
        dir,
        world: Some(feedrank::pipeline::world_fingerprint(&w)),
    });

    let snap_edges =
        b"# a SNAP edge list\n# Nodes: 6 Edges: 7\n0 1\n1 2\n2 0\n1 3\n3 4\n4 5\n5 3\n".to_vec();
    let tsv_edges = read(&base.join("friendships.tsv"))?;
    let plain = |name: &str| -> anyhow::Result<PathBuf> {
        let d = tmp.join(name);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    };
    out.push(Reader {
        name: "graph".into(),
        target: Target::Graph,
        seeds: vec![snap_edges.clone(), tsv_edges],
        dir: plain("graph")?,
        world: None,
    });
    out.push(Reader {
        name: "import-snap".into(),
        target: Target::ImportSnap,
        seeds: vec![snap_edges],
        dir: plain("import-snap")?,
        world: None,
    });

    let ratings = b"userid\tproductid\tcategoryid\trating\thelpfulness\ttimestamp\n\
        1\t10\t1\t5\t4\t1000000000\n2\t10\t1\t4\t3\t1000864000\n3\t10\t2\t3\t2\t1001728000\n\
        2\t11\t2\t2\t1\t1002592000\n1\t11\t1\t1\t5\t1003456000\n"
        .to_vec();
    let trust = b"trustor\ttrustee\n1\t2\n2\t1\n3\t1\n1\t3\n".to_vec();
    let catalog = b"1 Books\n2 Movies\n".to_vec();
    let lastfm_friends = b"userID\tfriendID\n1\t2\n2\t1\n2\t3\n3\t2\n".to_vec();
    let lastfm_tags = b"userID\tartistID\ttagID\tday\tmonth\tyear\n1\t9\t5\t1\t1\t2009\n\
        1\t9\t6\t1\t1\t2009\n2\t9\t5\t1\t3\t2009\n2\t9\t5\t1\t4\t2009\n3\t9\t1\t1\t1\t2009\n"
        .to_vec();
    let lastfm_ts =
        b"userID\tartistID\ttagID\ttimestamp\n1\t9\t5\t1230768000000\n2\t9\t5\t1233446400000\n"
            .to_vec();
    for (name, target, seeds) in [
        ("ciao-ratings", Target::CiaoRatings, vec![ratings.clone()]),
        ("ciao-trust", Target::CiaoTrust, vec![trust.clone()]),
        ("ciao-catalog", Target::CiaoCatalog, vec![catalog.clone()]),
    ] {
        let dir = plain(name)?;
        std::fs::write(dir.join("ratings.tsv"), &ratings)?;
        std::fs::write(dir.join("trust.tsv"), &trust)?;
        std::fs::write(dir.join("catalog.txt"), &catalog)?;
        out.push(Reader {
            name: name.into(),
            target,
            seeds,
            dir,
            world: None,
        });
    }
    for (name, target, seeds) in [
        (
            "lastfm-friends",
            Target::LastfmFriends,
            vec![lastfm_friends.clone()],
        ),
        (
            "lastfm-tags",
            Target::LastfmTags,
            vec![lastfm_tags.clone(), lastfm_ts],
        ),
    ] {
        let dir = plain(name)?;
        std::fs::write(dir.join("user_friends.dat"), &lastfm_friends)?;
        std::fs::write(dir.join("user_taggedartists.dat"), &lastfm_tags)?;
        out.push(Reader {
            name: name.into(),
            target,
            seeds,
            dir,
            world: None,
        });
    }
    // every seed input must be accepted, or the fuzzer would only test error paths
    for r in &out {
        for s in &r.seeds {
            let s = match r.target {
                Target::Table { gz: true, .. } => gzip(s),
                _ => s.clone(),
            };
            if feed(r, &s, false, true)? != Outcome::Accepted {
                anyhow::bail!("the seed input of {} is rejected", r.name);
            }
        }
    }
    Ok(out)
}
