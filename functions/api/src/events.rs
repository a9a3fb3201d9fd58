//! Event routes: an issue's latest, oldest and paginated events, and one event by id.

use crate::issues::link;
use crate::router::Ctx;
use crate::shapes::event_json;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::storage::{is_attachment_of, safe_name};
use errata_domain::{Issue, Project, StoredEvent};
use errata_ports::EventOrder;
use errata_runtime::http;
use futures_util::future::try_join_all;
use serde_json::{json, Value};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// `GET /api/0/issues/{id}/events/latest/` and `…/oldest/`.
pub async fn end(deps: &Deps, ctx: &Ctx<'_>, order: EventOrder) -> ApiResult {
    let (issue, project) = (ctx.issue()?, ctx.project()?);
    let page = deps.issues.issue_events(issue.id, order, None, 1).await?;
    let events = without_deleted(deps, issue.project_id, issue.id, page.events).await?;
    let stored = events.into_iter().next().ok_or_else(ApiError::not_found)?;
    detail(deps, &stored, issue, project).await
}

/// `GET /api/0/issues/{id}/events/{event_id}/`
pub async fn of_issue(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (issue, project) = (ctx.issue()?, ctx.project()?);
    let event_id = normalized_id(ctx.param("event_id"))?;
    let stored = deps.issues.event(project.id, &event_id).await?.filter(|e| e.issue_id == issue.id);
    let stored = visible(deps, stored).await?.ok_or_else(ApiError::not_found)?;
    detail(deps, &stored, issue, project).await
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/`
pub async fn of_project(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let event_id = normalized_id(ctx.param("event_id"))?;
    let stored = visible(deps, deps.issues.event(project.id, &event_id).await?).await?;
    let stored = stored.ok_or_else(ApiError::not_found)?;
    let issue = deps.issues.issue(stored.issue_id).await?.ok_or_else(ApiError::not_found)?;
    detail(deps, &stored, &issue, project).await
}

/// One event as Sentry shows it, with the ids of the issue's events just before
/// (`previousEventID`) and after (`nextEventID`) it in time, for stepping through them.
async fn detail(deps: &Deps, stored: &StoredEvent, issue: &Issue, project: &Project) -> ApiResult {
    let at = format!("{}:{}:{}", stored.timestamp.unix_millis(), stored.project_id, stored.event_id);
    let at = at.as_str();
    let neighbour = |order| async move {
        let page = deps.issues.issue_events(issue.id, order, Some(at), 1).await?;
        Ok::<_, ApiError>(page.events.into_iter().next().map(|e| e.event_id))
    };
    let (event, older, newer) = futures_util::try_join!(
        load(deps, stored),
        neighbour(EventOrder::NewestFirst),
        neighbour(EventOrder::OldestFirst)
    )?;
    let mut shape = event_json(&event, issue, project);
    shape["previousEventID"] = json!(older);
    shape["nextEventID"] = json!(newer);
    Ok(http::json(200, &shape))
}

/// The largest attachment the API answers with itself: a Lambda answer is at most 6 MB, and
/// the body goes base64-encoded.
const MAX_DOWNLOAD: u64 = 4 * 1024 * 1024;

/// The attachments the processor stored with an event (`attachments` on the stored event).
/// Only references into the event's own folder count: anything else is not this event's and
/// is neither listed nor read.
async fn stored_attachments(deps: &Deps, ctx: &Ctx<'_>) -> Result<(StoredEvent, Vec<Value>), ApiError> {
    let project = ctx.project()?;
    let event_id = normalized_id(ctx.param("event_id"))?;
    let stored = visible(deps, deps.issues.event(project.id, &event_id).await?).await?;
    let stored = stored.ok_or_else(ApiError::not_found)?;
    let event = load(deps, &stored).await?;
    let list = event.get("attachments").and_then(Value::as_array).cloned().unwrap_or_default();
    let (own, foreign): (Vec<Value>, Vec<Value>) = list.into_iter().partition(|a| {
        let key = a.get("key").and_then(Value::as_str).unwrap_or_default();
        is_attachment_of(key, project.id, &stored.event_id)
    });
    if !foreign.is_empty() {
        tracing::warn!(project_id = project.id, event_id = %stored.event_id, refused = foreign.len(),
            "event lists attachments outside its own folder; not served");
    }
    Ok((stored, own))
}

fn attachment_json(index: usize, a: &Value, stored: &StoredEvent) -> Value {
    let mimetype = a.get("content_type").and_then(Value::as_str).unwrap_or("application/octet-stream");
    json!({
        "id": index.to_string(),
        "name": a.get("name").cloned().unwrap_or(Value::Null),
        "type": a.get("type").cloned().unwrap_or(Value::Null),
        "size": a.get("size").cloned().unwrap_or(json!(0)),
        "mimetype": mimetype,
        "headers": { "Content-Type": mimetype },
        "dateCreated": stored.timestamp.to_rfc3339(),
        "event_id": stored.event_id,
    })
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/attachments/`
pub async fn attachments(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (stored, list) = stored_attachments(deps, ctx).await?;
    let body: Vec<Value> = list.iter().enumerate().map(|(i, a)| attachment_json(i, a, &stored)).collect();
    Ok(http::json(200, &body))
}

/// `GET /api/0/projects/{org}/{project}/events/{event_id}/attachments/{id}/`: the
/// attachment's details, or with `?download=1` its bytes — always as a download
/// (`application/octet-stream`, `Content-Disposition: attachment`), since the content comes
/// from clients and must never render in the app's origin.
pub async fn attachment(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (stored, list) = stored_attachments(deps, ctx).await?;
    let index: usize = ctx.param("attachment_id").parse().map_err(|_| ApiError::not_found())?;
    let a = list.get(index).ok_or_else(ApiError::not_found)?;
    let wants_bytes = matches!(ctx.req.query_string_parameters.first("download"), Some("1" | "true"));
    if !wants_bytes {
        return Ok(http::json(200, &attachment_json(index, a, &stored)));
    }
    let key = a.get("key").and_then(Value::as_str).ok_or_else(ApiError::not_found)?;
    // The size that counts is the stored object's: one byte more than the limit is read at most.
    let bytes = deps.events.get_range(key, 0, MAX_DOWNLOAD + 1).await?.ok_or_else(ApiError::not_found)?;
    if bytes.len() as u64 > MAX_DOWNLOAD {
        return Err(ApiError::new(
            413,
            format!("This attachment is larger than {MAX_DOWNLOAD} bytes, the most the API serves. It is kept in the events bucket."),
        ));
    }
    let name = a.get("name").and_then(Value::as_str).unwrap_or("attachment");
    let safe = safe_name(name);
    let resp = http::bytes(200, "application/octet-stream", bytes);
    let resp = http::with_header(resp, "content-disposition", &format!("attachment; filename=\"{safe}\""));
    Ok(http::with_header(resp, "x-content-type-options", "nosniff"))
}

/// `GET /api/0/issues/{id}/events/`: newest first (`?sort=oldest` for the other end), paged
/// with `cursor` and `limit`; `full=true` returns whole events instead of summaries.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (req, issue, project) = (ctx.req, ctx.issue()?, ctx.project()?);
    let params = &req.query_string_parameters;
    let limit = crate::limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let order = match params.first("sort") {
        None | Some("newest") => EventOrder::NewestFirst,
        Some("oldest") => EventOrder::OldestFirst,
        Some(other) => return Err(ApiError::new(400, format!("Invalid sort {other:?}: use newest or oldest"))),
    };
    let cursor = params.first("cursor").filter(|c| !c.is_empty());
    if let Some(c) = cursor {
        if !valid_cursor(c) {
            return Err(ApiError::new(400, "Invalid cursor parameter."));
        }
    }
    let full = params.first("full") == Some("true");
    let page = deps.issues.issue_events(issue.id, order, cursor, limit).await?;
    let events = without_deleted(deps, issue.project_id, issue.id, page.events).await?;
    let bodies = try_join_all(events.iter().map(|stored| load(deps, stored))).await?;
    let items: Vec<Value> = events
        .iter()
        .zip(&bodies)
        .map(
            |(stored, body)| {
                if full {
                    event_json(body, issue, project)
                } else {
                    summary(stored, body, issue, project)
                }
            },
        )
        .collect();
    let next = page.next.unwrap_or_default();
    let has_next = !next.is_empty();
    // Pages go forward from a cursor; a client keeps the cursors it used to go back.
    let link = link(&http::path(req), req.raw_query_string.as_deref().unwrap_or(""), ("", false), (&next, has_next));
    Ok(http::with_header(http::json(200, &items), "link", &link))
}

