//! `feedrank bench ...`: reproducible benchmarks that print figures (medians, CPU and wall).
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// End-to-end batch ranking speed on a world with a trained model.
    Generate(crate::generate::BenchArgs),
    /// Every graph signal on a graph (default: ego-Facebook) and a synthetic 100k-user graph.
    Graph(crate::graph_features::BenchArgs),
    /// Seconds per implicit-ALS iteration on a seeded synthetic power-law matrix.
    Als(crate::bench_als::Args),
    /// Logistic-regression training speed on a synthetic problem (default 1M x 30 per head).
    Train(crate::bench_train::Args),
    /// N shard processes against one full `generate` run: CPU seconds, peak memory, and a
    /// check that the shards' lines are exactly the full run's.
    Shards(crate::bench_shards::Args),
    /// Seeded mutation fuzzing of every reader (tables, world.toml, model, snapshot, graph,
    /// importers): inputs, errors, oks and panics per reader.
    Fuzz(crate::bench_fuzz::Args),
}

pub fn run(cmd: Cmd) -> anyhow::Result<()> {
    match cmd {
        Cmd::Generate(a) => crate::generate::bench(a),
        Cmd::Graph(a) => crate::graph_features::bench(a),
        Cmd::Als(a) => crate::bench_als::run(a),
        Cmd::Train(a) => crate::bench_train::run(a),
        Cmd::Shards(a) => crate::bench_shards::run(a),
        Cmd::Fuzz(a) => crate::bench_fuzz::run(a),
    }
}
