//! The background thread that syncs perfscope's figures into an exporter at a fixed interval.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::ExportError;

/// Default time between two syncs.
pub const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// A thread calling `tick` every interval until [`SyncThread::stop`].
#[derive(Debug)]
pub(crate) struct SyncThread {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl SyncThread {
    /// Starts the thread. A panic in `tick` is caught: the thread goes on at the next tick.
    pub fn spawn(
        name: &str,
        every: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> Result<SyncThread, ExportError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(every) {
                        Err(RecvTimeoutError::Timeout) => {
                            let _ = catch_unwind(AssertUnwindSafe(&mut tick));
                        }
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .map_err(|source| ExportError::Thread { what: "sync", source })?;
        Ok(SyncThread { stop, thread })
    }

    /// Stops the thread and waits for a sync in progress to finish.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
