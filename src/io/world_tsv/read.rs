//! Reading a world directory (see the README's "World format") with full validation.
//!
//! Takes a directory holding `world.toml` and the TSV tables (each `name.tsv` or
//! `name.tsv.gz`) and hands on a [`World`] (events, interactions and truth sorted as documented
//! in [`crate::world`]) plus a [`LoadReport`]. Every bad row is an error naming the file, the
//! line and what was expected; with [`ReadOptions::lenient`] bad rows are skipped and counted by
//! reason instead. File-level problems (missing file or column, empty file, bad `world.toml`)
//! are always errors. With [`ReadOptions::skip_truth`] `truth.tsv` is not opened at all.
//!
//! The big tables (events, interactions, truth) are parsed in parallel blocks
//! ([`Table::par_rows`]) and handed on in file order, so the world, the report and every error
//! (the first bad row in file order when strict, the same counts when lenient) are the same
//! as a sequential read, whatever the thread count.
//!
//! Users: when `users.tsv` exists it declares every user, and friendships, story authors,
//! events, interactions and truth rows must reference declared users. Without it the users are
//! the friendship endpoints plus the story authors (in first-seen order), and events,
//! interactions and truth must reference those.

use super::table::{Row, Sep, Table};
use crate::graph::{BuildStats, Graph};
use crate::io::graph_file::{read_edges, GraphFormat};
use crate::io::{clip_lines, quote, quote_list, IoError};
use crate::util::progress::{Progress, Silent};
use crate::util::time::DAY;
use crate::world::{Action, Event, Interaction, Interner, Story, Truth, World, WorldMeta};
use rayon::slice::ParallelSliceMut;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How to read a world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip bad rows (counted in [`LoadReport::skipped`]) instead of failing on the first.
    pub lenient: bool,
    /// Do not open `truth.tsv`: [`World::truth`] stays empty and [`LoadReport::truth`] is 0.
    /// Only the oracle evaluation needs the true probabilities; skipping them saves the
    /// largest table of a simulated world.
    pub skip_truth: bool,
}

/// A validation error in a world directory. Each names the file and, for row errors, the line.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("{dir}: missing required file {name} (or {name}.gz)")]
    MissingFile { dir: PathBuf, name: &'static str },
    #[error("{path}: {}", clip_lines(.message))]
    Meta { path: PathBuf, message: String },
    #[error("{path}:1: missing required column {column:?} (header has {})", quote_list(.header))]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        header: Vec<String>,
    },
    #[error(
        "{path}:{line}: expected {expected} tab-separated fields (as in the header), found {found}"
    )]
    ColumnCount {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error(
        "{path}:{line}: column {column}: expected an integer (unix seconds), found {}",
        quote(.found)
    )]
    BadInteger {
        path: PathBuf,
        line: usize,
        column: &'static str,
        found: String,
    },
    #[error(
        "{path}:{line}: column {column}: expected a time at or after 1970-01-01 (unix seconds >= 0), found {found}"
    )]
    NegativeTime {
        path: PathBuf,
        line: usize,
        column: &'static str,
        found: i64,
    },
    #[error(
        "{path}:{line}: column {column}: expected a probability in [0, 1], found {}",
        quote(.found)
    )]
    BadProbability {
        path: PathBuf,
        line: usize,
        column: &'static str,
        found: String,
    },
    #[error("{path}:{line}: column {column}: expected a non-empty id")]
    EmptyId {
        path: PathBuf,
        line: usize,
        column: &'static str,
    },
    #[error(
        "{path}:{line}: column {column}: unknown user id {} (not in {declared_in})",
        quote(.id)
    )]
    UnknownUser {
        path: PathBuf,
        line: usize,
        column: &'static str,
        id: String,
        declared_in: &'static str,
    },
    #[error("{path}:{line}: unknown story id {} (not in stories.tsv)", quote(.id))]
    UnknownStory {
        path: PathBuf,
        line: usize,
        id: String,
    },
    #[error("{path}:{line}: unknown action {} (expected impression, click, like, comment, share or hide)", quote(.found))]
    UnknownAction {
        path: PathBuf,
        line: usize,
        found: String,
    },
    #[error(
        "{path}:{line}: event at {ts} is before story {} was created ({created_at})",
        quote(.story)
    )]
    BeforeStory {
        path: PathBuf,
        line: usize,
        story: String,
        ts: i64,
        created_at: i64,
    },
    #[error(
        "{path}:{line}: column {column}: expected a count (an integer >= 0), found {}",
        quote(.found)
    )]
    BadCount {
        path: PathBuf,
        line: usize,
        column: &'static str,
        found: String,
    },
    #[error("{path}:{line}: duplicate {what} id {}", quote(.id))]
    DuplicateId {
        path: PathBuf,
        line: usize,
        what: &'static str,
        id: String,
    },
}

