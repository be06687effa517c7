//! The hot path: clock read, frame push/pop, thread-local adds. Nothing here takes a lock or
//! writes memory another thread writes; everything rare is behind a `#[cold]` call.
//!
//! Each thread has a fixed-capacity stack of frames (const-initialised thread-local, no
//! destructor, so access is a plain TLS offset). A frame remembers its callsite's slot in the
//! thread's store, its start reading and the time spent in measured children; popping it
//! records the call into the slot and the elapsed time into the parent frame.
//!
//! A call that cannot push a frame (deeper than [`MAX_DEPTH`], or on a thread whose store was
//! already flushed during thread exit) still counts: it carries its own start reading and is
//! recorded into the thread's slot, or, during thread teardown, straight into the retired
//! totals. With no frame, no child's time can be subtracted from it: past the full stack the
//! outermost such call is subtracted from the top frame and holds the whole region's self
//! time, and the calls nested in it count their calls and busy time with no self time, so self
//! times still add up to the root call's time. All of them are edges of the top frame.
//!
//! Split by concept: [`local`] owns the thread-local state (frame stack, store pointer) and the
//! thread-exit flush; [`frames`] pushes and settles frames; [`calls`] is what `#[measure]`
//! calls and polls reach; [`spans`] is what the tracing layer reaches.

mod calls;
mod frames;
mod local;
mod spans;
#[cfg(test)]
/// Declares `static` callsites named after themselves (`A` is named "A").
macro_rules! callsites {
    ($kind:ident: $($name:ident),+) => {
        $(
            static $name: Callsite = Callsite::new(
                crate::CallsiteName::Static(stringify!($name)),
                crate::Kind::$kind,
                module_path!(),
                file!(),
                line!(),
            );
        )+
    };
}
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_paths;
#[cfg(test)]
mod tests_store;
#[cfg(test)]
mod tests_time;

pub(crate) use calls::{Entry, pop_poll, pop_sync, push, record_call, record_cancelled};
pub use local::{MAX_DEPTH, depth};
pub(crate) use spans::{span_close, span_enter, span_exit};
