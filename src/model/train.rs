//! Training: exposures before `as_of` become rows (features as of the START of the
//! exposure's UTC day, so training and evaluation agree; labels = the actions the viewer took
//! on the story before `as_of`), one logistic head per action present, L2 chosen from a grid on
//! a time-based validation split (the latest `validation_fraction` of the training period).
use super::fit::{self, FitParams, Linear};
use super::mf::{self as mfm, MfComparison, MfMethod, MfModel, MfSettings, MfSide};
use super::personal::{self, PersonalHead, Personalisation, P};
use super::trained::{Head, HeadMeta, Scaler, TrainedModel, TrainingMeta};
use super::ModelError;
use crate::config::{Config, ConfigError, ModelConfig};
use crate::features::{schema, FeatureSpace, NUM_FEATURES};
use crate::features::{AblationGroup, Feature};
use crate::metrics::{log_loss, roc_auc};
use crate::util::math::sigmoid;
use crate::util::progress::{Progress, Silent};
use crate::util::time::{day_start, DAY};
use crate::world::{Action, World};
use ndarray::{Array2, ArrayView2, Axis, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::sync::Arc;

/// Default training cut-off: the last 24 hours of the world are held out, rounded back to a
/// UTC day boundary (so a world whose last events spill a few seconds past midnight still
/// holds out a whole day, not those few seconds).
pub fn default_as_of(world: &World) -> Option<i64> {
    world.time_span().map(|(_, last)| day_start(last - DAY + 1))
}

/// Training rows: raw features (row-major, [`NUM_FEATURES`] wide), exposure time, label bits
/// (bit k = [`Action::ENGAGEMENTS`]`[k]`), viewer and story. Ordered by (viewer, day, story).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub x: Vec<f32>,
    pub ts: Vec<i64>,
    pub labels: Vec<u8>,
    pub viewer: Vec<u32>,
    pub story: Vec<u32>,
    /// `Some` when rows whose labels are all negative were kept only if
    /// [`NegativeSampling::keeps`] (they were dropped before their features were computed);
    /// every row with a positive label is present. `None`: every exposure is a row.
    pub sampling: Option<NegativeSampling>,
}

/// Deterministic negative downsampling: an exposure (viewer, story, ts) that is a negative is
/// kept when a SplitMix64 hash of (seed, viewer, story, ts), mapped to [0, 1), is below
/// `rate`. The choice does not depend on the row's position, the thread count or the head, so
/// it can be made before features are computed, and a lower rate keeps a subset of what a
/// higher one keeps (the heads' per-head sampling applies the same rule again at their rate).
/// Probabilities of a model fitted on the kept rows are recalibrated by adding `ln(rate)` to
/// the logit (He et al., 2014, "Practical lessons from predicting clicks on ads at Facebook").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NegativeSampling {
    /// Fraction of negatives kept, in (0, 1].
    pub rate: f64,
    pub seed: u64,
}

