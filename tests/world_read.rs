//! The world loader: every error path, lenient counts, and write_world -> read_world round
//! trips (plain and gzip).
use feedrank::graph::Graph;
use feedrank::io::world_tsv::{
    read_world, write_world, LoadReport, ReadOptions, WorldError, WriteOptions,
};
use feedrank::io::IoError;
use feedrank::world::{Action, Event, Exposure, Interaction, Interner, Story, Truth, World};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

const STRICT: ReadOptions = ReadOptions {
    lenient: false,
    skip_truth: false,
};
const LENIENT: ReadOptions = ReadOptions {
    lenient: true,
    skip_truth: false,
};

fn base() -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    m.insert("world.toml", "name = \"t\"\n".to_string());
    m.insert("users.tsv", "user_id\na\nb\nc\nd\n".to_string());
    m.insert(
        "friendships.tsv",
        "user_a\tuser_b\na\tb\nb\tc\n".to_string(),
    );
    m.insert(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ttopic\ns1\ta\t100\tstatus\tnews\ns2\tb\t200\tphoto\t\n"
            .to_string(),
    );
    m.insert(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nb\ts1\timpression\t150\nb\ts1\tlike\t160\nc\ts2\timpression\t250\n"
            .to_string(),
    );
    m.insert(
        "interactions.tsv",
        "from_user\tto_user\tkind\tts\na\tb\tmessage\t50\n".to_string(),
    );
    m.insert(
        "truth.tsv",
        "user_id\tstory_id\tts\tp_click\tp_like\tp_comment\tp_share\tp_hide\nb\ts1\t150\t0.1\t0.2\t0\t0\t0.01\n"
            .to_string(),
    );
    m
}

fn write_dir(files: &BTreeMap<&'static str, String>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn with(name: &'static str, text: &str) -> tempfile::TempDir {
    let mut m = base();
    m.insert(name, text.to_string());
    write_dir(&m)
}

fn without(name: &'static str) -> tempfile::TempDir {
    let mut m = base();
    m.remove(name);
    write_dir(&m)
}

fn world_err(dir: &Path) -> WorldError {
    match read_world(dir, &STRICT) {
        Err(IoError::World(e)) => e,
        Err(e) => panic!("expected a world validation error, got {e}"),
        Ok(_) => panic!("expected an error, the world loaded"),
    }
}

#[test]
fn base_world_loads_with_expected_counts() {
    let d = write_dir(&base());
    let (w, r) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(w.num_users(), 4);
    assert_eq!(w.graph.num_edges(), 2);
    assert_eq!(w.stories.len(), 2);
    assert_eq!(w.stories[1].topic, None, "empty topic is None");
    assert_eq!(w.topics.name(w.stories[0].topic.unwrap()), "news");
    assert_eq!(r.events[Action::Impression.index()], 2);
    assert_eq!(r.events[Action::Like.index()], 1);
    assert_eq!(r.interactions, 1);
    assert_eq!(r.truth, 1);
    assert_eq!(w.truth[0].p, [0.1, 0.2, 0.0, 0.0, 0.01]);
    assert_eq!(r.time_span, Some((150, 250)));
    assert_eq!(r.total_skipped(), 0);
    let text = r.to_string();
    assert!(text.contains("users:        4"), "{text}");
    assert!(text.contains("impression 2, click 0, like 1"), "{text}");
    assert!(text.contains("skipped rows: none"), "{text}");
}

#[test]
fn events_are_sorted_by_ts_user_story_action() {
    let d = with(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nc\ts2\tlike\t300\nb\ts1\tlike\t160\nb\ts1\timpression\t160\na\ts1\tclick\t160\n",
    );
    let (w, _) = read_world(d.path(), &STRICT).unwrap();
    let got: Vec<(i64, &str, Action)> = w
        .events
        .iter()
        .map(|e| (e.ts, w.users.name(e.user), e.action))
        .collect();
    assert_eq!(
        got,
        vec![
            (160, "a", Action::Click),
            (160, "b", Action::Impression),
            (160, "b", Action::Like),
            (300, "c", Action::Like)
        ]
    );
}

