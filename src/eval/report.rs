//! The evaluation report: takes an [`EvalResult`] (with its per-list values and curves) and
//! [`ReportExtras`] from the caller (the model's largest standardised coefficients, a summary
//! of the world), and hands on a directory with `index.html` (self-contained: inline SVG
//! charts drawn with `plotters`, no script, no network access), `results.json` (exactly
//! [`EvalResult::to_json`]) and `results.md` (the tables in Markdown). Every file is written
//! atomically.
//!
//! Confidence intervals are 95% percentile-bootstrap intervals over the (viewer, day) lists
//! (Efron & Tibshirani 1993, [`bootstrap_ci`]); differences between methods are paired
//! ([`paired_diff_ci`]: the same lists, resampled together), as are the ablation deltas.
//! Every interval uses the same seed, so for one number of lists every interval resamples
//! the same lists.
//!
//! Charts: plotters' SVG backend renders text as SVG `<text>` elements (its naive font
//! layout needs no font feature); the `xmlns` attribute is dropped from the inline `<svg>`
//! (HTML5 does not need it), so the page holds no URL at all.

use super::result::{bootstrap_ci, paired_diff_ci, EvalResult, MethodResult};
use super::EvalError;
use crate::io::atomic::write_atomic;
use crate::io::world_tsv::civil::format_utc_minute;
use crate::io::IoError;
use crate::util::html::escape as html_escape;
use crate::util::progress::{Progress, Silent};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// What the report needs beyond the [`EvalResult`], filled by the caller from the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportExtras {
    /// Per head (action name): `(feature, standardised coefficient)`, any order; the report
    /// shows the [`ReportOptions::top_coefficients`] largest by absolute value.
    pub coefficients: Vec<(String, Vec<(String, f64)>)>,
    /// A line or two about the world evaluated (users, stories, events, time span).
    pub world_summary: String,
    /// The command that produced the report (shown verbatim), if known.
    pub command: Option<String>,
    /// Free-form notes shown at the end of the report.
    pub notes: Vec<String>,
}

/// Report settings. Defaults: 1,000 bootstrap resamples, seed 0, 12 coefficients per head.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Bootstrap resamples per interval (0 = no intervals).
    pub resamples: usize,
    /// Seed of every bootstrap.
    pub seed: u64,
    /// Coefficients shown per head.
    pub top_coefficients: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 0,
            top_coefficients: 12,
        }
    }
}

/// A mean with its 95% interval (`None` when undefined).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub ci: Option<(f64, f64)>,
}

/// The feed metrics of one method at k, each with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCis {
    pub method: String,
    pub ndcg: Estimate,
    pub precision: Estimate,
    pub recall: Estimate,
    pub map: Estimate,
    pub mrr: Estimate,
}

/// Every interval the report shows, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportStats {
    pub methods: Vec<MethodCis>,
    /// `model - baseline` in nDCG@k, paired, per other method (empty without a `model`).
    pub diffs: Vec<(String, Estimate)>,
    /// Per ablated group: the full model's nDCG@k minus the ablated one, paired.
    pub ablations: Vec<(String, Estimate)>,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn estimate(values: &[f64], opts: &ReportOptions) -> Estimate {
    Estimate {
        mean: mean(values),
        ci: bootstrap_ci(values, opts.resamples, opts.seed),
    }
}

fn method_cis(m: &MethodResult, opts: &ReportOptions) -> MethodCis {
    let col = |f: fn(&crate::metrics::ListMetrics) -> f64| {
        let v: Vec<f64> = m.per_list.iter().map(f).collect();
        estimate(&v, opts)
    };
    // The stored means (identical up to rounding) are kept so that tables agree with the JSON.
    MethodCis {
        method: m.name.clone(),
        ndcg: Estimate {
            mean: m.ndcg,
            ..col(|l| l.ndcg)
        },
        precision: Estimate {
            mean: m.precision,
            ..col(|l| l.precision)
        },
        recall: Estimate {
            mean: m.recall,
            ..col(|l| l.recall)
        },
        map: Estimate {
            mean: m.map,
            ..col(|l| l.ap)
        },
        mrr: Estimate {
            mean: m.mrr,
            ..col(|l| l.rr)
        },
    }
}

