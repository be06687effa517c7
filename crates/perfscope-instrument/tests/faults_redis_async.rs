//! Redis going away under the async multi-level cache, as `faults_redis.rs` checks the sync
//! one, with callers as tasks on a four-worker runtime: the server is killed (SIGKILL)
//! mid-run, then started again on the same port; another one is frozen (SIGSTOP). Values held
//! by L1 keep being served, `get_with` answers from its loader, every failed L2 request is
//! counted once (in the cache's stats and in the snapshot's figures), no caller waits longer
//! than the timeouts allow, nothing panics, and the cache uses the server again once it is
//! back.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use perfscope_instrument::cache::{AsyncL2, AsyncMultiLevelCache, AsyncRedisL2, ERRORS_TOTAL};
use support::{RedisServer, figure};
use tokio::sync::Barrier;

type Cached = AsyncMultiLevelCache<String, String, AsyncRedisL2>;

const WORKERS: usize = 4;
/// Keys every worker reads again and again: loaded before the fault, then held by L1.
const HOT_KEYS: u64 = 50;
/// No test may take longer than this (a hang fails, it does not block the run).
const TEST_BOUND: Duration = Duration::from_secs(60);

async fn cache(url: &str, name: &str) -> Arc<Cached> {
    let l2 = AsyncRedisL2::open(url).await.expect("the test's redis-server");
    let l2 = l2.with_prefix(format!("{name}:"));
    Arc::new(AsyncMultiLevelCache::new(name, Cache::builder().max_capacity(10_000), l2))
}

/// The port of a `redis://127.0.0.1:PORT/` URL.
fn port_of(url: &str) -> u16 {
    let port = url.trim_end_matches('/').rsplit(':').next().and_then(|p| p.parse().ok());
    port.expect("a port in the URL")
}

/// A `redis-server` started on a given port (the port of a killed one), killed when dropped.
struct Restarted(Child);

