//! Blocks, closures and futures measured like functions: [`measure_block!`](crate::measure_block)
//! and [`scope!`](crate::scope!) for a literal name, [`scope()`], [`time`] and [`measured`]
//! for a name given at run time.
//!
//! Each is a frame like a `#[measure]` call, on the same stack: self time, children,
//! allocations and call edges, nested with `#[measure]` functions and tracing spans in either
//! order. A block is named as given (no module path is added), and is a sync function in the
//! report; a measured future is measured per poll, as an `async fn` under `#[measure]` is.
//!
//! ```
//! #[perfscope::measure]
//! fn load(lines: &[&str]) -> usize {
//!     let fields = perfscope::measure_block!("load::split", {
//!         lines.iter().map(|l| l.split(',').count()).sum::<usize>()
//!     });
//!     let _checking = perfscope::scope!("load::check");
//!     fields
//! }
//!
//! # fn main() {
//! for _ in 0..3 {
//!     load(&["a,b", "c"]);
//! }
//! let shard = "eu";
//! let total = perfscope::time(&format!("merge::{shard}"), || 40 + 2);
//! assert_eq!(total, 42);
//! # if cfg!(feature = "off") { return; } // nothing is measured
//! let report = perfscope::report();
//! assert_eq!(report.function("load::split").unwrap().calls, 3);
//! assert_eq!(report.function("merge::eu").unwrap().calls, 1);
//! let load = report.function_by_suffix("::load").unwrap();
//! assert!(load.children.iter().any(|c| c.name == "load::check" && c.calls == 3));
//! # }
//! ```
//!
//! **Cost.** The macros put the block's callsite in a `static` of their own, like
//! `#[measure]`, and cost what it costs (figures in `BENCHMARKS.md`). The functions take any
//! `&str`: the name's callsite is found through a 64-entry thread-local table indexed by the
//! name's address and checked by comparing its bytes (no lock, no hashing of the name; a
//! name's first use on a thread takes a lock once). At most [`MAX_SCOPE_NAMES`] distinct run-time names get a
//! row of their own; later ones are counted under `<other>`, with a warning in the report.
//!
//! A block or a guard belongs to its thread: do not hold one across an `.await` (the guard is
//! not `Send`, and a task may move between threads; the time a task waits is not the block's
//! own). In async code, measure the future with [`measured`] instead.
//!
//! With the `off` feature every one of them compiles to the bare block, closure or future.

use std::future::Future;

#[cfg(not(feature = "off"))]
use perfscope_core::{Kind, SyncGuard};

pub use perfscope_core::MAX_SCOPE_NAMES;

