//! Issue routes: the project issue list, issue detail, an issue's latest event.

use crate::auth::{self, Caller};
use crate::shapes::{event_json, issue_json};
use crate::{ApiError, ApiResult, Deps};
use errata_domain::{Issue, IssueId, IssueStatus};
use errata_runtime::http::{self, Request};

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// `GET /api/0/projects/{org}/{project}/issues/`
pub async fn list(deps: &Deps, req: &Request, caller: &Caller, org: &str, slug: &str) -> ApiResult {
    let project = auth::project_by_slug(deps, caller, org, slug).await?;
    let params = &req.query_string_parameters;
    let query = params.first("query").unwrap_or("is:unresolved");
    let filter = Filter::parse(query)?;
    let limit = match params.first("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| ApiError::new(400, format!("limit must be between 1 and {MAX_LIMIT}")))?,
    };
    let offset = match params.first("cursor") {
        None => 0,
        Some(c) => parse_cursor(c).ok_or_else(|| ApiError::new(400, "Invalid cursor parameter."))?,
    };
    let mut issues: Vec<Issue> =
        deps.issues.project_issues(project.id).await?.into_iter().filter(|i| filter.matches(i)).collect();
    sort(&mut issues, params.first("sort").unwrap_or("date"))?;

    let total = issues.len();
    let page: Vec<_> = issues.iter().skip(offset).take(limit).map(|i| issue_json(i, &project, &deps.web_url)).collect();
    let path = http::path(req);
    let link = link_header(&path, req.raw_query_string.as_deref().unwrap_or(""), offset, limit, total);
    let resp = http::json(200, &page);
    let resp = http::with_header(resp, "link", &link);
    Ok(http::with_header(resp, "x-hits", &total.to_string()))
}

/// `GET /api/0/issues/{id}/`
pub async fn detail(deps: &Deps, caller: &Caller, id: &str) -> ApiResult {
    let (issue, project) = readable_issue(deps, caller, id).await?;
    Ok(http::json(200, &issue_json(&issue, &project, &deps.web_url)))
}

/// `GET /api/0/issues/{id}/events/latest/`
pub async fn latest_event(deps: &Deps, caller: &Caller, id: &str) -> ApiResult {
    let (issue, project) = readable_issue(deps, caller, id).await?;
    let stored = deps.issues.latest_event(issue.id).await?.ok_or_else(ApiError::not_found)?;
    let body = deps.events.get(&stored.body_key).await?.ok_or_else(|| {
        tracing::error!(key = %stored.body_key, "indexed event has no body");
        ApiError::not_found()
    })?;
    let event: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::new(500, "Stored event is unreadable"))?;
    Ok(http::json(200, &event_json(&event, &issue, &project)))
}

async fn readable_issue(deps: &Deps, caller: &Caller, id: &str) -> Result<(Issue, errata_domain::Project), ApiError> {
    let id = IssueId::parse(id).ok_or_else(ApiError::not_found)?;
    let issue = deps.issues.issue(id).await?.ok_or_else(ApiError::not_found)?;
    let project = auth::project_by_id(deps, caller, issue.project_id).await?;
    Ok((issue, project))
}

/// The part of Sentry's search syntax this slice understands: `is:<status>`, `level:<level>`
/// (both negatable with `!`) and free text matched against title and culprit.
#[derive(Debug, Default)]
struct Filter {
    status: Option<(bool, IssueStatus)>,
    level: Option<(bool, String)>,
    text: Vec<String>,
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
                    let status = IssueStatus::parse(value)
                        .ok_or_else(|| ApiError::new(400, format!("Invalid value for \"is\" search: {value:?}")))?;
                    f.status = Some((negated, status));
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
        if let Some((neg, status)) = self.status {
            if (issue.status == status) == neg {
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

/// Sentry's `Link` header with `previous` and `next` cursors and a `results` flag.
fn link_header(path: &str, query: &str, offset: usize, limit: usize, total: usize) -> String {
    let base: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("cursor=")).collect();
    let url = |cursor: &str| {
        let mut q = base.clone();
        let c = format!("cursor={cursor}");
        q.push(&c);
        format!("<{path}?{}>", q.join("&"))
    };
    let prev = format!("0:{}:1", offset.saturating_sub(limit));
    let next = format!("0:{}:0", offset + limit);
    format!(
        "{}; rel=\"previous\"; results=\"{}\"; cursor=\"{prev}\", {}; rel=\"next\"; results=\"{}\"; cursor=\"{next}\"",
        url(&prev),
        offset > 0,
        url(&next),
        offset + limit < total
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
        assert_eq!(f.status, Some((true, IssueStatus::Resolved)));
        assert_eq!(f.text, vec!["division by"]);
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
