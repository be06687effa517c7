//! The clock: raw timestamps on the hot path, nanoseconds only when a snapshot is taken.
//!
//! On x86_64 with a TSC the kernel and `minstant` both trust (invariant, synchronised across
//! CPUs), [`now`] is one `rdtsc`. Everywhere else it falls back to `std::time::Instant`,
//! expressed as nanoseconds since the clock was first used (also under Miri, which cannot run
//! `rdtsc`). `benches/clock.rs` compares
//! `rdtsc`, `quanta`, `minstant` and `Instant` side by side; BENCHMARKS.md has the figures
//! behind this choice.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::Instant;

const UNKNOWN: u8 = 0;
const TSC: u8 = 1;
const OS: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);
static ORIGIN: OnceLock<Origin> = OnceLock::new();

/// The first reading of the clock, in both units, used to convert ticks to nanoseconds.
struct Origin {
    instant: Instant,
    ticks: u64,
}

/// Reads the clock: raw ticks (TSC cycles, or nanoseconds on the fallback clock).
#[inline(always)]
pub fn now() -> u64 {
    if MODE.load(Relaxed) == TSC { read_tsc() } else { now_slow() }
}

#[inline(always)]
fn read_tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `rdtsc` is available on every x86_64 CPU; MODE is TSC only after the check.
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

#[cold]
#[inline(never)]
fn now_slow() -> u64 {
    if MODE.load(Relaxed) == UNKNOWN {
        init();
        if MODE.load(Relaxed) == TSC {
            return read_tsc();
        }
    }
    os_ticks()
}

fn os_ticks() -> u64 {
    let origin = ORIGIN.get_or_init(|| Origin { instant: Instant::now(), ticks: 0 });
    // Start at 1 so that 0 never is a valid reading.
    u64::try_from(origin.instant.elapsed().as_nanos()).unwrap_or(u64::MAX) + 1
}

fn init() {
    // Miri cannot execute `rdtsc` (nor `minstant`'s probe of it): the OS clock there.
    let use_tsc = cfg!(target_arch = "x86_64")
        && !cfg!(miri)
        && std::env::var_os("PERFSCOPE_CLOCK").is_none_or(|v| v != "os")
        && minstant::is_tsc_available();
    ORIGIN.get_or_init(|| Origin {
        instant: Instant::now(),
        ticks: if use_tsc { read_tsc() } else { 0 },
    });
    MODE.store(if use_tsc { TSC } else { OS }, Relaxed);
}

/// Which clock [`now`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSource {
    /// The CPU's invariant time-stamp counter.
    Tsc,
    /// `std::time::Instant` (the OS monotonic clock).
    Os,
}

/// The clock [`now`] reads (initialising it on first use).
pub fn source() -> ClockSource {
    now();
    if MODE.load(Relaxed) == TSC { ClockSource::Tsc } else { ClockSource::Os }
}

/// Nanoseconds per tick, measured against `Instant` over the whole time since the first reading
/// (so it gets more precise the longer the process runs); at least 2 ms are spent on the first
/// call if the process is younger than that.
pub fn nanos_per_tick() -> f64 {
    if source() == ClockSource::Os {
        return 1.0;
    }
    let origin = ORIGIN.get().expect("initialised by source()");
    loop {
        let (ticks, nanos) = read_both(origin);
        if nanos >= 2_000_000.0 && ticks > 0 {
            return nanos / ticks as f64;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// Ticks and nanoseconds since `origin`, read together: the TSC on both sides of `Instant`. A
/// pair far apart was interrupted in the middle (preempted, on a busy machine) and would skew
/// the ratio, so up to 16 pairs are read and the tightest is kept.
fn read_both(origin: &Origin) -> (u64, f64) {
    let mut best = (u64::MAX, 0, 0.0);
    for _ in 0..16 {
        let before = read_tsc();
        let nanos = origin.instant.elapsed().as_nanos() as f64;
        let spread = read_tsc().wrapping_sub(before);
        if spread < best.0 {
            best = (spread, before.wrapping_sub(origin.ticks) + spread / 2, nanos);
        }
        if spread < 20_000 {
            break;
        }
    }
    (best.1, best.2)
}

/// Converts a tick count to nanoseconds with a factor from [`nanos_per_tick`].
#[inline]
pub fn to_nanos(ticks: u64, nanos_per_tick: f64) -> u64 {
    (ticks as f64 * nanos_per_tick).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "Miri's clock is not the wall clock")]
    fn ticks_convert_to_elapsed_time() {
        let start = now();
        let wall = Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let ticks = now() - start;
        let measured = to_nanos(ticks, nanos_per_tick()) as f64;
        let real = wall.elapsed().as_nanos() as f64;
        assert!((measured - real).abs() / real < 0.02, "{measured} vs {real}");
    }

    #[test]
    fn readings_are_monotonic_and_nonzero() {
        let mut last = now();
        assert!(last > 0);
        for _ in 0..10_000 {
            let t = now();
            assert!(t >= last);
            last = t;
        }
    }
}
