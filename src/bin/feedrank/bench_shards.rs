//! `feedrank bench shards`: what running a world's feeds as N shards costs against one full
//! run. Each run is a separate `feedrank generate` process (this executable), as a cluster
//! would run them; the figures are the processes' own CPU seconds and peak memory (the
//! `cpu ... s, peak memory ... MiB` line every `generate` prints). The shards' outputs are
//! checked to be, together, exactly the full run's lines.
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// World directory (e.g. made by `feedrank simulate --users 100000 --days 14 --seed 1`).
    #[arg(long)]
    pub world: PathBuf,
    /// Trained model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Shard counts to measure, comma-separated.
    #[arg(long, default_value = "2,4,8", value_delimiter = ',')]
    pub shards: Vec<u32>,
    /// Repetitions of every configuration; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Worker threads of each generate process (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Directory for the outputs (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Also measure shards given the whole world's aggregates (`feedrank aggregates
    /// --world`, run once per repetition and counted) with `generate --aggregates`.
    #[arg(long)]
    pub aggregates: bool,
}

/// One `generate` process: wall seconds, CPU seconds and peak memory in MiB.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    cpu: f64,
    rss: f64,
}

/// One `generate` process (with `aggs`: given the whole world's aggregates).
fn generate(
    a: &Args,
    out: &Path,
    shard: Option<(u32, u32)>,
    aggs: Option<&Path>,
) -> anyhow::Result<Run> {
    let mut cmd = feedrank(a, "generate", out)?;
    if let Some(t) = a.threads {
        cmd.arg("--threads").arg(t.to_string());
    }
    if let Some((i, n)) = shard {
        cmd.arg("--shard").arg(format!("{i}/{n}"));
    }
    if let Some(dir) = aggs {
        cmd.arg("--aggregates").arg(dir);
    }
    measure(cmd)
}

/// One `feedrank aggregates --world` process writing to `out`.
fn aggregates(a: &Args, out: &Path) -> anyhow::Result<Run> {
    measure(feedrank(a, "aggregates", out)?)
}

/// `feedrank <sub> --world W --model M --out <out>` (this executable).
fn feedrank(a: &Args, sub: &str, out: &Path) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("locating the feedrank executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg(sub)
        .arg("--world")
        .arg(&a.world)
        .arg("--model")
        .arg(&a.model)
        .arg("--out")
        .arg(out);
    Ok(cmd)
}

/// Runs `cmd` (a feedrank command that ends with the `cpu ... s, peak memory ... MiB`
/// line) and reads its figures.
fn measure(mut cmd: Command) -> anyhow::Result<Run> {
    let t = std::time::Instant::now();
    let res = cmd.output().context("running feedrank")?;
    let wall = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&res.stderr);
    if !res.status.success() {
        bail!("{cmd:?} failed ({}):\n{err}", res.status);
    }
    // "cpu 1.77 s, peak memory 524 MiB; wrote ..."
    let line = err
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("the command printed no cpu line")?;
    let num = |after: &str| -> anyhow::Result<f64> {
        let rest = line
            .split(after)
            .nth(1)
            .with_context(|| format!("no {after:?} in {line:?}"))?;
        let tok = rest.split_whitespace().next().unwrap_or("");
        tok.parse::<f64>()
            .with_context(|| format!("bad number {tok:?} in {line:?}"))
    };
    Ok(Run {
        wall,
        cpu: num("cpu ")?,
        rss: num("peak memory ")?,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The lines of `path`, sorted.
fn sorted_lines(paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for p in paths {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        lines.extend(text.lines().map(str::to_string));
    }
    lines.sort_unstable();
    Ok(lines)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let tmp;
    let dir = match &a.scratch {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => {
            tmp = TempDir::new()?;
            tmp.0.clone()
        }
    };
    let runs = a.runs.max(1);
    let full_out = dir.join("full.jsonl");
    let mut full = Vec::new();
    for _ in 0..runs {
        full.push(generate(&a, &full_out, None, None)?);
    }
    let full_cpu = median(full.iter().map(|r| r.cpu).collect());
    let full_wall = median(full.iter().map(|r| r.wall).collect());
    let full_rss = median(full.iter().map(|r| r.rss).collect());
    println!(
        "full run: median of {runs}: {full_cpu:.2} CPU-s, {full_wall:.2} s wall, peak {full_rss:.0} MiB"
    );
    let want = sorted_lines(std::slice::from_ref(&full_out))?;
    println!("| shards | CPU-s of all shards (median) | / full run | wall of all shards in sequence | largest shard peak memory | / full run |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let modes: &[bool] = if a.aggregates {
        &[false, true]
    } else {
        &[false]
    };
    for &with_aggs in modes {
        for &n in &a.shards {
            if n == 0 {
                bail!("a shard count must be at least 1");
            }
            let (mut sums, mut walls, mut peaks) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                let aggs_dir = dir.join("aggregates");
                let (mut cpu, mut wall, mut peak) = (0.0, 0.0, 0f64);
                if with_aggs {
                    let r = aggregates(&a, &aggs_dir)?;
                    cpu += r.cpu;
                    wall += r.wall;
                    peak = peak.max(r.rss);
                }
                let mut outs = Vec::new();
                for i in 0..n {
                    let out = dir.join(format!("shard-{i}-of-{n}.jsonl"));
                    let r = generate(&a, &out, Some((i, n)), with_aggs.then_some(&*aggs_dir))?;
                    cpu += r.cpu;
                    wall += r.wall;
                    peak = peak.max(r.rss);
                    outs.push(out);
                }
                if sorted_lines(&outs)? != want {
                    bail!("the {n} shards together differ from the full run");
                }
                sums.push(cpu);
                walls.push(wall);
                peaks.push(peak);
            }
            let (cpu, wall, peak) = (median(sums), median(walls), median(peaks));
            let label = if with_aggs {
                format!("{n} + aggregates")
            } else {
                n.to_string()
            };
            println!(
                "| {label} | {cpu:.2} | {:.2}x | {wall:.2} s | {peak:.0} MiB | {:.2} |",
                cpu / full_cpu,
                peak / full_rss
            );
        }
    }
    Ok(())
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let base =
            std::env::temp_dir().join(format!("feedrank-bench-shards-{}", std::process::id()));
        std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
        Ok(TempDir(base))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
