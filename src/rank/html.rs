//! The HTML view of one user's feed (`feedrank-debug feed --html FILE`): takes the same
//! [`UserExplanation`] and [`Profile`] that the debug binary's text and `--json` views print
//! (so the three cannot disagree) and hands on one self-contained page: the user's profile
//! and closest ties, each placed story as a card (class `card`: rank, source, author, age,
//! the "why you are seeing this" line, CSS bars of its largest feature contributions and of
//! each head's probability), the unplaced candidates and the filtered candidates with
//! reasons. No external resource; a tiny inline script records script errors in
//! `body.dataset.jsErrors` and, on load, the number of cards in `body.dataset.cardsRendered`
//! (checked by the headless-browser test).

use super::explain::{ExplainedCandidate, Profile, Tie, UserExplanation};
use crate::io::world_tsv::civil::format_utc_minute;
use crate::util::html::escape as html_escape;
use crate::util::time::DAY;
use crate::world::{Action, World};
use std::fmt::Write as _;

/// Page settings. Defaults: 8 contributions per card, 8 ties per list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPageOptions {
    /// Largest contributions (by absolute value) shown per card.
    pub top_features: usize,
    /// Ties shown in each profile list.
    pub top_ties: usize,
}

impl Default for FeedPageOptions {
    fn default() -> Self {
        Self {
            top_features: 8,
            top_ties: 8,
        }
    }
}

/// A story's age as "3 h", "2 d 4 h" or "12 min".
pub fn format_age(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 3600 {
        format!("{} min", s / 60)
    } else if s < DAY {
        format!("{} h", s / 3600)
    } else {
        format!("{} d {} h", s / DAY, (s % DAY) / 3600)
    }
}

const SCRIPT: &str = "<script>\n\
window.onerror=function(msg,src,line){var b=document.body||document.documentElement;\
var prev=b.dataset.jsErrors?b.dataset.jsErrors+' | ':'';b.dataset.jsErrors=prev+msg+' (line '+line+')';};\n\
window.addEventListener('load',function(){document.body.dataset.cardsRendered=\
String(document.querySelectorAll('.card').length);});\n\
</script>\n";

const CSS: &str = "body{font-family:sans-serif;background:#f0f2f5;color:#1c1e21;margin:0}\n\
main{max-width:760px;margin:0 auto;padding:1em}\n\
.profile,.card,.panel{background:#fff;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.2);padding:12px 16px;margin:12px 0}\n\
.card header{display:flex;gap:.6em;align-items:baseline;flex-wrap:wrap}\n\
.rank{font-size:1.4em;font-weight:bold;color:#1877f2}\n\
.story{font-weight:bold}\n\
.meta{color:#65676b;font-size:.9em}\n\
.src{font-size:.75em;padding:1px 6px;border-radius:8px;background:#e4e6eb}\n\
.src.out_of_network{background:#fde7c8}.src.popular{background:#d8f0d8}\n\
.why{margin:.5em 0;font-style:italic}\n\
.cols{display:flex;gap:16px;flex-wrap:wrap}.cols>div{flex:1;min-width:300px}\n\
h4{margin:.4em 0;font-size:.85em;color:#65676b;text-transform:uppercase}\n\
.bar{display:flex;align-items:center;font-size:.8em;margin:2px 0}\n\
.bar .lbl{width:150px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}\n\
.bar .track{flex:1;height:10px;background:#eef;position:relative;margin:0 6px}\n\
.bar .fill{position:absolute;top:0;height:10px}\n\
.bar .fill.pos{background:#42b72a}.bar .fill.neg{background:#e4572e}.bar .fill.p{background:#1877f2}\n\
.bar .num{width:70px;text-align:right;font-family:monospace}\n\
.score{font-family:monospace;font-size:.8em;color:#65676b}\n\
table{border-collapse:collapse;font-size:.85em;width:100%}\n\
th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left}\n\
td.num{text-align:right;font-family:monospace}th.num{text-align:right}\n";

fn name_of(world: &World, user: u32) -> String {
    world
        .users
        .names()
        .get(user as usize)
        .cloned()
        .unwrap_or_else(|| format!("#{user}"))
}

fn story_of(world: &World, story: u32) -> String {
    world
        .story_ids
        .names()
        .get(story as usize)
        .cloned()
        .unwrap_or_else(|| format!("#{story}"))
}

/// Ties sorted by tie strength (interactions, then mutual friends, then id).
fn by_strength(ties: &[Tie]) -> Vec<&Tie> {
    let mut v: Vec<&Tie> = ties.iter().collect();
    v.sort_by(|a, b| {
        b.interactions
            .cmp(&a.interactions)
            .then(b.embeddedness.cmp(&a.embeddedness))
            .then(a.friend.cmp(&b.friend))
    });
    v
}

