//! A real PostgreSQL server of a test's own, started from the Debian `postgresql` package's
//! binaries on a free loopback port.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A PostgreSQL server of the test's own, in a temporary data directory, stopped and removed
/// when dropped. As root, it runs as the `postgres` user (PostgreSQL refuses root).
pub struct PostgresServer {
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
             the PostgreSQL tests run a real server. Install it (Debian/Ubuntu: \
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

/// `postgres` on `port`, its data in `dir/data` and its socket in `dir`.
fn postgres(port: u16, dir: &Path) -> Child {
    command(&bindir().join("postgres"), run_as())
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .arg("-k")
        .arg(dir)
        .spawn()
        .expect("start postgres")
}

impl PostgresServer {
    /// Starts one (`initdb` in a temporary directory, then `postgres` on a free loopback
    /// port); [`ready`](Self::ready) waits until it takes connections.
    pub fn start() -> PostgresServer {
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
        let child = postgres(port, &dir);
        PostgresServer { child, port, dir }
    }

    /// Stops the server at once, as a crash would: SIGQUIT, PostgreSQL's immediate shutdown
    /// (every backend killed, every connection dropped, no checkpoint). Returns when it exited.
    pub fn crash(&mut self) {
        let _ = Command::new("kill").args(["-QUIT", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }

    /// Starts the server again on its port and data directory (after [`crash`](Self::crash):
    /// it recovers from its log); [`ready`](Self::ready) waits until it takes connections.
    pub fn restart(&mut self) {
        self.child = postgres(self.port, &self.dir);
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Waits (up to 30 s) until the server takes connections.
    pub async fn ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("postgres exited ({status})");
            }
            match PgConnection::connect(&self.url()).await {
                Ok(connection) => {
                    let _ = connection.close().await;
                    return;
                }
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
