//! `feedrank train --world DIR --model FILE [--as-of T] [--config FILE]`: trains the
//! engagement model on the exposures before `as_of` (default: the start of the world's last
//! day, which is held out), saves it atomically, and prints a summary to stderr (with
//! progress bars on a terminal while the rows are built and the MF and heads fitted).
use anyhow::Context;
use feedrank::config::Config;
use feedrank::model::{default_as_of, save, TrainedModel};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// World directory.
    #[arg(long)]
    world: PathBuf,
    /// Output model file.
    #[arg(long)]
    model: PathBuf,
    /// Training cut-off: unix seconds or YYYY-MM-DD (00:00 UTC); default: the start of the
    /// world's last day.
    #[arg(long, value_parser = crate::common::parse_time)]
    as_of: Option<i64>,
    /// TOML configuration (`[features]`, `[model]`, `[value]` sections).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Worker threads (default: one per core); the model is the same for any count.
    #[arg(long)]
    threads: Option<usize>,
}

/// The training summary printed by `feedrank train`.
pub fn summary(m: &TrainedModel, elapsed_s: f64) -> String {
    let valid = match m.meta.valid_from {
        Some(t) => format!("{} validation from {t}", m.meta.valid_rows),
        None => format!("{} validation", m.meta.valid_rows),
    };
    let mut s = format!(
        "trained on world `{}` before as_of {}: {} rows ({} train / {valid}), {:.1} s\n",
        m.meta.world, m.meta.as_of, m.meta.rows, m.meta.train_rows, elapsed_s
    );
    s.push_str("head\tpositives\trate\tl2\tvalid_auc\tvalid_logloss\n");
    for h in &m.meta.heads {
        let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        s.push_str(&format!(
            "{}\t{}\t{:.4}\t{:e}\t{}\t{}\n",
            h.action.as_str(),
            h.positives,
            h.positives as f64 / h.rows.max(1) as f64,
            h.l2,
            f(h.valid_auc),
            f(h.valid_logloss)
        ));
    }
    if let Some(mf) = &m.mf {
        s.push_str(&format!("mf: {} chosen\n", mf.method.as_str()));
        for c in &mf.comparison {
            let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
            s.push_str(&format!(
                "mf validation {}: author_auc {} topic_auc {}\n",
                c.method.as_str(),
                f(c.author_auc),
                f(c.topic_auc)
            ));
        }
    }
    if let Some(p) = &m.personal {
        for h in &p.heads {
            s.push_str(&format!(
                "personalisation {}: {} viewers, lambda {}, valid logloss {:.5} -> {:.5}\n",
                h.action.as_str(),
                h.viewers.len(),
                h.lambda,
                h.valid_logloss_global,
                h.valid_logloss_personal
            ));
        }
    }
    if !m.ablate.is_empty() {
        let names: Vec<&str> = m.ablate.iter().map(|g| g.as_str()).collect();
        s.push_str(&format!("ablated: {}\n", names.join(", ")));
    }
    s
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    crate::common::set_threads(a.threads)?;
    let cfg = match &a.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    // before training: a model path that cannot be written fails now
    crate::common::check_writable(&a.model)?;
    let world = crate::generate::load_world(&a.world, false)?;
    let bars = crate::common::Bars::new();
    let model = match feedrank::index::read_partition(&a.world, &world)? {
        // the training input of a sample of viewers: its own cut-off
        Some(p) => {
            if let Some(t) = a.as_of.filter(|&t| t != p.as_of()) {
                anyhow::bail!(
                    "{} is a training input cut off at as_of {}; --as-of {t} asks for another \
                     (write the input again with `feedrank partition --training --as-of {t}`)",
                    a.world.display(),
                    p.as_of()
                );
            }
            eprintln!(
                "training input of {} sampled viewers, cut off at as_of {}",
                p.viewers.len(),
                p.as_of()
            );
            feedrank::pipeline::train_sample(&world, &p, &cfg, &bars)?
        }
        None => {
            let as_of = match a.as_of {
                Some(t) => t,
                None => default_as_of(&world).context("the world has no events or stories")?,
            };
            feedrank::pipeline::train_for(&world, as_of, &cfg, &bars)?
        }
    };
    drop(bars);
    save(&model, &a.model)?;
    eprint!("{}", summary(&model, t0.elapsed().as_secs_f64()));
    eprintln!("model written to {}", a.model.display());
    Ok(())
}
