//! [`ModelScorer`]: the trained model applied through the [`Scorer`] contract. Per viewer it
//! builds the feature context and scratch buffers once; per candidate it writes the feature row,
//! standardises it and evaluates each head without allocating.
use super::scorer::{Contribution, Explanation, Score, Scorer};
use super::trained::TrainedModel;
use super::ModelError;
use crate::config::ValueWeights;
use crate::features::{FeatureSpace, ViewerContext, NAMES, NUM_FEATURES};
use crate::world::Action;

/// A trained model bound to a feature space built with the model's feature settings.
pub struct ModelScorer<'a> {
    fs: &'a FeatureSpace<'a>,
    model: &'a TrainedModel,
    weights: [f64; 5],
}

/// Per-viewer state of [`ModelScorer`]: the feature context (or the error that prevented it,
/// e.g. an unknown viewer, in which case every score is 0) and scratch rows.
pub struct ModelViewer {
    ctx: Option<ViewerContext>,
    raw: Vec<f32>,
    z: Vec<f64>,
}

impl ModelViewer {
    /// The raw feature row of the last scored candidate.
    pub fn last_row(&self) -> &[f32] {
        &self.raw
    }
}

impl<'a> ModelScorer<'a> {
    /// Binds `model` to `fs`, with the model's saved value weights.
    ///
    /// # Errors
    /// [`ModelError::FeatureConfigMismatch`] when `fs` uses other feature settings than the
    /// model was trained with; [`ModelError::Corrupt`] when the model is inconsistent.
    pub fn new(fs: &'a FeatureSpace<'a>, model: &'a TrainedModel) -> Result<Self, ModelError> {
        if fs.config() != &model.feature_config {
            return Err(ModelError::FeatureConfigMismatch {
                message: format!(
                    "model {:?}, feature space {:?}",
                    model.feature_config,
                    fs.config()
                ),
            });
        }
        model.check().map_err(|(_, message)| ModelError::Corrupt {
            path: "<in memory>".into(),
            message,
        })?;
        Ok(Self {
            fs,
            model,
            weights: model.weights.as_array(),
        })
    }

    /// Replaces the value weights (ranking policy changes without retraining).
    pub fn with_weights(mut self, w: ValueWeights) -> Self {
        self.weights = w.as_array();
        self
    }

    pub fn model(&self) -> &TrainedModel {
        self.model
    }

    /// Fills the viewer's scratch for `story`; false if features could not be computed.
    fn prepare(&self, v: &mut ModelViewer, story: u32) -> bool {
        let Some(ctx) = v.ctx.as_mut() else {
            return false;
        };
        match self.fs.write_row(ctx, story, &mut v.raw) {
            Ok(()) => {
                self.model.scaler.apply(&v.raw, &mut v.z);
                true
            }
            Err(e) => {
                tracing::warn!(story, error = %e, "cannot compute features; scoring 0");
                false
            }
        }
    }
}

impl Scorer for ModelScorer<'_> {
    type Viewer = ModelViewer;

    fn heads(&self) -> Vec<Action> {
        self.model.actions()
    }

    fn viewer(&self, viewer: u32, as_of: i64) -> ModelViewer {
        let ctx = match self.fs.viewer(viewer, as_of) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(viewer, error = %e, "cannot build viewer context; scoring 0");
                None
            }
        };
        ModelViewer {
            ctx,
            raw: vec![0.0; NUM_FEATURES],
            z: vec![0.0; NUM_FEATURES],
        }
    }

    fn score(&self, viewer: &mut ModelViewer, story: u32) -> Score {
        if !self.prepare(viewer, story) {
            return Score::default();
        }
        self.model.score_z(&viewer.z, &self.weights)
    }

    fn explain(&self, viewer: &mut ModelViewer, story: u32) -> Explanation {
        if !self.prepare(viewer, story) {
            return Explanation::default();
        }
        let s = self.model.score_z(&viewer.z, &self.weights);
        // d V / d logit_k = w_k * P_k * (1 - P_k)
        let mut g = Vec::new();
        for h in &self.model.heads {
            let k = h.action.index() - 1;
            g.push((h, self.weights[k] * s.p[k] * (1.0 - s.p[k])));
        }
        let mut contributions: Vec<Contribution> = (0..NUM_FEATURES)
            .map(|j| Contribution {
                feature: NAMES[j].to_string(),
                value: viewer.raw[j] as f64,
                contribution: g.iter().map(|(h, gk)| gk * h.coef[j] * viewer.z[j]).sum(),
            })
            .collect();
        contributions.push(Contribution {
            feature: "bias".into(),
            value: 1.0,
            contribution: g.iter().map(|(h, gk)| gk * h.intercept).sum(),
        });
        contributions.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        Explanation { contributions }
    }
}