impl WorldError {
    /// A short reason, used to count skipped rows in lenient mode.
    pub fn reason(&self) -> &'static str {
        match self {
            WorldError::MissingFile { .. } => "missing file",
            WorldError::Meta { .. } => "bad world.toml",
            WorldError::MissingColumn { .. } => "missing column",
            WorldError::ColumnCount { .. } => "wrong column count",
            WorldError::BadInteger { .. } => "non-integer timestamp",
            WorldError::NegativeTime { .. } => "negative timestamp",
            WorldError::BadProbability { .. } => "bad probability",
            WorldError::EmptyId { .. } => "empty id",
            WorldError::UnknownUser { .. } => "unknown user id",
            WorldError::UnknownStory { .. } => "unknown story id",
            WorldError::UnknownAction { .. } => "unknown action",
            WorldError::BeforeStory { .. } => "event before its story",
            WorldError::BadCount { .. } => "bad count",
            WorldError::DuplicateId { .. } => "duplicate id",
        }
    }
}

/// What a load found: counts for the summary, and rows skipped in lenient mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    pub name: String,
    pub users: usize,
    /// Users declared in `users.tsv` (0 when absent).
    pub declared_users: usize,
    /// Friendship graph build counts (rows, self-loops, duplicates, edges kept).
    pub friendships: BuildStats,
    pub stories: usize,
    /// Events per action, indexed by [`Action::index`].
    pub events: [usize; 6],
    pub interactions: usize,
    pub truth: usize,
    /// First and last event time (story times when there are no events).
    pub time_span: Option<(i64, i64)>,
    /// Rows skipped in lenient mode, by (file, reason).
    pub skipped: BTreeMap<(String, &'static str), usize>,
}

impl LoadReport {
    /// Total rows skipped.
    pub fn total_skipped(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Total events.
    pub fn total_events(&self) -> usize {
        self.events.iter().sum()
    }

    /// Fills the counts of what `world` holds (users, stories, events per action,
    /// interactions, truth rows, time span).
    fn count(&mut self, world: &World) {
        self.users = world.users.len();
        self.stories = world.stories.len();
        for e in &world.events {
            self.events[e.action.index()] += 1;
        }
        self.interactions = world.interactions.len();
        self.truth = world.truth.len();
        self.time_span = world.time_span();
    }
}

/// `1234567` -> `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |n: usize| thousands(n as u64);
        writeln!(f, "world {:?}", self.name)?;
        writeln!(
            f,
            "  users:        {}{}",
            t(self.users),
            if self.declared_users > 0 {
                format!(" ({} declared in users.tsv)", t(self.declared_users))
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "  friendships:  {} ({} rows, {} self-loops and {} duplicates dropped)",
            t(self.friendships.edges),
            t(self.friendships.rows),
            t(self.friendships.self_loops),
            t(self.friendships.duplicates)
        )?;
        writeln!(f, "  stories:      {}", t(self.stories))?;
        write!(f, "  events:       {}", t(self.total_events()))?;
        let per: Vec<String> = Action::ALL
            .iter()
            .map(|a| format!("{} {}", a.as_str(), t(self.events[a.index()])))
            .collect();
        writeln!(f, " ({})", per.join(", "))?;
        writeln!(f, "  interactions: {}", t(self.interactions))?;
        writeln!(f, "  truth rows:   {}", t(self.truth))?;
        match self.time_span {
            Some((a, b)) => writeln!(
                f,
                "  time span:    {} .. {} ({:.1} days)",
                super::civil::format_utc(a),
                super::civil::format_utc(b),
                (b - a) as f64 / DAY as f64
            )?,
            None => writeln!(f, "  time span:    (empty)")?,
        }
        if self.skipped.is_empty() {
            write!(f, "  skipped rows: none")
        } else {
            write!(f, "  skipped rows: {} (lenient)", t(self.total_skipped()))?;
            for ((file, reason), n) in &self.skipped {
                write!(f, "\n    {file}: {reason}: {}", t(*n))?;
            }
            Ok(())
        }
    }
}

