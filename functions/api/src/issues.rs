//! Issue routes: issue detail, status changes, assignment and deletion (single and bulk),
//! user feedback. The list is in `issue_list.rs`.

use crate::router::Ctx;
use crate::shapes::{issue_json, user_report_json};
use crate::{audit, ApiError, ApiResult, Deps};
use errata_domain::{Issue, IssueId, StatusRequest, Timestamp};
use errata_ports::FeedbackScope;
use errata_runtime::http;
use serde_json::{json, Value};

const MAX_LIMIT: usize = 100;

/// `GET /api/0/issues/{id}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &issue_json(ctx.issue()?, ctx.project()?, &deps.web_url)))
}

/// What a PUT asks of issues: a status change, an assignment, or both.
struct Update {
    status: Option<StatusRequest>,
    /// `Some(None)` unassigns.
    assign: Option<Option<String>>,
}

/// `PUT /api/0/issues/{id}/`: `{"status": …, "statusDetails": {…}, "assignedTo": …}` as
/// Sentry takes them.
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let update = parse_update(deps, ctx).await?;
    let issue = apply(deps, ctx.issue()?.clone(), &update).await?;
    Ok(http::json(200, &issue_json(&issue, ctx.project()?, &deps.web_url)))
}

/// The issues `?id=…` of the route's project (ids of other projects are ignored, as Sentry
/// does); 400 without ids or with too many.
async fn selected(deps: &Deps, ctx: &Ctx<'_>) -> Result<Vec<Issue>, ApiError> {
    let project = ctx.project()?;
    let ids: Vec<&str> = ctx.req.query_string_parameters.all("id").unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new(400, "Select the issues with one or more id= parameters."));
    }
    if ids.len() > MAX_LIMIT {
        return Err(ApiError::new(400, format!("At most {MAX_LIMIT} issues at once.")));
    }
    let mut issues = Vec::with_capacity(ids.len());
    for id in ids {
        let id = IssueId::parse(id).ok_or_else(|| ApiError::new(400, format!("Invalid issue id {id:?}.")))?;
        if let Some(issue) = deps.issues.issue(id).await?.filter(|i| i.project_id == project.id) {
            issues.push(issue);
        }
    }
    Ok(issues)
}

/// `PUT /api/0/projects/{org}/{project}/issues/?id=1&id=2`: the same change to several issues.
pub async fn bulk_update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let update = parse_update(deps, ctx).await?;
    let mut last = None;
    for issue in selected(deps, ctx).await? {
        last = Some(apply(deps, issue, &update).await?);
    }
    let Some(issue) = last else { return Err(ApiError::not_found()) };
    let shape = issue_json(&issue, ctx.project()?, &deps.web_url);
    let mut out = json!({});
    for key in ["status", "substatus", "statusDetails", "assignedTo"] {
        out[key] = shape[key].clone();
    }
    Ok(http::json(200, &out))
}

/// `DELETE /api/0/issues/{id}/` (admins): 202, as Sentry answers.
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let issue = ctx.issue()?;
    delete_issue(deps, ctx, issue).await?;
    Ok(accepted())
}

/// `DELETE /api/0/projects/{org}/{project}/issues/?id=1&id=2` (admins).
pub async fn bulk_delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let issues = selected(deps, ctx).await?;
    if issues.is_empty() {
        return Err(ApiError::not_found());
    }
    for issue in &issues {
        delete_issue(deps, ctx, issue).await?;
    }
    Ok(accepted())
}

