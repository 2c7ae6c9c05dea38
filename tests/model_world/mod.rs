//! A small hand-made world generator shared by the model and feature tests.
#![allow(dead_code, clippy::needless_range_loop)]
use feedrank::graph::Graph;
use feedrank::world::{Action, Event, Exposure, Interaction, Interner, Story, World, WorldMeta};
use rand::{Rng, SeedableRng};

pub const DAY: i64 = 86_400;
pub const T0: i64 = 1_700_000_000 - 1_700_000_000 % DAY;

/// `n` users on a ring-plus-random graph, `days` days of stories, impressions and
/// engagements whose probability rises with friendship, past engagement and a per-user kind
/// preference, plus some direct interactions.
pub fn toy_world(n: u32, days: i64, seed: u64) -> World {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut users = Interner::new();
    for u in 0..n {
        users.intern(&format!("u{u}"));
    }
    let mut edges = Vec::new();
    for u in 0..n {
        edges.push((u, (u + 1) % n));
        edges.push((u, (u + 2) % n));
        edges.push((u, rng.gen_range(0..n)));
    }
    let (graph, _) = Graph::from_edges(n as usize, &edges);
    let mut kinds = Interner::new();
    kinds.intern("text");
    kinds.intern("photo");
    let mut topics = Interner::new();
    topics.intern("news");
    topics.intern("pets");
    let pref: Vec<u32> = (0..n).map(|_| rng.gen_range(0..2)).collect();
    let mut stories = Vec::new();
    let mut story_ids = Interner::new();
    let mut events = Vec::new();
    let mut past = std::collections::HashMap::<(u32, u32), u32>::new();
    for d in 0..days {
        let first = stories.len();
        for a in 0..n {
            if rng.gen_bool(0.6) {
                let kind = rng.gen_range(0..2);
                story_ids.intern(&format!("s{}", stories.len()));
                stories.push(Story {
                    author: a,
                    created_at: T0 + d * DAY + rng.gen_range(0..DAY / 2),
                    kind,
                    topic: Some(kind),
                });
            }
        }
        for u in 0..n {
            for s in first..stories.len() {
                let st = &stories[s];
                let friend = graph.has_edge(u, st.author);
                if st.author == u || (!friend && !rng.gen_bool(0.15)) {
                    continue;
                }
                let ts = st.created_at + rng.gen_range(0..DAY / 2);
                let s = s as u32;
                events.push(Event {
                    ts,
                    user: u,
                    story: s,
                    action: Action::Impression,
                });
                let prior = *past.get(&(u, st.author)).unwrap_or(&0) as f64;
                let logit = -2.5
                    + 1.5 * friend as u8 as f64
                    + 1.0 * (pref[u as usize] == st.kind) as u8 as f64
                    + 0.7 * (1.0 + prior).ln();
                let p = 1.0 / (1.0 + (-logit).exp());
                if rng.gen_bool(p) {
                    events.push(Event {
                        ts: ts + 30,
                        user: u,
                        story: s,
                        action: Action::Click,
                    });
                    *past.entry((u, st.author)).or_insert(0) += 1;
                    if rng.gen_bool(0.5) {
                        events.push(Event {
                            ts: ts + 60,
                            user: u,
                            story: s,
                            action: Action::Like,
                        });
                    }
                    if rng.gen_bool(0.15) {
                        events.push(Event {
                            ts: ts + 90,
                            user: u,
                            story: s,
                            action: Action::Comment,
                        });
                    }
                } else if !friend && rng.gen_bool(0.05) {
                    events.push(Event {
                        ts: ts + 30,
                        user: u,
                        story: s,
                        action: Action::Hide,
                    });
                }
            }
        }
    }
    events.sort();
    let mut interaction_kinds = Interner::new();
    interaction_kinds.intern("message");
    let mut interactions = Vec::new();
    for _ in 0..(n as i64 * days / 2) {
        let from = rng.gen_range(0..n);
        let nb = graph.neighbors(from);
        if nb.is_empty() {
            continue;
        }
        let to = nb[rng.gen_range(0..nb.len())];
        interactions.push(Interaction {
            ts: T0 + rng.gen_range(0..days * DAY),
            from,
            to,
            kind: 0,
        });
    }
    interactions.sort();
    World {
        meta: WorldMeta {
            name: format!("toy-{n}-{days}-{seed}"),
            start: Some(T0),
            end: Some(T0 + days * DAY),
            exposure: Exposure::Logged,
            ..Default::default()
        },
        users,
        graph,
        stories,
        story_ids,
        kinds,
        topics,
        events,
        interactions,
        interaction_kinds,
        truth: Vec::new(),
    }
}

/// The same world with every event and interaction at or after `t` removed.
pub fn cut(world: &World, t: i64) -> World {
    let mut w = world.clone();
    w.events.retain(|e| e.ts < t);
    w.interactions.retain(|i| i.ts < t);
    w
}
