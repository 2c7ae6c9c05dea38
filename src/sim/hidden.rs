//! The hidden engagement model: one logistic model per head (click, like, comment, share,
//! hide) over the signals the three talks (README) say matter. Its outputs are written to
//! `truth.tsv`, so an evaluation can report the oracle's score.
//!
//! For viewer `u`, story `s` by author `a`, shown at time `t`:
//!
//! ```text
//! x = [ ln(1 + tie(u,a)),                 tie strength: decayed interactions and engagements
//!       ln(1 + emb(u,a)),                 embeddedness (0 for non-friends)
//!       min(dispn(u,a), 2),               (disp^0.61)/(emb+5), Backstrom & Kleinberg 2014
//!       f_u . g_topic(s),                 low-rank topic taste
//!       kappa_u[kind(s)],                 kind taste
//!       q_s,                              hidden story quality ~ N(0, 0.5^2)
//!       ln(1 + deg a) - mean,             author popularity
//!       min(components, 5),               structural diversity (Ugander et al. 2012)
//!       age_days,                         story age at t
//!       oon ]                             1 if the author is not a friend
//! raw_k = sigmoid(b_k + beta_k . x + kind_k[kind(s)])
//! ```
//!
//! Hide is drawn first; positives are drawn independently only when there is no hide, so the
//! true marginals are `p_hide = raw_hide` and `p_k = (1 - p_hide) * raw_k`. These marginals
//! are rounded to 1e-4 (clamped to [1e-4, 0.9999]) and the rounded values are both sampled
//! and written, so truth is exactly the model.
use crate::util::math::sigmoid;

/// Feature names of [`HiddenX`], in coefficient order.
pub const FEATURES: [&str; 10] = [
    "ln1p_tie",
    "ln1p_emb",
    "disp_norm_paper",
    "topic_taste",
    "kind_taste",
    "quality",
    "author_popularity",
    "sd_components",
    "age_days",
    "out_of_network",
];

/// Intercepts per head (click, like, comment, share, hide).
pub const BIAS: [f64; 5] = [-3.15, -3.85, -5.4, -6.1, -4.9];

/// Coefficients per head, rows in [`FEATURES`] order.
pub const BETA: [[f64; 5]; 10] = [
    [0.35, 0.55, 0.80, 0.30, -0.25],    // tie
    [0.10, 0.15, 0.15, 0.05, -0.05],    // emb
    [0.80, 1.00, 1.20, 0.50, -0.50],    // dispersion
    [0.80, 0.70, 0.50, 0.80, -0.80],    // topic taste
    [0.50, 0.40, 0.30, 0.40, -0.30],    // kind taste
    [0.50, 0.60, 0.40, 0.80, -0.30],    // quality
    [0.20, 0.15, 0.05, 0.35, 0.00],     // author popularity
    [0.35, 0.30, 0.20, 0.50, 0.00],     // structural diversity
    [-0.35, -0.30, -0.35, -0.30, 0.10], // age (days)
    [-0.30, -0.50, -0.90, 0.00, 0.50],  // out of network
];

/// Story kinds, in index order.
pub const KINDS: [&str; 4] = ["status", "photo", "link", "video"];

/// Per-head kind offsets, rows in [`KINDS`] order.
pub const KIND_EFFECT: [[f64; 5]; 4] = [
    [-0.6, 0.1, 0.4, -0.5, 0.0], // status
    [-0.1, 0.4, 0.1, 0.0, 0.0],  // photo
    [0.5, -0.3, -0.4, 0.4, 0.0], // link
    [0.3, 0.0, -0.3, 0.5, 0.0],  // video
];

/// The inputs of the hidden model for one impression.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HiddenX {
    pub x: [f64; 10],
    pub kind: usize,
}

fn round4(p: f64) -> f64 {
    ((p * 1e4).round() / 1e4).clamp(1e-4, 0.9999)
}

/// The true marginal probabilities (click, like, comment, share, hide), rounded to 1e-4.
pub fn probabilities(h: &HiddenX) -> [f64; 5] {
    let mut raw = [0.0; 5];
    for (k, r) in raw.iter_mut().enumerate() {
        let mut z = BIAS[k] + KIND_EFFECT[h.kind.min(3)][k];
        for (j, xj) in h.x.iter().enumerate() {
            z += BETA[j][k] * xj;
        }
        *r = sigmoid(z);
    }
    let hide = round4(raw[4]);
    let mut p = [0.0; 5];
    for k in 0..4 {
        p[k] = round4((1.0 - hide) * raw[k]);
    }
    p[4] = hide;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_move_with_the_signals() {
        let base = HiddenX::default();
        let p0 = probabilities(&base);
        let mut tie = base;
        tie.x[0] = 2.0;
        let p1 = probabilities(&tie);
        assert!(p1[1] > p0[1] && p1[2] > p0[2] && p1[4] < p0[4]);
        let mut sd = base;
        sd.x[7] = 3.0;
        assert!(probabilities(&sd)[3] > p0[3]);
        for p in p0 {
            assert!((1e-4..=0.9999).contains(&p));
        }
        // Marginal of a positive head is (1 - hide) * raw.
        let raw_like = sigmoid(BIAS[1] + KIND_EFFECT[0][1]);
        assert!((p0[1] - (1.0 - p0[4]) * raw_like).abs() < 1e-4);
    }
}
