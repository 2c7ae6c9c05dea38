//! A small tab-separated table reader shared by the world loader and the importers: a header
//! line, columns found by name, rows split by hand into reused byte ranges (no per-row or
//! per-field allocation). Plain or `.gz` files (via [`crate::io::open_text`]).
//!
//! The file is read in large blocks into one reused buffer and split at newlines with
//! `memchr`. Rows are either visited one at a time ([`Table::next_row`], then
//! [`Table::field`] or [`Table::row`]) or parsed in parallel a block at a time
//! ([`Table::par_rows`]): each block of complete lines is cut at line boundaries into pieces
//! parsed on the rayon pool, and the pieces are handed on in file order, so the result (rows,
//! errors and their line numbers) is the same as a sequential read whatever the thread count.

use crate::io::{IoError, ParseProblem};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes of complete lines parsed per parallel block.
const BLOCK: usize = 16 << 20;
/// Initial read buffer size.
const INITIAL_BUF: usize = 1 << 20;
/// Smallest piece worth a rayon task.
const MIN_PIECE: usize = 256 << 10;

/// An open table positioned after its header.
pub struct Table {
    path: PathBuf,
    reader: Box<dyn std::io::BufRead + Send>,
    header: Vec<String>,
    line_no: usize,
    /// Read buffer: `buf[lo..hi]` is read but not yet consumed.
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    eof: bool,
    /// The current row (without its line ending).
    line: String,
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

/// One row of a table: its text split into fields, with its file and line for error
/// messages.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    path: &'a Path,
    line: usize,
    text: &'a str,
    ranges: &'a [(usize, usize)],
}

impl<'a> Row<'a> {
    pub fn path(&self) -> &'a Path {
        self.path
    }

    /// Line number (1-based) of the row.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Field `i` (empty if out of range).
    #[inline]
    pub fn field(&self, i: usize) -> &'a str {
        match self.ranges.get(i) {
            Some(&(a, b)) => self.text.get(a..b).unwrap_or(""),
            None => "",
        }
    }
}

/// What parsing one piece of a block produced.
struct Piece<T, E> {
    rows: Vec<T>,
    errors: Vec<E>,
    io_error: Option<IoError>,
}

/// Splits `line` (without its line ending) into field ranges.
fn split_into(line: &str, sep: Sep, ranges: &mut Vec<(usize, usize)>) {
    ranges.clear();
    let bytes = line.as_bytes();
    match sep {
        Sep::Tab | Sep::Comma | Sep::Auto => {
            let sep = if sep == Sep::Comma { b',' } else { b'\t' };
            let mut start = 0;
            for i in memchr::memchr_iter(sep, bytes) {
                ranges.push((start, i));
                start = i + 1;
            }
            ranges.push((start, bytes.len()));
        }
        Sep::Whitespace => {
            let mut start = None;
            for (i, &b) in bytes.iter().enumerate() {
                let ws = b == b' ' || b == b'\t';
                match (ws, start) {
                    (true, Some(s)) => {
                        ranges.push((s, i));
                        start = None;
                    }
                    (false, None) => start = Some(i),
                    _ => {}
                }
            }
            if let Some(s) = start {
                ranges.push((s, bytes.len()));
            }
        }
    }
}

/// `bytes` (one line without its `\n`) as text without trailing `\r`/`\n`, or `None` if it is
/// not UTF-8.
#[inline]
fn line_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .map(|s| s.trim_end_matches(['\n', '\r']))
}

/// Whether a line holds only whitespace.
#[inline]
fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        // Fast path: a line starting with a visible ASCII character is not blank.
        Some(&b) if b.is_ascii_graphic() => false,
        _ => line.trim().is_empty(),
    }
}

