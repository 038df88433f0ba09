//! Listeners by guid and automations by name, kept in memory as last read.
//!
//! The webhook path looks up both on every request; this saves a redb read
//! transaction and a JSON decode each time. Every write that can change a
//! listener or an automation calls [`LookupCache::invalidate`] after its
//! commit. A read that raced with such a write is not cached: the
//! generation taken before the read no longer matches when it would be
//! inserted. Misses are cached too (so unknown guids stay cheap), and the
//! whole cache is dropped when it grows past [`MAX_ENTRIES`], so random
//! guids cannot grow it without bound.

use super::{AutomationRow, ListenerRecord, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept per map before it is cleared.
pub const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
struct Maps {
    generation: u64,
    listeners: HashMap<String, Option<ListenerRecord>>,
    automations: HashMap<String, Option<AutomationRow>>,
}

/// The cache (see the module docs).
#[derive(Default)]
pub(super) struct LookupCache {
    maps: Mutex<Maps>,
}

impl LookupCache {
    /// The listener with `guid`, from the cache or from `read`.
    pub(super) fn listener(
        &self,
        guid: &str,
        read: impl FnOnce() -> StoreResult<Option<ListenerRecord>>,
    ) -> StoreResult<Option<ListenerRecord>> {
        self.lookup(guid, |m| &mut m.listeners, read)
    }

    /// The automation called `name`, from the cache or from `read`.
    pub(super) fn automation(
        &self,
        name: &str,
        read: impl FnOnce() -> StoreResult<Option<AutomationRow>>,
    ) -> StoreResult<Option<AutomationRow>> {
        self.lookup(name, |m| &mut m.automations, read)
    }

    /// Forgets everything (after a committed write to listeners or automations).
    pub(super) fn invalidate(&self) {
        if let Ok(mut m) = self.maps.lock() {
            m.generation = m.generation.wrapping_add(1);
            m.listeners.clear();
            m.automations.clear();
        }
    }

    fn lookup<T: Clone>(
        &self,
        key: &str,
        map: fn(&mut Maps) -> &mut HashMap<String, Option<T>>,
        read: impl FnOnce() -> StoreResult<Option<T>>,
    ) -> StoreResult<Option<T>> {
        let generation = match self.maps.lock() {
            Ok(mut m) => {
                if let Some(hit) = map(&mut m).get(key) {
                    return Ok(hit.clone());
                }
                m.generation
            }
            Err(_) => return read(),
        };
        let found = read()?;
        if let Ok(mut m) = self.maps.lock()
            && m.generation == generation
        {
            let entries = map(&mut m);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key.to_string(), found.clone());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(guid: &str, kata: &str) -> ListenerRecord {
        ListenerRecord {
            id: 1,
            name: "l".into(),
            guid: guid.into(),
            automations_kata: kata.into(),
            updated_at: 0,
            body_limit: None,
            verify: None,
            is_disabled: false,
        }
    }

    #[test]
    fn a_hit_does_not_read_again_and_invalidate_forces_a_read() {
        let cache = LookupCache::default();
        let reads = std::cell::Cell::new(0);
        let read = |kata: &'static str| {
            reads.set(reads.get() + 1);
            Ok(Some(listener("g", kata)))
        };
        let a = cache.listener("g", || read("one")).expect("read");
        let b = cache.listener("g", || read("two")).expect("read");
        assert_eq!(reads.get(), 1);
        assert_eq!(a.map(|l| l.automations_kata), Some("one".into()));
        assert_eq!(b.map(|l| l.automations_kata), Some("one".into()));
        cache.invalidate();
        let c = cache.listener("g", || read("two")).expect("read");
        assert_eq!(reads.get(), 2);
        assert_eq!(c.map(|l| l.automations_kata), Some("two".into()));
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_cached() {
        let cache = LookupCache::default();
        let stale = cache
            .listener("g", || {
                // A write commits (and invalidates) while this read is in flight.
                cache.invalidate();
                Ok(Some(listener("g", "stale")))
            })
            .expect("read");
        assert_eq!(stale.map(|l| l.automations_kata), Some("stale".into()));
        let fresh = cache
            .listener("g", || Ok(Some(listener("g", "fresh"))))
            .expect("read");
        assert_eq!(fresh.map(|l| l.automations_kata), Some("fresh".into()));
    }

    #[test]
    fn misses_are_cached_but_bounded() {
        let cache = LookupCache::default();
        for i in 0..(MAX_ENTRIES * 3) {
            let found = cache
                .automation(&format!("n{i}"), || Ok(None))
                .expect("read");
            assert!(found.is_none());
        }
        let size = cache.maps.lock().map(|m| m.automations.len()).unwrap_or(0);
        assert!(size <= MAX_ENTRIES, "{size}");
    }
}
