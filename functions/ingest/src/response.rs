//! Ingest responses as SDKs expect them, with the CORS headers browsers need.

use errata_runtime::http::{self, Response};

const ALLOW_HEADERS: &str = "x-sentry-auth, x-requested-with, origin, accept, content-type, \
    content-encoding, authentication, authorization, sentry-trace, baggage";
const EXPOSE_HEADERS: &str = "x-sentry-error, x-sentry-rate-limits, retry-after";

fn cors(resp: Response) -> Response {
    let resp = http::with_header(resp, "access-control-allow-origin", "*");
    http::with_header(resp, "access-control-expose-headers", EXPOSE_HEADERS)
}

/// `{"id": "<event_id>"}`, or `{}` for envelopes without an event.
pub fn ok_with_id(id: Option<&str>) -> Response {
    let body = match id {
        Some(id) => serde_json::json!({ "id": id }),
        None => serde_json::json!({}),
    };
    cors(http::json(200, &body))
}

/// An error with Sentry's `X-Sentry-Error` header and `{"detail": ...}` body.
pub fn sentry_error(status: u16, detail: &str) -> Response {
    cors(http::with_header(http::error(status, detail), "x-sentry-error", detail))
}

pub fn cors_preflight() -> Response {
    let resp = cors(http::json(200, &serde_json::json!({})));
    let resp = http::with_header(resp, "access-control-allow-methods", "GET, POST, OPTIONS");
    let resp = http::with_header(resp, "access-control-allow-headers", ALLOW_HEADERS);
    http::with_header(resp, "access-control-max-age", "3600")
}

/// 429 with `Retry-After` and `X-Sentry-Rate-Limits`, as Relay answers a limited envelope.
pub fn rate_limited(limited: &crate::ratelimit::Limited) -> Response {
    let detail = format!("{} rate limit exceeded; retry in {}s", limited.scope, limited.retry_after);
    let resp = sentry_error(429, &detail);
    let resp = http::with_header(resp, "retry-after", &limited.retry_after.to_string());
    http::with_header(resp, "x-sentry-rate-limits", &limited.header())
}
