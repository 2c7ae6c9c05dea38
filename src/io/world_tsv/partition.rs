//! The extra tables of a partition world (README "Spark"): a world directory that holds only
//! what one partition's viewers need, plus the viewers, the global aggregates summed over
//! the whole world, and the `as_of` they were computed at:
//!
//! - `partition.toml`: `as_of`, `partition` (its index), `partitions` (how many), and
//!   `training = true` for the training input of a sample of viewers;
//! - `viewers.tsv` (`user_id`): the users to rank;
//! - `story_aggregates.tsv` (`story_id exposures`): each candidate story's exposures before
//!   `as_of`;
//! - `author_aggregates.tsv` (`author_id rate_exposures rate_positives`): each candidate
//!   author's exposures and positive engagements within the author rate window.
//!
//! Both aggregate tables may have an `as_of` column: then each row holds the aggregates at
//! its own `as_of` (the training input of a sample of viewers has them at the start of every
//! training day); without it every row is at the `as_of` of `partition.toml`.
//!
//! Also the events-only table a Spark task pipes to `feedrank aggregates` (a slice of
//! `events.tsv`, not a world: ids are interned as they come).
use super::read::{check_width, id, int, read_toml, story, time, user, Rows};
use super::table::{Row, Sep, Table};
use super::WorldError;
use crate::io::IoError;
use crate::world::{Action, Event, Interner, World};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The file that marks a world directory as a partition.
pub const PARTITION_FILE: &str = "partition.toml";
/// The partition's viewers.
pub const VIEWERS_FILE: &str = "viewers.tsv";
/// Per-story aggregates.
pub const STORY_AGGREGATES_FILE: &str = "story_aggregates.tsv";
/// Per-author aggregates.
pub const AUTHOR_AGGREGATES_FILE: &str = "author_aggregates.tsv";

/// `partition.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionMeta {
    pub as_of: i64,
    pub partition: u32,
    pub partitions: u32,
    /// A training input (`feedrank partition --training`): its viewers' rows are trained on,
    /// not ranked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub training: bool,
    /// A training input's author rate window (seconds): its aggregates hold only for
    /// feature settings with this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_rate_window_s: Option<i64>,
}

/// The extra tables of a partition world, ids resolved against its world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFiles {
    pub meta: PartitionMeta,
    /// Viewers in file order.
    pub viewers: Vec<u32>,
    /// The aggregate rows, one entry per `as_of` (in increasing `as_of` order when read).
    pub aggregates: Vec<AggregateRows>,
}

/// The rows of the two aggregate tables at one `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AggregateRows {
    pub as_of: i64,
    /// `(story, exposures)`.
    pub stories: Vec<(u32, u64)>,
    /// `(author, rate_exposures, rate_positives)`.
    pub authors: Vec<(u32, u64, u64)>,
}

