//! The HTML page's "System" section (a line chart per figure, drawn as inline SVG, with the
//! events about that figure marked on it) and its "Events" table.
//!
//! No chart library: each chart is a `<svg>` with one `<polyline>` per label set, the value
//! axis on the left (a ratio's on 0–100%, others from 0: `value_axis`; its unit written along
//! it), the time span (UTC) below, and markers: an alert
//! fired is a red vertical line, a resolved one a green line, an anomaly an orange dot, a
//! recommendation a grey dashed line, each with a `<title>` tooltip. Every string from the
//! report is escaped.

mod alerting;
mod zoom;

use std::fmt::Write;

use super::markup::escape;

use crate::format::{human_value, series_label, utc_time};
use crate::report::{EventKind, EventStats, FigureUnit, Report, SeriesStats};

/// The chart's drawing size (the SVG scales to its box; text scales with it).
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 184.0;
/// The plot area inside it: room for the value labels on the left, the times below.
const LEFT: f64 = 86.0;
const RIGHT: f64 = WIDTH - 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 150.0;

/// Line colours, one per label set (cycling); red, green and orange are the markers'.
const PALETTE: [&str; 8] =
    ["#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79"];

/// One chart: the series of one figure name (one line per label set).
struct Chart<'a> {
    section: &'a str,
    name: &'a str,
    unit: FigureUnit,
    series: Vec<&'a SeriesStats>,
}

/// The span of a chart's points in time and value, and how they map to the plot area.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Frame {
    t0: u64,
    t1: u64,
    lo: f64,
    hi: f64,
}

impl Frame {
    /// The span of `series`' points in time, and the value axis `axis` gives their unit and
    /// range ([`value_axis`], or [`zoom::data_axis`]); `None` when they have none.
    fn of(series: &[&SeriesStats], axis: fn(FigureUnit, f64, f64) -> (f64, f64)) -> Option<Frame> {
        let points = || series.iter().flat_map(|s| s.points.iter());
        let t0 = points().map(|p| p.0).min()?;
        let t1 = points().map(|p| p.0).max()?;
        let lo = points().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = points().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = axis(series[0].unit, lo, hi);
        Some(Frame { t0, t1, lo, hi })
    }

    fn x(&self, t: u64) -> f64 {
        if self.t1 == self.t0 {
            return (LEFT + RIGHT) / 2.0;
        }
        LEFT + (RIGHT - LEFT) * (t - self.t0) as f64 / (self.t1 - self.t0) as f64
    }

    fn y(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        BOTTOM - (BOTTOM - TOP) * (v - self.lo) / (self.hi - self.lo)
    }

    fn covers(&self, t: u64) -> bool {
        (self.t0..=self.t1).contains(&t)
    }
}

/// The value axis of a chart of `unit` whose points run from `lo` to `hi`, bottom and top:
/// a ratio on 0–100% (further only when a point is outside), counts, bytes and durations
/// from 0 (lower when a point is negative), so that a line is as high as its value, never
/// stretched over the whole chart by a small change.
fn value_axis(unit: FigureUnit, lo: f64, hi: f64) -> (f64, f64) {
    let bottom = lo.min(0.0);
    let top = match unit {
        FigureUnit::Ratio => hi.max(1.0),
        _ if hi > bottom => hi,
        // All zero (or all the same negative value): a unit of room above.
        _ => bottom + 1.0,
    };
    (bottom, top)
}

/// What the value axis is in, written along it.
fn unit_label(unit: FigureUnit) -> &'static str {
    match unit {
        FigureUnit::Ratio => "percent",
        FigureUnit::Bytes => "bytes",
        FigureUnit::Seconds => "time",
        FigureUnit::Count => "count",
    }
}

