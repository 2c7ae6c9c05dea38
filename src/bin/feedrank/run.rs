//! `feedrank run` (placeholder until its issue lands).
#[derive(clap::Parser, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`run` is not built yet")
}
