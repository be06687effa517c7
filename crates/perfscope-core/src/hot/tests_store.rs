//! The store's directory and edge tables through the hot path: callsites on several pages of a
//! thread's store (ids past 256), each found again by the fast path, and a parent's table of
//! 16 children (the 17th counted apart), merged over threads.

use super::tests_time::{find, measured, on_own_thread};
use crate::callsite::{self, CallsiteInfo};
use crate::{Callsite, Kind, clock, span};

/// `n` span callsites registered now (tracing spans have no `static`).
fn span_callsites(n: usize) -> Vec<u32> {
    (0..n)
        .map(|i| {
            callsite::register_dynamic(CallsiteInfo {
                name: format!("tests_store::span_{i}").into(),
                module_path: module_path!().into(),
                file: file!().into(),
                line: line!(),
                kind: Kind::Span,
            })
        })
        .collect()
}

/// One entered-and-closed span of callsite `id` (span ids are the test's own).
fn span_call(id: u32, span_id: u64) {
    let created = clock::now();
    span::enter(id, span_id, true);
    span::exit(span_id);
    span::close(id, created);
}

#[test]
#[cfg_attr(miri, ignore = "600 slots: minutes under Miri; the pages' code is the same")]
fn callsites_on_several_pages_each_keep_their_own_slot() {
    // 600 ids: the store's pages hold 256 slots each, so these span at least three pages.
    let ids = span_callsites(600);
    assert!(ids.iter().all(|&id| id > 1), "registered");
    let thread_ids = ids.clone();
    on_own_thread(move || {
        // Twice: the first pass creates the slots (cold path), the second finds them (fast).
        for pass in 0..2u64 {
            for (i, &id) in thread_ids.iter().enumerate() {
                span_call(id, 1 + pass * 1000 + i as u64);
            }
        }
    });
    let snap = crate::snapshot();
    for &id in &ids {
        let s = snap.callsites.iter().find(|c| c.id == id).expect("every span is counted");
        assert_eq!(s.calls, 2, "{s:?}");
    }
}

#[test]
fn a_parent_keeps_sixteen_children_and_counts_the_rest_apart() {
    static PARENT: Callsite = Callsite::new(
        crate::CallsiteName::Static("tests_store::parent"),
        Kind::Sync,
        module_path!(),
        file!(),
        line!(),
    );
    // 17 children whose ids share their home entry in the table (id % 16 == 4), past the
    // first page of the store: each probes for a free entry, and the 17th finds none.
    let seventeen: Vec<u32> = span_callsites(400).into_iter().filter(|id| id % 16 == 4).collect();
    let seventeen = seventeen[..17].to_vec();
    assert!(seventeen[16] > 256, "{seventeen:?}");
    for thread in 0..2u64 {
        let ids = seventeen.clone();
        on_own_thread(move || {
            measured(&PARENT, || {
                for (i, &id) in ids.iter().enumerate() {
                    // Child i is called i + 1 times.
                    for call in 0..=i as u64 {
                        span_call(id, 1 + thread * 10_000 + i as u64 * 100 + call);
                    }
                }
            });
        });
    }
    let [parent] = find([&PARENT]);
    // The first 16 children have an edge each, merged over both threads; the 17th's 17 calls
    // per thread are past the table.
    assert_eq!(parent.children.len(), 16, "{parent:?}");
    for (i, &id) in seventeen[..16].iter().enumerate() {
        let edge = parent.children.iter().find(|e| e.id == id).expect("an edge per child");
        assert_eq!(edge.calls, 2 * (i as u64 + 1), "{edge:?}");
    }
    assert_eq!(parent.other_children, 2 * 17);
}
