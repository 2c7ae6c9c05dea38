//! MF inside the model (fold-in at scoring time) and per-viewer personalisation (GLMix).
mod model_world;
use feedrank::config::Config;
use feedrank::features::{AblationGroup, FeatureSpace};
use feedrank::model::{default_as_of, train_with, ModelScorer, Scorer};

use model_world::toy_world;

fn cos(a: &[f32], b: &[f32]) -> f64 {
    let d: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64) * (*y as f64))
        .sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    d / (na * nb)
}

#[test]
fn unknown_viewer_is_folded_in_at_scoring_time_like_a_retrain() {
    let w = toy_world(60, 8, 11);
    let as_of = default_as_of(&w).unwrap();
    let mut cfg = Config::default();
    cfg.model.mf_method = "als".into();
    cfg.model.personalisation = false;
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let model = train_with(&fs, as_of, &cfg).unwrap();
    let mf = model.mf.as_ref().expect("mf fitted");
    assert_eq!(mf.method, feedrank::model::MfMethod::Als);
    assert_eq!(mf.comparison.len(), 1);
    let v = 5u32;
    let fitted = mf.author.row(v).expect("viewer 5 has engagements").to_vec();
    // the same model with viewer 5 forgotten: viewer() folds it in from its events
    let mut forgot = model.clone();
    forgot.mf.as_mut().unwrap().author.known[v as usize] = false;
    let full = ModelScorer::new(&fs, &model).unwrap();
    let folded = ModelScorer::new(&fs, &forgot).unwrap();
    let fv = folded.viewer(v, as_of).unwrap();
    let x = fv.mf_author_vector().expect("folded in").to_vec();
    // the fold-in is the exact ALS row solve on the same counts as the full fit (whose rows
    // come from warm-started CG steps), so the vectors agree closely
    let c = cos(&x, &fitted);
    assert!(c > 0.98, "cosine {c}");
    // and the scores agree closely too
    let mut a = full.viewer(v, as_of).unwrap();
    let mut b = fv;
    let mut n = 0;
    for s in 0..w.stories.len() as u32 {
        if w.stories[s as usize].created_at < as_of - 86_400 {
            continue;
        }
        let (sa, sb) = (
            full.score(&mut a, s).unwrap(),
            folded.score(&mut b, s).unwrap(),
        );
        assert!(
            (sa.value - sb.value).abs() < 0.02 + 0.05 * sa.value.abs(),
            "{sa:?} {sb:?}"
        );
        n += 1;
    }
    assert!(n > 10);
    // a viewer with no events at all gets no vector (affinity 0)
    let mut lonely = forgot.clone();
    let m = lonely.mf.as_mut().unwrap();
    m.author.known[v as usize] = false;
    let fs2 = FeatureSpace::new(&w, &cfg.features).unwrap();
    let sc = ModelScorer::new(&fs2, &lonely).unwrap();
    assert!(sc
        .viewer(v, i64::MIN + 1)
        .unwrap()
        .mf_author_vector()
        .is_none());
}

#[test]
fn logistic_mf_trains_folds_in_and_round_trips() {
    let w = toy_world(60, 8, 13);
    let as_of = default_as_of(&w).unwrap();
    let mut cfg = Config::default();
    cfg.model.mf_method = "logistic".into();
    cfg.model.personalisation = false;
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let model = train_with(&fs, as_of, &cfg).unwrap();
    let mf = model.mf.as_ref().expect("mf fitted");
    assert_eq!(mf.method, feedrank::model::MfMethod::Logistic);
    // row vectors are [f, 1]: the last component is the constant that picks up the column bias
    let v = (0..w.num_users() as u32)
        .find(|&u| mf.author.row(u).is_some())
        .expect("some viewer was exposed");
    let fitted = mf.author.row(v).unwrap().to_vec();
    assert_eq!(*fitted.last().unwrap(), 1.0);
    // forgetting the viewer: the fold-in (a Newton solve against the fixed columns with the
    // friends' prior) lands near the jointly fitted row
    let mut forgot = model.clone();
    forgot.mf.as_mut().unwrap().author.known[v as usize] = false;
    let folded = ModelScorer::new(&fs, &forgot).unwrap();
    let x = folded
        .viewer(v, as_of)
        .unwrap()
        .mf_author_vector()
        .expect("folded in")
        .to_vec();
    assert_eq!(*x.last().unwrap(), 1.0);
    let c = cos(&x, &fitted);
    assert!(c > 0.9, "cosine {c}");
    // the model file keeps the method and the factors
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.frm");
    feedrank::model::save(&model, &path).unwrap();
    let back = feedrank::model::load(&path).unwrap();
    assert_eq!(back.mf, model.mf);
}

