//! File formats: TSV/CSV/JSONL readers and writers, atomic writes. Knows formats, never ranking.
pub mod atomic;
pub mod graph_file;
pub mod import;
pub mod snapshot;
pub mod world_tsv;

use std::path::PathBuf;

/// Errors from reading or writing files. Each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (expected {expected})")]
    Empty { path: PathBuf, expected: String },
    #[error("{path}:{line}: {problem}")]
    Parse {
        path: PathBuf,
        line: usize,
        problem: ParseProblem,
    },
    /// A validation error in a world directory (file, line, expected vs found).
    #[error(transparent)]
    World(#[from] world_tsv::WorldError),
}

/// What is wrong with one line of a text file ([`IoError::Parse`] names the file and line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseProblem {
    /// Reading or decompressing failed (the system's message).
    #[error("read error: {0}")]
    Read(String),
    /// The line is not valid UTF-8 (worded as `BufRead::read_line` words it).
    #[error("read error: stream did not contain valid UTF-8")]
    NotUtf8,
    /// A SNAP edge-list line without exactly two fields.
    #[error("expected 2 whitespace-separated user ids (SNAP edge list), found {found} field(s)")]
    SnapFieldCount { found: usize },
    /// A friendship TSV file whose first line is blank.
    #[error("expected the header user_a<TAB>user_b, found a blank line")]
    BlankHeader,
    /// A friendship TSV header not starting with `user_a<TAB>user_b` (its first 80 characters).
    #[error("expected a header starting with user_a<TAB>user_b, found {found:?}")]
    BadHeader { found: String },
    /// A row with another number of fields than the header.
    #[error("expected {expected} tab-separated fields (as in the header), found {found}")]
    FieldCount { expected: usize, found: usize },
    /// A friendship row with an empty user id or one containing a space.
    #[error("expected two non-empty user ids without spaces, found {a:?} and {b:?}")]
    BadUserIds { a: String, b: String },
}

/// Opens a text file for buffered reading; a name ending in `.gz` is decompressed on the fly.
///
/// # Errors
/// [`IoError::Open`] naming the path when the file cannot be opened.
pub fn open_text(path: &std::path::Path) -> Result<Box<dyn std::io::BufRead + Send>, IoError> {
    let file = std::fs::File::open(path).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(std::io::BufReader::with_capacity(1 << 20, file))
    })
}

/// `dir/name` if it exists, else `dir/name.gz` if that exists, else `None`.
pub fn find_table(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    let plain = dir.join(name);
    if plain.exists() {
        return Some(plain);
    }
    let gz = dir.join(format!("{name}.gz"));
    gz.exists().then_some(gz)
}
