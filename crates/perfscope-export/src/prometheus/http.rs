//! The `/metrics` HTTP listener: hyper on a one-thread tokio runtime of its own, answering
//! `GET /metrics` in the text format (or protobuf when the scrape asks for it), only to
//! allowed clients. Hostile clients are bounded: request heads of at most 64 KiB, 10 s to
//! send one, at most [`MAX_CONNECTIONS`] open connections.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::sync::{Semaphore, oneshot};

use crate::ExportError;
use perfscope_core::sync::lock;

/// Connections served at once; more wait in the kernel's accept queue.
pub(crate) const MAX_CONNECTIONS: usize = 256;

/// The `Content-Type` of the protobuf exposition.
pub const PROTOBUF_FORMAT: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// What the listener serves: the registry, and who may read it.
#[derive(Debug)]
pub(crate) struct Served {
    pub registry: prometheus::Registry,
    /// perfscope's exported series, which the encoders write themselves.
    pub state: super::collector::State,
    /// Empty: everyone.
    pub allow: Vec<IpNet>,
    /// The `/debug` endpoint, when asked for.
    pub debug: Option<super::debug::Debug>,
    /// The last page's buffer, back from hyper once sent.
    pub pages: Pages,
}

/// One page buffer kept across scrapes: each answer is written into the buffer the previous
/// one left (its memory mapped already: a text page of 10,000 functions is 35 MiB, above
/// glibc's mmap threshold, and a fresh one costs thousands of page faults — 28 ms against 9 ms
/// to encode, `BENCHMARKS.md`), and the body hands it back when hyper drops it. Holds the
/// largest recent page's memory between scrapes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Pages(Arc<Mutex<Vec<u8>>>);

impl Pages {
    /// The kept buffer, empty (a new one if another scrape holds it).
    fn take(&self) -> Vec<u8> {
        let mut buffer = std::mem::take(&mut *lock(&self.0));
        buffer.clear();
        buffer
    }

    /// `page` as a response body that returns its buffer here when dropped.
    fn body(&self, page: Vec<u8>) -> Bytes {
        Bytes::from_owner(Page { page, pages: self.clone() })
    }
}

/// A page on its way to the client.
struct Page {
    page: Vec<u8>,
    pages: Pages,
}

impl AsRef<[u8]> for Page {
    fn as_ref(&self) -> &[u8] {
        &self.page
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let mut kept = lock(&self.pages.0);
        if kept.capacity() < self.page.capacity() {
            *kept = std::mem::take(&mut self.page);
        }
    }
}

impl Served {
    fn allowed(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.allow.is_empty() || self.allow.iter().any(|net| net.contains(&peer))
    }

    fn answer(&self, peer: IpAddr, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        if !self.allowed(peer) {
            return plain(StatusCode::FORBIDDEN, "forbidden\n");
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET /metrics is served\n");
        }
        if request.uri().path() != "/metrics" {
            return plain(StatusCode::NOT_FOUND, "not found: metrics are at /metrics\n");
        }
        let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut page = self.pages.take();
        let content_type = if wants_protobuf(accept) {
            super::direct::render_protobuf(&self.registry, &self.state, &mut page);
            PROTOBUF_FORMAT
        } else {
            // An empty buffer is valid UTF-8: nothing to check.
            let mut text = String::from_utf8(page).unwrap_or_default();
            super::direct::render_text(&self.registry, &self.state, &mut text);
            page = text.into_bytes();
            prometheus::TEXT_FORMAT
        };
        let mut response = Response::new(Full::new(self.pages.body(page)));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

/// Whether an `Accept` header asks for the protobuf exposition (Prometheus does when
/// native histograms are on, or `scrape_protocols` lists `PrometheusProto` first).
pub(crate) fn wants_protobuf(accept: &str) -> bool {
    accept.contains("application/vnd.google.protobuf")
        && accept.contains("io.prometheus.client.MetricFamily")
}

/// Sizes of the last expositions, so the next one is written into a buffer of about its
/// size (no regrowth and copy of a page of several MiB).
static LAST_TEXT: AtomicUsize = AtomicUsize::new(0);
static LAST_PROTOBUF: AtomicUsize = AtomicUsize::new(0);

/// Capacity for an exposition whose last one was `last` bytes long.
fn capacity(last: &AtomicUsize) -> usize {
    let last = last.load(Relaxed);
    last + last / 8
}

/// The text exposition of `registry`, perfscope's series in `state`.
pub(crate) fn render_text(
    registry: &prometheus::Registry,
    state: &super::collector::State,
) -> String {
    let mut text = super::page::text(capacity(&LAST_TEXT));
    super::direct::render_text(registry, state, &mut text);
    LAST_TEXT.store(text.len(), Relaxed);
    text
}

/// The protobuf exposition of `registry` (length-delimited `MetricFamily` messages).
pub(crate) fn render_protobuf(
    registry: &prometheus::Registry,
    state: &super::collector::State,
) -> Vec<u8> {
    let mut bytes = super::page::buffer(capacity(&LAST_PROTOBUF));
    super::direct::render_protobuf(registry, state, &mut bytes);
    LAST_PROTOBUF.store(bytes.len(), Relaxed);
    bytes
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The running listener.
#[derive(Debug)]
pub(crate) struct Listener {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl Listener {
    /// Binds `address` (port 0: a free port, bound once) and serves `served` on a thread.
    pub fn start(
        address: SocketAddr,
        served: Arc<Served>,
    ) -> Result<(Listener, SocketAddr), ExportError> {
        let listen_error =
            |e: std::io::Error| ExportError::Listen { address, reason: e.to_string() };
        let std_listener = std::net::TcpListener::bind(address).map_err(listen_error)?;
        std_listener.set_nonblocking(true).map_err(listen_error)?;
        let bound = std_listener.local_addr().map_err(listen_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ExportError::Thread { what: "HTTP listener", source })?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(listen_error)?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("perfscope-export-http".into())
            .spawn(move || {
                runtime.block_on(serve(listener, served, stopped));
                runtime.shutdown_background();
            })
            .map_err(|source| ExportError::Thread { what: "HTTP listener", source })?;
        Ok((Listener { stop, thread }, bound))
    }

    /// Stops serving; the port is free when this returns.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    served: Arc<Served>,
    stopped: oneshot::Receiver<()>,
) {
    accept(&listener, served, stopped).await;
    // Closing the descriptor alone leaves the port listening while a process forked at that
    // moment (any `Command` in the host) still holds a copy; shutting the socket down frees
    // the port whoever holds the descriptor.
    let _ = socket2::SockRef::from(&listener).shutdown(std::net::Shutdown::Both);
}

async fn accept(
    listener: &tokio::net::TcpListener,
    served: Arc<Served>,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = &mut stopped => return,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // e.g. out of file descriptors: back off instead of spinning
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut stopped => return,
        };
        let served = served.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let served = served.clone();
                async move {
                    let debug = served.debug.as_ref().filter(|_| {
                        request.uri().path() == super::debug::DEBUG_PATH
                            && request.method() == Method::GET
                            && served.allowed(peer.ip())
                    });
                    let response = match debug {
                        Some(debug) => {
                            let (status, content_type, body) =
                                debug.answer(request.uri().query()).await;
                            let mut response = Response::new(Full::new(Bytes::from(body)));
                            *response.status_mut() = status;
                            let content_type = HeaderValue::from_static(content_type);
                            response.headers_mut().insert(CONTENT_TYPE, content_type);
                            response
                        }
                        None => served.answer(peer.ip(), &request),
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}
