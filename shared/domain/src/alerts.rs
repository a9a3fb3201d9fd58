//! Alert rules: when an issue's event should notify someone, and how.
//!
//! A rule fires for an event when its conditions hold (any or all of them, `action_match`),
//! its filters all pass, and the rule has not fired for that issue within its interval
//! (`frequency_minutes`). Conditions: a new issue, a regression, an escalation of an ignored
//! issue, more than N events or N users of the issue in a window. Filters: level at least X,
//! environment, release, tag equals or contains, issue age. Actions: e-mail (the project's
//! organization members, or given addresses) and webhooks (Slack-compatible or generic JSON,
//! signed with HMAC-SHA256).

use crate::issue::Recorded;
use crate::Issue;
use serde::{Deserialize, Serialize};

/// The most conditions, filters and actions of one rule.
pub const MAX_PARTS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRule {
    pub id: String,
    pub project_id: u64,
    pub name: String,
    /// `any`: one condition is enough; `all`: every one.
    #[serde(default)]
    pub action_match: Match,
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub filters: Vec<RuleFilter>,
    pub actions: Vec<Action>,
    /// At most one notification per issue in this many minutes.
    pub frequency_minutes: u32,
    /// A muted rule evaluates nothing.
    #[serde(default)]
    pub muted: bool,
    /// Unix seconds.
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    #[default]
    Any,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "id", rename_all = "snake_case")]
pub enum Condition {
    /// The event created its issue.
    FirstSeen,
    /// The event reopened a resolved issue.
    Regression,
    /// The event took an ignored issue past its ignore condition.
    Escalation,
    /// The issue has seen more than `value` events in a window of `interval_minutes`.
    EventFrequency { value: u64, interval_minutes: u32 },
    /// More than `value` distinct users in a window of `interval_minutes`.
    UniqueUsers { value: u64, interval_minutes: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "id", rename_all = "snake_case")]
pub enum RuleFilter {
    /// The event's level is at least this (`debug` < `info` < `warning` < `error` < `fatal`).
    Level {
        at_least: String,
    },
    Environment {
        value: String,
    },
    Release {
        value: String,
    },
    Tag {
        key: String,
        #[serde(default)]
        contains: bool,
        value: String,
    },
    /// The issue was first seen more (`older: true`) or less than `minutes` ago.
    IssueAge {
        older: bool,
        minutes: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "id", rename_all = "snake_case")]
pub enum Action {
    /// To the members of the project's organization, or to the given addresses.
    Email {
        #[serde(default)]
        addresses: Vec<String>,
    },
    Webhook {
        url: String,
        #[serde(default)]
        format: WebhookFormat,
        /// Signs the body: `X-Errata-Signature: sha256=<hex HMAC>`.
        #[serde(default)]
        secret: String,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// A Slack incoming-webhook body (`text` and `blocks`).
    Slack,
    #[default]
    Generic,
}

/// What an event brings to rule evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFacts<'a> {
    pub recorded: Recorded,
    pub level: &'a str,
    pub environment: Option<&'a str>,
    pub release: Option<&'a str>,
    pub tags: &'a [(String, String)],
}

/// How the window conditions stand after counting this event: for each condition in order,
/// `Some(true)` when its count just went past its value (once per window).
pub type WindowCrossings = Vec<Option<bool>>;

fn level_rank(level: &str) -> u8 {
    match level {
        "debug" => 0,
        "info" | "log" => 1,
        "warning" => 2,
        "error" => 3,
        "fatal" => 4,
        _ => 3,
    }
}

impl AlertRule {
    /// Whether the rule has window conditions, whose counters the caller must keep.
    pub fn counts_windows(&self) -> bool {
        self.conditions.iter().any(|c| matches!(c, Condition::EventFrequency { .. } | Condition::UniqueUsers { .. }))
    }