/// Per-table context: the open table, its file name (for lenient counts) and header width.
pub(super) struct Rows {
    pub(super) t: Table,
    pub(super) file: &'static str,
    pub(super) width: usize,
}

impl Rows {
    pub(super) fn open(
        dir: &Path,
        file: &'static str,
        expected: &str,
    ) -> Result<Option<Rows>, IoError> {
        let Some(path) = crate::io::find_table(dir, file) else {
            return Ok(None);
        };
        let t = Table::open(&path, Sep::Tab, expected)?;
        let width = t.header().len();
        Ok(Some(Rows { t, file, width }))
    }

    pub(super) fn require(dir: &Path, file: &'static str, expected: &str) -> Result<Rows, IoError> {
        Rows::open(dir, file, expected)?.ok_or_else(|| {
            IoError::World(WorldError::MissingFile {
                dir: dir.to_path_buf(),
                name: file,
            })
        })
    }

    pub(super) fn col(&self, name: &'static str) -> Result<usize, IoError> {
        self.t.find(&[name]).ok_or_else(|| {
            IoError::World(WorldError::MissingColumn {
                path: self.t.path().to_path_buf(),
                column: name,
                header: self.t.header().to_vec(),
            })
        })
    }
}

// Row checks shared by the tables (each error names the file and line of `row`).

pub(super) fn check_width(row: &Row<'_>, width: usize) -> Result<(), WorldError> {
    if row.len() != width {
        return Err(WorldError::ColumnCount {
            path: row.path().to_path_buf(),
            line: row.line(),
            expected: width,
            found: row.len(),
        });
    }
    Ok(())
}

pub(super) fn id<'a>(row: &Row<'a>, i: usize, column: &'static str) -> Result<&'a str, WorldError> {
    let s = row.field(i);
    if s.is_empty() {
        return Err(WorldError::EmptyId {
            path: row.path().to_path_buf(),
            line: row.line(),
            column,
        });
    }
    Ok(s)
}

/// [`id`], which must not be in `seen` yet ([`WorldError::DuplicateId`] names it as a
/// `what`).
fn new_id<'a>(
    row: &Row<'a>,
    i: usize,
    column: &'static str,
    seen: &crate::world::Interner,
    what: &'static str,
) -> Result<&'a str, WorldError> {
    let id = id(row, i, column)?;
    if seen.get(id).is_some() {
        return Err(WorldError::DuplicateId {
            path: row.path().to_path_buf(),
            line: row.line(),
            what,
            id: id.to_string(),
        });
    }
    Ok(id)
}

/// `s` as an `i64`, exactly as `str::parse::<i64>` (plain digit strings take a fast path).
#[inline]
fn parse_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        // At most 18 digits: cannot overflow.
        return Some(
            b.iter()
                .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')),
        );
    }
    s.parse::<i64>().ok()
}

/// Powers of ten exactly representable as `f64`.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `s` as an `f64`, exactly as `str::parse::<f64>`. Plain decimals `ddd.ddd` with at most 15
/// digits take a fast path: the digits form an integer `m < 2^53` and `m / 10^k` with both
/// operands exact is correctly rounded by IEEE 754 division, as `parse` is (Clinger 1990,
/// "How to read floating point numbers accurately", the fast path).
#[inline]
fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if let Some(dot) = b.iter().position(|&c| c == b'.') {
        let (int, frac) = (&b[..dot], &b[dot + 1..]);
        if !int.is_empty()
            && !frac.is_empty()
            && int.len() + frac.len() <= 15
            && int.iter().all(u8::is_ascii_digit)
            && frac.iter().all(u8::is_ascii_digit)
        {
            let m = int
                .iter()
                .chain(frac)
                .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
            return Some(m as f64 / POW10[frac.len()]);
        }
    }
    s.parse::<f64>().ok()
}

