//! The HTML page's "Function latency" section: a heatmap strip per function, from the
//! history series the system monitor keeps of the most called functions' p50 and p99 latency
//! per interval (section `function`, [`P50`] and [`P99`], label `function`).
//!
//! Each strip is time on x (the same span for every function) in at most [`COLUMNS`] cells;
//! a cell's colour is the highest p99 of its intervals as a multiple of the function's own
//! median p50 over the whole span, on a log scale from 1× (pale) to [`HOT`]× or more (dark
//! red): a calm function is a pale strip, a tail or a step up in latency a darker stretch.
//! Runs of cells of one colour are one `<rect>` with a tooltip (times, p99, ratio), so the
//! page stays small: at most [`MAX_ROWS`] strips (the functions with the most calls in the
//! report), at most [`COLUMNS`] rectangles each. Every string from the report is escaped.

use perfscope_core::names;
use std::collections::BTreeMap;
use std::fmt::Write;

use super::markup::escape;
use crate::format::{human_value, utc_time};
use crate::report::{FigureUnit, Report, SeriesStats};

/// The monitor's series of a function's median latency per interval, seconds.
pub(crate) const P50: &str = names::FUNCTION_LATENCY_P50_SECONDS.name;
/// The monitor's series of a function's 99th-percentile latency per interval, seconds.
pub(crate) const P99: &str = names::FUNCTION_LATENCY_P99_SECONDS.name;
/// The section of both.
const SECTION: &str = names::section::FUNCTION;
/// Most strips drawn (the functions with the most calls).
pub(crate) const MAX_ROWS: usize = 20;
/// Most cells per strip.
pub(crate) const COLUMNS: usize = 120;
/// A p99 this many times the median p50, or more, has the darkest colour.
pub(crate) const HOT: f64 = 64.0;
/// The colours from 1× to [`HOT`]× (log scale), pale yellow to dark red.
const LEVELS: [&str; 9] = [
    "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
    "#800026",
];

/// The drawing: names on the left, strips in the middle, figures on the right.
const WIDTH: f64 = 1040.0;
const NAME_RIGHT: f64 = 300.0;
const STRIP_LEFT: f64 = 308.0;
const STRIP_RIGHT: f64 = 848.0;
const FIGURES_LEFT: f64 = 856.0;
const ROW: f64 = 18.0;
const CELL: f64 = 13.0;
const TOP: f64 = 4.0;
/// Longest name shown in full (longer ones keep their end, the most specific part).
const NAME_CHARS: usize = 44;

/// Whether `series` is one of the monitor's function latency series (drawn here, not among
/// the System section's charts).
pub(crate) fn is_function_latency(series: &SeriesStats) -> bool {
    series.section == SECTION && (series.name == P50 || series.name == P99)
}

/// One function's strip.
#[derive(Debug)]
struct Row<'a> {
    function: &'a str,
    calls: u64,
    p50: Option<&'a SeriesStats>,
    p99: &'a SeriesStats,
}

/// The functions with a p99 series, by calls in the report (then name), [`MAX_ROWS`] at most.
fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut calls: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &report.functions {
        let total = calls.entry(&f.name).or_default();
        *total = total.saturating_add(f.calls);
    }
    let mut p50s: BTreeMap<&str, &SeriesStats> = BTreeMap::new();
    let mut p99s: BTreeMap<&str, &SeriesStats> = BTreeMap::new();
    for series in report.history.iter().filter(|s| is_function_latency(s) && !s.points.is_empty()) {
        let Some(function) = series.labels.get("function") else { continue };
        let map = if series.name == P50 { &mut p50s } else { &mut p99s };
        map.insert(function, series);
    }
    let mut rows: Vec<Row<'_>> = p99s
        .into_iter()
        .map(|(function, p99)| Row {
            function,
            calls: calls.get(function).copied().unwrap_or(0),
            p50: p50s.get(function).copied(),
            p99,
        })
        .collect();
    rows.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.function.cmp(b.function)));
    rows.truncate(MAX_ROWS);
    rows
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite() && *v > 0.0);
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The colour level of a p99 `ratio` times the baseline: 0 at 1× or less, the last at [`HOT`]×.
pub(crate) fn level(ratio: f64) -> usize {
    if !ratio.is_finite() || ratio <= 1.0 {
        return 0;
    }
    let top = LEVELS.len() - 1;
    let x = ratio.ln() / HOT.ln() * top as f64;
    (x.round() as usize).min(top)
}

