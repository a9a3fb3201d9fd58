//! A short-lived cache of DSN keys in the warm Lambda: a busy project sends many events per
//! second, and each would otherwise cost a DynamoDB read. Disabling a key takes effect within
//! the TTL.

use errata_domain::ProjectKey;
use errata_ports::{Directory, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, Option<ProjectKey>)>>,
}

impl KeyCache {
    /// The key, from the cache when fresh. Unknown keys are cached too, so a flood of bad
    /// keys does not become a flood of reads.
    pub async fn get(&self, directory: &dyn Directory, public_key: &str) -> StoreResult<Option<ProjectKey>> {
        if let Some((at, key)) = self.lock().get(public_key) {
            if at.elapsed() < TTL {
                return Ok(key.clone());
            }
        }
        let key = directory.project_key(public_key).await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(public_key.to_owned(), (Instant::now(), key.clone()));
        Ok(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<ProjectKey>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
