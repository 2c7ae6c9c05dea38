//! Per-viewer personalisation (LinkedIn's GLMix: a global logistic model plus per-member
//! coefficient offsets). For each head and each viewer, an offset vector `b_u` over
//! [`PERSONAL_FEATURES`] (a bias and a few key standardised features) is fitted by a few Newton
//! steps of the ridge-penalised logistic likelihood with the global model's logit as a fixed
//! offset:
//!
//! `max_b  sum_i [y_i ln p_i + (1 - y_i) ln(1 - p_i)] - lambda/2 |b|^2`,
//! `p_i = sigmoid(global_logit_i + b . s_i)`, `s_i = (1, z_i[f_1], ...)`.
//!
//! The penalty shrinks towards the global model: a viewer with few rows gets an offset near 0.
//! `lambda` is chosen per head on the time-based validation split (offsets fitted on the
//! earlier rows against the global model fitted on them); a head whose offsets do not lower the
//! validation log loss gets none.
use crate::features::Feature;
use crate::util::math::sigmoid;
use crate::world::Action;
use rayon::prelude::*;

/// Features with per-viewer coefficients (besides the bias).
pub const PERSONAL_FEATURES: [Feature; 3] = [
    Feature::AffLike,
    Feature::MfTopicAffinity,
    Feature::ViewerKindRate,
];
/// Offsets per viewer and head: the bias and one per [`PERSONAL_FEATURES`].
pub const P: usize = 1 + PERSONAL_FEATURES.len();
const NEWTON_STEPS: usize = 6;

/// The offsets of one head.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonalHead {
    pub action: Action,
    /// Chosen prior precision.
    pub lambda: f64,
    /// Validation log loss of the global head and with offsets (at `lambda`).
    pub valid_logloss_global: f64,
    pub valid_logloss_personal: f64,
    /// Viewers with offsets, sorted.
    pub viewers: Vec<u32>,
    /// `P` offsets per viewer, in `viewers` order.
    pub offsets: Vec<f32>,
}

impl PersonalHead {
    /// The viewer's offsets, if any.
    pub fn get(&self, viewer: u32) -> Option<&[f32]> {
        let i = self.viewers.binary_search(&viewer).ok()?;
        self.offsets.get(i * P..(i + 1) * P)
    }
}

/// Per-viewer offsets of every personalised head.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Personalisation {
    pub heads: Vec<PersonalHead>,
}

impl Personalisation {
    /// Checks shapes and finiteness.
    pub fn check(&self) -> Result<(), String> {
        for h in &self.heads {
            if h.offsets.len() != h.viewers.len() * P {
                return Err(format!(
                    "personalisation: {} offsets shape",
                    h.action.as_str()
                ));
            }
            if h.viewers.windows(2).any(|w| w[0] >= w[1]) {
                return Err("personalisation: viewers not sorted".into());
            }
            if h.offsets.iter().any(|x| !x.is_finite()) {
                return Err("nonfinite personalisation offsets".into());
            }
        }
        Ok(())
    }

    /// The offset vectors of `viewer` per head (in [`Action::ENGAGEMENTS`] order).
    pub fn viewer(&self, viewer: u32) -> Option<[[f64; P]; 5]> {
        let mut out = [[0.0; P]; 5];
        let mut any = false;
        for h in &self.heads {
            let k = h.action.index().wrapping_sub(1);
            if let (Some(o), Some(slot)) = (h.get(viewer), out.get_mut(k)) {
                for (a, b) in slot.iter_mut().zip(o) {
                    *a = *b as f64;
                }
                any = true;
            }
        }
        any.then_some(out)
    }
}

/// The personal inputs `s = (1, z[f_1], ...)` of a standardised row.
#[inline]
pub fn inputs(z: impl Fn(usize) -> f64) -> [f64; P] {
    let mut s = [1.0; P];
    for (j, f) in PERSONAL_FEATURES.iter().enumerate() {
        s[j + 1] = z(f.idx());
    }
    s
}

#[inline]
pub fn offset_logit(b: &[f64; P], s: &[f64; P]) -> f64 {
    b.iter().zip(s).map(|(x, y)| x * y).sum()
}

/// Fits one viewer's offsets: `NEWTON_STEPS` Newton steps from 0.
/// `rows` yields (inputs s, global logit, label).
#[allow(clippy::needless_range_loop)]
pub fn fit_viewer(rows: &[([f64; P], f64, bool)], lambda: f64) -> [f64; P] {
    let mut b = [0.0; P];
    for _ in 0..NEWTON_STEPS {
        let mut g = [0.0; P];
        let mut h = [[0.0; P]; P];
        for (s, base, y) in rows {
            let p = sigmoid(base + offset_logit(&b, s));
            let r = if *y { 1.0 } else { 0.0 } - p;
            let w = (p * (1.0 - p)).max(1e-12);
            for i in 0..P {
                g[i] += r * s[i];
                for j in 0..P {
                    h[i][j] += w * s[i] * s[j];
                }
            }
        }
        for i in 0..P {
            g[i] -= lambda * b[i];
            h[i][i] += lambda;
        }
        let Some(step) = solve(h, g) else {
            break;
        };
        let mut change = 0.0f64;
        for i in 0..P {
            b[i] += step[i];
            change = change.max(step[i].abs());
        }
        if change < 1e-6 {
            break;
        }
    }
    b
}