/// The strips' time span, in milliseconds: from one typical interval before the first point
/// to the last point, in `columns` cells (one per typical interval, [`COLUMNS`] at most).
#[derive(Debug, Clone, Copy)]
struct Span {
    t0: u64,
    t1: u64,
    columns: usize,
    /// The typical interval between two points (the median).
    gap: f64,
}

fn span(rows: &[Row<'_>]) -> Span {
    let points = || rows.iter().flat_map(|r| r.p99.points.iter().map(|p| p.0));
    let t1 = points().max().unwrap_or(0);
    let gaps: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.p99.points.windows(2).map(|w| w[1].0.saturating_sub(w[0].0) as f64))
        .collect();
    let gap = median(gaps).map_or(1000, |g| g as u64);
    let t0 = points().min().unwrap_or(0).saturating_sub(gap);
    let t1 = t1.max(t0 + 1);
    let columns = ((t1 - t0) as f64 / gap.max(1) as f64).round() as usize;
    Span { t0, t1, columns: columns.clamp(1, COLUMNS), gap: gap as f64 }
}

/// A cell: the highest p99 of its intervals (and that interval's time).
#[derive(Debug, Clone, Copy)]
struct Cell {
    p99: f64,
    from: u64,
    to: u64,
}

/// The row's points in `columns` cells over `t0..=t1`; `None` where it has no point. A point
/// closes its interval, which runs from the point before it (two typical intervals back at
/// most: a longer gap is a gap) and covers the cells whose middle it holds, or, if it is
/// shorter than a cell, the cell of its end; a cell holding several takes the highest p99.
fn cells(series: &SeriesStats, Span { t0, t1, columns, gap }: Span) -> Vec<Option<Cell>> {
    let width = (t1 - t0) as f64 / columns as f64;
    let mut cells: Vec<Option<Cell>> = vec![None; columns];
    let mut previous: Option<u64> = None;
    for &(t, v) in &series.points {
        if !v.is_finite() || t < t0 {
            continue;
        }
        let at = (t - t0) as f64;
        let from = previous.map_or(at - gap, |p| (p.saturating_sub(t0) as f64).max(at - 2.0 * gap));
        previous = Some(t);
        // Cells whose middle lies in (from, at].
        let first = ((from / width - 0.5).floor() + 1.0).max(0.0) as usize;
        let last = ((at / width - 0.5).floor().max(-1.0) + 1.0) as usize; // one past
        let last = last.min(columns);
        let range = if first < last {
            first..last
        } else {
            let column = ((at / width).ceil() as usize).clamp(1, columns) - 1;
            column..column + 1
        };
        for column in range {
            let from = t0.saturating_add((column as f64 * width) as u64);
            let to = t0.saturating_add(((column + 1) as f64 * width) as u64);
            let cell = cells[column].get_or_insert(Cell { p99: v, from, to });
            cell.p99 = cell.p99.max(v);
        }
    }
    cells
}

/// The "Function latency" section; nothing when the report has no function latency series.
pub(super) fn latency(report: &Report, out: &mut String) {
    let rows = rows(report);
    if rows.is_empty() {
        return;
    }
    let span = span(&rows);
    let (t0, t1) = (span.t0, span.t1);
    out.push_str("<section>\n<h2>Function latency</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"ps-note\">p99 latency per interval of the {} most called functions the \
         system monitor followed, as a multiple of each function's median p50 (right: median \
         p50, highest p99); times in UTC, hover for details.</p>",
        rows.len()
    );
    let height = TOP + ROW * rows.len() as f64 + 22.0;
    let _ = writeln!(
        out,
        "<svg class=\"ps-heatmap\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"p99 latency per function over time\">"
    );
    for (i, row) in rows.iter().enumerate() {
        strip(row, TOP + ROW * i as f64, span, out);
    }
    let below = TOP + ROW * rows.len() as f64 + 14.0;
    for (x, anchor, text) in [
        (STRIP_LEFT, "start", format!("{} UTC", utc_time(t0))),
        (STRIP_RIGHT, "end", format!("{} UTC", utc_time(t1))),
    ] {
        let _ = writeln!(
            out,
            "<text class=\"ps-axis\" x=\"{x}\" y=\"{below}\" text-anchor=\"{anchor}\">{}</text>",
            escape(&text)
        );
    }
    out.push_str("</svg>\n");
    legend(out);
    out.push_str("</section>\n");
}

