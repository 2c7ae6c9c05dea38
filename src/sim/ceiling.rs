//! How close can any model get to the oracle? The oracle scores with each viewer's latent
//! tastes (topic factors `f_u`, kind tastes `kappa_u`) and each story's hidden quality, which
//! no model observes; a learner can only estimate them from the viewer's own past impressions.
//! Takes a simulated world's [`Hidden`] rows and a split time; hands on per-head test AUCs of:
//!
//! - `oracle`: the true probabilities (what `feedrank eval` reports as the oracle);
//! - `estimated_tastes`: a deliberately generous learner that knows the hidden model's exact
//!   form and coefficients, every topic factor `g_t`, the shared (circle) part of each taste,
//!   each story's quality, and every other input exactly, and estimates only `f_u` and `kappa_u`
//!   by maximum a posteriori from the viewer's impressions before the split (Gaussian priors
//!   of the simulator's own variances, all five heads' likelihoods, Newton's method);
//! - `estimated_tastes_no_quality`: the same with quality at its prior mean 0;
//! - `no_latent`: tastes at their prior means and quality 0 (only observable inputs).
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
use crate::metrics::roc_auc;
use crate::util::math::{sigmoid, solve_spd};
use crate::world::Action;
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
}

/// Computes the [`CeilingReport`] of `hidden` for a test period starting at `split_at`.
pub fn ceiling(hidden: &Hidden, n_users: usize, split_at: i64) -> CeilingReport {
    let d = hidden.taste_dim;
    let mut by_user: Vec<Vec<u32>> = vec![Vec::new(); n_users];
    let mut test: Vec<&HiddenRow> = Vec::new();
    let mut n_train = 0usize;
    for (i, r) in hidden.rows.iter().enumerate() {
        if r.ts < split_at {
            if let Some(v) = by_user.get_mut(r.user as usize) {
                v.push(i as u32);
                n_train += 1;
            }
        } else {
            test.push(r);
        }
    }
    let est: Vec<Vec<f64>> = by_user
        .par_iter()
        .enumerate()
        .map(|(u, rows)| estimate(hidden, u, rows))
        .collect();
    let topic_dot = |r: &HiddenRow, f: &[f64]| -> f64 {
        let g = hidden
            .topic_factors
            .get(r.topic as usize * d..(r.topic as usize + 1) * d)
            .unwrap_or(&[]);
        g.iter().zip(f).map(|(a, b)| a * b).sum()
    };
    let score = |variant: u8| -> Vec<[f64; 5]> {
        test.iter()
            .map(|r| {
                let mut h = r.x;
                let u = r.user as usize;
                match variant {
                    0 => {}
                    1 | 2 => {
                        let th = &est[u];
                        h.x[3] = topic_dot(r, &th[..d]);
                        h.x[4] = th[d + h.kind.min(3)];
                        if variant == 2 {
                            h.x[5] = 0.0;
                        }
                    }
                    _ => {
                        let prior = hidden.taste_prior.get(u * d..(u + 1) * d).unwrap_or(&[]);
                        h.x[3] = topic_dot(r, prior);
                        h.x[4] = 0.0;
                        h.x[5] = 0.0;
                    }
                }
                probabilities(&h)
            })
            .collect()
    };
    let aucs = |p: &[[f64; 5]]| -> Vec<Option<f64>> {
        (0..5)
            .map(|k| {
                let s: Vec<f64> = p.iter().map(|x| x[k]).collect();
                let y: Vec<bool> = test.iter().map(|r| r.fired[k]).collect();
                roc_auc(&s, &y)
            })
            .collect()
    };
    CeilingReport {
        split_at,
        train_impressions: n_train,
        test_impressions: test.len(),
        heads: Action::ENGAGEMENTS.iter().map(|a| a.as_str()).collect(),
        oracle: aucs(&score(0)),
        estimated_tastes: aucs(&score(1)),
        estimated_tastes_no_quality: aucs(&score(2)),
        no_latent: aucs(&score(3)),
    }
}

/// MAP estimate of `[f_u (d values), kappa_u (4 values)]` from the viewer's training rows.
fn estimate(hidden: &Hidden, u: usize, rows: &[u32]) -> Vec<f64> {
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
            let heads: &[usize] = if r.fired[4] { &[4] } else { &[4, 0, 1, 2, 3] };
            for &k in heads {
                let z =
                    logit_without_tastes(&r.x, k) + BETA[3][k] * dot + BETA[4][k] * th[d + kind];
                let p = sigmoid(z);
                phi.fill(0.0);
                for (q, gq) in g.iter().enumerate() {
                    phi[q] = BETA[3][k] * gq;
                }
                phi[d + kind] = BETA[4][k];
                let resid = if r.fired[k] { 1.0 } else { 0.0 } - p;
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
        let th = estimate(&hidden, 0, &idx);
        for (e, t) in th[..d].iter().zip(f_true) {
            assert!((e - t).abs() < 0.1, "{th:?}");
        }
        for (e, t) in th[d..].iter().zip(kappa_true) {
            assert!((e - t).abs() < 0.12, "{th:?}");
        }
    }
}
