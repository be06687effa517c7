//! Wall-clock helpers shared by perfscope's crates: event times are Unix milliseconds
//! (`Event::at_unix_ms`, a slow query's `at_unix_ms`).
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use perfscope_core::time::unix_ms;
//!
//! assert_eq!(unix_ms(UNIX_EPOCH + Duration::from_millis(1_500)), 1_500);
//! assert_eq!(unix_ms(UNIX_EPOCH - Duration::from_secs(1)), 0, "before 1970 reads as 0");
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

/// `at` in milliseconds since the Unix epoch; 0 before it, `u64::MAX` past what fits.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The wall clock now in Unix milliseconds; 0 under Miri, whose isolation hides the wall
/// clock (scripts/concurrency runs the caps' doctest and tests there).
pub fn unix_ms_now() -> u64 {
    if cfg!(miri) {
        return 0;
    }
    unix_ms(SystemTime::now())
}
