//! `feedrank generate`: every user's ranked feed (or one shard's, built from the shard's
//! scoped index) into one file, written atomically, with a progress bar and a summary on
//! stderr. Also holds what both binaries share: the ranking flags, [`load_world`],
//! [`load_model`] and [`rank_params`].
#![allow(dead_code)]
use crate::common;
use anyhow::Context;
use feedrank::index::Scope;
use feedrank::io::atomic::AtomicFile;
use feedrank::pipeline::FeedRanker;
use feedrank::rank::{OutputFormat, RankConfig, RankContext, RankParams, Shard};
use feedrank::world::World;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The flags that say what to rank, shared by `feedrank generate` and `feedrank-debug feed`.
#[derive(clap::Args, Debug)]
pub struct RankInput {
    /// World directory.
    #[arg(long)]
    pub world: PathBuf,
    /// Trained model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Rank as of this time: unix seconds or YYYY-MM-DD (00:00 UTC); default: one second
    /// after the world's last event.
    #[arg(long, value_parser = common::parse_time)]
    pub as_of: Option<i64>,
    /// Feed length (default: the config's `[rank] k`, 50).
    #[arg(long)]
    pub k: Option<usize>,
    /// TOML configuration file; its `[rank]` section overrides the ranking defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Rank with a model trained on another world (a warning instead of an error).
    #[arg(long)]
    pub allow_other_world: bool,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: RankInput,
    /// Output file (JSON Lines or TSV), written atomically; `-` writes to standard output.
    #[arg(long)]
    pub out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Only users whose FNV-1a hash of the id mod N is i, written as `i/N`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Output format.
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "tsv"])]
    pub format: String,
    /// The whole world's aggregates at `--as-of`, written once by `feedrank aggregates
    /// --world` (shards then skip computing them; the feeds are the same).
    #[arg(long)]
    pub aggregates: Option<PathBuf>,
}

/// Where the feeds go: standard output (`--out -`) or a file written atomically.
pub enum Sink {
    Stdout,
    File(AtomicFile),
}

impl Sink {
    /// Opens `out` (`-` is standard output). A file's temporary is created here, so an
    /// unwritable destination fails before the world is loaded.
    pub fn open(out: &Path) -> anyhow::Result<Sink> {
        Ok(if common::is_stdout(out) {
            Sink::Stdout
        } else {
            Sink::File(AtomicFile::create(out)?)
        })
    }
}

/// Ranks every viewer of `ranker`'s scope into `out` atomically, or onto standard output
/// when `out` is `-`, with a progress bar and the summary on stderr.
pub fn write_feeds(
    ranker: &FeedRanker<'_>,
    format: OutputFormat,
    out: &Path,
) -> anyhow::Result<feedrank::rank::RankStats> {
    write_feeds_to(ranker, format, out, Sink::open(out)?)
}

/// [`write_feeds`] into a sink already opened for `out`.
pub fn write_feeds_to(
    ranker: &FeedRanker<'_>,
    format: OutputFormat,
    out: &Path,
    sink: Sink,
) -> anyhow::Result<feedrank::rank::RankStats> {
    let pb = common::progress(ranker.index().viewers().len() as u64, "ranking");
    let context = || format!("generating {}", out.display());
    let (stats, wrote) = match sink {
        Sink::Stdout => {
            let mut w = common::stdout();
            let stats = ranker
                .write_feeds(format, &mut w, &|n| pb.inc(n))
                .with_context(context)?;
            w.flush()?;
            (stats, "standard output".to_string())
        }
        Sink::File(mut file) => {
            let stats = ranker
                .write_feeds(format, file.writer(), &|n| pb.inc(n))
                .with_context(context)?;
            file.commit()?;
            (stats, out.display().to_string())
        }
    };
    pb.finish_and_clear();
    eprintln!("{stats}");
    let cpu = common::cpu_seconds().map_or("?".into(), |c| format!("{c:.2}"));
    let rss = common::peak_rss_mib().map_or("?".into(), |m| format!("{m:.0}"));
    eprintln!("cpu {cpu} s, peak memory {rss} MiB; wrote {wrote}");
    Ok(stats)
}

/// Loads the world directory (strict; `truth.tsv` only when `truth`), from its snapshot when
/// fresh (set `FEEDRANK_SNAPSHOT=off` to always parse the TSV files and write none), printing
/// the load summary and where the world came from on stderr.
pub fn load_world(dir: &Path, truth: bool) -> anyhow::Result<World> {
    let t = std::time::Instant::now();
    let opts = feedrank::pipeline::LoadOptions {
        lenient: false,
        skip_truth: !truth,
        snapshot: std::env::var("FEEDRANK_SNAPSHOT").map_or(true, |v| v != "off" && v != "0"),
    };
    let bars = common::Bars::new();
    let (world, report, from) = feedrank::pipeline::load_world_with_progress(dir, &opts, &bars)?;
    drop(bars);
    eprintln!("{report}");
    eprintln!("  loaded in {:.2} s, {from}", t.elapsed().as_secs_f64());
    Ok(world)
}

/// The `as_of` to rank at: the one asked for, else a partition world's own, else one second
/// after the world's last event.
pub fn rank_as_of(
    asked: Option<i64>,
    world: &World,
    partition: Option<&feedrank::index::Partition>,
) -> i64 {
    asked.unwrap_or_else(|| {
        partition.map_or_else(|| RankContext::default_as_of(world), |p| p.as_of())
    })
}

/// Loads the model at `model_path`.
pub fn load_model(model_path: &Path) -> anyhow::Result<feedrank::model::TrainedModel> {
    // The model's errors name its path.
    Ok(feedrank::model::load(model_path)?)
}

