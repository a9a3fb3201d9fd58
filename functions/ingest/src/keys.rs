//! A short-lived cache of DSN keys (with their project's and organization's quotas) in the warm Lambda: a busy
//! project sends many events per second, and each would otherwise cost DynamoDB reads.
//! Disabling a key or changing a limit takes effect within the TTL.

use errata_domain::{ProjectKey, RateLimit};
use errata_ports::{Directory, StoreResult};
use errata_runtime::cache::TtlCache;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 10_000;

/// A DSN key and what ingest needs to know of its project and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub key: ProjectKey,
    pub project_quota: Option<RateLimit>,
    /// The project's organization and its quota over all its projects, if it has one.
    pub org_quota: Option<(String, RateLimit)>,
}

/// DSN keys by public key, with their project's quota; unknown keys cached as `None`.
pub struct KeyCache {
    cache: TtlCache<String, Option<KeyInfo>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache { cache: TtlCache::new(TTL, MAX_ENTRIES) }
    }
}

impl KeyCache {
    pub async fn get(&self, directory: &dyn Directory, public_key: &str) -> StoreResult<Option<KeyInfo>> {
        self.cache
            .get_or_load(&public_key.to_owned(), || async {
                Ok(match directory.project_key(public_key).await? {
                    Some(key) => {
                        let project = directory.project(key.project_id).await?;
                        let org_quota = match &project {
                            Some(p) => directory.org(&p.org).await?.and_then(|o| Some((o.slug, o.quota?))),
                            None => None,
                        };
                        Some(KeyInfo { key, project_quota: project.and_then(|p| p.quota), org_quota })
                    }
                    None => None,
                })
            })
            .await
    }
}
