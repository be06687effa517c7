//! [`ChannelFigures`]: a channel's figures.

use perfscope_core::names;
use std::time::Duration;

use super::{duration, grouped, value, whole};
use crate::report::{FunctionStats, Report};

/// The figures [`Report::channels`] reads (section `channel`).
pub(super) const NAMES: [&str; 11] = [
    names::CHANNEL_SENDS_TOTAL.name,
    names::CHANNEL_RECEIVES_TOTAL.name,
    names::CHANNEL_DEPTH.name,
    names::CHANNEL_DEPTH_HIGH_WATER.name,
    names::CHANNEL_CAPACITY.name,
    names::CHANNEL_WAIT_SECONDS_TOTAL.name,
    names::CHANNEL_WAIT_P99_SECONDS.name,
    names::CHANNEL_SEND_WAITS_TOTAL.name,
    names::CHANNEL_SEND_WAIT_SECONDS_TOTAL.name,
    names::CHANNEL_CLOSED_TOTAL.name,
    names::CHANNEL_LAGGED_TOTAL.name,
];

/// One channel's figures (section `channel`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelFigures {
    /// The channel's name.
    pub channel: String,
    /// Items sent into it.
    pub sends: u64,
    /// Items received (a broadcast item once per receiver that got it).
    pub receives: u64,
    /// Items in the queue now.
    pub depth: u64,
    /// The most items in the queue at once.
    pub high_water: u64,
    /// The queue's capacity; `None` for an unbounded channel.
    pub capacity: Option<u64>,
    /// Time items waited in the queue, summed; `None` when absent or not a duration.
    pub wait_time: Option<Duration>,
    /// The 99th percentile of the time an item waited; `None` before the first receive.
    pub wait_p99: Option<Duration>,
    /// Sends that waited for capacity; `None` for channels that never wait (unbounded,
    /// broadcast).
    pub send_waits: Option<u64>,
    /// Time senders waited for capacity, summed.
    pub send_wait_time: Option<Duration>,
    /// Sends refused because the channel was closed.
    pub closed: u64,
    /// Items broadcast receivers missed by falling behind; `None` for mpsc channels.
    pub lagged: Option<u64>,
}

impl ChannelFigures {
    /// Mean time an item waited in the queue; `None` before the first receive.
    pub fn mean_wait(&self) -> Option<Duration> {
        self.wait_time.filter(|_| self.receives > 0).map(|t| t.div_f64(self.receives as f64))
    }

    /// The queue's fill at its peak, from 0 to 1; `None` for an unbounded channel.
    pub fn peak_fill(&self) -> Option<f64> {
        self.capacity.filter(|c| *c > 0).map(|c| self.high_water as f64 / c as f64)
    }

    /// Senders waited, the queue filled up, or receivers missed items: the consumer is too
    /// slow for its producers.
    pub fn backed_up(&self) -> bool {
        self.send_waits.is_some_and(|w| w > 0) || self.lagged.is_some_and(|l| l > 0)
    }
}

impl Report {
    /// Every channel in the report, by name.
    pub fn channels(&self) -> Vec<ChannelFigures> {
        grouped(self, names::section::CHANNEL, &["channel"])
            .into_iter()
            .map(|(key, figures)| {
                let get = |name| value(&figures, name, None);
                let count = |name| get(name).map(|v| v as u64);
                ChannelFigures {
                    channel: key[0].clone(),
                    sends: whole(get(names::CHANNEL_SENDS_TOTAL.name)),
                    receives: whole(get(names::CHANNEL_RECEIVES_TOTAL.name)),
                    depth: whole(get(names::CHANNEL_DEPTH.name)),
                    high_water: whole(get(names::CHANNEL_DEPTH_HIGH_WATER.name)),
                    capacity: count(names::CHANNEL_CAPACITY.name),
                    wait_time: duration(get(names::CHANNEL_WAIT_SECONDS_TOTAL.name)),
                    wait_p99: duration(get(names::CHANNEL_WAIT_P99_SECONDS.name)),
                    send_waits: count(names::CHANNEL_SEND_WAITS_TOTAL.name),
                    send_wait_time: duration(get(names::CHANNEL_SEND_WAIT_SECONDS_TOTAL.name)),
                    closed: whole(get(names::CHANNEL_CLOSED_TOTAL.name)),
                    lagged: count(names::CHANNEL_LAGGED_TOTAL.name),
                }
            })
            .collect()
    }
}

/// The frame of a channel's sends that waited, `channel::<name>::send`, if the report has it.
pub(crate) fn send_frame<'a>(
    report: &'a Report,
    channel: &ChannelFigures,
) -> Option<&'a FunctionStats> {
    report.function(&format!("channel::{}::send", channel.channel))
}
