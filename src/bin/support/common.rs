//! Helpers shared by both binaries: logging set-up, result output and exit codes, thread
//! pools, progress bars.
#![allow(dead_code)]

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, StdoutLock, Write};

/// Standard output for results: locked and buffered, and every write returns an
/// `io::Result` (where `println!` panics on a closed pipe or a full disk) whose error says
/// "writing to standard output" and keeps the system error's kind. Flush it at the end: a
/// `BufWriter` dropped unflushed drops its last error.
pub fn stdout() -> Stdout {
    Stdout(BufWriter::new(std::io::stdout().lock()))
}

/// See [`stdout`].
pub struct Stdout(BufWriter<StdoutLock<'static>>);

/// The context of a failed write to standard output; the system error is its source.
#[derive(Debug, thiserror::Error)]
#[error("writing to standard output")]
struct StdoutError {
    source: std::io::Error,
}

fn on_stdout(source: std::io::Error) -> std::io::Error {
    std::io::Error::new(source.kind(), StdoutError { source })
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf).map_err(on_stdout)
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf).map_err(on_stdout)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush().map_err(on_stdout)
    }
}

/// Ends the process for a command's result: exit 0 on success; exit 0 without a word when the
/// error chain holds a broken pipe (the reader of stdout closed it, as `head` does: it has
/// what it wanted); otherwise the error on stderr and exit 1 (a full disk among them).
pub fn exit(result: anyhow::Result<()>) -> ! {
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) if is_broken_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1)
        }
    }
}

/// Whether any error in the chain is an `io::Error` of kind `BrokenPipe`.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Fails now when `path` could not be written atomically later (its directory is not
/// writable, or it exists and is not a regular file), so that a long run does not end in a
/// write error. Creates and removes the temporary file beside it.
pub fn check_writable(path: &std::path::Path) -> anyhow::Result<()> {
    drop(feedrank::io::atomic::AtomicFile::create(path)?);
    Ok(())
}

/// Whether an output path is `-`, meaning standard output.
pub fn is_stdout(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

/// Logs to stderr at `warn` by default (`RUST_LOG` overrides).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses a time flag (`--as-of`, `--split-at`): unix seconds or a UTC date `YYYY-MM-DD`
/// (its 00:00 UTC; years 0-9999).
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = s.parse::<i64>() {
        return Ok(t);
    }
    let bad = || format!("expected unix seconds or YYYY-MM-DD, found {s:?}");
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(0..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = feedrank::io::world_tsv::civil::days_from_civil(y, m, d);
    Ok(days * feedrank::util::time::DAY)
}

/// Sets the global rayon pool size (`None`: rayon's default, one thread per core).
pub fn set_threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        anyhow::ensure!(n >= 1, "--threads must be at least 1");
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot set up {n} threads: {e}"))?;
    }
    Ok(())
}

/// A progress bar on stderr with rate and ETA (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// Progress bars for a library call that reports through [`feedrank::util::progress::Progress`]:
/// one bar per step (with rate and ETA, on stderr, hidden when stderr is not a terminal), the
/// previous one finished when the next step begins and the last one when this is dropped.
pub struct Bars {
    bar: std::sync::RwLock<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            bar: std::sync::RwLock::new(None),
        }
    }

    /// Clears the current step's bar (before printing between steps).
    pub fn clear(&self) {
        let mut slot = self.bar.write().unwrap_or_else(|p| p.into_inner());
        if let Some(pb) = slot.take() {
            pb.finish_and_clear();
        }
    }
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

impl feedrank::util::progress::Progress for Bars {
    fn step(&self, what: &str, total: u64) {
        let mut slot = self.bar.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = Some(progress(total, what));
    }
    fn advance(&self, n: u64) {
        let slot = self.bar.read().unwrap_or_else(|p| p.into_inner());
        if let Some(pb) = slot.as_ref() {
            pb.inc(n);
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        let slot = self.bar.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(pb) = slot.take() {
            pb.finish_and_clear();
        }
    }
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds (user + system) used by this process so far.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Wall and CPU time per stage of one command, printed on stderr when enabled (`--timings`).
pub struct Stages {
    on: bool,
    start: std::time::Instant,
    last: (f64, f64),
    rows: Vec<(&'static str, f64, f64)>,
}

impl Stages {
    pub fn new(on: bool) -> Stages {
        Stages {
            on,
            start: std::time::Instant::now(),
            last: (0.0, cpu_seconds().unwrap_or(0.0)),
            rows: Vec::new(),
        }
    }

    /// Ends the current stage under `name`.
    pub fn mark(&mut self, name: &'static str) {
        if !self.on {
            return;
        }
        let wall = self.start.elapsed().as_secs_f64();
        let cpu = cpu_seconds().unwrap_or(0.0);
        self.rows
            .push((name, wall - self.last.0, cpu - self.last.1));
        self.last = (wall, cpu);
    }

    /// Prints every stage, the total and the peak memory on stderr.
    pub fn print(&self) {
        if !self.on {
            return;
        }
        eprintln!("timings (wall s / cpu s):");
        for (name, w, c) in &self.rows {
            eprintln!("  {name:<22} {w:>7.3} {c:>7.2}");
        }
        let (w, c): (f64, f64) = self
            .rows
            .iter()
            .fold((0.0, 0.0), |a, r| (a.0 + r.1, a.1 + r.2));
        eprintln!(
            "  {:<22} {w:>7.3} {c:>7.2}   peak memory {:.0} MiB",
            "total",
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}
