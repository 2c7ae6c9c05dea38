//! Reading friendship graphs: SNAP edge lists and TSV with a `user_a<TAB>user_b` header.
//!
//! Takes a path (plain or `.gz`, via [`crate::io::open_text`]) and hands on either the raw
//! interned rows ([`read_edges`]) or a built CSR [`Graph`] with its [`Interner`] and
//! [`BuildStats`] ([`load_graph`]). User ids are opaque tokens (any string without whitespace
//! or tabs), mapped to dense `u32` indices in first-seen order; output maps them back.
//!
//! - **SNAP**: one `a b` pair per line, separated by any whitespace; lines starting with `#`
//!   and blank lines are skipped.
//! - **TSV**: a header whose first two columns are `user_a` and `user_b`; extra columns are
//!   allowed and ignored; every row must have as many fields as the header.
//!
//! Duplicate rows, both directions and self-loops are kept in the raw rows; [`Graph::from_edges`]
//! merges and counts them.

use std::io::BufRead;
use std::path::Path;
use std::str::FromStr;

use super::{open_text, IoError, ParseProblem};
use crate::graph::{BuildStats, Graph};
use crate::world::Interner;

/// The on-disk layout of a friendship graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum GraphFormat {
    /// Whitespace-separated pairs, `#` comments (SNAP edge lists).
    Snap,
    /// Tab-separated with a `user_a<TAB>user_b[<TAB>...]` header.
    Tsv,
}

impl GraphFormat {
    /// `tsv` if the file's first line starts with `user_a`, else `snap`.
    ///
    /// # Errors
    /// [`IoError::Open`] if the file cannot be opened, [`IoError::Parse`] if it cannot be read.
    pub fn detect(path: &Path) -> Result<GraphFormat, IoError> {
        let mut reader = open_text(path)?;
        let mut first = String::new();
        reader
            .read_line(&mut first)
            .map_err(|e| read_error(path, 1, &e))?;
        Ok(if first.starts_with("user_a") {
            GraphFormat::Tsv
        } else {
            GraphFormat::Snap
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GraphFormat::Snap => "snap",
            GraphFormat::Tsv => "tsv",
        }
    }
}

impl std::fmt::Display for GraphFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown graph format {found:?} (expected snap or tsv)")]
pub struct UnknownFormat {
    pub found: String,
}

impl FromStr for GraphFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "snap" => Ok(GraphFormat::Snap),
            "tsv" => Ok(GraphFormat::Tsv),
            _ => Err(UnknownFormat {
                found: s.to_string(),
            }),
        }
    }
}

fn read_error(path: &Path, line: usize, e: &std::io::Error) -> IoError {
    parse_error(path, line, ParseProblem::Read(e.to_string()))
}

fn parse_error(path: &Path, line: usize, problem: ParseProblem) -> IoError {
    IoError::Parse {
        path: path.to_path_buf(),
        line,
        problem,
    }
}

/// Reads the raw friendship rows of `path`, interning every user id into `users`.
///
/// Rows are returned as read: duplicates, both directions and self-loops included.
///
/// # Errors
/// - [`IoError::Open`]: the file is missing or unreadable.
/// - [`IoError::Empty`]: no edge rows (empty file, only comments, or a TSV with no header or
///   only a header).
/// - [`IoError::Parse`] naming the line: a SNAP line without exactly two fields, a TSV header
///   that does not start with `user_a<TAB>user_b`, a TSV row whose field count differs from the
///   header's, an empty id, or a read/decompression failure.
///
/// # Complexity
/// O(file size) time; O(rows + distinct ids) memory.
pub fn read_edges(
    path: &Path,
    format: GraphFormat,
    users: &mut Interner,
) -> Result<Vec<(u32, u32)>, IoError> {
    let reader = open_text(path)?;
    read_edges_from(reader, path, format, users)
}

