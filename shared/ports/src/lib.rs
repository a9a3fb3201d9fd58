//! Ports: the narrow traits through which functions reach storage and queues, in domain words.
//! AWS adapters live in `errata-aws`; in-memory ones in `errata-testkit`.

use async_trait::async_trait;
use errata_domain::issue::Recorded;
use errata_domain::sessions::{SessionBucket, SessionContribution, SessionCounts};
use errata_domain::{
    ApiToken, AuditEntry, Feedback, Invite, Issue, IssueId, IssueStatus, Member, Org, PasswordReset, Project,
    ProjectKey, QueuedEnvelope, RateLimit, Session, Sighting, StatusChange, StoredEvent, User,
};
use thiserror::Error;

pub mod faults;

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
    /// Debug files of a project (assembled uploads), by debug id then id.
    async fn put_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()>;
    async fn debug_files(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::DebugFile>>;
    async fn delete_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()>;
    /// Source-map artifact bundles of a project, by id.
    async fn put_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()>;
    async fn artifact_bundles(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::ArtifactBundle>>;
    async fn delete_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()>;
    /// Releases of an organization, by version.
    async fn put_release(&self, release: &errata_domain::releases::Release) -> StoreResult<()>;
    async fn releases(&self, org: &str) -> StoreResult<Vec<errata_domain::releases::Release>>;
    async fn delete_release(&self, org: &str, version: &str) -> StoreResult<()>;
    async fn user_tokens(&self, email: &str) -> StoreResult<Vec<ApiToken>>;
    async fn delete_api_token(&self, token: &ApiToken) -> StoreResult<()>;

    /// Stores a session, and a copy under its user so their sign-ins can be listed.
    async fn put_session(&self, session: &Session) -> StoreResult<()>;
    /// The session stored under this digest, expired or not (the caller checks).
    async fn session(&self, digest: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, session: &Session) -> StoreResult<()>;

    async fn put_invite(&self, invite: &Invite) -> StoreResult<()>;
    async fn invite(&self, digest: &str) -> StoreResult<Option<Invite>>;
    /// An organization's pending invitations.
    async fn org_invites(&self, org: &str) -> StoreResult<Vec<Invite>>;
    async fn delete_invite(&self, invite: &Invite) -> StoreResult<()>;

    /// Claims the one-time first-run setup; `true` for the single caller that gets it.
    async fn claim_setup(&self) -> StoreResult<bool>;
}

/// Resolves host names (for the egress policy: a webhook's host must resolve to public
/// addresses only, and a delivery connects to exactly the addresses that were checked).
#[async_trait]
pub trait Resolver: Send + Sync {
    /// Every address the name resolves to; an error says why there are none.
    async fn resolve(&self, host: &str) -> Result<Vec<std::net::IpAddr>, String>;
}

/// What an account's owner sees and revokes of their credentials, and password resets.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The user's sessions, expired ones included (the caller filters).
    async fn user_sessions(&self, email: &str) -> StoreResult<Vec<Session>>;
    async fn put_password_reset(&self, reset: &PasswordReset) -> StoreResult<()>;
    /// Takes the reset stored under this digest: the single caller that gets it removes it,
    /// so a reset link works once.
    async fn take_password_reset(&self, digest: &str) -> StoreResult<Option<PasswordReset>>;
    /// Takes the invitation stored under this digest (and its copy under the organization): a
    /// link accepted twice at once joins once.
    async fn take_invite(&self, digest: &str) -> StoreResult<Option<Invite>>;
}

/// An organization's audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    async fn record(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// The organization's entries newest first, starting after `cursor` (from an earlier
    /// page), at most `limit`; and the cursor of the next page, if there is one.
    async fn entries(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<(Vec<AuditEntry>, Option<String>)>;
}

/// Failed credential checks, counted per scope (an account, a client address) in fixed
/// windows: a scope with too many failures waits for its window to end.
#[async_trait]
pub trait Throttle: Send + Sync {
    /// `Some(seconds until the window ends)` when `scope` has `limit.count` failures in the
    /// current window already.
    async fn blocked(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>>;
    /// Counts one failure of `scope` in the current window.
    async fn failed(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<()>;
}

/// Where the API and the processor leave messages for the notifier (e-mail, webhooks).
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn send(&self, notice: &errata_domain::Notice) -> StoreResult<()>;
}

/// An e-mail ready to send: both a plain-text and an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Sends e-mail (SES).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> StoreResult<()>;
}

/// Where ingest hands accepted envelopes to the processor.
#[async_trait]
pub trait EnvelopeQueue: Send + Sync {
    async fn send(&self, envelope: &QueuedEnvelope) -> StoreResult<()>;
}