/// Refuses a model made for another world, unless `allow` (then a warning on stderr).
pub fn admit_model(
    model: &feedrank::model::TrainedModel,
    world: &World,
    allow: bool,
) -> anyhow::Result<()> {
    if let Some(m) = feedrank::model::compat::admit(model, world, allow)? {
        eprintln!("warning: {m}; ranking with it anyway (--allow-other-world)");
    }
    Ok(())
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

pub fn run(a: Args) -> anyhow::Result<()> {
    common::set_threads(a.threads)?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let format: OutputFormat = a.format.parse()?;
    let params = rank_params(a.input.config.as_deref(), a.input.k)?;
    // before any work: a destination that cannot be written fails now
    let sink = Sink::open(&a.out)?;
    let world = load_world(&a.input.world, false)?;
    let model = load_model(&a.input.model)?;
    admit_model(&model, &world, a.input.allow_other_world)?;
    // A partition world (README "Spark") ranks its own viewers at its aggregates' as_of.
    let partition = feedrank::index::read_partition(&a.input.world, &world)?;
    let as_of = rank_as_of(a.input.as_of, &world, partition.as_ref());
    // An as_of far past the data ranks nothing fresh: say so rather than write empty feeds.
    let (day, fmt) = (
        feedrank::util::time::DAY,
        feedrank::io::world_tsv::civil::format_utc,
    );
    if let Some((_, last)) = world
        .time_span()
        .filter(|&(_, l)| as_of > l.saturating_add(30 * day))
    {
        eprintln!(
            "warning: --as-of {as_of} ({} UTC) is {} days after the world's last event ({} UTC): \
             feeds will be empty or nearly so; omit --as-of to rank as of the last event",
            fmt(as_of),
            as_of.saturating_sub(last) / day,
            fmt(last)
        );
    }
    let scope = match (partition, shard) {
        (Some(_), _) if shard.is_some() || a.aggregates.is_some() => anyhow::bail!(
            "{} is a partition world: it ranks the viewers in its viewers.tsv with its own \
             aggregates; --shard and --aggregates are for whole worlds",
            a.input.world.display()
        ),
        (Some(p), _) => p.scope(),
        (None, s) => match &a.aggregates {
            Some(dir) => {
                let aggregates = feedrank::index::read_aggregates(dir, &world)?;
                let (index, count) = s.map_or((0, 1), |s| (s.index, s.count));
                let viewers = match s {
                    Some(s) => Scope::shard(&world, s).viewer_ids(&world),
                    None => (0..world.num_users() as u32).collect(),
                };
                feedrank::index::Partition {
                    index,
                    count,
                    as_of: aggregates.as_of,
                    viewers,
                    aggregates: vec![aggregates],
                    training: false,
                    author_rate_window_s: None,
                }
                .scope()
            }
            None => s.map_or(Scope::All, |s| Scope::shard(&world, s)),
        },
    };
    let t = std::time::Instant::now();
    let ranker = FeedRanker::new(&world, &model, scope, as_of, &params)?;
    let cov = ranker.index().coverage();
    let tm = ranker.index().timings();
    eprintln!(
        "index built in {:.2} s (rank index + signals {:.2}, candidates {:.2}, features {:.2}, \
         as-of tables {:.2}): {} viewers, {} with their friends, {} stories",
        t.elapsed().as_secs_f64(),
        tm.rank_index_and_signals,
        tm.candidates,
        tm.feature_space,
        tm.as_of_tables,
        cov.viewers,
        cov.near,
        cov.stories
    );
    write_feeds_to(&ranker, format, &a.out, sink)?;
    Ok(())
}

/// `feedrank bench generate`: end-to-end batch ranking speed on a world with a trained model
/// (features + scoring + heuristics + selection + serialisation, output to a sink).
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// World directory (e.g. made by `feedrank simulate --users 100000 --days 14`).
    #[arg(long)]
    pub world: PathBuf,
    /// Model file; trained on the world (and saved here) when missing.
    #[arg(long)]
    pub model: PathBuf,
    /// Timed runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn bench(a: BenchArgs) -> anyhow::Result<()> {
    common::set_threads(a.threads)?;
    let world = load_world(&a.world, false)?;
    let model = if a.model.exists() {
        feedrank::model::load(&a.model)?
    } else {
        let as_of =
            feedrank::model::default_as_of(&world).context("the world has no events or stories")?;
        let m = feedrank::pipeline::train_for(
            &world,
            as_of,
            &feedrank::config::Config::default(),
            &common::Bars::new(),
        )?;
        feedrank::model::save(&m, &a.model)?;
        m
    };
    let params = RankParams::default();
    let t = std::time::Instant::now();
    let as_of = RankContext::default_as_of(&world);
    let ranker = FeedRanker::new(&world, &model, Scope::All, as_of, &params)?;
    let prep = t.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for _ in 0..a.runs.max(1) {
        let cpu0 = common::cpu_seconds().unwrap_or(0.0);
        let mut sink = std::io::sink();
        let stats = ranker.write_feeds(OutputFormat::Jsonl, &mut sink, &|_| {})?;
        let cpu = common::cpu_seconds().unwrap_or(0.0) - cpu0;
        eprintln!("{stats}\ncpu {cpu:.2} s");
        rows.push((stats.elapsed.as_secs_f64(), cpu, stats.scored));
    }
    rows.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (wall, cpu, scored) = rows[rows.len() / 2];
    println!(
        "bench generate: {} users, {} threads, index {prep:.2} s; median of {} runs: wall {wall:.3} s, cpu {cpu:.2} s, {scored} candidates scored, {:.0} candidates/s wall, {:.0} per CPU-second, peak memory {:.0} MiB",
        world.num_users(),
        rayon::current_num_threads(),
        a.runs.max(1),
        scored as f64 / wall,
        scored as f64 / cpu.max(1e-9),
        common::peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
