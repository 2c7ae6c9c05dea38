//! The tables precomputed for one `as_of` ([`FeatureSpace::precompute_as_of`]): each author's
//! engagement rate, each story's engagements and exposures before `as_of`, the Adamic-Adar
//! weights, and per story those aggregates packed into one [`StoryAt`] (one cache line per
//! candidate). Contexts at that `as_of` read them; any other `as_of` computes the same values
//! by binary searches ([`FeatureSpace::story_aggregates`] holds both paths). Also the prefetch
//! hints the batch loop issues a few candidates ahead of scoring.
use super::aggregates::{engagement_rate, rate_window_start, AsOfAggregates};
use super::space::FeatureSpace;
use super::viewer::ViewerContext;
use super::FeatureError;
use crate::util::prefetch_read;
use std::sync::Arc;

/// Candidate-independent aggregates at one `as_of`: the author engagement rate, and each
/// story's engagements and exposures before `as_of`. Identical to what
/// [`FeatureSpace::write_row`] computes without them.
#[derive(Debug)]
pub(super) struct AsOfTables {
    pub(super) as_of: i64,
    author_rate: Vec<f64>,
    story_engagements: Vec<u32>,
    story_exposures: Vec<u32>,
    /// `1 / ln(degree)` per node (0 for degree <= 1), the Adamic-Adar weight.
    pub(super) inv_ln_deg: Vec<f64>,
    /// Per story, its aggregates above packed together (one cache line instead of five
    /// scattered reads per candidate).
    pub(super) story_at: Vec<StoryAt>,
}

/// One story's candidate-independent aggregates at the tables' `as_of`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StoryAt {
    /// Its author's engagement rate (as [`FeatureSpace::author_rate`]).
    author_rate: f64,
    /// Start of its engagements in `story_eng.items` (see [`Indices`](super::indices::Indices)).
    eng_start: usize,
    /// Its engagements before `as_of`.
    engagements: u32,
    /// Its exposures before `as_of`.
    exposures: u32,
    /// Its author's degree.
    pub(super) author_degree: u32,
}

