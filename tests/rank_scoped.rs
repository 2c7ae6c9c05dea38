//! One scope, one index: a viewer ranked through the index of a small scope (one user, as
//! the debug binary does; a shard, as `feedrank generate --shard` does) gets exactly what
//! the whole-world index gives it: the same explanation (feed, every candidate's scores,
//! multipliers and contributions, the filtered candidates), the same profile, and the same
//! output bytes.
use feedrank::index::Scope;
use feedrank::pipeline::FeedRanker;
use feedrank::rank::{FilterReason, OutputFormat, RankContext, RankParams, Shard};
use feedrank::world::World;
use std::path::Path;

fn default_world() -> (World, feedrank::model::TrainedModel) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (world, _, _) =
        feedrank::pipeline::load_world(&root.join("graph_data/sample"), &Default::default())
            .expect("default world");
    let model = feedrank::model::load(&root.join("models/sample.frm")).expect("default model");
    (world, model)
}

#[test]
fn one_user_scope_equals_the_whole_world() {
    let (world, model) = default_world();
    let params = RankParams::default();
    let as_of = RankContext::default_as_of(&world);
    let full = FeedRanker::new(&world, &model, Scope::All, as_of, &params).expect("index");
    let batch: Vec<_> = (0..world.num_users() as u32)
        .map(|u| full.inspect(u).expect("inspect"))
        .collect();
    let hides = |u: usize| {
        batch[u]
            .explanation
            .filtered
            .iter()
            .any(|(_, r)| *r == FilterReason::HiddenAuthor)
    };
    let users: Vec<u32> = (0..world.num_users())
        .filter(|&u| u % 4 == 0 || batch[u].explanation.feed.fallback || hides(u))
        .map(|u| u as u32)
        .collect();
    let (mut fallbacks, mut hidden, mut placed) = (0, 0, 0);
    for &u in &users {
        let one = FeedRanker::new(&world, &model, Scope::viewers(vec![u]), as_of, &params)
            .expect("scoped index");
        let got = one.inspect(u).expect("inspect");
        let want = &batch[u as usize];
        assert_eq!(got.explanation, want.explanation, "user {u}");
        assert_eq!(got.profile, want.profile, "profile of user {u}");
        assert_eq!(got.heads, want.heads);
        fallbacks += usize::from(got.explanation.feed.fallback);
        hidden += usize::from(hides(u as usize));
        placed += got.explanation.feed.items.len();
        // Anyone else is outside this index: an error, never a made-up feed.
        let other = (u + 1) % world.num_users() as u32;
        let err = one.feed(other).expect_err("a user outside the scope");
        assert!(
            err.to_string().contains("out of scope") || err.to_string().contains("scope"),
            "{err}"
        );
    }
    assert!(users.len() >= 500, "{} users checked", users.len());
    assert!(fallbacks > 0, "no fallback user was checked");
    assert!(hidden > 0, "no user with a hidden-author drop was checked");
    assert!(placed > 10_000, "{placed} items compared");
}

/// Every shard's bytes equal the full run's lines of the shard's users, in the same order,
/// and the shards together cover every user once.
fn shards_equal_the_full_run(world: &World, model: &feedrank::model::TrainedModel, n: u32) {
    let params = RankParams::default();
    let as_of = RankContext::default_as_of(world);
    let full = FeedRanker::new(world, model, Scope::All, as_of, &params).expect("index");
    let mut out = Vec::new();
    full.write_feeds(OutputFormat::Jsonl, &mut out, &|_| {})
        .expect("full run");
    let full_lines: Vec<&str> = std::str::from_utf8(&out).expect("utf8").lines().collect();
    assert_eq!(full_lines.len(), world.num_users());
    let mut covered = 0;
    for i in 0..n {
        let shard = Shard::parse(&format!("{i}/{n}")).expect("shard");
        let scope = Scope::shard(world, shard);
        let users = scope.viewer_ids(world);
        let ranker = FeedRanker::new(world, model, scope, as_of, &params).expect("shard index");
        let cov = ranker.index().coverage();
        assert!(
            cov.stories < world.stories.len(),
            "shard {i}/{n} indexed every story"
        );
        let mut got = Vec::new();
        ranker
            .write_feeds(OutputFormat::Jsonl, &mut got, &|_| {})
            .expect("shard run");
        let want: String = users
            .iter()
            .map(|&u| format!("{}\n", full_lines[u as usize]))
            .collect();
        assert!(
            got == want.as_bytes(),
            "shard {i}/{n} differs from the full run restricted to its users"
        );
        covered += users.len();
    }
    assert_eq!(
        covered,
        world.num_users(),
        "the shards cover every user once"
    );
}

#[test]
fn shards_of_the_default_world_equal_the_full_run() {
    let (world, model) = default_world();
    shards_equal_the_full_run(&world, &model, 4);
}

/// A 20,000-user simulated world, ranked with the default world's model (whether a shard
/// equals the full run does not depend on how well the model fits the world): the model is
/// from another world on purpose, as `--allow-other-world` lets a command rank with it.
#[test]
fn shards_of_a_20k_world_equal_the_full_run() {
    let (_, model) = default_world();
    let world =
        feedrank::sim::simulate(&feedrank::sim::SimParams::new(20_000, 7, 7)).expect("simulate");
    let allowed = feedrank::model::compat::admit(&model, &world, true).expect("allowed");
    assert!(allowed.is_some(), "the default model is another world's");
    shards_equal_the_full_run(&world, &model, 3);
}