/// The "System" section: one chart per figure name in the report's history; nothing when
/// the report has no history. An alert armed on a chart's series draws its limit as a dashed
/// line and shades the windows in which it fired.
pub(super) fn system(report: &Report, out: &mut String) {
    let charts = charts(&report.history);
    if charts.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>System</h2>\n");
    out.push_str(
        "<p class=\"ps-note\">Recent history of the figure sources, times in UTC. Markers: \
         <span class=\"ps-key ps-fired\">alert fired</span>, \
         <span class=\"ps-key ps-resolved\">alert resolved</span>, \
         <span class=\"ps-key ps-anomaly\">anomaly</span>, \
         <span class=\"ps-key ps-advice\">recommendation</span> (hover for details); an \
         alert's limit is a dashed red line, the time it fired shaded red.</p>\n",
    );
    out.push_str(zoom::CONTROL);
    out.push_str("<div class=\"ps-charts\">\n");
    for chart in &charts {
        chart_box(chart, report, out);
    }
    out.push_str("</div>\n</section>\n");
}

/// The report's series grouped by figure (section, name and unit), sorted by section and
/// name (a source may give its series in any order), each chart's lines by their labels with
/// numbers in numeric order (`cpu` 2 before 10); series without points, and the functions'
/// latency series (drawn as a heatmap), are left out.
fn charts(history: &[SeriesStats]) -> Vec<Chart<'_>> {
    let mut charts = grouped(history);
    charts.sort_by(|a, b| (a.section, a.name).cmp(&(b.section, b.name)));
    for chart in &mut charts {
        chart.series.sort_by(|a, b| label_key(a).cmp(&label_key(b)));
    }
    charts
}

/// A series' sort key: its labels, each value a number (by value) or text.
fn label_key(series: &SeriesStats) -> Vec<(&str, Option<u64>, &str)> {
    series.labels.iter().map(|(k, v)| (k.as_str(), v.parse().ok(), v.as_str())).collect()
}

/// The series grouped by figure, in order of appearance.
fn grouped(history: &[SeriesStats]) -> Vec<Chart<'_>> {
    let mut charts: Vec<Chart<'_>> = Vec::new();
    // The functions' latency series have their own section (`heatmap.rs`).
    let drawn = |s: &&SeriesStats| !s.points.is_empty() && !super::heatmap::is_function_latency(s);
    for series in history.iter().filter(drawn) {
        let same = |c: &&mut Chart<'_>| {
            (c.section, c.name, c.unit) == (&series.section, &series.name, series.unit)
        };
        match charts.iter_mut().find(same) {
            Some(chart) => chart.series.push(series),
            None => charts.push(Chart {
                section: &series.section,
                name: &series.name,
                unit: series.unit,
                series: vec![series],
            }),
        }
    }
    charts
}

/// One chart in its box: caption, SVG, legend.
fn chart_box(chart: &Chart<'_>, report: &Report, out: &mut String) {
    let events = &report.events;
    let (Some(mut frame), Some(zoomed)) =
        (Frame::of(&chart.series, value_axis), Frame::of(&chart.series, zoom::data_axis))
    else {
        return;
    };
    // A limit above the points: the honest axis reaches it, so its line is drawn.
    let limits = alerting::limits(&report.figures, chart.name, &chart.series);
    if let Some(highest) = limits.iter().map(|l| l.value).reduce(f64::max) {
        frame.hi = frame.hi.max(highest);
    }
    out.push_str("<figure class=\"ps-chart-box\">\n");
    let _ = write!(
        out,
        "<figcaption><span class=\"name\">{}</span> <span class=\"ps-note\">{}",
        escape(chart.name),
        escape(chart.section)
    );
    if let [only] = chart.series.as_slice() {
        let _ = write!(out, ", now {}", escape(&last_value(only, chart.unit)));
    }
    out.push_str("</span></figcaption>\n");
    let _ = writeln!(
        out,
        "<svg class=\"ps-chart\" data-name=\"{}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"{}\" data-zoom=\"{}\">",
        escape(chart.name),
        escape(&format!("{} over time", chart.name)),
        zoom::transform(&frame, &zoomed)
    );
    axes(&frame, &zoomed, chart.unit, out);
    let windows = alerting::windows(&frame, chart.name, &chart.series, events);
    alerting::shade(&frame, &windows, out);
    alerting::limit_lines(&frame, &limits, chart.unit, out);
    for (i, series) in chart.series.iter().enumerate() {
        line(&frame, series, chart.unit, PALETTE[i % PALETTE.len()], out);
    }
    let about = |e: &&EventStats| e.subject == chart.name && frame.covers(e.at_unix_ms);
    for event in events.iter().filter(about) {
        marker(&frame, event, chart.unit, out);
    }
    out.push_str("</svg>\n");
    legend(chart, out);
    out.push_str("</figure>\n");
}

