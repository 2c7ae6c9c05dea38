//! Is this model made for this world? A model records the world it was trained on: the
//! world's name and a compact sketch of the users it knew ([`UserSketch`]: the user count and
//! a bottom-k sample of hashed external ids). [`check_world`] compares that record with a
//! world and refuses a model from another world, while accepting the daily production case:
//! the same world a day later, with new events, stories and a few new users.
//!
//! The sketch is a bottom-k sample (Broder, "On the resemblance and containment of
//! documents", 1997; Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007):
//! the `k` smallest 64-bit hashes of the user ids. Each of them is a uniformly drawn user of
//! the training world, so the share of them still present in a world estimates the share of
//! the training world's users that world still has (exact when the training world had at most
//! `k` users). With the counts, that gives the number of users the model never saw.
//!
//! # Complexity
//! [`UserSketch::of`] and [`check_world`]: O(users) hashing, O(k log k) memory, one pass.
use super::trained::TrainedModel;
use super::ModelError;
use crate::util::hash::Fnv1a;
use crate::world::World;

/// Hashes kept in a [`UserSketch`] (2 KiB per model).
pub const SKETCH_SIZE: usize = 256;
/// At most this share of the training world's users may be missing from the world ranked.
pub const MAX_MISSING_SHARE: f64 = 0.05;
/// At most this many new users (as a share of the training world's users) may have arrived.
/// A day of growth is far below it; a model from a smaller world of the same kind far above.
pub const MAX_NEW_SHARE: f64 = 0.2;

/// The users a model was trained with: their count and the [`SKETCH_SIZE`] smallest hashes of
/// their external ids, ascending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserSketch {
    pub users: u64,
    pub hashes: Vec<u64>,
}

/// The hash of one external user id: FNV-1a, then the SplitMix64 finaliser (Steele, Lea &
/// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) so that the high bits
/// of short, similar ids (`u1`, `u2`, ...) are well mixed, as a bottom-k sample needs.
fn id_hash(id: &str) -> u64 {
    let mut h = Fnv1a::new();
    h.str(id);
    let mut z = h.finish();
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl UserSketch {
    /// The sketch of `world`'s users.
    pub fn of(world: &World) -> UserSketch {
        let mut heap = std::collections::BinaryHeap::with_capacity(SKETCH_SIZE + 1);
        for name in world.users.names() {
            heap.push(id_hash(name));
            if heap.len() > SKETCH_SIZE {
                heap.pop();
            }
        }
        let mut hashes = heap.into_vec();
        hashes.sort_unstable();
        hashes.dedup();
        UserSketch {
            users: world.users.names().len() as u64,
            hashes,
        }
    }

    /// Checks the sketch's shape (a decoded file may hold anything).
    ///
    /// # Errors
    /// A message when the hashes are not ascending and distinct, more than [`SKETCH_SIZE`], or
    /// more than the user count.
    pub fn check(&self) -> Result<(), String> {
        if self.hashes.len() > SKETCH_SIZE || self.hashes.len() as u64 > self.users {
            return Err(format!(
                "user sketch holds {} hashes for {} users (at most {SKETCH_SIZE})",
                self.hashes.len(),
                self.users
            ));
        }
        if self.hashes.windows(2).any(|w| w[0] >= w[1]) {
            return Err("user sketch hashes are not ascending".into());
        }
        Ok(())
    }
}

/// How a world differs from the one a model was trained on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the model was trained on world {model_world:?} ({model_users} users), this is world \
     {world:?} ({world_users} users{})",
    overlap(self)
)]
pub struct WorldMismatch {
    pub model_world: String,
    pub model_users: u64,
    pub world: String,
    pub world_users: u64,
    /// Estimated users of the training world missing here, and users here the model never
    /// saw (`None` when the model recorded no user sketch).
    pub missing: Option<u64>,
    pub new: Option<u64>,
}

fn overlap(m: &WorldMismatch) -> String {
    match (m.missing, m.new) {
        (Some(missing), Some(new)) => format!(
            "; about {missing} of the model's users are missing and {new} users are new to it"
        ),
        _ => String::new(),
    }
}

/// Whether `model` was made for `world`: the same world name, and (when the model recorded
/// its users) at most [`MAX_MISSING_SHARE`] of its users missing and at most
/// [`MAX_NEW_SHARE`] new users. New events and stories never matter.
///
/// # Errors
/// The [`WorldMismatch`] when the model belongs to another world.
pub fn check_world(model: &TrainedModel, world: &World) -> Result<(), WorldMismatch> {
    check_recorded(&model.meta.world, model.meta.users.as_ref(), world)
}

