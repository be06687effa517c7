//! How figures read for people, in the table and the HTML page alike: durations, bytes,
//! shares, figure labels as PromQL writes them, times of day; and names made safe for a
//! terminal ([`printable`]). A leaf: it knows values, not views.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::report::{FigureStats, FigureUnit};

/// A duration in human units: `870 ns`, `12.4 µs`, `3.07 ms`, `1.52 s`.
pub fn human_ns(ns: u64) -> String {
    let ns_f = ns as f64;
    match ns {
        0..1_000 => format!("{ns} ns"),
        1_000..1_000_000 => format!("{:.1} µs", ns_f / 1e3),
        1_000_000..1_000_000_000 => format!("{:.2} ms", ns_f / 1e6),
        _ => format!("{:.2} s", ns_f / 1e9),
    }
}

/// `text` for a terminal or a log: control characters but line breaks as Rust escapes
/// (`\u{1b}`), as the table view writes names. For text made of names from a report (a diff,
/// a verdict line).
///
/// ```
/// assert_eq!(perfscope_report::printable("app::\u{1b}[2Jf\n"), "app::\\u{1b}[2Jf\n");
/// ```
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    // Writing to a String cannot fail.
    let _ = escape_controls(text, &mut out);
    std::borrow::Cow::Owned(out)
}

pub(crate) fn escape_controls(text: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let mut rest = text;
    while let Some((at, c)) = rest.char_indices().find(|&(_, c)| c.is_control() && c != '\n') {
        out.write_str(&rest[..at])?;
        write!(out, "{}", c.escape_default())?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// The UTC time of day of a Unix time in milliseconds: `HH:MM:SS`.
pub fn utc_time(unix_ms: u64) -> String {
    let seconds = unix_ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// A figure's name with its labels, as PromQL writes a series: `pool_connections{pool="db"}`.
pub fn figure_label(figure: &FigureStats) -> String {
    series_label(&figure.name, &figure.labels)
}

/// `name{k="v",...}`, or `name` without labels.
pub fn series_label(name: &str, labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return name.to_string();
    }
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// A figure's value in its unit, for people: `3.07 MiB`, `1.20 ms`, `12`, `42.0%`.
pub fn human_figure(figure: &FigureStats) -> String {
    human_value(figure.unit, figure.value)
}

/// A value in `unit`, for people, as [`human_figure`] writes it.
pub fn human_value(unit: FigureUnit, value: f64) -> String {
    match unit {
        FigureUnit::Bytes if value >= 0.0 => human_bytes(value as u64),
        FigureUnit::Seconds if value >= 0.0 => human_ns((value * 1e9) as u64),
        FigureUnit::Ratio => format!("{:.1}%", value * 100.0),
        _ if value.fract() == 0.0 => format!("{value}"),
        _ => format!("{value:.3}"),
    }
}

/// A byte count in human units: `512 B`, `12.0 KiB`, `3.07 MiB`, `1.52 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", b / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.2} MiB", b / 1_048_576.0),
        _ => format!("{:.2} GiB", b / 1_073_741_824.0),
    }
}

/// What the table shows for a figure the report does not have.
pub(crate) const ABSENT: &str = "-";

/// `s` on one line (control characters as spaces), cut to `max` characters with `…`.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(4 * max));
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A duration in human units, as [`human_ns`] writes it (`1.52 ms`).
pub fn human_duration(duration: Duration) -> String {
    human_ns(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
}

/// A share as a percentage with one decimal (`75.0%`); `-` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    match share {
        Some(share) if share.is_finite() => format!("{:.1}%", share * 100.0),
        _ => ABSENT.into(),
    }
}

/// A count the report may not have.
pub(crate) fn count(n: Option<u64>) -> String {
    n.map_or_else(|| ABSENT.into(), |n| n.to_string())
}

/// Counts by cause (`size 10, expired 2`: the causes counted), `0` when none was, `-` when
/// the source does not say (no causes).
pub(crate) fn by_cause(by_cause: &BTreeMap<String, u64>) -> String {
    if by_cause.is_empty() {
        return ABSENT.into();
    }
    let causes: Vec<String> =
        by_cause.iter().filter(|(_, n)| **n > 0).map(|(cause, n)| format!("{cause} {n}")).collect();
    if causes.is_empty() { "0".into() } else { causes.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_is_the_time_of_day() {
        assert_eq!(utc_time(0), "00:00:00");
        // 2024-03-01 13:05:09.999 UTC
        assert_eq!(utc_time(1_709_298_309_999), "13:05:09");
    }

    #[test]
    fn byte_units_switch_at_each_kibi() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12 * 1024), "12.0 KiB");
        assert_eq!(human_bytes(3 * 1_048_576), "3.00 MiB");
    }

    #[test]
    fn units_switch_at_each_thousand() {
        assert_eq!(human_ns(999), "999 ns");
        assert_eq!(human_ns(12_400), "12.4 µs");
        assert_eq!(human_ns(3_070_000), "3.07 ms");
        assert_eq!(human_ns(1_520_000_000), "1.52 s");
    }

    #[test]
    fn clip_keeps_one_line_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("a\nb\tc", 10), "a b c");
        assert_eq!(clip("ééé", 2), "éé…");
    }

    #[test]
    fn shares_that_are_not_numbers_show_a_dash() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250.00 ms");
        assert_eq!(percent(Some(f64::INFINITY)), "-");
        assert_eq!(percent(Some(0.75)), "75.0%");
        assert_eq!(percent(None), "-");
    }
}
