//! Evaluation metrics, defined once and tested on hand-computed cases.
//!
//! Takes plain slices (scores or probabilities with boolean labels; or the relevances of one
//! ranked list) and hands back numbers. Two families:
//!
//! - **Per head** (one engagement action, over all test impressions): ROC-AUC (Mann-Whitney U,
//!   ties count half), PR-AUC (average precision, scikit-learn's step-wise definition), log
//!   loss (probabilities clipped to `[1e-15, 1 - 1e-15]`), normalised entropy
//!   `NE = logloss / H(base rate)` and `RCE = 100 * (1 - NE)` (He et al., "Practical Lessons from
//!   Predicting Clicks on Ads at Facebook", ADKDD 2014), calibration `sum p / sum y`, plus the
//!   calibration-curve and ROC-curve helpers used by reports.
//! - **Per feed** (one ranked (viewer, day) list): nDCG@k (binary or graded gain `2^rel - 1`,
//!   `log2(rank + 1)` discount, ideal ordering from all the list's relevances; Järvelin &
//!   Kekäläinen, TOIS 2002), precision@k (denominator always `k`), recall@k, AP@k (normalised by
//!   `min(k, positives)`), reciprocal rank; [`FeedMetrics`] averages them over the lists that
//!   hold at least one positive and keeps the per-list values for bootstrap intervals.
//!
//! A relevance `> 0` is a positive; `0` (including hides) is a negative.

use serde::Serialize;

/// Probabilities are clipped to `[LOGLOSS_EPS, 1 - LOGLOSS_EPS]` before taking logs.
pub const LOGLOSS_EPS: f64 = 1e-15;

fn check_len(a: usize, b: usize) -> bool {
    debug_assert_eq!(a, b, "scores and labels must have the same length");
    a == b && a > 0
}

/// ROC-AUC by the Mann-Whitney U statistic: the probability that a random positive scores
/// above a random negative, ties counting half. `None` when the lengths differ, the input is
/// empty or one class is absent.
///
/// # Complexity
/// O(n log n) (one sort).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if !check_len(scores.len(), labels.len()) {
        return None;
    }
    let pos = labels.iter().filter(|&&y| y).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let pos_in_group = idx[i..=j].iter().filter(|&&t| labels[t]).count();
        rank_sum_pos += avg_rank * pos_in_group as f64;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// PR-AUC as average precision, scikit-learn's definition:
/// `AP = sum_n (R_n - R_{n-1}) * P_n` over the distinct score thresholds, highest first (tied
/// scores enter together). `None` when the input is empty or has no positive.
///
/// # Complexity
/// O(n log n).
pub fn pr_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if !check_len(scores.len(), labels.len()) {
        return None;
    }
    let pos = labels.iter().filter(|&&y| y).count();
    if pos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut prev_recall, mut ap) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        for &t in &idx[i..=j] {
            if labels[t] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        let recall = tp as f64 / pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        i = j + 1;
    }
    Some(ap)
}

