//! A viewer's topic history over all time, indexed so that any `as_of` reads it by binary
//! search: the topics of the viewer's positive engagements and exposures, and of the stories
//! the viewer and the viewer's friends created. Built once per viewer and shared by every
//! [`super::ViewerContext`] of that viewer (training builds one context per (viewer, day), and
//! re-sorting these lists per day made a context cost O(h log h) in the viewer's whole history
//! h: on Ciao, where every friend's review is an inferred exposure, that was most of training).
//!
//! # Complexity
//! Building: O(h log h) for the h entries. A count at one `(topic, as_of)`: O(log h).
use super::space::FeatureSpace;
use crate::world::Action;

/// `(topic, time)` lists of one viewer, each sorted, plus the creation times of the posts
/// sorted alone (for totals before `as_of`).
#[derive(Debug)]
pub struct ViewerHistory {
    /// The viewer these lists are of.
    viewer: u32,
    /// Positive engagements on stories with a topic, by (topic, ts).
    pub(super) positives: Vec<(u32, i64)>,
    /// Exposures (first sightings) of stories with a topic, by (topic, ts).
    pub(super) exposures: Vec<(u32, i64)>,
    /// Stories with a topic the viewer created, by (topic, created_at).
    pub(super) own_posts: Vec<(u32, i64)>,
    pub(super) own_times: Vec<i64>,
    /// Stories with a topic the viewer's friends created (pooled), by (topic, created_at).
    pub(super) friend_posts: Vec<(u32, i64)>,
    pub(super) friend_times: Vec<i64>,
}

/// Entries of `sorted` on `topic` strictly before `as_of`.
pub(super) fn count_before(sorted: &[(u32, i64)], topic: u32, as_of: i64) -> u32 {
    let lo = sorted.partition_point(|e| e.0 < topic);
    let hi = lo + sorted[lo..].partition_point(|e| e.0 == topic && e.1 < as_of);
    (hi - lo) as u32
}

/// Entries of the sorted `times` strictly before `as_of`.
pub(super) fn total_before(times: &[i64], as_of: i64) -> u32 {
    times.partition_point(|&t| t < as_of) as u32
}

impl ViewerHistory {
    /// The viewer these lists are of.
    pub fn viewer(&self) -> u32 {
        self.viewer
    }
}

impl FeatureSpace<'_> {
    /// The [`ViewerHistory`] of `viewer` (empty lists for a user outside a scoped space's
    /// viewers, whose events the space does not hold; [`FeatureSpace::viewer`] refuses them).
    pub fn viewer_history(&self, viewer: u32) -> ViewerHistory {
        let w = self.world;
        let topic = |story: u32| w.stories.get(story as usize).and_then(|s| s.topic);
        let mut positives: Vec<(u32, i64)> = self
            .engagements_of(viewer)
            .iter()
            .filter(|e| {
                Action::ALL
                    .get(e.2 as usize)
                    .is_some_and(|a| a.is_positive())
            })
            .filter_map(|e| topic(e.1).map(|t| (t, e.0)))
            .collect();
        positives.sort_unstable();
        let mut exposures: Vec<(u32, i64)> = self
            .exposures_of(viewer)
            .iter()
            .filter_map(|e| topic(e.1).map(|t| (t, e.0)))
            .collect();
        exposures.sort_unstable();
        let ix = self.post_index();
        let own: Vec<(u32, i64)> = ix.get(viewer).iter().map(|p| (p.1, p.0)).collect();
        let mut friends: Vec<(u32, i64)> = Vec::new();
        if (viewer as usize) < w.num_users() {
            for &f in w.graph.neighbors(viewer) {
                friends.extend(ix.get(f).iter().map(|p| (p.1, p.0)));
            }
        }
        let times = |v: &[(u32, i64)]| {
            let mut t: Vec<i64> = v.iter().map(|e| e.1).collect();
            t.sort_unstable();
            t
        };
        let (own_times, friend_times) = (times(&own), times(&friends));
        let mut own_posts = own;
        own_posts.sort_unstable();
        friends.sort_unstable();
        ViewerHistory {
            viewer,
            positives,
            exposures,
            own_posts,
            own_times,
            friend_posts: friends,
            friend_times,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_before_a_time_per_topic() {
        let v = vec![(1, 10), (1, 20), (1, 30), (2, 5), (4, 1)];
        assert_eq!(count_before(&v, 1, 25), 2);
        assert_eq!(count_before(&v, 1, 30), 2);
        assert_eq!(count_before(&v, 1, 31), 3);
        assert_eq!(count_before(&v, 2, 5), 0);
        assert_eq!(count_before(&v, 3, 100), 0);
        assert_eq!(count_before(&v, 4, 100), 1);
        assert_eq!(count_before(&v, 9, 100), 0);
        assert_eq!(count_before(&[], 1, 100), 0);
        assert_eq!(total_before(&[1, 5, 5, 9], 5), 1);
        assert_eq!(total_before(&[1, 5, 5, 9], 10), 4);
    }

    #[test]
    fn a_context_takes_only_its_own_viewers_history() {
        let world = crate::sim::simulate(&crate::sim::SimParams::new(200, 4, 5)).expect("simulate");
        let fs =
            FeatureSpace::new(&world, &crate::features::FeatureConfig::default()).expect("space");
        let as_of = world.time_span().expect("events").1;
        let h = std::sync::Arc::new(fs.viewer_history(3));
        assert_eq!(h.viewer(), 3);
        let shared = fs
            .viewer_with_history(3, as_of, h.clone())
            .expect("own history");
        let fresh = fs.viewer(3, as_of).expect("fresh");
        assert_eq!(shared.history().positives, fresh.history().positives);
        assert_eq!(shared.history().friend_posts, fresh.history().friend_posts);
        match fs.viewer_with_history(4, as_of, h) {
            Err(crate::features::FeatureError::HistoryOfAnotherViewer { viewer, history }) => {
                assert_eq!((viewer, history), (4, 3));
            }
            other => panic!("expected HistoryOfAnotherViewer, got {other:?}"),
        }
    }
}
