//! `feedrank-debug feed`: one user's feed with everything behind it: a profile of their ties,
//! every candidate in final order (source, features, head probabilities, value, multipliers,
//! final score, rank, a "why you are seeing this" line), then the filtered candidates with
//! reasons. `--json` prints one object whose `feed` is byte for byte the batch output's line
//! for this user (the same serialisation function), beside `friends`, `candidates` (every
//! candidate with features, heads, multipliers, why-line) and `filtered`.
use feedrank::index::Scope;
use feedrank::model::Contribution;
use feedrank::pipeline::{FeedInspection, FeedRanker};
use feedrank::rank::batch::{write_jsonl, HeadsJson};
use feedrank::rank::explain::Profile;
use feedrank::rank::html::{feed_page, FeedPageOptions};
use feedrank::rank::Multipliers;
use feedrank::world::{Action, World};
use std::io::Write;
use std::path::PathBuf;

#[path = "../feedrank/generate.rs"]
mod generate;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: generate::RankInput,
    /// The user's id (as in the input).
    #[arg(long)]
    pub user: String,
    /// One JSON object on stdout instead of the text view.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page of the feed to this file (atomically).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Print wall and CPU seconds per stage (load, index, features, feed) on stderr.
    #[arg(long)]
    pub timings: bool,
    /// Worker threads (default: one per core); the feed is the same for any count.
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(serde::Serialize)]
struct CandidateJson<'a> {
    rank: Option<usize>,
    story: &'a str,
    author: &'a str,
    source: &'static str,
    friends_engaged: u32,
    value: f64,
    p: HeadsJson,
    multipliers: Multipliers,
    score: f64,
    why: &'a str,
    features: &'a [Contribution],
}

#[derive(serde::Serialize)]
struct FilteredJson<'a> {
    story: &'a str,
    author: &'a str,
    source: &'static str,
    reason: &'static str,
}

/// Everything but the feed line (which is spliced in verbatim as `"feed"`).
#[derive(serde::Serialize)]
struct DebugJson<'a> {
    friends: usize,
    candidates: Vec<CandidateJson<'a>>,
    filtered: Vec<FilteredJson<'a>>,
}

struct Feed<'a> {
    as_of: i64,
    user: u32,
    json: bool,
    html: Option<PathBuf>,
    stages: &'a mut crate::common::Stages,
}

fn print_profile(out: &mut impl Write, world: &World, pr: &Profile) -> std::io::Result<()> {
    let name = |u: u32| world.users.name(u);
    writeln!(out, "friends: {}", pr.friends)?;
    let mut ties = pr.ties.clone();
    ties.sort_by(|a, b| {
        b.interactions
            .cmp(&a.interactions)
            .then(b.embeddedness.cmp(&a.embeddedness))
            .then(a.friend.cmp(&b.friend))
    });
    let list: Vec<String> = ties
        .iter()
        .take(5)
        .map(|t| {
            format!(
                "{} ({} interactions, {} mutual)",
                name(t.friend),
                t.interactions,
                t.embeddedness
            )
        })
        .collect();
    writeln!(out, "top ties by tie strength: {}", list.join(", "))?;
    if ties.iter().any(|t| t.dispersion.is_some()) {
        ties.sort_by(|a, b| {
            b.dispersion
                .cmp(&a.dispersion)
                .then(a.friend.cmp(&b.friend))
        });
        let list: Vec<String> = ties
            .iter()
            .take(5)
            .map(|t| {
                format!(
                    "{} (dispersion {}, recursive {:.3}, {} mutual)",
                    name(t.friend),
                    t.dispersion.unwrap_or(0),
                    t.recursive_dispersion,
                    t.embeddedness
                )
            })
            .collect();
        writeln!(out, "top ties by dispersion: {}", list.join(", "))?;
    }
    Ok(())
}

/// The `--json` object: `{"feed": <exactly the batch line>, "friends", "candidates",
/// "filtered"}`.
fn print_json(
    w: &mut impl Write,
    world: &World,
    ex: &feedrank::rank::UserExplanation,
    pr: &Profile,
    mask: &[bool; 5],
) -> anyhow::Result<()> {
    let sname = |s: u32| world.story_ids.name(s);
    let uname = |u: u32| world.users.name(u);
    let out = DebugJson {
        friends: pr.friends,
        candidates: ex
            .candidates
            .iter()
            .map(|c| CandidateJson {
                rank: c.rank,
                story: sname(c.item.story),
                author: uname(c.item.author),
                source: c.item.source.as_str(),
                friends_engaged: c.item.friends_engaged,
                value: c.item.value,
                p: HeadsJson::new(mask, &c.item.p),
                multipliers: c.item.multipliers,
                score: c.item.score,
                why: &c.why,
                features: &c.explanation.contributions,
            })
            .collect(),
        filtered: ex
            .filtered
            .iter()
            .map(|(c, r)| FilteredJson {
                story: sname(c.story),
                author: uname(c.author),
                source: c.source.as_str(),
                reason: r.as_str(),
            })
            .collect(),
    };
    // {"feed": <exactly the batch line>, "friends": .., "candidates": .., "filtered": ..}
    let mut line = Vec::new();
    write_jsonl(world, mask, &ex.feed, &mut line);
    let line = String::from_utf8(line)?;
    let rest = serde_json::to_string(&out)?;
    writeln!(w, "{{\"feed\":{},{}", line.trim_end(), &rest[1..])?;
    Ok(())
}