/// One function's name, strip and figures at height `y`.
fn strip(row: &Row<'_>, y: f64, span: Span, out: &mut String) {
    let (t0, t1) = (span.t0, span.t1);
    let seconds = |v: f64| human_value(FigureUnit::Seconds, v);
    let p99s = || row.p99.points.iter().map(|p| p.1).filter(|v| v.is_finite());
    let p50 = row.p50.and_then(|s| median(s.points.iter().map(|p| p.1).collect()));
    // Without p50 points the baseline is the median p99.
    let base = p50.or_else(|| median(p99s().collect())).unwrap_or(0.0);
    let highest = p99s().fold(0.0_f64, f64::max);
    let name: String = if row.function.chars().count() > NAME_CHARS {
        let tail: Vec<char> = row.function.chars().rev().take(NAME_CHARS - 1).collect();
        std::iter::once('…').chain(tail.into_iter().rev()).collect()
    } else {
        row.function.to_string()
    };
    let _ = writeln!(
        out,
        "<g class=\"ps-strip\" data-function=\"{}\"><title>{}</title>",
        escape(row.function),
        escape(&format!("{}: {} calls", row.function, row.calls))
    );
    let mid = y + CELL / 2.0 + 4.0;
    let _ = writeln!(
        out,
        "<text class=\"ps-fn\" x=\"{NAME_RIGHT}\" y=\"{mid:.1}\" text-anchor=\"end\">{}</text>",
        escape(&name)
    );
    let _ = writeln!(
        out,
        "<rect x=\"{STRIP_LEFT}\" y=\"{y:.1}\" width=\"{}\" height=\"{CELL}\" fill=\"#eee\"/>",
        STRIP_RIGHT - STRIP_LEFT
    );
    let x = |t: u64| STRIP_LEFT + (STRIP_RIGHT - STRIP_LEFT) * (t - t0) as f64 / (t1 - t0) as f64;
    let cells = cells(row.p99, span);
    let mut i = 0;
    while i < cells.len() {
        let Some(first) = cells[i] else {
            i += 1;
            continue;
        };
        let ratio = |c: &Cell| if base > 0.0 { c.p99 / base } else { 1.0 };
        let lvl = level(ratio(&first));
        let mut run = first;
        let mut j = i + 1;
        while let Some(Some(next)) = cells.get(j)
            && level(ratio(next)) == lvl
        {
            run.p99 = run.p99.max(next.p99);
            run.to = next.to;
            j += 1;
        }
        let title = format!(
            "{} – {} UTC: p99 up to {} ({:.1}× the median p50)",
            utc_time(run.from),
            utc_time(run.to),
            seconds(run.p99),
            ratio(&run)
        );
        let _ = writeln!(
            out,
            "<rect class=\"ps-cell\" data-level=\"{lvl}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" \
             height=\"{CELL}\" fill=\"{}\"><title>{}</title></rect>",
            x(run.from),
            x(run.to) - x(run.from),
            LEVELS[lvl],
            escape(&title)
        );
        i = j;
    }
    let figures = match p50 {
        Some(p50) => format!("p50 {} · p99 ≤ {}", seconds(p50), seconds(highest)),
        None => format!("p99 ≤ {}", seconds(highest)),
    };
    let _ = writeln!(
        out,
        "<text class=\"ps-fig\" x=\"{FIGURES_LEFT}\" y=\"{mid:.1}\">{}</text>\n</g>",
        escape(&figures)
    );
}

/// The colour scale.
fn legend(out: &mut String) {
    out.push_str("<ul class=\"ps-legend ps-heat-legend\">");
    let top = LEVELS.len() - 1;
    for (i, color) in LEVELS.iter().enumerate() {
        let ratio = HOT.powf(i as f64 / top as f64);
        let label = match i {
            0 => "≤ 1×".to_string(),
            i if i == top => format!("≥ {HOT:.0}×"),
            _ => format!("{ratio:.1}×"),
        };
        let _ = write!(
            out,
            "<li><span class=\"ps-cell-key\" style=\"background:{color}\"></span>{label}</li>"
        );
    }
    out.push_str(
        "<li><span class=\"ps-cell-key\" style=\"background:#eee\"></span>no calls</li></ul>\n",
    );
}

#[cfg(test)]
mod tests {
    use super::{HOT, LEVELS, level};

    #[test]
    fn levels_run_from_calm_to_hot_on_a_log_scale() {
        assert_eq!(level(0.5), 0);
        assert_eq!(level(1.0), 0);
        assert_eq!(level(f64::NAN), 0);
        assert_eq!(level(HOT), LEVELS.len() - 1);
        assert_eq!(level(1e9), LEVELS.len() - 1);
        assert_eq!(level(8.0), 4); // the square root of 64: the middle
        assert!(level(3.0) >= 2);
    }
}
