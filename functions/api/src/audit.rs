//! Organizations' audit logs: who changed members, roles, keys, tokens, rules, settings and
//! projects, and who signed in or failed to, when and from where. Sentry's route and shape:
//! `GET /api/0/organizations/{org}/audit-logs/` answers `{"rows": [...], "options": [...]}`.
//!
//! An entry is written after the change it describes succeeded; a failure to write it is
//! logged, never turned into a failed request for a change that is already made.

use crate::router::Ctx;
use crate::throttle::client_ip;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::{AuditEntry, Timestamp};
use errata_runtime::http::{self, Request};
use serde_json::{json, Value};

/// The events the log records, as Sentry names them where Sentry has them.
pub const EVENTS: &[&str] = &[
    "member.invite",
    "member.accept-invite",
    "member.edit",
    "member.remove",
    "org.create",
    "org.edit",
    "project.create",
    "project.edit",
    "projectkey.create",
    "projectkey.edit",
    "projectkey.remove",
    "rule.add",
    "rule.edit",
    "rule.remove",
    "issue.delete",
    "api-token.create",
    "api-token.remove",
    "user.login",
    "user.login-failed",
    "user.password-change",
    "user.password-reset",
    "user.sessions-revoked",
];

/// What one change was, for [`record`].
pub struct Change<'a> {
    pub event: &'static str,
    pub target_object: Option<String>,
    pub target_user: Option<&'a str>,
    pub data: Value,
}

impl<'a> Change<'a> {
    pub fn new(event: &'static str) -> Self {
        Change { event, target_object: None, target_user: None, data: json!({}) }
    }
    pub fn object(mut self, target: impl ToString) -> Self {
        self.target_object = Some(target.to_string());
        self
    }
    pub fn user(mut self, email: &'a str) -> Self {
        self.target_user = Some(email);
        self
    }
    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }
}

/// Records a change the signed-in caller made in `org`.
pub async fn record(deps: &Deps, ctx: &Ctx<'_>, org: &str, change: Change<'_>) {
    let actor = ctx.optional_caller().map(|c| c.email.as_str());
    record_as(deps, ctx.req, org, actor, change).await;
}

/// Records a change in `org` made by `actor` (a user, or `None` for the system).
pub async fn record_as(deps: &Deps, req: &Request, org: &str, actor: Option<&str>, change: Change<'_>) {
    debug_assert!(EVENTS.contains(&change.event), "{} is not a known audit event", change.event);
    let entry = AuditEntry {
        org: org.to_owned(),
        id: entry_id(),
        at_ms: Timestamp::now().unix_millis(),
        actor: actor.map(str::to_owned),
        event: change.event.to_owned(),
        ip: client_ip(req).map(str::to_owned),
        target_object: change.target_object,
        target_user: change.target_user.map(str::to_owned),
        data: change.data,
    };
    if let Err(e) = deps.audit.record(&entry).await {
        tracing::error!(error = %e, org, event = entry.event, "audit entry not written");
    }
}

/// A new entry id, 32 hex digits: a clock and counter part, so that entries one process
/// writes in the same millisecond keep their order, then a random part.
fn entry_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let tick = LAST.fetch_max(now, Ordering::SeqCst).max(now);
    let tick = if tick == now { now } else { LAST.fetch_add(1, Ordering::SeqCst) + 1 };
    format!("{tick:016x}{:016x}", rand::random::<u64>())
}

/// Records an event of a user's own account (sign-ins, passwords, tokens) in every
/// organization the user belongs to, for its owners and admins to see.
pub async fn record_for_user(deps: &Deps, req: &Request, email: &str, event: &'static str, data: Value) {
    let orgs = match deps.directory.user_memberships(email).await {
        Ok(memberships) => memberships,
        Err(e) => {
            tracing::error!(error = %e, event, "audit entry not written: memberships unreadable");
            return;
        }
    };
    for m in orgs {
        record_as(deps, req, &m.org, Some(email), Change::new(event).user(email).data(data.clone())).await;
    }
}

