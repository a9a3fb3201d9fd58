//! Ports: the narrow traits through which functions reach storage and queues, in domain words.
//! AWS adapters live in `errata-aws`; in-memory ones in `errata-testkit`.

use async_trait::async_trait;
use errata_domain::issue::Recorded;
use errata_domain::sessions::{SessionBucket, SessionContribution, SessionCounts};
use errata_domain::{
    ApiToken, Feedback, Invite, Issue, IssueId, Member, Org, Project, ProjectKey, QueuedEnvelope, RateLimit, Session,
    Sighting, StatusChange, StoredEvent, User,
};
use thiserror::Error;

/// A storage or queue failure, classified for the caller: retry, or give up with a reason.
#[derive(Debug, Clone, Error)]
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
    /// Creates an organization unless its slug is taken; `false` when taken.
    async fn create_org(&self, org: &Org) -> StoreResult<bool>;
    /// Creates a project with the next free id unless its slug is taken in its organization;
    /// `None` when taken.
    async fn create_project(&self, project: &Project) -> StoreResult<Option<Project>>;
    /// Stores a project; `id` 0 asks for the next free id. Returns the project as stored.
    async fn put_project(&self, project: &Project) -> StoreResult<Project>;
    async fn put_project_key(&self, key: &ProjectKey) -> StoreResult<()>;
    async fn put_user(&self, user: &User) -> StoreResult<()>;
    async fn put_member(&self, member: &Member) -> StoreResult<()>;
    async fn put_api_token(&self, token: &ApiToken) -> StoreResult<()>;

    /// The organizations a user belongs to, with the user's role in each.
    async fn user_memberships(&self, email: &str) -> StoreResult<Vec<Member>>;
    async fn org_members(&self, org: &str) -> StoreResult<Vec<Member>>;
    async fn delete_member(&self, org: &str, email: &str) -> StoreResult<()>;
    /// An organization's projects, by slug.
    async fn org_projects(&self, org: &str) -> StoreResult<Vec<Project>>;
    async fn project_keys(&self, project_id: u64) -> StoreResult<Vec<ProjectKey>>;
    async fn delete_project_key(&self, key: &ProjectKey) -> StoreResult<()>;
    async fn user_tokens(&self, email: &str) -> StoreResult<Vec<ApiToken>>;
    async fn delete_api_token(&self, token: &ApiToken) -> StoreResult<()>;

    async fn put_session(&self, session: &Session) -> StoreResult<()>;
    /// The session stored under this digest, expired or not (the caller checks).
    async fn session(&self, digest: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, digest: &str) -> StoreResult<()>;

    async fn put_invite(&self, invite: &Invite) -> StoreResult<()>;
    async fn invite(&self, digest: &str) -> StoreResult<Option<Invite>>;
    /// An organization's pending invitations.
    async fn org_invites(&self, org: &str) -> StoreResult<Vec<Invite>>;
    async fn delete_invite(&self, invite: &Invite) -> StoreResult<()>;

    /// Claims the one-time first-run setup; `true` for the single caller that gets it.
    async fn claim_setup(&self) -> StoreResult<bool>;
}

/// Where the API and the processor leave messages for the notifier (e-mail, webhooks).
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn send(&self, notice: &errata_domain::Notice) -> StoreResult<()>;
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
    /// `len` bytes from `offset` (a ranged GET); `len` 0 reads the whole object.
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> StoreResult<Option<Vec<u8>>>;
    /// The objects directly under `prefix` and the folders (`…/`) below it, one level deep.
    async fn list(&self, prefix: &str) -> StoreResult<Listing>;
    async fn delete(&self, keys: &[String]) -> StoreResult<()>;
}

/// What `BlobStore::list` finds under a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects with their sizes in bytes, by key.
    pub objects: Vec<(String, u64)>,
    /// Folders one level down, each ending in `/`.
    pub folders: Vec<String>,
}

/// Which of a project's feedback to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackScope {
    All,
    /// Attached to this issue when stored.
    Issue(IssueId),
    /// Stored before its event was known, or about no event.
    Unattached,
}

/// Which end of an issue's events a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOrder {
    NewestFirst,
    OldestFirst,
}

/// One page of an issue's events and the cursor of the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    pub next: Option<String>,
}

/// Issues and the index of their events.
#[async_trait]
pub trait IssueStore: Send + Sync {
    /// Counts the sighting against its issue (creating the issue on first sight, reopening it
    /// when `status::on_event` says so) and indexes the event, atomically; an event id already
    /// recorded for the project changes nothing. Then notes the sighting's user for "users
    /// affected" (approximate: a crash between the two writes misses one user).
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded>;
    /// Moves the issue to a new status, as a user asked.
    async fn set_status(&self, issue: &Issue, change: &StatusChange) -> StoreResult<()>;
    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>>;
    /// All issues of a project (the API filters and sorts).
    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>>;
    /// A page of an issue's events by event time; `cursor` is a `next` from an earlier page.
    async fn issue_events(
        &self,
        id: IssueId,
        order: EventOrder,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<EventPage>;
    /// One event by id, within its project.
    async fn event(&self, project_id: u64, event_id: &str) -> StoreResult<Option<StoredEvent>>;
    /// Stores user feedback (again: the same id overwrites).
    async fn add_feedback(&self, feedback: &Feedback) -> StoreResult<()>;
    /// A project's feedback, newest first; at most `limit`.
    async fn feedback(&self, project_id: u64, scope: FeedbackScope, limit: usize) -> StoreResult<Vec<Feedback>>;
}

/// Fixed-window counters for rate limits and quotas.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes `quantity` from the counter named `scope` in the window `now_secs` falls in.
    /// Returns `None` when allowed, or the seconds until the window ends when the take would
    /// exceed the limit; a refused take does not count.
    async fn try_take(&self, scope: &str, quantity: u64, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>>;
}

/// Release health: hourly session counters per project, release and environment.
#[async_trait]
pub trait ReleaseHealth: Send + Sync {
    /// Adds a contribution unless its dedup key was counted before; `true` when it counted.
    async fn record_sessions(&self, project_id: u64, contribution: &SessionContribution) -> StoreResult<bool>;
    /// The counters of a project from `since_ms` on, optionally of one release only.
    async fn session_counts(
        &self,
        project_id: u64,
        release: Option<&str>,
        since_ms: i64,
    ) -> StoreResult<Vec<(SessionBucket, SessionCounts)>>;
}