pub(super) fn int(row: &Row<'_>, i: usize, column: &'static str) -> Result<i64, WorldError> {
    let s = row.field(i);
    parse_i64(s).ok_or_else(|| WorldError::BadInteger {
        path: row.path().to_path_buf(),
        line: row.line(),
        column,
        found: s.to_string(),
    })
}

/// A time column: an integer of unix seconds, not before 1970 (a negative time is a sign of a
/// wrong unit or a corrupt row, and would put the row before every day boundary).
pub(super) fn time(row: &Row<'_>, i: usize, column: &'static str) -> Result<i64, WorldError> {
    let t = int(row, i, column)?;
    if t < 0 {
        return Err(WorldError::NegativeTime {
            path: row.path().to_path_buf(),
            line: row.line(),
            column,
            found: t,
        });
    }
    Ok(t)
}

fn prob(row: &Row<'_>, i: usize, column: &'static str) -> Result<f64, WorldError> {
    let s = row.field(i);
    match parse_f64(s) {
        Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(WorldError::BadProbability {
            path: row.path().to_path_buf(),
            line: row.line(),
            column,
            found: s.to_string(),
        }),
    }
}

pub(super) fn user(
    row: &Row<'_>,
    users: &Interner,
    i: usize,
    column: &'static str,
    declared_in: &'static str,
) -> Result<u32, WorldError> {
    let s = id(row, i, column)?;
    users.get(s).ok_or_else(|| WorldError::UnknownUser {
        path: row.path().to_path_buf(),
        line: row.line(),
        column,
        id: s.to_string(),
        declared_in,
    })
}

pub(super) fn story(row: &Row<'_>, stories: &Interner, i: usize) -> Result<u32, WorldError> {
    let s = id(row, i, "story_id")?;
    stories.get(s).ok_or_else(|| WorldError::UnknownStory {
        path: row.path().to_path_buf(),
        line: row.line(),
        id: s.to_string(),
    })
}

/// A short string kept inline (interaction kinds handed from the parallel parse to the
/// sequential interning).
enum SmallStr {
    Inline(u8, [u8; 22]),
    Heap(Box<str>),
}

impl SmallStr {
    fn new(s: &str) -> SmallStr {
        let b = s.as_bytes();
        if b.len() <= 22 {
            let mut a = [0u8; 22];
            a[..b.len()].copy_from_slice(b);
            SmallStr::Inline(b.len() as u8, a)
        } else {
            SmallStr::Heap(s.into())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            SmallStr::Inline(n, a) => std::str::from_utf8(&a[..usize::from(*n)])
                .expect("invariant: copied whole from a str"),
            SmallStr::Heap(s) => s,
        }
    }
}

/// Hands one parsed piece to the world: counts (lenient) or fails on (strict) its row errors
/// in file order, then keeps its rows.
fn take<T>(
    out: &mut Vec<T>,
    rows: Vec<T>,
    errors: Vec<WorldError>,
    file: &'static str,
    opts: &ReadOptions,
    report: &mut LoadReport,
) -> Result<(), IoError> {
    for e in errors {
        row(Err::<(), _>(e), file, opts, report)?;
    }
    if out.is_empty() {
        *out = rows;
    } else {
        out.extend(rows);
    }
    Ok(())
}

/// Line number of the `i`-th (0-based) non-blank data row of a headed table (error path only).
fn data_row_line(path: &Path, i: usize) -> Result<usize, IoError> {
    let mut t = Table::open(path, Sep::Tab, "a header")?;
    let mut k = 0;
    while t.next_row()? {
        if k == i {
            return Ok(t.line());
        }
        k += 1;
    }
    Ok(t.line())
}

