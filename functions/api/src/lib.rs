//! The JSON API under `/api/0/`, in the shapes of Sentry's public API.
//! Issues (list, detail, status changes), their events, and release health.

mod auth;
mod events;
mod issues;
mod sessions;
mod shapes;

use errata_ports::{BlobStore, Directory, EventOrder, IssueStore, ReleaseHealth, StoreError};
use errata_runtime::http::{self, Request, Response};
use std::sync::Arc;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    pub issues: Arc<dyn IssueStore>,
    pub health: Arc<dyn ReleaseHealth>,
    pub events: Arc<dyn BlobStore>,
    /// Base URL of the web app, for `permalink`s. Empty when unknown.
    pub web_url: String,
}

/// A failed request: its status and the `detail` message the client sees.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        ApiError { status, detail: detail.into() }
    }
    /// Sentry's answer for anything that does not exist *or that the caller may not see*:
    /// a foreign resource is indistinguishable from a missing one.
    pub fn not_found() -> Self {
        ApiError::new(404, "The requested resource does not exist")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        if e.retryable {
            ApiError::new(503, "The service is temporarily unavailable, retry later")
        } else {
            ApiError::new(500, "Internal error")
        }
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// The `limit` query parameter: `default` when absent, 400 outside `1..=max`.
pub(crate) fn limit_param(req: &Request, default: usize, max: usize) -> Result<usize, ApiError> {
    match req.query_string_parameters.first("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiError::new(400, format!("limit must be between 1 and {max}"))),
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    match route(deps, &req).await {
        Ok(resp) => resp,
        Err(e) => http::error(e.status, &e.detail),
    }
}

async fn route(deps: &Deps, req: &Request) -> ApiResult {
    let path = http::path(req);
    let method = http::method(req);
    let Some(rest) = path.strip_prefix("/api/0/") else { return Err(ApiError::not_found()) };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let user = auth::authenticate(deps, req).await?;
    let not_allowed = || ApiError::new(405, format!("Method \"{method}\" not allowed."));
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["projects", org, project, "issues"]) => issues::list(deps, req, &user, org, project).await,
        ("PUT", ["projects", org, project, "issues"]) => issues::bulk_update(deps, req, &user, org, project).await,
        ("GET", ["projects", org, project, "events", event_id]) => {
            events::of_project(deps, &user, org, project, event_id).await
        }
        ("GET", ["organizations", org, "sessions"]) => sessions::list(deps, req, &user, org).await,
        ("GET", ["issues", id]) => issues::detail(deps, &user, id).await,
        ("PUT", ["issues", id]) => issues::update(deps, req, &user, id).await,
        ("GET", ["issues", id, "events"]) => events::list(deps, req, &user, id).await,
        ("GET", ["issues", id, "user-reports"]) => issues::user_reports(deps, &user, id).await,
        ("GET", ["projects", org, project, "user-reports"]) => {
            issues::project_user_reports(deps, &user, org, project).await
        }
        ("GET", ["issues", id, "events", "latest"]) => events::end(deps, &user, id, EventOrder::NewestFirst).await,
        ("GET", ["issues", id, "events", "oldest"]) => events::end(deps, &user, id, EventOrder::OldestFirst).await,
        ("GET", ["issues", id, "events", event_id]) => events::of_issue(deps, &user, id, event_id).await,
        (_, ["projects", _, _, "issues"] | ["issues", _]) => Err(not_allowed()),
        (_, ["projects", _, _, "events", _] | ["issues", _, "events", ..]) => Err(not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

#[cfg(test)]
mod tests;
