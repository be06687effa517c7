//! perfscope's `tracing` layer: every span (from `#[instrument]`, tokio, sqlx, hyper or a
//! hand-made `info_span!`) is measured in the same store and the same report as
//! `#[perfscope::measure]` functions.
//!
//! Per span callsite (target + name) it records calls (one per closed span), busy time (while
//! entered), wall time (creation to close), self time, allocations and call edges. Entered spans
//! push frames on the same thread-local stack as measured functions, so the two nest with each
//! other in either order and self time is right across the mix.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry().with(perfscope_layer::layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     for _ in 0..3 {
//!         let _entered = tracing::info_span!("load").entered();
//!     }
//! });
//! let snap = perfscope_core::snapshot();
//! let load = snap.callsites.iter().find(|c| c.info.name.ends_with("::load")).unwrap();
//! assert_eq!(load.calls, 3);
//! ```
//!
//! The layer composes with other layers (`fmt::layer()`), `EnvFilter` and per-layer filters
//! (`perfscope_layer::layer().with_filter(...)`): it only sees the spans its filter enables.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod names;
mod spans;

use perfscope_core::{clock, span};
use tracing_core::span::{Attributes, Id};
use tracing_core::{Subscriber, span::Record};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

pub use names::{DEFAULT_MAX_SPAN_NAMES, tracked_span_names};
use spans::{Entry, SpanState, SpanTable};

/// A new perfscope layer with default settings; see [`PerfscopeLayer`] for the options.
pub fn layer() -> PerfscopeLayer {
    PerfscopeLayer::new()
}

/// A [`Layer`] feeding tracing spans into perfscope's store. Build one with [`layer()`].
#[derive(Debug)]
pub struct PerfscopeLayer {
    spans: SpanTable,
    max_span_names: usize,
}

impl Default for PerfscopeLayer {
    fn default() -> Self {
        PerfscopeLayer::new()
    }
}

impl PerfscopeLayer {
    /// A layer with default settings.
    pub fn new() -> Self {
        PerfscopeLayer { spans: SpanTable::new(), max_span_names: DEFAULT_MAX_SPAN_NAMES }
    }

    /// Caps the distinct span names (target + name) perfscope tracks, process-wide (default
    /// [`DEFAULT_MAX_SPAN_NAMES`]). Spans with new names past the cap are aggregated into one
    /// `<other>` row (`perfscope_core::names::OVERFLOW`) and counted in the report's `overflowed_spans` warning.
    pub fn with_max_span_names(self, max: usize) -> Self {
        PerfscopeLayer { max_span_names: max, ..self }
    }

    /// The span's state: from the table (with its entry), or from the registry when the table
    /// was full.
    #[inline]
    fn with_state<S, R>(
        &self,
        id: &Id,
        ctx: &Context<'_, S>,
        f: impl FnOnce(&SpanState, Option<Entry<'_>>) -> R,
    ) -> Option<R>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(entry) = self.spans.get(id.into_u64()) {
            return Some(f(entry.state, Some(entry)));
        }
        spilled(id, ctx, |state| f(state, None))
    }
}

#[cold]
#[inline(never)]
fn spilled<S, R>(id: &Id, ctx: &Context<'_, S>, f: impl FnOnce(&SpanState) -> R) -> Option<R>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let span = ctx.span(id)?;
    let extensions = span.extensions();
    extensions.get::<SpanState>().map(f)
}

impl<S> Layer<S> for PerfscopeLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    #[inline]
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let callsite = names::callsite_of(attrs.metadata(), self.max_span_names);
        // Read after the (first-time) name registration, which is perfscope's time, not the span's.
        let created = clock::now();
        if !self.spans.insert(id.into_u64(), callsite, created) {
            spill(id, &ctx, callsite, created);
        }
    }

    fn on_record(&self, _span: &Id, _values: &Record<'_>, _ctx: Context<'_, S>) {}

    #[inline]
    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let key = id.into_u64();
        let _ = self.with_state(id, &ctx, |state, _| {
            span::enter(state.callsite(), key, state.first_entry());
        });
    }

    #[inline]
    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        span::exit(id.into_u64());
    }

    #[inline]
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let _ = self.with_state(&id, &ctx, |state, entry| {
            span::close(state.callsite(), state.created());
            if let Some(entry) = entry {
                self.spans.remove(entry);
            }
        });
    }
}

#[cold]
#[inline(never)]
fn spill<S>(id: &Id, ctx: &Context<'_, S>, callsite: u32, created: u64)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let _own = perfscope_core::alloc::suspend();
    if let Some(span) = ctx.span(id) {
        span.extensions_mut().insert(SpanState::new(callsite, created));
    }
}
