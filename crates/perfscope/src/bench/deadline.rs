//! [`Timer`]: runs a future until it completes or a deadline passes, whichever comes first,
//! on any executor: one thread of its own per benchmark run sleeps until the deadline of the
//! iteration under way and then wakes the future's task, which drops the future.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::Instant;

/// The timer thread of one run (stopped and joined on drop).
#[derive(Debug)]
pub(super) struct Timer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// The deadline of the iteration under way.
    deadline: Option<Instant>,
    /// Its task, to wake at the deadline.
    waker: Option<Waker>,
    /// The deadline passed.
    fired: bool,
    /// The run is over: the thread ends.
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Timer {
    pub(super) fn start() -> std::io::Result<Timer> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new().name("perfscope-bench-timer".into()).spawn({
            let shared = shared.clone();
            move || watch(&shared)
        })?;
        Ok(Timer { shared, thread: Some(thread) })
    }

    /// Runs `future` until it completes (`true`) or `deadline` passes first (`false`: the
    /// future is dropped at its next yield; one that never yields cannot be stopped).
    pub(super) async fn run(&self, deadline: Instant, future: impl Future<Output = ()>) -> bool {
        {
            let mut state = self.shared.lock();
            *state = State { deadline: Some(deadline), ..State::default() };
        }
        self.shared.changed.notify_one();
        let mut future = pin!(future);
        let finished = poll_fn(|cx| {
            if future.as_mut().poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            let mut state = self.shared.lock();
            if state.fired {
                return Poll::Ready(false);
            }
            match &mut state.waker {
                Some(waker) => waker.clone_from(cx.waker()),
                none => *none = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await;
        let mut state = self.shared.lock();
        (state.deadline, state.waker) = (None, None);
        finished
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The timer thread: waits for a deadline, then marks it passed and wakes the task.
fn watch(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if state.stop {
            return;
        }
        state = match state.deadline {
            None => shared.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    state.fired = true;
                    state.deadline = None;
                    let waker = state.waker.take();
                    drop(state);
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                    shared.lock()
                } else {
                    let wait = shared.changed.wait_timeout(state, deadline - now);
                    wait.unwrap_or_else(PoisonError::into_inner).0
                }
            }
        };
    }
}
