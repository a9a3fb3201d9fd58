//! What users manage of their own credentials: their password (changed with the current one,
//! or reset by a single-use link sent by e-mail), their sign-ins (listed, ended one by one or
//! everywhere) and their API tokens (with scopes and an optional expiry). Changing or resetting
//! a password ends every other sign-in.

use crate::auth::{Caller, Via};
use crate::body::Body;
use crate::router::Ctx;
use crate::{account, audit, now_secs, throttle, ApiError, ApiResult, Deps};
use errata_domain::secrets::{new_api_token, token_digest, verify_password};
use errata_domain::{ApiToken, Notice, PasswordReset, Timestamp, User};
use errata_runtime::http;
use serde_json::{json, Value};

/// The most API tokens one user may hold.
const MAX_TOKENS: usize = 100;
/// How long a password-reset link works.
const RESET_SECS: i64 = 3600;

/// Token and sign-in management needs a signed-in session: a token cannot mint, revoke or
/// end credentials.
pub fn session_only<'c>(ctx: &'c Ctx<'_>) -> Result<&'c Caller, ApiError> {
    let caller = ctx.caller()?;
    match caller.via {
        Via::Session { .. } => Ok(caller),
        Via::Token { .. } => Err(ApiError::new(403, "Credentials are managed from a signed-in session.")),
    }
}

/// Ends the user's sessions, all of them or all but `keep` (a digest); returns how many.
pub async fn end_sessions(deps: &Deps, email: &str, keep: Option<&str>) -> Result<usize, ApiError> {
    let sessions = deps.accounts.user_sessions(email).await?;
    let mut ended = 0;
    for s in sessions.iter().filter(|s| keep != Some(s.digest.as_str())) {
        deps.directory.delete_session(s).await?;
        ended += 1;
    }
    Ok(ended)
}

/// `PUT /api/0/users/me/password/` `{"password", "passwordNew", "passwordVerify"}` (Sentry's
/// names): the current password (throttled like a sign-in) and the new one. Every other
/// session of the user ends.
pub async fn change_password(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = session_only(ctx)?;
    let body = Body::parse(ctx.req, &["password", "passwordNew", "passwordVerify"])?;
    let current = body.required_str("password")?;
    let new = account::valid_password(body.required_str("passwordNew")?)?;
    if body.optional_str("passwordVerify")?.is_some_and(|v| v != new) {
        return Err(ApiError::new(400, "passwordVerify does not match passwordNew."));
    }
    let scopes = [throttle::account(&caller.email), throttle::address(ctx.req)];
    throttle::check(deps, &scopes).await?;
    let user = deps.directory.user(&caller.email).await?.ok_or_else(ApiError::not_found)?;
    if !verify_password(current, &user.password_hash) {
        throttle::failed(deps, &scopes).await?;
        return Err(ApiError::new(400, "The current password is not correct."));
    }
    deps.directory.put_user(&User { password_hash: account::hashed(&new)?, ..user }).await?;
    let Via::Session { digest, .. } = &caller.via else { return Err(ApiError::not_found()) };
    let ended = end_sessions(deps, &caller.email, Some(digest)).await?;
    audit::record_for_user(deps, ctx.req, &caller.email, "user.password-change", json!({"sessionsEnded": ended})).await;
    Ok(account::no_content())
}

/// `POST /api/0/auth/password-reset/` `{"email"}`: e-mails a link that sets a new password,
/// when an account has that address. The answer is the same either way (202), so it does not
/// tell which addresses have accounts; at most 3 e-mails an hour go to one address.
pub async fn request_reset(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["email"])?;
    let email = account::valid_email(body.required_str("email")?)?;
    let address = throttle::client_ip(ctx.req).unwrap_or("unknown");
    let scopes = [
        (format!("mail:reset:{}", &token_digest(&email)[..32]), throttle::RESET_MAILS),
        (format!("mail:reset-from:{address}"), throttle::RESETS_PER_ADDRESS),
    ];
    throttle::check(deps, &scopes).await?;
    throttle::failed(deps, &scopes).await?;
    if deps.directory.user(&email).await?.is_some() {
        let secret = new_api_token();
        let expires_at = now_secs() + RESET_SECS;
        deps.accounts
            .put_password_reset(&PasswordReset { digest: token_digest(&secret), email: email.clone(), expires_at })
            .await?;
        // The secret travels in the link's fragment, which browsers never send to a server.
        let link = format!("{}/reset-password/{secret}", deps.web_url.trim_end_matches('/'));
        deps.outbox.send(&Notice::PasswordReset { to: email, link, expires_at }).await?;
    }
    Ok(http::json(
        202,
        &json!({"detail": "If an account has this address, a link to set a new password is on its way."}),
    ))
}

/// `POST /api/0/auth/password-reset/confirm/` `{"token", "password"}`: sets the new password
/// (the link works once, for an hour), ends every session of the user and signs them in.
pub async fn confirm_reset(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["token", "password"])?;
    let secret = body.required_str("token")?;
    let password = account::valid_password(body.required_str("password")?)?;
    let scopes = [throttle::address(ctx.req)];
    throttle::check(deps, &scopes).await?;
    let reset = deps.accounts.take_password_reset(&token_digest(secret)).await?.filter(|r| r.expires_at > now_secs());
    let Some(reset) = reset else {
        throttle::failed(deps, &scopes).await?;
        return Err(ApiError::new(400, "This link is not valid any more: ask for a new one."));
    };
    let user = deps.directory.user(&reset.email).await?.ok_or_else(ApiError::not_found)?;
    let user = User { password_hash: account::hashed(&password)?, ..user };
    deps.directory.put_user(&user).await?;
    let ended = end_sessions(deps, &user.email, None).await?;
    audit::record_for_user(deps, ctx.req, &user.email, "user.password-reset", json!({"sessionsEnded": ended})).await;
    account::signed_in(deps, ctx.req, &user, 200).await
}

