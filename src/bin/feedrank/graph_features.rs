//! `feedrank graph-features`: every tie-strength and dispersion signal for every ordered
//! adjacent pair of a friendship graph, as TSV; and `feedrank bench graph`.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context};
use feedrank::graph::adjacency::petgraph_csr_from_edges;
use feedrank::graph::fast::{self, FastOptions};
use feedrank::graph::{synth, Adjacency, EdgeSignals, Graph, NodeSignals, PetCsr, SignalParams};
use feedrank::io::atomic::AtomicFile;
use feedrank::io::graph_file::{load_graph, read_edges, GraphFormat, LoadedGraph};
use feedrank::world::Interner;

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
    /// Output TSV (written atomically; `-` writes to standard output).
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

    if common::is_stdout(&args.out) {
        let mut w = common::stdout();
        write_tsv(&mut w, &lg, &s)?;
        w.flush()?;
    } else {
        let mut f = AtomicFile::create(&args.out)?;
        let res = write_tsv(f.writer(), &lg, &s);
        res.map_err(|e| f.err(e))?;
        f.commit()?;
    }
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

/// Graph storage the benchmarked signals run on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The crate's CSR (`Graph`).
    Own,
    /// petgraph's `csr::Csr`, through the same signal code.
    Petgraph,
    /// Both, alternating run by run in one process: prints petgraph/own ratios and checks
    /// that the results are bit-identical.
    Both,
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
    /// Timed runs on the synthetic graph (default: --runs, at most 3).
    #[arg(long)]
    pub synthetic_runs: Option<usize>,
    /// Seed of the synthetic graph.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Graph storage: the crate's CSR, petgraph's Csr, or both alternating run by run.
    #[arg(long, value_enum, default_value_t = Storage::Own)]
    pub storage: Storage,
    /// Thread counts to time, comma-separated (default: 1 and every core).
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
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

/// The graph in each storage asked for.
struct Stored {
    own: Option<Graph>,
    pet: Option<PetCsr>,
}

impl Storage {
    /// The storages this choice runs, in the order of run `i`: which goes first alternates,
    /// so that neither always runs on a warmer (or colder) machine.
    fn order(self, i: usize) -> Vec<&'static str> {
        let mut v = match self {
            Storage::Own => vec!["own"],
            Storage::Petgraph => vec!["petgraph"],
            Storage::Both => vec!["own", "petgraph"],
        };
        if i % 2 == 1 {
            v.reverse();
        }
        v
    }
}

impl Stored {
    /// The storage choice that built this.
    fn storage(&self) -> Storage {
        match (&self.own, &self.pet) {
            (Some(_), Some(_)) => Storage::Both,
            (None, Some(_)) => Storage::Petgraph,
            _ => Storage::Own,
        }
    }

    fn any(&self) -> &dyn Adjacency {
        match (&self.own, &self.pet) {
            (Some(g), _) => g,
            (None, Some(p)) => p,
            (None, None) => unreachable!("a storage is always chosen"),
        }
    }
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = common::cpu_seconds().unwrap_or(f64::NAN);
    let t0 = Instant::now();
    let x = f();
    let wall = t0.elapsed().as_secs_f64();
    (x, wall, common::cpu_seconds().unwrap_or(f64::NAN) - c0)
}

/// Builds the graph from `rows` in the storages asked for, `runs` times alternating, printing
/// the median build wall and CPU seconds per storage; keeps the last build of each.
fn build(n: usize, rows: &[(u32, u32)], storage: Storage, runs: usize) -> Stored {
    let mut st = Stored {
        own: None,
        pet: None,
    };
    let mut times: Vec<(&str, f64, f64)> = Vec::new();
    for i in 0..runs {
        let order = storage.order(i);
        for name in order {
            // Drop the previous build first, so that at most one copy per storage is alive.
            if name == "own" {
                st.own = None;
                let (g, w, c) = timed(|| Graph::from_edges(n, rows).0);
                st.own = Some(g);
                times.push((name, w, c));
            } else {
                st.pet = None;
                let (g, w, c) = timed(|| petgraph_csr_from_edges(n, rows).0);
                st.pet = Some(g);
                times.push((name, w, c));
            }
        }
    }
    println!("build\tstorage\twall_s\tcpu_s\t(median of {runs}, from the raw rows)");
    for name in ["own", "petgraph"] {
        let w: Vec<f64> = times.iter().filter(|t| t.0 == name).map(|t| t.1).collect();
        let c: Vec<f64> = times.iter().filter(|t| t.0 == name).map(|t| t.2).collect();
        if !w.is_empty() {
            println!("build\t{name}\t{:.4}\t{:.4}", median(w), median(c));
        }
    }
    st
}

