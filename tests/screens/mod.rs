//! Where the report is read, for real: a terminal of a given width (tmux) and a browser
//! window of a given width (headless Chromium), and the built binaries they run.
//!
//! Both tools are Debian packages `scripts/test` installs (its `needs` map); a test that
//! finds one missing fails and says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `target/<profile>/<relative>`, built by `cargo test` (without target filters, as
/// `scripts/test` runs it) beside the tests; it must be newer than every file under
/// `sources` (directories of this workspace), so a stale build is never the one tested.
pub fn built(relative: &str, sources: &[&str]) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let binary = profile_dir.join(relative);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let written = sources.iter().filter_map(|dir| newest(&root.join(dir))).max();
    let built = modified(&binary);
    assert!(
        built.is_some_and(|b| written.is_none_or(|w| b >= w)),
        "{} is missing or older than its sources: run `cargo build --workspace --examples` \
         (or the whole suite, `scripts/test`)",
        binary.display()
    );
    binary
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> Option<std::time::SystemTime> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            if path.is_dir() {
                newest(&path)
            } else {
                std::fs::metadata(&path).ok()?.modified().ok()
            }
        })
        .max()
}

/// Fails the test, saying how to get `tool`, when it is not on `PATH`.
fn require(tool: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "`{tool}` is not installed: this test needs it (Debian package `{package}`; \
         `scripts/test` installs it)"
    );
}

/// A tmux server of its own (its own socket), killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A new server; fails the test when tmux is missing.
    pub fn new(name: &str) -> Tmux {
        require("tmux", "tmux");
        Tmux { socket: format!("perfscope-{name}-{}", std::process::id()) }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs")
    }

    /// Runs `command` (a shell command line) in a new window `columns` wide; the window stays
    /// after it ends, so its output can be read.
    pub fn run(&self, session: &str, columns: u16, command: &str) {
        let size = columns.to_string();
        let line = format!("{command}; echo __exited__; sleep 600");
        let out = self.tmux(&["new-session", "-d", "-s", session, "-x", &size, "-y", "50", &line]);
        assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Everything the window shows and scrolled past, lines that wrapped joined back (so a
    /// line longer than the window is one long line here), once its command has ended.
    pub fn output(&self, session: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", session]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if text.contains("__exited__") {
                return text.replace("__exited__", "");
            }
            assert!(Instant::now() < deadline, "`{session}` did not end in time:\n{text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Tmux {
    /// What the window shows now.
    pub fn screen(&self, session: &str) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` into the window (tmux key names: `q`, `Escape`, `C-c`).
    pub fn keys(&self, session: &str, keys: &str) {
        let out = self.tmux(&["send-keys", "-t", session, keys]);
        assert!(out.status.success(), "tmux: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Waits until the window shows something `seen` accepts; fails with the screen after
    /// `timeout`.
    pub fn wait_for(
        &self,
        session: &str,
        timeout: Duration,
        seen: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen(session);
            if seen(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "not seen in time:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// What a page left in its `<body data-probe="...">` after loading in headless Chromium with
/// a window `width` pixels wide: `probe` is a script that sets that attribute (it runs on the
/// `load` event, after the page's own scripts).
pub fn chromium_probe(page: &str, width: u32, probe: &str) -> String {
    require("chromium", "chromium");
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("page.html");
    let script = format!(
        "<script>window.addEventListener(\"load\", () => {{ \
         document.body.setAttribute(\"data-probe\", JSON.stringify(({probe})())); }});</script>"
    );
    std::fs::write(&path, page.replace("</body>", &format!("{script}</body>"))).expect("writes");
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--window-size={width},900"))
        .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", path.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("data-probe=\"").unwrap_or_else(|| {
        panic!("no probe in the page Chromium loaded: {}", String::from_utf8_lossy(&out.stderr))
    }) + "data-probe=\"".len();
    let end = dom[start..].find('"').expect("a closing quote") + start;
    dom[start..end].replace("&quot;", "\"").replace("&amp;", "&")
}