#[allow(clippy::needless_range_loop)]
/// Solves the symmetric positive-definite system `h x = g` (Gaussian elimination, partial
/// pivoting); `None` if singular.
fn solve(mut h: [[f64; P]; P], mut g: [f64; P]) -> Option<[f64; P]> {
    for c in 0..P {
        let piv = (c..P).max_by(|&a, &b| h[a][c].abs().total_cmp(&h[b][c].abs()))?;
        if h[piv][c].abs() < 1e-12 {
            return None;
        }
        h.swap(c, piv);
        g.swap(c, piv);
        for r in c + 1..P {
            let f = h[r][c] / h[c][c];
            for j in c..P {
                h[r][j] -= f * h[c][j];
            }
            g[r] -= f * g[c];
        }
    }
    let mut x = [0.0; P];
    for c in (0..P).rev() {
        let mut s = g[c];
        for j in c + 1..P {
            s -= h[c][j] * x[j];
        }
        x[c] = s / h[c][c];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Fits offsets for every viewer group. `groups` are contiguous index ranges of one viewer
/// each; `data(i)` gives (viewer, inputs, global logit, label) of row `i`; `use_row(i)` selects
/// the rows to fit on. Returns (viewers, offsets) with viewers sorted.
pub fn fit_all(
    groups: &[std::ops::Range<usize>],
    data: &(dyn Fn(usize) -> (u32, [f64; P], f64, bool) + Sync),
    use_row: &(dyn Fn(usize) -> bool + Sync),
    lambda: f64,
) -> (Vec<u32>, Vec<f32>) {
    let fitted: Vec<Option<(u32, [f64; P])>> = groups
        .par_iter()
        .map(|r| {
            let rows: Vec<([f64; P], f64, bool)> = r
                .clone()
                .filter(|&i| use_row(i))
                .map(|i| {
                    let (_, s, base, y) = data(i);
                    (s, base, y)
                })
                .collect();
            if rows.is_empty() {
                return None;
            }
            let (v, ..) = data(r.start);
            Some((v, fit_viewer(&rows, lambda)))
        })
        .collect();
    let mut pairs: Vec<(u32, [f64; P])> = fitted.into_iter().flatten().collect();
    pairs.sort_by_key(|p| p.0);
    let viewers = pairs.iter().map(|p| p.0).collect();
    let offsets = pairs
        .iter()
        .flat_map(|p| p.1.iter().map(|&x| x as f32))
        .collect();
    (viewers, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_rows_give_a_near_zero_offset_and_many_rows_learn_the_bias() {
        // the global logit says p = 0.1; this viewer engages at 0.5
        let base = (0.1f64 / 0.9).ln();
        let row = |y: bool| ([1.0, 0.0, 0.0, 0.0], base, y);
        let few = vec![row(true), row(false)];
        let b = fit_viewer(&few, 8.0);
        assert!(b[0].abs() < 0.15, "{b:?}");
        let many: Vec<_> = (0..2000).map(|i| row(i % 2 == 0)).collect();
        let b = fit_viewer(&many, 8.0);
        // logit(0.5) - logit(0.1) = ln 9 = 2.197
        assert!((b[0] - 9f64.ln()).abs() < 0.05, "{b:?}");
        assert_eq!(b[1], 0.0);
    }

    #[test]
    fn a_viewer_with_an_idiosyncratic_slope_is_fitted_better_than_by_the_global_model() {
        // global logit ignores feature 1; this viewer's logit is -2 + 1.5 * s1
        let mut rows = Vec::new();
        let ll = |b: &[f64; P], rows: &[([f64; P], f64, bool)]| -> f64 {
            rows.iter()
                .map(|(s, base, y)| {
                    let q = sigmoid(base + offset_logit(b, s));
                    if *y {
                        -q.ln()
                    } else {
                        -(1.0 - q).ln()
                    }
                })
                .sum()
        };
        for i in 0..3000 {
            let x = (i % 7) as f64 / 3.0 - 1.0;
            let p = sigmoid(-2.0 + 1.5 * x);
            // deterministic labels with the right frequencies per x
            let y = ((i / 7) as f64 * 0.618_034).fract() < p;
            rows.push(([1.0, x, 0.0, 0.0], -2.0, y));
        }
        let b = fit_viewer(&rows, 8.0);
        assert!((b[1] - 1.5).abs() < 0.3, "{b:?}");
        assert!(ll(&b, &rows) < ll(&[0.0; P], &rows) - 50.0);
    }

    #[test]
    fn solve_matches_a_hand_case() {
        let mut h = [[0.0; P]; P];
        for (i, row) in h.iter_mut().enumerate() {
            row[i] = (i + 1) as f64;
        }
        let x = solve(h, [1.0, 2.0, 3.0, 4.0]).unwrap();
        for v in x {
            assert!((v - 1.0).abs() < 1e-12);
        }
    }
}
