//! Alert rules, evaluated as each event is counted against its issue.
//!
//! Conditions on what the count did (new issue, regression, escalation) are known from the
//! issue store's answer. Window conditions keep a counter per rule, issue and window in the
//! shared alert state: the event that takes it past the rule's value fires, once per window,
//! however many processors count at once. A rule that fires claims `(rule, issue)` for its
//! interval, atomically, so a burst of events (or two processors) queue one notice. The
//! notifier then delivers it.

use crate::Deps;
use errata_domain::alerts::{window_start, AlertRule, Condition, EventFacts, WindowCrossings};
use errata_domain::notice::AlertIssue;
use errata_domain::{Issue, Notice, Recorded, Sighting, Timestamp};
use errata_ports::{AlertState, Directory, Outbox, RuleStore, StoreError};
use serde_json::Value;
use std::sync::Arc;

/// An event's tags and its innermost in-app frames (`function (file:line)`), for alert rules'
/// filters and notices.
#[derive(Debug, Clone, Default)]
pub struct AlertFacts {
    pub tags: Vec<(String, String)>,
    pub frames: Vec<String>,
}

impl AlertFacts {
    pub(crate) fn of(event: &Value, tags: &[(String, String)]) -> AlertFacts {
        let mut frames = Vec::new();
        let exceptions = event.pointer("/exception/values").and_then(Value::as_array);
        if let Some(exc) = exceptions.and_then(|v| v.last()) {
            let list = exc.pointer("/stacktrace/frames").and_then(Value::as_array);
            for f in list.into_iter().flatten().rev().filter(|f| f.get("in_app") == Some(&Value::Bool(true))).take(5) {
                let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("?");
                let line = f.get("lineno").and_then(Value::as_u64).map(|l| format!(":{l}")).unwrap_or_default();
                frames.push(format!(
                    "{} ({}{line})",
                    text("function"),
                    f.get("filename").and_then(Value::as_str).unwrap_or_else(|| text("abs_path"))
                ));
            }
        }
        AlertFacts { tags: tags.to_vec(), frames }
    }
}

/// What alerting needs; without it (tests, tools) no rule is evaluated.
pub struct Alerting {
    pub rules: Arc<dyn RuleStore>,
    pub state: Arc<dyn AlertState>,
    pub outbox: Arc<dyn Outbox>,
    /// Base URL of the web app, for links in notices.
    pub web_url: String,
}

/// Evaluates the project's rules for one counted event; returns how many notices it queued.
pub async fn evaluate(
    deps: &Deps,
    alerting: &Alerting,
    rules: &[AlertRule],
    sighting: &Sighting,
    recorded: Recorded,
    facts: &AlertFacts,
) -> Result<usize, StoreError> {
    let now = Timestamp::now();
    let now_ms = now.unix_millis();
    let mut issue: Option<Issue> = None;
    let mut queued = 0;
    for rule in rules.iter().filter(|r| !r.muted) {
        let windows = count_windows(alerting.state.as_ref(), rule, sighting, now_ms).await?;
        if !rule.conditions_hold(recorded, &windows) {
            continue;
        }
        // The issue as stored now: its counts for the notice, its age for filters.
        if issue.is_none() {
            issue = deps.issues.current_issue(sighting.project_id, sighting.issue_id).await?;
        }
        let Some(issue) = issue.as_ref() else { continue };
        let event = EventFacts {
            recorded,
            level: &sighting.summary.level,
            environment: sighting.environment.as_deref(),
            release: sighting.release.as_deref(),
            tags: &facts.tags,
        };
        if !rule.filters_pass(issue, &event, now_ms) {
            continue;
        }
        let key = format!("af:{}:{}", rule.id, issue.id);
        let now_secs = now_ms / 1000;
        if !alerting.state.claim(&key, now_secs, now_secs + i64::from(rule.frequency_minutes) * 60).await? {
            continue;
        }
        let notice = notice(deps, alerting, rule, issue, sighting, recorded, &windows, facts).await?;
        if let Err(e) = send_with_retries(alerting.outbox.as_ref(), &notice).await {
            // Give the claim back so a later event can fire the rule.
            alerting.state.release(&key).await?;
            return Err(e);
        }
        queued += 1;
    }
    Ok(queued)
}

/// Queues a notice, trying a passing failure (throttling) twice more after a pause.
async fn send_with_retries(outbox: &dyn Outbox, notice: &Notice) -> Result<(), StoreError> {
    let mut pause = std::time::Duration::from_millis(100);
    for _ in 0..2 {
        match outbox.send(notice).await {
            Err(e) if e.retryable => {
                tokio::time::sleep(pause).await;
                pause *= 4;
            }
            done => return done,
        }
    }
    outbox.send(notice).await
}