/// Mean binary log loss `-mean(y ln p + (1 - y) ln(1 - p))`, with `p` clipped to
/// `[1e-15, 1 - 1e-15]`. `None` when the input is empty or lengths differ.
pub fn log_loss(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if !check_len(probs.len(), labels.len()) {
        return None;
    }
    let sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(LOGLOSS_EPS, 1.0 - LOGLOSS_EPS);
            if y {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    Some(sum / probs.len() as f64)
}

/// Binary entropy `-(p ln p + (1 - p) ln(1 - p))` in nats (0 at p = 0 or 1).
pub fn entropy(p: f64) -> f64 {
    let term = |q: f64| if q > 0.0 { -q * q.ln() } else { 0.0 };
    term(p) + term(1.0 - p)
}

/// Normalised entropy `NE = logloss / entropy(base rate)` (He et al. 2014): 1 for a model that
/// always predicts the base rate, lower is better. `None` when the input is empty or one
/// class is absent (the base-rate entropy is then 0).
pub fn normalized_entropy(probs: &[f64], labels: &[bool]) -> Option<f64> {
    let ll = log_loss(probs, labels)?;
    let base = labels.iter().filter(|&&y| y).count() as f64 / labels.len() as f64;
    let h = entropy(base);
    (h > 0.0).then(|| ll / h)
}

/// Relative cross entropy `RCE = 100 * (1 - NE)` (higher is better; 0 = base-rate model).
pub fn rce(ne: f64) -> f64 {
    100.0 * (1.0 - ne)
}

/// Calibration `sum p / sum y` (1 = calibrated on average; above 1 over-predicts). `None` when
/// there is no positive or lengths differ.
pub fn calibration(probs: &[f64], labels: &[bool]) -> Option<f64> {
    if !check_len(probs.len(), labels.len()) {
        return None;
    }
    let sy = labels.iter().filter(|&&y| y).count();
    (sy > 0).then(|| probs.iter().sum::<f64>() / sy as f64)
}

/// One bin of a calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Mean predicted probability in the bin.
    pub predicted: f64,
    /// Observed positive rate in the bin.
    pub observed: f64,
    /// Number of examples in the bin.
    pub count: usize,
}

/// Calibration curve by quantile bins (deciles with `bins = 10`): examples sorted by predicted
/// probability (ties by index) and cut into `bins` groups of equal size (the first
/// `n % bins` groups take one extra); each bin reports its mean prediction and observed rate.
/// Empty input or `bins = 0` gives an empty curve; never more bins than examples.
///
/// # Complexity
/// O(n log n).
pub fn calibration_curve(probs: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    if !check_len(probs.len(), labels.len()) || bins == 0 {
        return Vec::new();
    }
    let n = probs.len();
    let bins = bins.min(n);
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| probs[a].total_cmp(&probs[b]).then(a.cmp(&b)));
    let (base, extra) = (n / bins, n % bins);
    let mut out = Vec::with_capacity(bins);
    let mut start = 0;
    for b in 0..bins {
        let len = base + usize::from(b < extra);
        let group = &idx[start..start + len];
        start += len;
        let predicted = group.iter().map(|&i| probs[i]).sum::<f64>() / len as f64;
        let observed = group.iter().filter(|&&i| labels[i]).count() as f64 / len as f64;
        out.push(CalibrationBin {
            predicted,
            observed,
            count: len,
        });
    }
    out
}

/// ROC curve points `(false positive rate, true positive rate)`, one per distinct score
/// threshold (highest first), starting at `(0, 0)` and ending at `(1, 1)`. When there are more
/// than `max_points` points (`max_points >= 2`), evenly spaced ones are kept, always including
/// both ends. Empty when one class is absent.
///
/// # Complexity
/// O(n log n).
pub fn roc_curve(scores: &[f64], labels: &[bool], max_points: usize) -> Vec<(f64, f64)> {
    if !check_len(scores.len(), labels.len()) {
        return Vec::new();
    }
    let pos = labels.iter().filter(|&&y| y).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut pts = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        for &t in &idx[i..=j] {
            if labels[t] {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        pts.push((fp as f64 / neg as f64, tp as f64 / pos as f64));
        i = j + 1;
    }
    let max_points = max_points.max(2);
    if pts.len() <= max_points {
        return pts;
    }
    let last = pts.len() - 1;
    (0..max_points)
        .map(|m| pts[m * last / (max_points - 1)])
        .collect()
}

/// The per-head metrics reported by the evaluation (fields are `None` where undefined, e.g.
/// AUC when one class is absent).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct HeadMetrics {
    pub auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub logloss: Option<f64>,
    pub ne: Option<f64>,
    pub calibration: Option<f64>,
}

impl HeadMetrics {
    /// All per-head metrics of `probs` against `labels`.
    pub fn compute(probs: &[f64], labels: &[bool]) -> HeadMetrics {
        HeadMetrics {
            auc: roc_auc(probs, labels),
            pr_auc: pr_auc(probs, labels),
            logloss: log_loss(probs, labels),
            ne: normalized_entropy(probs, labels),
            calibration: calibration(probs, labels),
        }
    }

