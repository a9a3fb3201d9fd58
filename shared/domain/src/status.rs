//! An issue's lifecycle: resolve, resolve in the next release, ignore (forever, until a count,
//! until a time), and what a new event does to each state (regress, escalate, or nothing).
//! Sentry's vocabulary: `status` unresolved | resolved | ignored, `substatus` new | ongoing |
//! regressed | escalating | archived_*.

use crate::issue::{Issue, IssueStatus};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// How long a new issue counts as `new` before it becomes `ongoing` (Sentry: 7 days).
pub const NEW_ISSUE_DAYS: i64 = 7;

/// Why an issue is unresolved or ignored, beyond its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Substatus {
    /// Unresolved and first seen recently, or never changed state.
    #[default]
    New,
    Ongoing,
    /// Was resolved, then seen again.
    Regressed,
    /// Was ignored until a condition, and the condition was met.
    Escalating,
    ArchivedForever,
    ArchivedUntilConditionMet,
}

impl Substatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Substatus::New => "new",
            Substatus::Ongoing => "ongoing",
            Substatus::Regressed => "regressed",
            Substatus::Escalating => "escalating",
            Substatus::ArchivedForever => "archived_forever",
            Substatus::ArchivedUntilConditionMet => "archived_until_condition_met",
        }
    }

    pub fn parse(s: &str) -> Option<Substatus> {
        [
            Substatus::New,
            Substatus::Ongoing,
            Substatus::Regressed,
            Substatus::Escalating,
            Substatus::ArchivedForever,
            Substatus::ArchivedUntilConditionMet,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The conditions attached to the current status (Sentry's `statusDetails`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    /// When the issue was resolved (ms since the epoch): older events arriving late do not
    /// reopen it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
    /// Resolved in the next release: only an event from a release other than `in_release`
    /// reopens it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_next_release: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_release: Option<String>,
    /// Ignored until this many more events arrive...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_count: Option<u64>,
    /// ...counted from `times_seen` at the moment it was ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_base: Option<u64>,
    /// Ignored until this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_until: Option<i64>,
}

/// A status change a user asks for (the API's `PUT` on issues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRequest {
    Unresolve,
    Resolve,
    ResolveInNextRelease,
    /// Ignore; with no condition, forever.
    Ignore {
        count: Option<u64>,
        until: Option<Timestamp>,
    },
}

/// The stored state a request or an event moves an issue to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: IssueStatus,
    pub substatus: Substatus,
    pub details: StatusDetails,
}

/// What an event did to the issue's state, beyond counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopened {
    /// A resolved issue was seen again.
    Regressed,
    /// An ignored issue met its ignore condition.
    Escalated,
}

impl StatusRequest {
    /// The state `issue` moves to at `now`.
    pub fn apply(&self, issue: &Issue, now: Timestamp) -> StatusChange {
        match self {
            StatusRequest::Unresolve => StatusChange {
                status: IssueStatus::Unresolved,
                substatus: Substatus::Ongoing,
                details: StatusDetails::default(),
            },
            StatusRequest::Resolve => StatusChange {
                status: IssueStatus::Resolved,
                substatus: Substatus::Ongoing,
                details: StatusDetails { resolved_at: Some(now.unix_millis()), ..Default::default() },
            },
            StatusRequest::ResolveInNextRelease => StatusChange {
                status: IssueStatus::Resolved,
                substatus: Substatus::Ongoing,
                details: StatusDetails {
                    resolved_at: Some(now.unix_millis()),
                    in_next_release: true,
                    in_release: issue.last_release.clone(),
                    ..Default::default()
                },
            },
            StatusRequest::Ignore { count, until } => {
                let conditional = count.is_some() || until.is_some();
                StatusChange {
                    status: IssueStatus::Ignored,
                    substatus: if conditional {
                        Substatus::ArchivedUntilConditionMet
                    } else {
                        Substatus::ArchivedForever
                    },
                    details: StatusDetails {
                        ignore_count: *count,
                        ignore_base: count.map(|_| issue.times_seen),
                        ignore_until: until.map(|t| t.unix_millis()),
                        ..Default::default()
                    },
                }
            }
        }
    }
}

