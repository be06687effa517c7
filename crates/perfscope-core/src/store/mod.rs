//! Per-thread stores and the global registry that merges them.
//!
//! Each thread owns one [`ThreadStore`]: a two-level directory of [`Slot`]s indexed by callsite
//! id. Only the owning thread writes a slot (relaxed `load + store`, no locked instruction);
//! any thread may read it for a snapshot. Slots are allocated on a callsite's first call on
//! the thread and live as long as the store. When a thread exits, its store is folded into
//! the registry's retired totals under the registry lock, so nothing is lost.
//!
//! Split by writer: [`slot`] and [`thread`] are the single-writer per-thread side the hot path
//! writes; [`registry`] is the locked cross-thread side (thread stores' registration and
//! retirement, orphan calls, collection for snapshots, reset).

#[cfg(all(test, perfscope_loom))]
mod loom_models;
mod registry;
mod slot;
mod thread;
mod totals;

pub(crate) use registry::{Collected, collect, new_thread_store, record_orphan, reset, retire};
pub use registry::{held_bytes, live_threads};
pub use slot::EDGES;
pub(crate) use slot::{Slot, add};
#[cfg(not(perfscope_loom))]
pub(crate) use thread::EMPTY_STORE;
pub(crate) use thread::ThreadStore;
pub(crate) use totals::{EdgeTotals, Totals};
