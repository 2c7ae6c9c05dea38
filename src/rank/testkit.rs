//! Small hand-made worlds and simple scorers for the ranker's tests (unit and integration)
//! and examples. Not for production data: the builder panics on unknown names.
use crate::model::{Contribution, Explanation, ModelError, Score, Scorer};
use crate::world::{Action, Event, Story, World};
use rand::{Rng, SeedableRng};

/// Builds a [`World`] from names.
#[derive(Debug, Default)]
pub struct WorldBuilder {
    world: World,
    edges: Vec<(u32, u32)>,
}

impl WorldBuilder {
    /// A world with these users (in index order).
    pub fn new(users: &[&str]) -> Self {
        let mut b = WorldBuilder::default();
        for u in users {
            b.world.users.intern(u);
        }
        b
    }

    fn user(&self, name: &str) -> u32 {
        self.world
            .users
            .get(name)
            .unwrap_or_else(|| panic!("testkit: unknown user {name}"))
    }

    /// Adds friendships.
    pub fn friends(mut self, pairs: &[(&str, &str)]) -> Self {
        for (a, b) in pairs {
            let e = (self.user(a), self.user(b));
            self.edges.push(e);
        }
        self
    }

    /// Adds a story.
    pub fn story(mut self, id: &str, author: &str, created_at: i64, kind: &str) -> Self {
        let author = self.user(author);
        let kind = self.world.kinds.intern(kind);
        self.world.story_ids.intern(id);
        self.world.stories.push(Story {
            author,
            created_at,
            kind,
            topic: None,
        });
        self
    }

    /// Adds an event.
    pub fn event(mut self, ts: i64, user: &str, story: &str, action: Action) -> Self {
        let user = self.user(user);
        let story = self
            .world
            .story_ids
            .get(story)
            .unwrap_or_else(|| panic!("testkit: unknown story {story}"));
        self.world.events.push(Event {
            ts,
            user,
            story,
            action,
        });
        self
    }

    /// The world (graph built, events sorted).
    pub fn build(mut self) -> World {
        self.world.graph = crate::graph::Graph::from_edges(self.world.num_users(), &self.edges).0;
        self.world.events.sort_unstable();
        self.world
    }
}

/// A random world: `users` users with about `degree` friends each, `stories` stories spread
/// over 10 days, and `events` impressions/engagements. Deterministic for a seed.
pub fn random_world(
    seed: u64,
    users: usize,
    degree: usize,
    stories: usize,
    events: usize,
) -> World {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut w = World::default();
    for i in 0..users {
        w.users.intern(&format!("u{i}"));
    }
    let mut edges = Vec::new();
    for u in 0..users as u32 {
        for _ in 0..degree / 2 {
            // mostly local ties, so friends share friends
            let v = if rng.gen_bool(0.7) {
                (u as i64 + rng.gen_range(-8i64..=8)).rem_euclid(users as i64) as u32
            } else {
                rng.gen_range(0..users as u32)
            };
            edges.push((u, v));
        }
    }
    w.graph = crate::graph::Graph::from_edges(users, &edges).0;
    for k in ["photo", "link", "status"] {
        w.kinds.intern(k);
    }
    let span = 10 * 86400;
    for s in 0..stories {
        w.story_ids.intern(&format!("s{s}"));
        w.stories.push(Story {
            author: rng.gen_range(0..users as u32),
            created_at: rng.gen_range(0..span),
            kind: rng.gen_range(0..3),
            topic: None,
        });
    }
    for _ in 0..events {
        let story = rng.gen_range(0..stories as u32);
        let s = &w.stories[story as usize];
        let nb = w.graph.neighbors(s.author);
        let user = if !nb.is_empty() && rng.gen_bool(0.8) {
            nb[rng.gen_range(0..nb.len())]
        } else {
            rng.gen_range(0..users as u32)
        };
        let action = Action::ALL[rng.gen_range(0..6)];
        let ts = s.created_at + rng.gen_range(0..2 * 86400);
        w.events.push(Event {
            ts,
            user,
            story,
            action,
        });
    }
    w.events.sort_unstable();
    w
}

/// A scorer whose value is `f(viewer, story)`; P(click) is `sigmoid(value)`, P(like) half of
/// it, P(hide) `0.1 * (1 - P(click))`; its explanation is `contributions` (if set) or the
/// single feature `"value"`.
pub struct FnScorer<F> {
    pub f: F,
    pub heads: Vec<Action>,
    pub contributions: Vec<Contribution>,
}

impl<F: Fn(u32, u32) -> f64 + Sync> FnScorer<F> {
    /// With heads click, like, hide and no fixed contributions.
    pub fn new(f: F) -> Self {
        FnScorer {
            f,
            heads: vec![Action::Click, Action::Like, Action::Hide],
            contributions: Vec::new(),
        }
    }
}

impl<F: Fn(u32, u32) -> f64 + Sync> Scorer for FnScorer<F> {
    type Viewer = u32;

    fn heads(&self) -> Vec<Action> {
        self.heads.clone()
    }

    fn viewer(&self, viewer: u32, _as_of: i64) -> Result<u32, ModelError> {
        Ok(viewer)
    }

    fn score(&self, viewer: &mut u32, story: u32) -> Result<Score, ModelError> {
        let value = (self.f)(*viewer, story);
        let click = 1.0 / (1.0 + (-value).exp());
        Ok(Score {
            p: [click, click / 2.0, 0.0, 0.0, 0.1 * (1.0 - click)],
            value,
        })
    }

    fn explain(&self, viewer: &mut u32, story: u32) -> Result<Explanation, ModelError> {
        if !self.contributions.is_empty() {
            return Ok(Explanation {
                contributions: self.contributions.clone(),
            });
        }
        let v = (self.f)(*viewer, story);
        Ok(Explanation {
            contributions: vec![Contribution {
                feature: "value".into(),
                value: v,
                contribution: v,
            }],
        })
    }
}
