//! One feature row: [`FeatureSpace::write_row`] writes a candidate story's features for a
//! [`ViewerContext`] into a caller's `&mut [f32]`, one function per feature group (graph, tie
//! strength, story, viewer, matrix factorisation; see [`super::schema`]), without allocating.
//!
//! Two paths with bit-identical rows: the fast one (the viewer's friends as a bitset, the
//! packed per-story tables of [`FeatureSpace::precompute_as_of`]) and the reference one
//! (sorted merges and binary searches), chosen by [`ViewerContext::set_fast`].
use super::asof::AsOfTables;
use super::schema::{Feature, NUM_FEATURES};
use super::shrink::{shrunk_logit, STORY_PRIOR_WEIGHT};
use super::space::FeatureSpace;
use super::viewer::ViewerContext;
use super::{FeatureError, DAY};
use crate::graph::Graph;
use crate::util::bit;
use crate::world::Story;

/// Writes `v` (as `f32`) into `f`'s slot of a row of [`NUM_FEATURES`] slots.
#[inline]
fn set(out: &mut [f32], f: Feature, v: f64) {
    out[f.idx()] = v as f32;
}

impl FeatureSpace<'_> {
    /// Writes the features of `story` for the context's viewer and time into `out`, in
    /// [`super::NAMES`] order. Does not allocate.
    ///
    /// # Errors
    /// [`FeatureError::RowLength`], [`FeatureError::StoryOutOfRange`];
    /// [`FeatureError::OutOfScope`] for a story outside the scope of a scoped space.
    ///
    /// # Complexity
    /// O(deg(viewer) + deg(author)) for non-friends (common neighbours by merge), plus
    /// O(log) searches, plus O(engagements on the story before as_of) and the structural
    /// diversity union-find over engaged friends (O(sum of their degrees)).
    pub fn write_row(
        &self,
        ctx: &mut ViewerContext,
        story: u32,
        out: &mut [f32],
    ) -> Result<(), FeatureError> {
        if out.len() != NUM_FEATURES {
            return Err(FeatureError::RowLength {
                expected: NUM_FEATURES,
                found: out.len(),
            });
        }
        let w = self.world;
        let st = w
            .stories
            .get(story as usize)
            .ok_or(FeatureError::StoryOutOfRange {
                story,
                stories: w.stories.len(),
            })?;
        if let Some(sc) = &self.scope {
            if !sc.has_story(story) {
                return Err(FeatureError::OutOfScope {
                    what: "story",
                    id: story,
                });
            }
        }
        out.fill(0.0);
        self.write_graph(ctx, story, st.author, out);
        self.write_tie_strength(ctx, st.author, out);
        self.write_story(ctx, story, st, out);
        write_viewer(ctx, st, out);
        self.write_mf(ctx.viewer, st, out);
        Ok(())
    }

    /// Graph features, viewer -> author: degrees, and the friendship's edge signals for a
    /// friend (Backstrom & Kleinberg 2014) or the common-neighbour counts for a non-friend.
    fn write_graph(&self, ctx: &mut ViewerContext, story: u32, a: u32, out: &mut [f32]) {
        let g = &self.world.graph;
        let u = ctx.viewer;
        let du = g.degree(u);
        let da = match ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            Some(r) => r.author_degree as usize,
            None => g.degree(a),
        };
        set(out, Feature::ViewerDegree, du as f64);
        set(out, Feature::AuthorDegree, da as f64);
        if u == a {
            return;
        }
        if let Some(slot) = g.edge_slot(u, a) {
            let s = &self.signals;
            set(out, Feature::IsFriend, 1.0);
            // Every viewer's slots are held: the space checks it when it is built.
            let Some(i) = s.index(g, u, slot) else {
                debug_assert!(false, "invariant: the signals hold every viewer's slots");
                return;
            };
            set(out, Feature::Embeddedness, s.embeddedness[i] as f64);
            set(out, Feature::Jaccard, s.jaccard[i]);
            set(out, Feature::AdamicAdar, s.adamic_adar[i]);
            set(out, Feature::Dispersion, s.dispersion[i] as f64);
            set(out, Feature::DispNorm, s.disp_norm[i]);
            set(out, Feature::DispNormPaper, s.disp_norm_paper[i]);
            set(out, Feature::RecursiveDispersion, s.recursive[i]);
        } else {
            let (c, aa) = if ctx.fast {
                ctx.ensure_friend_bits(g);
                common_neighbours_bits(g, &ctx.friend_bits, ctx.at.as_deref(), a)
            } else {
                common_neighbours(g, u, a)
            };
            set(out, Feature::Embeddedness, c as f64);
            let union = du + da - c;
            if union > 0 {
                set(out, Feature::Jaccard, c as f64 / union as f64);
            }
            set(out, Feature::AdamicAdar, aa);
        }
    }

    /// Tie-strength features: the viewer's decayed tie to the author (see
    /// [`FeatureSpace::viewer`]) and the days since their last interaction (capped).
    fn write_tie_strength(&self, ctx: &ViewerContext, a: u32, out: &mut [f32]) {
        let max_days = self.cfg.max_days_since;
        let mut days_since = max_days;
        if let Ok(i) = ctx.ties.binary_search_by_key(&a, |t| t.0) {
            let t = &ctx.ties[i].1;
            for k in 0..5 {
                out[Feature::AffClick.idx() + k] = t.aff[k];
            }
            set(out, Feature::RecipEngagement, t.recip as f64);
            set(out, Feature::DirectInteractions, t.direct as f64);
            if t.last != i64::MIN {
                days_since = ((ctx.as_of - t.last) as f64 / DAY).clamp(0.0, max_days);
            }
        }
        set(out, Feature::DaysSinceInteraction, days_since);
    }

    /// Story features: age, the author's and the story's engagement rates, and the viewer's
    /// friends who engaged before `as_of` with their structural diversity.
    fn write_story(&self, ctx: &mut ViewerContext, story: u32, st: &Story, out: &mut [f32]) {
        set(
            out,
            Feature::AgeHours,
            ((ctx.as_of - st.created_at) as f64 / 3600.0).max(0.0),
        );
        let (author_rate, engs_before, n_exp) = self.story_aggregates(ctx, story, st.author);
        let n_before = engs_before.len();
        set(out, Feature::AuthorEngagementRate, author_rate);
        set(out, Feature::StoryEngagements, n_before as f64);
        set(
            out,
            Feature::StoryEngagementRate,
            shrunk_logit(
                n_before as f64,
                n_exp as f64,
                author_rate,
                STORY_PRIOR_WEIGHT,
            ),
        );
        let g = &self.world.graph;
        let k = collect_friends_engaged(g, ctx, engs_before);
        set(out, Feature::FriendsEngaged, k as f64);
        if k > 0 {
            let comps = ctx.components.count(g, &ctx.friends_engaged);
            set(out, Feature::StructuralDiversity, comps as f64);
        }
    }

    /// Matrix-factorisation affinities of the viewer for the author and the topic (0 without
    /// a provider, see [`FeatureSpace::set_mf`]).
    fn write_mf(&self, u: u32, st: &Story, out: &mut [f32]) {
        if let Some(mf) = &self.mf {
            out[Feature::MfAuthorAffinity.idx()] = mf.author_affinity(u, st.author);
            if let Some(t) = st.topic {
                out[Feature::MfTopicAffinity.idx()] = mf.topic_affinity(u, t);
            }
        }
    }
}

