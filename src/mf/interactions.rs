//! The sparse count matrix the factorisers train on: CSR rows x cols of `f32` counts, plus
//! its transpose (CSR of the columns), built once from `(row, col, count)` triples.

use super::MfError;

/// A sparse `rows x cols` matrix of positive counts in CSR form, with its transpose.
///
/// Invariants (established by [`Interactions::from_triples`]): column indices within a row are
/// strictly increasing and `< cols`; every stored count is finite and `> 0` (zero counts are
/// dropped, duplicates summed); `transpose` holds the same entries by column.
#[derive(Clone, Debug, PartialEq)]
pub struct Interactions {
    rows: usize,
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<f32>,
    t_indptr: Vec<usize>,
    t_indices: Vec<u32>,
    t_data: Vec<f32>,
}

impl Interactions {
    /// Builds the matrix from `(row, col, count)` triples in any order; duplicate `(row, col)`
    /// pairs are summed (in input order, so the result is deterministic), zero counts dropped.
    ///
    /// # Errors
    /// [`MfError::OutOfRange`] if a row or column index is not below `rows` / `cols`;
    /// [`MfError::BadCount`] if a count is negative or not finite.
    ///
    /// # Complexity
    /// `O(n log n)` for `n` triples.
    pub fn from_triples(
        rows: usize,
        cols: usize,
        triples: &[(u32, u32, f32)],
    ) -> Result<Self, MfError> {
        if rows > u32::MAX as usize || cols > u32::MAX as usize {
            return Err(MfError::InvalidParam {
                name: "rows/cols",
                message: format!("{rows} x {cols} exceeds u32 indices"),
            });
        }
        for &(r, c, n) in triples {
            if r as usize >= rows {
                return Err(MfError::OutOfRange {
                    what: "row",
                    index: u64::from(r),
                    len: rows as u64,
                });
            }
            if c as usize >= cols {
                return Err(MfError::OutOfRange {
                    what: "column",
                    index: u64::from(c),
                    len: cols as u64,
                });
            }
            if !n.is_finite() || n < 0.0 {
                return Err(MfError::BadCount {
                    row: r,
                    col: c,
                    count: n,
                });
            }
        }
        let mut sorted: Vec<(u32, u32, f32)> = triples.to_vec();
        sorted.sort_by_key(|&(r, c, _)| (r, c)); // stable: duplicates summed in input order
        let mut indptr = vec![0usize; rows + 1];
        let mut indices = Vec::with_capacity(sorted.len());
        let mut data: Vec<f32> = Vec::with_capacity(sorted.len());
        let mut i = 0;
        while i < sorted.len() {
            let (r, c, mut n) = sorted[i];
            let mut j = i + 1;
            while j < sorted.len() && sorted[j].0 == r && sorted[j].1 == c {
                n += sorted[j].2;
                j += 1;
            }
            if n > 0.0 {
                indices.push(c);
                data.push(n);
                indptr[r as usize + 1] += 1;
            }
            i = j;
        }
        for r in 0..rows {
            indptr[r + 1] += indptr[r];
        }
        let (t_indptr, t_indices, t_data) = transpose_csr(rows, cols, &indptr, &indices, &data);
        Ok(Interactions {
            rows,
            cols,
            indptr,
            indices,
            data,
            t_indptr,
            t_indices,
            t_data,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored (non-zero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Column indices (increasing) and counts of row `r`; empty if `r` is out of range.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        match (self.indptr.get(r), self.indptr.get(r + 1)) {
            (Some(&a), Some(&b)) => (&self.indices[a..b], &self.data[a..b]),
            _ => (&[], &[]),
        }
    }

    /// Row indices (increasing) and counts of column `c`; empty if `c` is out of range.
    pub fn col(&self, c: usize) -> (&[u32], &[f32]) {
        match (self.t_indptr.get(c), self.t_indptr.get(c + 1)) {
            (Some(&a), Some(&b)) => (&self.t_indices[a..b], &self.t_data[a..b]),
            _ => (&[], &[]),
        }
    }

    /// The count at `(r, c)` (0 if absent). `O(log nnz_row)`.
    pub fn get(&self, r: usize, c: u32) -> f32 {
        let (cols, counts) = self.row(r);
        cols.binary_search(&c).map(|i| counts[i]).unwrap_or(0.0)
    }

    /// The transposed matrix (`cols x rows`), sharing nothing with `self`.
    pub fn transpose(&self) -> Interactions {
        Interactions {
            rows: self.cols,
            cols: self.rows,
            indptr: self.t_indptr.clone(),
            indices: self.t_indices.clone(),
            data: self.t_data.clone(),
            t_indptr: self.indptr.clone(),
            t_indices: self.indices.clone(),
            t_data: self.data.clone(),
        }
    }

    /// Every entry as `(row, col, count)`, in row-major order.
    pub fn triples(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.rows).flat_map(move |r| {
            let (c, n) = self.row(r);
            c.iter().zip(n).map(move |(&c, &n)| (r as u32, c, n))
        })
    }

    /// CSR arrays `(indptr, indices, data)` of the rows.
    pub(crate) fn csr(&self) -> (&[usize], &[u32], &[f32]) {
        (&self.indptr, &self.indices, &self.data)
    }
}

fn transpose_csr(
    rows: usize,
    cols: usize,
    indptr: &[usize],
    indices: &[u32],
    data: &[f32],
) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
    let mut t_indptr = vec![0usize; cols + 1];
    for &c in indices {
        t_indptr[c as usize + 1] += 1;
    }
    for c in 0..cols {
        t_indptr[c + 1] += t_indptr[c];
    }
    let mut next = t_indptr.clone();
    let mut t_indices = vec![0u32; indices.len()];
    let mut t_data = vec![0.0f32; indices.len()];
    for r in 0..rows {
        for e in indptr[r]..indptr[r + 1] {
            let c = indices[e] as usize;
            t_indices[next[c]] = r as u32;
            t_data[next[c]] = data[e];
            next[c] += 1;
        }
    }
    (t_indptr, t_indices, t_data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_summed_and_zeros_dropped() {
        let m = Interactions::from_triples(
            3,
            4,
            &[
                (2, 1, 1.0),
                (0, 3, 2.0),
                (2, 1, 2.5),
                (0, 0, 1.0),
                (1, 2, 0.0),
            ],
        )
        .unwrap();
        assert_eq!(m.nnz(), 3);
        assert_eq!(m.row(0), (&[0u32, 3][..], &[1.0f32, 2.0][..]));
        assert_eq!(m.row(1), (&[][..], &[][..]));
        assert_eq!(m.row(2), (&[1u32][..], &[3.5f32][..]));
        assert_eq!(m.get(2, 1), 3.5);
        assert_eq!(m.get(1, 2), 0.0);
    }

    #[test]
    fn transpose_holds_the_same_entries() {
        let m =
            Interactions::from_triples(3, 4, &[(2, 1, 1.0), (0, 3, 2.0), (1, 1, 4.0), (0, 0, 1.0)])
                .unwrap();
        let t = m.transpose();
        assert_eq!((t.rows(), t.cols()), (4, 3));
        assert_eq!(t.row(1), (&[1u32, 2][..], &[4.0f32, 1.0][..]));
        assert_eq!(m.col(1), t.row(1));
        let mut back: Vec<_> = t.triples().map(|(c, r, n)| (r, c, n)).collect();
        back.sort_by_key(|&(r, c, _)| (r, c));
        assert_eq!(back, m.triples().collect::<Vec<_>>());
        assert_eq!(t.transpose(), m);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            Interactions::from_triples(2, 2, &[(2, 0, 1.0)]),
            Err(MfError::OutOfRange {
                what: "row",
                index: 2,
                len: 2
            })
        ));
        assert!(matches!(
            Interactions::from_triples(2, 2, &[(0, 5, 1.0)]),
            Err(MfError::OutOfRange { what: "column", .. })
        ));
        assert!(matches!(
            Interactions::from_triples(2, 2, &[(0, 1, -1.0)]),
            Err(MfError::BadCount { row: 0, col: 1, .. })
        ));
        assert!(matches!(
            Interactions::from_triples(2, 2, &[(0, 1, f32::NAN)]),
            Err(MfError::BadCount { .. })
        ));
    }
}