/// Ties sorted by dispersion (then id); only ties with a dispersion.
fn by_dispersion(ties: &[Tie]) -> Vec<&Tie> {
    let mut v: Vec<&Tie> = ties.iter().filter(|t| t.dispersion.is_some()).collect();
    v.sort_by(|a, b| {
        b.dispersion
            .cmp(&a.dispersion)
            .then(a.friend.cmp(&b.friend))
    });
    v
}

fn profile_html(out: &mut String, world: &World, pr: &Profile, opts: &FeedPageOptions) {
    let _ = write!(
        out,
        "<section class=\"profile\" id=\"profile\">\n<h2>{}</h2>\n<p class=\"meta\">{} friends</p>\n",
        html_escape(&name_of(world, pr.user)),
        pr.friends
    );
    let ties_table = |out: &mut String, title: &str, ties: &[&Tie]| {
        let _ = write!(
            out,
            "<h4>{}</h4>\n<table><thead><tr><th>friend</th><th class=\"num\">interactions</th>\
             <th class=\"num\">mutual friends</th><th class=\"num\">dispersion</th></tr></thead><tbody>\n",
            html_escape(title)
        );
        for t in ties.iter().take(opts.top_ties) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td></tr>",
                html_escape(&name_of(world, t.friend)),
                t.interactions,
                t.embeddedness,
                t.dispersion
                    .map_or_else(|| "-".to_string(), |d| d.to_string())
            );
        }
        out.push_str("</tbody></table>\n");
    };
    if pr.ties.is_empty() {
        out.push_str("<p>No friends: the feed comes from other sources.</p>\n");
    } else {
        ties_table(out, "closest ties by tie strength", &by_strength(&pr.ties));
        let disp = by_dispersion(&pr.ties);
        if !disp.is_empty() {
            ties_table(out, "closest ties by dispersion", &disp);
        }
    }
    out.push_str("</section>\n");
}

/// One CSS bar: `frac` in [-1, 1] of the track's half width (signed) or [0, 1] of its width.
fn bar(out: &mut String, label: &str, frac: f64, signed: bool, num: &str) {
    let frac = if frac.is_finite() { frac } else { 0.0 };
    let (left, width, cls) = if signed {
        let w = (frac.abs().min(1.0)) * 50.0;
        if frac >= 0.0 {
            (50.0, w, "pos")
        } else {
            (50.0 - w, w, "neg")
        }
    } else {
        (0.0, frac.clamp(0.0, 1.0) * 100.0, "p")
    };
    let _ = writeln!(
        out,
        "<div class=\"bar\"><span class=\"lbl\" title=\"{l}\">{l}</span><span class=\"track\">\
         <span class=\"fill {cls}\" style=\"left:{left:.1}%;width:{width:.1}%\"></span></span>\
         <span class=\"num\">{n}</span></div>",
        l = html_escape(label),
        n = html_escape(num)
    );
}

