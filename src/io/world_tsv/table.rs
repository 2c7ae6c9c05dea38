//! A small tab-separated table reader shared by the world loader and the importers: a header
//! line, columns found by name, rows split by hand into reused byte ranges (no per-field
//! allocation). Plain or `.gz` files (via [`crate::io::open_text`]).

use crate::io::IoError;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// An open table positioned after its header.
pub struct Table {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    header: Vec<String>,
    line_no: usize,
    buf: String,
    ranges: Vec<(usize, usize)>,
    sep: Sep,
}

/// Field separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    /// Exactly one tab between fields (empty fields allowed).
    Tab,
    /// Runs of spaces or tabs (no empty fields).
    Whitespace,
    /// Commas (no quoting).
    Comma,
    /// Decided by the header line: tab if it holds a tab, else comma if it holds a comma,
    /// else whitespace.
    Auto,
}

impl Table {
    /// Opens `path` and reads its header line.
    ///
    /// # Errors
    /// [`IoError::Open`] if the file cannot be opened, [`IoError::Empty`] if it has no header
    /// line, [`IoError::Parse`] on a read or UTF-8 error.
    pub fn open(path: &Path, sep: Sep, expected: &str) -> Result<Table, IoError> {
        let reader = crate::io::open_text(path)?;
        let mut t = Table {
            path: path.to_path_buf(),
            reader,
            header: Vec::new(),
            line_no: 0,
            buf: String::new(),
            ranges: Vec::new(),
            sep,
        };
        if !t.next_row()? {
            return Err(IoError::Empty {
                path: path.to_path_buf(),
                expected: format!("a header line ({expected})"),
            });
        }
        if t.sep == Sep::Auto {
            let line = t.buf.trim_end_matches(['\n', '\r']);
            t.sep = if line.contains('\t') {
                Sep::Tab
            } else if line.contains(',') {
                Sep::Comma
            } else {
                Sep::Whitespace
            };
            t.split();
        }
        t.header = (0..t.ranges.len())
            .map(|i| t.field(i).trim_start_matches('\u{feff}').to_string())
            .collect();
        Ok(t)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Line number (1-based) of the current row.
    pub fn line(&self) -> usize {
        self.line_no
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Index of the first header column whose name equals one of `names` (ASCII case
    /// insensitive).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    /// Reads the next non-blank row. Returns `false` at end of file.
    ///
    /// # Errors
    /// [`IoError::Parse`] on a read, decompression or UTF-8 error.
    pub fn next_row(&mut self) -> Result<bool, IoError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_line(&mut self.buf)
                .map_err(|e| IoError::Parse {
                    path: self.path.clone(),
                    line: self.line_no + 1,
                    message: format!("read error: {e}"),
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line_no += 1;
            let line = self.buf.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            self.split();
            return Ok(true);
        }
    }

    fn split(&mut self) {
        let line = self.buf.trim_end_matches(['\n', '\r']);
        self.ranges.clear();
        let bytes = line.as_bytes();
        match self.sep {
            Sep::Tab | Sep::Comma | Sep::Auto => {
                let sep = if self.sep == Sep::Comma { b',' } else { b'\t' };
                let mut start = 0;
                for (i, &b) in bytes.iter().enumerate() {
                    if b == sep {
                        self.ranges.push((start, i));
                        start = i + 1;
                    }
                }
                self.ranges.push((start, bytes.len()));
            }
            Sep::Whitespace => {
                let mut start = None;
                for (i, &b) in bytes.iter().enumerate() {
                    let ws = b == b' ' || b == b'\t';
                    match (ws, start) {
                        (true, Some(s)) => {
                            self.ranges.push((s, i));
                            start = None;
                        }
                        (false, None) => start = Some(i),
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    self.ranges.push((s, bytes.len()));
                }
            }
        }
    }

    /// Number of fields in the current row.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Field `i` of the current row (empty if out of range).
    #[inline]
    pub fn field(&self, i: usize) -> &str {
        match self.ranges.get(i) {
            Some(&(a, b)) => self.buf.get(a..b).unwrap_or(""),
            None => "",
        }
    }
}