    /// `RCE = 100 * (1 - NE)`, when NE is defined.
    pub fn rce(&self) -> Option<f64> {
        self.ne.map(rce)
    }
}

// ---------------------------------------------------------------------------------------------
// Per-list (feed) metrics. `ranked` holds the relevance of every candidate of one list, in
// ranked order (rank 1 first); the ideal ordering is computed from all of them.

/// How relevance becomes gain in nDCG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gain {
    /// Gain 1 for any relevance > 0, else 0.
    Binary,
    /// Gain `2^rel - 1` (0 for rel <= 0).
    #[default]
    Graded,
}

impl Gain {
    /// The gain of one relevance value.
    pub fn gain(self, rel: f64) -> f64 {
        if rel <= 0.0 {
            return 0.0;
        }
        match self {
            Gain::Binary => 1.0,
            Gain::Graded => rel.exp2() - 1.0,
        }
    }
}

fn dcg(rels: impl Iterator<Item = f64>, k: usize, gain: Gain) -> f64 {
    rels.take(k)
        .enumerate()
        .map(|(i, r)| gain.gain(r) / ((i + 2) as f64).log2())
        .sum()
}

/// nDCG@k = DCG@k / IDCG@k with `DCG@k = sum_{i<=k} gain(rel_i) / log2(i + 1)` and the ideal
/// DCG from all the list's relevances sorted descending. `None` when the list has no positive
/// (IDCG = 0) or `k = 0`.
///
/// # Complexity
/// O(n log n) for the ideal ordering.
pub fn ndcg_at_k(ranked: &[f64], k: usize, gain: Gain) -> Option<f64> {
    let mut ideal = ranked.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    ndcg_with_ideal(ranked, &ideal, k, gain)
}

/// nDCG@k given the list's relevances already sorted descending (`ideal`), so that several
/// cut-offs share one sort.
pub fn ndcg_with_ideal(ranked: &[f64], ideal: &[f64], k: usize, gain: Gain) -> Option<f64> {
    if k == 0 {
        return None;
    }
    let idcg = dcg(ideal.iter().copied(), k, gain);
    (idcg > 0.0).then(|| dcg(ranked.iter().copied(), k, gain) / idcg)
}

fn hits_at_k(ranked: &[f64], k: usize) -> usize {
    ranked.iter().take(k).filter(|&&r| r > 0.0).count()
}

fn positives(ranked: &[f64]) -> usize {
    ranked.iter().filter(|&&r| r > 0.0).count()
}

/// Precision@k = (positives in the top k) / k. The denominator is always `k`, even when the
/// list is shorter than `k` or has fewer than `k` positives. `None` when `k = 0`.
pub fn precision_at_k(ranked: &[f64], k: usize) -> Option<f64> {
    (k > 0).then(|| hits_at_k(ranked, k) as f64 / k as f64)
}

/// Recall@k = (positives in the top k) / (positives in the list). `None` without positives.
pub fn recall_at_k(ranked: &[f64], k: usize) -> Option<f64> {
    let p = positives(ranked);
    (p > 0).then(|| hits_at_k(ranked, k) as f64 / p as f64)
}

/// AP@k = `sum_{i <= k, rel_i > 0} precision@i / min(k, positives)`. `None` without positives
/// or with `k = 0`.
pub fn average_precision_at_k(ranked: &[f64], k: usize) -> Option<f64> {
    let p = positives(ranked);
    if p == 0 || k == 0 {
        return None;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (i, &r) in ranked.iter().take(k).enumerate() {
        if r > 0.0 {
            hits += 1;
            sum += hits as f64 / (i + 1) as f64;
        }
    }
    Some(sum / p.min(k) as f64)
}

/// Reciprocal rank `1 / rank of the first positive` over the whole list (not cut at k).
/// `None` without positives.
pub fn reciprocal_rank(ranked: &[f64]) -> Option<f64> {
    ranked
        .iter()
        .position(|&r| r > 0.0)
        .map(|i| 1.0 / (i + 1) as f64)
}

/// The feed metrics of one list at cut-off k.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ListMetrics {
    pub ndcg: f64,
    pub precision: f64,
    pub recall: f64,
    pub ap: f64,
    pub rr: f64,
}