/// How long a delete request purges an issue's events; a larger issue is finished by the
/// hourly maintenance run (its events are gone for readers at once either way).
const PURGE_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Deletes an issue with its events and their attachments, and records who did it.
async fn delete_issue(deps: &Deps, ctx: &Ctx<'_>, issue: &Issue) -> Result<(), ApiError> {
    deps.issues.delete_issue(issue).await?;
    let deadline = std::time::Instant::now() + PURGE_BUDGET;
    let done = errata_runtime::purge::purge_issue(
        deps.issues.as_ref(),
        deps.events.as_ref(),
        issue.project_id,
        issue.id,
        deadline,
    )
    .await?;
    if !done {
        tracing::info!(issue_id = %issue.id, "issue deleted; the maintenance run purges the rest of its events");
    }
    let project = ctx.project()?;
    let change = audit::Change::new("issue.delete")
        .object(issue.id)
        .data(json!({"title": issue.title, "project": project.slug}));
    audit::record(deps, ctx, &project.org, change).await;
    Ok(())
}

fn accepted() -> http::Response {
    let mut resp = http::json(202, &Value::Null);
    resp.body = None;
    resp
}

async fn apply(deps: &Deps, mut issue: Issue, update: &Update) -> Result<Issue, ApiError> {
    if let Some(request) = &update.status {
        let change = request.apply(&issue, Timestamp::now());
        deps.issues.set_status(&issue, &change).await?;
        issue.status = change.status;
        issue.substatus = change.substatus;
        issue.status_details = change.details;
    }
    if let Some(assignee) = &update.assign {
        deps.issues.set_assignee(&issue, assignee.as_deref()).await?;
        issue.assignee.clone_from(assignee);
    }
    Ok(issue)
}

async fn parse_update(deps: &Deps, ctx: &Ctx<'_>) -> Result<Update, ApiError> {
    // `substatus` is accepted as Sentry's clients send it; the status decides it here.
    let body = crate::body::Body::parse(ctx.req, &["status", "statusDetails", "substatus", "assignedTo"])?.into_map();
    let status = match body.get("status") {
        None => None,
        Some(_) => Some(parse_status_request(&body)?),
    };
    let assign = match body.get("assignedTo") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(Value::String(s)) => {
            // Sentry sends `user:<id>` or a username; here both name a member by e-mail.
            let email = s.strip_prefix("user:").unwrap_or(s).to_lowercase();
            let org = &ctx.project()?.org;
            if deps.directory.member(org, &email).await?.is_none() {
                return Err(ApiError::new(400, format!("{email:?} is not a member of this organization.")));
            }
            Some(Some(email))
        }
        Some(_) => return Err(ApiError::new(400, "assignedTo must be a member's e-mail address or null.")),
    };
    if status.is_none() && assign.is_none() {
        return Err(ApiError::new(400, "Send status (with statusDetails) or assignedTo."));
    }
    Ok(Update { status, assign })
}

/// Sentry's status change: `status` (`resolved`, `resolvedInNextRelease`, `unresolved`,
/// `ignored`) and `statusDetails` (`inNextRelease`, `ignoreCount`, `ignoreUntil`,
/// `ignoreDuration` in minutes).
fn parse_status_request(body: &serde_json::Map<String, Value>) -> Result<StatusRequest, ApiError> {
    let details = body.get("statusDetails").cloned().unwrap_or(json!({}));
    let status =
        body.get("status").and_then(Value::as_str).ok_or_else(|| ApiError::new(400, "status must be a string."))?;
    Ok(match status {
        "resolved" if details.get("inNextRelease").and_then(Value::as_bool) == Some(true) => {
            StatusRequest::ResolveInNextRelease
        }
        "resolved" => StatusRequest::Resolve,
        "resolvedInNextRelease" => StatusRequest::ResolveInNextRelease,
        "unresolved" => StatusRequest::Unresolve,
        "ignored" | "archived" => {
            let number =
                |k: &str| -> Result<Option<u64>, ApiError> {
                    match details.get(k) {
                        None | Some(Value::Null) => Ok(None),
                        Some(v) => v.as_u64().filter(|n| *n > 0).map(Some).ok_or_else(|| {
                            ApiError::new(400, format!("statusDetails.{k} must be a positive integer."))
                        }),
                    }
                };
            let mut until = match details.get("ignoreUntil").and_then(Value::as_str) {
                Some(t) => Some(
                    Timestamp::parse(t)
                        .ok_or_else(|| ApiError::new(400, "statusDetails.ignoreUntil must be an ISO 8601 time."))?,
                ),
                None => None,
            };
            if let Some(minutes) = number("ignoreDuration")? {
                until = Timestamp::from_unix_millis(Timestamp::now().unix_millis() + minutes as i64 * 60_000);
            }
            StatusRequest::Ignore { count: number("ignoreCount")?, until }
        }
        other => {
            return Err(ApiError::new(
                400,
                format!("Invalid status {other:?}: use resolved, resolvedInNextRelease, unresolved or ignored."),
            ))
        }
    })
}

