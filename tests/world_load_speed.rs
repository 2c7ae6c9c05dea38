//! Load speed of a synthetic 1M-event world (prints figures; no timing assertions).
//! Run: `cargo test --release --test world_load_speed -- --ignored --nocapture`.
use feedrank::graph::Graph;
use feedrank::io::world_tsv::{read_world, write_world, ReadOptions, WriteOptions};
use feedrank::world::{Action, Event, Interner, Story, World};
use rand::{Rng, SeedableRng};

fn synthetic(users: usize, stories: usize, events: usize) -> World {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut w = World::default();
    w.meta.name = "synthetic-1m".into();
    let mut ids = Interner::new();
    for u in 0..users {
        ids.intern(&format!("user{u}"));
    }
    w.users = ids;
    let edges: Vec<(u32, u32)> = (0..users * 10)
        .map(|_| {
            (
                rng.gen_range(0..users as u32),
                rng.gen_range(0..users as u32),
            )
        })
        .collect();
    w.graph = Graph::from_edges(users, &edges).0;
    for k in ["status", "photo", "link", "video"] {
        w.kinds.intern(k);
    }
    for t in 0..50 {
        w.topics.intern(&format!("topic{t}"));
    }
    for s in 0..stories {
        w.story_ids.intern(&format!("s{s}"));
        w.stories.push(Story {
            author: rng.gen_range(0..users as u32),
            created_at: 1_700_000_000 + rng.gen_range(0..14 * 86_400),
            kind: rng.gen_range(0..4),
            topic: Some(rng.gen_range(0..50)),
        });
    }
    for _ in 0..events {
        let story = rng.gen_range(0..stories as u32);
        let action = if rng.gen_bool(0.9) {
            Action::Impression
        } else {
            Action::ENGAGEMENTS[rng.gen_range(0..5)]
        };
        w.events.push(Event {
            ts: w.stories[story as usize].created_at + rng.gen_range(0..86_400),
            user: rng.gen_range(0..users as u32),
            story,
            action,
        });
    }
    w.events.sort_unstable();
    w
}

/// User + system CPU seconds of this process (from /proc/self/stat, 100 ticks a second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

#[test]
#[ignore = "prints load-speed figures; run with --ignored --nocapture"]
fn load_one_million_events() {
    let w = synthetic(50_000, 200_000, 1_000_000);
    for gzip in [false, true] {
        let d = tempfile::tempdir().unwrap();
        write_world(&w, d.path(), &WriteOptions { gzip }).unwrap();
        let mut times = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let c = cpu_seconds();
            let (back, report) = read_world(d.path(), &ReadOptions::default()).unwrap();
            times.push(t.elapsed().as_secs_f64());
            cpu.push(cpu_seconds() - c);
            assert_eq!(back.events, w.events);
            assert_eq!(report.total_events(), 1_000_000);
        }
        times.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        println!(
            "read_world, 50,000 users, {} friendships, 200,000 stories, 1,000,000 events, gzip={gzip}: median wall {:.2} s, median CPU {:.2} s (wall runs {:?})",
            w.graph.num_edges(),
            times[1],
            cpu[1],
            times
        );
    }
}
