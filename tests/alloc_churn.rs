//! The counting allocator under thread churn: frees of other threads' memory, allocation in
//! thread-local destructors and during thread exit never panic or deadlock, and nothing
//! measured there is lost.

use std::cell::RefCell;
use std::sync::mpsc;

use perfscope::{CountingAlloc, measure, report};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

#[measure]
fn in_destructor() -> Vec<u8> {
    vec![1; 64]
}

struct AllocatesOnDrop(Vec<u8>);

impl Drop for AllocatesOnDrop {
    fn drop(&mut self) {
        // Runs during thread exit, possibly after perfscope's own thread-locals are gone.
        let more = in_destructor();
        self.0.extend_from_slice(&more);
        std::hint::black_box(&self.0);
    }
}

thread_local! {
    static ON_EXIT: RefCell<Option<AllocatesOnDrop>> = const { RefCell::new(None) };
}

const THREADS: usize = 10_000;

#[test]
fn ten_thousand_thread_churns() {
    let heap_before = report().process().heap_in_use_bytes.unwrap();
    let (send, receive) = mpsc::channel::<Vec<u8>>();
    let freer = std::thread::spawn(move || {
        let mut freed = 0usize;
        for buffer in receive {
            freed += buffer.len();
            drop(buffer); // memory allocated by another (often exited) thread
        }
        freed
    });
    for batch in 0..THREADS / 100 {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let send = send.clone();
                std::thread::spawn(move || {
                    ON_EXIT.with(|slot| *slot.borrow_mut() = Some(AllocatesOnDrop(vec![0; 32])));
                    send.send(vec![(batch + i) as u8; 256]).unwrap();
                    in_destructor();
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    }
    drop(send);
    assert_eq!(freer.join().unwrap(), THREADS * 256);
    let report = report();
    let f = report.function_by_suffix("::in_destructor").unwrap();
    // One call in the thread body and one in each thread-local destructor: none lost.
    assert_eq!(f.calls, 2 * THREADS as u64);
    // Every churned thread's memory is freed again: the heap is back near where it started.
    let heap_after = report.process().heap_in_use_bytes.unwrap();
    assert!(
        heap_after < heap_before + 8 * 1024 * 1024,
        "heap grew from {heap_before} to {heap_after}"
    );
}
