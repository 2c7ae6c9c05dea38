//! Negative downsampling before feature extraction (`[model] negative_downsampling` and
//! `max_training_rows`): which rows are kept, and that the recalibrated model stays calibrated
//! on held-out rows of a simulated world.
use feedrank::config::Config;
use feedrank::features::{FeatureSpace, NUM_FEATURES};
use feedrank::model::train::{build_rows_sampled, training_sampling, NegativeSampling};
use feedrank::model::{build_rows, default_as_of, train};
use feedrank::sim::{simulate, SimParams};
use feedrank::world::{Action, World};

fn world() -> World {
    simulate(&SimParams::new(600, 12, 5)).expect("valid simulation parameters")
}

fn cfg(rate: f64) -> Config {
    let mut c = Config::default();
    c.model.negative_downsampling = rate;
    // the held-out check below scores rows with the heads alone
    c.model.mf = false;
    c.model.personalisation = false;
    c
}

#[test]
fn sampled_rows_are_the_full_rows_filtered_by_the_hash_rule() {
    let w = world();
    let as_of = default_as_of(&w).expect("non-empty world");
    let fs = FeatureSpace::new(&w, &Config::default().features).expect("feature space");
    let full = build_rows(&fs, as_of).expect("rows");
    let s = NegativeSampling {
        rate: 0.25,
        seed: 9,
    };
    let part = build_rows_sampled(&fs, as_of, Some(s)).expect("rows");
    assert_eq!(part.sampling, Some(s));
    let kept: Vec<usize> = (0..full.len())
        .filter(|&i| full.labels[i] != 0 || s.keeps(full.viewer[i], full.story[i], full.ts[i]))
        .collect();
    assert_eq!(part.len(), kept.len());
    for (j, &i) in kept.iter().enumerate() {
        assert_eq!(
            (part.viewer[j], part.story[j], part.ts[j], part.labels[j]),
            (full.viewer[i], full.story[i], full.ts[i], full.labels[i])
        );
        assert_eq!(
            &part.x[j * NUM_FEATURES..(j + 1) * NUM_FEATURES],
            &full.x[i * NUM_FEATURES..(i + 1) * NUM_FEATURES],
            "features of a kept row do not depend on the dropped ones"
        );
    }
    // every positive kept, about a quarter of the negatives
    let pos = full.labels.iter().filter(|&&b| b != 0).count();
    assert_eq!(part.labels.iter().filter(|&&b| b != 0).count(), pos);
    let neg_kept = (part.len() - pos) as f64 / (full.len() - pos) as f64;
    assert!(
        (neg_kept - 0.25).abs() < 0.02,
        "kept {neg_kept} of negatives"
    );
    // the same call gives the same rows
    let again = build_rows_sampled(&fs, as_of, Some(s)).expect("rows");
    assert_eq!(again.x, part.x);
    assert_eq!(again.story, part.story);
}

#[test]
fn row_budget_lowers_the_rate_to_fit() {
    let w = world();
    let as_of = default_as_of(&w).expect("non-empty world");
    let fs = FeatureSpace::new(&w, &Config::default().features).expect("feature space");
    let n = build_rows(&fs, as_of).expect("rows").len();
    let mut c = cfg(1.0);
    assert_eq!(
        training_sampling(&fs, as_of, &c),
        None,
        "{n} rows fit the default"
    );
    c.model.max_training_rows = n / 4;
    let s = training_sampling(&fs, as_of, &c).expect("over budget");
    assert!(s.rate < 0.3 && s.rate > 0.1, "rate {}", s.rate);
    let m = train(&w, as_of, &c).expect("training");
    let rows = m.meta.rows as f64;
    assert!(
        (rows / (n / 4) as f64 - 1.0).abs() < 0.05,
        "{rows} rows for a budget of {}",
        n / 4
    );
    // an explicit lower rate wins over the budget
    c.model.negative_downsampling = 0.05;
    assert_eq!(
        training_sampling(&fs, as_of, &c).map(|s| s.rate),
        Some(0.05)
    );
}

/// Sum of the click head's predicted probabilities over the rows at or after `as_of`, and
/// their click count.
fn held_out_calibration(w: &World, as_of: i64, c: &Config) -> (f64, usize, f64) {
    let m = train(w, as_of, c).expect("training");
    let fs = FeatureSpace::new(w, &c.features).expect("feature space");
    let end = w.time_span().expect("non-empty").1 + 1;
    let rows = build_rows(&fs, end).expect("rows");
    let h = m.head(Action::Click).expect("a click head");
    let k = Action::ENGAGEMENTS
        .iter()
        .position(|&a| a == Action::Click)
        .expect("click is an engagement");
    let mut z = vec![0.0; NUM_FEATURES];
    let (mut sum_p, mut pos) = (0.0, 0usize);
    for i in (0..rows.len()).filter(|&i| rows.ts[i] >= as_of) {
        m.scaler
            .apply(&rows.x[i * NUM_FEATURES..(i + 1) * NUM_FEATURES], &mut z);
        sum_p += h.prob(&z);
        pos += usize::from(rows.label(i, k));
    }
    let fitted = m
        .meta
        .heads
        .iter()
        .find(|x| x.action == Action::Click)
        .map_or(0, |x| x.fitted_rows);
    (sum_p, pos, fitted as f64 / m.meta.rows as f64)
}

#[test]
fn downsampled_model_is_calibrated_on_held_out_rows() {
    let w = world();
    // the last two days are held out
    let as_of = default_as_of(&w).expect("non-empty world") - 86_400;
    let (p_full, pos, _) = held_out_calibration(&w, as_of, &cfg(1.0));
    let (p_down, pos2, fitted_share) = held_out_calibration(&w, as_of, &cfg(0.1));
    assert_eq!(pos, pos2);
    assert!(pos > 200, "{pos} held-out clicks");
    // rows positive for another head are built, then sampled by the click head
    assert!(
        fitted_share < 1.0,
        "the head fitted {fitted_share} of the rows"
    );
    let (r_full, r_down) = (p_full / pos as f64, p_down / pos as f64);
    eprintln!("held-out calibration: all rows {r_full:.4}, downsampled 0.1 {r_down:.4}");
    // without recalibration the downsampled ratio would be several times larger; the model
    // fitted on every row is itself off by about 10% here (the world drifts over time)
    assert!((r_down - 1.0).abs() < 0.25, "held-out calibration {r_down}");
    assert!(
        (r_down - r_full).abs() < 0.1,
        "downsampled {r_down} vs all rows {r_full}"
    );
}
