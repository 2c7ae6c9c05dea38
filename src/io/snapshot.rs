//! World snapshots: a binary copy of a parsed world directory, so that every command after the
//! first skips the TSV parse (on the 100,000-user simulated world: 17 s of parsing become a
//! fraction of a second of decoding).
//!
//! Takes a world directory and the [`World`] parsed from it; hands back the same `World` on
//! later loads while the sources are unchanged. The snapshot lives in
//! `<world>/.feedrank/world.snapshot` and is a cache, never a source of truth:
//!
//! - **Freshness.** The header records, for each source table actually read (`world.toml`,
//!   `users.tsv`, `friendships.tsv`, ... or their `.gz`), its name, length and modification
//!   time in nanoseconds, plus this build's snapshot format and crate version. Any difference,
//!   an added or removed table, or a different feedrank version makes the snapshot stale and
//!   the world is parsed again. As in git's "racy clean" rule, a snapshot is not written while
//!   any source was modified less than [`SETTLE_SECONDS`] ago, so a file rewritten within the
//!   same clock tick as the one the snapshot saw can never pass for unchanged.
//! - **Integrity.** The payload carries a length and a 64-bit checksum; a truncated, corrupt
//!   or undecodable snapshot, or one whose indices do not fit together (every id in range,
//!   events sorted, a valid symmetric CSR graph) is ignored (logged) and the world re-parsed.
//! - **Scope.** Only strict loads are cached (a lenient load's skipped-row report is not). The
//!   true probabilities (`truth.tsv`, needed only by the oracle evaluation) are a separate
//!   section after the main one: a load that does not want them stops reading before them,
//!   and a snapshot written without them is only used by loads that do not want them.
//! - **Writes** are atomic (temporary file, then rename); a directory that cannot be written
//!   (read-only data) just means no snapshot.
//!
//! Layout (little-endian): magic `FRWORLD\0` (8) | format version u32 | header length u64 |
//! header (bincode) | main length u64 | main checksum u64 | main (bincode) | truth length u64
//! | truth checksum u64 | truth (bincode; empty when the world had none loaded).
use super::world_tsv::LoadReport;
use super::IoError;
use crate::graph::{BuildStats, Graph};
use crate::util::progress::{Progress, Silent};
use crate::world::{Action, Event, Interaction, Interner, Story, Truth, World, WorldMeta};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Magic bytes of a snapshot file.
pub const MAGIC: [u8; 8] = *b"FRWORLD\0";
/// Snapshot format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Directory (inside the world directory) holding the snapshot.
pub const SNAPSHOT_DIR: &str = ".feedrank";
/// Snapshot file name inside [`SNAPSHOT_DIR`].
pub const SNAPSHOT_FILE: &str = "world.snapshot";
/// Sources modified less than this many seconds ago are not snapshotted (see module docs).
pub const SETTLE_SECONDS: u64 = 2;
/// The source tables a world directory may hold, in load order (each plain or `.gz`).
pub const TABLES: [&str; 6] = [
    "users.tsv",
    "friendships.tsv",
    "stories.tsv",
    "events.tsv",
    "interactions.tsv",
    "truth.tsv",
];
const LIMIT: usize = 1 << 34;

/// One source file as the snapshot saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// File name inside the world directory.
    pub name: String,
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    crate_version: String,
    sources: Vec<Stamp>,
    has_truth: bool,
}

/// Raw little-endian bytes, encoded by bincode as one byte string (one copy when writing,
/// none when reading: decoding borrows from the file's bytes).
#[derive(Default)]
struct Blob<'a>(std::borrow::Cow<'a, [u8]>);

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Blob<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Blob<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                v: &'de [u8],
            ) -> Result<Blob<'a>, E> {
                Ok(Blob(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Blob<'a>, E> {
                Ok(Blob(std::borrow::Cow::Owned(v.to_vec())))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Blob<'a>, E> {
                Ok(Blob(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_bytes(V(std::marker::PhantomData))
    }
}

/// Fixed-width little-endian columns.
trait Le: Sized + Copy + 'static {
    const N: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($t:ty, $n:expr) => {
        impl Le for $t {
            const N: usize = $n;
            #[inline]
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                <$t>::from_le_bytes(a)
            }
        }
    };
}
le!(u8, 1);
le!(u32, 4);
le!(u64, 8);
le!(i64, 8);
le!(f64, 8);

