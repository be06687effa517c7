//! Instrumented locks, two threads (tasks) contending for a known hold time: the waiter's
//! wait is about the holder's hold, it is a frame under the waiting function (not in its self
//! time), and the counts are exact: for std, parking_lot and tokio mutexes and read-write
//! locks.

mod support;

use std::sync::Barrier;
use std::time::Duration;

use perfscope_instrument::lock::{self, LockStats};
use support::figure;

const HOLD: Duration = Duration::from_millis(60);

/// What every contention test checks: the frame `frame` was entered once under the measured
/// function ending in `waiter`, its time is the lock's counted wait, about `HOLD`, not in the
/// waiter's self time; the holder held for `HOLD` or a little more.
fn assert_contended(frame: &str, waiter: &str, waits: LockStats, holds: LockStats) {
    let hold = HOLD.as_nanos() as u64;
    assert_eq!(waits.contentions, 1, "{waits:?}");
    assert!(holds.hold_max_ns >= hold, "{holds:?}");
    // The waiter started waiting right after the holder took the lock: it waited the hold,
    // less the moment it took to start, and a loaded machine's wake-up at most 40 ms late.
    let wait = waits.wait_ns;
    assert!(wait >= hold * 8 / 10 && wait <= holds.hold_max_ns + 40_000_000, "{waits:?} {holds:?}");
    let report = perfscope::report();
    let frame = report.function(frame).unwrap_or_else(|| panic!("the {frame} frame"));
    let waiter = report.function_by_suffix(waiter).expect("the measured waiter");
    assert_eq!((frame.calls, waiter.calls), (1, 1));
    let edge = waiter.children.iter().find(|e| e.name == frame.name);
    assert_eq!(edge.map(|e| e.calls), Some(1), "{:?}", waiter.children);
    // The frame's total is the wait (within the clock reads around it).
    let diff = frame.total_ns.abs_diff(wait);
    assert!(diff <= wait / 20 + 100_000, "frame {} ns, counted {wait} ns", frame.total_ns);
    assert!(waiter.self_ns < wait / 10, "self {} ns, waited {wait} ns", waiter.self_ns);
    assert!(waiter.total_ns >= frame.total_ns);
}

/// Runs `hold` (take the lock, pass `taken`, sleep `HOLD`, let go) and `wait` (after `taken`)
/// on two threads.
fn contend(hold: impl FnOnce(&Barrier) + Send, wait: impl FnOnce() + Send) {
    let taken = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| hold(&taken));
        s.spawn(|| {
            taken.wait();
            wait();
        });
    });
}

#[perfscope::measure]
fn wait_std(m: &lock::Mutex<u64>) -> u64 {
    *m.lock().expect("never poisoned")
}

#[test]
fn std_mutex_wait_is_the_holders_hold_and_a_frame_under_the_waiter() {
    let m = lock::Mutex::new("contended_std", 0_u64);
    contend(
        |taken| {
            let mut guard = m.lock().unwrap();
            taken.wait();
            std::thread::sleep(HOLD);
            *guard = 7;
        },
        || assert_eq!(wait_std(&m), 7),
    );
    let stats = m.stats();
    assert_eq!(stats.acquisitions, 2);
    assert_contended("lock::contended_std::lock", "::wait_std", stats, stats);
    let snap = perfscope_core::snapshot();
    let of =
        |name| figure(&snap.figures, name, &[("lock", "contended_std"), ("mode", "exclusive")]);
    assert_eq!(of(lock::ACQUISITIONS_TOTAL), Some(2.0));
    assert_eq!(of(lock::CONTENTIONS_TOTAL), Some(1.0));
    let waited = of(lock::WAIT_SECONDS_TOTAL).unwrap();
    assert!((waited - stats.wait_ns as f64 / 1e9).abs() < 1e-6);
    assert!(of(lock::HOLD_MAX_SECONDS).unwrap() >= HOLD.as_secs_f64());
    // The report lists it among the contended locks, with the same counts.
    let report = perfscope::report();
    let listed = report.locks().into_iter().find(|l| l.lock == "contended_std").expect("listed");
    assert_eq!(
        (listed.mode.as_str(), listed.acquisitions, listed.contentions),
        ("exclusive", 2, 1)
    );
    assert!(listed.wait_time.is_some_and(|w| w >= HOLD * 8 / 10));
}

#[perfscope::measure]
fn read_std(l: &lock::RwLock<u64>) -> u64 {
    *l.read().expect("never poisoned")
}

#[test]
fn std_rwlock_a_reader_waits_for_a_writer() {
    let l = lock::RwLock::new("contended_std_rw", 0_u64);
    contend(
        |taken| {
            let mut guard = l.write().unwrap();
            taken.wait();
            std::thread::sleep(HOLD);
            *guard = 7;
        },
        || assert_eq!(read_std(&l), 7),
    );
    let (reads, writes) = (l.read_stats(), l.write_stats());
    assert_eq!((reads.acquisitions, writes.acquisitions, writes.contentions), (1, 1, 0));
    assert_contended("lock::contended_std_rw::read", "::read_std", reads, writes);
    let snap = perfscope_core::snapshot();
    let of = |mode| {
        figure(
            &snap.figures,
            lock::CONTENTIONS_TOTAL,
            &[("lock", "contended_std_rw"), ("mode", mode)],
        )
    };
    assert_eq!((of("shared"), of("exclusive")), (Some(1.0), Some(0.0)));
}

