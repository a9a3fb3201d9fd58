//! A short-lived cache of DSN keys (with their project's quota) in the warm Lambda: a busy
//! project sends many events per second, and each would otherwise cost DynamoDB reads.
//! Disabling a key or changing a limit takes effect within the TTL.

use errata_domain::{ProjectKey, RateLimit};
use errata_ports::{Directory, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

/// A DSN key and what ingest needs to know of its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub key: ProjectKey,
    pub project_quota: Option<RateLimit>,
}

type Entries = HashMap<String, (Instant, Option<KeyInfo>)>;

#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<Entries>,
}

impl KeyCache {
    /// The key, from the cache when fresh. Unknown keys are cached too, so a flood of bad
    /// keys does not become a flood of reads.
    pub async fn get(&self, directory: &dyn Directory, public_key: &str) -> StoreResult<Option<KeyInfo>> {
        if let Some((at, info)) = self.lock().get(public_key) {
            if at.elapsed() < TTL {
                return Ok(info.clone());
            }
        }
        let info = match directory.project_key(public_key).await? {
            Some(key) => {
                let project_quota = directory.project(key.project_id).await?.and_then(|p| p.quota);
                Some(KeyInfo { key, project_quota })
            }
            None => None,
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(public_key.to_owned(), (Instant::now(), info.clone()));
        Ok(info)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