/// What an event at `timestamp` from `release` does to `issue`'s state: `None` when the
/// state stays as it is (only the counters move).
pub fn on_event(issue: &Issue, timestamp: Timestamp, release: Option<&str>) -> Option<(StatusChange, Reopened)> {
    let details = &issue.status_details;
    let reopen = |substatus, why| {
        Some((StatusChange { status: IssueStatus::Unresolved, substatus, details: StatusDetails::default() }, why))
    };
    match issue.status {
        IssueStatus::Unresolved => None,
        IssueStatus::Resolved => {
            if details.in_next_release {
                // Events of the release that was current at resolve time are expected.
                match release {
                    Some(r) if Some(r) != details.in_release.as_deref() => {
                        reopen(Substatus::Regressed, Reopened::Regressed)
                    }
                    _ => None,
                }
            } else if details.resolved_at.is_some_and(|at| timestamp.unix_millis() <= at) {
                // Sent before the fix went out and delivered late: not a regression.
                None
            } else {
                reopen(Substatus::Regressed, Reopened::Regressed)
            }
        }
        IssueStatus::Ignored => {
            let until_passed = details.ignore_until.is_some_and(|until| timestamp.unix_millis() >= until);
            let count_reached = details
                .ignore_count
                .is_some_and(|count| issue.times_seen + 1 >= details.ignore_base.unwrap_or(0) + count);
            if until_passed || count_reached {
                reopen(Substatus::Escalating, Reopened::Escalated)
            } else {
                None
            }
        }
    }
}

/// The substatus to show: `new` turns into `ongoing` a week after the first sighting.
pub fn shown_substatus(issue: &Issue, now: Timestamp) -> Substatus {
    let age_ms = now.unix_millis() - issue.first_seen.unix_millis();
    if issue.substatus == Substatus::New && age_ms > NEW_ISSUE_DAYS * 86_400_000 {
        Substatus::Ongoing
    } else {
        issue.substatus
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::tests::issue;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    #[test]
    fn a_resolved_issue_regresses_on_a_later_event_only() {
        let mut i = issue();
        let change = StatusRequest::Resolve.apply(&i, at(10_000));
        i.status = change.status;
        i.status_details = change.details;
        assert_eq!(on_event(&i, at(9_000), None), None, "an event from before the resolve is late, not a regression");
        let (change, why) = on_event(&i, at(11_000), None).unwrap();
        assert_eq!(
            (change.status, change.substatus, why),
            (IssueStatus::Unresolved, Substatus::Regressed, Reopened::Regressed)
        );
        assert_eq!(change.details, StatusDetails::default());
    }

    #[test]
    fn resolved_in_next_release_ignores_the_current_release() {
        let mut i = issue();
        i.last_release = Some("1.0".into());
        let change = StatusRequest::ResolveInNextRelease.apply(&i, at(10_000));
        assert_eq!(change.details.in_release.as_deref(), Some("1.0"));
        i.status = change.status;
        i.status_details = change.details;
        assert_eq!(on_event(&i, at(20_000), Some("1.0")), None);
        assert_eq!(on_event(&i, at(20_000), None), None);
        assert_eq!(on_event(&i, at(20_000), Some("1.1")).unwrap().1, Reopened::Regressed);
    }

    #[test]
    fn ignore_until_count_escalates_when_the_count_is_reached() {
        let mut i = issue();
        i.times_seen = 5;
        let change = StatusRequest::Ignore { count: Some(3), until: None }.apply(&i, at(0));
        assert_eq!(change.substatus, Substatus::ArchivedUntilConditionMet);
        i.status = change.status;
        i.status_details = change.details;
        i.times_seen = 6;
        assert_eq!(on_event(&i, at(1), None), None, "7th event: 2 since ignoring");
        i.times_seen = 7;
        let (change, why) = on_event(&i, at(1), None).unwrap();
        assert_eq!((change.substatus, why), (Substatus::Escalating, Reopened::Escalated));
    }

    #[test]
    fn ignore_until_time_and_forever() {
        let mut i = issue();
        let change = StatusRequest::Ignore { count: None, until: Some(at(50_000)) }.apply(&i, at(0));
        i.status = change.status;
        i.status_details = change.details;
        assert_eq!(on_event(&i, at(49_999), None), None);
        assert!(on_event(&i, at(50_000), None).is_some());

        let change = StatusRequest::Ignore { count: None, until: None }.apply(&i, at(0));
        assert_eq!(change.substatus, Substatus::ArchivedForever);
        i.status_details = change.details;
        assert_eq!(on_event(&i, at(i64::from(u32::MAX)), None), None);
    }

    #[test]
    fn new_turns_ongoing_after_a_week() {
        let i = issue();
        let first = i.first_seen.unix_millis();
        assert_eq!(shown_substatus(&i, at(first + 86_400_000)), Substatus::New);
        assert_eq!(shown_substatus(&i, at(first + 8 * 86_400_000)), Substatus::Ongoing);
        for s in ["new", "ongoing", "regressed", "escalating", "archived_forever", "archived_until_condition_met"] {
            assert_eq!(Substatus::parse(s).map(|s| s.as_str()), Some(s));
        }
    }
}