/// Applies the lenient policy to a row result: `Ok(Some(x))` keeps the row, `Ok(None)` skips it
/// (counted), `Err` fails the load.
fn row<T>(
    r: Result<T, WorldError>,
    file: &'static str,
    opts: &ReadOptions,
    report: &mut LoadReport,
) -> Result<Option<T>, IoError> {
    match r {
        Ok(x) => Ok(Some(x)),
        Err(e) if opts.lenient => {
            tracing::debug!(error = %e, "skipped row");
            *report
                .skipped
                .entry((file.to_string(), e.reason()))
                .or_insert(0) += 1;
            Ok(None)
        }
        Err(e) => Err(IoError::World(e)),
    }
}

/// Reads and validates the world in `dir`.
///
/// # Errors
/// - [`IoError::Open`] / [`IoError::Parse`]: unreadable files, read or decompression errors,
///   and malformed `friendships.tsv` rows (from [`crate::io::graph_file::read_edges`]).
/// - [`IoError::Empty`]: a table without a header line, or `friendships.tsv` without rows.
/// - [`IoError::World`]: a missing required file or column, a bad `world.toml`, and (unless
///   `opts.lenient`) any bad row: wrong column count, non-integer timestamp, negative story
///   `created_at`, empty or unknown user/story id, unknown action, event before its story,
///   duplicate story/user id, probability outside [0, 1]. Errors quote at most
///   [`crate::io::QUOTE_MAX`] characters of a field.
///
/// # Complexity
/// O(total file size + E log E + events log events) time; memory linear in the world.
pub fn read_world(dir: &Path, opts: &ReadOptions) -> Result<(World, LoadReport), IoError> {
    read_world_with_progress(dir, opts, &Silent)
}

/// The tables [`read_world`] reads, in order (`truth.tsv` last).
const TABLES: [&str; 6] = [
    "users.tsv",
    "friendships.tsv",
    "stories.tsv",
    "events.tsv",
    "interactions.tsv",
    "truth.tsv",
];

/// As [`read_world`], reporting the step "parsing the world" to `progress`: its units are the
/// bytes of the tables to read (as stored: a `.gz` table counts its compressed size), each
/// table's advanced once it is read.
///
/// # Errors
/// As [`read_world`].
pub fn read_world_with_progress(
    dir: &Path,
    opts: &ReadOptions,
    progress: &dyn Progress,
) -> Result<(World, LoadReport), IoError> {
    let size = |name: &str| {
        crate::io::find_table(dir, name)
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    };
    let tables = if opts.skip_truth { 5 } else { 6 };
    let sizes: Vec<u64> = TABLES[..tables].iter().map(|t| size(t)).collect();
    progress.step("parsing the world", sizes.iter().sum());
    let done = |table: usize| progress.advance(sizes.get(table).copied().unwrap_or(0));
    let mut report = LoadReport::default();
    let mut world = World {
        meta: read_meta(dir)?,
        ..World::default()
    };
    report.name = world.meta.name.clone();
    let declared = read_users(dir, opts, &mut world, &mut report)?;
    done(0);
    let edges = read_friendships(dir, opts, &mut world, &mut report, declared)?;
    done(1);
    read_stories(dir, opts, &mut world, &mut report, declared)?;
    done(2);
    // The user set is now final: build the graph.
    let (graph, stats) = Graph::from_edges(world.users.len(), &edges);
    world.graph = graph;
    report.friendships = stats;
    drop(edges);
    world.events = read_events(dir, opts, &world, &mut report, declared)?;
    done(3);
    read_interactions(dir, opts, &mut world, &mut report, declared)?;
    done(4);
    if !opts.skip_truth {
        read_truth(dir, opts, &mut world, &mut report, declared)?;
        done(5);
    }
    report.count(&world);
    tracing::info!(dir = %dir.display(), users = report.users, events = report.total_events(), skipped = report.total_skipped(), "loaded world");
    Ok((world, report))
}