/// `GET /api/0/issues/{id}/user-reports/`: the feedback about an issue's events, newest first.
pub async fn user_reports(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (issue, project) = (ctx.issue()?, ctx.project()?);
    let mut reports = deps.issues.feedback(project.id, FeedbackScope::Issue(issue.id), MAX_LIMIT).await?;
    for f in deps.issues.feedback(project.id, FeedbackScope::Unattached, MAX_LIMIT).await? {
        if feedback_issue(deps, &f).await? == Some(issue.id) {
            reports.push(f);
        }
    }
    reports.sort_by_key(|f| std::cmp::Reverse(f.timestamp));
    Ok(http::json(
        200,
        &reports.iter().map(|f| user_report_json(f, Some(issue), project, &deps.web_url)).collect::<Vec<_>>(),
    ))
}

/// `GET /api/0/projects/{org}/{project}/user-reports/`: all of a project's feedback.
pub async fn project_user_reports(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let reports = deps.issues.feedback(project.id, FeedbackScope::All, MAX_LIMIT).await?;
    let mut out = Vec::with_capacity(reports.len());
    for f in &reports {
        let issue = match feedback_issue(deps, f).await? {
            Some(id) => deps.issues.issue(id).await?,
            None => None,
        };
        out.push(user_report_json(f, issue.as_ref(), project, &deps.web_url));
    }
    Ok(http::json(200, &out))
}

/// The issue feedback is about: attached when it was stored, or, when its event was processed
/// after it (an SDK sends both at once), found through the event now.
async fn feedback_issue(deps: &Deps, f: &errata_domain::Feedback) -> Result<Option<IssueId>, ApiError> {
    if f.issue_id.is_some() {
        return Ok(f.issue_id);
    }
    match &f.event_id {
        Some(event_id) => Ok(deps.issues.event(f.project_id, event_id).await?.map(|e| e.issue_id)),
        None => Ok(None),
    }
}

/// Sentry's `Link` header: `previous` and `next` URLs with their cursors and whether each
/// has results.
pub fn link(path: &str, query: &str, prev: (&str, bool), next: (&str, bool)) -> String {
    let base: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("cursor=")).collect();
    let url = |cursor: &str| {
        let mut q = base.clone();
        let c = format!("cursor={cursor}");
        q.push(&c);
        format!("<{path}?{}>", q.join("&"))
    };
    format!(
        "{}; rel=\"previous\"; results=\"{}\"; cursor=\"{}\", {}; rel=\"next\"; results=\"{}\"; cursor=\"{}\"",
        url(prev.0),
        prev.1,
        prev.0,
        url(next.0),
        next.1,
        next.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_like_sentry() {
        let h = link("/api/0/projects/o/p/issues/", "query=is:unresolved&cursor=1:2:0", ("", false), ("5:6:0", true));
        assert!(
            h.contains(r#"</api/0/projects/o/p/issues/?query=is:unresolved&cursor=>; rel="previous"; results="false""#),
            "{h}"
        );
        assert!(h.contains(r#"</api/0/projects/o/p/issues/?query=is:unresolved&cursor=5:6:0>; rel="next"; results="true"; cursor="5:6:0""#), "{h}");
    }
}
