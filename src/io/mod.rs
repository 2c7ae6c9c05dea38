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
    #[error("{path}: nothing to read (expected {expected})")]
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
    #[error("expected a header starting with user_a<TAB>user_b, found {}", quote(.found))]
    BadHeader { found: String },
    /// A row with another number of fields than the header.
    #[error("expected {expected} tab-separated fields (as in the header), found {found}")]
    FieldCount { expected: usize, found: usize },
    /// A friendship row with an empty user id or one containing a space.
    #[error(
        "expected two non-empty user ids without spaces, found {} and {}",
        quote(.a),
        quote(.b)
    )]
    BadUserIds { a: String, b: String },
}

/// Most characters of an input field or line that an error message quotes.
pub const QUOTE_MAX: usize = 80;

/// Input text (a field, a line, a header) as an error message quotes it: escaped and in
/// quotes like `{:?}`, whole when it has at most [`QUOTE_MAX`] characters, else its first
/// [`QUOTE_MAX`] characters, an ellipsis and its full length (`"abc…" (10,485,760 bytes)`),
/// so a huge field cannot flood the terminal.
pub fn quote(s: &str) -> Quoted<'_> {
    Quoted(s)
}

/// See [`quote`].
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.char_indices().nth(QUOTE_MAX) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(
                f,
                "{:?}… ({} bytes)",
                &self.0[..cut],
                world_tsv::read::thousands(self.0.len() as u64)
            ),
        }
    }
}

/// A list of input strings (a header's columns) as an error message quotes it: each as
/// [`quote`] does, and only the first few when their text passes [`QUOTE_MAX`] characters in
/// all, then how many there are.
pub fn quote_list(items: &[String]) -> QuotedList<'_> {
    QuotedList(items)
}

/// See [`quote_list`].
#[derive(Debug, Clone, Copy)]
pub struct QuotedList<'a>(&'a [String]);

impl std::fmt::Display for QuotedList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[")?;
        let mut chars = 0;
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if chars > QUOTE_MAX {
                return write!(f, "… ({} in all)]", self.0.len());
            }
            chars += item.chars().take(QUOTE_MAX + 1).count();
            write!(f, "{}", quote(item))?;
        }
        f.write_str("]")
    }
}

/// A message that may quote input (a parser's report with the offending line) as an error
/// shows it: each line longer than [`QUOTE_MAX`] characters cut as [`quote`] cuts (without
/// the quotes).
pub fn clip_lines(message: &str) -> ClippedLines<'_> {
    ClippedLines(message)
}

/// See [`clip_lines`].
#[derive(Debug, Clone, Copy)]
pub struct ClippedLines<'a>(&'a str);

impl std::fmt::Display for ClippedLines<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, line) in self.0.split('\n').enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match line.char_indices().nth(QUOTE_MAX) {
                None => f.write_str(line)?,
                Some((cut, _)) => write!(
                    f,
                    "{}… ({} bytes)",
                    &line[..cut],
                    world_tsv::read::thousands(line.len() as u64)
                )?,
            }
        }
        Ok(())
    }
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
