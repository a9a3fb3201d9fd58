//! Who is calling. Two credentials:
//! - an API token, `Authorization: Bearer errata_…`, looked up by its SHA-256 digest (never
//!   stored in clear) and limited to its scopes;
//! - a browser session, the `errata_session` cookie (HttpOnly, Secure, SameSite=Strict) set at
//!   sign-in, or the same value as a bearer token. Sessions have every scope; the role decides.
//!
//! Every lookup compares the stored digest in constant time (in the directory adapter).

use crate::{throttle, ApiError, Deps};
use errata_domain::secrets::token_digest;
use errata_domain::Member;
use errata_runtime::http::{self, Request};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "errata_session";
/// Prefix of session secrets, so they are never mistaken for API tokens.
pub const SESSION_PREFIX: &str = "errata_s_";
/// How long a session lasts.
pub const SESSION_SECS: i64 = 14 * 86_400;

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A browser session (cookie) or its value as a bearer token.
    Session { digest: String, cookie: bool },
    /// An API token with its scopes; empty means every scope.
    Token { scopes: Vec<String> },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub email: String,
    pub via: Via,
}

impl Caller {
    /// Whether the credential allows `scope` (`x:admin` includes `x:write`, which includes
    /// `x:read`; `project:write` also includes `project:releases`, uploads for a project's
    /// releases and debug files). An empty `scope` needs nothing.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        let Via::Token { scopes } = &self.via else { return Ok(()) };
        if scope.is_empty() || scopes.is_empty() || scopes.iter().any(|s| scope_includes(s, scope)) {
            Ok(())
        } else {
            Err(ApiError::new(403, format!("This token lacks the {scope} scope.")))
        }
    }
}

fn scope_includes(granted: &str, needed: &str) -> bool {
    let rank = |level: &str| match level {
        "read" => 1,
        "write" => 2,
        "admin" => 3,
        _ => 0,
    };
    if (granted == needed && crate::account::SCOPES.contains(&needed))
        || (needed == "project:releases" && matches!(granted, "project:write" | "project:admin"))
    {
        return true;
    }
    match (granted.split_once(':'), needed.split_once(':')) {
        (Some((g, gl)), Some((n, nl))) => g == n && rank(gl) >= rank(nl) && rank(nl) > 0,
        _ => granted == needed,
    }
}

pub fn unauthenticated() -> ApiError {
    ApiError::new(401, "Authentication credentials were not provided.")
}

/// The session secret from the request's cookies, if any.
pub fn session_cookie(req: &Request) -> Option<&str> {
    let from_list = req.cookies.iter().flatten().flat_map(|c| c.split(';'));
    let from_header = http::header(req, "cookie").into_iter().flat_map(|c| c.split(';'));
    from_list
        .chain(from_header)
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// Who the request's credential belongs to. A wrong credential is a counted failure of the
/// client address; an address with too many is throttled (429) whatever it sends, and the
/// throttle is read while the credential is looked up, so a valid one waits for nothing.
pub async fn authenticate(deps: &Deps, req: &Request) -> Result<Caller, ApiError> {
    let scopes = [throttle::address(req)];
    let (blocked, found) = futures_util::join!(throttle::check(deps, &scopes), lookup(deps, req));
    blocked?;
    match found {
        Err(e) if e.status == 401 && e.detail != unauthenticated().detail => {
            throttle::failed(deps, &scopes).await?;
            Err(e)
        }
        other => other,
    }
}

async fn lookup(deps: &Deps, req: &Request) -> Result<Caller, ApiError> {
    if let Some(header) = http::header(req, "authorization") {
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(401, "Invalid authorization header: expected 'Bearer <token>'."))?;
        if secret.starts_with(SESSION_PREFIX) {
            return session(deps, secret, false).await;
        }
        let stored = deps.directory.api_token(&token_digest(secret)).await?;
        let stored = stored.ok_or_else(|| ApiError::new(401, "Invalid token"))?;
        if stored.expired(crate::now_secs()) {
            return Err(ApiError::new(401, "This token has expired."));
        }
        return Ok(Caller { email: stored.email, via: Via::Token { scopes: stored.scopes } });
    }
    match session_cookie(req) {
        Some(secret) => session(deps, secret, true).await,
        None => Err(unauthenticated()),
    }
}

async fn session(deps: &Deps, secret: &str, cookie: bool) -> Result<Caller, ApiError> {
    let digest = token_digest(secret);
    let stored = deps.directory.session(&digest).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match stored {
        Some(s) if s.expires_at > now => Ok(Caller { email: s.email, via: Via::Session { digest, cookie } }),
        _ => Err(ApiError::new(401, "Your session has expired; sign in again.")),
    }
}

/// Cross-site request forgery guard: a state-changing request must be a JSON request (which a
/// page of another site cannot send without a CORS preflight that this API does not grant with
/// credentials), unless it carries an `Authorization` header, which browsers never add on
/// their own. Sign-in, setup, invitations and password resets are covered too: a page of
/// another site cannot sign a victim in, or out.
pub fn require_json_unless_bearer(req: &Request) -> Result<(), ApiError> {
    if matches!(http::method(req).as_str(), "GET" | "HEAD" | "OPTIONS") || http::header(req, "authorization").is_some()
    {
        return Ok(());
    }
    let json = http::header(req, "content-type").is_some_and(|c| c.trim_start().starts_with("application/json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::new(403, "A request that changes anything must send Content-Type: application/json."))
    }
}

/// The caller's membership of `org`, or 404: a caller outside an organization learns nothing
/// of it, not even that it exists.
pub async fn membership(deps: &Deps, caller: &Caller, org: &str) -> Result<Member, ApiError> {
    deps.directory.member(org, &caller.email).await?.ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_lower_levels_of_the_same_resource() {
        assert!(scope_includes("event:admin", "event:write"));
        assert!(scope_includes("event:write", "event:read"));
        assert!(!scope_includes("event:read", "event:write"));
        assert!(!scope_includes("project:admin", "event:read"));
        assert!(scope_includes("project:write", "project:releases"));
        assert!(scope_includes("project:releases", "project:releases"));
        assert!(!scope_includes("project:read", "project:releases"));
        assert!(!scope_includes("project:releases", "project:write"));
        assert!(!scope_includes("event:bogus", "event:bogus"));
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut req = Request::default();
        req.cookies = Some(vec!["a=1".into(), format!("{SESSION_COOKIE}=errata_s_x")]);
        assert_eq!(session_cookie(&req), Some("errata_s_x"));
        let mut req = Request::default();
        req.headers.insert("cookie", format!("b=2; {SESSION_COOKIE}=errata_s_y").parse().unwrap());
        assert_eq!(session_cookie(&req), Some("errata_s_y"));
    }
}
