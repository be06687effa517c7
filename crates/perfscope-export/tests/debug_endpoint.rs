//! The opt-in `/debug/perfscope/report` endpoint on a real listener: the report of the next N
//! seconds only (what ran before is absent), in each format; hostile query strings get clear
//! `400`s; a second window meanwhile gets `429`; `/metrics` answers while a window is open;
//! without `with_debug_endpoint` the path is not served.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use perfscope_export::{DEBUG_PATH, prometheus};

/// One exporter at a time: each test reads the process-wide figures.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `GET path` over a fresh connection: the status code and the body.
fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream =
        TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("the listener");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("a read timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("the request is sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

#[perfscope::measure]
fn before_the_window() -> u64 {
    std::hint::black_box(7)
}

#[perfscope::measure]
fn during_the_window() -> u64 {
    std::hint::black_box(11)
}

#[test]
fn the_report_covers_the_window_only_in_every_format() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let exporter = prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .with_debug_endpoint()
        .start()
        .expect("an exporter on a free port");
    let address = exporter.address().expect("listening");
    for _ in 0..1000 {
        before_the_window();
    }
    // Calls of `during_the_window` all through the window (and a little after it).
    let stop = Arc::new(AtomicBool::new(false));
    let calls = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                during_the_window();
                n += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            n
        })
    };
    let started = Instant::now();
    let (status, json) = get(address, &format!("{DEBUG_PATH}?seconds=1&format=json"));
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let made = calls.join().unwrap();
    assert_eq!(status, 200, "{json}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(10), "{took:?}");
    let report = perfscope::Report::from_json(&json).expect("a report");
    let during = report.function_by_suffix("::during_the_window").expect("called in the window");
    assert!(during.calls > 0 && during.calls <= made, "{} of {made}", during.calls);
    // What ran before the window is not in it.
    assert!(
        report.function_by_suffix("::before_the_window").is_none_or(|f| f.calls == 0),
        "{:?}",
        report.function_by_suffix("::before_the_window")
    );
    assert!(report.elapsed_ns >= 1_000_000_000 && report.elapsed_ns < 10_000_000_000);
    // The process-wide report still has everything.
    assert_eq!(perfscope::report().function_by_suffix("::before_the_window").unwrap().calls, 1000);

    during_the_window();
    let (status, html) = get(address, &format!("{DEBUG_PATH}?format=html&seconds=1"));
    assert!(status == 200 && html.starts_with("<!DOCTYPE html>"), "{status}");
    let (status, table) = get(address, &format!("{DEBUG_PATH}?seconds=1&format=table"));
    assert!(status == 200 && table.starts_with("perfscope hotspots"), "{status}: {table}");
    let worker = std::thread::spawn(|| {
        for _ in 0..50 {
            during_the_window();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let (status, folded) = get(address, &format!("{DEBUG_PATH}?seconds=1&format=folded"));
    worker.join().unwrap();
    assert_eq!(status, 200, "{folded}");
    assert!(folded.lines().any(|l| l.contains("during_the_window ")), "{folded}");
    exporter.shutdown();
}

#[test]
fn bad_requests_are_refused_clearly_and_one_window_at_a_time() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let exporter = prometheus()
        .with_address("127.0.0.1:0".parse().unwrap())
        .with_debug_endpoint()
        .start()
        .expect("an exporter on a free port");
    let address = exporter.address().expect("listening");
    let long = "9".repeat(5000);
    for query in [
        "seconds=0",
        "seconds=100000",
        "seconds=abc",
        "format=xml",
        "seconds=1&seconds=1",
        "color=red",
        &format!("seconds={long}"),
        "%00%ff=%zz",
    ] {
        let (status, body) = get(address, &format!("{DEBUG_PATH}?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert!(!body.is_empty() && body.len() < 200, "{query}: {body}");
    }
    // A window is open: a second one is refused at once, /metrics answers quickly.
    let first = std::thread::spawn(move || get(address, &format!("{DEBUG_PATH}?seconds=3")));
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let (status, body) = get(address, &format!("{DEBUG_PATH}?seconds=1"));
    assert_eq!(status, 429, "{body}");
    let (status, metrics) = get(address, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("# TYPE "), "{metrics}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(first.join().unwrap().0, 200);
    exporter.shutdown();

    // Without with_debug_endpoint, the path is not served.
    let plain = prometheus().with_address("127.0.0.1:0".parse().unwrap()).start().unwrap();
    let (status, _) = get(plain.address().expect("listening"), &format!("{DEBUG_PATH}?seconds=1"));
    assert_eq!(status, 404);
    plain.shutdown();
}
