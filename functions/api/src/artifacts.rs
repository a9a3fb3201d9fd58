//! Source-map artifact bundles the way `sentry-cli sourcemaps upload` sends them: a zip of
//! minified scripts and source maps with a `manifest.json` (each file's URL, type and headers,
//! among them the `debug-id` that `sentry-cli sourcemaps inject` wrote into it), cut into the
//! same chunks as debug files and assembled for one or more projects of the organization.
//! Listing and deletion follow Sentry's `files/artifact-bundles/` routes.

use crate::body::Body;
use crate::difs::{check_zip, chunk_list, gather, is_sha1, Gathered, MAX_MANIFEST};
use crate::router::Ctx;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::difs::ArtifactBundle;
use errata_domain::{Project, Timestamp};
use errata_runtime::http;
use serde::Deserialize;
use serde_json::{json, Value};

/// The most source-map artifact bundles a project keeps (the symbolicator reads the list for
/// each JavaScript event): an upload past it is an error that says so.
pub const MAX_BUNDLES: usize = 10_000;
use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    files: BTreeMap<String, ManifestFile>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    dist: Option<String>,
}

#[derive(Deserialize)]
struct ManifestFile {
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// What a bundle holds, as its manifest says.
struct Contents {
    debug_ids: Vec<String>,
    file_count: u32,
    release: Option<String>,
    dist: Option<String>,
}

/// Reads a bundle's manifest (and checks `symbolic` can read the bundle).
fn read_bundle(data: &[u8]) -> Result<Contents, String> {
    check_zip(data)?;
    symbolic_debuginfo::sourcebundle::SourceBundle::parse(data).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(data)).map_err(|e| e.to_string())?;
    let file = archive.by_name("manifest.json").map_err(|_| "no manifest.json in it".to_owned())?;
    let mut text = Vec::new();
    file.take(MAX_MANIFEST + 1).read_to_end(&mut text).map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_MANIFEST {
        return Err(format!("its manifest is larger than {MAX_MANIFEST} bytes"));
    }
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| format!("unreadable manifest.json: {e}"))?;
    let mut debug_ids: Vec<String> = manifest
        .files
        .values()
        .filter_map(|f| f.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("debug-id")).map(|(_, v)| v))
        .filter_map(|id| symbolic_common::DebugId::from_str(id).ok())
        .map(|id| id.to_string().to_ascii_lowercase())
        .collect();
    debug_ids.sort();
    debug_ids.dedup();
    Ok(Contents {
        debug_ids,
        file_count: manifest.files.len() as u32,
        release: manifest.release.filter(|r| !r.is_empty()),
        dist: manifest.dist.filter(|d| !d.is_empty()),
    })
}

fn answer(state: &str, missing: &[String], detail: Option<String>) -> ApiResult {
    Ok(http::json(200, &json!({ "state": state, "missingChunks": missing, "detail": detail })))
}

/// An optional string field of 1 to 200 characters on one line (a release version or dist).
fn short_text(body: &Value, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= 200 && !s.contains(['\n', '\r', '\t']) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::new(400, format!("`{field}` is a string of at most 200 characters on one line."))),
    }
}