/// Where messages that can never be processed are parked, with the reason, for an operator
/// to read (and, once the cause is fixed, replay with a redrive).
#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn park(&self, body: &str, reason: &str) -> StoreResult<()>;
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

/// What one step of purging a deleted issue's events did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purge {
    /// The ids of the events purged in this step.
    pub events: Vec<String>,
    /// Those of them that had attachments (which go next).
    pub with_attachments: Vec<String>,
    /// No event of the deleted issue is left.
    pub done: bool,
}

/// One page of an issue's events and the cursor of the next page, if there is one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventPage {
    pub events: Vec<StoredEvent>,
    pub next: Option<String>,
}

/// The order of an issue list, newest or largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSort {
    LastSeen,
    FirstSeen,
    TimesSeen,
    UsersSeen,
}

impl IssueSort {
    /// The value an issue is ordered by (ties broken by id).
    pub fn key(self, issue: &Issue) -> i64 {
        match self {
            IssueSort::LastSeen => issue.last_seen.unix_millis(),
            IssueSort::FirstSeen => issue.first_seen.unix_millis(),
            IssueSort::TimesSeen => issue.times_seen.min(i64::MAX as u64) as i64,
            IssueSort::UsersSeen => issue.users_seen.min(i64::MAX as u64) as i64,
        }
    }
}

/// Which of a project's issues to list.
pub struct IssueQuery<'a> {
    pub project_id: u64,
    /// Only issues in these statuses (the store reads only those).
    pub statuses: &'a [IssueStatus],
    pub sort: IssueSort,
    /// Only issues last seen at or after this time (Unix ms).
    pub seen_after: i64,
    /// Decides each candidate: the search terms.
    pub filter: &'a (dyn Fn(&Issue) -> bool + Send + Sync),
    /// Whether `filter` may turn issues down (search terms beyond statuses): the store then
    /// reads in larger chunks from the start.
    pub selective: bool,
    /// A `next` of an earlier page.
    pub cursor: Option<&'a str>,
    pub limit: usize,
}

/// One page of issues and where the next one starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssuePage {
    pub issues: Vec<Issue>,
    pub next: Option<String>,
}

/// A position in an issue list: the sort value and id of the last issue of a page. The next
/// page holds the issues strictly after it (smaller value, or same value and smaller id).
/// Written `value:id:0`, the shape of Sentry's cursors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListPosition {
    pub key: i64,
    pub id: u64,
}

impl ListPosition {
    pub fn of(issue: &Issue, sort: IssueSort) -> ListPosition {
        ListPosition { key: sort.key(issue), id: issue.id.0 }
    }
    pub fn parse(cursor: &str) -> Option<ListPosition> {
        let mut parts = cursor.split(':');
        let key = parts.next()?.parse().ok()?;
        let id = parts.next()?.parse().ok()?;
        Some(ListPosition { key, id })
    }
    pub fn cursor(&self) -> String {
        format!("{}:{}:0", self.key, self.id)
    }
}

/// A page of `candidates` (in any order): sorted, after `cursor`, at most `limit`.
pub fn page_of(mut candidates: Vec<Issue>, sort: IssueSort, cursor: Option<ListPosition>, limit: usize) -> IssuePage {
    candidates.retain(|i| cursor.is_none_or(|c| ListPosition::of(i, sort) < c));
    candidates.sort_by_key(|i| std::cmp::Reverse(ListPosition::of(i, sort)));
    let next = (candidates.len() > limit).then(|| ListPosition::of(&candidates[limit - 1], sort).cursor());
    candidates.truncate(limit);
    IssuePage { issues: candidates, next }
}

