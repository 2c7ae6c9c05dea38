//! Small dense kernels for the factor solvers: dot, axpy, symmetric mat-vec, Gram matrix,
//! per-row conjugate-gradient and Cholesky solves. Takes plain `f32` slices (row-major `k x k`
//! matrices, factor rows of length `k`) and hands results back in caller-owned buffers, so the
//! per-row loops allocate nothing.
//!
//! The kernels are written so that LLVM vectorises them (eight independent accumulators in
//! `dot`); [`Kernel`] picks, once per half-step, an AVX2 build of the same code when the CPU has
//! it. Results do not depend on the number of threads: every row is solved by exactly one
//! call, and the Gram matrix is summed over fixed-size chunks in chunk order.

use rayon::prelude::*;

/// Rows per chunk in [`gram`]: fixed (not derived from the thread count) so that the
/// floating-point summation order, and hence the result, is the same for any pool size.
const GRAM_CHUNK: usize = 2048;

#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y += alpha * x`.
#[inline(always)]
pub(crate) fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// `out = a * x` for a symmetric row-major `k x k` matrix `a`.
#[inline(always)]
fn symv(a: &[f32], k: usize, x: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(a.chunks_exact(k)) {
        *o = dot(row, x);
    }
}

/// Which build of the kernels to run (chosen once by [`Kernel::detect`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kernel {
    Generic,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernel {
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return Kernel::Avx2;
            }
        }
        Kernel::Generic
    }
}

/// Per-worker scratch for the row solvers.
pub(crate) struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
    a64: Vec<f64>,
    b64: Vec<f64>,
}

impl Scratch {
    pub(crate) fn new(k: usize) -> Self {
        Scratch {
            r: vec![0.0; k],
            p: vec![0.0; k],
            ap: vec![0.0; k],
            a64: vec![0.0; k * k],
            b64: vec![0.0; k],
        }
    }
}

/// One row of implicit ALS by conjugate gradient, warm-started from `x` (Hu, Koren &
/// Volinsky 2008, eq. 4, solved as in Takacs et al. 2011 / the `implicit` library):
/// `(G + sum_i alpha c_i y_i y_i^T) x = sum_i (1 + alpha c_i) y_i`, where `G = Y^T Y + lambda I`
/// (`gram`), `c_i` the counts of the row at columns `cols`, `y_i` rows of `other`.
///
/// # Complexity
/// `O((steps + 1) (k^2 + nnz_row k))`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cg_row(
    kernel: Kernel,
    gram: &[f32],
    other: &[f32],
    k: usize,
    cols: &[u32],
    counts: &[f32],
    alpha: f32,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    match kernel {
        Kernel::Generic => cg_row_impl(gram, other, k, cols, counts, alpha, steps, x, s),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kernel::Avx2` is only constructed after `is_x86_feature_detected!("avx2")`.
        Kernel::Avx2 => unsafe { cg_row_avx2(gram, other, k, cols, counts, alpha, steps, x, s) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn cg_row_avx2(
    gram: &[f32],
    other: &[f32],
    k: usize,
    cols: &[u32],
    counts: &[f32],
    alpha: f32,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    cg_row_impl(gram, other, k, cols, counts, alpha, steps, x, s)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cg_row_impl(
    gram: &[f32],
    other: &[f32],
    k: usize,
    cols: &[u32],
    counts: &[f32],
    alpha: f32,
    steps: usize,
    x: &mut [f32],
    s: &mut Scratch,
) {
    let Scratch { r, p, ap, .. } = s;
    // r = b - A x
    symv(gram, k, x, r);
    for v in r.iter_mut() {
        *v = -*v;
    }
    for (&c, &n) in cols.iter().zip(counts) {
        let y = &other[c as usize * k..c as usize * k + k];
        let ac = alpha * n;
        let coef = (1.0 + ac) - ac * dot(y, x);
        axpy(coef, y, r);
    }
    p.copy_from_slice(r);
    let mut rsold = dot(r, r);
    if rsold < 1e-20 {
        return;
    }
    for _ in 0..steps {
        symv(gram, k, p, ap);
        for (&c, &n) in cols.iter().zip(counts) {
            let y = &other[c as usize * k..c as usize * k + k];
            axpy(alpha * n * dot(y, p), y, ap);
        }
        let pap = dot(p, ap);
        if pap.is_nan() || pap <= 0.0 {
            break;
        }
        let step = rsold / pap;
        axpy(step, p, x);
        axpy(-step, ap, r);
        let rsnew = dot(r, r);
        if rsnew < 1e-20 {
            break;
        }
        let beta = rsnew / rsold;
        for (pi, ri) in p.iter_mut().zip(r.iter()) {
            *pi = ri + beta * *pi;
        }
        rsold = rsnew;
    }
}

/// One row of implicit ALS solved exactly: builds `A = G + sum_i alpha c_i y_i y_i^T` and
/// `b = sum_i (1 + alpha c_i) y_i` in `f64` and solves `A x = b` by Cholesky. `A` is symmetric
/// positive definite whenever `lambda > 0`; if the factorisation still fails (non-finite input)
/// `x` is set to zero and `false` is returned.
///
/// # Complexity
/// `O(k^3 / 3 + nnz_row k^2)`.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(crate) fn cholesky_row(
    gram: &[f32],
    other: &[f32],
    k: usize,
    cols: &[u32],
    counts: &[f32],
    alpha: f32,
    x: &mut [f32],
    s: &mut Scratch,
) -> bool {
    let a = &mut s.a64;
    let b = &mut s.b64;
    for (ai, gi) in a.iter_mut().zip(gram) {
        *ai = f64::from(*gi);
    }
    b.iter_mut().for_each(|v| *v = 0.0);
    for (&c, &n) in cols.iter().zip(counts) {
        let y = &other[c as usize * k..c as usize * k + k];
        let ac = f64::from(alpha * n);
        for i in 0..k {
            let yi = f64::from(y[i]);
            b[i] += (1.0 + ac) * yi;
            let row = &mut a[i * k..i * k + k];
            let w = ac * yi;
            for j in 0..k {
                row[j] += w * f64::from(y[j]);
            }
        }
    }
    // In-place Cholesky A = L L^T (lower triangle).
    for j in 0..k {
        let mut d = a[j * k + j];
        for t in 0..j {
            d -= a[j * k + t] * a[j * k + t];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            x.iter_mut().for_each(|v| *v = 0.0);
            return false;
        }
        let d = d.sqrt();
        a[j * k + j] = d;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for t in 0..j {
                v -= a[i * k + t] * a[j * k + t];
            }
            a[i * k + j] = v / d;
        }
    }
    // Forward then backward substitution.
    for i in 0..k {
        let mut v = b[i];
        for t in 0..i {
            v -= a[i * k + t] * b[t];
        }
        b[i] = v / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut v = b[i];
        for t in i + 1..k {
            v -= a[t * k + i] * b[t];
        }
        b[i] = v / a[i * k + i];
    }
    for (xi, bi) in x.iter_mut().zip(b.iter()) {
        *xi = *bi as f32;
    }
    true
}

/// `Y^T Y + lambda I` for the row-major `n x k` matrix `y`, summed over fixed chunks of
/// rows in parallel and then in chunk order (the same result for any thread count).
///
/// # Complexity
/// `O(n k^2)`.
pub(crate) fn gram(kernel: Kernel, y: &[f32], k: usize, lambda: f32) -> Vec<f32> {
    let partials: Vec<Vec<f32>> = y
        .par_chunks(GRAM_CHUNK * k)
        .map(|chunk| match kernel {
            Kernel::Generic => gram_chunk(chunk, k),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::Avx2` is only constructed after feature detection.
            Kernel::Avx2 => unsafe { gram_chunk_avx2(chunk, k) },
        })
        .collect();
    let mut g = vec![0.0f32; k * k];
    for part in &partials {
        axpy(1.0, part, &mut g);
    }
    for i in 0..k {
        g[i * k + i] += lambda;
    }
    g
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gram_chunk_avx2(chunk: &[f32], k: usize) -> Vec<f32> {
    gram_chunk(chunk, k)
}

