//! File formats: TSV/CSV/JSONL readers and writers, atomic writes. Knows formats, never ranking.
pub mod atomic;
pub mod graph_file;
pub mod import;
pub mod world_tsv;

use std::path::PathBuf;

/// Errors from reading or writing files. Each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (expected {expected})")]
    Empty { path: PathBuf, expected: String },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}