/// `POST /api/0/organizations/{org}/artifactbundle/assemble/`:
/// `{"checksum": "<sha1>", "chunks": [...], "projects": ["slug", …], "version"?, "dist"?}`,
/// answered with `state` (`ok`, `not_found` with `missingChunks`, `error` with `detail`).
pub async fn assemble(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let body = Body::parse_any(ctx.req)?;
    let checksum = body.get("checksum").and_then(Value::as_str).map(str::to_ascii_lowercase).unwrap_or_default();
    if !is_sha1(&checksum) {
        return Err(ApiError::new(400, "`checksum` (the bundle's SHA-1) is required."));
    }
    let chunks = chunk_list(body.get("chunks"), &checksum)?;
    let slugs: Vec<&str> = match body.get("projects") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= 100 => list
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::new(400, "`projects` are project slugs."))?,
        _ => return Err(ApiError::new(400, "`projects` (1 to 100 project slugs) is required.")),
    };
    let mut projects: Vec<Project> = Vec::new();
    for slug in &slugs {
        match deps.directory.project_by_slug(org, slug).await? {
            Some(p) if !projects.iter().any(|q| q.id == p.id) => projects.push(p),
            Some(_) => {}
            None => return Err(ApiError::new(400, format!("There is no project {slug:?} in this organization."))),
        }
    }
    let version = short_text(&body, "version")?;
    let dist = short_text(&body, "dist")?;

    let mut waiting = Vec::new();
    for project in &projects {
        if !deps.directory.artifact_bundles(project.id).await?.iter().any(|b| b.id == checksum) {
            waiting.push(project);
        }
    }
    if waiting.is_empty() {
        return answer("ok", &[], None);
    }
    let data = match gather(deps, org, &checksum, &chunks).await? {
        Gathered::File(data) => data,
        Gathered::Missing(missing) => return answer("not_found", &missing, None),
        Gathered::Mismatch(detail) => return answer("error", &[], Some(detail)),
    };
    let contents = match read_bundle(&data) {
        Ok(contents) => contents,
        Err(e) => return answer("error", &[], Some(format!("Not an artifact bundle Errata can read: {e}."))),
    };
    if contents.debug_ids.is_empty() && version.is_none() && contents.release.is_none() {
        let detail = "The bundle's files have no debug ids and it names no release, so no event could use it: \
                      run `sentry-cli sourcemaps inject` first, or upload with `--release`.";
        return answer("error", &[], Some(detail.into()));
    }
    for project in &waiting {
        let held = deps.directory.artifact_bundles(project.id).await?;
        if held.len() >= MAX_BUNDLES && !held.iter().any(|b| b.id == checksum) {
            let detail = format!(
                "The project {} holds {} artifact bundles, and at most {MAX_BUNDLES} are kept; delete old ones first.",
                project.slug,
                held.len()
            );
            return answer("error", &[], Some(detail));
        }
    }
    let now = Timestamp::now().unix_millis() / 1000;
    let size = data.len() as u64;
    for project in waiting {
        let key = format!("artifacts/{}/{checksum}", project.id);
        deps.debug_files.put(&key, data.clone(), "application/zip").await?;
        let bundle = ArtifactBundle {
            id: checksum.clone(),
            project_id: project.id,
            release: version.clone().or_else(|| contents.release.clone()),
            dist: dist.clone().or_else(|| contents.dist.clone()),
            debug_ids: contents.debug_ids.clone(),
            file_count: contents.file_count,
            size,
            created_at: now,
            key,
        };
        deps.directory.put_artifact_bundle(&bundle).await?;
    }
    answer("ok", &[], None)
}

/// Sentry's artifact bundle shape (what the web app reads).
fn bundle_json(b: &ArtifactBundle) -> Value {
    let date = Timestamp::from_unix_millis(b.created_at * 1000).map(|t| t.to_rfc3339());
    let associations: Vec<Value> = b.release.iter().map(|r| json!({ "release": r, "dist": b.dist })).collect();
    json!({
        "bundleId": b.id,
        "associations": associations,
        "fileCount": b.file_count,
        "debugIds": b.debug_ids,
        "size": b.size,
        "date": date,
        "dateModified": date,
    })
}

/// `GET /api/0/projects/{org}/{project}/files/artifact-bundles/`: newest first; `query`
/// matches bundle id, release or debug id.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let query = ctx.req.query_string_parameters.first("query").map(str::to_ascii_lowercase).unwrap_or_default();
    let mut bundles = deps.directory.artifact_bundles(project.id).await?;
    bundles.retain(|b| {
        query.is_empty()
            || b.id.contains(&query)
            || b.release.as_deref().is_some_and(|r| r.to_ascii_lowercase().contains(&query))
            || b.debug_ids.iter().any(|d| d.contains(&query))
    });
    bundles.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    crate::paged(ctx, bundles.iter().map(bundle_json).collect())
}

/// `DELETE /api/0/projects/{org}/{project}/files/artifact-bundles/?bundleId=…` (204).
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let ids: Vec<&str> = ctx.req.query_string_parameters.all("bundleId").unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new(400, "Name the bundles to delete with ?bundleId=…"));
    }
    let bundles = deps.directory.artifact_bundles(project.id).await?;
    let doomed: Vec<&ArtifactBundle> = bundles.iter().filter(|b| ids.contains(&b.id.as_str())).collect();
    if doomed.is_empty() {
        return Err(ApiError::not_found());
    }
    for b in doomed {
        deps.directory.delete_artifact_bundle(b).await?;
        deps.debug_files.delete(std::slice::from_ref(&b.key)).await?;
    }
    Ok(http::json(204, &Value::Null))
}
