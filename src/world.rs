//! The world: everything feedrank reads about one social network. Users, the friendship
//! graph, stories, logged events (impressions and engagements), optional direct
//! interactions, and for simulated worlds the true engagement probabilities.
//!
//! All references are dense `u32` indices; the external (input) ids live in [`Interner`]s
//! and every output maps back to them. Reading and writing the TSV layout is in
//! [`crate::io::world_tsv`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fast non-cryptographic hasher for the id maps (FxHash-style word-at-a-time multiply,
/// with a final avalanche so both the low bucket bits and the high tag bits are well mixed).
/// Ids are not attacker-controlled: HashDoS resistance is not needed, lookup speed is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

const ID_HASH_K: u64 = 0xf135_7aea_2e62_a9c5;

impl IdHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(ID_HASH_K);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let h = self.0;
        let h = (h ^ (h >> 29)).wrapping_mul(ID_HASH_K);
        h ^ (h >> 32)
    }
}

type IdMap<K> = HashMap<K, u32, BuildHasherDefault<IdHasher>>;

/// A bidirectional map between opaque string ids and dense `u32` indices.
///
/// Lookups are the hot path of reading a world, and cache misses dominate them, so ids are
/// keyed three ways (a deterministic function of the sequence of interned names):
/// - ids of the form `<prefix><number>` (the prefix taken from the first id, e.g. `u` of
///   `u0`; the number canonical: no leading zero, at most 9 digits, and below a bound
///   proportional to the number of ids) index a dense `u32` array directly;
/// - other ids of up to 15 bytes are keyed by their bytes packed into an integer (no pointer
///   chase to a heap string, no `memcmp`);
/// - longer ids are keyed by the string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interner {
    names: Vec<String>,
    /// Prefix of numbered ids: the first id without its trailing canonical number.
    prefix: Option<String>,
    /// Index of numbered id `<prefix><n>` at `dense[n]` (`NO_ID` when absent).
    dense: Vec<u32>,
    /// Ids of at most 7 bytes: bytes little-endian, length in the top byte.
    short: IdMap<u64>,
    /// Ids of 8 to 15 bytes: bytes little-endian, length in the top byte.
    medium: IdMap<u128>,
    /// Longer ids.
    long: IdMap<String>,
}

/// How an id is keyed in [`Interner`].
enum IdKey {
    Short(u64),
    Medium(u128),
    Long,
}

impl IdKey {
    #[inline]
    fn of(name: &str) -> IdKey {
        let b = name.as_bytes();
        if b.len() <= 7 {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            w[7] = b.len() as u8;
            IdKey::Short(u64::from_le_bytes(w))
        } else if b.len() <= 15 {
            let mut w = [0u8; 16];
            w[..b.len()].copy_from_slice(b);
            w[15] = b.len() as u8;
            IdKey::Medium(u128::from_le_bytes(w))
        } else {
            IdKey::Long
        }
    }
}

/// An empty slot of [`Interner`]'s dense array.
const NO_ID: u32 = u32::MAX;

/// `b` as a canonical decimal (no sign, no leading zero, at most 9 digits).
#[inline]
fn canonical_number(b: &[u8]) -> Option<usize> {
    if b.is_empty() || b.len() > 9 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    b.iter().try_fold(0usize, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + usize::from(d - b'0'))
    })
}

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The dense slot of `name` if it is a numbered id `<prefix><n>`.
    #[inline]
    fn dense_slot(&self, name: &str) -> Option<usize> {
        let prefix = self.prefix.as_deref()?;
        canonical_number(name.as_bytes().strip_prefix(prefix.as_bytes())?)
    }

    /// Index of `name`, inserting it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        if self.names.len() == 1 {
            let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
            let (p, n) = name.split_at(name.len() - digits);
            if canonical_number(n.as_bytes()).is_some() {
                self.prefix = Some(p.to_string());
            }
        }
        if let Some(n) = self.dense_slot(name) {
            // Bound the array by the number of ids so sparse numbers cannot blow it up.
            let cap = 4 * self.names.len() + 4096;
            if n < cap {
                if n >= self.dense.len() {
                    let len = (self.dense.len() * 2).max(n + 1).min(cap);
                    self.dense.resize(len, NO_ID);
                }
                self.dense[n] = i;
                return i;
            }
        }
        match IdKey::of(name) {
            IdKey::Short(k) => {
                self.short.insert(k, i);
            }
            IdKey::Medium(k) => {
                self.medium.insert(k, i);
            }
            IdKey::Long => {
                self.long.insert(name.to_string(), i);
            }
        }
        i
    }

    /// Index of `name`, if known.
    #[inline]
    pub fn get(&self, name: &str) -> Option<u32> {
        if let Some(n) = self.dense_slot(name) {
            match self.dense.get(n) {
                Some(&i) if i != NO_ID => return Some(i),
                // Numbered ids beyond the bound when interned are in the maps.
                _ => {}
            }
        }
        match IdKey::of(name) {
            IdKey::Short(k) => self.short.get(&k).copied(),
            IdKey::Medium(k) => self.medium.get(&k).copied(),
            IdKey::Long => self.long.get(name).copied(),
        }
    }

    /// The external id of index `i`.
    ///
    /// # Panics
    /// If `i` is out of range (indices come from this interner).
    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What a user did with a story. Impressions are what the user was shown; every other
