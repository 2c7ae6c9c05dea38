//! The world: everything feedrank reads about one social network. Users, the friendship
//! graph, stories, logged events (impressions and engagements), optional direct
//! interactions, and for simulated worlds the true engagement probabilities.
//!
//! All references are dense `u32` indices; the external (input) ids live in [`Interner`]s
//! and every output maps back to them. Reading and writing the TSV layout is in
//! [`crate::io::world_tsv`].

use std::collections::HashMap;

/// A bidirectional map between opaque string ids and dense `u32` indices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Index of `name`, inserting it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    /// Index of `name`, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
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
#[derive(Debug, Clone, Default)]
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
