//! Unit tests of the stages on a hand-made world (see `fixture` for the story list).
use super::testkit::{FnScorer, WorldBuilder};
use super::*;
use crate::model::Contribution;
use crate::world::{Action, World};

const H: i64 = 3600;
const AS_OF: i64 = 1000 * H;

/// Viewer `v`, friends ana, bob, cat; dan and eve are not friends of v.
/// In window: a1 (-1h), a2 (-2h), b1 (-5h, seen by v), b2 (-6h, bob hidden 10 days ago),
/// c1 (-3h, cat hidden 2 days ago), e1 (-4h, liked by ana and bob), d1 (-4h, liked by ana
/// only), v1 (v's own, liked by ana and bob). Old: a3 (-100h), c0 (-80h), e0 (-90h, liked by
/// ana and bob 10h ago), bx (-11 days).
fn fixture() -> World {
    WorldBuilder::new(&["v", "ana", "bob", "cat", "dan", "eve"])
        .friends(&[("v", "ana"), ("v", "bob"), ("v", "cat"), ("ana", "bob")])
        .story("a1", "ana", AS_OF - H, "photo")
        .story("a2", "ana", AS_OF - 2 * H, "photo")
        .story("a3", "ana", AS_OF - 100 * H, "photo")
        .story("b1", "bob", AS_OF - 5 * H, "link")
        .story("b2", "bob", AS_OF - 6 * H, "link")
        .story("bx", "bob", AS_OF - 11 * 24 * H, "link")
        .story("c0", "cat", AS_OF - 80 * H, "status")
        .story("c1", "cat", AS_OF - 3 * H, "status")
        .story("d1", "dan", AS_OF - 4 * H, "photo")
        .story("e1", "eve", AS_OF - 4 * H, "photo")
        .story("e0", "eve", AS_OF - 90 * H, "photo")
        .story("v1", "v", AS_OF - 2 * H, "photo")
        .event(AS_OF - 4 * H, "v", "b1", Action::Impression)
        .event(AS_OF - 10 * 24 * H, "v", "bx", Action::Hide)
        .event(AS_OF - 70 * H, "v", "c0", Action::Hide)
        .event(AS_OF - 2 * H, "ana", "e1", Action::Like)
        .event(AS_OF - 3 * H, "bob", "e1", Action::Comment)
        .event(AS_OF - 2 * H, "bob", "e1", Action::Like)
        .event(AS_OF - 2 * H, "ana", "d1", Action::Like)
        .event(AS_OF - H, "ana", "v1", Action::Like)
        .event(AS_OF - H, "bob", "v1", Action::Share)
        .event(AS_OF - 10 * H, "ana", "e0", Action::Like)
        .event(AS_OF - 10 * H, "bob", "e0", Action::Like)
        // after as_of: must be ignored
        .event(AS_OF + H, "v", "a1", Action::Impression)
        .event(AS_OF + H, "cat", "d1", Action::Like)
        .build()
}

fn sid(w: &World, s: &str) -> u32 {
    w.story_ids.get(s).unwrap()
}

fn names(w: &World, stories: impl IntoIterator<Item = u32>) -> Vec<String> {
    let mut v: Vec<String> = stories
        .into_iter()
        .map(|s| w.story_ids.name(s).to_string())
        .collect();
    v.sort();
    v
}

fn values(w: &World) -> impl Fn(u32, u32) -> f64 + Sync + '_ {
    move |_, s| match w.story_ids.name(s) {
        "a1" => 1.0,
        "a2" => 0.9,
        "b2" => 0.8,
        "e1" => 0.6,
        _ => 0.1,
    }
}

#[test]
fn index_groups_by_author_and_first_positive_engagement() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let ana = w.users.get("ana").unwrap();
    let times: Vec<i64> = idx.stories_by(ana).iter().map(|x| x.0).collect();
    assert_eq!(times, vec![AS_OF - 100 * H, AS_OF - 2 * H, AS_OF - H]);
    // bob commented then liked e1: one engager entry at the first time
    let e = idx.engagers(sid(&w, "e1"));
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].0, AS_OF - 3 * H);
    // three events before as_of and one after
    assert_eq!(idx.history(w.users.get("v").unwrap()).len(), 4);
    assert_eq!(idx.skipped, 0);
}

