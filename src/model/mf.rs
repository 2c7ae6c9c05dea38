//! Matrix factorisation inside the engagement model (the Netflix idea, Steck 2015): viewer x
//! author and viewer x topic engagement counts (positive actions weighted by
//! [`ACTION_WEIGHTS`]) are factorised with implicit ALS (Hu, Koren & Volinsky 2008) or BPR
//! (Rendle et al. 2009, a ranking objective), and the dot products fill the features
//! `mf_author_affinity` / `mf_topic_affinity`.
//!
//! Leakage: a row whose label was among the counts the factors were fitted on would make the MF
//! features look stronger in training than at serving time. Training therefore cross-fits in
//! time: the training period is cut at its middle day `t_mid`; rows before `t_mid` get
//! affinities from factors fitted on the events in `[t_mid, as_of)`, rows from `t_mid` on from
//! factors fitted on the events before `t_mid`, so no row's own label is ever in its factors.
//! The method (ALS or BPR) is chosen on the later half: the AUC of the affinity for "any
//! positive engagement" over its exposures. The factors saved for serving are refitted on every
//! event before `as_of`. A viewer without a row in those factors but with engagements before the
//! scoring time is folded in with one closed-form ALS solve ([`Factors::recalculate_user`]).
use super::ModelError;
use crate::features::FeatureSpace;
use crate::mf::logistic::{
    fit_logistic_mf, fold_in, social_mean, BinomialCounts, Cell, LogisticMfParams,
};
use crate::mf::{fit_als, fit_bpr, AlsParams, BprParams, Factors, Interactions};
use crate::world::World;

/// Count weight of each engagement (click, like, comment, share, hide); hides are not
/// positives and are left out.
pub const ACTION_WEIGHTS: [f32; 5] = [1.0, 2.0, 3.0, 3.0, 0.0];

/// Which factoriser produced the factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MfMethod {
    Als,
    Bpr,
    /// Exposure-aware logistic MF ([`crate::mf::logistic`]).
    Logistic,
}

impl MfMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MfMethod::Als => "als",
            MfMethod::Bpr => "bpr",
            MfMethod::Logistic => "logistic",
        }
    }
}

/// One factorised matrix (rows = viewers) and which rows had data when it was fitted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MfSide {
    pub factors: Factors,
    /// `known[v]`: viewer `v` had counts in the fit (otherwise it is folded in when scored).
    pub known: Vec<bool>,
}

impl MfSide {
    /// The viewer's factor row if it was fitted on data.
    pub fn row(&self, viewer: u32) -> Option<&[f32]> {
        if self.known.get(viewer as usize).copied().unwrap_or(false) {
            self.factors.row(viewer)
        } else {
            None
        }
    }
}

/// Validation figures of one method (AUC of the affinity for any positive engagement, on the
/// later half of the training period, factors fitted on the earlier half).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MfComparison {
    pub method: MfMethod,
    pub author_auc: Option<f64>,
    pub topic_auc: Option<f64>,
}

/// The MF part of a trained model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MfModel {
    pub method: MfMethod,
    pub author: MfSide,
    pub topic: Option<MfSide>,
    /// ALS settings (alpha, lambda) used for fold-in.
    pub als: AlsParams,
    /// Logistic-MF settings used for fold-in.
    pub logistic: LogisticMfParams,
    pub comparison: Vec<MfComparison>,
}

/// A viewer's factor vectors (fitted or folded in) for scoring.
#[derive(Debug, Clone, Default)]
pub struct MfViewer {
    pub author: Option<Vec<f32>>,
    pub topic: Option<Vec<f32>>,
}

type Triples = Vec<(u32, u32, f32)>;

/// The MF column of `story` for `viewer`: its topic on the topic side, its author (unless the
/// viewer wrote it) on the author side.
fn column(st: &crate::world::Story, viewer: u32, topic: bool) -> Option<u32> {
    if topic {
        st.topic
    } else {
        (st.author != viewer).then_some(st.author)
    }
}

/// Weighted engagement counts from the events with `from <= ts < to` on stories created at or
/// after `min_created`: (viewer x author, viewer x topic) triples.
pub fn counts(world: &World, from: i64, to: i64, min_created: i64) -> (Triples, Triples) {
    let mut a = Vec::new();
    let mut t = Vec::new();
    for e in &world.events {
        if e.ts < from || e.ts >= to {
            continue;
        }
        let Some(w) = (e.action as usize)
            .checked_sub(1)
            .and_then(|k| ACTION_WEIGHTS.get(k))
            .copied()
            .filter(|&w| w > 0.0)
        else {
            continue;
        };
        let Some(st) = world.stories.get(e.story as usize) else {
            continue;
        };
        if st.created_at < min_created {
            continue;
        }
        if let Some(c) = column(st, e.user, false) {
            a.push((e.user, c, w));
        }
        if let Some(c) = column(st, e.user, true) {
            t.push((e.user, c, w));
        }
    }
    (a, t)
}