    /// Whether the conditions hold for this event; `windows` gives the window conditions'
    /// outcome (from the counters), one entry per condition.
    pub fn conditions_hold(&self, recorded: Recorded, windows: &WindowCrossings) -> bool {
        if recorded == Recorded::Duplicate {
            return false;
        }
        let mut results = self.conditions.iter().enumerate().map(|(i, c)| match c {
            Condition::FirstSeen => recorded == Recorded::NewIssue,
            Condition::Regression => recorded == Recorded::Regressed,
            Condition::Escalation => recorded == Recorded::Escalated,
            Condition::EventFrequency { .. } | Condition::UniqueUsers { .. } => {
                windows.get(i).copied().flatten().unwrap_or(false)
            }
        });
        match self.action_match {
            Match::Any => results.any(|r| r),
            Match::All => results.all(|r| r),
        }
    }

    /// Whether every filter passes for this event of `issue`.
    pub fn filters_pass(&self, issue: &Issue, facts: &EventFacts, now_ms: i64) -> bool {
        self.filters.iter().all(|f| match f {
            RuleFilter::Level { at_least } => level_rank(facts.level) >= level_rank(at_least),
            RuleFilter::Environment { value } => facts.environment == Some(value.as_str()),
            RuleFilter::Release { value } => facts.release == Some(value.as_str()),
            RuleFilter::Tag { key, contains, value } => facts.tags.iter().any(|(k, v)| {
                k == key && if *contains { v.to_lowercase().contains(&value.to_lowercase()) } else { v == value }
            }),
            RuleFilter::IssueAge { older, minutes } => {
                let age_ms = now_ms - issue.first_seen.unix_millis();
                let limit = (*minutes as i64).saturating_mul(60_000);
                if *older {
                    age_ms > limit
                } else {
                    age_ms <= limit
                }
            }
        })
    }

    /// What is wrong with the rule, for a 400; `None` when it is valid.
    pub fn problem(&self) -> Option<String> {
        if self.name.trim().is_empty() || self.name.chars().count() > 128 {
            return Some("name must be 1 to 128 characters.".into());
        }
        if self.conditions.is_empty() || self.conditions.len() > MAX_PARTS {
            return Some(format!("A rule needs 1 to {MAX_PARTS} conditions."));
        }
        if self.actions.is_empty() || self.actions.len() > MAX_PARTS || self.filters.len() > MAX_PARTS {
            return Some(format!("A rule needs 1 to {MAX_PARTS} actions and at most {MAX_PARTS} filters."));
        }
        if !(1..=43_200).contains(&self.frequency_minutes) {
            return Some("frequency must be 1 to 43200 minutes (30 days).".into());
        }
        for c in &self.conditions {
            if let Condition::EventFrequency { interval_minutes, .. }
            | Condition::UniqueUsers { interval_minutes, .. } = c
            {
                if !(1..=43_200).contains(interval_minutes) {
                    return Some("A condition's interval must be 1 to 43200 minutes.".into());
                }
            }
        }
        for f in &self.filters {
            if let RuleFilter::Level { at_least } = f {
                if !["debug", "info", "warning", "error", "fatal"].contains(&at_least.as_str()) {
                    return Some(format!("Unknown level {at_least:?}: use debug, info, warning, error or fatal."));
                }
            }
        }
        for a in &self.actions {
            match a {
                Action::Email { addresses } => {
                    if addresses.len() > 50 || addresses.iter().any(|a| !a.contains('@') || a.len() > 254) {
                        return Some("addresses must be at most 50 e-mail addresses.".into());
                    }
                }
                Action::Webhook { url, secret, .. } => {
                    let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() <= 2048;
                    if !ok {
                        return Some("A webhook url must be an http(s) URL of at most 2048 characters.".into());
                    }
                    if secret.len() > 256 {
                        return Some("A webhook secret must be at most 256 characters.".into());
                    }
                }
            }
        }
        None
    }
}

