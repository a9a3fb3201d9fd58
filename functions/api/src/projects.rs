//! Projects: detail and settings (scrubbing, inbound filters), in Sentry's shapes.

use crate::body::Body;
use crate::router::Ctx;
use crate::shapes::{filters_json, project_detail_json, project_json};
use crate::{audit, ApiError, ApiResult, Deps};
use errata_domain::fingerprinting::FingerprintRules;
use errata_domain::ProjectSettings;
use errata_runtime::http;
use serde_json::{json, Value};

/// The longest retention a project may ask for; the stack's own retention caps it anyway.
const MAX_RETENTION_DAYS: u32 = 3650;

/// The most patterns in one list setting, and the longest pattern or field name.
const MAX_PATTERNS: usize = 100;
const MAX_PATTERN_LEN: usize = 200;

pub fn valid_platform(p: &str) -> Result<String, ApiError> {
    let ok =
        !p.is_empty() && p.len() <= 64 && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(p.to_owned())
    } else {
        Err(ApiError::new(400, "platform must be lowercase letters, digits and '-', like python or javascript-react."))
    }
}

/// `GET /api/0/projects/`: every project of every organization the caller belongs to.
pub async fn mine(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let caller = ctx.caller()?;
    let mut out = Vec::new();
    for m in deps.directory.user_memberships(&caller.email).await? {
        out.extend(deps.directory.org_projects(&m.org).await?.iter().map(project_json));
    }
    crate::paged(ctx, out)
}

/// `GET /api/0/projects/{org}/{project}/`
pub async fn detail(_deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &project_detail_json(ctx.project()?)))
}

/// `PUT /api/0/projects/{org}/{project}/`: `name`, `platform`, Sentry's scrubbing fields
/// (`dataScrubber`, `scrubIPAddresses`, `sensitiveFields`, `safeFields`), Sentry's
/// `fingerprintingRules`, and Errata's `settings` object (any part of it:
/// `{"filters": {"localhost": true}}`, `{"retention_days": 30}`).
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let mut project = ctx.project()?.clone();
    let body = Body::parse(
        ctx.req,
        &[
            "name",
            "slug",
            "platform",
            "dataScrubber",
            "scrubIPAddresses",
            "sensitiveFields",
            "safeFields",
            "fingerprintingRules",
            "settings",
        ],
    )?;
    if body.optional_str("slug")?.is_some_and(|s| s != project.slug) {
        return Err(ApiError::new(400, "A project's slug cannot be changed."));
    }
    if let Some(name) = body.optional_str("name")? {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ApiError::new(400, "name must be 1 to 64 characters."));
        }
        name.clone_into(&mut project.name);
    }
    if body.has("platform") {
        project.platform = body.optional_str("platform")?.map(valid_platform).transpose()?;
    }
    if let Some(settings) = body.get("settings") {
        project.settings = merged_settings(&project.settings, settings)?;
    }
    let scrubbing = &mut project.settings.scrubbing;
    if let Some(on) = body.optional_bool("dataScrubber")? {
        scrubbing.enabled = on;
    }
    if let Some(on) = body.optional_bool("scrubIPAddresses")? {
        scrubbing.scrub_ip_addresses = on;
    }
    if let Some(fields) = body.str_list("sensitiveFields")? {
        scrubbing.sensitive_fields = patterns(fields, "sensitiveFields")?;
    }
    if let Some(fields) = body.str_list("safeFields")? {
        scrubbing.safe_fields = patterns(fields, "safeFields")?;
    }
    if let Some(rules) = body.optional_str("fingerprintingRules")? {
        rules.clone_into(&mut project.settings.grouping.fingerprinting_rules);
    }
    validate(&project.settings)?;
    let project = deps.directory.put_project(&project).await?;
    let fields = body.keys();
    let change = audit::Change::new("project.edit").object(&project.slug).data(json!({"fields": fields}));
    audit::record(deps, ctx, &project.org, change).await;
    Ok(http::json(200, &project_detail_json(&project)))
}

