//! The TOML configuration (`feedrank.toml`): one section per stage. Takes a file or a string,
//! hands on a checked [`Config`] whose sections the feature extractor (`[features]`), the
//! trainer (`[model]`) and the value score (`[value]`) read. Every field has a documented
//! default, so an empty file (or no file) is a valid configuration. Unknown keys inside a known
//! section are errors (typos should not pass silently); unknown top-level sections are kept in
//! [`Config::other`] for stages that read their own section. The `[features]` section
//! ([`FeatureConfig`]), the ablation groups ([`AblationGroup`]) and the error of a bad value
//! ([`SettingError`]) belong to `crate::features`, the lowest module that needs them, and are
//! re-exported here.
//!
//! ```toml
//! [features]
//! decay_per_day = 0.955          # RealGraph-style per-day decay of tie strength
//! author_rate_window_days = 7.0  # window of the author's recent engagement rate
//! max_days_since = 365.0         # cap (and "never") for days_since_interaction
//! disp_alpha = 1.0               # normalised dispersion (disp + b)^alpha / (emb + c)
//! disp_b = 0.0
//! disp_c = 0.0
//! recursive_rounds = 3
//!
//! [model]
//! validation_fraction = 0.2      # last part of the training period used to choose L2
//! l2_grid = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]   # per-row L2 strengths tried
//! grid_max_rows = 200000         # rows sampled for each grid fit
//! gradient_tolerance_per_row = 1e-5
//! max_iterations = 100
//! negative_downsampling = 1.0    # keep this fraction of negatives (1 = all)
//! max_training_rows = 2000000    # fewer negatives (before features) above this; 0 = no cap
//! seed = 42
//! mf = true                      # matrix-factorisation affinities (ALS / BPR)
//! mf_method = "auto"             # "auto" (ALS or BPR, better on validation), "als", "bpr" or
//!                                # "logistic" (exposure-aware logistic MF with a social prior)
//! mf_factors = 16
//! personalisation = true         # per-viewer offsets (GLMix)
//! personal_l2_grid = [8.0, 32.0, 128.0, 512.0]
//! recalibrate = false            # shift each head's intercept to the validation period's rate
//! ablate = []                    # groups left out: graph, dispersion, tie_strength, mf,
//!                                # topic_taste, personalisation, social
//!
//! [value]
//! click = 1.0
//! like = 2.0
//! comment = 4.0
//! share = 6.0
//! hide = -10.0
//! ```
pub use crate::features::{AblationGroup, FeatureConfig, SettingError};
use crate::world::Action;
use std::path::{Path, PathBuf};