/// Computes every interval of the report.
///
/// # Complexity
/// O(resamples * lists * (5 * methods + methods + ablations)).
pub fn report_stats(result: &EvalResult, opts: &ReportOptions) -> ReportStats {
    report_stats_with_progress(result, opts, &Silent)
}

/// As [`report_stats`], reporting the step "bootstrap intervals" to `progress`: one unit per
/// interval (5 per method, one per paired difference and per ablation).
pub fn report_stats_with_progress(
    result: &EvalResult,
    opts: &ReportOptions,
    progress: &dyn Progress,
) -> ReportStats {
    let model = result.method("model");
    let n = result.methods.len() as u64;
    let diffs_n = if model.is_some() {
        n.saturating_sub(1)
    } else {
        0
    };
    let ablations_n = result.ablations.iter().flatten().count() as u64;
    progress.step("bootstrap intervals", 5 * n + diffs_n + ablations_n);
    let methods = result
        .methods
        .iter()
        .map(|m| {
            let cis = method_cis(m, opts);
            progress.advance(5);
            cis
        })
        .collect();
    let mut diffs = Vec::new();
    if let Some(model) = model {
        let a = model.per_list_ndcg();
        for m in result.methods.iter().filter(|m| m.name != "model") {
            let b = m.per_list_ndcg();
            diffs.push((
                m.name.clone(),
                Estimate {
                    mean: model.ndcg - m.ndcg,
                    ci: paired_diff_ci(&a, &b, opts.resamples, opts.seed),
                },
            ));
            progress.advance(1);
        }
    }
    let mut ablations = Vec::new();
    for (g, ab) in result.ablations.iter().flatten() {
        let ci = model.and_then(|m| {
            paired_diff_ci(
                &m.per_list_ndcg(),
                &ab.per_list_ndcg,
                opts.resamples,
                opts.seed,
            )
        });
        ablations.push((g.to_string(), Estimate { mean: ab.delta, ci }));
        progress.advance(1);
    }
    ReportStats {
        methods,
        diffs,
        ablations,
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Renders one chart with plotters' SVG backend into a string and makes it fit for inline
/// HTML (no `xmlns` URL).
///
/// # Errors
/// [`EvalError::Chart`] naming the chart when plotters fails.
pub fn render_svg<F>(name: &str, size: (u32, u32), draw: F) -> Result<String, EvalError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
{
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let fail = |e: &dyn std::fmt::Display| EvalError::Chart {
            chart: name.to_string(),
            message: e.to_string(),
        };
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        draw(&root).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(buf
        .replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" data-chart=\"{name}\" "),
            1,
        ))
}

/// A colour per series index (plotters' 99-colour palette, stable).
fn color(i: usize) -> RGBColor {
    let c = Palette99::pick(i).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

/// The colour index of a method: its position in the result, so that one method has one
/// colour in every chart.
fn method_color(result: &EvalResult, name: &str) -> usize {
    result
        .methods
        .iter()
        .position(|m| m.name == name)
        .unwrap_or(result.methods.len())
}

fn finite_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-9 {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = (hi - lo) * 0.08;
        (lo - pad, hi + pad)
    }
}

