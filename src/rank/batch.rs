//! The batch loop: every user's feed (or one shard's), in parallel over users with rayon,
//! written in user order as JSON Lines or TSV, so that the output is byte-identical for any
//! thread count and the shards' union equals the full run. Per-worker [`RankStats`] are
//! merged with `+=`.
use super::ranker::{items_of, rank_into, UserFeed, Worker};
use super::{FilterReason, RankContext, RankError};
use crate::model::Scorer;
use crate::world::{Action, World};
use rayon::prelude::*;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Counters that add up: `considered = filtered + scored` for users without fallback, and
/// fallback candidates are counted in both `considered` and `scored`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankStats {
    pub users: u64,
    /// Candidates produced by the sources (including fallback candidates).
    pub considered: u64,
    /// Candidates scored by the model.
    pub scored: u64,
    /// Candidates dropped, by [`FilterReason::index`].
    pub filtered: [u64; 4],
    /// Users who got the popular fallback.
    pub fallbacks: u64,
    /// Users whose feed is empty even after the fallback.
    pub empty_feeds: u64,
    /// Feed items written.
    pub items: u64,
    /// Wall time of the run (set by [`generate_feeds`]; not summed).
    pub elapsed: Duration,
}

impl std::ops::AddAssign<&RankStats> for RankStats {
    fn add_assign(&mut self, o: &RankStats) {
        self.users += o.users;
        self.considered += o.considered;
        self.scored += o.scored;
        for (a, b) in self.filtered.iter_mut().zip(o.filtered) {
            *a += b;
        }
        self.fallbacks += o.fallbacks;
        self.empty_feeds += o.empty_feeds;
        self.items += o.items;
        self.elapsed = self.elapsed.max(o.elapsed);
    }
}

impl RankStats {
    /// Total candidates filtered out.
    pub fn filtered_total(&self) -> u64 {
        self.filtered.iter().sum()
    }

    /// Candidates scored per second of wall time (0 if no time was measured).
    pub fn candidates_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.scored as f64 / s
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for RankStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "users {} (fallback {}, empty {}), feed items {}",
            self.users, self.fallbacks, self.empty_feeds, self.items
        )?;
        write!(
            f,
            "candidates considered {}, filtered {} (",
            self.considered,
            self.filtered_total()
        )?;
        for (i, r) in FilterReason::ALL.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} {}", r.as_str(), self.filtered[r.index()])?;
        }
        writeln!(f, "), scored {}", self.scored)?;
        write!(
            f,
            "elapsed {:.3} s, {:.0} candidates scored/s",
            self.elapsed.as_secs_f64(),
            self.candidates_per_sec()
        )
    }
}

/// One shard of the users: those whose FNV-1a hash of the external id, mod `count`, is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// 64-bit FNV-1a of a string (stable across platforms and runs).
pub fn fnv1a(s: &str) -> u64 {
    crate::util::hash::fnv1a(s.as_bytes())
}

impl Shard {
    /// Parses `i/N`.
    ///
    /// # Errors
    /// [`RankError::InvalidShard`] unless `0 <= i < N`.
    pub fn parse(spec: &str) -> Result<Shard, RankError> {
        let bad = || RankError::InvalidShard {
            spec: spec.to_string(),
        };
        let (i, n) = spec.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the user with external id `id` belongs to this shard.
    pub fn contains(&self, id: &str) -> bool {
        fnv1a(id) % self.count == self.index
    }
}

/// Output format of [`generate_feeds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// One JSON object per user per line.
    #[default]
    Jsonl,
    /// One row per feed item, with a header line.
    Tsv,
}

impl std::str::FromStr for OutputFormat {
    type Err = RankError;
    fn from_str(s: &str) -> Result<Self, RankError> {
        match s {
            "jsonl" => Ok(OutputFormat::Jsonl),
            "tsv" => Ok(OutputFormat::Tsv),
            _ => Err(RankError::InvalidParam {
                name: "format",
                message: format!("expected jsonl or tsv, found {s:?}"),
            }),
        }
    }
}