/// Errors reading a configuration: each names where the configuration came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// TOML syntax, an unknown key, a wrong type or an unknown ablation group.
    #[error("configuration {origin}: {error}")]
    Parse {
        origin: String,
        error: Box<toml::de::Error>,
    },
    #[error("configuration {origin}: {setting}")]
    Invalid {
        origin: String,
        setting: SettingError,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Config {
    pub features: FeatureConfig,
    pub model: ModelConfig,
    pub value: ValueWeights,
    /// Sections read by other stages (`[rank]`, `[eval]`, ...), kept as parsed.
    #[serde(flatten)]
    pub other: toml::Table,
}

/// `[model]`: how the engagement heads are trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Fraction of the training period (by time, the latest part) held out to choose L2.
    /// Default 0.2.
    pub validation_fraction: f64,
    /// Per-row L2 strengths tried; linfa's `alpha` is this times the number of fitted rows
    /// (its loss is a sum, not a mean). Default `[1e-6, 1e-5, 1e-4, 1e-3, 1e-2]`.
    pub l2_grid: Vec<f64>,
    /// At most this many rows (seeded sample) per grid fit and for validation. Default 200,000.
    pub grid_max_rows: usize,
    /// L-BFGS gradient tolerance per row: linfa's tolerance is absolute on a summed gradient,
    /// so it is scaled by the row count. Default 1e-5.
    pub gradient_tolerance_per_row: f64,
    /// L-BFGS iteration cap. Default 100.
    pub max_iterations: u64,
    /// Keep this fraction `w` of negatives per head (1 = no downsampling); probabilities are
    /// recalibrated `q = p / (p + (1 - p) / w)` (He et al., 2014). Default 1.
    pub negative_downsampling: f64,
    /// Budget of training rows: when the exposures before `as_of` (after
    /// `negative_downsampling`) exceed it, negatives are downsampled further, before their
    /// features are computed, so that about this many rows remain (recalibrated as above).
    /// Keeps inferred-exposure worlds (Ciao: 17 million friend-of-author exposures) within a
    /// few GiB. 0 = no budget. Default 2,000,000.
    pub max_training_rows: usize,
    /// Seed of every sample drawn during training. Default 42.
    pub seed: u64,
    /// Matrix factorisation (viewer x author, viewer x topic) for `mf_author_affinity` /
    /// `mf_topic_affinity`. Default true.
    pub mf: bool,
    /// `"auto"` (fit implicit ALS and BPR, keep the better on the validation period), `"als"`,
    /// `"bpr"` or `"logistic"` (exposure-aware logistic MF with a social prior, opt-in).
    /// Default `"auto"`.
    pub mf_method: String,
    /// Factors per vector. Default 16.
    pub mf_factors: usize,
    /// Per-viewer offsets on the global model (GLMix). Default true.
    pub personalisation: bool,
    /// Prior precisions tried for the per-viewer offsets (larger = more shrinkage towards the
    /// global model); chosen per head on the validation split. Default `[8, 32, 128, 512]`.
    pub personal_l2_grid: Vec<f64>,
    /// Recalibrate each head on the most recent held-out period: the intercept shift that makes
    /// the validation split's predicted positives (of the head fitted on the earlier split)
    /// equal its observed positives is added to the final head, so a base rate that drifts
    /// over time is extrapolated to the test period instead of averaged over the training
    /// period. Default false: on the 20k simulated worlds it moved calibration both ways
    /// (docs/quality-levers.md).
    pub recalibrate: bool,
    /// Groups left out of training (ablations): `graph`, `dispersion`, `tie_strength`, `mf`,
    /// `topic_taste`, `personalisation`, `social` (see [`AblationGroup`]). Default none.
    pub ablate: Vec<AblationGroup>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            validation_fraction: 0.2,
            l2_grid: vec![1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
            grid_max_rows: 200_000,
            gradient_tolerance_per_row: 1e-5,
            max_iterations: 100,
            negative_downsampling: 1.0,
            max_training_rows: 2_000_000,
            seed: 42,
            mf: true,
            mf_method: "auto".into(),
            mf_factors: 16,
            personalisation: true,
            personal_l2_grid: vec![8.0, 32.0, 128.0, 512.0],
            recalibrate: false,
            ablate: Vec::new(),
        }
    }
}

/// `[value]`: weights of the value score `V = sum_k w_k * P_k` (negative for hide), so ranking
/// policy changes without retraining. Defaults: click 1, like 2, comment 4, share 6, hide -10.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueWeights {
    pub click: f64,
    pub like: f64,
    pub comment: f64,
    pub share: f64,
    pub hide: f64,
}

impl Default for ValueWeights {
    fn default() -> Self {
        Self {
            click: 1.0,
            like: 2.0,
            comment: 4.0,
            share: 6.0,
            hide: -10.0,
        }
    }
}

impl ValueWeights {
    /// Checks that every weight is finite.
    ///
    /// # Errors
    /// [`SettingError`] when a weight is not finite.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.as_array().iter().any(|w| !w.is_finite()) {
            return Err(SettingError::new("value weights", "finite"));
        }
        Ok(())
    }

    /// Weights in [`Action::ENGAGEMENTS`] order.
    pub fn as_array(&self) -> [f64; 5] {
        [self.click, self.like, self.comment, self.share, self.hide]
    }

    /// The weight of one engagement action (0 for impressions).
    pub fn weight(&self, a: Action) -> f64 {
        match a {
            Action::Impression => 0.0,
            Action::Click => self.click,
            Action::Like => self.like,
            Action::Comment => self.comment,
            Action::Share => self.share,
            Action::Hide => self.hide,
        }
    }
}

impl ModelConfig {
    /// Whether `group` is left out of training.
    pub fn ablates(&self, group: AblationGroup) -> bool {
        self.ablate.contains(&group)
    }

