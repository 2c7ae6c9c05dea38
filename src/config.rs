//! The TOML configuration (`feedrank.toml`): one section per stage. Takes a file or a string,
//! hands on a checked [`Config`] whose sections the feature extractor (`[features]`), the
//! trainer (`[model]`) and the value score (`[value]`) read. Every field has a documented
//! default, so an empty file (or no file) is a valid configuration. Unknown keys inside a known
//! section are errors (typos should not pass silently); unknown top-level sections are kept in
//! [`Config::other`] for stages that read their own section.
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
//! ablate = []                    # groups left out: graph, dispersion, tie_strength, mf, personalisation
//!
//! [value]
//! click = 1.0
//! like = 2.0
//! comment = 4.0
//! share = 6.0
//! hide = -10.0
//! ```
use crate::model::ModelError;
use crate::world::Action;
use std::path::Path;

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

/// `[features]`: how features are computed. Saved inside the model file, since scoring must
/// use the same settings as training.
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
    /// so it is scaled by the row count (field notes, section 5). Default 1e-5.
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
    /// Feature groups left out of training (ablations): `graph`, `dispersion`,
    /// `tie_strength`, `mf`, `personalisation`. Default none.
    pub ablate: Vec<String>,
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
            ablate: Vec::new(),
        }
    }
}

/// Feature groups that `model.ablate` (and `feedrank eval --ablate`) can leave out.
pub const ABLATION_GROUPS: [&str; 6] = [
    "graph",
    "dispersion",
    "tie_strength",
    "mf",
    "topic_taste",
    "personalisation",
];

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

impl Config {
    /// Parses and checks a configuration from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`ModelError::Config`] for TOML syntax, unknown keys, wrong types or invalid values.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ModelError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ModelError::Config {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        cfg.check().map_err(|message| ModelError::Config {
            origin: origin.to_string(),
            message,
        })?;
        Ok(cfg)
    }

    /// Reads and checks a configuration file.
    ///
    /// # Errors
    /// [`ModelError::Config`] when the file cannot be read or is invalid.
    pub fn load(path: &Path) -> Result<Config, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::Config {
            origin: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Checks every value; returns a message naming the bad key.
    pub fn check(&self) -> Result<(), String> {
        let f = &self.features;
        if !(f.decay_per_day > 0.0 && f.decay_per_day <= 1.0) {
            return Err(format!(
                "features.decay_per_day must be in (0, 1], found {}",
                f.decay_per_day
            ));
        }
        if !(f.author_rate_window_days > 0.0 && f.author_rate_window_days.is_finite()) {
            return Err("features.author_rate_window_days must be positive".into());
        }
        if !(f.max_days_since > 0.0 && f.max_days_since.is_finite()) {
            return Err("features.max_days_since must be positive".into());
        }
        if ![f.disp_alpha, f.disp_b, f.disp_c]
            .iter()
            .all(|v| v.is_finite())
        {
            return Err("features.disp_alpha/disp_b/disp_c must be finite".into());
        }
        let m = &self.model;
        if !(m.validation_fraction >= 0.0 && m.validation_fraction < 1.0) {
            return Err(format!(
                "model.validation_fraction must be in [0, 1), found {}",
                m.validation_fraction
            ));
        }
        if m.l2_grid.is_empty() || m.l2_grid.iter().any(|l| !(l.is_finite() && *l >= 0.0)) {
            return Err("model.l2_grid must be a non-empty list of finite values >= 0".into());
        }
        if m.grid_max_rows < 100 {
            return Err("model.grid_max_rows must be at least 100".into());
        }
        if !(m.gradient_tolerance_per_row > 0.0 && m.gradient_tolerance_per_row.is_finite()) {
            return Err("model.gradient_tolerance_per_row must be positive".into());
        }
        if m.max_iterations == 0 {
            return Err("model.max_iterations must be at least 1".into());
        }
        if !(m.negative_downsampling > 0.0 && m.negative_downsampling <= 1.0) {
            return Err(format!(
                "model.negative_downsampling must be in (0, 1], found {}",
                m.negative_downsampling
            ));
        }
        if !["auto", "als", "bpr", "logistic"].contains(&m.mf_method.as_str()) {
            return Err(format!(
                "model.mf_method must be \"auto\", \"als\", \"bpr\" or \"logistic\", found {:?}",
                m.mf_method
            ));
        }
        if !(1..=256).contains(&m.mf_factors) {
            return Err("model.mf_factors must be in 1..=256".into());
        }
        if m.personal_l2_grid.is_empty()
            || m.personal_l2_grid
                .iter()
                .any(|l| !(l.is_finite() && *l > 0.0))
        {
            return Err("model.personal_l2_grid must be a non-empty list of values > 0".into());
        }
        for g in &m.ablate {
            if !ABLATION_GROUPS.contains(&g.as_str()) {
                return Err(format!(
                    "model.ablate: unknown group {g:?} (known: {})",
                    ABLATION_GROUPS.join(", ")
                ));
            }
        }
        if self.value.as_array().iter().any(|w| !w.is_finite()) {
            return Err("value weights must be finite".into());
        }
        Ok(())
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
}
