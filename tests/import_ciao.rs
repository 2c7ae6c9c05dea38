//! `ciao` importer on the shared Ciao (Tang) data: counts pinned (cross-checked by an
//! independent Python script over the same files: 61,816 likes, union, strict, 90 days).
use feedrank::io::import::{import_ciao, CiaoInput, ImportOptions, TrustMode};
use feedrank::world::{Action, Exposure};

fn data_dir() -> Option<std::path::PathBuf> {
    match std::env::var_os("FEEDRANK_DATA_DIR") {
        Some(d) => Some(std::path::PathBuf::from(d).join("ciao-tang")),
        None => {
            eprintln!("skipped: FEEDRANK_DATA_DIR not set");
            None
        }
    }
}

#[test]
fn ciao_counts_union_and_mutual() {
    let Some(dir) = data_dir() else { return };
    let input = CiaoInput::from_dir(&dir).unwrap();
    assert!(
        input.catalog.is_some(),
        "catalog_ciao.txt found in original/"
    );
    let (w, r) = import_ciao(&input, &ImportOptions::default()).unwrap();
    assert_eq!(r.activity_rows, 284_086);
    assert_eq!(r.link_rows, 111_781);
    assert_eq!(r.reciprocal_pairs, 26_576);
    assert_eq!(r.users, 7_375);
    assert_eq!(r.friendships.edges, 85_205);
    assert_eq!(r.stories, 284_086);
    assert_eq!(r.likes, 61_816);
    assert_eq!(r.exposures, 20_974_043);
    assert!(r.skipped.is_empty());
    assert_eq!(w.meta.exposure, Exposure::FriendsOfAuthor);
    assert_eq!(w.kinds.len(), 28);
    assert!(w.kinds.get("DVDs").is_some() && w.kinds.get("Food & Drink").is_some());
    assert_eq!(w.topics.len(), 105_114);
    assert!(w.events.iter().all(|e| e.action == Action::Like));
    // Every like is by a friend of the author, strictly after the story, within 90 days,
    // and the liker reviewed the same product at that time.
    for e in w.events.iter().step_by(4_999) {
        let s = &w.stories[e.story as usize];
        assert!(w.graph.has_edge(s.author, e.user));
        assert!(e.ts > s.created_at && e.ts <= s.created_at + 90 * 86_400);
        assert!(w
            .stories
            .iter()
            .any(|o| o.author == e.user && o.topic == s.topic && o.created_at == e.ts));
    }

    let (_, m) = import_ciao(
        &input,
        &ImportOptions {
            trust: TrustMode::Mutual,
            horizon_days: 90,
        },
    )
    .unwrap();
    assert_eq!(m.friendships.edges, 26_576);
    assert_eq!(m.likes, 19_988);
    assert_eq!(m.exposures, 5_373_847);
}
