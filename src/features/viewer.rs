//! The per-(viewer, as_of) context of a [`FeatureSpace`]: the viewer's decayed ties to other
//! users ([`Tie`], RealGraph-style exponential decay of each interaction), the viewer's
//! engagement rates (overall, per story kind, per topic), and the scratch buffers that let
//! [`FeatureSpace::write_row`] run without allocating. Built once per viewer by
//! [`FeatureSpace::viewer`], from data strictly before `as_of`.
use super::asof::AsOfTables;
use super::history::{count_before, ViewerHistory};
use super::posts::TopicPosts;
use super::row::Components;
use super::shrink::{
    expit, shrunk_logit, TASTE_PRIOR_WEIGHT, VIEWER_PRIOR_RATE, VIEWER_PRIOR_WEIGHT,
};
use super::space::FeatureSpace;
use super::{FeatureError, DAY};
use crate::graph::Graph;
use crate::world::Action;
use std::sync::Arc;

/// Per-(viewer, as_of) state: decayed ties to authors (sorted by author), viewer rates and
/// scratch buffers sized so that [`FeatureSpace::write_row`] never allocates.
#[derive(Debug, Clone)]
pub struct ViewerContext {
    pub(super) viewer: u32,
    pub(super) as_of: i64,
    pub(super) ties: Vec<(u32, Tie)>,
    pub(super) eng_rate: f32,
    pub(super) kind_rate: Vec<f32>,
    /// The overall rate's log-odds before rounding to f32: the prior of the topic rates.
    overall: f64,
    /// The viewer's history, read at `as_of` (topic rates, posts).
    history: Arc<ViewerHistory>,
    /// What the viewer and the viewer's friends posted about (`posts.rs`).
    posts: TopicPosts,
    /// Scratch: the viewer's friends who engaged with the current candidate.
    pub(super) friends_engaged: Vec<u32>,
    /// Scratch: the union-find of the current candidate's structural diversity.
    pub(super) components: Components,
    pub(super) at: Option<Arc<AsOfTables>>,
    /// The viewer's friends as a bitset over nodes, built on first use by
    /// [`FeatureSpace::write_row`] (O(1) friend tests instead of binary searches).
    pub(super) friend_bits: Vec<u64>,
    friend_bits_ready: bool,
    /// Whether `write_row` uses the bitset paths (default); false gives the reference merge
    /// and binary-search paths (rows are bit-identical either way; a test checks).
    pub(super) fast: bool,
}

impl ViewerContext {
    pub fn viewer(&self) -> u32 {
        self.viewer
    }
    pub fn as_of(&self) -> i64 {
        self.as_of
    }
    /// The viewer's all-time history this context reads at `as_of`, to share with contexts
    /// of the same viewer at other times ([`FeatureSpace::viewer_with_history`]).
    pub fn history(&self) -> &Arc<ViewerHistory> {
        &self.history
    }
    /// Number of authors the viewer has any tie with before `as_of`.
    pub fn num_ties(&self) -> usize {
        self.ties.len()
    }

    /// The viewer's rate on `topic` before `as_of`: positive engagements over exposures on
    /// the topic as log-odds shrunk towards the viewer's overall rate; `None` for a topic the
    /// viewer neither saw nor engaged with.
    pub(super) fn topic_rate(&self, topic: u32) -> Option<f32> {
        let h = &self.history;
        let p = count_before(&h.positives, topic, self.as_of);
        let e = count_before(&h.exposures, topic, self.as_of);
        (p > 0 || e > 0).then(|| taste(self.overall, p, e))
    }

    /// `(viewer_topic_posts, friends_topic_posts)` for a story on `topic` (`posts.rs`).
    pub(super) fn topic_posts(&self, topic: Option<u32>) -> (f64, f64) {
        self.posts.features(&self.history, self.as_of, topic)
    }
}

/// A kind or topic rate: `p` positives over `e` exposures as log-odds, shrunk towards the
/// overall rate (log-odds `overall`).
fn taste(overall: f64, p: u32, e: u32) -> f32 {
    shrunk_logit(p.into(), e.into(), expit(overall), TASTE_PRIOR_WEIGHT) as f32
}

