//! Names given at run time (`perfscope::scope(name)`, `time`, `measured`) are capped: past
//! `MAX_SCOPE_NAMES` callsites, new names are counted under one `<other>` callsite of their
//! kind, the names registered before keep their own, and one warning is published. A test
//! binary of its own: it fills the process's table.

// The loom build leaves out the hot path.
#![cfg(not(perfscope_loom))]

use std::panic::Location;

use perfscope_core::{Kind, MAX_SCOPE_NAMES, enter, named, scope_names, snapshot};

#[test]
#[cfg_attr(miri, ignore = "4,096 registrations: too slow under Miri (the table is safe code)")]
fn names_past_the_cap_count_under_other() {
    let here = Location::caller();
    for i in 0..MAX_SCOPE_NAMES {
        drop(enter(named(&format!("cap::name{i}"), Kind::Sync, here)));
    }
    assert_eq!(scope_names(), MAX_SCOPE_NAMES);
    for i in 0..10 {
        drop(enter(named(&format!("cap::past{i}"), Kind::Sync, here)));
    }
    // A name registered before the cap keeps its row.
    drop(enter(named("cap::name7", Kind::Sync, here)));
    assert_eq!(scope_names(), MAX_SCOPE_NAMES, "the table does not grow past the cap");
    let snap = snapshot();
    let calls = |name: &str| snap.callsites.iter().find(|c| &*c.info.name == name).map(|c| c.calls);
    assert_eq!(calls("<other>"), Some(10));
    assert_eq!(calls("cap::name7"), Some(2));
    assert_eq!(calls("cap::past0"), None);
    let warning = snap
        .events
        .iter()
        .filter(|e| e.subject == "perfscope_core::MAX_SCOPE_NAMES")
        .collect::<Vec<_>>();
    assert_eq!(warning.len(), 1, "one warning");
    assert_eq!(warning[0].value, Some(MAX_SCOPE_NAMES as f64));
}
