//! Reads the host's and this process's figures: one `sysinfo::System` reused, refreshing only
//! what is read, plus `/proc/meminfo` for `Cached` (sysinfo has no accessor for it),
//! `/proc/loadavg` (sysinfo reads a garbled one as zeros) and `/proc/net/dev` for the network
//! counters where it exists (see [`crate::netdev`]).
//! Whatever cannot be read is absent from the sample, never zero.

use std::time::Instant;

use perfscope_core::figures::Figure;
use perfscope_core::names::*;
use sysinfo::{
    Components, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System,
};

use crate::MonitorError;
use crate::netdev::{self, Rates, per_second};

/// The sysinfo handles the sampler refreshes at each sample.
pub(crate) struct Sampler {
    system: System,
    netdev: Option<Rates>,
    networks: Option<Networks>,
    networks_at: Instant,
    components: Option<Components>,
    pid: Option<Pid>,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler").field("pid", &self.pid).finish_non_exhaustive()
    }
}

impl Sampler {
    /// Takes the first refresh of everything that needs two (CPU usage, process CPU,
    /// network deltas), so the next [`Sampler::sample`] has a full interval to measure.
    pub(crate) fn new() -> Result<Sampler, MonitorError> {
        let mut system = System::new().map_err(|e| MonitorError::System(e.to_string()))?;
        let pid = sysinfo::get_current_pid().ok();
        system.refresh_cpu_usage();
        let netdev = netdev::read().map(|totals| Rates::new(Some(&totals)));
        let networks =
            if netdev.is_some() { None } else { Networks::new_with_refreshed_list().ok() };
        let mut sampler = Sampler {
            system,
            netdev,
            networks,
            networks_at: Instant::now(),
            // Temperatures only where the host has sensors (many VMs have none).
            components: Components::new_with_refreshed_list().ok().filter(|c| !c.is_empty()),
            pid,
        };
        sampler.refresh_process();
        Ok(sampler)
    }

    fn refresh_process(&mut self) -> Option<&sysinfo::Process> {
        let pid = self.pid?;
        let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
        self.system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
        self.system.process(pid)
    }

    /// Refreshes what sysinfo reads for the figures, without building them (the benchmark's
    /// baseline; it adds sysinfo's networks where the sampler reads `/proc/net/dev`).
    pub(crate) fn refresh(&mut self) {
        self.system.refresh_cpu_usage();
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        self.refresh_process();
        if let Some(networks) = &mut self.networks {
            networks.refresh(true);
        }
        if let Some(components) = &mut self.components {
            components.refresh(false);
        }
    }

    /// Refreshes and appends the current figures to `out`.
    pub(crate) fn sample(&mut self, out: &mut Vec<Figure>) {
        // CPU before the process: sysinfo's process refresh re-reads the per-core times, and
        // a CPU refresh right after it sees ~no time pass on any core (every core read 0%).
        self.cpu(out);
        self.process(out);
        self.memory(out);
        if let Some([one, five, fifteen]) = load_average() {
            for (name, value) in [(NODE_LOAD1, one), (NODE_LOAD5, five), (NODE_LOAD15, fifteen)] {
                out.push(host(&name, value));
            }
        }
        self.networks(out);
        self.temperatures(out);
    }

    fn process(&mut self, out: &mut Vec<Figure>) {
        let Some(process) = self.refresh_process() else { return };
        out.push(Figure::of(&PROCESS_RESIDENT_MEMORY_BYTES, process.memory() as f64));
        out.push(Figure::of(&PROCESS_VIRTUAL_MEMORY_BYTES, process.virtual_memory() as f64));
        let cpu = process.accumulated_cpu_time() as f64 / 1000.0;
        out.push(Figure::of(&PROCESS_CPU_SECONDS_TOTAL, cpu));
        if let Some(fds) = process.open_files() {
            out.push(Figure::of(&PROCESS_OPEN_FDS, fds as f64));
        }
    }

    fn cpu(&mut self, out: &mut Vec<Figure>) {
        self.system.refresh_cpu_usage();
        let cpus = self.system.cpus();
        if cpus.is_empty() {
            return;
        }
        let ratio = |percent: f32| (f64::from(percent) / 100.0).clamp(0.0, 1.0);
        out.push(host(&NODE_CPU_USAGE_RATIO, ratio(self.system.global_cpu_usage())));
        for (i, cpu) in cpus.iter().enumerate() {
            let figure = host(&NODE_CPU_USAGE_RATIO, ratio(cpu.usage()));
            out.push(figure.with_label("cpu", i.to_string()));
        }
    }

    fn memory(&mut self, out: &mut Vec<Figure>) {
        self.system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
        let s = &self.system;
        // sysinfo leaves zeros when /proc/meminfo cannot be read: no memory is no reading.
        if s.total_memory() > 0 {
            for (name, bytes) in [
                (NODE_MEMORY_MEMTOTAL_BYTES, s.total_memory()),
                (NODE_MEMORY_MEMAVAILABLE_BYTES, s.available_memory()),
                (NODE_MEMORY_MEMFREE_BYTES, s.free_memory()),
                (NODE_MEMORY_SWAPTOTAL_BYTES, s.total_swap()),
                (NODE_MEMORY_SWAPFREE_BYTES, s.free_swap()),
            ] {
                out.push(host(&name, bytes as f64));
            }
        }
        if let Some(cached) = meminfo_field("Cached:") {
            out.push(host(&NODE_MEMORY_CACHED_BYTES, cached as f64));
        }
    }

