//! Organization releases the way `sentry-cli releases` manages them: `new` (POST, answered 208
//! with the merged release when it exists), `info` (GET), `finalize` and `archive`/`restore`
//! (PUT), `list` (GET) and `delete`. A project's release list (`stats::releases`) joins these
//! with the releases its events name.

use crate::body::Body;
use crate::router::Ctx;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::releases::{version_problem, Release};
use errata_domain::{Project, Timestamp};
use errata_runtime::http;
use serde_json::{json, Value};

/// An RFC 3339 time from the body, as Unix milliseconds.
fn time_field(body: &Body, key: &str) -> Result<Option<i64>, ApiError> {
    match body.optional_str(key)? {
        None => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(|t| Some(t.unix_millis()))
            .ok_or_else(|| ApiError::new(400, format!("`{key}` is an RFC 3339 time, like 2026-11-26T10:00:00Z."))),
    }
}

fn iso(ms: Option<i64>) -> Value {
    ms.and_then(Timestamp::from_unix_millis).map(|t| Value::String(t.to_rfc3339())).unwrap_or(Value::Null)
}

/// The organization's projects named by `slugs` (each must exist).
async fn projects_named(deps: &Deps, org: &str, slugs: &[String]) -> Result<Vec<Project>, ApiError> {
    let all = deps.directory.org_projects(org).await?;
    slugs
        .iter()
        .map(|slug| {
            all.iter()
                .find(|p| &p.slug == slug)
                .cloned()
                .ok_or_else(|| ApiError::new(400, format!("There is no project {slug:?} in this organization.")))
        })
        .collect()
}

/// Sentry's release shape (what sentry-cli reads): projects by slug and name.
pub(crate) fn release_json(r: &Release, projects: &[Project]) -> Value {
    let listed: Vec<Value> = r
        .projects
        .iter()
        .filter_map(|slug| projects.iter().find(|p| &p.slug == slug))
        .map(|p| json!({ "id": p.id, "slug": p.slug, "name": p.name }))
        .collect();
    json!({
        "version": r.version,
        "shortVersion": r.version,
        "url": r.url,
        "status": r.status,
        "dateCreated": iso(Some(r.date_created)),
        "dateStarted": iso(r.date_started),
        "dateReleased": iso(r.date_released),
        "lastEvent": null,
        "firstEvent": null,
        "newGroups": 0,
        "commitCount": 0,
        "deployCount": 0,
        "lastCommit": null,
        "projects": listed,
    })
}

async fn find(deps: &Deps, org: &str, version: &str) -> Result<Option<Release>, ApiError> {
    Ok(deps.directory.releases(org).await?.into_iter().find(|r| r.version == version))
}

/// `POST /api/0/organizations/{org}/releases/`:
/// `{"version", "projects": [slug…], "url"?, "dateStarted"?, "dateReleased"?}` → 201, or 208
/// with the existing release (its projects merged with these) when the version exists.
pub async fn create(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let body =
        Body::parse(ctx.req, &["version", "projects", "url", "dateStarted", "dateReleased", "ref", "refs", "commits"])?;
    refuse_commits(&body)?;
    let version = body.required_str("version")?.to_owned();
    if let Some(problem) = version_problem(&version) {
        return Err(ApiError::new(400, problem));
    }
    let slugs = body.str_list("projects")?.unwrap_or_default();
    if slugs.is_empty() {
        return Err(ApiError::new(400, "`projects` (the slugs of the projects that ship this release) is required."));
    }
    let projects = projects_named(deps, org, &slugs).await?;
    let url = body.optional_str("url")?.map(str::to_owned);
    let (started, released) = (time_field(&body, "dateStarted")?, time_field(&body, "dateReleased")?);
    let all = deps.directory.org_projects(org).await?;
    if let Some(mut existing) = find(deps, org, &version).await? {
        for p in &projects {
            if !existing.projects.contains(&p.slug) {
                existing.projects.push(p.slug.clone());
            }
        }
        existing.url = url.or(existing.url);
        existing.date_started = started.or(existing.date_started);
        existing.date_released = released.or(existing.date_released);
        deps.directory.put_release(&existing).await?;
        return Ok(http::json(208, &release_json(&existing, &all)));
    }
    let release = Release {
        org: org.to_owned(),
        version,
        projects: projects.iter().map(|p| p.slug.clone()).collect(),
        url,
        date_created: Timestamp::now().unix_millis(),
        date_started: started,
        date_released: released,
        status: "open".into(),
    };
    deps.directory.put_release(&release).await?;
    Ok(http::json(201, &release_json(&release, &all)))
}

