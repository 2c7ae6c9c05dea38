//! [`FeatureSpace`]: world indices built once (per-user event lists, per-story engagement
//! lists sorted by time, per-author exposure/engagement times, exposures with their labels,
//! edge signals), then a [`ViewerContext`] per (viewer, as_of) (decayed ties to authors in a
//! sorted vec, viewer rates, scratch buffers), then one row per candidate written into a
//! caller-provided `&mut [f32]` without allocating.
//!
//! Leakage rule: every quantity is filtered by `ts < as_of`; the only timeless inputs are the
//! friendship graph (static in the world model) and story metadata (author, kind, topic,
//! creation time; age is clamped at 0 for stories created after `as_of`).
use super::schema::{Feature, NUM_FEATURES};
use super::FeatureError;
use crate::config::FeatureConfig;
use crate::graph::{EdgeSignals, Graph};
use crate::world::{Action, Exposure, World};
use std::sync::Arc;

const DAY: f64 = 86_400.0;

/// A provider of matrix-factorisation affinities (the MF stage plugs its factors in here).
/// Missing rows/columns should return 0.
pub trait MfAffinity: Send + Sync {
    /// Affinity of `viewer` for stories by `author` (e.g. a dot product of factors).
    fn author_affinity(&self, viewer: u32, author: u32) -> f32;
    /// Affinity of `viewer` for `topic`.
    fn topic_affinity(&self, viewer: u32, topic: u32) -> f32;
}

/// One exposure: `user` first saw `story` at `ts`; `action_ts[k]` is the first time the user
/// took [`Action::ENGAGEMENTS`]`[k]` on it (`i64::MAX` if never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExposureRow {
    pub ts: i64,
    pub user: u32,
    pub story: u32,
    pub action_ts: [i64; 5],
}

impl ExposureRow {
    /// Whether the user took engagement `k` (index into [`Action::ENGAGEMENTS`]) before `as_of`.
    #[inline]
    pub fn label(&self, k: usize, as_of: i64) -> bool {
        self.action_ts.get(k).is_some_and(|&t| t < as_of)
    }
}

/// Items grouped by a dense key, each group in input order.
#[derive(Debug, Clone, Default)]
struct Groups<T> {
    off: Vec<usize>,
    items: Vec<T>,
}

impl<T: Copy + Default> Groups<T> {
    /// Stable counting sort of `keyed` by key (keys must be `< n`, checked by the caller).
    fn build(n: usize, keyed: &[(u32, T)]) -> Self {
        let mut off = vec![0usize; n + 1];
        for (k, _) in keyed {
            off[*k as usize + 1] += 1;
        }
        for i in 0..n {
            off[i + 1] += off[i];
        }
        let mut pos = off.clone();
        let mut items = vec![T::default(); keyed.len()];
        for (k, t) in keyed {
            let p = &mut pos[*k as usize];
            items[*p] = *t;
            *p += 1;
        }
        Self { off, items }
    }

    #[inline]
    fn get(&self, k: u32) -> &[T] {
        let k = k as usize;
        match (self.off.get(k), self.off.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.items[a..b],
            _ => &[],
        }
    }

    fn sort_each_by_key<K: Ord>(&mut self, key: impl Fn(&T) -> K + Copy) {
        for w in self.off.windows(2) {
            self.items[w[0]..w[1]].sort_by_key(key);
        }
    }
}

/// Precomputed world indices: build once, then ask for viewer contexts and rows.
pub struct FeatureSpace<'w> {
    world: &'w World,
    cfg: FeatureConfig,
    signals: EdgeSignals,
    /// Engagement events (not impressions) by acting user: (ts, story, action index).
    user_eng: Groups<(i64, u32, u8)>,
    /// Positive engagement events on stories authored by the user: (ts, actor).
    recv_eng: Groups<(i64, u32)>,
    /// Direct interactions involving the user (either direction): (ts, other user).
    inter: Groups<(i64, u32)>,
    /// Exposures by user: (ts, story).
    user_exp: Groups<(i64, u32)>,
    /// Positive engagement events by story: (ts, user).
    story_eng: Groups<(i64, u32)>,
    /// Exposure times of each author's stories, sorted.
    author_exp: Groups<i64>,
    /// Exposure times of each story, sorted.
    story_exp: Groups<i64>,
    /// Positive engagement times on each author's stories, sorted.
    author_pos: Groups<i64>,
    exposures: Vec<ExposureRow>,
    n_kinds: usize,
    mf: Option<Arc<dyn MfAffinity>>,
    /// Per-author and per-story aggregates precomputed for one `as_of` (see
    /// [`FeatureSpace::precompute_as_of`]); contexts at that `as_of` read them instead of
    /// binary-searching the time-sorted lists per candidate.
    at: Option<Arc<AsOfTables>>,
}