/// The series' newest value, for people.
fn last_value(series: &SeriesStats, unit: FigureUnit) -> String {
    series.points.last().map(|p| human_value(unit, p.1)).unwrap_or_default()
}

/// Grid lines and labels: the value range on the left (each label with its zoomed
/// counterpart in `data-zoomed`), the time span below.
fn axes(frame: &Frame, zoomed: &Frame, unit: FigureUnit, out: &mut String) {
    let _ = writeln!(
        out,
        "<rect class=\"ps-plot\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" \
         fill=\"#fafafa\" stroke=\"#ccc\"/>",
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    let middle = (frame.lo + frame.hi) / 2.0;
    let labels = value_labels(unit, [frame.hi, middle, frame.lo]);
    let zoomed = value_labels(unit, [zoomed.hi, (zoomed.lo + zoomed.hi) / 2.0, zoomed.lo]);
    for (((value, class), label), zoomed) in
        [(frame.hi, "max"), (middle, "mid"), (frame.lo, "min")].into_iter().zip(labels).zip(zoomed)
    {
        let y = frame.y(value);
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{RIGHT}\" y2=\"{y:.1}\" stroke=\"#e2e2e2\"/>\
             <text class=\"ps-axis ps-{class}\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" \
             data-zoomed=\"{}\">{}</text>",
            LEFT - 5.0,
            y + 4.0,
            escape(&zoomed),
            escape(&label)
        );
    }
    let _ = writeln!(
        out,
        "<text class=\"ps-axis ps-unit\" transform=\"rotate(-90)\" x=\"{:.1}\" y=\"12\" \
         text-anchor=\"middle\">{}</text>",
        -(TOP + BOTTOM) / 2.0,
        unit_label(unit)
    );
    let below = BOTTOM + 16.0;
    let times = [
        (LEFT, "start", "ps-start", format!("{} UTC", utc_time(frame.t0))),
        ((LEFT + RIGHT) / 2.0, "middle", "ps-span", human_span(frame.t1 - frame.t0)),
        (RIGHT, "end", "ps-end", format!("{} UTC", utc_time(frame.t1))),
    ];
    for (x, anchor, class, text) in times {
        let _ = writeln!(
            out,
            "<text class=\"ps-axis {class}\" x=\"{x}\" y=\"{below}\" text-anchor=\"{anchor}\">{}</text>",
            escape(&text)
        );
    }
}

/// Longest value label that fits left of the plot.
const LABEL_CHARS: usize = 10;

/// The axis labels of `values` (largest first): as the table writes them, or, when that
/// writes two alike (1 GiB and 1 GiB + 3 MiB) or too long a label (1181116006.4), in one
/// scale with as many decimals as it takes to tell them apart.
fn value_labels(unit: FigureUnit, values: [f64; 3]) -> [String; 3] {
    let distinct = |l: &[String; 3]| l[0] != l[1] && l[1] != l[2];
    let short = |l: &[String; 3]| l.iter().all(|l| l.chars().count() <= LABEL_CHARS);
    let human = values.map(|v| human_value(unit, v));
    if distinct(&human) && short(&human) {
        return human;
    }
    let (scale, suffix) = scale(unit, values[0].abs().max(values[2].abs()));
    let fine = |decimals: usize| values.map(|v| format!("{:.decimals$}{suffix}", v / scale));
    (1..=9).map(fine).find(distinct).unwrap_or(human)
}