/// One run of every signal (edge and node) on `g` in `pool`: wall and CPU seconds, and a
/// summary of the results (computed after the clock stops).
fn run_signals<G: Adjacency + ?Sized>(g: &G, pool: &rayon::ThreadPool) -> (f64, f64, Summary) {
    let p = SignalParams::default();
    let ((s, ns), wall, cpu) = timed(|| {
        pool.install(|| {
            let s = fast::edge_signals(g, &p, &FastOptions::default(), None);
            let ns = fast::node_signals_from_edges(g, &s);
            (s, ns)
        })
    });
    (wall, cpu, Summary::of(&s, &ns))
}

/// Whole-graph figures of one run and a fingerprint of every bit of its results.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Summary {
    triangles: u64,
    disp_sum: u64,
    mean_clustering: f64,
    fingerprint: u64,
}

impl Summary {
    fn of(s: &EdgeSignals, ns: &NodeSignals) -> Summary {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut mix = |x: u64| h = (h ^ x).wrapping_mul(0x0000_0100_0000_01b3);
        for a in [&s.embeddedness, &s.dispersion, &ns.degree] {
            a.iter().for_each(|&x| mix(u64::from(x)));
        }
        for a in [
            &s.jaccard,
            &s.adamic_adar,
            &s.disp_norm,
            &s.disp_norm_paper,
            &s.recursive,
            &ns.clustering,
        ] {
            a.iter().for_each(|&x| mix(x.to_bits()));
        }
        ns.triangles.iter().for_each(|&x| mix(x));
        Summary {
            triangles: ns.triangles.iter().sum::<u64>() / 3,
            disp_sum: s.dispersion.iter().map(|&d| u64::from(d)).sum(),
            mean_clustering: ns.clustering.iter().sum::<f64>() / ns.clustering.len().max(1) as f64,
            fingerprint: h,
        }
    }
}

/// Times every signal on the stored graph(s) for each thread count, `runs` runs per storage,
/// alternating storages run by run; prints medians, and petgraph/own ratios when both run.
///
/// # Errors
/// The thread pool cannot be built, or the two storages give different results.
fn time_all(st: &Stored, threads: &[usize], runs: usize) -> anyhow::Result<Summary> {
    let slots = st.any().slot_starts().last().copied().unwrap_or(0);
    let mut first: Option<Summary> = None;
    println!("storage\tthreads\twall_s\tcpu_s\tmin_wall_s\tpairs_per_s\t(median of {runs})");
    for &t in threads {
        let pool = pool(Some(t))?;
        let mut rec: Vec<(&str, f64, f64)> = Vec::new();
        let mut ratios: Vec<(f64, f64)> = Vec::new();
        for i in 0..runs {
            let mut this_run: Vec<(&str, f64, f64)> = Vec::new();
            for name in st.storage().order(i) {
                let (w, c, sum) = match (name, &st.own, &st.pet) {
                    ("own", Some(g), _) => run_signals(g, &pool),
                    (_, _, Some(g)) => run_signals(g, &pool),
                    _ => unreachable!("order lists only stored graphs"),
                };
                match first {
                    None => first = Some(sum),
                    Some(f) => ensure!(
                        f == sum,
                        "{name} storage, {t} threads, run {i}: results differ from the first run's"
                    ),
                }
                this_run.push((name, w, c));
            }
            if let [a, b] = this_run[..] {
                let (own, pet) = if a.0 == "own" { (a, b) } else { (b, a) };
                ratios.push((pet.1 / own.1, pet.2 / own.2));
            }
            rec.extend(this_run);
        }
        let mut med = Vec::new();
        for name in ["own", "petgraph"] {
            let w: Vec<f64> = rec.iter().filter(|r| r.0 == name).map(|r| r.1).collect();
            if w.is_empty() {
                continue;
            }
            let c: Vec<f64> = rec.iter().filter(|r| r.0 == name).map(|r| r.2).collect();
            let min_wall = w.iter().copied().fold(f64::INFINITY, f64::min);
            let (mw, mc) = (median(w), median(c));
            med.push((mw, mc));
            println!(
                "{name}\t{t}\t{mw:.4}\t{mc:.4}\t{min_wall:.4}\t{:.0}",
                slots as f64 / mw
            );
        }
        if let [own, pet] = med[..] {
            println!(
                "ratio petgraph/own\t{t}\twall {:.3} cpu {:.3} (median of per-run ratios); wall {:.3} cpu {:.3} (ratio of medians)",
                median(ratios.iter().map(|r| r.0).collect()),
                median(ratios.iter().map(|r| r.1).collect()),
                pet.0 / own.0,
                pet.1 / own.1
            );
        }
    }
    first.context("no timed run (--runs and --threads must not be empty)")
}

