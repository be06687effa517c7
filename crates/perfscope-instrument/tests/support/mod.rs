//! What the tests share: a real Redis server and a real PostgreSQL server, each on a free
//! loopback port, and figure look-ups.
#![allow(dead_code)]

pub mod http;
mod postgres;

#[allow(unused_imports)]
pub use postgres::PostgresServer;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perfscope_core::figures::Figure;

/// A `redis-server` of its own, on a free loopback port, killed when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (which must be on PATH) and waits until it answers PING.
    pub fn start() -> RedisServer {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match child {
                Ok(child) => child,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                    "redis-server is not on PATH: the cache tests run against a real Redis \
                     server. Install it (Debian/Ubuntu: apt-get install -y redis-server; \
                     scripts/test does it) and run the tests again."
                ),
                Err(error) => panic!("could not start redis-server: {error}"),
            };
            let mut server = RedisServer { child, port };
            match server.wait_for_ping(Duration::from_secs(20)) {
                Ok(()) => return server,
                Err(error) => last = error,
            }
        }
        panic!("redis-server did not answer PING: {last}");
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A connection of the test's own, to look at or change what the server holds.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect to the test's redis-server")
    }

    fn wait_for_ping(&mut self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("redis-server exited ({status}), port {} taken?", self.port));
            }
            let pong = client
                .get_connection_with_timeout(Duration::from_millis(500))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            match pong {
                Ok(pong) if pong == "PONG" => return Ok(()),
                Ok(other) => return Err(format!("PING answered {other:?}")),
                Err(error) if Instant::now() > deadline => return Err(error.to_string()),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// The value of the figure `name` with every label of `labels`, if the snapshot has it.
pub fn figure(figures: &[Figure], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matches = |f: &&Figure| {
        f.name == name
            && labels.iter().all(|(k, v)| f.labels.iter().any(|(fk, fv)| fk == k && fv == v))
    };
    let mut found = figures.iter().filter(matches);
    let first = found.next()?;
    assert!(found.next().is_none(), "{name} {labels:?} is ambiguous");
    Some(first.value)
}

/// The attribution every pool adapter promises, read from the report: `calls` acquires of the
/// pool `pool` are frames (`pool::<pool>::acquire`) under the measured function whose name
/// ends with `caller`; the pool's own count of waiting (`wait_ns`) is under the acquire frame
/// (its idle time: the future waits, not polled; no less than 90% of it, and no more than
/// 110%: the acquires that did not wait idle only a little, e.g. sqlx pinging a connection),
/// and not in the caller's self time, which is only its own polls; each call held a
/// connection `hold` long.
pub fn assert_wait_attributed(pool: &str, caller: &str, calls: u64, wait_ns: u64, hold: Duration) {
    let report = perfscope::report();
    let frame = format!("pool::{pool}::acquire");
    let acquire = report.function(&frame).unwrap_or_else(|| panic!("the {frame} frame"));
    let handle = report.function_by_suffix(caller).expect("the measured caller");
    assert_eq!((acquire.calls, handle.calls), (calls, calls));
    let edge = handle.children.iter().find(|e| e.name == acquire.name);
    assert_eq!(
        edge.map(|e| e.calls),
        Some(calls),
        "acquire under the caller: {:?}",
        handle.children
    );
    let waited = acquire.idle_ns.expect("an async frame has idle time");
    assert!(
        waited as f64 >= 0.9 * wait_ns as f64 && waited as f64 <= 1.1 * wait_ns as f64,
        "acquire idle {waited} ns, pool's wait {wait_ns} ns"
    );
    assert!(handle.self_ns < waited / 10, "caller self {} ns, waited {waited} ns", handle.self_ns);
    assert!(handle.total_ns >= acquire.total_ns + calls * hold.as_nanos() as u64);
    eprintln!(
        "caller: self {} ns, total {} ns; acquire: total {} ns, idle {waited} ns",
        handle.self_ns, handle.total_ns, acquire.total_ns
    );
}
