//! Evaluation: time split, per-(viewer, day) lists, the model against baselines and the
//! oracle, ablations, confidence intervals.
//!
//! Takes a [`World`] and, optionally, a [`Scorer`] already trained on the events before the
//! split (training is the caller's business); hands on an [`EvalResult`] whose JSON is the
//! shape of issue 4. Protocol: the test period starts at `split_at` (default: the start of
//! the UTC day at 80% of the world's time span); every (viewer, UTC day) of the test period
//! is a list whose candidates are that day's impressions (see [`lists`]); each method ranks
//! each list as of the start of its day (ties broken by [`tie_key`], a seeded hash of
//! (seed, viewer, day, story), the same for every method, so no method gains from the order
//! in which ids were assigned); feed metrics at k are averaged
//! over the lists holding a positive; per-head metrics (model and oracle) are computed over
//! all test impressions. Lists are processed in parallel (rayon) and collected in list
//! order, so results do not depend on the thread count.

pub mod lists;
pub mod methods;
pub mod report;
pub mod result;

pub use lists::{check_split_at, default_split_at, Candidate, EvalList, EvalLists, DEFAULT_GRADES};
pub use methods::{tie_key, Baseline, EdgeRankParams};
pub use report::{write_report, write_report_with_progress, ReportExtras, ReportOptions};
pub use result::{
    bootstrap_ci, paired_diff_ci, Ablation, EvalResult, HeadCurves, ListStats, MethodResult,
};

use crate::io::world_tsv::civil::format_utc as fmt_utc;
use crate::metrics::{
    calibration_curve, ndcg_with_ideal, roc_curve, Gain, HeadMetrics, ListMetrics,
};
use crate::model::{Explanation, ModelError, Score, Scorer};
use crate::util::progress::{Progress, Silent};
use crate::world::{Action, World};
use methods::{score_baseline, BaselineCtx, BaselineIndex, TruthIndex};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Errors from this module.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("invalid parameter {name}: {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error("the world has no events and no stories: nothing to evaluate")]
    EmptyWorld,
    #[error(
        "the split {} UTC ({split_at}) is after the world's last event ({} UTC, {last}): the \
         test period would be empty; split between the first event ({} UTC) and the last, \
         for example at {} UTC ({default}), the default split (80% of the time span)",
        fmt_utc(*.split_at), fmt_utc(*.last), fmt_utc(*.first), fmt_utc(*.default)
    )]
    SplitAfterLastEvent {
        split_at: i64,
        first: i64,
        last: i64,
        default: i64,
    },
    #[error(
        "the split {} UTC ({split_at}) is at or before the world's first event ({} UTC, \
         {first}): nothing to train on; split between the first event and the last ({} UTC), \
         for example at {} UTC ({default}), the default split (80% of the time span)",
        fmt_utc(*.split_at), fmt_utc(*.first), fmt_utc(*.last), fmt_utc(*.default)
    )]
    SplitBeforeFirstEvent {
        split_at: i64,
        first: i64,
        last: i64,
        default: i64,
    },
    #[error("an event refers to story index {story}, but the world has {stories} stories")]
    UnknownStory { story: u32, stories: usize },
    #[error("an event refers to user index {user}, but the world has {users} users")]
    UnknownUser { user: u32, users: usize },
    #[error(
        "method {method} gave a non-finite score {value} to story {story} for viewer {viewer}"
    )]
    NonFiniteScore {
        method: String,
        viewer: u32,
        story: u32,
        value: f64,
    },
    #[error(
        "method {method} was fitted on data up to {} UTC ({fitted_before}), after the test \
         period starts ({} UTC, {split_at}): it would have seen what it is tested on",
        fmt_utc(*.fitted_before), fmt_utc(*.split_at)
    )]
    LearnerSawTestPeriod {
        method: String,
        fitted_before: i64,
        split_at: i64,
    },
    #[error("method {method} has no probabilities for viewer {viewer}, story {story} at {ts}")]
    MissingProbability {
        method: String,
        viewer: u32,
        story: u32,
        ts: i64,
    },
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    #[error(transparent)]
    Score(#[from] crate::model::ModelError),
    #[error("cannot draw the chart {chart}: {message}")]
    Chart { chart: String, message: String },
    #[error("cannot serialise the results: {0}")]
    Json(#[from] serde_json::Error),
}

/// Evaluation settings. Defaults: split at 80% of the time span, k = 10, seed 0, graded gain,
/// [`DEFAULT_GRADES`], oracle value weights `[1, 2, 4, 6, -10]`, default EdgeRank, nDCG curve
/// up to k = 50.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalParams {
    /// Start of the test period (unix seconds); `None` = [`default_split_at`].
    pub split_at: Option<i64>,
    pub k: usize,
    /// Seed of the random baseline and of the tie-break between equal scores ([`tie_key`]).
    pub seed: u64,
    pub gain: Gain,
    /// Relevance grade per action (click, like, comment, share, hide-ignored).
    pub grades: [f64; 5],
    /// Value weights of the oracle `V = sum_k w_k p_k` (click, like, comment, share, hide);
    /// set them to the model's configured weights.
    pub oracle_weights: [f64; 5],
    pub edgerank: EdgeRankParams,
    /// The nDCG@j curve is computed for j = 1..=curve_max_k.
    pub curve_max_k: usize,
}

