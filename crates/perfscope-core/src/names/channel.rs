//! The channels' figures (`perfscope-instrument`, feature `channels`; label `channel`): tokio
//! `mpsc` (bounded and unbounded) and `broadcast` channels wrapped. A sender's wait for
//! capacity is also a frame, `channel::<name>::send`, on the sender's stack.

use super::{MetricType, Name, section};
use crate::kinds::FigureUnit;

/// Items sent into the channel (accepted by it).
pub const CHANNEL_SENDS_TOTAL: Name = Name {
    name: "perfscope_channel_sends_total",
    help: "Items sent into the channel.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// Items received from the channel (a broadcast item once per receiver that got it).
pub const CHANNEL_RECEIVES_TOTAL: Name = Name {
    name: "perfscope_channel_receives_total",
    help: "Items received from the channel, once per receiver that got them.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// Items in the queue now (a broadcast channel: those its slowest receiver has yet to read,
/// up to the capacity).
pub const CHANNEL_DEPTH: Name = Name {
    name: "perfscope_channel_depth",
    help: "Items waiting in the queue now.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::CHANNEL,
};
/// The most items in the queue at once.
pub const CHANNEL_DEPTH_HIGH_WATER: Name = Name {
    name: "perfscope_channel_depth_high_water",
    help: "The most items waiting in the queue at once.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::CHANNEL,
};
/// The queue's capacity (bounded and broadcast channels; absent for unbounded ones).
pub const CHANNEL_CAPACITY: Name = Name {
    name: "perfscope_channel_capacity",
    help: "Items the queue holds at most.",
    unit: FigureUnit::Count,
    kind: MetricType::Gauge,
    section: section::CHANNEL,
};
/// Time items waited in the queue, from send to receive, summed (the distribution is
/// [`CHANNEL_WAIT_SECONDS`]).
pub const CHANNEL_WAIT_SECONDS_TOTAL: Name = Name {
    name: "perfscope_channel_wait_seconds_total",
    help: "Time items waited in the queue, from send to receive, summed.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// The 99th percentile of the time an item waited in the queue, since the channel was built
/// (for reports; fleets aggregate [`CHANNEL_WAIT_SECONDS`]).
pub const CHANNEL_WAIT_P99_SECONDS: Name = Name {
    name: "perfscope_channel_wait_p99_seconds",
    help: "99th percentile of the time items waited in the queue.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Gauge,
    section: section::CHANNEL,
};
/// The time each item waited in the queue, from send to receive: a histogram.
pub const CHANNEL_WAIT_SECONDS: Name = Name {
    name: "perfscope_channel_wait_seconds",
    help: "Time items waited in the queue, from send to receive.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Histogram,
    section: section::CHANNEL,
};
/// Sends that found a bounded channel full and waited for capacity.
pub const CHANNEL_SEND_WAITS_TOTAL: Name = Name {
    name: "perfscope_channel_send_waits_total",
    help: "Sends that found the channel full and waited for capacity.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// Time senders waited for capacity, summed (each wait is a `channel::<name>::send` frame).
pub const CHANNEL_SEND_WAIT_SECONDS_TOTAL: Name = Name {
    name: "perfscope_channel_send_wait_seconds_total",
    help: "Time senders waited for capacity, summed.",
    unit: FigureUnit::Seconds,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// Sends refused because the channel was closed (no receiver left, or it closed): the item
/// went back to the sender.
pub const CHANNEL_CLOSED_TOTAL: Name = Name {
    name: "perfscope_channel_closed_total",
    help: "Sends refused because the channel was closed or had no receiver.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
/// Items broadcast receivers missed because they fell behind by more than the capacity.
pub const CHANNEL_LAGGED_TOTAL: Name = Name {
    name: "perfscope_channel_lagged_total",
    help: "Items broadcast receivers missed because they fell too far behind.",
    unit: FigureUnit::Count,
    kind: MetricType::Counter,
    section: section::CHANNEL,
};
