//! Metrics against naive oracles (property tests) and a few more hand-computed cases.

use feedrank::metrics::{
    average_precision_at_k, calibration_curve, log_loss, ndcg_at_k, pr_auc, precision_at_k,
    recall_at_k, reciprocal_rank, roc_auc, FeedMetrics, Gain,
};
use proptest::prelude::*;

/// AUC by counting every (positive, negative) pair: 1 if the positive scores higher,
/// 1/2 on ties.
fn auc_pairs(s: &[f64], y: &[bool]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..s.len() {
        for j in 0..s.len() {
            if y[i] && !y[j] {
                den += 1.0;
                num += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    (den > 0.0).then(|| num / den)
}

/// Average precision as sklearn: for each distinct threshold t (descending), precision and
/// recall of "score >= t", AP = sum (R_t - R_prev) P_t.
fn ap_thresholds(s: &[f64], y: &[bool]) -> Option<f64> {
    let pos = y.iter().filter(|&&v| v).count() as f64;
    if pos == 0.0 {
        return None;
    }
    let mut th: Vec<f64> = s.to_vec();
    th.sort_by(|a, b| b.total_cmp(a));
    th.dedup();
    let (mut ap, mut prev) = (0.0, 0.0);
    for t in th {
        let sel: Vec<usize> = (0..s.len()).filter(|&i| s[i] >= t).collect();
        let tp = sel.iter().filter(|&&i| y[i]).count() as f64;
        let r = tp / pos;
        ap += (r - prev) * tp / sel.len() as f64;
        prev = r;
    }
    Some(ap)
}

fn scored() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    prop::collection::vec((0u8..6, any::<bool>()), 1..40).prop_map(|v| {
        // Few distinct scores, so ties are common.
        let s = v.iter().map(|(a, _)| f64::from(*a) / 5.0).collect();
        let y = v.iter().map(|(_, b)| *b).collect();
        (s, y)
    })
}

proptest! {
    #[test]
    fn auc_matches_pair_counting((s, y) in scored()) {
        match (roc_auc(&s, &y), auc_pairs(&s, &y)) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn ap_matches_threshold_sweep((s, y) in scored()) {
        match (pr_auc(&s, &y), ap_thresholds(&s, &y)) {
            (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12, "{a} vs {b}"),
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn feed_metrics_bounds(rels in prop::collection::vec(0u8..4, 1..30), k in 1usize..15) {
        let r: Vec<f64> = rels.iter().map(|&x| f64::from(x)).collect();
        let pos = r.iter().filter(|&&x| x > 0.0).count();
        let hits = r.iter().take(k).filter(|&&x| x > 0.0).count();
        prop_assert_eq!(precision_at_k(&r, k), Some(hits as f64 / k as f64));
        if pos == 0 {
            prop_assert_eq!(ndcg_at_k(&r, k, Gain::Graded), None);
            prop_assert_eq!(recall_at_k(&r, k), None);
            prop_assert_eq!(average_precision_at_k(&r, k), None);
            prop_assert_eq!(reciprocal_rank(&r), None);
        } else {
            for g in [Gain::Binary, Gain::Graded] {
                let n = ndcg_at_k(&r, k, g).unwrap_or(f64::NAN);
                prop_assert!((0.0..=1.0 + 1e-12).contains(&n), "{n}");
            }
            let mut ideal = r.clone();
            ideal.sort_by(|a, b| b.total_cmp(a));
            prop_assert!((ndcg_at_k(&ideal, k, Gain::Graded).unwrap_or(0.0) - 1.0).abs() < 1e-12);
            prop_assert_eq!(average_precision_at_k(&ideal, k), Some(1.0));
            let ap = average_precision_at_k(&r, k).unwrap_or(f64::NAN);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&ap));
        }
    }
}

#[test]
fn sklearn_style_cases() {
    // y = [1,0,1,1,0,0], s = [.9,.8,.7,.6,.5,.4]:
    // AUC: positives .9 beats 3 negs; .7 beats .5,.4 (2); .6 beats 2 -> 7/9.
    let s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    let y = [true, false, true, true, false, false];
    assert!((roc_auc(&s, &y).unwrap() - 7.0 / 9.0).abs() < 1e-12);
    // AP: ranks 1 (P=1), 3 (P=2/3), 4 (P=3/4), each recall step 1/3:
    // (1 + 2/3 + 3/4)/3 = 0.80555...
    assert!((pr_auc(&s, &y).unwrap() - (1.0 + 2.0 / 3.0 + 0.75) / 3.0).abs() < 1e-12);
    // log loss of [.9, .8] vs [1, 0]: -(ln .9 + ln .2)/2 = (0.1053605 + 1.6094379)/2 = 0.8573992
    let ll = log_loss(&[0.9, 0.8], &[true, false]).unwrap();
    assert!((ll - 0.857_399_214_045_963).abs() < 1e-12, "{ll}");
    // Deciles of 20 sorted predictions: 10 bins of 2.
    let p: Vec<f64> = (0..20).map(|i| f64::from(i) / 20.0).collect();
    let yy: Vec<bool> = (0..20).map(|i| i >= 10).collect();
    let c = calibration_curve(&p, &yy, 10);
    assert_eq!(c.len(), 10);
    assert!(c.iter().all(|b| b.count == 2));
    assert_eq!(c[4].observed, 0.0);
    assert_eq!(c[5].observed, 1.0);
    assert!((c[0].predicted - 0.025).abs() < 1e-12);
}

#[test]
fn feed_metrics_merge_keeps_order() {
    let mut a = FeedMetrics::new(3, Gain::Binary);
    a.add(&[1.0, 0.0]);
    let mut b = FeedMetrics::new(3, Gain::Binary);
    b.add(&[0.0, 0.0]);
    b.add(&[0.0, 1.0]);
    a.merge(b);
    assert_eq!(a.per_list().len(), 2);
    assert_eq!(a.skipped(), 1);
    assert_eq!(a.per_list()[1].rr, 0.5);
    // precision@3 of a 2-item list with one positive: 1/3.
    assert!((a.summary().precision - 1.0 / 3.0).abs() < 1e-12);
}