/// What merging cannot check: rules that parse, a retention in range.
fn validate(settings: &ProjectSettings) -> Result<(), ApiError> {
    FingerprintRules::parse(&settings.grouping.fingerprinting_rules).map_err(|e| ApiError::new(400, e))?;
    if settings.grouping.fingerprinting_rules.len() > 50_000 {
        return Err(ApiError::new(400, "fingerprintingRules must be at most 50,000 characters."));
    }
    if settings.retention_days.is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d)) {
        return Err(ApiError::new(
            400,
            format!(
                "settings.retention_days must be 1 to {MAX_RETENTION_DAYS} (the stack's own retention still applies)."
            ),
        ));
    }
    Ok(())
}

/// The settings with `patch` merged in (objects key by key), validated as a whole.
fn merged_settings(current: &ProjectSettings, patch: &Value) -> Result<ProjectSettings, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::new(400, "settings must be an object."));
    }
    let mut merged = serde_json::to_value(current).map_err(|_| ApiError::new(500, "Internal error"))?;
    merge(&mut merged, patch);
    let settings: ProjectSettings =
        serde_json::from_value(merged).map_err(|e| ApiError::new(400, format!("settings: {e}")))?;
    let check = |list: &[String], name: &str| patterns(list.to_vec(), name).map(|_| ());
    check(&settings.scrubbing.sensitive_fields, "settings.scrubbing.sensitive_fields")?;
    check(&settings.scrubbing.safe_fields, "settings.scrubbing.safe_fields")?;
    check(&settings.filters.error_messages, "settings.filters.error_messages")?;
    check(&settings.filters.releases, "settings.filters.releases")?;
    Ok(settings)
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn patterns(list: Vec<String>, field: &str) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_PATTERNS || list.iter().any(|p| p.trim().is_empty() || p.len() > MAX_PATTERN_LEN) {
        return Err(ApiError::new(
            400,
            format!("{field}: at most {MAX_PATTERNS} non-empty entries of at most {MAX_PATTERN_LEN} bytes."),
        ));
    }
    Ok(list.into_iter().map(|p| p.trim().to_owned()).collect())
}

/// `GET /api/0/projects/{org}/{project}/filters/`: the inbound filters, as Sentry lists them.
pub async fn filters(_deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    Ok(http::json(200, &filters_json(&ctx.project()?.settings.filters)))
}

/// `PUT /api/0/projects/{org}/{project}/filters/{filter_id}/` `{"active": bool}`, or for
/// `error-messages` and `releases` `{"patterns": [...]}` (globs; `active: false` clears them).
pub async fn update_filter(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let mut project = ctx.project()?.clone();
    let body = Body::parse(ctx.req, &["active", "patterns", "subfilters"])?;
    let filters = &mut project.settings.filters;
    let id = ctx.param("filter_id");
    let active = body.optional_bool("active")?;
    match id {
        "browser-extensions" | "localhost" | "legacy-browsers" | "web-crawlers" => {
            let active = active.ok_or_else(|| ApiError::new(400, "active is required."))?;
            *match id {
                "browser-extensions" => &mut filters.browser_extensions,
                "localhost" => &mut filters.localhost,
                "legacy-browsers" => &mut filters.legacy_browsers,
                _ => &mut filters.web_crawlers,
            } = active;
        }
        "error-messages" | "releases" => {
            let list = if active == Some(false) {
                Vec::new()
            } else {
                let given = body.str_list("patterns")?.ok_or_else(|| ApiError::new(400, "patterns is required."))?;
                patterns(given, "patterns")?
            };
            *if id == "releases" { &mut filters.releases } else { &mut filters.error_messages } = list;
        }
        _ => return Err(ApiError::not_found()),
    }
    let project = deps.directory.put_project(&project).await?;
    let change = audit::Change::new("project.edit").object(&project.slug).data(json!({"filter": id, "active": active}));
    audit::record(deps, ctx, &project.org, change).await;
    Ok(http::json(200, &filters_json(&project.settings.filters)))
}
