//! End to end: a recommendation reaches snapshots. A measured function keeps what it allocates
//! (the heap, as `CountingAlloc` counts it, grows by some MiB a second, far above
//! `HEAP_SLOPE`) beside one that allocates little; a monitor at 200 ms with per-function
//! analysis names the first in a `reuse_buffers` recommendation once the heap's trend has its
//! 10 points past the monitor's first 3 samples (when it allocates its own rings). The
//! heap's growth is the workload's own bytes, not time, so a loaded machine slows it, but
//! it stays tens of times above the rule's limit.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use perfscope_core::figures::EventKind;
use perfscope_monitor::{HEAP_SLOPE, Monitor};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

const GROW: &str = concat!(module_path!(), "::grow");
const MIB: f64 = 1024.0 * 1024.0;
/// Bytes `grow` keeps per call.
const CHUNK: usize = 8 * 1024;

static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

#[perfscope::measure]
fn grow() {
    KEPT.lock().expect("not poisoned").push(vec![0u8; CHUNK]);
}

#[perfscope::measure]
fn small() -> usize {
    std::hint::black_box(vec![1u8; 64]).len()
}

#[test]
fn a_growing_heap_names_the_function_that_keeps_allocating() {
    assert!(perfscope_core::alloc::is_installed());
    grow();
    small();
    let monitor = Monitor::builder()
        .with_interval(Duration::from_millis(200))
        .with_function_analysis(true)
        .start()
        .expect("the monitor starts");
    let start = Instant::now();
    let found = loop {
        // About 4 MiB a second (some 500 calls of 8 KiB), 60 times HEAP_SLOPE.
        for _ in 0..10 {
            grow();
            small();
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10));
        let events = perfscope_core::snapshot().events;
        let advice = events
            .into_iter()
            .find(|e| e.kind == EventKind::Recommendation && e.section == "function");
        if advice.is_some() || start.elapsed() > Duration::from_secs(30) {
            break advice;
        }
    };
    let kept = KEPT.lock().expect("not poisoned").len();
    let waited = start.elapsed();
    KEPT.lock().expect("not poisoned").clear();
    let advice = found.unwrap_or_else(|| {
        panic!(
            "no recommendation within {waited:?} ({} samples, {kept} chunks kept): {:#?}",
            monitor.samples(),
            monitor.events()
        )
    });
    eprintln!("after {waited:?} ({} samples): {advice:#?}", monitor.samples());
    assert_eq!(advice.subject, GROW, "{advice:?}");
    assert_eq!(advice.labels, vec![("function".into(), GROW.to_string())]);
    assert!(advice.message.starts_with(&format!("reuse buffers in {GROW} (")), "{advice:?}");
    assert!(advice.message.contains("the heap grows by"), "{advice:?}");
    // The value is `grow`'s allocation rate over one interval, bytes a second: about 4 MiB/s
    // (at most ten calls of 8 KiB per 20 ms); an eighth of that on a loaded machine, four
    // times it over an interval shortened by a late sample.
    let rate = advice.value.expect("the allocation rate");
    assert!(rate > HEAP_SLOPE, "{advice:?}");
    assert!((0.5 * MIB..=16.0 * MIB).contains(&rate), "{advice:?}");
    // Not before the trend had its points: 3 samples settling, 10 points.
    assert!(monitor.samples() >= 13, "{} samples", monitor.samples());
    // The monitor's own list has it too.
    assert!(monitor.events().iter().any(|e| e.kind == EventKind::Recommendation));
}
