//! Who owns what: organizations own projects; users are members of organizations with a
//! role; DSN keys belong to a project; API tokens belong to a user.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub slug: String,
    pub name: String,
    /// Events (and, counted apart, sessions) all the organization's projects may send together
    /// per window, if limited: set by the operator (`errata-admin rate-limit --org`).
    #[serde(default)]
    pub quota: Option<RateLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Numeric, as in the DSN.
    pub id: u64,
    pub org: String,
    pub slug: String,
    pub name: String,
    pub platform: Option<String>,
    /// Project-wide quota on events (errors, transactions, security reports), if any.
    #[serde(default)]
    pub quota: Option<RateLimit>,
    #[serde(default)]
    pub settings: ProjectSettings,
}

/// What a project keeps and hides: server-side scrubbing, inbound filters, grouping options
/// and how long its events are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectSettings {
    pub scrubbing: crate::scrub::ScrubSettings,
    pub filters: crate::filters::InboundFilters,
    pub grouping: GroupingSettings,
    /// Days the project's events are kept, when shorter than the stack's retention.
    pub retention_days: Option<u32>,
}

/// How a project's events group beyond the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupingSettings {
    /// Server-side fingerprint rules (see `fingerprinting`), as the user wrote them.
    pub fingerprinting_rules: String,
}

/// At most `count` events per `window_secs`, in fixed windows aligned to the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub count: u64,
    pub window_secs: u64,
}

impl RateLimit {
    /// A limit as settings write it: `count/window_seconds` (`1000/60`); empty is none.
    pub fn parse_setting(text: &str) -> Result<Option<RateLimit>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let (count, window) = text.split_once('/').ok_or_else(|| format!("{text:?} is not count/seconds"))?;
        let count: u64 = count.trim().parse().map_err(|_| format!("{text:?}: the count is not a number"))?;
        let window_secs: u64 = window.trim().parse().map_err(|_| format!("{text:?}: the window is not a number"))?;
        if count == 0 || window_secs == 0 {
            return Err(format!("{text:?}: count and window must be above 0"));
        }
        Ok(Some(RateLimit { count, window_secs }))
    }

    /// The start of the window `now` falls in, and the seconds until it ends.
    pub fn window(&self, now_secs: i64) -> (i64, u64) {
        let w = self.window_secs.max(1) as i64;
        let start = now_secs.div_euclid(w) * w;
        (start, (start + w - now_secs) as u64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectKey {
    pub public_key: String,
    pub project_id: u64,
    pub label: String,
    pub enabled: bool,
    /// Sentry's per-key rate limit, if any.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Unix seconds; 0 when unknown.
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub email: String,
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub org: String,
    pub email: String,
    pub role: Role,
}

/// An API token as stored: only its digest, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub digest: String,
    pub email: String,
    pub label: String,
    pub scopes: Vec<String>,
    /// Unix seconds; 0 when unknown (tokens made before this was recorded).
    #[serde(default)]
    pub created_at: i64,
    /// The token's last four characters, to tell tokens apart in a list.
    #[serde(default)]
    pub last_chars: String,
    /// Unix seconds after which the token no longer works; `None` for a token that never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl ApiToken {
    /// The id under which the owner lists and revokes the token: a prefix of its digest,
    /// which says nothing usable about the token itself.
    pub fn id(&self) -> &str {
        &self.digest[..self.digest.len().min(16)]
    }

    /// Whether the token has expired at `now` (unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }
}

/// A signed-in browser session, stored under the digest of its cookie value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub digest: String,
    pub email: String,
    /// Unix seconds after which the session is no longer valid.
    pub expires_at: i64,
    /// Unix seconds when the user signed in; 0 when unknown.
    #[serde(default)]
    pub created_at: i64,
    /// The client address and browser that signed in, for the user's list of sign-ins.
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
}

impl Session {
    /// The id under which the user lists and ends the session: a prefix of its digest.
    pub fn id(&self) -> &str {
        &self.digest[..self.digest.len().min(16)]
    }
}

/// A password reset requested by e-mail, stored under the digest of the secret the e-mail
/// carries; used once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub digest: String,
    pub email: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One entry of an organization's audit log: who did what, to what, when and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub org: String,
    /// Unique within the organization; entries sort by time, then id.
    pub id: String,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// The user who acted (an e-mail address); `None` for the system.
    pub actor: Option<String>,
    /// Sentry's event names: `member.invite`, `member.edit`, `project.create`, `user.login`…
    pub event: String,
    pub ip: Option<String>,
    /// What was acted on: a project slug, key id, rule id…
    pub target_object: Option<String>,
    /// The user acted on, for member events.
    pub target_user: Option<String>,
    /// Details of the change.
    pub data: serde_json::Value,
}

/// A pending invitation to join an organization, stored under the digest of the secret
/// sent by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub digest: String,
    pub org: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_from_settings() {
        assert_eq!(RateLimit::parse_setting("1000/60"), Ok(Some(RateLimit { count: 1000, window_secs: 60 })));
        assert_eq!(RateLimit::parse_setting(" "), Ok(None));
        for bad in ["1000", "x/60", "10/y", "0/60", "10/0"] {
            assert!(RateLimit::parse_setting(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_align_to_the_epoch() {
        let limit = RateLimit { count: 5, window_secs: 60 };
        assert_eq!(limit.window(120), (120, 60));
        assert_eq!(limit.window(179), (120, 1));
        assert_eq!(RateLimit { count: 1, window_secs: 0 }.window(7), (7, 1));
    }
}
