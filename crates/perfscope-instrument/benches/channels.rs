//! What instrumenting a channel costs, beside the bare tokio channel in the same run: one
//! send and one receive of a `u64` on one thread (the futures are ready at once: the bounded
//! channel has room, the receive finds the item), bounded, unbounded and broadcast.
//!
//! `cargo bench -p perfscope-instrument --features channels --bench channels`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use perfscope_instrument::channel;

/// Polls `future` once: every future of this bench is ready at once.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the bench's channel has room and an item"),
    }
}

fn bounded(c: &mut Criterion) {
    let mut group = c.benchmark_group("mpsc_send_recv");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(1024);
    group.bench_function("tokio", |b| {
        b.iter(|| {
            ready(tx.send(black_box(7))).expect("open");
            ready(rx.recv()).expect("an item")
        })
    });
    let (tx, mut rx) = channel::channel::<u64>("bench_bounded", 1024);
    group.bench_function("instrumented", |b| {
        b.iter(|| {
            ready(tx.send(black_box(7))).expect("open");
            ready(rx.recv()).expect("an item")
        })
    });
    group.finish();
}

fn unbounded(c: &mut Criterion) {
    let mut group = c.benchmark_group("unbounded_send_recv");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tx.send(black_box(7)).expect("open");
            rx.try_recv().expect("an item")
        })
    });
    let (tx, mut rx) = channel::unbounded_channel::<u64>("bench_unbounded");
    group.bench_function("instrumented", |b| {
        b.iter(|| {
            tx.send(black_box(7)).expect("open");
            rx.try_recv().expect("an item")
        })
    });
    group.finish();
}

fn broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast_send_recv");
    let (tx, mut rx) = tokio::sync::broadcast::channel::<u64>(1024);
    group.bench_function("tokio", |b| {
        b.iter(|| {
            tx.send(black_box(7)).expect("open");
            rx.try_recv().expect("an item")
        })
    });
    let (tx, mut rx) = channel::broadcast::<u64>("bench_broadcast", 1024);
    group.bench_function("instrumented", |b| {
        b.iter(|| {
            tx.send(black_box(7)).expect("open");
            rx.try_recv().expect("an item")
        })
    });
    group.finish();
}

criterion_group!(benches, bounded, unbounded, broadcast);
criterion_main!(benches);
