//! API Gateway HTTP API (payload format 2.0) helpers.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderName, HeaderValue};
use base64::Engine;
use serde::Serialize;

pub type Request = ApiGatewayV2httpRequest;
pub type Response = ApiGatewayV2httpResponse;

/// A request header, case-insensitively.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request body as bytes. API Gateway base64-encodes bodies it considers binary; the
/// flag, not the Content-Type label, says which.
pub fn body_bytes(req: &Request) -> Result<Vec<u8>, base64::DecodeError> {
    match &req.body {
        None => Ok(Vec::new()),
        Some(b) if req.is_base64_encoded => base64::engine::general_purpose::STANDARD.decode(b.trim()),
        Some(b) => Ok(b.as_bytes().to_vec()),
    }
}

/// The method, upper case.
pub fn method(req: &Request) -> String {
    req.request_context.http.method.as_str().to_ascii_uppercase()
}

/// The request path as the client sent it, without any stage prefix.
pub fn path(req: &Request) -> String {
    let raw = req.raw_path.clone().unwrap_or_default();
    match req.request_context.stage.as_deref() {
        Some(stage) if stage != "$default" => {
            let prefix = format!("/{stage}");
            match raw.strip_prefix(&prefix) {
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => raw,
            }
        }
        _ => raw,
    }
}

/// A response with a JSON body.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    response(status, HeaderValue::from_static("application/json"), Body::Text(body))
}

/// A response with a binary body (API Gateway decodes the base64).
pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let kind = HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    response(status, kind, Body::Binary(body))
}

fn response(status: u16, content_type: HeaderValue, body: Body) -> Response {
    let mut resp = Response::default();
    resp.status_code = i64::from(status);
    resp.headers.insert("content-type", content_type);
    resp.is_base64_encoded = matches!(body, Body::Binary(_));
    resp.body = Some(body);
    resp
}

/// An error in Sentry's API shape: `{"detail": "..."}`.
pub fn error(status: u16, detail: &str) -> Response {
    json(status, &serde_json::json!({ "detail": detail }))
}

/// Adds a header to a response (ignores invalid values rather than failing the response).
pub fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers.insert(HeaderName::from_static(name), v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_named_stage_only() {
        let mut req = Request::default();
        req.raw_path = Some("/local/api/1/envelope/".into());
        req.request_context.stage = Some("local".into());
        assert_eq!(path(&req), "/api/1/envelope/");
        req.request_context.stage = Some("$default".into());
        assert_eq!(path(&req), "/local/api/1/envelope/");
    }

    #[test]
    fn decodes_base64_bodies() {
        let mut req = Request::default();
        req.body = Some("aGVsbG8=".into());
        req.is_base64_encoded = true;
        assert_eq!(body_bytes(&req).unwrap(), b"hello");
        req.is_base64_encoded = false;
        assert_eq!(body_bytes(&req).unwrap(), b"aGVsbG8=");
    }
}
