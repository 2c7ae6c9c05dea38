//! [`FeatureScope`]: the users and stories a scoped [`FeatureSpace`] holds indices for, as bitsets
//! over the world's users and stories; built by the caller, checked and completed (the
//! authors of in-scope stories join its author side, not its viewers) by
//! [`FeatureSpace::scoped`].
#[cfg(doc)]
use super::FeatureSpace;
use super::{FeatureError, ScopeDefect};
use crate::util::bit;
use crate::world::World;

/// Which users and stories a scoped [`FeatureSpace`] holds indices for (bitsets over the
/// world's users and stories). See [`FeatureSpace::scoped`].
#[derive(Debug, Clone)]
pub struct FeatureScope {
    n_users: usize,
    n_stories: usize,
    /// The viewers: users whose viewer context can be built.
    users: Vec<u64>,
    /// Users whose author-side indices are kept: the viewers and the authors of the
    /// in-scope stories (filled by [`FeatureSpace::scoped`]).
    authors: Vec<u64>,
    stories: Vec<u64>,
    /// The first out-of-range id added, reported by [`FeatureSpace::scoped`].
    bad: Option<(&'static str, u32)>,
}

impl FeatureScope {
    /// An empty scope over `n_users` users and `n_stories` stories (the world's counts).
    pub fn new(n_users: usize, n_stories: usize) -> FeatureScope {
        FeatureScope {
            n_users,
            n_stories,
            users: vec![0; n_users.div_ceil(64)],
            authors: vec![0; n_users.div_ceil(64)],
            stories: vec![0; n_stories.div_ceil(64)],
            bad: None,
        }
    }

    /// Adds viewer `u`: its viewer context can be built (an out-of-range id makes
    /// [`FeatureSpace::scoped`] fail).
    pub fn add_user(&mut self, u: u32) {
        match (
            self.users.get_mut((u / 64) as usize),
            self.authors.get_mut((u / 64) as usize),
        ) {
            (Some(w), Some(a)) if (u as usize) < self.n_users => {
                *w |= 1 << (u % 64);
                *a |= 1 << (u % 64);
            }
            _ => {
                self.bad.get_or_insert(("user", u));
            }
        }
    }

    /// Keeps the author-side indices of `u` (exposures and positive engagements of their
    /// stories) without making `u` a viewer.
    pub(super) fn add_author(&mut self, u: u32) {
        if let Some(a) = self.authors.get_mut((u / 64) as usize) {
            *a |= 1 << (u % 64);
        }
    }

    /// Whether `u`'s author-side indices are kept (a viewer or an in-scope story's author).
    #[inline]
    pub fn has_author(&self, u: u32) -> bool {
        bit(&self.authors, u)
    }

    /// Adds story `s` (an out-of-range id makes [`FeatureSpace::scoped`] fail).
    pub fn add_story(&mut self, s: u32) {
        match self.stories.get_mut((s / 64) as usize) {
            Some(w) if (s as usize) < self.n_stories => *w |= 1 << (s % 64),
            _ => {
                self.bad.get_or_insert(("story", s));
            }
        }
    }

    /// Whether user `u` is in the scope.
    #[inline]
    pub fn has_user(&self, u: u32) -> bool {
        bit(&self.users, u)
    }

    /// Whether story `s` is in the scope.
    #[inline]
    pub fn has_story(&self, s: u32) -> bool {
        bit(&self.stories, s)
    }

    /// Number of users in the scope.
    pub fn num_users(&self) -> usize {
        self.users.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of stories in the scope.
    pub fn num_stories(&self) -> usize {
        self.stories.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Checks that the scope fits `world` (sized for its users and stories, no out-of-range
    /// id added).
    ///
    /// # Errors
    /// [`FeatureError::Scope`] naming the first out-of-range id or the sizes.
    pub(super) fn check(&self, world: &World) -> Result<(), FeatureError> {
        if let Some((what, id)) = self.bad {
            return Err(FeatureError::Scope(ScopeDefect::OutOfRange { what, id }));
        }
        if self.n_users != world.num_users() || self.n_stories != world.stories.len() {
            return Err(FeatureError::Scope(ScopeDefect::Size {
                users: self.n_users,
                stories: self.n_stories,
                world_users: world.num_users(),
                world_stories: world.stories.len(),
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_bitsets_and_errors() {
        let mut s = FeatureScope::new(100, 70);
        s.add_user(0);
        s.add_user(99);
        s.add_story(69);
        assert!(s.has_user(0) && s.has_user(99) && !s.has_user(1) && !s.has_user(100));
        assert!(s.has_story(69) && !s.has_story(0) && !s.has_story(70));
        assert_eq!((s.num_users(), s.num_stories()), (2, 1));
        assert!(s.bad.is_none());
        s.add_story(70);
        assert_eq!(s.bad, Some(("story", 70)));
    }
}
