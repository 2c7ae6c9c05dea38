//! `feedrank-debug friends`: one user's friends with tie strength and dispersion, sorted by
//! recursive dispersion; the top one is the tie spanning the most separate parts of the
//! user's circle (Backstrom & Kleinberg's "likely partner").
use std::io::Write;
use std::path::PathBuf;

use anyhow::{ensure, Context};
use feedrank::graph::{friend_ties, EdgeSignals, GraphError, SignalParams};
use feedrank::io::graph_file::{load_graph, GraphFormat};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Friendship graph: SNAP edge list or TSV with a `user_a<TAB>user_b` header (`.gz` ok).
    #[arg(long)]
    pub graph: PathBuf,
    /// Input format (default: tsv if the first line starts with `user_a`, else snap).
    #[arg(long, value_enum)]
    pub format: Option<GraphFormat>,
    /// The user (an id as written in the graph file).
    #[arg(long)]
    pub user: String,
    /// Rounds of recursive dispersion.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: one per core); the output is the same for any count.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(serde::Serialize)]
struct JsonRow<'a> {
    id: &'a str,
    #[serde(flatten)]
    row: &'a feedrank::graph::TieRow,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    ensure!(args.rounds <= 1000, "--rounds must be at most 1000");
    crate::common::set_threads(args.threads)?;
    let format = match args.format {
        Some(f) => f,
        None => GraphFormat::detect(&args.graph)?,
    };
    let lg = load_graph(&args.graph, format, None)?;
    let u = lg
        .users
        .get(&args.user)
        .ok_or_else(|| GraphError::UnknownUser(args.user.clone()))
        .with_context(|| format!("user {:?} is not in {}", args.user, args.graph.display()))?;
    let params = SignalParams {
        rounds: args.rounds,
        ..SignalParams::default()
    };
    let s = EdgeSignals::compute(&lg.graph, &params);
    let rows = friend_ties(&lg.graph, &s, u)?;
    let mut out = crate::common::stdout();
    if args.json {
        let json: Vec<JsonRow> = rows
            .iter()
            .map(|r| JsonRow {
                id: lg.users.name(r.friend),
                row: r,
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "user {} (degree {}): {} friends, sorted by recursive dispersion ({} rounds)",
        args.user,
        lg.graph.degree(u),
        rows.len(),
        args.rounds
    )?;
    writeln!(
        out,
        "{:<2} {:>12} {:>7} {:>6} {:>6} {:>10} {:>10} {:>12} {:>8} {:>11}",
        "",
        "id",
        "degree",
        "emb",
        "disp",
        "disp_norm",
        "disp_paper",
        "recursive",
        "jaccard",
        "adamic_adar"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:<2} {:>12} {:>7} {:>6} {:>6} {:>10.4} {:>10.4} {:>12.4} {:>8.4} {:>11.4}",
            if r.likely_partner { "*" } else { "" },
            lg.users.name(r.friend),
            r.degree,
            r.embeddedness,
            r.dispersion,
            r.disp_norm,
            r.disp_norm_paper,
            r.recursive,
            r.jaccard,
            r.adamic_adar
        )?;
    }
    if let Some(top) = rows.first() {
        writeln!(
            out,
            "* likely partner: {} (the tie spanning the most separate parts of {}'s circle)",
            lg.users.name(top.friend),
            args.user
        )?;
    }
    out.flush()?;
    Ok(())
}