/// Options of the batch loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchOptions {
    pub format: OutputFormat,
    /// Users per sequentially written block (bounds memory). Default 4096.
    pub block: usize,
    /// Users per rayon task. Default 32.
    pub chunk: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            format: OutputFormat::Jsonl,
            block: 4096,
            chunk: 32,
        }
    }
}

/// Which heads to write: `mask[i]` for [`Action::ENGAGEMENTS`]`[i]`.
pub fn head_mask(heads: &[Action]) -> [bool; 5] {
    let mut m = [false; 5];
    for (i, a) in Action::ENGAGEMENTS.iter().enumerate() {
        m[i] = heads.contains(a);
    }
    m
}

/// Head probabilities as written (only the scorer's heads), for JSON built with serde.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HeadsJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub like: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide: Option<f64>,
}

impl HeadsJson {
    /// The heads in `mask` of `p`.
    pub fn new(mask: &[bool; 5], p: &[f64; 5]) -> HeadsJson {
        let h = |i: usize| mask[i].then_some(p[i]);
        HeadsJson {
            click: h(0),
            like: h(1),
            comment: h(2),
            share: h(3),
            hide: h(4),
        }
    }
}

/// Appends `s` as a JSON string exactly as serde_json writes it (fast path when nothing
/// needs escaping).
#[inline]
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Appends the decimal digits of `n` (as `{}` formats it), without the formatting machinery.
#[inline]
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` as `{}` formats it.
#[inline]
fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends a float exactly as serde_json writes it (shortest round-trip; `null` if not finite).
#[inline]
fn push_json_f64(out: &mut Vec<u8>, x: f64) {
    let _ = serde_json::to_writer(&mut *out, &x);
}

/// Names as JSON strings, written by [`write_jsonl_to`]: the world's interners (escaped per
/// call), or [`JsonNames`] (escaped once).
trait JsonIds {
    fn user(&self, out: &mut Vec<u8>, id: u32);
    fn story(&self, out: &mut Vec<u8>, id: u32);
}

impl JsonIds for World {
    #[inline]
    fn user(&self, out: &mut Vec<u8>, id: u32) {
        push_json_str(out, self.users.name(id));
    }
    #[inline]
    fn story(&self, out: &mut Vec<u8>, id: u32) {
        push_json_str(out, self.story_ids.name(id));
    }
}

/// One interner's names as JSON strings (quoted and escaped exactly as [`push_json_str`]
/// writes them), back to back in one byte arena.
#[derive(Debug, Clone, Default)]
struct NameArena {
    off: Vec<usize>,
    bytes: Vec<u8>,
}

impl NameArena {
    fn new(names: &[String]) -> Self {
        let mut a = NameArena {
            off: Vec::with_capacity(names.len() + 1),
            bytes: Vec::with_capacity(names.iter().map(|n| n.len() + 2).sum()),
        };
        a.off.push(0);
        for n in names {
            push_json_str(&mut a.bytes, n);
            a.off.push(a.bytes.len());
        }
        a
    }

    #[inline]
    fn push(&self, out: &mut Vec<u8>, id: u32) {
        let i = id as usize;
        match (self.off.get(i), self.off.get(i + 1)) {
            (Some(&a), Some(&b)) => out.extend_from_slice(&self.bytes[a..b]),
            _ => out.extend_from_slice(b"\"\""),
        }
    }
}

/// The world's user and story ids pre-serialised as JSON strings, so the batch output copies
/// bytes instead of escaping each name per item. Built once per run (O(total name length)).
#[derive(Debug, Clone, Default)]
pub struct JsonNames {
    users: NameArena,
    stories: NameArena,
}

impl JsonNames {
    pub fn new(world: &World) -> JsonNames {
        JsonNames {
            users: NameArena::new(world.users.names()),
            stories: NameArena::new(world.story_ids.names()),
        }
    }
}

impl JsonIds for JsonNames {
    #[inline]
    fn user(&self, out: &mut Vec<u8>, id: u32) {
        self.users.push(out, id);
    }
    #[inline]
    fn story(&self, out: &mut Vec<u8>, id: u32) {
        self.stories.push(out, id);
    }
}

/// [`write_jsonl`] with the names from `names` (byte-identical; the batch loop's path).
pub fn write_jsonl_names(names: &JsonNames, mask: &[bool; 5], feed: &UserFeed, out: &mut Vec<u8>) {
    write_jsonl_to(names, mask, feed, out);
}

/// Appends `feed` as one JSON line (with the newline) to `out`:
/// `{"user":..,"as_of":..,"fallback":..,"items":[{"rank":1,"story":..,"author":..,
/// "source":..,"score":..,"p":{"click":..,..}}]}` with the world's external ids and only the
/// heads in `mask`. The single serialisation of a feed: the batch output and
/// `feedrank-debug feed --json` both call it. Byte-identical to serde_json's output for the
/// same fields (a test checks).
pub fn write_jsonl(world: &World, mask: &[bool; 5], feed: &UserFeed, out: &mut Vec<u8>) {
    write_jsonl_to(world, mask, feed, out);
}

/// The one JSON Lines serialisation (see [`write_jsonl`]), generic over where names come from.
#[inline]
fn write_jsonl_to<N: JsonIds>(names: &N, mask: &[bool; 5], feed: &UserFeed, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"user\":");
    names.user(out, feed.user);
    out.extend_from_slice(b",\"as_of\":");
    push_i64(out, feed.as_of);
    out.extend_from_slice(if feed.fallback {
        b",\"fallback\":true,\"items\":["
    } else {
        b",\"fallback\":false,\"items\":["
    });
    for (i, it) in feed.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"rank\":");
        push_u64(out, i as u64 + 1);
        out.extend_from_slice(b",\"story\":");
        names.story(out, it.story);
        out.extend_from_slice(b",\"author\":");
        names.user(out, it.author);
        out.extend_from_slice(b",\"source\":\"");
        out.extend_from_slice(it.source.as_str().as_bytes());
        out.extend_from_slice(b"\",\"score\":");
        push_json_f64(out, it.score);
        out.extend_from_slice(b",\"p\":{");
        let mut first = true;
        for (k, a) in Action::ENGAGEMENTS.iter().enumerate() {
            if mask[k] {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.push(b'"');
                out.extend_from_slice(a.as_str().as_bytes());
                out.extend_from_slice(b"\":");
                push_json_f64(out, it.p[k]);
            }
        }
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}\n");
}