impl NegativeSampling {
    /// Whether the exposure (viewer, story, ts) is kept if it is a negative.
    pub fn keeps(&self, viewer: u32, story: u32, ts: i64) -> bool {
        if self.rate >= 1.0 {
            return true;
        }
        let mut z = self.seed
            ^ u64::from(viewer).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ u64::from(story).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (ts as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < self.rate
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        self.ts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }
    pub fn label(&self, i: usize, k: usize) -> bool {
        self.labels[i] >> k & 1 == 1
    }
}

/// Builds one row per exposure strictly before `as_of`, features as of the start of the
/// exposure's day, in parallel over (viewer, day) groups (output order does not depend on the
/// thread count).
///
/// # Errors
/// [`ModelError::Feature`] from feature extraction.
pub fn build_rows(fs: &FeatureSpace, as_of: i64) -> Result<Rows, ModelError> {
    build_rows_sampled(fs, as_of, None)
}

/// Whether exposure `e` becomes a training row: every exposure of a full space; a scoped
/// space's (the training input of a sample of viewers) only those of its viewers.
fn trains_on(fs: &FeatureSpace, e: &crate::features::ExposureRow) -> bool {
    fs.scope().is_none_or(|sc| sc.has_user(e.user))
}

/// Whether exposure `e` has a positive label (any engagement action) before `as_of`.
fn any_label(e: &crate::features::ExposureRow, as_of: i64) -> bool {
    (0..5).any(|k| e.label(k, as_of))
}

/// As [`build_rows`], but with `sampling`, an exposure whose labels are all negative becomes
/// a row only when [`NegativeSampling::keeps`] it: dropped negatives never have features
/// computed, so memory and time scale with the kept rows.
///
/// # Errors
/// As [`build_rows`].
pub fn build_rows_sampled(
    fs: &FeatureSpace,
    as_of: i64,
    sampling: Option<NegativeSampling>,
) -> Result<Rows, ModelError> {
    build_rows_with_progress(fs, as_of, sampling, &Silent)
}

/// As [`build_rows_sampled`], reporting the step "building training rows" to `progress`
/// (total: the rows to build; advanced per (viewer, day) group built).
///
/// # Errors
/// As [`build_rows`].
pub fn build_rows_with_progress(
    fs: &FeatureSpace,
    as_of: i64,
    sampling: Option<NegativeSampling>,
    progress: &dyn Progress,
) -> Result<Rows, ModelError> {
    let exps = fs.exposures();
    let end = exps.partition_point(|e| e.ts < as_of);
    let sampling = sampling.filter(|s| s.rate < 1.0);
    let mut order: Vec<(u32, i64, u32, u32)> = exps[..end]
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            trains_on(fs, e)
                && sampling.is_none_or(|s| any_label(e, as_of) || s.keeps(e.user, e.story, e.ts))
        })
        .map(|(i, e)| (e.user, day_start(e.ts), e.story, i as u32))
        .collect();
    order.sort_unstable();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && order[j].0 == order[i].0 && order[j].1 == order[i].1 {
            j += 1;
        }
        groups.push(i..j);
        i = j;
    }
    // the (viewer, day) groups of each viewer, which share the viewer's history
    let by_viewer: Vec<&[std::ops::Range<usize>]> = groups
        .chunk_by(|a, b| order[a.start].0 == order[b.start].0)
        .collect();
    progress.step("building training rows", order.len() as u64);
    let parts: Vec<Vec<f32>> = by_viewer
        .par_iter()
        .map(|gs| -> Result<Vec<f32>, ModelError> {
            let first = gs[0].start;
            let history = Arc::new(fs.viewer_history(order[first].0));
            let mut out = vec![0f32; (gs[gs.len() - 1].end - first) * NUM_FEATURES];
            for r in gs.iter() {
                let (user, day, _, _) = order[r.start];
                let mut ctx = fs.viewer_with_history(user, day, Arc::clone(&history))?;
                let rows =
                    &mut out[(r.start - first) * NUM_FEATURES..(r.end - first) * NUM_FEATURES];
                for (row, &(_, _, story, _)) in
                    rows.chunks_exact_mut(NUM_FEATURES).zip(&order[r.clone()])
                {
                    fs.write_row(&mut ctx, story, row)?;
                }
                progress.advance(r.len() as u64);
            }
            Ok(out)
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Rows {
        x: Vec::with_capacity(order.len() * NUM_FEATURES),
        sampling,
        ..Default::default()
    };
    for p in parts {
        rows.x.extend_from_slice(&p);
    }
    for &(_, _, story, idx) in &order {
        let e = &exps[idx as usize];
        let mut bits = 0u8;
        for k in 0..5 {
            if e.label(k, as_of) {
                bits |= 1 << k;
            }
        }
        rows.ts.push(e.ts);
        rows.labels.push(bits);
        rows.viewer.push(e.user);
        rows.story.push(story);
    }
    Ok(rows)
}

/// Trains on `world` with cut-off `as_of` (see [`default_as_of`]).
///
/// # Errors
/// [`ModelError::Config`]/[`ModelError::InvalidParam`] for bad settings, [`ModelError::Feature`],
/// [`ModelError::NoRows`] when nothing was exposed before `as_of`, [`ModelError::Fit`].
pub fn train(world: &World, as_of: i64, cfg: &Config) -> Result<TrainedModel, ModelError> {
    let fs = FeatureSpace::new(world, &cfg.features)?;
    train_with(&fs, as_of, cfg)
}

/// As [`train`] on a prebuilt feature space (its config must equal `cfg.features`).
///
/// # Errors
/// As [`train`].
pub fn train_with(fs: &FeatureSpace, as_of: i64, cfg: &Config) -> Result<TrainedModel, ModelError> {
    train_with_progress(fs, as_of, cfg, &Silent)
}

/// As [`train_with`], reporting its steps to `progress`: building the training rows
/// ([`build_rows_with_progress`]), the MF fits (one unit per fit) and the heads' fits (one
/// unit per L2 grid fit and final fit, [`train_rows_with_progress`]).
///
/// # Errors
/// As [`train`].
pub fn train_with_progress(
    fs: &FeatureSpace,
    as_of: i64,
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<TrainedModel, ModelError> {
    cfg.validate().map_err(|setting| ConfigError::Invalid {
        origin: "config".into(),
        setting,
    })?;
    if fs.config() != &cfg.features {
        return Err(ModelError::FeatureConfigMismatch {
            message: "train_with: cfg.features differs from the feature space's".into(),
        });
    }
    let sampling = training_sampling(fs, as_of, cfg);
    let mut rows = build_rows_with_progress(fs, as_of, sampling, progress)?;
    let use_mf = cfg.model.mf && !cfg.model.ablates(AblationGroup::Mf);
    let mf = if use_mf && !rows.is_empty() {
        // a scoped space (a sample's training input) also holds other users' positive
        // events on the sample's stories: MF sees the sample's own events only
        let sample_world = fs.scope().map(|sc| {
            let mut w = fs.world().clone();
            w.events.retain(|e| sc.has_user(e.user));
            w.interactions.clear();
            w
        });
        let world = sample_world.as_ref().unwrap_or(fs.world());
        Some(fit_mf(world, &mut rows, as_of, cfg, progress)?)
    } else {
        for r in rows.x.chunks_exact_mut(NUM_FEATURES) {
            r[Feature::MfAuthorAffinity.idx()] = 0.0;
            r[Feature::MfTopicAffinity.idx()] = 0.0;
        }
        None
    };
    let mut model = train_rows_with_progress(&rows, as_of, cfg, progress)?;
    model.mf = mf;
    model.meta.world = fs.world().meta.name.clone();
    model.meta.users = Some(super::compat::UserSketch::of(fs.world()));
    Ok(model)
}

/// The negative sampling [`train_with`] applies before computing features: the configured
/// `negative_downsampling`, lowered when the rows it would keep exceed `max_training_rows`
/// (0 = no budget) so that about that many remain (negatives keep at least half the budget
/// when positives alone would fill it). `None` when every exposure is kept.
pub fn training_sampling(fs: &FeatureSpace, as_of: i64, cfg: &Config) -> Option<NegativeSampling> {
    let mc = &cfg.model;
    let exps = fs.exposures();
    let exps: Vec<&crate::features::ExposureRow> = exps[..exps.partition_point(|e| e.ts < as_of)]
        .iter()
        .filter(|e| trains_on(fs, e))
        .collect();
    let positives = exps.iter().filter(|e| any_label(e, as_of)).count();
    let negatives = exps.len() - positives;
    let mut rate = mc.negative_downsampling;
    let budget = mc.max_training_rows;
    if budget > 0 && negatives > 0 && positives as f64 + rate * negatives as f64 > budget as f64 {
        let room = budget.saturating_sub(positives).max(budget / 2);
        rate = rate.min(room as f64 / negatives as f64);
        tracing::info!(
            exposures = exps.len(),
            positives,
            budget,
            rate,
            "training rows over budget: negatives downsampled"
        );
    }
    (rate < 1.0).then_some(NegativeSampling {
        rate,
        seed: mc.seed,
    })
}

/// Log loss with each negative weighted `neg_weight` (an unbiased estimate of the log loss
/// on all rows when negatives were kept with probability `1 / neg_weight`).
fn weighted_log_loss(p: &[f64], y: &[bool], neg_weight: f64) -> Option<f64> {
    if p.len() != y.len() || p.is_empty() {
        return None;
    }
    let (mut sum, mut wsum) = (0.0, 0.0);
    for (&q, &y) in p.iter().zip(y) {
        let q = q.clamp(1e-15, 1.0 - 1e-15);
        if y {
            sum -= q.ln();
            wsum += 1.0;
        } else {
            sum -= neg_weight * (1.0 - q).ln();
            wsum += neg_weight;
        }
    }
    Some(sum / wsum)
}

/// Fits MF with time cross-fitting (see [`super::mf`]), writes the affinities into the rows'
/// MF columns and returns the serving model (refitted on every event before `as_of`).
fn fit_mf(
    world: &World,
    rows: &mut Rows,
    as_of: i64,
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<MfModel, ModelError> {
    let s = MfSettings {
        factors: cfg.model.mf_factors,
        seed: cfg.model.seed,
    };
    let t_min = rows.ts.iter().copied().min().unwrap_or(as_of);
    let t_mid = day_start(t_min + (as_of - t_min) / 2).max(t_min);
    let methods: Vec<MfMethod> = match cfg.model.mf_method.as_str() {
        "als" => vec![MfMethod::Als],
        "bpr" => vec![MfMethod::Bpr],
        "logistic" => vec![MfMethod::Logistic],
        // logistic MF is opt-in: on the 20k worlds it lost to BPR (README, Results)
        _ => vec![MfMethod::Als, MfMethod::Bpr],
    };
    // one fit per method compared, then the earlier rows' fit and the serving fit
    progress.step("fitting MF", methods.len() as u64 + 2);
    let later: Vec<usize> = (0..rows.len()).filter(|&i| rows.ts[i] >= t_mid).collect();
    let earlier: Vec<usize> = (0..rows.len()).filter(|&i| rows.ts[i] < t_mid).collect();
    let y: Vec<bool> = later
        .iter()
        .map(|&i| mfm::is_positive_bits(rows.labels[i]))
        .collect();
    let mut comparison = Vec::new();
    let mut best: Option<(f64, MfMethod, (MfSide, Option<MfSide>))> = None;
    for &m in &methods {
        let fitted = mfm::fit_period(world, m, i64::MIN, t_mid, i64::MIN, &s)?;
        progress.advance(1);
        let (a, t) = mf_values(world, &fitted, rows, &later);
        let author_auc = roc_auc(&a, &y);
        let topic_auc = if fitted.1.is_some() {
            roc_auc(&t, &y)
        } else {
            None
        };
        let aucs: Vec<f64> = [author_auc, topic_auc].into_iter().flatten().collect();
        let score = if aucs.is_empty() {
            0.0
        } else {
            aucs.iter().sum::<f64>() / aucs.len() as f64
        };
        tracing::info!(
            method = m.as_str(),
            ?author_auc,
            ?topic_auc,
            "mf validation"
        );
        comparison.push(MfComparison {
            method: m,
            author_auc,
            topic_auc,
        });
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, m, fitted));
        }
    }
    let (_, method, later_fit) = best.expect("invariant: at least one method");
    write_mf(world, &later_fit, rows, &later);
    drop(later_fit);
    // earlier rows: factors from the later events on stories created from t_mid on, which
    // cannot hold the label of an exposure before t_mid
    let earlier_fit = mfm::fit_period(world, method, t_mid, as_of, t_mid, &s)?;
    progress.advance(1);
    write_mf(world, &earlier_fit, rows, &earlier);
    let (author, topic) = mfm::fit_period(world, method, i64::MIN, as_of, i64::MIN, &s)?;
    progress.advance(1);
    Ok(MfModel {
        method,
        author,
        topic,
        als: s.als(),
        logistic: s.logistic(),
        comparison,
    })
}