/// Where a row's user ids must have been declared, for [`WorldError::UnknownUser`]: in
/// `users.tsv` when the world has one, else by a friendship or a story.
fn declared_in(declared: bool) -> &'static str {
    if declared {
        "users.tsv"
    } else {
        "friendships.tsv or story authors"
    }
}

/// A small TOML file of a world directory (`world.toml`, `partition.toml`, ...), read and
/// decoded; a decoding error names the file ([`WorldError::Meta`]).
pub(super) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, IoError> {
    let text = std::fs::read_to_string(path).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        IoError::World(WorldError::Meta {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    })
}

/// `world.toml` (required, with a non-empty `name`).
fn read_meta(dir: &Path) -> Result<WorldMeta, IoError> {
    let meta_path = dir.join("world.toml");
    if !meta_path.exists() {
        return Err(IoError::World(WorldError::MissingFile {
            dir: dir.to_path_buf(),
            name: "world.toml",
        }));
    }
    let meta: WorldMeta = read_toml(&meta_path)?;
    if meta.name.trim().is_empty() {
        return Err(IoError::World(WorldError::Meta {
            path: meta_path,
            message: "expected a non-empty `name`".into(),
        }));
    }
    Ok(meta)
}

/// `users.tsv` (optional): interns the declared users; returns whether the file exists (then
/// every other table must use declared ids).
fn read_users(
    dir: &Path,
    opts: &ReadOptions,
    world: &mut World,
    report: &mut LoadReport,
) -> Result<bool, IoError> {
    let Some(mut r) = Rows::open(dir, "users.tsv", "user_id")? else {
        return Ok(false);
    };
    let c = r.col("user_id")?;
    while r.t.next_row()? {
        let row_ = r.t.row();
        let res = check_width(&row_, r.width)
            .and_then(|_| new_id(&row_, c, "user_id", &world.users, "user"));
        if let Some(id) = row(res, r.file, opts, report)? {
            world.users.intern(id);
        }
    }
    report.declared_users = world.users.len();
    Ok(true)
}

/// `friendships.tsv` (required), parsed by the graph file reader: the edges as user indices.
/// Without `users.tsv` its ids are interned as users; with it, an undeclared id is a row
/// error.
fn read_friendships(
    dir: &Path,
    opts: &ReadOptions,
    world: &mut World,
    report: &mut LoadReport,
    declared: bool,
) -> Result<Vec<(u32, u32)>, IoError> {
    let fpath = crate::io::find_table(dir, "friendships.tsv").ok_or_else(|| {
        IoError::World(WorldError::MissingFile {
            dir: dir.to_path_buf(),
            name: "friendships.tsv",
        })
    })?;
    if !declared {
        return read_edges(&fpath, GraphFormat::Tsv, &mut world.users);
    }
    let mut tmp = world.users.clone();
    let raw = read_edges(&fpath, GraphFormat::Tsv, &mut tmp)?;
    let n = world.users.len() as u32;
    let mut kept = Vec::with_capacity(raw.len());
    for (i, &(a, b)) in raw.iter().enumerate() {
        if a < n && b < n {
            kept.push((a, b));
            continue;
        }
        let bad = if a >= n { a } else { b };
        let line = if opts.lenient {
            0
        } else {
            data_row_line(&fpath, i)?
        };
        let err = WorldError::UnknownUser {
            path: fpath.clone(),
            line,
            column: if a >= n { "user_a" } else { "user_b" },
            id: tmp.name(bad).to_string(),
            declared_in: declared_in(declared),
        };
        row(Err::<(), _>(err), "friendships.tsv", opts, report)?;
    }
    Ok(kept)
}

