//! A trained model's parameters (schema, scaler, heads, value weights) and its training
//! metadata, and the per-row scoring arithmetic shared by [`super::ModelScorer`] and training.
use super::mf::MfModel;
use super::personal::{self, Personalisation, P};
use super::scorer::Score;
use crate::config::ValueWeights;
use crate::features::schema::{self, Transform};
use crate::features::{AblationGroup, FeatureConfig};
use crate::util::math::sigmoid;
use crate::world::Action;

/// Per-feature transform and standardisation: `z = (t(x) - mean) / scale`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scaler {
    pub transforms: Vec<Transform>,
    pub mean: Vec<f64>,
    /// Standard deviation of the transformed value (1 when it is 0).
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits on row-major raw rows of width `d`.
    pub fn fit(rows: &[f32], d: usize, transforms: Vec<Transform>) -> Scaler {
        let n = rows.len().checked_div(d).unwrap_or(0);
        let mut mean = vec![0.0; d];
        let mut m2 = vec![0.0; d];
        for (i, row) in rows.chunks_exact(d).enumerate() {
            for j in 0..d {
                let x = transforms[j].apply(row[j] as f64);
                let delta = x - mean[j];
                mean[j] += delta / (i + 1) as f64;
                m2[j] += delta * (x - mean[j]);
            }
        }
        let scale = m2
            .iter()
            .map(|&s| {
                let sd = if n > 1 { (s / n as f64).sqrt() } else { 0.0 };
                if sd > 1e-12 && sd.is_finite() {
                    sd
                } else {
                    1.0
                }
            })
            .collect();
        Scaler {
            transforms,
            mean,
            scale,
        }
    }

    /// Standardises one raw row into `z` (same length).
    #[inline]
    pub fn apply(&self, raw: &[f32], z: &mut [f64]) {
        for j in 0..z.len() {
            z[j] = (self.transforms[j].apply(raw[j] as f64) - self.mean[j]) / self.scale[j];
        }
    }
}

/// One engagement head: `P(action) = sigmoid(intercept + coef . z)`; when negatives were
/// downsampled at rate `w`, `ln(w)` is already added to the intercept (the recalibration
/// `q = p / (p + (1 - p) / w)` of He et al., 2014, in logit form).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub action: Action,
    pub coef: Vec<f64>,
    pub intercept: f64,
}

impl Head {
    #[inline]
    pub fn logit(&self, z: &[f64]) -> f64 {
        self.intercept + self.coef.iter().zip(z).map(|(b, x)| b * x).sum::<f64>()
    }
    #[inline]
    pub fn prob(&self, z: &[f64]) -> f64 {
        sigmoid(self.logit(z))
    }
}

/// What training saw and measured for one head.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadMeta {
    pub action: Action,
    /// Training rows and positives among them.
    pub rows: usize,
    pub positives: usize,
    /// Rows in the final fit (after negative downsampling).
    pub fitted_rows: usize,
    /// Chosen per-row L2 strength.
    pub l2: f64,
    /// Negative downsampling rate used (1 = none).
    pub downsampling: f64,
    /// On the time-based validation split (fit on the earlier part), if it had both classes.
    pub valid_auc: Option<f64>,
    pub valid_logloss: Option<f64>,
    /// Validation log loss per grid value, in `l2_grid` order.
    pub grid_logloss: Vec<f64>,
}

/// Training metadata kept in the model file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingMeta {
    pub world: String,
    /// Training used exposures and labels strictly before this time.
    pub as_of: i64,
    /// Start of the validation period (rows at or after it validate the L2 choice).
    pub valid_from: Option<i64>,
    pub rows: usize,
    pub train_rows: usize,
    pub valid_rows: usize,
    pub heads: Vec<HeadMeta>,
    /// The users of the training world (format 3; `None` for a model built in memory from
    /// rows alone), so that [`super::compat::check_world`] can tell the world apart.
    pub users: Option<super::compat::UserSketch>,
}

/// A trained engagement model: everything needed to score, and how it was trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainedModel {
    pub schema_version: u32,
    pub feature_names: Vec<String>,
    pub feature_config: FeatureConfig,
    pub scaler: Scaler,
    /// Heads in [`Action::ENGAGEMENTS`] order (only actions present in training data).
    pub heads: Vec<Head>,
    pub weights: ValueWeights,
    pub meta: TrainingMeta,
    /// Matrix-factorisation factors behind `mf_author_affinity`/`mf_topic_affinity` (none when
    /// MF is disabled or ablated: the features are then 0).
    pub mf: Option<MfModel>,
    /// Per-viewer offsets (GLMix), if fitted.
    pub personal: Option<Personalisation>,
    /// Groups left out of training (`Config.model.ablate`).
    pub ablate: Vec<AblationGroup>,
}

impl TrainedModel {
    /// The head of an action, if the model has one.
    pub fn head(&self, a: Action) -> Option<&Head> {
        self.heads.iter().find(|h| h.action == a)
    }

    /// The actions the model has heads for.
    pub fn actions(&self) -> Vec<Action> {
        self.heads.iter().map(|h| h.action).collect()
    }

    /// Scores a standardised row with the given weights (in `Action::ENGAGEMENTS` order).
    #[inline]
    pub fn score_z(&self, z: &[f64], weights: &[f64; 5]) -> Score {
        self.score_z_personal(z, weights, None)
    }