/// Counts the event in each window condition's counter; `Some(true)` where it just went past
/// the condition's value.
async fn count_windows(
    state: &dyn AlertState,
    rule: &AlertRule,
    s: &Sighting,
    now_ms: i64,
) -> Result<WindowCrossings, StoreError> {
    let mut out = Vec::with_capacity(rule.conditions.len());
    for (i, c) in rule.conditions.iter().enumerate() {
        let crossing = match c {
            Condition::EventFrequency { value, interval_minutes } => {
                let (start, expires) = window(now_ms, *interval_minutes);
                let n = state.bump(&format!("aw:{}:{i}:{}:{start}", rule.id, s.issue_id), expires).await?;
                Some(n == value + 1)
            }
            Condition::UniqueUsers { value, interval_minutes } => match &s.user_hash {
                Some(user) => {
                    let (start, expires) = window(now_ms, *interval_minutes);
                    let base = format!("au:{}:{i}:{}:{start}", rule.id, s.issue_id);
                    if state.mark(&format!("{base}:{user}"), expires).await? {
                        Some(state.bump(&base, expires).await? == value + 1)
                    } else {
                        Some(false)
                    }
                }
                None => Some(false),
            },
            _ => None,
        };
        out.push(crossing);
    }
    Ok(out)
}

/// A window's start (ms) and when its state may expire (Unix seconds).
fn window(now_ms: i64, interval_minutes: u32) -> (i64, i64) {
    let start = window_start(now_ms, interval_minutes);
    (start, (start + i64::from(interval_minutes) * 60_000) / 1000 + 60)
}

fn reason(rule: &AlertRule, recorded: Recorded, windows: &WindowCrossings) -> String {
    let mut why = Vec::new();
    for (i, c) in rule.conditions.iter().enumerate() {
        let hit = windows.get(i).copied().flatten().unwrap_or(false);
        match c {
            Condition::FirstSeen if recorded == Recorded::NewIssue => why.push("a new issue".to_owned()),
            Condition::Regression if recorded == Recorded::Regressed => why.push("a regression".to_owned()),
            Condition::Escalation if recorded == Recorded::Escalated => why.push("an escalating issue".to_owned()),
            Condition::EventFrequency { value, interval_minutes } if hit => {
                why.push(format!("more than {value} events in {interval_minutes} minutes"))
            }
            Condition::UniqueUsers { value, interval_minutes } if hit => {
                why.push(format!("more than {value} users in {interval_minutes} minutes"))
            }
            _ => {}
        }
    }
    why.join(" and ")
}

#[allow(clippy::too_many_arguments)]
async fn notice(
    deps: &Deps,
    alerting: &Alerting,
    rule: &AlertRule,
    issue: &Issue,
    s: &Sighting,
    recorded: Recorded,
    windows: &WindowCrossings,
    facts: &AlertFacts,
) -> Result<Notice, StoreError> {
    let project = deps.directory.project(issue.project_id).await?;
    let (org, slug) = project.as_ref().map(|p| (p.org.clone(), p.slug.clone())).unwrap_or_default();
    let needs_members = rule
        .actions
        .iter()
        .any(|a| matches!(a, errata_domain::alerts::Action::Email { addresses } if addresses.is_empty()));
    let members =
        if needs_members && !org.is_empty() { members_of(deps.directory.as_ref(), &org).await? } else { Vec::new() };
    let web = alerting.web_url.trim_end_matches('/');
    Ok(Notice::Alert {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        reason: reason(rule, recorded, windows),
        issue: Box::new(AlertIssue {
            project_id: issue.project_id,
            project: slug.clone(),
            org: org.clone(),
            issue_id: issue.id.0,
            short_id: format!("{}-{}", slug.to_uppercase(), issue.id),
            title: issue.title.clone(),
            culprit: issue.culprit.clone(),
            level: issue.level.clone(),
            count: issue.times_seen,
            users: issue.users_seen,
            first_seen: issue.first_seen.to_rfc3339(),
            last_seen: issue.last_seen.to_rfc3339(),
            release: s.release.clone(),
            environment: s.environment.clone(),
            event_id: s.event_id.clone(),
            frames: facts.frames.clone(),
            link: format!("{web}/organizations/{org}/issues/{}/", issue.id),
        }),
        actions: rule.actions.clone(),
        members,
        mute_link: format!("{web}/settings/{org}/projects/{slug}/alerts/{}/", rule.id),
    })
}

async fn members_of(directory: &dyn Directory, org: &str) -> Result<Vec<String>, StoreError> {
    Ok(directory.org_members(org).await?.into_iter().map(|m| m.email).collect())
}
