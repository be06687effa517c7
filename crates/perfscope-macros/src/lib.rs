//! The `#[measure]` and `#[measure_all]` attributes of perfscope.
//!
//! Use it through the `perfscope` crate (`use perfscope::measure;`): the code it generates
//! calls `::perfscope::__private`, so the measured crate must depend on `perfscope`. Each
//! measured function gets one `static` callsite; every call of it, sync or async, is recorded
//! in perfscope's report.
//!
//! ```
//! use perfscope::measure;
//!
//! #[measure]
//! fn checksum(data: &[u8]) -> u32 {
//!     data.iter().map(|&b| u32::from(b)).sum()
//! }
//!
//! # fn main() {
//! assert_eq!(checksum(b"abc"), 294);
//! # if cfg!(feature = "off") { return; } // nothing is measured
//! let report = perfscope::report();
//! let stats = report.functions.iter().find(|f| f.name.ends_with("::checksum")).unwrap();
//! assert_eq!(stats.calls, 1);
//! # }
//! ```
//!
//! With the `off` feature (set through `perfscope/off`) the attribute still checks where it is
//! used, then emits the function unchanged.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod expand;

use proc_macro::TokenStream;

/// Measures every function of an `impl` block or an inline module, as `#[measure]` on each
/// would: instrumenting a subsystem is one line. `#[perfscope::skip]` on a function (or, in a
/// module, on an `impl` block or a nested module) leaves it out.
///
/// In a module, its free functions, the methods of its `impl` blocks and its nested inline
/// modules' are measured. A function under `#[measure]` already keeps it (its `name` too); a
/// `const fn` is left alone (it cannot be measured); trait definitions, and functions nested
/// in function bodies, are not touched. With `#[async_trait]`, put `#[measure_all]` above or
/// below it: either order measures the futures.
///
/// ```
/// use perfscope::measure_all;
///
/// struct Parser;
///
/// #[measure_all]
/// impl Parser {
///     fn parse(&self, input: &str) -> usize {
///         input.split(',').map(|f| self.field(f)).sum()
///     }
///
///     fn field(&self, f: &str) -> usize {
///         f.trim().len()
///     }
///
///     #[perfscope::skip]
///     fn hot_helper(&self) -> usize {
///         1
///     }
/// }
///
/// #[measure_all]
/// mod store {
///     pub async fn load(key: u32) -> u32 {
///         key + 1
///     }
/// }
///
/// # fn main() {
/// assert_eq!(Parser.parse("a, bb"), 3);
/// assert_eq!(Parser.hot_helper(), 1);
/// assert_eq!(futures::executor::block_on(store::load(1)), 2);
/// # if cfg!(feature = "off") { return; } // nothing is measured
/// let report = perfscope::report();
/// let parse = report.function_by_suffix("Parser::parse").unwrap();
/// assert_eq!(parse.children[0].calls, 2);
/// assert!(report.function_by_suffix("::hot_helper").is_none());
/// assert_eq!(report.function_by_suffix("store::load").unwrap().calls, 1);
/// # }
/// ```
///
/// Anything else than an `impl` block or an inline module is a compile error:
///
/// ```compile_fail
/// #[perfscope::measure_all]
/// fn alone() {}
/// # fn main() {}
/// ```
///
/// With the `off` feature, the item is emitted unchanged (its `#[skip]` markers removed).
#[proc_macro_attribute]
pub fn measure_all(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match attr::parse_container(args.into(), item.clone()) {
        Ok(Some(container)) => expand::gen_all(container, !cfg!(feature = "off")).into(),
        Ok(None) => item.into(),
        Err(error) => expand::with_error(&error, item).into(),
    }
}

/// Leaves a function (or, in a module, an `impl` block or a nested module) out of the
/// `#[measure_all]` around it. It means nothing elsewhere, and is an error there:
///
/// ```compile_fail
/// #[perfscope::skip]
/// fn not_in_a_measure_all() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn skip(_args: TokenStream, item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[perfscope::skip] only means something inside #[perfscope::measure_all] (on an `impl` \
         block or a module): remove it, or put #[measure_all] around this item",
    );
    expand::with_error(&error, item.into()).into()
}

