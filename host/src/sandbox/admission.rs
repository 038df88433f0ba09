//! Admission: a run gets its instance permits before it instantiates, so
//! the pooling allocator's slots never run out (issue 20).
//!
//! - One semaphore of instance permits for the whole host, sized below the
//!   pool's slot count by the warm instances (parked warm instances hold
//!   slots without permits). Every run — top-level or a nested `function:`
//!   call — holds one permit while its instance exists.
//! - One semaphore per group (a webhook listener) of
//!   [`SandboxConfig::listener_instances`](super::SandboxConfig) permits, so
//!   one listener's requests (their nested calls included) cannot take
//!   every instance.
//!
//! A top-level run waits up to [`SandboxConfig::admission_wait`](super::SandboxConfig)
//! for its permits; a nested call never waits (a request that holds
//! instances and waits for more could deadlock with others): it fails as a
//! command error the calling automation's `on_error:` can handle.
//!
//! [`RequestBudget`] is what one request's runs share: the group and the
//! memory budget its instances' linear memories count against.

use foldhash::{HashMap, HashMapExt};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Groups kept before idle ones are dropped.
const GROUPS: usize = 4096;

/// Why a run got no instance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Every instance permit of the host is in use.
    #[error("Execution refused: all {0} automation instances of this host are in use")]
    Host(usize),
    /// The group (listener) holds its share of instances already.
    #[error(
        "Execution refused: the requests of this webhook listener already hold its share of {0} automation instances"
    )]
    Group(usize),
}

/// The permits a run holds while its instance exists.
#[derive(Debug)]
pub struct Permits {
    _host: OwnedSemaphorePermit,
    _group: Option<OwnedSemaphorePermit>,
}

/// The host's instance permits and the groups' shares.
pub struct Admission {
    host: Arc<Semaphore>,
    host_permits: usize,
    groups: Mutex<HashMap<u64, Arc<Semaphore>>>,
    group_permits: usize,
    wait: Duration,
}

impl Admission {
    /// Permits for a pool of `slots` instances of which up to `warm` are
    /// parked; each group gets at most `per_group` of them; a top-level
    /// run waits up to `wait`.
    pub fn new(slots: u32, warm: usize, per_group: u32, wait: Duration) -> Admission {
        let slots = usize::try_from(slots).unwrap_or(usize::MAX).max(1);
        let host_permits = slots.saturating_sub(warm).max(1);
        let group_permits = usize::try_from(per_group)
            .unwrap_or(usize::MAX)
            .clamp(1, host_permits);
        Admission {
            host: Arc::new(Semaphore::new(host_permits)),
            host_permits,
            groups: Mutex::new(HashMap::new()),
            group_permits,
            wait,
        }
    }

    /// Instance permits free now.
    pub fn available(&self) -> usize {
        self.host.available_permits()
    }

    /// The host's instance permits in all.
    pub fn capacity(&self) -> usize {
        self.host_permits
    }

    fn group(&self, key: u64) -> Arc<Semaphore> {
        let Ok(mut groups) = self.groups.lock() else {
            return Arc::new(Semaphore::new(self.group_permits));
        };
        if groups.len() >= GROUPS && !groups.contains_key(&key) {
            let full = self.group_permits;
            groups.retain(|_, s| s.available_permits() < full);
        }
        groups
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.group_permits)))
            .clone()
    }

    /// The permits for one run of `group`: waiting up to the admission wait
    /// when `wait` (a top-level run), else only what is free now.
    pub async fn enter(&self, group: Option<u64>, wait: bool) -> Result<Permits, Refused> {
        let deadline = tokio::time::Instant::now() + if wait { self.wait } else { Duration::ZERO };
        let group = match group {
            None => None,
            Some(key) => {
                let sem = self.group(key);
                Some(
                    acquire(sem, deadline)
                        .await
                        .ok_or(Refused::Group(self.group_permits))?,
                )
            }
        };
        let host = acquire(self.host.clone(), deadline)
            .await
            .ok_or(Refused::Host(self.host_permits))?;
        Ok(Permits {
            _host: host,
            _group: group,
        })
    }
}

async fn acquire(
    sem: Arc<Semaphore>,
    deadline: tokio::time::Instant,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(p) = sem.clone().try_acquire_owned() {
        return Some(p);
    }
    if tokio::time::Instant::now() >= deadline {
        return None;
    }
    tokio::time::timeout_at(deadline, sem.acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
}

/// What one request's runs (the top-level run and its nested `function:`
/// calls) share.
#[derive(Debug)]
pub struct RequestBudget {
    /// The group the request counts against (a listener id).
    pub(crate) group: Option<u64>,
    /// Bytes of linear memory the request's instances may hold together.
    pub(crate) memory_limit: usize,
    /// Bytes they hold now.
    memory_used: AtomicUsize,
    /// Set when a run of the request was refused an instance.
    refused: AtomicBool,
    /// Its nested `function:` runs, for the history.
    pub children: super::children::Children,
}

impl RequestBudget {
    /// A budget of `memory_limit` bytes for a request of `group`.
    pub fn new(group: Option<u64>, memory_limit: usize) -> RequestBudget {
        RequestBudget {
            group,
            memory_limit,
            memory_used: AtomicUsize::new(0),
            refused: AtomicBool::new(false),
            children: Default::default(),
        }
    }

    /// Takes `bytes` from the budget; false (nothing taken) when they do
    /// not fit.
    pub fn charge(&self, bytes: usize) -> bool {
        self.memory_used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|n| *n <= self.memory_limit)
            })
            .is_ok()
    }

    /// Takes `bytes` whether or not they fit (memory an instance already has).
    pub fn force(&self, bytes: usize) {
        self.memory_used.fetch_add(bytes, Ordering::AcqRel);
    }

    /// Gives `bytes` back.
    pub fn release(&self, bytes: usize) {
        let _ = self
            .memory_used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Bytes held now.
    pub fn memory_used(&self) -> usize {
        self.memory_used.load(Ordering::Acquire)
    }

    pub(crate) fn mark_refused(&self) {
        self.refused.store(true, Ordering::Release);
    }

    /// Whether a run of this request was refused an instance.
    pub fn was_refused(&self) -> bool {
        self.refused.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permits_stop_below_the_pool_and_groups_get_a_share() {
        let a = Admission::new(6, 2, 3, Duration::from_millis(20));
        assert_eq!(a.capacity(), 4);
        let g1: Vec<_> = [0, 1, 2].iter().map(|_| a.enter(Some(1), false)).collect();
        let mut held = Vec::new();
        for f in g1 {
            held.push(f.await.expect("group 1 within its share"));
        }
        assert_eq!(
            a.enter(Some(1), true).await.err(),
            Some(Refused::Group(3)),
            "group 1 is at its share"
        );
        held.push(
            a.enter(Some(2), false)
                .await
                .expect("group 2 gets the last"),
        );
        assert_eq!(a.enter(Some(3), true).await.err(), Some(Refused::Host(4)));
        drop(held.pop());
        assert!(a.enter(Some(3), false).await.is_ok());
    }

    #[test]
    fn the_memory_budget_is_shared_and_given_back() {
        let b = RequestBudget::new(None, 100);
        assert!(b.charge(60));
        assert!(!b.charge(50));
        assert_eq!(b.memory_used(), 60);
        b.release(60);
        assert!(b.charge(100));
        b.release(1000);
        assert_eq!(b.memory_used(), 0);
    }
}