/// MF affinities (author, topic) of rows `idx` from fitted sides (fitted rows only).
fn mf_values(
    world: &World,
    fitted: &(MfSide, Option<MfSide>),
    rows: &Rows,
    idx: &[usize],
) -> (Vec<f64>, Vec<f64>) {
    let mut a = Vec::with_capacity(idx.len());
    let mut t = Vec::with_capacity(idx.len());
    for &i in idx {
        let (va, vt) = mf_row(world, fitted, rows.viewer[i], rows.story[i]);
        a.push(va as f64);
        t.push(vt as f64);
    }
    (a, t)
}

fn mf_row(world: &World, fitted: &(MfSide, Option<MfSide>), viewer: u32, story: u32) -> (f32, f32) {
    let Some(st) = world.stories.get(story as usize) else {
        return (0.0, 0.0);
    };
    let a = fitted
        .0
        .row(viewer)
        .map_or(0.0, |r| fitted.0.factors.score_vector(r, st.author));
    let t = match (&fitted.1, st.topic) {
        (Some(side), Some(topic)) => side
            .row(viewer)
            .map_or(0.0, |r| side.factors.score_vector(r, topic)),
        _ => 0.0,
    };
    (a, t)
}

fn write_mf(world: &World, fitted: &(MfSide, Option<MfSide>), rows: &mut Rows, idx: &[usize]) {
    for &i in idx {
        let (a, t) = mf_row(world, fitted, rows.viewer[i], rows.story[i]);
        let r = &mut rows.x[i * NUM_FEATURES..(i + 1) * NUM_FEATURES];
        r[Feature::MfAuthorAffinity.idx()] = a;
        r[Feature::MfTopicAffinity.idx()] = t;
    }
}