/// Parses the lines of `piece` (complete lines; the last may lack its `\n` at end of file),
/// the first being line `first_line`. Stops at a non-UTF-8 line, and at the first row error
/// when `stop_at_first`.
fn parse_piece<T, E, F>(
    piece: &[u8],
    first_line: usize,
    path: &Path,
    sep: Sep,
    stop_at_first: bool,
    parse: &F,
) -> Piece<T, E>
where
    F: Fn(&Row<'_>) -> Result<T, E>,
{
    let mut out = Piece {
        rows: Vec::with_capacity(piece.len() / 32),
        errors: Vec::new(),
        io_error: None,
    };
    let mut ranges = Vec::with_capacity(16);
    let mut line = first_line;
    let mut start = 0;
    while start < piece.len() {
        let end = memchr::memchr(b'\n', &piece[start..]).map_or(piece.len(), |p| start + p);
        let bytes = &piece[start..end];
        start = end + 1;
        let Some(text) = line_text(bytes) else {
            out.io_error = Some(IoError::Parse {
                path: path.to_path_buf(),
                line,
                problem: ParseProblem::NotUtf8,
            });
            break;
        };
        let this = line;
        line += 1;
        if is_blank(text) {
            continue;
        }
        split_into(text, sep, &mut ranges);
        let row = Row {
            path,
            line: this,
            text,
            ranges: &ranges,
        };
        match parse(&row) {
            Ok(x) => out.rows.push(x),
            Err(e) => {
                out.errors.push(e);
                if stop_at_first {
                    break;
                }
            }
        }
    }
    out
}

/// Cuts `data` (complete lines) into about 4 pieces per rayon thread, at line boundaries,
/// none shorter than `min_piece` bytes (except the last).
fn cut_pieces(data: &[u8], min_piece: usize) -> Vec<&[u8]> {
    let want = (rayon::current_num_threads() * 4)
        .min(data.len() / min_piece)
        .max(1);
    let mut cuts = Vec::with_capacity(want + 1);
    cuts.push(0);
    for k in 1..want {
        let target = (data.len() * k / want).max(*cuts.last().unwrap_or(&0));
        let cut = match memchr::memchr(b'\n', &data[target..]) {
            Some(p) => target + p + 1,
            None => data.len(),
        };
        cuts.push(cut);
    }
    cuts.push(data.len());
    cuts.dedup();
    cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// Number of lines in `piece` (complete lines; the last may lack its `\n` at end of file).
fn count_lines(piece: &[u8]) -> usize {
    let n = piece.iter().filter(|&&b| b == b'\n').count();
    n + usize::from(piece.last().is_some_and(|&b| b != b'\n'))
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
            buf: Vec::new(),
            lo: 0,
            hi: 0,
            eof: false,
            line: String::new(),
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
            let line = t.line.as_str();
            t.sep = if line.contains('\t') {
                Sep::Tab
            } else if line.contains(',') {
                Sep::Comma
            } else {
                Sep::Whitespace
            };
            split_into(&t.line, t.sep, &mut t.ranges);
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

    /// A read or decompression error, named at the line it broke: the first line not yet
    /// complete in the buffer (lines read into the buffer but not yet handed on are counted).
    fn read_error(&self, e: &std::io::Error) -> IoError {
        let buffered = memchr::memchr_iter(b'\n', &self.buf[self.lo..self.hi]).count();
        IoError::Parse {
            path: self.path.clone(),
            line: self.line_no + buffered + 1,
            problem: ParseProblem::Read(e.to_string()),
        }
    }

    /// Moves the unconsumed bytes to the front of the buffer (growing it when it is full) and
    /// reads more. Sets `eof` when the reader is exhausted.
    fn fill(&mut self) -> Result<(), IoError> {
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        if self.hi == self.buf.len() {
            let n = (self.buf.len() * 2).max(INITIAL_BUF);
            self.buf.resize(n, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.hi..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.hi += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(&e)),
            }
        }
    }

    /// Byte range of the next line (without its `\n`), consuming it; `None` at end of file.
    fn next_line(&mut self) -> Result<Option<(usize, usize)>, IoError> {
        let mut searched = 0;
        loop {
            let from = self.lo + searched;
            if let Some(p) = memchr::memchr(b'\n', &self.buf[from..self.hi]) {
                let r = (self.lo, from + p);
                self.lo = from + p + 1;
                return Ok(Some(r));
            }
            if self.eof {
                if self.lo < self.hi {
                    let r = (self.lo, self.hi);
                    self.lo = self.hi;
                    return Ok(Some(r));
                }
                return Ok(None);
            }
            searched = self.hi - self.lo;
            self.fill()?;
        }
    }

    /// Reads the next non-blank row. Returns `false` at end of file.
    ///
    /// # Errors
    /// [`IoError::Parse`] on a read, decompression or UTF-8 error.
    pub fn next_row(&mut self) -> Result<bool, IoError> {
        loop {
            let Some((a, b)) = self.next_line()? else {
                return Ok(false);
            };
            let Some(text) = line_text(&self.buf[a..b]) else {
                return Err(IoError::Parse {
                    path: self.path.clone(),
                    line: self.line_no + 1,
                    problem: ParseProblem::NotUtf8,
                });
            };
            self.line_no += 1;
            if is_blank(text) {
                continue;
            }
            self.line.clear();
            self.line.push_str(text);
            split_into(&self.line, self.sep, &mut self.ranges);
            return Ok(true);
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
            Some(&(a, b)) => self.line.get(a..b).unwrap_or(""),
            None => "",
        }
    }

    /// The current row as a [`Row`].
    pub fn row(&self) -> Row<'_> {
        Row {
            path: &self.path,
            line: self.line_no,
            text: &self.line,
            ranges: &self.ranges,
        }
    }

    /// Parses every remaining row with `parse` on the rayon pool, a block of lines at a time,
    /// and hands each piece's results to `sink` in file order: the rows parsed (`Ok`) and the
    /// row errors (`Err`), each list in file order. Blank lines are skipped (and counted in
    /// line numbers) as in [`Table::next_row`].
    ///
    /// With `stop_at_first`, a piece stops at its first row error, and reading stops after
    /// the first piece (in file order) that has one: `sink` sees exactly the rows before the
    /// first error and that error, as a sequential read stopping at the first error would.
    /// Without it every row is parsed. A non-UTF-8 line ends the read: `sink` gets the rows
    /// and errors before it, then the error is returned. So does a read or decompression
    /// error (a truncated `.gz`): `sink` gets every complete line before the break, and the
    /// error names the line that broke.
    ///
    /// # Errors
    /// [`IoError::Parse`] on a read, decompression or UTF-8 error (naming the line), or the
    /// first error returned by `sink`.
    ///
    /// # Complexity
    /// O(remaining file size) time; memory one block (16 MiB) plus the rows of one block.
    pub fn par_rows<T, E, F, S>(
        &mut self,
        stop_at_first: bool,
        parse: F,
        sink: S,
    ) -> Result<(), IoError>
    where
        T: Send,
        E: Send,
        F: Fn(&Row<'_>) -> Result<T, E> + Sync,
        S: FnMut(Vec<T>, Vec<E>) -> Result<(), IoError>,
    {
        self.par_rows_sized(BLOCK, MIN_PIECE, stop_at_first, parse, sink)
    }

    /// [`Table::par_rows`] with the block and smallest piece sizes given (tests use tiny ones
    /// to exercise block and piece boundaries).
    fn par_rows_sized<T, E, F, S>(
        &mut self,
        block: usize,
        min_piece: usize,
        stop_at_first: bool,
        parse: F,
        mut sink: S,
    ) -> Result<(), IoError>
    where
        T: Send,
        E: Send,
        F: Fn(&Row<'_>) -> Result<T, E> + Sync,
        S: FnMut(Vec<T>, Vec<E>) -> Result<(), IoError>,
    {
        let min_piece = min_piece.max(1);
        // A read or decompression error (a truncated `.gz`, say): the complete lines before
        // it are parsed and handed on first, as a sequential read would, then it is returned.
        let mut broken: Option<IoError> = None;
        loop {
            // A block of complete lines: at least BLOCK bytes, or the rest of the file.
            // (`fill` doubles the buffer when it is full: small files keep a small buffer.)
            while broken.is_none() && !self.eof && self.hi - self.lo < block {
                if let Err(e) = self.fill() {
                    broken = Some(e);
                }
            }
            if let Some(e) =
                broken.take_if(|_| memchr::memchr(b'\n', &self.buf[self.lo..self.hi]).is_none())
            {
                // Nothing complete left before the break.
                return Err(e);
            }
            if self.lo == self.hi {
                return Ok(());
            }
            let end = if self.eof {
                self.hi
            } else if broken.is_some() {
                // Up to the last complete line; the broken one is not parsed.
                match memchr::memrchr(b'\n', &self.buf[self.lo..self.hi]) {
                    Some(p) => self.lo + p + 1,
                    None => self.hi,
                }
            } else {
                match memchr::memrchr(b'\n', &self.buf[self.lo..self.hi]) {
                    Some(p) => self.lo + p + 1,
                    None => {
                        // One line longer than the buffer: read more.
                        if let Err(e) = self.fill() {
                            broken = Some(e);
                        }
                        continue;
                    }
                }
            };
            let data = &self.buf[self.lo..end];

            let pieces = cut_pieces(data, min_piece);
            let counts: Vec<usize> = pieces.par_iter().map(|p| count_lines(p)).collect();
            let mut firsts = Vec::with_capacity(pieces.len());
            let mut next = self.line_no + 1;
            for c in &counts {
                firsts.push(next);
                next += c;
            }
            let (path, sep) = (self.path.as_path(), self.sep);
            let outs: Vec<Piece<T, E>> = pieces
                .par_iter()
                .zip(firsts.par_iter())
                .map(|(p, &first)| parse_piece(p, first, path, sep, stop_at_first, &parse))
                .collect();
            self.lo = end;
            self.line_no = next - 1;

            for out in outs {
                let stop = stop_at_first && !out.errors.is_empty();
                sink(out.rows, out.errors)?;
                if let Some(e) = out.io_error {
                    return Err(e);
                }
                if stop {
                    // The sink accepted an error it was told ends the read: nothing after it
                    // may be handed on.
                    self.lo = self.hi;
                    self.eof = true;
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// What a row parses to in these tests: (line, fields) or an error naming the line.
    type Parsed = Result<(usize, Vec<String>), usize>;

    fn parse_row(row: &Row<'_>) -> Result<(usize, Vec<String>), usize> {
        if row.field(0) == "bad" {
            return Err(row.line());
        }
        Ok((
            row.line(),
            (0..row.len()).map(|i| row.field(i).to_string()).collect(),
        ))
    }

    /// Sequential reference: `next_row` with the same parse, stopping like `par_rows`.
    fn sequential(path: &Path, stop_at_first: bool) -> (Vec<Parsed>, Option<String>) {
        let mut t = Table::open(path, Sep::Tab, "h").unwrap();
        let mut out = Vec::new();
        loop {
            match t.next_row() {
                Ok(true) => {}
                Ok(false) => return (out, None),
                Err(e) => return (out, Some(e.to_string())),
            }
            let r = parse_row(&t.row());
            let stop = r.is_err() && stop_at_first;
            out.push(r);
            if stop {
                return (out, None);
            }
        }
    }

    fn parallel(
        path: &Path,
        block: usize,
        piece: usize,
        stop_at_first: bool,
    ) -> (Vec<Parsed>, Option<String>) {
        let mut t = Table::open(path, Sep::Tab, "h").unwrap();
        let mut out = Vec::new();
        let res = t.par_rows_sized(block, piece, stop_at_first, parse_row, |rows, errors| {
            // Rows and errors of a piece come in file order each; merge them by line.
            let mut all: Vec<Parsed> = rows.into_iter().map(Ok).collect();
            all.extend(errors.into_iter().map(Err));
            all.sort_by_key(|r| match r {
                Ok((l, _)) => *l,
                Err(l) => *l,
            });
            out.extend(all);
            Ok(())
        });
        (out, res.err().map(|e| e.to_string()))
    }

    fn random_file(rng: &mut rand_chacha::ChaCha8Rng, lines: usize) -> Vec<u8> {
        let mut text = b"a\tb\tc\n".to_vec();
        for _ in 0..lines {
            match rng.gen_range(0..20) {
                0 => text.extend_from_slice(b"\n"),
                1 => text.extend_from_slice(b"  \t \r\n"),
                2 => text.extend_from_slice(b"bad\tx\ty\n"),
                3 => text.extend_from_slice(b"x\ty\r\n"),
                4 => {
                    // A long line (longer than the tiny test blocks).
                    let n = rng.gen_range(50..300);
                    text.extend(std::iter::repeat_n(b'z', n));
                    text.extend_from_slice(b"\t1\t2\n");
                }
                _ => {
                    let (a, b): (u32, u32) = (rng.gen(), rng.gen());
                    text.extend_from_slice(format!("u{a}\t{b}\t\u{e9}\n").as_bytes());
                }
            }
        }
        if rng.gen_bool(0.5) {
            text.extend_from_slice(b"last\tline\tno-newline");
        }
        text
    }

    #[test]
    fn parallel_blocks_match_sequential_rows_errors_and_lines() {
        let d = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..40 {
            let lines = rng.gen_range(0..400);
            let mut text = random_file(&mut rng, lines);
            if case % 5 == 4 {
                // A non-UTF-8 line somewhere after the header.
                let at = rng.gen_range(9..=text.len());
                let at = text[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(text.len(), |p| at + p + 1);
                text.splice(at..at, b"\xff\xfe\tq\n".iter().copied());
            }
            let p = d.path().join(format!("t{case}.tsv"));
            std::fs::write(&p, &text).unwrap();
            for stop in [false, true] {
                let want = sequential(&p, stop);
                for (block, piece) in [(64, 1), (200, 16), (1000, 100), (1 << 20, 256)] {
                    let got = parallel(&p, block, piece, stop);
                    assert_eq!(
                        got, want,
                        "case {case} stop {stop} block {block} piece {piece}"
                    );
                }
                assert!(
                    !want.0.is_empty() || text.len() < 40,
                    "case {case}: no rows"
                );
            }
        }
    }

    #[test]
    fn utf8_error_names_the_line_like_read_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("u.tsv");
        std::fs::write(&p, b"a\tb\n1\t2\n\n3\t\xff\n4\t5\n").unwrap();
        let (rows, err) = parallel(&p, 4, 1, false);
        assert_eq!(rows.len(), 1);
        let err = err.unwrap();
        assert!(
            err.ends_with("u.tsv:4: read error: stream did not contain valid UTF-8"),
            "{err}"
        );
        let (_, err) = sequential(&p, false);
        assert!(err.unwrap().contains("u.tsv:4:"));
    }

    #[test]
    fn truncated_gz_names_the_line_where_decoding_broke() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let text = random_file(&mut rng, 20_000);
        let gz = d.path().join("t.tsv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&text).unwrap();
        let bytes = enc.finish().unwrap();
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let want = sequential(&gz, false);
        let err = want.1.clone().expect("a truncated file is an error");
        let line: usize = err
            .split("t.tsv.gz:")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no line in {err}"));
        // Every row decoded before the break is handed on; the break is on the next line.
        let last = want.0.last().map(|r| match r {
            Ok((l, _)) => *l,
            Err(l) => *l,
        });
        assert!(line > 5_000, "{err}");
        assert!(
            last.is_some_and(|l| l < line && l + 10 > line),
            "{last:?} {err}"
        );
        for (block, piece) in [(1000, 100), (1 << 16, 1 << 10), (16 << 20, 256 << 10)] {
            assert_eq!(parallel(&gz, block, piece, false), want, "block {block}");
        }
    }

    #[test]
    fn gz_tables_read_the_same() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let text = random_file(&mut rng, 2000);
        let plain = d.path().join("p.tsv");
        std::fs::write(&plain, &text).unwrap();
        let gz = d.path().join("p.tsv.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(&text).unwrap();
        enc.finish().unwrap();
        let want = sequential(&plain, false);
        assert!(want.0.len() > 1000);
        assert_eq!(sequential(&gz, false), want);
        assert_eq!(parallel(&gz, 500, 50, false), want);
    }
}
