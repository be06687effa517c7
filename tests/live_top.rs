//! `perfscope top` against the main job's `/debug` endpoint: plain text with `--once` (the
//! hottest functions of the last interval, the system and alerts lines), and the terminal view
//! in a real terminal (tmux): rows appear, `s` changes the sort, `p` pauses, `q` quits. An
//! unreachable program is a clear error (exit 2).

// Shared with report_fit.rs, which uses the rest of it (the browser probe).
#[allow(dead_code)]
mod screens;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use screens::{Tmux, built};

fn scanner() -> std::path::PathBuf {
    built("examples/market_scanner", &["examples/market_scanner", "crates/perfscope-export/src"])
}

fn perfscope_command() -> std::path::PathBuf {
    built("perfscope", &["crates/perfscope-cli/src", "crates/perfscope-report/src"])
}

/// The main job serving its `/debug` endpoint for a minute; killed when dropped.
struct Running {
    child: Child,
    url: String,
}

impl Running {
    fn start() -> Running {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(scanner())
            .args(["--duration", "60s", "--debug-endpoint", "--metrics-addr", &address])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the scanner starts");
        // Its endpoint is up once /metrics answers.
        let url = format!("http://{address}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(&address).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Running { child, url }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn once_prints_the_last_interval_as_plain_text() {
    let running = Running::start();
    let out = Command::new(perfscope_command())
        .args(["top", &running.url, "--once", "--rows", "5"])
        .output()
        .expect("perfscope runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("perfscope top http://") && lines[0].contains("by self"),
        "{text}"
    );
    assert!(lines[1].starts_with("system: cpu "), "{text}");
    assert!(lines[2].starts_with("alerts: "), "{text}");
    assert!(lines[3].starts_with("function") && lines[3].contains("calls/s"), "{text}");
    let rows: Vec<&str> = lines[4..].iter().copied().filter(|l| !l.is_empty()).collect();
    assert!((1..=5).contains(&rows.len()), "{text}");
    assert!(rows.iter().any(|r| r.starts_with("market_scanner::")), "{text}");

    let unreachable = Command::new(perfscope_command())
        .args(["top", "http://127.0.0.1:1", "--once"])
        .output()
        .expect("perfscope runs");
    assert_eq!(unreachable.status.code(), Some(2));
    let said = String::from_utf8_lossy(&unreachable.stderr);
    assert!(said.contains("http://127.0.0.1:1") && said.lines().count() == 1, "{said}");
}

#[test]
fn the_terminal_view_refreshes_sorts_pauses_and_quits() {
    let running = Running::start();
    let tmux = Tmux::new("top");
    let command = format!("'{}' top {}", perfscope_command().display(), running.url);
    tmux.run("top", 120, &command);
    let long = Duration::from_secs(20);
    let screen =
        tmux.wait_for("top", long, |s| s.contains("market_scanner::") && s.contains("by self"));
    assert!(screen.contains("hot functions") && screen.contains("s: sort"), "{screen}");
    assert!(screen.lines().any(|l| l.starts_with("system: cpu ")), "{screen}");
    tmux.keys("top", "s");
    tmux.wait_for("top", long, |s| s.contains("by total"));
    tmux.keys("top", "p");
    tmux.wait_for("top", long, |s| s.contains("[PAUSED]"));
    tmux.keys("top", "q");
    let after = tmux.output("top", long);
    // The terminal is given back: the view's lines are gone from the screen.
    assert!(!after.contains("s: sort   p: pause"), "{after}");
}
