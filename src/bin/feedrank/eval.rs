//! `feedrank eval`: trains the model on the events before the split (once wired), ranks every
//! (viewer, day) list of the test period with the model, the baselines and (on simulated
//! worlds) the oracle, prints the table and optionally writes the JSON.
use anyhow::Context;
use feedrank::eval::{self, EvalParams};
use feedrank::world::World;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// World directory.
    #[arg(long)]
    pub world: PathBuf,
    /// Start of the test period, unix seconds (default: start of the UTC day at 80% of the
    /// world's time span).
    #[arg(long)]
    pub split_at: Option<i64>,
    /// Cut-off of the feed metrics.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Write the results as JSON to this file (atomically).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Seed of the random baseline.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Binary gain in nDCG instead of graded `2^rel - 1`.
    #[arg(long)]
    pub binary_gain: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The scorer type `train_scorer` returns. LEAD: replace with the trained model's type.
type TrainedScorer = eval::NoModel;

/// Loads a world directory. LEAD: wire the world reader here
/// (`feedrank::io::world_tsv::read::...`) when it lands.
fn load_world(dir: &Path) -> anyhow::Result<World> {
    anyhow::bail!(
        "cannot read {}: the world reader is not merged into this build yet",
        dir.display()
    )
}

/// Trains the model on the events strictly before `split_at`. LEAD: wire the model's
/// training call here; `Ok(None)` runs the baselines only (with a note in the output).
fn train_scorer(_world: &World, _split_at: i64) -> anyhow::Result<Option<TrainedScorer>> {
    Ok(None)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    crate::common::set_threads(args.threads)?;
    let world = load_world(&args.world)?;
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
        Some(t) => t,
        None => eval::default_split_at(&world)?,
    };
    let params = EvalParams {
        split_at: Some(split_at),
        ..params
    };
    let model = train_scorer(&world, split_at).context("training the model")?;
    if model.is_none() {
        eprintln!("note: the model's training is not wired into `eval` yet: baselines only");
    }
    let result = eval::evaluate(&world, model.as_ref(), &params)?;
    print!("{result}");
    if let Some(path) = &args.json {
        let json = result.to_json()?;
        feedrank::io::atomic::write_atomic(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