/// A unit's scale for values up to `largest`: the divisor and the suffix.
fn scale(unit: FigureUnit, largest: f64) -> (f64, &'static str) {
    let steps: &[(f64, &'static str)] = match unit {
        FigureUnit::Bytes => {
            &[(1.0, " B"), (1024.0, " KiB"), (1_048_576.0, " MiB"), (1_073_741_824.0, " GiB")]
        }
        FigureUnit::Seconds => &[(1e-9, " ns"), (1e-6, " µs"), (1e-3, " ms"), (1.0, " s")],
        FigureUnit::Ratio => &[(0.01, "%")],
        FigureUnit::Count => &[(1.0, ""), (1e3, " k"), (1e6, " M"), (1e9, " G"), (1e12, " T")],
    };
    let fits = steps.iter().rev().find(|(divisor, _)| largest >= *divisor);
    *fits.unwrap_or(&steps[0])
}

/// How long a span of milliseconds is: `850 ms`, `45 s`, `5 min 30 s`, `2 h 5 min`.
fn human_span(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{s} s"),
        60_000..3_600_000 if s.is_multiple_of(60) => format!("{} min", s / 60),
        60_000..3_600_000 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s / 60 % 60),
    }
}

/// One series as a polyline (and a dot when it has a single point), titled with its labels
/// and newest value.
fn line(frame: &Frame, series: &SeriesStats, unit: FigureUnit, color: &str, out: &mut String) {
    let points: Vec<String> = series
        .points
        .iter()
        .map(|&(t, v)| format!("{:.1},{:.1}", frame.x(t), frame.y(v)))
        .collect();
    let title = format!(
        "{}: {} values, last {}",
        series_label(&series.name, &series.labels),
        series.points.len(),
        last_value(series, unit)
    );
    let _ = writeln!(
        out,
        "<polyline class=\"ps-line\" points=\"{}\" fill=\"none\" stroke=\"{color}\" \
         stroke-width=\"1.6\" stroke-linejoin=\"round\"><title>{}</title></polyline>",
        points.join(" "),
        escape(&title)
    );
    if let [(t, v)] = series.points.as_slice() {
        let _ = writeln!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{color}\"/>",
            frame.x(*t),
            frame.y(*v)
        );
    }
}

/// One event on a chart: a vertical line for alerts and recommendations, a dot at its value
/// (or mid-height) for anomalies.
fn marker(frame: &Frame, event: &EventStats, unit: FigureUnit, out: &mut String) {
    let x = frame.x(event.at_unix_ms);
    let title = escape(&event_title(event, unit));
    let (class, color, dash) = match event.kind {
        EventKind::AlertFired => ("ps-fired", "#d62728", ""),
        EventKind::AlertResolved => ("ps-resolved", "#2ca02c", ""),
        EventKind::Recommendation => ("ps-advice", "#666", " stroke-dasharray=\"4 3\""),
        EventKind::Anomaly => {
            let y = frame.y(event.value.unwrap_or((frame.lo + frame.hi) / 2.0));
            let _ = writeln!(
                out,
                "<circle class=\"ps-mark ps-anomaly\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4.5\" \
                 fill=\"#ff7f0e\" stroke=\"#fff\"><title>{title}</title></circle>"
            );
            return;
        }
    };
    let _ = writeln!(
        out,
        "<line class=\"ps-mark {class}\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" \
         y2=\"{BOTTOM}\" stroke=\"{color}\" stroke-width=\"2\"{dash}><title>{title}</title></line>"
    );
}

/// A marker's tooltip: time, kind, subject with labels, message, value.
fn event_title(event: &EventStats, unit: FigureUnit) -> String {
    let mut title = format!(
        "{} UTC {} {}: {}",
        utc_time(event.at_unix_ms),
        event.kind.as_str(),
        series_label(&event.subject, &event.labels),
        event.message
    );
    if let Some(value) = event.value {
        let _ = write!(title, " (value {})", human_value(unit, value));
    }
    title
}

