//! Explanations on demand (the debug binary's backbone): [`explain_user`] ranks one user
//! through the same path as the batch job and adds, for every candidate, the scorer's
//! [`Explanation`], the multipliers and a plain-language [`why_line`]; plus the filtered
//! candidates with reasons, and a [`Profile`] of the viewer's ties.
use super::filters::FilterReason;
use super::heuristics::{demote, diversity};
use super::ranker::{items_of, rank_into, FeedItem, Multipliers, UserFeed, Worker};
use super::sources::Candidate;
use super::{RankContext, RankError, Source};
use crate::model::{Explanation, Scorer};
use crate::world::World;
use std::collections::HashMap;

/// One candidate with its explanation. `rank` is `Some` for the placed items (in feed
/// order); unplaced candidates follow with the diversity multiplier they would get next.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainedCandidate {
    pub rank: Option<usize>,
    pub item: FeedItem,
    pub explanation: Explanation,
    pub why: String,
}

/// Everything about one user's feed.
#[derive(Debug, Clone, PartialEq)]
pub struct UserExplanation {
    /// Identical to [`rank_user`](super::rank_user)'s result.
    pub feed: UserFeed,
    /// Placed items in feed order, then the unplaced candidates, best first.
    pub candidates: Vec<ExplainedCandidate>,
    /// Dropped candidates with their reasons.
    pub filtered: Vec<(Candidate, FilterReason)>,
}

/// Ranks and explains one user. Calls the scorer's `explain` for every candidate (allocates;
/// not for the batch path).
///
/// # Errors
/// As [`rank_user`](super::rank_user).
pub fn explain_user<S: Scorer>(
    ctx: &RankContext<'_>,
    scorer: &S,
    w: &mut Worker,
    user: u32,
) -> Result<UserExplanation, RankError> {
    if (user as usize) >= ctx.world.num_users() {
        return Err(RankError::UnknownUser(user.to_string()));
    }
    let mut vs = scorer.viewer(user, ctx.as_of)?;
    let fallback = rank_into(ctx, scorer, &mut vs, w, user)?;
    let mut items = Vec::new();
    items_of(w, &mut items);
    let mut candidates = Vec::with_capacity(w.candidates.len());
    for (i, it) in items.iter().enumerate() {
        let explanation = scorer.explain(&mut vs, it.story)?;
        let why = why_line(ctx.world, it, &explanation);
        candidates.push(ExplainedCandidate {
            rank: Some(i + 1),
            item: *it,
            explanation,
            why,
        });
    }
    let mut placed = vec![false; w.candidates.len()];
    for p in &w.placed {
        placed[p.idx as usize] = true;
    }
    let p = ctx.params;
    let mut rest: Vec<FeedItem> = Vec::new();
    for (i, c) in w.candidates.iter().enumerate() {
        if placed[i] {
            continue;
        }
        let s = &w.scored[i];
        let d = diversity(w.placed_by(c.author), p.diversity_decay, p.diversity_floor);
        rest.push(FeedItem {
            story: c.story,
            author: c.author,
            source: c.source,
            friends_engaged: c.friends_engaged,
            score: demote(s.base, d),
            value: s.score.value,
            p: s.score.p,
            multipliers: Multipliers {
                diversity: d,
                out_of_network: s.out_of_network,
                fatigue: s.fatigue,
            },
        });
    }
    rest.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.story.cmp(&b.story)));
    for it in rest {
        let explanation = scorer.explain(&mut vs, it.story)?;
        let why = why_line(ctx.world, &it, &explanation);
        candidates.push(ExplainedCandidate {
            rank: None,
            item: it,
            explanation,
            why,
        });
    }
    Ok(UserExplanation {
        feed: UserFeed {
            user,
            as_of: ctx.as_of,
            fallback,
            items,
        },
        candidates,
        filtered: w.filtered.clone(),
    })
}

fn plural(s: &str) -> String {
    if s.is_empty() {
        "posts".to_string()
    } else if s.ends_with('s') {
        s.to_string()
    } else {
        format!("{s}s")
    }
}

/// The raw value of `feature` in `expl` (0 when absent).
fn value_of(expl: &Explanation, feature: &str) -> f64 {
    expl.contributions
        .iter()
        .find(|c| c.feature == feature)
        .map_or(0.0, |c| c.value)
}