/// Candidate-independent aggregates at one `as_of`: the author engagement rate, and each
/// story's engagements and exposures before `as_of`. Identical to what
/// [`FeatureSpace::write_row`] computes without them.
#[derive(Debug)]
struct AsOfTables {
    as_of: i64,
    author_rate: Vec<f64>,
    story_engagements: Vec<u32>,
    story_exposures: Vec<u32>,
    /// `1 / ln(degree)` per node (0 for degree <= 1), the Adamic-Adar weight.
    inv_ln_deg: Vec<f64>,
    /// Per story, its aggregates above packed together (one cache line instead of five
    /// scattered reads per candidate).
    story_at: Vec<StoryAt>,
}

/// One story's candidate-independent aggregates at the tables' `as_of`.
#[derive(Debug, Clone, Copy, Default)]
struct StoryAt {
    /// Its author's engagement rate (as [`FeatureSpace::author_rate`]).
    author_rate: f64,
    /// Start of its engagements in `story_eng.items`.
    eng_start: usize,
    /// Its engagements before `as_of`.
    engagements: u32,
    /// Its exposures before `as_of`.
    exposures: u32,
    /// Its author's degree.
    author_degree: u32,
}

/// Per-(viewer, as_of) state: decayed ties to authors (sorted by author), viewer rates and
/// scratch buffers sized so that [`FeatureSpace::write_row`] never allocates.
#[derive(Debug, Clone)]
pub struct ViewerContext {
    viewer: u32,
    as_of: i64,
    ties: Vec<(u32, Tie)>,
    eng_rate: f32,
    kind_rate: Vec<f32>,
    /// (topic, positive engagements / (exposures + 1)), sorted by topic.
    topic_rate: Vec<(u32, f32)>,
    friends_engaged: Vec<u32>,
    parent: Vec<u32>,
    at: Option<Arc<AsOfTables>>,
    /// The viewer's friends as a bitset over nodes, built on first use by
    /// [`FeatureSpace::write_row`] (O(1) friend tests instead of binary searches).
    friend_bits: Vec<u64>,
    friend_bits_ready: bool,
    /// Whether `write_row` uses the bitset paths (default); false gives the reference merge
    /// and binary-search paths (rows are bit-identical either way; a test checks).
    fast: bool,
}

impl ViewerContext {
    pub fn viewer(&self) -> u32 {
        self.viewer
    }
    pub fn as_of(&self) -> i64 {
        self.as_of
    }
    /// Number of authors the viewer has any tie with before `as_of`.
    pub fn num_ties(&self) -> usize {
        self.ties.len()
    }
}

#[derive(Debug, Clone, Copy)]
struct Tie {
    aff: [f32; 5],
    recip: f32,
    direct: f32,
    last: i64,
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

impl<'w> FeatureSpace<'w> {
    /// Builds every index, computing the edge signals with the configured parameters.
    ///
    /// # Errors
    /// [`FeatureError::InvalidParam`] for a bad configuration; [`FeatureError::World`] when an
    /// event, story or interaction refers to a user, story or kind that does not exist.
    ///
    /// # Complexity
    /// The edge-signal computation plus O(events log events + exposures log exposures).
    pub fn new(world: &'w World, cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let signals = EdgeSignals::compute(&world.graph, &cfg.signal_params());
        Self::with_signals(world, cfg, signals)
    }

