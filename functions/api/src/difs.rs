//! Debug file uploads the way `sentry-cli debug-files upload` sends them: the CLI asks for the
//! chunk-upload options, asks to assemble each file from the SHA-1s of its 1 MiB chunks, uploads
//! the chunks the server says are missing (multipart, optionally gzipped), and asks again. The
//! assembled file is checked against its checksum, read with `symbolic` (ELF/DWARF, Mach-O,
//! PE/PDB, Breakpad, source bundles) and indexed by debug id; listing and deletion follow
//! Sentry's `files/dsyms/` routes. Chunks are kept per organization, so one tenant can never
//! assemble another's data from checksums.

use crate::body::Body;
use crate::router::Ctx;
use crate::{ApiError, ApiResult, Deps};
use errata_domain::difs::DebugFile;
use errata_domain::Timestamp;
use errata_runtime::http;
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};
use std::io::Read;
use symbolic_debuginfo::Archive;

/// Chunk size the CLI cuts files into.
pub const CHUNK_SIZE: u64 = 1024 * 1024;
/// Chunks per upload request, and the request's size: a Lambda invocation carries at most
/// 6 MB, and API Gateway sends binary bodies base64-encoded (4/3 of their size).
const CHUNKS_PER_REQUEST: u64 = 3;
const MAX_REQUEST_SIZE: u64 = 3 * CHUNK_SIZE + 256 * 1024;
/// The largest file assembled (it is read into memory once).
pub const MAX_FILE_SIZE: u64 = 128 * CHUNK_SIZE;
/// The most debug files a project keeps: the symbolicator reads the list for each native
/// event, so it is bounded here, with an error that says so, rather than cut when read.
pub const MAX_DEBUG_FILES: usize = 10_000;

pub(crate) fn is_sha1(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn sha1_hex(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

fn chunk_key(org: &str, checksum: &str) -> String {
    format!("chunks/{org}/{}", checksum.to_ascii_lowercase())
}

/// `GET /api/0/organizations/{org}/chunk-upload/`: where and how to upload chunks.
pub async fn options(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let base = deps.public_url.trim_end_matches('/');
    Ok(http::json(
        200,
        &json!({
            "url": format!("{base}/api/0/organizations/{org}/chunk-upload/"),
            "chunkSize": CHUNK_SIZE,
            "chunksPerRequest": CHUNKS_PER_REQUEST,
            "maxFileSize": MAX_FILE_SIZE,
            "maxRequestSize": MAX_REQUEST_SIZE,
            "maxWait": 60,
            "concurrency": 4,
            "hashAlgorithm": "sha1",
            "compression": ["gzip"],
            "accept": ["debug_files", "sources", "artifact_bundles"],
        }),
    ))
}

/// `POST /api/0/organizations/{org}/chunk-upload/`: multipart parts named `file` (or
/// `file_gzip`), each with its SHA-1 as file name. Every part is checked before any is kept.
pub async fn upload(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let org = ctx.param("org");
    let body = http::body_bytes(ctx.req).map_err(|_| ApiError::new(400, "The body is not valid base64."))?;
    if body.len() as u64 > MAX_REQUEST_SIZE {
        return Err(ApiError::new(413, format!("An upload request carries at most {MAX_REQUEST_SIZE} bytes.")));
    }
    let content_type = http::header(ctx.req, "content-type").unwrap_or_default();
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::new(400, "Chunks are sent as multipart/form-data with a boundary."))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(body)) });
    let mut form = multer::Multipart::new(stream, boundary);
    let bad = |e: multer::Error| ApiError::new(400, format!("Invalid multipart body: {e}"));
    let mut chunks: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let gzip = match field.name() {
            Some("file") => false,
            Some("file_gzip") => true,
            other => {
                return Err(ApiError::new(
                    400,
                    format!("Unexpected form field {other:?}: chunks are `file` or `file_gzip`."),
                ))
            }
        };
        let checksum = field.file_name().unwrap_or_default().to_ascii_lowercase();
        if !is_sha1(&checksum) {
            return Err(ApiError::new(400, format!("Chunk file name {checksum:?} is not a SHA-1 checksum.")));
        }
        let raw = field.bytes().await.map_err(bad)?;
        let data = if gzip { gunzip(&raw, &checksum)? } else { raw.to_vec() };
        if data.len() as u64 > CHUNK_SIZE {
            return Err(ApiError::new(400, format!("Chunk {checksum} is larger than {CHUNK_SIZE} bytes.")));
        }
        if sha1_hex(&data) != checksum {
            return Err(ApiError::new(400, format!("Chunk {checksum}: its content does not match its checksum.")));
        }
        chunks.push((checksum, data));
    }
    if chunks.is_empty() {
        return Err(ApiError::new(400, "No chunks in the upload."));
    }
    for (checksum, data) in chunks {
        deps.debug_files.put(&chunk_key(org, &checksum), data, "application/octet-stream").await?;
    }
    Ok(http::json(200, &json!({})))
}

