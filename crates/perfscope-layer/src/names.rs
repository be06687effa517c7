//! Span callsites: each tracing span name (target + name) gets one perfscope callsite id, looked
//! up by the span's `&'static Metadata` address without a lock after the first time.
//!
//! Past the cardinality cap, new names share one callsite named [`OVERFLOW`] (`<other>`, the
//! name of everything past a cap) and each such span is counted as a warning, so hostile or
//! generated span names cannot grow memory without bound.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::*};
use std::sync::{Mutex, OnceLock};

use perfscope_core::caps::CapWarning;
use perfscope_core::names::{OVERFLOW, section};
use perfscope_core::sync::lock;
use perfscope_core::{CallsiteInfo, Kind, register_dynamic};
use tracing_core::Metadata;

/// Default cap on distinct span names, see [`crate::PerfscopeLayer::with_max_span_names`].
pub const DEFAULT_MAX_SPAN_NAMES: usize = 4096;

const CACHE_SLOTS: usize = 1 << 13;
const CACHE_PROBES: usize = 16;

/// Metadata address → callsite id; insert-only, written under `NAMES`' lock.
static CACHE_KEYS: [AtomicUsize; CACHE_SLOTS] = [const { AtomicUsize::new(0) }; CACHE_SLOTS];
static CACHE_IDS: [AtomicU32; CACHE_SLOTS] = [const { AtomicU32::new(0) }; CACHE_SLOTS];

struct Names {
    by_name: HashMap<(&'static str, &'static str), u32>,
    overflow: u32,
}

fn names() -> &'static Mutex<Names> {
    static NAMES: OnceLock<Mutex<Names>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let overflow = register_dynamic(CallsiteInfo {
            name: OVERFLOW.into(),
            module_path: "perfscope".into(),
            file: "".into(),
            line: 0,
            kind: Kind::Span,
        });
        Mutex::new(Names { by_name: HashMap::new(), overflow })
    })
}

fn home(addr: usize) -> usize {
    // Fibonacci hashing; metadata addresses are 8-aligned, so drop the low bits first.
    ((addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % CACHE_SLOTS
}

/// The callsite id of spans with this metadata; `max_names` caps distinct names process-wide.
#[inline]
pub(crate) fn callsite_of(meta: &'static Metadata<'static>, max_names: usize) -> u32 {
    let addr = meta as *const Metadata<'static> as usize;
    let home = home(addr);
    for i in 0..CACHE_PROBES {
        let slot = (home + i) % CACHE_SLOTS;
        match CACHE_KEYS[slot].load(Acquire) {
            key if key == addr => return CACHE_IDS[slot].load(Relaxed),
            0 => break,
            _ => {}
        }
    }
    register(meta, addr, home, max_names)
}

#[cold]
#[inline(never)]
fn register(meta: &'static Metadata<'static>, addr: usize, home: usize, max_names: usize) -> u32 {
    let _own = perfscope_core::alloc::suspend();
    let mut names = lock(names());
    let key = (meta.target(), meta.name());
    let id = match names.by_name.get(&key) {
        Some(&id) => id,
        None if names.by_name.len() < max_names => {
            let id = register_dynamic(CallsiteInfo {
                name: format!("{}::{}", meta.target(), meta.name()).into(),
                module_path: meta.module_path().unwrap_or(meta.target()).into(),
                file: meta.file().unwrap_or("").into(),
                line: meta.line().unwrap_or(0),
                kind: Kind::Span,
            });
            names.by_name.insert(key, id);
            id
        }
        None => {
            perfscope_core::count_overflow();
            static CAP: CapWarning =
                CapWarning::new(section::SPAN, "perfscope_layer::max_span_names");
            CAP.reached(max_names, || {
                format!(
                    "More than {max_names} distinct span names: later spans are counted under \
                     `{}`. Raise the cap with `PerfscopeLayer::with_max_span_names(n)`, \
                     or give spans names from a small set (values belong in fields).",
                    OVERFLOW
                )
            });
            return names.overflow;
        }
    };
    // Cache the address (under the lock, so slots are claimed by one writer at a time). When the
    // probe window is full the next lookup takes this path again: slower, never wrong.
    for i in 0..CACHE_PROBES {
        let slot = (home + i) % CACHE_SLOTS;
        let current = CACHE_KEYS[slot].load(Relaxed);
        if current == addr {
            break;
        }
        if current == 0 {
            CACHE_IDS[slot].store(id, Relaxed);
            CACHE_KEYS[slot].store(addr, Release);
            break;
        }
    }
    id
}

/// Distinct span names tracked so far (for tests and diagnostics).
pub fn tracked_span_names() -> usize {
    lock(names()).by_name.len()
}
