//! The long-run lane (issue 18, fairness): a run that has executed for
//! more than [`SandboxConfig::long_run_after`] may go on only while it
//! holds one of the lane's permits, taken again at every epoch tick. Runs
//! that spin to their time limit therefore share the lane's permits
//! (default one, i.e. about one core) first come first served, and the
//! short runs that make up normal webhook traffic keep the other workers.
//!
//! The lane is only consulted at epoch ticks, where the guest yields to
//! tokio anyway: a run that finishes within its first ticks never touches
//! it, so the normal path pays one counter increment per tick. A run gives
//! its permit back in host calls and at its end ([`LaneSlot::release`]).
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
            slot: LaneSlot::default(),
        }
    }

    /// Permits free now.
    #[cfg(test)]
    fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

/// One run's standing in the lane: its ticks so far and the slot for the
/// permit of its current slice.
#[derive(Debug)]
pub struct LaneTicket {
    lane: LongRunLane,
    ticks: u64,
    deadline: Instant,
    slot: LaneSlot,
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
        self.slot.release();
        let slot = self.slot.clone();
        let permits = self.lane.permits.clone();
        let deadline = tokio::time::Instant::from_std(self.deadline);
        UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                // Past the run's time limit it goes on without a permit, for
                // the one tick that stops it (the semaphore is never closed).
                let wait = tokio::time::timeout_at(deadline, permits.acquire_owned());
                if let Ok(Ok(permit)) = wait.await {
                    slot.hold(permit);
                }
                // The permit's release woke this task on the releasing
                // worker's LIFO slot, ahead of every request queued there:
                // go to the back of the queue before the slice starts.
                tokio::task::yield_now().await;
            }),
        )
    }

    /// The run's permit slot, for its host calls: a run gives its permit
    /// back when it leaves the guest for a host call (which epochs do not
    /// interrupt: a slow `http.request`, or a nested `function:` run that
    /// must be able to take the lane itself), and takes it again at its
    /// next tick. The run gives it back at its end as well: the callback
    /// holding the ticket can outlive the run in a parked warm store.
    pub fn slot(&self) -> LaneSlot {
        self.slot.clone()
    }
}

/// Where a run keeps the lane permit of its current slice (shared by its
/// epoch callback and its host calls).
#[derive(Debug, Clone, Default)]
pub struct LaneSlot(Arc<Mutex<Option<OwnedSemaphorePermit>>>);

impl LaneSlot {
    /// Gives the permit back, if the run holds one.
    pub fn release(&self) {
        drop(self.lock().take());
    }

    fn hold(&self, permit: OwnedSemaphorePermit) {
        *self.lock() = Some(permit);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<OwnedSemaphorePermit>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> Instant {
        Instant::now() + std::time::Duration::from_secs(60)
    }

    /// The wait a long run's tick returns (panics if the run is not long).
    fn wait_of(t: &mut LaneTicket) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        match t.on_tick() {
            UpdateDeadline::YieldCustom(1, wait) => wait,
            _ => panic!("a long run waits for the lane"),
        }
    }

    #[tokio::test]
    async fn a_host_call_gives_the_permit_back_for_a_nested_run() {
        let lane = LongRunLane::new(1, 0);
        let (mut caller, mut callee) = (lane.ticket(far()), lane.ticket(far()));
        wait_of(&mut caller).await;
        assert_eq!(lane.available(), 0);
        caller.slot().release();
        tokio::time::timeout(std::time::Duration::from_secs(5), wait_of(&mut callee))
            .await
            .expect("the nested run gets the lane its caller gave back");
    }

    #[tokio::test]
    async fn waiting_for_the_lane_ends_at_the_time_limit() {
        let lane = LongRunLane::new(1, 0);
        let mut holder = lane.ticket(far());
        wait_of(&mut holder).await;
        let soon = Instant::now() + std::time::Duration::from_millis(50);
        let wait = wait_of(&mut lane.ticket(soon));
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
        wait_of(&mut t).await;
        assert_eq!(lane.available(), 0, "the slice holds the permit");
        t.slot().release();
        assert_eq!(lane.available(), 1, "the end of the run gives it back");
    }

    #[tokio::test]
    async fn a_second_long_run_waits_until_the_first_yields() {
        let lane = LongRunLane::new(1, 0);
        let (mut a, mut b) = (lane.ticket(far()), lane.ticket(far()));
        wait_of(&mut a).await;
        let mut second = tokio::spawn(wait_of(&mut b));
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "b waits while a holds the lane");
        // a's next tick gives its permit back before queueing again.
        let a_next = wait_of(&mut a);
        (&mut second).await.expect("b gets the lane");
        let mut a_next = tokio::spawn(a_next);
        tokio::task::yield_now().await;
        assert!(!a_next.is_finished(), "now a waits for b");
        b.slot().release();
        (&mut a_next).await.expect("a gets it back");
    }
}
