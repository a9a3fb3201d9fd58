//! Sentry's ingest endpoints behind API Gateway: authenticate the DSN key, decode the body
//! with a cap on its decoded size, check the envelope's framing, queue it for the processor and
//! answer `{"id": "<event_id>"}`. Ingest reads no more of the event than it must.

// Rejections are whole HTTP responses; one is built per request, so their size is no concern.
#![allow(clippy::result_large_err)]

mod keys;
mod response;

pub use keys::KeyCache;

use errata_domain::queue::INLINE_LIMIT;
use errata_domain::{QueuedEnvelope, QueuedPayload};
use errata_ports::{BlobStore, Directory, EnvelopeQueue};
use errata_protocol::envelope::normalize_event_id;
use errata_protocol::{decode_body, DecodeError, Envelope, EnvelopeHeader, Item, ItemHeader, SentryAuth};
use errata_runtime::http::{self, Request, Response};
use response::{cors_preflight, ok_with_id, sentry_error};
use std::sync::Arc;
use time::OffsetDateTime;

/// Largest decoded envelope accepted. API Gateway and Lambda cap the *encoded* request lower
/// (10 MB / 6 MB); this bounds what a compressed body may inflate to.
pub const MAX_ENVELOPE_BYTES: usize = 20 * 1024 * 1024;
/// Largest decoded event (Sentry's limit).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    pub queue: Arc<dyn EnvelopeQueue>,
    pub raw: Arc<dyn BlobStore>,
    pub keys: KeyCache,
}

/// The ingest endpoints under `/api/{project_id}/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Envelope,
    Store,
    Minidump,
    Security,
}

fn route(path: &str) -> Option<(String, Endpoint)> {
    let rest = path.strip_prefix("/api/")?;
    let mut parts = rest.trim_end_matches('/').splitn(2, '/');
    let project = parts.next()?.to_owned();
    let endpoint = match parts.next()? {
        "envelope" => Endpoint::Envelope,
        "store" => Endpoint::Store,
        "minidump" => Endpoint::Minidump,
        "security" => Endpoint::Security,
        _ => return None,
    };
    Some((project, endpoint))
}

pub async fn handle(deps: &Deps, req: Request) -> Response {
    let path = http::path(&req);
    let Some((project, endpoint)) = route(&path) else {
        return sentry_error(404, "no such ingest endpoint");
    };
    match http::method(&req).as_str() {
        "OPTIONS" => return cors_preflight(),
        "POST" => {}
        _ => return sentry_error(405, "ingest endpoints accept POST only"),
    }
    let Ok(project_id) = project.parse::<u64>() else {
        return sentry_error(400, "the project id in the URL must be a number");
    };
    match endpoint {
        Endpoint::Envelope | Endpoint::Store => {}
        Endpoint::Minidump => return sentry_error(501, "minidump uploads are not supported yet"),
        Endpoint::Security => return sentry_error(501, "security reports are not supported yet"),
    }
    match accept(deps, &req, project_id, endpoint).await {
        Ok(id) => ok_with_id(id.as_deref()),
        Err(rejection) => rejection,
    }
}

