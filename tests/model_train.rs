//! Training and scoring on small hand-made worlds.
mod model_world;
use feedrank::config::Config;
use feedrank::features::{FeatureSpace, NAMES, NUM_FEATURES};
use feedrank::model::{build_rows, default_as_of, train, ModelError, ModelScorer, Scorer};
use feedrank::world::Action;
use model_world::toy_world;

/// The 50-user toy world, its default cut-off, the default configuration and the model trained
/// on it.
fn toy_model() -> (
    feedrank::world::World,
    i64,
    Config,
    feedrank::model::TrainedModel,
) {
    let w = toy_world(50, 6, 4);
    let as_of = default_as_of(&w).unwrap();
    let cfg = Config::default();
    let m = train(&w, as_of, &cfg).unwrap();
    (w, as_of, cfg, m)
}

#[test]
fn trains_a_head_per_action_present_and_learns_the_signal() {
    let w = toy_world(60, 8, 1);
    let as_of = default_as_of(&w).unwrap();
    let m = train(&w, as_of, &Config::default()).unwrap();
    let acts = m.actions();
    assert!(
        acts.contains(&Action::Click) && acts.contains(&Action::Like),
        "{acts:?}"
    );
    assert!(
        !acts.contains(&Action::Share),
        "no share in the data, no share head"
    );
    assert_eq!(m.meta.world, w.meta.name);
    assert_eq!(m.meta.as_of, as_of);
    assert!(m.meta.valid_rows > 0 && m.meta.train_rows > m.meta.valid_rows);
    let click = m
        .meta
        .heads
        .iter()
        .find(|h| h.action == Action::Click)
        .unwrap();
    assert!(click.positives > 50 && click.positives < click.rows);
    let auc = click.valid_auc.unwrap();
    assert!(auc > 0.65, "click validation AUC {auc}");
    assert_eq!(
        click.grid_logloss.len(),
        Config::default().model.l2_grid.len()
    );
    // the generator makes friendship raise engagement: the learned sign must be positive
    // (linfa models the majority class; a missed flip would make it negative)
    let h = m.head(Action::Click).unwrap();
    let j = NAMES.iter().position(|n| *n == "is_friend").unwrap();
    assert!(h.coef[j] > 0.0, "is_friend coefficient {}", h.coef[j]);
    // base rate is matched on the training rows (calibration of the fitted intercept)
    let fs = FeatureSpace::new(&w, &Config::default().features).unwrap();
    let rows = build_rows(&fs, as_of).unwrap();
    let mut z = vec![0.0; NUM_FEATURES];
    let mut sum_p = 0.0;
    for raw in rows.x.chunks_exact(NUM_FEATURES) {
        m.scaler.apply(raw, &mut z);
        sum_p += h.prob(&z);
    }
    let ratio = sum_p / click.positives as f64;
    assert!((ratio - 1.0).abs() < 0.05, "calibration {ratio}");
}