fn col<T: Le>(xs: impl Iterator<Item = T>) -> Blob<'static> {
    let mut out = Vec::with_capacity(xs.size_hint().0 * T::N);
    for x in xs {
        x.put(&mut out);
    }
    Blob(std::borrow::Cow::Owned(out))
}

impl Blob<'_> {
    /// Number of `T`s, or an error when the length is not a multiple of the width.
    fn count<T: Le>(&self, what: &str) -> Result<usize, String> {
        if !self.0.len().is_multiple_of(T::N) {
            return Err(format!(
                "{what}: {} bytes is not a whole column",
                self.0.len()
            ));
        }
        Ok(self.0.len() / T::N)
    }

    fn iter<T: Le>(&self) -> impl Iterator<Item = T> + '_ {
        self.0.chunks_exact(T::N).map(T::get)
    }

    fn vec<T: Le>(&self) -> Vec<T> {
        self.iter().collect()
    }
}

/// The names of an [`Interner`] as one byte string and end offsets.
#[derive(Serialize, Deserialize, Default)]
struct Names<'a> {
    #[serde(borrow)]
    bytes: Blob<'a>,
    #[serde(borrow)]
    ends: Blob<'a>,
}

impl Names<'_> {
    fn of(i: &Interner) -> Names<'static> {
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(i.len());
        for n in i.names() {
            bytes.extend_from_slice(n.as_bytes());
            ends.push(bytes.len() as u64);
        }
        Names {
            bytes: Blob(std::borrow::Cow::Owned(bytes)),
            ends: col(ends.into_iter()),
        }
    }

    fn interner(&self, what: &str) -> Result<Interner, String> {
        let text = std::str::from_utf8(&self.bytes.0)
            .map_err(|e| format!("{what} ids are not UTF-8: {e}"))?;
        let n = self.ends.count::<u64>(what)?;
        let mut out = Interner::new();
        let mut start = 0usize;
        for (k, end) in self.ends.iter::<u64>().enumerate() {
            let end = end as usize;
            let name = text
                .get(start..end)
                .ok_or_else(|| format!("{what} id {k}: bad offsets {start}..{end}"))?;
            if out.intern(name) as usize != k {
                return Err(format!("duplicate {what} id {name:?}"));
            }
            start = end;
        }
        if start != text.len() || out.len() != n {
            return Err(format!("{what} ids: trailing bytes"));
        }
        Ok(out)
    }
}

#[derive(Serialize, Deserialize)]
struct Main<'a> {
    meta_toml: String,
    declared_users: u64,
    friendships: [u64; 4],
    #[serde(borrow)]
    users: Names<'a>,
    #[serde(borrow)]
    story_ids: Names<'a>,
    #[serde(borrow)]
    kinds: Names<'a>,
    #[serde(borrow)]
    topics: Names<'a>,
    #[serde(borrow)]
    interaction_kinds: Names<'a>,
    #[serde(borrow)]
    graph_offsets: Blob<'a>,
    #[serde(borrow)]
    graph_targets: Blob<'a>,
    #[serde(borrow)]
    story_author: Blob<'a>,
    #[serde(borrow)]
    story_created: Blob<'a>,
    #[serde(borrow)]
    story_kind: Blob<'a>,
    /// `u32::MAX` for none.
    #[serde(borrow)]
    story_topic: Blob<'a>,
    #[serde(borrow)]
    ev_ts: Blob<'a>,
    #[serde(borrow)]
    ev_user: Blob<'a>,
    #[serde(borrow)]
    ev_story: Blob<'a>,
    #[serde(borrow)]
    ev_action: Blob<'a>,
    #[serde(borrow)]
    in_ts: Blob<'a>,
    #[serde(borrow)]
    in_from: Blob<'a>,
    #[serde(borrow)]
    in_to: Blob<'a>,
    #[serde(borrow)]
    in_kind: Blob<'a>,
}