/// A vertical bar chart with optional error bars, the bars from 0.
fn bar_chart(
    name: &str,
    title: &str,
    y_desc: &str,
    bars: &[(String, Estimate)],
    colors: &[usize],
) -> Result<String, EvalError> {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for (_, e) in bars {
        for v in [Some(e.mean), e.ci.map(|c| c.0), e.ci.map(|c| c.1)]
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite())
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let (lo, hi) = finite_range(lo, hi);
    let n = bars.len().max(1);
    let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
    render_svg(name, (720, 360), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n.max(2) - 1).into_segmented(), lo..hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| format!("{:.3}", if v.abs() < 1e-12 { 0.0 } else { *v }))
            .y_desc(y_desc)
            .draw()?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, (_, e))| e.mean.is_finite())
                .map(|(i, (_, e))| {
                    let mut r = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), e.mean),
                        ],
                        color(colors.get(i).copied().unwrap_or(i))
                            .mix(0.75)
                            .filled(),
                    );
                    r.set_margin(0, 0, 12, 12);
                    r
                }),
        )?;
        chart.draw_series(bars.iter().enumerate().filter_map(|(i, (_, e))| {
            let (a, b) = e.ci?;
            Some(PathElement::new(
                vec![
                    (SegmentValue::CenterOf(i), a),
                    (SegmentValue::CenterOf(i), b),
                ],
                BLACK.stroke_width(2),
            ))
        }))?;
        // Whisker caps.
        for (i, (_, e)) in bars.iter().enumerate() {
            if let Some((a, b)) = e.ci {
                for y in [a, b] {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(SegmentValue::Exact(i), y), (SegmentValue::Exact(i + 1), y)],
                        BLACK.stroke_width(1),
                    )))?;
                }
            }
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(SegmentValue::Exact(0), 0.0), (SegmentValue::Exact(n), 0.0)],
            BLACK.stroke_width(1),
        )))?;
        Ok(())
    })
}

/// One line of a line chart: label, colour index, points.
type Series = (String, usize, Vec<(f64, f64)>);

/// A line chart of several series; `diagonal` adds the y = x reference line.
fn line_chart(
    name: &str,
    title: &str,
    (x_desc, y_desc): (&str, &str),
    series: &[Series],
    diagonal: bool,
    points: bool,
) -> Result<String, EvalError> {
    let all = series.iter().flat_map(|(_, _, s)| s.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0_f64, 0.0_f64);
    for &(x, y) in all.filter(|(x, y)| x.is_finite() && y.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if diagonal {
        // Same scale on both axes, from 0.
        let m = x1.max(y1).max(1e-6);
        x0 = 0.0;
        y0 = 0.0;
        x1 = m;
        y1 = m;
    }
    let (x0, x1) = if x0.is_finite() { (x0, x1) } else { (0.0, 1.0) };
    let (y0, y1) = finite_range(y0, y1);
    let (y0, y1) = (y0.max(if diagonal { 0.0 } else { y0 }), y1);
    let (x0, x1) = if x1 - x0 < 1e-9 {
        (x0 - 0.5, x1 + 0.5)
    } else {
        (x0, x1)
    };
    render_svg(name, (520, 400), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        if diagonal {
            chart
                .draw_series(LineSeries::new(
                    vec![(0.0, 0.0), (x1.min(y1), x1.min(y1))],
                    BLACK.mix(0.4).stroke_width(1),
                ))?
                .label("ideal")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.4)));
        }
        for (label, ci, s) in series {
            let c = color(*ci);
            let pts: Vec<(f64, f64)> = s
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                });
            if points {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .position(if diagonal {
                SeriesLabelPosition::UpperLeft
            } else {
                SeriesLabelPosition::LowerRight
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    })
}

/// A horizontal bar chart (feature -> coefficient), largest first at the top.
fn hbar_chart(name: &str, title: &str, bars: &[(String, f64)]) -> Result<String, EvalError> {
    let m = bars
        .iter()
        .map(|(_, v)| v.abs())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1e-6)
        * 1.1;
    let n = bars.len().max(1);
    let height = 110 + 28 * n as u32;
    let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
    render_svg(name, (620, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(190)
            .build_cartesian_2d(-m..m, (0..n.max(2) - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                // Row 0 is at the bottom: show the largest at the top.
                SegmentValue::CenterOf(i) => labels
                    .get(n.saturating_sub(1 + *i))
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("standardised coefficient (log-odds per standard deviation)")
            .draw()?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, (_, v))| v.is_finite())
                .map(|(i, (_, v))| {
                    let row = n - 1 - i;
                    let c = if *v >= 0.0 {
                        RGBColor(44, 120, 200)
                    } else {
                        RGBColor(210, 80, 60)
                    };
                    let mut r = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(row)),
                            (*v, SegmentValue::Exact(row + 1)),
                        ],
                        c.filled(),
                    );
                    r.set_margin(3, 3, 0, 0);
                    r
                }),
        )?;
        Ok(())
    })
}