/// [`read_edges`] on an already opened reader; `path` is used in error messages only.
///
/// # Errors
/// As [`read_edges`] (without the open error).
pub fn read_edges_from<R: BufRead>(
    mut reader: R,
    path: &Path,
    format: GraphFormat,
    users: &mut Interner,
) -> Result<Vec<(u32, u32)>, IoError> {
    let mut rows = Vec::new();
    let mut buf = String::new();
    let mut line_no = 0usize;
    // TSV: number of header fields once the header is seen.
    let mut header_fields: Option<usize> = None;
    loop {
        buf.clear();
        let n = reader
            .read_line(&mut buf)
            .map_err(|e| read_error(path, line_no + 1, &e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.trim_end_matches(['\n', '\r']);
        match format {
            GraphFormat::Snap => {
                let trimmed = line.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    continue;
                }
                let mut it = trimmed.split_whitespace();
                let (a, b) = match (it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), None) => (a, b),
                    _ => {
                        let found = trimmed.split_whitespace().count();
                        return Err(parse_error(
                            path,
                            line_no,
                            ParseProblem::SnapFieldCount { found },
                        ));
                    }
                };
                rows.push((users.intern(a), users.intern(b)));
            }
            GraphFormat::Tsv => {
                let Some(width) = header_fields else {
                    if line.trim().is_empty() {
                        // A blank line before the header is still "no header".
                        return Err(parse_error(path, line_no, ParseProblem::BlankHeader));
                    }
                    let mut f = line.split('\t');
                    if f.next() != Some("user_a") || f.next() != Some("user_b") {
                        return Err(parse_error(
                            path,
                            line_no,
                            ParseProblem::BadHeader {
                                found: truncate(line, 80).to_string(),
                            },
                        ));
                    }
                    header_fields = Some(line.split('\t').count());
                    continue;
                };
                if line.is_empty() {
                    continue;
                }
                let found = line.split('\t').count();
                if found != width {
                    return Err(parse_error(
                        path,
                        line_no,
                        ParseProblem::FieldCount {
                            expected: width,
                            found,
                        },
                    ));
                }
                let mut f = line.split('\t');
                let a = f.next().unwrap_or("");
                let b = f.next().unwrap_or("");
                if a.is_empty() || b.is_empty() || a.contains(' ') || b.contains(' ') {
                    return Err(parse_error(
                        path,
                        line_no,
                        ParseProblem::BadUserIds {
                            a: a.to_string(),
                            b: b.to_string(),
                        },
                    ));
                }
                rows.push((users.intern(a), users.intern(b)));
            }
        }
    }
    if rows.is_empty() {
        let expected = match (format, header_fields) {
            (GraphFormat::Snap, _) => "at least one `a b` edge line (SNAP edge list)",
            (GraphFormat::Tsv, None) => "a user_a<TAB>user_b header and at least one edge row",
            (GraphFormat::Tsv, Some(_)) => {
                "at least one edge row after the user_a<TAB>user_b header"
            }
        };
        return Err(IoError::Empty {
            path: path.to_path_buf(),
            expected: expected.to_string(),
        });
    }
    Ok(rows)
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A friendship graph with its id map and the counts from building it.
#[derive(Debug, Clone, Default)]
pub struct LoadedGraph {
    /// External id of every node index.
    pub users: Interner,
    pub graph: Graph,
    pub stats: BuildStats,
}