#[derive(Serialize, Deserialize, Default)]
struct TruthCols<'a> {
    #[serde(borrow)]
    user: Blob<'a>,
    #[serde(borrow)]
    story: Blob<'a>,
    #[serde(borrow)]
    ts: Blob<'a>,
    /// Five f64 per row.
    #[serde(borrow)]
    p: Blob<'a>,
}

/// Why a snapshot was not used (for the log line and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No snapshot file.
    Absent,
    /// Written by another format version or feedrank version.
    Version,
    /// A source table changed, appeared or disappeared since it was written.
    Stale,
    /// Written without `truth.tsv`, which this load wants.
    NoTruth,
    /// Unreadable, truncated, corrupt or inconsistent (the message says which).
    Corrupt(String),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Absent => write!(f, "no snapshot"),
            Miss::Version => write!(f, "snapshot from another feedrank version"),
            Miss::Stale => write!(f, "snapshot is stale (a source file changed)"),
            Miss::NoTruth => write!(f, "snapshot was written without truth.tsv"),
            Miss::Corrupt(m) => write!(f, "snapshot is unusable: {m}"),
        }
    }
}

/// `dir/.feedrank/world.snapshot`.
pub fn snapshot_path(dir: &Path) -> PathBuf {
    dir.join(SNAPSHOT_DIR).join(SNAPSHOT_FILE)
}

/// The stamps of the world's source files (`world.toml`, then every table present).
///
/// # Errors
/// [`IoError::Open`] when a present file's metadata cannot be read.
pub fn source_stamps(dir: &Path) -> Result<Vec<Stamp>, IoError> {
    let mut paths = vec![dir.join("world.toml")];
    paths.extend(TABLES.iter().filter_map(|t| super::find_table(dir, t)));
    paths
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| {
            let md = std::fs::metadata(&p).map_err(|source| IoError::Open {
                path: p.clone(),
                source,
            })?;
            let mtime_ns = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            Ok(Stamp {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                len: md.len(),
                mtime_ns,
            })
        })
        .collect()
}

/// A 64-bit checksum over 8-byte words (four interleaved lanes; fast enough that checking a
/// few hundred megabytes costs tens of milliseconds). Public so that a fuzzer can write
/// sections with valid checksums and reach the decoder and the consistency checks.
pub fn checksum(bytes: &[u8]) -> u64 {
    const K: [u64; 4] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x27d4_eb2f_1656_67c5,
    ];
    let mut h = [K[0] ^ bytes.len() as u64, K[1], K[2], K[3]];
    let mut chunks = bytes.chunks_exact(32);
    for c in &mut chunks {
        for (l, hl) in h.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&c[l * 8..l * 8 + 8]);
            *hl = (hl.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K[l] | 1);
        }
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        h[i % 4] = (h[i % 4] ^ u64::from(b)).wrapping_mul(K[i % 4] | 1);
    }
    let mut x = h[0] ^ h[1].rotate_left(17) ^ h[2].rotate_left(31) ^ h[3].rotate_left(47);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

fn cfg() -> impl bincode::config::Config {
    bincode::config::standard()
        .with_fixed_int_encoding()
        .with_limit::<LIMIT>()
}

