//! What the load and soak tests share: the heap in use (exact, from `CountingAlloc`, which
//! each of their binaries installs) and the resident set size, read before, during and after
//! a run. Each of those binaries runs its tests one at a time ([`serial`]): a memory figure is
//! process-wide.
#![allow(dead_code)] // each test binary uses part of it

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// One test at a time in a binary whose tests read process-wide memory.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes allocated and not freed, process-wide (exact: `CountingAlloc` must be installed).
pub fn heap() -> u64 {
    perfscope_core::alloc::heap_in_use().expect("CountingAlloc is this binary's allocator")
}

/// Resident set size in bytes (`/proc/self/statm`, Linux).
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("pages");
    pages * 4096
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Samples the heap in use every 5 ms on a thread of its own until stopped; its samples are
/// kept in a buffer allocated up front, so it adds nothing to the heap while it runs.
pub struct HeapWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(u64, usize)>,
}

impl HeapWatch {
    pub fn start() -> HeapWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut max, mut samples) = (heap(), 1);
            while !flag.load(Ordering::Relaxed) {
                max = max.max(heap());
                samples += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            (max, samples)
        });
        HeapWatch { stop, thread }
    }

    /// The most heap in use any sample saw, and how many samples were taken.
    pub fn stop(self) -> (u64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the watcher thread")
    }
}
