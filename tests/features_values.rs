//! Feature values on a tiny hand-made world, computed by hand.
use feedrank::config::FeatureConfig;
use feedrank::features::{FeatureSpace, NAMES, NUM_FEATURES};
use feedrank::graph::Graph;
use feedrank::world::{Action, Event, Interaction, Interner, Story, World};
use std::sync::Arc;

const H: i64 = 3600;
const D: i64 = 86_400;
const T: i64 = 1_700_006_400; // as_of

fn world() -> World {
    // viewer 0 with friends 1, 2, 3 (1-2 adjacent); author 5 with friends 1, 3; 4-5 separate
    let mut users = Interner::new();
    for u in 0..6 {
        users.intern(&u.to_string());
    }
    let (graph, _) =
        Graph::from_edges(6, &[(0, 1), (0, 2), (0, 3), (1, 2), (5, 1), (5, 3), (4, 5)]);
    let mut kinds = Interner::new();
    kinds.intern("text");
    kinds.intern("photo");
    let stories = vec![
        Story {
            author: 5,
            created_at: T - 5 * H,
            kind: 1,
            topic: Some(0),
        }, // s0: candidate
        Story {
            author: 5,
            created_at: T - 4 * D,
            kind: 0,
            topic: None,
        }, // s1
        Story {
            author: 0,
            created_at: T - 4 * D,
            kind: 0,
            topic: None,
        }, // s2: the viewer's
    ];
    let ev = |ts, user, story, action| Event {
        ts,
        user,
        story,
        action,
    };
    use Action::*;
    let mut events = vec![
        ev(T - 3 * D, 0, 1, Impression),
        ev(T - 2 * D, 0, 1, Like),
        ev(T - D, 0, 1, Click),
        ev(T - 3 * D, 5, 2, Comment),
        ev(T - 4 * H, 1, 0, Click),
        ev(T - 4 * H + 1, 1, 0, Like),
        ev(T - 3 * H, 2, 0, Click),
        ev(T - 3 * H + 1, 2, 0, Hide),
        ev(T - 2 * H, 3, 0, Click),
        ev(T - H, 4, 0, Click),
        ev(T - H, 0, 0, Impression),
        ev(T, 3, 0, Like),        // at as_of: excluded
        ev(T + H, 1, 0, Comment), // after: excluded
    ];
    events.sort();
    let interactions = vec![Interaction {
        ts: T - 10 * D,
        from: 5,
        to: 0,
        kind: 0,
    }];
    World {
        users,
        graph,
        stories,
        kinds,
        events,
        interactions,
        ..Default::default()
    }
}

fn row(w: &World, viewer: u32, story: u32) -> [f32; NUM_FEATURES] {
    let fs = FeatureSpace::new(w, &FeatureConfig::default()).unwrap();
    let mut ctx = fs.viewer(viewer, T).unwrap();
    let mut r = [0f32; NUM_FEATURES];
    fs.write_row(&mut ctx, story, &mut r).unwrap();
    r
}

fn get(r: &[f32], name: &str) -> f64 {
    r[NAMES.iter().position(|n| *n == name).unwrap()] as f64
}

/// Log-odds, as the schema-4 rates are (README "Features, model, value score").
fn logit(r: f64) -> f64 {
    (r / (1.0 - r)).ln()
}

fn close(a: f64, b: f64, name: &str) {
    assert!(
        (a - b).abs() <= 1e-5 * b.abs().max(1.0),
        "{name}: got {a}, expected {b}"
    );
}

