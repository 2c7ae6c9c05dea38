//! `feedrank eval`: trains the model on the events before the split (or takes a saved one
//! trained before it, `--model`), ranks every
//! (viewer, day) list of the test period with the model, the baselines and (on simulated
//! worlds) the oracle and the ceiling learner (`feedrank::sim::ceiling`), prints the table (or, with `--json`, the JSON) and optionally writes
//! the JSON to a file (`--json-out`).
use anyhow::Context;
use feedrank::eval::{self, EvalParams};
use feedrank::features::AblationGroup;
use feedrank::world::World;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// World directory.
    #[arg(long)]
    pub world: PathBuf,
    /// TOML configuration for training (`[features]`, `[model]`, `[value]`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Start of the test period: unix seconds or a UTC date `YYYY-MM-DD` (default: start of
    /// the UTC day at 80% of the world's time span).
    #[arg(long, value_parser = crate::common::parse_time)]
    pub split_at: Option<i64>,
    /// Cut-off of the feed metrics.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Print the results as JSON on standard output instead of the table (as
    /// `feedrank-debug --json` does).
    #[arg(long)]
    pub json: bool,
    /// Also write the results as JSON to this file (atomically); the same JSON as `--json`.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Seed of the random baseline.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Binary gain in nDCG instead of graded `2^rel - 1`.
    #[arg(long)]
    pub binary_gain: bool,
    /// Retrain without a feature group and report the nDCG drop (repeatable): `graph`,
    /// `dispersion`, `tie_strength`, `mf`, `topic_taste`, `personalisation`, `social`.
    #[arg(long)]
    pub ablate: Vec<AblationGroup>,
    /// Write the report (index.html with charts, results.json, results.md) into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Bootstrap resamples of the report's confidence intervals (seeded by --seed).
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Evaluate this saved model instead of training one; it must have been trained on data
    /// before the split (its training cut-off at or before `--split-at`).
    #[arg(long, conflicts_with_all = ["ablate", "config"])]
    pub model: Option<PathBuf>,
    /// With `--model`: evaluate a model trained on another world (a warning instead of an
    /// error).
    #[arg(long, requires = "model")]
    pub allow_other_world: bool,
}

/// The scorer type `Trained::scorer` returns: the trained model bound to its feature space.
type TrainedScorer<'a> = feedrank::model::ModelScorer<'a>;

/// A model trained on one world together with the feature space it was trained on (which
/// scores it). Both are owned here: a scorer borrows them for as long as `Trained` lives in
/// the caller's scope, and everything is freed when it goes out of scope (so an ablation's
/// feature space and model are dropped before the next one is trained).
struct Trained<'w> {
    fs: feedrank::features::FeatureSpace<'w>,
    model: feedrank::model::TrainedModel,
}

impl Trained<'_> {
    /// The model bound to its feature space.
    fn scorer(&self) -> anyhow::Result<TrainedScorer<'_>> {
        Ok(feedrank::model::ModelScorer::new(&self.fs, &self.model)?)
    }
}

/// Trains the model (configuration `base`, minus the `ablate` groups) on the events strictly
/// before `split_at`, on a feature space of `world` that it hands back with the model.
fn train_with_ablation<'w>(
    world: &'w World,
    split_at: i64,
    ablate: &[AblationGroup],
    base: &feedrank::config::Config,
) -> anyhow::Result<Trained<'w>> {
    let mut cfg = base.clone();
    cfg.model.ablate = ablate.to_vec();
    cfg.validate()?;
    let t0 = std::time::Instant::now();
    let fs = feedrank::features::FeatureSpace::new(world, &cfg.features)?;
    let model =
        feedrank::model::train_with_progress(&fs, split_at, &cfg, &crate::common::Bars::new())?;
    eprint!(
        "{}",
        crate::train::summary(&model, t0.elapsed().as_secs_f64())
    );
    Ok(Trained { fs, model })
}

/// A saved model, checked to be this world's (unless `allow`) and trained strictly before
/// the test period (a later cut-off would let it see the events it is tested on), with a
/// feature space of `world` built with its settings.
fn saved_model<'w>(
    world: &'w World,
    path: &std::path::Path,
    split_at: i64,
    allow: bool,
) -> anyhow::Result<Trained<'w>> {
    let model = crate::generate::load_model(path)?;
    crate::generate::admit_model(&model, world, allow)?;
    let fmt = feedrank::io::world_tsv::civil::format_utc;
    anyhow::ensure!(
        model.meta.as_of <= split_at,
        "{}: the model was trained on data up to {} UTC, after the test period starts ({} UTC): \
         its evaluation would see the events it is tested on; train it with --as-of at or \
         before the split, or choose a later --split-at",
        path.display(),
        fmt(model.meta.as_of),
        fmt(split_at)
    );
    let fs = feedrank::features::FeatureSpace::new(world, &model.feature_config)?;
    Ok(Trained { fs, model })
}