/// The default rule of a new project: e-mail the members on new issues and regressions.
pub fn default_rule(project_id: u64, id: String, now_secs: i64) -> AlertRule {
    AlertRule {
        id,
        project_id,
        name: "Send a notification for new issues and regressions".into(),
        action_match: Match::Any,
        conditions: vec![Condition::FirstSeen, Condition::Regression],
        filters: Vec::new(),
        actions: vec![Action::Email { addresses: Vec::new() }],
        frequency_minutes: 30,
        muted: false,
        created_at: now_secs,
    }
}

/// The start of the window of `interval_minutes` that `now_ms` falls in (aligned to the epoch).
pub fn window_start(now_ms: i64, interval_minutes: u32) -> i64 {
    let w = i64::from(interval_minutes.max(1)) * 60_000;
    now_ms.div_euclid(w) * w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::tests::issue;

    fn rule(conditions: Vec<Condition>, filters: Vec<RuleFilter>) -> AlertRule {
        AlertRule { conditions, filters, ..default_rule(1, "r".into(), 0) }
    }

    fn facts(recorded: Recorded, tags: &[(String, String)]) -> EventFacts<'_> {
        EventFacts { recorded, level: "error", environment: Some("prod"), release: Some("1.0"), tags }
    }

    #[test]
    fn conditions_any_or_all() {
        let r = default_rule(1, "r".into(), 0);
        assert!(r.conditions_hold(Recorded::NewIssue, &vec![]));
        assert!(r.conditions_hold(Recorded::Regressed, &vec![]));
        assert!(!r.conditions_hold(Recorded::Counted, &vec![]));
        assert!(!r.conditions_hold(Recorded::Duplicate, &vec![]));
        let freq = Condition::EventFrequency { value: 100, interval_minutes: 60 };
        let mut both = rule(vec![Condition::Regression, freq], vec![]);
        assert!(both.conditions_hold(Recorded::Counted, &vec![None, Some(true)]));
        both.action_match = Match::All;
        assert!(!both.conditions_hold(Recorded::Counted, &vec![None, Some(true)]));
        assert!(both.conditions_hold(Recorded::Regressed, &vec![None, Some(true)]));
        assert!(both.counts_windows());
    }

    #[test]
    fn filters() {
        let tags = vec![("browser".to_owned(), "Chrome 120".to_owned())];
        let issue = issue();
        let now = issue.first_seen.unix_millis() + 10 * 60_000;
        let pass = |f: RuleFilter| {
            rule(vec![Condition::FirstSeen], vec![f]).filters_pass(&issue, &facts(Recorded::NewIssue, &tags), now)
        };
        assert!(pass(RuleFilter::Level { at_least: "warning".into() }));
        assert!(!pass(RuleFilter::Level { at_least: "fatal".into() }));
        assert!(pass(RuleFilter::Environment { value: "prod".into() }));
        assert!(!pass(RuleFilter::Release { value: "2.0".into() }));
        assert!(pass(RuleFilter::Tag { key: "browser".into(), contains: true, value: "chrome".into() }));
        assert!(!pass(RuleFilter::Tag { key: "browser".into(), contains: false, value: "Chrome".into() }));
        assert!(pass(RuleFilter::IssueAge { older: false, minutes: 60 }));
        assert!(!pass(RuleFilter::IssueAge { older: true, minutes: 60 }));
    }

    #[test]
    fn validation_and_json_shape() {
        let r = default_rule(1, "r".into(), 0);
        assert_eq!(r.problem(), None);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["conditions"], serde_json::json!([{"id": "first_seen"}, {"id": "regression"}]));
        assert_eq!(json["actions"], serde_json::json!([{"id": "email", "addresses": []}]));
        let bad = AlertRule { frequency_minutes: 0, ..r.clone() };
        assert!(bad.problem().unwrap().contains("frequency"));
        let hook = AlertRule {
            actions: vec![Action::Webhook {
                url: "ftp://x".into(),
                format: WebhookFormat::Slack,
                secret: String::new(),
            }],
            ..r
        };
        assert!(hook.problem().unwrap().contains("http"));
        assert_eq!(window_start(3_700_000, 60), 3_600_000);
    }
}
