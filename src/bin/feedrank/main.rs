//! `feedrank`: the command-line interface. Thin: parse flags, call the library, write
//! results to stdout/files and progress/summaries to stderr, map errors to exit codes.
#[path = "../support/common.rs"]
mod common;

mod bench;
mod bench_als;
mod bench_fuzz;
mod bench_shards;
mod bench_train;
mod eval;
mod generate;
mod graph_features;
mod import;
mod partition;
mod run;
mod simulate;
mod train;

use clap::{Parser, Subcommand};

/// feedrank: rank every user's news feed from a friendship graph, stories and past engagement.
#[derive(Parser)]
#[command(name = "feedrank", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Tie-strength and dispersion signals for every ordered adjacent pair of a graph.
    GraphFeatures(graph_features::Args),
    /// Generate a simulated world with known ground truth.
    Simulate(simulate::Args),
    /// Import a real dataset into the world format.
    Import(import::Args),
    /// Train the engagement model on a world.
    Train(train::Args),
    /// Evaluate the model against baselines on a time split.
    Eval(eval::Args),
    /// Generate every user's ranked feed.
    Generate(generate::Args),
    /// Print the windows a partition's input depends on (JSON), for the Spark job.
    PartitionSpec(partition::SpecArgs),
    /// Per-story partial aggregates of one slice of the events (TSV), for the Spark job.
    Aggregates(partition::AggregatesArgs),
    /// Write the partition worlds of a world (what the Spark job builds), on one machine.
    Partition(partition::PartitionArgs),
    /// The whole pipeline on a world (the default command).
    Run(run::Args),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(bench::Cmd),
}

fn main() {
    common::init_logging();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Some(Cmd::GraphFeatures(a)) => graph_features::run(a),
        Some(Cmd::Simulate(a)) => simulate::run(a),
        Some(Cmd::Import(a)) => import::run(a),
        Some(Cmd::Train(a)) => train::run(a),
        Some(Cmd::Eval(a)) => eval::run(a),
        Some(Cmd::Generate(a)) => generate::run(a),
        Some(Cmd::PartitionSpec(a)) => partition::spec(a),
        Some(Cmd::Aggregates(a)) => partition::aggregates(a),
        Some(Cmd::Partition(a)) => partition::partition(a),
        Some(Cmd::Run(a)) => run::run(a),
        Some(Cmd::Bench(c)) => bench::run(c),
        None => run::run(run::Args::parse_from(["run"])),
    };
    common::exit(result)
}
