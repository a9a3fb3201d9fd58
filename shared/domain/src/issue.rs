//! Issues: the groups events fall into, and the facts recorded about each event.

use crate::status::{StatusDetails, Substatus};
use crate::{EventSummary, Grouping};
use errata_protocol::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// An issue's id: derived from the project and the group hash, so every processor computes
/// the same id for the same group without a shared counter. 53 bits, safe in JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IssueId(pub u64);

impl IssueId {
    pub fn for_group(project_id: u64, hash: &str) -> IssueId {
        let digest = Sha256::new().chain_update(project_id.to_be_bytes()).chain_update(hash.as_bytes()).finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        let id = u64::from_be_bytes(bytes) & ((1 << 53) - 1);
        IssueId(id.max(1))
    }

    pub fn parse(s: &str) -> Option<IssueId> {
        s.parse().ok().filter(|n| *n > 0).map(IssueId)
    }
}

impl fmt::Display for IssueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    Unresolved,
    Resolved,
    Ignored,
}

impl IssueStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            IssueStatus::Unresolved => "unresolved",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
        }
    }

    pub fn parse(s: &str) -> Option<IssueStatus> {
        match s {
            "unresolved" => Some(IssueStatus::Unresolved),
            "resolved" => Some(IssueStatus::Resolved),
            "ignored" => Some(IssueStatus::Ignored),
            _ => None,
        }
    }
}

/// One event as the processor saw it, ready to be counted against its issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub project_id: u64,
    pub issue_id: IssueId,
    pub event_id: String,
    pub timestamp: Timestamp,
    pub grouping: Grouping,
    pub summary: EventSummary,
    pub platform: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    /// A digest of the event's user (id, e-mail, username or IP), for "users affected".
    pub user_hash: Option<String>,
    /// Where the full event JSON is stored.
    pub body: BodyRef,
    /// Days the event is kept, when its project keeps events shorter than the stack does.
    pub retention_days: Option<u32>,
    /// The event has attachments stored (so purging it deletes them).
    pub has_attachments: bool,
}

/// Where an event's JSON lives: a byte range of an object in the events bucket. Events of
/// one processor batch share one object, so storing them costs one PUT per batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyRef {
    pub key: String,
    pub offset: u64,
    /// 0: the whole object.
    pub len: u64,
}

/// An issue as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: IssueId,
    pub project_id: u64,
    pub hash: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub ty: String,
    pub metadata: Value,
    pub platform: String,
    pub status: IssueStatus,
    pub substatus: Substatus,
    pub status_details: StatusDetails,
    pub first_release: Option<String>,
    /// The release of the newest event that had one.
    pub last_release: Option<String>,
    /// Distinct users seen (see `Sighting::user_hash`).
    pub users_seen: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub times_seen: u64,
    pub grouping: Grouping,
    /// Every environment the issue's events named.
    pub environments: Vec<String>,
    /// The member it is assigned to (e-mail), if any.
    pub assignee: Option<String>,
}

impl Issue {
    /// The issue a first sighting creates.
    pub fn from_sighting(s: &Sighting) -> Issue {
        Issue {
            id: s.issue_id,
            project_id: s.project_id,
            hash: s.grouping.hash.clone(),
            title: s.summary.title.clone(),
            culprit: s.summary.culprit.clone(),
            level: s.summary.level.clone(),
            ty: s.summary.ty.clone(),
            metadata: s.summary.metadata.clone(),
            platform: s.platform.clone(),
            status: IssueStatus::Unresolved,
            substatus: Substatus::New,
            status_details: StatusDetails::default(),
            first_release: s.release.clone(),
            last_release: s.release.clone(),
            users_seen: 0,
            first_seen: s.timestamp,
            last_seen: s.timestamp,
            times_seen: 1,
            grouping: s.grouping.clone(),
            environments: s.environment.iter().cloned().collect(),
            assignee: None,
        }
    }
}

impl Issue {
    /// Counts one more event of the issue: its times, release and environment, and the status
    /// change it causes (`status::on_event`, decided on the issue as it was before the event).
    pub fn count(&mut self, s: &Sighting) -> Recorded {
        let reopened = crate::status::on_event(self, s.timestamp, s.release.as_deref());
        self.times_seen += 1;
        if s.timestamp >= self.last_seen && s.release.is_some() {
            self.last_release = s.release.clone();
        }
        self.last_seen = self.last_seen.max(s.timestamp);
        self.first_seen = self.first_seen.min(s.timestamp);
        if let Some(env) = &s.environment {
            if !self.environments.contains(env) {
                self.environments.push(env.clone());
            }
        }
        match reopened {
            Some((change, why)) => {
                self.status = change.status;
                self.substatus = change.substatus;
                self.status_details = change.details;
                match why {
                    crate::status::Reopened::Regressed => Recorded::Regressed,
                    crate::status::Reopened::Escalated => Recorded::Escalated,
                }
            }
            None => Recorded::Counted,
        }
    }

