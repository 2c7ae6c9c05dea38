//! The batch path precomputes per-author and per-story aggregates at one `as_of`
//! (`FeatureSpace::precompute_as_of`); every feature row must be bit-identical to the row
//! computed without them (the debug binary, the evaluation and training use that path).
use feedrank::features::{FeatureSpace, NUM_FEATURES};
use std::path::Path;

#[test]
fn precomputed_rows_equal_searched_rows_on_the_default_world() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("graph_data/sample");
    let (world, _, _) =
        feedrank::pipeline::load_world(&dir, &Default::default()).expect("default world loads");
    let cfg = feedrank::config::Config::default().features;
    let plain = FeatureSpace::new(&world, &cfg).expect("feature space");
    let (_, last) = world.time_span().expect("non-empty world");
    for as_of in [last - 3 * 86_400, last - 86_400 + 1234, last + 1] {
        let mut pre = FeatureSpace::new(&world, &cfg).expect("feature space");
        pre.precompute_as_of(as_of);
        let mut a = vec![0f32; NUM_FEATURES];
        let mut b = vec![0f32; NUM_FEATURES];
        let mut compared = 0;
        for viewer in (0..world.num_users() as u32).step_by(97) {
            let mut ca = plain.viewer(viewer, as_of).expect("ctx");
            let mut cb = pre.viewer(viewer, as_of).expect("ctx");
            for story in (0..world.stories.len() as u32).step_by(53) {
                plain.write_row(&mut ca, story, &mut a).expect("row");
                pre.write_row(&mut cb, story, &mut b).expect("row");
                let bits = |r: &[f32]| r.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&a),
                    bits(&b),
                    "viewer {viewer} story {story} as_of {as_of}"
                );
                compared += 1;
            }
        }
        assert!(compared > 1000);
        // A context at another time must not use the tables.
        let mut other = pre.viewer(0, as_of - 86_400).expect("ctx");
        let mut direct = plain.viewer(0, as_of - 86_400).expect("ctx");
        for story in (0..world.stories.len() as u32).step_by(101) {
            pre.write_row(&mut other, story, &mut a).expect("row");
            plain.write_row(&mut direct, story, &mut b).expect("row");
            assert_eq!(a, b);
        }
    }
}