/// `stories.tsv` (required): stories, their kinds and topics (and, without `users.tsv`,
/// authors as users).
fn read_stories(
    dir: &Path,
    opts: &ReadOptions,
    world: &mut World,
    report: &mut LoadReport,
    declared: bool,
) -> Result<(), IoError> {
    let declared_in = declared_in(declared);
    let mut r = Rows::require(
        dir,
        "stories.tsv",
        "story_id author_id created_at kind [topic]",
    )?;
    let (c_id, c_author, c_created, c_kind) = (
        r.col("story_id")?,
        r.col("author_id")?,
        r.col("created_at")?,
        r.col("kind")?,
    );
    let c_topic = r.t.find(&["topic"]);
    while r.t.next_row()? {
        let row_ = r.t.row();
        let res = check_width(&row_, r.width).and_then(|_| {
            new_id(&row_, c_id, "story_id", &world.story_ids, "story")?;
            let author = if declared {
                Some(user(
                    &row_,
                    &world.users,
                    c_author,
                    "author_id",
                    declared_in,
                )?)
            } else {
                self::id(&row_, c_author, "author_id")?;
                None
            };
            let created_at = time(&row_, c_created, "created_at")?;
            Ok((author, created_at))
        });
        if let Some((author, created_at)) = row(res, r.file, opts, report)? {
            let author = author.unwrap_or_else(|| world.users.intern(r.t.field(c_author)));
            world.story_ids.intern(r.t.field(c_id));
            let kind = world.kinds.intern(r.t.field(c_kind));
            let topic = c_topic
                .map(|c| r.t.field(c))
                .filter(|s| !s.is_empty())
                .map(|s| world.topics.intern(s));
            world.stories.push(Story {
                author,
                created_at,
                kind,
                topic,
            });
        }
    }
    Ok(())
}

/// `events.tsv` (required): parsed in parallel blocks, handed on in file order, then sorted.
fn read_events(
    dir: &Path,
    opts: &ReadOptions,
    world: &World,
    report: &mut LoadReport,
    declared: bool,
) -> Result<Vec<Event>, IoError> {
    let declared_in = declared_in(declared);
    let mut r = Rows::require(dir, "events.tsv", "user_id story_id action ts")?;
    let (c_user, c_story, c_action, c_ts) = (
        r.col("user_id")?,
        r.col("story_id")?,
        r.col("action")?,
        r.col("ts")?,
    );
    let (width, file) = (r.width, r.file);
    let mut events = Vec::new();
    let (users, story_ids, stories) = (&world.users, &world.story_ids, &world.stories);
    let parse = |row: &Row<'_>| -> Result<Event, WorldError> {
        check_width(row, width)?;
        let user = user(row, users, c_user, "user_id", declared_in)?;
        let story = story(row, story_ids, c_story)?;
        let a = row.field(c_action);
        let action = Action::parse(a).ok_or_else(|| WorldError::UnknownAction {
            path: row.path().to_path_buf(),
            line: row.line(),
            found: a.to_string(),
        })?;
        let ts = int(row, c_ts, "ts")?;
        let created_at = stories
            .get(story as usize)
            .map(|s| s.created_at)
            .unwrap_or(i64::MIN);
        if ts < created_at {
            return Err(WorldError::BeforeStory {
                path: row.path().to_path_buf(),
                line: row.line(),
                story: row.field(c_story).to_string(),
                ts,
                created_at,
            });
        }
        Ok(Event {
            ts,
            user,
            story,
            action,
        })
    };
    r.t.par_rows(!opts.lenient, parse, |rows, errors| {
        take(&mut events, rows, errors, file, opts, report)
    })?;
    drop(r);
    // Event's order covers every field: any sort gives the same vector.
    events.par_sort_unstable();
    Ok(events)
}

