//! Instrumented tokio channels on a real runtime: exact send and receive counts, the depth,
//! the time items wait in the queue for a consumer that sleeps a known time, a full bounded
//! channel's sender wait as a frame under the sending function (not in its self time),
//! broadcast receivers that lag, and sends refused by a closed channel.

mod support;

use std::time::Duration;

use perfscope_instrument::channel::{self, BroadcastReceiver};
use support::figure;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The figure `name` of the channel `channel` in a snapshot taken now.
fn channel_figure(name: &str, channel: &str) -> Option<f64> {
    figure(&perfscope_core::snapshot().figures, name, &[("channel", channel)])
}

#[test]
fn sends_and_receives_are_counted_exactly_and_the_depth_follows_the_queue() {
    let rt = runtime();
    let (tx, mut rx) = channel::channel::<u64>("exact", 64);
    rt.block_on(async {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
        assert_eq!(rx.stats().depth, 10);
        assert_eq!(rx.len(), 10);
        for i in 0..10 {
            assert_eq!(rx.recv().await, Some(i));
        }
        // Then 10,000 through a producer task and a consumer, concurrently.
        let producer = tokio::spawn({
            let tx = tx.clone();
            async move {
                for i in 0..10_000 {
                    tx.send(i).await.unwrap();
                }
            }
        });
        let mut sum = 0;
        for _ in 0..10_000 {
            sum += rx.recv().await.unwrap();
        }
        producer.await.unwrap();
        assert_eq!(sum, (0..10_000).sum::<u64>());
    });
    let stats = tx.stats();
    assert_eq!((stats.sends, stats.receives, stats.depth), (10_010, 10_010, 0), "{stats:?}");
    assert!(stats.high_water >= 10 && stats.high_water <= 64, "{stats:?}");
    assert_eq!(stats.closed, 0);
    assert_eq!(channel_figure(channel::SENDS_TOTAL, "exact"), Some(10_010.0));
    assert_eq!(channel_figure(channel::RECEIVES_TOTAL, "exact"), Some(10_010.0));
    assert_eq!(channel_figure(channel::DEPTH, "exact"), Some(0.0));
    assert_eq!(channel_figure(channel::CAPACITY, "exact"), Some(64.0));
    let snap = perfscope_core::snapshot();
    let waits = snap
        .histograms
        .iter()
        .find(|h| h.name == channel::WAIT_SECONDS && h.labels.iter().any(|(_, v)| v == "exact"));
    assert_eq!(waits.map(|h| h.histogram.count()), Some(10_010), "one wait per item received");

    // The unbounded channel, the same counts; recv_many and try_recv unwrap what they take.
    let (tx, mut rx) = channel::unbounded_channel::<String>("exact_unbounded");
    for i in 0..100 {
        tx.send(i.to_string()).unwrap();
    }
    let mut got = Vec::new();
    rt.block_on(async {
        assert_eq!(rx.recv_many(&mut got, 60).await, 60);
    });
    while let Ok(item) = rx.try_recv() {
        got.push(item);
    }
    assert_eq!(got, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
    let stats = rx.stats();
    assert_eq!((stats.sends, stats.receives, stats.depth, stats.high_water), (100, 100, 0, 100));
    assert_eq!(channel_figure(channel::CAPACITY, "exact_unbounded"), None, "unbounded");
}

#[test]
fn the_time_items_wait_is_the_consumers_sleep() {
    const SLEEP: Duration = Duration::from_millis(30);
    const ITEMS: u64 = 5;
    let rt = runtime();
    let (tx, mut rx) = channel::channel::<u64>("queue_wait", 8);
    rt.block_on(async {
        for i in 0..ITEMS {
            tx.send(i).await.unwrap();
            tokio::time::sleep(SLEEP).await;
            assert_eq!(rx.recv().await, Some(i));
        }
    });
    let stats = rx.stats();
    let waited = Duration::from_nanos(stats.wait_ns);
    // Each item waited at least the sleep, and not much more (a loaded machine's timers are
    // late by a few ms at worst).
    assert!(waited >= SLEEP * ITEMS as u32, "{waited:?}");
    assert!(waited <= (SLEEP + Duration::from_millis(25)) * ITEMS as u32, "{waited:?}");
    let p99 = channel_figure(channel::WAIT_P99_SECONDS, "queue_wait").expect("a p99");
    assert!(p99 >= SLEEP.as_secs_f64() * 0.99, "{p99}");
    assert!(p99 <= SLEEP.as_secs_f64() + 0.05, "{p99}");
    let total = channel_figure(channel::WAIT_SECONDS_TOTAL, "queue_wait").unwrap();
    assert!((total - waited.as_secs_f64()).abs() < 1e-6, "{total} vs {waited:?}");
    let snap = perfscope_core::snapshot();
    let h = snap.histograms.iter().find(|h| {
        h.name == channel::WAIT_SECONDS && h.labels.iter().any(|(_, v)| v == "queue_wait")
    });
    let h = h.expect("the wait histogram");
    assert_eq!(h.histogram.count(), ITEMS);
    // In nanoseconds: every item in a bucket at or above the sleep (1% buckets).
    let low = h.histogram.buckets().next().unwrap().0;
    assert!(low as f64 >= SLEEP.as_nanos() as f64 * 0.98, "{low}");
}

const CONSUMER_SLEEP: Duration = Duration::from_millis(40);

#[perfscope::measure]
async fn produce_into_full(tx: &channel::Sender<u64>) {
    tx.send(1).await.expect("open");
    // The channel holds one item: this send waits until the consumer takes the first.
    tx.send(2).await.expect("open");
}

#[test]
fn a_senders_wait_for_capacity_is_a_frame_under_the_sending_function() {
    let rt = runtime();
    let (tx, mut rx) = channel::channel::<u64>("full", 1);
    rt.block_on(async {
        let consumer = tokio::spawn(async move {
            tokio::time::sleep(CONSUMER_SLEEP).await;
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second, rx)
        });
        produce_into_full(&tx).await;
        let (first, second, rx) = consumer.await.unwrap();
        assert_eq!((first, second), (Some(1), Some(2)));
        drop(rx);
    });
    let stats = tx.stats();
    assert_eq!((stats.sends, stats.send_waits), (2, 1), "{stats:?}");
    assert!(stats.send_wait_ns >= CONSUMER_SLEEP.as_nanos() as u64 * 9 / 10, "{stats:?}");

    let report = perfscope::report();
    let send = report.function("channel::full::send").expect("the send frame");
    let producer = report.function_by_suffix("::produce_into_full").expect("the producer");
    assert_eq!((send.calls, producer.calls), (1, 1));
    let edge = producer.children.iter().find(|e| e.name == send.name);
    assert_eq!(edge.map(|e| e.calls), Some(1), "{:?}", producer.children);
    let waited = send.idle_ns.expect("an async frame has idle time");
    let counted = stats.send_wait_ns as f64;
    assert!((waited as f64 - counted).abs() <= 0.1 * counted, "{waited} vs {counted}");
    assert!(producer.self_ns < waited / 10, "self {} ns, waited {waited} ns", producer.self_ns);
    assert!(producer.total_ns >= send.total_ns);
    assert_eq!(channel_figure(channel::SEND_WAITS_TOTAL, "full"), Some(1.0));
    // The report's channel section reads the same figures.
    let full = report.channels().into_iter().find(|c| c.channel == "full").expect("in the report");
    assert_eq!(
        (full.sends, full.receives, full.capacity, full.send_waits),
        (2, 2, Some(1), Some(1))
    );
    assert!(full.backed_up());
    assert!(report.to_string().contains("channels (wait = time an item spent in the queue"));
}