#[test]
fn personalisation_is_validated_shrunk_and_applied_in_the_scorer() {
    let w = toy_world(60, 8, 12);
    let as_of = default_as_of(&w).unwrap();
    let cfg = Config::default();
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let model = train_with(&fs, as_of, &cfg).unwrap();
    let p = model.personal.as_ref().expect("personalisation fitted");
    // a head keeps offsets only when they lowered the validation log loss
    for h in &p.heads {
        assert!(
            h.valid_logloss_personal < h.valid_logloss_global,
            "{}",
            h.action.as_str()
        );
        assert_eq!(
            h.offsets.len(),
            h.viewers.len() * feedrank::model::personal::P
        );
    }
    let mut global = model.clone();
    global.personal = None;
    let sp = ModelScorer::new(&fs, &model).unwrap();
    let sg = ModelScorer::new(&fs, &global).unwrap();
    for v in 0..60u32 {
        let (mut a, mut b) = (sp.viewer(v, as_of).unwrap(), sg.viewer(v, as_of).unwrap());
        let (x, y) = (sp.score(&mut a, 1).unwrap(), sg.score(&mut b, 1).unwrap());
        match p.viewer(v) {
            // a viewer without offsets scores exactly as the global model
            None => assert_eq!(x, y),
            Some(_) => {
                let ex = sp.explain(&mut a, 1).unwrap();
                assert!(ex
                    .contributions
                    .iter()
                    .any(|c| c.feature == "personalisation"));
            }
        }
    }
}

#[test]
fn ablated_groups_get_zero_coefficients_and_no_mf_or_offsets() {
    let w = toy_world(40, 6, 13);
    let as_of = default_as_of(&w).unwrap();
    let mut cfg = Config::default();
    cfg.model.ablate = vec![
        AblationGroup::TieStrength,
        AblationGroup::Mf,
        AblationGroup::Personalisation,
    ];
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let m = train_with(&fs, as_of, &cfg).unwrap();
    assert!(m.mf.is_none() && m.personal.is_none());
    let j = feedrank::features::NAMES
        .iter()
        .position(|n| *n == "aff_click")
        .unwrap();
    for h in &m.heads {
        assert_eq!(h.coef[j], 0.0);
    }
    assert_eq!(m.ablate, cfg.model.ablate);
    // groups are read by name; an unknown name is an error that lists the known ones
    let c = Config::from_toml_str("[model]\nablate = [\"mf\", \"topic_taste\"]\n", "t").unwrap();
    assert_eq!(
        c.model.ablate,
        [AblationGroup::Mf, AblationGroup::TopicTaste]
    );
    let e = Config::from_toml_str("[model]\nablate = [\"nonsense\"]\n", "t").unwrap_err();
    let e = e.to_string();
    assert!(
        e.contains("unknown group \"nonsense\"") && e.contains("tie_strength"),
        "{e}"
    );
}

#[test]
fn topic_taste_ablation_masks_both_topic_taste_features_and_keeps_mf() {
    for g in AblationGroup::ALL
        .into_iter()
        .filter(|&g| g != AblationGroup::Personalisation)
    {
        assert!(!g.features().is_empty(), "group {g} masks nothing");
    }
    let w = toy_world(40, 6, 13);
    let as_of = default_as_of(&w).unwrap();
    let mut cfg = Config::default();
    cfg.model.ablate = vec![AblationGroup::TopicTaste];
    cfg.validate().unwrap();
    let fs = FeatureSpace::new(&w, &cfg.features).unwrap();
    let m = train_with(&fs, as_of, &cfg).unwrap();
    let col = |name: &str| {
        feedrank::features::NAMES
            .iter()
            .position(|n| *n == name)
            .unwrap()
    };
    for h in &m.heads {
        assert_eq!(h.coef[col("viewer_topic_rate")], 0.0);
        assert_eq!(h.coef[col("mf_topic_affinity")], 0.0);
        assert_eq!(h.coef[col("viewer_topic_posts")], 0.0);
        assert_eq!(h.coef[col("friends_topic_posts")], 0.0);
    }
    // MF itself still runs (its author affinity stays a feature).
    assert!(m.mf.is_some());
}
