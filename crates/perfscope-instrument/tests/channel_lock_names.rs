//! The channels' and locks' figures are the catalog's (section `channel` and `lock`, help and
//! unit alike), every catalog name of those sections is exported, and a scrape of them passes
//! `promtool check metrics`; names past `MAX_CHANNEL_NAMES` / `MAX_LOCK_NAMES` are summed
//! under `<other>` with one warning event each.

use std::collections::BTreeSet;

use perfscope_core::names::{self, MetricType, section};
use perfscope_instrument::OTHER;
use perfscope_instrument::channel::{self, MAX_CHANNEL_NAMES};
use perfscope_instrument::lock::{self, MAX_LOCK_NAMES};

// The workspace's one promtool runner (also used by perfscope-export's and the root tests).
#[path = "../../../tests/promtool/mod.rs"]
mod promtool;

/// One test at a time: the cap test counts every live channel past the cap under `<other>`.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn every_channel_and_lock_name_is_the_catalogs_and_promtool_passes_them() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (tx, mut rx) = channel::channel::<u8>("names_bounded", 1);
    let (btx, mut brx) = channel::broadcast::<u8>("names_broadcast", 1);
    rt.block_on(async {
        tx.send(1).await.unwrap();
        assert_eq!(rx.recv().await, Some(1));
    });
    btx.send(1).unwrap();
    assert_eq!(brx.try_recv(), Ok(1));
    let rw = lock::RwLock::new("names_rw", 0_u8);
    drop(rw.read().unwrap());

    let snapshot = perfscope_core::snapshot();
    let exporter = perfscope_export::prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .start()
        .expect("an exporter on a free port");
    let exposition = exporter.render();
    exporter.shutdown();
    let sections = [section::CHANNEL, section::LOCK];
    let ours: Vec<_> = snapshot.figures.iter().filter(|f| sections.contains(&f.section)).collect();
    for figure in &ours {
        let entry = names::ALL.iter().find(|n| n.name == figure.name);
        let entry = entry.unwrap_or_else(|| panic!("{} is not in names::ALL", figure.name));
        let said = (figure.section, figure.help, figure.unit);
        assert_eq!(said, (entry.section, entry.help, entry.unit), "{}", figure.name);
    }
    let histograms = snapshot.histograms.iter().filter(|h| sections.contains(&h.section));
    for h in histograms.clone() {
        let entry = names::find(&h.name).expect("in the catalog");
        assert_eq!(
            (h.section, h.help, entry.kind),
            (entry.section, entry.help, MetricType::Histogram)
        );
    }
    let exported: BTreeSet<&str> =
        ours.iter().map(|f| f.name.as_ref()).chain(histograms.map(|h| h.name.as_ref())).collect();
    let catalog: BTreeSet<&str> =
        names::ALL.iter().filter(|n| sections.contains(&n.section)).map(|n| n.name).collect();
    assert_eq!(exported, catalog, "every catalog name of these sections is exported here");
    for name in &exported {
        assert!(exposition.contains(&format!("# TYPE {name} ")), "{name} not in the exposition");
    }
    let (status, said) = promtool::check_metrics(&exposition);
    assert!(status.success(), "promtool check metrics failed ({status}):\n{said}");
}

#[test]
fn names_past_the_caps_are_summed_under_other_with_one_warning_each() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Names dropped with their channels and locks keep their places (as caches' and pools').
    for i in 0..MAX_CHANNEL_NAMES {
        drop(channel::unbounded_channel::<u8>(format!("capped_{i}")));
    }
    for i in 0..MAX_LOCK_NAMES {
        drop(lock::Mutex::new(format!("capped_{i}"), ()));
    }
    let late: Vec<_> =
        (0..2).map(|i| channel::unbounded_channel::<u8>(format!("late_{i}"))).collect();
    for (tx, _) in &late {
        tx.send(1).unwrap();
    }
    let locks: Vec<_> = (0..2).map(|i| lock::Mutex::new(format!("late_{i}"), ())).collect();
    for l in &locks {
        drop(l.lock().unwrap());
    }
    let snap = perfscope_core::snapshot();
    let of = |name: &str, key: &str, value: &str| {
        let found: Vec<_> = snap
            .figures
            .iter()
            .filter(|f| f.name == name && f.labels.iter().any(|(k, v)| k == key && v == value))
            .map(|f| f.value)
            .collect();
        found
    };
    assert_eq!(of(channel::SENDS_TOTAL, "channel", OTHER), [2.0], "both late channels, summed");
    assert!(of(channel::SENDS_TOTAL, "channel", "late_0").is_empty());
    assert_eq!(of(lock::ACQUISITIONS_TOTAL, "lock", OTHER), [2.0]);
    assert!(of(lock::ACQUISITIONS_TOTAL, "lock", "late_1").is_empty());
    for cap in [
        "perfscope_instrument::channel::MAX_CHANNEL_NAMES",
        "perfscope_instrument::lock::MAX_LOCK_NAMES",
    ] {
        assert_eq!(snap.events.iter().filter(|e| e.subject == cap).count(), 1, "{cap}");
    }
    // The frames keep their names: the report says which late lock was waited on.
    assert_eq!(locks[1].name(), "late_1");
}
