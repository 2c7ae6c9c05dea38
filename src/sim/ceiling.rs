//! How close can any model get to the oracle? The oracle scores with each viewer's latent
//! tastes (topic factors `f_u`, kind tastes `kappa_u`) and each story's hidden quality, which
//! no model observes; a learner can only estimate them from the viewer's own past impressions.
//! Takes a simulated world's [`Hidden`] rows and a split time; hands on per-head test AUCs of:
//!
//! - `oracle`: the true probabilities (what `feedrank eval` reports as the oracle);
//! - `estimated_tastes`: a deliberately generous learner that knows the hidden model's exact
//!   form and coefficients, every topic factor `g_t`, the shared (circle) part of each taste,
//!   each story's quality, and every other input exactly, and estimates only `f_u` and `kappa_u`
//!   by maximum a posteriori from the viewer's impressions before the split and the actions
//!   logged before it (Gaussian priors of the simulator's own variances, all five heads'
//!   likelihoods, Newton's method);
//! - `estimated_tastes_no_quality`: the same with quality at its prior mean 0;
//! - `no_latent`: tastes at their prior means and quality 0: the true form and coefficients,
//!   every other input exact, and the shared (circle) part of each viewer's taste with the
//!   true topic factors, so not only observable inputs;
//! - `observable_fitted`: a learner, not a formula: one logistic regression per head
//!   (linfa-logistic, as the model's heads), fitted on the training impressions (an even
//!   sample of 2,000,000 on larger worlds) over the
//!   hidden model's observable inputs (tie, embeddedness, normalised dispersion clipped at 2,
//!   author popularity, structural diversity, age, out of network, the kind as indicators),
//!   each computed exactly at the impression's instant. It is what a linear model with the
//!   hidden model's own feature engineering reaches without any estimate of taste or quality;
//!   a model above it gets the rest from what it learns about each viewer.
//!
//! [`CeilingLearner`] fits the tastes once and scores any impression with any of these, so
//! `feedrank eval` can rank its test lists with `estimated_tastes_no_quality` (method
//! `ceiling`) beside the model and the oracle.
//!
//! No model trained on the same data can beat the `estimated_tastes` learner by much: it
//! is told far more than any model sees. The gap between it and the oracle is therefore a
//! floor on the gap any real model leaves on this world.
//!
//! # Complexity
//! O(R (d + 4)^2) for R training impressions plus O(U (d + 4)^3) solves per Newton step
//! (25 steps), then O(T log T) per head for T test impressions; parallel over users.
use super::hidden::{probabilities, HiddenX, BETA, BIAS, KIND_EFFECT};
use super::{Hidden, HiddenRow};
use crate::eval::{EvalError, EvalLists, EvalParams, MethodResult};
use crate::metrics::roc_auc;
use crate::util::math::{sigmoid, solve_spd};
use crate::util::progress::Progress;
use crate::world::{Action, Truth};
use rayon::prelude::*;

/// Newton steps per viewer (the MAP objective is strictly concave; 25 is plenty).
const NEWTON_STEPS: usize = 25;

/// Per-head test AUCs of each scorer (see the module docs), heads in
/// [`Action::ENGAGEMENTS`] order; `None` when a head has one class only in the test period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CeilingReport {
    pub split_at: i64,
    pub train_impressions: usize,
    pub test_impressions: usize,
    pub heads: Vec<&'static str>,
    pub oracle: Vec<Option<f64>>,
    pub estimated_tastes: Vec<Option<f64>>,
    pub estimated_tastes_no_quality: Vec<Option<f64>>,
    pub no_latent: Vec<Option<f64>>,
    pub observable_fitted: Vec<Option<f64>>,
}

/// The scorers of the [`CeilingReport`] (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeilingScorer {
    /// The true probabilities.
    Oracle,
    /// Estimated tastes, everything else (quality included) known.
    EstimatedTastes,
    /// Estimated tastes, quality at its prior mean 0: the yardstick of issue 15.
    EstimatedTastesNoQuality,
    /// Tastes at their prior means, quality 0.
    NoLatent,
}

impl CeilingScorer {
    /// Its key in `ceiling.json`.
    pub fn name(self) -> &'static str {
        match self {
            CeilingScorer::Oracle => "oracle",
            CeilingScorer::EstimatedTastes => "estimated_tastes",
            CeilingScorer::EstimatedTastesNoQuality => "estimated_tastes_no_quality",
            CeilingScorer::NoLatent => "no_latent",
        }
    }
}

