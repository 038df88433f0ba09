//! The long-run lane (issue 18, fairness): a run that has executed for
//! more than [`SandboxConfig::long_run_after`] may go on only while it
//! holds one of the lane's permits, taken again at every epoch tick. Runs
//! that spin to their time limit therefore share the lane's permits
//! (default one, i.e. about one core) first come first served, and the
//! short runs that make up normal webhook traffic keep the other workers.
//!
//! The lane is only consulted at epoch ticks, where the guest yields to
//! tokio anyway: a run that finishes within its first ticks never touches
//! it, so the normal path pays one counter increment per tick.
//!
//! [`SandboxConfig::long_run_after`]: super::config::SandboxConfig::long_run_after

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::UpdateDeadline;

/// The lane shared by every run of one sandbox.
#[derive(Debug, Clone)]
pub struct LongRunLane {
    permits: Arc<Semaphore>,
    after_ticks: u64,
}

impl LongRunLane {
    /// A lane of `permits` concurrent long runs (at least one) for runs
    /// past `after_ticks` epoch ticks of execution.
    pub fn new(permits: usize, after_ticks: u64) -> LongRunLane {
        LongRunLane {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            after_ticks,
        }
    }

    /// The per-run state the epoch callback keeps; `deadline` is the
    /// run's time limit (waiting for the lane ends there, so the next tick
    /// can stop the run).
    pub fn ticket(&self, deadline: Instant) -> LaneTicket {
        LaneTicket {
            lane: self.clone(),
            ticks: 0,
            deadline,
            held: Arc::new(Mutex::new(None)),
        }
    }

    /// Permits free now (tests, metrics).
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

/// One run's standing in the lane: its ticks so far and the permit it
/// holds for its current slice.
#[derive(Debug)]
pub struct LaneTicket {
    lane: LongRunLane,
    ticks: u64,
    deadline: Instant,
    held: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl LaneTicket {
    /// What the guest does at an epoch tick: yield and go on while the run
    /// is short; once long, give back the slice's permit and wait for the
    /// next one before going on.
    pub fn on_tick(&mut self) -> UpdateDeadline {
        self.ticks += 1;
        if self.ticks <= self.lane.after_ticks {
            return UpdateDeadline::Yield(1);
        }
        self.release();
        let held = self.held.clone();
        let permits = self.lane.permits.clone();
        let deadline = tokio::time::Instant::from_std(self.deadline);
        UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                // Past the run's time limit it goes on without a permit, for
                // the one tick that stops it (the semaphore is never closed).
                let wait = tokio::time::timeout_at(deadline, permits.acquire_owned());
                if let Ok(Ok(permit)) = wait.await {
                    *held.lock().unwrap_or_else(PoisonError::into_inner) = Some(permit);
                }
                // The permit's release woke this task on the releasing
                // worker's LIFO slot, ahead of every request queued there:
                // go to the back of the queue before the slice starts.
                tokio::task::yield_now().await;
            }),
        )
    }

    /// A handle for the run's host calls: a run gives its permit back when
    /// it leaves the guest for a host call (which epochs do not interrupt:
    /// a slow `http.request`, or a nested `function:` run that must be able
    /// to take the lane itself), and takes it again at its next tick.
    pub fn handle(&self) -> LaneHandle {
        LaneHandle(self.held.clone())
    }

    /// A handle that gives the permit back when the run ends (the callback
    /// holding the ticket can outlive the run in a parked warm store).
    pub fn releaser(&self) -> LaneRelease {
        LaneRelease(self.held.clone())
    }

    fn release(&self) {
        drop(
            self.held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }
}

/// Gives a run's lane permit back for the length of a host call.
#[derive(Debug, Clone)]
pub struct LaneHandle(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl LaneHandle {
    /// Gives the permit back, if the run holds one.
    pub fn release(&self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

/// Gives a run's lane permit back; dropped at the end of the run.
#[derive(Debug)]
pub struct LaneRelease(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl Drop for LaneRelease {
    fn drop(&mut self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> Instant {
        Instant::now() + std::time::Duration::from_secs(60)
    }

    #[tokio::test]
    async fn a_host_call_gives_the_permit_back_for_a_nested_run() {
        let lane = LongRunLane::new(1, 0);
        let (mut caller, mut callee) = (lane.ticket(far()), lane.ticket(far()));
        let UpdateDeadline::YieldCustom(_, slice) = caller.on_tick() else {
            panic!("long at once");
        };
        slice.await;
        assert_eq!(lane.available(), 0);
        caller.handle().release();
        let UpdateDeadline::YieldCustom(_, nested) = callee.on_tick() else {
            panic!("long at once");
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), nested)
            .await
            .expect("the nested run gets the lane its caller gave back");
    }

    #[tokio::test]
    async fn waiting_for_the_lane_ends_at_the_time_limit() {
        let lane = LongRunLane::new(1, 0);
        let mut holder = lane.ticket(far());
        let UpdateDeadline::YieldCustom(_, slice) = holder.on_tick() else {
            panic!("long at once");
        };
        slice.await;
        let soon = Instant::now() + std::time::Duration::from_millis(50);
        let UpdateDeadline::YieldCustom(_, wait) = lane.ticket(soon).on_tick() else {
            panic!("long at once");
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), wait)
            .await
            .expect("the wait ends at the run's deadline although the lane stays taken");
        assert_eq!(lane.available(), 0, "the holder keeps its permit");
    }

    #[tokio::test]
    async fn a_short_run_never_takes_a_permit_and_a_long_one_gives_it_back() {
        let lane = LongRunLane::new(1, 2);
        let mut t = lane.ticket(far());
        assert!(matches!(t.on_tick(), UpdateDeadline::Yield(1)));
        assert!(matches!(t.on_tick(), UpdateDeadline::Yield(1)));
        assert_eq!(lane.available(), 1);
        let UpdateDeadline::YieldCustom(1, wait) = t.on_tick() else {
            panic!("a long run waits for the lane");
        };
        wait.await;
        assert_eq!(lane.available(), 0, "the slice holds the permit");
        let release = t.releaser();
        drop(release);
        assert_eq!(lane.available(), 1, "the end of the run gives it back");
    }

    #[tokio::test]
    async fn a_second_long_run_waits_until_the_first_yields() {
        let lane = LongRunLane::new(1, 0);
        let (mut a, mut b) = (lane.ticket(far()), lane.ticket(far()));
        let UpdateDeadline::YieldCustom(_, first) = a.on_tick() else {
            panic!("long at once");
        };
        first.await;
        let UpdateDeadline::YieldCustom(_, second) = b.on_tick() else {
            panic!("long at once");
        };
        let mut second = tokio::spawn(second);
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "b waits while a holds the lane");
        // a's next tick gives its permit back before queueing again.
        let UpdateDeadline::YieldCustom(_, a_next) = a.on_tick() else {
            panic!("still long");
        };
        (&mut second).await.expect("b gets the lane");
        let mut a_next = tokio::spawn(a_next);
        tokio::task::yield_now().await;
        assert!(!a_next.is_finished(), "now a waits for b");
        drop(b.releaser());
        (&mut a_next).await.expect("a gets it back");
    }
}
