//! Seeded synthetic count matrices for tests and benchmarks: a power-law matrix (heavy-tailed
//! row and column activity, like viewer x author engagement) and a planted low-rank matrix
//! whose structure a factoriser should recover.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Zipf};

use super::{Interactions, MfError};

/// `samples` draws of `(row, col)` with Zipf-distributed row and column ranks (exponent
/// `exponent`, about 1 for real engagement), each adding 1 to the count; ranks are mapped to
/// ids through seeded permutations so that popular rows and columns are spread over the index
/// range. Duplicates are summed, so `nnz <= samples`.
///
/// # Errors
/// [`MfError::InvalidParam`] if `rows` or `cols` is 0 or `exponent` is not finite and > 0.
pub fn power_law(
    rows: usize,
    cols: usize,
    samples: usize,
    exponent: f64,
    seed: u64,
) -> Result<Interactions, MfError> {
    let bad = |name, message: String| MfError::InvalidParam { name, message };
    if rows == 0 || cols == 0 {
        return Err(bad("rows/cols", format!("{rows} x {cols} is empty")));
    }
    let zr = Zipf::new(rows as u64, exponent).map_err(|e| bad("exponent", e.to_string()))?;
    let zc = Zipf::new(cols as u64, exponent).map_err(|e| bad("exponent", e.to_string()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut row_perm: Vec<u32> = (0..rows as u32).collect();
    let mut col_perm: Vec<u32> = (0..cols as u32).collect();
    row_perm.shuffle(&mut rng);
    col_perm.shuffle(&mut rng);
    let rank = |z: f64, n: usize| ((z as usize).max(1) - 1).min(n - 1);
    let triples: Vec<(u32, u32, f32)> = (0..samples)
        .map(|_| {
            let r = rank(zr.sample(&mut rng), rows);
            let c = rank(zc.sample(&mut rng), cols);
            (row_perm[r], col_perm[c], 1.0)
        })
        .collect();
    Interactions::from_triples(rows, cols, &triples)
}

/// A planted rank-`rank` matrix: row and column vectors `u_r, v_c ~ N(0, I_rank)`; each row
/// picks `per_row` distinct columns by Gumbel-top-k on the logits `sharpness * u_r . v_c /
/// sqrt(rank)`, with counts 1..=3. Returns the triples (so tests can hold some out) and the
/// planted logits `rows x cols`, row-major.
pub fn low_rank(
    rows: usize,
    cols: usize,
    rank: usize,
    per_row: usize,
    sharpness: f32,
    seed: u64,
) -> (Vec<(u32, u32, f32)>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).expect("invariant: constant parameters");
    let u: Vec<f32> = (0..rows * rank).map(|_| normal.sample(&mut rng)).collect();
    let v: Vec<f32> = (0..cols * rank).map(|_| normal.sample(&mut rng)).collect();
    let scale = sharpness / (rank.max(1) as f32).sqrt();
    let mut logits = vec![0.0f32; rows * cols];
    let mut triples = Vec::with_capacity(rows * per_row);
    let mut keyed: Vec<(f32, u32)> = Vec::with_capacity(cols);
    for r in 0..rows {
        keyed.clear();
        for c in 0..cols {
            let l: f32 = (0..rank)
                .map(|a| u[r * rank + a] * v[c * rank + a])
                .sum::<f32>()
                * scale;
            logits[r * cols + c] = l;
            let uniform: f32 = rng.gen_range(1e-7f32..1.0);
            keyed.push((l - (-uniform.ln()).ln(), c as u32));
        }
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, c) in keyed.iter().take(per_row) {
            triples.push((r as u32, c, rng.gen_range(1..=3) as f32));
        }
    }
    (triples, logits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_is_seeded_and_heavy_tailed() {
        let a = power_law(1000, 500, 20_000, 1.0, 7).unwrap();
        let b = power_law(1000, 500, 20_000, 1.0, 7).unwrap();
        assert_eq!(a, b);
        let total: f32 = a.triples().map(|t| t.2).sum();
        assert_eq!(total, 20_000.0);
        let mut deg: Vec<usize> = (0..1000).map(|r| a.row(r).0.len()).collect();
        deg.sort_unstable();
        // The busiest 1% of rows hold far more than 1% of the entries.
        let top: usize = deg[990..].iter().sum();
        assert!(top * 10 > a.nnz(), "top 1% rows hold {top} of {}", a.nnz());
        assert!(power_law(0, 5, 10, 1.0, 0).is_err());
    }

    #[test]
    fn low_rank_has_per_row_distinct_columns() {
        let (t, logits) = low_rank(20, 30, 3, 5, 2.0, 1);
        assert_eq!(t.len(), 100);
        assert_eq!(logits.len(), 600);
        let m = Interactions::from_triples(20, 30, &t).unwrap();
        assert_eq!(m.nnz(), 100);
    }
}
