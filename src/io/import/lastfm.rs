//! Last.fm-style tagging data (HetRec 2011 `hetrec2011-lastfm-2k`): friendships plus monthly
//! tag assignments, into a world.
//!
//! Mapping: friend rows (listed in one or both directions) -> undirected friendships; the tag
//! assignments of one user on one artist in one calendar month -> one story (id
//! `u<user>-a<artist>-<yyyy>-<mm>`; author = user; topic = artist; kind = `tag`; created_at =
//! the first of that month, 00:00 UTC, in unix seconds); a friend of the author who tags the
//! same artist in a strictly later month, at most the horizon after the story -> one `like` at
//! the friend's first such month ([`super::infer_likes`]). Exposure is
//! [`crate::world::Exposure::FriendsOfAuthor`]; no impression rows.
//!
//! Columns by header name (case-insensitive): friends `userid|user_id|user|user_a` and
//! `friendid|friend_id|friend|user_b`; tags `userid|user_id|user`, `artistid|artist_id|artist|
//! itemid|item`, and either `timestamp` (unix seconds or milliseconds, as in
//! `user_taggedartists-timestamps.dat`) or `year` + `month` (`day` is ignored: the data is
//! monthly). Rows dated before 2002 ([`EARLIEST`], the year Last.fm started) are skipped as
//! "tag row dated before Last.fm existed": HetRec's file holds five such rows (1956, 1957,
//! 1979). Kept, they stretched the world's training period back by 50 years, which moved
//! training's time-based validation split and MF cross-fitting midpoint decades before any
//! real data (92 training rows against 800,273 validation rows, MF features zero on almost
//! every training row but not at test time) and made the model rank worse than chance.

use super::{
    column, find_any, infer_and_count, parse_ts, with_inferred_meta, ImportOptions, ImportReport,
};
use crate::graph::Graph;
use crate::io::world_tsv::civil::{civil_from_days, days_from_civil};
use crate::io::world_tsv::table::{Sep, Table};
use crate::io::IoError;
use crate::util::time::DAY;
use crate::world::{Interner, Story, World};
use std::path::{Path, PathBuf};

/// The files of a Last.fm-style dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastfmInput {
    /// Friend rows (`userID friendID`).
    pub friends: PathBuf,
    /// Tag assignments (`userID artistID tagID day month year`, or `... timestamp`).
    pub tags: PathBuf,
}

impl LastfmInput {
    /// Finds `user_friends.dat|.tsv` and `user_taggedartists-timestamps.dat`,
    /// `user_taggedartists.dat` or `user_taggedartists.tsv` (each plain or `.gz`) in `dir`.
    ///
    /// # Errors
    /// [`crate::io::world_tsv::WorldError::MissingFile`] when a file is absent.
    pub fn from_dir(dir: &Path) -> Result<LastfmInput, IoError> {
        Ok(LastfmInput {
            friends: find_any(dir, &["user_friends.dat", "user_friends.tsv"])?,
            tags: find_any(
                dir,
                &[
                    "user_taggedartists-timestamps.dat",
                    "user_taggedartists.dat",
                    "user_taggedartists.tsv",
                ],
            )?,
        })
    }
}

/// Tag assignments before 2002-01-01 00:00 UTC (unix seconds) are skipped: Last.fm started
/// in 2002, so an earlier date is a data error (a user-entered or defaulted year).
pub const EARLIEST: i64 = 1_009_843_200;

/// Unix seconds of the first of the month holding `ts`.
fn month_start(ts: i64) -> i64 {
    let (y, m, _) = civil_from_days(ts.div_euclid(DAY));
    days_from_civil(y, m, 1) * DAY
}

/// Imports a Last.fm-style dataset.
///
/// # Errors
/// [`IoError::Open`]/[`IoError::Parse`] on unreadable files, [`IoError::Empty`] on a file
/// without a header, [`crate::io::world_tsv::WorldError::MissingColumn`] when a required column
/// is absent. Malformed rows (missing fields, bad month/year/time) are skipped and counted.
///
/// # Complexity
/// O(rows log rows) plus the like inference (see [`super::infer_likes`]).
pub fn import_lastfm(
    input: &LastfmInput,
    opts: &ImportOptions,
) -> Result<(World, ImportReport), IoError> {
    import_lastfm_with_progress(input, opts, &crate::util::progress::Silent)
}

/// As [`import_lastfm`], reporting two steps to `progress`: "reading the input" (one unit per
/// byte of the input files, each file's advanced once it is read) and the like inference
/// ([`super::infer_likes_with_progress`]).
///
/// # Errors
/// As [`import_lastfm`].
pub fn import_lastfm_with_progress(
    input: &LastfmInput,
    opts: &ImportOptions,
    progress: &dyn crate::util::progress::Progress,
) -> Result<(World, ImportReport), IoError> {
    let mut report = ImportReport {
        format: "lastfm",
        horizon_days: opts.horizon_days,
        ..ImportReport::default()
    };
    let mut users = Interner::new();
    let mut topics = Interner::new();
    let sizes = super::file_sizes(&[&input.tags, &input.friends]);
    progress.step("reading the input", sizes.iter().sum());
    let keys = read_tag_months(&input.tags, &mut users, &mut topics, &mut report)?;
    progress.advance(sizes[0]);
    let rows = read_friends(&input.friends, &mut users, &mut report)?;
    progress.advance(sizes[1]);
    let (graph, stats) = Graph::from_edges(users.len(), &rows);
    report.friendships = stats;
    let (story_ids, kinds, stories) = monthly_stories(keys, &users, &topics);
    let mut world = World {
        users,
        graph,
        stories,
        story_ids,
        kinds,
        topics,
        ..World::default()
    };
    infer_and_count(&mut world, opts.horizon_days, &mut report, progress);

    let mut params = toml::Table::new();
    params.insert("importer".into(), "lastfm".into());
    params.insert("horizon_days".into(), i64::from(opts.horizon_days).into());
    let world = with_inferred_meta(
        world,
        "lastfm",
        format!(
            "Last.fm tag assignments as stories (one per user, artist and month); a friend \
             tagging the same artist in a later month within {} days is a like. Exposure \
             inferred: every friend of the author saw each story.",
            opts.horizon_days
        ),
        format!(
            "feedrank import lastfm: {} + {}",
            input.tags.display(),
            input.friends.display()
        ),
        params,
    );
    Ok((world, report))
}