#[test]
fn columns_found_by_name_extra_columns_ignored_and_gz_tables() {
    let mut m = base();
    m.insert(
        "events.tsv",
        "ts\tnote\taction\tstory_id\tuser_id\n150\tx\timpression\ts1\tb\n".into(),
    );
    m.insert(
        "friendships.tsv",
        "user_a\tuser_b\tsince\na\tb\t10\nb\tc\t20\n".into(),
    );
    let stories = m.remove("stories.tsv").unwrap();
    let d = write_dir(&m);
    let f = std::fs::File::create(d.path().join("stories.tsv.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    enc.write_all(stories.as_bytes()).unwrap();
    enc.finish().unwrap();
    let (w, r) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(r.stories, 2);
    assert_eq!(w.events.len(), 1);
    assert_eq!(w.events[0].ts, 150);
    assert_eq!(w.users.name(w.events[0].user), "b");
    assert_eq!(w.graph.num_edges(), 2);
}

#[test]
fn missing_required_files() {
    for name in ["world.toml", "friendships.tsv", "stories.tsv", "events.tsv"] {
        match world_err(without(name).path()) {
            WorldError::MissingFile { name: n, .. } => assert_eq!(n, name),
            e => panic!("{name}: unexpected {e}"),
        }
    }
    // Optional tables.
    for name in ["users.tsv", "interactions.tsv", "truth.tsv"] {
        let d = without(name);
        assert!(read_world(d.path(), &STRICT).is_ok(), "{name} is optional");
    }
}

#[test]
fn bad_world_toml() {
    let e = world_err(with("world.toml", "description = \"no name\"\n").path());
    assert!(matches!(e, WorldError::Meta { .. }), "{e}");
    assert!(e.to_string().contains("world.toml"), "{e}");
    let e = world_err(with("world.toml", "name = \"\"\n").path());
    assert!(e.to_string().contains("non-empty `name`"), "{e}");
    let e = world_err(with("world.toml", "name = \"x\"\nexposure = \"psychic\"\n").path());
    assert!(matches!(e, WorldError::Meta { .. }), "{e}");
}

#[test]
fn exposure_mode_parsed() {
    let d = with(
        "world.toml",
        "name = \"x\"\nexposure = \"friends_of_author\"\n",
    );
    let (w, _) = read_world(d.path(), &STRICT).unwrap();
    assert_eq!(w.meta.exposure, Exposure::FriendsOfAuthor);
}

#[test]
fn missing_column() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\tverb\tts\nb\ts1\tlike\t150\n",
        )
        .path(),
    );
    match e {
        WorldError::MissingColumn { column, header, .. } => {
            assert_eq!(column, "action");
            assert_eq!(header, vec!["user_id", "story_id", "verb", "ts"]);
        }
        e => panic!("unexpected {e}"),
    }
    let e = world_err(with("users.tsv", "id\na\n").path());
    assert!(
        matches!(
            e,
            WorldError::MissingColumn {
                column: "user_id",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn empty_files() {
    for name in ["events.tsv", "stories.tsv", "users.tsv", "friendships.tsv"] {
        let d = with(name, "");
        match read_world(d.path(), &STRICT) {
            Err(IoError::Empty { path, .. }) => assert!(path.ends_with(name)),
            Err(e) => panic!("{name}: unexpected {e}"),
            Ok(_) => panic!("{name}: loaded"),
        }
    }
}

#[test]
fn wrong_column_count_names_file_and_line() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nb\ts1\timpression\t150\nb\ts1\tlike\n",
        )
        .path(),
    );
    match &e {
        WorldError::ColumnCount {
            path,
            line,
            expected,
            found,
        } => {
            assert!(path.ends_with("events.tsv"));
            assert_eq!((*line, *expected, *found), (3, 4, 3));
        }
        e => panic!("unexpected {e}"),
    }
    assert!(e.to_string().contains("events.tsv:3:"), "{e}");
}