#[test]
fn sources_find_in_network_and_out_of_network() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let v = w.users.get("v").unwrap();
    let mut sc = sources::SourceScratch::new(w.stories.len());
    let mut out = Vec::new();
    sources::count_friend_engagements(&ctx, v, &mut sc);
    sources::in_network(&ctx, v, &sc, &mut out);
    assert_eq!(
        names(&w, out.iter().map(|c| c.story)),
        ["a1", "a2", "b1", "b2", "c1"]
    );
    assert!(out.iter().all(|c| c.source == Source::InNetwork));
    out.clear();
    sources::out_of_network(&ctx, v, &sc, &mut out);
    assert_eq!(names(&w, out.iter().map(|c| c.story)), ["e0", "e1", "v1"]);
    assert!(out
        .iter()
        .all(|c| c.source == Source::OutOfNetwork && c.friends_engaged == 2));
}

#[test]
fn source_caps_keep_newest_and_most_engaged() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankConfig {
        in_network_cap: 2,
        out_of_network_cap: 1,
        ..RankConfig::default()
    }
    .check()
    .unwrap();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let v = w.users.get("v").unwrap();
    let mut sc = sources::SourceScratch::new(w.stories.len());
    let mut out = Vec::new();
    sources::count_friend_engagements(&ctx, v, &mut sc);
    sources::in_network(&ctx, v, &sc, &mut out);
    assert_eq!(names(&w, out.iter().map(|c| c.story)), ["a1", "a2"]);
    out.clear();
    sources::out_of_network(&ctx, v, &sc, &mut out);
    // all have 2 friends: the newest (v1 at -2h) wins
    assert_eq!(names(&w, out.iter().map(|c| c.story)), ["v1"]);
}

#[test]
fn filters_record_reasons_and_pipeline_orders_with_multipliers() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let scorer = FnScorer::new(values(&w));
    let mut worker = Worker::new(&w);
    let v = w.users.get("v").unwrap();
    let feed = rank_user(&ctx, &scorer, &mut worker, v).unwrap();
    assert!(!feed.fallback);
    let got: Vec<(&str, f64)> = feed
        .items
        .iter()
        .map(|i| (w.story_ids.name(i.story), i.score))
        .collect();
    // a1 1.0; a2 0.9 * 0.625 (second ana story); e1 0.6 * 0.75 (out of network);
    // b2 0.8 * 0.5 (bob hidden 10 days ago: fatigue)
    let want = [("a1", 1.0), ("a2", 0.5625), ("e1", 0.45), ("b2", 0.4)];
    assert_eq!(got.len(), want.len());
    for ((gs, gv), (ws, wv)) in got.iter().zip(want) {
        assert_eq!(*gs, ws);
        assert!((gv - wv).abs() < 1e-12, "{gs}: {gv} vs {wv}");
    }
    assert_eq!(feed.items[3].multipliers.fatigue, 0.5);
    assert_eq!(feed.items[2].multipliers.out_of_network, 0.75);
    assert_eq!(feed.items[1].multipliers.diversity, 0.625);
    let mut reasons: Vec<(String, FilterReason)> = worker
        .filtered
        .iter()
        .map(|(c, r)| (w.story_ids.name(c.story).to_string(), *r))
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("b1".into(), FilterReason::AlreadySeen),
            ("c1".into(), FilterReason::HiddenAuthor),
            ("e0".into(), FilterReason::TooOld),
            ("v1".into(), FilterReason::OwnStory),
        ]
    );
    let s = &worker.stats;
    assert_eq!((s.users, s.considered, s.scored), (1, 8, 4));
    assert_eq!(s.filtered, [1, 1, 1, 1]);
    assert_eq!(s.considered, s.scored + s.filtered_total());
}

