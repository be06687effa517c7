//! Index hints on a real PostgreSQL (a server of the test's own, started from the Debian
//! `postgresql` package's binaries on a free loopback port): a filtered statement without an
//! index gets a hint from its generic plan, and none once the index exists.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perfscope_instrument::queries::QueryCollector;
use sqlx::postgres::{PgPool, PgPoolOptions};
use tracing_subscriber::prelude::*;

/// A PostgreSQL server of the test's own, in a temporary data directory, stopped and removed
/// when dropped. As root, it runs as the `postgres` user (PostgreSQL refuses root).
struct PostgresServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Where `initdb` and `postgres` are: on PATH, or Debian's `/usr/lib/postgresql/<version>/bin`.
fn bindir() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").exists() && d.join("postgres").exists())
    });
    if let Some(dir) = on_path {
        return dir;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|d| d.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's initdb and postgres were not found (PATH, /usr/lib/postgresql/*/bin): \
             the PostgreSQL index-hint test runs a real server. Install it (Debian/Ubuntu: \
             apt-get install -y postgresql; scripts/test does it) and run the tests again."
        )
    })
}

/// `(uid, gid)` of the `postgres` user when running as root.
fn run_as() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    let me = Command::new("id").arg("-u").output().ok()?;
    (String::from_utf8_lossy(&me.stdout).trim() == "0").then_some((id("-u")?, id("-g")?))
}

fn command(bin: &Path, user: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(bin);
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    command.stdout(Stdio::null()).stderr(Stdio::null());
    command
}

impl PostgresServer {
    fn start() -> PostgresServer {
        let bin = bindir();
        let user = run_as();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("perfscope-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the data directory");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("give it to postgres");
        }
        let data = dir.join("data");
        let status = command(&bin.join("initdb"), user)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .status()
            .expect("run initdb");
        assert!(status.success(), "initdb failed ({status})");
        let child = command(&bin.join("postgres"), user)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .arg("-k")
            .arg(&dir)
            .spawn()
            .expect("start postgres");
        PostgresServer { child, port, dir }
    }

    async fn pool(&mut self) -> PgPool {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("postgres exited ({status})");
            }
            match PgPoolOptions::new().max_connections(1).connect(&url).await {
                Ok(pool) => return pool,
                Err(e) if Instant::now() > deadline => panic!("postgres did not answer: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // SIGINT: a fast shutdown (the server removes its shared memory and socket).
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_unindexed_filter_gets_a_hint_from_the_generic_plan_until_the_index_exists() {
    let mut server = PostgresServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let pool = server.pool().await;
        for sql in [
            "CREATE TABLE pg_orders (id serial PRIMARY KEY, customer_id int, total float8)",
            "INSERT INTO pg_orders (customer_id, total) \
             SELECT i % 1000, i * 1.5 FROM generate_series(1, 50000) AS i",
            "ANALYZE pg_orders",
        ] {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        // sqlx-postgres emits its statement events on the awaiting thread: a thread's default
        // subscriber sees them (a current-thread runtime).
        let queries = QueryCollector::new();
        let _subscriber =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(queries.layer()));
        let statement = "SELECT id, total FROM pg_orders WHERE customer_id = $1";
        for customer in 0..20 {
            sqlx::query(statement).bind(customer).fetch_all(&pool).await.unwrap();
        }
        sqlx::query("INSERT INTO pg_orders (customer_id, total) VALUES ($1, $2)")
            .bind(7)
            .bind(1.5)
            .execute(&pool)
            .await
            .unwrap();
        let select = queries.fingerprints().into_iter().find(|s| s.example == statement);
        assert_eq!(select.map(|s| (s.calls, s.rows_returned)), Some((20, 20 * 50)));

        let advice = queries.index_hints_postgres(&pool).await;
        assert_eq!(advice.hints.len(), 1, "{advice:#?}");
        assert_eq!(advice.hints[0].suggestion, "CREATE INDEX ON pg_orders(customer_id)");
        assert!(advice.hints[0].evidence.contains("Seq Scan"), "{advice:#?}");
        assert!(advice.skipped.iter().any(|s| s.reason.contains("INSERT")), "{advice:#?}");

        sqlx::raw_sql("CREATE INDEX ON pg_orders (customer_id); ANALYZE pg_orders")
            .execute(&pool)
            .await
            .unwrap();
        let advice = queries.index_hints_postgres(&pool).await;
        assert!(advice.hints.is_empty(), "{advice:#?}");
        assert_eq!(advice.explained, 1, "{advice:#?}");
        // The collector's own statements (PREPARE, EXPLAIN, SET) are not counted.
        assert!(queries.fingerprints().iter().all(|s| !s.normalized.contains("perfscope_explain")));
        pool.close().await;
    });
}
