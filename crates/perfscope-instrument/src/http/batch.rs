//! [`Batcher`]: many small requests sent as one (request batching, e.g. quotes for many
//! symbols in one HTTP call). A batch is flushed when it holds `max_size` requests (cause
//! `full`) or `max_wait` after its first request (cause `deadline`), whichever comes first;
//! each flush runs on a task of its own, so the next batch fills while one is in flight.
//!
//! Figures (section `http`, label `batcher`): batches flushed by cause
//! (`perfscope_http_client_batches_total`, `cause="full"|"deadline"|"closed"`), requests
//! batched (`perfscope_http_client_batch_items_total`; their ratio is the mean batch size) and
//! the distribution of batch sizes, a histogram of requests per batch
//! (`perfscope_http_client_batch_size`: `_bucket` on powers of two, `_sum` the requests,
//! `_count` the batches).
//! Once [`MIN_BATCHES_FOR_ADVICE`] batches were flushed, if most were flushed by the deadline,
//! every snapshot carries a recommendation event saying so: the batches rarely fill, so each
//! request waits up to `max_wait` for nothing.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::Duration;

use perfscope_core::figures::{self, Figure, FigureSource, HistogramFigure, Registration};
use perfscope_core::histogram::{AtomicHistogram, Histogram};
use perfscope_core::history::{Event, EventKind};
use perfscope_core::names::{self, section};
use tokio::sync::{mpsc, oneshot};

use crate::labels::LabelCap;

/// Batcher names with series of their own; later batchers count under `batcher="<other>"`.
pub const MAX_BATCHERS: usize = 64;

/// Batches flushed before the deadline advice may be given.
pub const MIN_BATCHES_FOR_ADVICE: u64 = 20;

static NAMES: LabelCap =
    LabelCap::new(section::HTTP, "perfscope_instrument::http::MAX_BATCHERS", MAX_BATCHERS);

/// Why a batch was flushed, in the order of the counters.
const CAUSES: [&str; 3] = ["full", "deadline", "closed"];
const FULL: usize = 0;
const DEADLINE: usize = 1;
const CLOSED: usize = 2;

/// The batcher stopped (its task ended, or the flush gave no answer for this request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the batcher gave no answer (stopped, or its flush answered fewer requests)")]
pub struct NoAnswer;

type Item<Req, Resp> = (Req, oneshot::Sender<Resp>);

/// Gathers requests into batches: a batch is flushed when it holds `max_size` requests
/// (cause `full`) or `max_wait` after its first (cause `deadline`), each flush on a task of
/// its own. Figures (label `batcher`): `perfscope_http_client_batches_total` by cause,
/// `perfscope_http_client_batch_items_total` and the histogram of batch sizes
/// `perfscope_http_client_batch_size`; past [`MIN_BATCHES_FOR_ADVICE`] batches mostly
/// flushed by the deadline, a recommendation event. Clones share the batcher; its task ends
/// when the last clone is dropped (flushing what it holds, cause `closed`).
pub struct Batcher<Req, Resp> {
    sender: mpsc::Sender<Item<Req, Resp>>,
    stats: Arc<Stats>,
}

impl<Req, Resp> Clone for Batcher<Req, Resp> {
    fn clone(&self) -> Self {
        Batcher { sender: self.sender.clone(), stats: self.stats.clone() }
    }
}

impl<Req, Resp> std::fmt::Debug for Batcher<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("name", &self.stats.name).finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Stats {
    name: String,
    batches: [AtomicU64; 3],
    items: AtomicU64,
    /// Requests per batch; written by the batcher's task only (its single writer).
    sizes: AtomicHistogram,
    registration: std::sync::OnceLock<Registration>,
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// Starts a batcher named `name` (the `batcher` label) on the current tokio runtime:
    /// batches of at most `max_size` requests (at least 1), flushed at the latest `max_wait`
    /// after their first request, each by `flush`, which answers the requests in their order.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn`).
    pub fn spawn<F, Fut>(name: &str, max_size: usize, max_wait: Duration, flush: F) -> Self
    where
        F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Resp>> + Send + 'static,
    {
        let max_size = max_size.max(1);
        let label = if NAMES.admit(name) { name } else { crate::OTHER };
        let stats = Arc::new(Stats { name: label.to_string(), ..Stats::default() });
        let source = BatchSource(Arc::downgrade(&stats));
        let _ = stats.registration.set(figures::register(Arc::new(source)));
        let (sender, receiver) = mpsc::channel(max_size * 4);
        tokio::spawn(gather(receiver, max_size, max_wait, Arc::new(flush), stats.clone()));
        Batcher { sender, stats }
    }

    /// Sends `request` in the next batch and waits for its answer.
    pub async fn call(&self, request: Req) -> Result<Resp, NoAnswer> {
        let (answer, answered) = oneshot::channel();
        self.sender.send((request, answer)).await.map_err(|_| NoAnswer)?;
        answered.await.map_err(|_| NoAnswer)
    }

