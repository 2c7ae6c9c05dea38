//! `lastfm` importer on the shared HetRec 2011 Last.fm data: counts pinned.
use feedrank::io::import::{import_lastfm, ImportOptions, LastfmInput};
use feedrank::world::Exposure;

#[test]
fn lastfm_counts() {
    let Some(d) = std::env::var_os("FEEDRANK_DATA_DIR") else {
        eprintln!("skipped: FEEDRANK_DATA_DIR not set");
        return;
    };
    let dir = std::path::PathBuf::from(d).join("hetrec2011-lastfm-2k");
    let input = LastfmInput::from_dir(&dir).unwrap();
    let (w, r) = import_lastfm(&input, &ImportOptions::default()).unwrap();
    assert_eq!(r.activity_rows, 186_479);
    assert_eq!(r.link_rows, 25_434);
    assert_eq!(r.reciprocal_pairs, 12_717);
    assert_eq!(r.users, 1_892);
    assert_eq!(r.friendships.edges, 12_717);
    assert_eq!(r.stories, 84_984);
    assert_eq!(r.likes, 6_395);
    assert_eq!(r.exposures, 1_209_962);
    // five rows dated 1956, 1957 and 1979, before Last.fm existed
    assert_eq!(
        r.skipped.get("tag row dated before Last.fm existed (2002)"),
        Some(&5)
    );
    assert_eq!(r.skipped.len(), 1);
    let first = w.stories.iter().map(|s| s.created_at).min().unwrap();
    assert!(first >= feedrank::io::import::lastfm::EARLIEST, "{first}");
    assert_eq!(w.meta.exposure, Exposure::FriendsOfAuthor);
    // Every story time is the first of a month at 00:00 UTC.
    assert!(w.stories.iter().all(|s| {
        let (_, _, day) =
            feedrank::io::world_tsv::civil::civil_from_days(s.created_at.div_euclid(86_400));
        day == 1 && s.created_at.rem_euclid(86_400) == 0
    }));
}
