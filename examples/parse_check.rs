//! Loads a world directory and prints timing plus a digest of everything read (World and
//! LoadReport), to compare the reader before and after a change.
//! Run: `cargo run --release --example parse_check -- DIR [skip_truth] [lenient]`.
use feedrank::io::world_tsv::{read_world, ReadOptions};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

fn cpu_seconds() -> f64 {
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

fn vm_hwm_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&a[1]);
    let mut opts = ReadOptions::default();
    for x in &a[2..] {
        match x.as_str() {
            "lenient" => opts.lenient = true,
            "skip_truth" => opts.skip_truth = true,
            _ => panic!("unknown flag {x}"),
        }
    }
    let t = Instant::now();
    let c0 = cpu_seconds();
    let res = read_world(dir, &opts);
    let wall = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c0;
    let (w, report) = match res {
        Ok(x) => x,
        Err(e) => {
            println!("error: {e}");
            return;
        }
    };
    let mut h = DefaultHasher::new();
    w.meta.name.hash(&mut h);
    for i in [
        &w.users,
        &w.story_ids,
        &w.kinds,
        &w.topics,
        &w.interaction_kinds,
    ] {
        i.names().hash(&mut h);
        i.len().hash(&mut h);
        for (k, n) in i.names().iter().enumerate() {
            assert_eq!(i.get(n), Some(k as u32));
        }
    }
    let (o, tg) = w.graph.raw();
    o.hash(&mut h);
    tg.hash(&mut h);
    format!("{:?}", w.stories).hash(&mut h);
    for e in &w.events {
        (e.ts, e.user, e.story, e.action as u8).hash(&mut h);
    }
    for x in &w.interactions {
        (x.ts, x.from, x.to, x.kind).hash(&mut h);
    }
    let mut ht = DefaultHasher::new();
    for t in &w.truth {
        (t.user, t.story, t.ts).hash(&mut ht);
        for p in t.p {
            p.to_bits().hash(&mut ht);
        }
    }
    format!("{report:?}").hash(&mut h);
    println!(
        "wall {wall:.3} s  cpu {cpu:.3} s  VmHWM {:.0} MiB  fingerprint {:016x}  digest {:016x}  truth {} {:016x}",
        vm_hwm_mib(),
        feedrank::pipeline::world_fingerprint(&w),
        h.finish(),
        w.truth.len(),
        ht.finish()
    );
}