fn fmt_est(e: &Estimate) -> String {
    match e.ci {
        Some((a, b)) => format!("{:.4} [{:.4}, {:.4}]", e.mean, a, b),
        None => format!("{:.4}", e.mean),
    }
}

fn fmt_signed(e: &Estimate) -> String {
    match e.ci {
        Some((a, b)) => format!("{:+.4} [{:+.4}, {:+.4}]", e.mean, a, b),
        None => format!("{:+.4}", e.mean),
    }
}

/// The largest `top` coefficients of one head by absolute value (ties by name).
fn top_coefficients(coefs: &[(String, f64)], top: usize) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = coefs
        .iter()
        .filter(|(_, c)| c.is_finite())
        .cloned()
        .collect();
    v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

/// One HTML section (`id`, heading, body).
struct Section {
    id: &'static str,
    title: String,
    body: String,
}

/// The Markdown tables with intervals (also the body of `results.md`).
pub fn report_markdown(
    result: &EvalResult,
    stats: &ReportStats,
    extras: &ReportExtras,
    opts: &ReportOptions,
) -> String {
    let k = result.k;
    let mut out = String::new();
    let _ = writeln!(out, "# Evaluation report: world `{}`\n", result.world);
    if !extras.world_summary.is_empty() {
        let _ = writeln!(out, "{}\n", extras.world_summary);
    }
    if let Some(c) = &extras.command {
        let _ = writeln!(out, "Command: `{c}`\n");
    }
    let _ = writeln!(out, "## Tables\n\n{}", result.to_markdown());
    let _ = writeln!(
        out,
        "## Feed metrics at k = {k} with 95% bootstrap intervals\n\n\
         {} resamples of the {} (viewer, day) lists with a positive, seed {}.\n",
        opts.resamples, result.lists, opts.seed
    );
    let _ = writeln!(
        out,
        "| method | nDCG@{k} | P@{k} | R@{k} | MAP@{k} | MRR |\n|---|---:|---:|---:|---:|---:|"
    );
    for m in &stats.methods {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            m.method,
            fmt_est(&m.ndcg),
            fmt_est(&m.precision),
            fmt_est(&m.recall),
            fmt_est(&m.map),
            fmt_est(&m.mrr)
        );
    }
    if !stats.diffs.is_empty() {
        let _ = writeln!(
            out,
            "\n## Paired differences: model - method, nDCG@{k}\n\n| method | model - method |\n|---|---:|"
        );
        for (m, e) in &stats.diffs {
            let _ = writeln!(out, "| {m} | {} |", fmt_signed(e));
        }
    }
    if !stats.ablations.is_empty() {
        let _ = writeln!(
            out,
            "\n## Ablations: full model - model without the group, nDCG@{k}\n\n| group | delta |\n|---|---:|"
        );
        for (g, e) in &stats.ablations {
            let _ = writeln!(out, "| {g} | {} |", fmt_signed(e));
        }
    }
    if !extras.coefficients.is_empty() {
        let _ = writeln!(out, "\n## Largest standardised coefficients per head\n");
        for (head, coefs) in &extras.coefficients {
            let _ = writeln!(out, "| {head} | coefficient |\n|---|---:|");
            for (f, c) in top_coefficients(coefs, opts.top_coefficients) {
                let _ = writeln!(out, "| {f} | {c:+.4} |");
            }
            out.push('\n');
        }
    }
    for n in &extras.notes {
        let _ = writeln!(out, "\nNote: {n}.");
    }
    out
}

