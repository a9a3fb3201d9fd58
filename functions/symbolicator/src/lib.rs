//! The symbolicator Lambda: the processor hands it error events whose frames need symbols (as
//! an envelope on the symbolication queue); it stack-walks their minidumps, symbolicates native
//! frames with the project's uploaded debug files and JavaScript frames with its source-map
//! artifact bundles (caches of all three built once and kept under `symcaches/`), and hands
//! each event back to the envelope queue, frames marked, so the processor stores it.
//!
//! An event is never held: a frame without symbols is stored as sent and marked; an event whose
//! symbolication keeps failing or timing out is handed back unsymbolicated on its third attempt,
//! and one that waited more than ten minutes at once, each with the reason in its `errors`.

pub mod js;
pub mod minidump;
pub mod native;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use base64::Engine;
use errata_domain::difs::{url_candidates, ArtifactBundle, DebugFile};
use errata_domain::queue::{QueuedEnvelope, QueuedPayload};
use errata_domain::symbols::{frame_kind, give_up, rewrite_frames, script_path, sourcemap_images, FrameKind, Resolved};
use errata_domain::Timestamp;
use errata_ports::{BlobStore, Directory, EnvelopeQueue, StoreError};
use errata_protocol::Envelope;
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Attempts (SQS receives) after which an event that cannot be symbolicated is stored without.
/// The queue's `maxReceiveCount` (default 5) is higher, so it comes back before the DLQ.
pub const GIVE_UP_AFTER: u32 = 3;
/// How long one event may take per attempt (a batch holds up to 5 within the 60 s timeout).
pub const EVENT_BUDGET: Duration = Duration::from_secs(10);
/// How long after ingest an event is stored whatever happens.
pub const MAX_WAIT_MS: i64 = 10 * 60 * 1000;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    /// The debug-files bucket: uploaded files and bundles, and their caches under `symcaches/`.
    pub files: Arc<dyn BlobStore>,
    /// The events bucket, for minidumps (read only, under `attachments/`).
    pub events: Arc<dyn BlobStore>,
    /// Where symbolicated events go back to the processor.
    pub envelopes: Arc<dyn EnvelopeQueue>,
}

#[derive(Debug)]
pub enum Error {
    /// A store failed: the message is retried.
    Store(StoreError),
    /// Symbolication took longer than its budget: retried.
    Timeout,
    /// The message is not what the processor sends: retrying will not help.
    Invalid(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

pub async fn handle_batch(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let attempt = record.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1);
        let result = match serde_json::from_str::<QueuedEnvelope>(record.body.as_deref().unwrap_or_default()) {
            Ok(queued) => handle(deps, &queued, attempt).await,
            Err(e) => Err(Error::Invalid(format!("not a queued envelope: {e}"))),
        };
        if let Err(e) = result {
            tracing::error!(message_id = %id, attempt, error = ?e, "symbolication failed");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Symbolicates the events of one envelope (on its `attempt`-th delivery) and sends it back to
/// the envelope queue.
pub async fn handle(deps: &Deps, queued: &QueuedEnvelope, attempt: u32) -> Result<(), Error> {
    let QueuedPayload::Inline(b64) = &queued.payload else {
        return Err(Error::Invalid("the processor sends events inline".into()));
    };
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| Error::Invalid(e.to_string()))?;
    let envelope = Envelope::parse(&bytes).map_err(|e| Error::Invalid(e.to_string()))?;
    let mut events: Vec<Value> = Vec::new();
    for item in envelope.items.iter().filter(|i| i.header.ty == "event") {
        events.push(serde_json::from_slice(&item.payload).map_err(|e| Error::Invalid(e.to_string()))?);
    }
    let waited_ms = Timestamp::now().unix_millis() - queued.received_ms;
    for event in &mut events {
        if waited_ms > MAX_WAIT_MS {
            let reason = format!("waited {} s for symbolication; stored without", waited_ms / 1000);
            give_up(event, "symbolication_timeout", &reason);
            continue;
        }
        let outcome = tokio::time::timeout(EVENT_BUDGET, symbolicate(deps, queued.project_id, event)).await;
        let failure = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(_) => Error::Timeout,
        };
        if attempt < GIVE_UP_AFTER {
            return Err(failure);
        }
        let (kind, reason) = match &failure {
            Error::Timeout => {
                ("symbolication_timeout", format!("took longer than {} s, {attempt} times", EVENT_BUDGET.as_secs()))
            }
            other => ("symbolication_failed", format!("failed {attempt} times: {other:?}")),
        };
        tracing::warn!(attempt, reason, "storing the event unsymbolicated");
        give_up(event, kind, &reason);
    }
    let back = Envelope::of_events(&events).to_bytes();
    let queued = QueuedEnvelope {
        project_id: queued.project_id,
        received_ms: queued.received_ms,
        client_ip: queued.client_ip.clone(),
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(back)),
        handback: true,
    };
    deps.envelopes.send(&queued).await?;
    Ok(())
}