/// Which colour is which label set, when the series have labels.
fn legend(chart: &Chart<'_>, out: &mut String) {
    if chart.series.iter().all(|s| s.labels.is_empty()) {
        return;
    }
    out.push_str("<ul class=\"ps-legend\">");
    for (i, series) in chart.series.iter().enumerate() {
        let mut labels: Vec<String> =
            series.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if labels.is_empty() {
            labels.push("(no labels)".into());
        }
        let _ = write!(
            out,
            "<li><span class=\"ps-swatch\" style=\"background:{}\"></span>{} <span \
             class=\"ps-note\">{}</span></li>",
            PALETTE[i % PALETTE.len()],
            escape(&labels.join(", ")),
            escape(&last_value(series, chart.unit))
        );
    }
    out.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::{BOTTOM, Frame, LEFT, RIGHT, TOP, charts, human_span, value_axis, value_labels};
    use crate::report::{FigureUnit, SeriesStats};

    #[test]
    fn charts_are_sorted_by_name_and_lines_by_labels_numbers_by_value() {
        let series = |name: &str, cpu: &str| SeriesStats {
            section: "host".into(),
            name: name.into(),
            labels: [("cpu".to_string(), cpu.to_string())].into(),
            unit: FigureUnit::Ratio,
            points: vec![(1, 0.5)],
        };
        let history = [series("b", "10"), series("a", "x"), series("b", "2"), series("b", "1")];
        let charts = charts(&history);
        let names: Vec<&str> = charts.iter().map(|c| c.name).collect();
        assert_eq!(names, ["a", "b"]);
        let cpus: Vec<&str> = charts[1].series.iter().map(|s| s.labels["cpu"].as_str()).collect();
        assert_eq!(cpus, ["1", "2", "10"]);
    }

    #[test]
    fn axis_labels_get_the_decimals_that_tell_them_apart() {
        let gib = 1_073_741_824.0;
        let labels = value_labels(FigureUnit::Bytes, [gib + 3_145_728.0, gib + 1_572_864.0, gib]);
        assert_eq!(labels, ["1.003 GiB", "1.001 GiB", "1.000 GiB"]);
        let plain = value_labels(FigureUnit::Ratio, [0.75, 0.5, 0.25]);
        assert_eq!(plain, ["75.0%", "50.0%", "25.0%"]);
        let seconds = value_labels(FigureUnit::Seconds, [0.0010003, 0.0010002, 0.0010001]);
        assert_eq!(seconds, ["1.0003 ms", "1.0002 ms", "1.0001 ms"]);
        let long =
            value_labels(FigureUnit::Count, [1_181_116_006.4, 1_073_741_824.0, 966_367_641.6]);
        assert_eq!(long, ["1.2 G", "1.1 G", "1.0 G"]);
    }

    #[test]
    fn ratios_are_drawn_on_0_to_100_percent_and_the_rest_from_0() {
        assert_eq!(value_axis(FigureUnit::Ratio, 0.99, 1.0), (0.0, 1.0));
        assert_eq!(value_axis(FigureUnit::Ratio, 0.2, 1.7), (0.0, 1.7));
        assert_eq!(value_axis(FigureUnit::Bytes, 5e6, 6e6), (0.0, 6e6));
        assert_eq!(value_axis(FigureUnit::Count, 12.0, 12.0), (0.0, 12.0));
        assert_eq!(value_axis(FigureUnit::Seconds, 0.0, 0.0), (0.0, 1.0));
        assert_eq!(value_axis(FigureUnit::Count, -3.0, 4.0), (-3.0, 4.0));
        assert_eq!(value_axis(FigureUnit::Count, -3.0, -3.0), (-3.0, -2.0));
    }

    #[test]
    fn spans_read_in_the_largest_sensible_unit() {
        assert_eq!(human_span(850), "850 ms");
        assert_eq!(human_span(45_000), "45 s");
        assert_eq!(human_span(300_000), "5 min");
        assert_eq!(human_span(330_000), "5 min 30 s");
        assert_eq!(human_span(7_500_000), "2 h 5 min");
    }

    #[test]
    fn the_frame_maps_its_corners_to_the_plot_area() {
        let frame = Frame { t0: 1_000, t1: 3_000, lo: 2.0, hi: 4.0 };
        assert_eq!((frame.x(1_000), frame.x(3_000)), (LEFT, RIGHT));
        assert_eq!((frame.y(2.0), frame.y(4.0), frame.y(9.0)), (BOTTOM, TOP, TOP));
        assert_eq!(frame.x(2_000), (LEFT + RIGHT) / 2.0);
    }
}
