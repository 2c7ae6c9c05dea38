//! feedrank: a news-feed ranking engine.
//!
//! Data flows one way: `io -> graph -> features -> model -> rank`, and the binaries in
//! `src/bin/` write the output; `util` holds the small helpers every layer may import. See the
//! README for the architecture map.
pub mod config;
pub mod error;
pub mod eval;
pub mod features;
pub mod graph;
pub mod index;
pub mod io;
pub mod metrics;
pub mod mf;
pub mod model;
pub mod pipeline;
pub mod rank;
pub mod sim;
pub mod util;
pub mod world;

pub use error::{Error, Result};
