//! Low-level helpers shared across the crate, at the bottom of the data flow: a stable hash
//! ([`hash`]), UTC day arithmetic ([`time`]), the logistic function and a small dense solver
//! ([`math`]), HTML escaping ([`html`]), progress reports of long calls ([`progress`]), and counting-sort grouping, bitset tests and prefetch
//! hints ([`slices`]). Nothing here knows about worlds, features or
//! models, and nothing here imports from the rest of the crate, so any module may import from
//! it without creating a cycle.
pub mod hash;
pub mod html;
pub mod math;
pub mod progress;
pub mod slices;
pub mod time;

pub(crate) use slices::{bit, group_by_key, prefetch_read};
