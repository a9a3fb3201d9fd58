//! Ports: the narrow traits through which functions reach storage and queues, in domain words.
//! AWS adapters live in `errata-aws`; in-memory ones in `errata-testkit`.

use async_trait::async_trait;
use errata_domain::issue::Recorded;
use errata_domain::{
    ApiToken, Issue, IssueId, Member, Org, Project, ProjectKey, QueuedEnvelope, RateLimit, Sighting, StoredEvent, User,
};
use thiserror::Error;

/// A storage or queue failure, classified for the caller: retry, or give up with a reason.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct StoreError {
    pub retryable: bool,
    pub message: String,
}

impl StoreError {
    pub fn retryable(message: impl Into<String>) -> Self {
        StoreError { retryable: true, message: message.into() }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        StoreError { retryable: false, message: message.into() }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Organizations, projects, keys, users, memberships and API tokens.
#[async_trait]
pub trait Directory: Send + Sync {
    /// The DSN key with this public key, if any.
    async fn project_key(&self, public_key: &str) -> StoreResult<Option<ProjectKey>>;
    async fn org(&self, slug: &str) -> StoreResult<Option<Org>>;
    async fn project(&self, id: u64) -> StoreResult<Option<Project>>;
    async fn project_by_slug(&self, org: &str, slug: &str) -> StoreResult<Option<Project>>;
    async fn member(&self, org: &str, email: &str) -> StoreResult<Option<Member>>;
    async fn user(&self, email: &str) -> StoreResult<Option<User>>;
    /// The API token stored under this digest, if any.
    async fn api_token(&self, digest: &str) -> StoreResult<Option<ApiToken>>;

    async fn put_org(&self, org: &Org) -> StoreResult<()>;
    /// Stores a project; `id` 0 asks for the next free id. Returns the project as stored.
    async fn put_project(&self, project: &Project) -> StoreResult<Project>;
    async fn put_project_key(&self, key: &ProjectKey) -> StoreResult<()>;
    async fn put_user(&self, user: &User) -> StoreResult<()>;
    async fn put_member(&self, member: &Member) -> StoreResult<()>;
    async fn put_api_token(&self, token: &ApiToken) -> StoreResult<()>;
}

/// Where ingest hands accepted envelopes to the processor.
#[async_trait]
pub trait EnvelopeQueue: Send + Sync {
    async fn send(&self, envelope: &QueuedEnvelope) -> StoreResult<()>;
}

/// A bucket of opaque objects (raw payloads, event bodies).
#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> StoreResult<()>;
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
}

/// Issues and the index of their events.
#[async_trait]
pub trait IssueStore: Send + Sync {
    /// Counts the sighting against its issue (creating the issue on first sight) and indexes
    /// the event, atomically; an event id already recorded for the project changes nothing.
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded>;
    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>>;
    /// All issues of a project (the API filters and sorts).
    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>>;
    /// The most recent event of an issue by event time.
    async fn latest_event(&self, id: IssueId) -> StoreResult<Option<StoredEvent>>;
}

/// Fixed-window counters for rate limits and quotas.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes `quantity` from the counter named `scope` in the window `now_secs` falls in.
    /// Returns `None` when allowed, or the seconds until the window ends when the take would
    /// exceed the limit; a refused take does not count.
    async fn try_take(&self, scope: &str, quantity: u64, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>>;
}
