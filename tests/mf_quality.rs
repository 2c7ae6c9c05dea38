//! Matrix factorisation end to end: on a seeded planted low-rank matrix, ALS and BPR recover
//! the structure (held-out AUC against all unseen columns), training is independent of the
//! thread count, and the fold-in of a row matches an ALS row update and a full retrain.
use feedrank::mf::{
    fit_als, fit_bpr, synth, update_rows, AlsParams, BprParams, Factors, Interactions, Solver,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ROWS: usize = 400;
const COLS: usize = 300;

/// Train/held-out split of a planted rank-4 matrix (20% of each row's entries held out).
fn split(seed: u64) -> (Interactions, Vec<Vec<u32>>) {
    let (triples, _) = synth::low_rank(ROWS, COLS, 4, 20, 3.0, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xfeed);
    let mut train = Vec::new();
    let mut held = vec![Vec::new(); ROWS];
    for t in triples {
        if rng.gen_bool(0.2) {
            held[t.0 as usize].push(t.1);
        } else {
            train.push(t);
        }
    }
    (
        Interactions::from_triples(ROWS, COLS, &train).unwrap(),
        held,
    )
}

/// Mean over rows of the AUC of held-out columns against every column the row has not seen
/// (Steck 2010: all items, not sampled negatives). Ties count one half.
fn held_out_auc(f: &Factors, train: &Interactions, held: &[Vec<u32>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (r, pos) in held.iter().enumerate() {
        if pos.is_empty() {
            continue;
        }
        let negs: Vec<u32> = (0..COLS as u32)
            .filter(|c| train.get(r, *c) == 0.0 && !pos.contains(c))
            .collect();
        let mut good = 0.0;
        for &p in pos {
            let sp = f.score(r as u32, p);
            for &q in &negs {
                let sq = f.score(r as u32, q);
                good += if sp > sq {
                    1.0
                } else if sp == sq {
                    0.5
                } else {
                    0.0
                };
            }
        }
        sum += good / (pos.len() * negs.len()) as f64;
        n += 1;
    }
    sum / n as f64
}

fn als_params(solver: Solver) -> feedrank::mf::AlsValidParams {
    AlsParams::new()
        .factors(8)
        .alpha(10.0)
        .lambda(0.5)
        .iterations(10)
        .seed(3)
        .solver(solver)
        .check()
        .unwrap()
}

#[test]
fn als_recovers_planted_structure() {
    let (train, held) = split(11);
    for solver in [Solver::ConjugateGradient { steps: 3 }, Solver::Cholesky] {
        let f = fit_als(&train, &als_params(solver));
        let auc = held_out_auc(&f, &train, &held);
        println!("ALS {solver:?}: held-out AUC {auc:.3}");
        assert!(auc > 0.8, "ALS {solver:?} held-out AUC {auc}");
    }
    // Untrained (random) factors are near chance: the test can fail.
    let p0 = AlsParams::new()
        .factors(8)
        .iterations(0)
        .seed(3)
        .check()
        .unwrap();
    let f0 = fit_als(&train, &p0);
    let auc0 = held_out_auc(&f0, &train, &held);
    assert!((auc0 - 0.5).abs() < 0.1, "random factors AUC {auc0}");
}

#[test]
fn bpr_recovers_planted_structure() {
    let (train, held) = split(12);
    let p = BprParams::new()
        .factors(8)
        .epochs(60)
        .seed(5)
        .check()
        .unwrap();
    let f = fit_bpr(&train, &p);
    let auc = held_out_auc(&f, &train, &held);
    println!("BPR: held-out AUC {auc:.3}");
    assert!(auc > 0.8, "BPR held-out AUC {auc}");
    // Deterministic for a seed.
    assert_eq!(fit_bpr(&train, &p), f);
}

#[test]
fn als_is_independent_of_thread_count() {
    let data = synth::power_law(3000, 2000, 40_000, 0.9, 1).unwrap();
    let p = AlsParams::new().factors(16).iterations(3).check().unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| fit_als(&data, &p))
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, run(2));
    assert!(one.row_factors().iter().all(|v| v.is_finite()));
}