impl ListMetrics {
    /// The metrics of one ranked list, or `None` when it holds no positive (or `k = 0`).
    pub fn compute(ranked: &[f64], k: usize, gain: Gain) -> Option<ListMetrics> {
        Some(ListMetrics {
            ndcg: ndcg_at_k(ranked, k, gain)?,
            precision: precision_at_k(ranked, k)?,
            recall: recall_at_k(ranked, k)?,
            ap: average_precision_at_k(ranked, k)?,
            rr: reciprocal_rank(ranked)?,
        })
    }
}

/// Means of the feed metrics over the lists with at least one positive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct FeedSummary {
    pub ndcg: f64,
    pub precision: f64,
    pub recall: f64,
    pub map: f64,
    pub mrr: f64,
    /// Lists averaged (those with a positive).
    pub lists: usize,
    /// Lists skipped because they hold no positive.
    pub skipped: usize,
}

/// Accumulates per-list feed metrics at cut-off `k`, averaging over lists that hold at least
/// one positive, and keeps every per-list value (in the order added) for bootstrap intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMetrics {
    k: usize,
    gain: Gain,
    per_list: Vec<ListMetrics>,
    skipped: usize,
}

impl FeedMetrics {
    pub fn new(k: usize, gain: Gain) -> Self {
        Self {
            k,
            gain,
            per_list: Vec::new(),
            skipped: 0,
        }
    }

    /// Adds one ranked list; returns its metrics, or `None` (and counts it as skipped) when it
    /// holds no positive.
    pub fn add(&mut self, ranked: &[f64]) -> Option<ListMetrics> {
        let m = ListMetrics::compute(ranked, self.k, self.gain);
        self.push(m);
        m
    }

    /// Adds the already computed metrics of one list (`None` = no positive: skipped).
    pub fn push(&mut self, m: Option<ListMetrics>) {
        match m {
            Some(m) => self.per_list.push(m),
            None => self.skipped += 1,
        }
    }

    /// Appends another accumulator's lists after this one's.
    pub fn merge(&mut self, other: FeedMetrics) {
        self.per_list.extend(other.per_list);
        self.skipped += other.skipped;
    }