/// [`check_world`] on what a model recorded: its world's name and user sketch.
fn check_recorded(
    model_world: &str,
    users: Option<&UserSketch>,
    world: &World,
) -> Result<(), WorldMismatch> {
    let world_users = world.users.names().len() as u64;
    let mut mismatch = WorldMismatch {
        model_world: model_world.to_string(),
        model_users: users.map_or(0, |s| s.users),
        world: world.meta.name.clone(),
        world_users,
        missing: None,
        new: None,
    };
    let same_name = model_world == world.meta.name;
    let Some(sketch) = users else {
        return if same_name { Ok(()) } else { Err(mismatch) };
    };
    let here: std::collections::HashSet<u64> =
        world.users.names().iter().map(|n| id_hash(n)).collect();
    let sampled = sketch.hashes.len();
    let present = sketch.hashes.iter().filter(|h| here.contains(h)).count();
    // Share of the training world's users still here, estimated from the sample.
    let share = if sampled == 0 {
        1.0
    } else {
        present as f64 / sampled as f64
    };
    let kept = (share * sketch.users as f64).round() as u64;
    let missing = sketch.users.saturating_sub(kept);
    let new = world_users.saturating_sub(kept);
    mismatch.missing = Some(missing);
    mismatch.new = Some(new);
    let users = sketch.users.max(1) as f64;
    if same_name
        && missing as f64 <= MAX_MISSING_SHARE * users
        && new as f64 <= MAX_NEW_SHARE * users
    {
        Ok(())
    } else {
        Err(mismatch)
    }
}

/// [`check_world`] for a command: `Ok(None)` when `model` is made for `world`; when it is
/// not, `Ok(Some(mismatch))` if the user allowed another world (the caller warns), else the
/// error.
///
/// # Errors
/// [`ModelError::OtherWorld`] when the model belongs to another world and that is not allowed.
pub fn admit(
    model: &TrainedModel,
    world: &World,
    allow_other_world: bool,
) -> Result<Option<WorldMismatch>, ModelError> {
    match check_world(model, world) {
        Ok(()) => Ok(None),
        Err(m) if allow_other_world => Ok(Some(m)),
        Err(m) => Err(ModelError::OtherWorld(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::testkit::WorldBuilder;

    fn world(name: &str, ids: impl Iterator<Item = String>) -> World {
        let ids: Vec<String> = ids.collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut w = WorldBuilder::new(&refs).build();
        w.meta.name = name.to_string();
        w
    }

    fn numbered(prefix: &str, n: usize) -> impl Iterator<Item = String> + '_ {
        (0..n).map(move |i| format!("{prefix}{i}"))
    }

    #[test]
    fn the_same_world_a_day_later_is_accepted() {
        for n in [50, 1000, 5000] {
            let trained = world("w", numbered("u", n));
            let sketch = UserSketch::of(&trained);
            assert!(sketch.check().is_ok());
            assert!(check_recorded("w", Some(&sketch), &trained).is_ok());
            // 10% new users, every old one still there
            let grown = world("w", numbered("u", n).chain(numbered("new", n / 10)));
            assert!(check_recorded("w", Some(&sketch), &grown).is_ok(), "{n}");
        }
    }

    #[test]
    fn another_world_is_refused() {
        let trained = world("w", numbered("u", 3000));
        let sketch = UserSketch::of(&trained);
        // another name
        let e = check_recorded("w", Some(&sketch), &world("v", numbered("u", 3000)));
        assert!(e.is_err_and(|m| m.to_string().contains("\"v\"")));
        // a larger world of the same kind (the ids overlap)
        let e = check_recorded("w", Some(&sketch), &world("w", numbered("u", 20_000)))
            .expect_err("many new users");
        assert_eq!(e.missing, Some(0));
        assert_eq!(e.new, Some(17_000));
        // a smaller one
        assert!(check_recorded("w", Some(&sketch), &world("w", numbered("u", 300))).is_err());
        // other ids
        let e = check_recorded("w", Some(&sketch), &world("w", numbered("x", 3000)))
            .expect_err("other users");
        assert_eq!(e.missing, Some(3000));
        // a model that recorded no users: the name decides
        assert!(check_recorded("w", None, &world("w", numbered("x", 3))).is_ok());
        assert!(check_recorded("w", None, &world("v", numbered("x", 3))).is_err());
    }

    #[test]
    fn hashes_of_numbered_ids_spread_over_the_range() {
        // the smallest of 10,000 uniform hashes is far below 2^64 / 1000
        let min = (0..10_000).map(|i| id_hash(&format!("u{i}"))).min();
        assert!(min.is_some_and(|m| m < u64::MAX / 1000));
    }

    #[test]
    fn a_bad_sketch_is_reported() {
        let s = UserSketch {
            users: 1,
            hashes: vec![3, 2],
        };
        assert!(s.check().is_err());
        let s = UserSketch {
            users: 5,
            hashes: vec![3, 2],
        };
        assert!(s.check().is_err());
        let s = UserSketch {
            users: 5,
            hashes: vec![2, 3],
        };
        assert!(s.check().is_ok());
    }
}
