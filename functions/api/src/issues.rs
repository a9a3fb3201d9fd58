//! Issue routes: the project issue list, issue detail, status changes (single and bulk).

use crate::router::Ctx;
use crate::shapes::{issue_json, user_report_json};
use crate::{ApiError, ApiResult, Deps};
use errata_domain::status::shown_substatus;
use errata_domain::{Issue, IssueId, IssueStatus, StatusRequest, Substatus, Timestamp};
use errata_ports::FeedbackScope;
use errata_runtime::http::{self, Request};
use serde_json::{json, Value};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// `GET /api/0/projects/{org}/{project}/issues/`
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (req, project) = (ctx.req, ctx.project()?);
    let params = &req.query_string_parameters;
    let query = params.first("query").unwrap_or("is:unresolved");
    let filter = Filter::parse(query)?;
    let limit = crate::limit_param(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = match params.first("cursor") {
        None => 0,
        Some(c) => parse_cursor(c).ok_or_else(|| ApiError::new(400, "Invalid cursor parameter."))?,
    };
    let mut issues: Vec<Issue> =
        deps.issues.project_issues(project.id).await?.into_iter().filter(|i| filter.matches(i)).collect();
    sort(&mut issues, params.first("sort").unwrap_or("date"))?;

    let total = issues.len();
    let page: Vec<_> = issues.iter().skip(offset).take(limit).map(|i| issue_json(i, project, &deps.web_url)).collect();
    let path = http::path(req);
    let link = link_header(&path, req.raw_query_string.as_deref().unwrap_or(""), offset, limit, total);
    let resp = http::json(200, &page);
    let resp = http::with_header(resp, "link", &link);
    Ok(http::with_header(resp, "x-hits", &total.to_string()))
}

/// `GET /api/0/issues/{id}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &issue_json(ctx.issue()?, ctx.project()?, &deps.web_url)))
}

/// `PUT /api/0/issues/{id}/`: `{"status": …, "statusDetails": {…}}` as Sentry takes it.
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let request = parse_status_request(ctx.req)?;
    let issue = apply(deps, ctx.issue()?.clone(), &request).await?;
    Ok(http::json(200, &issue_json(&issue, ctx.project()?, &deps.web_url)))
}

/// `PUT /api/0/projects/{org}/{project}/issues/?id=1&id=2`: the same change to several issues.
/// Ids of other projects are ignored, as Sentry does.
pub async fn bulk_update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let (req, project) = (ctx.req, ctx.project()?);
    let ids: Vec<&str> = req.query_string_parameters.all("id").unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new(400, "Select the issues to update with one or more id= parameters."));
    }
    if ids.len() > MAX_LIMIT {
        return Err(ApiError::new(400, format!("At most {MAX_LIMIT} issues can be updated at once.")));
    }
    let request = parse_status_request(req)?;
    let mut last = None;
    for id in ids {
        let id = IssueId::parse(id).ok_or_else(|| ApiError::new(400, format!("Invalid issue id {id:?}.")))?;
        let Some(issue) = deps.issues.issue(id).await?.filter(|i| i.project_id == project.id) else { continue };
        last = Some(apply(deps, issue, &request).await?);
    }
    let Some(issue) = last else { return Err(ApiError::not_found()) };
    let shape = issue_json(&issue, project, &deps.web_url);
    Ok(http::json(
        200,
        &json!({ "status": shape["status"], "substatus": shape["substatus"], "statusDetails": shape["statusDetails"] }),
    ))
}

async fn apply(deps: &Deps, mut issue: Issue, request: &StatusRequest) -> Result<Issue, ApiError> {
    let change = request.apply(&issue, Timestamp::now());
    deps.issues.set_status(&issue, &change).await?;
    issue.status = change.status;
    issue.substatus = change.substatus;
    issue.status_details = change.details;
    Ok(issue)
}

/// Sentry's issue update body: `status` (`resolved`, `resolvedInNextRelease`, `unresolved`,
/// `ignored`) and `statusDetails` (`inNextRelease`, `ignoreCount`, `ignoreUntil`,
/// `ignoreDuration` in minutes).
fn parse_status_request(req: &Request) -> Result<StatusRequest, ApiError> {
    let bytes = http::body_bytes(req).map_err(|_| ApiError::new(400, "The body is not valid base64."))?;
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(400, format!("The body must be a JSON object: {e}")))?;
    let Value::Object(body) = body else { return Err(ApiError::new(400, "The body must be a JSON object.")) };
    if let Some(key) = body.keys().find(|k| !["status", "statusDetails", "substatus"].contains(&k.as_str())) {
        return Err(ApiError::new(400, format!("Updating {key:?} is not supported; send status and statusDetails.")));
    }
    let details = body.get("statusDetails").cloned().unwrap_or(json!({}));
    let status = body.get("status").and_then(Value::as_str).ok_or_else(|| ApiError::new(400, "status is required."))?;
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

