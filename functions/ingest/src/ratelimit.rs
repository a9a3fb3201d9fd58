//! Rate limits: a DSN key's own limit and the project's quota, counted in DynamoDB per fixed
//! window. Only event-like items count; client reports, sessions and check-ins never do.
//! Limited items are removed from the envelope (an event's attachments and user report go with
//! it) and the SDK is told for how long, and which categories, in `X-Sentry-Rate-Limits`.

use errata_domain::{ProjectKey, RateLimit};
use errata_ports::{RateLimiter, StoreResult};
use errata_protocol::Envelope;

/// Categories counted against key rate limits and project quotas.
pub const LIMITED_CATEGORIES: &[&str] = &["error", "transaction", "security", "default"];
/// Categories that go when their event is limited.
const DEPENDENT_CATEGORIES: &[&str] = &["attachment", "user_report", "feedback"];

/// A limit that was hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
    /// `key` or `project`.
    pub scope: &'static str,
    pub reason: &'static str,
    /// How many items of each category were removed.
    pub dropped: Vec<(&'static str, u64)>,
}

impl Limited {
    /// `X-Sentry-Rate-Limits`: `<seconds>:<categories>:<scope>:<reason>`.
    pub fn header(&self) -> String {
        format!("{}:{}:{}:{}", self.retry_after, LIMITED_CATEGORIES.join(";"), self.scope, self.reason)
    }
}

/// Counts the envelope's event-like items against the key's limit and the project's quota;
/// when either refuses, removes the limited items and says so.
pub async fn apply(
    limiter: &dyn RateLimiter,
    key: &ProjectKey,
    project_quota: Option<RateLimit>,
    envelope: &mut Envelope,
    now_secs: i64,
) -> StoreResult<Option<Limited>> {
    let quantity = envelope.items.iter().filter(|i| LIMITED_CATEGORIES.contains(&i.header.category())).count() as u64;
    if quantity == 0 {
        return Ok(None);
    }
    let mut hit = None;
    if let Some(limit) = key.rate_limit {
        if let Some(retry_after) =
            limiter.try_take(&format!("key:{}", key.public_key), quantity, &limit, now_secs).await?
        {
            hit = Some((retry_after, "key", "key_quota"));
        }
    }
    if hit.is_none() {
        if let Some(quota) = project_quota {
            if let Some(retry_after) =
                limiter.try_take(&format!("project:{}", key.project_id), quantity, &quota, now_secs).await?
            {
                hit = Some((retry_after, "project", "project_quota"));
            }
        }
    }
    let Some((retry_after, scope, reason)) = hit else { return Ok(None) };
    let mut dropped: Vec<(&'static str, u64)> = Vec::new();
    envelope.items.retain(|item| {
        let category = item.header.category();
        let drop = LIMITED_CATEGORIES.contains(&category) || DEPENDENT_CATEGORIES.contains(&category);
        if drop {
            match dropped.iter_mut().find(|(c, _)| *c == category) {
                Some((_, n)) => *n += 1,
                None => dropped.push((category, 1)),
            }
        }
        !drop
    });
    Ok(Some(Limited { retry_after, scope, reason, dropped }))
}
