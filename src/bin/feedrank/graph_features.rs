//! `feedrank graph-features`: every tie-strength and dispersion signal for every ordered
//! adjacent pair of a friendship graph, as TSV; and `feedrank bench graph`.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context};
use feedrank::graph::fast::FastOptions;
use feedrank::graph::{synth, EdgeSignals, Graph, NodeSignals, SignalParams};
use feedrank::io::atomic::AtomicFile;
use feedrank::io::graph_file::{load_graph, GraphFormat, LoadedGraph};

use crate::common;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Friendship graph: SNAP edge list or TSV with a `user_a<TAB>user_b` header (`.gz` ok).
    #[arg(long)]
    pub graph: PathBuf,
    /// Input format (default: tsv if the first line starts with `user_a`, else snap).
    #[arg(long, value_enum)]
    pub format: Option<GraphFormat>,
    /// Normalised dispersion exponent: (disp + b)^alpha / (emb + c).
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Normalised dispersion offset b.
    #[arg(long, default_value_t = 0.0)]
    pub b: f64,
    /// Normalised dispersion offset c.
    #[arg(long, default_value_t = 0.0)]
    pub c: f64,
    /// Rounds of recursive dispersion (synchronous updates).
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Worker threads (default: one per core). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output TSV (written atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// Loads a graph, detecting the format when not given.
pub fn load(path: &Path, format: Option<GraphFormat>) -> anyhow::Result<LoadedGraph> {
    let format = match format {
        Some(f) => f,
        None => GraphFormat::detect(path)?,
    };
    Ok(load_graph(path, format, None)?)
}

/// Checked signal parameters.
pub fn params(alpha: f64, b: f64, c: f64, rounds: u32) -> anyhow::Result<SignalParams> {
    ensure!(alpha.is_finite(), "--alpha must be finite, got {alpha}");
    ensure!(b.is_finite(), "--b must be finite, got {b}");
    ensure!(c.is_finite(), "--c must be finite, got {c}");
    ensure!(
        rounds <= 1000,
        "--rounds must be at most 1000, got {rounds}"
    );
    Ok(SignalParams {
        alpha,
        b,
        c,
        rounds,
    })
}

fn pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        ensure!(n >= 1, "--threads must be at least 1");
        b = b.num_threads(n);
    }
    b.build().context("cannot build the thread pool")
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let p = params(args.alpha, args.b, args.c, args.rounds)?;
    let pool = pool(args.threads)?;
    let lg = load(&args.graph, args.format)?;
    let g = &lg.graph;
    let pb = common::progress(g.num_nodes() as u64, "graph signals");
    let tick = |k: u64| pb.inc(k);
    let s = pool.install(|| EdgeSignals::compute_with(g, &p, &FastOptions::default(), Some(&tick)));
    pb.finish_and_clear();

    let mut f = AtomicFile::create(&args.out)?;
    let res = write_tsv(f.writer(), &lg, &s);
    res.map_err(|e| f.err(e))?;
    f.commit()?;
    let st = lg.stats;
    eprintln!(
        "graph-features: {} users, {} friendships ({} rows, {} self-loops dropped, {} duplicates merged), {} pairs -> {} in {:.2} s",
        g.num_nodes(),
        st.edges,
        st.rows,
        st.self_loops,
        st.duplicates,
        g.num_slots(),
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn write_tsv(w: &mut impl Write, lg: &LoadedGraph, s: &EdgeSignals) -> std::io::Result<()> {
    let g = &lg.graph;
    writeln!(
        w,
        "u\tv\tembeddedness\tjaccard\tadamic_adar\tdispersion\tdisp_norm\tdisp_norm_paper\trecursive_dispersion"
    )?;
    for u in 0..g.num_nodes() as u32 {
        let un = lg.users.name(u);
        for slot in g.slot_range(u) {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                un,
                lg.users.name(g.target(slot)),
                s.embeddedness[slot],
                s.jaccard[slot],
                s.adamic_adar[slot],
                s.dispersion[slot],
                s.disp_norm[slot],
                s.disp_norm_paper[slot],
                s.recursive[slot]
            )?;
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Graph to benchmark (default: $FEEDRANK_DATA_DIR or ../shared/data, ego-Facebook).
    #[arg(long)]
    pub graph: Option<PathBuf>,
    /// Timed runs per configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Users in the synthetic clustered power-law graph (0: skip it).
    #[arg(long, default_value_t = 100_000)]
    pub synthetic_users: usize,
    /// Seed of the synthetic graph.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
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

/// Median wall, median CPU and minimum wall seconds of every signal (edge and node) on `g`
/// with `threads` (a pool of its own, not the global one).
fn time_signals(g: &Graph, threads: usize, runs: usize) -> anyhow::Result<(f64, f64, f64)> {
    let pool = pool(Some(threads))?;
    let p = SignalParams::default();
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..runs {
        let c0 = common::cpu_seconds().unwrap_or(f64::NAN);
        let t0 = Instant::now();
        let (s, ns) = pool.install(|| {
            let s = EdgeSignals::compute(g, &p);
            let ns = NodeSignals::from_edge_signals(g, &s);
            (s, ns)
        });
        walls.push(t0.elapsed().as_secs_f64());
        cpus.push(common::cpu_seconds().unwrap_or(f64::NAN) - c0);
        std::hint::black_box((s, ns));
    }
    let min_wall = walls.iter().copied().fold(f64::INFINITY, f64::min);
    Ok((median(walls), median(cpus), min_wall))
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    ensure!(args.runs >= 1, "--runs must be at least 1");
    let path = match args.graph {
        Some(p) => p,
        None => {
            let dir = std::env::var_os("FEEDRANK_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("../shared/data"));
            dir.join("snap-ego-facebook/facebook_combined.txt")
        }
    };
    let all = rayon::current_num_threads();
    println!("# feedrank bench graph: every edge signal (embeddedness, Jaccard, Adamic-Adar, dispersion, 2 normalisations, recursive x3) + node triangles/clustering");
    println!(
        "# median of {} runs; CPU = user+system seconds of the process",
        args.runs
    );
    let lg = load(&path, None)?;
    let g = &lg.graph;
    println!(
        "graph {}: {} users, {} friendships, {} ordered pairs",
        path.display(),
        g.num_nodes(),
        g.num_edges(),
        g.num_slots()
    );
    println!("threads\twall_s\tcpu_s\tmin_wall_s\tpairs_per_s");
    let mut thread_counts = vec![1];
    if all > 1 {
        thread_counts.push(all);
    }
    for &t in &thread_counts {
        let (wall, cpu, min_wall) = time_signals(g, t, args.runs)?;
        println!(
            "{t}\t{wall:.4}\t{cpu:.4}\t{min_wall:.4}\t{:.0}",
            g.num_slots() as f64 / wall
        );
    }

    if args.synthetic_users > 0 {
        let t0 = Instant::now();
        let sg = synth::bench_graph(args.synthetic_users, args.seed);
        let gen = t0.elapsed().as_secs_f64();
        let max_deg = (0..sg.num_nodes() as u32)
            .map(|u| sg.degree(u))
            .max()
            .unwrap_or(0);
        println!(
            "synthetic Holme-Kim graph (m=25, p_triad=0.5, seed {}): {} users, {} friendships, {} ordered pairs, max degree {max_deg}, generated in {gen:.2} s",
            args.seed,
            sg.num_nodes(),
            sg.num_edges(),
            sg.num_slots()
        );
        let s = EdgeSignals::compute(&sg, &SignalParams::default());
        let ns = NodeSignals::from_edge_signals(&sg, &s);
        let tri: u64 = ns.triangles.iter().sum::<u64>() / 3;
        let disp_sum: u64 = s.dispersion.iter().map(|&d| d as u64).sum();
        let mean_c = ns.clustering.iter().sum::<f64>() / sg.num_nodes().max(1) as f64;
        println!("  triangles {tri}, mean clustering {mean_c:.3}, sum dispersion {disp_sum}");
        drop((s, ns));
        let runs = args.runs.min(3);
        println!("threads\twall_s\tcpu_s\tmin_wall_s\tpairs_per_s\t(median of {runs})");
        for &t in &thread_counts {
            let (wall, cpu, min_wall) = time_signals(&sg, t, runs)?;
            println!(
                "{t}\t{wall:.3}\t{cpu:.3}\t{min_wall:.3}\t{:.0}",
                sg.num_slots() as f64 / wall
            );
        }
    }
    match common::peak_rss_mib() {
        Some(m) => println!("peak memory (VmHWM): {m:.0} MiB"),
        None => println!("peak memory: unknown (no /proc/self/status)"),
    }
    Ok(())
}