/// Standardised copy of the rows, in column-major (Fortran) layout: linfa-logistic's gradient
/// `x.t().dot(r)` then reads contiguous columns (about 3x faster than row-major here).
fn standardise(rows: &Rows, scaler: &Scaler) -> Array2<f64> {
    let n = rows.len();
    let mut z = Array2::<f64>::zeros((n, NUM_FEATURES).f());
    if let Some(zs) = z.as_slice_memory_order_mut() {
        zs.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(j, col)| {
                let (t, m, sd) = (scaler.transforms[j], scaler.mean[j], scaler.scale[j]);
                for (i, c) in col.iter_mut().enumerate() {
                    *c = (t.apply(rows.x[i * NUM_FEATURES + j] as f64) - m) / sd;
                }
            });
    }
    z
}

/// Rows `idx` of `z`, column-major.
fn select_f(z: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((idx.len(), z.ncols()).f());
    for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
        let src = z.column(j);
        for (o, &i) in col.iter_mut().zip(idx) {
            *o = src[i];
        }
    }
    out
}

/// A seeded sample of at most `max` of `idx` (kept in order).
fn sample(idx: &[usize], max: usize, seed: u64) -> Vec<usize> {
    if idx.len() <= max {
        return idx.to_vec();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let p = max as f64 / idx.len() as f64;
    idx.iter()
        .copied()
        .filter(|_| rng.gen::<f64>() < p)
        .collect()
}

fn probs(z: ArrayView2<f64>, lin: &Linear, shift: f64) -> Vec<f64> {
    z.axis_iter(Axis(0))
        .map(|r| {
            let s: f64 = r.iter().zip(&lin.coef).map(|(x, b)| x * b).sum();
            sigmoid(lin.intercept + shift + s)
        })
        .collect()
}

/// Fits every head on prepared rows (the part of [`train`] after feature extraction; also
/// used by `feedrank bench train`): standardise (masking ablated features), split by time,
/// fit each head with its L2 chosen on the validation split, then the per-viewer offsets.
///
/// # Errors
/// As [`train`].
pub fn train_rows(rows: &Rows, as_of: i64, cfg: &Config) -> Result<TrainedModel, ModelError> {
    train_rows_with_progress(rows, as_of, cfg, &Silent)
}

/// As [`train_rows`], reporting the step "fitting heads": one unit per fit of the L2 grid
/// and one per final fit, for each engagement head (a head without positives, or whose grid
/// cannot run, advances by the fits it skips).
///
/// # Errors
/// As [`train`].
pub fn train_rows_with_progress(
    rows: &Rows,
    as_of: i64,
    cfg: &Config,
    progress: &dyn Progress,
) -> Result<TrainedModel, ModelError> {
    let n = rows.len();
    if n == 0 {
        return Err(ModelError::NoRows { as_of });
    }
    if rows.x.len() != n * NUM_FEATURES {
        return Err(ModelError::InvalidParam {
            name: "rows",
            message: format!("{} values for {n} rows", rows.x.len()),
        });
    }
    let mc = &cfg.model;
    let scaler = Scaler::fit(&rows.x, NUM_FEATURES, schema::transforms().to_vec());
    let mut z = standardise(rows, &scaler);
    let mask = AblationGroup::mask(&mc.ablate);
    for (j, _) in mask.iter().enumerate().filter(|m| *m.1) {
        z.column_mut(j).fill(0.0);
    }

    // time-based validation split
    let t_min = rows.ts.iter().copied().min().unwrap_or(as_of);
    let valid_from = (mc.validation_fraction > 0.0).then(|| {
        let t = as_of as f64 - mc.validation_fraction * (as_of - t_min) as f64;
        day_start(t as i64).max(t_min + 1)
    });
    let (train_idx, valid_idx): (Vec<usize>, Vec<usize>) = match valid_from {
        Some(v) => (0..n).partition(|&i| rows.ts[i] < v),
        None => ((0..n).collect(), Vec::new()),
    };
    let setup = HeadSetup::new(rows, &z, mc, &mask, &train_idx, &valid_idx, progress);
    progress.step(
        "fitting heads",
        (Action::ENGAGEMENTS.len() * (mc.l2_grid.len() + 1)) as u64,
    );

    let mut heads = Vec::new();
    let mut metas = Vec::new();
    // per head: the grid's best fit on the earlier (training) split, for personalisation
    let mut early: Vec<Option<Linear>> = Vec::new();
    let mut recal: Vec<f64> = Vec::new();
    for (k, action) in Action::ENGAGEMENTS.iter().copied().enumerate() {
        if let Some(f) = fit_head(&setup, k, action)? {
            heads.push(f.head);
            metas.push(f.meta);
            early.push(f.early);
            recal.push(f.recal);
        }
    }
    let pre_sampling = setup.pre_sampling;
    let personal = if mc.personalisation && !mc.ablates(AblationGroup::Personalisation) {
        valid_from.map(|vf| fit_personal(rows, &z, &heads, &early, vf, cfg, pre_sampling))
    } else {
        None
    };
    // after the offsets, which are fitted against the heads as trained
    if mc.recalibrate {
        for (h, d) in heads.iter_mut().zip(&recal) {
            h.intercept += d;
        }
    }
    Ok(TrainedModel {
        schema_version: schema::SCHEMA_VERSION,
        feature_names: schema::NAMES.iter().map(|s| s.to_string()).collect(),
        feature_config: cfg.features.clone(),
        scaler,
        heads,
        weights: cfg.value,
        mf: None,
        personal,
        ablate: mc.ablate.clone(),
        meta: TrainingMeta {
            world: String::new(),
            as_of,
            valid_from,
            rows: n,
            train_rows: train_idx.len(),
            valid_rows: valid_idx.len(),
            heads: metas,
            users: None,
        },
    })
}

/// What every head's fit shares: the standardised rows, the time split, the negative
/// sampling and the L2 grid.
struct HeadSetup<'a> {
    rows: &'a Rows,
    /// Standardised rows (column-major), masked columns zeroed.
    z: &'a Array2<f64>,
    mc: &'a ModelConfig,
    mask: &'a [bool; NUM_FEATURES],
    train_idx: &'a [usize],
    valid_idx: &'a [usize],
    /// Rate at which the rows' negatives were already kept (1 = every exposure is a row).
    pre: f64,
    /// The rows' own sampling, when it kept fewer than all negatives.
    pre_sampling: Option<NegativeSampling>,
    /// Each head's negatives: rate `w = min(negative_downsampling, pre)`, by the same rule
    /// as the rows' sampling, so what a head fits on does not depend on whether the rows were
    /// sampled before or after feature extraction.
    sampler: NegativeSampling,
    /// `(index in l2_grid, l2)`, strongest first, so each fit warm-starts from a smoother
    /// solution.
    grid: Vec<(usize, f64)>,
    /// Advanced by one per fit (grid or final) of each head.
    progress: &'a dyn Progress,
}