#[test]
fn training_is_deterministic_and_thread_count_independent() {
    let w = toy_world(40, 6, 2);
    let as_of = default_as_of(&w).unwrap();
    let a = train(&w, as_of, &Config::default()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool
        .install(|| train(&w, as_of, &Config::default()))
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn negative_downsampling_is_recalibrated() {
    let w = toy_world(60, 8, 3);
    let as_of = default_as_of(&w).unwrap();
    let mut cfg = Config::default();
    cfg.model.negative_downsampling = 0.3;
    cfg.model.mf = false; // build_rows leaves the MF columns empty
    let m = train(&w, as_of, &cfg).unwrap();
    let click = m
        .meta
        .heads
        .iter()
        .find(|h| h.action == Action::Click)
        .unwrap();
    assert!(click.fitted_rows < click.rows);
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let rows = build_rows(&fs, as_of).unwrap();
    let h = m.head(Action::Click).unwrap();
    let mut z = vec![0.0; NUM_FEATURES];
    let mut sum_p = 0.0;
    for raw in rows.x.chunks_exact(NUM_FEATURES) {
        m.scaler.apply(raw, &mut z);
        sum_p += h.prob(&z);
    }
    let ratio = sum_p / click.positives as f64;
    // without recalibration the ratio would be about 1 / 0.3
    assert!(
        (ratio - 1.0).abs() < 0.15,
        "calibration after downsampling {ratio}"
    );
}

#[test]
fn scorer_scores_and_explains_consistently() {
    let (w, as_of, cfg, m) = toy_model();
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let sc = ModelScorer::new(&fs, &m).unwrap();
    assert_eq!(sc.heads(), m.actions());
    let mut v = sc.viewer(3, as_of).unwrap();
    let mut checked = 0;
    for s in 0..w.stories.len() as u32 {
        let score = sc.score(&mut v, s).unwrap();
        // value = sum w_k p_k
        let wts = cfg.value.as_array();
        let val: f64 = (0..5).map(|k| wts[k] * score.p[k]).sum();
        assert!((val - score.value).abs() < 1e-12);
        assert_eq!(score.p[Action::Share.index() - 1], 0.0, "no head, P = 0");
        if s % 7 == 0 {
            let e = sc.explain(&mut v, s).unwrap();
            // every feature, the bias, and the per-viewer offsets when the model has them
            let personal = e
                .contributions
                .iter()
                .any(|c| c.feature == "personalisation");
            assert_eq!(
                personal,
                m.personal.as_ref().is_some_and(|p| !p.heads.is_empty()),
                "a personalisation contribution exactly when the model has offsets"
            );
            assert_eq!(
                e.contributions.len(),
                NUM_FEATURES + 1 + usize::from(personal)
            );
            for pair in e.contributions.windows(2) {
                assert!(pair[0].contribution >= pair[1].contribution);
            }
            let raw = v.last_row().to_vec();
            for (j, n) in NAMES.iter().enumerate() {
                assert_eq!(e.feature(n), Some(raw[j] as f64), "{n}");
            }
            // first-order attribution: sum_k w_k p_k (1 - p_k) beta_kj z_j, checked for one feature
            let j = NAMES.iter().position(|n| *n == "age_hours").unwrap();
            let mut z = vec![0.0; NUM_FEATURES];
            m.scaler.apply(&raw, &mut z);
            let want: f64 = m
                .heads
                .iter()
                .map(|h| {
                    let k = h.action.index() - 1;
                    wts[k] * score.p[k] * (1.0 - score.p[k]) * h.coef[j] * z[j]
                })
                .sum();
            let got = e
                .contributions
                .iter()
                .find(|c| c.feature == "age_hours")
                .unwrap();
            assert!((got.contribution - want).abs() < 1e-12);
            checked += 1;
        }
    }
    assert!(checked > 3);
    // new weights change the value, not the probabilities
    let sc2 = ModelScorer::new(&fs, &m)
        .unwrap()
        .with_weights(feedrank::config::ValueWeights {
            click: 0.0,
            like: 0.0,
            comment: 0.0,
            share: 0.0,
            hide: 0.0,
        });
    let mut v2 = sc2.viewer(3, as_of).unwrap();
    let s2 = sc2.score(&mut v2, 0).unwrap();
    assert_eq!(s2.value, 0.0);
    assert_eq!(s2.p, sc.score(&mut v, 0).unwrap().p);
    // unknown viewer or story: an error naming it, never a plausible score of 0
    let err = sc
        .viewer(10_000, as_of)
        .err()
        .expect("unknown viewer is an error");
    assert!(err.to_string().contains("viewer 10000"), "{err}");
    let err = sc
        .score(&mut v, 1_000_000)
        .expect_err("unknown story is an error");
    assert!(err.to_string().contains("story 1000000"), "{err}");
}

#[test]
fn errors_for_no_rows_and_mismatched_feature_settings() {
    let w = toy_world(20, 3, 5);
    let first = w.events[0].ts;
    let e = train(&w, first, &Config::default()).unwrap_err();
    assert!(matches!(e, ModelError::NoRows { .. }), "{e}");
    let m = train(&w, default_as_of(&w).unwrap(), &Config::default()).unwrap();
    let mut fc = Config::default().features;
    fc.decay_per_day = 0.5;
    let fs = FeatureSpace::new(&w, &fc).unwrap();
    assert!(matches!(
        ModelScorer::new(&fs, &m),
        Err(ModelError::FeatureConfigMismatch { .. })
    ));
}

#[test]
fn a_viewer_state_reused_across_days_scores_as_a_fresh_one() {
    // Evaluation ranks one viewer on several days and hands the scorer its previous state
    // (Scorer::viewer_reusing): the reused history must not change a single score, whether
    // the previous state was of the same viewer (earlier or later day) or of another one.
    let (w, as_of, cfg, m) = toy_model();
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let sc = ModelScorer::new(&fs, &m).unwrap();
    let days = [as_of - 2 * 86_400, as_of, as_of - 86_400];
    let mut prev = None;
    let mut compared = 0;
    for viewer in [3u32, 3, 3, 7, 7, 3] {
        for &day in &days {
            let mut fresh = sc.viewer(viewer, day).unwrap();
            let mut reused = sc.viewer_reusing(prev.take(), viewer, day).unwrap();
            for s in 0..w.stories.len() as u32 {
                let (a, b) = (
                    sc.score(&mut fresh, s).unwrap(),
                    sc.score(&mut reused, s).unwrap(),
                );
                assert_eq!(a.p, b.p, "viewer {viewer} day {day} story {s}");
                assert_eq!(a.value.to_bits(), b.value.to_bits());
                compared += 1;
            }
            prev = Some(reused);
        }
    }
    assert!(compared > 100);
    // an unknown viewer is still an error, whatever state is handed over
    let err = sc.viewer_reusing(prev, 10_000, as_of);
    assert!(err.is_err());
}
