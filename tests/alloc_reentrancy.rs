//! `CountingAlloc` over an inner allocator that itself allocates through the global allocator
//! (dhat does, for its bookkeeping): only the outermost allocator call on a thread is counted,
//! so a function's allocations are its own, not the inner allocator's. This binary installs
//! `CountingAlloc<dhat::Alloc>` as its global allocator.

use perfscope::{CountingAlloc, measure};

#[global_allocator]
static ALLOC: CountingAlloc<dhat::Alloc> = CountingAlloc::new(dhat::Alloc);

const BOXES: usize = 405;

/// Exactly `BOXES + 1` allocations: the vector's buffer (sized once) and one box each.
#[measure]
fn makes_known_allocations() -> usize {
    let mut boxes: Vec<Box<[u8; 200]>> = Vec::with_capacity(BOXES);
    for i in 0..BOXES {
        boxes.push(Box::new([i as u8; 200]));
    }
    std::hint::black_box(&boxes).len()
}

#[test]
fn the_inner_allocators_own_allocations_are_not_counted() {
    let profiler = dhat::Profiler::builder().testing().build();
    makes_known_allocations();
    let stats = dhat::HeapStats::get();
    drop(profiler);

    let report = perfscope::report();
    let f = report.function_by_suffix("::makes_known_allocations").expect("measured");
    let expected_bytes = (BOXES * 200 + BOXES * std::mem::size_of::<Box<[u8; 200]>>()) as u64;
    assert_eq!(f.allocations, BOXES as u64 + 1, "{f:?}");
    assert_eq!(f.alloc_bytes, expected_bytes, "{f:?}");
    assert_eq!((f.frees, f.freed_bytes), (BOXES as u64 + 1, expected_bytes), "{f:?}");
    // dhat saw the same allocations (and made its own besides, uncounted by perfscope).
    assert!(stats.total_blocks > BOXES as u64, "{stats:?}");
}
