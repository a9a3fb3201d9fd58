//! Sentry's ingest endpoints behind API Gateway: authenticate the DSN key, decode the body
//! with a cap on its decoded size, check the envelope's framing, queue it for the processor and
//! answer `{"id": "<event_id>"}`. Ingest reads no more of the event than it must.

// Rejections are whole HTTP responses; one is built per request, so their size is no concern.
#![allow(clippy::result_large_err)]

mod keys;
mod limits;
mod minidump;
mod ratelimit;
mod response;
mod security;

pub use keys::{KeyCache, KeyInfo};
pub use limits::{MAX_DECODED_BYTES, MAX_EVENT_BYTES};

use errata_domain::queue::INLINE_LIMIT;
use errata_domain::{QueuedEnvelope, QueuedPayload};
use errata_ports::{BlobStore, Directory, EnvelopeQueue, RateLimiter};
use errata_protocol::envelope::normalize_event_id;
use errata_protocol::{decode_body, DecodeError, Envelope, EnvelopeHeader, Item, ItemHeader, SentryAuth};
use errata_runtime::http::{self, Request, Response};
use errata_runtime::outcome::{self, Outcome};
use response::{ok_with_id, preflight, rate_limited, sentry_error};
use std::sync::Arc;
use time::OffsetDateTime;

pub struct Deps {
    pub directory: Arc<dyn Directory>,
    pub queue: Arc<dyn EnvelopeQueue>,
    /// Where claim-checked (large) envelopes go: a queue the processor takes one at a time,
    /// so they never share a batch, or its time, with other tenants' small envelopes.
    pub large_queue: Arc<dyn EnvelopeQueue>,
    pub raw: Arc<dyn BlobStore>,
    pub limiter: Arc<dyn RateLimiter>,
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
        "OPTIONS" => return preflight(),
        "POST" => {}
        _ => return sentry_error(405, "ingest endpoints accept POST only"),
    }
    let Ok(project_id) = project.parse::<u64>() else {
        return sentry_error(400, "the project id in the URL must be a number");
    };
    let started = std::time::Instant::now();
    let resp = match accept(deps, &req, project_id, endpoint).await {
        Ok(Accepted { event_id, limited }) if limited.is_empty() => ok_with_id(event_id.as_deref()),
        Ok(Accepted { limited, .. }) => rate_limited(&limited),
        Err(rejection) => {
            outcome::record(project_id, Outcome::Invalid, &rejection.reason, "envelope", 1);
            rejection.response
        }
    };
    // One access-log line per request (refusals also have their outcome line above).
    tracing::info!(project_id, endpoint = ?endpoint, status = resp.status_code, ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    resp
}

/// What a request that was not refused produced.
struct Accepted {
    event_id: Option<String>,
    /// The rate limits that removed items; when there are any, the response is a 429.
    limited: Vec<ratelimit::Limited>,
}

/// A refused request: the response, and the reason recorded as its outcome.
struct Rejection {
    response: Response,
    reason: String,
}

fn reject(status: u16, message: &str) -> Rejection {
    Rejection { response: sentry_error(status, message), reason: reason_code(status).to_owned() }
}

fn reason_code(status: u16) -> &'static str {
    match status {
        401 | 403 => "auth",
        413 => "too_large",
        415 => "encoding",
        503 => "internal",
        _ => "invalid_request",
    }
}

