//! The ceiling learner as an evaluation method (`ceiling`, issue 15): on a simulated world
//! written and read back, the method's per-head AUCs are the `estimated_tastes_no_quality`
//! AUCs that `feedrank simulate --ceiling` computes for the same split; the learner never
//! reads an outcome of the test period; a learner fitted after the split is refused; and
//! worlds without a reproducible hidden side have no such method.

use feedrank::eval::{self, EvalError, EvalLists, EvalParams, NoModel};
use feedrank::io::world_tsv::{read_world, write_world, ReadOptions, WriteOptions};
use feedrank::sim::ceiling::{ceiling, evaluate_ceiling, CeilingLearner, CeilingScorer};
use feedrank::sim::{replay, simulate_with_hidden, Hidden, SimError, SimParams};
use feedrank::util::progress::Silent;
use feedrank::world::{Action, World};

/// The world of `feedrank simulate --users 2000 --days 10 --seed 3`, with its hidden side.
fn world() -> (World, Hidden) {
    simulate_with_hidden(&SimParams::new(2000, 10, 3)).expect("simulate")
}

fn lists_of(w: &World) -> (EvalLists, EvalParams) {
    let split = eval::default_split_at(w).expect("split");
    let params = EvalParams {
        split_at: Some(split),
        ..EvalParams::default()
    };
    let lists = EvalLists::build(w, split, &params.grades).expect("lists");
    (lists, params)
}

fn auc(m: &eval::MethodResult, head: Action) -> f64 {
    m.heads.as_ref().expect("heads")[head.as_str()]
        .auc
        .expect("both classes")
}

#[test]
fn ceiling_method_has_the_ceiling_reports_aucs_on_a_world_read_back() {
    let (w, h) = world();
    let dir = tempfile::tempdir().unwrap();
    write_world(&w, dir.path(), &WriteOptions { gzip: true }).unwrap();
    let (back, _) = read_world(dir.path(), &ReadOptions::default()).unwrap();
    // the hidden side comes back from the directory alone
    let hidden = replay::hidden_of(&back, &Silent)
        .unwrap()
        .expect("a simulated world");
    assert_eq!(hidden.rows, h.rows);

    let (lists, params) = lists_of(&back);
    // what `simulate --ceiling` computes (on the simulator's own hidden side)
    let report = ceiling(&h, w.num_users(), lists.split_at);
    let m = evaluate_ceiling(&hidden, back.num_users(), &lists, &params, &Silent).unwrap();
    assert_eq!(m.name, "ceiling");
    assert_eq!(
        report.test_impressions,
        lists.candidates.len(),
        "one candidate per test impression"
    );
    let r = eval::evaluate::<NoModel>(&back, None, &params).unwrap();
    let oracle = r.method("oracle").expect("oracle");
    for (k, &head) in Action::ENGAGEMENTS.iter().enumerate() {
        let want = report.estimated_tastes_no_quality[k].expect("both classes");
        assert!(
            (auc(&m, head) - want).abs() < 1e-12,
            "{head:?}: eval {} vs ceiling {want}",
            auc(&m, head)
        );
        let want = report.oracle[k].expect("both classes");
        assert!((auc(oracle, head) - want).abs() < 1e-12, "{head:?} oracle");
    }
    // the learner knows less than the oracle and more than the random baseline
    let random = r.method("random").expect("random");
    assert!(
        oracle.ndcg > m.ndcg && m.ndcg > random.ndcg + 0.05,
        "oracle {} ceiling {} random {}",
        oracle.ndcg,
        m.ndcg,
        random.ndcg
    );
    assert_eq!(m.per_list.len(), oracle.per_list.len(), "paired lists");
}

#[test]
fn the_ceiling_learner_never_reads_a_test_outcome() {
    let (w, h) = world();
    let (lists, params) = lists_of(&w);
    let split = lists.split_at;
    let base = evaluate_ceiling(&h, w.num_users(), &lists, &params, &Silent).unwrap();
    // every outcome logged at or after the split flipped (those of the test impressions and
    // those of impressions shown just before it): nothing changes
    let mut flipped = h.clone();
    let mut n = 0;
    for r in &mut flipped.rows {
        for k in 0..5 {
            if r.logged_at[k] >= split {
                r.fired[k] = !r.fired[k];
                n += usize::from(r.ts < split);
            }
        }
    }
    assert!(n > 0, "some impressions straddle the split");
    let same = evaluate_ceiling(&flipped, w.num_users(), &lists, &params, &Silent).unwrap();
    assert_eq!(same, base);
    // while the training outcomes do matter (so the comparison above can fail)
    let mut flipped = h.clone();
    for r in flipped.rows.iter_mut().filter(|r| r.ts < split) {
        r.fired = r.fired.map(|f| !f);
    }
    let other = evaluate_ceiling(&flipped, w.num_users(), &lists, &params, &Silent).unwrap();
    assert_ne!(other.ndcg, base.ndcg);
}

#[test]
fn a_learner_fitted_after_the_split_or_missing_impressions_is_refused() {
    let (w, h) = world();
    let (lists, params) = lists_of(&w);
    let split = lists.split_at;
    // fitted with a day of the test period
    let late = CeilingLearner::fit(&h, w.num_users(), split + 86_400);
    let rows = late.all_probabilities(CeilingScorer::EstimatedTastesNoQuality);
    let e = eval::evaluate_learner("late", &rows, late.split_at(), &lists, &params, &Silent)
        .unwrap_err();
    assert!(
        matches!(e, EvalError::LearnerSawTestPeriod { fitted_before, split_at, .. }
            if fitted_before == split + 86_400 && split_at == split),
        "{e}"
    );
    // a test impression without a probability is an error, not a score of 0
    let learner = CeilingLearner::fit(&h, w.num_users(), split);
    let mut rows = learner.all_probabilities(CeilingScorer::EstimatedTastesNoQuality);
    let at = rows
        .iter()
        .position(|r| r.ts >= split + 3600)
        .expect("a test impression");
    let gone = rows.remove(at);
    let e = eval::evaluate_learner("ceiling", &rows, split, &lists, &params, &Silent).unwrap_err();
    assert!(
        matches!(e, EvalError::MissingProbability { viewer, story, .. }
            if viewer == gone.user && story == gone.story),
        "{e}"
    );
}

#[test]
fn worlds_without_a_reproducible_hidden_side_have_none() {
    let (mut w, _) = world();
    // an imported world (not simulated): no hidden side, no error
    let mut imported = w.clone();
    imported.meta.name = "ciao".to_string();
    imported.meta.params.clear();
    assert!(replay::hidden_of(&imported, &Silent).unwrap().is_none());
    // a simulated world whose truth was removed: the rerun does not reproduce it
    w.truth.clear();
    let e = replay::hidden_of(&w, &Silent).unwrap_err();
    assert!(
        matches!(
            e,
            SimError::NotReproduced {
                what: "truth rows",
                ..
            }
        ),
        "{e}"
    );
}
