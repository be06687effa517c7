//! A session's window end to end in the core: figure sources' counters subtract, gauges are
//! read at the end, events are those from the start on, and a `reset()` during the session
//! starts its window at the reset. One test: a reset is process-wide, so nothing else may run
//! in this binary at the same time.
#![cfg(not(perfscope_loom))]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use perfscope_core::figures::{self, Event, EventKind, Figure, FigureSource, FigureUnit};
use perfscope_core::{Callsite, CallsiteName, Kind, Session, enter, reset, time::unix_ms_now};

static STEP: Callsite =
    Callsite::new(CallsiteName::Static("window::step"), Kind::Sync, module_path!(), file!(), 1);

fn steps(n: usize) {
    (0..n).for_each(|_| drop(enter(&STEP)));
}

/// A source with a counter, a gauge and events stamped when they happened.
#[derive(Default)]
struct Queue {
    sent: AtomicU64,
    depth: AtomicU64,
    events: std::sync::Mutex<Vec<Event>>,
}

impl Queue {
    fn event(&self, subject: &str) {
        self.events.lock().expect("not poisoned").push(Event {
            section: "app",
            kind: EventKind::Anomaly,
            at_unix_ms: unix_ms_now(),
            subject: subject.into(),
            labels: Vec::new(),
            message: subject.into(),
            value: None,
        });
    }
}

impl FigureSource for Queue {
    fn read(&self, out: &mut Vec<Figure>) {
        let sent = self.sent.load(Relaxed) as f64;
        let depth = self.depth.load(Relaxed) as f64;
        out.push(Figure::counter("app", "app_sent_total", "Sent.", FigureUnit::Count, sent));
        out.push(Figure::gauge("app", "app_queue_depth", "Waiting.", FigureUnit::Count, depth));
    }

    fn events(&self, out: &mut Vec<Event>) {
        out.extend(self.events.lock().expect("not poisoned").iter().cloned());
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri's isolation hides the wall clock, which event times need")]
fn a_window_subtracts_counters_keeps_gauges_and_restarts_at_a_reset() {
    let queue = Arc::new(Queue::default());
    let _registration = figures::register(queue.clone());
    queue.sent.store(10, Relaxed);
    queue.depth.store(4, Relaxed);
    queue.event("before");
    steps(3);
    std::thread::sleep(Duration::from_millis(5)); // the event's millisecond is before the start

    let session = Session::start();
    steps(2);
    queue.sent.store(17, Relaxed);
    queue.depth.store(1, Relaxed);
    queue.event("during");
    let window = session.snapshot();
    let figure = |snap: &perfscope_core::Snapshot, name: &str| {
        snap.figures.iter().find(|f| f.name == name).map(|f| f.value)
    };
    let calls = |snap: &perfscope_core::Snapshot| {
        snap.callsites.iter().find(|c| &*c.info.name == "window::step").map(|c| c.calls)
    };
    assert_eq!(calls(&window), Some(2));
    assert_eq!(figure(&window, "app_sent_total"), Some(7.0), "a counter subtracts");
    assert_eq!(figure(&window, "app_queue_depth"), Some(1.0), "a gauge is read at the end");
    let subjects: Vec<&str> = window.events.iter().map(|e| e.subject.as_str()).collect();
    assert!(subjects.contains(&"during") && !subjects.contains(&"before"), "{subjects:?}");
    let whole = perfscope_core::snapshot();
    assert_eq!((calls(&whole), figure(&whole, "app_sent_total")), (Some(5), Some(17.0)));

    std::thread::sleep(Duration::from_millis(20));
    reset();
    steps(4);
    let after_reset = session.snapshot();
    assert_eq!(calls(&after_reset), Some(4), "the window starts again at the reset");
    // The window is the time since the reset: at least the 20 ms slept before it shorter
    // than the session.
    let session_ns = session.elapsed().as_nanos() as u64;
    assert!(
        after_reset.elapsed_ns + 20_000_000 <= session_ns,
        "{} {session_ns}",
        after_reset.elapsed_ns
    );
}
