//! The scoring contract between the engagement model and its callers (the ranker, the batch
//! job, the debug binary, the evaluation). The ranker and the evaluation are generic over
//! [`Scorer`], so they are tested with simple scorers and run with the trained model.
//!
//! Feature names used by explanations (the schema may add more; these names are fixed):
//! graph: `is_friend embeddedness jaccard adamic_adar dispersion disp_norm disp_norm_paper
//! recursive_dispersion viewer_degree author_degree`; tie strength: `aff_click aff_like
//! aff_comment aff_share aff_hide` (decayed viewer -> author actions), `recip_engagement`
//! (author -> viewer), `direct_interactions`, `days_since_interaction`; story: `age_hours
//! author_engagement_rate story_engagements friends_engaged structural_diversity`; viewer:
//! `viewer_engagement_rate viewer_kind_rate viewer_topic_rate`; matrix factorisation: `mf_author_affinity
//! mf_topic_affinity`.

use super::ModelError;
use crate::world::Action;

/// Head probabilities and the value score of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Score {
    /// P(action) for [`Action::ENGAGEMENTS`] in order (click, like, comment, share, hide);
    /// 0 for heads the model does not have.
    pub p: [f64; 5],
    /// The value score `V = sum_k w_k * P_k`.
    pub value: f64,
}

/// One named contribution to a candidate's value score.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Contribution {
    /// Feature name (see the module docs) or `"bias"`/`"personalisation"`.
    pub feature: String,
    /// The feature's raw (unstandardised) value.
    pub value: f64,
    /// Its contribution to V: `sum_k w_k * P_k * (1 - P_k) * beta_k * z` (a first-order,
    /// per-head-logit attribution), so larger means "pushed this story up".
    pub contribution: f64,
}

/// Why a candidate scored as it did: every feature's value and contribution, largest first.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Explanation {
    pub contributions: Vec<Contribution>,
}

impl Explanation {
    /// The raw value of a named feature, if present.
    pub fn feature(&self, name: &str) -> Option<f64> {
        self.contributions
            .iter()
            .find(|c| c.feature == name)
            .map(|c| c.value)
    }
}

/// Scores candidate stories for one viewer at one time.
pub trait Scorer: Sync {
    /// Per-viewer state (precomputed context plus scratch buffers), built once per viewer.
    type Viewer: Send;

    /// The heads this scorer has, in [`Action::ENGAGEMENTS`] order.
    fn heads(&self) -> Vec<Action>;

    /// Prepares the per-viewer state for ranking at `as_of` (only data strictly before
    /// `as_of` may be used).
    ///
    /// # Errors
    /// [`ModelError::Score`] when the viewer's features cannot be computed (an unknown
    /// viewer, or one outside a scoped index): never a default state that would score 0.
    fn viewer(&self, viewer: u32, as_of: i64) -> Result<Self::Viewer, ModelError>;

    /// As [`Scorer::viewer`], given the state this scorer built last (`prev`, for any viewer
    /// and time), so that a caller ranking one viewer at several times (an evaluation's
    /// per-day lists) lets the scorer reuse the viewer's time-independent work. Must give the
    /// same scores as [`Scorer::viewer`]. Default: ignores `prev`.
    ///
    /// # Errors
    /// As [`Scorer::viewer`].
    fn viewer_reusing(
        &self,
        prev: Option<Self::Viewer>,
        viewer: u32,
        as_of: i64,
    ) -> Result<Self::Viewer, ModelError> {
        drop(prev);
        self.viewer(viewer, as_of)
    }

    /// Scores one candidate story. The hot path: must not allocate.
    ///
    /// # Errors
    /// [`ModelError::Score`] when the story's features cannot be computed.
    fn score(&self, viewer: &mut Self::Viewer, story: u32) -> Result<Score, ModelError>;

    /// A hint that `story` will be scored `distance` candidates from now (the batch loop
    /// calls it for distances 2 and 6), so the scorer can prefetch its data. Must not change
    /// any score. Default: nothing.
    #[inline]
    fn prefetch(&self, _viewer: &Self::Viewer, _story: u32, _distance: usize) {}

    /// Explains one candidate's score (allocates; for the debug binary and reports).
    ///
    /// # Errors
    /// As [`Scorer::score`].
    fn explain(&self, viewer: &mut Self::Viewer, story: u32) -> Result<Explanation, ModelError>;
}
