//! Accounts: signing in and out, first-run setup, invitations and the caller's profile.
//! Passwords, sign-ins and tokens the user manages are in `credentials`.

use crate::auth::{Via, SESSION_COOKIE, SESSION_PREFIX, SESSION_SECS};
use crate::body::Body;
use crate::router::Ctx;
use crate::shapes::org_json;
use crate::{audit, credentials, keys, now_secs, orgs, throttle, ApiError, ApiResult, Deps};
use errata_domain::secrets::{hash_password, new_api_token, secrets_equal, token_digest, verify_password};
use errata_domain::{Member, Org, Project, Role, Session, User};
use errata_runtime::http::{self, Request, Response};
use serde_json::{json, Value};

/// Shortest password accepted.
const MIN_PASSWORD: usize = 8;
/// Longest password accepted (argon2 takes any length; this bounds the work per request).
const MAX_PASSWORD: usize = 256;

/// The scopes a token may be given, as Sentry names them.
pub const SCOPES: &[&str] = &[
    "org:read",
    "org:write",
    "org:admin",
    "project:read",
    "project:write",
    "project:admin",
    "project:releases",
    "member:read",
    "member:write",
    "member:admin",
    "event:read",
    "event:write",
    "event:admin",
];

/// `POST /api/0/auth/login/` `{"email", "password"}`: sets the session cookie. Throttled per
/// account and per client address; each failure is counted against both.
pub async fn login(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["email", "password"])?;
    let email = body.required_str("email")?.trim().to_lowercase();
    let password = body.required_str("password")?;
    let scopes = [throttle::account(&email), throttle::address(ctx.req)];
    throttle::check(deps, &scopes).await?;
    let user = deps.directory.user(&email).await?;
    // Verify against a throwaway hash when the user does not exist, so the answer takes as
    // long either way and does not tell which addresses have accounts.
    let stored = user.as_ref().map(|u| u.password_hash.as_str()).unwrap_or_else(|| dummy_hash());
    let verified = verify_password(password, stored);
    let exists = user.is_some();
    let Some(user) = user.filter(|_| verified) else {
        throttle::failed(deps, &scopes).await?;
        if exists {
            audit::record_for_user(deps, ctx.req, &email, "user.login-failed", json!({})).await;
        }
        return Err(ApiError::new(401, "Invalid e-mail address or password."));
    };
    audit::record_for_user(deps, ctx.req, &user.email, "user.login", json!({})).await;
    signed_in(deps, ctx.req, &user, 200).await
}

/// An argon2id hash of a random password nobody knows, made once per process.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_api_token()).unwrap_or_default())
}

/// The user's profile plus a new session cookie.
pub(crate) async fn signed_in(deps: &Deps, req: &Request, user: &User, status: u16) -> ApiResult {
    let secret = format!("{SESSION_PREFIX}{}", &new_api_token()[errata_domain::secrets::TOKEN_PREFIX.len()..]);
    let now = now_secs();
    let session = Session {
        digest: token_digest(&secret),
        email: user.email.clone(),
        expires_at: now + SESSION_SECS,
        created_at: now,
        ip: throttle::client_ip(req).map(str::to_owned),
        user_agent: http::header(req, "user-agent").map(|a| a.chars().take(256).collect()),
    };
    deps.directory.put_session(&session).await?;
    let mut resp = http::json(status, &me_json(deps, user).await?);
    resp.cookies
        .push(format!("{SESSION_COOKIE}={secret}; Path=/; Max-Age={SESSION_SECS}; HttpOnly; Secure; SameSite=Strict"));
    Ok(resp)
}