    /// Batches flushed so far, by cause: (full, deadline, closed).
    pub fn flushes(&self) -> (u64, u64, u64) {
        let [full, deadline, closed] = &self.stats.batches;
        (full.load(Relaxed), deadline.load(Relaxed), closed.load(Relaxed))
    }

    /// Requests batched so far.
    pub fn items(&self) -> u64 {
        self.stats.items.load(Relaxed)
    }

    /// The sizes of the batches flushed so far (requests per batch; exact below 128).
    pub fn sizes(&self) -> Histogram {
        let mut sizes = Histogram::new();
        self.stats.sizes.add_to(&mut sizes);
        sizes
    }
}

/// The batcher's task: fills batches and hands each to a flush task of its own.
async fn gather<Req, Resp, F, Fut>(
    mut receiver: mpsc::Receiver<Item<Req, Resp>>,
    max_size: usize,
    max_wait: Duration,
    flush: Arc<F>,
    stats: Arc<Stats>,
) where
    Req: Send + 'static,
    Resp: Send + 'static,
    F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<Resp>> + Send + 'static,
{
    while let Some(first) = receiver.recv().await {
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut batch = Vec::with_capacity(max_size);
        batch.push(first);
        let cause = loop {
            if batch.len() >= max_size {
                break FULL;
            }
            tokio::select! {
                biased;
                item = receiver.recv() => match item {
                    Some(item) => batch.push(item),
                    None => break CLOSED,
                },
                () = tokio::time::sleep_until(deadline) => break DEADLINE,
            }
        };
        // This task is the histogram's one writer.
        stats.sizes.record(batch.len() as u64);
        stats.batches[cause].fetch_add(1, Relaxed);
        stats.items.fetch_add(batch.len() as u64, Relaxed);
        let (requests, answers): (Vec<Req>, Vec<oneshot::Sender<Resp>>) = batch.into_iter().unzip();
        let flush = flush.clone();
        tokio::spawn(async move {
            let responses = flush(requests).await;
            for (answer, response) in answers.into_iter().zip(responses) {
                // The caller may have stopped waiting.
                let _ = answer.send(response);
            }
        });
    }
}

/// The figure source of one batcher (while it lives).
struct BatchSource(Weak<Stats>);

impl FigureSource for BatchSource {
    fn read(&self, out: &mut Vec<Figure>) {
        let Some(stats) = self.0.upgrade() else { return };
        for (cause, n) in CAUSES.iter().zip(&stats.batches) {
            let figure = Figure::of(&names::HTTP_CLIENT_BATCHES_TOTAL, n.load(Relaxed) as f64);
            out.push(figure.with_label("batcher", stats.name.clone()).with_label("cause", *cause));
        }
        let items =
            Figure::of(&names::HTTP_CLIENT_BATCH_ITEMS_TOTAL, stats.items.load(Relaxed) as f64);
        out.push(items.with_label("batcher", stats.name.clone()));
    }

    fn histograms(&self, out: &mut Vec<HistogramFigure>) {
        let Some(stats) = self.0.upgrade() else { return };
        let mut sizes = Histogram::new();
        stats.sizes.add_to(&mut sizes);
        // The exact sum of the sizes. Below 128 each size has a bucket of its own, so the
        // histogram gives it, in step with its count; above, the requests batched (a batch
        // flushed during this reading may be counted there and not yet in the histogram).
        let sum: u64 = sizes.buckets().map(|(low, _, n)| low * n).sum();
        let sum = if sizes.highest().is_some_and(|h| h < 128) {
            sum as f64
        } else {
            stats.items.load(Relaxed) as f64
        };
        let figure = HistogramFigure::of(&names::HTTP_CLIENT_BATCH_SIZE, sizes, sum);
        out.push(figure.with_label("batcher", stats.name.clone()));
    }

    fn events(&self, out: &mut Vec<Event>) {
        let Some(stats) = self.0.upgrade() else { return };
        let [full, deadline, closed] = stats.batches.each_ref().map(|n| n.load(Relaxed));
        let batches = full + deadline + closed;
        if batches < MIN_BATCHES_FOR_ADVICE || deadline * 2 <= batches {
            return;
        }
        let items = stats.items.load(Relaxed);
        out.push(Event {
            section: section::HTTP,
            kind: EventKind::Recommendation,
            at_unix_ms: perfscope_core::time::unix_ms_now(),
            subject: names::HTTP_CLIENT_BATCHES_TOTAL.name.to_string(),
            labels: vec![("batcher".into(), stats.name.clone())],
            message: format!(
                "Batcher {:?}: {deadline} of {batches} batches were flushed by the deadline, not \
                 full (mean size {:.1}): each request waits up to the deadline for requests that \
                 do not come. Lower the batch size or the deadline.",
                stats.name,
                items as f64 / batches as f64
            ),
            value: Some(deadline as f64 / batches as f64),
        });
    }
}
