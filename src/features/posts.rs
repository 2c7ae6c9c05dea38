//! What the viewer and the viewer's friends post about (schema 4): a user posts mostly on
//! topics that user likes, and friends share tastes (homophily), so the topics of the stories
//! a viewer and the viewer's friends created before `as_of` are a prior for the viewer's
//! topic taste that needs no engagement at all: for a viewer with few exposures, it is the
//! only one. Story metadata (author, topic, creation time) is timeless in the world model;
//! only stories created strictly before `as_of` count, so nothing from the future leaks, and
//! the whole world's story list is read even by a scoped space (the same rows either way).
//!
//! Features: `viewer_topic_posts` and `friends_topic_posts`, the log-odds of the share of the
//! viewer's (the friends' pooled) stories on the candidate's topic, shrunk towards the uniform
//! share `1 / topics` with [`POSTS_PRIOR_WEIGHT`] pseudo-stories (`shrink.rs`).
use super::history::{count_before, total_before, ViewerHistory};
use super::shrink::{logit, shrunk_logit};
use super::space::FeatureSpace;
use crate::world::World;

/// Pseudo-stories of the uniform prior over topics.
pub const POSTS_PRIOR_WEIGHT: f64 = 3.0;

/// Each author's stories that have a topic, as `(created_at, topic)` sorted by time, in one
/// offsets array over authors (CSR layout).
#[derive(Debug, Default)]
pub(super) struct PostIndex {
    off: Vec<usize>,
    items: Vec<(i64, u32)>,
}

impl PostIndex {
    /// # Complexity
    /// O(stories log stories).
    pub(super) fn build(world: &World) -> PostIndex {
        let n = world.num_users();
        let mut off = vec![0usize; n + 1];
        for st in &world.stories {
            if st.topic.is_some() && (st.author as usize) < n {
                off[st.author as usize + 1] += 1;
            }
        }
        for i in 0..n {
            off[i + 1] += off[i];
        }
        let mut fill = off.clone();
        let mut items = vec![(0i64, 0u32); off[n]];
        for st in &world.stories {
            if let (Some(t), Some(slot)) = (st.topic, fill.get_mut(st.author as usize)) {
                if let Some(x) = items.get_mut(*slot) {
                    *x = (st.created_at, t);
                    *slot += 1;
                }
            }
        }
        for a in 0..n {
            items[off[a]..off[a + 1]].sort_unstable();
        }
        PostIndex { off, items }
    }

    /// The author's stories with a topic, sorted by creation time (empty for an unknown id).
    pub(super) fn get(&self, author: u32) -> &[(i64, u32)] {
        let a = author as usize;
        match (self.off.get(a), self.off.get(a + 1)) {
            (Some(&s), Some(&e)) => self.items.get(s..e).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// How many stories with a topic the viewer (`own`) and the viewer's friends (pooled) created
/// before `as_of`; the counts per topic are read from the viewer's [`ViewerHistory`] on demand.
#[derive(Debug, Clone)]
pub(super) struct TopicPosts {
    own_total: u32,
    friends_total: u32,
    /// The uniform prior share `1 / topics`.
    uniform: f64,
}

impl FeatureSpace<'_> {
    /// Each author's stories with a topic, by time (built on first use).
    pub(super) fn post_index(&self) -> &PostIndex {
        self.posts.get_or_init(|| PostIndex::build(self.world))
    }

    /// The [`TopicPosts`] of the viewer whose history is `history`, at `as_of`.
    ///
    /// # Complexity
    /// O(log p) for the p stories with a topic by the viewer and the viewer's friends.
    pub(super) fn topic_posts(&self, history: &ViewerHistory, as_of: i64) -> TopicPosts {
        TopicPosts {
            own_total: total_before(&history.own_times, as_of),
            friends_total: total_before(&history.friend_times, as_of),
            uniform: 1.0 / self.world.topics.len().max(1) as f64,
        }
    }
}

impl TopicPosts {
    /// `(viewer_topic_posts, friends_topic_posts)` for a story on `topic` (the prior's
    /// log-odds for a story without one), from the `history` these totals were taken from at
    /// `as_of`.
    pub(super) fn features(
        &self,
        history: &ViewerHistory,
        as_of: i64,
        topic: Option<u32>,
    ) -> (f64, f64) {
        let Some(t) = topic else {
            let z = logit(self.uniform);
            return (z, z);
        };
        let share = |posts: &[(u32, i64)], total: u32| {
            let n = count_before(posts, t, as_of);
            shrunk_logit(n.into(), total.into(), self.uniform, POSTS_PRIOR_WEIGHT)
        };
        (
            share(&history.own_posts, self.own_total),
            share(&history.friend_posts, self.friends_total),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureConfig;

    #[test]
    fn counts_only_stories_before_as_of_by_the_viewer_and_friends() {
        let world = crate::sim::simulate(&crate::sim::SimParams::new(300, 5, 4)).expect("simulate");
        let fs = FeatureSpace::new(&world, &FeatureConfig::default()).expect("space");
        let as_of = world.time_span().expect("events").1 - 2 * 86_400;
        let u = (0..world.num_users() as u32)
            .find(|&u| world.graph.degree(u) > 2)
            .expect("a user with friends");
        let history = fs.viewer_history(u);
        let tp = fs.topic_posts(&history, as_of);
        // the oracle: a scan of every story
        let friends = world.graph.neighbors(u);
        let (mut own, mut fr) = (0u32, 0u32);
        let mut per_topic = std::collections::BTreeMap::<u32, u32>::new();
        for st in world
            .stories
            .iter()
            .filter(|s| s.created_at < as_of && s.topic.is_some())
        {
            own += u32::from(st.author == u);
            if friends.binary_search(&st.author).is_ok() {
                fr += 1;
                *per_topic.entry(st.topic.unwrap_or(0)).or_default() += 1;
            }
        }
        assert_eq!((tp.own_total, tp.friends_total), (own, fr));
        assert!(fr > 0, "the friends posted nothing before as_of");
        for t in 0..world.topics.len() as u32 {
            assert_eq!(
                count_before(&history.friend_posts, t, as_of),
                per_topic.get(&t).copied().unwrap_or(0),
                "topic {t}"
            );
        }
        // a topic the friends posted on most scores above one they never posted on
        let top = *per_topic.iter().max_by_key(|c| c.1).expect("a topic").0;
        let never = (0..world.topics.len() as u32).find(|t| !per_topic.contains_key(t));
        if let Some(nv) = never {
            assert!(
                tp.features(&history, as_of, Some(top)).1
                    > tp.features(&history, as_of, Some(nv)).1
            );
        }
        // no topic: the uniform prior
        let z = logit(1.0 / world.topics.len() as f64);
        assert_eq!(tp.features(&history, as_of, None), (z, z));
    }
}
