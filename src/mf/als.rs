//! Implicit-feedback alternating least squares (Hu, Koren & Volinsky, "Collaborative
//! Filtering for Implicit Feedback Datasets", ICDM 2008). Takes [`Interactions`] and checked
//! [`AlsValidParams`]; hands on [`Factors`].
//!
//! Each half-step fixes one side's factors `Y`, precomputes `G = Y^T Y + lambda I` once
//! (the paper's `O(k^2 n)` trick), then solves every row independently and in parallel:
//! `(G + sum_i alpha c_i y_i y_i^T) x_u = sum_i (1 + alpha c_i) y_i` over the row's non-zeros,
//! i.e. confidence `1 + alpha * count`, preference 1 where `count > 0`. The solve is either a
//! few conjugate-gradient steps warm-started from the previous `x_u` (Takacs, Pilaszy &
//! Tikk 2011; the `implicit` library's default) or an exact Cholesky solve.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use super::linalg::{self, Kernel, Scratch};
use super::{Factors, Interactions, MfError};

/// How each row's least-squares system is solved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Solver {
    /// `steps` conjugate-gradient steps warm-started from the previous factors
    /// (`O(steps (k^2 + nnz_row k))` per row). Default: 3 steps.
    ConjugateGradient { steps: usize },
    /// Exact solve by Cholesky (`O(k^3 + nnz_row k^2)` per row).
    Cholesky,
}

/// Unchecked ALS parameters (a builder); [`AlsParams::check`] validates them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlsParams {
    factors: usize,
    alpha: f32,
    lambda: f32,
    iterations: usize,
    seed: u64,
    solver: Solver,
    init_std: f32,
}

impl Default for AlsParams {
    fn default() -> Self {
        AlsParams {
            factors: 32,
            alpha: 40.0,
            lambda: 0.1,
            iterations: 15,
            seed: 0,
            solver: Solver::ConjugateGradient { steps: 3 },
            init_std: 0.01,
        }
    }
}

impl AlsParams {
    /// Defaults: 32 factors, alpha 40, lambda 0.1, 15 iterations, seed 0, 3 CG steps.
    pub fn new() -> Self {
        Self::default()
    }
    /// Factors per vector `k` (default 32; at least 1).
    pub fn factors(mut self, k: usize) -> Self {
        self.factors = k;
        self
    }
    /// Confidence slope: confidence = `1 + alpha * count` (default 40; finite, >= 0).
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }
    /// L2 regularisation `lambda` (default 0.1; finite, > 0).
    pub fn lambda(mut self, lambda: f32) -> Self {
        self.lambda = lambda;
        self
    }
    /// Full iterations (rows then columns) (default 15).
    pub fn iterations(mut self, n: usize) -> Self {
        self.iterations = n;
        self
    }
    /// Seed of the initial factors (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Row solver (default `ConjugateGradient { steps: 3 }`; steps >= 1).
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = solver;
        self
    }
    /// Standard deviation of the Gaussian initial factors (default 0.01; finite, > 0).
    pub fn init_std(mut self, std: f32) -> Self {
        self.init_std = std;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`MfError::InvalidParam`] naming the first bad parameter.
    pub fn check(self) -> Result<AlsValidParams, MfError> {
        let bad = |name, message: String| Err(MfError::InvalidParam { name, message });
        if self.factors == 0 || self.factors > 4096 {
            return bad("factors", format!("{} is not in 1..=4096", self.factors));
        }
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            return bad("alpha", format!("{} must be finite and >= 0", self.alpha));
        }
        if !self.lambda.is_finite() || self.lambda <= 0.0 {
            return bad("lambda", format!("{} must be finite and > 0", self.lambda));
        }
        if !self.init_std.is_finite() || self.init_std <= 0.0 {
            return bad(
                "init_std",
                format!("{} must be finite and > 0", self.init_std),
            );
        }
        if let Solver::ConjugateGradient { steps: 0 } = self.solver {
            return bad("solver", "conjugate gradient needs at least 1 step".into());
        }
        Ok(AlsValidParams(self))
    }
}