/// Viewer features: the viewer's engagement rates (shrunk log-odds) overall, on the story's
/// kind and on its topic (see [`FeatureSpace::viewer`]); a kind or topic the viewer has no
/// rate for gets the overall rate (the prior the others shrink towards); and the story's kind
/// as indicators.
fn write_viewer(ctx: &ViewerContext, st: &Story, out: &mut [f32]) {
    out[Feature::ViewerEngagementRate.idx()] = ctx.eng_rate;
    let kr = ctx.kind_rate.get(st.kind as usize).copied();
    out[Feature::ViewerKindRate.idx()] = kr.unwrap_or(ctx.eng_rate);
    let tr = st.topic.and_then(|t| ctx.topic_rate(t));
    out[Feature::ViewerTopicRate.idx()] = tr.unwrap_or(ctx.eng_rate);
    let kind = match st.kind {
        1 => Some(Feature::Kind1),
        2 => Some(Feature::Kind2),
        3 => Some(Feature::Kind3),
        _ => None,
    };
    if let Some(f) = kind {
        out[f.idx()] = 1.0;
    }
    let (own, friends) = ctx.topic_posts(st.topic);
    set(out, Feature::ViewerTopicPosts, own);
    set(out, Feature::FriendsTopicPosts, friends);
}

/// Fills `ctx.friends_engaged` with the viewer's friends among the engagers `engs_before`
/// (`(ts, user)`), sorted and deduplicated, and returns their number. Stays within the
/// buffer's capacity (the viewer's degree + 1, more than the distinct friends), so it never
/// allocates.
fn collect_friends_engaged(
    g: &Graph,
    ctx: &mut ViewerContext,
    engs_before: &[(i64, u32)],
) -> usize {
    let u = ctx.viewer;
    let friends = g.neighbors(u);
    let fast = ctx.fast && !engs_before.is_empty();
    if fast {
        ctx.ensure_friend_bits(g);
    }
    let bits = &ctx.friend_bits;
    let fe = &mut ctx.friends_engaged;
    fe.clear();
    for &(_, x) in engs_before {
        let is_friend = if fast {
            bit(bits, x)
        } else {
            friends.binary_search(&x).is_ok()
        };
        if x != u && is_friend {
            if fe.len() == fe.capacity() {
                fe.sort_unstable();
                fe.dedup();
            }
            if fe.len() < fe.capacity() {
                fe.push(x);
            }
        }
    }
    fe.sort_unstable();
    fe.dedup();
    fe.len()
}