#[test]
fn k_limits_the_feed() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankConfig {
        k: 2,
        ..RankConfig::default()
    }
    .check()
    .unwrap();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let scorer = FnScorer::new(values(&w));
    let mut worker = Worker::new(&w);
    let feed = rank_user(&ctx, &scorer, &mut worker, 0).unwrap();
    assert_eq!(feed.items.len(), 2);
    assert_eq!(worker.stats.scored, 4);
}

#[test]
fn users_without_candidates_get_a_flagged_popular_fallback() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let scorer = FnScorer::new(|_, _| 0.5);
    let mut worker = Worker::new(&w);
    let dan = w.users.get("dan").unwrap();
    let feed = rank_user(&ctx, &scorer, &mut worker, dan).unwrap();
    assert!(feed.fallback);
    assert!(!feed.items.is_empty());
    assert!(feed.items.iter().all(|i| i.source == Source::Popular));
    assert!(feed.items.iter().all(|i| i.author != dan));
    // equal scores: the diversity multiplier then story id decide; the most engaged
    // stories (e1, v1: 2 friends) are in the pool
    let got = names(&w, feed.items.iter().map(|i| i.story));
    assert!(got.contains(&"e1".to_string()) && got.contains(&"v1".to_string()));
    assert!(!got.contains(&"e0".to_string()), "too old for the fallback");
    assert_eq!(worker.stats.fallbacks, 1);

    // a world with nothing at all: flagged, empty, not an error
    let empty = WorldBuilder::new(&["x"]).build();
    let idx = RankIndex::new(&empty);
    let ctx = RankContext::new(&empty, &idx, &p, AS_OF);
    let mut worker = Worker::new(&empty);
    let feed = rank_user(&ctx, &scorer, &mut worker, 0).unwrap();
    assert!(feed.fallback && feed.items.is_empty());
    assert_eq!(worker.stats.empty_feeds, 1);
}

#[test]
fn popular_list_counts_engagements_in_window() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let top: Vec<(&str, u32)> = ctx
        .popular
        .iter()
        .take(3)
        .map(|&(s, n)| (w.story_ids.name(s), n))
        .collect();
    // e1 and v1 have 2 engagers each (v1 newer), then d1 (cat's like is after as_of)
    assert_eq!(top, vec![("v1", 2), ("e1", 2), ("d1", 1)]);
}

#[test]
fn nan_score_is_an_error_naming_user_and_story() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let a2 = sid(&w, "a2");
    let scorer = FnScorer::new(move |_, s| if s == a2 { f64::NAN } else { 1.0 });
    let mut worker = Worker::new(&w);
    match rank_user(&ctx, &scorer, &mut worker, 0) {
        Err(RankError::NonFiniteScore { user, story, .. }) => {
            assert_eq!((user.as_str(), story.as_str()), ("v", "a2"));
        }
        other => panic!("expected NonFiniteScore, got {other:?}"),
    }
    assert!(matches!(
        rank_user(&ctx, &scorer, &mut worker, 99),
        Err(RankError::UnknownUser(_))
    ));
}

#[test]
fn explain_user_agrees_with_rank_user_and_explains_every_candidate() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankConfig {
        k: 3,
        ..RankConfig::default()
    }
    .check()
    .unwrap();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let mut scorer = FnScorer::new(values(&w));
    scorer.contributions = vec![
        Contribution {
            feature: "structural_diversity".into(),
            value: 3.0,
            contribution: 0.3,
        },
        Contribution {
            feature: "aff_like".into(),
            value: 2.0,
            contribution: 0.5,
        },
        Contribution {
            feature: "age_hours".into(),
            value: 5.0,
            contribution: -0.2,
        },
    ];
    let mut worker = Worker::new(&w);
    let feed = rank_user(&ctx, &scorer, &mut worker, 0).unwrap();
    let ex = explain_user(&ctx, &scorer, &mut worker, 0).unwrap();
    assert_eq!(ex.feed, feed);
    assert_eq!(ex.candidates.len(), 4);
    assert_eq!(ex.candidates[3].rank, None);
    assert_eq!(w.story_ids.name(ex.candidates[3].item.story), "b2");
    assert_eq!(ex.filtered.len(), 4);
    assert_eq!(
        ex.candidates[0].why,
        "you often like ana's photos; 3 separate groups of your friends engaged with it"
    );
    // e1 is out of network: the source comes first
    assert_eq!(
        ex.candidates[2].why,
        "2 of your friends engaged with it; you often like eve's photos; \
         3 separate groups of your friends engaged with it"
    );
}

