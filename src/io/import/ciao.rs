//! Ciao-style review data (Tang, Gao & Liu, WSDM 2012): reviews with timestamps plus directed
//! trust links, into a world.
//!
//! Mapping: trust links -> undirected friendships ([`TrustMode::Union`] by default, or only
//! reciprocal pairs with [`TrustMode::Mutual`]); each review row -> a story (id `r<row>`, the
//! 1-based data row of the review file; author = reviewer; created_at = review time; kind =
//! category name from a `catalog_ciao.txt` if one is found, else the category id, else
//! `review`; topic = product); a friend of the author who reviews the same product strictly
//! later and within the horizon -> one `like` at the friend's first such review time
//! ([`super::infer_likes`]). Exposure is [`crate::world::Exposure::FriendsOfAuthor`]; no impression rows.
//!
//! Columns are found by header name (case-insensitive; tab, comma or whitespace separated):
//! user `userid|user_id|user|reviewer|reviewerid`, product `productid|product_id|product|item|
//! itemid|item_id|asin`, category (optional) `categoryid|category_id|category`, time
//! `timestamp|ts|time|unixreviewtime` (unix seconds, or milliseconds); trust
//! `trustor|truster|source|from|user_a|userid` -> `trustee|target|to|user_b|friendid`.

use super::{
    column, find_any, infer_and_count, parse_ts, with_inferred_meta, ImportOptions, ImportReport,
    TrustMode,
};
use crate::graph::Graph;
use crate::io::world_tsv::table::{Sep, Table};
use crate::io::IoError;
use crate::world::{Interner, Story, World};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The files of a Ciao-style dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiaoInput {
    /// Reviews (`userid productid categoryid ... timestamp`).
    pub ratings: PathBuf,
    /// Directed trust links (`trustor trustee`).
    pub trust: PathBuf,
    /// Optional `id name` category catalogue.
    pub catalog: Option<PathBuf>,
}

impl CiaoInput {
    /// Finds the files in `dir`: `rating_with_timestamp.tsv`, `ratings.tsv`, `rating.tsv` or
    /// `reviews.tsv`; `trustnetwork.tsv`, `trust_network.tsv` or `trust.tsv` (each plain or
    /// `.gz`); and `catalog_ciao.txt` / `catalog.txt` in `dir` or `dir/original`.
    ///
    /// # Errors
    /// [`crate::io::world_tsv::WorldError::MissingFile`] when a required file is absent.
    pub fn from_dir(dir: &Path) -> Result<CiaoInput, IoError> {
        let ratings = find_any(
            dir,
            &[
                "rating_with_timestamp.tsv",
                "ratings.tsv",
                "rating.tsv",
                "reviews.tsv",
            ],
        )?;
        let trust = find_any(dir, &["trustnetwork.tsv", "trust_network.tsv", "trust.tsv"])?;
        let catalog = [dir.to_path_buf(), dir.join("original")]
            .iter()
            .flat_map(|d| [d.join("catalog_ciao.txt"), d.join("catalog.txt")])
            .find(|p| p.exists());
        Ok(CiaoInput {
            ratings,
            trust,
            catalog,
        })
    }
}

/// `id name` lines (CRLF tolerated); unreadable lines are ignored.
fn read_catalog(path: &Path) -> Result<HashMap<String, String>, IoError> {
    let bytes = std::fs::read(path).map_err(|source| IoError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (id, name) = l.split_once([' ', '\t'])?;
            let name = name.trim();
            (!name.is_empty()).then(|| (id.to_string(), name.to_string()))
        })
        .collect())
}

/// Imports a Ciao-style dataset.
///
/// # Errors
/// [`IoError::Open`]/[`IoError::Parse`] on unreadable files, [`IoError::Empty`] on a file
/// without a header, [`crate::io::world_tsv::WorldError::MissingColumn`] when a required column
/// is absent. Malformed rows (missing fields, non-integer time) are skipped and counted in
/// [`ImportReport::skipped`].
///
/// # Complexity
/// O(rows log rows + trust log trust) plus the like inference (see [`super::infer_likes`]).
pub fn import_ciao(
    input: &CiaoInput,
    opts: &ImportOptions,
) -> Result<(World, ImportReport), IoError> {
    import_ciao_with_progress(input, opts, &crate::util::progress::Silent)
}