#[test]
fn broadcast_receivers_that_fall_behind_count_what_they_missed() {
    let (tx, mut slow) = channel::broadcast::<u64>("lagging", 2);
    let mut fast: BroadcastReceiver<u64> = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i).ok(), Some(2));
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(tx.stats().depth, 2, "the slow receiver has the last 2 to read");
    // The slow receiver kept only the last 2 of 5: it missed 3.
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(slow.try_recv(), Ok(3));
    assert_eq!(slow.try_recv(), Ok(4));
    let stats = tx.stats();
    assert_eq!((stats.sends, stats.receives, stats.lagged, stats.depth), (5, 7, 3, 0), "{stats:?}");
    assert_eq!(channel_figure(channel::LAGGED_TOTAL, "lagging"), Some(3.0));
    // A receiver that leaves keeps its counts; one that joins sees only what comes next.
    drop(fast);
    let mut late = slow.resubscribe();
    tx.send(5).unwrap();
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(late.recv().await, Ok(5));
        assert_eq!(slow.recv().await, Ok(5));
    });
    drop(tx);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Closed));
    rt.block_on(async { assert_eq!(late.recv().await, Err(RecvError::Closed)) });
    let stats = late.stats();
    assert_eq!((stats.sends, stats.receives, stats.lagged), (6, 9, 3), "{stats:?}");
}