/// Number of common neighbours of `u` and `v` and their Adamic-Adar sum, by merging the two
/// sorted neighbour slices.
fn common_neighbours(g: &Graph, u: u32, v: u32) -> (usize, f64) {
    let (a, b) = (g.neighbors(u), g.neighbors(v));
    let (mut i, mut j, mut c, mut aa) = (0, 0, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                c += 1;
                let d = g.degree(a[i]) as f64;
                if d > 1.0 {
                    aa += 1.0 / d.ln();
                }
                i += 1;
                j += 1;
            }
        }
    }
    (c, aa)
}

/// [`common_neighbours`] with the viewer's friends as a bitset: one pass over `N(v)` in
/// sorted order, so the count and the Adamic-Adar sum (same terms, same order) are
/// bit-identical to the merge.
///
/// # Complexity
/// O(deg(v)).
fn common_neighbours_bits(
    g: &Graph,
    friends: &[u64],
    at: Option<&AsOfTables>,
    v: u32,
) -> (usize, f64) {
    let (mut c, mut aa) = (0usize, 0.0f64);
    let inv = at.map(|t| t.inv_ln_deg.as_slice());
    for &x in g.neighbors(v) {
        if bit(friends, x) {
            c += 1;
            match inv.and_then(|t| t.get(x as usize)) {
                Some(&w) => {
                    if w != 0.0 {
                        aa += w;
                    }
                }
                None => {
                    let d = g.degree(x) as f64;
                    if d > 1.0 {
                        aa += 1.0 / d.ln();
                    }
                }
            }
        }
    }
    (c, aa)
}

/// The structural-diversity scratch of a [`ViewerContext`]: a disjoint-set forest (path
/// halving, union by smaller root) over the positions of the engaged friends, one buffer
/// reused for every candidate.
///
/// Not `petgraph::unionfind::UnionFind`: it cannot be emptied without reallocating (no
/// `clear`; `new` and `with_capacity` allocate), so a fresh one per candidate would break
/// [`FeatureSpace::write_row`]'s no-allocation contract. Tests check the counts against
/// petgraph's connected components.
#[derive(Debug, Clone, Default)]
pub(super) struct Components {
    parent: Vec<u32>,
}

impl Components {
    /// Room for `n` friends without reallocating.
    pub(super) fn with_capacity(n: usize) -> Components {
        Components {
            parent: Vec::with_capacity(n),
        }
    }