#[test]
fn fold_in_equals_an_als_row_update() {
    let (train, _) = split(13);
    let p = als_params(Solver::Cholesky);
    let mut f = fit_als(&train, &p);
    let before = f.clone();
    update_rows(&mut f, &train, &p).unwrap();
    for r in [0usize, 17, 123, 399] {
        let (cols, counts) = train.row(r);
        let pairs: Vec<(u32, f32)> = cols.iter().copied().zip(counts.iter().copied()).collect();
        let folded = before.recalculate_user(&pairs, &p).unwrap();
        let updated = f.row(r as u32).unwrap();
        for (a, b) in folded.iter().zip(updated) {
            assert!(
                (a - b).abs() < 1e-4,
                "row {r}: fold-in {folded:?} vs update {updated:?}"
            );
        }
    }
    // Duplicate pairs are summed; a bad column is an error, not a panic.
    let (cols, counts) = train.row(5);
    let mut split_pairs = Vec::new();
    for (&c, &n) in cols.iter().zip(counts) {
        split_pairs.push((c, n / 2.0));
        split_pairs.push((c, n / 2.0));
    }
    let whole: Vec<(u32, f32)> = cols.iter().copied().zip(counts.iter().copied()).collect();
    let a = before.recalculate_user(&split_pairs, &p).unwrap();
    let b = before.recalculate_user(&whole, &p).unwrap();
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
    assert!(before.recalculate_user(&[(COLS as u32, 1.0)], &p).is_err());
    assert!(before.recalculate_user(&[(0, -1.0)], &p).is_err());
}

/// Pearson correlation of two score vectors.
fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn fold_in_of_a_new_row_ranks_like_a_full_retrain() {
    let (full, _) = split(14);
    let p = als_params(Solver::Cholesky);
    let retrained = fit_als(&full, &p);
    let mut worst = 1.0f64;
    for target in [3usize, 50, 200] {
        // Train without the target row, then fold it in.
        let without: Vec<(u32, u32, f32)> =
            full.triples().filter(|t| t.0 as usize != target).collect();
        let base = fit_als(
            &Interactions::from_triples(ROWS, COLS, &without).unwrap(),
            &p,
        );
        let (cols, counts) = full.row(target);
        let pairs: Vec<(u32, f32)> = cols.iter().copied().zip(counts.iter().copied()).collect();
        let v = base.recalculate_user(&pairs, &p).unwrap();
        let folded: Vec<f32> = (0..COLS as u32).map(|c| base.score_vector(&v, c)).collect();
        let full_scores: Vec<f32> = (0..COLS as u32)
            .map(|c| retrained.score(target as u32, c))
            .collect();
        let corr = correlation(&folded, &full_scores);
        // Top-20 overlap as well (the head of the list is what the feed shows; chance is ~1.3).
        let top = |s: &[f32]| {
            let mut idx: Vec<usize> = (0..s.len()).collect();
            idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
            idx.truncate(20);
            idx
        };
        let (ta, tb) = (top(&folded), top(&full_scores));
        let overlap = ta.iter().filter(|c| tb.contains(c)).count();
        println!("row {target}: score correlation {corr:.3}, top-20 overlap {overlap}");
        assert!(corr > 0.9, "row {target}: correlation {corr}");
        assert!(overlap >= 10, "row {target}: top-20 overlap {overlap}");
        worst = worst.min(corr);
    }
    // A row folded in with no events gets the zero vector (no affinity), not NaN.
    let z = retrained.recalculate_user(&[], &p).unwrap();
    assert!(z.iter().all(|&v| v == 0.0));
    assert!(worst > 0.9);
}

#[test]
fn factors_round_trip_through_bincode() {
    let (train, _) = split(15);
    let f = fit_als(&train, &als_params(Solver::ConjugateGradient { steps: 3 }));
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&f, cfg).unwrap();
    let (back, _): (Factors, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(back, f);
    assert_eq!(back.score(7, 9), f.score(7, 9));
}