    /// Per-list values in the order added (lists with a positive only).
    pub fn per_list(&self) -> &[ListMetrics] {
        &self.per_list
    }

    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Means over the lists with a positive (all 0 when there are none).
    pub fn summary(&self) -> FeedSummary {
        let n = self.per_list.len();
        let mean = |f: fn(&ListMetrics) -> f64| {
            if n == 0 {
                0.0
            } else {
                self.per_list.iter().map(f).sum::<f64>() / n as f64
            }
        };
        FeedSummary {
            ndcg: mean(|m| m.ndcg),
            precision: mean(|m| m.precision),
            recall: mean(|m| m.recall),
            map: mean(|m| m.ap),
            mrr: mean(|m| m.rr),
            lists: n,
            skipped: self.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn auc_hand_case_with_tie() {
        // sklearn's doc example: y=[0,0,1,1], s=[0.1,0.4,0.35,0.8] -> 0.75.
        // Pairs (pos, neg): (.35,.1)=1 (.35,.4)=0 (.8,.1)=1 (.8,.4)=1 -> 3/4.
        let s = [0.1, 0.4, 0.35, 0.8];
        let y = [false, false, true, true];
        assert!(close(roc_auc(&s, &y).unwrap(), 0.75));
        // Ties count half: y=[0,1], s=[0.5,0.5] -> 0.5.
        assert!(close(roc_auc(&[0.5, 0.5], &[false, true]).unwrap(), 0.5));
        // One tie among 2x2: pos {0.5, 0.9}, neg {0.5, 0.1}: pairs 0.5/0.5=0.5, 0.5/0.1=1,
        // 0.9/0.5=1, 0.9/0.1=1 -> 3.5/4.
        let s = [0.5, 0.9, 0.5, 0.1];
        let y = [true, true, false, false];
        assert!(close(roc_auc(&s, &y).unwrap(), 0.875));
        assert_eq!(roc_auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(roc_auc(&[], &[]), None);
    }

    #[test]
    fn ap_hand_case() {
        // sklearn doc: y=[0,0,1,1], s=[0.1,0.4,0.35,0.8] -> AP = 0.8333...
        // thresholds 0.8: P=1 R=.5; 0.4: P=.5 R=.5; 0.35: P=2/3 R=1; 0.1: P=.5 R=1.
        // AP = .5*1 + 0 + .5*(2/3) = 0.8333.
        let s = [0.1, 0.4, 0.35, 0.8];
        let y = [false, false, true, true];
        assert!(close(pr_auc(&s, &y).unwrap(), 0.5 + 1.0 / 3.0));
        // All tied: AP = base rate (one threshold, R 0 -> 1 at P = 0.5).
        assert!(close(
            pr_auc(&[0.3, 0.3, 0.3, 0.3], &[true, false, true, false]).unwrap(),
            0.5
        ));
        assert_eq!(pr_auc(&[0.3], &[false]), None);
    }

    #[test]
    fn logloss_ne_calibration_hand_case() {
        // p = [0.9, 0.2, 0.6, 0.1], y = [1, 0, 1, 0]:
        // ll = -(ln .9 + ln .8 + ln .6 + ln .9)/4
        let p = [0.9, 0.2, 0.6, 0.1];
        let y = [true, false, true, false];
        let ll = -(0.9f64.ln() + 0.8f64.ln() + 0.6f64.ln() + 0.9f64.ln()) / 4.0;
        assert!(close(log_loss(&p, &y).unwrap(), ll));
        // base rate 0.5: entropy ln 2.
        let ne = ll / std::f64::consts::LN_2;
        assert!(close(normalized_entropy(&p, &y).unwrap(), ne));
        assert!(close(rce(ne), 100.0 * (1.0 - ne)));
        // calibration = (0.9+0.2+0.6+0.1)/2 = 0.9
        assert!(close(calibration(&p, &y).unwrap(), 0.9));
        // Clipping: p = 0 for a positive gives -ln(1e-15) = 34.538776...
        assert!(close(log_loss(&[0.0], &[true]).unwrap(), -(1e-15f64).ln()));
        // A base-rate predictor has NE = 1.
        let y = [true, false, false, false];
        assert!(close(normalized_entropy(&[0.25; 4], &y).unwrap(), 1.0));
        assert_eq!(normalized_entropy(&[0.2, 0.3], &[false, false]), None);
        assert_eq!(calibration(&[0.2], &[false]), None);
    }

    #[test]
    fn calibration_curve_bins() {
        // 5 examples, 2 bins: sizes 3 and 2 after sorting by p.
        let p = [0.9, 0.1, 0.3, 0.2, 0.8];
        let y = [true, false, true, false, false];
        let c = calibration_curve(&p, &y, 2);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].count, c[1].count), (3, 2));
        assert!(close(c[0].predicted, 0.2)); // 0.1 0.2 0.3
        assert!(close(c[0].observed, 1.0 / 3.0)); // only 0.3 is positive
        assert!(close(c[1].predicted, 0.85));
        assert!(close(c[1].observed, 0.5));
        assert_eq!(calibration_curve(&p, &y, 10).len(), 5);
    }