/// Measures every call of a function: calls, wall time, self time, latency quantiles, panics,
/// and for futures busy (polling) time and cancellation.
///
/// The callsite is named after the function's path as [`std::any::type_name`] prints it, e.g.
/// `my_crate::parse`, `my_crate::Cache<_>::get` or `<my_crate::Db as my_crate::Store>::load`.
/// `#[measure(name = "...")]` names it instead.
///
/// # What gets measured
///
/// - A plain function: from entry to return, or to unwinding out of it (a guard records on
///   drop, and counts the panic). On the body's fall-through path the value is bound under the
///   declared return type and the guard finished in line, which keeps the measurement's end
///   inlined; `return`, `?` and unwinding end it by dropping the guard.
///
///   ```
///   use perfscope::measure;
///
///   #[measure]
///   fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
///       let n = input.trim().parse::<u32>()?;
///       Ok(n * 2)
///   }
///   # fn main() { assert_eq!(parse(" 21 "), Ok(42)); assert!(parse("x").is_err()); }
///   ```
///
/// - An `async fn`: the future it returns, from first poll to completion: wall time, busy time
///   (the sum of its polls), and whether it was dropped before completing (cancelled).
///
///   ```
///   use perfscope::measure;
///
///   #[measure]
///   async fn fetch(id: u32) -> Result<u32, String> {
///       if id == 0 {
///           return Err("no id".to_owned());
///       }
///       Ok(id + 1)
///   }
///   # fn main() {
///   assert_eq!(futures::executor::block_on(fetch(1)), Ok(2));
///   # }
///   ```
///
/// - A function returning a future whose body ends in an `async` block, bare
///   (`-> impl Future`) or boxed (`Box::pin(async move { .. })`, which is also what
///   `#[async_trait]` generates): that future is measured, not its creation.
///
///   ```
///   use perfscope::measure;
///   use std::future::Future;
///
///   #[measure]
///   fn double(x: u32) -> impl Future<Output = u32> + Send {
///       async move { x * 2 }
///   }
///   # fn main() { assert_eq!(futures::executor::block_on(double(2)), 4); }
///   ```
///
///   With `#[async_trait]`, put `#[measure]` on the method, under `#[async_trait]` on the
///   impl block:
///
///   ```
///   use async_trait::async_trait;
///   use perfscope::measure;
///
///   #[async_trait]
///   trait Store {
///       async fn load(&self, key: u32) -> Option<u32>;
///   }
///
///   struct Memory;
///
///   #[async_trait]
///   impl Store for Memory {
///       #[measure]
///       async fn load(&self, key: u32) -> Option<u32> {
///           Some(key)
///       }
///   }
///   # fn main() { assert_eq!(futures::executor::block_on(Memory.load(3)), Some(3)); }
///   ```
///
/// A function returning a future any other way (e.g. `-> BoxFuture<'_, T> { helper().boxed() }`)
/// is measured as a plain function: the time to create the future.
///
/// # Where it can go
///
/// Free functions, inherent and trait-impl methods with any receiver, trait methods with a
/// default body, generic functions (all instantiations share one callsite), lifetimes, `where`
/// clauses, `impl Trait` arguments and returns, `unsafe fn`, `extern "C" fn`, and functions
/// returning `!`.
///
/// ```
/// use perfscope::measure;
///
/// struct Counter<T> {
///     items: Vec<T>,
/// }
///
/// impl<T: Clone> Counter<T> {
///     #[measure]
///     fn push(&mut self, item: T) {
///         self.items.push(item);
///     }
///
///     #[measure(name = "counter::all")]
///     fn all<'a>(&'a self) -> impl Iterator<Item = &'a T> + 'a
///     where
///         T: 'a,
///     {
///         self.items.iter()
///     }
/// }
///
/// #[measure]
/// unsafe fn read(ptr: *const u8) -> u8 {
///     // SAFETY: the caller passes a valid pointer.
///     unsafe { *ptr }
/// }
///
/// # fn main() {
/// let mut counter = Counter { items: Vec::new() };
/// counter.push(1);
/// assert_eq!(counter.all().count(), 1);
/// // SAFETY: the pointer comes from a live reference.
/// assert_eq!(unsafe { read(&7) }, 7);
/// # if cfg!(feature = "off") { return; } // nothing is measured
/// let report = perfscope::report();
/// assert!(report.functions.iter().any(|f| f.name == "counter::all" && f.calls == 1));
/// # }
/// ```
///
/// # Where it cannot go
///
/// A `const fn` runs at compile time too, where there is no clock:
///
/// ```compile_fail
/// #[perfscope::measure]
/// const fn square(x: u32) -> u32 {
///     x * x
/// }
/// # fn main() {}
/// ```
///
/// Anything that is not a function:
///
/// ```compile_fail
/// #[perfscope::measure]
/// struct Config {
///     verbose: bool,
/// }
/// # fn main() {}
/// ```
///
/// A function without a body, such as a trait method declaration (measure the
/// implementations, or give the method a default body):
///
/// ```compile_fail
/// trait Store {
///     #[perfscope::measure]
///     fn load(&self, key: u32) -> Option<u32>;
/// }
/// # fn main() {}
/// ```
///
/// Two places compile but are not supported:
///
/// - the functions of your `#[global_allocator]`: a function's first call on a thread
///   allocates its figures, which would re-enter the allocator;
/// - a crate that *forbids* `unreachable_code` (`#![forbid(unreachable_code)]`, or `warnings`):
///   the expansion allows that lint on the statements it adds after the body (so that
///   `deny(warnings)` crates can measure bodies that diverge, such as `todo!()`), and `forbid`
///   refuses the allow. `deny` is fine.
///
/// Only the `name` option exists, once:
///
/// ```compile_fail
/// #[perfscope::measure(label = "x")]
/// fn f() {}
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// #[perfscope::measure(name = "x", name = "y")]
/// fn f() {}
/// # fn main() {}
/// ```
///
/// # Cost
///
/// Per call, two clock reads and a few thread-local additions (see perfscope's
/// `BENCHMARKS.md`). With the `off` feature the function is emitted unchanged.
#[proc_macro_attribute]
pub fn measure(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let args = match syn::parse::<attr::MeasureArgs>(args) {
        Ok(args) => args,
        Err(error) => return expand::with_error(&error, item).into(),
    };
    let measured = match attr::parse_item(item.clone()) {
        Ok(Some(measured)) => measured,
        // Unparsable: rustc reports the user's own syntax error at the user's span.
        Ok(None) => return item.into(),
        Err(error) => return expand::with_error(&error, item).into(),
    };
    if cfg!(feature = "off") {
        return item.into();
    }
    expand::gen_function(&args, &measured).into()
}