/// Accepts one request; the event id to answer with, or the refusal. The key is checked
/// before the body is decoded or parsed: a request without a known, enabled key of this
/// project costs a header read and, at most, one cached key lookup.
async fn accept(deps: &Deps, req: &Request, project_id: u64, endpoint: Endpoint) -> Result<Accepted, Rejection> {
    let header_auth = credentials(req).map_err(|e| reject(401, &e.to_string()))?;
    let read_body = || http::body_bytes(req).map_err(|_| reject(400, "the request body is not valid base64"));
    let encoding = http::header(req, "content-encoding");
    // The envelope's own DSN counts only when the request carried no credentials (tunnels);
    // it is read from the envelope's first line alone.
    let (auth, raw) = match header_auth {
        Some(a) => (a, None),
        None if endpoint == Endpoint::Envelope => (header_dsn(encoding, &body_prefix(req))?, None),
        None => return Err(reject(401, "missing authentication: send X-Sentry-Auth or ?sentry_key=")),
    };
    if !valid_key_shape(&auth.public_key) {
        return Err(reject(401, "invalid DSN key: expected up to 64 letters and digits"));
    }
    let info = deps.keys.get(deps.directory.as_ref(), &auth.public_key).await.map_err(|e| {
        tracing::error!(error = %e, "key lookup failed");
        reject(503, "temporarily unable to check the DSN key, retry later")
    })?;
    let Some(KeyInfo { key, project_quota, org_quota }) = info else { return Err(reject(401, "unknown DSN key")) };
    if key.project_id != project_id {
        return Err(reject(403, "the DSN key belongs to another project"));
    }
    if !key.enabled {
        return Err(reject(403, "the DSN key is disabled"));
    }

    let raw = match raw {
        Some(raw) => raw,
        None => read_body()?,
    };
    let body = decode_body(encoding, raw, MAX_DECODED_BYTES).map_err(|e| match e {
        DecodeError::TooLarge { .. } => reject(413, &e.to_string()),
        DecodeError::Unsupported(_) => reject(415, &e.to_string()),
        // A compressed body that reached us as text was decoded as UTF-8 on the way (API
        // Gateway treats some Content-Types, e.g. application/json, as text): the bytes are
        // gone. Say so, and what to send instead.
        DecodeError::Corrupt(_)
            if !req.is_base64_encoded && req.body.as_deref().is_some_and(|b| b.contains('\u{FFFD}')) =>
        {
            reject(
                400,
                "the compressed body arrived as text and was mangled in transit: send it with \
                 Content-Type application/x-sentry-envelope or application/octet-stream",
            )
        }
        DecodeError::Corrupt(_) => reject(400, &e.to_string()),
    })?;

    // Keep an envelope body as sent when it can be forwarded unchanged.
    let (mut envelope, mut original) = match endpoint {
        Endpoint::Envelope => {
            let envelope = Envelope::parse_limited(&body, limits::MAX_ITEMS).map_err(|e| match e {
                errata_protocol::EnvelopeError::TooManyItems(_) => reject(413, &e.to_string()),
                e => reject(400, &e.to_string()),
            })?;
            (envelope, Some(body))
        }
        Endpoint::Store => (store_to_envelope(body)?, None),
        Endpoint::Minidump => {
            let envelope = minidump::to_envelope(http::header(req, "content-type"), body)
                .await
                .map_err(|(status, message)| reject(status, &message))?;
            (envelope, None)
        }
        Endpoint::Security => {
            let query = req.raw_query_string.as_deref().unwrap_or_default();
            (security::to_envelope(body, query).map_err(|m| reject(400, &m))?, None)
        }
    };
    limits::check(&envelope).map_err(|m| reject(413, &m))?;

    // Item types Errata has no use for are accepted and counted, not forwarded.
    let before = envelope.items.len();
    envelope.items.retain(|i| i.header.category() != "unknown");
    if envelope.items.len() != before {
        outcome::record(
            project_id,
            Outcome::Ignored,
            "unknown_item_type",
            "unknown",
            (before - envelope.items.len()) as u64,
        );
        original = None;
    }

    let now = OffsetDateTime::now_utc();
    let quotas = ratelimit::Quotas { project: project_quota, org: org_quota.as_ref().map(|(o, q)| (o.as_str(), *q)) };
    let limited = ratelimit::apply(deps.limiter.as_ref(), &key, quotas, &mut envelope, now.unix_timestamp())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "rate limit check failed");
            reject(503, "temporarily unable to check rate limits, retry later")
        })?;
    for l in &limited {
        for (category, n) in &l.dropped {
            outcome::record(project_id, Outcome::RateLimited, l.reason, category, *n);
        }
        original = None;
    }

    // Give event envelopes an id now, so every retry of the processor sees the same one.
    let has_event = envelope.items.iter().any(|i| matches!(i.header.ty.as_str(), "event" | "security"));
    let mut event_id = envelope.event_id();
    if event_id.is_none() && has_event {
        event_id = Some(uuid_hex());
    }
    if envelope.items.is_empty() {
        return Ok(Accepted { event_id, limited });
    }
    let bytes = match original {
        Some(body) if envelope.header.event_id == event_id => body,
        _ => {
            envelope.header.event_id = event_id.clone();
            envelope.to_bytes()
        }
    };

    enqueue(deps, req, project_id, bytes, now).await?;
    for item in &envelope.items {
        outcome::record(project_id, Outcome::Accepted, "", item.header.category(), 1);
    }
    Ok(Accepted { event_id, limited })
}

