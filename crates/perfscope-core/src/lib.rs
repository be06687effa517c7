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

/// `true` when perfscope is compiled out: the `off` feature, which `perfscope/off` turns on
/// (Cargo unifies features, so every crate of the build that records through this one sees
/// it). Then every way in which perfscope records does nothing, while every type and function
/// stays as it is, so code compiles unchanged:
///
/// - [`enter`] and [`instrument`] push no frame (the guard and the wrapped future only run
///   the call), and [`span`]'s enter, exit and close do nothing: no `#[measure]`d function
///   (the macros expand to the bare item anyway), block, tracing span, or instrument wrapper
///   (pools, caches, channels, locks, HTTP, queries) records a call;
/// - [`figures::register`] registers nothing: no figure source (the instrument wrappers', the
///   monitor's, other code's) is read by a snapshot;
/// - [`CountingAlloc`] passes every request to the allocator it wraps and counts nothing;
/// - [`count_overflow`] counts nothing.
///
/// It is a `const`, so each check is removed by the compiler: with `off` the recording code is
/// not in the program, without it the checks cost nothing.
pub const OFF: bool = cfg!(feature = "off");

/// Depth of the calling thread's frame stack (0 outside measured code).
#[cfg(not(perfscope_loom))]
pub fn current_depth() -> usize {
    hot::depth()
}