#[test]
fn non_integer_timestamps() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nb\ts1\tlike\t1.5e2\n",
        )
        .path(),
    );
    assert!(
        matches!(&e, WorldError::BadInteger { line: 2, column: "ts", found, .. } if found == "1.5e2"),
        "{e}"
    );
    let e = world_err(
        with(
            "stories.tsv",
            "story_id\tauthor_id\tcreated_at\tkind\ns1\ta\tyesterday\tstatus\n",
        )
        .path(),
    );
    assert!(
        matches!(
            e,
            WorldError::BadInteger {
                line: 2,
                column: "created_at",
                ..
            }
        ),
        "{e}"
    );
    let e = world_err(
        with(
            "interactions.tsv",
            "from_user\tto_user\tkind\tts\na\tb\tmsg\t\n",
        )
        .path(),
    );
    assert!(matches!(e, WorldError::BadInteger { line: 2, .. }), "{e}");
}

#[test]
fn unknown_action() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nb\ts1\tlove\t150\n",
        )
        .path(),
    );
    assert!(
        matches!(&e, WorldError::UnknownAction { line: 2, found, .. } if found == "love"),
        "{e}"
    );
}

#[test]
fn unknown_ids() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nb\ts9\tlike\t150\n",
        )
        .path(),
    );
    assert!(
        matches!(&e, WorldError::UnknownStory { line: 2, id, .. } if id == "s9"),
        "{e}"
    );
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nzz\ts1\tlike\t150\n",
        )
        .path(),
    );
    assert!(
        matches!(&e, WorldError::UnknownUser { line: 2, id, column: "user_id", declared_in: "users.tsv", .. } if id == "zz"),
        "{e}"
    );
    let e = world_err(
        with(
            "stories.tsv",
            "story_id\tauthor_id\tcreated_at\tkind\ns1\ta\t100\tx\ns2\tghost\t100\tx\n",
        )
        .path(),
    );
    assert!(
        matches!(
            &e,
            WorldError::UnknownUser {
                line: 3,
                column: "author_id",
                ..
            }
        ),
        "{e}"
    );
    let e = world_err(with("friendships.tsv", "user_a\tuser_b\na\tb\nb\tnobody\n").path());
    assert!(
        matches!(&e, WorldError::UnknownUser { line: 3, column: "user_b", id, .. } if id == "nobody"),
        "{e}"
    );
    let e = world_err(
        with(
            "interactions.tsv",
            "from_user\tto_user\tkind\tts\na\tq\tmsg\t5\n",
        )
        .path(),
    );
    assert!(
        matches!(
            &e,
            WorldError::UnknownUser {
                column: "to_user",
                ..
            }
        ),
        "{e}"
    );
    let e = world_err(
        with("truth.tsv", "user_id\tstory_id\tts\tp_click\tp_like\tp_comment\tp_share\tp_hide\nb\tsX\t150\t0\t0\t0\t0\t0\n").path(),
    );
    assert!(matches!(&e, WorldError::UnknownStory { .. }), "{e}");
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\n\ts1\tlike\t150\n",
        )
        .path(),
    );
    assert!(
        matches!(
            &e,
            WorldError::EmptyId {
                column: "user_id",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn without_users_tsv_users_are_friends_and_authors() {
    let mut m = base();
    m.remove("users.tsv");
    m.insert(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ns1\ta\t100\tx\ns2\tloner\t100\tx\n".into(),
    );
    m.insert(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nloner\ts1\tclick\t100\n".into(),
    );
    m.remove("truth.tsv");
    let d = write_dir(&m);
    let (w, _) = read_world(d.path(), &STRICT).unwrap();
    let names: Vec<&str> = w.users.names().iter().map(String::as_str).collect();
    assert_eq!(names, vec!["a", "b", "c", "loner"]);
    assert_eq!(w.graph.num_nodes(), 4);
    assert_eq!(w.graph.degree(3), 0);
    // An event by someone who is neither a friend nor an author is unknown.
    m.insert(
        "events.tsv",
        "user_id\tstory_id\taction\tts\nd\ts1\tclick\t100\n".into(),
    );
    let d = write_dir(&m);
    let e = world_err(d.path());
    assert!(
        matches!(
            &e,
            WorldError::UnknownUser {
                declared_in: "friendships.tsv or story authors",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn event_before_its_story() {
    let e = world_err(
        with(
            "events.tsv",
            "user_id\tstory_id\taction\tts\nb\ts2\timpression\t199\n",
        )
        .path(),
    );
    match e {
        WorldError::BeforeStory {
            line,
            story,
            ts,
            created_at,
            ..
        } => {
            assert_eq!((line, story.as_str(), ts, created_at), (2, "s2", 199, 200));
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn duplicate_ids() {
    let e = world_err(
        with(
            "stories.tsv",
            "story_id\tauthor_id\tcreated_at\tkind\ns1\ta\t100\tx\ns2\ta\t100\tx\ns1\tb\t100\tx\n",
        )
        .path(),
    );
    assert!(
        matches!(&e, WorldError::DuplicateId { line: 4, what: "story", id, .. } if id == "s1"),
        "{e}"
    );
    let e = world_err(with("users.tsv", "user_id\na\nb\nc\nd\nb\n").path());
    assert!(
        matches!(
            &e,
            WorldError::DuplicateId {
                line: 6,
                what: "user",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_probability() {
    let e = world_err(
        with("truth.tsv", "user_id\tstory_id\tts\tp_click\tp_like\tp_comment\tp_share\tp_hide\nb\ts1\t150\t0.1\t1.5\t0\t0\t0\n").path(),
    );
    assert!(
        matches!(
            &e,
            WorldError::BadProbability {
                column: "p_like",
                line: 2,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn lenient_skips_and_counts_by_reason() {
    let mut m = base();
    m.insert(
        "events.tsv",
        [
            "user_id\tstory_id\taction\tts",
            "b\ts1\timpression\t150", // ok
            "b\ts1\tlove\t150",       // unknown action
            "b\ts1\tlike",            // column count
            "zz\ts1\tlike\t150",      // unknown user
            "b\ts9\tlike\t150",       // unknown story
            "b\ts2\tlike\t150",       // before story
            "b\ts1\tlike\tnoon",      // non-integer
            "c\ts2\tclick\t201",      // ok
            "b\ts3\tlike\t500",       // story s3 skipped (duplicate id row) -> unknown story
        ]
        .join("\n"),
    );
    m.insert(
        "stories.tsv",
        "story_id\tauthor_id\tcreated_at\tkind\ns1\ta\t100\tx\ns2\tb\t200\tx\ns1\tc\t300\tx\ns4\tghost\t5\tx\n"
            .into(),
    );
    m.insert(
        "friendships.tsv",
        "user_a\tuser_b\na\tb\nb\tnobody\n".into(),
    );
    let d = write_dir(&m);
    assert!(read_world(d.path(), &STRICT).is_err());
    let (w, r) = read_world(d.path(), &LENIENT).unwrap();
    assert_eq!(w.events.len(), 2);
    assert_eq!(w.stories.len(), 2);
    assert_eq!(w.graph.num_edges(), 1);
    let get = |file: &str, reason: &str| {
        r.skipped
            .get(&(file.to_string(), reason))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(get("events.tsv", "unknown action"), 1);
    assert_eq!(get("events.tsv", "wrong column count"), 1);
    assert_eq!(get("events.tsv", "unknown user id"), 1);
    assert_eq!(get("events.tsv", "unknown story id"), 2);
    assert_eq!(get("events.tsv", "event before its story"), 1);
    assert_eq!(get("events.tsv", "non-integer timestamp"), 1);
    assert_eq!(get("stories.tsv", "duplicate id"), 1);
    assert_eq!(get("stories.tsv", "unknown user id"), 1);
    assert_eq!(get("friendships.tsv", "unknown user id"), 1);
    assert_eq!(r.total_skipped(), 10);
    let text = r.to_string();
    assert!(text.contains("skipped rows: 10 (lenient)"), "{text}");
    assert!(text.contains("events.tsv: unknown story id: 2"), "{text}");
}

fn sample_world() -> World {
    let mut w = World::default();
    w.meta.name = "round trip".into();
    w.meta.description = "hand made".into();
    w.meta.seed = Some(7);
    w.meta.start = Some(0);
    w.meta.end = Some(10_000);
    w.meta.params.insert("users".into(), 5.into());
    let mut users = Interner::new();
    for u in ["u0", "u1", "u2", "u3", "isolated"] {
        users.intern(u);
    }
    w.users = users;
    w.graph = Graph::from_edges(5, &[(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]).0;
    let k_status = w.kinds.intern("status");
    let k_photo = w.kinds.intern("photo");
    let t_a = w.topics.intern("sports");
    for (i, (author, t, kind, topic)) in [
        (0, 10, k_status, Some(t_a)),
        (1, 20, k_photo, None),
        (2, 30, k_status, Some(t_a)),
    ]
    .into_iter()
    .enumerate()
    {
        w.story_ids.intern(&format!("story-{i}"));
        w.stories.push(Story {
            author,
            created_at: t,
            kind,
            topic,
        });
    }
    for (ts, user, story, action) in [
        (11, 1, 0, Action::Impression),
        (12, 1, 0, Action::Like),
        (21, 0, 1, Action::Impression),
        (21, 0, 1, Action::Hide),
        (35, 4, 2, Action::Impression),
        (36, 3, 2, Action::Share),
    ] {
        w.events.push(Event {
            ts,
            user,
            story,
            action,
        });
    }
    w.events.sort_unstable();
    let msg = w.interaction_kinds.intern("message");
    w.interactions.push(Interaction {
        ts: 5,
        from: 0,
        to: 1,
        kind: msg,
    });
    w.interactions.push(Interaction {
        ts: 6,
        from: 1,
        to: 0,
        kind: msg,
    });
    w.truth.push(Truth {
        user: 1,
        story: 0,
        ts: 11,
        p: [0.5, 0.25, 0.125, 0.0625, 0.001],
    });
    w.truth.push(Truth {
        user: 4,
        story: 2,
        ts: 35,
        p: [0.0, 1.0, 0.0, 0.0, 0.0],
    });
    w
}

fn assert_same(a: &World, b: &World) {
    assert_eq!(a.meta, b.meta);
    assert_eq!(a.users, b.users);
    assert_eq!(a.graph, b.graph);
    assert_eq!(a.stories, b.stories);
    assert_eq!(a.story_ids, b.story_ids);
    assert_eq!(a.kinds, b.kinds);
    assert_eq!(a.topics, b.topics);
    assert_eq!(a.events, b.events);
    assert_eq!(a.interactions, b.interactions);
    assert_eq!(a.interaction_kinds, b.interaction_kinds);
    assert_eq!(a.truth, b.truth);
}

#[test]
fn round_trip_plain_and_gzip() {
    let w = sample_world();
    for gzip in [false, true] {
        let d = tempfile::tempdir().unwrap();
        write_world(&w, d.path(), &WriteOptions { gzip }).unwrap();
        assert_eq!(d.path().join("events.tsv.gz").exists(), gzip);
        let (back, report): (World, LoadReport) = read_world(d.path(), &STRICT).unwrap();
        assert_same(&w, &back);
        assert_eq!(report.users, 5);
        assert_eq!(report.friendships.edges, 5);
        assert_eq!(report.total_events(), 6);
        // And a second write of the read world is byte-identical.
        let d2 = tempfile::tempdir().unwrap();
        write_world(&back, d2.path(), &WriteOptions { gzip }).unwrap();
        for f in std::fs::read_dir(d.path()).unwrap() {
            let f = f.unwrap().file_name();
            let a = std::fs::read(d.path().join(&f)).unwrap();
            let b = std::fs::read(d2.path().join(&f)).unwrap();
            assert_eq!(a, b, "{f:?} differs");
        }
    }
}