fn html_table(head: &[String], rows: &[Vec<String>]) -> String {
    let mut t = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(t, "<th>{}</th>", html_escape(h));
    }
    t.push_str("</tr></thead><tbody>");
    for r in rows {
        t.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let cls = if i == 0 { "" } else { " class=\"num\"" };
            let _ = write!(t, "<td{cls}>{}</td>", html_escape(c));
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>\n");
    t
}

fn chart_div(svg: &str) -> String {
    format!("<div class=\"chart\">{svg}</div>\n")
}

/// The names of the charts [`report_html`] draws for `result` and `extras`, in page order
/// (one inline `<svg data-chart="name">` each).
pub fn chart_names(result: &EvalResult, extras: &ReportExtras) -> Vec<String> {
    let mut v = vec!["feed_ndcg".to_string()];
    if result.method("model").is_some() && result.methods.len() > 1 {
        v.push("paired_diff".to_string());
    }
    if result.methods.iter().any(|m| m.heads.is_some()) {
        for head in curve_heads(result) {
            let a = attr_safe(&head);
            v.push(format!("calibration_{a}"));
            v.push(format!("roc_{a}"));
        }
    }
    v.push("ndcg_curve".to_string());
    if result.ablations.as_ref().is_some_and(|a| !a.is_empty()) {
        v.push("ablations".to_string());
    }
    for (head, coefs) in &extras.coefficients {
        if !coefs.is_empty() {
            v.push(format!("coef_{}", attr_safe(head)));
        }
    }
    v
}

/// Heads with curves in any method, sorted.
fn curve_heads(result: &EvalResult) -> Vec<String> {
    let mut heads: Vec<String> = result
        .methods
        .iter()
        .flat_map(|m| m.head_curves.keys().cloned())
        .collect();
    heads.sort();
    heads.dedup();
    heads
}

