//! `feedrank-debug friends` (placeholder until the graph issue lands).
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`friends` is not built yet")
}