impl<'a> HeadSetup<'a> {
    fn new(
        rows: &'a Rows,
        z: &'a Array2<f64>,
        mc: &'a ModelConfig,
        mask: &'a [bool; NUM_FEATURES],
        train_idx: &'a [usize],
        valid_idx: &'a [usize],
        progress: &'a dyn Progress,
    ) -> Self {
        let pre = rows.sampling.map_or(1.0, |s| s.rate);
        let sampler = NegativeSampling {
            rate: mc.negative_downsampling.min(pre),
            seed: rows.sampling.map_or(mc.seed, |s| s.seed),
        };
        let mut grid: Vec<(usize, f64)> = mc.l2_grid.iter().copied().enumerate().collect();
        grid.sort_by(|a, b| b.1.total_cmp(&a.1));
        Self {
            rows,
            z,
            mc,
            mask,
            train_idx,
            valid_idx,
            pre,
            pre_sampling: rows.sampling.filter(|s| s.rate < 1.0),
            sampler,
            grid,
            progress,
        }
    }

    fn params(&self, l2: f64) -> FitParams {
        FitParams {
            l2_per_row: l2,
            tol_per_row: self.mc.gradient_tolerance_per_row,
            max_iterations: self.mc.max_iterations,
        }
    }
}

/// One fitted head, its metadata, and its fit on the earlier split (logit scale of the
/// final head) when the grid ran.
struct FittedHead {
    head: Head,
    meta: HeadMeta,
    early: Option<Linear>,
    /// The intercept shift that calibrates the earlier-split fit on the validation split
    /// (0 when the grid did not run); see `ModelConfig::recalibrate`.
    recal: f64,
}