#[inline(always)]
fn gram_chunk(chunk: &[f32], k: usize) -> Vec<f32> {
    let mut g = vec![0.0f32; k * k];
    for row in chunk.chunks_exact(k) {
        for (a, grow) in row.iter().zip(g.chunks_exact_mut(k)) {
            axpy(*a, row, grow);
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive_for_odd_lengths() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    #[test]
    fn cg_with_enough_steps_matches_cholesky() {
        let k = 5;
        let other: Vec<f32> = (0..7 * k)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
            .collect();
        let g = gram(Kernel::detect(), &other, k, 0.3);
        let cols = [0u32, 2, 6];
        let counts = [1.0f32, 3.0, 2.0];
        let mut s = Scratch::new(k);
        let mut exact = vec![0.0; k];
        assert!(cholesky_row(
            &g, &other, k, &cols, &counts, 2.0, &mut exact, &mut s
        ));
        let mut x = vec![0.0; k];
        for _ in 0..4 {
            cg_row(
                Kernel::detect(),
                &g,
                &other,
                k,
                &cols,
                &counts,
                2.0,
                k,
                &mut x,
                &mut s,
            );
        }
        for (a, b) in x.iter().zip(&exact) {
            assert!((a - b).abs() < 1e-3, "cg {x:?} vs cholesky {exact:?}");
        }
        // And the exact solution satisfies A x = b.
        let mut ax = vec![0.0f32; k];
        symv(&g, k, &exact, &mut ax);
        let mut b = vec![0.0f32; k];
        for (&c, &n) in cols.iter().zip(&counts) {
            let y = &other[c as usize * k..c as usize * k + k];
            axpy(2.0 * n * dot(y, &exact), y, &mut ax);
            axpy(1.0 + 2.0 * n, y, &mut b);
        }
        for (l, r) in ax.iter().zip(&b) {
            assert!((l - r).abs() < 1e-3);
        }
    }

    #[test]
    fn gram_is_y_transpose_y_plus_lambda() {
        let k = 3;
        let y: Vec<f32> = (0..(GRAM_CHUNK + 5) * k)
            .map(|i| ((i % 7) as f32) - 3.0)
            .collect();
        let g = gram(Kernel::Generic, &y, k, 0.5);
        for a in 0..k {
            for b in 0..k {
                let naive: f64 = y
                    .chunks_exact(k)
                    .map(|r| f64::from(r[a]) * f64::from(r[b]))
                    .sum::<f64>()
                    + if a == b { 0.5 } else { 0.0 };
                assert!((f64::from(g[a * k + b]) - naive).abs() < 1e-3 * naive.abs().max(1.0));
            }
        }
    }
}