#[test]
fn why_line_falls_back_to_the_friendship() {
    let w = fixture();
    let item = FeedItem {
        story: sid(&w, "b2"),
        author: w.users.get("bob").unwrap(),
        source: Source::InNetwork,
        friends_engaged: 0,
        score: 0.0,
        value: 0.0,
        p: [0.0; 5],
        multipliers: Multipliers {
            diversity: 1.0,
            out_of_network: 1.0,
            fatigue: 1.0,
        },
    };
    let ex = crate::model::Explanation {
        contributions: vec![Contribution {
            feature: "embeddedness".into(),
            value: 4.0,
            contribution: 0.1,
        }],
    };
    assert_eq!(
        why_line(&w, &item, &ex),
        "you and bob have 4 friends in common"
    );
    let none = crate::model::Explanation::default();
    assert_eq!(
        why_line(&w, &item, &none),
        "bob is your friend and posted it recently"
    );
}

/// A feature can push a story up with a value of 0 (below the training mean, negative
/// weight): the why-line then must not claim it. Regression: an out-of-network stranger with
/// dispersion 0 was "a close tie who links separate parts of your life" (issue 14).
#[test]
fn why_line_names_only_what_the_viewer_has() {
    let w = fixture();
    let item = FeedItem {
        story: sid(&w, "e1"),
        author: w.users.get("eve").unwrap(),
        source: Source::OutOfNetwork,
        friends_engaged: 2,
        score: 0.0,
        value: 0.0,
        p: [0.0; 5],
        multipliers: Multipliers {
            diversity: 1.0,
            out_of_network: 0.75,
            fatigue: 1.0,
        },
    };
    let c = |feature: &str, value: f64, contribution: f64| Contribution {
        feature: feature.into(),
        value,
        contribution,
    };
    let ex = crate::model::Explanation {
        contributions: vec![
            c("recursive_dispersion", 0.0, 0.9),
            c("dispersion", 0.0, 0.8),
            c("is_friend", 0.0, 0.7),
            c("aff_like", 0.0, 0.6),
            c("direct_interactions", 0.0, 0.5),
            c("days_since_interaction", 365.0, 0.45),
            c("mf_author_affinity", -0.3, 0.4),
            c("embeddedness", 2.0, 0.1),
        ],
    };
    assert_eq!(
        why_line(&w, &item, &ex),
        "2 of your friends engaged with it; you and eve have 2 friends in common"
    );
    // A friend with a real dispersion is still a close tie.
    let friend = crate::model::Explanation {
        contributions: vec![c("dispersion", 3.0, 0.9), c("is_friend", 1.0, 0.1)],
    };
    let item = FeedItem {
        source: Source::InNetwork,
        ..item
    };
    assert_eq!(
        why_line(&w, &item, &friend),
        "eve is a close tie who links separate parts of your life; eve is your friend"
    );
}