    /// As [`FeatureSpace::new`] with precomputed edge signals (aligned with `world.graph`).
    ///
    /// # Errors
    /// As [`FeatureSpace::new`], and [`FeatureError::World`] when the signal arrays do not
    /// match the graph's edge slots.
    pub fn with_signals(
        world: &'w World,
        cfg: &FeatureConfig,
        signals: EdgeSignals,
    ) -> Result<Self, FeatureError> {
        check_config(cfg)?;
        let n_users = world.num_users();
        let n_stories = world.stories.len();
        let g = &world.graph;
        let bad = |message: String| FeatureError::World { message };
        if g.num_nodes() < n_users {
            return Err(bad(format!(
                "the graph has {} nodes but the world has {} users",
                g.num_nodes(),
                n_users
            )));
        }
        let slots = g.num_slots();
        if signals.embeddedness.len() != slots
            || signals.jaccard.len() != slots
            || signals.adamic_adar.len() != slots
            || signals.dispersion.len() != slots
            || signals.disp_norm.len() != slots
            || signals.disp_norm_paper.len() != slots
            || signals.recursive.len() != slots
        {
            return Err(bad(format!(
                "edge signals do not match the graph's {slots} edge slots"
            )));
        }
        let n_kinds = world.kinds.len().max(
            world
                .stories
                .iter()
                .map(|s| s.kind as usize + 1)
                .max()
                .unwrap_or(0),
        );
        for (i, s) in world.stories.iter().enumerate() {
            if s.author as usize >= n_users {
                return Err(bad(format!(
                    "story {i} has author {} but there are {n_users} users",
                    s.author
                )));
            }
        }
        for e in &world.events {
            if e.user as usize >= n_users || e.story as usize >= n_stories {
                return Err(bad(format!(
                    "event at ts {} refers to user {} / story {} ({} users, {} stories)",
                    e.ts, e.user, e.story, n_users, n_stories
                )));
            }
        }
        for it in &world.interactions {
            if it.from as usize >= n_users || it.to as usize >= n_users {
                return Err(bad(format!(
                    "interaction at ts {} refers to user {} -> {} ({} users)",
                    it.ts, it.from, it.to, n_users
                )));
            }
        }

        // Engagement indices.
        let mut by_user = Vec::new();
        let mut recv = Vec::new();
        let mut by_story = Vec::new();
        let mut author_pos = Vec::new();
        for e in &world.events {
            if e.action == Action::Impression {
                continue;
            }
            by_user.push((e.user, (e.ts, e.story, e.action as u8)));
            if e.action.is_positive() {
                let author = world.stories[e.story as usize].author;
                recv.push((author, (e.ts, e.user)));
                by_story.push((e.story, (e.ts, e.user)));
                author_pos.push((author, e.ts));
            }
        }
        let mut user_eng = Groups::build(n_users, &by_user);
        user_eng.sort_each_by_key(|x| x.0);
        let mut recv_eng = Groups::build(n_users, &recv);
        recv_eng.sort_each_by_key(|x| *x);
        let mut story_eng = Groups::build(n_stories, &by_story);
        story_eng.sort_each_by_key(|x| *x);
        let mut author_pos = Groups::build(n_users, &author_pos);
        author_pos.sort_each_by_key(|x| *x);
        drop((by_user, recv, by_story));

        let mut inter_rows = Vec::with_capacity(world.interactions.len() * 2);
        for it in &world.interactions {
            if it.from != it.to {
                inter_rows.push((it.from, (it.ts, it.to)));
                inter_rows.push((it.to, (it.ts, it.from)));
            }
        }
        let mut inter = Groups::build(n_users, &inter_rows);
        inter.sort_each_by_key(|x| *x);

        let exposures = build_exposures(world);
        let user_exp_rows: Vec<(u32, (i64, u32))> = exposures
            .iter()
            .map(|x| (x.user, (x.ts, x.story)))
            .collect();
        let mut user_exp = Groups::build(n_users, &user_exp_rows);
        user_exp.sort_each_by_key(|x| *x);
        let author_exp_rows: Vec<(u32, i64)> = exposures
            .iter()
            .map(|x| (world.stories[x.story as usize].author, x.ts))
            .collect();
        let mut author_exp = Groups::build(n_users, &author_exp_rows);
        author_exp.sort_each_by_key(|x| *x);
        let story_exp_rows: Vec<(u32, i64)> = exposures.iter().map(|x| (x.story, x.ts)).collect();
        let mut story_exp = Groups::build(n_stories, &story_exp_rows);
        story_exp.sort_each_by_key(|x| *x);
        tracing::debug!(
            exposures = exposures.len(),
            engagements = user_eng.items.len(),
            "feature space built"
        );
        Ok(Self {
            world,
            cfg: cfg.clone(),
            signals,
            user_eng,
            recv_eng,
            inter,
            user_exp,
            story_eng,
            author_exp,
            story_exp,
            author_pos,
            exposures,
            n_kinds,
            mf: None,
            at: None,
        })
    }