/// `interactions.tsv` (optional): direct interactions, kinds interned in first-seen order.
fn read_interactions(
    dir: &Path,
    opts: &ReadOptions,
    world: &mut World,
    report: &mut LoadReport,
    declared: bool,
) -> Result<(), IoError> {
    let declared_in = declared_in(declared);
    let Some(mut r) = Rows::open(dir, "interactions.tsv", "from_user to_user kind ts")? else {
        return Ok(());
    };
    let (c_from, c_to, c_kind, c_ts) = (
        r.col("from_user")?,
        r.col("to_user")?,
        r.col("kind")?,
        r.col("ts")?,
    );
    let (width, file) = (r.width, r.file);
    let users = &world.users;
    let parse = |row: &Row<'_>| -> Result<(u32, u32, i64, SmallStr), WorldError> {
        check_width(row, width)?;
        let from = user(row, users, c_from, "from_user", declared_in)?;
        let to = user(row, users, c_to, "to_user", declared_in)?;
        let ts = int(row, c_ts, "ts")?;
        Ok((from, to, ts, SmallStr::new(row.field(c_kind))))
    };
    let mut interactions = Vec::new();
    let kinds = &mut world.interaction_kinds;
    r.t.par_rows(!opts.lenient, parse, |rows, errors| {
        for e in errors {
            row(Err::<(), _>(e), file, opts, report)?;
        }
        // Kinds are interned here, sequentially in file order (first-seen order).
        interactions.extend(rows.into_iter().map(|(from, to, ts, kind)| Interaction {
            ts,
            from,
            to,
            kind: kinds.intern(kind.as_str()),
        }));
        Ok(())
    })?;
    // Interaction's order covers every field: any sort gives the same vector.
    interactions.par_sort_unstable();
    world.interactions = interactions;
    Ok(())
}

/// `truth.tsv` (optional): the true per-impression probabilities.
fn read_truth(
    dir: &Path,
    opts: &ReadOptions,
    world: &mut World,
    report: &mut LoadReport,
    declared: bool,
) -> Result<(), IoError> {
    const P: [&str; 5] = ["p_click", "p_like", "p_comment", "p_share", "p_hide"];
    let declared_in = declared_in(declared);
    let Some(mut r) = Rows::open(
        dir,
        "truth.tsv",
        "user_id story_id ts p_click p_like p_comment p_share p_hide",
    )?
    else {
        return Ok(());
    };
    let (c_user, c_story, c_ts) = (r.col("user_id")?, r.col("story_id")?, r.col("ts")?);
    let mut c_p = [0usize; 5];
    for (c, name) in c_p.iter_mut().zip(P) {
        *c = r.col(name)?;
    }
    let (width, file) = (r.width, r.file);
    let (users, story_ids) = (&world.users, &world.story_ids);
    let parse = |row: &Row<'_>| -> Result<Truth, WorldError> {
        check_width(row, width)?;
        let user = user(row, users, c_user, "user_id", declared_in)?;
        let story = story(row, story_ids, c_story)?;
        let ts = int(row, c_ts, "ts")?;
        let mut p = [0.0; 5];
        for k in 0..5 {
            p[k] = prob(row, c_p[k], P[k])?;
        }
        Ok(Truth { user, story, ts, p })
    };
    let mut truth = Vec::new();
    r.t.par_rows(!opts.lenient, parse, |rows, errors| {
        take(&mut truth, rows, errors, file, opts, report)
    })?;
    // A stable sort: rows with equal keys keep their file order, as before.
    truth.par_sort_by_key(|t| (t.ts, t.user, t.story));
    world.truth = truth;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn fast_number_paths_equal_str_parse() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut cases: Vec<String> = [
            "",
            "0",
            "-0",
            "+5",
            "00",
            "007",
            "1.",
            ".5",
            "0.",
            "1e5",
            "-1.5",
            "0.1",
            "1.0",
            "123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "0.000000000000001",
            "0.0000000000000001",
            "999999999999999.9",
            "1.7976931348623157e308",
            "nan",
            "inf",
            "1_0",
            " 1",
            "1 ",
            "0x10",
            "١",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..20_000 {
            let digits = |rng: &mut rand_chacha::ChaCha8Rng, n: usize| -> String {
                (0..n)
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect()
            };
            let (a, b) = (rng.gen_range(0..12), rng.gen_range(0..12));
            let s = format!("{}.{}", digits(&mut rng, a), digits(&mut rng, b));
            cases.push(s);
            let n = rng.gen_range(0..21);
            cases.push(digits(&mut rng, n));
            cases.push(format!("{:.6}", rng.gen::<f64>()));
            cases.push(format!("{}", rng.gen::<f64>()));
        }
        for s in &cases {
            assert_eq!(parse_i64(s), s.parse::<i64>().ok(), "{s:?}");
            let want = s.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(parse_f64(s).map(f64::to_bits), want, "{s:?}");
        }
    }
}
