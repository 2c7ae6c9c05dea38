//! Ranking parameters: [`RankConfig`] is the `[rank]` section of the TOML config (every field
//! optional, defaults documented), [`RankConfig::check`] validates it into [`RankParams`]
//! (times in seconds), the only type the ranking functions accept.
use super::RankError;

/// The `[rank]` section of the configuration. Unchecked; call [`RankConfig::check`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankConfig {
    /// Feed length K. Default 50.
    pub k: usize,
    /// In-network source: friends' stories created within this many hours before `as_of`.
    /// Default 72.
    pub in_network_window_hours: f64,
    /// In-network cap (the newest are kept). Default 500 (X: 500 per source).
    pub in_network_cap: usize,
    /// Out-of-network source: stories that at least this many distinct friends engaged with
    /// positively (within `out_of_network_window_hours` before `as_of`). Default 2.
    pub out_of_network_min_friends: u32,
    /// Out-of-network engagement window in hours. Default 72.
    pub out_of_network_window_hours: f64,
    /// Out-of-network cap (the most-engaged, then newest, are kept). Default 500.
    pub out_of_network_cap: usize,
    /// Filter: stories created more than this many hours before `as_of`. Default 72 (X: 48).
    pub max_age_hours: f64,
    /// Filter: authors the viewer hid within this many days before `as_of`. Default 7.
    pub hide_filter_days: f64,
    /// Fatigue: authors hidden before the filter window but within this many days are
    /// discounted by `hide_discount`. Default 30.
    pub hide_discount_days: f64,
    /// Fatigue multiplier. Default 0.5.
    pub hide_discount: f64,
    /// Author diversity decay: multiplier `(1 - floor) * decay^pos + floor`. Default 0.5.
    pub diversity_decay: f64,
    /// Author diversity floor. Default 0.25.
    pub diversity_floor: f64,
    /// Out-of-network multiplier. Default 0.75.
    pub out_of_network_factor: f64,
    /// Fallback (users with no candidates): stories created and engaged within this many
    /// hours before `as_of`, most positive engagements first. Default 72.
    pub fallback_window_hours: f64,
    /// Fallback pool size. Default 500.
    pub fallback_cap: usize,
}

impl Default for RankConfig {
    fn default() -> Self {
        Self {
            k: 50,
            in_network_window_hours: 72.0,
            in_network_cap: 500,
            out_of_network_min_friends: 2,
            out_of_network_window_hours: 72.0,
            out_of_network_cap: 500,
            max_age_hours: 72.0,
            hide_filter_days: 7.0,
            hide_discount_days: 30.0,
            hide_discount: 0.5,
            diversity_decay: 0.5,
            diversity_floor: 0.25,
            out_of_network_factor: 0.75,
            fallback_window_hours: 72.0,
            fallback_cap: 500,
        }
    }
}

/// Validated parameters, times converted to seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RankParams {
    pub k: usize,
    pub in_network_window: i64,
    pub in_network_cap: usize,
    pub oon_min_friends: u32,
    pub oon_window: i64,
    pub oon_cap: usize,
    pub max_age: i64,
    pub hide_filter: i64,
    pub hide_discount_window: i64,
    pub hide_discount: f64,
    pub diversity_decay: f64,
    pub diversity_floor: f64,
    pub oon_factor: f64,
    pub fallback_window: i64,
    pub fallback_cap: usize,
    /// The configuration these were checked from.
    pub config: RankConfig,
}

impl Default for RankParams {
    fn default() -> Self {
        RankConfig::default()
            .check()
            .expect("invariant: the defaults are valid")
    }
}

fn hours(name: &'static str, h: f64) -> Result<i64, RankError> {
    if !(h.is_finite() && (0.0..=1e7).contains(&h)) {
        return Err(RankError::InvalidParam {
            name,
            message: format!("expected a number of hours in 0..=1e7, found {h}"),
        });
    }
    Ok((h * 3600.0).round() as i64)
}