/// Fits the head of `action` (`k`-th engagement): L2 chosen on the validation split, then a
/// final fit on every kept row, masked coefficients set to 0 and the intercept recalibrated
/// for the head's negative sampling. `None` when the action has no positive row.
fn fit_head(setup: &HeadSetup, k: usize, action: Action) -> Result<Option<FittedHead>, ModelError> {
    let (rows, z, mc) = (setup.rows, setup.z, setup.mc);
    let n = rows.len();
    let positives = (0..n).filter(|&i| rows.label(i, k)).count();
    let fits = setup.grid.len() as u64 + 1;
    if positives == 0 {
        setup.progress.advance(fits);
        return Ok(None);
    }
    let name = action.as_str();
    let w = setup.sampler.rate;
    let shift = w.ln();
    let keep: Vec<bool> = (0..n)
        .map(|i| {
            rows.label(i, k)
                || w >= 1.0
                || setup
                    .sampler
                    .keeps(rows.viewer[i], rows.story[i], rows.ts[i])
        })
        .collect();
    let mut meta = HeadMeta {
        action,
        rows: n,
        positives,
        fitted_rows: keep.iter().filter(|&&b| b).count(),
        l2: mc.l2_grid[mc.l2_grid.len() / 2],
        downsampling: w,
        valid_auc: None,
        valid_logloss: None,
        grid_logloss: Vec::new(),
    };
    if positives == n {
        // every row positive: a constant head
        setup.progress.advance(fits);
        let head = Head {
            action,
            coef: vec![0.0; NUM_FEATURES],
            intercept: ((n as f64 + 0.5) / 0.5).ln(),
        };
        return Ok(Some(FittedHead {
            head,
            meta,
            early: None,
            recal: 0.0,
        }));
    }
    let (early_fit, recal) = match choose_l2(setup, k, &keep, &mut meta)? {
        Some((l, d)) => (Some(l), d),
        None => (None, 0.0),
    };
    let init = early_fit.as_ref();
    // final fit on every (kept) row
    let yall: Vec<bool>;
    let lin = if w >= 1.0 {
        yall = (0..n).map(|i| rows.label(i, k)).collect();
        fit::fit_logistic(name, z.view(), &yall, &setup.params(meta.l2), init)?
    } else {
        let idx: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        yall = idx.iter().map(|&i| rows.label(i, k)).collect();
        let zs = select_f(z, &idx);
        fit::fit_logistic(name, zs.view(), &yall, &setup.params(meta.l2), init)?
    };
    setup.progress.advance(1);
    tracing::info!(head = name, l2 = meta.l2, auc = ?meta.valid_auc, "head fitted");
    let mut coef = lin.coef;
    for (c, _) in coef.iter_mut().zip(setup.mask).filter(|p| *p.1) {
        *c = 0.0;
    }
    Ok(Some(FittedHead {
        head: Head {
            action,
            coef,
            intercept: lin.intercept + shift,
        },
        meta,
        early: early_fit.map(|mut l| {
            l.intercept += shift;
            l
        }),
        recal,
    }))
}

/// The L2 grid of head `k` on the validation split: fits on (a sample of) the kept training
/// rows, strongest L2 first, each warm-started from the previous one, and keeps the lowest
/// validation log loss (negatives weighted back when the rows were sampled). Records the
/// choice in `meta`; returns the chosen fit (which warm-starts the final fit) and the
/// intercept shift that calibrates it on the validation split ([`calibrating_shift`]), or
/// `None` when either split has one class only.
fn choose_l2(
    setup: &HeadSetup,
    k: usize,
    keep: &[bool],
    meta: &mut HeadMeta,
) -> Result<Option<(Linear, f64)>, ModelError> {
    let (rows, z, mc) = (setup.rows, setup.z, setup.mc);
    let name = meta.action.as_str();
    let shift = setup.sampler.rate.ln();
    let tr: Vec<usize> = setup
        .train_idx
        .iter()
        .copied()
        .filter(|&i| keep[i])
        .collect();
    let tr = sample(
        &tr,
        mc.grid_max_rows,
        mc.seed.wrapping_add(k as u64 * 7 + 1),
    );
    // validation: the head's negatives at the rows' sampling rate, weighted back
    let valid_k: Vec<usize> = match setup.pre_sampling {
        Some(s) => setup
            .valid_idx
            .iter()
            .copied()
            .filter(|&i| rows.label(i, k) || s.keeps(rows.viewer[i], rows.story[i], rows.ts[i]))
            .collect(),
        None => setup.valid_idx.to_vec(),
    };
    let va = sample(
        &valid_k,
        mc.grid_max_rows,
        mc.seed.wrapping_add(k as u64 * 7 + 2),
    );
    let ytr: Vec<bool> = tr.iter().map(|&i| rows.label(i, k)).collect();
    let yva: Vec<bool> = va.iter().map(|&i| rows.label(i, k)).collect();
    let both = |y: &[bool]| y.iter().any(|&b| b) && y.iter().any(|&b| !b);
    if !(both(&ytr) && both(&yva)) {
        setup.progress.advance(setup.grid.len() as u64);
        return Ok(None);
    }
    let ztr = select_f(z, &tr);
    let zva = select_f(z, &va);
    let mut lls = vec![f64::NAN; mc.l2_grid.len()];
    let mut init: Option<Linear> = None;
    let mut best: Option<(f64, f64, Linear, f64, f64)> = None; // (ll, l2, fit, auc, recal)
    for &(gi, l2) in &setup.grid {
        let lin = fit::fit_logistic(name, ztr.view(), &ytr, &setup.params(l2), init.as_ref())?;
        setup.progress.advance(1);
        let p = probs(zva.view(), &lin, shift);
        let ll = if setup.pre < 1.0 {
            weighted_log_loss(&p, &yva, 1.0 / setup.pre)
        } else {
            log_loss(&p, &yva)
        }
        .unwrap_or(f64::INFINITY);
        lls[gi] = ll;
        let a = roc_auc(&p, &yva).unwrap_or(f64::NAN);
        if best.as_ref().is_none_or(|b| ll < b.0) {
            let neg_weight = if setup.pre < 1.0 {
                1.0 / setup.pre
            } else {
                1.0
            };
            let d = calibrating_shift(&p, &yva, neg_weight);
            best = Some((ll, l2, lin.clone(), a, d));
        }
        init = Some(lin);
    }
    meta.grid_logloss = lls;
    let Some((ll, l2, lin, a, d)) = best else {
        return Ok(None);
    };
    meta.l2 = l2;
    meta.valid_logloss = Some(ll);
    meta.valid_auc = a.is_finite().then_some(a);
    Ok(Some((lin, d)))
}

