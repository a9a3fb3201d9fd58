//! Organizations, their projects, members and invitations.

use crate::account::{no_content, valid_email};
use crate::body::Body;
use crate::router::Ctx;
use crate::shapes::{invite_json, member_json, org_json, project_json};
use crate::{audit, keys, now_secs, throttle, ApiError, ApiResult, Deps};
use errata_domain::secrets::{new_api_token, token_digest};
use errata_domain::{Invite, Member, Notice, Org, Project, Role};
use errata_runtime::http;
use serde_json::json;

/// How long an invitation stays valid.
const INVITE_SECS: i64 = 7 * 86_400;

/// A slug: 1–50 lowercase letters, digits, `-` or `_`, starting with a letter or digit.
pub fn valid_slug(slug: &str, field: &str) -> Result<String, ApiError> {
    let ok = !slug.is_empty()
        && slug.len() <= 50
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && slug.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(ApiError::new(
            400,
            format!("{field} must be 1 to 50 lowercase letters, digits, '-' or '_', starting with a letter or digit."),
        ))
    }
}

fn valid_name(name: &str, field: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::new(400, format!("{field} must be 1 to 64 characters.")));
    }
    Ok(name.to_owned())
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| ApiError::new(400, format!("Invalid role {s:?}: use member, admin or owner.")))
}

/// `GET /api/0/organizations/`: the caller's organizations.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let mut out = Vec::new();
    for m in deps.directory.user_memberships(&caller.email).await? {
        if let Some(org) = deps.directory.org(&m.org).await? {
            let mut shape = org_json(&org);
            shape["role"] = json!(m.role.as_str());
            out.push(shape);
        }
    }
    crate::paged(ctx, out)
}

/// `POST /api/0/organizations/` `{"slug", "name"}`: a new organization, the caller its owner.
pub async fn create(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let body = Body::parse(ctx.req, &["slug", "name"])?;
    let name = valid_name(body.required_str("name")?, "name")?;
    let slug = match body.optional_str("slug")? {
        Some(s) => valid_slug(s, "slug")?,
        None => valid_slug(&slugify(&name), "slug")?,
    };
    let org = Org { slug, name, quota: None };
    if !deps.directory.create_org(&org).await? {
        return Err(ApiError::new(409, "An organization with this slug already exists."));
    }
    deps.directory
        .put_member(&Member { org: org.slug.clone(), email: caller.email.clone(), role: Role::Owner })
        .await?;
    audit::record(deps, ctx, &org.slug, audit::Change::new("org.create").data(json!({"name": org.name}))).await;
    let mut shape = org_json(&org);
    shape["role"] = json!("owner");
    Ok(http::json(201, &shape))
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(50).collect()
}

/// `GET /api/0/organizations/{org}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let org = deps.directory.org(&member.org).await?.ok_or_else(ApiError::not_found)?;
    let mut shape = org_json(&org);
    shape["role"] = json!(member.role.as_str());
    Ok(http::json(200, &shape))
}

/// `PUT /api/0/organizations/{org}/` `{"name"}` (the slug stays: DSNs and links use it).
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let body = Body::parse(ctx.req, &["name", "slug"])?;
    let mut org = deps.directory.org(&member.org).await?.ok_or_else(ApiError::not_found)?;
    if body.optional_str("slug")?.is_some_and(|s| s != org.slug) {
        return Err(ApiError::new(400, "An organization's slug cannot be changed."));
    }
    if let Some(name) = body.optional_str("name")? {
        org.name = valid_name(name, "name")?;
    }
    deps.directory.put_org(&org).await?;
    audit::record(deps, ctx, &org.slug, audit::Change::new("org.edit").data(json!({"name": org.name}))).await;
    Ok(http::json(200, &org_json(&org)))
}

/// `GET /api/0/organizations/{org}/projects/`
pub async fn projects(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let projects = deps.directory.org_projects(&member.org).await?;
    crate::paged(ctx, projects.iter().map(project_json).collect())
}