/// Computing and reading the tables.
impl FeatureSpace<'_> {
    /// Positive engagements per exposure (+1) on `author`'s stories in the rate window
    /// before `as_of`.
    fn author_rate(&self, author: u32, as_of: i64) -> f64 {
        let lo = rate_window_start(&self.cfg, as_of);
        let count_in =
            |xs: &[i64]| xs.partition_point(|&t| t < as_of) - xs.partition_point(|&t| t < lo);
        let exp = count_in(self.ix.author_exp.get(author));
        let posn = count_in(self.ix.author_pos.get(author));
        engagement_rate(posn as u64, exp as u64)
    }

    /// Precomputes the candidate-independent per-author and per-story aggregates at `as_of`
    /// (the batch job ranks every user at one `as_of`), so that contexts built afterwards at
    /// that `as_of` look them up instead of searching per candidate. Rows are identical with
    /// and without it.
    ///
    /// On a scoped space the tables are restricted to the scope: the entries of in-scope
    /// authors and stories are exact (an author's rate reads all of their stories, which the
    /// scoped indices hold); the others are 0 and never read, since
    /// [`FeatureSpace::write_row`] refuses out-of-scope stories and the authors of in-scope
    /// stories are in scope.
    ///
    /// # Complexity
    /// O((users + stories) log events), once.
    ///
    /// A space built with aggregates ([`FeatureSpace::scoped_with_aggregates`]) already has
    /// its tables, at its one `as_of`: this leaves them.
    pub fn precompute_as_of(&mut self, as_of: i64) {
        if self.pinned {
            return;
        }
        let w = self.world;
        let author_rate = (0..w.num_users() as u32)
            .map(|a| self.author_rate(a, as_of))
            .collect();
        let (story_engagements, story_exposures) = (0..w.stories.len() as u32)
            .map(|s| {
                (
                    self.ix.story_eng.get(s).partition_point(|e| e.0 < as_of) as u32,
                    self.ix.story_exp.get(s).partition_point(|&t| t < as_of) as u32,
                )
            })
            .unzip();
        let mut t = AsOfTables {
            as_of,
            author_rate,
            story_engagements,
            story_exposures,
            inv_ln_deg: w.graph.inv_ln_degrees(),
            story_at: Vec::new(),
        };
        self.pack_story_tables(&mut t);
        self.at = vec![Arc::new(t)];
    }

    /// As [`FeatureSpace::precompute_as_of`] at each `as_of` of `aggs`, on a space built by
    /// [`FeatureSpace::scoped_with_aggregates`]: the author rates and story exposures come
    /// from `aggs` (computed over the whole world) instead of the author-side indices, which
    /// such a space does not hold; the story engagements come from its own complete lists.
    ///
    /// # Errors
    /// [`FeatureError::MissingAggregate`] when an in-scope story, or its author, has no row
    /// in one of `aggs`; [`FeatureError::OutOfScope`] when the space is not scoped or `aggs`
    /// is empty or repeats an `as_of`.
    pub(super) fn precompute_from_aggregates(
        &mut self,
        aggs: &[AsOfAggregates],
    ) -> Result<(), FeatureError> {
        let mut as_ofs: Vec<i64> = aggs.iter().map(|a| a.as_of).collect();
        as_ofs.sort_unstable();
        as_ofs.dedup();
        if self.scope.is_none() || as_ofs.is_empty() || as_ofs.len() != aggs.len() {
            return Err(FeatureError::OutOfScope {
                what: "aggregates (a scoped space needs them at distinct as_of values)",
                id: 0,
            });
        }
        let mut tables = aggs
            .iter()
            .map(|a| self.tables_from_aggregates(a).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        tables.sort_by_key(|t| t.as_of);
        self.at = tables;
        self.pinned = true;
        Ok(())
    }

    /// The tables at `aggs.as_of` of a scoped space (see
    /// [`FeatureSpace::precompute_from_aggregates`]).
    fn tables_from_aggregates(&self, aggs: &AsOfAggregates) -> Result<AsOfTables, FeatureError> {
        let w = self.world;
        let as_of = aggs.as_of;
        let scope = self.scope.as_ref().ok_or(FeatureError::OutOfScope {
            what: "aggregates of a whole-world space",
            id: 0,
        })?;
        let mut author_rate = vec![0.0; w.num_users()];
        let mut story_exposures = vec![0u32; w.stories.len()];
        for (s, st) in w.stories.iter().enumerate() {
            if !scope.has_story(s as u32) {
                continue;
            }
            let missing = |what| FeatureError::MissingAggregate { what, id: s as u32 };
            let exp = aggs
                .story_exposures
                .get(s)
                .copied()
                .flatten()
                .ok_or(missing("story"))?;
            story_exposures[s] = exp.min(u64::from(u32::MAX)) as u32;
            author_rate[st.author as usize] =
                aggs.author_rate(st.author)
                    .ok_or(FeatureError::MissingAggregate {
                        what: "author",
                        id: st.author,
                    })?;
        }
        let story_engagements = (0..w.stories.len() as u32)
            .map(|s| self.ix.story_eng.get(s).partition_point(|e| e.0 < as_of) as u32)
            .collect();
        let mut t = AsOfTables {
            as_of,
            author_rate,
            story_engagements,
            story_exposures,
            inv_ln_deg: w.graph.inv_ln_degrees(),
            story_at: Vec::new(),
        };
        self.pack_story_tables(&mut t);
        Ok(t)
    }

    /// The author rates and story exposures of the precomputed tables (tests).
    #[cfg(test)]
    pub(super) fn as_of_table_values(&self) -> Option<(&[f64], &[u32])> {
        let t = self.at.first()?;
        Some((&t.author_rate, &t.story_exposures))
    }

    /// Fills [`AsOfTables::story_at`] from the other tables (called by `precompute_as_of`).
    fn pack_story_tables(&self, t: &mut AsOfTables) {
        let w = self.world;
        let mut rows = Vec::with_capacity(w.stories.len());
        for (i, st) in w.stories.iter().enumerate() {
            let (Some(&rate), Some(&engagements), Some(&exposures), Some(&eng_start)) = (
                t.author_rate.get(st.author as usize),
                t.story_engagements.get(i),
                t.story_exposures.get(i),
                self.ix.story_eng.off.get(i),
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
    pub(super) fn story_aggregates(
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
            if let Some(engs) = self.ix.story_eng.items.get(r.eng_start..end) {
                return (r.author_rate, engs, r.exposures as usize);
            }
        }
        let engs = self.ix.story_eng.get(story);
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
                self.ix.story_exp.get(story).partition_point(|&t| t < as_of),
            ),
        }
    }
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
                if let Some(e) = self.ix.story_eng.items.get(r.eng_start) {
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
