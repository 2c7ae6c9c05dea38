//! `feedrank-debug`: inspect one user: their ties (`friends`) and their scored feed (`feed`).
#[path = "../support/common.rs"]
mod common;

mod feed;
mod friends;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "feedrank-debug",
    version,
    about = "Inspect one user's ties and scored feed"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// A user's friends with tie strength and dispersion, sorted by recursive dispersion.
    Friends(friends::Args),
    /// One user's ranked feed: profile, every candidate with features, heads, multipliers
    /// and a why-line, then the filtered candidates with reasons.
    Feed(feed::Args),
}

fn main() {
    common::init_logging();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Friends(a) => friends::run(a),
        Cmd::Feed(a) => feed::run(a),
    };
    common::exit(result)
}