/// Checked ALS parameters (only [`AlsParams::check`] makes one).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlsValidParams(AlsParams);

impl AlsValidParams {
    pub fn factors(&self) -> usize {
        self.0.factors
    }
    pub fn alpha(&self) -> f32 {
        self.0.alpha
    }
    pub fn lambda(&self) -> f32 {
        self.0.lambda
    }
    pub fn iterations(&self) -> usize {
        self.0.iterations
    }
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
    pub fn solver(&self) -> Solver {
        self.0.solver
    }
}

/// Seeded Gaussian factors: `n * k` values drawn sequentially from one ChaCha8 stream.
pub(crate) fn init_factors(n: usize, k: usize, std: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let normal = Normal::new(0.0f32, std).expect("invariant: std checked finite and > 0");
    (0..n * k).map(|_| normal.sample(rng)).collect()
}

/// Re-solves every row of `x` (row-major, `k` per row) against fixed `y`, in parallel.
fn half_step(
    kernel: Kernel,
    data: &Interactions,
    x: &mut [f32],
    y: &[f32],
    k: usize,
    p: &AlsValidParams,
) {
    let g = linalg::gram(kernel, y, k, p.lambda());
    let (indptr, indices, counts) = data.csr();
    let alpha = p.alpha();
    let solver = p.solver();
    x.par_chunks_mut(k)
        .enumerate()
        .with_min_len(64)
        .for_each_init(
            || Scratch::new(k),
            |s, (u, xu)| {
                let (a, b) = (indptr[u], indptr[u + 1]);
                let (cols, vals) = (&indices[a..b], &counts[a..b]);
                match solver {
                    Solver::ConjugateGradient { steps } => {
                        linalg::cg_row(kernel, &g, y, k, cols, vals, alpha, steps, xu, s)
                    }
                    Solver::Cholesky => {
                        linalg::cholesky_row(&g, y, k, cols, vals, alpha, xu, s);
                    }
                }
            },
        );
}

/// ALS training state, one [`AlsTrainer::step`] per iteration (for progress and timing).
pub struct AlsTrainer<'a> {
    data: &'a Interactions,
    transposed: Interactions,
    params: AlsValidParams,
    x: Vec<f32>,
    y: Vec<f32>,
    kernel: Kernel,
    done: usize,
}

impl<'a> AlsTrainer<'a> {
    /// Seeded initial factors (rows first, then columns, from one ChaCha8 stream).
    ///
    /// # Complexity
    /// `O(nnz + (rows + cols) k)` (builds the transposed view once).
    pub fn new(data: &'a Interactions, params: &AlsValidParams) -> Self {
        let k = params.factors();
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed());
        let x = init_factors(data.rows(), k, params.0.init_std, &mut rng);
        let y = init_factors(data.cols(), k, params.0.init_std, &mut rng);
        AlsTrainer {
            data,
            transposed: data.transpose(),
            params: params.clone(),
            x,
            y,
            kernel: Kernel::detect(),
            done: 0,
        }
    }

    /// One full iteration: every row given the columns, then every column given the rows.
    ///
    /// # Complexity
    /// `O((rows + cols) k^2 s + nnz k s)` with CG (`s` = steps + 1), or
    /// `O((rows + cols) k^3 + nnz k^2)` with Cholesky; parallel over rows.
    pub fn step(&mut self) {
        let k = self.params.factors();
        half_step(
            self.kernel,
            self.data,
            &mut self.x,
            &self.y,
            k,
            &self.params,
        );
        half_step(
            self.kernel,
            &self.transposed,
            &mut self.y,
            &self.x,
            k,
            &self.params,
        );
        self.done += 1;
        tracing::debug!(iteration = self.done, "als iteration done");
    }

    /// Iterations done so far.
    pub fn iterations_done(&self) -> usize {
        self.done
    }

    /// The current factors.
    pub fn into_factors(self) -> Factors {
        Factors::new(self.params.factors(), self.x, self.y)
            .expect("invariant: factor arrays are rows*k and cols*k long")
    }
}