#[test]
fn hand_computed_values() {
    let w = world();
    let r = row(&w, 0, 0);
    let want = [
        ("is_friend", 0.0),
        ("embeddedness", 2.0),
        ("jaccard", 2.0 / 4.0), // N(0) ∪ N(5) = {1, 2, 3, 4}
        ("adamic_adar", 1.0 / 3f64.ln() + 1.0 / 2f64.ln()),
        ("dispersion", 0.0),
        ("viewer_degree", 3.0),
        ("author_degree", 3.0),
        ("aff_click", 0.955),
        ("aff_like", 0.955f64.powi(2)),
        ("aff_comment", 0.0),
        ("aff_hide", 0.0),
        ("recip_engagement", 0.955f64.powi(3)),
        ("direct_interactions", 0.955f64.powi(10)),
        ("days_since_interaction", 1.0),
        ("age_hours", 5.0),
        // author 5, last 7 days: positive events 5 (s0) + 2 (s1); exposures (0,s1) (0,s0)
        // (1,s0) (2,s0) (3,s0) (4,s0) = 6 -> 7 / (6 + 1)
        ("author_engagement_rate", 1.0),
        ("story_engagements", 5.0),
        // 5 positives over 5 exposures, shrunk with 20 pseudo-exposures towards the author's
        // rate 1 (clamped to 0.999): (5 + 19.98) / 25 = 0.9992, clamped to 0.999
        ("story_engagement_rate", logit(0.999)),
        ("friends_engaged", 3.0),
        ("structural_diversity", 2.0),
        // viewer 0: 2 positive events over 2 exposures, 5 pseudo-exposures at 0.1:
        // (2 + 0.5) / 7; kind 1: 0 positives over 1 exposure, 10 pseudo-exposures at
        // 2.5 / 7: (0 + 25 / 7) / 11 = 25 / 77
        ("viewer_engagement_rate", logit(2.5 / 7.0)),
        ("viewer_kind_rate", logit(25.0 / 77.0)),
        ("mf_author_affinity", 0.0),
        ("mf_topic_affinity", 0.0),
        // viewer 0's only topic-0 exposure (s0) had no positive: as the kind, 25 / 77
        ("viewer_topic_rate", logit(25.0 / 77.0)),
        // s0 is of kind 1
        ("kind_1", 1.0),
        ("kind_2", 0.0),
        ("kind_3", 0.0),
    ];
    for (n, v) in want {
        close(get(&r, n), v, n);
    }
    // kind 0 story s1: 2 positives (capped at the 1 exposure) of kind 0:
    // (1 + 25 / 7) / 11 = 32 / 77; kind 0 sets no indicator
    let s1 = row(&w, 0, 1);
    close(
        get(&s1, "viewer_kind_rate"),
        logit(32.0 / 77.0),
        "viewer_kind_rate s1",
    );
    close(get(&s1, "kind_1"), 0.0, "kind_1 s1");
    // viewer 1: click + like on s0 (topic 0) before as_of, one exposure: overall
    // (1 + 0.5) / 6 = 0.25, topic (1 + 2.5) / 11
    close(
        get(&row(&w, 1, 0), "viewer_topic_rate"),
        logit(3.5 / 11.0),
        "viewer_topic_rate v1",
    );
    // s1 has no topic: the viewer's overall rate
    close(
        get(&s1, "viewer_topic_rate"),
        logit(2.5 / 7.0),
        "viewer_topic_rate s1",
    );
    // viewer 1 is a friend of author 5: slot signals are used
    let r1 = row(&w, 1, 0);
    close(get(&r1, "is_friend"), 1.0, "is_friend");
    close(
        get(&r1, "friends_engaged"),
        1.0,
        "friends of 1 who engaged: 2",
    ); // 0 only saw it
       // nobody interacted: days_since is the cap
    close(
        get(&row(&w, 4, 2), "days_since_interaction"),
        365.0,
        "never",
    );
}

struct Fixed;
impl feedrank::features::MfAffinity for Fixed {
    fn author_affinity(&self, v: u32, a: u32) -> f32 {
        (v * 10 + a) as f32
    }
    fn topic_affinity(&self, v: u32, t: u32) -> f32 {
        (v * 100 + t) as f32 + 0.5
    }
}

#[test]
fn mf_provider_fills_its_slots() {
    let w = world();
    let mut fs = FeatureSpace::new(&w, &FeatureConfig::default()).unwrap();
    fs.set_mf(Arc::new(Fixed));
    let mut ctx = fs.viewer(2, T).unwrap();
    let mut r = [0f32; NUM_FEATURES];
    fs.write_row(&mut ctx, 0, &mut r).unwrap();
    close(get(&r, "mf_author_affinity"), 25.0, "mf author");
    close(get(&r, "mf_topic_affinity"), 200.5, "mf topic");
    fs.write_row(&mut ctx, 1, &mut r).unwrap();
    close(get(&r, "mf_topic_affinity"), 0.0, "no topic");
    // bad inputs are errors, not panics
    assert!(fs.write_row(&mut ctx, 99, &mut r).is_err());
    assert!(fs.write_row(&mut ctx, 0, &mut r[..3]).is_err());
    assert!(fs.viewer(99, T).is_err());
}
