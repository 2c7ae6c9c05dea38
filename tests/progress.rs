//! The progress hooks of the long library calls (`feedrank::util::progress`), which the
//! binaries turn into progress bars: every step a call announces is advanced by exactly its
//! total, and the totals are the work actually done (rows built, lists ranked, days
//! simulated, stories looked at), so a hook cannot be silently disconnected.
use feedrank::config::Config;
use feedrank::features::FeatureSpace;
use feedrank::sim::{simulate, simulate_with_progress, SimParams};
use feedrank::util::progress::Progress;
use std::path::Path;
use std::sync::Mutex;

/// Records every step: (name, total, units advanced).
#[derive(Default)]
struct Recorder {
    steps: Mutex<Vec<(String, u64, u64)>>,
}

impl Progress for Recorder {
    fn step(&self, what: &str, total: u64) {
        self.steps
            .lock()
            .unwrap()
            .push((what.to_string(), total, 0));
    }
    fn advance(&self, n: u64) {
        let mut steps = self.steps.lock().unwrap();
        let last = steps.last_mut().expect("advance before any step");
        last.2 += n;
    }
}

impl Recorder {
    /// The steps, each checked to have been advanced by exactly its total.
    fn complete_steps(self) -> Vec<(String, u64)> {
        let steps = self.steps.into_inner().unwrap();
        for (what, total, done) in &steps {
            assert_eq!(
                done, total,
                "step {what:?}: {done} of {total} units reported"
            );
        }
        steps.into_iter().map(|(w, t, _)| (w, t)).collect()
    }

    fn total_of(steps: &[(String, u64)], what: &str) -> u64 {
        steps
            .iter()
            .find(|s| s.0 == what)
            .unwrap_or_else(|| panic!("no step {what:?} in {steps:?}"))
            .1
    }
}

#[test]
fn simulate_reports_every_user_and_day() {
    let params = SimParams::new(250, 4, 9);
    let rec = Recorder::default();
    let (world, hidden) = simulate_with_progress(&params, false, &rec).unwrap();
    assert!(hidden.is_none());
    let steps = rec.complete_steps();
    assert_eq!(
        steps,
        vec![
            ("graph signals".to_string(), 250),
            ("simulating days".to_string(), 4)
        ]
    );
    // the same world as without progress
    assert!(world == simulate(&params).unwrap());
}

#[test]
fn training_and_evaluation_report_rows_fits_and_lists() {
    let world = simulate(&SimParams::new(300, 6, 4)).unwrap();
    let cfg = Config::default();
    let as_of = feedrank::model::default_as_of(&world).unwrap();
    let fs = FeatureSpace::new(&world, &cfg.features).unwrap();
    let rec = Recorder::default();
    let model = feedrank::model::train_with_progress(&fs, as_of, &cfg, &rec).unwrap();
    let steps = rec.complete_steps();
    let names: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        names,
        ["building training rows", "fitting MF", "fitting heads"]
    );
    // one unit per training row built
    assert_eq!(
        Recorder::total_of(&steps, "building training rows"),
        model.meta.rows as u64
    );
    // "auto": ALS and BPR compared, then the earlier rows' fit and the serving fit
    assert_eq!(Recorder::total_of(&steps, "fitting MF"), 4);
    // every engagement head: each L2 of the grid, then the final fit
    assert_eq!(
        Recorder::total_of(&steps, "fitting heads"),
        5 * (cfg.model.l2_grid.len() as u64 + 1)
    );
    // progress does not change the model
    let plain = feedrank::model::train_with(&fs, as_of, &cfg).unwrap();
    assert!(plain.heads == model.heads, "progress changed the model");

    // the evaluation: one step per method, one unit per list
    let scorer = feedrank::model::ModelScorer::new(&fs, &model).unwrap();
    let params = feedrank::eval::EvalParams {
        split_at: Some(as_of),
        ..feedrank::eval::EvalParams::default()
    };
    let lists = feedrank::eval::EvalLists::build(&world, as_of, &params.grades).unwrap();
    let rec = Recorder::default();
    let result =
        feedrank::eval::evaluate_lists_with_progress(&world, &lists, Some(&scorer), &params, &rec)
            .unwrap();
    let steps = rec.complete_steps();
    assert_eq!(steps.len(), result.methods.len());
    for (m, (what, total)) in result.methods.iter().zip(&steps) {
        assert_eq!(what, &format!("evaluating {}", m.name));
        assert_eq!(*total, lists.lists.len() as u64);
    }
    // the same through `evaluate` (what `feedrank run` calls), which builds the lists itself
    let rec = Recorder::default();
    let again =
        feedrank::eval::evaluate_with_progress(&world, Some(&scorer), &params, &rec).unwrap();
    assert_eq!(rec.complete_steps(), steps);
    assert_eq!(again.to_json().unwrap(), result.to_json().unwrap());

    // the report's bootstrap: 5 intervals per method, one per difference to the model
    let opts = feedrank::eval::ReportOptions {
        resamples: 50,
        ..feedrank::eval::ReportOptions::default()
    };
    let rec = Recorder::default();
    let stats = feedrank::eval::report::report_stats_with_progress(&result, &opts, &rec);
    let m = result.methods.len() as u64;
    assert_eq!(
        rec.complete_steps(),
        vec![("bootstrap intervals".to_string(), 5 * m + (m - 1))]
    );
    assert_eq!(stats, feedrank::eval::report::report_stats(&result, &opts));
}

