//! Importers on small hand-made inputs in other layouts (other column names/order, comma or
//! space separated, plain or gzip): the mapping rules without the shared datasets.
use feedrank::io::import::{
    import_ciao, import_lastfm, import_snap, CiaoInput, ImportOptions, LastfmInput, TrustMode,
};
use feedrank::io::world_tsv::{read_world, write_world, ReadOptions, WriteOptions};
use feedrank::world::{Action, Exposure};
use std::io::Write;

const DAY: i64 = 86_400;

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if name.ends_with(".gz") {
        let f = std::fs::File::create(&p).unwrap();
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
    } else {
        std::fs::write(&p, text).unwrap();
    }
    p
}

#[test]
fn review_site_with_other_columns() {
    let d = tempfile::tempdir().unwrap();
    // Comma-separated, different names and order, an extra column, no category.
    let t0 = 1_000_000_000i64;
    let reviews = format!(
        "ts,item,stars,user\n{},p1,5,alice\n{},p1,4,bob\n{},p1,3,carol\n{},p1,2,bob\n{},p2,1,dave\n{},p1,5,dave\n",
        t0,
        t0 + 10 * DAY,  // bob, friend of alice, within 90 days -> like on r1
        t0 + 20 * DAY,  // carol trusts alice one way only
        t0 + 30 * DAY,  // bob again: still one like per (friend, story)
        t0 + 40 * DAY,
        t0 + 200 * DAY, // dave, friend of alice, but after the horizon
    );
    let ratings = write(d.path(), "reviews.csv.gz", &reviews);
    let trust = write(
        d.path(),
        "links.txt",
        "source target\nalice bob\nbob alice\ncarol alice\nalice dave\n",
    );
    let input = CiaoInput {
        ratings,
        trust,
        catalog: None,
    };
    let (w, r) = import_ciao(&input, &ImportOptions::default()).unwrap();
    assert_eq!(w.meta.exposure, Exposure::FriendsOfAuthor);
    assert_eq!(r.stories, 6);
    assert_eq!(r.friendships.edges, 3); // alice-bob, alice-carol, alice-dave
    assert_eq!(r.reciprocal_pairs, 1);
    assert_eq!(w.kinds.name(w.stories[0].kind), "review");
    let likes: Vec<(&str, &str, i64)> = w
        .events
        .iter()
        .map(|e| {
            assert_eq!(e.action, Action::Like);
            (w.users.name(e.user), w.story_ids.name(e.story), e.ts - t0)
        })
        .collect();
    // r1 (alice): bob at +10, carol at +20 (union). r2/r4 (bob): alice has no later p1
    // review. r3 (carol): none. Exposures: alice deg 3, bob 1 (x2), carol 1, dave 1 (x2).
    assert_eq!(
        likes,
        vec![("bob", "r1", 10 * DAY), ("carol", "r1", 20 * DAY)]
    );
    assert_eq!(r.exposures, 3 + 1 + 1 + 1 + 1 + 1);

    let (w, r) = import_ciao(
        &input,
        &ImportOptions {
            trust: TrustMode::Mutual,
            horizon_days: 15,
        },
    )
    .unwrap();
    assert_eq!(r.friendships.edges, 1);
    assert_eq!(
        w.events.len(),
        1,
        "carol is not mutual; horizon 15 keeps bob"
    );

    // The imported world round-trips through the world format.
    let out = tempfile::tempdir().unwrap();
    write_world(&w, out.path(), &WriteOptions { gzip: true }).unwrap();
    let (back, rep) = read_world(out.path(), &ReadOptions::default()).unwrap();
    assert_eq!(back.events, w.events);
    assert_eq!(rep.stories, 6);
    assert_eq!(back.meta.exposure, Exposure::FriendsOfAuthor);
}

