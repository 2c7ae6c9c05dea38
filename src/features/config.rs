//! `[features]` settings: how features are computed. Saved inside the model file, since
//! scoring must use the same settings as training. Also [`SettingError`], the error every
//! section of the configuration (`crate::config`) reports a bad value with.

/// A configuration value outside its allowed range: the key, what is allowed and, where it
/// helps, the value found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} must be {expected}{}", found.as_ref().map(|f| format!(", found {f}")).unwrap_or_default())]
pub struct SettingError {
    /// The setting, as `section.key` (e.g. `features.decay_per_day`).
    pub key: &'static str,
    /// What is allowed (e.g. `in (0, 1]`).
    pub expected: &'static str,
    /// The value found, when the message shows it.
    pub found: Option<String>,
}

impl SettingError {
    /// `key` must be `expected` (the value is not shown).
    pub fn new(key: &'static str, expected: &'static str) -> Self {
        Self {
            key,
            expected,
            found: None,
        }
    }

    /// `key` must be `expected`, and `found` was given.
    pub fn found(key: &'static str, expected: &'static str, found: impl ToString) -> Self {
        Self {
            key,
            expected,
            found: Some(found.to_string()),
        }
    }
}

/// `[features]`: how features are computed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// Per-day multiplicative decay of past interactions (Twitter RealGraph: 0.955, a half-life
    /// of about 15 days). An action `d` days (fractional) before `as_of` weighs `decay^d`.
    pub decay_per_day: f64,
    /// Window (days) for the author's recent engagement rate. Default 7.
    pub author_rate_window_days: f64,
    /// Cap for `days_since_interaction`; also its value when there was never an interaction.
    /// Default 365.
    pub max_days_since: f64,
    /// Normalised dispersion `(disp + b)^alpha / (emb + c)`; default networkx's 1, 0, 0.
    pub disp_alpha: f64,
    pub disp_b: f64,
    pub disp_c: f64,
    /// Rounds of recursive dispersion. Default 3.
    pub recursive_rounds: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            decay_per_day: 0.955,
            author_rate_window_days: 7.0,
            max_days_since: 365.0,
            disp_alpha: 1.0,
            disp_b: 0.0,
            disp_c: 0.0,
            recursive_rounds: 3,
        }
    }
}

impl FeatureConfig {
    /// The graph-signal parameters these settings imply.
    pub fn signal_params(&self) -> crate::graph::SignalParams {
        crate::graph::SignalParams {
            alpha: self.disp_alpha,
            b: self.disp_b,
            c: self.disp_c,
            rounds: self.recursive_rounds,
        }
    }

    /// Checks every value.
    ///
    /// # Errors
    /// [`SettingError`] naming the first bad key.
    pub fn validate(&self) -> Result<(), SettingError> {
        if !(self.decay_per_day > 0.0 && self.decay_per_day <= 1.0) {
            return Err(SettingError::found(
                "features.decay_per_day",
                "in (0, 1]",
                self.decay_per_day,
            ));
        }
        if !(self.author_rate_window_days > 0.0 && self.author_rate_window_days.is_finite()) {
            return Err(SettingError::new(
                "features.author_rate_window_days",
                "positive",
            ));
        }
        if !(self.max_days_since > 0.0 && self.max_days_since.is_finite()) {
            return Err(SettingError::new("features.max_days_since", "positive"));
        }
        if ![self.disp_alpha, self.disp_b, self.disp_c]
            .iter()
            .all(|v| v.is_finite())
        {
            return Err(SettingError::new(
                "features.disp_alpha/disp_b/disp_c",
                "finite",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_the_key() {
        assert_eq!(FeatureConfig::default().validate(), Ok(()));
        let c = FeatureConfig {
            decay_per_day: 1.5,
            ..Default::default()
        };
        let e = c.validate().unwrap_err();
        assert_eq!(e.key, "features.decay_per_day");
        assert_eq!(
            e.to_string(),
            "features.decay_per_day must be in (0, 1], found 1.5"
        );
        let c = FeatureConfig {
            max_days_since: 0.0,
            ..Default::default()
        };
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "features.max_days_since must be positive"
        );
    }
}
