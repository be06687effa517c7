//! The report's per-function figures: [`FunctionStats`] (one per measured function or span,
//! built from the snapshot's callsite) and its [`CallEdge`]s.

use perfscope_core::{CallsiteSnapshot, Kind};
use serde::{Deserialize, Serialize};

/// What a function entry measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    /// A sync function measured per call.
    #[default]
    Sync,
    /// An async function (or future) measured per poll and per completion.
    Async,
    /// A tracing span.
    Span,
}

/// One function's figures. Times in nanoseconds. `Default` is a sync function never called.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionStats {
    /// Full path, e.g. `my_crate::scan::rsi`, or the `name = ".."` given to `#[measure]`.
    pub name: String,
    /// `module_path!()` of the definition.
    pub module: String,
    /// Source file and line of the definition.
    pub file: String,
    /// Source line.
    pub line: u32,
    /// Sync, async or span.
    pub kind: FunctionKind,
    /// Completed calls, including panicked ones.
    pub calls: u64,
    /// Calls that ended by unwinding.
    #[serde(alias = "panicked")]
    pub panics: u64,
    /// Futures dropped before completing (async only; 0 otherwise).
    pub cancelled: u64,
    /// Inclusive latency summed over calls: sync call time, or async first poll to completion.
    pub total_ns: u64,
    /// Time running on a thread in this function, minus time in measured children.
    pub self_ns: u64,
    /// Inclusive time running on a thread (equals `total_ns` for sync functions).
    pub busy_ns: u64,
    /// Async and spans only: `total_ns - busy_ns`, time spent not running (between polls, or
    /// while a span was not entered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_ns: Option<u64>,
    /// Async only: number of polls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polls: Option<u64>,
    /// `total_ns / calls`.
    pub mean_ns: u64,
    /// Median latency (1% relative error).
    pub p50_ns: u64,
    /// 90th percentile latency.
    pub p90_ns: u64,
    /// 99th percentile latency.
    pub p99_ns: u64,
    /// Longest call.
    pub max_ns: u64,
    /// Allocations made in this function itself (not in measured children).
    #[serde(default)]
    #[serde(alias = "alloc_count")]
    pub allocations: u64,
    /// Bytes allocated in this function itself (a `realloc` counts its new size here and its
    /// old size in `freed_bytes`).
    #[serde(default)]
    pub alloc_bytes: u64,
    /// Deallocations made in this function itself.
    #[serde(default)]
    #[serde(alias = "dealloc_count")]
    pub frees: u64,
    /// Bytes freed in this function itself.
    #[serde(default)]
    #[serde(alias = "dealloc_bytes")]
    pub freed_bytes: u64,
    /// Reallocations made in this function itself (each is also one allocation and one
    /// deallocation above).
    #[serde(default)]
    #[serde(alias = "realloc_count")]
    pub reallocs: u64,
    /// `allocations` including measured children.
    #[serde(default)]
    #[serde(alias = "total_alloc_count")]
    pub total_allocations: u64,
    /// `alloc_bytes` including measured children.
    #[serde(default)]
    pub total_alloc_bytes: u64,
    /// `frees` including measured children.
    #[serde(default)]
    #[serde(alias = "total_dealloc_count")]
    pub total_frees: u64,
    /// `freed_bytes` including measured children.
    #[serde(default)]
    #[serde(alias = "total_dealloc_bytes")]
    pub total_freed_bytes: u64,
    /// Measured functions called from this one, by descending calls.
    pub children: Vec<CallEdge>,
}

/// A call edge: how often a child was called from the function holding this entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEdge {
    /// The child's [`FunctionStats::name`] (`<other>` sums children past the edge table).
    pub name: String,
    /// Calls.
    pub calls: u64,
    /// Time running in the child (inclusive of its own children) when called from here.
    #[serde(default)]
    pub busy_ns: u64,
    /// Bytes the child allocated (inclusive) when called from here.
    #[serde(default)]
    pub alloc_bytes: u64,
}

impl FunctionStats {
    /// One callsite of a snapshot, as the report shows it (children by descending calls).
    pub fn from_callsite(c: &CallsiteSnapshot) -> FunctionStats {
        let has_wall = c.info.kind != Kind::Sync;
        let mut children: Vec<CallEdge> = c
            .children
            .iter()
            .map(|child| CallEdge {
                name: child.name.to_string(),
                calls: child.calls,
                busy_ns: child.busy_ns,
                alloc_bytes: child.alloc_bytes,
            })
            .collect();
        if c.other_children > 0 {
            children.push(CallEdge {
                name: perfscope_core::names::OVERFLOW.into(),
                calls: c.other_children,
                busy_ns: 0,
                alloc_bytes: 0,
            });
        }
        children.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.name.cmp(&b.name)));
        let [p50_ns, p90_ns, p99_ns] = c.quantiles_ns([0.50, 0.90, 0.99]);
        FunctionStats {
            name: c.info.name.to_string(),
            module: c.info.module_path.to_string(),
            file: c.info.file.to_string(),
            line: c.info.line,
            kind: match c.info.kind {
                Kind::Sync => FunctionKind::Sync,
                Kind::Async => FunctionKind::Async,
                Kind::Span => FunctionKind::Span,
            },
            calls: c.calls,
            panics: c.panics,
            cancelled: c.cancelled,
            total_ns: c.total_ns,
            self_ns: c.self_ns,
            busy_ns: c.busy_ns,
            idle_ns: has_wall.then_some(c.total_ns.saturating_sub(c.busy_ns)),
            polls: (c.info.kind == Kind::Async).then_some(c.polls),
            mean_ns: c.mean_ns(),
            p50_ns,
            p90_ns,
            p99_ns,
            max_ns: c.max_ns,
            allocations: c.alloc_self.allocations,
            alloc_bytes: c.alloc_self.alloc_bytes,
            frees: c.alloc_self.frees,
            freed_bytes: c.alloc_self.freed_bytes,
            reallocs: c.alloc_self.reallocs,
            total_allocations: c.alloc_total.allocations,
            total_alloc_bytes: c.alloc_total.alloc_bytes,
            total_frees: c.alloc_total.frees,
            total_freed_bytes: c.alloc_total.freed_bytes,
            children,
        }
    }
}