impl Default for EvalParams {
    fn default() -> Self {
        Self {
            split_at: None,
            k: 10,
            seed: 0,
            gain: Gain::Graded,
            grades: DEFAULT_GRADES,
            oracle_weights: [1.0, 2.0, 4.0, 6.0, -10.0],
            edgerank: EdgeRankParams::default(),
            curve_max_k: 50,
        }
    }
}

impl EvalParams {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`EvalError::InvalidParam`] naming the bad field.
    pub fn check(&self) -> Result<(), EvalError> {
        let bad = |name, message: &str| {
            Err(EvalError::InvalidParam {
                name,
                message: message.to_string(),
            })
        };
        if self.k == 0 {
            return bad("k", "must be at least 1");
        }
        if self.curve_max_k == 0 {
            return bad("curve_max_k", "must be at least 1");
        }
        if self.grades.iter().any(|g| !g.is_finite() || *g < 0.0) {
            return bad("grades", "must be finite and >= 0");
        }
        if self.oracle_weights.iter().any(|w| !w.is_finite()) {
            return bad("oracle_weights", "must be finite");
        }
        let e = &self.edgerank;
        if !(e.affinity_half_life > 0.0 && e.story_half_life > 0.0) {
            return bad("edgerank", "half-lives must be > 0");
        }
        if e.action_weights.iter().any(|w| !w.is_finite())
            || !e.interaction_weight.is_finite()
            || !e.friend_prior.is_finite()
        {
            return bad("edgerank", "weights must be finite");
        }
        Ok(())
    }
}

/// A scorer that is never called: the type parameter of [`evaluate`] when no model is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoModel;

impl Scorer for NoModel {
    type Viewer = ();
    fn heads(&self) -> Vec<Action> {
        Vec::new()
    }
    fn viewer(&self, _viewer: u32, _as_of: i64) -> Result<Self::Viewer, ModelError> {
        Ok(())
    }
    fn score(&self, _viewer: &mut Self::Viewer, _story: u32) -> Result<Score, ModelError> {
        Ok(Score::default())
    }
    fn explain(&self, _viewer: &mut Self::Viewer, _story: u32) -> Result<Explanation, ModelError> {
        Ok(Explanation::default())
    }
}

/// Per-list output of one method.
struct ListOut {
    metrics: Option<ListMetrics>,
    curve: Vec<f64>,
    probs: Vec<[f64; 5]>,
}