fn attr_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The whole `index.html`: one section per part of the result, in page order (the
/// optional ones only when the result has them), behind a navigation bar.
///
/// # Errors
/// [`EvalError::Chart`] when a chart cannot be drawn.
pub fn report_html(
    result: &EvalResult,
    stats: &ReportStats,
    extras: &ReportExtras,
    opts: &ReportOptions,
) -> Result<String, EvalError> {
    let sections: Vec<Section> = [
        Some(overview_section(result, extras, opts)),
        Some(feed_metrics_section(result, stats)?),
        paired_diff_section(result, stats)?,
        heads_section(result)?,
        Some(ndcg_curve_section(result)?),
        ablations_section(result, stats)?,
        coefficients_section(extras, opts)?,
        notes_section(extras),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(html_page(&result.world, &sections))
}

/// The world, the test period, the interval method, the command and the result's notes.
fn overview_section(result: &EvalResult, extras: &ReportExtras, opts: &ReportOptions) -> Section {
    let mut body = String::new();
    if !extras.world_summary.is_empty() {
        let _ = writeln!(body, "<p>{}</p>", html_escape(&extras.world_summary));
    }
    let _ = writeln!(
        body,
        "<p>Test period from {}. {} (viewer, day) lists hold a positive and are \
         averaged ({} skipped without one); {} test impressions. k = {}. Intervals: 95% \
         percentile bootstrap over the lists, {} resamples, seed {}; differences are paired \
         (the same lists for both methods).</p>",
        format_utc_minute(result.split_at),
        result.lists,
        result.stats.lists_skipped,
        result.stats.candidates,
        result.k,
        opts.resamples,
        opts.seed
    );
    if let Some(c) = &extras.command {
        let _ = writeln!(body, "<pre>{}</pre>", html_escape(c));
    }
    for n in &result.notes {
        let _ = writeln!(body, "<p class=\"note\">Note: {}.</p>", html_escape(n));
    }
    Section {
        id: "overview",
        title: format!("World {}", result.world),
        body,
    }
}

/// The feed metrics of every method with intervals, and the nDCG@k bar chart.
fn feed_metrics_section(result: &EvalResult, stats: &ReportStats) -> Result<Section, EvalError> {
    let k = result.k;
    let head: Vec<String> = vec![
        "method".into(),
        format!("nDCG@{k}"),
        format!("P@{k}"),
        format!("R@{k}"),
        format!("MAP@{k}"),
        "MRR".into(),
    ];
    let rows: Vec<Vec<String>> = stats
        .methods
        .iter()
        .map(|m| {
            vec![
                m.method.clone(),
                fmt_est(&m.ndcg),
                fmt_est(&m.precision),
                fmt_est(&m.recall),
                fmt_est(&m.map),
                fmt_est(&m.mrr),
            ]
        })
        .collect();
    let mut body = html_table(&head, &rows);
    let bars: Vec<(String, Estimate)> = stats
        .methods
        .iter()
        .map(|m| (m.method.clone(), m.ndcg))
        .collect();
    body.push_str(&chart_div(&bar_chart(
        "feed_ndcg",
        &format!("nDCG@{k} per method (95% CI)"),
        &format!("nDCG@{k}"),
        &bars,
        &(0..bars.len()).collect::<Vec<_>>(),
    )?));
    Ok(Section {
        id: "feed-metrics",
        title: format!("Feed metrics at k = {k}"),
        body,
    })
}

/// `model - method` in nDCG@k with a verdict and a chart (none without a `model` method).
fn paired_diff_section(
    result: &EvalResult,
    stats: &ReportStats,
) -> Result<Option<Section>, EvalError> {
    if stats.diffs.is_empty() {
        return Ok(None);
    }
    let k = result.k;
    let rows: Vec<Vec<String>> = stats
        .diffs
        .iter()
        .map(|(m, e)| {
            let verdict = match e.ci {
                Some((a, _)) if a > 0.0 => "model better",
                Some((_, b)) if b < 0.0 => "model worse",
                Some(_) => "not resolved",
                None => "-",
            };
            vec![m.clone(), fmt_signed(e), verdict.to_string()]
        })
        .collect();
    let mut body = html_table(
        &[
            "method".into(),
            format!("model - method (nDCG@{k})"),
            "95% CI excludes 0?".into(),
        ],
        &rows,
    );
    body.push_str(&chart_div(&bar_chart(
        "paired_diff",
        &format!("model - method, nDCG@{k} (paired, 95% CI)"),
        "difference",
        &stats.diffs,
        &stats
            .diffs
            .iter()
            .map(|(m, _)| method_color(result, m))
            .collect::<Vec<_>>(),
    )?));
    Ok(Some(Section {
        id: "paired-differences",
        title: "Paired differences: model - baseline".into(),
        body,
    }))
}

/// The head metrics of every method with probabilities, and per head a calibration and a
/// ROC chart (none when no method has heads).
fn heads_section(result: &EvalResult) -> Result<Option<Section>, EvalError> {
    let with_heads: Vec<&MethodResult> = result
        .methods
        .iter()
        .filter(|m| m.heads.is_some())
        .collect();
    if with_heads.is_empty() {
        return Ok(None);
    }
    let fo = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"));
    let mut rows = Vec::new();
    for m in &with_heads {
        for (h, hm) in m.heads.iter().flatten() {
            rows.push(vec![
                m.name.clone(),
                h.clone(),
                fo(hm.auc),
                fo(hm.pr_auc),
                fo(hm.logloss),
                fo(hm.ne),
                fo(hm.calibration),
            ]);
        }
    }
    let mut body = html_table(
        &[
            "method".into(),
            "head".into(),
            "AUC".into(),
            "PR-AUC".into(),
            "log loss".into(),
            "NE".into(),
            "calibration".into(),
        ],
        &rows,
    );
    for h in curve_heads(result) {
        body.push_str(&head_curves_html(result, &h)?);
    }
    Ok(Some(Section {
        id: "heads",
        title: "Heads: calibration and ROC".into(),
        body,
    }))
}

/// The calibration and ROC charts of head `h`, side by side, one series per method that has
/// curves for it.
fn head_curves_html(result: &EvalResult, h: &str) -> Result<String, EvalError> {
    let with: Vec<&MethodResult> = result
        .methods
        .iter()
        .filter(|m| m.head_curves.contains_key(h))
        .collect();
    let cal: Vec<Series> = with
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                method_color(result, &m.name),
                m.head_curves[h]
                    .calibration
                    .iter()
                    .map(|b| (b.predicted, b.observed))
                    .collect(),
            )
        })
        .collect();
    let roc: Vec<Series> = with
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                method_color(result, &m.name),
                m.head_curves[h].roc.clone(),
            )
        })
        .collect();
    let a = attr_safe(h);
    let mut out = String::from("<div class=\"pair\">");
    out.push_str(&chart_div(&line_chart(
        &format!("calibration_{a}"),
        &format!("{h}: calibration by decile"),
        ("mean predicted probability", "observed rate"),
        &cal,
        true,
        true,
    )?));
    out.push_str(&chart_div(&line_chart(
        &format!("roc_{a}"),
        &format!("{h}: ROC"),
        ("false positive rate", "true positive rate"),
        &roc,
        true,
        false,
    )?));
    out.push_str("</div>\n");
    Ok(out)
}