/// Symbolicates one event's native and script frames in place. Everything it needs is loaded
/// first, so the event is changed all at once or not at all.
pub async fn symbolicate(deps: &Deps, project_id: u64, event: &mut Value) -> Result<(), Error> {
    if let Some(key) = errata_domain::symbols::pending_minidump(event).map(str::to_owned) {
        walk_minidump(deps, project_id, &key, event).await?;
    }
    let images = native::images(event);
    let symcaches = load_symcaches(deps, project_id, &images).await?;
    let scripts = load_scripts(deps, project_id, event).await?;
    let parsed: HashMap<&str, (symbolic_sourcemapcache::SourceMapCache<'_>, &LoadedScript)> = scripts
        .iter()
        .filter_map(|(path, s)| {
            Some((path.as_str(), (symbolic_sourcemapcache::SourceMapCache::parse(&s.cache).ok()?, s)))
        })
        .collect();
    let platform = event.get("platform").and_then(Value::as_str).map(str::to_owned);
    rewrite_frames(event, &mut |frame| {
        if frame.get("symbolicator_status").is_some() {
            return Resolved::Skip;
        }
        match frame_kind(platform.as_deref(), frame) {
            Some(FrameKind::Native) => native::resolve(frame, &images, &|id| symcaches.get(id).map(Vec::as_slice)),
            Some(FrameKind::Script) => {
                let path = script_path(frame).unwrap_or_default();
                match parsed.get(path) {
                    Some((cache, script)) => js::resolve(frame, cache, script.found, &script.sourcemap_url),
                    None => Resolved::Mark("missing"),
                }
            }
            None => Resolved::Skip,
        }
    });
    Ok(())
}

/// Stack-walks the event's minidump into its exception, threads and images, with the CFI of
/// the modules whose debug files were uploaded (built and kept on first use). A dump that is
/// gone or unreadable is marked so, with the reason in the event's `errors`.
async fn walk_minidump(deps: &Deps, project_id: u64, key: &str, event: &mut Value) -> Result<(), Error> {
    use errata_domain::symbols::{add_error, mark_minidump};
    // The placeholder exception says what became of the dump.
    let unusable = |event: &mut Value, status: &str, kind: &str, reason: &str| {
        mark_minidump(event, status);
        add_error(event, kind, reason);
        if let Some(value) = event.pointer_mut("/exception/values/0/value") {
            *value = format!("Native crash (the minidump could not be read: {reason})").into();
        }
    };
    // Only a dump in the event's own attachment folder is this event's to read.
    let event_id = event.get("event_id").and_then(Value::as_str).unwrap_or_default();
    if !errata_domain::storage::is_attachment_of(key, project_id, event_id) {
        tracing::warn!(project_id, event_id, "minidump reference outside the event's folder; not read");
        unusable(event, "missing", "minidump_missing", "it is not stored with this event");
        return Ok(());
    }
    let Some(dump) = deps.events.get(key).await? else {
        unusable(event, "missing", "minidump_missing", "it is no longer stored");
        return Ok(());
    };
    let modules = match minidump::modules(&dump) {
        Ok(modules) => modules,
        Err(e) => {
            unusable(event, "unreadable", "minidump_invalid", &e);
            return Ok(());
        }
    };
    let files = deps.directory.debug_files(project_id).await?;
    let mut cfi = HashMap::new();
    for module in &modules {
        let Some(debug_id) = &module.debug_id else { continue };
        let Some(file) = best_file(&files, debug_id, "unwind") else { continue };
        let cache_key = format!("symcaches/{project_id}/{}/{debug_id}.cfi", file.sha1);
        let text = match deps.files.get(&cache_key).await? {
            Some(text) => text,
            None => {
                let Some(data) = deps.files.get(&file.key).await? else { continue };
                let id = debug_id.clone();
                match blocking(move || minidump::build_cfi(&data, &id)).await {
                    Ok(text) => {
                        deps.files.put(&cache_key, text.clone(), "text/plain").await?;
                        text
                    }
                    Err(e) => {
                        tracing::warn!(debug_id, error = %e, "no CFI");
                        continue;
                    }
                }
            }
        };
        cfi.insert(module.code_file.clone(), text);
    }
    if let Err(e) = minidump::apply(&dump, cfi, event).await {
        unusable(event, "unreadable", "minidump_invalid", &e);
    }
    Ok(())
}

/// Of the files uploaded for a debug id (a stripped executable and its debug companion share
/// one, and a rebuild may too), the one with the `wanted` feature (`debug`: line tables,
/// `unwind`: CFI), then the one with the most features, then the newest.
fn best_file<'f>(files: &'f [DebugFile], debug_id: &str, wanted: &str) -> Option<&'f DebugFile> {
    let has = |f: &DebugFile, x: &str| f.features.iter().any(|g| g == x);
    files
        .iter()
        .filter(|f| f.debug_id == debug_id)
        .max_by_key(|f| (has(f, wanted), has(f, "symtab"), f.features.len(), f.created_at))
}

