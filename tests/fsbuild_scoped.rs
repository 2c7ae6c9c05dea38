//! A scoped feature space (`FeatureSpace::scoped`: indices only for a viewer, some stories and
//! their authors) must give rows bit-identical to the full space for in-scope viewers and
//! stories: fast and reference (`set_fast(false)`) paths, with and without the per-`as_of`
//! tables, at the default `as_of` and an earlier one; and the trained model's scores must be
//! identical too. Out-of-scope queries are errors.
use feedrank::features::{FeatureError, FeatureScope, FeatureSpace, NUM_FEATURES};
use feedrank::graph::EdgeSignals;
use feedrank::model::Scorer;
use feedrank::rank::{RankContext, RankIndex};
use feedrank::world::{Exposure, World};
use std::path::Path;

fn bits(r: &[f32]) -> Vec<u32> {
    r.iter().map(|x| x.to_bits()).collect()
}

fn sample() -> World {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample");
    feedrank::pipeline::load_world(&dir, &Default::default())
        .expect("default world loads")
        .0
}

/// The viewer, its friends' stories and the stories its friends engaged with (the feed's
/// candidates), every 37th story, and their authors.
fn scope_for(world: &World, index: &RankIndex, viewer: u32) -> (FeatureScope, Vec<u32>) {
    let mut stories: Vec<u32> = Vec::new();
    for &f in world.graph.neighbors(viewer) {
        stories.extend(index.stories_by(f).iter().map(|x| x.1));
        stories.extend(index.positive_of(f).iter().map(|x| x.1));
    }
    stories.extend((0..world.stories.len() as u32).step_by(37));
    stories.sort_unstable();
    stories.dedup();
    let mut scope = FeatureScope::new(world.num_users(), world.stories.len());
    scope.add_user(viewer);
    for &s in &stories {
        scope.add_story(s);
        scope.add_user(world.stories[s as usize].author);
    }
    (scope, stories)
}

/// Compares scoped and full rows for several viewers; returns the number of rows compared
/// and how many had friends engaged (so the story lists are exercised).
fn compare(world: &World, viewers: &[u32]) -> (usize, usize) {
    let cfg = feedrank::config::Config::default().features;
    let sig = EdgeSignals::compute(&world.graph, &cfg.signal_params());
    let index = RankIndex::new(world);
    let default_as_of = RankContext::default_as_of(world);
    let (mut compared, mut engaged) = (0, 0);
    let fe = feedrank::features::NAMES
        .iter()
        .position(|n| *n == "friends_engaged")
        .expect("feature");
    for &viewer in viewers {
        let (scope, stories) = scope_for(world, &index, viewer);
        assert!(
            stories.len() > 20,
            "viewer {viewer}: {} stories",
            stories.len()
        );
        for as_of in [default_as_of, default_as_of - 2 * 86_400 + 777] {
            for pre in [false, true] {
                let mut full = FeatureSpace::with_signals(world, &cfg, sig.clone()).expect("full");
                let mut sc =
                    FeatureSpace::scoped(world, &cfg, sig.clone(), scope.clone()).expect("scoped");
                if pre {
                    full.precompute_as_of(as_of);
                    sc.precompute_as_of(as_of);
                }
                assert_eq!(full.engagements_of(viewer), sc.engagements_of(viewer));
                assert_eq!(full.exposures_of(viewer), sc.exposures_of(viewer));
                let (mut a, mut b) = (vec![0f32; NUM_FEATURES], vec![0f32; NUM_FEATURES]);
                for fast in [true, false] {
                    let mut ca = full.viewer(viewer, as_of).expect("ctx");
                    let mut cb = sc.viewer(viewer, as_of).expect("ctx");
                    ca.set_fast(fast);
                    cb.set_fast(fast);
                    assert_eq!(ca.num_ties(), cb.num_ties());
                    for &s in &stories {
                        full.write_row(&mut ca, s, &mut a).expect("row");
                        sc.write_row(&mut cb, s, &mut b).expect("row");
                        assert_eq!(
                            bits(&a),
                            bits(&b),
                            "viewer {viewer} story {s} as_of {as_of} pre {pre} fast {fast}"
                        );
                        compared += 1;
                        engaged += usize::from(a[fe] > 0.0);
                    }
                }
                // Out of scope: a clear error, never a row.
                let outside = (0..world.stories.len() as u32)
                    .find(|s| !sc.scope().expect("scoped").has_story(*s))
                    .expect("some story is out of scope");
                let mut cb = sc.viewer(viewer, as_of).expect("ctx");
                assert!(matches!(
                    sc.write_row(&mut cb, outside, &mut b),
                    Err(FeatureError::OutOfScope { what: "story", id }) if id == outside
                ));
                let stranger = (0..world.num_users() as u32)
                    .find(|u| !sc.scope().expect("scoped").has_user(*u))
                    .expect("some user is out of scope");
                assert!(matches!(
                    sc.viewer(stranger, as_of),
                    Err(FeatureError::OutOfScope { what: "user", .. })
                ));
            }
        }
    }
    (compared, engaged)
}

