//! `feedrank graph_features` (placeholder until its issue lands).
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`graph_features` is not built yet")
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`bench graph` is not built yet")
}
