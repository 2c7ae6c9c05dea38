//! `feedrank simulate`: generate a world with known ground truth (see `feedrank::sim`) and
//! write it as a world directory.
use crate::common;
use feedrank::io::world_tsv::write::{write_world_with_progress, WriteOptions};
use feedrank::sim::{ceiling::ceiling, simulate_with_progress, SimParams};
use feedrank::world::Action;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Number of users.
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// Number of simulated days.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output directory (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Write `*.tsv.gz` (deterministic gzip) instead of `*.tsv`.
    #[arg(long)]
    pub gzip: bool,
    /// Worker threads (default: one per core). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Impressions per session (default 5).
    #[arg(long)]
    pub impressions_per_session: Option<usize>,
    /// Mean sessions per user per day (default 0.8).
    #[arg(long)]
    pub sessions_per_day: Option<f64>,
    /// Also compute how close any model can get to the oracle on this world (see
    /// `feedrank::sim::ceiling`): print per-head AUCs and write `ceiling.json` into the
    /// output directory (test period: `feedrank eval`'s default split).
    #[arg(long)]
    pub ceiling: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    common::set_threads(args.threads)?;
    let mut params = SimParams::new(args.users, args.days, args.seed);
    if let Some(k) = args.impressions_per_session {
        params = params.impressions_per_session(k);
    }
    if let Some(s) = args.sessions_per_day {
        params = params.sessions_per_day(s);
    }
    let t0 = Instant::now();
    let bars = common::Bars::new();
    let (world, hidden) = simulate_with_progress(&params, args.ceiling, &bars)?;
    let t_sim = t0.elapsed().as_secs_f64();
    write_world_with_progress(&world, &args.out, &WriteOptions { gzip: args.gzip }, &bars)?;
    drop(bars);
    if let Some(h) = hidden {
        let split = feedrank::eval::default_split_at(&world)?;
        let c = ceiling(&h, world.num_users(), split);
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        println!(
            "ceiling (test AUC per head; split_at {split}; {} train / {} test impressions)",
            c.train_impressions, c.test_impressions
        );
        println!(
            "{:<30}{}",
            "scorer",
            c.heads
                .iter()
                .map(|h| format!("{h:>9}"))
                .collect::<String>()
        );
        for (name, v) in [
            ("oracle", &c.oracle),
            ("estimated_tastes", &c.estimated_tastes),
            (
                "estimated_tastes_no_quality",
                &c.estimated_tastes_no_quality,
            ),
            ("no_latent", &c.no_latent),
            ("observable_fitted", &c.observable_fitted),
        ] {
            println!(
                "{name:<30}{}",
                v.iter()
                    .map(|x| format!("{:>9}", f(*x)))
                    .collect::<String>()
            );
        }
        let path = args.out.join("ceiling.json");
        feedrank::io::atomic::write_atomic(&path, serde_json::to_string_pretty(&c)?.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    let wall = t0.elapsed().as_secs_f64();
    let mut per_action = [0usize; 6];
    for e in &world.events {
        per_action[e.action.index()] += 1;
    }
    let imps = per_action[0].max(1) as f64;
    eprintln!(
        "simulated {} users, {} friendships, {} stories, {} interactions, {} events into {}",
        world.num_users(),
        world.graph.num_edges(),
        world.stories.len(),
        world.interactions.len(),
        world.events.len(),
        args.out.display()
    );
    for a in Action::ALL {
        let c = per_action[a.index()];
        if a == Action::Impression {
            eprintln!("  {:<10} {c}", a.as_str());
        } else {
            eprintln!(
                "  {:<10} {c} ({:.2}% of impressions)",
                a.as_str(),
                100.0 * c as f64 / imps
            );
        }
    }
    eprintln!(
        "wall {wall:.2} s (simulate {t_sim:.2} s, write {:.2} s), cpu {:.2} s, peak memory {:.0} MiB",
        wall - t_sim,
        common::cpu_seconds().unwrap_or(f64::NAN),
        common::peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