/// The TSV header line (with the newline) for a scorer with heads `mask`.
pub fn tsv_header(mask: &[bool; 5]) -> String {
    let mut h = String::from("user\tas_of\tfallback\trank\tstory\tauthor\tsource\tscore");
    for (i, a) in Action::ENGAGEMENTS.iter().enumerate() {
        if mask[i] {
            h.push_str("\tp_");
            h.push_str(a.as_str());
        }
    }
    h.push('\n');
    h
}

/// Appends `feed` as TSV rows: one per item; an empty feed is one row with rank 0 and
/// empty item fields (never silently absent).
pub fn write_tsv(world: &World, mask: &[bool; 5], feed: &UserFeed, out: &mut Vec<u8>) {
    let user = world.users.name(feed.user);
    let lead = format!("{user}\t{}\t{}", feed.as_of, feed.fallback);
    let _ = (|| -> std::io::Result<()> {
        if feed.items.is_empty() {
            write!(out, "{lead}\t0\t\t\t\t")?;
            for _ in mask.iter().filter(|m| **m) {
                out.push(b'\t');
            }
            out.push(b'\n');
        }
        for (i, it) in feed.items.iter().enumerate() {
            write!(
                out,
                "{lead}\t{}\t{}\t{}\t{}\t{}",
                i + 1,
                world.story_ids.name(it.story),
                world.users.name(it.author),
                it.source.as_str(),
                it.score
            )?;
            for (k, m) in mask.iter().enumerate() {
                if *m {
                    write!(out, "\t{}", it.p[k])?;
                }
            }
            out.push(b'\n');
        }
        Ok(())
    })();
}

