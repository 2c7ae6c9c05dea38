//! One binary logistic-regression fit with linfa-logistic, and the validation measures used to
//! choose L2. Handles the two linfa-logistic 0.8.1 traps: it models
//! the MAJORITY class as positive (we read `labels().pos.class` and flip the signs so the
//! returned parameters are always for `true`), and its gradient tolerance is absolute on a
//! summed gradient (we scale tolerance and L2 by the row count).
use super::ModelError;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, ArrayView2};

/// Parameters of one fit (already checked by the caller's config).
#[derive(Debug, Clone, Copy)]
pub struct FitParams {
    /// L2 strength per row: linfa's `alpha = l2_per_row * rows`.
    pub l2_per_row: f64,
    /// Gradient tolerance per row: linfa's tolerance = this * rows.
    pub tol_per_row: f64,
    pub max_iterations: u64,
}

/// A linear logit `intercept + coef . z` for P(true).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

impl Linear {
    #[inline]
    pub fn logit(&self, z: &[f64]) -> f64 {
        self.intercept + self.coef.iter().zip(z).map(|(b, x)| b * x).sum::<f64>()
    }
}

/// Fits P(y = true | z) on standardised rows `z`, optionally warm-started from `init`.
///
/// # Errors
/// [`ModelError::Fit`] when `y` has one class only, shapes disagree, or linfa fails.
pub fn fit_logistic(
    head: &'static str,
    z: ArrayView2<f64>,
    y: &[bool],
    p: &FitParams,
    init: Option<&Linear>,
) -> Result<Linear, ModelError> {
    let n = z.nrows();
    let d = z.ncols();
    let err = |message: String| ModelError::Fit { head, message };
    if y.len() != n {
        return Err(err(format!("{} labels for {n} rows", y.len())));
    }
    let npos = y.iter().filter(|&&b| b).count();
    if npos == 0 || npos == n {
        return Err(err(format!(
            "needs both classes, found {npos} positives in {n} rows"
        )));
    }
    // linfa's positive class: the majority (ties: the first label seen).
    let first = y[0];
    let nfirst = if first { npos } else { n - npos };
    let linfa_pos = if nfirst < n - nfirst { !first } else { first };
    let mut params = LogisticRegression::default()
        .alpha(p.l2_per_row * n as f64)
        .gradient_tolerance((p.tol_per_row * n as f64).max(1e-12))
        .max_iterations(p.max_iterations)
        .with_intercept(true);
    if let Some(init) = init.filter(|i| i.coef.len() == d) {
        let s = if linfa_pos { 1.0 } else { -1.0 };
        let mut w = Array1::zeros(d + 1);
        for j in 0..d {
            w[j] = s * init.coef[j];
        }
        w[d] = s * init.intercept;
        params = params.initial_params(w);
    }
    let targets = Array1::from_iter(y.iter().copied());
    let ds = DatasetBase::new(z, targets);
    let fitted = params.fit(&ds).map_err(|e| err(e.to_string()))?;
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let coef: Vec<f64> = fitted.params().iter().map(|b| sign * b).collect();
    let intercept = sign * fitted.intercept();
    if !intercept.is_finite() || coef.iter().any(|b| !b.is_finite()) {
        return Err(err("the solver returned non-finite parameters".into()));
    }
    Ok(Linear { coef, intercept })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::math::sigmoid;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    fn synthetic(n: usize, bias: f64, seed: u64) -> (Array2<f64>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a: f64 = rng.gen_range(-2.0..2.0);
            let b: f64 = rng.gen_range(-2.0..2.0);
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            let p = sigmoid(bias + 1.5 * a - 1.0 * b);
            y.push(rng.gen::<f64>() < p);
        }
        (x, y)
    }

    const P: FitParams = FitParams {
        l2_per_row: 1e-6,
        tol_per_row: 1e-7,
        max_iterations: 200,
    };

    #[test]
    fn majority_sign_trap_is_handled_on_imbalanced_data() {
        // ~5% positives: linfa models the negative class; our parameters must be for `true`.
        let (x, y) = synthetic(20_000, -4.0, 1);
        let pos = y.iter().filter(|&&b| b).count();
        assert!(pos * 10 < y.len(), "{pos}");
        let m = fit_logistic("click", x.view(), &y, &P, None).unwrap();
        assert!(m.coef[0] > 1.0 && m.coef[0] < 2.0, "{:?}", m);
        assert!(m.coef[1] < -0.6 && m.coef[1] > -1.4, "{:?}", m);
        assert!(m.intercept < -3.0 && m.intercept > -5.0, "{:?}", m);
        // mean predicted probability matches the base rate (calibration)
        let mean_p: f64 = (0..y.len())
            .map(|i| sigmoid(m.logit(&[x[[i, 0]], x[[i, 1]]])))
            .sum::<f64>()
            / y.len() as f64;
        let rate = pos as f64 / y.len() as f64;
        assert!((mean_p - rate).abs() < 0.01, "{mean_p} vs {rate}");
        // and with the majority positive, the same code gives the same signs
        let (x2, y2) = synthetic(20_000, 4.0, 2);
        let m2 = fit_logistic("click", x2.view(), &y2, &P, None).unwrap();
        assert!(m2.coef[0] > 1.0 && m2.intercept > 3.0, "{:?}", m2);
    }

    #[test]
    fn warm_start_reaches_the_same_solution() {
        let (x, y) = synthetic(5_000, -3.0, 3);
        let cold = fit_logistic("like", x.view(), &y, &P, None).unwrap();
        let warm = fit_logistic("like", x.view(), &y, &P, Some(&cold)).unwrap();
        for (a, b) in cold.coef.iter().zip(&warm.coef) {
            assert!((a - b).abs() < 0.02, "{a} {b}");
        }
    }

    #[test]
    fn one_class_is_an_error() {
        let x = Array2::zeros((4, 2));
        let e = fit_logistic("share", x.view(), &[false; 4], &P, None).unwrap_err();
        assert!(e.to_string().contains("share"));
    }
}
