//! Throttling of every credential check: sign-in, first-run setup, invitation acceptance,
//! password changes and resets, bearer tokens and session cookies. Failures are counted per
//! account and per client address in fixed windows (DynamoDB, with TTL); a scope that has too
//! many waits for its window to end (429 with `Retry-After`). An account under attack is
//! slowed for a window at a time, never locked for good, and its owner signing in from their
//! own address keeps that address's allowance.

use crate::{now_secs, ApiError, Deps};
use errata_domain::secrets::token_digest;
use errata_domain::RateLimit;
use errata_runtime::http::Request;

/// Failed sign-ins (or password checks) of one account: 10 in 15 minutes.
pub const PER_ACCOUNT: RateLimit = RateLimit { count: 10, window_secs: 900 };
/// Failed credential checks of any kind from one client address: 100 in 15 minutes.
pub const PER_ADDRESS: RateLimit = RateLimit { count: 100, window_secs: 900 };
/// Wrong setup secrets, whoever sends them: 20 an hour.
pub const SETUP: RateLimit = RateLimit { count: 20, window_secs: 3600 };
/// Password-reset e-mails to one address: 3 an hour.
pub const RESET_MAILS: RateLimit = RateLimit { count: 3, window_secs: 3600 };
/// Password-reset requests from one client address: 20 an hour.
pub const RESETS_PER_ADDRESS: RateLimit = RateLimit { count: 20, window_secs: 3600 };
/// Invitations one organization may send (e-mails to addresses outside it): 50 a day.
pub const INVITES_PER_ORG: RateLimit = RateLimit { count: 50, window_secs: 86_400 };

/// A throttle scope and its limit.
pub type Scope = (String, RateLimit);

/// The client address API Gateway saw (never a header the client wrote).
pub fn client_ip(req: &Request) -> Option<&str> {
    req.request_context.http.source_ip.as_deref().filter(|ip| !ip.is_empty())
}

/// The scope of failed checks from the request's client address.
pub fn address(req: &Request) -> Scope {
    (format!("auth:address:{}", client_ip(req).unwrap_or("unknown")), PER_ADDRESS)
}

/// The scope of failed checks of an account, named by what the caller typed (whether or not an
/// account exists, so the answers do not tell which addresses have accounts).
pub fn account(email: &str) -> Scope {
    (format!("auth:account:{}", &token_digest(&email.trim().to_lowercase())[..32]), PER_ACCOUNT)
}

/// 429 when any of the scopes has used up its allowance of failures.
pub async fn check(deps: &Deps, scopes: &[Scope]) -> Result<(), ApiError> {
    let now = now_secs();
    let waits = futures_util::future::try_join_all(
        scopes.iter().map(|(scope, limit)| deps.throttle.blocked(scope, limit, now)),
    )
    .await?;
    match waits.into_iter().flatten().max() {
        Some(wait) => Err(ApiError::throttled(
            wait,
            format!("Too many failed attempts; try again in {} minutes.", wait.div_ceil(60).max(1)),
        )),
        None => Ok(()),
    }
}

/// Counts a failure against each scope.
pub async fn failed(deps: &Deps, scopes: &[Scope]) -> Result<(), ApiError> {
    let now = now_secs();
    futures_util::future::try_join_all(scopes.iter().map(|(scope, limit)| deps.throttle.failed(scope, limit, now)))
        .await?;
    Ok(())
}
