//! Writes a world's model rows for analysis outside feedrank (the boosted-tree probe of
//! docs/quality-levers.md, `scripts/tree_leaves_probe.py`): the training rows before SPLIT and
//! the rows of the exposures at or after it (features as of the start of each exposure's UTC
//! day, as `feedrank eval` ranks), standardised with the scaler a model trained at SPLIT uses.
//! The MF columns are 0 (training fills them) and no per-viewer offsets apply.
//!
//! Files in OUT: `train.x` / `test.x` (little-endian f32, row-major, `names.txt` columns),
//! `train.y` / `test.y` (one byte per row: bit k = head k of click, like, comment, share, hide).
//!
//! Run: `cargo run --release --example dump_rows -- WORLD SPLIT_UNIX_SECONDS OUT`.
use anyhow::Context;
use feedrank::features::{schema, FeatureSpace, NUM_FEATURES};
use feedrank::model::{build_rows, Rows, Scaler};
use std::io::Write;
use std::path::{Path, PathBuf};

fn write_rows(
    out: &Path,
    name: &str,
    rows: &Rows,
    scaler: &Scaler,
    from: i64,
) -> anyhow::Result<usize> {
    let create = |ext: &str| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
        let p = out.join(format!("{name}.{ext}"));
        let f = std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(std::io::BufWriter::new(f))
    };
    let (mut fx, mut fy) = (create("x")?, create("y")?);
    let mut z = vec![0.0f64; NUM_FEATURES];
    let mut n = 0;
    for i in (0..rows.len()).filter(|&i| rows.ts[i] >= from) {
        scaler.apply(&rows.x[i * NUM_FEATURES..(i + 1) * NUM_FEATURES], &mut z);
        for v in &z {
            fx.write_all(&(*v as f32).to_le_bytes())?;
        }
        fy.write_all(&[rows.labels[i]])?;
        n += 1;
    }
    fx.flush()?;
    fy.flush()?;
    Ok(n)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, split, out] = args.as_slice() else {
        anyhow::bail!("usage: dump_rows WORLD SPLIT_UNIX_SECONDS OUT");
    };
    let split: i64 = split
        .parse()
        .with_context(|| format!("SPLIT: expected unix seconds, got {split:?}"))?;
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let opts = feedrank::pipeline::LoadOptions {
        lenient: false,
        skip_truth: true,
        snapshot: true,
    };
    let (world, _, _) = feedrank::pipeline::load_world(Path::new(dir), &opts)?;
    let cfg = feedrank::config::Config::default();
    let fs = FeatureSpace::new(&world, &cfg.features)?;
    let end = world.time_span().context("the world has no events")?.1 + 1;
    let train = build_rows(&fs, split)?;
    let all = build_rows(&fs, end)?;
    let scaler = Scaler::fit(&train.x, NUM_FEATURES, schema::transforms().to_vec());
    let n_train = write_rows(&out, "train", &train, &scaler, i64::MIN)?;
    let n_test = write_rows(&out, "test", &all, &scaler, split)?;
    std::fs::write(out.join("names.txt"), schema::NAMES.join("\n") + "\n")?;
    eprintln!(
        "{n_train} training and {n_test} test rows of {NUM_FEATURES} features in {}",
        out.display()
    );
    Ok(())
}
