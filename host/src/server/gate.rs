//! Per-listener admission: webhook requests one listener may have in
//! flight at once (`serve --listener-concurrency`), so a flood on one
//! listener leaves the server's request slots to the others.

use foldhash::{HashMap, HashMapExt};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Listeners kept before idle ones are dropped.
const LISTENERS: usize = 4096;

/// In-flight requests per listener.
pub struct ListenerGate {
    per_listener: usize,
    listeners: Mutex<HashMap<u64, Arc<Semaphore>>>,
}

impl ListenerGate {
    /// At most `per_listener` requests in flight per listener (at least 1).
    pub fn new(per_listener: usize) -> ListenerGate {
        ListenerGate {
            per_listener: per_listener.max(1),
            listeners: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for one request to `listener`, or `None` when it has its
    /// share in flight already (the request is answered 503 at once).
    pub fn try_enter(&self, listener: u64) -> Option<OwnedSemaphorePermit> {
        let sem = {
            let mut map = self.listeners.lock().ok()?;
            if map.len() >= LISTENERS && !map.contains_key(&listener) {
                let full = self.per_listener;
                map.retain(|_, s| s.available_permits() < full);
            }
            map.entry(listener)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_listener)))
                .clone()
        };
        sem.try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_listener_has_its_own_share() {
        let gate = ListenerGate::new(2);
        let a = [gate.try_enter(1), gate.try_enter(1)];
        assert!(a.iter().all(Option::is_some));
        assert!(gate.try_enter(1).is_none());
        assert!(gate.try_enter(2).is_some());
        drop(a);
        assert!(gate.try_enter(1).is_some());
    }
}