    /// Installs a matrix-factorisation provider for `mf_author_affinity`/`mf_topic_affinity`.
    pub fn set_mf(&mut self, mf: Arc<dyn MfAffinity>) {
        self.mf = Some(mf);
    }

    /// The viewer's engagement events (not impressions), sorted by time: `(ts, story, action
    /// index into [`Action::ALL`])`. Callers filter by `ts < as_of`.
    pub fn engagements_of(&self, viewer: u32) -> &[(i64, u32, u8)] {
        self.user_eng.get(viewer)
    }

    /// The viewer's exposures (first sightings), sorted by time: `(ts, story)`. Callers filter
    /// by `ts < as_of`.
    pub fn exposures_of(&self, viewer: u32) -> &[(i64, u32)] {
        self.user_exp.get(viewer)
    }

    /// Whether an MF provider is installed.
    pub fn has_mf(&self) -> bool {
        self.mf.is_some()
    }

    pub fn world(&self) -> &'w World {
        self.world
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    pub fn signals(&self) -> &EdgeSignals {
        &self.signals
    }

    /// Every exposure (first sighting of a story by a user), sorted by (ts, user, story).
    /// Logged worlds: from the events (an engagement without an impression counts as one).
    /// `FriendsOfAuthor` worlds: additionally every friend of the author at creation time.
    pub fn exposures(&self) -> &[ExposureRow] {
        &self.exposures
    }

    /// Positive engagements per exposure (+1) on `author`'s stories in the rate window
    /// before `as_of`.
    fn author_rate(&self, author: u32, as_of: i64) -> f64 {
        let lo = as_of - (self.cfg.author_rate_window_days * DAY) as i64;
        let count_in =
            |xs: &[i64]| xs.partition_point(|&t| t < as_of) - xs.partition_point(|&t| t < lo);
        let exp = count_in(self.author_exp.get(author));
        let posn = count_in(self.author_pos.get(author));
        posn as f64 / (exp as f64 + 1.0)
    }

    /// Precomputes the candidate-independent per-author and per-story aggregates at `as_of`
    /// (the batch job ranks every user at one `as_of`), so that contexts built afterwards at
    /// that `as_of` look them up instead of searching per candidate. Rows are identical with
    /// and without it.
    ///
    /// # Complexity
    /// O((users + stories) log events), once.
    pub fn precompute_as_of(&mut self, as_of: i64) {
        let w = self.world;
        let author_rate = (0..w.num_users() as u32)
            .map(|a| self.author_rate(a, as_of))
            .collect();
        let (story_engagements, story_exposures) = (0..w.stories.len() as u32)
            .map(|s| {
                (
                    self.story_eng.get(s).partition_point(|e| e.0 < as_of) as u32,
                    self.story_exp.get(s).partition_point(|&t| t < as_of) as u32,
                )
            })
            .unzip();
        self.at = Some(Arc::new(AsOfTables {
            as_of,
            author_rate,
            story_engagements,
            story_exposures,
            inv_ln_deg: inv_ln_degrees(&w.graph),
            story_at: Vec::new(),
        }));
        self.pack_story_tables();
    }

