//! Top-K selection with author diversity, greedily in score order: position by position, the
//! candidate with the best current score `demote(base, diversity(pos_author))` is placed,
//! where `pos_author` counts the stories by the same author already placed above. Because
//! the diversity multiplier only falls as an author's count grows, a lazy max-heap gives the
//! exact greedy order (stale keys are recomputed when popped). Ties by story id.
use super::heuristics::{demote, diversity};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// One selectable candidate: its index in the caller's list, story, author, and score after
/// every multiplier except diversity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selectable {
    pub idx: u32,
    pub story: u32,
    pub author: u32,
    pub base: f64,
}

/// One placed candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub idx: u32,
    /// Stories by the same author placed above.
    pub pos: u32,
    pub diversity: f64,
    pub score: f64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: f64,
    pos: u32,
    item: Selectable,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    /// Larger key first; on equal keys the smaller story id first.
    fn cmp(&self, o: &Self) -> Ordering {
        self.key
            .total_cmp(&o.key)
            .then(o.item.story.cmp(&self.item.story))
            .then(o.item.idx.cmp(&self.item.idx))
    }
}

/// Per-worker scratch: the heap's buffer and stamped per-author counts.
#[derive(Debug, Clone, Default)]
pub struct SelectScratch {
    heap: Vec<Entry>,
    stamp: Vec<u32>,
    count: Vec<u32>,
    epoch: u32,
}

impl SelectScratch {
    pub fn new(num_users: usize) -> Self {
        Self {
            heap: Vec::new(),
            stamp: vec![0; num_users],
            count: vec![0; num_users],
            epoch: 0,
        }
    }

    /// Stories by `author` placed by the last [`select_top_k`] call.
    pub fn placed_by(&self, author: u32) -> u32 {
        let a = author as usize;
        if self.stamp.get(a) == Some(&self.epoch) {
            self.count[a]
        } else {
            0
        }
    }
}