/// The logit shift `d` with `sum_i w_i sigmoid(logit(p_i) + d) = sum_i w_i y_i` (negatives
/// weighted `neg_weight`), by Newton's method on this monotone equation; 0 when `y` has one
/// class only or the inputs are empty. Shifting a head's intercept by `d` makes it calibrated
/// (sum p / sum y = 1, He et al. 2014) on these rows.
fn calibrating_shift(p: &[f64], y: &[bool], neg_weight: f64) -> f64 {
    let (pos, neg) = y.iter().fold((0.0, 0.0), |(a, b), &t| {
        if t {
            (a + 1.0, b)
        } else {
            (a, b + neg_weight)
        }
    });
    if p.len() != y.len() || pos == 0.0 || neg == 0.0 {
        return 0.0;
    }
    let z: Vec<f64> = p
        .iter()
        .map(|&q| {
            let q = q.clamp(1e-12, 1.0 - 1e-12);
            (q / (1.0 - q)).ln()
        })
        .collect();
    let mut d = 0.0;
    for _ in 0..50 {
        let (mut f, mut df) = (-pos, 0.0);
        for (&zi, &t) in z.iter().zip(y) {
            let w = if t { 1.0 } else { neg_weight };
            let q = sigmoid(zi + d);
            f += w * q;
            df += w * q * (1.0 - q);
        }
        if df <= 0.0 {
            break;
        }
        let step = (f / df).clamp(-1.0, 1.0);
        d -= step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    d
}

/// `intercept + coef . z[i, :]` on a column-major matrix.
fn logit_at(z: &Array2<f64>, i: usize, coef: &[f64], intercept: f64) -> f64 {
    intercept
        + coef
            .iter()
            .enumerate()
            .map(|(j, b)| b * z[[i, j]])
            .sum::<f64>()
}

/// Fits the per-viewer offsets of every head (see [`super::personal`]): lambda chosen on the
/// validation split against the head's earlier-split fit, then offsets refitted on every row
/// against the final head. Rows are grouped by viewer (they are ordered by viewer). With
/// pre-sampled rows (`pre`, rate r), each head uses its negatives at rate r: offsets are fitted
/// against the global logit minus `ln r` (the sampled rows' scale; a logit offset does not
/// change under uniform negative sampling) and validated on calibrated logits with negatives
/// weighted 1/r.
fn fit_personal(
    rows: &Rows,
    z: &Array2<f64>,
    heads: &[Head],
    early: &[Option<Linear>],
    valid_from: i64,
    cfg: &Config,
    pre: Option<NegativeSampling>,
) -> Personalisation {
    let r = pre.map_or(1.0, |s| s.rate);
    let n = rows.len();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && rows.viewer[j] == rows.viewer[i] {
            j += 1;
        }
        groups.push(i..j);
        i = j;
    }
    let pr = PersonalRows {
        rows,
        inputs: (0..n).map(|i| personal::inputs(|j| z[[i, j]])).collect(),
        groups,
        valid_from,
        unshift: -r.ln(),
        neg_w: 1.0 / r,
    };
    let mut out = Personalisation::default();
    for (head, early) in heads.iter().zip(early) {
        let Some(early) = early else {
            continue;
        };
        let k = head.action.index() - 1;
        let use_row = |i: usize| {
            rows.label(i, k)
                || pre.is_none_or(|s| s.keeps(rows.viewer[i], rows.story[i], rows.ts[i]))
        };
        let base_e: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| logit_at(z, i, &early.coef, early.intercept))
            .collect();
        // (lambda, global valid ll, personal valid ll)
        let mut best: Option<(f64, f64, f64)> = None;
        for &lambda in &cfg.model.personal_l2_grid {
            let (g, p, c) = pr.validation(k, &base_e, &use_row, lambda);
            if c == 0.0 {
                continue;
            }
            let (g, p) = (g / c, p / c);
            tracing::info!(
                head = head.action.as_str(),
                lambda,
                global = g,
                personal = p,
                "personalisation validation"
            );
            if best.is_none_or(|b| p < b.2) {
                best = Some((lambda, g, p));
            }
        }
        let Some((lambda, g, p)) = best else {
            continue;
        };
        if p >= g {
            continue;
        }
        let base: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| logit_at(z, i, &head.coef, head.intercept))
            .collect();
        let data = |i: usize| {
            (
                rows.viewer[i],
                pr.inputs[i],
                base[i] + pr.unshift,
                rows.label(i, k),
            )
        };
        let (viewers, offsets) = personal::fit_all(&pr.groups, &data, &use_row, lambda);
        out.heads.push(PersonalHead {
            action: head.action,
            lambda,
            valid_logloss_global: g,
            valid_logloss_personal: p,
            viewers,
            offsets,
        });
    }
    out
}