fn num_topics(world: &World) -> usize {
    world.topics.len().max(
        world
            .stories
            .iter()
            .filter_map(|s| s.topic)
            .max()
            .map_or(0, |t| t as usize + 1),
    )
}

fn mf_err(e: crate::mf::MfError) -> ModelError {
    ModelError::InvalidParam {
        name: "mf",
        message: e.to_string(),
    }
}

/// Settings of the factorisers.
#[derive(Debug, Clone)]
pub struct MfSettings {
    pub factors: usize,
    pub seed: u64,
}

impl MfSettings {
    pub fn als(&self) -> AlsParams {
        AlsParams::new()
            .factors(self.factors)
            .iterations(10)
            .seed(self.seed)
    }
    pub fn logistic(&self) -> LogisticMfParams {
        LogisticMfParams {
            factors: self.factors.min(8),
            seed: self.seed,
            ..LogisticMfParams::default()
        }
    }
    fn bpr(&self) -> BprParams {
        BprParams::new()
            .factors(self.factors)
            .epochs(30)
            .seed(self.seed)
    }
}

/// Fits one matrix with `method`.
///
/// # Errors
/// [`ModelError::InvalidParam`] on bad settings or indices.
pub fn fit_side(
    method: MfMethod,
    rows: usize,
    cols: usize,
    triples: &[(u32, u32, f32)],
    s: &MfSettings,
) -> Result<MfSide, ModelError> {
    let data = Interactions::from_triples(rows, cols.max(1), triples).map_err(mf_err)?;
    let factors = match method {
        MfMethod::Als => fit_als(&data, &s.als().check().map_err(mf_err)?),
        MfMethod::Bpr => fit_bpr(&data, &s.bpr().check().map_err(mf_err)?),
        MfMethod::Logistic => {
            return Err(ModelError::InvalidParam {
                name: "mf",
                message: "logistic MF needs exposure counts: fit it with fit_period".into(),
            })
        }
    };
    let known = (0..rows).map(|r| !data.row(r).0.is_empty()).collect();
    Ok(MfSide { factors, known })
}

/// Fits both matrices on the events in `[from, to)` on stories created from `min_created`.
///
/// # Errors
/// As [`fit_side`].
pub fn fit_period(
    world: &World,
    method: MfMethod,
    from: i64,
    to: i64,
    min_created: i64,
    s: &MfSettings,
) -> Result<(MfSide, Option<MfSide>), ModelError> {
    if method == MfMethod::Logistic {
        return fit_period_logistic(world, from, to, min_created, s);
    }
    let (a, t) = counts(world, from, to, min_created);
    let n = world.num_users();
    let author = fit_side(method, n, n, &a, s)?;
    let nt = num_topics(world);
    let topic = if nt > 0 && !t.is_empty() {
        Some(fit_side(method, n, nt, &t, s)?)
    } else {
        None
    };
    Ok((author, topic))
}

/// Exposure cells `(viewer, column, 1, positive)` from the exposures in `[from, to)` on stories
/// created from `min_created` (positive: a click, like, comment or share before `to`).
fn exposure_cells(world: &World, from: i64, to: i64, min_created: i64) -> (Vec<Cell>, Vec<Cell>) {
    let mut a = Vec::new();
    let mut t = Vec::new();
    for x in crate::features::build_exposures(world) {
        if x.ts < from || x.ts >= to {
            continue;
        }
        let Some(st) = world.stories.get(x.story as usize) else {
            continue;
        };
        if st.created_at < min_created {
            continue;
        }
        let pos = if (0..4).any(|k| x.label(k, to)) {
            1.0
        } else {
            0.0
        };
        if let Some(c) = column(st, x.user, false) {
            a.push((x.user, c, 1.0, pos));
        }
        if let Some(c) = column(st, x.user, true) {
            t.push((x.user, c, 1.0, pos));
        }
    }
    (a, t)
}

fn fit_period_logistic(
    world: &World,
    from: i64,
    to: i64,
    min_created: i64,
    s: &MfSettings,
) -> Result<(MfSide, Option<MfSide>), ModelError> {
    let (a, t) = exposure_cells(world, from, to, min_created);
    let n = world.num_users();
    let p = s.logistic();
    let side = |cols: usize, cells: &[Cell]| -> Result<MfSide, ModelError> {
        let data = BinomialCounts::new(n, cols.max(1), cells).map_err(mf_err)?;
        let factors = fit_logistic_mf(&data, Some(&world.graph), &p).map_err(mf_err)?;
        let known = (0..n).map(|r| !data.row(r).is_empty()).collect();
        Ok(MfSide { factors, known })
    };
    let author = side(n, &a)?;
    let nt = num_topics(world);
    let topic = if nt > 0 && !t.is_empty() {
        Some(side(nt, &t)?)
    } else {
        None
    };
    Ok((author, topic))
}

