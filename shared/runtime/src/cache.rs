//! A small time-to-live cache for a warm Lambda: directory lookups (DSN keys, project
//! settings) that would otherwise cost a DynamoDB read per event. Changes to the cached
//! records take effect within the TTL. Misses are cached too, so a flood of unknown keys does
//! not become a flood of reads.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        TtlCache { ttl, max_entries, entries: Mutex::new(HashMap::new()) }
    }

    /// The value for `key`, from the cache when fresh, else from `load` (and then cached).
    pub async fn get_or_load<E, F, Fut>(&self, key: &K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some((at, value)) = self.lock().get(key) {
            if at.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value = load().await?;
        let mut entries = self.lock();
        if entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(key.clone(), (Instant::now(), value.clone()));
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn loads_once_per_ttl_and_caches_misses() {
        let cache: TtlCache<String, Option<u32>> = TtlCache::new(Duration::from_millis(50), 2);
        let loads = AtomicUsize::new(0);
        let load = |v: Option<u32>| {
            loads.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, ()>(v) }
        };
        assert_eq!(cache.get_or_load(&"a".into(), || load(Some(1))).await, Ok(Some(1)));
        assert_eq!(cache.get_or_load(&"a".into(), || load(Some(2))).await, Ok(Some(1)));
        assert_eq!(cache.get_or_load(&"b".into(), || load(None)).await, Ok(None));
        assert_eq!(cache.get_or_load(&"b".into(), || load(Some(3))).await, Ok(None), "misses are cached");
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(cache.get_or_load(&"a".into(), || load(Some(2))).await, Ok(Some(2)));
        // Over the size bound, stale entries go first.
        assert_eq!(cache.get_or_load(&"c".into(), || load(Some(4))).await, Ok(Some(4)));
        assert!(cache.lock().len() <= 2);
    }
}