/// The largest standardised coefficients per head, for the report: `(head, [(feature,
/// coefficient)])`. LEAD: fill from the trained model's heads (coefficients on standardised
/// features); empty means the report omits the section.
fn model_coefficients(model: &TrainedScorer) -> Vec<(String, Vec<(String, f64)>)> {
    let m = model.model();
    m.heads
        .iter()
        .map(|h| {
            let coefs = m
                .feature_names
                .iter()
                .zip(&h.coef)
                .map(|(name, &c)| (name.clone(), c))
                .collect();
            (h.action.as_str().to_string(), coefs)
        })
        .collect()
}

/// On a simulated world whose hidden inputs the simulator reproduces, ranks the lists with
/// the ceiling learner too (method `ceiling`, after the oracle); on other worlds nothing. A
/// simulated world that the rerun does not reproduce gets a warning and a note, not an error:
/// the rest of the evaluation stands.
fn add_ceiling(
    world: &World,
    lists: &eval::EvalLists,
    params: &EvalParams,
    result: &mut eval::EvalResult,
) -> anyhow::Result<()> {
    let bars = crate::common::Bars::new();
    match feedrank::sim::replay::hidden_of(world, &bars) {
        Ok(Some(hidden)) => {
            let m = feedrank::sim::ceiling::evaluate_ceiling(
                &hidden,
                world.num_users(),
                lists,
                params,
                &bars,
            )?;
            result.methods.push(m);
        }
        Ok(None) => {}
        Err(e) => {
            drop(bars);
            eprintln!("warning: no ceiling method: {e}");
            result.notes.push(format!("no ceiling method: {e}"));
        }
    }
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::common::set_threads(args.threads)?;
    // before the evaluation: a JSON path that cannot be written fails now
    if let Some(path) = &args.json_out {
        crate::common::check_writable(path)?;
    }
    let world = crate::generate::load_world(&args.world, true)?;
    let params = EvalParams {
        split_at: args.split_at,
        k: args.k,
        seed: args.seed,
        gain: if args.binary_gain {
            feedrank::metrics::Gain::Binary
        } else {
            feedrank::metrics::Gain::Graded
        },
        ..EvalParams::default()
    };
    params.check()?;
    let split_at = match params.split_at {
        Some(t) => {
            eval::check_split_at(&world, t).context("--split-at")?;
            t
        }
        None => eval::default_split_at(&world)?,
    };
    let params = EvalParams {
        split_at: Some(split_at),
        ..params
    };
    let cfg = match &args.config {
        Some(p) => feedrank::config::Config::load(p)?,
        None => feedrank::config::Config::default(),
    };
    let trained = match &args.model {
        Some(path) => saved_model(&world, path, split_at, args.allow_other_world)?,
        None => train_with_ablation(&world, split_at, &[], &cfg).context("training the model")?,
    };
    let model = trained.scorer()?;
    // the oracle values impressions with the model's value weights
    let params = EvalParams {
        oracle_weights: model.model().weights.as_array(),
        ..params
    };
    let lists = eval::EvalLists::build(&world, split_at, &params.grades)?;
    let bars = crate::common::Bars::new();
    let mut result =
        eval::evaluate_lists_with_progress(&world, &lists, Some(&model), &params, &bars)?;
    drop(bars);
    let coefficients = model_coefficients(&model);
    // free the main feature space and model before any ablation builds its own (and before
    // the simulator's rerun for the ceiling learner)
    drop(trained);
    add_ceiling(&world, &lists, &params, &mut result)?;
    for &group in &args.ablate {
        let without = train_with_ablation(&world, split_at, &[group], &cfg)
            .with_context(|| format!("training without {group}"))?;
        let bars = crate::common::Bars::new();
        let r = eval::evaluate_scorer_with_progress(
            group.as_str(),
            &lists,
            &without.scorer()?,
            &params,
            &bars,
        )?;
        drop(bars);
        result.add_ablation(group, &r);
    }
    let json = result.to_json()?;
    let mut out = crate::common::stdout();
    if args.json {
        writeln!(out, "{}", json.trim_end())?;
    } else {
        write!(out, "{result}")?;
    }
    out.flush()?;
    if let Some(path) = &args.json_out {
        feedrank::io::atomic::write_atomic(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(dir) = &args.report {
        let extras = eval::ReportExtras {
            coefficients,
            world_summary: format!(
                "{} users, {} friendships, {} stories, {} events; {} test lists with a \
                 positive.",
                world.num_users(),
                world.graph.num_edges(),
                world.stories.len(),
                world.events.len(),
                result.lists
            ),
            command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
            notes: Vec::new(),
        };
        let opts = eval::ReportOptions {
            resamples: args.resamples,
            seed: args.seed,
            ..eval::ReportOptions::default()
        };
        eval::write_report_with_progress(dir, &result, &extras, &opts, &crate::common::Bars::new())
            .with_context(|| format!("writing the report to {}", dir.display()))?;
        eprintln!("wrote {}", dir.join("index.html").display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::common::parse_time;

    #[test]
    fn parses_seconds_and_dates() {
        assert_eq!(parse_time("86400"), Ok(86_400));
        assert_eq!(parse_time("1970-01-02"), Ok(86_400));
        assert_eq!(parse_time("2000-03-01"), Ok(951_868_800));
        assert_eq!(parse_time("2026-11-28"), Ok(1_795_824_000));
        assert!(parse_time("2026-13-01").is_err());
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("99999999999-01-01").is_err());
    }
}