impl MfModel {
    /// The viewer's vectors at `as_of`: the fitted row, or a fold-in from the viewer's
    /// engagements before `as_of` when the viewer had no data at fit time, or none.
    pub fn viewer(&self, fs: &FeatureSpace, viewer: u32, as_of: i64) -> MfViewer {
        let fold = |side: &MfSide, topic: bool| -> Option<Vec<f32>> {
            if let Some(r) = side.row(viewer) {
                return Some(r.to_vec());
            }
            let w = fs.world();
            let n_cols = side.factors.n_cols() as u32;
            if self.method == MfMethod::Logistic {
                return self.fold_logistic(fs, side, viewer, as_of, topic);
            }
            let mut c: Vec<(u32, f32)> = Vec::new();
            for &(ts, story, action) in fs.engagements_of(viewer) {
                if ts >= as_of {
                    break;
                }
                let Some(wt) = (action as usize)
                    .checked_sub(1)
                    .and_then(|k| ACTION_WEIGHTS.get(k))
                    .copied()
                    .filter(|&x| x > 0.0)
                else {
                    continue;
                };
                let Some(st) = w.stories.get(story as usize) else {
                    continue;
                };
                if let Some(col) = column(st, viewer, topic).filter(|&x| x < n_cols) {
                    c.push((col, wt));
                }
            }
            if c.is_empty() {
                return None;
            }
            let p = self.als.clone().check().ok()?;
            side.factors.recalculate_user(&c, &p).ok()
        };
        MfViewer {
            author: fold(&self.author, false),
            topic: self.topic.as_ref().and_then(|t| fold(t, true)),
        }
    }

    /// Logistic fold-in: the viewer's exposures before `as_of` per column, with positives.
    fn fold_logistic(
        &self,
        fs: &FeatureSpace,
        side: &MfSide,
        viewer: u32,
        as_of: i64,
        topic: bool,
    ) -> Option<Vec<f32>> {
        let w = fs.world();
        let n_cols = side.factors.n_cols() as u32;
        let mut liked: Vec<u32> = fs
            .engagements_of(viewer)
            .iter()
            .take_while(|e| e.0 < as_of)
            .filter(|e| {
                crate::world::Action::ALL
                    .get(e.2 as usize)
                    .is_some_and(|a| a.is_positive())
            })
            .map(|e| e.1)
            .collect();
        liked.sort_unstable();
        liked.dedup();
        let mut cells: Vec<(u32, f32, f32)> = Vec::new();
        for &(ts, story) in fs.exposures_of(viewer) {
            if ts >= as_of {
                break;
            }
            let Some(st) = w.stories.get(story as usize) else {
                continue;
            };
            if let Some(col) = column(st, viewer, topic).filter(|&x| x < n_cols) {
                let pos = if liked.binary_search(&story).is_ok() {
                    1.0
                } else {
                    0.0
                };
                // one cell per exposure: the binomial likelihood adds up over a column's cells
                cells.push((col, 1.0, pos));
            }
        }
        // SocialMF prior: the weighted mean of the fitted friends' factor vectors
        let d = side.factors.k().saturating_sub(1);
        let prior = social_mean(
            &w.graph,
            viewer,
            |f| side.row(f),
            d,
            self.logistic.social_weight,
        );
        fold_in(&side.factors, &cells, Some(&prior), &self.logistic)
    }

    /// Checks dimensions and finiteness.
    pub fn check(&self) -> Result<(), String> {
        let sides = std::iter::once(&self.author).chain(self.topic.as_ref());
        for s in sides {
            if s.known.len() > s.factors.n_rows() {
                return Err("mf: more known flags than factor rows".into());
            }
            if s.factors
                .row_factors()
                .iter()
                .chain(s.factors.col_factors())
                .any(|x| !x.is_finite())
            {
                return Err("mf: non-finite factors".into());
            }
        }
        self.logistic.check().map_err(|e| format!("mf: {e}"))?;
        self.als
            .clone()
            .check()
            .map(|_| ())
            .map_err(|e| format!("mf: {e}"))
    }
}

/// Affinity of a viewer vector and a column (0 when absent).
#[inline]
pub fn affinity(side: Option<&MfSide>, v: Option<&Vec<f32>>, col: u32) -> f32 {
    match (side, v) {
        (Some(s), Some(v)) => s.factors.score_vector(v, col),
        _ => 0.0,
    }
}

/// [`crate::features::MfAffinity`] from saved factors (fitted rows only, no fold-in): for
/// callers that install MF into a [`FeatureSpace`] with `set_mf`.
impl crate::features::MfAffinity for MfModel {
    fn author_affinity(&self, viewer: u32, author: u32) -> f32 {
        self.author
            .row(viewer)
            .map_or(0.0, |r| self.author.factors.score_vector(r, author))
    }
    fn topic_affinity(&self, viewer: u32, topic: u32) -> f32 {
        self.topic.as_ref().map_or(0.0, |t| {
            t.row(viewer)
                .map_or(0.0, |r| t.factors.score_vector(r, topic))
        })
    }
}

/// Whether label bits (see [`super::Rows`]) hold a positive engagement (click, like,
/// comment or share).
pub fn is_positive_bits(bits: u8) -> bool {
    bits & 0b1111 != 0
}
