//! loom models of the store's cross-thread paths: a thread publishing slots while a snapshot
//! reads them, a thread exiting (its store retired) while a snapshot reads, and a reset racing
//! a thread's calls or its exit. Each model runs every interleaving loom finds (bounded
//! preemptions) on a [`Registry`] of its own, with the owning thread doing what the hot path
//! does to its store: look up or publish the slot, record a call, clear the store at its next
//! call when a reset made it stale.
//!
//! ```text
//! scripts/concurrency loom    # RUSTFLAGS="--cfg perfscope_loom", a target directory of its own:
//!                             # cargo test -p perfscope-core --release --lib loom -- --nocapture
//! ```
//!
//! What each model attacks, and the figures: RELIABILITY.md, "Concurrency: loom and Miri".

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use loom::thread;

use super::registry::Registry;
use super::slot::add;
use super::thread::ThreadStore;
use super::totals::Totals;
use crate::sync::{Arc, AtomicBool};

/// The callsite the owning thread calls, and a child it calls from it.
const PARENT: u32 = 300;
const CHILD: u32 = 2;

/// Runs `model` under loom with `preemptions` preemptions per execution at most (unless
/// `LOOM_MAX_PREEMPTIONS` says otherwise: the scheduled deeper run); prints the number of
/// executions explored, and fails when there was only one.
fn check(name: &str, preemptions: usize, model: impl Fn() + Sync + Send + 'static) {
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let mut builder = loom::model::Builder::new();
    let preemptions = builder.preemption_bound.unwrap_or(preemptions);
    builder.preemption_bound = Some(preemptions);
    // A snapshot reads every page pointer of a store (256) and every atomic of a slot.
    builder.max_branches = 100_000;
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        model();
    });
    let runs = runs.load(Relaxed);
    eprintln!("loom model {name}: {runs} executions (preemption bound {preemptions})");
    // A model whose threads never overlap explores one interleaving and proves nothing.
    assert!(runs > 1, "loom model {name} explored {runs} interleaving(s)");
}

/// One call of `PARENT` as the hot path records it: the slot found (or published on the first
/// call), latency and busy time `ticks`, one call of `CHILD` under it.
fn call(store: &ThreadStore, ticks: u64) {
    let slot = match store.slot(PARENT) {
        Some(slot) => slot,
        None => store.slot_or_insert(PARENT),
    };
    add(&slot.busy, ticks);
    slot.record_edge(CHILD, 1, ticks);
    slot.record_latency(ticks);
}

/// What a snapshot shows of `PARENT`: (calls, busy, calls of the edge to `CHILD`, histogram
/// count).
fn parent(totals: &HashMap<u32, Totals>) -> (u64, u64, u64, u64) {
    totals.get(&PARENT).map_or((0, 0, 0, 0), |t| {
        let edge = t.children.get(&CHILD).map_or(0, |e| e.calls);
        (t.calls, t.busy, edge, t.latency.count())
    })
}

/// Each counter of a snapshot is one the thread wrote (a prefix of its calls), never more than
/// it recorded, never a sum counted twice. Counters are read one by one while the thread
/// writes, so two counters may come from different prefixes.
fn assert_prefix(seen: (u64, u64, u64, u64), ticks: &[u64]) {
    let (calls, busy, edge, hist) = seen;
    let busy_prefixes: Vec<u64> = (0..=ticks.len()).map(|n| ticks[..n].iter().sum()).collect();
    assert!(calls <= ticks.len() as u64, "calls {calls}");
    assert!(edge <= ticks.len() as u64, "edge calls {edge}");
    assert!(hist <= ticks.len() as u64, "histogram count {hist}");
    assert!(busy_prefixes.contains(&busy), "busy {busy} is no prefix of {ticks:?}");
}

