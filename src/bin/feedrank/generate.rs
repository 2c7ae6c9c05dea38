//! `feedrank generate` (placeholder until its issue lands).
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("`generate` is not built yet")
}