/// Ranks one list by `scores` (descending; ties by the seeded tie key, then story id) and
/// computes its metrics and nDCG curve, reusing the caller's buffers.
fn rank_list(
    params: &EvalParams,
    list: &EvalList,
    cands: &[Candidate],
    scores: &[f64],
    (order, ranked, ideal, keys): (&mut Vec<usize>, &mut Vec<f64>, &mut Vec<f64>, &mut Vec<u64>),
) -> (Option<ListMetrics>, Vec<f64>) {
    keys.clear();
    keys.extend(
        cands
            .iter()
            .map(|c| tie_key(params.seed, list.viewer, list.day, c.story)),
    );
    order.clear();
    order.extend(0..cands.len());
    order.sort_by(|&a, &b| {
        scores[b]
            .total_cmp(&scores[a])
            .then(keys[a].cmp(&keys[b]))
            .then(cands[a].story.cmp(&cands[b].story))
    });
    ranked.clear();
    ranked.extend(order.iter().map(|&i| cands[i].rel));
    ideal.clear();
    ideal.extend_from_slice(ranked);
    ideal.sort_by(|a, b| b.total_cmp(a));
    let metrics = ListMetrics::compute(ranked, params.k, params.gain);
    let curve = if metrics.is_some() {
        (1..=params.curve_max_k)
            .map(|j| ndcg_with_ideal(ranked, ideal, j, params.gain).unwrap_or(0.0))
            .collect()
    } else {
        Vec::new()
    };
    (metrics, curve)
}

