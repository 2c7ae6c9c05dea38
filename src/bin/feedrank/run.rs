//! `feedrank run` (the default command): the whole pipeline on one world. Loads the world,
//! trains the model if `models/` has none for this world (or it is stale), generates every
//! user's feed into `OUT/feeds.jsonl`, evaluates the model against the baselines on the
//! held-out last day, writes `OUT/summary.json`, and suggests the next commands.
use crate::generate::{load_world, rank_params, write_feeds};
use anyhow::Context;
use feedrank::config::Config;
use feedrank::eval::EvalParams;
use feedrank::index::Scope;
use feedrank::model::{default_as_of, TrainedModel};
use feedrank::pipeline::FeedRanker;
use feedrank::rank::{OutputFormat, RankContext};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Parser, Debug)]
pub struct Args {
    /// World directory.
    #[arg(long, default_value = "graph_data/sample")]
    pub world: PathBuf,
    /// Model file (default: `models/<world directory name>.frm`); trained when missing or stale.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output directory for `feeds.jsonl` and `summary.json`.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// TOML configuration (`[features]`, `[model]`, `[value]`, `[rank]`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Feed length.
    #[arg(long)]
    pub k: Option<usize>,
    /// Retrain even when the saved model is current.
    #[arg(long)]
    pub retrain: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Loads the saved model if it is current for `world`, else trains and saves a new one.
fn model_for(
    world: &feedrank::world::World,
    path: &Path,
    cfg: &Config,
    retrain: bool,
    train_cmd: &str,
) -> anyhow::Result<TrainedModel> {
    let as_of = default_as_of(world).context("the world has no events or stories")?;
    if !retrain && path.exists() {
        match feedrank::model::load(path) {
            Ok(m) => match feedrank::pipeline::model_staleness(&m, world, as_of, cfg) {
                None => {
                    eprintln!("using model {} (current for this world)", path.display());
                    return Ok(m);
                }
                Some(why) => eprintln!("model {} is stale ({why}): retraining", path.display()),
            },
            Err(e) => eprintln!("model {} cannot be used ({e}): retraining", path.display()),
        }
    } else if !retrain {
        eprintln!("no model at {}: training one", path.display());
    }
    let t0 = Instant::now();
    let model = feedrank::pipeline::train_for(world, as_of, cfg, &crate::common::Bars::new())?;
    feedrank::model::save(&model, path)?;
    eprint!(
        "{}",
        crate::train::summary(&model, t0.elapsed().as_secs_f64())
    );
    eprintln!(
        "model written to {} (reproduce with: {train_cmd})",
        path.display()
    );
    Ok(model)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    crate::common::set_threads(a.threads)?;
    let cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let params = rank_params(a.config.as_deref(), a.k)?;
    if !a.world.join("world.toml").is_file() {
        anyhow::bail!(
            "no world at {} (no world.toml there): run from the repository root, where the \
             default world lives, or pass --world DIR",
            a.world.display()
        );
    }
    let world = load_world(&a.world, true)?;
    let stem = a
        .world
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "world".into());
    let model_path = a
        .model
        .clone()
        .unwrap_or_else(|| PathBuf::from("models").join(format!("{stem}.frm")));
    let train_cmd = format!(
        "feedrank train --world {} --model {}",
        a.world.display(),
        model_path.display()
    );
    let model = model_for(&world, &model_path, &cfg, a.retrain, &train_cmd)?;

    // Every user's feed, as of just after the world's last event.
    let as_of = RankContext::default_as_of(&world);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let feeds = a.out.join("feeds.jsonl");
    let ranker = FeedRanker::new(&world, &model, Scope::All, as_of, &params)?;
    let stats = write_feeds(&ranker, OutputFormat::Jsonl, &feeds)?;
    // The evaluation: the model was trained before its as_of; the lists after it are held
    // out.
    let eparams = EvalParams {
        split_at: Some(model.meta.as_of),
        oracle_weights: model.weights.as_array(),
        ..EvalParams::default()
    };
    let result = ranker.evaluate(&eparams, &crate::common::Bars::new())?;

    let mut out = crate::common::stdout();
    writeln!(out)?;
    write!(out, "{result}")?;
    let summary = serde_json::json!({
        "world": world.meta.name,
        "world_dir": a.world.display().to_string(),
        "model": model_path.display().to_string(),
        "as_of": as_of,
        "users": stats.users,
        "feed_items": stats.items,
        "fallbacks": stats.fallbacks,
        "empty_feeds": stats.empty_feeds,
        "candidates_considered": stats.considered,
        "candidates_scored": stats.scored,
        "filtered": {
            "own_story": stats.filtered[0],
            "already_seen": stats.filtered[1],
            "hidden_author": stats.filtered[2],
            "too_old": stats.filtered[3],
        },
        "evaluation": serde_json::from_str::<serde_json::Value>(&result.to_json()?)?,
        "elapsed_s": t0.elapsed().as_secs_f64(),
    });
    let summary_path = a.out.join("summary.json");
    feedrank::io::atomic::write_atomic(
        &summary_path,
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;

    let model_ndcg = result.method("model").map(|m| m.ndcg);
    writeln!(out)?;
    writeln!(
        out,
        "feeds for {} users in {} ({} items, {} fallback feeds); summary in {}",
        stats.users,
        feeds.display(),
        stats.items,
        stats.fallbacks,
        summary_path.display()
    )?;
    if let Some(n) = model_ndcg {
        writeln!(
            out,
            "model nDCG@{} on the held-out last day: {n:.4}",
            result.k
        )?;
    }
    let user = world.users.names().first().cloned().unwrap_or_default();
    writeln!(out, "\nnext:")?;
    writeln!(
        out,
        "  cargo run --release --bin feedrank-debug -- feed --world {} --model {} --user {user}",
        a.world.display(),
        model_path.display()
    )?;
    let friendships = ["friendships.tsv.gz", "friendships.tsv"]
        .into_iter()
        .map(|f| a.world.join(f))
        .find(|p| p.is_file())
        .unwrap_or_else(|| a.world.join("friendships.tsv"));
    writeln!(
        out,
        "  cargo run --release --bin feedrank-debug -- friends --graph {} --user {user}",
        friendships.display()
    )?;
    writeln!(
        out,
        "  cargo run --release -- eval --world {} --report out/report",
        a.world.display()
    )?;
    writeln!(
        out,
        "  cargo run --release -- simulate --users 20000 --days 14 --seed 7 --out /tmp/w20k"
    )?;
    out.flush()?;
    eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
