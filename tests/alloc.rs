//! Allocation attribution with `CountingAlloc` as the global allocator.

use std::hint::black_box;

use perfscope::{CountingAlloc, measure, report};
use perfscope_suite::stats;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::system();

#[measure]
fn allocates_one_kilobyte() {
    let buffer = Vec::<u8>::with_capacity(1000);
    black_box(&buffer);
}

#[test]
fn each_call_allocation_is_counted_exactly() {
    for _ in 0..100 {
        allocates_one_kilobyte();
    }
    let f = stats("::allocates_one_kilobyte");
    assert_eq!((f.calls, f.allocations, f.alloc_bytes), (100, 100, 100_000));
    assert_eq!((f.frees, f.freed_bytes), (100, 100_000));
    assert_eq!((f.total_allocations, f.total_alloc_bytes), (100, 100_000));
    assert_eq!(f.reallocs, 0);
    let report = report();
    assert!(report.alloc_tracking);
    assert!(report.process().heap_in_use_bytes.is_some_and(|bytes| bytes > 0));
}

#[measure]
fn keeps_parent_allocation() -> Vec<u64> {
    let kept = vec![0u64; 64]; // 512 bytes, returned to the caller
    allocates_in_child();
    kept
}

#[measure]
fn allocates_in_child() {
    black_box(vec![0u8; 300]);
}

#[test]
fn children_are_in_inclusive_figures_only() {
    for _ in 0..10 {
        black_box(keeps_parent_allocation());
    }
    let parent = stats("::keeps_parent_allocation");
    let child = stats("::allocates_in_child");
    assert_eq!((child.allocations, child.alloc_bytes, child.freed_bytes), (10, 3000, 3000));
    assert_eq!((parent.allocations, parent.alloc_bytes, parent.freed_bytes), (10, 5120, 0));
    assert_eq!((parent.total_allocations, parent.total_alloc_bytes), (20, 8120));
    assert_eq!(parent.total_freed_bytes, 3000);
    let edge = parent.children.iter().find(|c| c.name.ends_with("::allocates_in_child")).unwrap();
    assert_eq!(edge.alloc_bytes, 3000);
}

#[measure]
fn grows_a_vec() -> usize {
    let mut v: Vec<u8> = Vec::with_capacity(16);
    v.extend(std::iter::repeat_n(1u8, 100)); // grows by reallocation
    v.len()
}

#[test]
fn reallocation_counts_new_size_allocated_and_old_size_freed() {
    black_box(grows_a_vec());
    let f = stats("::grows_a_vec");
    assert!(f.reallocs >= 1, "{f:?}");
    assert_eq!(f.allocations, 1 + f.reallocs);
    assert_eq!(f.frees, f.allocations, "{f:?}");
    assert_eq!(f.alloc_bytes, f.freed_bytes, "{f:?}");
    assert!(f.alloc_bytes >= 16 + 100);
}

/// Returns `Pending` once (waking itself), then `Ready`: a second poll without a runtime.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return std::task::Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[measure]
async fn allocates_across_polls() {
    black_box(vec![0u8; 2000]);
    YieldOnce(false).await;
    black_box(vec![0u8; 500]);
}

#[measure]
async fn allocates_on_tokio() {
    black_box(vec![0u8; 2000]);
    tokio::task::yield_now().await;
    black_box(vec![0u8; 500]);
}

#[test]
fn async_allocations_go_to_the_future_on_every_poll() {
    for _ in 0..4 {
        futures::executor::block_on(allocates_across_polls());
    }
    let f = stats("::allocates_across_polls");
    assert_eq!((f.calls, f.polls), (4, Some(8)));
    assert_eq!((f.allocations, f.alloc_bytes), (8, 4 * 2500), "{f:?}");
    assert_eq!((f.frees, f.freed_bytes), (8, 4 * 2500), "{f:?}");

    // On tokio's multi-thread runtime polls may run on different workers; the runtime's own
    // allocations during a poll (first use of a worker's queues) are the poll's too.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        for _ in 0..4 {
            tokio::spawn(allocates_on_tokio()).await.unwrap();
        }
    });
    let f = stats("::allocates_on_tokio");
    assert_eq!(f.calls, 4);
    assert!(f.allocations >= 8 && f.alloc_bytes >= 4 * 2500, "{f:?}");
    assert!(f.alloc_bytes < 4 * 2500 + 4096, "{f:?}");
}

#[measure]
fn frees_what_another_thread_allocated(data: Vec<u8>) {
    drop(data);
}

#[test]
fn frees_are_attributed_to_the_freeing_function() {
    let data = std::thread::spawn(|| vec![7u8; 4096]).join().unwrap();
    frees_what_another_thread_allocated(data);
    let f = stats("::frees_what_another_thread_allocated");
    assert_eq!((f.allocations, f.frees, f.freed_bytes), (0, 1, 4096));
}
