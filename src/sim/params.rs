//! Simulator parameters: an unchecked builder ([`SimParams`]) whose fields document their
//! defaults, and [`SimParams::check`] which validates them into [`CheckedSimParams`], the only
//! type [`crate::sim::simulate_checked`] accepts.

use super::SimError;
use crate::util::time::DAY;

/// Every simulator setting. `SimParams::default()` is the documented default world
/// (`graph_data/sample/`). Setters return `self` so they chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimParams {
    /// Number of users (default 2,000).
    pub users: usize,
    /// Simulated days with sessions (default 14).
    pub days: u32,
    /// Master seed (default 42). All randomness derives from (seed, stream, user, day).
    pub seed: u64,
    /// Unix time of midnight of day 0 (default 1,704,067,200 = 2024-01-01 UTC).
    pub start: i64,
    /// Smallest circle size (default 4). Circle sizes are discrete Pareto.
    pub circle_min: usize,
    /// Pareto tail exponent of circle sizes (default 1.5; smaller = heavier tail).
    pub circle_alpha: f64,
    /// Largest circle size (default 300).
    pub circle_max: usize,
    /// Mean number of within-circle friends drawn per member of a circle larger than 10
    /// (default 5), times `(size / 10)^0.3` and the member's sociability (log-normal, sigma
    /// 0.9, mean 1). Circles of at most 10 are near-cliques (each pair with probability 0.7).
    pub within_degree: f64,
    /// Mean triadic-closure edges per user, scaled by sociability (default 2).
    pub closure: f64,
    /// Mean long-range (uniformly random) edges per user (default 0.5).
    pub long_range: f64,
    /// Share of users who have a partner (default 0.3).
    pub partner_share: f64,
    /// Mean number of close friends per user, partner included (default 3).
    pub close_friends: f64,
    /// Number of story topics (default 30).
    pub topics: usize,
    /// Rank of the latent taste factors (default 6).
    pub taste_dim: usize,
    /// Mean stories per user per day (default 0.25); author activity is log-normal (sigma 1),
    /// so a few authors post most stories.
    pub stories_per_day: f64,
    /// Mean sessions per user per day (default 0.8); per-user rates are log-normal (sigma 0.5).
    pub sessions_per_day: f64,
    /// Impressions shown per session (default 5).
    pub impressions_per_session: usize,
    /// Candidate window of the logging policy in days (default 3).
    pub window_days: u32,
    /// Weight of the noise in the logging policy's score `-age_days + noise * N(0,1)`
    /// (default 0.8).
    pub policy_noise: f64,
    /// Score penalty of out-of-network candidates in the logging policy (default 0.5).
    pub policy_oon_penalty: f64,
    /// Days of direct-interaction history before day 0 (default 28).
    pub warmup_days: u32,
    /// Daily direct-interaction rate towards the partner (default 0.5).
    pub rate_partner: f64,
    /// Daily direct-interaction rate towards each close friend (default 0.15).
    pub rate_close: f64,
    /// Daily direct-interaction rate towards every other friend (default 0.004).
    pub rate_other: f64,
    /// Per-day decay of tie strength (default 0.955, Twitter's RealGraph).
    pub tie_decay: f64,
}

impl Default for SimParams {
    fn default() -> Self {
        Self {
            users: 2_000,
            days: 14,
            seed: 42,
            start: 1_704_067_200,
            circle_min: 4,
            circle_alpha: 1.5,
            circle_max: 300,
            within_degree: 5.0,
            closure: 2.0,
            long_range: 0.5,
            partner_share: 0.3,
            close_friends: 3.0,
            topics: 30,
            taste_dim: 6,
            stories_per_day: 0.25,
            sessions_per_day: 0.8,
            impressions_per_session: 5,
            window_days: 3,
            policy_noise: 0.8,
            policy_oon_penalty: 0.5,
            warmup_days: 28,
            rate_partner: 0.5,
            rate_close: 0.15,
            rate_other: 0.004,
            tie_decay: 0.955,
        }
    }
}

impl SimParams {
    /// The defaults with `users`, `days` and `seed` set.
    pub fn new(users: usize, days: u32, seed: u64) -> Self {
        Self {
            users,
            days,
            seed,
            ..Self::default()
        }
    }

    /// Sets the number of users (default 2,000).
    pub fn users(mut self, n: usize) -> Self {
        self.users = n;
        self
    }
    /// Sets the number of days (default 14).
    pub fn days(mut self, d: u32) -> Self {
        self.days = d;
        self
    }
    /// Sets the seed (default 42).
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// Sets the impressions per session (default 5).
    pub fn impressions_per_session(mut self, k: usize) -> Self {
        self.impressions_per_session = k;
        self
    }
    /// Sets the mean sessions per user per day (default 0.8).
    pub fn sessions_per_day(mut self, s: f64) -> Self {
        self.sessions_per_day = s;
        self
    }
    /// Sets the partner share (default 0.3).
    pub fn partner_share(mut self, s: f64) -> Self {
        self.partner_share = s;
        self
    }