/// Ranks every list with `score_fn` (which fills one score, and optionally head
/// probabilities, per candidate) and computes the method's metrics. Reports the step
/// "evaluating NAME" to `progress`, one unit per list.
fn run_method<F>(
    name: &str,
    lists: &EvalLists,
    params: &EvalParams,
    heads: &[Action],
    score_fn: F,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError>
where
    F: Fn(&EvalList, &[Candidate], &mut Vec<f64>, &mut Vec<[f64; 5]>) -> Result<(), EvalError>
        + Sync,
{
    run_method_with(
        name,
        lists,
        params,
        heads,
        || (),
        |_, list, cands, scores, probs| score_fn(list, cands, scores, probs),
        progress,
    )
}

/// As [`run_method`], with a per-thread state `T` (made by `init`) that `score_fn` may keep
/// between lists: lists are scored in (viewer, day) order and each thread takes contiguous
/// runs of them, so a scorer can reuse what it built for the previous list's viewer.
fn run_method_with<T, I, F>(
    name: &str,
    lists: &EvalLists,
    params: &EvalParams,
    heads: &[Action],
    init: I,
    score_fn: F,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError>
where
    I: Fn() -> T + Sync,
    F: Fn(
            &mut T,
            &EvalList,
            &[Candidate],
            &mut Vec<f64>,
            &mut Vec<[f64; 5]>,
        ) -> Result<(), EvalError>
        + Sync,
{
    let want_probs = !heads.is_empty();
    progress.step(&format!("evaluating {name}"), lists.lists.len() as u64);
    // Score in (viewer, day) order, so that a thread's consecutive lists are mostly of one
    // viewer (the state `T` can keep what that viewer's lists share), then put the results
    // back in the lists' own (day, viewer) order.
    let mut order: Vec<usize> = (0..lists.lists.len()).collect();
    order.sort_unstable_by_key(|&i| (lists.lists[i].viewer, lists.lists[i].day));
    let scored: Vec<ListOut> = order
        .par_iter()
        .map(|&i| &lists.lists[i])
        .map_init(
            || {
                (
                    init(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                    Vec::new(),
                )
            },
            |(state, scores, probs, order, ranked, ideal, keys), list| {
                let cands = lists.candidates_of(list);
                scores.clear();
                probs.clear();
                score_fn(state, list, cands, scores, probs)?;
                if scores.len() != cands.len() {
                    return Err(EvalError::InvalidParam {
                        name: "scorer",
                        message: format!(
                            "method {name} gave {} scores for {} candidates",
                            scores.len(),
                            cands.len()
                        ),
                    });
                }
                if let Some(i) = scores.iter().position(|s: &f64| !s.is_finite()) {
                    return Err(EvalError::NonFiniteScore {
                        method: name.to_string(),
                        viewer: list.viewer,
                        story: cands[i].story,
                        value: scores[i],
                    });
                }
                let (metrics, curve) =
                    rank_list(params, list, cands, scores, (order, ranked, ideal, keys));
                progress.advance(1);
                let probs = if want_probs {
                    std::mem::take(probs)
                } else {
                    Vec::new()
                };
                Ok(ListOut {
                    metrics,
                    curve,
                    probs,
                })
            },
        )
        .collect::<Result<_, _>>()?;
    let mut slots: Vec<Option<ListOut>> = (0..scored.len()).map(|_| None).collect();
    for (&i, o) in order.iter().zip(scored) {
        slots[i] = Some(o);
    }
    // `order` is a permutation: every slot is filled
    let outs: Vec<ListOut> = slots.into_iter().flatten().collect();

    let mut feed = crate::metrics::FeedMetrics::new(params.k, params.gain);
    let mut curve = vec![0.0; params.curve_max_k];
    for o in &outs {
        feed.push(o.metrics);
        for (c, v) in curve.iter_mut().zip(&o.curve) {
            *c += v;
        }
    }
    let n = feed.per_list().len();
    if n > 0 {
        curve.iter_mut().for_each(|c| *c /= n as f64);
    }
    let s = feed.summary();
    let (heads_map, head_curves) = if want_probs {
        head_metrics(lists, heads, &outs)
    } else {
        (None, BTreeMap::new())
    };
    Ok(MethodResult {
        name: name.to_string(),
        ndcg: s.ndcg,
        precision: s.precision,
        recall: s.recall,
        map: s.map,
        mrr: s.mrr,
        heads: heads_map,
        per_list: feed.per_list().to_vec(),
        ndcg_curve: curve,
        head_curves,
    })
}

type HeadsOut = (
    Option<BTreeMap<String, HeadMetrics>>,
    BTreeMap<String, HeadCurves>,
);

fn head_metrics(lists: &EvalLists, heads: &[Action], outs: &[ListOut]) -> HeadsOut {
    let mut map = BTreeMap::new();
    let mut curves = BTreeMap::new();
    for &h in heads {
        let Some(slot) = h.index().checked_sub(1) else {
            continue;
        };
        let mut p = Vec::with_capacity(lists.candidates.len());
        let mut y = Vec::with_capacity(lists.candidates.len());
        for (list, o) in lists.lists.iter().zip(outs) {
            for (c, pr) in lists.candidates_of(list).iter().zip(&o.probs) {
                p.push(pr[slot]);
                y.push(c.did(h));
            }
        }
        map.insert(h.as_str().to_string(), HeadMetrics::compute(&p, &y));
        curves.insert(
            h.as_str().to_string(),
            HeadCurves {
                calibration: calibration_curve(&p, &y, 10),
                roc: roc_curve(&p, &y, 200),
            },
        );
    }
    (Some(map), curves)
}

/// Evaluates a trained scorer on prepared lists (also the entry point for ablations: the
/// result goes to [`EvalResult::add_ablation`]).
///
/// # Errors
/// [`EvalError::NonFiniteScore`] when the scorer returns NaN or an infinity.
pub fn evaluate_scorer<S: Scorer>(
    name: &str,
    lists: &EvalLists,
    scorer: &S,
    params: &EvalParams,
) -> Result<MethodResult, EvalError> {
    evaluate_scorer_with_progress(name, lists, scorer, params, &Silent)
}

/// As [`evaluate_scorer`], reporting the step "evaluating NAME" (one unit per list) to
/// `progress`.
///
/// # Errors
/// As [`evaluate_scorer`].
pub fn evaluate_scorer_with_progress<S: Scorer>(
    name: &str,
    lists: &EvalLists,
    scorer: &S,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError> {
    let heads = scorer.heads();
    run_method_with(
        name,
        lists,
        params,
        &heads,
        || None,
        |prev: &mut Option<S::Viewer>, list, cands, scores, probs| {
            let v = scorer.viewer_reusing(prev.take(), list.viewer, list.day)?;
            let v = prev.insert(v);
            for c in cands {
                let s = scorer.score(v, c.story)?;
                scores.push(s.value);
                probs.push(s.p);
            }
            Ok(())
        },
        progress,
    )
}

/// Evaluates one baseline on prepared lists.
///
/// # Errors
/// [`EvalError::InvalidParam`] for bad parameters.
pub fn evaluate_baseline(
    world: &World,
    lists: &EvalLists,
    baseline: Baseline,
    params: &EvalParams,
) -> Result<MethodResult, EvalError> {
    params.check()?;
    let index = BaselineIndex::new(world);
    evaluate_baseline_with(world, &index, lists, baseline, params, &Silent)
}

fn evaluate_baseline_with(
    world: &World,
    index: &BaselineIndex,
    lists: &EvalLists,
    baseline: Baseline,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError> {
    let ctx = BaselineCtx {
        world,
        index,
        params: &params.edgerank,
        seed: params.seed,
    };
    run_method(
        baseline.name(),
        lists,
        params,
        &[],
        |list, cands, scores, _| {
            score_baseline(&ctx, baseline, list, cands, scores);
            Ok(())
        },
        progress,
    )
}

/// Evaluates the oracle (true probabilities, value weights `params.oracle_weights`), or
/// `None` when the world has no truth. Candidates without a truth row score 0 with all
/// probabilities 0 (counted in a `tracing` warning).
///
/// # Errors
/// As [`evaluate_baseline`].
pub fn evaluate_oracle(
    world: &World,
    lists: &EvalLists,
    params: &EvalParams,
) -> Result<Option<MethodResult>, EvalError> {
    evaluate_oracle_with(world, lists, params, &Silent)
}

fn evaluate_oracle_with(
    world: &World,
    lists: &EvalLists,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<Option<MethodResult>, EvalError> {
    let truth = TruthIndex::new(&world.truth);
    if truth.is_empty() {
        return Ok(None);
    }
    let (r, missing) = evaluate_probabilities("oracle", &truth, lists, params, false, progress)?;
    if missing > 0 {
        tracing::warn!(
            missing,
            "oracle: test impressions without a truth row scored 0"
        );
    }
    Ok(Some(r))
}

/// Evaluates a reference learner given by its probabilities of impressions (rows keyed like
/// [`World::truth`], looked up as the oracle looks up the truth: at least one row per test
/// candidate's (viewer, story)) as method `name`, ranked like the oracle (value weights
/// `params.oracle_weights`), with per-head metrics. `fitted_before` is the time before which
/// the learner saw data: it must be at or before the test period's start, so that the
/// learner never saw what it is tested on. `feedrank eval` ranks a simulated world with the
/// ceiling learner this way (`crate::sim::ceiling::evaluate_ceiling`).
///
/// # Errors
/// [`EvalError::LearnerSawTestPeriod`] when `fitted_before` is after `lists.split_at`;
/// [`EvalError::MissingProbability`] for a test impression without a row;
/// [`EvalError::InvalidParam`] for bad parameters.
pub fn evaluate_learner(
    name: &str,
    rows: &[crate::world::Truth],
    fitted_before: i64,
    lists: &EvalLists,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<MethodResult, EvalError> {
    params.check()?;
    if fitted_before > lists.split_at {
        return Err(EvalError::LearnerSawTestPeriod {
            method: name.to_string(),
            fitted_before,
            split_at: lists.split_at,
        });
    }
    let index = TruthIndex::new(rows);
    Ok(evaluate_probabilities(name, &index, lists, params, true, progress)?.0)
}

/// Ranks the lists with the probabilities of `truth` as method `name`; hands on the result
/// and how many candidates had no row (scored 0 unless `strict`, where the first one is
/// [`EvalError::MissingProbability`]).
fn evaluate_probabilities(
    name: &str,
    truth: &TruthIndex,
    lists: &EvalLists,
    params: &EvalParams,
    strict: bool,
    progress: &dyn Progress,
) -> Result<(MethodResult, usize), EvalError> {
    let missing = std::sync::atomic::AtomicUsize::new(0);
    let w = params.oracle_weights;
    let r = run_method(
        name,
        lists,
        params,
        &Action::ENGAGEMENTS,
        |list, cands, scores, probs| {
            for c in cands {
                let p = match truth.lookup(list.viewer, c.story, c.ts) {
                    Some(p) => p,
                    None if strict => {
                        return Err(EvalError::MissingProbability {
                            method: name.to_string(),
                            viewer: list.viewer,
                            story: c.story,
                            ts: c.ts,
                        })
                    }
                    None => {
                        missing.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        [0.0; 5]
                    }
                };
                scores.push(w.iter().zip(&p).map(|(a, b)| a * b).sum());
                probs.push(p);
            }
            Ok(())
        },
        progress,
    )?;
    Ok((r, missing.into_inner()))
}

/// The whole evaluation: builds the lists, then ranks them with `model` (when given, as
/// method `model`), the four baselines and, when the world has truth, the oracle.
///
/// # Errors
/// [`EvalError::InvalidParam`] for bad parameters, [`EvalError::EmptyWorld`] for an empty
/// world, [`EvalError::UnknownStory`]/[`EvalError::UnknownUser`] for dangling ids and
/// [`EvalError::NonFiniteScore`] for a scorer returning NaN.
///
/// # Complexity
/// List building O(C log C); each method O(sum over lists of n log n) plus the scorer's cost.
pub fn evaluate<S: Scorer>(
    world: &World,
    model: Option<&S>,
    params: &EvalParams,
) -> Result<EvalResult, EvalError> {
    evaluate_with_progress(world, model, params, &Silent)
}

/// As [`evaluate`], reporting each method's lists to `progress`
/// ([`evaluate_lists_with_progress`]).
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_with_progress<S: Scorer>(
    world: &World,
    model: Option<&S>,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<EvalResult, EvalError> {
    params.check()?;
    let split_at = match params.split_at {
        Some(t) => t,
        None => default_split_at(world)?,
    };
    let lists = EvalLists::build(world, split_at, &params.grades)?;
    evaluate_lists_with_progress(world, &lists, model, params, progress)
}

/// [`evaluate`] on lists already built (so that ablations reuse them).
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_lists<S: Scorer>(
    world: &World,
    lists: &EvalLists,
    model: Option<&S>,
    params: &EvalParams,
) -> Result<EvalResult, EvalError> {
    evaluate_lists_with_progress(world, lists, model, params, &Silent)
}

/// As [`evaluate_lists`], reporting one step per method ("evaluating model", "evaluating
/// chronological", ..., one unit per list) to `progress`.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_lists_with_progress<S: Scorer>(
    world: &World,
    lists: &EvalLists,
    model: Option<&S>,
    params: &EvalParams,
    progress: &dyn Progress,
) -> Result<EvalResult, EvalError> {
    params.check()?;
    let mut methods = Vec::new();
    let mut notes = Vec::new();
    match model {
        Some(m) => methods.push(evaluate_scorer_with_progress(
            "model", lists, m, params, progress,
        )?),
        None => notes.push("no trained model given: baselines only".to_string()),
    }
    let index = BaselineIndex::new(world);
    for b in Baseline::ALL {
        methods.push(evaluate_baseline_with(
            world, &index, lists, b, params, progress,
        )?);
    }
    match evaluate_oracle_with(world, lists, params, progress)? {
        Some(o) => methods.push(o),
        None => notes.push("no truth in this world: no oracle".to_string()),
    }
    let with_pos = methods
        .first()
        .map_or_else(|| lists.lists_with_positive(), |m| m.per_list.len());
    if with_pos == 0 {
        notes.push("no test list holds a positive: feed metrics are 0".to_string());
    }
    Ok(EvalResult {
        world: world.meta.name.clone(),
        split_at: lists.split_at,
        k: params.k,
        lists: with_pos,
        methods,
        ablations: None,
        stats: ListStats {
            lists_total: lists.lists.len(),
            lists_skipped: lists.lists.len() - with_pos,
            candidates: lists.candidates.len(),
            implied_impressions: lists.implied_impressions,
            unattributed_engagements: lists.unattributed_engagements,
        },
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::time::DAY;
    use crate::world::Exposure;

    /// `n` lists of 10 candidates (stories 0..10, one list per viewer), the only positive
    /// being story 0: the lowest id, so an id tie-break would always rank it first.
    fn lowest_id_positive_lists(n: u32) -> EvalLists {
        let mut lists = Vec::new();
        let mut candidates = Vec::new();
        for viewer in 0..n {
            let start = candidates.len();
            for story in 0..10u32 {
                candidates.push(Candidate {
                    story,
                    ts: DAY + 60,
                    rel: if story == 0 { 1.0 } else { 0.0 },
                    actions: if story == 0 { 0b10 } else { 0 },
                });
            }
            lists.push(EvalList {
                viewer,
                day: DAY,
                start,
                end: candidates.len(),
            });
        }
        EvalLists {
            split_at: DAY,
            exposure: Exposure::Logged,
            lists,
            candidates,
            implied_impressions: 0,
            unattributed_engagements: 0,
        }
    }

    fn all_tied(lists: &EvalLists, params: &EvalParams) -> MethodResult {
        run_method(
            "tied",
            lists,
            params,
            &[],
            |_, cands, scores, _| {
                scores.extend(cands.iter().map(|_| 1.0));
                Ok(())
            },
            &Silent,
        )
        .expect("constant scores are valid")
    }

    #[test]
    fn ties_carry_no_signal_from_id_order() {
        let lists = lowest_id_positive_lists(3000);
        let params = EvalParams {
            k: 10,
            gain: Gain::Binary,
            ..EvalParams::default()
        };
        let r = all_tied(&lists, &params);
        assert_eq!(r.per_list.len(), 3000);
        // An id tie-break would put the positive first in every list: nDCG@10 = 1, MRR = 1.
        // Under a uniformly random order the single positive is at rank 1..=10 with
        // probability 1/10 each: E[nDCG@10] = mean of 1/log2(r + 1), E[MRR] = mean of 1/r.
        let e_ndcg = (1..=10).map(|r| 1.0 / ((r + 1) as f64).log2()).sum::<f64>() / 10.0;
        let e_mrr = (1..=10).map(|r| 1.0 / r as f64).sum::<f64>() / 10.0;
        // Standard errors over 3000 lists are about 0.004 (nDCG) and 0.005 (MRR).
        assert!(
            (r.ndcg - e_ndcg).abs() < 0.02,
            "nDCG {} vs {e_ndcg}",
            r.ndcg
        );
        assert!((r.mrr - e_mrr).abs() < 0.025, "MRR {} vs {e_mrr}", r.mrr);
        assert!(r.ndcg < 0.6, "nDCG {} looks like id order (1.0)", r.ndcg);
    }

    #[test]
    fn tie_break_is_identical_across_runs_and_thread_counts_and_seeded() {
        let lists = lowest_id_positive_lists(500);
        let params = EvalParams::default();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| all_tied(&lists, &params))
        };
        let a = run(1);
        let b = run(2);
        let c = run(2);
        assert_eq!(a.per_list, b.per_list);
        assert_eq!(b.per_list, c.per_list);
        assert_eq!(a.ndcg.to_bits(), c.ndcg.to_bits());
        // another seed gives another order (so the order really comes from the seed)
        let other = all_tied(
            &lists,
            &EvalParams {
                seed: 1,
                ..EvalParams::default()
            },
        );
        assert_ne!(a.per_list, other.per_list);
        // a real score still wins over the tie-break: the positive scored highest is first
        let r = run_method(
            "pos-first",
            &lists,
            &params,
            &[],
            |_, cands, scores, _| {
                scores.extend(cands.iter().map(|c| c.rel));
                Ok(())
            },
            &Silent,
        )
        .expect("valid scores");
        assert!((r.ndcg - 1.0).abs() < 1e-12 && (r.mrr - 1.0).abs() < 1e-12);
    }
}
