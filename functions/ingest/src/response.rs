//! Ingest responses as SDKs expect them. CORS is API Gateway's job: the HTTP API's CORS
//! configuration answers preflights and adds the headers to every response (and AWS ignores
//! CORS headers an integration sets when the API has one), so ingest sets none itself — a second
//! `Access-Control-Allow-Origin` makes browsers refuse the answer.

use errata_runtime::http::{self, Response};

/// `{"id": "<event_id>"}`, or `{}` for envelopes without an event.
pub fn ok_with_id(id: Option<&str>) -> Response {
    let body = match id {
        Some(id) => serde_json::json!({ "id": id }),
        None => serde_json::json!({}),
    };
    http::json(200, &body)
}

/// An error with Sentry's `X-Sentry-Error` header and `{"detail": ...}` body.
pub fn sentry_error(status: u16, detail: &str) -> Response {
    http::with_header(http::error(status, detail), "x-sentry-error", detail)
}

/// The answer to a preflight that reaches the function (it does not behind API Gateway).
pub fn preflight() -> Response {
    http::json(200, &serde_json::json!({}))
}

/// 429 with `Retry-After` and `X-Sentry-Rate-Limits` (one entry per limit hit), as Relay
/// answers a limited envelope.
pub fn rate_limited(limited: &[crate::ratelimit::Limited]) -> Response {
    let retry_after = limited.iter().map(|l| l.retry_after).max().unwrap_or(1);
    let scopes: Vec<&str> = limited.iter().map(|l| l.scope).collect();
    let detail = format!("{} rate limit exceeded; retry in {retry_after}s", scopes.join(" and "));
    let resp = sentry_error(429, &detail);
    let resp = http::with_header(resp, "retry-after", &retry_after.to_string());
    let header: Vec<String> = limited.iter().map(|l| l.header()).collect();
    http::with_header(resp, "x-sentry-rate-limits", &header.join(", "))
}
