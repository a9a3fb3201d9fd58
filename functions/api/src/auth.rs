//! Who is calling: `Authorization: Bearer <api token>`. Tokens are looked up by their SHA-256
//! digest (never stored in clear) and compared in constant time by the directory.

use crate::{ApiError, Deps};
use errata_domain::secrets::token_digest;
use errata_domain::{Member, Project};
use errata_runtime::http::{self, Request};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub email: String,
    /// The token's scopes (Sentry's `event:write`…); empty means unrestricted.
    pub scopes: Vec<String>,
}

impl Caller {
    /// Whether the token may do what needs `scope` (an `:admin` scope includes `:write`).
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        let admin = scope.replace(":write", ":admin");
        if self.scopes.is_empty() || self.scopes.iter().any(|s| s == scope || *s == admin) {
            Ok(())
        } else {
            Err(ApiError::new(403, format!("This token lacks the {scope} scope.")))
        }
    }
}

pub async fn authenticate(deps: &Deps, req: &Request) -> Result<Caller, ApiError> {
    let header = http::header(req, "authorization")
        .ok_or_else(|| ApiError::new(401, "Authentication credentials were not provided."))?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(401, "Invalid authorization header: expected 'Bearer <token>'."))?;
    let stored = deps.directory.api_token(&token_digest(token)).await?;
    let stored = stored.ok_or_else(|| ApiError::new(401, "Invalid token"))?;
    Ok(Caller { email: stored.email, scopes: stored.scopes })
}

/// The caller's membership of `org`, or 404: a caller outside an organization learns nothing
/// of it, not even that it exists.
pub async fn membership(deps: &Deps, caller: &Caller, org: &str) -> Result<Member, ApiError> {
    deps.directory.member(org, &caller.email).await?.ok_or_else(ApiError::not_found)
}

/// A project the caller may read, by organization and project slug.
pub async fn project_by_slug(deps: &Deps, caller: &Caller, org: &str, slug: &str) -> Result<Project, ApiError> {
    membership(deps, caller, org).await?;
    deps.directory.project_by_slug(org, slug).await?.ok_or_else(ApiError::not_found)
}

/// A project the caller may read, by id.
pub async fn project_by_id(deps: &Deps, caller: &Caller, id: u64) -> Result<Project, ApiError> {
    let project = deps.directory.project(id).await?.ok_or_else(ApiError::not_found)?;
    membership(deps, caller, &project.org).await?;
    Ok(project)
}
