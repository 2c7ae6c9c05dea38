//! Evaluation results: per-method feed and head metrics, their JSON form, the printed table,
//! and the bootstrap confidence intervals used by reports.
//!
//! JSON (issue 4, plus issue 6's optional `ablations`):
//! `{"world", "split_at", "k", "lists", "methods": {"model": {"ndcg", "precision", "recall",
//! "map", "mrr", "heads": {"like": {"auc", "pr_auc", "logloss", "ne", "calibration"}, ...}},
//! "chronological": {...}, ...}, "ablations": {"mf": {"ndcg", "delta"}, ...}}`. Methods appear
//! in evaluation order; `heads` only for methods that give probabilities; undefined metrics
//! are `null`. Per-list values, the nDCG@1..50 curve and the head curves are kept in memory
//! (not serialised) for reports.

use crate::features::AblationGroup;
use crate::metrics::{CalibrationBin, HeadMetrics, ListMetrics};
use rand::{Rng, SeedableRng};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Calibration and ROC curves of one head (for reports).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeadCurves {
    /// By predicted-probability decile.
    pub calibration: Vec<CalibrationBin>,
    /// (false positive rate, true positive rate), at most 200 points.
    pub roc: Vec<(f64, f64)>,
}

/// One method's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodResult {
    #[serde(skip)]
    pub name: String,
    /// Means at k over the lists with a positive.
    pub ndcg: f64,
    pub precision: f64,
    pub recall: f64,
    pub map: f64,
    pub mrr: f64,
    /// Per head (action name), for methods that give probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heads: Option<BTreeMap<String, HeadMetrics>>,
    /// Per-list metrics at k, in list order (lists with a positive only; the same lists, in
    /// the same order, for every method of one evaluation: paired).
    #[serde(skip)]
    pub per_list: Vec<ListMetrics>,
    /// Mean nDCG@j for j = 1..=len (index 0 is nDCG@1).
    #[serde(skip)]
    pub ndcg_curve: Vec<f64>,
    /// Curves per head (same keys as `heads`).
    #[serde(skip)]
    pub head_curves: BTreeMap<String, HeadCurves>,
}

impl MethodResult {
    /// The per-list nDCG@k values (paired across methods).
    pub fn per_list_ndcg(&self) -> Vec<f64> {
        self.per_list.iter().map(|m| m.ndcg).collect()
    }
}

/// One ablation: the model retrained without a feature group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ablation {
    /// nDCG@k without the group.
    pub ndcg: f64,
    /// Full model's nDCG@k minus `ndcg` (positive = the group helps).
    pub delta: f64,
    /// Per-list nDCG@k without the group (paired with the model's lists).
    #[serde(skip)]
    pub per_list_ndcg: Vec<f64>,
}

/// Counts about the lists, kept beside the result (not serialised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ListStats {
    /// All (viewer, day) lists in the test period.
    pub lists_total: usize,
    /// Lists without any positive (skipped by the feed metrics).
    pub lists_skipped: usize,
    /// Test impressions (candidates), used by the head metrics.
    pub candidates: usize,
    pub implied_impressions: usize,
    pub unattributed_engagements: usize,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalResult {
    pub world: String,
    pub split_at: i64,
    pub k: usize,
    /// Lists averaged by the feed metrics (those with at least one positive).
    pub lists: usize,
    #[serde(serialize_with = "methods_as_map")]
    pub methods: Vec<MethodResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ablations: Option<BTreeMap<AblationGroup, Ablation>>,
    #[serde(skip)]
    pub stats: ListStats,
    /// Notes for the reader (e.g. "model not available: baselines only").
    #[serde(skip)]
    pub notes: Vec<String>,
}

fn methods_as_map<S: Serializer>(methods: &[MethodResult], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(methods.len()))?;
    for m in methods {
        map.serialize_entry(&m.name, m)?;
    }
    map.end()
}

impl EvalResult {
    /// The method named `name`.
    pub fn method(&self, name: &str) -> Option<&MethodResult> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// Records an ablation: `without` is the model retrained without `group`, evaluated on
    /// the same lists. Does nothing but store `ndcg` with `delta = NaN` when there is no
    /// `model` method.
    pub fn add_ablation(&mut self, group: AblationGroup, without: &MethodResult) {
        let full = self.method("model").map_or(f64::NAN, |m| m.ndcg);
        self.ablations.get_or_insert_with(BTreeMap::new).insert(
            group,
            Ablation {
                ndcg: without.ndcg,
                delta: full - without.ndcg,
                per_list_ndcg: without.per_list_ndcg(),
            },
        );
    }