fn encode<T: Serialize>(x: &T) -> Result<Vec<u8>, String> {
    bincode::serde::encode_to_vec(x, cfg()).map_err(|e| format!("cannot encode: {e}"))
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, Miss> {
    let (x, used): (T, usize) = bincode::serde::borrow_decode_from_slice(bytes, cfg())
        .map_err(|e| Miss::Corrupt(format!("{what}: cannot decode: {e}")))?;
    if used != bytes.len() {
        return Err(Miss::Corrupt(format!(
            "{what}: {} bytes after the payload",
            bytes.len() - used
        )));
    }
    Ok(x)
}

/// Writes the snapshot of `world` (as loaded from `dir` with `report`) unless a source is
/// too recent ([`SETTLE_SECONDS`]). `has_truth`: whether `world.truth` holds `truth.tsv` (a
/// load that skipped it passes false). Returns whether a snapshot was written.
///
/// # Errors
/// [`IoError::Write`] when the snapshot cannot be written (callers treat this as "no
/// snapshot", not as a failed load).
pub fn write_snapshot(
    dir: &Path,
    world: &World,
    report: &LoadReport,
    has_truth: bool,
) -> Result<bool, IoError> {
    write_snapshot_with_progress(dir, world, report, has_truth, &Silent)
}

/// As [`write_snapshot`], reporting the step "building the world snapshot" to `progress`:
/// [`SNAPSHOT_STEPS`] units (the columns gathered, the main section encoded, the truth
/// section encoded, the file written); none when no snapshot is written.
///
/// # Errors
/// As [`write_snapshot`].
pub fn write_snapshot_with_progress(
    dir: &Path,
    world: &World,
    report: &LoadReport,
    has_truth: bool,
    progress: &dyn Progress,
) -> Result<bool, IoError> {
    let sources = source_stamps(dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let settle = i128::from(SETTLE_SECONDS) * 1_000_000_000;
    if sources.iter().any(|s| now - s.mtime_ns < settle) {
        tracing::debug!(dir = %dir.display(), "a source changed just now; no snapshot written");
        return Ok(false);
    }
    progress.step("building the world snapshot", SNAPSHOT_STEPS);
    let path = snapshot_path(dir);
    let werr = |message: String| IoError::Write {
        path: path.clone(),
        source: std::io::Error::other(message),
    };
    let header = Header {
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        sources,
        has_truth,
    };
    let (offsets, targets) = world.graph.raw();
    let s = &world.stories;
    let ev = &world.events;
    let it = &world.interactions;
    let main = Main {
        meta_toml: toml::to_string(&world.meta).map_err(|e| werr(e.to_string()))?,
        declared_users: report.declared_users as u64,
        friendships: [
            report.friendships.rows as u64,
            report.friendships.self_loops as u64,
            report.friendships.duplicates as u64,
            report.friendships.edges as u64,
        ],
        users: Names::of(&world.users),
        story_ids: Names::of(&world.story_ids),
        kinds: Names::of(&world.kinds),
        topics: Names::of(&world.topics),
        interaction_kinds: Names::of(&world.interaction_kinds),
        graph_offsets: col(offsets.iter().map(|&o| o as u64)),
        graph_targets: col(targets.iter().copied()),
        story_author: col(s.iter().map(|x| x.author)),
        story_created: col(s.iter().map(|x| x.created_at)),
        story_kind: col(s.iter().map(|x| x.kind)),
        story_topic: col(s.iter().map(|x| x.topic.unwrap_or(u32::MAX))),
        ev_ts: col(ev.iter().map(|e| e.ts)),
        ev_user: col(ev.iter().map(|e| e.user)),
        ev_story: col(ev.iter().map(|e| e.story)),
        ev_action: col(ev.iter().map(|e| e.action as u8)),
        in_ts: col(it.iter().map(|x| x.ts)),
        in_from: col(it.iter().map(|x| x.from)),
        in_to: col(it.iter().map(|x| x.to)),
        in_kind: col(it.iter().map(|x| x.kind)),
    };
    let truth = if has_truth {
        let t = &world.truth;
        TruthCols {
            user: col(t.iter().map(|x| x.user)),
            story: col(t.iter().map(|x| x.story)),
            ts: col(t.iter().map(|x| x.ts)),
            p: col(t.iter().flat_map(|x| x.p)),
        }
    } else {
        TruthCols::default()
    };
    progress.advance(1);
    let header = encode(&header).map_err(werr)?;
    let main = encode(&main).map_err(werr)?;
    progress.advance(1);
    let truth = encode(&truth).map_err(werr)?;
    progress.advance(1);
    let mut f = super::atomic::AtomicFile::create(&path)?;
    let w = f.writer();
    let res = (|| -> std::io::Result<()> {
        w.write_all(&MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        for part in [&main, &truth] {
            w.write_all(&(part.len() as u64).to_le_bytes())?;
            w.write_all(&checksum(part).to_le_bytes())?;
            w.write_all(part)?;
        }
        Ok(())
    })();
    res.map_err(|e| f.err(e))?;
    f.commit()?;
    progress.advance(1);
    Ok(true)
}

/// Units of the step [`write_snapshot_with_progress`] reports.
pub const SNAPSHOT_STEPS: u64 = 4;

/// Sequential reads from the snapshot's bytes, each a clear [`Miss::Corrupt`] when short.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn exact(&mut self, n: usize, what: &str) -> Result<&'a [u8], Miss> {
        let rest = self.bytes.len() - self.at;
        if n > rest {
            return Err(Miss::Corrupt(format!(
                "{what}: truncated ({rest} of {n} bytes)"
            )));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    fn u64(&mut self, what: &str) -> Result<u64, Miss> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.exact(8, what)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A length-prefixed, checksummed section.
    fn section(&mut self, what: &str) -> Result<&'a [u8], Miss> {
        let len = self.u64(what)?;
        let sum = self.u64(what)?;
        let n = usize::try_from(len)
            .ok()
            .filter(|&n| n <= LIMIT)
            .ok_or_else(|| Miss::Corrupt(format!("{what}: implausible length {len}")))?;
        let bytes = self.exact(n, what)?;
        if checksum(bytes) != sum {
            return Err(Miss::Corrupt(format!("{what}: checksum mismatch")));
        }
        Ok(bytes)
    }
}

/// Reads the snapshot of `dir` if it is fresh and usable for a load that does (`want_truth`)
/// or does not want `truth.tsv`; otherwise says why not. Never fails the load: every problem
/// is a [`Miss`].
pub fn read_snapshot(dir: &Path, want_truth: bool) -> Result<(World, LoadReport), Miss> {
    let path = snapshot_path(dir);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Miss::Absent),
        Err(e) => return Err(Miss::Corrupt(e.to_string())),
    };
    // SAFETY: snapshots are only ever replaced by renaming a new file over them (never
    // written in place), so the mapped file does not change while it is mapped; every byte
    // read is bounds-checked and the sections are checksummed before decoding.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Miss::Corrupt(e.to_string()))?;
    let mut r = Reader { bytes: &map, at: 0 };
    let fixed = r.exact(12, "header")?;
    if fixed[..8] != MAGIC {
        return Err(Miss::Corrupt("not a feedrank world snapshot".into()));
    }
    if fixed[8..12] != FORMAT_VERSION.to_le_bytes() {
        return Err(Miss::Version);
    }
    let hlen = r.u64("header")?;
    if hlen > 1 << 20 {
        return Err(Miss::Corrupt(format!("header: implausible length {hlen}")));
    }
    let header: Header = decode(r.exact(hlen as usize, "header")?, "header")?;
    if header.crate_version != env!("CARGO_PKG_VERSION") {
        return Err(Miss::Version);
    }
    let now = source_stamps(dir).map_err(|e| Miss::Corrupt(e.to_string()))?;
    if now != header.sources {
        return Err(Miss::Stale);
    }
    let has_truth_file = header
        .sources
        .iter()
        .any(|s| s.name.starts_with("truth.tsv"));
    if want_truth && has_truth_file && !header.has_truth {
        return Err(Miss::NoTruth);
    }
    let main: Main = decode(r.section("world")?, "world")?;
    let truth: TruthCols = if want_truth {
        decode(r.section("truth")?, "truth")?
    } else {
        TruthCols::default()
    };
    build(main, truth).map_err(Miss::Corrupt)
}