/// `GET /api/0/users/me/sessions/`: the caller's sign-ins, newest first, the current one marked.
pub async fn list_sessions(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let current = match &caller.via {
        Via::Session { digest, .. } => Some(digest.as_str()),
        Via::Token { .. } => None,
    };
    let now = now_secs();
    let mut sessions: Vec<_> =
        deps.accounts.user_sessions(&caller.email).await?.into_iter().filter(|s| s.expires_at > now).collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let date = |secs: i64| Timestamp::from_unix_millis(secs * 1000).map(|t| t.to_rfc3339());
    let body: Vec<Value> = sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id(),
                "current": current == Some(s.digest.as_str()),
                "dateCreated": if s.created_at > 0 { date(s.created_at) } else { None },
                "expires": date(s.expires_at),
                "ipAddress": s.ip,
                "userAgent": s.user_agent,
            })
        })
        .collect();
    crate::paged(ctx, body)
}

/// `DELETE /api/0/users/me/sessions/{session_id}/`: ends one of the caller's sign-ins.
pub async fn delete_session(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = session_only(ctx)?;
    let id = ctx.param("session_id");
    let sessions = deps.accounts.user_sessions(&caller.email).await?;
    let session = sessions.iter().find(|s| s.id() == id).ok_or_else(ApiError::not_found)?;
    deps.directory.delete_session(session).await?;
    Ok(account::no_content())
}

/// `GET /api/0/api-tokens/`: the caller's tokens (never the tokens themselves).
pub async fn list_tokens(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let tokens = deps.directory.user_tokens(&caller.email).await?;
    crate::paged(ctx, tokens.iter().map(|t| token_json(t, None)).collect())
}

/// `POST /api/0/api-tokens/` `{"name", "scopes": [...], "expiresAt"}`: a new token, shown once.
/// `expiresAt` (RFC 3339, in the future) makes it stop working then; without it, it works
/// until revoked.
pub async fn create_token(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = session_only(ctx)?;
    let body = Body::parse(ctx.req, &["name", "scopes", "expiresAt"])?;
    let name = body.optional_str("name")?.unwrap_or("").trim().to_owned();
    if name.chars().count() > 255 {
        return Err(ApiError::new(400, "name must be at most 255 characters."));
    }
    let scopes = body.str_list("scopes")?.ok_or_else(|| ApiError::new(400, "scopes is required."))?;
    if scopes.is_empty() {
        return Err(ApiError::new(400, "Give the token at least one scope."));
    }
    if let Some(bad) = scopes.iter().find(|s| !account::SCOPES.contains(&s.as_str())) {
        return Err(ApiError::new(
            400,
            format!("Unknown scope {bad:?}; known scopes: {}.", account::SCOPES.join(", ")),
        ));
    }
    let expires_at = match body.get("expiresAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(at)) => {
            let at = Timestamp::parse(at)
                .ok_or_else(|| ApiError::new(400, "expiresAt must be an RFC 3339 date and time."))?
                .unix_millis()
                / 1000;
            if at <= now_secs() {
                return Err(ApiError::new(400, "expiresAt must be in the future."));
            }
            Some(at)
        }
        Some(_) => return Err(ApiError::new(400, "expiresAt must be an RFC 3339 date and time, or null.")),
    };
    if deps.directory.user_tokens(&caller.email).await?.len() >= MAX_TOKENS {
        return Err(ApiError::new(400, format!("A user may hold at most {MAX_TOKENS} tokens; revoke one first.")));
    }
    let token = new_api_token();
    let stored = ApiToken {
        digest: token_digest(&token),
        email: caller.email.clone(),
        label: name,
        scopes,
        created_at: now_secs(),
        last_chars: token[token.len() - 4..].to_owned(),
        expires_at,
    };
    deps.directory.put_api_token(&stored).await?;
    let data = json!({"name": stored.label, "scopes": stored.scopes, "tokenId": stored.id()});
    audit::record_for_user(deps, ctx.req, &caller.email, "api-token.create", data).await;
    Ok(http::json(201, &token_json(&stored, Some(&token))))
}

/// `DELETE /api/0/api-tokens/{token_id}/`: revokes one of the caller's tokens.
pub async fn delete_token(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = session_only(ctx)?;
    let id = ctx.param("token_id");
    let tokens = deps.directory.user_tokens(&caller.email).await?;
    let token = tokens.iter().find(|t| t.id() == id).ok_or_else(ApiError::not_found)?;
    deps.directory.delete_api_token(token).await?;
    let data = json!({"name": token.label, "tokenId": token.id()});
    audit::record_for_user(deps, ctx.req, &caller.email, "api-token.remove", data).await;
    Ok(account::no_content())
}

fn token_json(t: &ApiToken, token: Option<&str>) -> Value {
    let date = |secs: i64| Timestamp::from_unix_millis(secs * 1000).map(|t| t.to_rfc3339());
    let mut shape = json!({
        "id": t.id(),
        "name": t.label,
        "scopes": t.scopes,
        "tokenLastCharacters": t.last_chars,
        "dateCreated": date(t.created_at),
        "expiresAt": t.expires_at.and_then(date),
    });
    if let Some(token) = token {
        shape["token"] = json!(token);
    }
    shape
}
