//! The output of every factoriser: a `k`-vector per row and per column; the affinity of a row
//! and a column is their dot product. Saved inside the model file (serde; bincode 2).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::als::AlsValidParams;
use super::linalg::{self, Kernel, Scratch};
use super::MfError;

/// Row and column factors (row-major, `k` floats each).
///
/// Serialises as `{k, rows, cols}`; deserialisation checks that both arrays are whole
/// multiples of `k`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "FactorsRaw", into = "FactorsRaw")]
pub struct Factors {
    k: usize,
    rows: Vec<f32>,
    cols: Vec<f32>,
    /// `Y^T Y` of the column factors, computed on first fold-in (not serialised).
    col_gram: OnceLock<Vec<f32>>,
}

#[derive(Serialize, Deserialize)]
struct FactorsRaw {
    k: usize,
    rows: Vec<f32>,
    cols: Vec<f32>,
}

impl TryFrom<FactorsRaw> for Factors {
    type Error = MfError;
    fn try_from(raw: FactorsRaw) -> Result<Self, MfError> {
        Factors::new(raw.k, raw.rows, raw.cols)
    }
}

impl From<Factors> for FactorsRaw {
    fn from(f: Factors) -> Self {
        FactorsRaw {
            k: f.k,
            rows: f.rows,
            cols: f.cols,
        }
    }
}

impl PartialEq for Factors {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k && self.rows == other.rows && self.cols == other.cols
    }
}

impl Factors {
    /// Wraps row-major factor arrays (`rows.len() = n_rows * k`, `cols.len() = n_cols * k`).
    ///
    /// # Errors
    /// [`MfError::InvalidParam`] if `k == 0`; [`MfError::Shape`] if an array is not a whole
    /// number of `k`-vectors.
    pub fn new(k: usize, rows: Vec<f32>, cols: Vec<f32>) -> Result<Self, MfError> {
        if k == 0 {
            return Err(MfError::InvalidParam {
                name: "k",
                message: "must be at least 1".into(),
            });
        }
        for (what, v) in [("row factors", &rows), ("column factors", &cols)] {
            if v.len() % k != 0 {
                return Err(MfError::Shape {
                    what,
                    expected: v.len() / k * k + k,
                    found: v.len(),
                });
            }
        }
        Ok(Factors {
            k,
            rows,
            cols,
            col_gram: OnceLock::new(),
        })
    }

    /// Number of factors per vector.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of rows (viewers).
    pub fn n_rows(&self) -> usize {
        self.rows.len() / self.k
    }

    /// Number of columns (authors or topics).
    pub fn n_cols(&self) -> usize {
        self.cols.len() / self.k
    }

    /// The factor vector of row `r`, if it exists.
    pub fn row(&self, r: u32) -> Option<&[f32]> {
        let a = (r as usize).checked_mul(self.k)?;
        self.rows.get(a..a + self.k)
    }

    /// The factor vector of column `c`, if it exists.
    pub fn col(&self, c: u32) -> Option<&[f32]> {
        let a = (c as usize).checked_mul(self.k)?;
        self.cols.get(a..a + self.k)
    }

    /// All row factors, row-major.
    pub fn row_factors(&self) -> &[f32] {
        &self.rows
    }

    /// All column factors, row-major.
    pub fn col_factors(&self) -> &[f32] {
        &self.cols
    }

    pub(crate) fn rows_mut(&mut self) -> &mut [f32] {
        &mut self.rows
    }

    /// The affinity of row `row` and column `col`: the dot product of their factors, or
    /// `None` if either index is out of range.
    pub fn try_score(&self, row: u32, col: u32) -> Option<f32> {
        Some(linalg::dot(self.row(row)?, self.col(col)?))
    }

    /// The affinity of row `row` and column `col` (dot product). An unknown row or column
    /// has no learnt affinity and scores `0.0` (use [`Factors::try_score`] to tell them apart).
    ///
    /// # Complexity
    /// `O(k)`.
    pub fn score(&self, row: u32, col: u32) -> f32 {
        self.try_score(row, col).unwrap_or(0.0)
    }

    /// The affinity of an explicit row vector (e.g. from [`Factors::recalculate_user`]) and
    /// column `col`; `0.0` if `col` is unknown or the vector is not `k` long.
    pub fn score_vector(&self, row_vector: &[f32], col: u32) -> f32 {
        match self.col(col) {
            Some(y) if row_vector.len() == self.k => linalg::dot(row_vector, y),
            _ => 0.0,
        }
    }

