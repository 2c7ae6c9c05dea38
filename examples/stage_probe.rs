use feedrank::index::{Scope, WorldIndex};
use feedrank::rank::*;
use std::time::Instant;
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}
struct T(Instant, f64);
impl T {
    fn mark(&mut self, what: &str) {
        let c = cpu();
        eprintln!(
            "{what:30} wall {:.3} cpu {:.2}",
            self.0.elapsed().as_secs_f64(),
            c - self.1
        );
        self.0 = Instant::now();
        self.1 = c;
    }
}
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&a[1]);
    let mut t = T(Instant::now(), cpu());
    let (world, _, _) = feedrank::pipeline::load_world(
        dir,
        &feedrank::pipeline::LoadOptions {
            skip_truth: true,
            ..Default::default()
        },
    )
    .unwrap();
    t.mark("world");
    let model = feedrank::model::load(std::path::Path::new(&a[2])).unwrap();
    t.mark("model");
    let params = RankParams::default();
    let as_of = RankContext::default_as_of(&world);
    let scope = match a.get(3) {
        Some(s) => Scope::shard(&world, Shard::parse(s).unwrap()),
        None => Scope::All,
    };
    let viewers = scope.viewer_ids(&world);
    let sp = model.feature_config.signal_params();
    if let Scope::Viewers(v) = &scope {
        let _ = feedrank::graph::EdgeSignals::compute_for_egos(&world.graph, &sp, v);
        t.mark("  (signals alone)");
        let mut near = v.clone();
        for &x in v {
            near.extend_from_slice(world.graph.neighbors(x));
        }
        near.sort_unstable();
        near.dedup();
        let ri = RankIndex::scoped(&world, v, &near, as_of - params.fallback_window);
        t.mark("  (rank index alone)");
        let ctx = RankContext::new(&world, &ri, &params, as_of);
        let mut w = Worker::new(&world);
        let mut n = 0;
        for &x in v {
            n += candidates_of(&ctx, x).map(|c| c.len()).unwrap_or(0);
        }
        let _ = (n, &mut w);
        t.mark("  (gather alone, alloc/user)");
    }
    let ix = WorldIndex::build(&world, &model.feature_config, &params, as_of, scope).unwrap();
    t.mark("index build");
    let ranker = feedrank::pipeline::FeedRanker::new(
        &world,
        &model,
        Scope::viewers(viewers.clone()),
        as_of,
        &params,
    );
    drop(ranker);
    t.mark("  (ranker again)");
    let _ = ix;
}