    /// The same tables as [`std::fmt::Display`], in Markdown (feed metrics; head metrics for
    /// methods with probabilities; ablations when present).
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let k = self.k;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "World `{}`, test period from {} (unix s), k = {}, {} lists with a positive \
             ({} skipped), {} test impressions.\n",
            self.world,
            self.split_at,
            k,
            self.lists,
            self.stats.lists_skipped,
            self.stats.candidates
        );
        let _ = writeln!(
            out,
            "| method | nDCG@{k} | P@{k} | R@{k} | MAP@{k} | MRR |\n|---|---:|---:|---:|---:|---:|"
        );
        for m in &self.methods {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                m.name, m.ndcg, m.precision, m.recall, m.map, m.mrr
            );
        }
        if self.methods.iter().any(|m| m.heads.is_some()) {
            let _ = writeln!(
                out,
                "\n| method | head | AUC | PR-AUC | log loss | NE | calibration |\n\
                 |---|---|---:|---:|---:|---:|---:|"
            );
            for m in &self.methods {
                for (head, hm) in m.heads.iter().flatten() {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} |",
                        m.name,
                        head,
                        fmt_opt(hm.auc),
                        fmt_opt(hm.pr_auc),
                        fmt_opt(hm.logloss),
                        fmt_opt(hm.ne),
                        fmt_opt(hm.calibration)
                    );
                }
            }
        }
        if let Some(ab) = &self.ablations {
            let _ = writeln!(
                out,
                "\n| ablation | nDCG@{k} without | delta |\n|---|---:|---:|"
            );
            for (g, a) in ab {
                let _ = writeln!(out, "| {} | {:.4} | {:+.4} |", g, a.ndcg, a.delta);
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "\nNote: {n}.");
        }
        out
    }

    /// Pretty JSON of the issue-4 shape.
    ///
    /// # Errors
    /// Only if serialisation fails (it does not for these types).
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"))
}

impl std::fmt::Display for EvalResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = self.k;
        writeln!(
            f,
            "world {}  split_at {}  k {}  lists {} (skipped without positive: {})  impressions {}",
            self.world,
            self.split_at,
            k,
            self.lists,
            self.stats.lists_skipped,
            self.stats.candidates
        )?;
        let h = [
            format!("nDCG@{k}"),
            format!("P@{k}"),
            format!("R@{k}"),
            format!("MAP@{k}"),
            "MRR".to_string(),
        ];
        writeln!(
            f,
            "{:<14} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "method", h[0], h[1], h[2], h[3], h[4]
        )?;
        for m in &self.methods {
            writeln!(
                f,
                "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
                m.name, m.ndcg, m.precision, m.recall, m.map, m.mrr
            )?;
        }
        let with_heads: Vec<_> = self.methods.iter().filter(|m| m.heads.is_some()).collect();
        if !with_heads.is_empty() {
            writeln!(f)?;
            writeln!(
                f,
                "{:<14} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                "method", "head", "AUC", "PR-AUC", "logloss", "NE", "RCE", "calib"
            )?;
            for m in with_heads {
                for (head, hm) in m.heads.iter().flatten() {
                    writeln!(
                        f,
                        "{:<14} {:<8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                        m.name,
                        head,
                        fmt_opt(hm.auc),
                        fmt_opt(hm.pr_auc),
                        fmt_opt(hm.logloss),
                        fmt_opt(hm.ne),
                        hm.rce()
                            .map_or_else(|| "-".to_string(), |x| format!("{x:.2}")),
                        fmt_opt(hm.calibration)
                    )?;
                }
            }
        }
        if let Some(ab) = &self.ablations {
            writeln!(f)?;
            writeln!(f, "{:<16} {:>9} {:>9}", "ablation", "nDCG", "delta")?;
            for (g, a) in ab {
                writeln!(f, "{:<16} {:>9.4} {:>+9.4}", g, a.ndcg, a.delta)?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

/// Linear-interpolated quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// 95% percentile-bootstrap confidence interval of the mean of `values` (Efron & Tibshirani
/// 1993): `resamples` resamples with replacement from a ChaCha8 stream seeded by `seed`,
/// the 2.5% and 97.5% quantiles of their means. `None` when `values` is empty or
/// `resamples = 0`.
///
/// # Complexity
/// O(resamples * n).
pub fn bootstrap_ci(values: &[f64], resamples: usize, seed: u64) -> Option<(f64, f64)> {
    if values.is_empty() || resamples == 0 {
        return None;
    }
    let n = values.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.gen_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    Some((quantile(&means, 0.025), quantile(&means, 0.975)))
}

/// 95% bootstrap interval of the mean paired difference `a_i - b_i` (the same lists ranked
/// by two methods). `None` when the lengths differ or are 0.
pub fn paired_diff_ci(a: &[f64], b: &[f64], resamples: usize, seed: u64) -> Option<(f64, f64)> {
    if a.len() != b.len() {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    bootstrap_ci(&d, resamples, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_constant_and_deterministic() {
        assert_eq!(bootstrap_ci(&[0.25; 20], 100, 1), Some((0.25, 0.25)));
        let v: Vec<f64> = (0..100).map(|i| (i % 7) as f64).collect();
        let a = bootstrap_ci(&v, 500, 9).unwrap();
        assert_eq!(a, bootstrap_ci(&v, 500, 9).unwrap());
        let mean = v.iter().sum::<f64>() / 100.0;
        assert!(a.0 < mean && mean < a.1, "{a:?} around {mean}");
        assert!(a.1 - a.0 < 1.5);
        assert_eq!(bootstrap_ci(&[], 10, 1), None);
    }

    #[test]
    fn paired_diff() {
        let a = [1.0, 0.5, 0.7];
        let b = [0.5, 0.0, 0.2];
        let ci = paired_diff_ci(&a, &b, 200, 3).unwrap();
        assert!((ci.0 - 0.5).abs() < 1e-12 && (ci.1 - 0.5).abs() < 1e-12);
        assert_eq!(paired_diff_ci(&a, &b[..2], 10, 1), None);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(&[0.0, 1.0], 0.5), 0.5);
        assert_eq!(quantile(&[2.0], 0.975), 2.0);
    }
}
