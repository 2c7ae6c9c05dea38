//! The commands behind partitioned ranking (README "Spark"): `partition-spec` (the windows a
//! partition's input depends on), `aggregates` (per-story partial counts of one slice of the
//! events) and `partition` (the partition worlds of a whole world on one machine, as the
//! Spark job builds them). `generate` ranks a partition world's viewers.
use crate::common;
use crate::generate::{load_model, load_world, rank_params};
use anyhow::Context;
use feedrank::features::story_partials;
use feedrank::index::partition::extract;
use feedrank::io::world_tsv::partition::{
    read_event_slice, write_aggregates_dir, write_partition_files, AggregateRows, PartitionMeta,
};
use feedrank::rank::{RankContext, Shard};
use std::io::Write;
use std::path::PathBuf;

/// `feedrank partition-spec`.
#[derive(clap::Args, Debug)]
pub struct SpecArgs {
    /// The time the partitions are ranked at (unix seconds).
    #[arg(long)]
    pub as_of: i64,
    /// The model that will rank them (its feature settings hold the author rate window);
    /// without it, the `[features]` of `--config` (or the defaults), as for a training input.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// TOML configuration file; its `[rank]` section overrides the ranking defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// The feature settings of the model, if one is given, else of the configuration file (or
/// the defaults): the ones a training input is written for.
fn feature_config(
    model: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
) -> anyhow::Result<feedrank::features::FeatureConfig> {
    Ok(match (model, config) {
        (Some(m), _) => load_model(m)?.feature_config,
        (None, Some(c)) => feedrank::config::Config::load(c)?.features,
        (None, None) => feedrank::config::Config::default().features,
    })
}

/// Prints, as JSON, the windows that decide a partition's input.
pub fn spec(a: SpecArgs) -> anyhow::Result<()> {
    let params = rank_params(a.config.as_deref(), None)?;
    let rate_days =
        feature_config(a.model.as_deref(), a.config.as_deref())?.author_rate_window_days;
    let spec = serde_json::json!({
        "as_of": a.as_of,
        "in_network_window_s": params.in_network_window,
        "oon_window_s": params.oon_window,
        "fallback_window_s": params.fallback_window,
        "author_rate_window_s": (rate_days * feedrank::util::time::DAY as f64) as i64,
        "positive_actions": feedrank::world::Action::ALL
            .iter()
            .filter(|x| x.is_positive())
            .map(|x| x.as_str())
            .collect::<Vec<_>>(),
    });
    let mut out = common::stdout();
    writeln!(out, "{spec}")?;
    out.flush()?;
    Ok(())
}

/// `feedrank aggregates`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["events", "world"])))]
pub struct AggregatesArgs {
    /// Events table of one slice (`user_id story_id action ts`, header first), holding every
    /// event of its users; `-` reads standard input. Prints the slice's per-story partials.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Or a whole world directory: writes its summed aggregates to `--out`, for
    /// `feedrank generate --aggregates` (shards then skip computing them).
    #[arg(long, requires = "out")]
    pub world: Option<PathBuf>,
    /// Output directory of `--world` (`story_aggregates.tsv`, `author_aggregates.tsv`,
    /// `aggregates.toml`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The time the feeds are ranked at (unix seconds; with `--world`, default: one second
    /// after the world's last event). With `--events`, several times (comma-separated, for
    /// the training days of a training input) add an `as_of` column, first, and leave out
    /// the rows whose counts are all 0.
    #[arg(long, value_delimiter = ',')]
    pub as_of: Vec<i64>,
    /// The model that will rank them (its feature settings hold the author rate window);
    /// with `--events`, without it, the `[features]` of `--config` (or the defaults), as for
    /// a training input.
    #[arg(long, required_unless_present = "events")]
    pub model: Option<PathBuf>,
    /// With `--events` and no `--model`: the training configuration (its `[features]`).
    #[arg(long, conflicts_with = "model")]
    pub config: Option<PathBuf>,
}

/// `--events`: prints the slice's per-story partials as TSV (`story_id exposures
/// rate_exposures rate_positives`), one row per story the slice has events on, in order of
/// first appearance; summed over slices by story, they are the whole world's. `--world`:
/// writes the whole world's aggregates (every story and author) to `--out`.
pub fn aggregates(a: AggregatesArgs) -> anyhow::Result<()> {
    let cfg = feature_config(a.model.as_deref(), a.config.as_deref())?;
    let (Some(world_dir), Some(out)) = (&a.world, &a.out) else {
        let events = a
            .events
            .as_ref()
            .context("--events or --world is required")?;
        anyhow::ensure!(!a.as_of.is_empty(), "--as-of is required with --events");
        return print_slice_partials(events, &a.as_of, &cfg);
    };
    let as_of = match a.as_of[..] {
        [] => None,
        [t] => Some(t),
        _ => anyhow::bail!("--world takes one --as-of"),
    };
    let world = load_world(world_dir, false)?;
    let as_of = as_of.unwrap_or_else(|| RankContext::default_as_of(&world));
    let aggs = feedrank::index::whole_world_aggregates(&world, &cfg, as_of);
    let rows = AggregateRows {
        as_of,
        stories: aggs.story_rows(),
        authors: aggs.author_rows(),
    };
    write_aggregates_dir(out, &world, &rows)?;
    let (stories, authors) = (rows.stories, rows.authors);
    let cpu = common::cpu_seconds().map_or("?".into(), |c| format!("{c:.2}"));
    let rss = common::peak_rss_mib().map_or("?".into(), |m| format!("{m:.0}"));
    eprintln!(
        "aggregates at as_of {as_of} of {} stories and {} authors",
        stories.len(),
        authors.len()
    );
    eprintln!(
        "cpu {cpu} s, peak memory {rss} MiB; wrote {}",
        out.display()
    );
    Ok(())
}

fn print_slice_partials(
    events: &std::path::Path,
    as_of: &[i64],
    cfg: &feedrank::features::FeatureConfig,
) -> anyhow::Result<()> {
    let path = if common::is_stdout(events) {
        PathBuf::from("/dev/stdin")
    } else {
        events.to_path_buf()
    };
    let slice = read_event_slice(&path)?;
    let many = as_of.len() > 1;
    let mut out = common::stdout();
    let header = "story_id\texposures\trate_exposures\trate_positives";
    if many {
        writeln!(out, "as_of\t{header}")?;
    } else {
        writeln!(out, "{header}")?;
    }
    for &t in as_of {
        let partials = story_partials(&slice.events, slice.stories.len(), t, cfg);
        for (s, p) in partials.iter().enumerate() {
            if many && *p == Default::default() {
                continue;
            }
            if many {
                write!(out, "{t}\t")?;
            }
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                slice.stories.name(s as u32),
                p.exposures,
                p.rate_exposures,
                p.rate_positives
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `feedrank partition`.
#[derive(clap::Args, Debug)]
pub struct PartitionArgs {
    /// World directory.
    #[arg(long)]
    pub world: PathBuf,
    /// The model that will rank the partitions (not with `--training`).
    #[arg(
        long,
        required_unless_present = "training",
        conflicts_with = "training"
    )]
    pub model: Option<PathBuf>,
    /// Number of partitions (viewers split by the FNV-1a hash of their id, as `--shard`).
    #[arg(
        long,
        required_unless_present = "training",
        conflicts_with = "training"
    )]
    pub partitions: Option<u32>,
    /// Rank as of this unix time (seconds or YYYY-MM-DD; default: one second after the
    /// world's last event); with `--training`, the training cut-off (default: the start of
    /// the world's last day, as `feedrank train`).
    #[arg(long, value_parser = crate::common::parse_time)]
    pub as_of: Option<i64>,
    /// TOML configuration file; its `[rank]` section overrides the ranking defaults (with
    /// `--training`, its `[features]` section is the one `feedrank train` will use).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output directory: one partition world per partition, `part-00000`, ...; with
    /// `--training`, the training input itself.
    #[arg(long)]
    pub out: PathBuf,
    /// Write the training input of a sample of viewers instead (`feedrank train --world
    /// OUT` trains on it): the world directory that holds what their training rows read.
    #[arg(long, requires = "sample_viewers")]
    pub training: bool,
    /// With `--training`: the fraction of viewers in the sample, in (0, 1] (the users whose
    /// FNV-1a hash of their id modulo 1,000,000 is below it times 1,000,000).
    #[arg(long, requires = "training")]
    pub sample_viewers: Option<f64>,
    /// Write the tables gzip-compressed.
    #[arg(long)]
    pub gzip: bool,
}