/// Mean nDCG@k for k = 1.. per method, as lines.
fn ndcg_curve_section(result: &EvalResult) -> Result<Section, EvalError> {
    let series: Vec<Series> = result
        .methods
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                m.name.clone(),
                i,
                m.ndcg_curve
                    .iter()
                    .enumerate()
                    .map(|(j, v)| ((j + 1) as f64, *v))
                    .collect(),
            )
        })
        .collect();
    let max_k = result
        .methods
        .iter()
        .map(|m| m.ndcg_curve.len())
        .max()
        .unwrap_or(0);
    Ok(Section {
        id: "ndcg-curve",
        title: format!("nDCG@k for k = 1..{max_k}"),
        body: chart_div(&line_chart(
            "ndcg_curve",
            "mean nDCG@k per method",
            ("k", "nDCG@k"),
            &series,
            false,
            false,
        )?),
    })
}

/// nDCG@k without each ablated group and the paired loss (none without ablations).
fn ablations_section(
    result: &EvalResult,
    stats: &ReportStats,
) -> Result<Option<Section>, EvalError> {
    if stats.ablations.is_empty() {
        return Ok(None);
    }
    let k = result.k;
    let rows: Vec<Vec<String>> = result
        .ablations
        .iter()
        .flatten()
        .zip(&stats.ablations)
        .map(|((g, a), (_, e))| vec![g.to_string(), format!("{:.4}", a.ndcg), fmt_signed(e)])
        .collect();
    let mut body = html_table(
        &[
            "group".into(),
            format!("nDCG@{k} without"),
            "delta (full - without), 95% CI".into(),
        ],
        &rows,
    );
    body.push_str(&chart_div(&bar_chart(
        "ablations",
        &format!("nDCG@{k} lost without each feature group (paired, 95% CI)"),
        "delta nDCG",
        &stats.ablations,
        &(0..stats.ablations.len()).collect::<Vec<_>>(),
    )?));
    Ok(Some(Section {
        id: "ablations",
        title: "Ablations per feature group".into(),
        body,
    }))
}

/// Each head's largest standardised coefficients (none when the caller gave none).
fn coefficients_section(
    extras: &ReportExtras,
    opts: &ReportOptions,
) -> Result<Option<Section>, EvalError> {
    if extras.coefficients.is_empty() {
        return Ok(None);
    }
    let mut body = String::from(
        "<p>Coefficients of each head's logistic regression on standardised features \
         (change in log-odds per standard deviation), largest by absolute value.</p>\n",
    );
    for (head, coefs) in &extras.coefficients {
        if coefs.is_empty() {
            continue;
        }
        let top = top_coefficients(coefs, opts.top_coefficients);
        body.push_str(&chart_div(&hbar_chart(
            &format!("coef_{}", attr_safe(head)),
            &format!("{head}: largest coefficients"),
            &top,
        )?));
    }
    Ok(Some(Section {
        id: "coefficients",
        title: "What the model learned".into(),
        body,
    }))
}

