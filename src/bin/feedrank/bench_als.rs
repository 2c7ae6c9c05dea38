//! `feedrank bench als`: seconds per implicit-ALS iteration on a seeded synthetic power-law
//! matrix (median wall and CPU over the iterations), optionally writing the matrix as triplets
//! TSV for `scripts/bench_implicit.py` to time the Python `implicit` library on the same data.
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use feedrank::mf::{synth, AlsParams, AlsTrainer, Solver};

use crate::common;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rows (viewers) of the synthetic matrix.
    #[arg(long, default_value_t = 20_000)]
    rows: usize,
    /// Columns (authors) of the synthetic matrix.
    #[arg(long, default_value_t = 20_000)]
    cols: usize,
    /// Interactions drawn (duplicates are summed, so the stored nnz is a little lower).
    #[arg(long, default_value_t = 1_000_000)]
    nnz: usize,
    /// Zipf exponent of row and column activity.
    #[arg(long, default_value_t = 0.8)]
    exponent: f64,
    #[arg(long, default_value_t = 64)]
    factors: usize,
    #[arg(long, default_value_t = 5)]
    iterations: usize,
    /// Conjugate-gradient steps per row (0 = exact Cholesky solves).
    #[arg(long, default_value_t = 3)]
    cg_steps: usize,
    #[arg(long, default_value_t = 40.0)]
    alpha: f32,
    #[arg(long, default_value_t = 0.1)]
    lambda: f32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Write the matrix as `row<TAB>col<TAB>count` lines to FILE (for scripts/bench_implicit.py).
    #[arg(long)]
    write_matrix: Option<PathBuf>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    common::set_threads(a.threads)?;
    let t0 = Instant::now();
    let data = synth::power_law(a.rows, a.cols, a.nnz, a.exponent, a.seed)?;
    eprintln!(
        "matrix: {} x {}, nnz {} (from {} draws, Zipf {}, seed {}) built in {:.2}s",
        data.rows(),
        data.cols(),
        data.nnz(),
        a.nnz,
        a.exponent,
        a.seed,
        t0.elapsed().as_secs_f64()
    );
    if let Some(path) = &a.write_matrix {
        let mut f = feedrank::io::atomic::AtomicFile::create(path)?;
        {
            let w = f.writer();
            for (r, c, n) in data.triples() {
                writeln!(w, "{r}\t{c}\t{n}")?;
            }
        }
        f.commit()?;
        eprintln!("wrote {}", path.display());
    }
    let solver = if a.cg_steps == 0 {
        Solver::Cholesky
    } else {
        Solver::ConjugateGradient { steps: a.cg_steps }
    };
    let params = AlsParams::new()
        .factors(a.factors)
        .alpha(a.alpha)
        .lambda(a.lambda)
        .iterations(a.iterations)
        .seed(a.seed)
        .solver(solver)
        .check()?;
    let mut trainer = AlsTrainer::new(&data, &params);
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for it in 0..a.iterations {
        let c0 = common::cpu_seconds().unwrap_or(f64::NAN);
        let w0 = Instant::now();
        trainer.step();
        let w = w0.elapsed().as_secs_f64();
        let c = common::cpu_seconds().unwrap_or(f64::NAN) - c0;
        eprintln!("iteration {}: wall {w:.3}s cpu {c:.3}s", it + 1);
        wall.push(w);
        cpu.push(c);
    }
    let threads = rayon::current_num_threads();
    println!(
        "feedrank ALS: {} x {} nnz {} factors {} {:?} threads {}: median s/iteration wall {:.3} cpu {:.3} (over {} iterations); peak RSS {:.0} MiB",
        data.rows(),
        data.cols(),
        data.nnz(),
        a.factors,
        solver,
        threads,
        median(&mut wall),
        median(&mut cpu),
        a.iterations,
        common::peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