    /// Builds the per-viewer context at `as_of` (data strictly before `as_of`).
    ///
    /// # Errors
    /// [`FeatureError::UserOutOfRange`].
    ///
    /// # Complexity
    /// O((viewer's events + events on the viewer's stories + interactions) log of that).
    pub fn viewer(&self, viewer: u32, as_of: i64) -> Result<ViewerContext, FeatureError> {
        let w = self.world;
        if viewer as usize >= w.num_users() {
            return Err(FeatureError::UserOutOfRange {
                user: viewer,
                users: w.num_users(),
            });
        }
        let ln_decay = self.cfg.decay_per_day.ln();
        let decay = |ts: i64| -> f32 { (ln_decay * ((as_of - ts) as f64 / DAY)).exp() as f32 };
        let mut entries: Vec<(u32, Tie)> = Vec::new();
        let mut pos = 0u32;
        let mut kind_pos = vec![0u32; self.n_kinds];
        // (topic, positives, exposures), merged by topic below.
        let mut topic_counts: Vec<(u32, u32, u32)> = Vec::new();
        for &(ts, story, action) in self.user_eng.get(viewer) {
            if ts >= as_of {
                break;
            }
            let st = &w.stories[story as usize];
            let mut t = Tie {
                last: ts,
                ..Tie::default()
            };
            // action index 1..=5 -> ENGAGEMENTS index 0..=4
            if let Some(slot) = (action as usize).checked_sub(1).filter(|&k| k < 5) {
                t.aff[slot] = decay(ts);
            }
            if Action::ALL
                .get(action as usize)
                .is_some_and(|a| a.is_positive())
            {
                pos += 1;
                if let Some(c) = kind_pos.get_mut(st.kind as usize) {
                    *c += 1;
                }
                if let Some(t) = st.topic {
                    topic_counts.push((t, 1, 0));
                }
            }
            if st.author != viewer {
                entries.push((st.author, t));
            }
        }
        for &(ts, actor) in self.recv_eng.get(viewer) {
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
        for &(ts, other) in self.inter.get(viewer) {
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
        let mut imp = 0u32;
        let mut kind_imp = vec![0u32; self.n_kinds];
        for &(ts, story) in self.user_exp.get(viewer) {
            if ts >= as_of {
                break;
            }
            imp += 1;
            let st = &w.stories[story as usize];
            if let Some(c) = kind_imp.get_mut(st.kind as usize) {
                *c += 1;
            }
            if let Some(t) = st.topic {
                topic_counts.push((t, 0, 1));
            }
        }
        topic_counts.sort_unstable_by_key(|c| c.0);
        let mut topic_rate: Vec<(u32, f32)> = Vec::new();
        let mut i = 0;
        while i < topic_counts.len() {
            let t = topic_counts[i].0;
            let (mut p, mut e) = (0u32, 0u32);
            while i < topic_counts.len() && topic_counts[i].0 == t {
                p += topic_counts[i].1;
                e += topic_counts[i].2;
                i += 1;
            }
            topic_rate.push((t, p as f32 / (e as f32 + 1.0)));
        }
        let kind_rate = kind_pos
            .iter()
            .zip(&kind_imp)
            .map(|(&p, &i)| p as f32 / (i as f32 + 1.0))
            .collect();
        let deg = self.world.graph.degree(viewer);
        Ok(ViewerContext {
            viewer,
            as_of,
            ties,
            eng_rate: pos as f32 / (imp as f32 + 1.0),
            kind_rate,
            topic_rate,
            friends_engaged: Vec::with_capacity(deg + 1),
            parent: Vec::with_capacity(deg + 1),
            at: self.at.as_ref().filter(|t| t.as_of == as_of).cloned(),
            friend_bits: Vec::new(),
            friend_bits_ready: false,
            fast: true,
        })
    }

    /// Writes the features of `story` for the context's viewer and time into `out`, in
    /// [`super::NAMES`] order. Does not allocate.
    ///
    /// # Errors
    /// [`FeatureError::RowLength`], [`FeatureError::StoryOutOfRange`].
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
        let g = &w.graph;
        let u = ctx.viewer;
        let a = st.author;
        let as_of = ctx.as_of;
        out.fill(0.0);
        let set = |out: &mut [f32], f: Feature, v: f64| out[f.idx()] = v as f32;

        // graph
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
        if u != a {
            if let Some(slot) = g.edge_slot(u, a) {
                let s = &self.signals;
                set(out, Feature::IsFriend, 1.0);
                set(out, Feature::Embeddedness, s.embeddedness[slot] as f64);
                set(out, Feature::Jaccard, s.jaccard[slot]);
                set(out, Feature::AdamicAdar, s.adamic_adar[slot]);
                set(out, Feature::Dispersion, s.dispersion[slot] as f64);
                set(out, Feature::DispNorm, s.disp_norm[slot]);
                set(out, Feature::DispNormPaper, s.disp_norm_paper[slot]);
                set(out, Feature::RecursiveDispersion, s.recursive[slot]);
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

        // tie strength
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
                days_since = ((as_of - t.last) as f64 / DAY).clamp(0.0, max_days);
            }
        }
        set(out, Feature::DaysSinceInteraction, days_since);

        // story
        set(
            out,
            Feature::AgeHours,
            ((as_of - st.created_at) as f64 / 3600.0).max(0.0),
        );
        let (author_rate, engs_before, n_exp) = self.story_aggregates(ctx, story, a);
        let n_before = engs_before.len();
        set(out, Feature::AuthorEngagementRate, author_rate);
        set(out, Feature::StoryEngagements, n_before as f64);
        set(
            out,
            Feature::StoryEngagementRate,
            n_before as f64 / (n_exp as f64 + 1.0),
        );
        let friends = g.neighbors(u);
        let fast = ctx.fast && n_before > 0;
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
        let k = fe.len();
        set(out, Feature::FriendsEngaged, k as f64);
        if k > 0 {
            let parent = &mut ctx.parent;
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
            set(out, Feature::StructuralDiversity, comps as f64);
        }

        // viewer
        set(out, Feature::ViewerEngagementRate, ctx.eng_rate as f64);
        let kr = ctx.kind_rate.get(st.kind as usize).copied().unwrap_or(0.0);
        set(out, Feature::ViewerKindRate, kr as f64);
        if let Some(t) = st.topic {
            if let Ok(i) = ctx.topic_rate.binary_search_by_key(&t, |x| x.0) {
                out[Feature::ViewerTopicRate.idx()] = ctx.topic_rate[i].1;
            }
        }

        // matrix factorisation
        if let Some(mf) = &self.mf {
            out[Feature::MfAuthorAffinity.idx()] = mf.author_affinity(u, a);
            if let Some(t) = st.topic {
                out[Feature::MfTopicAffinity.idx()] = mf.topic_affinity(u, t);
            }
        }
        Ok(())
    }
}

fn check_config(cfg: &FeatureConfig) -> Result<(), FeatureError> {
    let c = crate::config::Config {
        features: cfg.clone(),
        ..Default::default()
    };
    c.check().map_err(|message| FeatureError::InvalidParam {
        name: "features",
        message,
    })
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

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let gp = parent[parent[x as usize] as usize];
        parent[x as usize] = gp;
        x = gp;
    }
    x
}

/// Unites the sets of `a` and `b`; true if they were separate.
fn union(parent: &mut [u32], a: u32, b: u32) -> bool {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra == rb {
        return false;
    }
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi as usize] = lo;
    true
}