impl Feed<'_> {
    fn run(self, world: &World, ranker: &FeedRanker<'_>) -> anyhow::Result<()> {
        let FeedInspection {
            explanation: ex,
            profile: pr,
            heads: mask,
        } = ranker.inspect(self.user)?;
        self.stages.mark("rank and explain");
        let sname = |s: u32| world.story_ids.name(s);
        let uname = |u: u32| world.users.name(u);
        if let Some(path) = &self.html {
            let page = feed_page(world, &ex, &pr, &mask, &FeedPageOptions::default());
            feedrank::io::atomic::write_atomic(path, page.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        let mut out = crate::common::stdout();
        if self.json {
            print_json(&mut out, world, &ex, &pr, &mask)?;
            out.flush()?;
            return Ok(());
        }
        writeln!(
            out,
            "user {} as of {}: {} items{}",
            uname(self.user),
            self.as_of,
            ex.feed.items.len(),
            if ex.feed.fallback {
                " (FALLBACK: no candidates; popular recent stories)"
            } else {
                ""
            }
        )?;
        print_profile(&mut out, world, &pr)?;
        writeln!(out)?;
        writeln!(
            out,
            "candidates in final order ({}; score = value x multipliers):",
            ex.candidates.len()
        )?;
        for c in &ex.candidates {
            let it = &c.item;
            let rank = c.rank.map_or("  -".to_string(), |r| format!("{r:>3}"));
            writeln!(
                out,
                "{rank} {} by {} [{}{}] score {:.4} = value {:.4} x diversity {:.4} x oon {:.2} x fatigue {:.2}",
                sname(it.story),
                uname(it.author),
                it.source.as_str(),
                if it.friends_engaged > 0 {
                    format!(", {} friends engaged", it.friends_engaged)
                } else {
                    String::new()
                },
                it.score,
                it.value,
                it.multipliers.diversity,
                it.multipliers.out_of_network,
                it.multipliers.fatigue
            )?;
            let heads: Vec<String> = Action::ENGAGEMENTS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask[*i])
                .map(|(i, a)| format!("{} {:.4}", a.as_str(), it.p[i]))
                .collect();
            writeln!(out, "      p: {}", heads.join(", "))?;
            writeln!(out, "      why: {}", c.why)?;
            let feats: Vec<String> = c
                .explanation
                .contributions
                .iter()
                .map(|f| format!("{}={:.3} ({:+.4})", f.feature, f.value, f.contribution))
                .collect();
            if !feats.is_empty() {
                writeln!(out, "      features: {}", feats.join(" "))?;
            }
        }
        writeln!(out)?;
        writeln!(out, "filtered ({}):", ex.filtered.len())?;
        for (c, r) in &ex.filtered {
            writeln!(
                out,
                "  {} by {} [{}]: {}",
                sname(c.story),
                uname(c.author),
                c.source.as_str(),
                r.as_str()
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

pub fn run(a: Args) -> anyhow::Result<()> {
    crate::common::set_threads(a.threads)?;
    let mut st = crate::common::Stages::new(a.timings);
    let params = generate::rank_params(a.input.config.as_deref(), a.input.k)?;
    // The model file is read on another thread while the world loads.
    let (world, model) = std::thread::scope(|s| {
        let model = s.spawn(|| generate::load_model(&a.input.model));
        let world = generate::load_world(&a.input.world, false);
        let model = model
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the model loader panicked")));
        (world, model)
    });
    let (world, model) = (world?, model?);
    generate::admit_model(&model, &world, a.input.allow_other_world)?;
    st.mark("load world and model");
    let Some(user) = world.users.get(&a.user) else {
        anyhow::bail!(
            "unknown user {:?}: {} has {} users (e.g. {:?})",
            a.user,
            a.input.world.display(),
            world.num_users(),
            world.users.names().iter().take(3).collect::<Vec<_>>()
        );
    };
    // A partition world (README "Spark") answers for its own viewers at its own as_of.
    let partition = feedrank::index::read_partition(&a.input.world, &world)?;
    let as_of = generate::rank_as_of(a.input.as_of, &world, partition.as_ref());
    // Only what ranking this one user reads (the scoped index of one viewer).
    let scope = match partition {
        None => Scope::viewers(vec![user]),
        Some(p) if p.viewers.binary_search(&user).is_ok() => feedrank::index::Partition {
            viewers: vec![user],
            ..p
        }
        .scope(),
        Some(p) => anyhow::bail!(
            "{} is partition {} of {}: user {:?} is not one of its viewers",
            a.input.world.display(),
            p.index,
            p.count,
            a.user
        ),
    };
    let ranker = FeedRanker::new(&world, &model, scope, as_of, &params)?;
    st.mark("index");
    let feed = Feed {
        as_of,
        user,
        json: a.json,
        html: a.html,
        stages: &mut st,
    };
    feed.run(&world, &ranker)?;
    st.mark("output");
    st.print();
    Ok(())
}