impl Restarted {
    fn on(port: u16) -> Restarted {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts again");
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("a Redis URL");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pong = client
                .get_connection_with_timeout(Duration::from_millis(500))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            match pong {
                Ok(_) => return Restarted(child),
                Err(e) if Instant::now() > deadline => panic!("the restarted server: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the workers saw.
#[derive(Default)]
struct Seen {
    hot_reads: AtomicU64,
    /// `get_with` of a fresh key that returned the loaded value.
    loaded: AtomicU64,
    /// `get_with` calls answered with an error (none: the loader answers when L2 fails).
    errors: AtomicU64,
    /// `get_with` calls whose loader ran.
    loader_calls: AtomicU64,
    /// The slowest `get_with`.
    slowest_ns: AtomicU64,
}

/// Reads hot keys (which must always come back from L1) and loads fresh keys, until `stop`.
async fn worker(cache: Arc<Cached>, id: usize, stop: Arc<AtomicBool>, seen: Arc<Seen>) {
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let hot = format!("hot{}", i % HOT_KEYS);
        let value = cache.get(&hot).await.expect("a hot key is served by L1 whatever L2 does");
        assert_eq!(value.as_deref(), Some(format!("value of {hot}").as_str()));
        seen.hot_reads.fetch_add(1, Ordering::Relaxed);

        let fresh = format!("w{id}-{i}");
        let began = Instant::now();
        let load = async {
            seen.loader_calls.fetch_add(1, Ordering::Relaxed);
            Ok::<_, std::io::Error>(format!("value of {fresh}"))
        };
        match cache.get_with(&fresh, load).await {
            Ok(value) => {
                assert_eq!(value, format!("value of {fresh}"));
                seen.loaded.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                eprintln!("get_with {fresh}: {error}");
                seen.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        seen.slowest_ns.fetch_max(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
        i += 1;
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_mid_run_then_restarted_leaves_the_cache_serving_and_counting() {
    tokio::time::timeout(TEST_BOUND, killed_mid_run()).await.expect("no hang");
}

async fn killed_mid_run() {
    let server = RedisServer::start();
    let url = server.url();
    let cache = cache(&url, "async_faults_redis").await;
    for k in 0..HOT_KEYS {
        let key = format!("hot{k}");
        let load = async { Ok::<_, std::io::Error>(format!("value of {key}")) };
        assert_eq!(cache.get_with(&key, load).await.expect("loaded"), format!("value of {key}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let workers: Vec<_> = (0..WORKERS)
        .map(|id| tokio::spawn(worker(cache.clone(), id, stop.clone(), seen.clone())))
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let errors_before_kill = cache.stats().l2.errors;
    drop(server); // SIGKILL, mid-run
    tokio::time::sleep(Duration::from_millis(500)).await;
    let while_down = cache.stats();
    let restarted = tokio::task::spawn_blocking(move || Restarted::on(port_of(&url)));
    let restarted = restarted.await.expect("restarted");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("no worker panicked");
    }

    let stats = cache.stats();
    let loaded = seen.loaded.load(Ordering::Relaxed);
    let slowest = Duration::from_nanos(seen.slowest_ns.load(Ordering::Relaxed));
    println!(
        "hot reads {}, fresh keys loaded {loaded}, errors returned {}, loader calls {}, slowest \
         get_with {slowest:?}; stats {stats:?}",
        seen.hot_reads.load(Ordering::Relaxed),
        seen.errors.load(Ordering::Relaxed),
        seen.loader_calls.load(Ordering::Relaxed),
    );
    assert_eq!(errors_before_kill, 0, "no error while the server was up");
    assert!(while_down.l2.errors > 0, "requests failed while the server was down");
    assert_eq!(seen.errors.load(Ordering::Relaxed), 0, "get_with never fails because of L2");
    // Each of a get_with's two L2 requests waits at most connect + response timeout.
    let bound = (AsyncRedisL2::DEFAULT_CONNECT_TIMEOUT + AsyncRedisL2::DEFAULT_RESPONSE_TIMEOUT)
        * 2
        + Duration::from_secs(1);
    assert!(slowest <= bound, "a get_with took {slowest:?}, over {bound:?}");
    // Every failed L2 request is counted once: the lookups that failed (every L1 miss is one
    // L2 lookup, a hit, a miss or an error) and the writes that failed after a load.
    let failed_lookups = stats.l1.misses - stats.l2.hits - stats.l2.misses;
    let failed_writes = stats.loads - stats.l2.writes;
    assert!(failed_lookups > 0, "{stats:?}");
    assert_eq!(stats.l2.errors, failed_lookups + failed_writes, "{stats:?}");
    assert_eq!(stats.loads, seen.loader_calls.load(Ordering::Relaxed) + HOT_KEYS);
    assert_eq!(loaded + HOT_KEYS, stats.loads, "every load's value reached its caller");
    // The L1 held every hot key throughout: every hot read was an L1 hit.
    assert!(stats.l1.hits >= seen.hot_reads.load(Ordering::Relaxed));
    // The snapshot's figures say the same as the cache.
    let figures = perfscope_core::snapshot().figures;
    let labels = [("cache", "async_faults_redis"), ("level", "l2")];
    assert_eq!(figure(&figures, ERRORS_TOTAL, &labels), Some(stats.l2.errors as f64));

    // Back: a fresh key goes through to the restarted server and is read back from it (the
    // connection manager reconnects in the background: give it a moment).
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.l2().get("probe").await.is_err() {
        assert!(Instant::now() < deadline, "L2 used again within 10 s of the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let keep = async { Ok::<_, std::io::Error>("kept by the new server".to_owned()) };
    let after = cache.get_with(&"after-restart".to_owned(), keep).await;
    assert_eq!(after.expect("loaded"), "kept by the new server");
    let stored = cache.l2().get("after-restart").await.expect("L2 back");
    assert_eq!(stored.as_deref(), Some(&b"kept by the new server"[..]));
    cache.l1().invalidate(&"after-restart".to_owned()).await;
    let hits = cache.stats().l2.hits;
    let got = cache.get(&"after-restart".to_owned()).await.expect("L2 back");
    assert_eq!(got.as_deref(), Some("kept by the new server"));
    assert_eq!(cache.stats().l2.hits, hits + 1);
    drop(restarted);
}

/// While Redis is down, `get_with` still has its loader, and both its L2 requests fail fast
/// and are counted.
#[tokio::test]
async fn while_redis_is_down_get_with_loads_and_counts_the_l2_errors() {
    let server = RedisServer::start();
    let cache = cache(&server.url(), "async_faults_redis_loader").await;
    drop(server);
    let loads = AtomicU64::new(0);
    let started = Instant::now();
    for i in 0..10 {
        let key = format!("k{i}");
        let load = async {
            loads.fetch_add(1, Ordering::Relaxed);
            Ok::<_, std::io::Error>(format!("loaded {key}"))
        };
        let value = tokio::time::timeout(TEST_BOUND, cache.get_with(&key, load)).await;
        let value = value.expect("no hang");
        assert_eq!(value.expect("the loader answers while L2 is down"), format!("loaded {key}"));
    }
    let took = started.elapsed();
    let stats = cache.stats();
    assert_eq!((loads.load(Ordering::Relaxed), stats.loads), (10, 10));
    // Each request failed at L2 twice: the lookup, then the write of the loaded value.
    assert_eq!(stats.l2.errors, 20, "{stats:?}");
    // A refused port fails at once: 20 requests, nowhere near 20 timeouts.
    assert!(took < Duration::from_secs(5), "10 get_with took {took:?}");
}

/// The pid of the Redis server at `url`, from `INFO server`.
fn pid_of(url: &str) -> u32 {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut connection = client.get_connection().expect("a connection to the test's server");
    let info: String =
        redis::cmd("INFO").arg("server").query(&mut connection).expect("INFO server");
    let pid = info.lines().find_map(|l| l.strip_prefix("process_id:"));
    pid.and_then(|p| p.trim().parse().ok()).expect("process_id in INFO server")
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// The timeouts of the frozen-server test (connect and response).
const FROZEN_TIMEOUT: Duration = Duration::from_millis(300);
/// Callers queued on the frozen server at once.
const FROZEN_CALLERS: usize = 8;

/// Sends SIGCONT to a frozen server when dropped, so a failed assertion leaves no process
/// stopped.
struct Frozen(u32);

impl Drop for Frozen {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

/// What one caller saw while the server was frozen.
struct Answer {
    get: Duration,
    get_failed: bool,
    get_with: Duration,
    loaded: Option<String>,
    hit: Duration,
    held: Option<String>,
}

/// A server that stops answering (frozen, not gone) blocks no caller for longer than the
/// timeouts allow, however many callers wait on it: every L2 request fails within
/// 2 × the timeout + 1 s (a `get_with`, two requests, within twice that), each failure counted
/// once, keys L1 holds still served; once the server runs again, the cache uses it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_redis_blocks_no_caller_for_ever() {
    tokio::time::timeout(TEST_BOUND, frozen()).await.expect("no hang");
}

async fn frozen() {
    let server = RedisServer::start();
    let l2 = AsyncRedisL2::open_with_timeouts(&server.url(), FROZEN_TIMEOUT, FROZEN_TIMEOUT)
        .await
        .expect("the test's redis-server")
        .with_prefix("async_faults_redis_frozen:");
    let cache = Arc::new(AsyncMultiLevelCache::new(
        "async_faults_redis_frozen",
        Cache::builder().max_capacity(1_000),
        l2,
    ));
    cache.set("held".to_owned(), "in both levels".to_owned()).await.expect("the server is up");
    let pid = pid_of(&server.url());
    signal(pid, "-STOP");
    let frozen = Frozen(pid);

    let start = Arc::new(Barrier::new(FROZEN_CALLERS));
    let callers: Vec<_> = (0..FROZEN_CALLERS)
        .map(|i| {
            let (cache, start) = (cache.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let began = Instant::now();
                let get_failed = cache.get(&format!("k{i}")).await.is_err();
                let get = began.elapsed();
                let began = Instant::now();
                let key = format!("loaded{i}");
                let load = async { Ok::<_, std::io::Error>(format!("of {key}")) };
                let loaded = cache.get_with(&key, load).await;
                let get_with = began.elapsed();
                let began = Instant::now();
                let held = cache.get(&"held".to_owned()).await.ok().flatten();
                let hit = began.elapsed();
                Answer { get, get_failed, get_with, loaded: loaded.ok(), hit, held }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for caller in callers {
        let answer = tokio::time::timeout(Duration::from_secs(20), caller).await;
        answers.push(answer.expect("every caller answered within 20 s").expect("no panic"));
    }
    drop(frozen); // SIGCONT
    let bound = FROZEN_TIMEOUT * 2 + Duration::from_secs(1);
    let slowest = |pick: fn(&Answer) -> Duration| answers.iter().map(pick).max();
    println!(
        "slowest get {:?}, get_with {:?}, L1 hit {:?} (bound {bound:?}); stats {:?}",
        slowest(|a| a.get),
        slowest(|a| a.get_with),
        slowest(|a| a.hit),
        cache.stats(),
    );
    for (i, a) in answers.iter().enumerate() {
        assert!(a.get_failed, "caller {i}: a frozen server is an error");
        assert!(a.get <= bound, "caller {i}: get took {:?}, over {bound:?}", a.get);
        assert!(a.loaded.as_deref().is_some_and(|v| v.starts_with("of loaded")), "caller {i}");
        assert!(a.get_with <= bound * 2, "caller {i}: get_with took {:?}", a.get_with);
        assert_eq!(a.held.as_deref(), Some("in both levels"), "caller {i}: L1 serves");
        assert!(a.hit < FROZEN_TIMEOUT, "caller {i}: an L1 hit took {:?}", a.hit);
    }
    // Each failed L2 request counted once: every get's lookup, every get_with's lookup and
    // write.
    let stats = cache.stats();
    assert_eq!(stats.l2.errors, 3 * FROZEN_CALLERS as u64, "{stats:?}");
    assert_eq!(stats.loads, FROZEN_CALLERS as u64, "{stats:?}");

    // Running again: within a few seconds the cache writes to and reads from the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.l2().get("probe").await.is_err() {
        assert!(Instant::now() < deadline, "L2 used again within 10 s of SIGCONT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let keep = async { Ok::<_, std::io::Error>("kept by the thawed server".to_owned()) };
    let after = cache.get_with(&"after-thaw".to_owned(), keep).await;
    assert_eq!(after.expect("loaded"), "kept by the thawed server");
    let stored: Option<String> = redis::cmd("GET")
        .arg("async_faults_redis_frozen:after-thaw")
        .query(&mut server.connection())
        .expect("GET on the test's server");
    assert_eq!(stored.as_deref(), Some("kept by the thawed server"));
}

/// A server that accepts connections but never answers: opening fails within the connect
/// timeout given, not at the kernel's TCP timeout.
#[tokio::test]
async fn opening_a_server_that_never_answers_gives_up_after_its_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("redis://{}/", silent.local_addr().expect("bound"));
    let custom = Duration::from_millis(200);
    let started = Instant::now();
    let error = AsyncRedisL2::open_with_timeouts(&url, custom, custom).await.expect_err("silent");
    let took = started.elapsed();
    assert!(took >= custom / 2 && took < custom * 3 + Duration::from_secs(1), "{took:?}");
    assert!(error.is_timeout() || error.is_io_error(), "{error:?}");
}