/// Loads a friendship graph. `user_list` pre-seeds the interner (in its order) so that users
/// without friendships still exist as isolated nodes.
///
/// # Errors
/// As [`read_edges`].
///
/// # Complexity
/// O(file size + E log E) time, O(n + E) memory.
pub fn load_graph(
    path: &Path,
    format: GraphFormat,
    user_list: Option<&[String]>,
) -> Result<LoadedGraph, IoError> {
    let mut users = Interner::new();
    for u in user_list.unwrap_or(&[]) {
        users.intern(u);
    }
    let rows = read_edges(path, format, &mut users)?;
    let (graph, stats) = Graph::from_edges(users.len(), &rows);
    tracing::debug!(
        path = %path.display(),
        users = users.len(),
        edges = stats.edges,
        self_loops = stats.self_loops,
        duplicates = stats.duplicates,
        "loaded graph"
    );
    Ok(LoadedGraph {
        users,
        graph,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn snap_reads_pairs_skips_comments_and_blanks() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "g.txt", "# comment\n\na b\n  b\tc  \r\nc c\nb a\n");
        let mut users = Interner::new();
        let rows = read_edges(&p, GraphFormat::Snap, &mut users).unwrap();
        assert_eq!(rows, vec![(0, 1), (1, 2), (2, 2), (1, 0)]);
        assert_eq!(users.names(), &["a", "b", "c"]);
    }

    #[test]
    fn tsv_reads_with_extra_columns() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "g.tsv",
            "user_a\tuser_b\tsince\nx\ty\t2001\ny\tz\t2002\n\n",
        );
        let mut users = Interner::new();
        let rows = read_edges(&p, GraphFormat::Tsv, &mut users).unwrap();
        assert_eq!(rows, vec![(0, 1), (1, 2)]);
        assert_eq!(GraphFormat::detect(&p).unwrap(), GraphFormat::Tsv);
    }

    #[test]
    fn gz_is_decompressed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("g.txt.gz");
        let f = std::fs::File::create(&p).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        gz.write_all(b"1 2\n2 3\n").unwrap();
        gz.finish().unwrap();
        let lg = load_graph(&p, GraphFormat::Snap, None).unwrap();
        assert_eq!(lg.graph.num_edges(), 2);
        assert_eq!(GraphFormat::detect(&p).unwrap(), GraphFormat::Snap);
    }

    #[test]
    fn missing_file_is_open_error_naming_path() {
        let e = read_edges(
            Path::new("/nonexistent/feedrank/g.txt"),
            GraphFormat::Snap,
            &mut Interner::new(),
        )
        .unwrap_err();
        assert!(matches!(e, IoError::Open { .. }));
        assert!(e.to_string().contains("/nonexistent/feedrank/g.txt"));
    }

    #[test]
    fn empty_files_are_empty_errors() {
        let d = tempfile::tempdir().unwrap();
        for (name, text, fmt) in [
            ("e.txt", "", GraphFormat::Snap),
            ("c.txt", "# only a comment\n\n", GraphFormat::Snap),
            ("e.tsv", "", GraphFormat::Tsv),
            ("h.tsv", "user_a\tuser_b\n", GraphFormat::Tsv),
        ] {
            let p = write(&d, name, text);
            let e = read_edges(&p, fmt, &mut Interner::new()).unwrap_err();
            match &e {
                IoError::Empty { path, expected } => {
                    assert_eq!(path, &p);
                    assert!(expected.contains("edge"), "{expected}");
                    // A header-only file is not called empty.
                    assert!(!e.to_string().contains("empty"), "{e}");
                }
                other => panic!("{name}: expected Empty, got {other:?}"),
            }
        }
    }

    #[test]
    fn snap_wrong_field_count_names_line() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "g.txt", "# c\n1 2\n3 4 5\n");
        let e = read_edges(&p, GraphFormat::Snap, &mut Interner::new()).unwrap_err();
        match &e {
            IoError::Parse { line, problem, .. } => {
                assert_eq!(*line, 3);
                assert_eq!(*problem, ParseProblem::SnapFieldCount { found: 3 });
                assert!(problem.to_string().contains("expected 2"), "{problem}");
            }
            other => panic!("expected Parse, got {other:?}"),
        }
        assert!(e.to_string().contains("g.txt:3"));
        let p = write(&d, "h.txt", "1 2\n7\n");
        let e = read_edges(&p, GraphFormat::Snap, &mut Interner::new()).unwrap_err();
        assert!(matches!(e, IoError::Parse { line: 2, .. }), "{e:?}");
    }

    #[test]
    fn tsv_bad_header_and_rows() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "a.tsv", "a\tb\n1\t2\n");
        let e = read_edges(&p, GraphFormat::Tsv, &mut Interner::new()).unwrap_err();
        match &e {
            IoError::Parse { line, problem, .. } => {
                assert_eq!(*line, 1);
                assert!(
                    matches!(problem, ParseProblem::BadHeader { .. }),
                    "{problem}"
                );
                assert!(
                    problem.to_string().contains("user_a<TAB>user_b"),
                    "{problem}"
                );
            }
            other => panic!("expected Parse, got {other:?}"),
        }
        let p = write(&d, "b.tsv", "user_a\tuser_b\tw\n1\t2\t3\n1\t2\n");
        let e = read_edges(&p, GraphFormat::Tsv, &mut Interner::new()).unwrap_err();
        match &e {
            IoError::Parse { line, problem, .. } => {
                assert_eq!(*line, 3);
                assert_eq!(
                    *problem,
                    ParseProblem::FieldCount {
                        expected: 3,
                        found: 2
                    }
                );
                assert_eq!(
                    problem.to_string(),
                    "expected 3 tab-separated fields (as in the header), found 2"
                );
            }
            other => panic!("expected Parse, got {other:?}"),
        }
        let p = write(&d, "c.tsv", "user_a\tuser_b\n\t2\n");
        let e = read_edges(&p, GraphFormat::Tsv, &mut Interner::new()).unwrap_err();
        assert!(matches!(e, IoError::Parse { line: 2, .. }), "{e:?}");
    }

    #[test]
    fn load_graph_seeds_isolated_users_and_counts() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "g.txt", "a b\nb a\na a\nb c\na b\n");
        let list = vec!["z".to_string(), "a".to_string()];
        let lg = load_graph(&p, GraphFormat::Snap, Some(&list)).unwrap();
        assert_eq!(lg.users.names(), &["z", "a", "b", "c"]);
        assert_eq!(lg.graph.num_nodes(), 4);
        assert_eq!(lg.graph.degree(0), 0);
        assert_eq!(lg.stats.rows, 5);
        assert_eq!(lg.stats.self_loops, 1);
        assert_eq!(lg.stats.duplicates, 2);
        assert_eq!(lg.stats.edges, 2);
    }

    #[test]
    fn format_from_str() {
        assert_eq!("SNAP".parse::<GraphFormat>().unwrap(), GraphFormat::Snap);
        assert_eq!("tsv".parse::<GraphFormat>().unwrap(), GraphFormat::Tsv);
        assert!("csv".parse::<GraphFormat>().is_err());
    }
}