fn card_html(
    out: &mut String,
    world: &World,
    as_of: i64,
    c: &ExplainedCandidate,
    mask: &[bool; 5],
    opts: &FeedPageOptions,
) {
    let it = &c.item;
    let story = world.stories.get(it.story as usize);
    let age = story.map_or_else(|| "?".to_string(), |s| format_age(as_of - s.created_at));
    let kind = story
        .and_then(|s| world.kinds.names().get(s.kind as usize))
        .cloned()
        .unwrap_or_default();
    let _ = write!(
        out,
        "<article class=\"card\" data-story=\"{sid}\" data-rank=\"{rank}\">\n<header>\
         <span class=\"rank\">#{rank}</span><span class=\"story\">{sid}</span>\
         <span class=\"meta\">{kind} by <b>{author}</b>, {age} ago</span>\
         <span class=\"src {src}\">{src}{fe}</span></header>\n\
         <p class=\"why\">Why you are seeing this: {why}</p>\n",
        sid = html_escape(&story_of(world, it.story)),
        rank = c.rank.unwrap_or(0),
        kind = html_escape(&kind),
        author = html_escape(&name_of(world, it.author)),
        src = it.source.as_str(),
        fe = if it.friends_engaged > 0 {
            format!(
                ", {} friend{} engaged",
                it.friends_engaged,
                if it.friends_engaged == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        },
        why = html_escape(&c.why)
    );
    out.push_str("<div class=\"cols\"><div>\n<h4>largest feature contributions</h4>\n");
    let mut feats: Vec<_> = c
        .explanation
        .contributions
        .iter()
        .filter(|f| f.contribution.is_finite())
        .collect();
    feats.sort_by(|a, b| {
        b.contribution
            .abs()
            .total_cmp(&a.contribution.abs())
            .then(a.feature.cmp(&b.feature))
    });
    feats.truncate(opts.top_features);
    let max = feats
        .iter()
        .map(|f| f.contribution.abs())
        .fold(0.0_f64, f64::max);
    if feats.is_empty() {
        out.push_str("<p class=\"meta\">no feature contributions</p>\n");
    }
    for f in &feats {
        let frac = if max > 0.0 { f.contribution / max } else { 0.0 };
        bar(
            out,
            &format!("{} = {:.3}", f.feature, f.value),
            frac,
            true,
            &format!("{:+.4}", f.contribution),
        );
    }
    out.push_str("</div><div>\n<h4>head probabilities</h4>\n");
    for (i, a) in Action::ENGAGEMENTS.iter().enumerate() {
        if mask.get(i).copied().unwrap_or(false) {
            let p = it.p.get(i).copied().unwrap_or(0.0);
            bar(out, a.as_str(), p, false, &format!("{p:.4}"));
        }
    }
    let m = &it.multipliers;
    let _ = write!(
        out,
        "<p class=\"score\">score {:.4} = value {:.4} &times; diversity {:.3} &times; \
         out-of-network {:.2} &times; fatigue {:.2}</p>\n</div></div>\n</article>\n",
        it.score, it.value, m.diversity, m.out_of_network, m.fatigue
    );
}

/// The whole page. `mask` says which heads the scorer has (click, like, comment, share, hide;
/// see [`head_mask`](super::batch::head_mask)).
///
/// # Complexity
/// O(candidates * features log features + ties log ties).
pub fn feed_page(
    world: &World,
    ex: &UserExplanation,
    profile: &Profile,
    mask: &[bool; 5],
    opts: &FeedPageOptions,
) -> String {
    let user = html_escape(&name_of(world, ex.feed.user));
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>feed of {user}</title>\n{SCRIPT}<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n\
         <h1>Feed of {user}</h1>\n<p class=\"meta\">as of {}; {} stories placed \
         out of {} candidates; {} filtered{}.</p>\n",
        format_utc_minute(ex.feed.as_of),
        ex.feed.items.len(),
        ex.candidates.len(),
        ex.filtered.len(),
        if ex.feed.fallback {
            "; fallback: no candidate, popular recent stories instead"
        } else {
            ""
        }
    );
    profile_html(&mut out, world, profile, opts);
    let _ = writeln!(
        out,
        "<section id=\"feed\" data-items=\"{}\">\n<h2>Feed</h2>",
        ex.feed.items.len()
    );
    for c in ex.candidates.iter().filter(|c| c.rank.is_some()) {
        card_html(&mut out, world, ex.feed.as_of, c, mask, opts);
    }
    if ex.feed.items.is_empty() {
        out.push_str("<p>Nothing to show.</p>\n");
    }
    out.push_str("</section>\n");

    let unplaced: Vec<&ExplainedCandidate> =
        ex.candidates.iter().filter(|c| c.rank.is_none()).collect();
    let _ = write!(
        out,
        "<section class=\"panel\" id=\"unplaced\">\n<h2>Not placed ({})</h2>\n",
        unplaced.len()
    );
    if !unplaced.is_empty() {
        out.push_str(
            "<table><thead><tr><th>story</th><th>author</th><th>source</th><th>score</th>\
             <th>value</th><th>why it would show</th></tr></thead><tbody>\n",
        );
        for c in unplaced {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.4}</td>\
                 <td class=\"num\">{:.4}</td><td>{}</td></tr>",
                html_escape(&story_of(world, c.item.story)),
                html_escape(&name_of(world, c.item.author)),
                c.item.source.as_str(),
                c.item.score,
                c.item.value,
                html_escape(&c.why)
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");

    let _ = write!(
        out,
        "<section class=\"panel\" id=\"filtered\">\n<h2>Filtered candidates ({})</h2>\n",
        ex.filtered.len()
    );
    if !ex.filtered.is_empty() {
        out.push_str(
            "<table><thead><tr><th>story</th><th>author</th><th>source</th><th>reason</th>\
             </tr></thead><tbody>\n",
        );
        for (c, r) in &ex.filtered {
            let _ = writeln!(
                out,
                "<tr class=\"filtered\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&story_of(world, c.story)),
                html_escape(&name_of(world, c.author)),
                c.source.as_str(),
                r.as_str()
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n</main>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(format_age(59), "0 min");
        assert_eq!(format_age(125), "2 min");
        assert_eq!(format_age(3 * 3600 + 5), "3 h");
        assert_eq!(format_age(2 * 86_400 + 4 * 3600), "2 d 4 h");
        assert_eq!(format_age(-5), "0 min");
    }
}