#[test]
fn scoped_rows_equal_full_rows_on_the_default_world() {
    let world = sample();
    let (compared, engaged) = compare(&world, &[0, 5, 17, 123, 400]);
    assert!(compared > 5_000, "{compared}");
    assert!(engaged > 10, "{engaged}");
}

#[test]
fn scoped_rows_equal_full_rows_with_unsorted_events_and_friends_of_author_exposure() {
    let mut world = sample();
    world.events.reverse();
    let (compared, _) = compare(&world, &[3, 77]);
    assert!(compared > 1_000, "{compared}");
    let mut world = sample();
    world.meta.exposure = Exposure::FriendsOfAuthor;
    let (compared, _) = compare(&world, &[3, 77]);
    assert!(compared > 1_000, "{compared}");
}

#[test]
fn scoped_exposures_are_the_complete_list() {
    let world = sample();
    let cfg = feedrank::config::Config::default().features;
    let sig = EdgeSignals::compute(&world.graph, &cfg.signal_params());
    let mut scope = FeatureScope::new(world.num_users(), world.stories.len());
    scope.add_user(1);
    let sc = FeatureSpace::scoped(&world, &cfg, sig.clone(), scope).expect("scoped");
    let full = FeatureSpace::with_signals(&world, &cfg, sig).expect("full");
    assert!(full.exposures().len() > 1000);
    assert_eq!(sc.exposures(), full.exposures());
    assert_eq!(
        full.exposures(),
        feedrank::features::build_exposures(&world).as_slice()
    );
}

#[test]
fn scoped_model_scores_equal_full_scores() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let world = sample();
    let model = feedrank::model::load(&root.join("models/sample.frm"))
        .expect("models/sample.frm loads (retrain it with the documented command if not)");
    let cfg = &model.feature_config;
    let sig = EdgeSignals::compute(&world.graph, &cfg.signal_params());
    let index = RankIndex::new(&world);
    let as_of = RankContext::default_as_of(&world);
    let mut checked = 0;
    for viewer in [2u32, 9, 250] {
        let (scope, stories) = scope_for(&world, &index, viewer);
        let mut full = FeatureSpace::with_signals(&world, cfg, sig.clone()).expect("full");
        let mut sc = FeatureSpace::scoped(&world, cfg, sig.clone(), scope).expect("scoped");
        full.precompute_as_of(as_of);
        sc.precompute_as_of(as_of);
        let fa = feedrank::model::ModelScorer::new(&full, &model).expect("scorer");
        let fb = feedrank::model::ModelScorer::new(&sc, &model).expect("scorer");
        let mut va = fa.viewer(viewer, as_of).unwrap();
        let mut vb = fb.viewer(viewer, as_of).unwrap();
        for &s in &stories {
            let (x, y) = (fa.score(&mut va, s).unwrap(), fb.score(&mut vb, s).unwrap());
            for k in 0..5 {
                assert_eq!(
                    x.p[k].to_bits(),
                    y.p[k].to_bits(),
                    "viewer {viewer} story {s}"
                );
            }
            assert_eq!(x.value.to_bits(), y.value.to_bits());
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}
