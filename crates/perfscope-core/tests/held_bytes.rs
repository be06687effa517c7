//! perfscope's own memory as a figure: `perfscope_held_bytes` in every snapshot is what
//! `held_bytes()` says, grows when a new thread calls functions it never called, and falls back
//! when that thread ends (its store is folded into the retired totals). A test binary of its
//! own: no other test's threads change the figure meanwhile.
// The hot path (`enter`) is not built for loom's models.
#![cfg(not(perfscope_loom))]

use std::sync::{Arc, Barrier, OnceLock};

use perfscope_core::figures::{FigureKind, FigureUnit, HELD_BYTES};
use perfscope_core::names::section;
use perfscope_core::{Callsite, CallsiteName, Kind, Snapshot, enter, held_bytes, snapshot};

const FUNCTIONS: usize = 200;

fn held(snapshot: &Snapshot) -> u64 {
    let figure = snapshot.figures.iter().find(|f| f.name == HELD_BYTES).expect("the figure");
    assert_eq!(
        (figure.section, figure.kind, figure.unit),
        (section::PROCESS, FigureKind::Gauge, FigureUnit::Bytes)
    );
    assert!(figure.labels.is_empty());
    figure.value as u64
}

#[test]
fn held_bytes_is_a_process_figure_that_follows_the_thread_stores() {
    // Kept in a static: the leaked callsites stay reachable (Miri's leak check).
    static CALLSITES: OnceLock<Vec<&'static Callsite>> = OnceLock::new();
    let callsites = CALLSITES.get_or_init(|| {
        (0..FUNCTIONS)
            .map(|i| {
                let name: &'static str = Box::leak(format!("held::function{i}").into());
                &*Box::leak(Box::new(Callsite::new(
                    CallsiteName::Static(name),
                    Kind::Sync,
                    module_path!(),
                    file!(),
                    i as u32,
                )))
            })
            .collect()
    });
    let before = held(&snapshot());
    assert_eq!(before, held_bytes() as u64);

    // A thread of its own, joined (not a scoped one: a scope ends when its threads' closures
    // have returned, which can be before their thread-local destructors flush their stores;
    // `join` waits for the thread itself).
    let (called, read) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let thread = {
        let (called, read) = (called.clone(), read.clone());
        std::thread::spawn(move || {
            for callsite in callsites {
                drop(enter(callsite));
            }
            called.wait();
            read.wait();
        })
    };
    called.wait();
    let during = held(&snapshot());
    assert_eq!(during, held_bytes() as u64);
    read.wait();
    thread.join().expect("the calling thread");
    // One slot at least per function the new thread called: far more than 8 bytes each.
    assert!(during >= before + 8 * FUNCTIONS as u64, "before {before} B, during {during} B");

    let after = held(&snapshot());
    assert!(after < during, "the ended thread's store is gone: {after} B, during {during} B");
    assert_eq!(after, held_bytes() as u64);
}
