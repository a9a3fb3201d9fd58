//! DSN keys of a project: list, create, update (name, enabled, rate limit), rotate, delete.
//! Ingest caches keys for up to a minute, so a disabled or deleted key stops working within
//! that time.

use crate::account::no_content;
use crate::body::Body;
use crate::router::Ctx;
use crate::shapes::key_json;
use crate::{audit, now_secs, ApiError, ApiResult, Deps};
use errata_domain::secrets::new_public_key;
use errata_domain::{Project, ProjectKey, RateLimit};
use errata_runtime::http;
use serde_json::json;

/// The most keys a project may have.
const MAX_KEYS: usize = 50;

pub async fn create_key(
    deps: &Deps,
    project: &Project,
    label: &str,
    limit: Option<RateLimit>,
) -> Result<ProjectKey, ApiError> {
    let key = ProjectKey {
        public_key: new_public_key(),
        project_id: project.id,
        label: label.to_owned(),
        enabled: true,
        rate_limit: limit,
        created_at: now_secs(),
    };
    deps.directory.put_project_key(&key).await?;
    Ok(key)
}

/// The key `{key_id}` of the route's project, or 404 (a key of another project included).
async fn route_key(deps: &Deps, ctx: &Ctx<'_>) -> Result<ProjectKey, ApiError> {
    let project = ctx.project()?;
    let key = deps.directory.project_key(ctx.param("key_id")).await?;
    key.filter(|k| k.project_id == project.id).ok_or_else(ApiError::not_found)
}

/// `GET /api/0/projects/{org}/{project}/keys/`
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let keys = deps.directory.project_keys(project.id).await?;
    crate::paged(ctx, keys.iter().map(|k| key_json(k, &deps.dsn_url)).collect())
}

/// `GET /api/0/projects/{org}/{project}/keys/{key_id}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let key = route_key(deps, ctx).await?;
    Ok(http::json(200, &key_json(&key, &deps.dsn_url)))
}

/// `POST /api/0/projects/{org}/{project}/keys/` `{"name", "rateLimit": {"count", "window"}}`;
/// without `rateLimit` the key gets the stack's default limit, `"rateLimit": null` none.
pub async fn create(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let body = Body::parse(ctx.req, &["name", "rateLimit"])?;
    let name = body.optional_str("name")?.unwrap_or("Default").trim().to_owned();
    let limit = rate_limit(&body)?.unwrap_or(deps.default_key_limit);
    if deps.directory.project_keys(project.id).await?.len() >= MAX_KEYS {
        return Err(ApiError::new(400, format!("A project may have at most {MAX_KEYS} keys.")));
    }
    let key = create_key(deps, project, &name, limit).await?;
    key_audit(deps, ctx, "projectkey.create", &key, json!({})).await;
    Ok(http::json(201, &key_json(&key, &deps.dsn_url)))
}

/// `PUT /api/0/projects/{org}/{project}/keys/{key_id}/` `{"name", "isActive", "rateLimit"}`;
/// `"rateLimit": null` removes the limit.
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let mut key = route_key(deps, ctx).await?;
    let body = Body::parse(ctx.req, &["name", "isActive", "rateLimit"])?;
    if let Some(name) = body.optional_str("name")? {
        key.label = name.trim().to_owned();
    }
    if let Some(active) = body.optional_bool("isActive")? {
        key.enabled = active;
    }
    if let Some(limit) = rate_limit(&body)? {
        key.rate_limit = limit;
    }
    deps.directory.put_project_key(&key).await?;
    let data = json!({"isActive": key.enabled, "rateLimit": key.rate_limit.map(|l| json!({"count": l.count, "window": l.window_secs}))});
    key_audit(deps, ctx, "projectkey.edit", &key, data).await;
    Ok(http::json(200, &key_json(&key, &deps.dsn_url)))
}

/// `DELETE /api/0/projects/{org}/{project}/keys/{key_id}/`
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let key = route_key(deps, ctx).await?;
    deps.directory.delete_project_key(&key).await?;
    key_audit(deps, ctx, "projectkey.remove", &key, json!({})).await;
    Ok(no_content())
}

/// `POST /api/0/projects/{org}/{project}/keys/{key_id}/rotate/`: a new key with the same name
/// and limit; the old one is disabled (delete it once no client uses it).
pub async fn rotate(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let mut old = route_key(deps, ctx).await?;
    let project = ctx.project()?;
    let new = create_key(deps, project, &old.label, old.rate_limit).await?;
    old.enabled = false;
    deps.directory.put_project_key(&old).await?;
    key_audit(deps, ctx, "projectkey.create", &new, json!({"rotated": old.public_key})).await;
    key_audit(deps, ctx, "projectkey.edit", &old, json!({"isActive": false, "rotatedTo": new.public_key})).await;
    Ok(http::json(201, &key_json(&new, &deps.dsn_url)))
}

/// An audit entry for a change of a DSN key (named by its public key, which is not a secret).
async fn key_audit(deps: &Deps, ctx: &Ctx<'_>, event: &'static str, key: &ProjectKey, mut data: serde_json::Value) {
    let Ok(project) = ctx.project() else { return };
    data["project"] = json!(project.slug);
    data["name"] = json!(key.label);
    let change = audit::Change::new(event).object(&key.public_key).data(data);
    audit::record(deps, ctx, &project.org, change).await;
}

/// `rateLimit`: absent → `None`; `null` → `Some(None)`; `{"count", "window"}` → the limit.
fn rate_limit(body: &Body) -> Result<Option<Option<RateLimit>>, ApiError> {
    if !body.has("rateLimit") {
        return Ok(None);
    }
    let Some(limit) = body.optional_object("rateLimit", &["count", "window"])? else { return Ok(Some(None)) };
    let count = limit.optional_u64("count")?;
    let window = limit.optional_u64("window")?;
    match (count, window) {
        (None, None) => Ok(Some(None)),
        (Some(count), Some(window)) if count > 0 && (1..=86_400).contains(&window) => {
            Ok(Some(Some(RateLimit { count, window_secs: window })))
        }
        _ => Err(ApiError::new(
            400,
            "rateLimit needs count (events, at least 1) and window (seconds, 1 to 86400), or null for no limit.",
        )),
    }
}