#[test]
fn ciao_missing_column_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let ratings = write(d.path(), "r.tsv", "userid\tproductid\trating\nu\tp\t5\n");
    let trust = write(d.path(), "t.tsv", "trustor\ttrustee\nu\tv\n");
    let err = import_ciao(
        &CiaoInput {
            ratings,
            trust,
            catalog: None,
        },
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("timestamp"), "{err}");
}

#[test]
fn tagging_site_monthly_and_timestamp_layouts() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "user_friends.dat",
        "userID\tfriendID\n1\t2\n2\t1\n2\t3\n",
    );
    // 1 tags artist 9 in 2009-01 (twice: one story); 2 tags it in 2009-03 (59 days later:
    // like) and 2009-04; 3 tags it in 2009-01 (same month as 1: 3 is not 1's friend anyway).
    write(
        d.path(),
        "user_taggedartists.dat.gz",
        "userID\tartistID\ttagID\tday\tmonth\tyear\n1\t9\t5\t1\t1\t2009\n1\t9\t6\t1\t1\t2009\n2\t9\t5\t1\t3\t2009\n2\t9\t5\t1\t4\t2009\n3\t9\t1\t1\t1\t2009\n3\t8\t1\t1\t13\t2009\n",
    );
    let (w, r) = import_lastfm(
        &LastfmInput::from_dir(d.path()).unwrap(),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(r.activity_rows, 6);
    assert_eq!(r.skipped.get("tag row with a bad date"), Some(&1));
    assert_eq!(r.stories, 4);
    assert_eq!(r.friendships.edges, 2);
    assert_eq!(r.reciprocal_pairs, 1);
    let jan = 1_230_768_000; // 2009-01-01 00:00 UTC
    let mar = jan + 59 * DAY;
    assert_eq!(w.stories[0].created_at, jan);
    assert_eq!(w.story_ids.name(0), "u1-a9-2009-01");
    assert_eq!(w.kinds.name(w.stories[0].kind), "tag");
    let likes: Vec<(&str, &str, i64)> = w
        .events
        .iter()
        .map(|e| (w.users.name(e.user), w.story_ids.name(e.story), e.ts))
        .collect();
    // u1's Jan story: friend 2 in March (first later month). u3's Jan story: friend 2 in
    // March too. u2's March story: friend 1 has nothing later; friend 3 neither.
    assert_eq!(
        likes,
        vec![("2", "u1-a9-2009-01", mar), ("2", "u3-a9-2009-01", mar)]
    );

    // Timestamp layout (milliseconds), as in user_taggedartists-timestamps.dat.
    let d2 = tempfile::tempdir().unwrap();
    write(d2.path(), "user_friends.dat", "userID\tfriendID\n1\t2\n");
    write(
        d2.path(),
        "user_taggedartists-timestamps.dat",
        &format!(
            "userID\tartistID\ttagID\ttimestamp\n1\t9\t5\t{}\n2\t9\t5\t{}\n",
            (jan + 3 * DAY) * 1000,
            (mar + 5 * DAY) * 1000
        ),
    );
    let (w, _) = import_lastfm(
        &LastfmInput::from_dir(d2.path()).unwrap(),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(w.stories[0].created_at, jan);
    assert_eq!(w.events.len(), 1);
    assert_eq!(w.events[0].ts, mar);
}

#[test]
fn snap_edge_list_graph_only() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.txt", "# comment\n0 1\n1 2\n2 0\n1 0\n3 3\n");
    let (w, r) = import_snap(&p).unwrap();
    assert_eq!(r.users, 4);
    assert_eq!(r.friendships.edges, 3);
    assert_eq!(r.friendships.duplicates, 1);
    assert_eq!(r.friendships.self_loops, 1);
    assert!(w.stories.is_empty() && w.events.is_empty());
    let out = tempfile::tempdir().unwrap();
    write_world(&w, out.path(), &WriteOptions::default()).unwrap();
    let (back, _) = read_world(out.path(), &ReadOptions::default()).unwrap();
    assert_eq!(back.graph, w.graph);
    assert_eq!(back.users, w.users);
}
