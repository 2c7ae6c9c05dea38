//! feedrank: a news-feed ranking engine.
//!
//! Data flows one way: `io -> graph -> features -> model -> rank`, and the binaries in
//! `src/bin/` write the output. See the README for the architecture map.
pub mod error;
pub mod graph;
pub mod io;
pub mod world;
