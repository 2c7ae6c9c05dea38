//! The HTML feed page in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) loads the page from disk, its inline script reports the number of cards and any
//! script error on `<body>`, and a screenshot is taken. Skipped (with a message) when
//! Chromium is not installed. The page's static content is checked without a browser.
use feedrank::model::Contribution;
use feedrank::rank::batch::head_mask;
use feedrank::rank::explain::profile;
use feedrank::rank::html::{feed_page, FeedPageOptions};
use feedrank::rank::testkit::{random_world, FnScorer};
use feedrank::rank::{explain_user, RankConfig, RankContext, RankIndex, UserExplanation, Worker};
use feedrank::world::World;
use std::path::{Path, PathBuf};
use std::process::Command;

fn contribution(feature: &str, value: f64, contribution: f64) -> Contribution {
    Contribution {
        feature: feature.to_string(),
        value,
        contribution,
    }
}

/// A page for the first user (in id order) with both placed and filtered candidates.
fn page() -> (World, UserExplanation, String) {
    let world = random_world(7, 300, 12, 3000, 20_000);
    let idx = RankIndex::new(&world);
    let params = RankConfig {
        k: 15,
        ..RankConfig::default()
    }
    .check()
    .unwrap();
    let ctx = RankContext::new(&world, &idx, &params, RankContext::default_as_of(&world));
    let mut scorer =
        FnScorer::new(|v: u32, s: u32| ((v as u64 * 31 + s as u64 * 17) % 23) as f64 / 10.0 - 1.0);
    scorer.contributions = vec![
        contribution("aff_like", 3.0, 0.42),
        contribution("embeddedness", 4.0, 0.2),
        contribution("age_hours", 30.0, -0.15),
        contribution("friends_engaged", 2.0, 0.05),
        contribution("bias", 1.0, -0.01),
    ];
    let mask = head_mask(&[
        feedrank::world::Action::Click,
        feedrank::world::Action::Like,
        feedrank::world::Action::Hide,
    ]);
    let mut w = Worker::new(&world);
    for user in 0..world.num_users() as u32 {
        let ex = explain_user(&ctx, &scorer, &mut w, user).unwrap();
        if ex.feed.items.len() >= 5 && !ex.filtered.is_empty() && !ex.feed.fallback {
            let sig = feedrank::graph::EdgeSignals::compute_for_egos(
                &world.graph,
                &feedrank::graph::SignalParams::default(),
                &[user],
            );
            let pr = profile(&ctx, user, &sig);
            let html = feed_page(&world, &ex, &pr, &mask, &FeedPageOptions::default());
            drop(w);
            return (world.clone(), ex, html);
        }
    }
    panic!("no user with both placed and filtered candidates");
}

#[test]
fn page_content_matches_the_explanation() {
    let (world, ex, html) = page();
    // To look at the page: FEEDRANK_FEED_KEEP=/tmp/feed.html cargo test --test report_browser
    if let Some(keep) = std::env::var_os("FEEDRANK_FEED_KEEP") {
        std::fs::write(keep, &html).unwrap();
    }
    let n = ex.feed.items.len();
    assert_eq!(html.matches("<article class=\"card\"").count(), n);
    assert!(
        !html.to_lowercase().contains("http"),
        "the page holds a URL"
    );
    assert!(html.contains("id=\"profile\""));
    assert!(html.contains("closest ties by tie strength"));
    // Cards in feed order, with their why-line, source and rank.
    let mut at = 0;
    for (i, c) in ex
        .candidates
        .iter()
        .filter(|c| c.rank.is_some())
        .enumerate()
    {
        let sid = world.story_ids.name(c.item.story);
        let tag = format!("data-story=\"{sid}\" data-rank=\"{}\"", i + 1);
        let pos = html
            .find(&tag)
            .unwrap_or_else(|| panic!("missing card {tag}"));
        assert!(pos > at, "cards out of order");
        at = pos;
        let card_end = html[pos..].find("</article>").unwrap() + pos;
        let card = &html[pos..card_end];
        assert!(card.contains(c.item.source.as_str()));
        assert!(card.contains("Why you are seeing this"));
        // Feature bars: the largest contribution first, negative ones in red.
        let a = card.find("aff_like = 3.000").unwrap();
        let b = card.find("embeddedness = 4.000").unwrap();
        assert!(a < b);
        assert!(card.contains("fill neg"));
        // Only the scorer's heads.
        assert!(card.contains(">click<") && card.contains(">hide<"));
        assert!(!card.contains(">share<"));
    }
    assert_eq!(
        html.matches("<tr class=\"filtered\">").count(),
        ex.filtered.len()
    );
    for (_, r) in &ex.filtered {
        assert!(html.contains(r.as_str()));
    }
}

fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.exists() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

fn headless(bin: &Path, profile: &Path, extra: &[String], file: &Path) -> std::process::Output {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(format!("file://{}", file.display()));
    cmd.output().expect("chromium runs")
}

/// The value of `name="..."` on the `<body>` tag of a dumped DOM.
fn body_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<body")?;
    let end = start + dom[start..].find('>')?;
    let tag = &dom[start..end];
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = i + tag[i..].find('"')?;
    Some(tag[i..j].to_string())
}

#[test]
fn renders_in_headless_chromium() {
    let Some(bin) = chromium() else {
        println!("skipped: chromium not installed");
        return;
    };
    let (_world, ex, html) = page();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.html");
    std::fs::write(&file, &html).unwrap();
    let out = headless(
        &bin,
        &dir.path().join("profile"),
        &["--dump-dom".into()],
        &file,
    );
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        body_attr(&dom, "data-cards-rendered").as_deref(),
        Some(ex.feed.items.len().to_string().as_str()),
        "cards rendered; DOM starts {}",
        &dom[..dom.len().min(400)]
    );
    assert_eq!(body_attr(&dom, "data-js-errors"), None, "script errors");

    let png = dir.path().join("feed.png");
    let out = headless(
        &bin,
        &dir.path().join("profile"),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1200,1600".into(),
        ],
        &file,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.len() > 1000);
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn the_error_probe_sees_script_errors() {
    // The same inline script on a page that throws: the probe must report it, or the test
    // above proves nothing.
    let Some(bin) = chromium() else {
        println!("skipped: chromium not installed");
        return;
    };
    let (_world, _ex, html) = page();
    let broken = html.replace(
        "</main>",
        "</main><script>window.addEventListener('load',function(){undefinedFn();});</script>",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.html");
    std::fs::write(&file, &broken).unwrap();
    let out = headless(
        &bin,
        &dir.path().join("profile"),
        &["--dump-dom".into()],
        &file,
    );
    assert!(out.status.success());
    let dom = String::from_utf8_lossy(&out.stdout);
    let errs = body_attr(&dom, "data-js-errors").expect("the error is recorded");
    assert!(errs.contains("undefinedFn"), "{errs}");
}

/// The page shows its as-of time as a UTC date, never as unix seconds.
#[test]
fn page_shows_as_of_as_a_utc_date() {
    let (_, ex, html) = page();
    let date = feedrank::io::world_tsv::civil::format_utc_minute(ex.feed.as_of);
    assert!(date.ends_with(" UTC") && date.len() == "2024-01-15 08:00 UTC".len());
    assert!(
        html.contains(&format!("as of {date};")),
        "no UTC date in the page"
    );
    assert!(
        !html.contains(&ex.feed.as_of.to_string()),
        "the page holds unix seconds"
    );
}