impl AggregateRows {
    /// The number of rows of both tables.
    pub fn len(&self) -> usize {
        self.stories.len() + self.authors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A count column: an integer >= 0.
fn count(row: &Row<'_>, i: usize, column: &'static str) -> Result<u64, WorldError> {
    let bad = || WorldError::BadCount {
        path: row.path().to_path_buf(),
        line: row.line(),
        column,
        found: row.field(i).to_string(),
    };
    let n = int(row, i, column).map_err(|_| bad())?;
    u64::try_from(n).map_err(|_| bad())
}

/// Reads every row of a required table of `dir` with `parse`.
fn rows<T>(
    dir: &Path,
    file: &'static str,
    columns: &[&'static str],
    parse: impl FnMut(&Row<'_>, &[usize]) -> Result<T, WorldError>,
) -> Result<Vec<T>, IoError> {
    let mut r = Rows::require(dir, file, &columns.join(" "))?;
    rows_of(&mut r, columns, parse)
}

fn rows_of<T>(
    r: &mut Rows,
    columns: &[&'static str],
    mut parse: impl FnMut(&Row<'_>, &[usize]) -> Result<T, WorldError>,
) -> Result<Vec<T>, IoError> {
    let cols = columns
        .iter()
        .map(|c| r.col(c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    while r.t.next_row()? {
        let row = r.t.row();
        check_width(&row, r.width)?;
        out.push(parse(&row, &cols)?);
    }
    Ok(out)
}

/// Reads an aggregate table of `dir`: each row's `as_of` (its `as_of` column, or `as_of`
/// when the table has none) and its value.
fn aggregate_rows<T>(
    dir: &Path,
    file: &'static str,
    columns: &[&'static str],
    as_of: i64,
    mut parse: impl FnMut(&Row<'_>, &[usize]) -> Result<T, WorldError>,
) -> Result<Vec<(i64, T)>, IoError> {
    let mut r = Rows::require(dir, file, &columns.join(" "))?;
    match r.t.find(&["as_of"]) {
        None => rows_of(&mut r, columns, |row, c| Ok((as_of, parse(row, c)?))),
        Some(t) => rows_of(&mut r, columns, |row, c| {
            Ok((time(row, t, "as_of")?, parse(row, c)?))
        }),
    }
}

/// Reads the partition tables of `dir`, or `None` when it has no [`PARTITION_FILE`] (a whole
/// world). Every id must be one of `world`'s.
///
/// # Errors
/// [`WorldError::MissingFile`] when `partition.toml` exists without the other three tables;
/// [`WorldError::Meta`] for a bad `partition.toml`; row errors (file:line) for unknown ids
/// and bad counts.
pub fn read_partition_files(dir: &Path, world: &World) -> Result<Option<PartitionFiles>, IoError> {
    let meta_path = dir.join(PARTITION_FILE);
    if !meta_path.exists() {
        return Ok(None);
    }
    let meta: PartitionMeta = read_toml(&meta_path)?;
    if meta.partitions == 0 || meta.partition >= meta.partitions {
        return Err(WorldError::Meta {
            path: meta_path,
            message: format!(
                "expected 0 <= partition < partitions, found partition = {} and partitions = {}",
                meta.partition, meta.partitions
            ),
        }
        .into());
    }
    let users = &world.users;
    let viewers = rows(dir, VIEWERS_FILE, &["user_id"], |row, c| {
        user(row, users, c[0], "user_id", "users.tsv")
    })?;
    let aggregates = read_aggregate_tables(dir, world, meta.as_of)?;
    Ok(Some(PartitionFiles {
        meta,
        viewers,
        aggregates,
    }))
}

/// The two aggregate tables of `dir` ([`STORY_AGGREGATES_FILE`], [`AUTHOR_AGGREGATES_FILE`]),
/// ids of `world`, grouped by `as_of` (rows without an `as_of` column are at `as_of`), in
/// increasing `as_of` order.
///
/// # Errors
/// A missing table, a missing column, and row errors (file:line) for unknown ids and bad
/// counts.
pub fn read_aggregate_tables(
    dir: &Path,
    world: &World,
    as_of: i64,
) -> Result<Vec<AggregateRows>, IoError> {
    let users = &world.users;
    let stories = aggregate_rows(
        dir,
        STORY_AGGREGATES_FILE,
        &["story_id", "exposures"],
        as_of,
        |row, c| {
            Ok((
                story(row, &world.story_ids, c[0])?,
                count(row, c[1], "exposures")?,
            ))
        },
    )?;
    let authors = aggregate_rows(
        dir,
        AUTHOR_AGGREGATES_FILE,
        &["author_id", "rate_exposures", "rate_positives"],
        as_of,
        |row, c| {
            Ok((
                user(row, users, c[0], "author_id", "users.tsv")?,
                count(row, c[1], "rate_exposures")?,
                count(row, c[2], "rate_positives")?,
            ))
        },
    )?;
    let mut by: std::collections::BTreeMap<i64, AggregateRows> = Default::default();
    fn at(by: &mut std::collections::BTreeMap<i64, AggregateRows>, t: i64) -> &mut AggregateRows {
        by.entry(t).or_insert_with(|| AggregateRows {
            as_of: t,
            ..Default::default()
        })
    }
    for (t, r) in stories {
        at(&mut by, t).stories.push(r);
    }
    for (t, r) in authors {
        at(&mut by, t).authors.push(r);
    }
    if by.is_empty() {
        at(&mut by, as_of);
    }
    Ok(by.into_values().collect())
}

/// `aggregates.toml`: the `as_of` of a directory of whole-world aggregates (written by
/// `feedrank aggregates --world`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatesMeta {
    pub as_of: i64,
}

/// The file naming the `as_of` of a directory of aggregates.
pub const AGGREGATES_FILE: &str = "aggregates.toml";

/// Reads a directory of whole-world aggregates: its two tables, every row at the `as_of` of
/// its [`AGGREGATES_FILE`].
///
/// # Errors
/// As [`read_aggregate_tables`], a missing or bad [`AGGREGATES_FILE`], and rows at another
/// `as_of`.
pub fn read_aggregates_dir(dir: &Path, world: &World) -> Result<AggregateRows, IoError> {
    let path = dir.join(AGGREGATES_FILE);
    let meta: AggregatesMeta = read_toml(&path)?;
    let mut all = read_aggregate_tables(dir, world, meta.as_of)?;
    match all.pop() {
        Some(rows) if all.is_empty() && rows.as_of == meta.as_of => Ok(rows),
        _ => Err(WorldError::Meta {
            path,
            message: format!(
                "expected every aggregate row at as_of = {}, found rows at other times",
                meta.as_of
            ),
        }
        .into()),
    }
}

/// Writes the partition tables of `files` into the world directory `dir` (each atomically,
/// `partition.toml` last), with the ids of `world`.
///
/// # Errors
/// [`IoError::Write`] when a file cannot be written.
pub fn write_partition_files(
    dir: &Path,
    world: &World,
    files: &PartitionFiles,
) -> Result<(), IoError> {
    let users = &world.users;
    let mut text = String::from("user_id\n");
    for &v in &files.viewers {
        text.push_str(users.name(v));
        text.push('\n');
    }
    crate::io::atomic::write_atomic(dir.join(VIEWERS_FILE), text.as_bytes())?;
    write_aggregate_tables(dir, world, files.meta.as_of, &files.aggregates)?;
    // Last: the file that makes the directory a partition.
    write_toml(&dir.join(PARTITION_FILE), &files.meta)
}

/// Writes a directory of whole-world aggregates: the two tables and, last,
/// [`AGGREGATES_FILE`] (each atomically), with the ids of `world`.
///
/// # Errors
/// [`IoError::Write`] when a file cannot be written.
pub fn write_aggregates_dir(
    dir: &Path,
    world: &World,
    rows: &AggregateRows,
) -> Result<(), IoError> {
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    write_aggregate_tables(dir, world, rows.as_of, std::slice::from_ref(rows))?;
    write_toml(
        &dir.join(AGGREGATES_FILE),
        &AggregatesMeta { as_of: rows.as_of },
    )
}

/// Writes the two aggregate tables; with an `as_of` column unless every row is at `as_of`.
fn write_aggregate_tables(
    dir: &Path,
    world: &World,
    as_of: i64,
    aggregates: &[AggregateRows],
) -> Result<(), IoError> {
    let (users, stories) = (&world.users, &world.story_ids);
    let timed = aggregates.iter().any(|r| r.as_of != as_of);
    let t = |r: &AggregateRows| {
        if timed {
            format!("{}\t", r.as_of)
        } else {
            String::new()
        }
    };
    let head = if timed { "as_of\t" } else { "" };
    let mut buf = Vec::new();
    writeln!(buf, "{head}story_id\texposures").map_err(write_err(dir))?;
    for r in aggregates {
        let t = t(r);
        for &(s, n) in &r.stories {
            writeln!(buf, "{t}{}\t{n}", stories.name(s)).map_err(write_err(dir))?;
        }
    }
    crate::io::atomic::write_atomic(dir.join(STORY_AGGREGATES_FILE), &buf)?;
    buf.clear();
    writeln!(buf, "{head}author_id\trate_exposures\trate_positives").map_err(write_err(dir))?;
    for r in aggregates {
        let t = t(r);
        for &(a, e, p) in &r.authors {
            writeln!(buf, "{t}{}\t{e}\t{p}", users.name(a)).map_err(write_err(dir))?;
        }
    }
    crate::io::atomic::write_atomic(dir.join(AUTHOR_AGGREGATES_FILE), &buf)?;
    Ok(())
}

/// Writes `value` as TOML to `path`, atomically.
fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<(), IoError> {
    let text = toml::to_string(value).map_err(|e| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    crate::io::atomic::write_atomic(path, text.as_bytes())
}

fn write_err(dir: &Path) -> impl Fn(std::io::Error) -> IoError + '_ {
    move |source| IoError::Write {
        path: dir.to_path_buf(),
        source,
    }
}

/// A slice of `events.tsv` read on its own (not part of a world): the events with user and
/// story ids interned in order of appearance.
#[derive(Debug, Default)]
pub struct EventSlice {
    pub events: Vec<Event>,
    pub users: Interner,
    pub stories: Interner,
}

/// Reads an events table (`user_id story_id action ts`, header first; plain or `.gz`) that is
/// not part of a world directory; `/dev/stdin` reads standard input.
///
/// # Errors
/// [`IoError`] for an unreadable file, a missing column, and row errors (file:line) for an
/// empty id, an unknown action or a bad or negative time.
pub fn read_event_slice(path: &Path) -> Result<EventSlice, IoError> {
    let mut t = Table::open(path, Sep::Tab, "user_id story_id action ts")?;
    let col = |t: &Table, name: &'static str| {
        t.find(&[name]).ok_or_else(|| {
            IoError::World(WorldError::MissingColumn {
                path: path.to_path_buf(),
                column: name,
                header: t.header().to_vec(),
            })
        })
    };
    let (cu, cs, ca, ct) = (
        col(&t, "user_id")?,
        col(&t, "story_id")?,
        col(&t, "action")?,
        col(&t, "ts")?,
    );
    let width = t.header().len();
    let mut out = EventSlice::default();
    while t.next_row()? {
        let row = t.row();
        check_width(&row, width)?;
        let u = id(&row, cu, "user_id")?;
        let s = id(&row, cs, "story_id")?;
        let a = row.field(ca);
        let action = Action::parse(a).ok_or_else(|| WorldError::UnknownAction {
            path: row.path().to_path_buf(),
            line: row.line(),
            found: a.to_string(),
        })?;
        let ts = time(&row, ct, "ts")?;
        let (user, story) = (out.users.intern(u), out.stories.intern(s));
        out.events.push(Event {
            ts,
            user,
            story,
            action,
        });
    }
    Ok(out)
}
