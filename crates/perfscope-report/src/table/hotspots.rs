//! The table's hotspot rows: a row per function, most self time first, and the order in which
//! its columns give way on a narrow terminal.

use super::fit::{Grid, MIN_NAME_CHARS, Shorten, Step};
use crate::format::{human_bytes, human_ns};
use crate::report::{FunctionKind, FunctionStats, Report};

/// How the hotspot table narrows: long names are shortened first, then columns go, least
/// wanted first (notes; max and p90; the allocation columns; p50 and mean), the names
/// getting shorter between; function, calls, self, self %, total and p99 stay to the last.
const STEPS: [Step; 18] = [
    Step::Names(48),
    Step::Drop("notes"),
    Step::Drop("max"),
    Step::Drop("p90"),
    Step::Names(36),
    Step::Drop("net bytes"),
    Step::Drop("alloc bytes"),
    Step::Names(28),
    Step::Drop("allocs"),
    Step::Drop("p50"),
    Step::Drop("mean"),
    Step::Names(20),
    Step::Names(MIN_NAME_CHARS),
    // A terminal narrower than the columns that matter most: they go too, last first.
    Step::Drop("p99"),
    Step::Drop("total"),
    Step::Drop("self %"),
    Step::Drop("calls"),
    Step::Names(MIN_NAME_CHARS / 2),
];

/// The `rows` functions with the most self time.
pub(super) fn grid(report: &Report, rows: usize) -> Grid {
    let mut header =
        vec!["function", "calls", "self", "self %", "total", "mean", "p50", "p90", "p99", "max"];
    if report.alloc_tracking {
        header.extend(["allocs", "alloc bytes", "net bytes"]);
    }
    header.push("notes");
    let body = report.functions.iter().take(rows).map(|func| row(report, func)).collect();
    Grid::new(header, body, 1).left("notes").names("function", Shorten::Path).steps(&STEPS)
}

fn row(report: &Report, func: &FunctionStats) -> Vec<String> {
    let share = if report.elapsed_ns > 0 {
        format!("{:.1}%", 100.0 * func.self_ns as f64 / report.elapsed_ns as f64)
    } else {
        "-".into()
    };
    let mut row = vec![
        func.name.clone(),
        func.calls.to_string(),
        human_ns(func.self_ns),
        share,
        human_ns(func.total_ns),
        human_ns(func.mean_ns),
        human_ns(func.p50_ns),
        human_ns(func.p90_ns),
        human_ns(func.p99_ns),
        human_ns(func.max_ns),
    ];
    if report.alloc_tracking {
        let net = func.alloc_bytes as i128 - func.freed_bytes as i128;
        row.extend([
            func.allocations.to_string(),
            human_bytes(func.alloc_bytes),
            format!("{}{}", if net < 0 { "-" } else { "" }, human_bytes(net.unsigned_abs() as u64)),
        ]);
    }
    row.push(notes(func));
    row
}

/// Async and span idle time, panics, cancellations.
fn notes(func: &FunctionStats) -> String {
    let mut notes = Vec::new();
    if func.kind == FunctionKind::Async {
        notes.push(format!("async, idle {}", human_ns(func.idle_ns.unwrap_or(0))));
    }
    if func.panics > 0 {
        notes.push(format!("{} panics", func.panics));
    }
    if func.cancelled > 0 {
        notes.push(format!("{} cancelled", func.cancelled));
    }
    if func.kind == FunctionKind::Span {
        notes.push(format!("span, idle {}", human_ns(func.idle_ns.unwrap_or(0))));
    }
    notes.join("; ")
}