/// Issues and the index of their events.
#[async_trait]
pub trait IssueStore: Send + Sync {
    /// Counts the sighting against its issue (creating the issue on first sight, reopening it
    /// when `status::on_event` says so) and indexes the event, exactly once however often it
    /// is delivered: an event id already recorded for the project changes nothing. Then notes the sighting's user for "users
    /// affected" (approximate: a crash between the two writes misses one user).
    async fn record(&self, sighting: &Sighting) -> StoreResult<Recorded>;
    /// Records a batch's sightings, each as `record` would, one result per sighting. A store
    /// may count an issue's sightings together: DynamoDB writes each issue once per batch.
    async fn record_batch(&self, sightings: &[Sighting]) -> Vec<StoreResult<Recorded>> {
        let mut results = Vec::with_capacity(sightings.len());
        for s in sightings {
            results.push(self.record(s).await);
        }
        results
    }
    /// Moves the issue to a new status, as a user asked.
    async fn set_status(&self, issue: &Issue, change: &StatusChange) -> StoreResult<()>;
    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>>;
    /// The issue as stored right now, by its project and id (a strongly consistent read,
    /// where `issue` may lag just after a write).
    async fn current_issue(&self, project_id: u64, id: IssueId) -> StoreResult<Option<Issue>> {
        Ok(self.issue(id).await?.filter(|i| i.project_id == project_id))
    }
    /// All issues of a project, unordered: for tests and tools (the API pages with
    /// `list_issues`).
    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>>;
    /// A page of a project's issues: those the query's statuses, time and filter admit, in its
    /// order. Reads a bounded number of issues per call; a page may come back short with a
    /// `next` when that bound was reached first.
    async fn list_issues(&self, query: &IssueQuery<'_>) -> StoreResult<IssuePage>;
    /// Assigns the issue to a member (e-mail), or unassigns it.
    async fn set_assignee(&self, issue: &Issue, assignee: Option<&str>) -> StoreResult<()>;
    /// Deletes the issue and marks its events for purging: until `purge_events` has purged
    /// them all, `deleted_before` tells readers which events of the issue's id are gone. A
    /// new event of the same group starts a new issue with none of the old events.
    async fn delete_issue(&self, issue: &Issue) -> StoreResult<()>;
    /// The time (ms) at or before which the events of this issue id belong to a deleted issue
    /// whose purge is not finished; `None` when there is nothing left to purge.
    async fn deleted_before(&self, project_id: u64, issue_id: IssueId) -> StoreResult<Option<i64>>;
    /// Purges up to `limit` events of a deleted issue: their index entries leave the issue's
    /// lists and lookups by id (and stay for deduplication, so a redelivery is not counted
    /// again). Says which events and whether the purge is finished.
    async fn purge_events(&self, project_id: u64, issue_id: IssueId, limit: usize) -> StoreResult<Purge>;
    /// Deleted issues whose events are still being purged.
    async fn pending_purges(&self) -> StoreResult<Vec<(u64, IssueId)>>;
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

/// Rows of a query over the event store: each cell as text, `None` for NULL.
pub type Rows = std::sync::Arc<Vec<Vec<Option<String>>>>;

/// SQL over the Parquet event store (Athena): a query runs in the background and is polled,
/// and finished results are kept briefly, so the same SQL asked again soon costs nothing.
#[async_trait]
pub trait EventQueries: Send + Sync {
    /// The rows of `sql`, waiting at most `wait` for them; `Ok(None)` while the query still
    /// runs (ask again with the same SQL to keep waiting on the same execution).
    async fn rows(&self, sql: &str, wait: std::time::Duration) -> StoreResult<Option<Rows>>;
}

/// Alert rules, per project.
#[async_trait]
pub trait RuleStore: Send + Sync {
    /// A project's rules, oldest first.
    async fn rules(&self, project_id: u64) -> StoreResult<Vec<errata_domain::alerts::AlertRule>>;
    async fn put_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()>;
    async fn delete_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()>;
}

/// The short-lived state of alerting, shared by concurrent processors: per-issue throttles
/// and window counters. Every entry expires by itself.
#[async_trait]
pub trait AlertState: Send + Sync {
    /// Takes `key` until `until_secs` unless it is taken now; `true` for the one caller that
    /// got it.
    async fn claim(&self, key: &str, now_secs: i64, until_secs: i64) -> StoreResult<bool>;
    /// Gives a claim back (its notice could not be queued).
    async fn release(&self, key: &str) -> StoreResult<()>;
    /// Adds one to the counter `key`; returns the new count.
    async fn bump(&self, key: &str, expires_secs: i64) -> StoreResult<u64>;
    /// Marks `key`; `true` the first time.
    async fn mark(&self, key: &str, expires_secs: i64) -> StoreResult<bool>;
}

/// A notification as sent (or tried), for the issue page's "notified at".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    pub project_id: u64,
    pub issue_id: IssueId,
    pub rule_id: String,
    pub rule_name: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// Addresses, or the webhook's host.
    pub target: String,
    pub at: errata_domain::Timestamp,
}

#[async_trait]
pub trait NotificationLog: Send + Sync {
    async fn record_notification(&self, record: &NotificationRecord) -> StoreResult<()>;
    /// An issue's notifications, newest first, at most `limit`.
    async fn notifications(
        &self,
        project_id: u64,
        issue: IssueId,
        limit: usize,
    ) -> StoreResult<Vec<NotificationRecord>>;
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