/// Writes the partition worlds of a whole world: what the Spark job's partitioned mode
/// builds, on one machine.
pub fn partition(a: PartitionArgs) -> anyhow::Result<()> {
    if a.training {
        return training_input(a);
    }
    let (Some(partitions), Some(model)) = (a.partitions, &a.model) else {
        anyhow::bail!("--partitions and --model are required without --training");
    };
    anyhow::ensure!(partitions > 0, "--partitions must be at least 1");
    let params = rank_params(a.config.as_deref(), None)?;
    let world = load_world(&a.world, false)?;
    let model = load_model(model)?;
    let as_of = a
        .as_of
        .unwrap_or_else(|| RankContext::default_as_of(&world));
    let whole = feedrank::index::whole_world_aggregates(&world, &model.feature_config, as_of);
    for i in 0..partitions {
        let shard = Shard::parse(&format!("{i}/{partitions}"))?;
        let viewers = feedrank::index::Scope::shard(&world, shard).viewer_ids(&world);
        let meta = PartitionMeta {
            as_of,
            partition: i,
            partitions,
            training: false,
            author_rate_window_s: None,
        };
        let (sub, files) = extract(&world, &viewers, meta, &params, &whole)?;
        write_partition(&a.out.join(format!("part-{i:05}")), &sub, &files, a.gzip)?;
    }
    Ok(())
}

