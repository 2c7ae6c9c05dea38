//! An edge list (SNAP whitespace pairs, or TSV with a `user_a<TAB>user_b` header; plain or
//! `.gz`) into a world with users and friendships only: no stories, no events.

use super::ImportReport;
use crate::graph::Graph;
use crate::io::graph_file::{read_edges, GraphFormat};
use crate::io::IoError;
use crate::world::{Exposure, Interner, World, WorldMeta};
use std::path::Path;

/// Imports the edge list at `path` (format detected by [`GraphFormat::detect`]).
///
/// # Errors
/// As [`crate::io::graph_file::read_edges`].
///
/// # Complexity
/// O(file size + E log E).
pub fn import_snap(path: &Path) -> Result<(World, ImportReport), IoError> {
    let format = GraphFormat::detect(path)?;
    let mut users = Interner::new();
    let rows = read_edges(path, format, &mut users)?;
    let (graph, stats) = Graph::from_edges(users.len(), &rows);
    let report = ImportReport {
        format: "snap",
        link_rows: rows.len(),
        users: users.len(),
        friendships: stats,
        ..ImportReport::default()
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snap".into());
    let name = name
        .trim_end_matches(".gz")
        .trim_end_matches(".txt")
        .trim_end_matches(".tsv")
        .to_string();
    let mut params = toml::Table::new();
    params.insert("importer".into(), "snap".into());
    params.insert("format".into(), format.as_str().into());
    let meta = WorldMeta {
        name,
        description: "Friendship graph only (no stories or events).".into(),
        provenance: format!("feedrank import snap: {}", path.display()),
        exposure: Exposure::Logged,
        params,
        ..WorldMeta::default()
    };
    let world = World {
        meta,
        users,
        graph,
        ..World::default()
    };
    Ok((world, report))
}