/// Places up to `k` of `items` greedily (see the module docs) into `out` (cleared first),
/// best first. Every `base` must be finite (the caller checks; NaN would be ordered by
/// `total_cmp`, never panic).
///
/// # Complexity
/// O(n + (k + r) log n) for n items and r re-insertions (r <= k * distinct authors placed).
pub fn select_top_k(
    items: &[Selectable],
    k: usize,
    decay: f64,
    floor: f64,
    scratch: &mut SelectScratch,
    out: &mut Vec<Placed>,
) {
    out.clear();
    scratch.epoch = scratch.epoch.wrapping_add(1);
    if scratch.epoch == 0 {
        scratch.stamp.fill(0);
        scratch.epoch = 1;
    }
    let mut buf = std::mem::take(&mut scratch.heap);
    buf.clear();
    buf.extend(items.iter().map(|&item| Entry {
        key: item.base,
        pos: 0,
        item,
    }));
    let mut heap = BinaryHeap::from(buf);
    while out.len() < k {
        let Some(mut e) = heap.pop() else { break };
        let a = e.item.author as usize;
        if a >= scratch.stamp.len() {
            scratch.stamp.resize(a + 1, 0);
            scratch.count.resize(a + 1, 0);
        }
        if scratch.stamp[a] != scratch.epoch {
            scratch.stamp[a] = scratch.epoch;
            scratch.count[a] = 0;
        }
        let current = scratch.count[a];
        if e.pos != current {
            e.pos = current;
            e.key = demote(e.item.base, diversity(current, decay, floor));
            heap.push(e);
            continue;
        }
        let d = diversity(current, decay, floor);
        out.push(Placed {
            idx: e.item.idx,
            pos: current,
            diversity: d,
            score: demote(e.item.base, d),
        });
        scratch.count[a] += 1;
    }
    scratch.heap = heap.into_vec();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(v: &[(u32, u32, f64)]) -> Vec<Selectable> {
        v.iter()
            .enumerate()
            .map(|(i, &(story, author, base))| Selectable {
                idx: i as u32,
                story,
                author,
                base,
            })
            .collect()
    }

    /// Exhaustive greedy oracle: at each position, recompute every remaining score.
    fn naive(items: &[Selectable], k: usize, decay: f64, floor: f64) -> Vec<(u32, f64)> {
        let mut left: Vec<Selectable> = items.to_vec();
        let mut counts = std::collections::HashMap::<u32, u32>::new();
        let mut out = Vec::new();
        while out.len() < k && !left.is_empty() {
            let cur = |s: &Selectable| {
                demote(
                    s.base,
                    diversity(*counts.get(&s.author).unwrap_or(&0), decay, floor),
                )
            };
            let best = (0..left.len())
                .max_by(|&i, &j| {
                    cur(&left[i])
                        .total_cmp(&cur(&left[j]))
                        .then(left[j].story.cmp(&left[i].story))
                })
                .unwrap();
            let s = left.remove(best);
            out.push((s.story, cur(&s)));
            *counts.entry(s.author).or_insert(0) += 1;
        }
        out
    }

    #[test]
    fn hand_computed_diversity_case() {
        // author 1 has three stories scoring 1.0, 0.9, 0.8; author 2 one story at 0.5.
        // placed: s10 (1.0 * 1) ; then s11 at 0.9 * 0.625 = 0.5625 > s20 0.5 ;
        // then s20 0.5 > s12 0.8 * 0.4375 = 0.35 ; then s12 0.35.
        let it = items(&[(10, 1, 1.0), (11, 1, 0.9), (12, 1, 0.8), (20, 2, 0.5)]);
        let mut sc = SelectScratch::new(3);
        let mut out = Vec::new();
        select_top_k(&it, 10, 0.5, 0.25, &mut sc, &mut out);
        let got: Vec<u32> = out.iter().map(|p| it[p.idx as usize].story).collect();
        assert_eq!(got, vec![10, 11, 20, 12]);
        let want = [1.0, 0.5625, 0.5, 0.35];
        for (p, w) in out.iter().zip(want) {
            assert!((p.score - w).abs() < 1e-12, "{} vs {w}", p.score);
        }
        assert_eq!(out[3].pos, 2);
        assert_eq!(out[3].diversity, 0.4375);
        assert_eq!(sc.placed_by(1), 3);
    }

    #[test]
    fn ties_by_story_id_and_k_truncates() {
        let it = items(&[(7, 1, 1.0), (3, 2, 1.0), (5, 3, 1.0)]);
        let mut sc = SelectScratch::new(4);
        let mut out = Vec::new();
        select_top_k(&it, 2, 0.5, 0.25, &mut sc, &mut out);
        let got: Vec<u32> = out.iter().map(|p| it[p.idx as usize].story).collect();
        assert_eq!(got, vec![3, 5]);
    }

    #[test]
    fn negative_scores_are_demoted_too() {
        let it = items(&[(1, 1, -1.0), (2, 1, -1.1), (3, 2, -1.5)]);
        let mut sc = SelectScratch::new(3);
        let mut out = Vec::new();
        select_top_k(&it, 3, 0.5, 0.25, &mut sc, &mut out);
        let got: Vec<u32> = out.iter().map(|p| it[p.idx as usize].story).collect();
        // s2 would be -1.1 * 1.375 = -1.5125 < s3 -1.5
        assert_eq!(got, vec![1, 3, 2]);
    }

    #[test]
    fn lazy_heap_matches_exhaustive_greedy() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut sc = SelectScratch::new(8);
        let mut out = Vec::new();
        for _ in 0..300 {
            let n = rng.gen_range(0..40);
            let v: Vec<(u32, u32, f64)> = (0..n)
                .map(|i| {
                    let base = if rng.gen_bool(0.2) {
                        (rng.gen_range(0..4) as f64) / 2.0
                    } else {
                        rng.gen_range(-2.0..3.0)
                    };
                    (i as u32 * 3 % 101, rng.gen_range(0..8), base)
                })
                .collect();
            let it = items(&v);
            let k = rng.gen_range(1..50);
            let (decay, floor) = (rng.gen_range(0.0..1.0), rng.gen_range(0.0..1.0));
            select_top_k(&it, k, decay, floor, &mut sc, &mut out);
            let got: Vec<(u32, f64)> = out
                .iter()
                .map(|p| (it[p.idx as usize].story, p.score))
                .collect();
            assert_eq!(got, naive(&it, k, decay, floor));
        }
    }
}