/// A phrase for one feature (with a key so that features saying the same thing appear once).
/// A phrase is only said when the viewer really has what it claims (a positive count, a
/// friendship): a feature can push a story up while its value is 0 (below the training
/// mean, with a negative weight), and "a close tie" is then false.
fn phrase(
    world: &World,
    item: &FeedItem,
    expl: &Explanation,
    feature: &str,
    v: f64,
) -> Option<(&'static str, String)> {
    let has = v > 0.0;
    let friend = value_of(expl, "is_friend") > 0.0;
    let a = world
        .users
        .names()
        .get(item.author as usize)
        .map_or("?", |s| s.as_str());
    let story = world.stories.get(item.story as usize);
    let kind = story
        .and_then(|s| world.kinds.names().get(s.kind as usize))
        .map_or_else(|| "posts".to_string(), |k| plural(k));
    let n = v.round().max(0.0) as u64;
    Some(match feature {
        "aff_like" if has => ("aff", format!("you often like {a}'s {kind}")),
        "aff_click" if has => ("aff", format!("you often open {a}'s {kind}")),
        "aff_comment" if has => ("aff", format!("you often comment on {a}'s {kind}")),
        "aff_share" if has => ("aff", format!("you often share {a}'s {kind}")),
        "recip_engagement" if has => ("recip", format!("{a} often engages with your posts")),
        "direct_interactions" | "days_since_interaction"
            if value_of(expl, "direct_interactions") > 0.0 =>
        {
            ("direct", format!("you and {a} interact directly"))
        }
        "is_friend" if has => ("friend", format!("{a} is your friend")),
        "embeddedness" if n > 0 => (
            "common",
            format!(
                "you and {a} have {n} friend{} in common",
                if n == 1 { "" } else { "s" }
            ),
        ),
        "jaccard" | "adamic_adar" if has => ("common", format!("you and {a} share many friends")),
        "dispersion" | "disp_norm" | "disp_norm_paper" | "recursive_dispersion"
            if has && friend =>
        {
            (
                "disp",
                format!("{a} is a close tie who links separate parts of your life"),
            )
        }
        "structural_diversity" if n >= 2 => (
            "groups",
            format!("{n} separate groups of your friends engaged with it"),
        ),
        "friends_engaged" if n > 0 => (
            "friends",
            format!(
                "{n} of your friends engaged with it{}",
                if item.source == Source::OutOfNetwork {
                    ""
                } else {
                    " too"
                }
            ),
        ),
        "story_engagements" if has => ("popular", "it is popular".to_string()),
        "author_engagement_rate" if has => (
            "author_rate",
            format!("{a}'s posts get a lot of engagement"),
        ),
        "age_hours" => ("age", "it is recent".to_string()),
        "viewer_kind_rate" if has => ("kind", format!("you often engage with {kind}")),
        "viewer_topic_rate" if has => {
            let topic = story
                .and_then(|s| s.topic)
                .and_then(|t| world.topics.names().get(t as usize))
                .map_or_else(|| "this topic".to_string(), |t| t.clone());
            (
                "topic",
                format!("you often engage with posts about {topic}"),
            )
        }
        "mf_author_affinity" if has => (
            "mf_author",
            format!("people with tastes like yours engage with {a}"),
        ),
        "mf_topic_affinity" if has => {
            let topic = story
                .and_then(|s| s.topic)
                .and_then(|t| world.topics.names().get(t as usize))
                .map_or_else(|| "this topic".to_string(), |t| t.clone());
            ("mf_topic", format!("you like stories about {topic}"))
        }
        "author_degree" if has => ("author_degree", format!("{a} is well connected")),
        "viewer_topic_posts" | "friends_topic_posts" => {
            let topic = story
                .and_then(|s| s.topic)
                .and_then(|t| world.topics.names().get(t as usize))
                .map_or_else(|| "this topic".to_string(), |t| t.clone());
            let who = if feature == "viewer_topic_posts" {
                "you"
            } else {
                "your friends"
            };
            ("posts", format!("{who} often post about {topic}"))
        }
        "kind_1" | "kind_2" | "kind_3" if has => {
            ("kind", format!("{kind} like this get engagement"))
        }
        _ => return None,
    })
}