/// The ceiling learners fitted on a simulated world's impressions before `split_at`: every
/// viewer's MAP taste estimate. Scores any impression of the world; the test period is every
/// impression at or after `split_at`.
#[derive(Debug, Clone)]
pub struct CeilingLearner<'h> {
    hidden: &'h Hidden,
    split_at: i64,
    train_impressions: usize,
    /// Per user: `[f_u (taste_dim values), kappa_u (4 values)]`.
    est: Vec<Vec<f64>>,
}

impl<'h> CeilingLearner<'h> {
    /// Fits the tastes of users `0..n_users` from the rows of `hidden` strictly before
    /// `split_at` (rows of other users are ignored); nothing at or after `split_at` is read.
    ///
    /// # Complexity
    /// See the module docs; parallel over users.
    pub fn fit(hidden: &'h Hidden, n_users: usize, split_at: i64) -> Self {
        let mut by_user: Vec<Vec<u32>> = vec![Vec::new(); n_users];
        let mut n_train = 0usize;
        for (i, r) in hidden.rows.iter().enumerate() {
            if r.ts < split_at {
                if let Some(v) = by_user.get_mut(r.user as usize) {
                    v.push(i as u32);
                    n_train += 1;
                }
            }
        }
        let est = by_user
            .par_iter()
            .enumerate()
            .map(|(u, rows)| estimate(hidden, u, rows, split_at))
            .collect();
        Self {
            hidden,
            split_at,
            train_impressions: n_train,
            est,
        }
    }

    /// The start of the test period: the learner saw only impressions before it.
    pub fn split_at(&self) -> i64 {
        self.split_at
    }

    /// The test impressions (at or after the split), in the order of [`Hidden::rows`].
    fn test_rows(&self) -> impl Iterator<Item = &'h HiddenRow> + '_ {
        let split_at = self.split_at;
        self.hidden.rows.iter().filter(move |r| r.ts >= split_at)
    }

    /// The probabilities (click, like, comment, share, hide) `scorer` gives impression `r`.
    pub fn probabilities(&self, r: &HiddenRow, scorer: CeilingScorer) -> [f64; 5] {
        let d = self.hidden.taste_dim;
        let u = r.user as usize;
        let topic_dot = |f: &[f64]| -> f64 {
            let g = self
                .hidden
                .topic_factors
                .get(r.topic as usize * d..(r.topic as usize + 1) * d)
                .unwrap_or(&[]);
            g.iter().zip(f).map(|(a, b)| a * b).sum()
        };
        let mut h = r.x;
        match scorer {
            CeilingScorer::Oracle => {}
            CeilingScorer::EstimatedTastes | CeilingScorer::EstimatedTastesNoQuality => {
                let th = self.est.get(u).map_or(&[][..], Vec::as_slice);
                h.x[3] = topic_dot(th.get(..d).unwrap_or(&[]));
                h.x[4] = th.get(d + h.kind.min(3)).copied().unwrap_or(0.0);
                if scorer == CeilingScorer::EstimatedTastesNoQuality {
                    h.x[5] = 0.0;
                }
            }
            CeilingScorer::NoLatent => {
                let prior = self
                    .hidden
                    .taste_prior
                    .get(u * d..(u + 1) * d)
                    .unwrap_or(&[]);
                h.x[3] = topic_dot(prior);
                h.x[4] = 0.0;
                h.x[5] = 0.0;
            }
        }
        probabilities(&h)
    }

    /// `scorer`'s probabilities of every impression of the world, as rows of
    /// [`World::truth`]'s type (what `feedrank eval` ranks with: its test lists also hold
    /// impressions shown just before the split and engaged with after it). The tastes were
    /// fitted on data before the split only, whichever impression is scored.
    ///
    /// [`World::truth`]: crate::world::World::truth
    pub fn all_probabilities(&self, scorer: CeilingScorer) -> Vec<Truth> {
        self.hidden
            .rows
            .iter()
            .map(|r| Truth {
                user: r.user,
                story: r.story,
                ts: r.ts,
                p: self.probabilities(r, scorer),
            })
            .collect()
    }

