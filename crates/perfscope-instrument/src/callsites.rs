//! Callsites for frames whose names are known only at run time (`pool::db::acquire`,
//! `cache::users::get`). `#[measure]` puts its callsite in a `static`; a pool or a cache gets
//! its name when it is built, so its callsites are leaked once per name and kind
//! ([`Box::leak`]) and reused by every pool or cache of that name: building caches in a loop
//! leaks nothing new. At most [`MAX_NAMES`] are leaked; later names share one
//! `perfscope_instrument::<name overflow>` callsite of their kind.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use perfscope_core::caps::CapWarning;
use perfscope_core::{Callsite, CallsiteName, Kind};

/// The most frame names this crate leaks a callsite for (a few per pool or cache name).
pub const MAX_NAMES: usize = 4096;

const OVERFLOW_NAME: &str = "perfscope_instrument::<name overflow>";

static OVERFLOW_SYNC: Callsite =
    Callsite::new(CallsiteName::Static(OVERFLOW_NAME), Kind::Sync, module_path!(), file!(), 0);
static OVERFLOW_ASYNC: Callsite =
    Callsite::new(CallsiteName::Static(OVERFLOW_NAME), Kind::Async, module_path!(), file!(), 0);

type Table = HashMap<(String, Kind), &'static Callsite>;
static LEAKED: LazyLock<Mutex<Table>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The callsite named `name` of `kind` (`module_path` says which module of this crate measures
/// it), leaked on the first request for that name and kind.
pub(crate) fn callsite(name: String, kind: Kind, module_path: &'static str) -> &'static Callsite {
    let mut leaked = LEAKED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(site) = leaked.get(&(name.clone(), kind)) {
        return site;
    }
    if leaked.len() >= MAX_NAMES {
        static CAP: CapWarning = CapWarning::new("function", "perfscope_instrument::MAX_NAMES");
        CAP.reached(MAX_NAMES, || {
            format!(
                "More than {MAX_NAMES} frame names of caches and pools (`cache::<name>::get`, \
                 `pool::<name>::acquire`, ...): later ones are counted under `{OVERFLOW_NAME}`. \
                 The cap is fixed; give caches and pools names from a small set."
            )
        });
        return match kind {
            Kind::Async => &OVERFLOW_ASYNC,
            _ => &OVERFLOW_SYNC,
        };
    }
    let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
    let site: &'static Callsite = Box::leak(Box::new(Callsite::new(
        CallsiteName::Static(static_name),
        kind,
        module_path,
        file!(),
        0,
    )));
    leaked.insert((name, kind), site);
    site
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_callsite_per_name_and_kind() {
        let a = callsite("test::a".into(), Kind::Sync, module_path!());
        let again = callsite("test::a".into(), Kind::Sync, module_path!());
        let other_kind = callsite("test::a".into(), Kind::Async, module_path!());
        assert!(std::ptr::eq(a, again));
        assert!(!std::ptr::eq(a, other_kind));
        let info = perfscope_core::callsite_info(a.id()).expect("registered");
        assert_eq!(&*info.name, "test::a");
    }
}
