//! Deterministic random streams: every draw comes from a `ChaCha8Rng` seeded by mixing
//! (seed, stream, user, day) with SplitMix64, so results do not depend on thread scheduling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

/// Independent random streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    Social = 1,
    Stories = 2,
    Interactions = 3,
    Sessions = 4,
    Users = 5,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The RNG of (seed, stream, user, day).
pub fn rng_for(seed: u64, stream: Stream, user: u64, day: i64) -> ChaCha8Rng {
    let mut h = splitmix(seed);
    h = splitmix(h ^ stream as u64);
    h = splitmix(h ^ user);
    h = splitmix(h ^ day as u64);
    ChaCha8Rng::seed_from_u64(h)
}

/// A Poisson draw with mean `lambda` (0 when `lambda <= 0`).
pub fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    if lambda < 30.0 {
        // Knuth: exact and fast for small means.
        let l = (-lambda).exp();
        let mut k = 0u64;
        let mut prod: f64 = rng.gen();
        while prod > l {
            k += 1;
            prod *= rng.gen::<f64>();
        }
        return k;
    }
    match Poisson::new(lambda) {
        Ok(d) => d.sample(rng) as u64,
        Err(_) => 0,
    }
}

/// A standard normal draw.
pub fn normal<R: Rng>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let a: u64 = rng_for(1, Stream::Social, 0, 0).gen();
        let b: u64 = rng_for(1, Stream::Social, 0, 0).gen();
        let c: u64 = rng_for(1, Stream::Social, 1, 0).gen();
        let d: u64 = rng_for(1, Stream::Sessions, 0, 0).gen();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        let mut r = rng_for(3, Stream::Users, 0, 0);
        let m: f64 = (0..20_000)
            .map(|_| poisson(&mut r, 2.5) as f64)
            .sum::<f64>()
            / 20_000.0;
        assert!((m - 2.5).abs() < 0.05, "{m}");
        let m: f64 = (0..2_000)
            .map(|_| poisson(&mut r, 50.0) as f64)
            .sum::<f64>()
            / 2_000.0;
        assert!((m - 50.0).abs() < 1.0, "{m}");
    }
}