/// Measures a block as a frame named `name` (a string literal or `const`), and gives its
/// value. The fast form: the callsite is a `static` of this expansion. `return`, `?`, `break`
/// and a panic inside the block end the measurement too.
///
/// ```
/// # fn main() {
/// let sum = perfscope::measure_block!("sum", { (1..=10).sum::<u32>() });
/// assert_eq!(sum, 55);
/// # }
/// ```
#[cfg(not(feature = "off"))]
#[macro_export]
macro_rules! measure_block {
    ($name:expr, $body:block $(,)?) => {{
        static __PERFSCOPE_BLOCK: $crate::__private::Callsite = $crate::__private::Callsite::new(
            $crate::__private::CallsiteName::Static($name),
            $crate::__private::Kind::Sync,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        let __perfscope_guard = $crate::__private::enter(&__PERFSCOPE_BLOCK);
        let __perfscope_value = $body;
        #[allow(unreachable_code)]
        __perfscope_guard.finish();
        __perfscope_value
    }};
}

/// Measures a block as a frame named `name` (a string literal or `const`), and gives its
/// value. The fast form: the callsite is a `static` of this expansion. `return`, `?`, `break`
/// and a panic inside the block end the measurement too.
///
/// ```
/// # fn main() {
/// let sum = perfscope::measure_block!("sum", { (1..=10).sum::<u32>() });
/// assert_eq!(sum, 55);
/// # }
/// ```
#[cfg(feature = "off")]
#[macro_export]
macro_rules! measure_block {
    ($name:expr, $body:block $(,)?) => {{
        const _: &str = $name;
        $body
    }};
}

/// A guard measuring, until it is dropped, a frame named `name` (a string literal or
/// `const`): the fast form of [`scope()`](fn@crate::scope), with the callsite in a `static` of
/// this expansion.
///
/// ```
/// fn handle(request: &str) -> usize {
///     let _parsing = perfscope::scope!("handle::parse");
///     request.len()
/// }
/// # fn main() { assert_eq!(handle("GET /"), 5); }
/// ```
#[cfg(not(feature = "off"))]
#[macro_export]
macro_rules! scope {
    ($name:expr $(,)?) => {{
        static __PERFSCOPE_BLOCK: $crate::__private::Callsite = $crate::__private::Callsite::new(
            $crate::__private::CallsiteName::Static($name),
            $crate::__private::Kind::Sync,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
        $crate::Scope::__enter(&__PERFSCOPE_BLOCK)
    }};
}

/// A guard measuring, until it is dropped, a frame named `name` (a string literal or
/// `const`): the fast form of [`scope()`](fn@crate::scope), with the callsite in a `static` of
/// this expansion.
///
/// ```
/// fn handle(request: &str) -> usize {
///     let _parsing = perfscope::scope!("handle::parse");
///     request.len()
/// }
/// # fn main() { assert_eq!(handle("GET /"), 5); }
/// ```
#[cfg(feature = "off")]
#[macro_export]
macro_rules! scope {
    ($name:expr $(,)?) => {{
        const _: &str = $name;
        $crate::Scope::__off()
    }};
}

/// A measured block in progress: made by [`scope()`](fn@scope) or [`scope!`](crate::scope!),
/// it measures until it is dropped (or [`finish`](Self::finish)ed). It stays on the thread
/// that made it; a panic that unwinds through it counts the block as panicked.
#[must_use = "the block is measured until the guard is dropped: bind it with `let _name = ..`"]
#[derive(Debug)]
pub struct Scope {
    #[cfg(not(feature = "off"))]
    guard: SyncGuard,
    #[cfg(feature = "off")]
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Scope {
    /// What [`scope!`](crate::scope!) expands to. Not a public API.
    #[doc(hidden)]
    #[cfg(not(feature = "off"))]
    #[inline(always)]
    pub fn __enter(callsite: &'static perfscope_core::Callsite) -> Scope {
        Scope { guard: perfscope_core::enter(callsite) }
    }

    /// What [`scope!`](crate::scope!) expands to with the `off` feature. Not a public API.
    #[doc(hidden)]
    #[cfg(feature = "off")]
    #[inline(always)]
    pub fn __off() -> Scope {
        Scope { _not_send: std::marker::PhantomData }
    }

    /// Ends the block's measurement now (as dropping the guard does, with the end inlined).
    #[inline(always)]
    pub fn finish(self) {
        #[cfg(not(feature = "off"))]
        self.guard.finish();
    }
}

/// A guard measuring, until it is dropped, a frame named `name`, which may be made at run
/// time (`&format!("shard::{id}")`). See the [module](self) documentation for its cost; with a
/// literal name, [`scope!`](crate::scope!) is the fast form.
///
/// ```
/// fn load(shard: &str) {
///     let _loading = perfscope::scope(&format!("load::{shard}"));
///     // ...
/// }
/// # fn main() { load("eu"); }
/// ```
#[track_caller]
#[inline]
pub fn scope(name: &str) -> Scope {
    #[cfg(not(feature = "off"))]
    {
        let callsite = perfscope_core::named(name, Kind::Sync, std::panic::Location::caller());
        Scope::__enter(callsite)
    }
    #[cfg(feature = "off")]
    {
        let _ = name;
        Scope::__off()
    }
}

/// Runs `f` as a frame named `name` and gives its value. The name may be made at run time;
/// see the [module](self) documentation for its cost.
///
/// ```
/// # fn main() {
/// let sorted = perfscope::time("sort", || {
///     let mut v = vec![3, 1, 2];
///     v.sort();
///     v
/// });
/// assert_eq!(sorted, [1, 2, 3]);
/// # }
/// ```
#[track_caller]
#[inline]
pub fn time<R>(name: &str, f: impl FnOnce() -> R) -> R {
    let scope = scope(name);
    let value = f();
    scope.finish();
    value
}

/// `future`, measured per poll as a frame named `name` (busy time, self time, allocations of
/// its polls), from its first poll to completion as one call (latency, idle time), and
/// counted as cancelled when dropped before completing: what `#[measure]` does for an
/// `async fn`. The name is looked up once, here, not per poll.
///
/// ```
/// async fn fetch(id: u32) -> u32 {
///     id + 1
/// }
///
/// # fn main() {
/// let answer = futures::executor::block_on(perfscope::measured("fetch::user", fetch(41)));
/// assert_eq!(answer, 42);
/// # if cfg!(feature = "off") { return; }
/// assert_eq!(perfscope::report().function("fetch::user").unwrap().calls, 1);
/// # }
/// ```
#[track_caller]
#[inline]
pub fn measured<F: Future>(name: &str, future: F) -> impl Future<Output = F::Output> {
    #[cfg(not(feature = "off"))]
    {
        let callsite = perfscope_core::named(name, Kind::Async, std::panic::Location::caller());
        perfscope_core::instrument(callsite, future)
    }
    #[cfg(feature = "off")]
    {
        let _ = name;
        future
    }
}