    /// Per-head test AUCs of every scorer.
    pub fn report(&self) -> CeilingReport {
        let test: Vec<&HiddenRow> = self.test_rows().collect();
        let aucs = |scorer: CeilingScorer| -> Vec<Option<f64>> {
            let p: Vec<[f64; 5]> = test.iter().map(|r| self.probabilities(r, scorer)).collect();
            (0..5)
                .map(|k| {
                    let s: Vec<f64> = p.iter().map(|x| x[k]).collect();
                    let y: Vec<bool> = test.iter().map(|r| r.fired[k]).collect();
                    roc_auc(&s, &y)
                })
                .collect()
        };
        CeilingReport {
            split_at: self.split_at,
            train_impressions: self.train_impressions,
            test_impressions: test.len(),
            heads: Action::ENGAGEMENTS.iter().map(|a| a.as_str()).collect(),
            oracle: aucs(CeilingScorer::Oracle),
            estimated_tastes: aucs(CeilingScorer::EstimatedTastes),
            estimated_tastes_no_quality: aucs(CeilingScorer::EstimatedTastesNoQuality),
            no_latent: aucs(CeilingScorer::NoLatent),
            observable_fitted: self.observable_fitted(&test),
        }
    }

    /// Per-head test AUCs of the `observable_fitted` learner (module docs) on `test`; `None`
    /// for a head whose training or test impressions have one class only (logged).
    fn observable_fitted(&self, test: &[&HiddenRow]) -> Vec<Option<f64>> {
        let split_at = self.split_at;
        let all: Vec<&HiddenRow> = self
            .hidden
            .rows
            .iter()
            .filter(|r| r.ts < split_at)
            .collect();
        // at most OBSERVABLE_MAX_ROWS, every step-th impression (in time order): 17
        // coefficients need far fewer, and a large world's matrix would not fit
        let step = all.len().div_ceil(OBSERVABLE_MAX_ROWS).max(1);
        let train: Vec<&HiddenRow> = all.into_iter().step_by(step).collect();
        let (mean, sd) = observable_scaling(&train);
        let standardised = |r: &HiddenRow| {
            let mut z = observable(&r.x);
            for (j, v) in z.iter_mut().enumerate() {
                *v = (*v - mean[j]) / sd[j];
            }
            z
        };
        let mut ztr = ndarray::Array2::<f64>::zeros((train.len(), OBSERVABLE_WIDTH));
        for (mut out, r) in ztr.rows_mut().into_iter().zip(&train) {
            for (o, v) in out.iter_mut().zip(standardised(r)) {
                *o = v;
            }
        }
        let zte: Vec<[f64; OBSERVABLE_WIDTH]> = test.iter().map(|r| standardised(r)).collect();
        let d = crate::config::ModelConfig::default();
        let params = crate::model::fit::FitParams {
            l2_per_row: d.l2_grid[0],
            tol_per_row: d.gradient_tolerance_per_row,
            max_iterations: d.max_iterations,
        };
        (0..Action::ENGAGEMENTS.len())
            .map(|k| {
                let y: Vec<bool> = train.iter().map(|r| r.fired_before(k, split_at)).collect();
                let head = Action::ENGAGEMENTS[k].as_str();
                let fit = crate::model::fit::fit_logistic(head, ztr.view(), &y, &params, None)
                    .map_err(|e| tracing::warn!(head, %e, "observable_fitted: no fit"))
                    .ok()?;
                let s: Vec<f64> = zte.iter().map(|z| fit.logit(z)).collect();
                let yt: Vec<bool> = test.iter().map(|r| r.fired[k]).collect();
                roc_auc(&s, &yt)
            })
            .collect()
    }
}

/// The hidden inputs a learner could observe ([`observable`]): tie, embeddedness, normalised
/// dispersion, author popularity, structural diversity, age, out of network.
const OBSERVABLE: [usize; 7] = [0, 1, 2, 6, 7, 8, 9];
/// [`OBSERVABLE`] and three kind indicators (photo, link, video; status is the reference).
const OBSERVABLE_WIDTH: usize = OBSERVABLE.len() + 3;
/// Training impressions of the `observable_fitted` learner at most (an even sample beyond).
const OBSERVABLE_MAX_ROWS: usize = 2_000_000;

/// The observable inputs of `x`, then its kind as indicators.
fn observable(x: &HiddenX) -> [f64; OBSERVABLE_WIDTH] {
    let mut v = [0.0; OBSERVABLE_WIDTH];
    for (o, &j) in v.iter_mut().zip(&OBSERVABLE) {
        *o = x.x[j];
    }
    if (1..4).contains(&x.kind) {
        v[OBSERVABLE.len() + x.kind - 1] = 1.0;
    }
    v
}