    /// Structural diversity (Ugander et al., PNAS 2012): the number of connected components
    /// of the friendship graph induced on `fe` (sorted, deduplicated), by merging each
    /// member's neighbour slice with `fe` and uniting the members found.
    ///
    /// Allocates only if `fe` is longer than the capacity (never, for the friends engaged of a
    /// context, which are fewer than the viewer's degree + 1).
    ///
    /// # Complexity
    /// O(sum over `fe` of (degree + |fe|)) merge steps, near-constant per union.
    pub(super) fn count(&mut self, g: &Graph, fe: &[u32]) -> usize {
        let k = fe.len();
        let parent = &mut self.parent;
        parent.clear();
        parent.extend(0..k as u32);
        let mut comps = k;
        for i in 0..k {
            // merge-intersect N(fe[i]) with fe
            let ns = g.neighbors(fe[i]);
            let (mut p, mut q) = (0, 0);
            while p < ns.len() && q < k {
                match ns[p].cmp(&fe[q]) {
                    std::cmp::Ordering::Less => p += 1,
                    std::cmp::Ordering::Greater => q += 1,
                    std::cmp::Ordering::Equal => {
                        if union(parent, i as u32, q as u32) {
                            comps -= 1;
                        }
                        p += 1;
                        q += 1;
                    }
                }
            }
        }
        comps
    }
}

/// The root of `x`'s set, halving the path on the way.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let gp = parent[parent[x as usize] as usize];
        parent[x as usize] = gp;
        x = gp;
    }
    x
}

/// Unites the sets of `a` and `b` under the smaller root; true if they were separate.
fn union(parent: &mut [u32], a: u32, b: u32) -> bool {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return false;
    }
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi as usize] = lo;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The oracle: petgraph's connected components (a `UnionFind` inside) of the subgraph
    /// induced on `fe`.
    fn petgraph_components(g: &Graph, fe: &[u32]) -> usize {
        let mut sub = petgraph::graph::UnGraph::<(), ()>::new_undirected();
        let nodes: Vec<_> = fe.iter().map(|_| sub.add_node(())).collect();
        for (i, &x) in fe.iter().enumerate() {
            for (j, &y) in fe.iter().enumerate().skip(i + 1) {
                if g.neighbors(x).binary_search(&y).is_ok() {
                    sub.add_edge(nodes[i], nodes[j], ());
                }
            }
        }
        petgraph::algo::connected_components(&sub)
    }

    #[test]
    fn structural_diversity_counts_components_of_the_induced_subgraph() {
        // 0-1-2 a path, 3-4 an edge, 5 alone; 6 links 2 and 3 but is not in the set.
        let (g, _) = Graph::from_edges(7, &[(0, 1), (1, 2), (3, 4), (2, 6), (6, 3)]);
        let mut c = Components::with_capacity(8);
        assert_eq!(c.count(&g, &[0, 1, 2, 3, 4, 5]), 3);
        assert_eq!(c.count(&g, &[0, 2, 4]), 3);
        assert_eq!(c.count(&g, &[2, 3, 6]), 1);
        assert_eq!(c.count(&g, &[5]), 1);
        assert_eq!(c.count(&g, &[]), 0);
    }

    #[test]
    fn structural_diversity_equals_petgraph_and_reuses_its_buffer() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let mut c = Components::with_capacity(40);
        let buffer = c.parent.as_ptr();
        for case in 0..300 {
            let n = rng.gen_range(2..80u32);
            let p = [0.02, 0.05, 0.1, 0.3][case % 4];
            let mut edges = Vec::new();
            for a in 0..n {
                for b in a + 1..n {
                    if rng.gen_bool(p) {
                        edges.push((a, b));
                    }
                }
            }
            let (g, _) = Graph::from_edges(n as usize, &edges);
            let mut fe: Vec<u32> = (0..rng.gen_range(0..40))
                .map(|_| rng.gen_range(0..n))
                .collect();
            fe.sort_unstable();
            fe.dedup();
            assert_eq!(
                c.count(&g, &fe),
                petgraph_components(&g, &fe),
                "case {case}: {fe:?}"
            );
        }
        assert_eq!(
            c.parent.as_ptr(),
            buffer,
            "count reallocated within capacity"
        );
    }
}