    fn networks(&mut self, out: &mut Vec<Figure>) {
        if let Some(rates) = &mut self.netdev {
            let Some(totals) = netdev::read() else { return };
            let per_second = rates.update(&totals);
            for ((device, rx, tx), (rx_rate, tx_rate)) in totals.iter().zip(per_second) {
                push_network(out, device, (*rx, *tx), (rx_rate, tx_rate));
            }
            return;
        }
        let Some(networks) = &mut self.networks else { return };
        networks.refresh(true);
        let now = Instant::now();
        let seconds = now.duration_since(self.networks_at).as_secs_f64();
        self.networks_at = now;
        for (device, data) in networks.iter() {
            let totals = (data.total_received(), data.total_transmitted());
            let rates =
                (per_second(data.received(), seconds), per_second(data.transmitted(), seconds));
            push_network(out, &device.to_string_lossy(), totals, rates);
        }
    }

    fn temperatures(&mut self, out: &mut Vec<Figure>) {
        let Some(components) = &mut self.components else { return };
        components.refresh(false);
        for component in components.iter() {
            if let Some(celsius) = component.temperature().filter(|t| t.is_finite()) {
                let figure = host(&NODE_HWMON_TEMP_CELSIUS, f64::from(celsius));
                out.push(figure.with_label("sensor", component.label()));
            }
        }
    }
}

/// One interface's counters, and its rates unless unknown (NaN).
fn push_network(out: &mut Vec<Figure>, device: &str, totals: (u64, u64), rates: (f64, f64)) {
    for (name, bytes) in [
        (NODE_NETWORK_RECEIVE_BYTES_TOTAL, totals.0),
        (NODE_NETWORK_TRANSMIT_BYTES_TOTAL, totals.1),
    ] {
        let counter = Figure::of(&name, bytes as f64);
        out.push(counter.with_label("device", device));
    }
    for (name, rate) in [
        (NODE_NETWORK_RECEIVE_BYTES_PER_SECOND, rates.0),
        (NODE_NETWORK_TRANSMIT_BYTES_PER_SECOND, rates.1),
    ] {
        if rate.is_finite() {
            out.push(host(&name, rate).with_label("device", device));
        }
    }
}

fn host(name: &Name, value: f64) -> Figure {
    Figure::of(name, value)
}

/// The 1, 5 and 15 minute load averages. On Linux from `/proc/loadavg` directly: sysinfo reads
/// an empty or garbled file as loads of zero (found by `tests/faults_host.rs`).
fn load_average() -> Option<[f64; 3]> {
    #[cfg(target_os = "linux")]
    {
        parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        System::load_average().ok().map(|load| [load.one, load.five, load.fifteen])
    }
}

/// The first three fields of `/proc/loadavg`, if all three are loads (finite, not negative).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut loads = text
        .split_whitespace()
        .map(|field| field.parse::<f64>().ok().filter(|load| load.is_finite() && *load >= 0.0));
    Some([loads.next()??, loads.next()??, loads.next()??])
}

/// One field of `/proc/meminfo` in bytes (`None` where there is no such file or field).
fn meminfo_field(field: &str) -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo_field(&meminfo, field)
}

fn parse_meminfo_field(meminfo: &str, field: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with(field))?;
    let mut words = line[field.len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_fields_are_bytes_and_missing_ones_absent() {
        let text = "MemTotal:       16318480 kB\nCached:          1024 kB\nSwapCached: 0 kB\n";
        assert_eq!(parse_meminfo_field(text, "Cached:"), Some(1024 * 1024));
        assert_eq!(parse_meminfo_field(text, "MemTotal:"), Some(16318480 * 1024));
        assert_eq!(parse_meminfo_field(text, "Buffers:"), None);
        assert_eq!(parse_meminfo_field("Cached: lots kB", "Cached:"), None);
    }

    #[test]
    fn debug_names_the_sampler_and_its_process() {
        let sampler = Sampler::new().expect("a sampler");
        let pid = std::process::id();
        assert_eq!(format!("{sampler:?}"), format!("Sampler {{ pid: Some(Pid({pid})), .. }}"));
    }

    #[test]
    fn load_averages_are_three_loads_or_none() {
        assert_eq!(parse_loadavg("0.52 1.25 2.00 2/345 6789\n"), Some([0.52, 1.25, 2.0]));
        for bad in ["", "\n", "0.52 1.25", "x y z", "0.5 NaN 1", "1 2 inf", "-1 0 0", "\u{0}\u{ff}"]
        {
            assert_eq!(parse_loadavg(bad), None, "{bad:?}");
        }
    }
}