/// `POST /api/0/organizations/{org}/projects/` `{"name", "slug", "platform"}`: a new project
/// with a first DSN key.
pub async fn create_project(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let body = Body::parse(ctx.req, &["name", "slug", "platform"])?;
    let name = valid_name(body.required_str("name")?, "name")?;
    let slug = match body.optional_str("slug")? {
        Some(s) => valid_slug(s, "slug")?,
        None => valid_slug(&slugify(&name), "slug")?,
    };
    let platform = body.optional_str("platform")?.map(crate::projects::valid_platform).transpose()?;
    // A new project and its first key get the stack's default limits (changeable later).
    let project = Project {
        id: 0,
        org: member.org.clone(),
        slug,
        name,
        platform,
        quota: deps.default_project_quota,
        settings: Default::default(),
    };
    let project = deps
        .directory
        .create_project(&project)
        .await?
        .ok_or_else(|| ApiError::new(409, "A project with this slug already exists in the organization."))?;
    keys::create_key(deps, &project, "Default", deps.default_key_limit).await?;
    crate::rules::add_default(deps, &project).await?;
    let change = audit::Change::new("project.create").object(&project.slug).data(json!({"id": project.id}));
    audit::record(deps, ctx, &member.org, change).await;
    Ok(http::json(201, &project_json(&project)))
}

/// `GET /api/0/organizations/{org}/members/`: members, then pending invitations.
pub async fn members(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let mut out = Vec::new();
    for m in deps.directory.org_members(&member.org).await? {
        let user = deps.directory.user(&m.email).await?;
        out.push(member_json(&m, user.as_ref().map(|u| u.name.as_str())));
    }
    let now = now_secs();
    for invite in deps.directory.org_invites(&member.org).await? {
        out.push(invite_json(&invite, now));
    }
    crate::paged(ctx, out)
}

/// `POST /api/0/organizations/{org}/members/` `{"email", "role"}`: invites someone by e-mail.
/// Only owners invite owners. The link goes only to the invited address, never into the
/// answer; an organization sends at most `INVITES_PER_ORG` invitations a day.
pub async fn invite(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let body = Body::parse(ctx.req, &["email", "role", "orgRole", "teams", "sendInvite"])?;
    let email = valid_email(body.required_str("email")?)?;
    let role = match body.optional_str("role")?.or(body.optional_str("orgRole")?) {
        Some(r) => parse_role(r)?,
        None => Role::Member,
    };
    if role > member.role {
        return Err(ApiError::new(
            403,
            format!("Only an {} or higher can invite an {}.", role.as_str(), role.as_str()),
        ));
    }
    if body.optional_bool("sendInvite")? == Some(false) {
        return Err(ApiError::new(
            400,
            "Invitations are always e-mailed: the link is a secret that only the invited address receives.",
        ));
    }
    if deps.directory.member(&member.org, &email).await?.is_some() {
        return Err(ApiError::new(409, "This person is already a member."));
    }
    // E-mail to addresses outside the organization is limited, so that no tenant can get the
    // stack's sender identity throttled or suspended.
    let mails = [(format!("mail:invites:{}", member.org), throttle::INVITES_PER_ORG)];
    throttle::check(deps, &mails).await.map_err(|e| ApiError {
        detail: format!(
            "This organization has sent as many invitations as it may today ({}); try again later.",
            throttle::INVITES_PER_ORG.count
        ),
        ..e
    })?;
    let org = deps.directory.org(&member.org).await?.ok_or_else(ApiError::not_found)?;
    let secret = new_api_token();
    let now = now_secs();
    let invite = Invite {
        digest: token_digest(&secret),
        org: org.slug.clone(),
        email: email.clone(),
        role,
        invited_by: member.email.clone(),
        created_at: now,
        expires_at: now + INVITE_SECS,
    };
    deps.directory.put_invite(&invite).await?;
    // The link carries the secret in its fragment (the web app's routes), and goes only to the
    // invited address: the API never answers with it.
    let link = format!("{}/accept-invite/{secret}", deps.web_url.trim_end_matches('/'));
    let notice = Notice::Invitation {
        to: email.clone(),
        org: org.slug.clone(),
        org_name: org.name.clone(),
        invited_by: member.email.clone(),
        role,
        link,
        expires_at: invite.expires_at,
    };
    deps.outbox.send(&notice).await?;
    throttle::failed(deps, &mails).await?;
    let change = audit::Change::new("member.invite").user(&email).data(json!({"role": role.as_str()}));
    audit::record(deps, ctx, &member.org, change).await;
    Ok(http::json(201, &invite_json(&invite, now)))
}