/// The SymCaches of the images whose debug files were uploaded, built and kept on first use.
async fn load_symcaches(
    deps: &Deps,
    project_id: u64,
    images: &[native::Image],
) -> Result<HashMap<String, Vec<u8>>, Error> {
    let mut caches = HashMap::new();
    if images.is_empty() {
        return Ok(caches);
    }
    let files = deps.directory.debug_files(project_id).await?;
    for image in images {
        if caches.contains_key(&image.debug_id) {
            continue;
        }
        let Some(file) = best_file(&files, &image.debug_id, "debug") else { continue };
        let cache_key = format!("symcaches/{project_id}/{}/{}", file.sha1, image.debug_id);
        let cache = match deps.files.get(&cache_key).await? {
            Some(cache) => cache,
            None => {
                let Some(data) = deps.files.get(&file.key).await? else { continue };
                let debug_id = image.debug_id.clone();
                match blocking(move || native::build_symcache(&data, &debug_id)).await {
                    Ok(cache) => {
                        deps.files.put(&cache_key, cache.clone(), "application/octet-stream").await?;
                        cache
                    }
                    Err(e) => {
                        tracing::warn!(debug_id = %image.debug_id, error = %e, "no SymCache");
                        continue;
                    }
                }
            }
        };
        caches.insert(image.debug_id.clone(), cache);
    }
    Ok(caches)
}

/// Runs CPU-heavy work (cache builds) off the async threads, so the event's budget can stop
/// waiting for it.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(work).await.map_err(|e| e.to_string())?
}

/// A script's SourceMapCache and how it was found.
struct LoadedScript {
    cache: Vec<u8>,
    found: js::Found,
    sourcemap_url: String,
}

