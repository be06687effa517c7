//! The figure source of the `http` section: one for the whole process, registered the first
//! time a route or a client target gets a series, reading every series' atomics at snapshot
//! time. Labels follow OpenTelemetry's attribute names (`http_route`, `http_request_method`,
//! `http_response_status_class`, `server_address`, `url_template`, `error_type`).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};

use perfscope_core::figures::{self, Figure, FigureSource, Registration};
use perfscope_core::names::{self, Name};

use super::labels::{CLASSES, METHODS};

/// Registers the source once (it lives as long as the process, as the series do).
pub(crate) fn register() {
    static REGISTRATION: OnceLock<Registration> = OnceLock::new();
    REGISTRATION.get_or_init(|| figures::register(Arc::new(HttpSource)));
}

#[derive(Debug)]
struct HttpSource;

impl FigureSource for HttpSource {
    fn read(&self, out: &mut Vec<Figure>) {
        #[cfg(feature = "http-server")]
        server(out);
        #[cfg(feature = "http-client")]
        client(out);
    }
}

/// The status classes counted in `by_class`, each with its count (classes never seen are
/// left out, as a Prometheus client leaves out label values it never saw).
fn classes(by_class: &[std::sync::atomic::AtomicU64; 6]) -> impl Iterator<Item = (&str, u64)> {
    CLASSES.iter().zip(by_class).map(|(c, n)| (*c, n.load(Relaxed))).filter(|(_, n)| *n > 0)
}

#[cfg(feature = "http-server")]
fn server(out: &mut Vec<Figure>) {
    super::server::ROUTES.for_each(|route| {
        for (method, series) in METHODS.iter().zip(&route.methods) {
            let Some(s) = series.get() else { continue };
            let of = |name: &Name, value: u64| {
                Figure::of(name, value as f64)
                    .with_label("http_route", &*route.route)
                    .with_label("http_request_method", *method)
            };
            let mut server_errors = 0;
            for (class, n) in classes(&s.by_class) {
                server_errors += if class == "5xx" { n } else { 0 };
                out.push(
                    of(&names::HTTP_SERVER_REQUESTS_TOTAL, n)
                        .with_label("http_response_status_class", class),
                );
            }
            out.push(of(&names::HTTP_SERVER_ACTIVE_REQUESTS, s.active.load(Relaxed)));
            let request_bytes = s.request_bytes.load(Relaxed);
            out.push(of(&names::HTTP_SERVER_REQUEST_BODY_SIZE_BYTES_TOTAL, request_bytes));
            let response_bytes = s.response_bytes.load(Relaxed);
            out.push(of(&names::HTTP_SERVER_RESPONSE_BODY_SIZE_BYTES_TOTAL, response_bytes));
            for (kind, n) in [
                ("5xx", server_errors),
                ("panic", s.panics.load(Relaxed)),
                ("request_body", s.request_body_errors.load(Relaxed)),
                ("response_body", s.response_body_errors.load(Relaxed)),
                ("service", s.service_errors.load(Relaxed)),
            ] {
                out.push(of(&names::HTTP_SERVER_ERRORS_TOTAL, n).with_label("error_type", kind));
            }
            out.push(of(&names::HTTP_SERVER_DROPPED_REQUESTS_TOTAL, s.dropped.load(Relaxed)));
        }
    });
}

#[cfg(feature = "http-client")]
fn client(out: &mut Vec<Figure>) {
    use std::collections::BTreeMap;

    use super::client::ERROR_KINDS;

    // Connections are the host's, summed over its templates and methods.
    let mut connections: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    super::client::TARGETS.for_each(|target| {
        for (method, series) in METHODS.iter().zip(&target.methods) {
            let Some(s) = series.get() else { continue };
            let of = |name: &Name, value: u64| {
                Figure::of(name, value as f64)
                    .with_label("server_address", &*target.host)
                    .with_label("url_template", &*target.template)
                    .with_label("http_request_method", *method)
            };
            let mut status_errors = [0; 2];
            for (class, n) in classes(&s.by_class) {
                match class {
                    "4xx" => status_errors[0] = n,
                    "5xx" => status_errors[1] = n,
                    _ => {}
                }
                out.push(
                    of(&names::HTTP_CLIENT_REQUESTS_TOTAL, n)
                        .with_label("http_response_status_class", class),
                );
            }
            out.push(of(&names::HTTP_CLIENT_ACTIVE_REQUESTS, s.active.load(Relaxed)));
            let request_bytes = s.request_bytes.load(Relaxed);
            out.push(of(&names::HTTP_CLIENT_REQUEST_BODY_SIZE_BYTES_TOTAL, request_bytes));
            let response_bytes = s.response_bytes.load(Relaxed);
            out.push(of(&names::HTTP_CLIENT_RESPONSE_BODY_SIZE_BYTES_TOTAL, response_bytes));
            let kinds = ERROR_KINDS.iter().zip(&s.errors).map(|(k, n)| (*k, n.load(Relaxed)));
            let statuses = [("4xx", status_errors[0]), ("5xx", status_errors[1])];
            for (kind, n) in kinds.chain(statuses) {
                out.push(of(&names::HTTP_CLIENT_ERRORS_TOTAL, n).with_label("error_type", kind));
            }
            let host = connections.entry(&target.host).or_default();
            host.0 += s.opened.load(Relaxed);
            host.1 += s.reused.load(Relaxed);
        }
    });
    for (host, (opened, reused)) in connections {
        let of = |name: &Name, value: u64| {
            Figure::of(name, value as f64).with_label("server_address", host)
        };
        out.push(of(&names::HTTP_CLIENT_CONNECTIONS_OPENED_TOTAL, opened));
        out.push(of(&names::HTTP_CLIENT_CONNECTIONS_REUSED_TOTAL, reused));
    }
}