/// A gzipped chunk, decompressed to at most one chunk and a byte (a bomb stops there).
fn gunzip(raw: &[u8], checksum: &str) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw)
        .take(CHUNK_SIZE + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::new(400, format!("Chunk {checksum}: not valid gzip ({e}).")))?;
    Ok(out)
}

/// `POST /api/0/projects/{org}/{project}/files/difs/assemble/`:
/// `{"<sha1>": {"name": "…", "debug_id": "…", "chunks": ["<sha1>", …]}, …}`, answered per file
/// with `state` (`ok`, `not_found` with `missingChunks`, `error` with `detail`) and `dif`.
pub async fn assemble(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let org = ctx.param("org");
    let body = Body::parse_any(ctx.req)?;
    let Value::Object(files) = body else {
        return Err(ApiError::new(400, "The body maps each file's SHA-1 to its name and chunks."));
    };
    if files.len() > 1000 {
        return Err(ApiError::new(400, "At most 1000 files per request."));
    }
    let known = deps.directory.debug_files(project.id).await?;
    let mut out = Map::new();
    for (checksum, request) in &files {
        let checksum = checksum.to_ascii_lowercase();
        if !is_sha1(&checksum) {
            return Err(ApiError::new(400, format!("{checksum:?} is not a SHA-1 checksum.")));
        }
        let name = request.get("name").and_then(Value::as_str).filter(|n| !n.is_empty() && n.len() <= 1024);
        let name =
            name.ok_or_else(|| ApiError::new(400, format!("{checksum}: `name` (1 to 1024 characters) is required.")))?;
        let chunks = chunk_list(request.get("chunks"), &checksum)?;
        let done: Vec<&DebugFile> = known.iter().filter(|f| f.sha1 == checksum).collect();
        let answer = if let Some(first) = done.first() {
            state("ok", &[], None, Some(first))
        } else {
            assemble_one(deps, org, project.id, &checksum, name, &chunks).await?
        };
        out.insert(checksum, answer);
    }
    Ok(http::json(200, &Value::Object(out)))
}

fn state(state: &str, missing: &[String], detail: Option<String>, dif: Option<&DebugFile>) -> Value {
    json!({ "state": state, "missingChunks": missing, "detail": detail, "dif": dif.map(dif_json) })
}

async fn assemble_one(
    deps: &Deps,
    org: &str,
    project_id: u64,
    checksum: &str,
    name: &str,
    chunks: &[String],
) -> Result<Value, ApiError> {
    let data = match gather(deps, org, checksum, chunks).await? {
        Gathered::File(data) => data,
        Gathered::Missing(missing) => return Ok(state("not_found", &missing, None, None)),
        Gathered::Mismatch(detail) => return Ok(state("error", &[], Some(detail), None)),
    };
    let objects = match read_objects(&data) {
        Ok(objects) if !objects.is_empty() => objects,
        Ok(_) => return Ok(state("error", &[], Some(format!("{name}: no object with a debug id in it.")), None)),
        Err(e) => {
            return Ok(state("error", &[], Some(format!("{name}: not a debug file Errata can read ({e}).")), None))
        }
    };
    let held = deps.directory.debug_files(project_id).await?;
    if held.len() + objects.len() > MAX_DEBUG_FILES && !held.iter().any(|f| f.sha1 == checksum) {
        let detail = format!(
            "{name}: the project holds {} debug files, and at most {MAX_DEBUG_FILES} are kept; delete old ones \
             (DELETE …/files/dsyms/?id=…) first.",
            held.len()
        );
        return Ok(state("error", &[], Some(detail), None));
    }
    let key = format!("difs/{project_id}/{checksum}");
    let size = data.len() as u64;
    deps.debug_files.put(&key, data, "application/octet-stream").await?;
    let many = objects.len() > 1;
    let now = Timestamp::now().unix_millis() / 1000;
    let mut first = None;
    for (i, o) in objects.into_iter().enumerate() {
        let file = DebugFile {
            id: if many { format!("{checksum}:{i}") } else { checksum.to_owned() },
            project_id,
            debug_id: o.debug_id,
            code_id: o.code_id,
            object_name: name.to_owned(),
            cpu_name: o.arch,
            file_format: o.format,
            object_kind: o.kind,
            features: o.features,
            sha1: checksum.to_owned(),
            size,
            created_at: now,
            key: key.clone(),
        };
        deps.directory.put_debug_file(&file).await?;
        first.get_or_insert(file);
    }
    Ok(state("ok", &[], None, first.as_ref()))
}

