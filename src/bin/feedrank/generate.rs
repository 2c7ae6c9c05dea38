//! `feedrank generate`: every user's ranked feed (or one shard's) into one file, written
//! atomically, with a progress bar and a summary on stderr. Also holds the two wiring points
//! both binaries use: [`load_world`] and [`with_scorer`] (the lead connects them to the world
//! reader and the trained model).
#![allow(dead_code)]
use crate::common;
use anyhow::Context;
use feedrank::io::atomic::AtomicFile;
use feedrank::model::Scorer;
use feedrank::rank::{
    generate_feeds, BatchOptions, OutputFormat, RankConfig, RankContext, RankIndex, RankParams,
    Shard,
};
use feedrank::world::World;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// World directory.
    #[arg(long)]
    pub world: PathBuf,
    /// Trained model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Output file (JSON Lines or TSV).
    #[arg(long)]
    pub out: PathBuf,
    /// Rank as of this unix time (seconds; default: one second after the world's last event).
    #[arg(long)]
    pub as_of: Option<i64>,
    /// Feed length (default: the config's `[rank] k`, 50).
    #[arg(long)]
    pub k: Option<usize>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Only users whose FNV-1a hash of the id mod N is i, written as `i/N`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Output format.
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "tsv"])]
    pub format: String,
    /// TOML configuration file; its `[rank]` section overrides the ranking defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Something to run with a concrete scorer (generic, so the hot loop is monomorphised).
pub trait WithScorer {
    type Out;
    fn run<S: Scorer>(self, world: &World, scorer: &S) -> anyhow::Result<Self::Out>;
}

/// Wiring point: loads the world directory.
pub fn load_world(dir: &Path) -> anyhow::Result<World> {
    anyhow::bail!(
        "world reader support not merged yet: cannot load {}",
        dir.display()
    )
}

/// Wiring point: loads the model at `model_path` for `world` and runs `f` with its scorer.
pub fn with_scorer<F: WithScorer>(
    world: &World,
    model_path: &Path,
    f: F,
) -> anyhow::Result<F::Out> {
    let _ = (world, f);
    anyhow::bail!(
        "model support not merged yet: cannot load {}",
        model_path.display()
    )
}

/// The checked ranking parameters: defaults, then the config file's `[rank]` section, then
/// `--k`.
pub fn rank_params(config: Option<&Path>, k: Option<usize>) -> anyhow::Result<RankParams> {
    let mut cfg = RankConfig::default();
    if let Some(path) = config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}: invalid TOML", path.display()))?;
        if let Some(rank) = table.get("rank") {
            cfg = rank
                .clone()
                .try_into()
                .with_context(|| format!("{}: invalid [rank] section", path.display()))?;
        }
    }
    if let Some(k) = k {
        cfg.k = k;
    }
    Ok(cfg.check()?)
}

struct Generate<'a> {
    ctx: &'a RankContext<'a>,
    opts: BatchOptions,
    out: &'a Path,
}

impl WithScorer for Generate<'_> {
    type Out = ();

    fn run<S: Scorer>(self, world: &World, scorer: &S) -> anyhow::Result<()> {
        let users = match self.opts.shard {
            Some(s) => world.users.names().iter().filter(|n| s.contains(n)).count(),
            None => world.num_users(),
        };
        let pb = common::progress(users as u64, "ranking");
        let mut file = AtomicFile::create(self.out)?;
        let stats = generate_feeds(self.ctx, scorer, &self.opts, file.writer(), &|n| pb.inc(n))
            .with_context(|| format!("generating {}", self.out.display()))?;
        file.commit()?;
        pb.finish_and_clear();
        eprintln!("{stats}");
        let cpu = common::cpu_seconds().map_or("?".into(), |c| format!("{c:.2}"));
        let rss = common::peak_rss_mib().map_or("?".into(), |m| format!("{m:.0}"));
        eprintln!(
            "cpu {cpu} s, peak memory {rss} MiB; wrote {}",
            self.out.display()
        );
        Ok(())
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::set_threads(a.threads)?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let format: OutputFormat = a.format.parse()?;
    let params = rank_params(a.config.as_deref(), a.k)?;
    let world = load_world(&a.world)?;
    let as_of = a
        .as_of
        .unwrap_or_else(|| RankContext::default_as_of(&world));
    let index = RankIndex::new(&world);
    let ctx = RankContext::new(&world, &index, &params, as_of);
    let opts = BatchOptions {
        format,
        shard,
        ..BatchOptions::default()
    };
    with_scorer(
        &world,
        &a.model,
        Generate {
            ctx: &ctx,
            opts,
            out: &a.out,
        },
    )
}
