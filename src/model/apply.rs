//! [`ModelScorer`]: the trained model applied through the [`Scorer`] contract. Per viewer it
//! builds the feature context and scratch buffers once; per candidate it writes the feature row,
//! standardises it and evaluates each head without allocating.
use super::mf::{self, MfViewer};
use super::personal::{self, P};
use super::scorer::{Contribution, Explanation, Score, Scorer};
use super::trained::TrainedModel;
use super::ModelError;
use crate::config::ValueWeights;
use crate::features::{Feature, FeatureSpace, ViewerContext, NAMES, NUM_FEATURES};
use crate::world::Action;
use std::sync::Arc;

/// A trained model bound to a feature space built with the model's feature settings.
pub struct ModelScorer<'a> {
    fs: &'a FeatureSpace<'a>,
    model: &'a TrainedModel,
    weights: [f64; 5],
    /// The heads' coefficients transposed (`coef_t[j][h]` for the model's head `h`), so
    /// that one pass over the row evaluates every head (see [`ModelScorer::score_fused`]).
    coef_t: Vec<[f64; MAX_HEADS]>,
}

/// Heads a model can have (one per engagement).
const MAX_HEADS: usize = 5;

/// Per-viewer state of [`ModelScorer`]: the feature context and scratch rows.
pub struct ModelViewer {
    ctx: ViewerContext,
    raw: Vec<f32>,
    z: Vec<f64>,
    /// The viewer's MF vectors (fitted or folded in).
    mf: MfViewer,
    /// Per-viewer offsets per head, if the model has them for this viewer.
    offsets: Option<[[f64; P]; 5]>,
    /// The raw values (as bits) `z` was last standardised from, so a feature whose value did
    /// not change since the previous candidate (viewer constants, zeros) is not transformed
    /// again; `None` until the first row.
    z_of: Option<Vec<u32>>,
}

impl ModelViewer {
    /// The raw feature row of the last scored candidate.
    pub fn last_row(&self) -> &[f32] {
        &self.raw
    }

    /// Whether the viewer has an MF author vector (fitted or folded in).
    pub fn has_mf(&self) -> bool {
        self.mf.author.is_some()
    }

    /// The viewer's MF author vector (fitted or folded in), if any.
    pub fn mf_author_vector(&self) -> Option<&[f32]> {
        self.mf.author.as_deref()
    }

    /// The viewer's personalisation offsets per head (click, like, comment, share, hide), if any.
    pub fn offsets(&self) -> Option<&[[f64; P]; 5]> {
        self.offsets.as_ref()
    }
}

impl ModelScorer<'_> {
    /// Overwrites the MF columns of the raw row from the model's factors.
    fn fill_mf(&self, v: &mut ModelViewer, story: u32) {
        let Some(m) = &self.model.mf else {
            return;
        };
        let Some(st) = self.fs.world().stories.get(story as usize) else {
            return;
        };
        v.raw[Feature::MfAuthorAffinity.idx()] =
            mf::affinity(Some(&m.author), v.mf.author.as_ref(), st.author);
        v.raw[Feature::MfTopicAffinity.idx()] = match st.topic {
            Some(t) => mf::affinity(m.topic.as_ref(), v.mf.topic.as_ref(), t),
            None => 0.0,
        };
    }
}