/// The `chunks` of an assemble request: 1 to 128 SHA-1 checksums, lower-cased.
pub(crate) fn chunk_list(value: Option<&Value>, checksum: &str) -> Result<Vec<String>, ApiError> {
    let chunks: Vec<String> = match value {
        Some(Value::Array(list)) => list
            .iter()
            .map(|c| c.as_str().filter(|c| is_sha1(c)).map(str::to_ascii_lowercase))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::new(400, format!("{checksum}: `chunks` are SHA-1 checksums.")))?,
        _ => return Err(ApiError::new(400, format!("{checksum}: `chunks` (a list of SHA-1s) is required."))),
    };
    if chunks.is_empty() || chunks.len() as u64 > MAX_FILE_SIZE / CHUNK_SIZE {
        return Err(ApiError::new(400, format!("{checksum}: 1 to {} chunks.", MAX_FILE_SIZE / CHUNK_SIZE)));
    }
    Ok(chunks)
}

/// A file put together from the organization's uploaded chunks.
pub(crate) enum Gathered {
    File(Vec<u8>),
    /// These chunks have not been uploaded (yet).
    Missing(Vec<String>),
    /// The chunks do not add up to the file's checksum.
    Mismatch(String),
}

pub(crate) async fn gather(deps: &Deps, org: &str, checksum: &str, chunks: &[String]) -> Result<Gathered, ApiError> {
    let mut missing = Vec::new();
    for c in chunks {
        if deps.debug_files.get_range(&chunk_key(org, c), 0, 1).await?.is_none() && !missing.contains(c) {
            missing.push(c.clone());
        }
    }
    if !missing.is_empty() {
        return Ok(Gathered::Missing(missing));
    }
    let mut data = Vec::new();
    for c in chunks {
        let chunk = deps
            .debug_files
            .get(&chunk_key(org, c))
            .await?
            .ok_or_else(|| ApiError::new(503, "A chunk vanished; retry."))?;
        data.extend_from_slice(&chunk);
    }
    if sha1_hex(&data) != checksum {
        return Ok(Gathered::Mismatch("The assembled file does not match its checksum.".into()));
    }
    Ok(Gathered::File(data))
}

struct ObjectInfo {
    debug_id: String,
    code_id: Option<String>,
    arch: String,
    format: String,
    kind: String,
    features: Vec<String>,
}

/// The most a zip's `manifest.json` may hold (a bundle of thousands of files has a few MB).
pub(crate) const MAX_MANIFEST: u64 = 16 * 1024 * 1024;
/// The most any one file of a zip may hold once inflated, and all of them together: a source
/// map of a very large app is tens of MB, a bomb is many GB.
const MAX_ZIP_ENTRY: u64 = 128 * 1024 * 1024;
const MAX_ZIP_TOTAL: u64 = 1024 * 1024 * 1024;

