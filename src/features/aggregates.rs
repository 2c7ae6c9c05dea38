//! The global per-story and per-author aggregates of the features, as counts at one `as_of`,
//! for computing them once outside a partition and handing each partition its slice (the
//! Spark job's partitioned mode; README "Spark").
//!
//! Two of the features read data about every user, whoever the viewer is: the author
//! engagement rate (positive engagements on the author's stories per exposure of them, in
//! the rate window) and the story engagement rate's denominator (the story's exposures).
//! Both are sums over users of per-user contributions, because an exposure is the first
//! event of a (user, story) pair: so [`story_partials`] computes them on any slice of the
//! events that holds every event of its users, and the slices' partials add up to the
//! whole world's values. [`AsOfAggregates`] carries the summed values into a partition's
//! [`super::FeatureSpace`] ([`super::FeatureSpace::scoped_with_aggregates`]).
use super::{FeatureConfig, DAY};
use crate::world::Event;

/// One story's contribution from a slice of the events: `exposures` (first sightings before
/// `as_of`), and, within the author rate window `[as_of - window, as_of)`, `rate_exposures`
/// (first sightings in it) and `rate_positives` (positive engagement events in it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoryPartial {
    pub exposures: u64,
    pub rate_exposures: u64,
    pub rate_positives: u64,
}

impl std::ops::AddAssign for StoryPartial {
    fn add_assign(&mut self, o: StoryPartial) {
        self.exposures += o.exposures;
        self.rate_exposures += o.rate_exposures;
        self.rate_positives += o.rate_positives;
    }
}

/// The author engagement rate from its two counts: positives per exposure, plus one in the
/// denominator (the one definition, shared by the indexed and the aggregated paths).
#[inline]
pub(super) fn engagement_rate(positives: u64, exposures: u64) -> f64 {
    positives as f64 / (exposures as f64 + 1.0)
}

/// Start of the author rate window ending at `as_of`.
pub(super) fn rate_window_start(cfg: &FeatureConfig, as_of: i64) -> i64 {
    as_of - (cfg.author_rate_window_days * DAY) as i64
}

/// The partials of `events` (any order) per story id below `n_stories`, at `as_of`. The
/// slice must hold every event of each of its users (a first sighting is the first event of
/// a (user, story) pair, whatever its action); events with other story ids are ignored.
///
/// # Complexity
/// O(E log E) for the E events of the slice.
pub fn story_partials(
    events: &[Event],
    n_stories: usize,
    as_of: i64,
    cfg: &FeatureConfig,
) -> Vec<StoryPartial> {
    let lo = rate_window_start(cfg, as_of);
    let mut out = vec![StoryPartial::default(); n_stories];
    let mut pairs: Vec<(u32, u32, i64)> = events
        .iter()
        .filter(|e| (e.story as usize) < n_stories)
        .map(|e| (e.user, e.story, e.ts))
        .collect();
    pairs.sort_unstable();
    pairs.dedup_by_key(|p| (p.0, p.1));
    for (_, story, ts) in pairs {
        let p = &mut out[story as usize];
        p.exposures += u64::from(ts < as_of);
        p.rate_exposures += u64::from(ts >= lo && ts < as_of);
    }
    for e in events {
        if e.action.is_positive() && e.ts >= lo && e.ts < as_of {
            if let Some(p) = out.get_mut(e.story as usize) {
                p.rate_positives += 1;
            }
        }
    }
    out
}

/// Summed aggregates at one `as_of`, indexed by the dense ids of the world they are given
/// to: each story's exposures before `as_of` and each author's (rate exposures, rate
/// positives). `None` where the input had no row: asking for it is an error
/// ([`super::FeatureError::MissingAggregate`]), never a zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOfAggregates {
    pub as_of: i64,
    pub story_exposures: Vec<Option<u64>>,
    pub author_counts: Vec<Option<(u64, u64)>>,
}

impl AsOfAggregates {
    /// Aggregates of a world with `n_users` users and `n_stories` stories, with no rows yet.
    pub fn new(as_of: i64, n_users: usize, n_stories: usize) -> AsOfAggregates {
        AsOfAggregates {
            as_of,
            story_exposures: vec![None; n_stories],
            author_counts: vec![None; n_users],
        }
    }

    /// The whole world's aggregates from its per-story partials (`authors[s]` is story
    /// `s`'s author): every story and every author gets a row.
    pub fn from_partials(
        as_of: i64,
        n_users: usize,
        authors: &[u32],
        partials: &[StoryPartial],
    ) -> AsOfAggregates {
        let mut a = AsOfAggregates::new(as_of, n_users, partials.len());
        for c in a.author_counts.iter_mut() {
            *c = Some((0, 0));
        }
        for (s, p) in partials.iter().enumerate() {
            a.story_exposures[s] = Some(p.exposures);
            if let Some(Some(c)) = authors
                .get(s)
                .and_then(|&u| a.author_counts.get_mut(u as usize))
            {
                c.0 += p.rate_exposures;
                c.1 += p.rate_positives;
            }
        }
        a
    }

    /// The stories that have a row: `(story, exposures)`, in id order.
    pub fn story_rows(&self) -> Vec<(u32, u64)> {
        (0..self.story_exposures.len() as u32)
            .zip(&self.story_exposures)
            .filter_map(|(s, n)| Some((s, (*n)?)))
            .collect()
    }

    /// The authors that have a row: `(author, rate_exposures, rate_positives)`, in id order.
    pub fn author_rows(&self) -> Vec<(u32, u64, u64)> {
        (0..self.author_counts.len() as u32)
            .zip(&self.author_counts)
            .filter_map(|(a, c)| c.map(|(e, p)| (a, e, p)))
            .collect()
    }

    /// The author's engagement rate, if the aggregates have the author.
    pub fn author_rate(&self, author: u32) -> Option<f64> {
        let (exp, pos) = (*self.author_counts.get(author as usize)?)?;
        Some(engagement_rate(pos, exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureSpace;

    /// Partials summed over slices by user equal the full feature space's as-of tables.
    #[test]
    fn slices_by_user_sum_to_the_feature_space_values() {
        let world =
            crate::sim::simulate(&crate::sim::SimParams::new(400, 6, 11)).expect("simulate");
        let cfg = FeatureConfig::default();
        let as_of = world.time_span().expect("events").1 - 86_400;
        let mut total = vec![StoryPartial::default(); world.stories.len()];
        for slice in 0..3u32 {
            let part: Vec<Event> = world
                .events
                .iter()
                .filter(|e| e.user % 3 == slice)
                .copied()
                .collect();
            for (t, p) in
                total
                    .iter_mut()
                    .zip(story_partials(&part, world.stories.len(), as_of, &cfg))
            {
                *t += p;
            }
        }
        let authors: Vec<u32> = world.stories.iter().map(|s| s.author).collect();
        let aggs = AsOfAggregates::from_partials(as_of, world.num_users(), &authors, &total);
        let mut fs = FeatureSpace::new(&world, &cfg).expect("space");
        fs.precompute_as_of(as_of);
        let (rates, exposures) = fs.as_of_table_values().expect("tables");
        let mut checked = 0;
        for a in 0..world.num_users() as u32 {
            assert_eq!(aggs.author_rate(a), Some(rates[a as usize]), "author {a}");
        }
        for (s, e) in exposures.iter().enumerate() {
            assert_eq!(aggs.story_exposures[s], Some(u64::from(*e)), "story {s}");
            checked += usize::from(*e > 0);
        }
        assert!(checked > 100, "only {checked} stories were exposed");
    }
}