    /// The issue after `events` of it, oldest first, from the issue as stored (none: the first
    /// event creates it), and what each event did.
    pub fn after(stored: Option<&Issue>, events: &[&Sighting]) -> Option<(Issue, Vec<Recorded>)> {
        let (mut issue, mut outcomes, rest) = match stored {
            Some(issue) => (issue.clone(), Vec::with_capacity(events.len()), events),
            None => {
                let (first, rest) = events.split_first()?;
                (Issue::from_sighting(first), vec![Recorded::NewIssue], rest)
            }
        };
        outcomes.extend(rest.iter().map(|s| issue.count(s)));
        Some((issue, outcomes))
    }
}

/// The index entry of a stored event: enough to find its body and its issue.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub project_id: u64,
    pub event_id: String,
    pub issue_id: IssueId,
    pub timestamp: Timestamp,
    pub body: BodyRef,
}

/// User feedback: what someone wrote about an error (Sentry's user report), attached to the
/// issue of the event it names when that event is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub project_id: u64,
    /// The feedback's own id (its event id), which makes storing it idempotent.
    pub id: String,
    pub issue_id: Option<IssueId>,
    /// The event it is about, if the SDK said.
    pub event_id: Option<String>,
    pub name: String,
    pub email: String,
    pub comments: String,
    pub url: Option<String>,
    pub timestamp: Timestamp,
}

/// What recording a sighting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The first event of a new issue.
    NewIssue,
    /// Counted against an existing issue.
    Counted,
    /// Counted against a resolved issue, which is unresolved again (substatus regressed).
    Regressed,
    /// Counted against an ignored issue whose ignore condition it met (substatus escalating).
    Escalated,
    /// This event id was already recorded for the project: nothing changed.
    Duplicate,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unresolved issue seen once, for state tests.
    pub fn issue() -> Issue {
        Issue::from_sighting(&issue_sighting())
    }

    fn sighting(ms: i64, release: Option<&str>) -> Sighting {
        Sighting {
            event_id: format!("e{ms}"),
            timestamp: Timestamp::from_unix_millis(1_700_000_000_000 + ms).unwrap(),
            release: release.map(str::to_owned),
            environment: Some(format!("env{}", ms.rem_euclid(2))),
            ..issue_sighting()
        }
    }

    fn issue_sighting() -> Sighting {
        Sighting {
            project_id: 1,
            issue_id: IssueId(7),
            event_id: "e".into(),
            timestamp: Timestamp::from_unix_millis(1_700_000_000_000).unwrap(),
            grouping: Grouping::default(),
            summary: EventSummary::default(),
            platform: "python".into(),
            release: None,
            environment: None,
            user_hash: None,
            body: BodyRef { key: "k".into(), offset: 0, len: 0 },
            retention_days: None,
            has_attachments: false,
        }
    }

    #[test]
    fn events_of_a_new_issue_create_it_once_and_count_the_rest() {
        let events = [sighting(-5, Some("a")), sighting(0, None), sighting(9, Some("b"))];
        let refs: Vec<&Sighting> = events.iter().collect();
        let (issue, outcomes) = Issue::after(None, &refs).unwrap();
        assert_eq!(outcomes, [Recorded::NewIssue, Recorded::Counted, Recorded::Counted]);
        assert_eq!(issue.times_seen, 3);
        assert_eq!((issue.first_seen, issue.last_seen), (events[0].timestamp, events[2].timestamp));
        assert_eq!((issue.first_release.as_deref(), issue.last_release.as_deref()), (Some("a"), Some("b")));
        assert_eq!(issue.environments, ["env1", "env0"]);
        assert!(Issue::after(None, &[]).is_none());
    }

    #[test]
    fn a_resolved_issue_regresses_on_its_first_later_event_only() {
        let mut resolved = issue();
        resolved.status = IssueStatus::Resolved;
        resolved.status_details.resolved_at = Some(resolved.last_seen.unix_millis() + 10);
        // The first is older than the resolve (late, not a regression); the second reopens it.
        let events = [sighting(5, None), sighting(20, None), sighting(30, None)];
        let refs: Vec<&Sighting> = events.iter().collect();
        let (issue, outcomes) = Issue::after(Some(&resolved), &refs).unwrap();
        assert_eq!(outcomes, [Recorded::Counted, Recorded::Regressed, Recorded::Counted]);
        assert_eq!((issue.status, issue.substatus), (IssueStatus::Unresolved, Substatus::Regressed));
        assert_eq!(issue.times_seen, resolved.times_seen + 3);
        assert_eq!(issue.first_seen, resolved.first_seen);
        assert_eq!(issue.last_seen, events[2].timestamp);
    }

    #[test]
    fn issue_ids_are_stable_and_scoped_to_the_project() {
        let a = IssueId::for_group(1, "abc");
        assert_eq!(a, IssueId::for_group(1, "abc"));
        assert_ne!(a, IssueId::for_group(2, "abc"));
        assert!(a.0 < (1 << 53));
        assert_eq!(IssueId::parse(&a.to_string()), Some(a));
        assert_eq!(IssueId::parse("0"), None);
        assert_eq!(IssueId::parse("x"), None);
    }
}