/// The tag assignments as `(month start, user, artist)` keys, in file order with repeats
/// (users and artists interned as they come). Counts rows read and skipped into `report`.
fn read_tag_months(
    path: &Path,
    users: &mut Interner,
    topics: &mut Interner,
    report: &mut ImportReport,
) -> Result<Vec<(i64, u32, u32)>, IoError> {
    let mut t = Table::open(path, Sep::Auto, "userID artistID tagID day month year")?;
    let c_user = column(&t, &["userid", "user_id", "user"])?;
    let c_item = column(&t, &["artistid", "artist_id", "artist", "itemid", "item"])?;
    let c_ts = t.find(&["timestamp", "ts", "time"]);
    let c_ym = match c_ts {
        Some(_) => None,
        None => Some((column(&t, &["year"])?, column(&t, &["month"])?)),
    };
    let width = t.header().len();
    let mut keys: Vec<(i64, u32, u32)> = Vec::new();
    while t.next_row()? {
        report.activity_rows += 1;
        let (user, item) = (t.field(c_user), t.field(c_item));
        if t.len() != width || user.is_empty() || item.is_empty() {
            *report.skipped.entry("malformed tag row").or_insert(0) += 1;
            continue;
        }
        let month = match (c_ts, c_ym) {
            (Some(c), _) => parse_ts(t.field(c)).map(month_start),
            (None, Some((cy, cm))) => {
                match (t.field(cy).parse::<i64>(), t.field(cm).parse::<u32>()) {
                    (Ok(y), Ok(m)) if (1..=12).contains(&m) && (1..=9999).contains(&y) => {
                        Some(days_from_civil(y, m, 1) * DAY)
                    }
                    _ => None,
                }
            }
            (None, None) => None,
        };
        let Some(month) = month else {
            *report.skipped.entry("tag row with a bad date").or_insert(0) += 1;
            continue;
        };
        if month < EARLIEST {
            *report
                .skipped
                .entry("tag row dated before Last.fm existed (2002)")
                .or_insert(0) += 1;
            continue;
        }
        keys.push((month, users.intern(user), topics.intern(item)));
    }
    Ok(keys)
}

/// The friend rows as user pairs (interned into `users`). Counts link rows, reciprocal pairs
/// and skipped rows into `report`.
fn read_friends(
    path: &Path,
    users: &mut Interner,
    report: &mut ImportReport,
) -> Result<Vec<(u32, u32)>, IoError> {
    let mut t = Table::open(path, Sep::Auto, "userID friendID")?;
    let c_a = column(&t, &["userid", "user_id", "user", "user_a"])?;
    let c_b = column(&t, &["friendid", "friend_id", "friend", "user_b"])?;
    let width = t.header().len();
    let mut rows: Vec<(u32, u32)> = Vec::new();
    while t.next_row()? {
        report.link_rows += 1;
        let (a, b) = (t.field(c_a), t.field(c_b));
        if t.len() != width || a.is_empty() || b.is_empty() {
            *report.skipped.entry("malformed friend row").or_insert(0) += 1;
            continue;
        }
        rows.push((users.intern(a), users.intern(b)));
    }
    let mut directed = rows.clone();
    directed.sort_unstable();
    directed.dedup();
    report.reciprocal_pairs = directed
        .iter()
        .filter(|&&(a, b)| a != b && directed.binary_search(&(b, a)).is_ok())
        .count()
        / 2;
    Ok(rows)
}

/// One story per distinct (user, artist, month) key, ordered by (month, user, artist): kind
/// `tag`, topic the artist, created at the start of the month. Returns the story ids, the
/// kinds and the stories.
fn monthly_stories(
    mut keys: Vec<(i64, u32, u32)>,
    users: &Interner,
    topics: &Interner,
) -> (Interner, Interner, Vec<Story>) {
    keys.sort_unstable();
    keys.dedup();
    let mut story_ids = Interner::new();
    let mut kinds = Interner::new();
    let kind = kinds.intern("tag");
    let mut stories = Vec::with_capacity(keys.len());
    for &(month, user, artist) in &keys {
        let (y, m, _) = civil_from_days(month.div_euclid(DAY));
        story_ids.intern(&format!(
            "u{}-a{}-{y:04}-{m:02}",
            users.name(user),
            topics.name(artist)
        ));
        stories.push(Story {
            author: user,
            created_at: month,
            kind,
            topic: Some(artist),
        });
    }
    (story_ids, kinds, stories)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_start_is_first_of_month_utc() {
        // 2009-04-15 12:00 UTC -> 2009-04-01.
        let ts = days_from_civil(2009, 4, 15) * 86_400 + 43_200;
        assert_eq!(month_start(ts), 1_238_544_000);
        assert_eq!(month_start(1_238_544_000), 1_238_544_000);
    }

    #[test]
    fn earliest_is_2002_01_01() {
        assert_eq!(EARLIEST, days_from_civil(2002, 1, 1) * 86_400);
    }
}