/// Sentry's event list entry: ids, time, title, message, tags and user.
fn summary(stored: &StoredEvent, event: &Value, issue: &Issue, project: &Project) -> Value {
    let full = event_json(event, issue, project);
    json!({
        "id": stored.event_id,
        "eventID": stored.event_id,
        "groupID": issue.id.to_string(),
        "projectID": stored.project_id.to_string(),
        "dateCreated": stored.timestamp.to_rfc3339(),
        "title": full["title"],
        "message": full["message"],
        "platform": full["platform"],
        "tags": full["tags"],
        "user": full["user"],
        "event.type": full["type"],
    })
}

/// The events of an issue id that are not a deleted issue's (whose purge is still running:
/// a new issue of the same group has the same id, and none of the old events).
async fn without_deleted(
    deps: &Deps,
    project_id: u64,
    issue_id: errata_domain::IssueId,
    events: Vec<StoredEvent>,
) -> Result<Vec<StoredEvent>, ApiError> {
    Ok(match deps.issues.deleted_before(project_id, issue_id).await? {
        Some(at) => events.into_iter().filter(|e| e.timestamp.unix_millis() > at).collect(),
        None => events,
    })
}

/// The event, unless it belongs to a deleted issue.
async fn visible(deps: &Deps, stored: Option<StoredEvent>) -> Result<Option<StoredEvent>, ApiError> {
    let Some(e) = stored else { return Ok(None) };
    Ok(without_deleted(deps, e.project_id, e.issue_id, vec![e]).await?.pop())
}

/// The stored JSON of an indexed event (a byte range of its batch's object).
async fn load(deps: &Deps, stored: &StoredEvent) -> Result<Value, ApiError> {
    let body = &stored.body;
    let bytes = deps.events.get_range(&body.key, body.offset, body.len).await?.ok_or_else(|| {
        tracing::error!(key = %body.key, "indexed event has no body");
        ApiError::not_found()
    })?;
    serde_json::from_slice(&bytes).map_err(|_| ApiError::new(500, "Stored event is unreadable"))
}

/// Event ids are 32 hex digits; SDKs and users also write them with hyphens.
fn normalized_id(id: &str) -> Result<String, ApiError> {
    errata_protocol::envelope::normalize_event_id(id).ok_or_else(ApiError::not_found)
}

/// A cursor this API handed out: `ts:project:event_id`.
fn valid_cursor(c: &str) -> bool {
    let parts: Vec<&str> = c.split(':').collect();
    matches!(parts.as_slice(), [ts, project, id]
        if ts.parse::<i64>().is_ok() && project.parse::<u64>().is_ok()
            && !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()))
}
