//! Slices and bitsets: a stable counting-sort grouping of keyed rows into CSR form
//! ([`group_by_key`]), a bitset test ([`bit`]) and a cache prefetch hint ([`prefetch_read`]).

/// Groups `(key, item)` rows by key (keys `< n`) by a stable counting sort: `(off, items)` with
/// key `k`'s items at `items[off[k]..off[k + 1]]` in input order. The iterator is walked
/// three times (count, then place).
///
/// Placing millions of rows straight into `n` (e.g. 100,000) groups misses the cache and TLB
/// on nearly every write, so large inputs go in two stable passes instead: first into about
/// 256 buckets of consecutive keys (few write streams), then each bucket, copied to a small
/// scratch buffer, into its keys' groups (writes within the bucket's own region).
///
/// # Panics
/// If a key is `>= n` (callers check their keys first).
///
/// # Complexity
/// O(rows + n) time, O(rows) extra memory for the bucket keys.
pub(crate) fn group_by_key<T: Copy, I>(n: usize, rows: I) -> (Vec<usize>, Vec<T>)
where
    I: Iterator<Item = (u32, T)> + Clone,
{
    const BUCKET_BITS: u32 = 8;
    let mut off = vec![0usize; n + 1];
    let mut filler = None;
    for (k, t) in rows.clone() {
        off[k as usize + 1] += 1;
        filler.get_or_insert(t);
    }
    for i in 0..n {
        off[i + 1] += off[i];
    }
    let Some(filler) = filler else {
        return (off, Vec::new());
    };
    let total = off[n];
    let mut items = vec![filler; total];
    let bits = usize::BITS - n.leading_zeros();
    if total < (1 << 16) || bits <= BUCKET_BITS + 2 {
        let mut pos = off.clone();
        for (k, t) in rows {
            let p = &mut pos[k as usize];
            items[*p] = t;
            *p += 1;
        }
        return (off, items);
    }
    let shift = bits - BUCKET_BITS;
    let n_buckets = (n >> shift) + 1;
    let bucket_start = |b: usize| off[(b << shift).min(n)];
    let mut bpos: Vec<usize> = (0..n_buckets).map(bucket_start).collect();
    let mut keys = vec![0u32; total];
    for (k, t) in rows {
        let p = &mut bpos[(k >> shift) as usize];
        items[*p] = t;
        keys[*p] = k;
        *p += 1;
    }
    let mut pos = off.clone();
    let mut scratch: Vec<(u32, T)> = Vec::new();
    for b in 0..n_buckets {
        let (lo, hi) = (bucket_start(b), bucket_start(b + 1));
        scratch.clear();
        scratch.extend(
            keys[lo..hi]
                .iter()
                .copied()
                .zip(items[lo..hi].iter().copied()),
        );
        for &(k, t) in &scratch {
            let p = &mut pos[k as usize];
            items[*p] = t;
            *p += 1;
        }
    }
    (off, items)
}

/// Whether bit `x` is set in `bits` (64 per word, least significant bit first); false past
/// the end.
#[inline]
pub(crate) fn bit(bits: &[u64], x: u32) -> bool {
    bits.get((x / 64) as usize)
        .is_some_and(|w| (w >> (x % 64)) & 1 == 1)
}

/// Hints the CPU to bring `x` into the cache (no effect on results; never faults).
#[inline(always)]
pub(crate) fn prefetch_read<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults and has no observable effect; the
    // pointer comes from a valid reference anyway.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (x as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_pass_grouping_is_a_stable_counting_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for (n, rows) in [
            (100_000usize, 300_000usize),
            (5_000, 70_000),
            (1, 10),
            (70_000, 0),
        ] {
            let keyed: Vec<(u32, u32)> = (0..rows)
                .map(|i| (rng.gen_range(0..n as u32), i as u32))
                .collect();
            let (off, items) = group_by_key(n, keyed.iter().copied());
            let mut want = keyed.clone();
            want.sort_by_key(|x| x.0);
            assert_eq!(items, want.iter().map(|x| x.1).collect::<Vec<_>>());
            assert_eq!(off.len(), n + 1);
            for k in (0..n).step_by(997) {
                let a = want.partition_point(|x| (x.0 as usize) < k);
                assert_eq!(off[k], a);
            }
            assert_eq!(off[n], rows);
        }
    }

    #[test]
    fn bit_reads_set_bits_and_is_false_out_of_range() {
        let bits = [1u64 << 3, 1 << 63];
        assert!(bit(&bits, 3) && bit(&bits, 127));
        assert!(!bit(&bits, 4) && !bit(&bits, 64) && !bit(&bits, 128) && !bit(&bits, u32::MAX));
    }
}
