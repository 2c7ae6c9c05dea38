//! `snap` importer on the shared ego-Facebook edge list: counts pinned.
use feedrank::io::import::import_snap;

#[test]
fn snap_ego_facebook_counts() {
    let Some(d) = std::env::var_os("FEEDRANK_DATA_DIR") else {
        eprintln!("skipped: FEEDRANK_DATA_DIR not set");
        return;
    };
    let path = std::path::PathBuf::from(d).join("snap-ego-facebook/facebook_combined.txt");
    let (w, r) = import_snap(&path).unwrap();
    assert_eq!(r.users, 4_039);
    assert_eq!(r.link_rows, 88_234);
    assert_eq!(r.friendships.edges, 88_234);
    assert_eq!(r.friendships.duplicates + r.friendships.self_loops, 0);
    assert_eq!(w.graph.num_nodes(), 4_039);
    assert!(w.stories.is_empty() && w.events.is_empty());
    assert_eq!(w.meta.name, "facebook_combined");
}