/// A plain-language "why you are seeing this" line: the out-of-network source first ("N of
/// your friends engaged with it"), then the phrases of the largest positive contributions
/// (at most three phrases in all, each said once), e.g. "you often like ana's photos; 3
/// separate groups of your friends engaged with it".
pub fn why_line(world: &World, item: &FeedItem, expl: &Explanation) -> String {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    match item.source {
        Source::OutOfNetwork => out.push((
            "friends",
            format!("{} of your friends engaged with it", item.friends_engaged),
        )),
        Source::Popular => out.push((
            "popular",
            "it is popular right now (you have no recent stories from friends)".to_string(),
        )),
        Source::InNetwork => {}
    }
    let mut contribs: Vec<&crate::model::Contribution> = expl
        .contributions
        .iter()
        .filter(|c| c.contribution > 0.0 && c.contribution.is_finite())
        .collect();
    contribs.sort_by(|a, b| {
        b.contribution
            .total_cmp(&a.contribution)
            .then(a.feature.cmp(&b.feature))
    });
    for c in contribs {
        if out.len() >= 3 {
            break;
        }
        if let Some((key, text)) = phrase(world, item, expl, &c.feature, c.value) {
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, text));
            }
        }
    }
    if out.is_empty() {
        let a = world
            .users
            .names()
            .get(item.author as usize)
            .map_or("?", |s| s.as_str());
        out.push((
            "friend",
            format!("{a} is your friend and posted it recently"),
        ));
    }
    out.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One of the viewer's ties.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Tie {
    pub friend: u32,
    /// The viewer's positive engagements with the friend's stories plus direct interactions
    /// from the viewer to the friend, before `as_of` (a simple tie strength).
    pub interactions: u32,
    /// Mutual friends.
    pub embeddedness: u32,
    /// Absolute dispersion (Backstrom & Kleinberg 2014); `None` when the signals given to
    /// [`profile`] do not cover the viewer's ego network.
    pub dispersion: Option<u32>,
    /// Recursive dispersion (Backstrom & Kleinberg 2014, the configured rounds), the paper's
    /// best single predictor of the strongest tie; 0 when not covered.
    pub recursive_dispersion: f64,
}

/// The viewer's profile for the debug view.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Profile {
    pub user: u32,
    pub friends: usize,
    /// Every friend, in neighbour order.
    pub ties: Vec<Tie>,
}

/// The viewer's ties with a simple tie strength, embeddedness and dispersion, read from
/// `signals` (which must cover the viewer's ego network, e.g.
/// [`EdgeSignals::compute_for_egos`](crate::graph::EdgeSignals::compute_for_egos) with the
/// viewer; slots of a signal set that does not match the graph give `None`).
///
/// # Complexity
/// O(interactions + viewer's history + d) for degree d.
pub fn profile(ctx: &RankContext<'_>, user: u32, signals: &crate::graph::EdgeSignals) -> Profile {
    let world = ctx.world;
    let g = &world.graph;
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let hist = ctx.index.history(user);
    for &(ts, story, action) in hist {
        if ts >= ctx.as_of {
            break;
        }
        if action.is_positive() {
            if let Some(s) = world.stories.get(story as usize) {
                *counts.entry(s.author).or_insert(0) += 1;
            }
        }
    }
    for i in &world.interactions {
        if i.ts < ctx.as_of && i.from == user {
            *counts.entry(i.to).or_insert(0) += 1;
        }
    }
    let nu = g.neighbors(user);
    let covered = signals.fits(g.num_slots());
    let ties = g
        .slot_range(user)
        .zip(nu)
        .map(|(slot, &f)| {
            let nf = g.neighbors(f);
            let emb = nu.iter().filter(|x| nf.binary_search(x).is_ok()).count() as u32;
            let i = signals.index(g, user, slot).filter(|_| covered);
            Tie {
                friend: f,
                interactions: counts.get(&f).copied().unwrap_or(0),
                embeddedness: emb,
                dispersion: i.map(|i| signals.dispersion[i]),
                recursive_dispersion: i.map_or(0.0, |i| signals.recursive[i]),
            }
        })
        .collect();
    Profile {
        user,
        friends: nu.len(),
        ties,
    }
}