/// Queues the envelope; only after this succeeded may the SDK hear 200.
async fn enqueue(
    deps: &Deps,
    req: &Request,
    project_id: u64,
    bytes: Vec<u8>,
    now: OffsetDateTime,
) -> Result<(), Rejection> {
    let received_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let payload = if bytes.len() <= INLINE_LIMIT {
        use base64::Engine;
        QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(&bytes))
    } else {
        let key = format!("envelopes/{project_id}/{received_ms}-{}", uuid_hex());
        deps.raw.put(&key, bytes, "application/x-sentry-envelope").await.map_err(|e| {
            tracing::error!(error = %e, "storing a large envelope failed");
            reject(503, "temporarily unable to store the envelope, retry later")
        })?;
        QueuedPayload::Stored(key)
    };
    let client_ip = req.request_context.http.source_ip.clone();
    let queue = match payload {
        QueuedPayload::Stored(_) => &deps.large_queue,
        QueuedPayload::Inline(_) => &deps.queue,
    };
    // Never a handback: everything in it came from a client.
    let message = QueuedEnvelope { project_id, received_ms, client_ip, payload, handback: false };
    queue.send(&message).await.map_err(|e| {
        tracing::error!(error = %e, "queueing the envelope failed");
        reject(503, "temporarily unable to queue the envelope, retry later")
    })
}

/// The longest envelope header line read for its `dsn` (decoded), before the key is known.
const MAX_HEADER_LINE: usize = 8 * 1024;

/// Enough of the request body to hold the envelope header line however it is encoded
/// (deflate never grows data by more than a few bytes per block): base64 is decoded only
/// this far while the key is unknown.
fn body_prefix(req: &Request) -> Vec<u8> {
    const RAW: usize = MAX_HEADER_LINE + 1024;
    let Some(body) = req.body.as_deref() else { return Vec::new() };
    if !req.is_base64_encoded {
        return body.as_bytes()[..body.len().min(RAW)].to_vec();
    }
    use base64::Engine;
    // A prefix cut inside a quad decodes as far as its last whole quad (base64 is ASCII).
    let end = body.len().min(RAW.div_ceil(3) * 4) / 4 * 4;
    let whole = body.get(..end).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.decode(whole.trim()).unwrap_or_default()
}

/// The DSN key of the envelope header's `dsn`: only the first line is decoded and read.
fn header_dsn(encoding: Option<&str>, raw: &[u8]) -> Result<SentryAuth, Rejection> {
    let prefix = errata_protocol::decode_prefix(encoding, raw, MAX_HEADER_LINE + 1).map_err(|e| match e {
        DecodeError::Unsupported(_) => reject(415, &e.to_string()),
        e => reject(400, &e.to_string()),
    })?;
    let line = match prefix.iter().position(|b| *b == b'\n') {
        Some(end) => &prefix[..end],
        None if prefix.len() > MAX_HEADER_LINE => {
            return Err(reject(400, "the envelope header line is longer than 8 KiB"));
        }
        None => &prefix[..],
    };
    let header: EnvelopeHeader = serde_json::from_slice(line).map_err(|_| {
        reject(401, "missing authentication: send X-Sentry-Auth, ?sentry_key= or a dsn in the envelope header")
    })?;
    match header.dsn.as_deref() {
        Some(dsn) => SentryAuth::from_dsn(dsn).map(|(auth, _)| auth).map_err(|e| reject(401, &e.to_string())),
        None => Err(reject(401, "missing authentication: send X-Sentry-Auth or ?sentry_key=")),
    }
}

/// A DSN public key as Errata and Sentry make them (32 hex digits), bounded generously: a
/// longer or odder "key" is refused without a lookup, and never enters the key cache.
fn valid_key_shape(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric())
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
fn store_to_envelope(body: Vec<u8>) -> Result<Envelope, Rejection> {
    let json = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => body,
        _ => legacy_store_body(&body)
            .ok_or_else(|| reject(400, "the store body is neither JSON nor base64-encoded zlib JSON"))?,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|e| reject(400, &format!("invalid event JSON: {e}")))?;
    if !value.is_object() {
        return Err(reject(400, "the event must be a JSON object"));
    }
    let event_id = value.get("event_id").and_then(|v| v.as_str()).map(|id| normalize_event_id(id).ok_or(id));
    let event_id = match event_id {
        Some(Ok(id)) => Some(id),
        Some(Err(bad)) => return Err(reject(400, &format!("invalid event id {bad:?}: expected 32 hex digits"))),
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
    decode_body(Some("deflate"), compressed, limits::MAX_EVENT_BYTES).ok()
}

fn uuid_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests;