/// As [`import_ciao`], reporting two steps to `progress`: "reading the input" (one unit per
/// byte of the input files, each file's advanced once it is read) and the like inference
/// ([`super::infer_likes_with_progress`]).
///
/// # Errors
/// As [`import_ciao`].
pub fn import_ciao_with_progress(
    input: &CiaoInput,
    opts: &ImportOptions,
    progress: &dyn crate::util::progress::Progress,
) -> Result<(World, ImportReport), IoError> {
    let mut report = ImportReport {
        format: "ciao",
        horizon_days: opts.horizon_days,
        ..ImportReport::default()
    };
    let mut files = vec![input.ratings.as_path(), input.trust.as_path()];
    files.extend(input.catalog.as_deref());
    let sizes = super::file_sizes(&files);
    progress.step("reading the input", sizes.iter().sum());
    let catalog = match &input.catalog {
        Some(p) => read_catalog(p)?,
        None => HashMap::new(),
    };
    progress.advance(sizes.get(2).copied().unwrap_or(0));
    let mut world = read_reviews(&input.ratings, &catalog, &mut report)?;
    progress.advance(sizes[0]);
    let rows = read_trust(&input.trust, opts.trust, &mut world.users, &mut report)?;
    progress.advance(sizes[1]);
    let (graph, stats) = Graph::from_edges(world.users.len(), &rows);
    world.graph = graph;
    report.friendships = stats;
    infer_and_count(&mut world, opts.horizon_days, &mut report, progress);

    let mut params = toml::Table::new();
    params.insert("importer".into(), "ciao".into());
    params.insert("horizon_days".into(), i64::from(opts.horizon_days).into());
    params.insert("trust".into(), opts.trust.as_str().into());
    let world = with_inferred_meta(
        world,
        "ciao",
        format!(
            "Ciao reviews as stories, {} trust links as friendships; a friend's later review \
             of the same product within {} days is a like. Exposure inferred: every friend of \
             the author saw each story.",
            opts.trust.as_str(),
            opts.horizon_days
        ),
        format!(
            "feedrank import ciao: {} + {}",
            input.ratings.display(),
            input.trust.display()
        ),
        params,
    );
    Ok((world, report))
}

/// The reviews: one story per well-formed row (its reviewer interned as a user, its product
/// as the topic, its category, named by `catalog` when it can be, as the kind), in a world
/// that has nothing else yet. Counts rows read and skipped into `report`.
fn read_reviews(
    path: &Path,
    catalog: &HashMap<String, String>,
    report: &mut ImportReport,
) -> Result<World, IoError> {
    let mut w = World::default();
    let mut t = Table::open(path, Sep::Auto, "userid productid categoryid timestamp")?;
    let c_user = column(&t, &["userid", "user_id", "user", "reviewer", "reviewerid"])?;
    let c_item = column(
        &t,
        &[
            "productid",
            "product_id",
            "product",
            "item",
            "itemid",
            "item_id",
            "asin",
        ],
    )?;
    let c_cat = t.find(&["categoryid", "category_id", "category"]);
    let c_ts = column(&t, &["timestamp", "ts", "time", "unixreviewtime"])?;
    let width = t.header().len();
    let mut row = 0usize;
    while t.next_row()? {
        row += 1;
        if t.len() != width {
            *report
                .skipped
                .entry("review row with wrong column count")
                .or_insert(0) += 1;
            continue;
        }
        let (user, item) = (t.field(c_user), t.field(c_item));
        if user.is_empty() || item.is_empty() {
            *report
                .skipped
                .entry("review row with an empty id")
                .or_insert(0) += 1;
            continue;
        }
        let Some(ts) = parse_ts(t.field(c_ts)) else {
            *report
                .skipped
                .entry("review row with a non-integer time")
                .or_insert(0) += 1;
            continue;
        };
        let kind = match c_cat.map(|c| t.field(c)) {
            Some(c) if !c.is_empty() => catalog.get(c).map(String::as_str).unwrap_or(c),
            _ => "review",
        };
        w.stories.push(Story {
            author: w.users.intern(user),
            created_at: ts,
            kind: w.kinds.intern(kind),
            topic: Some(w.topics.intern(item)),
        });
        w.story_ids.intern(&format!("r{row}"));
    }
    report.activity_rows = row;
    Ok(w)
}

/// The trust links as friendship rows (every link, or only reciprocal pairs with
/// [`TrustMode::Mutual`]); their users interned into `users`. Counts link rows, reciprocal
/// pairs and skipped rows into `report`.
fn read_trust(
    path: &Path,
    mode: TrustMode,
    users: &mut Interner,
    report: &mut ImportReport,
) -> Result<Vec<(u32, u32)>, IoError> {
    let mut t = Table::open(path, Sep::Auto, "trustor trustee")?;
    let c_a = column(
        &t,
        &["trustor", "truster", "source", "from", "user_a", "userid"],
    )?;
    let c_b = column(&t, &["trustee", "target", "to", "user_b", "friendid"])?;
    let width = t.header().len();
    let mut links: Vec<(u32, u32)> = Vec::new();
    while t.next_row()? {
        report.link_rows += 1;
        let (a, b) = (t.field(c_a), t.field(c_b));
        if t.len() != width || a.is_empty() || b.is_empty() {
            *report.skipped.entry("malformed trust row").or_insert(0) += 1;
            continue;
        }
        links.push((users.intern(a), users.intern(b)));
    }
    let mut directed = links.clone();
    directed.sort_unstable();
    directed.dedup();
    let is_mutual = |&(a, b): &(u32, u32)| a != b && directed.binary_search(&(b, a)).is_ok();
    report.reciprocal_pairs = directed.iter().filter(|p| is_mutual(p)).count() / 2;
    Ok(match mode {
        TrustMode::Union => links,
        TrustMode::Mutual => directed.iter().copied().filter(|p| is_mutual(p)).collect(),
    })
}