/// `DELETE /api/0/auth/`: ends the caller's session (204); `{"all": true}` ends every
/// session of the user ("sign out everywhere"). Tokens are revoked elsewhere.
pub async fn logout(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let body = Body::parse(ctx.req, &["all"])?;
    let Via::Session { digest, .. } = &caller.via else {
        return Err(ApiError::new(400, "Only a session can sign out; revoke a token with DELETE /api-tokens/{id}/."));
    };
    if body.optional_bool("all")? == Some(true) {
        let ended = credentials::end_sessions(deps, &caller.email, None).await?;
        audit::record_for_user(deps, ctx.req, &caller.email, "user.sessions-revoked", json!({"sessions": ended})).await;
    } else if let Some(session) = deps.directory.session(digest).await? {
        deps.directory.delete_session(&session).await?;
    }
    let mut resp = no_content();
    resp.cookies.push(format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"));
    Ok(resp)
}

/// `POST /api/0/setup/`: the first run. Needs the one-time setup secret the deploy made
/// (`setupSecret`; 403 without it). Creates the first user, their organization (as owner), a
/// project and its DSN key, and signs the user in. Works once; afterwards people join by
/// invitation.
pub async fn setup(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["email", "password", "name", "organization", "project", "setupSecret"])?;
    let scopes = [("auth:setup".to_owned(), throttle::SETUP), throttle::address(ctx.req)];
    throttle::check(deps, &scopes).await?;
    if deps.setup_secret.is_empty() {
        return Err(ApiError::new(403, "This stack has no setup secret; deploy it with one (see docs/deploy.md)."));
    }
    let given = body.optional_str("setupSecret")?.unwrap_or_default();
    if !secrets_equal(&token_digest(given.trim()), &token_digest(&deps.setup_secret)) {
        throttle::failed(deps, &scopes).await?;
        return Err(ApiError::new(
            403,
            "The setup secret is missing or wrong: send the one your deploy printed as setupSecret.",
        ));
    }
    let email = valid_email(body.required_str("email")?)?;
    let password = valid_password(body.required_str("password")?)?;
    let name = body.optional_str("name")?.unwrap_or(&email).to_owned();
    let org_body = body.object("organization", &["slug", "name"])?;
    let org = Org {
        slug: orgs::valid_slug(org_body.required_str("slug")?, "organization.slug")?,
        name: org_body.optional_str("name")?.map(str::to_owned).unwrap_or_default(),
        quota: None,
    };
    let project_body = body.object("project", &["slug", "name", "platform"])?;
    let project_slug = orgs::valid_slug(project_body.required_str("slug")?, "project.slug")?;
    let project_name = project_body.optional_str("name")?.unwrap_or(&project_slug).to_owned();
    let platform = project_body.optional_str("platform")?.map(str::to_owned);

    if !deps.directory.claim_setup().await? {
        return Err(ApiError::new(409, "Errata is already set up: sign in, or ask an owner for an invitation."));
    }
    let user = User { email: email.clone(), name, password_hash: hashed(&password)? };
    deps.directory.put_user(&user).await?;
    let org = Org { name: if org.name.is_empty() { org.slug.clone() } else { org.name }, ..org };
    if !deps.directory.create_org(&org).await? {
        return Err(ApiError::new(409, "That organization slug is taken."));
    }
    deps.directory.put_member(&Member { org: org.slug.clone(), email: email.clone(), role: Role::Owner }).await?;
    let project = Project {
        id: 0,
        org: org.slug.clone(),
        slug: project_slug,
        name: project_name,
        platform,
        quota: deps.default_project_quota,
        settings: Default::default(),
    };
    let project = deps.directory.create_project(&project).await?.ok_or_else(|| ApiError::new(409, "Slug taken."))?;
    keys::create_key(deps, &project, "Default", deps.default_key_limit).await?;
    crate::rules::add_default(deps, &project).await?;
    audit::record_as(deps, ctx.req, &org.slug, Some(&email), audit::Change::new("org.create")).await;
    signed_in(deps, ctx.req, &user, 201).await
}

/// An invitation by the secret its e-mail carries (in the body, never in a URL). An unknown or
/// expired secret is a counted failure of the client address.
async fn valid_invite(deps: &Deps, ctx: &Ctx<'_>, secret: &str) -> Result<errata_domain::Invite, ApiError> {
    let scopes = [throttle::address(ctx.req)];
    throttle::check(deps, &scopes).await?;
    let invite = deps.directory.invite(&token_digest(secret)).await?.filter(|i| i.expires_at > now_secs());
    match invite {
        Some(invite) => Ok(invite),
        None => {
            throttle::failed(deps, &scopes).await?;
            Err(ApiError::new(404, "This invitation does not exist or has expired."))
        }
    }
}

/// `POST /api/0/accept-invite/details/` `{"token"}`: what the invitation is for, so the page
/// can say so.
pub async fn invite_details(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["token"])?;
    let invite = valid_invite(deps, ctx, body.required_str("token")?).await?;
    let org = deps.directory.org(&invite.org).await?.ok_or_else(ApiError::not_found)?;
    let has_account = deps.directory.user(&invite.email).await?.is_some();
    Ok(http::json(
        200,
        &json!({
            "organization": org_json(&org),
            "email": invite.email,
            "role": invite.role.as_str(),
            "invitedBy": invite.invited_by,
            "hasAccount": has_account,
            "expires": errata_domain::Timestamp::from_unix_millis(invite.expires_at * 1000).map(|t| t.to_rfc3339()),
        }),
    ))
}