/// action implies an impression.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Impression = 0,
    Click = 1,
    Like = 2,
    Comment = 3,
    Share = 4,
    Hide = 5,
}

impl Action {
    /// Every action, in index order.
    pub const ALL: [Action; 6] = [
        Action::Impression,
        Action::Click,
        Action::Like,
        Action::Comment,
        Action::Share,
        Action::Hide,
    ];
    /// The engagement actions (everything but impression), in index order.
    pub const ENGAGEMENTS: [Action; 5] = [
        Action::Click,
        Action::Like,
        Action::Comment,
        Action::Share,
        Action::Hide,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Impression => "impression",
            Action::Click => "click",
            Action::Like => "like",
            Action::Comment => "comment",
            Action::Share => "share",
            Action::Hide => "hide",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "impression" => Action::Impression,
            "click" => Action::Click,
            "like" => Action::Like,
            "comment" => Action::Comment,
            "share" => Action::Share,
            "hide" => Action::Hide,
            _ => return None,
        })
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Positive engagement (everything except impression and hide).
    pub fn is_positive(self) -> bool {
        !matches!(self, Action::Impression | Action::Hide)
    }
}

/// A story (post).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub author: u32,
    pub created_at: i64,
    /// Index into [`World::kinds`].
    pub kind: u32,
    /// Index into [`World::topics`], if the story has a topic.
    pub topic: Option<u32>,
}

/// One logged event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    pub ts: i64,
    pub user: u32,
    pub story: u32,
    pub action: Action,
}

/// A direct interaction between two users (message, profile view, wall post, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interaction {
    pub ts: i64,
    pub from: u32,
    pub to: u32,
    /// Index into [`World::interaction_kinds`].
    pub kind: u32,
}

/// True per-impression engagement probabilities (simulated worlds only), indexed by
/// [`Action::ENGAGEMENTS`] order: click, like, comment, share, hide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    pub user: u32,
    pub story: u32,
    pub ts: i64,
    pub p: [f64; 5],
}

/// How impressions are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// `events.tsv` logs every impression (simulated worlds, production logs).
    #[default]
    Logged,
    /// No impression log: every friend of the author is taken to have seen each story at its
    /// creation time (imported review/tagging data). Engagements are still logged.
    FriendsOfAuthor,
}

/// The `world.toml` metadata.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorldMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub provenance: String,
    /// First and last timestamp covered (unix seconds), as declared.
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default)]
    pub end: Option<i64>,
    #[serde(default)]
    pub exposure: Exposure,
    /// Simulator seed, for simulated worlds.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Free-form parameters (simulator settings, importer options).
    #[serde(default)]
    pub params: toml::Table,
}

/// A complete world in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct World {
    pub meta: WorldMeta,
    pub users: Interner,
    pub graph: crate::graph::Graph,
    pub stories: Vec<Story>,
    pub story_ids: Interner,
    pub kinds: Interner,
    pub topics: Interner,
    /// Events sorted by (ts, user, story, action).
    pub events: Vec<Event>,
    /// Interactions sorted by (ts, from, to, kind).
    pub interactions: Vec<Interaction>,
    pub interaction_kinds: Interner,
    /// True probabilities (simulated worlds), sorted by (ts, user, story).
    pub truth: Vec<Truth>,
}

impl World {
    /// Number of users.
    pub fn num_users(&self) -> usize {
        self.users.len()
    }

    /// First and last event timestamp, falling back to story times, or `None` if empty.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let ev = self.events.first().zip(self.events.last());
        match ev {
            Some((a, b)) => Some((a.ts, b.ts)),
            None => {
                let min = self.stories.iter().map(|s| s.created_at).min()?;
                let max = self.stories.iter().map(|s| s.created_at).max()?;
                Some((min, max))
            }
        }
    }
}