#[test]
fn like_inference_reports_every_story() {
    let world = simulate(&SimParams::new(300, 4, 2)).unwrap();
    // the stories 20 times over: enough to span several batches of reports
    let stories: Vec<_> = (0..20)
        .flat_map(|_| world.stories.iter().cloned())
        .collect();
    assert!(stories.len() > 2 * 4096, "{} stories", stories.len());
    let horizon = 3 * 86_400;
    let rec = Recorder::default();
    let likes =
        feedrank::io::import::infer_likes_with_progress(&world.graph, &stories, horizon, &rec);
    assert_eq!(
        rec.complete_steps(),
        vec![("inferring likes".to_string(), stories.len() as u64)]
    );
    assert_eq!(
        likes,
        feedrank::io::import::infer_likes(&world.graph, &stories, horizon)
    );
}

#[test]
fn the_parse_and_snapshot_build_are_reported_once_then_not_at_all() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample");
    let tmp = tempfile::tempdir().unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in std::fs::read_dir(&sample).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let to = tmp.path().join(entry.file_name());
            std::fs::copy(entry.path(), &to).unwrap();
            let f = std::fs::OpenOptions::new().write(true).open(&to).unwrap();
            f.set_modified(old).unwrap();
        }
    }
    let opts = feedrank::pipeline::LoadOptions::default();
    let rec = Recorder::default();
    let (_, _, from) =
        feedrank::pipeline::load_world_with_progress(tmp.path(), &opts, &rec).unwrap();
    assert!(
        matches!(from, feedrank::pipeline::LoadedFrom::Tsv { .. }),
        "{from}"
    );
    // the parse: one unit per byte of the tables read
    let tables = [
        "users.tsv",
        "friendships.tsv",
        "stories.tsv",
        "events.tsv",
        "interactions.tsv",
        "truth.tsv",
    ];
    let bytes: u64 = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            tables
                .iter()
                .any(|t| name == *t || name == format!("{t}.gz"))
        })
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(bytes > 0);
    assert_eq!(
        rec.complete_steps(),
        vec![
            ("parsing the world".to_string(), bytes),
            (
                "building the world snapshot".to_string(),
                feedrank::io::snapshot::SNAPSHOT_STEPS
            )
        ]
    );
    // the second load reads the snapshot: nothing to parse or build
    let rec = Recorder::default();
    let (_, _, from) =
        feedrank::pipeline::load_world_with_progress(tmp.path(), &opts, &rec).unwrap();
    assert_eq!(from, feedrank::pipeline::LoadedFrom::Snapshot);
    assert!(rec.complete_steps().is_empty());
}

#[test]
fn an_import_reports_its_input_bytes_and_its_stories() {
    let d = tempfile::tempdir().unwrap();
    let friends = "userID\tfriendID\n1\t2\n2\t1\n2\t3\n";
    let tags = "userID\tartistID\ttagID\tday\tmonth\tyear\n1\t9\t5\t1\t1\t2009\n\
                2\t9\t5\t1\t3\t2009\n2\t9\t5\t1\t4\t2009\n3\t8\t1\t1\t1\t2009\n";
    std::fs::write(d.path().join("user_friends.dat"), friends).unwrap();
    std::fs::write(d.path().join("user_taggedartists.dat"), tags).unwrap();
    let input = feedrank::io::import::LastfmInput::from_dir(d.path()).unwrap();
    let opts = feedrank::io::import::ImportOptions::default();
    let rec = Recorder::default();
    let (world, _) =
        feedrank::io::import::import_lastfm_with_progress(&input, &opts, &rec).unwrap();
    assert_eq!(
        rec.complete_steps(),
        vec![
            (
                "reading the input".to_string(),
                (friends.len() + tags.len()) as u64
            ),
            ("inferring likes".to_string(), world.stories.len() as u64)
        ]
    );
    assert!(!world.stories.is_empty());
}

#[test]
fn writing_a_world_reports_every_row() {
    let world = simulate(&SimParams::new(120, 3, 1)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let rec = Recorder::default();
    feedrank::io::world_tsv::write_world_with_progress(
        &world,
        d.path(),
        &feedrank::io::world_tsv::WriteOptions::default(),
        &rec,
    )
    .unwrap();
    // every table's data rows (the files' lines minus their headers)
    let rows: usize = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count() - 1)
        .sum();
    assert_eq!(
        rec.complete_steps(),
        vec![("writing the world".to_string(), rows as u64)]
    );
}
