//! Bayesian Personalised Ranking (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009):
//! matrix factorisation trained for a ranking objective (AUC). Takes [`Interactions`] (any
//! count > 0 is a positive) and checked [`BprValidParams`]; hands on [`Factors`], the same type
//! as ALS, so the evaluation can choose between them.
//!
//! Each epoch draws `nnz` triples `(u, i, j)`: a stored entry `(u, i)` uniformly at random and
//! a column `j` uniformly among those `u` has not interacted with, and takes one SGD step on
//! `ln sigmoid(x_u . (y_i - y_j)) - lambda (|x_u|^2 + |y_i|^2 + |y_j|^2)` (LearnBPR, Alg. 1).
//! Updates are sequential from one seeded ChaCha8 stream, so the result is deterministic and
//! independent of the thread count (Hogwild-style parallel SGD would not be).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::als::init_factors;
use super::{Factors, Interactions, MfError};

/// Unchecked BPR parameters (a builder); [`BprParams::check`] validates them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BprParams {
    factors: usize,
    learning_rate: f32,
    lambda: f32,
    epochs: usize,
    seed: u64,
    init_std: f32,
}

impl Default for BprParams {
    fn default() -> Self {
        BprParams {
            factors: 32,
            learning_rate: 0.05,
            lambda: 0.01,
            epochs: 30,
            seed: 0,
            init_std: 0.1,
        }
    }
}

impl BprParams {
    /// Defaults: 32 factors, learning rate 0.05, lambda 0.01, 30 epochs, seed 0, init std 0.1.
    pub fn new() -> Self {
        Self::default()
    }
    /// Factors per vector `k` (default 32; 1..=4096).
    pub fn factors(mut self, k: usize) -> Self {
        self.factors = k;
        self
    }
    /// SGD step size (default 0.05; finite, > 0).
    pub fn learning_rate(mut self, lr: f32) -> Self {
        self.learning_rate = lr;
        self
    }
    /// L2 regularisation (default 0.01; finite, >= 0).
    pub fn lambda(mut self, lambda: f32) -> Self {
        self.lambda = lambda;
        self
    }
    /// Epochs of `nnz` sampled triples each (default 30).
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }
    /// Seed of the initial factors and the sampler (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Standard deviation of the Gaussian initial factors (default 0.1; finite, > 0).
    pub fn init_std(mut self, std: f32) -> Self {
        self.init_std = std;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`MfError::InvalidParam`] naming the first bad parameter.
    pub fn check(self) -> Result<BprValidParams, MfError> {
        let bad = |name, message: String| Err(MfError::InvalidParam { name, message });
        if self.factors == 0 || self.factors > 4096 {
            return bad("factors", format!("{} is not in 1..=4096", self.factors));
        }
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return bad(
                "learning_rate",
                format!("{} must be finite and > 0", self.learning_rate),
            );
        }
        if !self.lambda.is_finite() || self.lambda < 0.0 {
            return bad("lambda", format!("{} must be finite and >= 0", self.lambda));
        }
        if !self.init_std.is_finite() || self.init_std <= 0.0 {
            return bad(
                "init_std",
                format!("{} must be finite and > 0", self.init_std),
            );
        }
        Ok(BprValidParams(self))
    }
}

/// Checked BPR parameters (only [`BprParams::check`] makes one).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BprValidParams(BprParams);

impl BprValidParams {
    pub fn factors(&self) -> usize {
        self.0.factors
    }
    pub fn learning_rate(&self) -> f32 {
        self.0.learning_rate
    }
    pub fn lambda(&self) -> f32 {
        self.0.lambda
    }
    pub fn epochs(&self) -> usize {
        self.0.epochs
    }
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
}