/// The caller's notes (none without notes).
fn notes_section(extras: &ReportExtras) -> Option<Section> {
    if extras.notes.is_empty() {
        return None;
    }
    let mut body = String::new();
    for n in &extras.notes {
        let _ = writeln!(body, "<p>{}</p>", html_escape(n));
    }
    Some(Section {
        id: "notes",
        title: "Notes".into(),
        body,
    })
}

/// The page around `sections`: head with the style sheet, title, navigation, sections.
fn html_page(world: &str, sections: &[Section]) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>feedrank evaluation: {w}</title>\n<style>\n{css}</style>\n</head>\n<body>\n\
         <h1>feedrank evaluation: {w}</h1>\n<nav>",
        w = html_escape(world),
        css = REPORT_CSS
    );
    for s in sections {
        let _ = write!(html, "<a href=\"#{}\">{}</a> ", s.id, html_escape(&s.title));
    }
    html.push_str("</nav>\n");
    for s in sections {
        let _ = write!(
            html,
            "<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n",
            s.id,
            html_escape(&s.title),
            s.body
        );
    }
    html.push_str("</body>\n</html>\n");
    html
}

const REPORT_CSS: &str =
    "body{font-family:sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}\n\
nav a{margin-right:1em}\n\
table{border-collapse:collapse;margin:1em 0}\n\
th,td{border:1px solid #ccc;padding:4px 8px}\n\
th{background:#f2f2f2}\n\
td.num{text-align:right;font-family:monospace}\n\
.chart{display:inline-block;margin:0.5em}\n\
.pair{display:flex;flex-wrap:wrap}\n\
.note{color:#a60}\n\
pre{background:#f6f6f6;padding:0.5em;overflow-x:auto}\n";

fn io_write(path: &Path, source: std::io::Error) -> EvalError {
    EvalError::Io(IoError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `dir/index.html`, `dir/results.json` and `dir/results.md` (creating `dir`), each
/// atomically. `results.json` is exactly [`EvalResult::to_json`].
///
/// # Errors
/// [`EvalError::Io`] when the directory or a file cannot be written, [`EvalError::Chart`]
/// when a chart cannot be drawn, [`EvalError::Json`] if serialisation fails.
///
/// # Complexity
/// Dominated by the bootstrap: O(resamples * lists * (6 * methods + ablations)).
pub fn write_report(
    dir: &Path,
    result: &EvalResult,
    extras: &ReportExtras,
    opts: &ReportOptions,
) -> Result<(), EvalError> {
    write_report_with_progress(dir, result, extras, opts, &Silent)
}

/// As [`write_report`], reporting the bootstrap to `progress`
/// ([`report_stats_with_progress`]).
///
/// # Errors
/// As [`write_report`].
pub fn write_report_with_progress(
    dir: &Path,
    result: &EvalResult,
    extras: &ReportExtras,
    opts: &ReportOptions,
    progress: &dyn Progress,
) -> Result<(), EvalError> {
    std::fs::create_dir_all(dir).map_err(|e| io_write(dir, e))?;
    let stats = report_stats_with_progress(result, opts, progress);
    let json = result.to_json()?;
    let md = report_markdown(result, &stats, extras, opts);
    let html = report_html(result, &stats, extras, opts)?;
    write_atomic(dir.join("results.json"), json.as_bytes())?;
    write_atomic(dir.join("results.md"), md.as_bytes())?;
    write_atomic(dir.join("index.html"), html.as_bytes())?;
    tracing::info!(dir = %dir.display(), "wrote the evaluation report");
    Ok(())
}
