//! Rate limits: a DSN key's own limit, its project's quota and its organization's quota over
//! all its projects, counted in DynamoDB per fixed window. Two groups of items count, each
//! against counters of its own: event-like items (errors, transactions, security reports) and
//! sessions; client reports and check-ins never do. Limited items are removed from the
//! envelope (an event's attachments and user report go with it) and the SDK is told for how
//! long, and which categories, in `X-Sentry-Rate-Limits`.

use errata_domain::{ProjectKey, RateLimit};
use errata_ports::{RateLimiter, StoreResult};
use errata_protocol::Envelope;

/// Categories counted against limits, by group: what the group is called in counter scopes,
/// the categories counted, and the categories that go with them when they are limited.
struct Group {
    name: &'static str,
    counted: &'static [&'static str],
    dependent: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group {
        name: "",
        counted: &["error", "transaction", "security", "default"],
        dependent: &["attachment", "user_report", "feedback"],
    },
    // Sessions have counters of their own: a flood of them cannot use up the events' quota.
    Group { name: ":session", counted: &["session"], dependent: &[] },
];

/// The limits that apply to a request: the key's, its project's and its organization's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quotas<'a> {
    pub project: Option<RateLimit>,
    pub org: Option<(&'a str, RateLimit)>,
}

/// A limit that was hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
    /// The categories the limit covers.
    pub categories: &'static [&'static str],
    /// `key`, `project` or `organization`.
    pub scope: &'static str,
    pub reason: &'static str,
    /// How many items of each category were removed.
    pub dropped: Vec<(&'static str, u64)>,
}

impl Limited {
    /// One entry of `X-Sentry-Rate-Limits`: `<seconds>:<categories>:<scope>:<reason>`.
    pub fn header(&self) -> String {
        format!("{}:{}:{}:{}", self.retry_after, self.categories.join(";"), self.scope, self.reason)
    }
}

/// Counts each group's items against the key's limit, the project's quota and the
/// organization's quota; where one refuses, removes the group's items and says so.
pub async fn apply(
    limiter: &dyn RateLimiter,
    key: &ProjectKey,
    quotas: Quotas<'_>,
    envelope: &mut Envelope,
    now_secs: i64,
) -> StoreResult<Vec<Limited>> {
    let mut limited = Vec::new();
    for group in GROUPS {
        let quantity = envelope.items.iter().filter(|i| group.counted.contains(&i.header.category())).count() as u64;
        if quantity == 0 {
            continue;
        }
        let checks = [
            key.rate_limit.map(|l| (format!("key:{}{}", key.public_key, group.name), l, "key", "key_quota")),
            quotas
                .project
                .map(|l| (format!("project:{}{}", key.project_id, group.name), l, "project", "project_quota")),
            quotas.org.map(|(org, l)| (format!("org:{org}{}", group.name), l, "organization", "org_quota")),
        ];
        let mut hit = None;
        for (scope_key, limit, scope, reason) in checks.into_iter().flatten() {
            if let Some(retry_after) = limiter.try_take(&scope_key, quantity, &limit, now_secs).await? {
                hit = Some((retry_after, scope, reason));
                break;
            }
        }
        let Some((retry_after, scope, reason)) = hit else { continue };
        let mut dropped: Vec<(&'static str, u64)> = Vec::new();
        envelope.items.retain(|item| {
            let category = item.header.category();
            let drop = group.counted.contains(&category) || group.dependent.contains(&category);
            if drop {
                match dropped.iter_mut().find(|(c, _)| *c == category) {
                    Some((_, n)) => *n += 1,
                    None => dropped.push((category, 1)),
                }
            }
            !drop
        });
        limited.push(Limited { retry_after, categories: group.counted, scope, reason, dropped });
    }
    Ok(limited)
}