/// Generates the feeds of `users` (in the given order; a whole world, a shard or any set of
/// viewers the context's index covers) at `ctx.as_of` and writes them to `out` in that order.
/// `progress` is called with the number of users just finished (from worker threads). Runs
/// on the current rayon pool.
///
/// # Errors
/// [`RankError::NonFiniteScore`] from the scorer, [`RankError::Write`] from `out`.
///
/// # Complexity
/// O(sum over users of [`rank_user`](super::rank_user)); memory O(U + S) per worker thread
/// plus one block of output.
pub fn generate_feeds<S: Scorer, W: Write>(
    ctx: &RankContext<'_>,
    scorer: &S,
    users: &[u32],
    opts: &BatchOptions,
    out: &mut W,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<RankStats, RankError> {
    let start = std::time::Instant::now();
    let world = ctx.world;
    let mask = head_mask(&scorer.heads());
    if let Some(&u) = users.iter().find(|&&u| u as usize >= world.num_users()) {
        return Err(RankError::UnknownUser(u.to_string()));
    }
    let threads = rayon::current_num_threads().max(1);
    let workers: Vec<Mutex<Option<Worker>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let werr = |source| RankError::Write { source };
    if opts.format == OutputFormat::Tsv {
        out.write_all(tsv_header(&mask).as_bytes()).map_err(werr)?;
    }
    let names = (opts.format == OutputFormat::Jsonl).then(|| JsonNames::new(world));
    let chunk = opts.chunk.max(1);
    for block in users.chunks(opts.block.max(1)) {
        let bufs: Vec<Vec<u8>> = block
            .par_chunks(chunk)
            .map(|us| -> Result<Vec<u8>, RankError> {
                let slot = rayon::current_thread_index().unwrap_or(0) % threads;
                let mut guard = workers[slot]
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let w = guard.get_or_insert_with(|| Worker::new(world));
                let mut buf = Vec::with_capacity(us.len() * 1024);
                let mut feed = UserFeed {
                    user: 0,
                    as_of: ctx.as_of,
                    fallback: false,
                    items: Vec::new(),
                };
                for &u in us {
                    let mut vs = scorer.viewer(u, ctx.as_of)?;
                    feed.fallback = rank_into(ctx, scorer, &mut vs, w, u)?;
                    feed.user = u;
                    items_of(w, &mut feed.items);
                    match opts.format {
                        OutputFormat::Jsonl => match &names {
                            Some(n) => write_jsonl_names(n, &mask, &feed, &mut buf),
                            None => write_jsonl(world, &mask, &feed, &mut buf),
                        },
                        OutputFormat::Tsv => write_tsv(world, &mask, &feed, &mut buf),
                    }
                }
                progress(us.len() as u64);
                Ok(buf)
            })
            .collect::<Result<_, _>>()?;
        for b in &bufs {
            out.write_all(b).map_err(werr)?;
        }
    }
    out.flush().map_err(werr)?;
    let mut stats = RankStats::default();
    for w in workers {
        let w = w.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = w {
            stats += &w.stats;
        }
    }
    stats.elapsed = start.elapsed();
    tracing::info!(
        users = stats.users,
        scored = stats.scored,
        "feeds generated"
    );
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parse_and_fnv() {
        assert_eq!(fnv1a(""), 0xcbf29ce484222325);
        assert_eq!(fnv1a("a"), 0xaf63dc4c8601ec8c);
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").is_err());
        let ids: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
        for id in &ids {
            let n = (0..3)
                .filter(|&i| Shard { index: i, count: 3 }.contains(id))
                .count();
            assert_eq!(n, 1);
        }
    }

    #[test]
    fn stats_add_up_and_display() {
        let mut a = RankStats {
            users: 2,
            considered: 10,
            scored: 7,
            filtered: [1, 1, 0, 1],
            ..Default::default()
        };
        let b = a.clone();
        a += &b;
        assert_eq!(a.users, 4);
        assert_eq!(a.filtered_total(), 6);
        assert_eq!(a.considered, a.scored + a.filtered_total());
        let s = a.to_string();
        assert!(s.contains("already_seen 2"), "{s}");
        assert!(s.contains("scored 14"), "{s}");
    }

    /// The serde reference for [`write_jsonl`].
    #[derive(serde::Serialize)]
    struct ItemRef<'a> {
        rank: usize,
        story: &'a str,
        author: &'a str,
        source: &'static str,
        score: f64,
        p: HeadsJson,
    }
    #[derive(serde::Serialize)]
    struct FeedRef<'a> {
        user: &'a str,
        as_of: i64,
        fallback: bool,
        items: Vec<ItemRef<'a>>,
    }

    #[test]
    fn write_jsonl_matches_serde_json_byte_for_byte() {
        use crate::rank::{FeedItem, Multipliers, Source};
        let mut w = World::default();
        for u in [
            "plain",
            "quo\"te",
            "back\\slash",
            "tab\there",
            "ünïcode ✓",
            "ctl\u{1}\u{7f}",
        ] {
            w.users.intern(u);
            w.story_ids.intern(&format!("s/{u}"));
        }
        let mk = |story: u32, score: f64, p: [f64; 5]| FeedItem {
            story,
            author: (story + 1) % 6,
            source: if story.is_multiple_of(2) {
                Source::InNetwork
            } else {
                Source::OutOfNetwork
            },
            friends_engaged: 0,
            score,
            value: score,
            p,
            multipliers: Multipliers {
                diversity: 1.0,
                out_of_network: 1.0,
                fatigue: 1.0,
            },
        };
        let feeds = [
            UserFeed {
                user: 1,
                as_of: -5,
                fallback: true,
                items: vec![],
            },
            UserFeed {
                user: 4,
                as_of: 1_700_000_000,
                fallback: false,
                items: (0..6)
                    .map(|s| {
                        mk(
                            s,
                            [1.0, -0.0, 1e-300, 0.1 + 0.2, -123456.789, 2.5e21][s as usize],
                            [0.1, 1.0 / 3.0, 0.0, 1e-9, 0.999],
                        )
                    })
                    .collect(),
            },
        ];
        for mask in [[true; 5], [true, true, false, false, true], [false; 5]] {
            for f in &feeds {
                let mut got = Vec::new();
                write_jsonl(&w, &mask, f, &mut got);
                let r = FeedRef {
                    user: w.users.name(f.user),
                    as_of: f.as_of,
                    fallback: f.fallback,
                    items: f
                        .items
                        .iter()
                        .enumerate()
                        .map(|(i, it)| ItemRef {
                            rank: i + 1,
                            story: w.story_ids.name(it.story),
                            author: w.users.name(it.author),
                            source: it.source.as_str(),
                            score: it.score,
                            p: HeadsJson::new(&mask, &it.p),
                        })
                        .collect(),
                };
                let want = serde_json::to_string(&r).unwrap() + "\n";
                let mut via_names = Vec::new();
                write_jsonl_names(&JsonNames::new(&w), &mask, f, &mut via_names);
                assert_eq!(String::from_utf8(via_names).unwrap(), want);
                assert_eq!(String::from_utf8(got).unwrap(), want);
            }
        }
    }

    #[test]
    fn integers_format_like_display() {
        for n in [
            0i64,
            1,
            -1,
            9,
            10,
            -10,
            99,
            1_700_000_000,
            i64::MAX,
            i64::MIN,
            -5,
        ] {
            let mut v = Vec::new();
            push_i64(&mut v, n);
            assert_eq!(String::from_utf8(v).unwrap(), n.to_string());
        }
        let mut v = Vec::new();
        push_u64(&mut v, u64::MAX);
        assert_eq!(String::from_utf8(v).unwrap(), u64::MAX.to_string());
    }

    #[test]
    fn head_mask_follows_engagement_order() {
        assert_eq!(
            head_mask(&[Action::Like, Action::Click]),
            [true, true, false, false, false]
        );
    }
}
