//! One user's ties: the rows behind `feedrank-debug friends`.
//!
//! Takes a [`Graph`], its [`EdgeSignals`] and a user and hands on one [`TieRow`] per friend,
//! sorted by recursive dispersion (descending, ties by node index), the first one marked as the
//! tie that spans the most separate parts of the user's circle: Backstrom & Kleinberg's
//! (CSCW 2014) "likely partner" predictor.

use super::{EdgeSignals, Graph, GraphError};

/// Every signal of the ordered pair (user, friend).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TieRow {
    /// Node index of the friend.
    pub friend: u32,
    /// The friend's degree.
    pub degree: u32,
    pub embeddedness: u32,
    pub dispersion: u32,
    pub disp_norm: f64,
    pub disp_norm_paper: f64,
    pub recursive: f64,
    pub jaccard: f64,
    pub adamic_adar: f64,
    /// True for the first row only (when the user has a friend with embeddedness > 0 or not:
    /// the top row is always marked if there is one).
    pub likely_partner: bool,
}

/// The ties of `u`, sorted by recursive dispersion descending, ties by friend index.
///
/// # Errors
/// [`GraphError::UnknownUser`] if `u` is not a node of `g`, or [`GraphError::SignalsMismatch`]
/// if `s` was not computed on a graph with `g`'s slots.
///
/// # Complexity
/// O(d log d) for degree d.
pub fn friend_ties(g: &Graph, s: &EdgeSignals, u: u32) -> Result<Vec<TieRow>, GraphError> {
    if u as usize >= g.num_nodes() {
        return Err(GraphError::UnknownUser(format!("#{u}")));
    }
    if s.len() != g.num_slots()
        || [
            s.jaccard.len(),
            s.adamic_adar.len(),
            s.dispersion.len(),
            s.disp_norm.len(),
            s.disp_norm_paper.len(),
            s.recursive.len(),
        ]
        .iter()
        .any(|&l| l != g.num_slots())
    {
        return Err(GraphError::SignalsMismatch {
            expected: g.num_slots(),
            found: s.len(),
        });
    }
    let mut rows: Vec<TieRow> = g
        .slot_range(u)
        .map(|slot| {
            let v = g.target(slot);
            TieRow {
                friend: v,
                degree: g.degree(v) as u32,
                embeddedness: s.embeddedness[slot],
                dispersion: s.dispersion[slot],
                disp_norm: s.disp_norm[slot],
                disp_norm_paper: s.disp_norm_paper[slot],
                recursive: s.recursive[slot],
                jaccard: s.jaccard[slot],
                adamic_adar: s.adamic_adar[slot],
                likely_partner: false,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.recursive
            .total_cmp(&a.recursive)
            .then(a.friend.cmp(&b.friend))
    });
    if let Some(first) = rows.first_mut() {
        first.likely_partner = true;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::SignalParams;

    #[test]
    fn sorted_by_recursive_then_id_and_top_marked() {
        // 0's friends 1..=4; 4 bridges the otherwise separate 1, 2, 3.
        let (g, _) = Graph::from_edges(
            6,
            &[
                (0, 1),
                (0, 2),
                (0, 3),
                (0, 4),
                (4, 1),
                (4, 2),
                (4, 3),
                (1, 2),
            ],
        );
        let s = EdgeSignals::compute(&g, &SignalParams::default());
        let rows = friend_ties(&g, &s, 0).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].friend, 4);
        assert!(rows[0].likely_partner);
        assert!(rows[1..].iter().all(|r| !r.likely_partner));
        assert_eq!(rows[0].dispersion, 2);
        assert_eq!(rows[0].embeddedness, 3);
        assert_eq!(rows[0].degree, 4);
        for w in rows.windows(2) {
            assert!(
                w[0].recursive > w[1].recursive
                    || (w[0].recursive == w[1].recursive && w[0].friend < w[1].friend)
            );
        }
        assert!(friend_ties(&g, &s, 6).is_err());
        assert!(friend_ties(&g, &s, 5).unwrap().is_empty());
        let empty = EdgeSignals::default();
        assert!(matches!(
            friend_ties(&g, &empty, 0),
            Err(GraphError::SignalsMismatch { .. })
        ));
    }
}
