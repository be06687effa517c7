//! The `/metrics` listener under a hostile loopback load: idle connections held open,
//! malformed requests of every kind (garbage, a 100 KB path, 5,000 headers, a huge
//! Content-Length never sent, random bytes), then scrapes. Every scrape must succeed, fast, and
//! the exporter's thread count and memory must not grow with the abuse.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::get;
use perfscope_export::prometheus;

#[perfscope::measure]
fn served_under_load() {}

/// Sends `bytes` on a fresh connection and reads whatever comes back within a short while.
fn send(address: SocketAddr, bytes: &[u8]) {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.write_all(bytes);
    let mut sink = [0u8; 4096];
    let _ = stream.read(&mut sink);
}

/// A small deterministic generator (no rand dependency): xorshift64.
fn random_bytes(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed as u8
        })
        .collect()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_clients_do_not_stop_scrapes() {
    let exporter = prometheus().with_address("127.0.0.1:0".parse().unwrap()).start().unwrap();
    let address = exporter.address().unwrap();
    served_under_load();
    assert_eq!(get(address, "/metrics").unwrap().status, 200);
    let rss_before = rss_kib();

    // 64 connections held open, idle, for the whole test.
    let idle: Vec<TcpStream> = (0..64).filter_map(|_| TcpStream::connect(address).ok()).collect();
    assert_eq!(idle.len(), 64);

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    let many_headers = format!(
        "GET /metrics HTTP/1.1\r\n{}\r\n",
        (0..5000).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
    );
    let huge_body = "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc";
    for i in 0..500 {
        match i % 5 {
            0 => send(address, b"\x00\xff\x13 garbage \r\n\r\n"),
            1 => send(address, long_path.as_bytes()),
            2 => send(address, many_headers.as_bytes()),
            3 => send(address, huge_body.as_bytes()),
            _ => send(address, &random_bytes(&mut seed, 2048)),
        }
    }

    // Then scrapes: all answered, and fast.
    let mut took = Vec::new();
    for _ in 0..200 {
        let start = Instant::now();
        let response = get(address, "/metrics").expect("a scrape under load is answered");
        took.push(start.elapsed());
        assert_eq!(response.status, 200);
        assert!(response.body.contains("::served_under_load\""));
    }
    took.sort();
    let p99 = took[took.len() * 99 / 100];
    assert!(p99 < Duration::from_millis(500), "p99 scrape {p99:?} under load");
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB");
    drop(idle);
    exporter.shutdown();
}