    #[test]
    fn roc_curve_points() {
        let s = [0.1, 0.4, 0.35, 0.8];
        let y = [false, false, true, true];
        // sklearn (drop_intermediate=False): fpr [0,0,.5,.5,1], tpr [0,.5,.5,1,1].
        let c = roc_curve(&s, &y, 100);
        assert_eq!(
            c,
            vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
        );
        let thin = roc_curve(&s, &y, 3);
        assert_eq!(thin, vec![(0.0, 0.0), (0.5, 0.5), (1.0, 1.0)]);
    }

    #[test]
    fn ndcg_hand_cases() {
        // Binary, ranked [0,1,0,1], k=3: DCG = 1/log2(3); IDCG = 1 + 1/log2(3).
        let r = [0.0, 1.0, 0.0, 1.0];
        let d = 1.0 / 3f64.log2();
        assert!(close(
            ndcg_at_k(&r, 3, Gain::Binary).unwrap(),
            d / (1.0 + d)
        ));
        // Graded, ranked [1, 3, 0, 2], k=2: DCG = 1 + 7/log2 3; IDCG = 7 + 3/log2 3.
        let r = [1.0, 3.0, 0.0, 2.0];
        let want = (1.0 + 7.0 * d) / (7.0 + 3.0 * d);
        assert!(close(ndcg_at_k(&r, 2, Gain::Graded).unwrap(), want));
        // Ideal ordering scores 1; no positive -> None.
        assert!(close(
            ndcg_at_k(&[3.0, 2.0, 1.0, 0.0], 10, Gain::Graded).unwrap(),
            1.0
        ));
        assert_eq!(ndcg_at_k(&[0.0, 0.0], 10, Gain::Graded), None);
        // The ideal uses ALL relevances, not only the top k: ranked [0, 0, 1], k = 2 -> 0.
        assert!(close(
            ndcg_at_k(&[0.0, 0.0, 1.0], 2, Gain::Binary).unwrap(),
            0.0
        ));
    }

    #[test]
    fn precision_denominator_is_k() {
        // 3-item list with 2 positives at k = 10: 2/10, not 2/3 or 2/2.
        let r = [1.0, 0.0, 1.0];
        assert!(close(precision_at_k(&r, 10).unwrap(), 0.2));
        assert!(close(precision_at_k(&r, 2).unwrap(), 0.5));
        assert!(close(recall_at_k(&r, 2).unwrap(), 0.5));
        assert!(close(recall_at_k(&r, 10).unwrap(), 1.0));
        assert_eq!(recall_at_k(&[0.0], 3), None);
    }

    #[test]
    fn ap_and_rr_hand_cases() {
        // ranked [0,1,0,1,1], k=4: hits at 2 (P=1/2), 4 (P=2/4); positives=3, min(4,3)=3.
        // AP@4 = (0.5 + 0.5)/3.
        let r = [0.0, 1.0, 0.0, 1.0, 1.0];
        assert!(close(average_precision_at_k(&r, 4).unwrap(), 1.0 / 3.0));
        // k=2: hit at 2 -> 0.5 / min(2,3)=2 -> 0.25.
        assert!(close(average_precision_at_k(&r, 2).unwrap(), 0.25));
        assert!(close(reciprocal_rank(&r).unwrap(), 0.5));
        assert_eq!(reciprocal_rank(&[0.0, 0.0]), None);
    }

    #[test]
    fn feed_metrics_skip_lists_without_positive() {
        let mut f = FeedMetrics::new(2, Gain::Binary);
        assert!(f.add(&[1.0, 0.0]).is_some()); // ndcg 1, p .5, r 1, ap 1, rr 1
        assert!(f.add(&[0.0, 0.0]).is_none());
        assert!(f.add(&[0.0, 1.0]).is_some()); // p .5, r 1, ap .5, rr .5
        let s = f.summary();
        assert_eq!((s.lists, s.skipped), (2, 1));
        assert!(close(s.precision, 0.5));
        assert!(close(s.recall, 1.0));
        assert!(close(s.map, 0.75));
        assert!(close(s.mrr, 0.75));
        let d = 1.0 / 3f64.log2();
        assert!(close(s.ndcg, (1.0 + d) / 2.0));
    }
}