/// Trains implicit ALS for `params.iterations()` iterations.
///
/// The result depends only on the data and the parameters, not on the thread count.
///
/// # Complexity
/// `iterations` times [`AlsTrainer::step`].
pub fn fit_als(data: &Interactions, params: &AlsValidParams) -> Factors {
    let mut t = AlsTrainer::new(data, params);
    for _ in 0..params.iterations() {
        t.step();
    }
    t.into_factors()
}

/// One ALS half-step on the rows: re-solves every row of `factors` against its fixed column
/// factors on `data` (e.g. to refresh all viewers after new events without touching authors).
///
/// # Errors
/// [`MfError::Shape`] if `data` does not have `factors`' rows and columns, or if `params`
/// asks for a different `k`.
pub fn update_rows(
    factors: &mut Factors,
    data: &Interactions,
    params: &AlsValidParams,
) -> Result<(), MfError> {
    let checks = [
        ("rows", factors.n_rows(), data.rows()),
        ("columns", factors.n_cols(), data.cols()),
        ("factors", factors.k(), params.factors()),
    ];
    for (what, expected, found) in checks {
        if expected != found {
            return Err(MfError::Shape {
                what,
                expected,
                found,
            });
        }
    }
    let k = factors.k();
    let y = factors.col_factors().to_vec();
    half_step(Kernel::detect(), data, factors.rows_mut(), &y, k, params);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_rejects_bad_params() {
        assert!(AlsParams::new().check().is_ok());
        assert!(AlsParams::new().factors(0).check().is_err());
        assert!(AlsParams::new().lambda(0.0).check().is_err());
        assert!(AlsParams::new().alpha(f32::NAN).check().is_err());
        assert!(AlsParams::new()
            .solver(Solver::ConjugateGradient { steps: 0 })
            .check()
            .is_err());
        let p = AlsParams::new().check().unwrap();
        assert_eq!(
            (p.factors(), p.alpha(), p.lambda(), p.iterations()),
            (32, 40.0, 0.1, 15)
        );
    }

    #[test]
    fn cholesky_rows_satisfy_the_normal_equations() {
        let data =
            Interactions::from_triples(3, 4, &[(0, 1, 2.0), (0, 3, 1.0), (1, 0, 1.0), (2, 2, 5.0)])
                .unwrap();
        let p = AlsParams::new()
            .factors(3)
            .alpha(2.0)
            .lambda(0.5)
            .iterations(3)
            .solver(Solver::Cholesky)
            .check()
            .unwrap();
        let f = fit_als(&data, &p);
        // Residual of the last column half-step: for each column j,
        // (X^T X + lambda I + sum_u alpha c X_u X_u^T) y_j = sum_u (1 + alpha c) x_u.
        let k = 3;
        let x = f.row_factors();
        for j in 0..4u32 {
            let y = f.col(j).unwrap();
            let mut lhs = [0.0f64; 3];
            let mut rhs = [0.0f64; 3];
            for u in 0..3 {
                let xu = &x[u * k..u * k + k];
                let c = f64::from(data.get(u, j));
                let xy: f64 = xu
                    .iter()
                    .zip(y)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                for a in 0..k {
                    lhs[a] += (1.0 + 2.0 * c) * xy * f64::from(xu[a]);
                    if c > 0.0 {
                        rhs[a] += (1.0 + 2.0 * c) * f64::from(xu[a]);
                    }
                }
            }
            for a in 0..k {
                lhs[a] += 0.5 * f64::from(y[a]);
                assert!(
                    (lhs[a] - rhs[a]).abs() < 1e-4,
                    "col {j}: {lhs:?} vs {rhs:?}"
                );
            }
        }
    }
}