/// Accepts one request; returns the event id to answer with, or the error response.
async fn accept(deps: &Deps, req: &Request, project_id: u64, endpoint: Endpoint) -> Result<Option<String>, Response> {
    let header_auth = credentials(req).map_err(|e| sentry_error(401, &e.to_string()))?;
    let raw = http::body_bytes(req).map_err(|_| sentry_error(400, "the request body is not valid base64"))?;
    let encoding = http::header(req, "content-encoding");
    let body = decode_body(encoding, raw, MAX_ENVELOPE_BYTES).map_err(|e| match e {
        DecodeError::TooLarge { .. } => sentry_error(413, &e.to_string()),
        DecodeError::Unsupported(_) => sentry_error(415, &e.to_string()),
        DecodeError::Corrupt(_) => sentry_error(400, &e.to_string()),
    })?;

    // Keep the body as sent when it can be forwarded unchanged.
    let (mut envelope, original) = match endpoint {
        Endpoint::Envelope => (Envelope::parse(&body).map_err(|e| sentry_error(400, &e.to_string()))?, Some(body)),
        _ => (store_to_envelope(body)?, None),
    };

    // The envelope's own DSN counts only when the request carried no credentials (tunnels).
    let auth = match header_auth {
        Some(a) => a,
        None => match envelope.header.dsn.as_deref() {
            Some(dsn) => SentryAuth::from_dsn(dsn).map_err(|e| sentry_error(401, &e.to_string()))?.0,
            None => return Err(sentry_error(401, "missing authentication: send X-Sentry-Auth or ?sentry_key=")),
        },
    };
    let key = deps.keys.get(deps.directory.as_ref(), &auth.public_key).await.map_err(|e| {
        tracing::error!(error = %e, "key lookup failed");
        sentry_error(503, "temporarily unable to check the DSN key, retry later")
    })?;
    let Some(key) = key else { return Err(sentry_error(401, "unknown DSN key")) };
    if key.project_id != project_id {
        return Err(sentry_error(403, "the DSN key belongs to another project"));
    }
    if !key.enabled {
        return Err(sentry_error(403, "the DSN key is disabled"));
    }

    for item in &envelope.items {
        if matches!(item.header.ty.as_str(), "event" | "transaction") && item.payload.len() > MAX_EVENT_BYTES {
            return Err(sentry_error(
                413,
                &format!("the {} item is larger than {MAX_EVENT_BYTES} bytes", item.header.ty),
            ));
        }
    }

    // Give event envelopes an id now, so every retry of the processor sees the same one.
    let has_event = envelope.items.iter().any(|i| i.header.ty == "event");
    let mut event_id = envelope.event_id();
    if event_id.is_none() && has_event {
        event_id = Some(uuid_hex());
    }
    if envelope.items.is_empty() {
        return Ok(event_id);
    }
    let bytes = match original {
        Some(body) if envelope.header.event_id == event_id => body,
        _ => {
            envelope.header.event_id = event_id.clone();
            envelope.to_bytes()
        }
    };

    enqueue(deps, req, project_id, bytes).await?;
    Ok(event_id)
}

async fn enqueue(deps: &Deps, req: &Request, project_id: u64, bytes: Vec<u8>) -> Result<(), Response> {
    let received_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let payload = if bytes.len() <= INLINE_LIMIT {
        use base64::Engine;
        QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(&bytes))
    } else {
        let key = format!("envelopes/{project_id}/{received_ms}-{}", uuid_hex());
        deps.raw.put(&key, bytes, "application/x-sentry-envelope").await.map_err(|e| {
            tracing::error!(error = %e, "storing a large envelope failed");
            sentry_error(503, "temporarily unable to store the envelope, retry later")
        })?;
        QueuedPayload::Stored(key)
    };
    let message =
        QueuedEnvelope { project_id, received_ms, client_ip: req.request_context.http.source_ip.clone(), payload };
    deps.queue.send(&message).await.map_err(|e| {
        tracing::error!(error = %e, "queueing the envelope failed");
        sentry_error(503, "temporarily unable to queue the envelope, retry later")
    })
}

/// Credentials from the headers or the query string, in Sentry's order of precedence.
fn credentials(req: &Request) -> Result<Option<SentryAuth>, errata_protocol::AuthError> {
    if let Some(h) = http::header(req, "x-sentry-auth") {
        return SentryAuth::from_header(h).map(Some);
    }
    if let Some(h) =
        http::header(req, "authorization").filter(|h| h.trim_start().to_ascii_lowercase().starts_with("sentry"))
    {
        return SentryAuth::from_header(h).map(Some);
    }
    Ok(req.raw_query_string.as_deref().and_then(SentryAuth::from_query))
}

/// `/store/` takes a bare JSON event; old SDKs send it base64-encoded and zlib-compressed.
fn store_to_envelope(body: Vec<u8>) -> Result<Envelope, Response> {
    let json = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => body,
        _ => legacy_store_body(&body)
            .ok_or_else(|| sentry_error(400, "the store body is neither JSON nor base64-encoded zlib JSON"))?,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|e| sentry_error(400, &format!("invalid event JSON: {e}")))?;
    if !value.is_object() {
        return Err(sentry_error(400, "the event must be a JSON object"));
    }
    let event_id = value.get("event_id").and_then(|v| v.as_str()).map(|id| normalize_event_id(id).ok_or(id));
    let event_id = match event_id {
        Some(Ok(id)) => Some(id),
        Some(Err(bad)) => return Err(sentry_error(400, &format!("invalid event id {bad:?}: expected 32 hex digits"))),
        None => None,
    };
    Ok(Envelope {
        header: EnvelopeHeader { event_id, ..Default::default() },
        items: vec![Item { header: ItemHeader { ty: "event".into(), ..Default::default() }, payload: json }],
    })
}

fn legacy_store_body(body: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let compressed = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    decode_body(Some("deflate"), compressed, MAX_EVENT_BYTES).ok()
}

fn uuid_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests;