#[test]
fn std_poisoning_is_passed_through() {
    let m = std::sync::Arc::new(lock::Mutex::new("poisoned_std", 0_u64));
    let poisoner = m.clone();
    let _ = std::thread::spawn(move || {
        let _guard = poisoner.lock().unwrap();
        panic!("poison the lock");
    })
    .join();
    assert!(m.is_poisoned());
    let guard = m.lock().unwrap_err().into_inner();
    assert_eq!(*guard, 0);
    drop(guard);
    assert_eq!(m.stats().acquisitions, 2);
}

#[perfscope::measure]
fn wait_parking_lot(m: &lock::parking_lot::Mutex<u64>) -> u64 {
    *m.lock()
}

#[test]
fn parking_lot_mutex_wait_is_the_holders_hold_and_a_frame_under_the_waiter() {
    let m = lock::parking_lot::Mutex::new("contended_parking_lot", 0_u64);
    contend(
        |taken| {
            let mut guard = m.lock();
            taken.wait();
            std::thread::sleep(HOLD);
            *guard = 7;
        },
        || assert_eq!(wait_parking_lot(&m), 7),
    );
    let stats = m.stats();
    assert_eq!(stats.acquisitions, 2);
    assert_contended("lock::contended_parking_lot::lock", "::wait_parking_lot", stats, stats);
    assert!(m.try_lock().is_some());
    assert_eq!(m.stats().acquisitions, 3);
}

#[perfscope::measure]
fn write_parking_lot(l: &lock::parking_lot::RwLock<u64>) {
    *l.write() += 1;
}

#[test]
fn parking_lot_rwlock_a_writer_waits_for_a_reader() {
    let l = lock::parking_lot::RwLock::new("contended_parking_lot_rw", 0_u64);
    contend(
        |taken| {
            let guard = l.read();
            taken.wait();
            std::thread::sleep(HOLD);
            assert_eq!(*guard, 0);
        },
        || write_parking_lot(&l),
    );
    assert_eq!(*l.read(), 1);
    let (reads, writes) = (l.read_stats(), l.write_stats());
    assert_eq!((reads.acquisitions, writes.acquisitions), (2, 1));
    assert_contended("lock::contended_parking_lot_rw::write", "::write_parking_lot", writes, reads);
}

#[perfscope::measure]
async fn wait_tokio(m: &lock::tokio::Mutex<u64>) -> u64 {
    *m.lock().await
}

#[test]
fn tokio_mutex_wait_is_an_async_frame_under_the_waiting_task() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let m = std::sync::Arc::new(lock::tokio::Mutex::new("contended_tokio", 0_u64));
    rt.block_on(async {
        let (taken_tx, taken_rx) = tokio::sync::oneshot::channel();
        let holder = tokio::spawn({
            let m = m.clone();
            async move {
                let mut guard = m.lock().await;
                taken_tx.send(()).unwrap();
                tokio::time::sleep(HOLD).await;
                *guard = 7;
            }
        });
        taken_rx.await.unwrap();
        assert_eq!(wait_tokio(&m).await, 7);
        holder.await.unwrap();
    });
    let stats = m.stats();
    assert_eq!(stats.acquisitions, 2);
    assert_contended("lock::contended_tokio::lock", "::wait_tokio", stats, stats);
    let report = perfscope::report();
    let frame = report.function("lock::contended_tokio::lock").unwrap();
    let idle = frame.idle_ns.expect("an async frame has idle time");
    assert!(idle >= frame.total_ns * 9 / 10, "the wait is idle: {frame:?}");
}

#[perfscope::measure]
async fn read_tokio(l: &lock::tokio::RwLock<u64>) -> u64 {
    *l.read().await
}

#[test]
fn tokio_rwlock_a_reader_waits_for_a_writer() {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let l = std::sync::Arc::new(lock::tokio::RwLock::new("contended_tokio_rw", 0_u64));
    rt.block_on(async {
        let (taken_tx, taken_rx) = tokio::sync::oneshot::channel();
        let holder = tokio::spawn({
            let l = l.clone();
            async move {
                let mut guard = l.write().await;
                taken_tx.send(()).unwrap();
                tokio::time::sleep(HOLD).await;
                *guard = 7;
            }
        });
        taken_rx.await.unwrap();
        assert_eq!(read_tokio(&l).await, 7);
        holder.await.unwrap();
    });
    let (reads, writes) = (l.read_stats(), l.write_stats());
    assert_eq!((reads.acquisitions, writes.acquisitions), (1, 1));
    assert_contended("lock::contended_tokio_rw::read", "::read_tokio", reads, writes);
}

#[test]
fn uncontended_acquisitions_are_counted_exactly_and_are_no_frames() {
    let m = lock::Mutex::new("uncontended", 0_u64);
    for _ in 0..1_000 {
        *m.lock().unwrap() += 1;
    }
    assert!(m.try_lock().is_ok());
    let stats = m.stats();
    assert_eq!((stats.acquisitions, stats.contentions, stats.wait_ns), (1_001, 0, 0));
    assert!(stats.hold_ns > 0 && stats.hold_max_ns <= stats.hold_ns);
    assert_eq!(m.into_inner().unwrap(), 1_000);
    assert!(perfscope::report().function("lock::uncontended::lock").is_none());
}
