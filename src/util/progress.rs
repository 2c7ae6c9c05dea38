//! Progress of long library calls, for whoever shows it: the library reports steps and units
//! of work through a [`Progress`] trait object and never prints; the binaries turn the
//! reports into progress bars on a terminal. [`Silent`] ignores them (the default of every
//! call that has a `_with_progress` variant).
//!
//! A step is announced with [`Progress::step`] (its name and its total units of work), then
//! [`Progress::advance`] reports units done, from any thread, until the next step begins. The
//! units advanced in a step add up to its total when the step completes (tests check this
//! for each caller, so a hook cannot be silently disconnected).

/// Receives the progress of a long call. Implementations must be cheap: `advance` is called
/// from worker threads, about once per chunk of work.
pub trait Progress: Sync {
    /// A new step begins: `what` names it (`"building training rows"`), `total` is its units
    /// of work.
    fn step(&self, what: &str, total: u64);
    /// `n` more units of the current step are done.
    fn advance(&self, n: u64);
}

/// A [`Progress`] that ignores every report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _what: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
}

/// A closure that advances `p`, for the calls that take a `&(dyn Fn(u64) + Sync)`.
pub fn advancer(p: &dyn Progress) -> impl Fn(u64) + Sync + '_ {
    move |n| p.advance(n)
}
