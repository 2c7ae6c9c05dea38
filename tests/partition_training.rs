//! The training input of a sample of viewers (README "Spark", training beyond one machine):
//! written to disk and read back, it gives exactly the training rows the whole world gives
//! for the sample's viewers, and the model trained on it ranks the whole world.
use feedrank::config::Config;
use feedrank::features::FeatureSpace;
use feedrank::index::{extract_training, read_partition, sample_viewers, Scope};
use feedrank::io::world_tsv::partition::{write_partition_files, PartitionMeta};
use feedrank::io::world_tsv::{read_world, write_world, ReadOptions, WriteOptions};
use feedrank::model::{build_rows, default_as_of, Rows};
use feedrank::world::World;
use std::path::Path;

/// The rows of `rows` whose viewer is in `viewers` (sorted), as one comparable tuple each.
fn rows_of(rows: &Rows, viewers: &[u32]) -> Vec<(u32, u32, i64, u8, Vec<u32>)> {
    let w = rows.x.len() / rows.len().max(1);
    (0..rows.len())
        .filter(|&i| viewers.binary_search(&rows.viewer[i]).is_ok())
        .map(|i| {
            let x = rows.x[i * w..(i + 1) * w]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            (rows.viewer[i], rows.story[i], rows.ts[i], rows.labels[i], x)
        })
        .collect()
}

/// Writes the training input of the sample `fraction` of `world` to `dir` and loads it back.
fn write_and_load(world: &World, fraction: f64, as_of: i64, cfg: &Config, dir: &Path) -> World {
    let viewers = sample_viewers(world, fraction);
    let meta = PartitionMeta {
        as_of,
        partition: 0,
        partitions: 1,
        training: false,
        author_rate_window_s: None,
    };
    let (sub, files) = extract_training(world, &viewers, meta, &cfg.features).expect("extract");
    assert!(files.meta.training, "extract_training marks the input");
    assert!(
        files.aggregates.len() > 3,
        "aggregates at every training day"
    );
    write_world(&sub, dir, &WriteOptions { gzip: false }).expect("write world");
    write_partition_files(dir, &sub, &files).expect("write partition");
    let (loaded, _) = read_world(dir, &ReadOptions::default()).expect("read back");
    assert!(
        loaded.events.len() < world.events.len() / 2,
        "the input holds {} of the world's {} events",
        loaded.events.len(),
        world.events.len()
    );
    loaded
}

/// A simulated world as read from its directory (kinds and topics interned in file order,
/// as the training input's are).
fn simulated(users: usize, days: u32, seed: u64, dir: &Path) -> World {
    let world = feedrank::sim::simulate(&feedrank::sim::SimParams::new(users, days, seed))
        .expect("simulate");
    write_world(&world, dir, &WriteOptions { gzip: false }).expect("write world");
    read_world(dir, &ReadOptions::default()).expect("read").0
}

#[test]
fn a_samples_training_input_gives_the_whole_worlds_rows_for_its_viewers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = simulated(800, 9, 21, &tmp.path().join("whole"));
    let cfg = Config::default();
    let as_of = default_as_of(&world).expect("events");
    let dir = tmp.path().join("train-input");
    let sub = write_and_load(&world, 0.2, as_of, &cfg, &dir);
    let part = read_partition(&dir, &sub)
        .expect("partition tables")
        .expect("a partition world");
    assert!(part.training && part.as_of() == as_of);
    let viewers = sample_viewers(&world, 0.2);
    assert_eq!(part.viewers, viewers);
    assert!(
        viewers.len() > 100 && viewers.len() < 260,
        "{}",
        viewers.len()
    );

    let full = FeatureSpace::new(&world, &cfg.features).expect("space");
    let expected = rows_of(&build_rows(&full, as_of).expect("rows"), &viewers);
    let fs = part
        .training_space(&sub, &cfg.features)
        .expect("training space");
    let got = build_rows(&fs, as_of).expect("rows of the input");
    assert_eq!(
        got.len(),
        expected.len(),
        "one row per sampled viewer's exposure"
    );
    assert!(expected.len() > 1000, "{} rows", expected.len());
    assert!(
        got.viewer.iter().all(|v| viewers.binary_search(v).is_ok()),
        "rows only for the sample's viewers"
    );
    let got = rows_of(&got, &viewers);
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(
            (g.0, g.1, g.2, g.3),
            (e.0, e.1, e.2, e.3),
            "same exposures in the same order"
        );
        let differ: Vec<String> = (0..g.4.len())
            .filter(|&j| g.4[j] != e.4[j])
            .map(|j| {
                format!(
                    "{}: {} != {}",
                    feedrank::features::NAMES[j],
                    f32::from_bits(g.4[j]),
                    f32::from_bits(e.4[j])
                )
            })
            .collect();
        assert!(differ.is_empty(), "row {:?}: {differ:?}", (g.0, g.1, g.2));
    }

    // the model trained on the input ranks the whole world (users outside the sample too)
    let model =
        feedrank::pipeline::train_sample(&sub, &part, &cfg, &feedrank::util::progress::Silent)
            .expect("train on the input");
    assert_eq!(model.meta.as_of, as_of);
    assert!(
        (model.meta.train_rows + model.meta.valid_rows) as usize <= expected.len(),
        "trained on the sample's rows only"
    );
    let ranker = feedrank::pipeline::FeedRanker::new(
        &world,
        &model,
        Scope::All,
        as_of,
        &feedrank::rank::RankParams::default(),
    )
    .expect("the sample's model ranks the whole world");
    let outside = (0..world.num_users() as u32)
        .find(|u| viewers.binary_search(u).is_err())
        .expect("a user outside the sample");
    let feed = ranker.feed(outside).expect("feed");
    assert!(!feed.items.is_empty(), "user {outside} gets a feed");
}

#[test]
fn a_training_input_is_not_ranked_and_a_ranking_partition_is_not_trained_on() {
    let tmp = tempfile::tempdir().expect("tmp");
    let world = simulated(300, 6, 4, &tmp.path().join("whole"));
    let cfg = Config::default();
    let as_of = default_as_of(&world).expect("events");
    let dir = tmp.path().join("train-input");
    let sub = write_and_load(&world, 0.5, as_of, &cfg, &dir);
    let part = read_partition(&dir, &sub)
        .expect("read")
        .expect("partition");
    let model =
        feedrank::pipeline::train_for(&world, as_of, &cfg, &feedrank::util::progress::Silent)
            .expect("train");
    let err = feedrank::pipeline::FeedRanker::new(
        &sub,
        &model,
        part.clone().scope(),
        as_of,
        &feedrank::rank::RankParams::default(),
    )
    .err()
    .expect("a training input is not ranked");
    assert!(err.to_string().contains("training input"), "{err}");

    let mut other = cfg.features.clone();
    other.author_rate_window_days += 1.0;
    let err = part
        .training_space(&sub, &other)
        .err()
        .expect("aggregates for another rate window are refused");
    assert!(err.to_string().contains("author rate window"), "{err}");

    let mut ranking = part;
    ranking.training = false;
    let err = ranking
        .training_space(&sub, &cfg.features)
        .err()
        .expect("a ranking partition is not trained on");
    assert!(
        err.to_string().contains("feedrank partition --training"),
        "{err}"
    );
}