#[test]
fn sends_into_a_closed_channel_are_counted() {
    let rt = runtime();
    let (tx, rx) = channel::channel::<u64>("closing", 4);
    drop(rx);
    rt.block_on(async {
        assert_eq!(tx.send(1).await.map_err(|e| e.0), Err(1));
        assert!(tx.try_send(2).is_err());
        assert!(tx.reserve().await.is_err());
    });
    assert_eq!(tx.stats().closed, 3);
    assert_eq!(channel_figure(channel::CLOSED_TOTAL, "closing"), Some(3.0));
    assert_eq!(tx.stats().sends, 0);

    let (tx, mut rx) = channel::unbounded_channel::<u64>("closing_unbounded");
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(tx.send(2).map_err(|e| e.0), Err(2));
    assert_eq!(rx.try_recv(), Ok(1), "what was queued is still received");
    let stats = rx.stats();
    assert_eq!((stats.sends, stats.receives, stats.closed), (1, 1, 1));

    let (tx, rx) = channel::broadcast::<u64>("closing_broadcast", 4);
    drop(rx);
    assert_eq!(tx.send(1).map_err(|e| e.0), Err(1), "no receiver");
    assert_eq!(tx.stats().closed, 1);
}

#[test]
fn blocking_send_and_permits_wait_in_the_same_frame() {
    let (tx, mut rx) = channel::channel::<u64>("blocking", 1);
    tx.blocking_send(1).unwrap();
    let consumer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let got = (rx.blocking_recv(), rx.blocking_recv(), rx.blocking_recv());
        (got, rx)
    });
    // Full: this send waits for the consumer's first receive.
    tx.blocking_send(2).unwrap();
    let rt = runtime();
    rt.block_on(async {
        let permit = tx.reserve().await.unwrap();
        permit.send(3);
    });
    let (got, rx) = consumer.join().unwrap();
    assert_eq!(got, (Some(1), Some(2), Some(3)));
    let stats = rx.stats();
    assert_eq!((stats.sends, stats.receives), (3, 3));
    assert!(stats.send_waits >= 1, "{stats:?}");
    let report = perfscope::report();
    let send = report.function("channel::blocking::send").expect("the send frame");
    assert_eq!(send.calls, stats.send_waits);
}

#[test]
fn a_send_that_times_out_waiting_is_counted_with_its_wait() {
    use tokio::sync::mpsc::error::SendTimeoutError;
    let rt = runtime();
    let (tx, rx) = channel::channel::<u64>("timing_out", 1);
    rt.block_on(async {
        tx.send_timeout(1, Duration::from_millis(20)).await.expect("room for one");
        let waited = tx.send_timeout(2, Duration::from_millis(20)).await;
        assert!(matches!(waited, Err(SendTimeoutError::Timeout(2))), "{waited:?}");
    });
    let stats = rx.stats();
    assert_eq!((stats.sends, stats.send_waits, stats.depth), (1, 1, 1), "{stats:?}");
    assert!(stats.send_wait_ns >= 20_000_000, "{stats:?}");
    let report = perfscope::report();
    let send = report.function("channel::timing_out::send").expect("the send frame");
    assert_eq!(send.calls, 1);
    assert!(send.total_ns >= 20_000_000, "{send:?}");
}