/// The part of Sentry's search syntax this slice understands: `is:<status>`, `level:<level>`
/// (both negatable with `!`) and free text matched against title and culprit.
#[derive(Debug, Default)]
struct Filter {
    is: Vec<(bool, Is)>,
    level: Option<(bool, String)>,
    text: Vec<String>,
}

/// An `is:` term: a status (`resolved`…) or a substatus (`regressed`, `new`, `escalating`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Is {
    Status(IssueStatus),
    Substatus(Substatus),
}

impl Filter {
    fn parse(query: &str) -> Result<Filter, ApiError> {
        let mut f = Filter::default();
        for token in tokenize(query) {
            let (negated, term) = match token.strip_prefix('!') {
                Some(t) => (true, t.to_owned()),
                None => (false, token.clone()),
            };
            match term.split_once(':') {
                Some(("is", value)) => {
                    let is = match value {
                        "archived" => Is::Status(IssueStatus::Ignored),
                        _ => IssueStatus::parse(value)
                            .map(Is::Status)
                            .or_else(|| Substatus::parse(value).map(Is::Substatus))
                            .ok_or_else(|| ApiError::new(400, format!("Invalid value for \"is\" search: {value:?}")))?,
                    };
                    f.is.push((negated, is));
                }
                Some(("level", value)) => f.level = Some((negated, value.to_ascii_lowercase())),
                Some((key, _)) if !key.is_empty() && !token.starts_with('"') => {
                    return Err(ApiError::new(
                        400,
                        format!("Search on {key:?} is not supported yet; supported: is:, level: and free text"),
                    ))
                }
                _ => f.text.push(term.trim_matches('"').to_lowercase()),
            }
        }
        Ok(f)
    }

    fn matches(&self, issue: &Issue) -> bool {
        for (neg, is) in &self.is {
            let hit = match is {
                Is::Status(status) => issue.status == *status,
                Is::Substatus(sub) => shown_substatus(issue, Timestamp::now()) == *sub,
            };
            if hit == *neg {
                return false;
            }
        }
        if let Some((neg, level)) = &self.level {
            if (&issue.level == level) == *neg {
                return false;
            }
        }
        let haystack = format!("{} {}", issue.title, issue.culprit).to_lowercase();
        self.text.iter().all(|t| haystack.contains(t.as_str()))
    }
}

/// Splits on whitespace, keeping double-quoted phrases together.
fn tokenize(query: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn sort(issues: &mut [Issue], by: &str) -> Result<(), ApiError> {
    match by {
        "date" => issues.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(b.id.cmp(&a.id))),
        "new" => issues.sort_by(|a, b| b.first_seen.cmp(&a.first_seen).then(b.id.cmp(&a.id))),
        "freq" => issues.sort_by(|a, b| b.times_seen.cmp(&a.times_seen).then(b.id.cmp(&a.id))),
        other => return Err(ApiError::new(400, format!("Invalid sort {other:?}: use date, new or freq"))),
    }
    Ok(())
}

/// Sentry cursors are `value:offset:is_prev`; this list pages by offset.
fn parse_cursor(c: &str) -> Option<usize> {
    let mut parts = c.split(':');
    let _value = parts.next()?;
    parts.next()?.parse().ok()
}

/// Sentry's `Link` header for an offset-paged list.
fn link_header(path: &str, query: &str, offset: usize, limit: usize, total: usize) -> String {
    let prev = format!("0:{}:1", offset.saturating_sub(limit));
    let next = format!("0:{}:0", offset + limit);
    link(path, query, (&prev, offset > 0), (&next, offset + limit < total))
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
    fn tokenizes_quotes_and_negation() {
        assert_eq!(
            tokenize(r#"is:unresolved "division by" !level:info"#),
            vec!["is:unresolved", "\"division by\"", "!level:info"]
        );
        let f = Filter::parse(r#"!is:resolved "Division BY""#).unwrap();
        assert_eq!(f.is, vec![(true, Is::Status(IssueStatus::Resolved))]);
        assert_eq!(f.text, vec!["division by"]);
        let f = Filter::parse("is:regressed is:archived").unwrap();
        assert_eq!(f.is, vec![(false, Is::Substatus(Substatus::Regressed)), (false, Is::Status(IssueStatus::Ignored))]);
        assert_eq!(Filter::parse("is:bogus").unwrap_err().status, 400);
        assert_eq!(Filter::parse("browser:chrome").unwrap_err().status, 400);
    }

    #[test]
    fn link_header_like_sentry() {
        let h = link_header("/api/0/projects/o/p/issues/", "query=is:unresolved&cursor=0:25:0", 25, 25, 60);
        assert!(h.contains(r#"</api/0/projects/o/p/issues/?query=is:unresolved&cursor=0:0:1>; rel="previous"; results="true"; cursor="0:0:1""#), "{h}");
        assert!(h.contains(r#"rel="next"; results="true"; cursor="0:50:0""#), "{h}");
        assert!(link_header("/x", "", 50, 25, 60).contains(r#"rel="next"; results="false""#));
        assert_eq!(parse_cursor("0:50:0"), Some(50));
        assert_eq!(parse_cursor("junk"), None);
    }
}