/// Sentry's audit log entry.
fn row(e: &AuditEntry) -> Value {
    let actor = e.actor.as_ref().map(|a| json!({"id": a, "email": a, "name": a, "username": a}));
    let target_user = e.target_user.as_ref().map(|u| json!({"id": u, "email": u, "name": u, "username": u}));
    json!({
        "id": e.id,
        "actor": actor,
        "event": e.event,
        "ipAddress": e.ip,
        "note": note(e),
        "targetObject": e.target_object,
        "targetUser": target_user,
        "data": e.data,
        "dateCreated": Timestamp::from_unix_millis(e.at_ms).map(|t| t.to_rfc3339()),
    })
}

/// A sentence saying what happened.
fn note(e: &AuditEntry) -> String {
    let who = e.target_user.as_deref().unwrap_or("");
    let what = e.target_object.as_deref().unwrap_or("");
    let role = e.data.get("role").and_then(Value::as_str).unwrap_or("");
    match e.event.as_str() {
        "member.invite" => format!("invited member {who} as {role}"),
        "member.accept-invite" => format!("{who} joined as {role}"),
        "member.edit" => format!("changed the role of {who} to {role}"),
        "member.remove" => format!("removed member {who}"),
        "org.create" => "created the organization".into(),
        "org.edit" => "edited the organization".into(),
        "project.create" => format!("created project {what}"),
        "project.edit" => format!("edited project {what}"),
        "projectkey.create" => format!("created DSN key {what}"),
        "projectkey.edit" => format!("edited DSN key {what}"),
        "projectkey.remove" => format!("removed DSN key {what}"),
        "rule.add" => format!("added alert rule {what}"),
        "rule.edit" => format!("edited alert rule {what}"),
        "rule.remove" => format!("removed alert rule {what}"),
        "issue.delete" => format!("deleted issue {what}"),
        "api-token.create" => "created an API token".into(),
        "api-token.remove" => "revoked an API token".into(),
        "user.login" => "signed in".into(),
        "user.login-failed" => "failed to sign in (wrong password)".into(),
        "user.password-change" => "changed their password".into(),
        "user.password-reset" => "reset their password by e-mail".into(),
        "user.sessions-revoked" => "signed out everywhere".into(),
        other => other.to_owned(),
    }
}

/// `GET /api/0/organizations/{org}/audit-logs/`: newest first, `event=` to pick one kind,
/// `per_page` (≤ 100) and `cursor`, with the `Link` header.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let req = ctx.req;
    let params = &req.query_string_parameters;
    let limit = match params.first("per_page").or_else(|| params.first("limit")) {
        None => 50,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::new(400, "per_page must be between 1 and 100"))?,
    };
    let event = params.first("event").filter(|e| !e.is_empty());
    if let Some(e) = event {
        if !EVENTS.contains(&e) {
            return Err(ApiError::new(400, format!("Unknown event {e:?}; the log records: {}.", EVENTS.join(", "))));
        }
    }
    let mut cursor = match params.first("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) if valid_cursor(c) => Some(c.to_owned()),
        Some(_) => return Err(ApiError::new(400, "Invalid cursor parameter.")),
    };
    // A filtered page may need several reads; ten is enough for any page a person reads.
    let mut rows = Vec::new();
    for _ in 0..10 {
        let (entries, next) = deps.audit.entries(&member.org, cursor.as_deref(), limit - rows.len()).await?;
        rows.extend(entries.iter().filter(|e| event.is_none_or(|ev| e.event == ev)).map(row));
        cursor = next;
        if rows.len() >= limit || cursor.is_none() {
            break;
        }
    }
    let next = cursor.unwrap_or_default();
    let link = crate::issues::link(
        &http::path(req),
        req.raw_query_string.as_deref().unwrap_or(""),
        ("", false),
        (&next, !next.is_empty()),
    );
    let body = json!({ "rows": rows, "options": EVENTS });
    Ok(http::with_header(http::json(200, &body), "link", &link))
}

/// A cursor this route handed out: a sort key, `<13 digits>#<32 hex>`.
fn valid_cursor(c: &str) -> bool {
    c.split_once('#').is_some_and(|(ms, id)| {
        ms.len() == 13
            && ms.bytes().all(|b| b.is_ascii_digit())
            && id.len() == 32
            && id.bytes().all(|b| b.is_ascii_hexdigit())
    })
}