/// Mean and standard deviation (1 where constant) of each [`observable`] column of `rows`.
fn observable_scaling(rows: &[&HiddenRow]) -> ([f64; OBSERVABLE_WIDTH], [f64; OBSERVABLE_WIDTH]) {
    let n = rows.len().max(1) as f64;
    let (mut mean, mut sq) = ([0.0; OBSERVABLE_WIDTH], [0.0; OBSERVABLE_WIDTH]);
    for r in rows {
        for (j, v) in observable(&r.x).into_iter().enumerate() {
            mean[j] += v;
            sq[j] += v * v;
        }
    }
    let mut sd = [1.0; OBSERVABLE_WIDTH];
    for j in 0..OBSERVABLE_WIDTH {
        mean[j] /= n;
        let var = sq[j] / n - mean[j] * mean[j];
        if var > 1e-12 {
            sd[j] = var.sqrt();
        }
    }
    (mean, sd)
}

/// Computes the [`CeilingReport`] of `hidden` for a test period starting at `split_at`.
pub fn ceiling(hidden: &Hidden, n_users: usize, split_at: i64) -> CeilingReport {
    CeilingLearner::fit(hidden, n_users, split_at).report()
}

/// The name of the ceiling learner among `feedrank eval`'s methods.
pub const EVAL_METHOD: &str = "ceiling";

