//! The dashboard's list of the monitor's names (`perfscope_export::families::MONITOR_NAMES`,
//! duplicated there so the exporter does not depend on the monitor) and `names::ALL` agree.

use perfscope_export::families::{MONITOR_NAMES, sample_names};
use perfscope_monitor::names;

#[test]
fn every_monitor_name_is_in_the_exported_list_and_back() {
    let mut ours = names::ALL.to_vec();
    let mut listed = MONITOR_NAMES.to_vec();
    ours.sort_unstable();
    listed.sort_unstable();
    assert_eq!(ours, listed, "update perfscope-export's families::MONITOR_NAMES");
    let exported = sample_names();
    assert!(names::ALL.iter().all(|n| exported.iter().any(|e| e == n)));
}
