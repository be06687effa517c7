//! Caps on the cache and pool names that become figure labels (`cache=<name>`,
//! `pool=<name>`). The first names registered get series of their own; a cache or a pool
//! registered under a new name once the cap is reached gives its figures under the label
//! [`OTHER`], where the snapshot sums them with every other such cache's or pool's
//! (`perfscope_core::figures`: one series from several sources is their sum), and the cap's
//! warning is published once (`perfscope_core::caps`). Decided when a cache or a pool is
//! built, never per call. Names keep their place for the life of the process (as the frame
//! names of [`crate::callsites`] do), so at most the cap's names are held.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use perfscope_core::caps::CapWarning;
use perfscope_core::sync::lock;

/// The label value of the caches or pools past their cap (as query fingerprints and the
/// exporters' functions past theirs): the catalog's [`OVERFLOW`](perfscope_core::names::OVERFLOW).
pub const OTHER: &str = perfscope_core::names::OVERFLOW;

/// Names of one kind (caches or pools) with series of their own.
pub(crate) struct LabelCap {
    what: &'static str,
    max: usize,
    names: LazyLock<Mutex<HashSet<String>>>,
    warning: CapWarning,
}

impl LabelCap {
    pub(crate) const fn new(section: &'static str, cap: &'static str, max: usize) -> LabelCap {
        LabelCap {
            what: section,
            max,
            names: LazyLock::new(|| Mutex::new(HashSet::new())),
            warning: CapWarning::new(section, cap),
        }
    }

    /// Registers `name`: whether it has series of its own (known, or new below the cap).
    pub(crate) fn admit(&self, name: &str) -> bool {
        let mut names = lock(&self.names);
        if names.contains(name) {
            return true;
        }
        if names.len() < self.max {
            names.insert(name.to_string());
            return true;
        }
        drop(names);
        let (what, max) = (self.what, self.max);
        self.warning.reached(max, || {
            format!(
                "More than {max} distinct {what} names: the figures of later {what}s are summed \
                 under {what}=\"{OTHER}\" (their frames keep their names up to \
                 perfscope_instrument::MAX_NAMES). The cap is fixed; name {what}s from a small set."
            )
        });
        false
    }

    /// The label of `name`: itself if admitted, else [`OTHER`].
    #[cfg_attr(
        not(any(feature = "moka", feature = "deadpool", feature = "bb8", feature = "sqlx")),
        allow(dead_code)
    )]
    pub(crate) fn label(&self, name: &str) -> String {
        let names = lock(&self.names);
        if names.contains(name) { name.to_string() } else { OTHER.to_string() }
    }
}
