//! The debug binary's one-user path (scoped rank index, ego-only edge signals, scoped feature
//! space: `RankIndex::scoped` + `rank::candidates_of` + `pipeline::with_viewer_scorer`) gives
//! exactly the batch path's explanation (feed, every candidate's scores, multipliers and
//! contributions, the filtered candidates) and profile, on the default world with its model,
//! for every fourth user plus every fallback user and every user with a hidden-author drop.
use feedrank::graph::EdgeSignals;
use feedrank::rank::explain::profile;
use feedrank::rank::{
    candidates_of, explain_user, FilterReason, RankContext, RankIndex, RankParams, Worker,
};
use std::path::Path;

#[test]
fn one_user_path_equals_the_batch_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (world, _) = feedrank::pipeline::load_world(&root.join("graph_data/sample"), false)
        .expect("default world");
    let model = feedrank::model::load(&root.join("models/sample.frm")).expect("default model");
    let params = RankParams::default();
    let as_of = RankContext::default_as_of(&world);
    let full_index = RankIndex::new(&world);
    let full_ctx = RankContext::new(&world, &full_index, &params, as_of);
    let full_signals = EdgeSignals::compute(&world.graph, &model.feature_config.signal_params());

    // The batch path: every user's explanation on the whole-world feature space.
    let batch = feedrank::pipeline::with_model_scorer(&world, &model, Some(as_of), |scorer| {
        let mut w = Worker::new(&world);
        (0..world.num_users() as u32)
            .map(|u| explain_user(&full_ctx, scorer, &mut w, u).expect("explain"))
            .collect::<Vec<_>>()
    })
    .expect("scorer");

    let hides = |u: usize| {
        batch[u]
            .filtered
            .iter()
            .any(|(_, r)| *r == FilterReason::HiddenAuthor)
    };
    let users: Vec<u32> = (0..world.num_users())
        .filter(|&u| u % 4 == 0 || batch[u].feed.fallback || hides(u))
        .map(|u| u as u32)
        .collect();
    let (mut fallbacks, mut hidden, mut placed) = (0, 0, 0);
    for &u in &users {
        let mut scope = vec![u];
        scope.extend_from_slice(world.graph.neighbors(u));
        let index = RankIndex::scoped(&world, &scope, as_of - params.fallback_window);
        let ctx = RankContext::new(&world, &index, &params, as_of);
        let stories: Vec<u32> = candidates_of(&ctx, u)
            .expect("candidates")
            .iter()
            .map(|c| c.story)
            .collect();
        let (ex, pr) =
            feedrank::pipeline::with_viewer_scorer(&world, &model, &[u], &stories, |s, sig| {
                let mut w = Worker::new(&world);
                (
                    explain_user(&ctx, s, &mut w, u).expect("explain"),
                    profile(&ctx, u, sig),
                )
            })
            .expect("scoped scorer");
        assert_eq!(ex, batch[u as usize], "user {u}");
        assert_eq!(
            pr,
            profile(&full_ctx, u, &full_signals),
            "profile of user {u}"
        );
        fallbacks += usize::from(ex.feed.fallback);
        hidden += usize::from(hides(u as usize));
        placed += ex.feed.items.len();
    }
    assert!(users.len() >= 500, "{} users checked", users.len());
    assert!(fallbacks > 0, "no fallback user was checked");
    assert!(hidden > 0, "no user with a hidden-author drop was checked");
    assert!(placed > 10_000, "{placed} items compared");
}