fn unit(name: &'static str, x: f64) -> Result<f64, RankError> {
    if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
        return Err(RankError::InvalidParam {
            name,
            message: format!("expected a multiplier in [0, 1], found {x}"),
        });
    }
    Ok(x)
}

impl RankConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`RankError::InvalidParam`] naming the field: K or a cap of 0, a negative or
    /// non-finite window, a multiplier outside `[0, 1]` (the diversity floor, the decay, the
    /// out-of-network factor and the hide discount), a hide discount window shorter than the
    /// hide filter window, or `out_of_network_min_friends` of 0.
    pub fn check(&self) -> Result<RankParams, RankError> {
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(RankError::InvalidParam {
                    name,
                    message: "must be at least 1".into(),
                })
            } else {
                Ok(v)
            }
        };
        let hide_filter = hours("hide_filter_days", self.hide_filter_days * 24.0)?;
        let hide_discount_window = hours("hide_discount_days", self.hide_discount_days * 24.0)?;
        if hide_discount_window < hide_filter {
            return Err(RankError::InvalidParam {
                name: "hide_discount_days",
                message: format!(
                    "must be at least hide_filter_days ({}), found {}",
                    self.hide_filter_days, self.hide_discount_days
                ),
            });
        }
        if self.out_of_network_min_friends == 0 {
            return Err(RankError::InvalidParam {
                name: "out_of_network_min_friends",
                message: "must be at least 1".into(),
            });
        }
        Ok(RankParams {
            k: positive("k", self.k)?,
            in_network_window: hours("in_network_window_hours", self.in_network_window_hours)?,
            in_network_cap: positive("in_network_cap", self.in_network_cap)?,
            oon_min_friends: self.out_of_network_min_friends,
            oon_window: hours(
                "out_of_network_window_hours",
                self.out_of_network_window_hours,
            )?,
            oon_cap: positive("out_of_network_cap", self.out_of_network_cap)?,
            max_age: hours("max_age_hours", self.max_age_hours)?,
            hide_filter,
            hide_discount_window,
            hide_discount: unit("hide_discount", self.hide_discount)?,
            diversity_decay: unit("diversity_decay", self.diversity_decay)?,
            diversity_floor: unit("diversity_floor", self.diversity_floor)?,
            oon_factor: unit("out_of_network_factor", self.out_of_network_factor)?,
            fallback_window: hours("fallback_window_hours", self.fallback_window_hours)?,
            fallback_cap: positive("fallback_cap", self.fallback_cap)?,
            config: self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_check_and_convert_to_seconds() {
        let p = RankConfig::default().check().unwrap();
        assert_eq!(p.k, 50);
        assert_eq!(p.in_network_window, 72 * 3600);
        assert_eq!(p.hide_filter, 7 * 86400);
        assert_eq!(p.hide_discount_window, 30 * 86400);
        assert_eq!(p.oon_min_friends, 2);
    }

    #[test]
    fn toml_section_overrides_some_fields() {
        let c: RankConfig = toml::from_str("k = 10\ndiversity_floor = 0.5\n").unwrap();
        assert_eq!(c.k, 10);
        assert_eq!(c.diversity_floor, 0.5);
        assert_eq!(c.diversity_decay, 0.5);
        assert!(toml::from_str::<RankConfig>("kk = 1").is_err());
    }

    #[test]
    fn invalid_values_name_the_field() {
        let bad = RankConfig {
            diversity_floor: 1.5,
            ..RankConfig::default()
        };
        match bad.check() {
            Err(RankError::InvalidParam { name, .. }) => assert_eq!(name, "diversity_floor"),
            other => panic!("expected InvalidParam, got {other:?}"),
        }
        let bad = RankConfig {
            k: 0,
            ..RankConfig::default()
        };
        assert!(matches!(
            bad.check(),
            Err(RankError::InvalidParam { name: "k", .. })
        ));
        let bad = RankConfig {
            hide_discount_days: 1.0,
            ..RankConfig::default()
        };
        assert!(bad.check().is_err());
    }
}