/// The viewer's tie to one other user before `as_of`: each term decayed by
/// `decay_per_day ^ days ago` and summed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tie {
    /// The viewer's engagements on the other user's stories, by [`Action::ENGAGEMENTS`] index.
    pub(super) aff: [f32; 5],
    /// The other user's positive engagements on the viewer's stories.
    pub(super) recip: f32,
    /// Direct interactions between the two (either direction).
    pub(super) direct: f32,
    /// The time of the latest of them (`i64::MIN` if none).
    pub(super) last: i64,
}

impl Default for Tie {
    fn default() -> Self {
        Self {
            aff: [0.0; 5],
            recip: 0.0,
            direct: 0.0,
            last: i64::MIN,
        }
    }
}

/// The viewer's engagement rates before `as_of` (shrunk log-odds of positive engagements per
/// exposure, see `shrink.rs`).
struct Rates {
    overall: f64,
    /// Per story kind.
    kind: Vec<f32>,
}

impl FeatureSpace<'_> {
    /// Builds the per-viewer context at `as_of` (data strictly before `as_of`).
    ///
    /// # Errors
    /// [`FeatureError::UserOutOfRange`]; [`FeatureError::OutOfScope`] for a viewer outside the
    /// scope of a scoped space; [`FeatureError::AsOfPinned`] for another `as_of` than those
    /// of a space built with aggregates.
    ///
    /// # Complexity
    /// O((viewer's events + events on the viewer's stories + interactions) log of that).
    pub fn viewer(&self, viewer: u32, as_of: i64) -> Result<ViewerContext, FeatureError> {
        self.viewer_with_history(viewer, as_of, Arc::new(self.viewer_history(viewer)))
    }

    /// As [`FeatureSpace::viewer`], with the viewer's [`ViewerHistory`] built beforehand
    /// (by [`FeatureSpace::viewer_history`] for this viewer), so that contexts of one viewer
    /// at many times share it.
    ///
    /// # Errors
    /// As [`FeatureSpace::viewer`];
    /// [`FeatureError::HistoryOfAnotherViewer`] when `history` is not `viewer`'s.
    pub fn viewer_with_history(
        &self,
        viewer: u32,
        as_of: i64,
        history: Arc<ViewerHistory>,
    ) -> Result<ViewerContext, FeatureError> {
        let w = self.world;
        if viewer as usize >= w.num_users() {
            return Err(FeatureError::UserOutOfRange {
                user: viewer,
                users: w.num_users(),
            });
        }
        if let Some(sc) = &self.scope {
            if !sc.has_user(viewer) {
                return Err(FeatureError::OutOfScope {
                    what: "user",
                    id: viewer,
                });
            }
        }
        if history.viewer() != viewer {
            return Err(FeatureError::HistoryOfAnotherViewer {
                viewer,
                history: history.viewer(),
            });
        }
        let at = self.at.iter().find(|t| t.as_of == as_of).cloned();
        if self.pinned && at.is_none() {
            return Err(FeatureError::AsOfPinned {
                pinned: self.at.iter().map(|t| t.as_of).collect(),
                asked: as_of,
            });
        }
        let ties = self.ties(viewer, as_of);
        let rates = self.rates(viewer, as_of);
        let deg = w.graph.degree(viewer);
        Ok(ViewerContext {
            viewer,
            as_of,
            ties,
            eng_rate: rates.overall as f32,
            kind_rate: rates.kind,
            overall: rates.overall,
            posts: self.topic_posts(&history, as_of),
            history,
            friends_engaged: Vec::with_capacity(deg + 1),
            components: Components::with_capacity(deg + 1),
            at,
            friend_bits: Vec::new(),
            friend_bits_ready: false,
            fast: true,
        })
    }

    /// The viewer's ties before `as_of`, sorted by the other user: one entry per engagement
    /// on another user's story, per positive engagement received and per direct interaction,
    /// then the entries of each user summed in that order.
    fn ties(&self, viewer: u32, as_of: i64) -> Vec<(u32, Tie)> {
        let w = self.world;
        let ln_decay = self.cfg.decay_per_day.ln();
        let decay = |ts: i64| -> f32 { (ln_decay * ((as_of - ts) as f64 / DAY)).exp() as f32 };
        let mut entries: Vec<(u32, Tie)> = Vec::new();
        for &(ts, story, action) in self.ix.user_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            let author = w.stories[story as usize].author;
            if author == viewer {
                continue;
            }
            let mut t = Tie {
                last: ts,
                ..Tie::default()
            };
            // action index 1..=5 -> ENGAGEMENTS index 0..=4
            if let Some(slot) = (action as usize).checked_sub(1).filter(|&k| k < 5) {
                t.aff[slot] = decay(ts);
            }
            entries.push((author, t));
        }
        for &(ts, actor) in self.ix.recv_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            if actor != viewer {
                entries.push((
                    actor,
                    Tie {
                        recip: decay(ts),
                        last: ts,
                        ..Tie::default()
                    },
                ));
            }
        }
        for &(ts, other) in self.ix.inter.get(viewer) {
            if ts >= as_of {
                break;
            }
            entries.push((
                other,
                Tie {
                    direct: decay(ts),
                    last: ts,
                    ..Tie::default()
                },
            ));
        }
        merge_ties(entries)
    }

    /// The viewer's engagement rates before `as_of`: positive engagements over exposures as
    /// shrunk log-odds, overall, per story kind and per topic.
    fn rates(&self, viewer: u32, as_of: i64) -> Rates {
        let w = self.world;
        let (mut pos, mut imp) = (0u32, 0u32);
        let mut kind_pos = vec![0u32; self.n_kinds];
        let mut kind_imp = vec![0u32; self.n_kinds];
        for &(ts, story, action) in self.ix.user_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            if Action::ALL
                .get(action as usize)
                .is_some_and(|a| a.is_positive())
            {
                let st = &w.stories[story as usize];
                pos += 1;
                if let Some(c) = kind_pos.get_mut(st.kind as usize) {
                    *c += 1;
                }
            }
        }
        for &(ts, story) in self.ix.user_exp.get(viewer) {
            if ts >= as_of {
                break;
            }
            imp += 1;
            let st = &w.stories[story as usize];
            if let Some(c) = kind_imp.get_mut(st.kind as usize) {
                *c += 1;
            }
        }
        // Since schema 4: shrunk log-odds, kind and topic towards the overall rate (shrink.rs);
        // the topic rates are read from the history on demand (`ViewerContext::topic_rate`).
        let overall = shrunk_logit(
            pos.into(),
            imp.into(),
            VIEWER_PRIOR_RATE,
            VIEWER_PRIOR_WEIGHT,
        );
        Rates {
            overall,
            kind: kind_pos
                .iter()
                .zip(&kind_imp)
                .map(|(&p, &i)| taste(overall, p, i))
                .collect(),
        }
    }
}

