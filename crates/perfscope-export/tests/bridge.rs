//! The bridge into any `metrics` recorder, checked with metrics-util's `DebuggingRecorder`
//! (whose snapshots return what was recorded since the previous snapshot).

use std::time::{Duration, Instant};

use metrics::Unit;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use perfscope_export::bridge;
use perfscope_export::families::{self, FAMILIES};

#[global_allocator]
static ALLOC: perfscope::CountingAlloc = perfscope::CountingAlloc::system();

/// `(name, function label) -> (unit, description, value)` of one snapshot.
fn find(
    snapshotter: &Snapshotter,
    function: &str,
) -> Vec<(String, Option<Unit>, Option<String>, DebugValue)> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            key.key().labels().any(|l| l.key() == "function" && l.value() == function)
        })
        .map(|(key, unit, help, value)| {
            (key.key().name().to_string(), unit, help.map(|h| h.to_string()), value)
        })
        .collect()
}

fn counter(found: &[(String, Option<Unit>, Option<String>, DebugValue)], name: &str) -> u64 {
    match found.iter().find(|f| f.0 == name).map(|f| &f.3) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name}: {other:?}"),
    }
}

#[perfscope::measure]
fn lookup(key: u64) -> u64 {
    key.rotate_left(7)
}

#[test]
fn increments_reach_the_recorder_with_units_and_help() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let bridge = bridge().with_recorder(recorder).build();
    for key in 0..17 {
        std::hint::black_box(lookup(key));
    }
    bridge.sync_now();
    let found = find(&snapshotter, "bridge::lookup");
    assert_eq!(found.len(), FAMILIES.len(), "{found:?}");
    for family in FAMILIES {
        let (_, unit, help, _) = found.iter().find(|f| f.0 == family.name).unwrap();
        assert_eq!(*unit, Some(family.unit.metrics_unit()), "{}", family.name);
        assert_eq!(help.as_deref(), Some(family.help), "{}", family.name);
    }
    assert_eq!(counter(&found, families::CALLS), 17);
    assert_eq!(counter(&found, families::PANICS), 0);
    let Some((.., DebugValue::Histogram(samples))) =
        found.iter().find(|f| f.0 == families::DURATION)
    else {
        panic!("no histogram: {found:?}")
    };
    assert_eq!(samples.len(), 17);
    assert!(samples.iter().all(|s| s.0 > 0.0 && s.0 < 1.0), "{samples:?}");

    // Nothing new: nothing recorded. Three more calls: three more.
    bridge.sync_now();
    assert_eq!(counter(&find(&snapshotter, "bridge::lookup"), families::CALLS), 0);
    for key in 0..3 {
        std::hint::black_box(lookup(key));
    }
    bridge.sync_now();
    assert_eq!(counter(&find(&snapshotter, "bridge::lookup"), families::CALLS), 3);
}

#[perfscope::measure]
fn spin(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

#[test]
fn time_counters_advance_by_whole_seconds_and_carry_the_rest() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let bridge = bridge().with_recorder(recorder).build();
    spin(Duration::from_millis(600));
    bridge.sync_now();
    let first = find(&snapshotter, "bridge::spin");
    assert_eq!(counter(&first, families::SELF_SECONDS), 0);
    assert_eq!(counter(&first, families::BUSY_SECONDS), 0);
    spin(Duration::from_millis(600));
    bridge.sync_now();
    let second = find(&snapshotter, "bridge::spin");
    assert_eq!(counter(&second, families::SELF_SECONDS), 1, "1.2 s in, 1 whole second out");
    assert_eq!(counter(&second, families::BUSY_SECONDS), 1);
}

/// Sleeps `own` (half before, half after) around a call of [`sleeping_child`] sleeping
/// `child`; returns the child's call's duration, timed around it.
#[perfscope::measure]
fn sleeping_parent(own: Duration, child: Duration) -> Duration {
    std::thread::sleep(own / 2);
    let start = Instant::now();
    sleeping_child(child);
    let took = start.elapsed();
    std::thread::sleep(own / 2);
    took
}

