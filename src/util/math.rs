//! Scalar and small dense numerics shared by the models and the simulator: the logistic
//! function and a Cholesky solve for small symmetric positive definite systems.

/// The logistic function `1 / (1 + e^-x)`, evaluated without overflow for large `|x|`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Solves `a x = b` for a symmetric positive definite `a` (n x n, row-major, f64; overwritten
/// by its Cholesky factor). Pivots are floored at 1e-12 so a nearly singular system still gives
/// a finite answer. Shared by the logistic-MF Newton steps and the simulator's ceiling
/// estimator.
///
/// # Panics
/// When `a` has fewer than `n * n` or `b` fewer than `n` elements.
///
/// # Complexity
/// O(n^3 / 3).
pub fn solve_spd(a: &mut [f64], b: &[f64], n: usize) -> Vec<f64> {
    for j in 0..n {
        let mut s = a[j * n + j];
        for k in 0..j {
            s -= a[j * n + k] * a[j * n + k];
        }
        let d = s.max(1e-12).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= a[i * n + k] * y[k];
        }
        y[i] /= a[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= a[k * n + i] * y[k];
        }
        y[i] /= a[i * n + i];
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_symmetric_and_saturates() {
        assert_eq!(sigmoid(0.0), 0.5);
        for x in [0.1, 1.0, 5.0, 30.0] {
            assert!((sigmoid(x) + sigmoid(-x) - 1.0).abs() < 1e-15);
        }
        assert_eq!(sigmoid(800.0), 1.0);
        assert_eq!(sigmoid(-800.0), 0.0);
    }

    #[test]
    fn solve_spd_matches_hand_solutions() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&mut a, &[2.0, 1.0], 2);
        // [4 2; 2 3] x = [2 1] -> x = [0.5, 0]
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
        let a0 = [4.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 2.0];
        let x = solve_spd(&mut a0.to_vec(), &[1.0, 2.0, 3.0], 3);
        for r in 0..3 {
            let lhs: f64 = (0..3).map(|c| a0[r * 3 + c] * x[c]).sum();
            assert!((lhs - [1.0, 2.0, 3.0][r]).abs() < 1e-12);
        }
    }
}