/// Commits and refs need a repository integration Errata does not have: said plainly rather
/// than dropped.
fn refuse_commits(body: &Body) -> Result<(), ApiError> {
    for key in ["ref", "refs", "commits"] {
        if body.get(key).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::new(
                400,
                format!("`{key}`: Errata does not track commits (no repository integration); leave them out."),
            ));
        }
    }
    Ok(())
}

/// `GET /api/0/organizations/{org}/releases/`: newest first; `query` matches the version's start,
/// `project` (an id, repeatable) keeps a project's.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let params = &ctx.req.query_string_parameters;
    let query = params.first("query").unwrap_or_default().to_owned();
    let wanted: Vec<&str> = params.all("project").unwrap_or_default();
    let all = deps.directory.org_projects(org).await?;
    let slugs: Vec<&str> =
        all.iter().filter(|p| wanted.contains(&p.id.to_string().as_str())).map(|p| p.slug.as_str()).collect();
    let mut releases = deps.directory.releases(org).await?;
    releases.retain(|r| {
        r.version.starts_with(&query) && (wanted.is_empty() || r.projects.iter().any(|p| slugs.contains(&p.as_str())))
    });
    releases.sort_by(|a, b| b.date_created.cmp(&a.date_created).then_with(|| a.version.cmp(&b.version)));
    crate::paged(ctx, releases.iter().map(|r| release_json(r, &all)).collect())
}

/// `GET /api/0/organizations/{org}/releases/{version}/`
pub async fn detail(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let release = find(deps, org, ctx.param("version")).await?.ok_or_else(ApiError::not_found)?;
    let all = deps.directory.org_projects(org).await?;
    Ok(http::json(200, &release_json(&release, &all)))
}

/// `PUT /api/0/organizations/{org}/releases/{version}/`: `url`, `dateStarted`, `dateReleased`
/// (what `finalize` sets), `status` (`open` or `archived`), `projects` (added).
pub async fn update(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let body =
        Body::parse(ctx.req, &["url", "dateStarted", "dateReleased", "status", "projects", "ref", "refs", "commits"])?;
    refuse_commits(&body)?;
    let mut release = find(deps, org, ctx.param("version")).await?.ok_or_else(ApiError::not_found)?;
    if let Some(url) = body.optional_str("url")? {
        release.url = Some(url.to_owned()).filter(|u| !u.is_empty());
    }
    if let Some(t) = time_field(&body, "dateStarted")? {
        release.date_started = Some(t);
    }
    if let Some(t) = time_field(&body, "dateReleased")? {
        release.date_released = Some(t);
    }
    match body.optional_str("status")? {
        None => {}
        Some(s @ ("open" | "archived")) => release.status = s.to_owned(),
        Some(other) => return Err(ApiError::new(400, format!("`status` is `open` or `archived`, not {other:?}."))),
    }
    if let Some(slugs) = body.str_list("projects")? {
        for p in projects_named(deps, org, &slugs).await? {
            if !release.projects.contains(&p.slug) {
                release.projects.push(p.slug);
            }
        }
    }
    deps.directory.put_release(&release).await?;
    let all = deps.directory.org_projects(org).await?;
    Ok(http::json(200, &release_json(&release, &all)))
}

/// `DELETE /api/0/organizations/{org}/releases/{version}/` (204). Events keep naming it.
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let release = find(deps, org, ctx.param("version")).await?.ok_or_else(ApiError::not_found)?;
    deps.directory.delete_release(org, &release.version).await?;
    Ok(http::json(204, &Value::Null))
}
