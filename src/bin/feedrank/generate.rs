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

/// `feedrank bench generate` (to be wired by the lead): the batch loop on a synthetic world
/// (`random_world(seed 1, users, degree 20, 30 stories per user, 50 events per user)`) with
/// a constant-cost stand-in scorer, so the figure is the ranker's own throughput (sources,
/// filters, heuristics, selection, serialisation) on top of which the model's cost adds.
/// Prints the median of `runs` runs, CPU seconds beside wall seconds, and peak memory.
pub fn bench_synthetic(users: usize, runs: usize) -> anyhow::Result<()> {
    use feedrank::rank::testkit::{random_world, FnScorer};
    let t = std::time::Instant::now();
    let world = random_world(1, users, 20, users * 30, users * 50);
    eprintln!(
        "world: {} users, {} stories, {} events, {} edges (built in {:.1} s)",
        world.num_users(),
        world.stories.len(),
        world.events.len(),
        world.graph.num_edges(),
        t.elapsed().as_secs_f64()
    );
    let params = RankParams::default();
    let t = std::time::Instant::now();
    let index = RankIndex::new(&world);
    let as_of = RankContext::default_as_of(&world) - 2 * 86400;
    let ctx = RankContext::new(&world, &index, &params, as_of);
    eprintln!("index + context: {:.2} s", t.elapsed().as_secs_f64());
    let scorer =
        FnScorer::new(|v: u32, s: u32| ((v ^ s.wrapping_mul(2654435761)) % 1000) as f64 / 1000.0);
    let mut rows = Vec::new();
    for _ in 0..runs.max(1) {
        let cpu0 = common::cpu_seconds().unwrap_or(0.0);
        let mut sink = std::io::sink();
        let stats = generate_feeds(&ctx, &scorer, &BatchOptions::default(), &mut sink, &|_| {})?;
        let cpu = common::cpu_seconds().unwrap_or(0.0) - cpu0;
        eprintln!("{stats}\ncpu {cpu:.2} s");
        rows.push((stats.elapsed.as_secs_f64(), cpu, stats.scored));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (wall, cpu, scored) = rows[rows.len() / 2];
    println!(
        "bench generate: {users} users, {} threads: median wall {wall:.3} s, cpu {cpu:.2} s, {scored} candidates, {:.0} candidates/s, peak memory {:.0} MiB",
        rayon::current_num_threads(),
        scored as f64 / wall,
        common::peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