fn same_len(what: &str, lens: &[usize]) -> Result<(), String> {
    if lens.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!("{what} columns have different lengths {lens:?}"));
    }
    Ok(())
}

fn in_range(what: &str, b: &Blob<'_>, n: usize) -> Result<(), String> {
    match b.iter::<u32>().find(|&x| x as usize >= n) {
        Some(x) => Err(format!("{what} {x} out of range (< {n})")),
        None => Ok(()),
    }
}

impl Names<'_> {
    /// Number of names (without building the interner).
    fn len(&self, what: &str) -> Result<usize, String> {
        self.ends.count::<u64>(what)
    }
}

fn build_graph(m: &Main<'_>, nu: usize) -> Result<Graph, String> {
    let offsets: Vec<usize> = m.graph_offsets.iter::<u64>().map(|o| o as usize).collect();
    if offsets.len() != nu + 1 {
        return Err(format!(
            "graph has {} nodes but there are {nu} users",
            offsets.len().saturating_sub(1)
        ));
    }
    m.graph_targets.count::<u32>("graph")?;
    Graph::from_csr(offsets, m.graph_targets.vec())
}

fn build_stories(m: &Main<'_>, nu: usize, nk: usize, nt: usize) -> Result<Vec<Story>, String> {
    same_len(
        "story",
        &[
            m.story_ids.len("story")?,
            m.story_author.count::<u32>("story")?,
            m.story_created.count::<i64>("story")?,
            m.story_kind.count::<u32>("story")?,
            m.story_topic.count::<u32>("story")?,
        ],
    )?;
    in_range("story author", &m.story_author, nu)?;
    in_range("story kind", &m.story_kind, nk)?;
    if let Some(x) = m
        .story_topic
        .iter::<u32>()
        .find(|&x| x != u32::MAX && x as usize >= nt)
    {
        return Err(format!("story topic {x} out of range (< {nt})"));
    }
    Ok(m.story_author
        .iter::<u32>()
        .zip(m.story_created.iter::<i64>())
        .zip(m.story_kind.iter::<u32>())
        .zip(m.story_topic.iter::<u32>())
        .map(|(((author, created_at), kind), topic)| Story {
            author,
            created_at,
            kind,
            topic: (topic != u32::MAX).then_some(topic),
        })
        .collect())
}