/// Exposures from the events (first event of each (user, story) pair), plus, for
/// `FriendsOfAuthor` worlds, every friend of the author at the story's creation time.
pub fn build_exposures(world: &World) -> Vec<ExposureRow> {
    let mut raw: Vec<(u32, u32, i64, u8)> = world
        .events
        .iter()
        .map(|e| (e.user, e.story, e.ts, e.action as u8))
        .collect();
    if world.meta.exposure == Exposure::FriendsOfAuthor {
        for (s, st) in world.stories.iter().enumerate() {
            for &f in world.graph.neighbors(st.author) {
                raw.push((f, s as u32, st.created_at, Action::Impression as u8));
            }
        }
    }
    raw.sort_unstable();
    let mut out: Vec<ExposureRow> = Vec::new();
    for (user, story, ts, action) in raw {
        let same = out
            .last()
            .is_some_and(|x| x.user == user && x.story == story);
        if !same {
            out.push(ExposureRow {
                ts,
                user,
                story,
                action_ts: [i64::MAX; 5],
            });
        }
        let x = out.last_mut().expect("invariant: pushed above");
        x.ts = x.ts.min(ts);
        if let Some(k) = (action as usize).checked_sub(1).filter(|&k| k < 5) {
            x.action_ts[k] = x.action_ts[k].min(ts);
        }
    }
    out.sort_unstable_by_key(|x| (x.ts, x.user, x.story));
    out
}