/// Trains BPR-MF by sequential SGD.
///
/// Rows with no entries keep their initial factors; rows that interacted with every column
/// have no negatives and are skipped.
///
/// # Complexity
/// `O(epochs nnz k)` time (plus rejection sampling of negatives, expected `O(1)` draws for
/// sparse rows), `O(nnz)` extra memory.
pub fn fit_bpr(data: &Interactions, params: &BprValidParams) -> Factors {
    let k = params.factors();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed());
    let mut x = init_factors(data.rows(), k, params.0.init_std, &mut rng);
    let mut y = init_factors(data.cols(), k, params.0.init_std, &mut rng);
    let (indptr, indices, _) = data.csr();
    let nnz = indices.len();
    let n_cols = data.cols();
    if nnz == 0 || n_cols < 2 {
        return Factors::new(k, x, y).expect("invariant: arrays are rows*k and cols*k long");
    }
    // Row of every stored entry, so positives are drawn uniformly over entries.
    let mut row_of = Vec::with_capacity(nnz);
    for r in 0..data.rows() {
        row_of.extend(std::iter::repeat_n(r as u32, indptr[r + 1] - indptr[r]));
    }
    let lr = params.learning_rate();
    let reg = params.lambda();
    let mut xu_old = vec![0.0f32; k];
    for epoch in 0..params.epochs() {
        let mut loss = 0.0f64;
        for _ in 0..nnz {
            let e = rng.gen_range(0..nnz);
            let u = row_of[e] as usize;
            let i = indices[e] as usize;
            let row_cols = &indices[indptr[u]..indptr[u + 1]];
            if row_cols.len() >= n_cols {
                continue;
            }
            let j = loop {
                let j = rng.gen_range(0..n_cols as u32);
                if row_cols.binary_search(&j).is_err() {
                    break j as usize;
                }
            };
            let xu = &mut x[u * k..u * k + k];
            xu_old.copy_from_slice(xu);
            let (yi, yj) = two_rows(&mut y, i, j, k);
            let mut diff = 0.0f32;
            for a in 0..k {
                diff += xu_old[a] * (yi[a] - yj[a]);
            }
            // d/dx ln sigmoid(x) = sigmoid(-x) = 1 / (1 + e^x)
            let g = 1.0 / (1.0 + diff.exp());
            loss += f64::from(g);
            for a in 0..k {
                let (xa, ia, ja) = (xu_old[a], yi[a], yj[a]);
                xu[a] += lr * (g * (ia - ja) - reg * xa);
                yi[a] += lr * (g * xa - reg * ia);
                yj[a] += lr * (-g * xa - reg * ja);
            }
        }
        tracing::debug!(
            epoch,
            mean_sigmoid_neg = loss / nnz as f64,
            "bpr epoch done"
        );
    }
    Factors::new(k, x, y).expect("invariant: arrays are rows*k and cols*k long")
}

/// Two distinct `k`-rows of `y` mutably (`i != j`).
fn two_rows(y: &mut [f32], i: usize, j: usize, k: usize) -> (&mut [f32], &mut [f32]) {
    debug_assert_ne!(i, j);
    if i < j {
        let (a, b) = y.split_at_mut(j * k);
        (&mut a[i * k..i * k + k], &mut b[..k])
    } else {
        let (a, b) = y.split_at_mut(i * k);
        (&mut b[..k], &mut a[j * k..j * k + k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_rejects_bad_params() {
        assert!(BprParams::new().check().is_ok());
        assert!(BprParams::new().learning_rate(0.0).check().is_err());
        assert!(BprParams::new().lambda(-1.0).check().is_err());
        assert!(BprParams::new().factors(0).check().is_err());
    }

    #[test]
    fn two_rows_returns_the_right_rows_either_order() {
        let mut y: Vec<f32> = (0..8).map(|v| v as f32).collect();
        let (a, b) = two_rows(&mut y, 3, 1, 2);
        assert_eq!((&a[..], &b[..]), (&[6.0, 7.0][..], &[2.0, 3.0][..]));
        let (a, b) = two_rows(&mut y, 0, 2, 2);
        assert_eq!((&a[..], &b[..]), (&[0.0, 1.0][..], &[4.0, 5.0][..]));
    }

    #[test]
    fn one_positive_is_pushed_above_the_negatives() {
        let data = Interactions::from_triples(2, 3, &[(0, 0, 1.0), (1, 2, 1.0)]).unwrap();
        let p = BprParams::new().factors(4).epochs(300).check().unwrap();
        let f = fit_bpr(&data, &p);
        assert!(f.score(0, 0) > f.score(0, 1) && f.score(0, 0) > f.score(0, 2));
        assert!(f.score(1, 2) > f.score(1, 0) && f.score(1, 2) > f.score(1, 1));
    }
}
