//! The world directory layout (TSV files with a header line, plus `world.toml`): reading with
//! full validation ([`read`]) and writing ([`write`]). See the README's "World format".
//! [`table`] is the header-aware TSV row reader shared with the importers; [`civil`] converts
//! calendar dates to unix seconds.
pub mod civil;
pub mod partition;
pub mod read;
pub mod table;
pub mod write;

pub use read::{read_world, read_world_with_progress, LoadReport, ReadOptions, WorldError};
pub use write::{write_world, write_world_with_progress, WriteOptions};