#[test]
fn profile_counts_ties() {
    let w = fixture();
    let idx = RankIndex::new(&w);
    let p = RankParams::default();
    let ctx = RankContext::new(&w, &idx, &p, AS_OF);
    let ana = w.users.get("ana").unwrap();
    let sig = crate::graph::EdgeSignals::compute_for_egos(
        &w.graph,
        &crate::graph::SignalParams::default(),
        &[ana, 0],
    );
    let pr = explain::profile(&ctx, ana, &sig);
    assert_eq!(pr.friends, 2);
    // ana's friends: v and bob, who are not friends of each other but share ana... ties are
    // (ana, v): common friend bob; (ana, bob): common friend v
    assert!(pr.ties.iter().all(|t| t.embeddedness == 1));
    let full = crate::graph::EdgeSignals::compute(&w.graph, &crate::graph::SignalParams::default());
    for t in &pr.ties {
        let slot = w.graph.edge_slot(ana, t.friend).unwrap();
        assert_eq!(t.dispersion, Some(full.dispersion[slot]));
        assert_eq!(
            t.dispersion,
            Some(crate::graph::signals::naive::dispersion(
                &w.graph, ana, t.friend
            ))
        );
        assert_eq!(t.recursive_dispersion, full.recursive[slot]);
    }
    let pv = explain::profile(&ctx, 0, &sig);
    let bob = w.users.get("bob").unwrap();
    let t = pv.ties.iter().find(|t| t.friend == bob).unwrap();
    assert_eq!(t.interactions, 0, "impressions and hides are not positive");
}

#[test]
fn index_is_the_same_when_events_arrive_unsorted() {
    let w = super::testkit::random_world(3, 50, 6, 300, 2000);
    let mut shuffled = w.clone();
    shuffled.events.reverse();
    let (a, b) = (RankIndex::new(&w), RankIndex::new(&shuffled));
    for u in 0..50 {
        assert_eq!(a.history(u), b.history(u));
        assert_eq!(a.positive_of(u), b.positive_of(u));
        assert_eq!(a.stories_by(u), b.stories_by(u));
    }
    for s in 0..300 {
        assert_eq!(a.engagers(s), b.engagers(s));
    }
    assert!(a.history(0).windows(2).all(|x| x[0].0 <= x[1].0));
}

#[test]
fn scoped_index_keeps_exactly_the_viewers_slices_and_the_recent_engagers() {
    let w = super::testkit::random_world(5, 80, 6, 600, 6000);
    let full = RankIndex::new(&w);
    let p = RankParams::default();
    let as_of = RankContext::default_as_of(&w);
    let from = as_of - p.fallback_window;
    let users = [3u32, 17, 40];
    let mut near = users.to_vec();
    near.extend_from_slice(w.graph.neighbors(17));
    let scoped = RankIndex::scoped(&w, &users, &near, from);
    let mut kept = 0;
    let mut near_kept = 0;
    for u in 0..80u32 {
        if users.contains(&u) {
            assert_eq!(scoped.history(u), full.history(u));
            kept += full.history(u).len();
        } else {
            assert!(scoped.history(u).is_empty());
        }
        if near.contains(&u) {
            assert_eq!(scoped.positive_of(u), full.positive_of(u));
            assert_eq!(scoped.stories_by(u), full.stories_by(u));
            near_kept += full.positive_of(u).len();
        } else {
            assert!(scoped.positive_of(u).is_empty() && scoped.stories_by(u).is_empty());
        }
    }
    assert!(near_kept > 0, "the near users have no positive engagements");
    assert!(kept > 0, "the chosen users have no history");
    let mut recent = 0;
    for s in 0..600u32 {
        if w.stories[s as usize].created_at >= from {
            assert_eq!(scoped.engagers(s), full.engagers(s));
            recent += usize::from(!full.engagers(s).is_empty());
        } else {
            assert!(scoped.engagers(s).is_empty());
        }
    }
    assert!(recent > 0, "no recent story has engagers");
    // The popular fallback list only reads recent stories' engagers: identical.
    let a = RankContext::new(&w, &full, &p, as_of);
    let b = RankContext::new(&w, &scoped, &p, as_of);
    assert_eq!(a.popular, b.popular);
    for &u in &users {
        assert_eq!(a.positive_in_window(u), b.positive_in_window(u));
        assert_eq!(a.stories_in_window(u), b.stories_in_window(u));
    }
}
