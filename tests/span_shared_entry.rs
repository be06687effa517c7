//! A span entered on two threads at the very same moment counts one call on its parent edge:
//! its first entry is claimed by one thread only.

use std::sync::{Arc, Barrier};

use perfscope::{measure, report};
use tracing::Span;
use tracing_subscriber::prelude::*;

const SPANS: u64 = 3_000;

/// Enters `span` as soon as the other thread does.
#[measure]
fn enter_together(span: &Span, start: &Barrier) {
    start.wait();
    let _entered = span.enter();
}

#[test]
fn a_span_entered_on_two_threads_at_once_counts_one_edge_call() {
    let subscriber = tracing_subscriber::registry().with(perfscope::layer());
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    perfscope::reset();

    let start = Arc::new(Barrier::new(2));
    // Two threads, one span each round, both entering it at once.
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..2).map(|_| std::sync::mpsc::sync_channel::<Arc<Span>>(1)).unzip();
    let threads: Vec<_> = receivers
        .into_iter()
        .map(|spans| {
            let start = start.clone();
            std::thread::spawn(move || {
                for span in spans {
                    enter_together(&span, &start);
                }
            })
        })
        .collect();
    for _ in 0..SPANS {
        let span = Arc::new(tracing::info_span!("shared_entry"));
        for sender in &senders {
            sender.send(span.clone()).unwrap();
        }
    }
    drop(senders);
    for thread in threads {
        thread.join().unwrap();
    }

    let report = report();
    let span = report.function_by_suffix("::shared_entry").expect("the span is measured");
    assert_eq!(span.calls, SPANS);
    let caller = report.function_by_suffix("::enter_together").expect("measured");
    assert_eq!(caller.calls, 2 * SPANS);
    let edge = caller.children.iter().find(|e| e.name == span.name).expect("an edge");
    assert_eq!(edge.calls, SPANS, "one edge call per span, however many threads enter it");
}
