//! The world directory layout (TSV files with a header line, plus `world.toml`): reading with
//! full validation ([`read`]) and writing ([`write`]). See the README's "World format".
pub mod read;
pub mod write;
