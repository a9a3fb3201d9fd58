//! In-memory implementations of the ports for fast handler tests, and fixture loading.
//! Adapter behaviour against real services is tested in `errata-aws` and end to end.

use async_trait::async_trait;
use errata_domain::issue::Recorded;
use errata_domain::sessions::{SessionBucket, SessionContribution, SessionCounts};
use errata_domain::{
    ApiToken, Feedback, Invite, Issue, IssueId, Member, Org, Project, ProjectKey, QueuedEnvelope, RateLimit, Session,
    Sighting, StatusChange, StoredEvent, User,
};
use errata_ports::{
    page_of, BlobStore, Directory, EnvelopeQueue, EventOrder, EventPage, FeedbackScope, IssuePage, IssueQuery,
    IssueStore, ListPosition, Listing, RateLimiter, ReleaseHealth, StoreError, StoreResult,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

/// Reads `tests/fixtures/<path>` from the repository; panics loudly when it is missing.
pub fn fixture(path: &str) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(path);
    std::fs::read(&root).unwrap_or_else(|e| panic!("fixture {} is missing: {e}", root.display()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct MemoryDirectory {
    orgs: Mutex<HashMap<String, Org>>,
    projects: Mutex<BTreeMap<u64, Project>>,
    keys: Mutex<HashMap<String, ProjectKey>>,
    users: Mutex<HashMap<String, User>>,
    members: Mutex<HashMap<(String, String), Member>>,
    tokens: Mutex<HashMap<String, ApiToken>>,
    sessions: Mutex<HashMap<String, Session>>,
    invites: Mutex<HashMap<String, Invite>>,
    resets: Mutex<HashMap<String, errata_domain::PasswordReset>>,
    audit: Mutex<BTreeMap<(String, String), errata_domain::AuditEntry>>,
    setup_claimed: Mutex<bool>,
    debug_files: Mutex<BTreeMap<(u64, String, String), errata_domain::difs::DebugFile>>,
    bundles: Mutex<BTreeMap<(u64, String), errata_domain::difs::ArtifactBundle>>,
    releases: Mutex<BTreeMap<(String, String), errata_domain::releases::Release>>,
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn project_key(&self, public_key: &str) -> StoreResult<Option<ProjectKey>> {
        Ok(lock(&self.keys).get(public_key).cloned())
    }
    async fn org(&self, slug: &str) -> StoreResult<Option<Org>> {
        Ok(lock(&self.orgs).get(slug).cloned())
    }
    async fn project(&self, id: u64) -> StoreResult<Option<Project>> {
        Ok(lock(&self.projects).get(&id).cloned())
    }
    async fn project_by_slug(&self, org: &str, slug: &str) -> StoreResult<Option<Project>> {
        Ok(lock(&self.projects).values().find(|p| p.org == org && p.slug == slug).cloned())
    }
    async fn member(&self, org: &str, email: &str) -> StoreResult<Option<Member>> {
        Ok(lock(&self.members).get(&(org.to_owned(), email.to_owned())).cloned())
    }
    async fn user(&self, email: &str) -> StoreResult<Option<User>> {
        Ok(lock(&self.users).get(email).cloned())
    }
    async fn api_token(&self, digest: &str) -> StoreResult<Option<ApiToken>> {
        Ok(lock(&self.tokens).get(digest).cloned())
    }
    async fn put_org(&self, org: &Org) -> StoreResult<()> {
        lock(&self.orgs).insert(org.slug.clone(), org.clone());
        Ok(())
    }
    async fn create_org(&self, org: &Org) -> StoreResult<bool> {
        let mut orgs = lock(&self.orgs);
        if orgs.contains_key(&org.slug) {
            return Ok(false);
        }
        orgs.insert(org.slug.clone(), org.clone());
        Ok(true)
    }
    async fn create_project(&self, project: &Project) -> StoreResult<Option<Project>> {
        let taken = lock(&self.projects).values().any(|p| p.org == project.org && p.slug == project.slug);
        if taken {
            return Ok(None);
        }
        self.put_project(&Project { id: 0, ..project.clone() }).await.map(Some)
    }
    async fn put_project(&self, project: &Project) -> StoreResult<Project> {
        let mut projects = lock(&self.projects);
        let mut p = project.clone();
        if p.id == 0 {
            p.id = projects.keys().next_back().copied().unwrap_or(0) + 1;
        }
        projects.insert(p.id, p.clone());
        Ok(p)
    }
    async fn put_project_key(&self, key: &ProjectKey) -> StoreResult<()> {
        lock(&self.keys).insert(key.public_key.clone(), key.clone());
        Ok(())
    }
    async fn put_user(&self, user: &User) -> StoreResult<()> {
        lock(&self.users).insert(user.email.clone(), user.clone());
        Ok(())
    }
    async fn put_member(&self, member: &Member) -> StoreResult<()> {
        lock(&self.members).insert((member.org.clone(), member.email.clone()), member.clone());
        Ok(())
    }
    async fn put_api_token(&self, token: &ApiToken) -> StoreResult<()> {
        lock(&self.tokens).insert(token.digest.clone(), token.clone());
        Ok(())
    }
    async fn user_memberships(&self, email: &str) -> StoreResult<Vec<Member>> {
        let mut found: Vec<Member> = lock(&self.members).values().filter(|m| m.email == email).cloned().collect();
        found.sort_by(|a, b| a.org.cmp(&b.org));
        Ok(found)
    }
    async fn org_members(&self, org: &str) -> StoreResult<Vec<Member>> {
        let mut found: Vec<Member> = lock(&self.members).values().filter(|m| m.org == org).cloned().collect();
        found.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(found)
    }
    async fn delete_member(&self, org: &str, email: &str) -> StoreResult<()> {
        lock(&self.members).remove(&(org.to_owned(), email.to_owned()));
        Ok(())
    }
    async fn org_projects(&self, org: &str) -> StoreResult<Vec<Project>> {
        let mut found: Vec<Project> = lock(&self.projects).values().filter(|p| p.org == org).cloned().collect();
        found.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(found)
    }
    async fn project_keys(&self, project_id: u64) -> StoreResult<Vec<ProjectKey>> {
        let mut found: Vec<ProjectKey> =
            lock(&self.keys).values().filter(|k| k.project_id == project_id).cloned().collect();
        found.sort_by(|a, b| a.public_key.cmp(&b.public_key));
        Ok(found)
    }
    async fn delete_project_key(&self, key: &ProjectKey) -> StoreResult<()> {
        lock(&self.keys).remove(&key.public_key);
        Ok(())
    }

    async fn put_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()> {
        let key = (file.project_id, file.debug_id.clone(), file.id.clone());
        lock(&self.debug_files).insert(key, file.clone());
        Ok(())
    }

    async fn debug_files(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::DebugFile>> {
        let files = lock(&self.debug_files);
        Ok(files.iter().filter(|((p, _, _), _)| *p == project_id).map(|(_, f)| f.clone()).collect())
    }

    async fn delete_debug_file(&self, file: &errata_domain::difs::DebugFile) -> StoreResult<()> {
        lock(&self.debug_files).remove(&(file.project_id, file.debug_id.clone(), file.id.clone()));
        Ok(())
    }

    async fn put_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()> {
        lock(&self.bundles).insert((bundle.project_id, bundle.id.clone()), bundle.clone());
        Ok(())
    }

    async fn artifact_bundles(&self, project_id: u64) -> StoreResult<Vec<errata_domain::difs::ArtifactBundle>> {
        let bundles = lock(&self.bundles);
        Ok(bundles.iter().filter(|((p, _), _)| *p == project_id).map(|(_, b)| b.clone()).collect())
    }

    async fn delete_artifact_bundle(&self, bundle: &errata_domain::difs::ArtifactBundle) -> StoreResult<()> {
        lock(&self.bundles).remove(&(bundle.project_id, bundle.id.clone()));
        Ok(())
    }

    async fn put_release(&self, release: &errata_domain::releases::Release) -> StoreResult<()> {
        lock(&self.releases).insert((release.org.clone(), release.version.clone()), release.clone());
        Ok(())
    }

    async fn releases(&self, org: &str) -> StoreResult<Vec<errata_domain::releases::Release>> {
        Ok(lock(&self.releases).values().filter(|r| r.org == org).cloned().collect())
    }

    async fn delete_release(&self, org: &str, version: &str) -> StoreResult<()> {
        lock(&self.releases).remove(&(org.to_owned(), version.to_owned()));
        Ok(())
    }
    async fn user_tokens(&self, email: &str) -> StoreResult<Vec<ApiToken>> {
        let mut found: Vec<ApiToken> = lock(&self.tokens).values().filter(|t| t.email == email).cloned().collect();
        found.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(found)
    }
    async fn delete_api_token(&self, token: &ApiToken) -> StoreResult<()> {
        lock(&self.tokens).remove(&token.digest);
        Ok(())
    }
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        lock(&self.sessions).insert(session.digest.clone(), session.clone());
        Ok(())
    }
    async fn session(&self, digest: &str) -> StoreResult<Option<Session>> {
        Ok(lock(&self.sessions).get(digest).cloned())
    }
    async fn delete_session(&self, session: &Session) -> StoreResult<()> {
        lock(&self.sessions).remove(&session.digest);
        Ok(())
    }
    async fn put_invite(&self, invite: &Invite) -> StoreResult<()> {
        let mut invites = lock(&self.invites);
        invites.retain(|_, i| !(i.org == invite.org && i.email == invite.email));
        invites.insert(invite.digest.clone(), invite.clone());
        Ok(())
    }
    async fn invite(&self, digest: &str) -> StoreResult<Option<Invite>> {
        Ok(lock(&self.invites).get(digest).cloned())
    }
    async fn org_invites(&self, org: &str) -> StoreResult<Vec<Invite>> {
        let mut found: Vec<Invite> = lock(&self.invites).values().filter(|i| i.org == org).cloned().collect();
        found.sort_by(|a, b| a.email.cmp(&b.email));
        Ok(found)
    }
    async fn delete_invite(&self, invite: &Invite) -> StoreResult<()> {
        lock(&self.invites).remove(&invite.digest);
        Ok(())
    }
    async fn claim_setup(&self) -> StoreResult<bool> {
        Ok(!std::mem::replace(&mut *lock(&self.setup_claimed), true))
    }
}

#[async_trait]
impl errata_ports::Accounts for MemoryDirectory {
    async fn user_sessions(&self, email: &str) -> StoreResult<Vec<Session>> {
        let mut found: Vec<Session> = lock(&self.sessions).values().filter(|s| s.email == email).cloned().collect();
        found.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(found)
    }
    async fn put_password_reset(&self, reset: &errata_domain::PasswordReset) -> StoreResult<()> {
        lock(&self.resets).insert(reset.digest.clone(), reset.clone());
        Ok(())
    }
    async fn take_password_reset(&self, digest: &str) -> StoreResult<Option<errata_domain::PasswordReset>> {
        Ok(lock(&self.resets).remove(digest))
    }
    async fn take_invite(&self, digest: &str) -> StoreResult<Option<Invite>> {
        Ok(lock(&self.invites).remove(digest))
    }
}

#[async_trait]
impl errata_ports::AuditLog for MemoryDirectory {
    async fn record(&self, entry: &errata_domain::AuditEntry) -> StoreResult<()> {
        let key = (entry.org.clone(), format!("{:013}#{}", entry.at_ms, entry.id));
        lock(&self.audit).insert(key, entry.clone());
        Ok(())
    }
    async fn entries(
        &self,
        org: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<(Vec<errata_domain::AuditEntry>, Option<String>)> {
        let audit = lock(&self.audit);
        let mut page: Vec<(&String, &errata_domain::AuditEntry)> = audit
            .iter()
            .rev()
            .filter(|((o, sk), _)| o == org && cursor.is_none_or(|c| sk.as_str() < c))
            .map(|((_, sk), e)| (sk, e))
            .take(limit + 1)
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let next = more.then(|| page.last().map(|(sk, _)| (*sk).clone())).flatten();
        Ok((page.into_iter().map(|(_, e)| e.clone()).collect(), next))
    }
}

/// A DNS whose answers a test sets: names it does not know do not resolve.
#[derive(Default)]
pub struct StaticResolver {
    pub names: Mutex<HashMap<String, Vec<std::net::IpAddr>>>,
}

impl StaticResolver {
    pub fn with(names: &[(&str, &str)]) -> StaticResolver {
        let map = names
            .iter()
            .map(|(n, ip)| ((*n).to_owned(), vec![ip.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]))]))
            .collect();
        StaticResolver { names: Mutex::new(map) }
    }
}

#[async_trait]
impl errata_ports::Resolver for StaticResolver {
    async fn resolve(&self, host: &str) -> Result<Vec<std::net::IpAddr>, String> {
        lock(&self.names).get(host).cloned().ok_or_else(|| format!("{host}: no such host"))
    }
}

/// Collects the notices sent; fails (retryably) the next `failures` sends first.
#[derive(Default)]
pub struct MemoryOutbox {
    pub sent: Mutex<Vec<errata_domain::Notice>>,
    pub failures: Mutex<usize>,
}

impl MemoryOutbox {
    pub fn notices(&self) -> Vec<errata_domain::Notice> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl errata_ports::Outbox for MemoryOutbox {
    async fn send(&self, notice: &errata_domain::Notice) -> StoreResult<()> {
        let mut failures = lock(&self.failures);
        if *failures > 0 {
            *failures -= 1;
            return Err(StoreError::retryable("queue throttled"));
        }
        lock(&self.sent).push(notice.clone());
        Ok(())
    }
}

/// Collects what was sent; can be told to fail, to test error paths.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<QueuedEnvelope>>,
    pub fail: Mutex<bool>,
}

impl MemoryQueue {
    pub fn messages(&self) -> Vec<QueuedEnvelope> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl EnvelopeQueue for MemoryQueue {
    async fn send(&self, envelope: &QueuedEnvelope) -> StoreResult<()> {
        if *lock(&self.fail) {
            return Err(StoreError::retryable("queue unavailable (test)"));
        }
        lock(&self.sent).push(envelope.clone());
        Ok(())
    }
}

/// Parked poison messages `(body, reason)`; can be told to fail.
#[derive(Default)]
pub struct MemoryDeadLetters {
    pub parked: Mutex<Vec<(String, String)>>,
    pub fail: Mutex<bool>,
}

#[async_trait]
impl errata_ports::DeadLetters for MemoryDeadLetters {
    async fn park(&self, body: &str, reason: &str) -> StoreResult<()> {
        if *lock(&self.fail) {
            return Err(StoreError::retryable("dead-letter queue unavailable (test)"));
        }
        lock(&self.parked).push((body.to_owned(), reason.to_owned()));
        Ok(())
    }
}

/// Objects in memory; can be told to fail reads and writes, to test error paths.
#[derive(Default)]
pub struct MemoryBlobs {
    pub objects: Mutex<HashMap<String, Vec<u8>>>,
    pub fail: Mutex<bool>,
}

impl MemoryBlobs {
    fn check(&self) -> StoreResult<()> {
        match *lock(&self.fail) {
            true => Err(StoreError::retryable("bucket unavailable (test)")),
            false => Ok(()),
        }
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> StoreResult<()> {
        self.check()?;
        lock(&self.objects).insert(key.to_owned(), bytes);
        Ok(())
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.check()?;
        Ok(lock(&self.objects).get(key).cloned())
    }
    async fn get_range(&self, key: &str, offset: u64, len: u64) -> StoreResult<Option<Vec<u8>>> {
        let objects = lock(&self.objects);
        let Some(bytes) = objects.get(key) else { return Ok(None) };
        if len == 0 {
            return Ok(Some(bytes.clone()));
        }
        let start = (offset as usize).min(bytes.len());
        let end = (start + len as usize).min(bytes.len());
        Ok(Some(bytes[start..end].to_vec()))
    }
    async fn list(&self, prefix: &str) -> StoreResult<Listing> {
        let mut listing = Listing::default();
        for (key, bytes) in lock(&self.objects).iter() {
            let Some(rest) = key.strip_prefix(prefix) else { continue };
            match rest.split_once('/') {
                Some((folder, _)) => listing.folders.push(format!("{prefix}{folder}/")),
                None => listing.objects.push((key.clone(), bytes.len() as u64)),
            }
        }
        listing.objects.sort();
        listing.folders.sort();
        listing.folders.dedup();
        Ok(listing)
    }
    async fn delete(&self, keys: &[String]) -> StoreResult<()> {
        let mut objects = lock(&self.objects);
        for key in keys {
            objects.remove(key);
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryIssues {
    issues: Mutex<HashMap<IssueId, Issue>>,
    events: Mutex<Vec<StoredEvent>>,
    seen: Mutex<HashSet<(u64, String)>>,
    users: Mutex<HashSet<(IssueId, String)>>,
    sessions: Mutex<BTreeMap<(u64, SessionBucket), SessionCounts>>,
    session_keys: Mutex<HashSet<(u64, String)>>,
    feedback: Mutex<BTreeMap<(u64, String), Feedback>>,
    /// Deleted issues whose events are still to purge, with the time of deletion (ms).
    purges: Mutex<HashMap<(u64, IssueId), i64>>,
    /// Events recorded with attachments.
    attached: Mutex<HashSet<(u64, String)>>,
}

#[async_trait]
impl ReleaseHealth for MemoryIssues {
    async fn record_sessions(&self, project_id: u64, c: &SessionContribution) -> StoreResult<bool> {
        if !lock(&self.session_keys).insert((project_id, c.dedup_key.clone())) {
            return Ok(false);
        }
        lock(&self.sessions).entry((project_id, c.bucket.clone())).or_default().add(&c.counts);
        Ok(true)
    }
    async fn session_counts(
        &self,
        project_id: u64,
        release: Option<&str>,
        since_ms: i64,
    ) -> StoreResult<Vec<(SessionBucket, SessionCounts)>> {
        Ok(lock(&self.sessions)
            .iter()
            .filter(|((p, b), _)| *p == project_id && b.hour_ms >= since_ms && release.is_none_or(|r| r == b.release))
            .map(|((_, b), c)| (b.clone(), *c))
            .collect())
    }
}

#[async_trait]
impl IssueStore for MemoryIssues {
    async fn record(&self, s: &Sighting) -> StoreResult<Recorded> {
        if !lock(&self.seen).insert((s.project_id, s.event_id.clone())) {
            return Ok(Recorded::Duplicate);
        }
        if s.has_attachments {
            lock(&self.attached).insert((s.project_id, s.event_id.clone()));
        }
        lock(&self.events).push(StoredEvent {
            project_id: s.project_id,
            event_id: s.event_id.clone(),
            issue_id: s.issue_id,
            timestamp: s.timestamp,
            body: s.body.clone(),
        });
        let new_user = s.user_hash.as_ref().is_some_and(|u| lock(&self.users).insert((s.issue_id, u.clone())));
        let mut issues = lock(&self.issues);
        let Some(issue) = issues.get_mut(&s.issue_id) else {
            let mut issue = Issue::from_sighting(s);
            issue.users_seen = u64::from(new_user);
            issues.insert(s.issue_id, issue);
            return Ok(Recorded::NewIssue);
        };
        issue.users_seen += u64::from(new_user);
        Ok(issue.count(s))
    }
    async fn set_status(&self, issue: &Issue, change: &StatusChange) -> StoreResult<()> {
        let mut issues = lock(&self.issues);
        let stored = issues.get_mut(&issue.id).ok_or_else(|| StoreError::permanent("no such issue"))?;
        stored.status = change.status;
        stored.substatus = change.substatus;
        stored.status_details = change.details.clone();
        Ok(())
    }
    async fn issue(&self, id: IssueId) -> StoreResult<Option<Issue>> {
        Ok(lock(&self.issues).get(&id).cloned())
    }
    async fn project_issues(&self, project_id: u64) -> StoreResult<Vec<Issue>> {
        Ok(lock(&self.issues).values().filter(|i| i.project_id == project_id).cloned().collect())
    }
    async fn list_issues(&self, q: &IssueQuery<'_>) -> StoreResult<IssuePage> {
        let candidates: Vec<Issue> = lock(&self.issues)
            .values()
            .filter(|i| {
                i.project_id == q.project_id
                    && q.statuses.contains(&i.status)
                    && i.last_seen.unix_millis() >= q.seen_after
                    && (q.filter)(i)
            })
            .cloned()
            .collect();
        let cursor = match q.cursor {
            Some(c) => Some(ListPosition::parse(c).ok_or_else(|| StoreError::permanent("malformed issue cursor"))?),
            None => None,
        };
        Ok(page_of(candidates, q.sort, cursor, q.limit))
    }
    async fn set_assignee(&self, issue: &Issue, assignee: Option<&str>) -> StoreResult<()> {
        let mut issues = lock(&self.issues);
        let stored = issues.get_mut(&issue.id).ok_or_else(|| StoreError::permanent("no such issue"))?;
        stored.assignee = assignee.map(str::to_owned);
        Ok(())
    }
    async fn delete_issue(&self, issue: &Issue) -> StoreResult<()> {
        lock(&self.purges).insert((issue.project_id, issue.id), errata_domain::Timestamp::now().unix_millis());
        lock(&self.issues).remove(&issue.id);
        Ok(())
    }
    async fn deleted_before(&self, project_id: u64, issue_id: IssueId) -> StoreResult<Option<i64>> {
        Ok(lock(&self.purges).get(&(project_id, issue_id)).copied())
    }
    async fn purge_events(&self, project_id: u64, issue_id: IssueId, limit: usize) -> StoreResult<errata_ports::Purge> {
        let Some(at) = self.deleted_before(project_id, issue_id).await? else {
            return Ok(errata_ports::Purge { done: true, ..Default::default() });
        };
        let mut events = lock(&self.events);
        let mut purged = Vec::new();
        // Purged entries leave the issue (their ids stay in `seen`: redeliveries are duplicates).
        events.retain(|e| {
            let gone = e.project_id == project_id
                && e.issue_id == issue_id
                && e.timestamp.unix_millis() <= at
                && purged.len() < limit;
            if gone {
                purged.push(e.event_id.clone());
            }
            !gone
        });
        let done = purged.is_empty();
        if done {
            lock(&self.purges).remove(&(project_id, issue_id));
        }
        let attached = lock(&self.attached);
        let with_attachments =
            purged.iter().filter(|id| attached.contains(&(project_id, (*id).clone()))).cloned().collect();
        Ok(errata_ports::Purge { events: purged, with_attachments, done })
    }
    async fn pending_purges(&self) -> StoreResult<Vec<(u64, IssueId)>> {
        Ok(lock(&self.purges).keys().copied().collect())
    }
    async fn issue_events(
        &self,
        id: IssueId,
        order: EventOrder,
        cursor: Option<&str>,
        limit: usize,
    ) -> StoreResult<EventPage> {
        let mut events: Vec<StoredEvent> = lock(&self.events).iter().filter(|e| e.issue_id == id).cloned().collect();
        events.sort_by(|a, b| (a.timestamp, &a.event_id).cmp(&(b.timestamp, &b.event_id)));
        if order == EventOrder::NewestFirst {
            events.reverse();
        }
        // Cursors look like DynamoDB's: `ts:project:event_id` of the last event of a page.
        let skip = match cursor.and_then(|c| c.rsplit(':').next()) {
            Some(last) => events.iter().position(|e| e.event_id == last).map_or(events.len(), |p| p + 1),
            None => 0,
        };
        let page: Vec<StoredEvent> = events.iter().skip(skip).take(limit).cloned().collect();
        let next = (skip + page.len() < events.len())
            .then(|| page.last().map(|e| format!("{}:{}:{}", e.timestamp.unix_millis(), e.project_id, e.event_id)))
            .flatten();
        Ok(EventPage { events: page, next })
    }
    async fn event(&self, project_id: u64, event_id: &str) -> StoreResult<Option<StoredEvent>> {
        Ok(lock(&self.events).iter().find(|e| e.project_id == project_id && e.event_id == event_id).cloned())
    }
    async fn add_feedback(&self, f: &Feedback) -> StoreResult<()> {
        lock(&self.feedback).insert((f.project_id, f.id.clone()), f.clone());
        Ok(())
    }
    async fn feedback(&self, project_id: u64, scope: FeedbackScope, limit: usize) -> StoreResult<Vec<Feedback>> {
        let mut found: Vec<Feedback> = lock(&self.feedback)
            .values()
            .filter(|f| {
                f.project_id == project_id
                    && match scope {
                        FeedbackScope::All => true,
                        FeedbackScope::Issue(id) => f.issue_id == Some(id),
                        FeedbackScope::Unattached => f.issue_id.is_none(),
                    }
            })
            .cloned()
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.timestamp));
        found.truncate(limit);
        Ok(found)
    }
}

/// Fixed-window counters in memory, with the same semantics as the DynamoDB limiter.
#[derive(Default)]
pub struct MemoryRateLimiter {
    counts: Mutex<HashMap<String, u64>>,
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn try_take(&self, scope: &str, quantity: u64, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>> {
        let (start, retry_after) = limit.window(now_secs);
        let mut counts = lock(&self.counts);
        let count = counts.entry(format!("{scope}@{start}")).or_default();
        if *count + quantity > limit.count {
            return Ok(Some(retry_after));
        }
        *count += quantity;
        Ok(None)
    }
}

#[async_trait]
impl errata_ports::Throttle for MemoryRateLimiter {
    async fn blocked(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<Option<u64>> {
        let (start, retry_after) = limit.window(now_secs);
        let failures = lock(&self.counts).get(&format!("{scope}@{start}")).copied().unwrap_or(0);
        Ok((failures >= limit.count).then_some(retry_after))
    }
    async fn failed(&self, scope: &str, limit: &RateLimit, now_secs: i64) -> StoreResult<()> {
        let (start, _) = limit.window(now_secs);
        *lock(&self.counts).entry(format!("{scope}@{start}")).or_default() += 1;
        Ok(())
    }
}

/// Serializes a JSON value for test fixtures; keeps tests free of `unwrap` noise.
pub fn json_bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Every file under `tests/fixtures/<dir>` whose name ends in `suffix`, sorted; panics when
/// the directory is missing or holds none, so a corpus test never passes vacuously.
pub fn fixture_files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(dir);
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("fixture directory {} is missing: {e}", d.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no *{suffix} fixtures under {}", root.display());
    files
}

/// Rows as `EventQueries` returns them.
type Table = Vec<Vec<Option<String>>>;

/// Answers event-store queries from a script: the rows of the first pattern the SQL contains
/// (no rows otherwise), and remembers every SQL asked. Handler tests check the SQL built and
/// the use of the rows; the real engine runs in the adapter and end-to-end tests.
#[derive(Default)]
pub struct ScriptedQueries {
    answers: Mutex<Vec<(String, Table)>>,
    pub asked: Mutex<Vec<String>>,
    /// When set, every query is still running.
    pub pending: Mutex<bool>,
}

impl ScriptedQueries {
    pub fn answer(&self, pattern: &str, rows: Vec<Vec<Option<&str>>>) {
        let rows = rows.into_iter().map(|r| r.into_iter().map(|c| c.map(str::to_owned)).collect()).collect();
        lock(&self.answers).push((pattern.to_owned(), rows));
    }
    pub fn asked(&self) -> Vec<String> {
        lock(&self.asked).clone()
    }
}

#[async_trait]
impl errata_ports::EventQueries for ScriptedQueries {
    async fn rows(&self, sql: &str, _wait: std::time::Duration) -> StoreResult<Option<errata_ports::Rows>> {
        lock(&self.asked).push(sql.to_owned());
        if *lock(&self.pending) {
            return Ok(None);
        }
        let answers = lock(&self.answers);
        let rows = answers.iter().find(|(p, _)| sql.contains(p.as_str())).map(|(_, r)| r.clone()).unwrap_or_default();
        Ok(Some(std::sync::Arc::new(rows)))
    }
}

/// Alert rules in memory, by project.
#[derive(Default)]
pub struct MemoryRules {
    rules: Mutex<Vec<errata_domain::alerts::AlertRule>>,
}

#[async_trait]
impl errata_ports::RuleStore for MemoryRules {
    async fn rules(&self, project_id: u64) -> StoreResult<Vec<errata_domain::alerts::AlertRule>> {
        Ok(lock(&self.rules).iter().filter(|r| r.project_id == project_id).cloned().collect())
    }
    async fn put_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()> {
        let mut rules = lock(&self.rules);
        match rules.iter_mut().find(|r| r.id == rule.id && r.project_id == rule.project_id) {
            Some(r) => *r = rule.clone(),
            None => rules.push(rule.clone()),
        }
        Ok(())
    }
    async fn delete_rule(&self, rule: &errata_domain::alerts::AlertRule) -> StoreResult<()> {
        lock(&self.rules).retain(|r| !(r.id == rule.id && r.project_id == rule.project_id));
        Ok(())
    }
}

/// Alert throttles and counters in memory (expiry is not needed in tests).
#[derive(Default)]
pub struct MemoryAlertState {
    claims: Mutex<HashMap<String, i64>>,
    counters: Mutex<HashMap<String, u64>>,
}

#[async_trait]
impl errata_ports::AlertState for MemoryAlertState {
    async fn claim(&self, key: &str, now_secs: i64, until_secs: i64) -> StoreResult<bool> {
        let mut claims = lock(&self.claims);
        if claims.get(key).is_some_and(|until| *until > now_secs) {
            return Ok(false);
        }
        claims.insert(key.to_owned(), until_secs);
        Ok(true)
    }
    async fn release(&self, key: &str) -> StoreResult<()> {
        lock(&self.claims).remove(key);
        Ok(())
    }
    async fn bump(&self, key: &str, _expires_secs: i64) -> StoreResult<u64> {
        let mut counters = lock(&self.counters);
        let n = counters.entry(key.to_owned()).or_default();
        *n += 1;
        Ok(*n)
    }
    async fn mark(&self, key: &str, _expires_secs: i64) -> StoreResult<bool> {
        Ok(lock(&self.counters).insert(format!("mark:{key}"), 1).is_none())
    }
}

/// Notification records in memory.
#[derive(Default)]
pub struct MemoryNotificationLog {
    pub records: Mutex<Vec<errata_ports::NotificationRecord>>,
}

#[async_trait]
impl errata_ports::NotificationLog for MemoryNotificationLog {
    async fn record_notification(&self, record: &errata_ports::NotificationRecord) -> StoreResult<()> {
        lock(&self.records).push(record.clone());
        Ok(())
    }
    async fn notifications(
        &self,
        project_id: u64,
        issue: IssueId,
        limit: usize,
    ) -> StoreResult<Vec<errata_ports::NotificationRecord>> {
        let mut found: Vec<_> =
            lock(&self.records).iter().filter(|r| r.project_id == project_id && r.issue_id == issue).cloned().collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.at));
        found.truncate(limit);
        Ok(found)
    }
}