/// `1 / ln(degree)` per node, 0 for degree <= 1 (the Adamic-Adar weight, Adamic & Adar 2003).
fn inv_ln_degrees(g: &Graph) -> Vec<f64> {
    (0..g.num_nodes() as u32)
        .map(|x| {
            let d = g.degree(x) as f64;
            if d > 1.0 {
                1.0 / d.ln()
            } else {
                0.0
            }
        })
        .collect()
}

/// Whether bit `x` is set.
#[inline]
fn bit(bits: &[u64], x: u32) -> bool {
    bits.get((x / 64) as usize)
        .is_some_and(|w| (w >> (x % 64)) & 1 == 1)
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

/// The fast-path helpers of [`ViewerContext`].
impl ViewerContext {
    /// Builds the viewer's friends as a bitset over the graph's nodes (once per context).
    fn ensure_friend_bits(&mut self, g: &Graph) {
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

/// The per-story packed tables of the fast path.
impl FeatureSpace<'_> {
    /// Fills [`AsOfTables::story_at`] from the other tables (called by `precompute_as_of`).
    fn pack_story_tables(&mut self) {
        let Some(t) = self.at.as_mut().and_then(Arc::get_mut) else {
            return;
        };
        let w = self.world;
        let mut rows = Vec::with_capacity(w.stories.len());
        for (i, st) in w.stories.iter().enumerate() {
            let (Some(&rate), Some(&engagements), Some(&exposures), Some(&eng_start)) = (
                t.author_rate.get(st.author as usize),
                t.story_engagements.get(i),
                t.story_exposures.get(i),
                self.story_eng.off.get(i),
            ) else {
                // Inconsistent tables: leave them unpacked (the searched path is used).
                return;
            };
            rows.push(StoryAt {
                author_rate: rate,
                eng_start,
                engagements,
                exposures,
                author_degree: w.graph.degree(st.author).min(u32::MAX as usize) as u32,
            });
        }
        t.story_at = rows;
    }

    /// The author's engagement rate, the story's engagements before `as_of` (as a slice of
    /// `(ts, user)`) and its exposures before `as_of`: from the packed tables when the
    /// context has them, else by binary searches (identical values).
    #[inline]
    fn story_aggregates(
        &self,
        ctx: &ViewerContext,
        story: u32,
        author: u32,
    ) -> (f64, &[(i64, u32)], usize) {
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            let end = r.eng_start + r.engagements as usize;
            if let Some(engs) = self.story_eng.items.get(r.eng_start..end) {
                return (r.author_rate, engs, r.exposures as usize);
            }
        }
        let engs = self.story_eng.get(story);
        let as_of = ctx.as_of;
        match &ctx.at {
            Some(t) => (
                t.author_rate[author as usize],
                &engs[..(t.story_engagements[story as usize] as usize).min(engs.len())],
                t.story_exposures[story as usize] as usize,
            ),
            None => (
                self.author_rate(author, as_of),
                &engs[..engs.partition_point(|e| e.0 < as_of)],
                self.story_exp.get(story).partition_point(|&t| t < as_of),
            ),
        }
    }
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

/// Prefetch hints for candidates about to be scored (the batch loop calls these a few
/// candidates ahead; rows do not depend on them).
impl FeatureSpace<'_> {
    /// Stage 1 (several candidates ahead): the story's metadata and packed aggregates.
    #[inline]
    pub fn prefetch_story(&self, ctx: &ViewerContext, story: u32) {
        if let Some(st) = self.world.stories.get(story as usize) {
            prefetch_read(st);
        }
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            prefetch_read(r);
        }
    }

    /// Stage 2 (a couple of candidates ahead, after stage 1): what the story's author and
    /// engagement list point to. Returns the story's author, if the story exists.
    #[inline]
    pub fn prefetch_story_deps(&self, ctx: &ViewerContext, story: u32) -> Option<u32> {
        let st = self.world.stories.get(story as usize)?;
        if let Some(r) = ctx
            .at
            .as_deref()
            .and_then(|t| t.story_at.get(story as usize))
        {
            if r.engagements > 0 {
                if let Some(e) = self.story_eng.items.get(r.eng_start) {
                    prefetch_read(e);
                }
            }
        }
        let (offsets, _) = self.world.graph.raw();
        if let Some(o) = offsets.get(st.author as usize) {
            prefetch_read(o);
        }
        Some(st.author)
    }
}