/// Sorts tie entries by the other user (stably) and sums each user's entries in order.
fn merge_ties(mut entries: Vec<(u32, Tie)>) -> Vec<(u32, Tie)> {
    entries.sort_by_key(|e| e.0);
    let mut ties: Vec<(u32, Tie)> = Vec::new();
    for (a, t) in entries {
        match ties.last_mut() {
            Some((b, acc)) if *b == a => {
                for k in 0..5 {
                    acc.aff[k] += t.aff[k];
                }
                acc.recip += t.recip;
                acc.direct += t.direct;
                acc.last = acc.last.max(t.last);
            }
            _ => ties.push((a, t)),
        }
    }
    ties
}

/// The fast-path helpers of [`ViewerContext`].
impl ViewerContext {
    /// Builds the viewer's friends as a bitset over the graph's nodes (once per context).
    pub(super) fn ensure_friend_bits(&mut self, g: &Graph) {
        if !self.friend_bits_ready {
            self.friend_bits.clear();
            self.friend_bits.resize(g.num_nodes().div_ceil(64), 0);
            if (self.viewer as usize) < g.num_nodes() {
                for &f in g.neighbors(self.viewer) {
                    if let Some(w) = self.friend_bits.get_mut((f / 64) as usize) {
                        *w |= 1u64 << (f % 64);
                    }
                }
            }
            self.friend_bits_ready = true;
        }
    }

    /// Switches between the fast (bitset) paths of [`FeatureSpace::write_row`] (the default)
    /// and the reference paths (sorted merges and binary searches). Rows are bit-identical
    /// either way; this exists so tests can check that.
    pub fn set_fast(&mut self, fast: bool) {
        self.fast = fast;
    }
}
