//! The JSON API under `/api/0/`, in the shapes of Sentry's public API.
//! This slice serves the issue list, issue detail and an issue's latest event.

mod auth;
mod issues;
mod shapes;

use errata_ports::{BlobStore, Directory, IssueStore, StoreError};
use errata_runtime::http::{self, Request, Response};
use std::sync::Arc;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    pub issues: Arc<dyn IssueStore>,
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
    if method != "GET" {
        return Err(ApiError::new(405, format!("Method \"{method}\" not allowed.")));
    }
    let user = auth::authenticate(deps, req).await?;
    match segments.as_slice() {
        ["projects", org, project, "issues"] => issues::list(deps, req, &user, org, project).await,
        ["issues", id] => issues::detail(deps, &user, id).await,
        ["issues", id, "events", "latest"] => issues::latest_event(deps, &user, id).await,
        _ => Err(ApiError::not_found()),
    }
}

#[cfg(test)]
mod tests;
