//! Exposure-aware logistic matrix factorisation (after Johnson 2014, "Logistic Matrix
//! Factorization for Implicit Feedback Data", here with binomial counts): for each (row,
//! column) cell, `n` exposures of which `k` drew a positive engagement, and
//!
//! ```text
//! P(positive | row r, column c) = sigmoid(f_r . g_c + b_r + c_c)
//! ```
//!
//! fitted by maximum a posteriori (L2 `lambda` on the factors, `lambda_bias` on the biases) with
//! alternating per-row and per-column Newton steps, parallel over rows/columns with rayon
//! (each solve is independent, so the result does not depend on the thread count).
//!
//! Unlike implicit ALS and BPR, which see only positive counts (so a viewer who is shown many
//! stories on a topic looks as if they like it), this factorises the engagement *rate* given
//! exposure: the quantity a ranker needs.
//!
//! The fitted [`Factors`] have `k = factors + 1`: row vectors `[f_r, 1]` and column vectors
//! `[g_c, c_c]`, so their dot product is `f_r . g_c + c_c`, the row's affinity for the column
//! relative to the row's own base rate `b_r` (which other features already carry).
//! [`fold_in`] solves a new row against fixed columns.
//!
//! # Complexity
//! Per iteration O(nnz x (k + 1)^2 + (rows + cols) x (k + 1)^3); memory O(nnz + (rows + cols) k).
use super::{Factors, MfError};
use crate::graph::Graph;
use crate::util::math::{sigmoid, solve_spd};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Settings of [`fit_logistic_mf`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticMfParams {
    pub factors: usize,
    pub iterations: usize,
    /// L2 strength on factor vectors (a Gaussian prior of variance `1 / lambda`).
    pub lambda: f64,
    /// L2 strength on the biases.
    pub lambda_bias: f64,
    /// Social regularisation (SocialMF, Jamali & Ester 2010): with a friendship graph, each
    /// row's factors are pulled towards `social_weight` x the mean of its friends' factors
    /// instead of towards 0 (friends share tastes). 0 switches it off.
    pub social_weight: f64,
    pub seed: u64,
}

impl Default for LogisticMfParams {
    fn default() -> Self {
        Self {
            factors: 8,
            iterations: 12,
            lambda: 2.0,
            lambda_bias: 0.1,
            social_weight: 0.8,
            seed: 0,
        }
    }
}

impl LogisticMfParams {
    /// # Errors
    /// [`MfError::InvalidParam`] for zero or absurd sizes and non-positive strengths.
    pub fn check(&self) -> Result<(), MfError> {
        let bad =
            |name: &'static str, message: String| Err(MfError::InvalidParam { name, message });
        if !(1..=256).contains(&self.factors) {
            return bad(
                "factors",
                format!("must be in 1..=256, got {}", self.factors),
            );
        }
        if !(1..=1000).contains(&self.iterations) {
            return bad(
                "iterations",
                format!("must be in 1..=1000, got {}", self.iterations),
            );
        }
        if !(0.0..=1.0).contains(&self.social_weight) {
            return bad(
                "social_weight",
                format!("must be in [0, 1], got {}", self.social_weight),
            );
        }
        for (name, v) in [("lambda", self.lambda), ("lambda_bias", self.lambda_bias)] {
            if !(v.is_finite() && v > 0.0) {
                return bad(name, format!("must be finite and > 0, got {v}"));
            }
        }
        Ok(())
    }
}

/// One binomial cell: (row, column, exposures, positives).
pub type Cell = (u32, u32, f32, f32);

/// Binomial cells grouped both by row and by column.
#[derive(Debug, Clone)]
pub struct BinomialCounts {
    rows: usize,
    cols: usize,
    row_off: Vec<usize>,
    /// (column, exposures, positives), grouped by row, columns ascending.
    by_row: Vec<(u32, f32, f32)>,
    col_off: Vec<usize>,
    /// (row, exposures, positives), grouped by column, rows ascending.
    by_col: Vec<(u32, f32, f32)>,
}

impl BinomialCounts {
    /// Builds the cells from `(row, col, exposures, positives)` quadruples; duplicates add up.
    ///
    /// # Errors
    /// [`MfError::OutOfRange`] for an index outside the shape; [`MfError::BadCount`] for a
    /// non-finite or negative count or more positives than exposures.
    pub fn new(rows: usize, cols: usize, cells: &[Cell]) -> Result<Self, MfError> {
        let mut v: Vec<(u32, u32, f32, f32)> = Vec::with_capacity(cells.len());
        for &(r, c, n, k) in cells {
            if r as usize >= rows {
                return Err(MfError::OutOfRange {
                    what: "row",
                    index: r as u64,
                    len: rows as u64,
                });
            }
            if c as usize >= cols {
                return Err(MfError::OutOfRange {
                    what: "column",
                    index: c as u64,
                    len: cols as u64,
                });
            }
            if !(n.is_finite() && k.is_finite() && n >= 0.0 && k >= 0.0) {
                return Err(MfError::BadCount {
                    row: r,
                    col: c,
                    count: if n.is_finite() && n >= 0.0 { k } else { n },
                });
            }
            v.push((r, c, n, k));
        }
        v.sort_unstable_by_key(|x| (x.0, x.1));
        let mut merged: Vec<(u32, u32, f32, f32)> = Vec::with_capacity(v.len());
        for x in v {
            match merged.last_mut() {
                Some(m) if m.0 == x.0 && m.1 == x.1 => {
                    m.2 += x.2;
                    m.3 += x.3;
                }
                _ => merged.push(x),
            }
        }
        if let Some(m) = merged.iter().find(|m| m.3 > m.2) {
            return Err(MfError::BadCount {
                row: m.0,
                col: m.1,
                count: m.3,
            });
        }
        let group = |n: usize, key: &dyn Fn(&Cell) -> (u32, u32)| {
            let mut off = vec![0usize; n + 1];
            for m in &merged {
                off[key(m).0 as usize + 1] += 1;
            }
            for i in 0..n {
                off[i + 1] += off[i];
            }
            let mut fill = off.clone();
            let mut items = vec![(0u32, 0f32, 0f32); merged.len()];
            for m in &merged {
                let (g, other) = key(m);
                items[fill[g as usize]] = (other, m.2, m.3);
                fill[g as usize] += 1;
            }
            (off, items)
        };
        let (row_off, by_row) = group(rows, &|m| (m.0, m.1));
        let (col_off, by_col) = group(cols, &|m| (m.1, m.0));
        Ok(Self {
            rows,
            cols,
            row_off,
            by_row,
            col_off,
            by_col,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The cells of row `r`: (column, exposures, positives).
    pub fn row(&self, r: usize) -> &[(u32, f32, f32)] {
        &self.by_row[self.row_off[r]..self.row_off[r + 1]]
    }

    fn col(&self, c: usize) -> &[(u32, f32, f32)] {
        &self.by_col[self.col_off[c]..self.col_off[c + 1]]
    }
}

/// One alternating half-step: every vector of `own` that has cells is re-fitted by [`newton`]
/// against the fixed `other` side (with the prior `prior(i, own)`, if any); the others stay.
/// Parallel over `own`, each result independent of the thread count.
fn half_step<'a>(
    own: &[Vec<f64>],
    other: &[Vec<f64>],
    cells_of: impl Fn(usize) -> &'a [(u32, f32, f32)] + Sync,
    p: &LogisticMfParams,
    prior: impl Fn(usize, &[Vec<f64>]) -> Option<Vec<f64>> + Sync,
) -> Vec<Vec<f64>> {
    (0..own.len())
        .into_par_iter()
        .map(|i| {
            let cells = cells_of(i);
            if cells.is_empty() {
                return own[i].clone();
            }
            let prior = prior(i, own);
            let d = own[i].len() - 1;
            newton(
                &own[i],
                prior.as_deref(),
                cells.iter().map(|&(j, n, k)| {
                    let v = &other[j as usize];
                    (&v[..d], v[d], n as f64, k as f64)
                }),
                p.lambda,
                p.lambda_bias,
            )
        })
        .collect()
}

/// One damped Newton step for `theta = [w (d), bias]` on cells whose other side is
/// `(v (d), offset)`: `z = w . v + bias + offset`. Returns the new theta.
fn newton<'a>(
    theta: &[f64],
    prior: Option<&[f64]>,
    cells: impl Iterator<Item = (&'a [f64], f64, f64, f64)>,
    lambda: f64,
    lambda_bias: f64,
) -> Vec<f64> {
    let p1 = theta.len();
    let d = p1 - 1;
    let mut grad = vec![0.0; p1];
    let mut hess = vec![0.0; p1 * p1];
    for i in 0..d {
        let mean = prior.and_then(|m| m.get(i)).copied().unwrap_or(0.0);
        grad[i] = -lambda * (theta[i] - mean);
        hess[i * p1 + i] = lambda;
    }
    grad[d] = -lambda_bias * theta[d];
    hess[d * p1 + d] = lambda_bias;
    for (v, offset, n, k) in cells {
        let z = v.iter().zip(theta).map(|(a, b)| a * b).sum::<f64>() + theta[d] + offset;
        let p = sigmoid(z);
        let r = k - n * p;
        let w = n * p * (1.0 - p);
        for i in 0..p1 {
            let vi = if i < d { v[i] } else { 1.0 };
            grad[i] += r * vi;
            for j in 0..=i {
                let vj = if j < d { v[j] } else { 1.0 };
                hess[i * p1 + j] += w * vi * vj;
            }
        }
    }
    for i in 0..p1 {
        for j in 0..i {
            hess[j * p1 + i] = hess[i * p1 + j];
        }
    }
    let step = solve_spd(&mut hess, &grad, p1);
    // Damping: no coordinate moves by more than 2 per step (the objective is concave, the
    // full step can overshoot on cells with extreme rates early on).
    let m = step.iter().fold(0.0f64, |a, s| a.max(s.abs()));
    let scale = if m > 2.0 { 2.0 / m } else { 1.0 };
    theta
        .iter()
        .zip(&step)
        .map(|(t, s)| t + scale * s)
        .collect()
}

/// `weight` x the mean factor vector (the first `d` values of `row(f)`) of `r`'s neighbours
/// `f` in `g` that have a row (zeros without any). Used while fitting (current rows) and by
/// fold-in (the saved, fitted rows).
pub fn social_mean<'a, T: Copy + Into<f64> + 'a>(
    g: &Graph,
    r: u32,
    row: impl Fn(u32) -> Option<&'a [T]>,
    d: usize,
    weight: f64,
) -> Vec<f64> {
    let mut m = vec![0.0; d];
    let nb = if (r as usize) < g.num_nodes() {
        g.neighbors(r)
    } else {
        &[]
    };
    let mut n = 0usize;
    for &f in nb {
        if let Some(v) = row(f) {
            for (a, &b) in m.iter_mut().zip(v.iter().take(d)) {
                *a += b.into();
            }
            n += 1;
        }
    }
    if n > 0 {
        for a in &mut m {
            *a *= weight / n as f64;
        }
    }
    m
}

/// Fits the factorisation (with social regularisation when `social` is given: rows are
/// indexed like its nodes). Rows without cells get the social prior mean (zeros without a
/// graph).
///
/// # Errors
/// [`MfError::InvalidParam`] from [`LogisticMfParams::check`].
pub fn fit_logistic_mf(
    data: &BinomialCounts,
    social: Option<&Graph>,
    p: &LogisticMfParams,
) -> Result<Factors, MfError> {
    p.check()?;
    let d = p.factors;
    let p1 = d + 1;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(p.seed ^ 0x4c4d_4621);
    // row theta = [f_r, b_r], column theta = [g_c, c_c]
    let mut init = |n: usize, bias: f64| -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| {
                let mut v: Vec<f64> = (0..d).map(|_| 0.1 * (rng.gen::<f64>() - 0.5)).collect();
                v.push(bias);
                v
            })
            .collect()
    };
    let mut rows = init(data.rows, 0.0);
    let (n_all, k_all) = data.by_row.iter().fold((0.0f64, 0.0f64), |(a, b), c| {
        (a + c.1 as f64, b + c.2 as f64)
    });
    let base = ((k_all + 0.5) / (n_all - k_all + 0.5)).ln();
    let mut cols = init(data.cols, base);
    for _ in 0..p.iterations {
        rows = half_step(
            &rows,
            &cols,
            |r| data.row(r),
            p,
            |r, rows| {
                social.map(|g| {
                    let row = |f: u32| rows.get(f as usize).map(Vec::as_slice);
                    social_mean(g, r as u32, row, d, p.social_weight)
                })
            },
        );
        cols = half_step(&cols, &rows, |c| data.col(c), p, |_, _| None);
    }
    let mut row_f = Vec::with_capacity(data.rows * p1);
    for (r, v) in rows.iter().enumerate() {
        if data.row(r).is_empty() {
            row_f.extend(std::iter::repeat_n(0.0f32, p1));
        } else {
            row_f.extend(v[..d].iter().map(|&x| x as f32));
            row_f.push(1.0);
        }
    }
    let col_f: Vec<f32> = cols.iter().flatten().map(|&x| x as f32).collect();
    Factors::new(p1, row_f, col_f)
}

/// Folds a new row in against fixed columns: its cells are `(column, exposures, positives)`;
/// returns the row vector `[f, 1]` (Newton to convergence, at most 20 steps), or `None` if
/// no cell names a known column. `prior` is the mean the factors are pulled towards (the
/// social prior of [`social_mean`]; zeros when `None`).
pub fn fold_in(
    factors: &Factors,
    cells: &[(u32, f32, f32)],
    prior: Option<&[f64]>,
    p: &LogisticMfParams,
) -> Option<Vec<f32>> {
    let p1 = factors.k();
    let d = p1.checked_sub(1)?;
    let cols: Vec<(Vec<f64>, f64, f64, f64)> = cells
        .iter()
        .filter_map(|&(c, n, k)| {
            let v = factors.col(c)?;
            Some((
                v[..d].iter().map(|&x| x as f64).collect(),
                v[d] as f64,
                n as f64,
                k as f64,
            ))
        })
        .collect();
    if cols.is_empty() {
        return None;
    }
    let mut theta = vec![0.0; p1];
    for _ in 0..20 {
        let next = newton(
            &theta,
            prior,
            cols.iter().map(|(v, o, n, k)| (v.as_slice(), *o, *n, *k)),
            p.lambda,
            p.lambda_bias,
        );
        let moved = next
            .iter()
            .zip(&theta)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        theta = next;
        if moved < 1e-6 {
            break;
        }
    }
    let mut out: Vec<f32> = theta[..d].iter().map(|&x| x as f32).collect();
    out.push(1.0);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with planted tastes for two column groups: the factorisation must rank each row's
    /// preferred group above the other, which positive counts alone cannot do when exposure
    /// is skewed towards the disliked group.
    #[test]
    fn recovers_planted_rates_under_skewed_exposure() {
        let (rows, cols) = (200usize, 10usize);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut cells = Vec::new();
        for r in 0..rows {
            let likes_low = r % 2 == 0;
            for c in 0..cols {
                let low = c < 5;
                let rate = if low == likes_low { 0.30 } else { 0.05 };
                // exposure skewed towards the group the row does NOT like
                let n = if low == likes_low { 10 } else { 100 };
                let k = (0..n).filter(|_| rng.gen::<f64>() < rate).count();
                cells.push((r as u32, c as u32, n as f32, k as f32));
            }
        }
        let data = BinomialCounts::new(rows, cols, &cells).unwrap();
        let f = fit_logistic_mf(&data, None, &LogisticMfParams::default()).unwrap();
        let mut right = 0;
        for r in 0..rows as u32 {
            let likes_low = r % 2 == 0;
            let low: f32 = (0..5).map(|c| f.score(r, c)).sum();
            let high: f32 = (5..10).map(|c| f.score(r, c)).sum();
            if (low > high) == likes_low {
                right += 1;
            }
        }
        assert!(right >= 190, "{right} of {rows} rows ordered right");
        // positive counts alone point the wrong way for most rows
        let by_count = (0..rows)
            .filter(|&r| {
                let likes_low = r % 2 == 0;
                let k = |lo: bool| -> f32 {
                    cells
                        .iter()
                        .filter(|x| x.0 == r as u32 && (x.1 < 5) == lo)
                        .map(|x| x.3)
                        .sum()
                };
                (k(true) > k(false)) == likes_low
            })
            .count();
        assert!(by_count < 100, "{by_count}");
        // fold-in of row 0's cells reproduces its preference
        let v = fold_in(&f, data.row(0), None, &LogisticMfParams::default()).unwrap();
        let low: f32 = (0..5).map(|c| f.score_vector(&v, c)).sum();
        let high: f32 = (5..10).map(|c| f.score_vector(&v, c)).sum();
        assert!(low > high);
        // deterministic
        let g = fit_logistic_mf(&data, None, &LogisticMfParams::default()).unwrap();
        assert_eq!(f, g);
    }

    #[test]
    fn bad_counts_are_rejected() {
        assert!(BinomialCounts::new(2, 2, &[(0, 0, 1.0, 2.0)]).is_err());
        assert!(BinomialCounts::new(2, 2, &[(2, 0, 1.0, 0.0)]).is_err());
        assert!(BinomialCounts::new(2, 2, &[(0, 0, f32::NAN, 0.0)]).is_err());
        let ok = BinomialCounts::new(2, 2, &[(0, 1, 1.0, 0.0), (0, 1, 2.0, 1.0)]).unwrap();
        assert_eq!(ok.row(0), &[(1, 3.0, 1.0)]);
        assert!(LogisticMfParams {
            lambda: 0.0,
            ..Default::default()
        }
        .check()
        .is_err());
    }
}