    /// Checks every value.
    ///
    /// # Errors
    /// [`SettingError`] naming the first bad key.
    pub fn validate(&self) -> Result<(), SettingError> {
        if !(self.validation_fraction >= 0.0 && self.validation_fraction < 1.0) {
            return Err(SettingError::found(
                "model.validation_fraction",
                "in [0, 1)",
                self.validation_fraction,
            ));
        }
        if self.l2_grid.is_empty() || self.l2_grid.iter().any(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err(SettingError::new(
                "model.l2_grid",
                "a non-empty list of finite values >= 0",
            ));
        }
        if self.grid_max_rows < 100 {
            return Err(SettingError::new("model.grid_max_rows", "at least 100"));
        }
        if !(self.gradient_tolerance_per_row > 0.0 && self.gradient_tolerance_per_row.is_finite()) {
            return Err(SettingError::new(
                "model.gradient_tolerance_per_row",
                "positive",
            ));
        }
        if self.max_iterations == 0 {
            return Err(SettingError::new("model.max_iterations", "at least 1"));
        }
        if !(self.negative_downsampling > 0.0 && self.negative_downsampling <= 1.0) {
            return Err(SettingError::found(
                "model.negative_downsampling",
                "in (0, 1]",
                self.negative_downsampling,
            ));
        }
        if !["auto", "als", "bpr", "logistic"].contains(&self.mf_method.as_str()) {
            return Err(SettingError::found(
                "model.mf_method",
                "\"auto\", \"als\", \"bpr\" or \"logistic\"",
                format!("{:?}", self.mf_method),
            ));
        }
        if !(1..=256).contains(&self.mf_factors) {
            return Err(SettingError::new("model.mf_factors", "in 1..=256"));
        }
        if self.personal_l2_grid.is_empty()
            || self
                .personal_l2_grid
                .iter()
                .any(|l| !(l.is_finite() && *l > 0.0))
        {
            return Err(SettingError::new(
                "model.personal_l2_grid",
                "a non-empty list of values > 0",
            ));
        }
        Ok(())
    }
}

impl Config {
    /// Parses and checks a configuration from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for TOML syntax, unknown keys, wrong types or unknown ablation
    /// groups; [`ConfigError::Invalid`] for a value out of range.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            error: Box::new(e),
        })?;
        cfg.validate().map_err(|setting| ConfigError::Invalid {
            origin: origin.to_string(),
            setting,
        })?;
        Ok(cfg)
    }

    /// Reads and checks a configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read, else as [`Config::from_toml_str`].
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks every value of every section.
    ///
    /// # Errors
    /// [`SettingError`] naming the first bad key.
    pub fn validate(&self) -> Result<(), SettingError> {
        self.features.validate()?;
        self.model.validate()?;
        self.value.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_gives_documented_defaults() {
        let c = Config::from_toml_str("", "test").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.features.decay_per_day, 0.955);
        assert_eq!(c.value.as_array(), [1.0, 2.0, 4.0, 6.0, -10.0]);
    }

    #[test]
    fn sections_override_and_other_sections_are_kept() {
        let c = Config::from_toml_str(
            "[value]\nhide = -50.0\n[model]\nl2_grid = [0.1]\n[rank]\nk = 3\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.value.hide, -50.0);
        assert_eq!(c.value.click, 1.0);
        assert_eq!(c.model.l2_grid, vec![0.1]);
        assert!(c.other.contains_key("rank"));
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let e = Config::from_toml_str("[value]\nlikes = 3.0\n", "t").unwrap_err();
        assert!(e.to_string().contains("likes"), "{e}");
        let e = Config::from_toml_str("[features]\ndecay_per_day = 1.5\n", "t").unwrap_err();
        assert!(e.to_string().contains("decay_per_day"), "{e}");
        let e = Config::from_toml_str("[model]\nnegative_downsampling = 0\n", "t").unwrap_err();
        assert!(e.to_string().contains("negative_downsampling"), "{e}");
    }

    #[test]
    fn a_bad_value_is_a_structured_error() {
        let e = Config::from_toml_str("[features]\ndecay_per_day = 1.5\n", "t.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "configuration t.toml: features.decay_per_day must be in (0, 1], found 1.5"
        );
        let ConfigError::Invalid { setting, .. } = e else {
            panic!("{e:?}");
        };
        assert_eq!(setting.key, "features.decay_per_day");
        let mut c = Config::default();
        c.model.mf_method = "svd".into();
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "model.mf_method must be \"auto\", \"als\", \"bpr\" or \"logistic\", found \"svd\""
        );
        c.model.mf_method = "auto".into();
        c.value.hide = f64::NAN;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "value weights must be finite"
        );
    }

    #[test]
    fn ablation_groups_are_read_by_name() {
        let c = Config::from_toml_str("[model]\nablate = [\"graph\", \"mf\"]\n", "t").unwrap();
        assert_eq!(c.model.ablate, [AblationGroup::Graph, AblationGroup::Mf]);
        assert!(c.model.ablates(AblationGroup::Mf) && !c.model.ablates(AblationGroup::Dispersion));
        let e = Config::from_toml_str("[model]\nablate = [\"graphs\"]\n", "t").unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e:?}");
        assert!(e.to_string().contains("unknown group \"graphs\""), "{e}");
    }
}