/// A thread publishes its store's page and slot and records three calls (the first publishes
/// the edge table, the first two latencies are kept in the slot, the third one's publishes
/// the histogram's sparse stage; `histogram::loom_model` races the octaves past it) while a
/// snapshot reads: the snapshot sees each counter at one of its written values (a published
/// slot or stage is never seen before its
/// initialisation, nothing is counted twice), and once the thread has exited the figures are
/// exact.
#[test]
fn loom_publish_vs_snapshot() {
    check("publish_vs_snapshot", 3, || {
        let registry = Arc::new(Registry::new());
        let owner = {
            let registry = registry.clone();
            thread::spawn(move || {
                let store = registry.register();
                call(&store, 1);
                call(&store, 200);
                call(&store, 3_000);
                registry.retire(&store);
            })
        };
        assert_prefix(parent(&registry.collect().totals), &[1, 200, 3_000]);
        owner.join().expect("the owner does not panic");
        assert_eq!(parent(&registry.collect().totals), (3, 3_201, 3, 3));
        assert_eq!(registry.live_threads(), 0);
    });
}

/// Two threads exit while a snapshot reads: each store is counted once, live or retired, never
/// both, and never neither once its thread has recorded its call (each thread says so with a
/// flag the snapshot reads first).
#[test]
fn loom_thread_exit_vs_snapshot() {
    check("thread_exit_vs_snapshot", 2, || {
        let registry = Arc::new(Registry::new());
        let recorded = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let owners: Vec<_> = [(0, 1), (1, 10)]
            .into_iter()
            .map(|(i, ticks)| {
                let (registry, recorded) = (registry.clone(), recorded.clone());
                thread::spawn(move || {
                    let store = registry.register();
                    call(&store, ticks);
                    recorded[i].store(true, Release);
                    registry.retire(&store);
                })
            })
            .collect();
        let must = [1, 10].iter().zip(recorded.iter()).filter(|(_, r)| r.load(Acquire));
        let must: u64 = must.map(|(ticks, _)| ticks).sum();
        let (calls, busy, edge, hist) = parent(&registry.collect().totals);
        assert!([0, 1, 10, 11].contains(&busy), "busy {busy}: a call counted twice");
        // 1 and 10 share no bit: `busy`'s bits say which threads' calls it holds.
        assert_eq!(busy & must, must, "busy {busy}: a recorded call is missing");
        assert!(calls <= 2 && edge <= 2 && hist <= 2, "{calls} {edge} {hist}");
        for owner in owners {
            owner.join().expect("the owners do not panic");
        }
        assert_eq!(parent(&registry.collect().totals), (2, 11, 2, 2));
        assert_eq!(registry.live_threads(), 0);
    });
}

/// A reset races a thread's calls: the thread records a call, clears its store at its next
/// call if a reset made it stale (as `live_store` does), and records another. A snapshot
/// taken after `reset()` returns never shows the first call (recorded before the thread saw
/// the reset), alone or added to the second; neither does the final one.
#[test]
fn loom_reset_vs_publish() {
    check("reset_vs_publish", 3, || {
        let registry = Arc::new(Registry::new());
        let store = registry.register();
        let owner = {
            let registry = registry.clone();
            thread::spawn(move || {
                call(&store, 1);
                store.clear_if_stale();
                call(&store, 10);
                registry.retire(&store);
            })
        };
        registry.reset();
        let after_reset = parent(&registry.collect().totals);
        assert!(after_reset.1 == 0 || after_reset.1 == 10, "after the reset: {after_reset:?}");
        assert!(after_reset.0 <= 1 && after_reset.2 <= 1 && after_reset.3 <= 1, "{after_reset:?}");
        owner.join().expect("the owner does not panic");
        let last = parent(&registry.collect().totals);
        assert!(last == (0, 0, 0, 0) || last == (1, 10, 1, 1), "at the end: {last:?}");
    });
}

/// A reset races a thread's exit: whichever comes first, nothing the thread recorded before
/// the reset survives it (a stale store is not folded into the retired totals; retired totals
/// are cleared).
#[test]
fn loom_reset_vs_thread_exit() {
    check("reset_vs_thread_exit", 3, || {
        let registry = Arc::new(Registry::new());
        let store = registry.register();
        let owner = {
            let registry = registry.clone();
            thread::spawn(move || {
                call(&store, 1);
                registry.retire(&store);
            })
        };
        registry.reset();
        assert_eq!(parent(&registry.collect().totals), (0, 0, 0, 0));
        owner.join().expect("the owner does not panic");
        assert_eq!(parent(&registry.collect().totals), (0, 0, 0, 0));
        assert_eq!(registry.live_threads(), 0);
    });
}