/// `--training`: the training input of a sample of viewers.
fn training_input(a: PartitionArgs) -> anyhow::Result<()> {
    let fraction = a
        .sample_viewers
        .context("--training needs --sample-viewers")?;
    anyhow::ensure!(
        fraction > 0.0 && fraction <= 1.0,
        "--sample-viewers {fraction}: expected a fraction in (0, 1]"
    );
    let cfg = match &a.config {
        Some(p) => feedrank::config::Config::load(p)?,
        None => feedrank::config::Config::default(),
    };
    let world = load_world(&a.world, false)?;
    let as_of = match a.as_of {
        Some(t) => t,
        None => feedrank::model::default_as_of(&world).context("the world has no events")?,
    };
    let viewers = feedrank::index::sample_viewers(&world, fraction);
    anyhow::ensure!(
        !viewers.is_empty(),
        "--sample-viewers {fraction} keeps none of the world's {} users",
        world.num_users()
    );
    let meta = PartitionMeta {
        as_of,
        partition: 0,
        partitions: 1,
        training: true,
        author_rate_window_s: None,
    };
    let (sub, files) = feedrank::index::extract_training(&world, &viewers, meta, &cfg.features)?;
    write_partition(&a.out, &sub, &files, a.gzip)
}

/// Writes a partition world and its tables to `dir`, and a line about it to stderr.
fn write_partition(
    dir: &std::path::Path,
    sub: &feedrank::world::World,
    files: &feedrank::io::world_tsv::partition::PartitionFiles,
    gzip: bool,
) -> anyhow::Result<()> {
    let opts = feedrank::io::world_tsv::WriteOptions { gzip };
    feedrank::io::world_tsv::write_world(sub, dir, &opts)
        .with_context(|| format!("writing {}", dir.display()))?;
    write_partition_files(dir, sub, files)?;
    let what = if files.meta.training {
        "exposed stories"
    } else {
        "candidate stories"
    };
    eprintln!(
        "{}: {} viewers, {} friendships, {} events, {} interactions, {} {what}, aggregates at {} as_of",
        dir.display(),
        files.viewers.len(),
        sub.graph.num_edges(),
        sub.events.len(),
        sub.interactions.len(),
        files.aggregates.iter().map(|r| r.stories.len()).max().unwrap_or(0),
        files.aggregates.len()
    );
    Ok(())
}