    /// Validates every field.
    ///
    /// # Errors
    /// [`SimError::InvalidParam`] naming the first bad field and why.
    pub fn check(&self) -> Result<CheckedSimParams, SimError> {
        fn bad(name: &'static str, message: String) -> Result<CheckedSimParams, SimError> {
            Err(SimError::InvalidParam { name, message })
        }
        let p = self;
        if p.users < 2 || p.users > u32::MAX as usize / 2 {
            return bad("users", format!("must be in 2..=2^31, got {}", p.users));
        }
        if p.days == 0 || p.days > 3650 {
            return bad("days", format!("must be in 1..=3650, got {}", p.days));
        }
        if p.circle_min < 2 || p.circle_max < p.circle_min {
            return bad(
                "circle_min",
                format!(
                    "need 2 <= circle_min <= circle_max, got {} and {}",
                    p.circle_min, p.circle_max
                ),
            );
        }
        if p.topics == 0 || p.topics > 100_000 {
            return bad("topics", format!("must be in 1..=100000, got {}", p.topics));
        }
        if p.taste_dim == 0 || p.taste_dim > 256 {
            return bad(
                "taste_dim",
                format!("must be in 1..=256, got {}", p.taste_dim),
            );
        }
        if p.impressions_per_session == 0 || p.impressions_per_session > 1000 {
            return bad(
                "impressions_per_session",
                format!("must be in 1..=1000, got {}", p.impressions_per_session),
            );
        }
        if p.window_days == 0 || p.window_days > 60 {
            return bad(
                "window_days",
                format!("must be in 1..=60, got {}", p.window_days),
            );
        }
        for (name, v) in [
            ("partner_share", p.partner_share),
            ("tie_decay", p.tie_decay),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(name, format!("must be in [0, 1], got {v}"));
            }
        }
        for (name, v, max) in [
            ("circle_alpha", p.circle_alpha, 10.0),
            ("within_degree", p.within_degree, 1000.0),
            ("closure", p.closure, 1000.0),
            ("long_range", p.long_range, 1000.0),
            ("close_friends", p.close_friends, 1000.0),
            ("stories_per_day", p.stories_per_day, 100.0),
            ("sessions_per_day", p.sessions_per_day, 100.0),
            ("policy_noise", p.policy_noise, 100.0),
            ("policy_oon_penalty", p.policy_oon_penalty, 100.0),
            ("rate_partner", p.rate_partner, 100.0),
            ("rate_close", p.rate_close, 100.0),
            ("rate_other", p.rate_other, 100.0),
        ] {
            if !(v.is_finite() && (0.0..=max).contains(&v)) {
                return bad(name, format!("must be finite and in [0, {max}], got {v}"));
            }
        }
        if p.circle_alpha <= 0.0 {
            return bad("circle_alpha", "must be > 0".to_string());
        }
        if p.warmup_days > 3650 {
            return bad(
                "warmup_days",
                format!("must be at most 3650, got {}", p.warmup_days),
            );
        }
        let span = (p.days as i64 + p.warmup_days as i64 + 1) * DAY;
        if p.start.checked_sub(span).is_none() || p.start.checked_add(span).is_none() {
            return bad("start", format!("out of range: {}", p.start));
        }
        Ok(CheckedSimParams(p.clone()))
    }

    /// Every parameter as a TOML table (recorded in `world.toml`).
    pub fn to_toml(&self) -> toml::Table {
        toml::Table::try_from(self).unwrap_or_default()
    }
}

/// Validated parameters (built only by [`SimParams::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedSimParams(SimParams);

impl std::ops::Deref for CheckedSimParams {
    type Target = SimParams;
    fn deref(&self) -> &SimParams {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_bad_values_are_named() {
        assert!(SimParams::default().check().is_ok());
        let e = SimParams::default().users(1).check().unwrap_err();
        assert!(matches!(e, SimError::InvalidParam { name: "users", .. }));
        let e = SimParams::default().partner_share(1.5).check().unwrap_err();
        assert!(matches!(
            e,
            SimError::InvalidParam {
                name: "partner_share",
                ..
            }
        ));
        let e = SimParams::default()
            .sessions_per_day(f64::NAN)
            .check()
            .unwrap_err();
        assert!(matches!(
            e,
            SimError::InvalidParam {
                name: "sessions_per_day",
                ..
            }
        ));
        let t = SimParams::default().to_toml();
        assert_eq!(t.get("users").and_then(|v| v.as_integer()), Some(2000));
    }
}