/// Ranks the evaluation's `lists` with the `estimated_tastes_no_quality` learner fitted on the
/// impressions of `hidden` before the lists' split (as [`ceiling`] fits it for the same
/// split), as method [`EVAL_METHOD`]: value weights `params.oracle_weights`, per-head metrics
/// over the test impressions. Reports the step "fitting the ceiling learner" (one unit) and
/// then the lists to `progress`.
///
/// # Errors
/// As [`crate::eval::evaluate_learner`]: above all
/// [`crate::eval::EvalError::MissingProbability`] when a test impression of the lists is not
/// one of `hidden`'s (the lists are not of the world that `hidden` belongs to).
pub fn evaluate_ceiling(
    hidden: &Hidden,
    n_users: usize,
    lists: &EvalLists,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError> {
    progress.step("fitting the ceiling learner", 1);
    let learner = CeilingLearner::fit(hidden, n_users, lists.split_at);
    let rows = learner.all_probabilities(CeilingScorer::EstimatedTastesNoQuality);
    progress.advance(1);
    crate::eval::evaluate_learner(
        EVAL_METHOD,
        &rows,
        learner.split_at(),
        lists,
        params,
        progress,
    )
}

/// MAP estimate of `[f_u (d values), kappa_u (4 values)]` from the viewer's training rows,
/// with the outcomes logged before `split_at` (an action logged at or after it is not known
/// yet: the impression counts as a negative for that head, as in the model's training rows).
fn estimate(hidden: &Hidden, u: usize, rows: &[u32], split_at: i64) -> Vec<f64> {
    let d = hidden.taste_dim;
    let np = d + 4;
    let prior: Vec<f64> = hidden
        .taste_prior
        .get(u * d..(u + 1) * d)
        .map_or_else(|| vec![0.0; d], <[f64]>::to_vec);
    let inv_f = 1.0 / (hidden.taste_noise_sd * hidden.taste_noise_sd).max(1e-12);
    let inv_k = 1.0 / (hidden.kind_taste_sd * hidden.kind_taste_sd).max(1e-12);
    let mut th = prior.clone();
    th.extend([0.0; 4]);
    let mut grad = vec![0.0; np];
    let mut hess = vec![0.0; np * np];
    let mut phi = vec![0.0; np];
    for _ in 0..NEWTON_STEPS {
        hess.fill(0.0);
        for i in 0..np {
            let (inv, mean) = if i < d {
                (inv_f, prior[i])
            } else {
                (inv_k, 0.0)
            };
            grad[i] = -(th[i] - mean) * inv;
            hess[i * np + i] = inv;
        }
        for &ri in rows {
            let r = &hidden.rows[ri as usize];
            let kind = r.x.kind.min(3);
            let g = hidden
                .topic_factors
                .get(r.topic as usize * d..(r.topic as usize + 1) * d)
                .unwrap_or(&[]);
            let dot: f64 = g.iter().zip(&th).map(|(a, b)| a * b).sum();
            // Hide is drawn first; the other heads only when there is no hide.
            let fired: [bool; 5] = std::array::from_fn(|k| r.fired_before(k, split_at));
            let heads: &[usize] = if fired[4] { &[4] } else { &[4, 0, 1, 2, 3] };
            for &k in heads {
                let z =
                    logit_without_tastes(&r.x, k) + BETA[3][k] * dot + BETA[4][k] * th[d + kind];
                let p = sigmoid(z);
                phi.fill(0.0);
                for (q, gq) in g.iter().enumerate() {
                    phi[q] = BETA[3][k] * gq;
                }
                phi[d + kind] = BETA[4][k];
                let resid = if fired[k] { 1.0 } else { 0.0 } - p;
                let w = p * (1.0 - p);
                for q in 0..np {
                    if phi[q] == 0.0 {
                        continue;
                    }
                    grad[q] += resid * phi[q];
                    for s in 0..np {
                        hess[q * np + s] += w * phi[q] * phi[s];
                    }
                }
            }
        }
        let step = solve_spd(&mut hess, &grad, np);
        let mut moved = 0.0f64;
        for (t, s) in th.iter_mut().zip(&step) {
            *t += s;
            moved = moved.max(s.abs());
        }
        if moved < 1e-10 {
            break;
        }
    }
    th
}

/// The head's logit with the taste terms left out (known inputs only).
fn logit_without_tastes(x: &HiddenX, k: usize) -> f64 {
    let mut z = BIAS[k] + KIND_EFFECT[x.kind.min(3)][k];
    for (j, xj) in x.x.iter().enumerate() {
        if j != 3 && j != 4 {
            z += BETA[j][k] * xj;
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{simulate_with_hidden, SimParams};

    #[test]
    fn hidden_rows_match_truth_and_the_ceiling_is_ordered() {
        let params = SimParams::new(1500, 10, 3);
        let (w, h) = simulate_with_hidden(&params).unwrap();
        // the recorded world is the ordinary world
        let plain = crate::sim::simulate(&params).unwrap();
        assert_eq!(w.events, plain.events);
        assert_eq!(h.rows.len(), w.truth.len());
        for (r, t) in h.rows.iter().zip(&w.truth) {
            assert_eq!((r.user, r.story, r.ts), (t.user, t.story, t.ts));
            assert_eq!(probabilities(&r.x), t.p);
        }
        let split = crate::eval::default_split_at(&w).unwrap();
        let c = ceiling(&h, w.num_users(), split);
        assert!(c.test_impressions > 1000 && c.train_impressions > c.test_impressions);
        for k in 0..4 {
            let (o, e, n) = (
                c.oracle[k].unwrap(),
                c.estimated_tastes[k].unwrap(),
                c.no_latent[k].unwrap(),
            );
            // knowing everything beats estimating the tastes, which beats not knowing them
            assert!(
                o > e && e > n,
                "head {k}: oracle {o} estimated {e} none {n}"
            );
            // a fit on the observable inputs ranks better than chance and below the oracle
            let f = c.observable_fitted[k].unwrap();
            assert!(
                f > 0.55 && f < o,
                "head {k}: observable_fitted {f} oracle {o}"
            );
        }
    }

    #[test]
    fn estimation_recovers_tastes_from_plenty_of_data() {
        // One viewer, one topic direction, 100,000 synthetic impressions drawn from known
        // tastes: the MAP estimate must land close to the truth.
        let d = 2;
        let f_true = [0.9, -0.4];
        let kappa_true = [0.5, -0.6, 0.2, 0.0];
        let topics = [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]];
        let mut rows = Vec::new();
        let mut rng = crate::sim::rng::rng_for(1, crate::sim::rng::Stream::Users, 0, 0);
        use rand::Rng;
        for i in 0..100_000 {
            let t = i % 3;
            let kind = (i / 3) % 4;
            let mut x = HiddenX { x: [0.0; 10], kind };
            x.x[3] = topics[t][0] * f_true[0] + topics[t][1] * f_true[1];
            x.x[4] = kappa_true[kind];
            x.x[0] = 2.0; // a strong tie makes positives common enough
            let p = probabilities(&x);
            let mut fired = [false; 5];
            let r: [f64; 5] = rng.gen();
            if r[4] < p[4] {
                fired[4] = true;
            } else {
                for k in 0..4 {
                    fired[k] = r[k] * (1.0 - p[4]) < p[k];
                }
            }
            rows.push(HiddenRow {
                user: 0,
                story: i as u32,
                ts: i as i64,
                x,
                topic: t as u32,
                fired,
                logged_at: [i as i64; 5],
            });
        }
        let hidden = Hidden {
            rows,
            taste_dim: d,
            topic_factors: topics.iter().flatten().copied().collect(),
            taste_prior: vec![0.0; d],
            taste_noise_sd: 1.0,
            kind_taste_sd: 0.7,
        };
        let idx: Vec<u32> = (0..100_000).collect();
        let th = estimate(&hidden, 0, &idx, i64::MAX);
        for (e, t) in th[..d].iter().zip(f_true) {
            assert!((e - t).abs() < 0.1, "{th:?}");
        }
        for (e, t) in th[d..].iter().zip(kappa_true) {
            assert!((e - t).abs() < 0.12, "{th:?}");
        }
    }
}
