//! `feedrank bench train`: the logistic-regression fit on a synthetic problem of `--rows` rows
//! x `--features` standardised features, one fit per head (base rates 5%, 2%, 0.5%), timed
//! wall and CPU (median of `--runs`), with the AUC of the fit as a sanity check. `--full` also
//! times the whole `train_rows` path (scaler, L2 grid on a subsample, final fits) on a
//! synthetic 27-feature row set of the same size.
use crate::common::{cpu_seconds, peak_rss_mib};
use feedrank::config::Config;
use feedrank::metrics::roc_auc as auc;
use feedrank::model::fit::{fit_logistic, FitParams};
use feedrank::util::math::sigmoid;
use ndarray::{Array2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rows (impressions).
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Features per row.
    #[arg(long, default_value_t = 30)]
    features: usize,
    /// Runs per head (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Gradient tolerance per row (linfa's tolerance = this x rows).
    #[arg(long, default_value_t = 1e-5)]
    tol_per_row: f64,
    /// L-BFGS iteration cap.
    #[arg(long, default_value_t = 100)]
    max_iterations: u64,
    /// Also time the full training path (`train_rows`: scaler, L2 grid, final fits).
    #[arg(long)]
    full: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.rows >= 100 && a.features >= 1 && a.runs >= 1, "bad sizes");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let d = a.features;
    let beta: Vec<f64> = (0..d)
        .map(|j| {
            if j % 3 == 0 {
                0.0
            } else {
                rng.gen_range(-0.6..0.6)
            }
        })
        .collect();
    let mut x = Array2::<f64>::zeros((a.rows, d).f());
    for v in x.iter_mut() {
        *v = StandardNormal.sample(&mut rng);
    }
    let lin: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| r.iter().zip(&beta).map(|(x, b)| x * b).sum())
        .collect();
    eprintln!("synthetic problem: {} rows x {} features", a.rows, d);
    println!("head\tbase_rate\tpositives\twall_s\tcpu_s\tauc\twarm_wall_s\twarm_cpu_s\twarm_auc");
    for (name, bias) in [("click", -3.2), ("like", -4.2), ("share", -5.8)] {
        let y: Vec<bool> = lin
            .iter()
            .map(|&l| rng.gen::<f64>() < sigmoid(bias + l))
            .collect();
        time_head(&a, name, &x, &y)?;
    }
    if a.full {
        drop(x);
        time_full(&a, &beta, &mut rng)?;
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak memory: {mib:.0} MiB");
    }
    Ok(())
}

/// Times one head's fit, cold and warm-started from a 10% subsample (median of `--runs`),
/// and prints its row with the AUC of each fit.
fn time_head(a: &Args, name: &str, x: &Array2<f64>, y: &[bool]) -> anyhow::Result<()> {
    let pos = y.iter().filter(|&&b| b).count();
    let p = FitParams {
        l2_per_row: 1e-5,
        tol_per_row: a.tol_per_row,
        max_iterations: a.max_iterations,
    };
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut fitted = None;
    for _ in 0..a.runs {
        let c0 = cpu_seconds().unwrap_or(f64::NAN);
        let t0 = Instant::now();
        let m = fit_logistic("click", x.view(), y, &p, None)?;
        walls.push(t0.elapsed().as_secs_f64());
        cpus.push(cpu_seconds().unwrap_or(f64::NAN) - c0);
        fitted = Some(m);
    }
    let m = fitted.expect("runs >= 1");
    let auc_of = |m: &feedrank::model::fit::Linear| {
        let probs: Vec<f64> = x
            .rows()
            .into_iter()
            .map(|r| sigmoid(m.logit(&r.to_vec())))
            .collect();
        auc(&probs, y).unwrap_or(f64::NAN)
    };
    // warm start: fit a 10% subsample (at least 50k rows), then the full set from it
    let sub = (a.rows / 10).max(50_000).min(a.rows);
    let (mut ww, mut wc) = (Vec::new(), Vec::new());
    let mut warm = None;
    for _ in 0..a.runs {
        let c0 = cpu_seconds().unwrap_or(f64::NAN);
        let t0 = Instant::now();
        let xs = x.slice(ndarray::s![..sub, ..]);
        let m0 = fit_logistic("click", xs, &y[..sub], &p, None)?;
        let m1 = fit_logistic("click", x.view(), y, &p, Some(&m0))?;
        ww.push(t0.elapsed().as_secs_f64());
        wc.push(cpu_seconds().unwrap_or(f64::NAN) - c0);
        warm = Some(m1);
    }
    let warm = warm.expect("runs >= 1");
    println!(
        "{name}\t{:.4}\t{pos}\t{:.2}\t{:.2}\t{:.4}\t{:.2}\t{:.2}\t{:.4}",
        pos as f64 / a.rows as f64,
        median(walls),
        median(cpus),
        auc_of(&m),
        median(ww),
        median(wc),
        auc_of(&warm)
    );
    Ok(())
}

/// Times the whole `train_rows` path on synthetic rows of the schema's width (the first
/// features carry `beta`), and prints each head's validation AUC and L2.
fn time_full(a: &Args, beta: &[f64], rng: &mut rand_chacha::ChaCha8Rng) -> anyhow::Result<()> {
    use feedrank::features::NUM_FEATURES;
    use feedrank::model::train::{train_rows, Rows};
    let mut rows = Rows::default();
    rows.x.reserve(a.rows * NUM_FEATURES);
    for i in 0..a.rows {
        let mut l = 0.0;
        for j in 0..NUM_FEATURES {
            let v: f64 = StandardNormal.sample(rng);
            rows.x.push(v as f32);
            l += v * beta.get(j).copied().unwrap_or(0.0);
        }
        let mut bits = 0u8;
        for (k, bias) in [-3.2, -3.9, -5.0, -5.8, -6.0].iter().enumerate() {
            if rng.gen::<f64>() < sigmoid(bias + l) {
                bits |= 1 << k;
            }
        }
        rows.ts.push(i as i64 * 60);
        rows.labels.push(bits);
        rows.viewer.push(0);
        rows.story.push(0);
    }
    let as_of = a.rows as i64 * 60;
    let c0 = cpu_seconds().unwrap_or(f64::NAN);
    let t0 = Instant::now();
    let m = train_rows(&rows, as_of, &Config::default())?;
    println!(
        "full train_rows ({} rows x {NUM_FEATURES}, {} heads, grid of {} on <= {} rows): wall {:.2} s, cpu {:.2} s",
        a.rows,
        m.heads.len(),
        Config::default().model.l2_grid.len(),
        Config::default().model.grid_max_rows,
        t0.elapsed().as_secs_f64(),
        cpu_seconds().unwrap_or(f64::NAN) - c0
    );
    for h in &m.meta.heads {
        println!(
            "  {}: valid auc {:?} l2 {}",
            h.action.as_str(),
            h.valid_auc,
            h.l2
        );
    }
    Ok(())
}
