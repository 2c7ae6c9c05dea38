//! Multiplicative heuristics applied to the model's value score (README "The ranker and its output"; X
//! home-mixer's author diversity and out-of-network scorers): author diversity
//! `(1 - floor) * decay^pos + floor`, the out-of-network factor, and hide fatigue.
use super::{RankParams, Source};

/// Author diversity multiplier for a story with `pos` stories by the same author already
/// placed above it: `(1 - floor) * decay^pos + floor`.
#[inline]
pub fn diversity(pos: u32, decay: f64, floor: f64) -> f64 {
    (1.0 - floor) * decay.powi(pos.min(i32::MAX as u32) as i32) + floor
}

/// Applies a multiplier `m` in `[0, 1]` so that it always demotes: `v * m` for `v >= 0`,
/// `v * (2 - m)` for negative `v` (a negative value score multiplied by 0.5 would otherwise
/// rise). Monotone non-decreasing in `m`.
#[inline]
pub fn demote(v: f64, m: f64) -> f64 {
    if v >= 0.0 {
        v * m
    } else {
        v * (2.0 - m)
    }
}

/// Out-of-network multiplier: `oon_factor` for out-of-network stories, else 1.
#[inline]
pub fn out_of_network(params: &RankParams, source: Source) -> f64 {
    if source == Source::OutOfNetwork {
        params.oon_factor
    } else {
        1.0
    }
}

/// Hide fatigue: `hide_discount` if the viewer last hid this author within the discount
/// window before `as_of` (later hides are filtered out before this), else 1.
#[inline]
pub fn fatigue(params: &RankParams, as_of: i64, last_hide: Option<i64>) -> f64 {
    match last_hide {
        Some(t) if t >= as_of.saturating_sub(params.hide_discount_window) => params.hide_discount,
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diversity_matches_hand_computed_values() {
        // decay 0.5, floor 0.25: 0.75 * 0.5^pos + 0.25
        let want = [1.0, 0.625, 0.4375, 0.34375, 0.296875];
        for (pos, w) in want.iter().enumerate() {
            assert_eq!(diversity(pos as u32, 0.5, 0.25), *w, "pos {pos}");
        }
        assert!((diversity(60, 0.5, 0.25) - 0.25).abs() < 1e-15);
        assert_eq!(diversity(3, 1.0, 0.25), 1.0);
    }

    #[test]
    fn demote_always_lowers() {
        assert_eq!(demote(2.0, 0.5), 1.0);
        assert_eq!(demote(-2.0, 0.5), -3.0);
        assert_eq!(demote(-2.0, 1.0), -2.0);
        assert_eq!(demote(0.0, 0.25), 0.0);
        assert!(demote(-1.0, 0.25) < demote(-1.0, 0.5));
    }

    #[test]
    fn fatigue_and_oon_factor() {
        let p = RankParams::default();
        let as_of = 100 * 86400;
        assert_eq!(fatigue(&p, as_of, None), 1.0);
        assert_eq!(fatigue(&p, as_of, Some(as_of - 10 * 86400)), 0.5);
        assert_eq!(fatigue(&p, as_of, Some(as_of - 31 * 86400)), 1.0);
        assert_eq!(out_of_network(&p, Source::OutOfNetwork), 0.75);
        assert_eq!(out_of_network(&p, Source::InNetwork), 1.0);
        assert_eq!(out_of_network(&p, Source::Popular), 1.0);
    }
}