/// The training rows as the per-viewer offsets see them (shared by every head).
struct PersonalRows<'a> {
    rows: &'a Rows,
    /// Each row's offset inputs `s_i`.
    inputs: Vec<[f64; P]>,
    /// Row range of each viewer.
    groups: Vec<std::ops::Range<usize>>,
    valid_from: i64,
    /// `-ln r` for rows whose negatives were kept at rate r: global logits on the sampled
    /// rows' scale.
    unshift: f64,
    /// Weight of a validation negative, `1 / r`.
    neg_w: f64,
}

impl PersonalRows<'_> {
    /// One head (`k`; `base_e`, the global logits of its earlier-split fit; `use_row`, its
    /// rows) and one prior precision `lambda`: offsets fitted per viewer on the rows before
    /// `valid_from`, then the weighted validation log-loss sums `(global, personal, weight)`
    /// over the rows from `valid_from` on.
    ///
    /// # Complexity
    /// O(rows) plus one small fit per viewer; parallel over viewers, summed in viewer order.
    fn validation<F>(&self, k: usize, base_e: &[f64], use_row: &F, lambda: f64) -> (f64, f64, f64)
    where
        F: Fn(usize) -> bool + Sync,
    {
        let (rows, inputs, valid_from) = (self.rows, &self.inputs, self.valid_from);
        self.groups
            .par_iter()
            .map(|r| {
                let fit_rows: Vec<([f64; P], f64, bool)> = r
                    .clone()
                    .filter(|&i| rows.ts[i] < valid_from && use_row(i))
                    .map(|i| (inputs[i], base_e[i] + self.unshift, rows.label(i, k)))
                    .collect();
                let b = if fit_rows.is_empty() {
                    [0.0; P]
                } else {
                    personal::fit_viewer(&fit_rows, lambda)
                };
                let (mut g, mut p, mut c) = (0.0, 0.0, 0.0);
                for i in r
                    .clone()
                    .filter(|&i| rows.ts[i] >= valid_from && use_row(i))
                {
                    let y = rows.label(i, k);
                    let wt = if y { 1.0 } else { self.neg_w };
                    let ll = |x: f64| {
                        let q = sigmoid(x).clamp(1e-15, 1.0 - 1e-15);
                        if y {
                            -q.ln()
                        } else {
                            -(1.0 - q).ln()
                        }
                    };
                    g += wt * ll(base_e[i]);
                    p += wt * ll(base_e[i] + personal::offset_logit(&b, &inputs[i]));
                    c += wt;
                }
                (g, p, c)
            })
            .collect::<Vec<_>>()
            // Summed in viewer order, not in rayon's split order, so the result (and the
            // lambda chosen) does not depend on the thread count.
            .into_iter()
            .fold((0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrating_shift_matches_predicted_to_observed_positives() {
        // predictions twice too high on average: the shift brings sum p down to sum y
        let p: Vec<f64> = (0..1000)
            .map(|i| 0.02 + 0.16 * (i % 10) as f64 / 9.0)
            .collect();
        let y: Vec<bool> = (0..1000).map(|i| i % 20 == 0).collect();
        let d = calibrating_shift(&p, &y, 1.0);
        assert!(d < -0.5, "{d}");
        let sum_p: f64 = p.iter().map(|&q| sigmoid((q / (1.0 - q)).ln() + d)).sum();
        let sum_y = y.iter().filter(|&&t| t).count() as f64;
        assert!((sum_p - sum_y).abs() < 1e-6, "{sum_p} vs {sum_y}");
        // already calibrated: no shift; one class: no shift
        let q = vec![0.25; 8];
        let t = [true, false, false, false, true, false, false, false];
        assert!(calibrating_shift(&q, &t, 1.0).abs() < 1e-9);
        assert_eq!(calibrating_shift(&q, &[false; 8], 1.0), 0.0);
        // negatives weighted 3: 2 positives against 6 x 3 = 18 negative weight, rate 0.1
        let d3 = calibrating_shift(&q, &t, 3.0);
        let r = sigmoid((1.0f64 / 3.0).ln() + d3);
        assert!((r - 0.1).abs() < 1e-9, "{r}");
    }
}
