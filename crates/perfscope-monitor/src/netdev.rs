//! Network counters from `/proc/net/dev`: one read for every interface, where sysinfo reads
//! nine sysfs files per interface (about 20 times the cost on a host with four interfaces;
//! see BENCHMARKS.md). Elsewhere than Linux the sampler uses sysinfo's `Networks`.

use std::collections::HashMap;
use std::time::Instant;

/// Bytes received and sent per interface, in file order.
pub(crate) type Totals = Vec<(String, u64, u64)>;

/// `/proc/net/dev` read now (`None` where there is no such file).
pub(crate) fn read() -> Option<Totals> {
    parse(&std::fs::read_to_string("/proc/net/dev").ok()?)
}

/// The interfaces' receive and transmit bytes (first and ninth counters after the name).
pub(crate) fn parse(text: &str) -> Option<Totals> {
    let mut totals = Vec::new();
    for line in text.lines().skip(2) {
        let (name, counters) = line.split_once(':')?;
        let mut counters = counters.split_whitespace().map(|c| c.parse::<u64>().ok());
        let rx = counters.next()??;
        let tx = counters.nth(7)??;
        totals.push((name.trim().to_owned(), rx, tx));
    }
    Some(totals)
}

/// The previous reading, for bytes per second.
#[derive(Debug)]
pub(crate) struct Rates {
    last: HashMap<String, (u64, u64)>,
    at: Instant,
}

impl Rates {
    pub(crate) fn new(totals: Option<&Totals>) -> Rates {
        let last = totals.into_iter().flatten().map(|(d, rx, tx)| (d.clone(), (*rx, *tx)));
        Rates { last: last.collect(), at: Instant::now() }
    }

    /// Bytes per second received and sent by each interface since the previous call (none for
    /// an interface new since then, or whose counters went back).
    pub(crate) fn update(&mut self, totals: &Totals) -> Vec<(f64, f64)> {
        let now = Instant::now();
        let seconds = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        let rates = totals
            .iter()
            .map(|(device, rx, tx)| match self.last.get(device) {
                Some(&(rx0, tx0)) if *rx >= rx0 && *tx >= tx0 => {
                    (per_second(rx - rx0, seconds), per_second(tx - tx0, seconds))
                }
                _ => (f64::NAN, f64::NAN),
            })
            .collect();
        self.last = totals.iter().map(|(d, rx, tx)| (d.clone(), (*rx, *tx))).collect();
        rates
    }
}

/// `bytes` over `seconds` as a rate; unknown (NaN) over no time at all.
pub(crate) fn per_second(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { bytes as f64 / seconds } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_bytes_over_seconds_and_unknown_over_no_time() {
        assert_eq!(per_second(10, 2.0), 5.0);
        assert_eq!(per_second(0, 0.5), 0.0);
        assert!(per_second(5, 0.0).is_nan());
        assert!(per_second(0, 0.0).is_nan());
    }

    const SAMPLE: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 1296752    4321    0    0    0     0          0         0  1296752    4321    0    0    0     0       0          0
  eth0: 987654321 123456    0    0    0     0          0         0 12345678  65432    0    0    0     0       0          0
";

    #[test]
    fn receive_and_transmit_bytes_per_interface() {
        let totals = parse(SAMPLE).unwrap();
        assert_eq!(
            totals,
            vec![("lo".into(), 1296752, 1296752), ("eth0".into(), 987654321, 12345678)]
        );
        assert_eq!(parse("header\nheader\n  lo: 12 x\n"), None);
    }

    #[test]
    fn rates_need_a_previous_reading_and_growing_counters() {
        let mut rates = Rates::new(None);
        let first = rates.update(&vec![("lo".into(), 100, 100)]);
        assert!(first[0].0.is_nan());
        std::thread::sleep(std::time::Duration::from_millis(10));
        let second = rates.update(&vec![("lo".into(), 1100, 100)]);
        assert!(second[0].0 > 0.0 && second[0].1 == 0.0);
        assert!(rates.update(&vec![("lo".into(), 5, 5)])[0].0.is_nan(), "a counter reset");
        // Either counter going back is a reset.
        std::thread::sleep(std::time::Duration::from_millis(10));
        assert!(rates.update(&vec![("lo".into(), 4, 50)])[0].1.is_nan(), "rx went back");
        std::thread::sleep(std::time::Duration::from_millis(10));
        assert!(rates.update(&vec![("lo".into(), 60, 40)])[0].0.is_nan(), "tx went back");
    }
}