fn build_events(m: &Main<'_>, nu: usize, ns: usize) -> Result<Vec<Event>, String> {
    let ne = m.ev_ts.count::<i64>("event")?;
    same_len(
        "event",
        &[
            ne,
            m.ev_user.count::<u32>("event")?,
            m.ev_story.count::<u32>("event")?,
            m.ev_action.count::<u8>("event")?,
        ],
    )?;
    let mut bad = false;
    let events: Vec<Event> = m
        .ev_ts
        .iter::<i64>()
        .zip(m.ev_user.iter::<u32>())
        .zip(m.ev_story.iter::<u32>())
        .zip(m.ev_action.0.iter())
        .map(|(((ts, user), story), &a)| {
            bad |= user as usize >= nu || story as usize >= ns;
            Event {
                ts,
                user,
                story,
                action: match Action::ALL.get(a as usize) {
                    Some(&x) => x,
                    None => {
                        bad = true;
                        Action::Impression
                    }
                },
            }
        })
        .collect();
    if bad {
        return Err("an event's user, story or action is out of range".into());
    }
    if !events.is_sorted() {
        return Err("events are not sorted".into());
    }
    Ok(events)
}

fn build_interactions(m: &Main<'_>, nu: usize, nk: usize) -> Result<Vec<Interaction>, String> {
    same_len(
        "interaction",
        &[
            m.in_ts.count::<i64>("interaction")?,
            m.in_from.count::<u32>("interaction")?,
            m.in_to.count::<u32>("interaction")?,
            m.in_kind.count::<u32>("interaction")?,
        ],
    )?;
    in_range("interaction user", &m.in_from, nu)?;
    in_range("interaction user", &m.in_to, nu)?;
    in_range("interaction kind", &m.in_kind, nk)?;
    Ok(m.in_ts
        .iter::<i64>()
        .zip(m.in_from.iter::<u32>())
        .zip(m.in_to.iter::<u32>())
        .zip(m.in_kind.iter::<u32>())
        .map(|(((ts, from), to), kind)| Interaction { ts, from, to, kind })
        .collect())
}

