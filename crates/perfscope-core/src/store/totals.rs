//! [`Totals`]: a callsite's figures summed over threads, the plain values a slot adds itself
//! to and the registry keeps for exited threads. A leaf: the slot, the thread store and the
//! registry all use it, it uses none of them.

use std::collections::BTreeMap;

use crate::alloc::AllocCounts;
use crate::histogram::Histogram;

/// A child's figures under one parent, summed over threads. Times in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeTotals {
    /// Calls of the child from the parent.
    pub calls: u64,
    /// The child's inclusive on-thread time under the parent.
    pub busy: u64,
    /// Bytes the child allocated (inclusive) under the parent.
    pub bytes: u64,
}

/// Plain totals of one callsite: a slot's figures summed over threads. Durations in ticks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Completed calls (sync returns or unwinds; async completions).
    pub calls: u64,
    /// Calls that ended by unwinding.
    pub panics: u64,
    /// Futures dropped before completion.
    pub cancelled: u64,
    /// Polls of async callsites.
    pub polls: u64,
    /// Inclusive on-thread time.
    pub busy: u64,
    /// On-thread time minus measured children's.
    pub self_: u64,
    /// First poll to completion, summed (async callsites).
    pub total: u64,
    /// Longest latency.
    pub max: u64,
    /// Calls to children past the per-callsite edge table.
    pub other_children: u64,
    /// Allocations made by the callsite itself.
    pub alloc_self: AllocCounts,
    /// Allocations made by the callsite and its measured children.
    pub alloc_total: AllocCounts,
    /// Figures per child callsite id.
    pub children: BTreeMap<u32, EdgeTotals>,
    /// Latency histogram.
    pub latency: Histogram,
}