    /// As [`TrainedModel::score_z`] with per-viewer offsets (see [`super::personal`]) added
    /// to each head's logit.
    #[inline]
    pub fn score_z_personal(
        &self,
        z: &[f64],
        weights: &[f64; 5],
        offsets: Option<&[[f64; P]; 5]>,
    ) -> Score {
        let mut s = Score::default();
        let inp = personal::inputs(|j| z.get(j).copied().unwrap_or(0.0));
        for h in &self.heads {
            let k = h.action.index() - 1;
            if k < 5 {
                let off = offsets.map_or(0.0, |o| personal::offset_logit(&o[k], &inp));
                let p = sigmoid(h.logit(z) + off);
                s.p[k] = p;
                s.value += weights[k] * p;
            }
        }
        s
    }

    /// Checks internal consistency: this build's schema, dimensions, finiteness.
    ///
    /// # Errors
    /// The first [`ModelDefect`] found.
    pub fn validate(&self) -> Result<(), ModelDefect> {
        let d = schema::NUM_FEATURES;
        if self.schema_version != schema::SCHEMA_VERSION {
            return Err(ModelDefect::SchemaVersion);
        }
        if let Some(index) = self
            .feature_names
            .iter()
            .zip(schema::NAMES.iter())
            .position(|(a, b)| a != b)
        {
            return Err(ModelDefect::FeatureName {
                index,
                found: self.feature_names[index].clone(),
                expected: schema::NAMES[index],
            });
        }
        if self.feature_names.len() != d {
            return Err(ModelDefect::FeatureCount {
                found: self.feature_names.len(),
                expected: d,
            });
        }
        let s = &self.scaler;
        if s.transforms.len() != d || s.mean.len() != d || s.scale.len() != d {
            return Err(ModelDefect::ScalerShape);
        }
        if s.mean.iter().any(|x| !x.is_finite()) {
            return Err(ModelDefect::ScalerMean);
        }
        if s.scale.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(ModelDefect::ScalerScale);
        }
        let mut prev = 0usize;
        for h in &self.heads {
            if h.action == Action::Impression || h.action.index() <= prev {
                return Err(ModelDefect::HeadOrder);
            }
            prev = h.action.index();
            if h.coef.len() != d {
                return Err(ModelDefect::HeadWidth {
                    action: h.action,
                    found: h.coef.len(),
                    expected: d,
                });
            }
            if !h.intercept.is_finite() || h.coef.iter().any(|b| !b.is_finite()) {
                return Err(ModelDefect::HeadParameters { action: h.action });
            }
        }
        if self.weights.as_array().iter().any(|w| !w.is_finite()) {
            return Err(ModelDefect::ValueWeights);
        }
        if let Some(m) = &self.mf {
            m.check().map_err(ModelDefect::Mf)?;
        }
        if let Some(p) = &self.personal {
            p.check().map_err(ModelDefect::Personalisation)?;
        }
        if let Some(u) = &self.meta.users {
            u.check().map_err(ModelDefect::UserSketch)?;
        }
        Ok(())
    }
}

/// What [`TrainedModel::validate`] found wrong with a model: the schema of another build,
/// a non-finite parameter, or parts that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelDefect {
    #[error("different schema version")]
    SchemaVersion,
    /// The first feature whose name differs from this build's schema.
    #[error("feature {index} is `{found}`, this build has `{expected}`")]
    FeatureName {
        index: usize,
        found: String,
        expected: &'static str,
    },
    #[error("{found} features, this build has {expected}")]
    FeatureCount { found: usize, expected: usize },
    #[error("scaler dimensions do not match the schema")]
    ScalerShape,
    #[error("scaler mean")]
    ScalerMean,
    #[error("scaler scale (must be finite and > 0)")]
    ScalerScale,
    #[error("heads are not distinct engagement actions in order")]
    HeadOrder,
    #[error("{} head has {found} coefficients", action.as_str())]
    HeadWidth {
        action: Action,
        found: usize,
        expected: usize,
    },
    #[error("{} head parameters", action.as_str())]
    HeadParameters { action: Action },
    #[error("value weights")]
    ValueWeights,
    /// The matrix-factorisation part failed its own check.
    #[error("{0}")]
    Mf(String),
    /// The per-viewer offsets failed their own check.
    #[error("{0}")]
    Personalisation(String),
    /// The training world's user sketch failed its check.
    #[error("{0}")]
    UserSketch(String),
}

/// The three kinds of [`ModelDefect`], which a model file reports differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefectKind {
    /// Another build's feature schema: retrain the model.
    Schema,
    /// A parameter is NaN or infinite.
    NonFinite,
    /// The parts do not fit together.
    Corrupt,
}

impl ModelDefect {
    /// Which kind of defect this is.
    pub fn kind(&self) -> DefectKind {
        match self {
            ModelDefect::SchemaVersion
            | ModelDefect::FeatureName { .. }
            | ModelDefect::FeatureCount { .. } => DefectKind::Schema,
            ModelDefect::ScalerMean
            | ModelDefect::ScalerScale
            | ModelDefect::HeadParameters { .. }
            | ModelDefect::ValueWeights => DefectKind::NonFinite,
            ModelDefect::ScalerShape
            | ModelDefect::HeadOrder
            | ModelDefect::HeadWidth { .. }
            | ModelDefect::Mf(_)
            | ModelDefect::Personalisation(_)
            | ModelDefect::UserSketch(_) => DefectKind::Corrupt,
        }
    }
}