    /// Folds in a new or updated row without retraining: the closed-form implicit-ALS row
    /// solve (Hu, Koren & Volinsky 2008, eq. 4) against the fixed column factors,
    /// `x = (Y^T Y + lambda I + sum_i alpha c_i y_i y_i^T)^-1 sum_i (1 + alpha c_i) y_i`,
    /// solved exactly by Cholesky with `alpha` and `lambda` from `params` (its `factors` and
    /// `iterations` are not used). `counts` are `(column, count)` pairs in any order;
    /// duplicates are summed, zero counts ignored. Equals the row a full ALS row update
    /// ([`super::update_rows`] with [`super::Solver::Cholesky`]) would give on the same data.
    /// Meaningful for factors from either trainer (for BPR factors it is the least-squares
    /// row that best explains the counts under the ALS loss).
    ///
    /// # Errors
    /// [`MfError::OutOfRange`] for an unknown column; [`MfError::BadCount`] for a negative or
    /// non-finite count (its `row` is `u32::MAX`: the folded-in row has no index).
    ///
    /// # Complexity
    /// `O(k^3 + nnz k^2)`, plus `O(n_cols k^2)` once per `Factors` for `Y^T Y` (cached).
    pub fn recalculate_user(
        &self,
        counts: &[(u32, f32)],
        params: &AlsValidParams,
    ) -> Result<Vec<f32>, MfError> {
        let n_cols = self.n_cols();
        for &(c, n) in counts {
            if c as usize >= n_cols {
                return Err(MfError::OutOfRange {
                    what: "column",
                    index: u64::from(c),
                    len: n_cols as u64,
                });
            }
            if !n.is_finite() || n < 0.0 {
                return Err(MfError::BadCount {
                    row: u32::MAX,
                    col: c,
                    count: n,
                });
            }
        }
        let mut merged: Vec<(u32, f32)> = counts.to_vec();
        merged.sort_by_key(|&(c, _)| c);
        let mut cols = Vec::with_capacity(merged.len());
        let mut vals: Vec<f32> = Vec::with_capacity(merged.len());
        for (c, n) in merged {
            if cols.last() == Some(&c) {
                if let Some(v) = vals.last_mut() {
                    *v += n;
                }
            } else {
                cols.push(c);
                vals.push(n);
            }
        }
        let (cols, vals): (Vec<u32>, Vec<f32>) =
            cols.into_iter().zip(vals).filter(|&(_, n)| n > 0.0).unzip();
        let k = self.k;
        let yty = self
            .col_gram
            .get_or_init(|| linalg::gram(Kernel::detect(), &self.cols, k, 0.0));
        let mut g = yty.clone();
        for i in 0..k {
            g[i * k + i] += params.lambda();
        }
        let mut x = vec![0.0f32; k];
        let mut scratch = Scratch::new(k);
        linalg::cholesky_row(
            &g,
            &self.cols,
            k,
            &cols,
            &vals,
            params.alpha(),
            &mut x,
            &mut scratch,
        );
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_the_dot_product_and_unknowns_score_zero() {
        let f = Factors::new(2, vec![1.0, 2.0, 3.0, 4.0], vec![0.5, -1.0]).unwrap();
        assert_eq!((f.n_rows(), f.n_cols()), (2, 1));
        assert_eq!(f.score(1, 0), 3.0 * 0.5 - 4.0);
        assert_eq!(f.try_score(2, 0), None);
        assert_eq!(f.score(0, 7), 0.0);
        assert_eq!(f.score_vector(&[2.0, 0.0], 0), 1.0);
    }

    #[test]
    fn bad_shapes_are_rejected_including_on_deserialise() {
        assert!(matches!(
            Factors::new(3, vec![0.0; 4], vec![]),
            Err(MfError::Shape { .. })
        ));
        assert!(Factors::new(0, vec![], vec![]).is_err());
        let bad = serde_json::json!({"k": 2, "rows": [1.0, 2.0, 3.0], "cols": []});
        assert!(serde_json::from_value::<Factors>(bad).is_err());
    }

    #[test]
    fn bincode_round_trip() {
        let f = Factors::new(2, vec![1.0, 2.0, 3.0, 4.0], vec![0.5, -1.0]).unwrap();
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&f, cfg).unwrap();
        let (back, _): (Factors, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert_eq!(back, f);
    }
}