fn describe(label: &str, g: &dyn Adjacency) {
    let n = g.num_nodes();
    let slots = g.slot_starts().last().copied().unwrap_or(0);
    let max_deg = (0..n as u32).map(|u| g.degree(u)).max().unwrap_or(0);
    println!(
        "{label}: {n} users, {} friendships, {slots} ordered pairs, max degree {max_deg}",
        slots / 2
    );
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
    let threads = if args.threads.is_empty() {
        let all = rayon::current_num_threads();
        if all > 1 {
            vec![1, all]
        } else {
            vec![1]
        }
    } else {
        args.threads.clone()
    };
    ensure!(
        threads.iter().all(|&t| t >= 1),
        "--threads must be at least 1"
    );
    println!("# feedrank bench graph: every edge signal (embeddedness, Jaccard, Adamic-Adar, dispersion, 2 normalisations, recursive x3) + node triangles/clustering");
    println!(
        "# storage {:?}; median of {} runs; CPU = user+system seconds of the process",
        args.storage, args.runs
    );
    let format = GraphFormat::detect(&path)?;
    let mut users = Interner::new();
    let rows = read_edges(&path, format, &mut users)?;
    let st = build(users.len(), &rows, args.storage, args.runs);
    drop(rows);
    describe(&format!("graph {}", path.display()), st.any());
    let s = time_all(&st, &threads, args.runs)?;
    println!(
        "  triangles {}, mean clustering {:.3}, sum dispersion {}",
        s.triangles, s.mean_clustering, s.disp_sum
    );
    drop(st);

    if args.synthetic_users > 0 {
        let runs = args.synthetic_runs.unwrap_or(args.runs.min(3));
        ensure!(runs >= 1, "--synthetic-runs must be at least 1");
        let (rows, gen, _) = timed(|| synth::holme_kim(args.synthetic_users, 25, 0.5, args.seed));
        println!(
            "synthetic Holme-Kim graph (m=25, p_triad=0.5, seed {}): rows generated in {gen:.2} s",
            args.seed
        );
        let sg = build(args.synthetic_users, &rows, args.storage, runs);
        drop(rows);
        describe("synthetic", sg.any());
        let s = time_all(&sg, &threads, runs)?;
        println!(
            "  triangles {}, mean clustering {:.3}, sum dispersion {}",
            s.triangles, s.mean_clustering, s.disp_sum
        );
    }
    match common::peak_rss_mib() {
        Some(m) => println!("peak memory (VmHWM): {m:.0} MiB"),
        None => println!("peak memory: unknown (no /proc/self/status)"),
    }
    Ok(())
}