fn build_truth(t: &TruthCols<'_>, nu: usize, ns: usize) -> Result<Vec<Truth>, String> {
    let n = t.user.count::<u32>("truth")?;
    let np = t.p.count::<f64>("truth")?;
    if np != 5 * n {
        return Err(format!("truth has {n} rows but {np} probabilities"));
    }
    same_len(
        "truth",
        &[
            n,
            t.story.count::<u32>("truth")?,
            t.ts.count::<i64>("truth")?,
        ],
    )?;
    in_range("truth user", &t.user, nu)?;
    in_range("truth story", &t.story, ns)?;
    Ok(t.user
        .iter::<u32>()
        .zip(t.story.iter::<u32>())
        .zip(t.ts.iter::<i64>())
        .zip(t.p.0.chunks_exact(40))
        .map(|(((user, story), ts), p)| Truth {
            user,
            story,
            ts,
            p: std::array::from_fn(|k| f64::get(&p[k * 8..])),
        })
        .collect())
}

/// Reassembles and checks the world from its columns (the independent parts in parallel).
fn build(m: Main<'_>, t: TruthCols<'_>) -> Result<(World, LoadReport), String> {
    let meta: WorldMeta = toml::from_str(&m.meta_toml).map_err(|e| format!("meta: {e}"))?;
    let nu = m.users.len("user")?;
    let ns = m.story_ids.len("story")?;
    let nk = m.kinds.len("kind")?;
    let nt = m.topics.len("topic")?;
    let nik = m.interaction_kinds.len("interaction kind")?;
    let m = &m;
    let ((users, graph), ((story_ids, stories), (events, (interactions, truth)))) = rayon::join(
        || (m.users.interner("user"), build_graph(m, nu)),
        || {
            rayon::join(
                || (m.story_ids.interner("story"), build_stories(m, nu, nk, nt)),
                || {
                    rayon::join(
                        || build_events(m, nu, ns),
                        || (build_interactions(m, nu, nik), build_truth(&t, nu, ns)),
                    )
                },
            )
        },
    );
    let world = World {
        meta,
        users: users?,
        graph: graph?,
        stories: stories?,
        story_ids: story_ids?,
        kinds: m.kinds.interner("kind")?,
        topics: m.topics.interner("topic")?,
        events: events?,
        interactions: interactions?,
        interaction_kinds: m.interaction_kinds.interner("interaction kind")?,
        truth: truth?,
    };
    let f = m.friendships;
    let mut report = LoadReport {
        name: world.meta.name.clone(),
        users: nu,
        declared_users: m.declared_users as usize,
        friendships: BuildStats {
            rows: f[0] as usize,
            self_loops: f[1] as usize,
            duplicates: f[2] as usize,
            edges: f[3] as usize,
        },
        stories: ns,
        interactions: world.interactions.len(),
        truth: world.truth.len(),
        time_span: world.time_span(),
        ..LoadReport::default()
    };
    for e in &world.events {
        report.events[e.action.index()] += 1;
    }
    Ok((world, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_sees_every_byte_and_the_length() {
        let a: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let base = checksum(&a);
        for i in [0, 1, 31, 32, 500, 999] {
            let mut b = a.clone();
            b[i] ^= 1;
            assert_ne!(checksum(&b), base, "flip at {i}");
        }
        assert_ne!(checksum(&a[..999]), base);
        assert_eq!(checksum(&a), base);
    }
}
