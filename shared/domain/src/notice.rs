//! Notices: what the API and the processor ask the notifier to deliver.

use crate::alerts::Action;
use crate::Role;
use serde::{Deserialize, Serialize};

/// What an alert says about its issue and the event that fired it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertIssue {
    pub project_id: u64,
    pub project: String,
    pub org: String,
    pub issue_id: u64,
    pub short_id: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub count: u64,
    pub users: u64,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub event_id: String,
    /// The innermost in-app frames, `function (file:line)`, most recent first.
    pub frames: Vec<String>,
    /// The issue in the web app.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// An invitation to join an organization, with the link that accepts it.
    Invitation {
        to: String,
        org: String,
        org_name: String,
        invited_by: String,
        role: Role,
        link: String,
        /// Unix seconds.
        expires_at: i64,
    },
    /// A password reset was asked for: the link that sets a new password.
    PasswordReset {
        to: String,
        link: String,
        /// Unix seconds.
        expires_at: i64,
    },
    /// An alert rule fired for an issue: deliver each action.
    Alert {
        rule_id: String,
        rule_name: String,
        /// Why it fired: `a new issue`, `a regression`, …
        reason: String,
        issue: Box<AlertIssue>,
        actions: Vec<Action>,
        /// Resolved recipients of e-mail actions without addresses: the organization's members.
        members: Vec<String>,
        /// Where the rule can be muted.
        mute_link: String,
    },
}