/// Refuses a zip (a source or artifact bundle) that inflates beyond the limits, before
/// `symbolic` or the symbolicator reads it: their readers inflate a file whole. Each entry is
/// inflated once here and thrown away, so a lying size in the zip's directory changes nothing.
/// Anything that is not a zip passes, for the readers to judge.
pub(crate) fn check_zip(data: &[u8]) -> Result<(), String> {
    // Source bundles put a header of their own before the zip; a zip is found from its end.
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(data)) else {
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|e| format!("not a valid zip: {e}"))?;
        let name = entry.name().to_owned();
        let limit = if name == "manifest.json" { MAX_MANIFEST } else { MAX_ZIP_ENTRY };
        let inflated = std::io::copy(&mut entry.take(limit + 1), &mut std::io::sink())
            .map_err(|e| format!("{name:?} in the zip is unreadable: {e}"))?;
        if inflated > limit {
            return Err(format!("{name:?} in the zip is larger than {limit} bytes"));
        }
        total += inflated;
        if total > MAX_ZIP_TOTAL {
            return Err(format!("the zip's files are larger than {MAX_ZIP_TOTAL} bytes together"));
        }
    }
    Ok(())
}

/// The objects of a debug file with a debug id, as `symbolic` reads them.
fn read_objects(data: &[u8]) -> Result<Vec<ObjectInfo>, String> {
    check_zip(data)?;
    let archive = Archive::parse(data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for object in archive.objects() {
        let object = object.map_err(|e| e.to_string())?;
        let debug_id = object.debug_id();
        if debug_id.is_nil() {
            continue;
        }
        let mut features = Vec::new();
        for (has, name) in [
            (object.has_symbols(), "symtab"),
            (object.has_debug_info(), "debug"),
            (object.has_unwind_info(), "unwind"),
            (object.has_sources(), "sources"),
        ] {
            if has {
                features.push(name.to_owned());
            }
        }
        out.push(ObjectInfo {
            debug_id: debug_id.to_string().to_ascii_lowercase(),
            code_id: object.code_id().map(|c| c.to_string()),
            arch: object.arch().name().to_owned(),
            format: object.file_format().to_string(),
            kind: object.kind().to_string(),
            features,
        });
    }
    Ok(out)
}

/// Sentry's debug file shape (what `sentry-cli` and the web app read).
fn dif_json(f: &DebugFile) -> Value {
    json!({
        "id": f.id,
        "uuid": f.debug_id,
        "debugId": f.debug_id,
        "codeId": f.code_id,
        "objectName": f.object_name,
        "cpuName": f.cpu_name,
        "sha1": f.sha1,
        "size": f.size,
        "symbolType": f.file_format,
        "dateCreated": Timestamp::from_unix_millis(f.created_at * 1000).map(|t| t.to_rfc3339()),
        "data": { "type": f.object_kind, "features": f.features },
        "headers": { "Content-Type": "application/octet-stream" },
    })
}

/// `GET /api/0/projects/{org}/{project}/files/dsyms/`: the project's debug files, newest first;
/// `query` matches debug id, code id or name, `id` picks files.
pub async fn list(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let params = &ctx.req.query_string_parameters;
    let query = params.first("query").map(str::to_ascii_lowercase).unwrap_or_default();
    let ids: Vec<&str> = params.all("id").unwrap_or_default();
    let mut files = deps.directory.debug_files(project.id).await?;
    files.retain(|f| {
        (ids.is_empty() || ids.contains(&f.id.as_str()))
            && (query.is_empty()
                || f.debug_id.contains(&query)
                || f.code_id.as_deref().is_some_and(|c| c.contains(&query))
                || f.object_name.to_ascii_lowercase().contains(&query))
    });
    files.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    crate::paged(ctx, files.iter().map(dif_json).collect())
}

/// `DELETE /api/0/projects/{org}/{project}/files/dsyms/?id=…`: deletes debug files (204); a
/// file's bytes go with its last record.
pub async fn delete(deps: &Deps, ctx: &Ctx<'_>) -> ApiResult {
    let project = ctx.project()?;
    let ids: Vec<&str> = ctx.req.query_string_parameters.all("id").unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::new(400, "Name the debug files to delete with ?id=…"));
    }
    let files = deps.directory.debug_files(project.id).await?;
    let doomed: Vec<&DebugFile> = files.iter().filter(|f| ids.contains(&f.id.as_str())).collect();
    if doomed.is_empty() {
        return Err(ApiError::not_found());
    }
    for f in &doomed {
        deps.directory.delete_debug_file(f).await?;
    }
    for f in &doomed {
        let still_used = files.iter().any(|o| o.key == f.key && !doomed.iter().any(|d| d.id == o.id));
        if !still_used {
            deps.debug_files.delete(std::slice::from_ref(&f.key)).await?;
        }
    }
    Ok(http::json(204, &Value::Null))
}