/// `POST /api/0/accept-invite/` `{"token", "password", "name"}`: joins the organization. The
/// secret came by e-mail to the invited address, so holding it proves control of that address.
/// A new user sends `password` (and `name`) to create the account; an existing user proves it
/// is them with their password (throttled like a sign-in) or by being signed in as the invited
/// address. The invitation works once.
pub async fn accept_invite(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let body = Body::parse(ctx.req, &["token", "password", "name"])?;
    let secret = body.required_str("token")?;
    let invite = valid_invite(deps, ctx, secret).await?;
    let user = match deps.directory.user(&invite.email).await? {
        Some(user) => {
            let signed_in_as_invitee = ctx.optional_caller().is_some_and(|c| c.email == user.email);
            if !signed_in_as_invitee {
                let scopes = [throttle::account(&user.email), throttle::address(ctx.req)];
                throttle::check(deps, &scopes).await?;
                let password_ok =
                    body.optional_str("password")?.is_some_and(|p| verify_password(p, &user.password_hash));
                if !password_ok {
                    throttle::failed(deps, &scopes).await?;
                    return Err(ApiError::new(
                        401,
                        "An account exists for this address: send its password, or sign in.",
                    ));
                }
            }
            user
        }
        None => {
            let password = valid_password(body.required_str("password")?)?;
            let name = body.optional_str("name")?.unwrap_or(&invite.email).to_owned();
            User { email: invite.email.clone(), name, password_hash: hashed(&password)? }
        }
    };
    // Single use: of two acceptances at once, one takes the invitation.
    let invite = deps
        .accounts
        .take_invite(&invite.digest)
        .await?
        .ok_or_else(|| ApiError::new(404, "This invitation does not exist or has expired."))?;
    if deps.directory.user(&user.email).await?.is_none() {
        deps.directory.put_user(&user).await?;
    }
    deps.directory
        .put_member(&Member { org: invite.org.clone(), email: user.email.clone(), role: invite.role })
        .await?;
    let change =
        audit::Change::new("member.accept-invite").user(&user.email).data(json!({"role": invite.role.as_str()}));
    audit::record_as(deps, ctx.req, &invite.org, Some(&user.email), change).await;
    signed_in(deps, ctx.req, &user, 200).await
}

/// `GET /api/0/users/me/`: the caller and their organizations.
pub async fn me(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let user = deps.directory.user(&caller.email).await?.unwrap_or(User {
        email: caller.email.clone(),
        name: caller.email.clone(),
        password_hash: String::new(),
    });
    Ok(http::json(200, &me_json(deps, &user).await?))
}

pub(crate) async fn me_json(deps: &Deps, user: &User) -> Result<Value, ApiError> {
    let memberships = deps.directory.user_memberships(&user.email).await?;
    let mut orgs = Vec::with_capacity(memberships.len());
    for m in &memberships {
        if let Some(org) = deps.directory.org(&m.org).await? {
            let mut shape = org_json(&org);
            shape["role"] = json!(m.role.as_str());
            orgs.push(shape);
        }
    }
    Ok(json!({
        "id": user.email,
        "email": user.email,
        "username": user.email,
        "name": user.name,
        "organizations": orgs,
    }))
}

pub fn no_content() -> Response {
    let mut resp = http::json(204, &Value::Null);
    resp.body = None;
    resp
}

/// A plausible e-mail address, lower-cased: something@something, no spaces, ≤ 254 bytes.
pub fn valid_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/')
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok {
        Ok(email)
    } else {
        Err(ApiError::new(400, "email must be an e-mail address."))
    }
}

pub(crate) fn valid_password(password: &str) -> Result<String, ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(ApiError::new(400, format!("password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long.")));
    }
    Ok(password.to_owned())
}

pub(crate) fn hashed(password: &str) -> Result<String, ApiError> {
    hash_password(password).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::new(500, "Internal error")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_real_argon2id_hash() {
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("anything", dummy_hash()));
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(valid_email(" Ann@Acme.Test ").unwrap(), "ann@acme.test");
        assert!(valid_email("ann").is_err());
        assert!(valid_email("ann@localhost").is_err());
        assert!(valid_email("a n@x.y").is_err());
        assert!(valid_password("short").is_err());
        assert!(valid_password("long enough").is_ok());
    }
}