/// `PUT /api/0/organizations/{org}/members/{member_id}/` `{"role"}` (owners only).
pub async fn update_member(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let target = deps.directory.member(&member.org, ctx.param("member_id")).await?.ok_or_else(ApiError::not_found)?;
    let body = Body::parse(ctx.req, &["role", "orgRole", "teams"])?;
    let role = parse_role(
        body.optional_str("role")?
            .or(body.optional_str("orgRole")?)
            .ok_or_else(|| ApiError::new(400, "role is required."))?,
    )?;
    if target.role == Role::Owner && role != Role::Owner {
        keep_an_owner(deps, &member.org).await?;
    }
    let old_role = target.role;
    let updated = Member { role, ..target };
    deps.directory.put_member(&updated).await?;
    let data = json!({"role": role.as_str(), "oldRole": old_role.as_str()});
    audit::record(deps, ctx, &member.org, audit::Change::new("member.edit").user(&updated.email).data(data)).await;
    let user = deps.directory.user(&updated.email).await?;
    Ok(http::json(200, &member_json(&updated, user.as_ref().map(|u| u.name.as_str()))))
}

/// `DELETE /api/0/organizations/{org}/members/{member_id}/`: removes a member or cancels an
/// invitation. Anyone may leave; admins remove members and admins and cancel invitations;
/// only owners remove owners. The last owner stays.
pub async fn remove_member(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let member = ctx.member()?;
    let id = ctx.param("member_id");
    if let Some(target) = deps.directory.member(&member.org, id).await? {
        let is_self = target.email == member.email;
        let allowed = is_self || (member.role >= Role::Admin && member.role >= target.role);
        if !allowed {
            return Err(ApiError::new(403, "You cannot remove this member."));
        }
        if target.role == Role::Owner {
            keep_an_owner(deps, &member.org).await?;
        }
        deps.directory.delete_member(&member.org, &target.email).await?;
        let data = json!({"role": target.role.as_str()});
        audit::record(deps, ctx, &member.org, audit::Change::new("member.remove").user(&target.email).data(data)).await;
        return Ok(no_content());
    }
    let invites = deps.directory.org_invites(&member.org).await?;
    let invite = invites.iter().find(|i| i.email == id).ok_or_else(ApiError::not_found)?;
    if member.role < Role::Admin {
        return Err(ApiError::new(403, "You need the admin role in this organization to do that."));
    }
    deps.directory.delete_invite(invite).await?;
    let data = json!({"role": invite.role.as_str(), "invitation": true});
    audit::record(deps, ctx, &member.org, audit::Change::new("member.remove").user(&invite.email).data(data)).await;
    Ok(no_content())
}

/// 400 unless the organization has another owner besides the one about to go.
async fn keep_an_owner(deps: &Deps, org: &str) -> Result<(), ApiError> {
    let owners = deps.directory.org_members(org).await?.into_iter().filter(|m| m.role == Role::Owner).count();
    if owners <= 1 {
        return Err(ApiError::new(400, "An organization needs an owner: make someone else owner first."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("My Great App!"), "my-great-app");
        assert!(valid_slug("acme-1", "slug").is_ok());
        assert!(valid_slug("-acme", "slug").is_err());
        assert!(valid_slug("Acme", "slug").is_err());
        assert!(valid_slug("", "slug").is_err());
    }
}
