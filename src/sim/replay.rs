//! The hidden side of a simulated world read back from its directory. A world directory holds
//! what the simulator logged (events, truth) and, in `world.toml`, the seed and every
//! parameter it ran with, but not the latent inputs of each impression (tastes, story
//! quality...). The simulator is deterministic for its parameters (see [`crate::sim`]), so
//! running it again gives them back; the rerun is trusted only when it reproduces the world
//! exactly: the same users, stories and events, and every truth row equal.
//!
//! Takes a [`World`]; hands on its [`Hidden`] side, or `None` for a world that does not say
//! it was simulated (an imported world).
//!
//! # Complexity
//! One simulation of the world's size, plus O(E log E) to compare E events.

use super::{simulate_with_progress, Hidden, SimError, SimParams};
use crate::util::progress::Progress;
use crate::world::World;

/// The simulator parameters a world records (`world.toml`: `name = "simulated"`, a seed and
/// a `[params]` table), or `None` when it does not claim to be simulated.
///
/// # Errors
/// [`SimError::NotReproduced`] when `[params]` is not a complete simulator parameter table.
pub fn recorded_params(world: &World) -> Result<Option<SimParams>, SimError> {
    let meta = &world.meta;
    if meta.name != "simulated" || meta.seed.is_none() || meta.params.is_empty() {
        return Ok(None);
    }
    let params: SimParams = meta
        .params
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| SimError::NotReproduced {
            what: "world.toml [params]",
            detail: e.message().to_string(),
        })?;
    Ok(Some(params))
}

/// The hidden side of `world`: the simulator rerun with the world's recorded parameters and
/// checked against it; `None` when the world does not claim to be simulated
/// ([`recorded_params`]). Reports the simulator's steps to `progress`.
///
/// # Errors
/// [`SimError::NotReproduced`] naming the first table that differs (the world was edited,
/// or written by another version of the simulator), or bad recorded parameters;
/// [`SimError::InvalidParam`] when they do not pass [`SimParams::check`].
pub fn hidden_of(world: &World, progress: &dyn Progress) -> Result<Option<Hidden>, SimError> {
    let Some(params) = recorded_params(world)? else {
        return Ok(None);
    };
    let (rerun, hidden) = simulate_with_progress(&params, true, progress)?;
    let hidden = hidden.ok_or(SimError::NotReproduced {
        what: "hidden inputs",
        detail: "the simulator did not record them".to_string(),
    })?;
    check_same(world, &rerun)?;
    Ok(Some(hidden))
}

/// Story `i` of `w` with its kind and topic by name (a reader interns them in the order it
/// meets them, the simulator in its own).
fn story_key(w: &World, i: usize) -> Option<(u32, i64, Option<&String>, Option<&String>)> {
    let s = w.stories.get(i)?;
    let kind = w.kinds.names().get(s.kind as usize);
    let topic = s.topic.and_then(|t| w.topics.names().get(t as usize));
    Some((s.author, s.created_at, kind, topic))
}

/// Checks that `rerun` is the world `world` holds.
fn check_same(world: &World, rerun: &World) -> Result<(), SimError> {
    let differs = |what: &'static str, a: usize, b: usize| SimError::NotReproduced {
        what,
        detail: format!("{a} in the world, {b} in the rerun"),
    };
    let counts = [
        ("users", world.num_users(), rerun.num_users()),
        (
            "friendships",
            world.graph.num_edges(),
            rerun.graph.num_edges(),
        ),
        ("stories", world.stories.len(), rerun.stories.len()),
        ("events", world.events.len(), rerun.events.len()),
        ("truth rows", world.truth.len(), rerun.truth.len()),
    ];
    if let Some(&(what, a, b)) = counts.iter().find(|(_, a, b)| a != b) {
        return Err(differs(what, a, b));
    }
    if let Some(i) = (0..world.truth.len()).find(|&i| world.truth[i] != rerun.truth[i]) {
        return Err(SimError::NotReproduced {
            what: "truth rows",
            detail: format!("row {i} (in time order) differs"),
        });
    }
    if let Some(i) = (0..world.stories.len()).find(|&i| story_key(world, i) != story_key(rerun, i))
    {
        return Err(SimError::NotReproduced {
            what: "stories",
            detail: format!(
                "story {} differs (author, time, kind or topic)",
                world.story_ids.names().get(i).map_or("?", String::as_str)
            ),
        });
    }
    let mut events = world.events.clone();
    events.sort_unstable();
    let mut theirs = rerun.events.clone();
    theirs.sort_unstable();
    if events != theirs {
        return Err(SimError::NotReproduced {
            what: "events",
            detail: "the same number of events, not the same events".to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{simulate, simulate_with_hidden};
    use crate::util::progress::Silent;

    #[test]
    fn a_simulated_world_gives_its_hidden_side_back() {
        let params = SimParams::new(300, 4, 5);
        let (w, h) = simulate_with_hidden(&params).unwrap();
        let again = hidden_of(&w, &Silent).unwrap().expect("a simulated world");
        assert_eq!(again.rows, h.rows);
        assert_eq!(again.taste_prior, h.taste_prior);
        assert_eq!(again.topic_factors, h.topic_factors);
    }

    #[test]
    fn other_worlds_have_none_and_edited_worlds_are_refused() {
        let mut w = simulate(&SimParams::new(300, 4, 5)).unwrap();
        let mut imported = w.clone();
        imported.meta.name = "ciao".to_string();
        assert!(hidden_of(&imported, &Silent).unwrap().is_none());
        assert!(hidden_of(&crate::world::World::default(), &Silent)
            .unwrap()
            .is_none());
        let refused = |w: &World| match hidden_of(w, &Silent) {
            Err(SimError::NotReproduced { what, .. }) => what,
            other => panic!("{other:?}"),
        };
        // one truth probability changed
        w.truth[10].p[1] += 0.01;
        assert_eq!(refused(&w), "truth rows");
        // another seed recorded than the one that made the world
        w.meta.params.insert("seed".into(), toml::Value::Integer(6));
        refused(&w);
        // a parameter missing
        w.meta.params.remove("users");
        assert_eq!(refused(&w), "world.toml [params]");
    }
}