impl<'a> ModelScorer<'a> {
    /// Binds `model` to `fs`, with the model's saved value weights.
    ///
    /// # Errors
    /// [`ModelError::FeatureConfigMismatch`] when `fs` uses other feature settings than the
    /// model was trained with; [`ModelError::Inconsistent`] when the model is inconsistent.
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
        model
            .validate()
            .map_err(|defect| ModelError::Inconsistent {
                path: "<in memory>".into(),
                defect,
            })?;
        let mut coef_t = vec![[0.0; MAX_HEADS]; NUM_FEATURES];
        for (h, head) in model.heads.iter().take(MAX_HEADS).enumerate() {
            for (j, c) in head.coef.iter().take(NUM_FEATURES).enumerate() {
                coef_t[j][h] = *c;
            }
        }
        Ok(Self {
            fs,
            model,
            weights: model.weights.as_array(),
            coef_t,
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

    /// Fills the viewer's scratch for `story`.
    ///
    /// # Errors
    /// [`ModelError::Score`] when the story's features cannot be computed (out of range, or
    /// outside a scoped index).
    fn prepare(&self, v: &mut ModelViewer, story: u32) -> Result<(), ModelError> {
        self.fs
            .write_row(&mut v.ctx, story, &mut v.raw)
            .map_err(|source| ModelError::Score {
                viewer: v.ctx.viewer(),
                story: Some(story),
                source,
            })?;
        if self.model.mf.is_some() {
            self.fill_mf(v, story);
        } else {
            v.raw[Feature::MfAuthorAffinity.idx()] = 0.0;
            v.raw[Feature::MfTopicAffinity.idx()] = 0.0;
        }
        standardise_memo(&self.model.scaler, &v.raw, &mut v.z, &mut v.z_of);
        Ok(())
    }
}

impl Scorer for ModelScorer<'_> {
    type Viewer = ModelViewer;

    fn heads(&self) -> Vec<Action> {
        self.model.actions()
    }

    fn viewer(&self, viewer: u32, as_of: i64) -> Result<ModelViewer, ModelError> {
        self.viewer_reusing(None, viewer, as_of)
    }

    /// Reuses `prev`'s [`crate::features::ViewerHistory`] when `prev` is of the same viewer.
    fn viewer_reusing(
        &self,
        prev: Option<ModelViewer>,
        viewer: u32,
        as_of: i64,
    ) -> Result<ModelViewer, ModelError> {
        let history = match prev {
            Some(p) if p.ctx.viewer() == viewer => p.ctx.history().clone(),
            _ => Arc::new(self.fs.viewer_history(viewer)),
        };
        let ctx = self
            .fs
            .viewer_with_history(viewer, as_of, history)
            .map_err(|source| ModelError::Score {
                viewer,
                story: None,
                source,
            })?;
        let mf = match &self.model.mf {
            Some(m) => m.viewer(self.fs, viewer, as_of),
            None => MfViewer::default(),
        };
        Ok(ModelViewer {
            ctx,
            raw: vec![0.0; NUM_FEATURES],
            z: vec![0.0; NUM_FEATURES],
            mf,
            offsets: self.model.personal.as_ref().and_then(|p| p.viewer(viewer)),
            z_of: None,
        })
    }

    fn score(&self, viewer: &mut ModelViewer, story: u32) -> Result<Score, ModelError> {
        self.prepare(viewer, story)?;
        Ok(self.score_fused(&viewer.z, viewer.offsets.as_ref()))
    }

    #[inline]
    fn prefetch(&self, viewer: &ModelViewer, story: u32, distance: usize) {
        let ctx = &viewer.ctx;
        if distance > 2 {
            self.fs.prefetch_story(ctx, story);
        } else if let Some(author) = self.fs.prefetch_story_deps(ctx, story) {
            if let Some(col) = self
                .model
                .mf
                .as_ref()
                .and_then(|m| m.author.factors.col(author))
            {
                if let Some(x) = col.first() {
                    crate::util::prefetch_read(x);
                }
            }
        }
    }

    fn explain(&self, viewer: &mut ModelViewer, story: u32) -> Result<Explanation, ModelError> {
        self.prepare(viewer, story)?;
        let s = self
            .model
            .score_z_personal(&viewer.z, &self.weights, viewer.offsets.as_ref());
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
        if let Some(o) = &viewer.offsets {
            let inp = personal::inputs(|j| viewer.z[j]);
            contributions.push(Contribution {
                feature: "personalisation".into(),
                value: 1.0,
                contribution: g
                    .iter()
                    .map(|(h, gk)| gk * personal::offset_logit(&o[h.action.index() - 1], &inp))
                    .sum(),
            });
        }
        contributions.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        Ok(Explanation { contributions })
    }
}

/// [`Scaler::apply`](super::trained::Scaler::apply) that only recomputes the entries whose
/// raw value changed (bitwise) since the last call; `z` and `z_of` persist between calls.
/// Each recomputed entry uses the same expression as `Scaler::apply`, so `z` is
/// bit-identical to a full standardisation (a test checks).
#[inline]
fn standardise_memo(
    scaler: &super::trained::Scaler,
    raw: &[f32],
    z: &mut [f64],
    z_of: &mut Option<Vec<u32>>,
) {
    let d = z.len();
    let ok = raw.len() == d
        && scaler.transforms.len() == d
        && scaler.mean.len() == d
        && scaler.scale.len() == d;
    let Some(prev) = z_of.as_mut().filter(|p| ok && p.len() == d) else {
        scaler.apply(raw, z);
        if ok {
            *z_of = Some(raw.iter().map(|x| x.to_bits()).collect());
        }
        return;
    };
    for j in 0..d {
        let b = raw[j].to_bits();
        if prev[j] != b {
            prev[j] = b;
            z[j] = (scaler.transforms[j].apply(raw[j] as f64) - scaler.mean[j]) / scaler.scale[j];
        }
    }
}

impl ModelScorer<'_> {
    /// [`TrainedModel::score_z_personal`] with every head's dot product in one pass over `z`
    /// (the heads' sums are independent chains, so they overlap). Each head's sum is formed
    /// in the same order as [`super::Head::logit`] (`-0.0` start, as `Iterator::sum`), so the
    /// result is bit-identical (a test checks).
    #[inline]
    pub fn score_fused(&self, z: &[f64], offsets: Option<&[[f64; P]; 5]>) -> Score {
        let heads = &self.model.heads;
        if heads.len() > MAX_HEADS || z.len() != self.coef_t.len() {
            return self.model.score_z_personal(z, &self.weights, offsets);
        }
        let mut acc = [-0.0f64; MAX_HEADS];
        for (c, &x) in self.coef_t.iter().zip(z) {
            for h in 0..MAX_HEADS {
                acc[h] += c[h] * x;
            }
        }
        let mut s = Score::default();
        let inp = personal::inputs(|j| z.get(j).copied().unwrap_or(0.0));
        for (h, head) in heads.iter().enumerate() {
            let k = head.action.index() - 1;
            if k < 5 {
                let off = offsets.map_or(0.0, |o| personal::offset_logit(&o[k], &inp));
                let p = crate::util::math::sigmoid(head.intercept + acc[h] + off);
                s.p[k] = p;
                s.value += self.weights[k] * p;
            }
        }
        s
    }
}
