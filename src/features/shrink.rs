//! Rates on a proper scale (schema 4): an engagement rate from few exposures is noisy, and a
//! raw ratio `positives / (exposures + 1)` both pulls small counts towards 0 (a viewer never
//! shown a topic looks like one who dislikes it) and is linear where the engagement model is
//! linear in log-odds. Each rate feature is therefore the log-odds of an empirical-Bayes
//! (beta-binomial) posterior mean, `(positives + k m) / (exposures + k)`, shrunk towards a
//! prior mean `m` with the weight of `k` pseudo-exposures; the priors are hierarchical (a
//! viewer's topic and kind rates shrink towards the viewer's own overall rate, a story's rate
//! towards its author's), as the README's ceiling learner estimates tastes by maximum a
//! posteriori with a prior.
//!
//! Pure functions of counts before `as_of`; no allocation.

/// Prior mean of a viewer's overall positive-engagement rate (positive engagement events per
/// exposure), when the viewer has no history.
pub const VIEWER_PRIOR_RATE: f64 = 0.1;
/// Pseudo-exposures of the viewer's overall rate prior.
pub const VIEWER_PRIOR_WEIGHT: f64 = 5.0;
/// Pseudo-exposures of the prior (the viewer's overall rate) of a viewer's kind and topic
/// rates.
pub const TASTE_PRIOR_WEIGHT: f64 = 10.0;
/// Pseudo-exposures of the prior (the author's rate) of a story's rate.
pub const STORY_PRIOR_WEIGHT: f64 = 20.0;

/// Prior means are kept in `[RATE_FLOOR, 1 - RATE_FLOOR]` so that the log-odds stay finite.
const RATE_FLOOR: f64 = 1e-3;

/// Log-odds `ln(r / (1 - r))` of `r` clamped to `[RATE_FLOOR, 1 - RATE_FLOOR]`.
#[inline]
pub fn logit(r: f64) -> f64 {
    let r = r.clamp(RATE_FLOOR, 1.0 - RATE_FLOOR);
    (r / (1.0 - r)).ln()
}

/// The inverse of [`logit`].
#[inline]
pub fn expit(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Log-odds of the posterior mean rate `(min(pos, exp) + k m) / (exp + k)`, `m` clamped to
/// `[RATE_FLOOR, 1 - RATE_FLOOR]` (a count of positive events can exceed the exposures when
/// a viewer takes several actions on one story; it is capped at the exposures). With no
/// exposures it is the prior's log-odds.
#[inline]
pub fn shrunk_logit(pos: f64, exp: f64, prior: f64, k: f64) -> f64 {
    let m = prior.clamp(RATE_FLOOR, 1.0 - RATE_FLOOR);
    let exp = exp.max(0.0);
    let pos = pos.clamp(0.0, exp);
    logit((pos + k * m) / (exp + k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_data_gives_the_prior_and_much_data_the_rate() {
        assert!((shrunk_logit(0.0, 0.0, 0.2, 10.0) - logit(0.2)).abs() < 1e-12);
        // 30% over 100,000 exposures: the prior barely moves it
        let z = shrunk_logit(30_000.0, 100_000.0, 0.05, 10.0);
        assert!((expit(z) - 0.3).abs() < 1e-3, "{}", expit(z));
        // a hand-computed case: (2 + 10 * 0.1) / (8 + 10) = 1/6
        let z = shrunk_logit(2.0, 8.0, 0.1, 10.0);
        assert!((z - (1.0f64 / 5.0).ln()).abs() < 1e-12, "{z}");
    }

    #[test]
    fn ordering_and_bounds() {
        // more positives on the same exposures: higher; zero positives: below the prior
        let a = shrunk_logit(1.0, 20.0, 0.1, 10.0);
        let b = shrunk_logit(5.0, 20.0, 0.1, 10.0);
        assert!(b > a && a < logit(0.1));
        // positives above the exposures are capped; a prior of 0 or 1 stays finite
        assert_eq!(
            shrunk_logit(50.0, 20.0, 0.1, 10.0),
            shrunk_logit(20.0, 20.0, 0.1, 10.0)
        );
        assert!(shrunk_logit(0.0, 0.0, 0.0, 10.0).is_finite());
        assert!(shrunk_logit(3.0, 3.0, 1.0, 10.0).is_finite());
        assert!((expit(logit(0.37)) - 0.37).abs() < 1e-12);
    }
}