#[perfscope::measure]
fn sleeping_child(duration: Duration) {
    std::thread::sleep(duration);
}

#[test]
fn a_parent_s_self_seconds_leave_out_its_child_s() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let bridge = bridge().with_recorder(recorder).build();
    let start = Instant::now();
    let child = sleeping_parent(Duration::from_millis(1400), Duration::from_millis(800));
    let parent = start.elapsed();
    bridge.sync_now();
    // Busy about 2.2 s and self about 1.4 s, in whole seconds (the test's own timing says so,
    // or the machine stalled for over half a second).
    let own = parent - child;
    assert_eq!(
        (parent.as_secs(), own.as_secs(), child.as_secs()),
        (2, 1, 0),
        "{parent:?} {child:?}"
    );
    let found = find(&snapshotter, "bridge::sleeping_parent");
    assert_eq!(counter(&found, families::BUSY_SECONDS), 2, "{found:?}");
    assert_eq!(counter(&found, families::SELF_SECONDS), 1, "{found:?}");
    let found = find(&snapshotter, "bridge::sleeping_child");
    assert_eq!(counter(&found, families::BUSY_SECONDS), 0, "{found:?}");
    assert_eq!(counter(&found, families::SELF_SECONDS), 0, "{found:?}");
}

#[perfscope::measure]
fn allocates_one_kilobyte() {
    let buffer = Vec::<u8>::with_capacity(1000);
    std::hint::black_box(&buffer);
}

#[test]
fn allocations_are_exported_with_perfscopes_counting_allocator() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let bridge = bridge().with_recorder(recorder).build();
    for _ in 0..100 {
        allocates_one_kilobyte();
    }
    bridge.sync_now();
    let found = find(&snapshotter, "bridge::allocates_one_kilobyte");
    assert_eq!(counter(&found, families::ALLOCATIONS), 100);
    assert_eq!(counter(&found, families::ALLOC_BYTES), 100_000);
}

#[perfscope::measure]
fn synced_in_the_background() {}

#[test]
fn an_installed_bridge_syncs_by_itself_until_stopped() {
    let shown = format!("{:?}", bridge());
    assert_eq!(
        shown,
        r#"BridgeBuilder { max_functions: 1000, sync_every: 1s, recorder: "global" }"#
    );
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let builder = bridge()
        .with_recorder(recorder)
        .with_sync_every(Duration::from_millis(20))
        .with_max_functions(50);
    let shown = format!("{builder:?}");
    assert_eq!(
        shown,
        r#"BridgeBuilder { max_functions: 50, sync_every: 20ms, recorder: "given" }"#
    );
    let bridge = builder.install().expect("the sync thread starts");
    let shown = format!("{bridge:?}");
    assert_eq!(shown, r#"Bridge { recorder: "given", sync_every: 20ms, running: true }"#);

    // No sync_now: the bridge's thread copies the call within a few periods.
    synced_in_the_background();
    let deadline = Instant::now() + Duration::from_secs(10);
    let found = loop {
        let found = find(&snapshotter, "bridge::synced_in_the_background");
        if !found.is_empty() {
            break found;
        }
        assert!(Instant::now() < deadline, "never synced in the background");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(counter(&found, families::CALLS), 1);

    // Stopped, it copies nothing until asked.
    bridge.stop();
    assert!(format!("{bridge:?}").ends_with("running: false }"), "{bridge:?}");
    synced_in_the_background();
    std::thread::sleep(Duration::from_millis(100));
    let found = find(&snapshotter, "bridge::synced_in_the_background");
    assert_eq!(counter(&found, families::CALLS), 0);
    bridge.sync_now();
    let found = find(&snapshotter, "bridge::synced_in_the_background");
    assert_eq!(counter(&found, families::CALLS), 1);
}