/// Cached SourceMapCaches start with the source map's URL: `u32` length (LE), then the URL.
fn pack(url: &str, cache: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + url.len() + cache.len());
    out.extend_from_slice(&(url.len() as u32).to_le_bytes());
    out.extend_from_slice(url.as_bytes());
    out.extend_from_slice(cache);
    out
}

fn unpack(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let url = std::str::from_utf8(bytes.get(4..4 + len)?).ok()?.to_owned();
    // Copied, so the cache starts on an allocation's (aligned) boundary.
    Some((url, bytes.get(4 + len..)?.to_vec()))
}

/// The SourceMapCaches of the event's script frames, by `abs_path`: by the debug id the event's
/// `debug_meta` gives the script, else from the bundles of the event's release (and dist).
async fn load_scripts(deps: &Deps, project_id: u64, event: &Value) -> Result<HashMap<String, LoadedScript>, Error> {
    let mut found = HashMap::new();
    let platform = event.get("platform").and_then(Value::as_str);
    let mut paths: Vec<String> = Vec::new();
    for pointer in errata_domain::symbols::stacktraces(event) {
        let frames = event.pointer(&format!("{pointer}/frames")).and_then(Value::as_array);
        for frame in frames.into_iter().flatten() {
            if frame.get("symbolicator_status").is_some() || frame_kind(platform, frame) != Some(FrameKind::Script) {
                continue;
            }
            let path = script_path(frame).unwrap_or_default();
            // Node's own modules have no source maps.
            if !path.starts_with("node:") && !paths.iter().any(|p| p == path) {
                paths.push(path.to_owned());
            }
        }
    }
    if paths.is_empty() {
        return Ok(found);
    }
    let ids: HashMap<String, String> = sourcemap_images(event).into_iter().collect();
    let release = event.get("release").and_then(Value::as_str);
    let dist = event.get("dist").and_then(Value::as_str);
    let mut bundles = deps.directory.artifact_bundles(project_id).await?;
    bundles.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    let mut fetched: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    for path in paths {
        let debug_id = ids.get(&path);
        let candidates: Vec<&ArtifactBundle> = match (debug_id, release) {
            (Some(id), _) => bundles.iter().filter(|b| b.debug_ids.contains(id)).collect(),
            (None, Some(release)) => bundles.iter().filter(|b| b.serves_release(release, dist)).collect(),
            (None, None) => continue,
        };
        for bundle in candidates {
            let (how, name) = match debug_id {
                Some(id) => (js::Found::DebugId, id.clone()),
                None => (js::Found::Release, hex::encode(Sha1::digest(path.as_bytes()))),
            };
            let cache_key = format!("symcaches/{project_id}/sourcemaps/{}/{name}", bundle.id);
            if let Some((sourcemap_url, cache)) = deps.files.get(&cache_key).await?.as_deref().and_then(unpack) {
                found.insert(path.clone(), LoadedScript { cache, found: how, sourcemap_url });
                break;
            }
            let data = match fetched.get(&bundle.id) {
                Some(data) => data.clone(),
                None => {
                    let Some(data) = deps.files.get(&bundle.key).await? else { continue };
                    let data = Arc::new(data);
                    fetched.insert(bundle.id.clone(), data.clone());
                    data
                }
            };
            let (lookup_id, urls) = (debug_id.cloned(), url_candidates(&path));
            let built = blocking(move || {
                let script = match &lookup_id {
                    Some(id) => js::by_debug_id(&data, id)?,
                    None => js::by_url(&data, &urls)?,
                };
                script.map(|s| js::build_cache(&s).map(|cache| (s.sourcemap_url, cache))).transpose()
            })
            .await;
            match built {
                Ok(Some((sourcemap_url, cache))) => {
                    deps.files.put(&cache_key, pack(&sourcemap_url, &cache), "application/octet-stream").await?;
                    found.insert(path.clone(), LoadedScript { cache, found: how, sourcemap_url });
                    break;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(bundle = %bundle.id, path, error = %e, "unusable source map"),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
