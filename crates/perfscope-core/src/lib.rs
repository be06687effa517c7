//! perfscope's engine: the clock, callsites, the thread-local frame stack, per-thread stores,
//! histograms and snapshots.
//!
//! Users reach this through the `perfscope` crate (`#[perfscope::measure]`,
//! `perfscope::report()`); the tracing layer and exporters build on it. Data flows one way:
//! measured code pushes and pops frames on its thread ([`hot`](crate) module, no locks), frames
//! record into the thread's store, and [`snapshot()`] merges all stores. A [`Session`] gives
//! the snapshot of one window of time (two readings subtracted, nothing reset); [`named`]
//! gives callsites to names made at run time.
//!
//! ```
//! use perfscope_core::{Callsite, CallsiteName, Kind, enter, snapshot};
//!
//! static PARSE: Callsite =
//!     Callsite::new(CallsiteName::Static("parse"), Kind::Sync, module_path!(), file!(), line!());
//!
//! fn parse() {
//!     let _guard = enter(&PARSE);
//!     // ... the work being measured ...
//! }
//!
//! for _ in 0..3 {
//!     parse();
//! }
//! let snap = snapshot();
//! let parse = snap.callsites.iter().find(|c| &*c.info.name == "parse").unwrap();
//! assert_eq!(parse.calls, 3);
//! ```
#![deny(missing_docs)]
// `--cfg perfscope_loom` builds the store on loom's types for its models and leaves out the
// hot path (thread-locals loom cannot model), whose callees then look unused.
#![cfg_attr(perfscope_loom, allow(dead_code, unused_imports))]

pub mod alloc;
pub mod analysis;
mod callsite;
pub mod caps;
pub mod clock;
pub mod figures;
pub mod histogram;
pub mod history;
#[cfg(not(perfscope_loom))]
mod hot;
mod kinds;
#[cfg(not(perfscope_loom))]
mod measure;
#[cfg(not(perfscope_loom))]
mod named;
pub mod names;
#[cfg(not(perfscope_loom))]
mod session;
mod snapshot;
#[cfg(not(perfscope_loom))]
pub mod span;
mod store;
pub mod sync;
pub mod time;

pub use alloc::{AllocCounts, CountingAlloc};
pub use callsite::{
    Callsite, CallsiteInfo, CallsiteName, Kind, MAX_CALLSITES, OVERFLOW_ID, count_overflow,
    info as callsite_info, refused_callsites, register_dynamic, type_name_of,
};
#[cfg(not(perfscope_loom))]
pub use hot::MAX_DEPTH;
#[cfg(not(perfscope_loom))]
pub use measure::{Instrumented, SyncGuard, enter, instrument};
#[cfg(not(perfscope_loom))]
pub use named::{MAX_SCOPE_NAMES, named, scope_names};
#[cfg(not(perfscope_loom))]
pub use session::Session;
pub use snapshot::{
    CallsiteSnapshot, EdgeSnapshot, Snapshot, reset, snapshot, snapshot_with_history,
};
pub use store::{EDGES, held_bytes, live_threads};

/// Depth of the calling thread's frame stack (0 outside measured code).
#[cfg(not(perfscope_loom))]
pub fn current_depth() -> usize {
    hot::depth()
}
