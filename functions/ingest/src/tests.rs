//! Handler tests with in-memory ports.

use super::*;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use errata_domain::{Project, ProjectKey, RateLimit};
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryQueue, MemoryRateLimiter};
use std::io::Write;

const KEY: &str = "0123456789abcdef0123456789abcdef";

struct World {
    deps: Deps,
    queue: Arc<MemoryQueue>,
    large: Arc<MemoryQueue>,
    raw: Arc<MemoryBlobs>,
}

async fn world() -> World {
    let directory = Arc::new(MemoryDirectory::default());
    directory
        .put_project_key(&ProjectKey {
            public_key: KEY.into(),
            project_id: 7,
            label: "Default".into(),
            enabled: true,
            rate_limit: None,
            created_at: 0,
        })
        .await
        .unwrap();
    directory
        .put_project_key(&ProjectKey {
            public_key: "disabledkey".into(),
            project_id: 7,
            label: "Off".into(),
            enabled: false,
            rate_limit: None,
            created_at: 0,
        })
        .await
        .unwrap();
    let queue = Arc::new(MemoryQueue::default());
    let large = Arc::new(MemoryQueue::default());
    let raw = Arc::new(MemoryBlobs::default());
    World {
        deps: Deps {
            directory,
            queue: queue.clone(),
            large_queue: large.clone(),
            raw: raw.clone(),
            limiter: Arc::new(MemoryRateLimiter::default()),
            keys: KeyCache::default(),
        },
        queue,
        large,
        raw,
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    let mut req = Request::default();
    req.raw_path = Some(path.into());
    req.request_context.http.method = Method::from_bytes(method.as_bytes()).unwrap();
    req.request_context.http.source_ip = Some("203.0.113.9".into());
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            aws_lambda_events::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    req.headers = map;
    use base64::Engine;
    req.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
    req.is_base64_encoded = true;
    req
}

fn auth() -> String {
    format!("Sentry sentry_key={KEY}, sentry_version=7, sentry_client=sentry.python/2.75.0")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn body_json(resp: &Response) -> serde_json::Value {
    match &resp.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("unexpected body {other:?}"),
    }
}

fn sentry_error_header(resp: &Response) -> String {
    resp.headers.get("x-sentry-error").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

const ENVELOPE: &[u8] =
    b"{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\",\"sent_at\":\"2026-11-25T20:00:00Z\"}\n\
{\"type\":\"event\",\"length\":41}\n{\"message\":\"hello\",\"level\":\"error\",\"x\":1}\n";

#[tokio::test]
async fn accepts_a_gzipped_envelope_and_queues_it() {
    let w = world().await;
    let req = request(
        "POST",
        "/api/7/envelope/",
        &[("x-sentry-auth", &auth()), ("content-encoding", "gzip")],
        &gzip(ENVELOPE),
    );
    let resp = handle(&w.deps, req).await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    assert_eq!(body_json(&resp)["id"], "9ec79c33ec9942ab8353589fcb2e04dc");
    let sent = w.queue.messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].project_id, 7);
    assert_eq!(sent[0].client_ip.as_deref(), Some("203.0.113.9"));
    let QueuedPayload::Inline(b64) = &sent[0].payload else { panic!("expected inline payload") };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    assert_eq!(bytes, ENVELOPE, "an unchanged envelope is forwarded byte for byte");
}

#[tokio::test]
async fn key_in_query_string_and_named_stage_prefix() {
    let w = world().await;
    let mut req = request("POST", "/local/api/7/envelope/", &[], ENVELOPE);
    req.request_context.stage = Some("local".into());
    req.raw_query_string = Some(format!("sentry_key={KEY}&sentry_version=7"));
    let resp = handle(&w.deps, req).await;
    assert_eq!(resp.status_code, 200);
}

#[tokio::test]
async fn dsn_in_envelope_header_authenticates_tunnelled_envelopes() {
    let w = world().await;
    let env =
        format!("{{\"dsn\":\"https://{KEY}@errata.example/7\"}}\n{{\"type\":\"event\"}}\n{{\"message\":\"m\"}}\n");
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[], env.as_bytes())).await;
    assert_eq!(resp.status_code, 200);
    // Ingest assigned an id, and the queued envelope carries it.
    let id = body_json(&resp)["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    let QueuedPayload::Inline(b64) = &w.queue.messages()[0].payload else { panic!() };
    use base64::Engine;
    let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(queued.header.event_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn rejects_bad_credentials_with_reasons() {
    let w = world().await;
    // (headers, path, expected status, words of the X-Sentry-Error reason)
    type Case<'a> = (Vec<(&'a str, String)>, &'a str, u16, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], "/api/7/envelope/", 401, "missing authentication"),
        (vec![("x-sentry-auth", "Sentry sentry_key=nope".into())], "/api/7/envelope/", 401, "unknown DSN key"),
        (vec![("x-sentry-auth", auth())], "/api/8/envelope/", 403, "another project"),
        (vec![("x-sentry-auth", "Sentry sentry_key=disabledkey".into())], "/api/7/envelope/", 403, "disabled"),
        (vec![("x-sentry-auth", "Bearer x".into())], "/api/7/envelope/", 401, "malformed"),
    ];
    for (headers, path, status, reason) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = handle(&w.deps, request("POST", path, &headers, ENVELOPE)).await;
        assert_eq!(resp.status_code, i64::from(status), "{path} {headers:?}");
        assert!(sentry_error_header(&resp).contains(reason), "{:?} lacks {reason}", sentry_error_header(&resp));
    }
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn rejects_bad_bodies() {
    let w = world().await;
    let a = auth();
    let bomb = gzip(&vec![b' '; 30 * 1024 * 1024]);
    let big_event = format!("{{}}\n{{\"type\":\"event\"}}\n{{\"message\":\"{}\"}}\n", "x".repeat(MAX_EVENT_BYTES));
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (vec![("x-sentry-auth", &a)], b"not an envelope".to_vec(), 400),
        (vec![("x-sentry-auth", &a), ("content-encoding", "gzip")], b"not gzip".to_vec(), 400),
        (vec![("x-sentry-auth", &a), ("content-encoding", "lzma")], ENVELOPE.to_vec(), 415),
        (vec![("x-sentry-auth", &a), ("content-encoding", "gzip")], bomb, 413),
        (vec![("x-sentry-auth", &a)], big_event.into_bytes(), 413),
    ];
    for (headers, body, status) in cases {
        let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &headers, &body)).await;
        assert_eq!(resp.status_code, i64::from(status), "{headers:?}: {}", sentry_error_header(&resp));
        assert!(!sentry_error_header(&resp).is_empty());
    }
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn store_endpoint_takes_plain_and_legacy_bodies() {
    let w = world().await;
    let plain = br#"{"event_id":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","message":"legacy"}"#;
    let resp = handle(&w.deps, request("POST", "/api/7/store/", &[("x-sentry-auth", &auth())], plain)).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(body_json(&resp)["id"], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");

    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(br#"{"message":"old sdk"}"#).unwrap();
    use base64::Engine;
    let legacy = base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap());
    let resp =
        handle(&w.deps, request("POST", "/api/7/store/", &[("x-sentry-auth", &auth())], legacy.as_bytes())).await;
    assert_eq!(resp.status_code, 200, "{}", sentry_error_header(&resp));
    assert_eq!(w.queue.messages().len(), 2);
}

#[tokio::test]
async fn large_envelopes_go_to_the_raw_bucket() {
    let w = world().await;
    let attachment = vec![b'a'; INLINE_LIMIT + 10];
    let mut env = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n".to_vec();
    env.extend(format!("{{\"type\":\"attachment\",\"length\":{}}}\n", attachment.len()).as_bytes());
    env.extend(&attachment);
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], &env)).await;
    assert_eq!(resp.status_code, 200);
    // On the queue of large envelopes, which the processor takes one at a time.
    assert!(w.queue.messages().is_empty());
    let QueuedPayload::Stored(key) = &w.large.messages()[0].payload else { panic!("expected a claim check") };
    assert_eq!(w.raw.get(key).await.unwrap().unwrap(), env);
}

#[tokio::test]
async fn preflight_and_unknown_routes() {
    let w = world().await;
    let resp = handle(&w.deps, request("OPTIONS", "/api/7/envelope/", &[], b"")).await;
    assert_eq!(resp.status_code, 200);
    // CORS headers come from API Gateway's CORS configuration only (see response.rs).
    assert!(resp.headers.get("access-control-allow-origin").is_none());
    let ok = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], ENVELOPE)).await;
    assert!(ok.headers.get("access-control-allow-origin").is_none());
    assert_eq!(handle(&w.deps, request("POST", "/api/7/nothing/", &[], b"")).await.status_code, 404);
    assert_eq!(handle(&w.deps, request("GET", "/api/7/envelope/", &[], b"")).await.status_code, 405);
    assert_eq!(handle(&w.deps, request("POST", "/api/x/envelope/", &[], b"")).await.status_code, 400);
}

#[tokio::test]
async fn queue_failure_is_a_503_so_the_sdk_retries() {
    let w = world().await;
    *w.queue.fail.lock().unwrap() = true;
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], ENVELOPE)).await;
    assert_eq!(resp.status_code, 503);
}

async fn limited_world(key_limit: Option<RateLimit>, quota: Option<RateLimit>) -> World {
    let w = world().await;
    w.deps
        .directory
        .put_project(&Project {
            id: 7,
            org: "o".into(),
            slug: "p".into(),
            name: "p".into(),
            platform: None,
            quota,
            settings: Default::default(),
        })
        .await
        .unwrap();
    w.deps
        .directory
        .put_project_key(&ProjectKey {
            public_key: "limitedkey".into(),
            project_id: 7,
            label: "L".into(),
            enabled: true,
            rate_limit: key_limit,
            created_at: 0,
        })
        .await
        .unwrap();
    w
}

fn event_envelope(n: usize) -> Vec<u8> {
    format!("{{\"event_id\":\"{n:032x}\"}}\n{{\"type\":\"event\"}}\n{{\"message\":\"m{n}\"}}\n{{\"type\":\"attachment\",\"length\":3}}\nabc\n{{\"type\":\"client_report\"}}\n{{\"discarded_events\":[]}}\n").into_bytes()
}

#[tokio::test]
async fn key_rate_limit_answers_429_with_sentry_headers_and_keeps_client_reports() {
    let w = limited_world(Some(RateLimit { count: 2, window_secs: 60 }), None).await;
    let auth = [("x-sentry-auth", "Sentry sentry_key=limitedkey")];
    for n in 0..2 {
        let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &auth, &event_envelope(n))).await;
        assert_eq!(resp.status_code, 200);
    }
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &auth, &event_envelope(2))).await;
    assert_eq!(resp.status_code, 429);
    let retry_after: u64 = resp.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(
        resp.headers["x-sentry-rate-limits"].to_str().unwrap(),
        format!("{retry_after}:error;transaction;security;default:key:key_quota")
    );
    // The client report still reached the queue; the event and its attachment did not.
    let sent = w.queue.messages();
    assert_eq!(sent.len(), 3);
    let QueuedPayload::Inline(b64) = &sent[2].payload else { panic!() };
    use base64::Engine;
    let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    let types: Vec<&str> = queued.items.iter().map(|i| i.header.ty.as_str()).collect();
    assert_eq!(types, ["client_report"]);
    // Sessions count against counters of their own: the events' spent limit does not refuse them.
    let sessions = b"{}\n{\"type\":\"session\"}\n{\"sid\":\"x\",\"status\":\"ok\"}\n";
    assert_eq!(handle(&w.deps, request("POST", "/api/7/envelope/", &auth, sessions)).await.status_code, 200);
}

#[tokio::test]
async fn project_quota_applies_across_keys() {
    let w = limited_world(None, Some(RateLimit { count: 1, window_secs: 3600 })).await;
    let first =
        handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], &event_envelope(1))).await;
    assert_eq!(first.status_code, 200);
    let auth2 = [("x-sentry-auth", "Sentry sentry_key=limitedkey")];
    let second = handle(&w.deps, request("POST", "/api/7/envelope/", &auth2, &event_envelope(2))).await;
    assert_eq!(second.status_code, 429);
    assert!(second.headers["x-sentry-rate-limits"].to_str().unwrap().ends_with(":project:project_quota"));
}

#[tokio::test]
async fn brotli_and_zstd_bodies() {
    let w = world().await;
    // "{}\n{"type":"event"}\n{"message":"compressed"}\n" compressed by the brotli and zstd tools.
    let plain = b"{}\n{\"type\":\"event\"}\n{\"message\":\"compressed\"}\n";
    for (encoding, body) in [
        ("br", errata_testkit::fixture("encodings/envelope.br")),
        ("zstd", errata_testkit::fixture("encodings/envelope.zst")),
    ] {
        let resp = handle(
            &w.deps,
            request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth()), ("content-encoding", encoding)], &body),
        )
        .await;
        assert_eq!(resp.status_code, 200, "{encoding}: {}", sentry_error_header(&resp));
    }
    for msg in w.queue.messages() {
        let QueuedPayload::Inline(b64) = &msg.payload else { panic!() };
        use base64::Engine;
        let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
        assert_eq!(queued.items[0].payload, Envelope::parse(plain).unwrap().items[0].payload);
    }
}

#[tokio::test]
async fn unknown_item_types_are_accepted_and_not_forwarded() {
    let w = world().await;
    let env = b"{}\n{\"type\":\"hologram\"}\n{}\n{\"type\":\"event\"}\n{\"message\":\"x\"}\n";
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], env)).await;
    assert_eq!(resp.status_code, 200);
    let QueuedPayload::Inline(b64) = &w.queue.messages()[0].payload else { panic!() };
    use base64::Engine;
    let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(queued.items.len(), 1);
    assert_eq!(queued.items[0].header.ty, "event");
    // Only unknown items: accepted, nothing queued.
    let only = b"{}\n{\"type\":\"hologram\"}\n{}\n";
    assert_eq!(
        handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], only)).await.status_code,
        200
    );
    assert_eq!(w.queue.messages().len(), 1);
}

#[tokio::test]
async fn minidump_upload_becomes_an_envelope() {
    let w = world().await;
    let body = b"--B\r\nContent-Disposition: form-data; name=\"sentry[release]\"\r\n\r\nnative@2\r\n\
--B\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"c.dmp\"\r\n\r\nMDMP\x93\xa7rest\r\n--B--\r\n";
    let mut req = request("POST", "/api/7/minidump/", &[("content-type", "multipart/form-data; boundary=B")], body);
    req.raw_query_string = Some(format!("sentry_key={KEY}"));
    let resp = handle(&w.deps, req).await;
    assert_eq!(resp.status_code, 200, "{}", sentry_error_header(&resp));
    let id = body_json(&resp)["id"].as_str().unwrap().to_owned();
    let QueuedPayload::Inline(b64) = &w.queue.messages()[0].payload else { panic!() };
    use base64::Engine;
    let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(queued.header.event_id.as_deref(), Some(id.as_str()));
    assert_eq!(queued.items[1].header.other["attachment_type"], "event.minidump");

    let mut bad =
        request("POST", "/api/7/minidump/", &[("content-type", "multipart/form-data; boundary=B")], b"--B--\r\n");
    bad.raw_query_string = Some(format!("sentry_key={KEY}"));
    assert_eq!(handle(&w.deps, bad).await.status_code, 400);
}

#[tokio::test]
async fn security_reports_are_queued_with_release_and_environment() {
    let w = world().await;
    let report = br#"{"csp-report":{"document-uri":"https://example.com/","blocked-uri":"https://evil.test/x.js","effective-directive":"script-src-elem"}}"#;
    let mut req = request("POST", "/api/7/security/", &[("content-type", "application/csp-report")], report);
    req.raw_query_string = Some(format!("sentry_key={KEY}&sentry_release=web%401.2&sentry_environment=prod"));
    let resp = handle(&w.deps, req).await;
    assert_eq!(resp.status_code, 200, "{}", sentry_error_header(&resp));
    let QueuedPayload::Inline(b64) = &w.queue.messages()[0].payload else { panic!() };
    use base64::Engine;
    let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert_eq!(queued.items[0].header.ty, "security");
    assert_eq!(queued.items[0].header.other["release"], "web@1.2");
    assert_eq!(queued.items[0].header.other["environment"], "prod");
    let mut bad = request("POST", "/api/7/security/", &[], b"not json");
    bad.raw_query_string = Some(format!("sentry_key={KEY}"));
    assert_eq!(handle(&w.deps, bad).await.status_code, 400);
}

#[tokio::test]
async fn per_item_limits() {
    let w = world().await;
    let big_check_in = format!("{{}}\n{{\"type\":\"check_in\"}}\n{{\"x\":\"{}\"}}\n", "y".repeat(200 * 1024));
    let resp =
        handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], big_check_in.as_bytes()))
            .await;
    assert_eq!(resp.status_code, 413);
    assert!(sentry_error_header(&resp).contains("check_in"));
}

/// Every request a real SDK sent (tests/fixtures/sdk, recorded by tests/fixtures/capture.sh)
/// is accepted, answered with its event id, and queued with all its items.
#[tokio::test]
async fn accepts_every_recorded_sdk_request() {
    let w = world().await;
    let files = errata_testkit::fixture_files("sdk", ".json");
    let mut categories = std::collections::BTreeSet::new();
    for meta_path in &files {
        let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(meta_path).unwrap()).unwrap();
        let body = std::fs::read(meta_path.with_extension("body")).unwrap();
        let (path, query) = match meta["path"].as_str().unwrap().split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (meta["path"].as_str().unwrap().to_owned(), String::new()),
        };
        let headers: Vec<(String, String)> = meta["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "host" | "content-length" | "transfer-encoding" | "connection"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut req = request("POST", &path, &header_refs, &body);
        req.raw_query_string = Some(query);
        let before = w.queue.messages().len();
        let resp = handle(&w.deps, req).await;
        assert_eq!(resp.status_code, 200, "{}: {}", meta_path.display(), sentry_error_header(&resp));
        let sent = w.queue.messages();
        assert_eq!(sent.len(), before + 1, "{} was queued", meta_path.display());
        let QueuedPayload::Inline(b64) = &sent[before].payload else { panic!() };
        use base64::Engine;
        let queued = Envelope::parse(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
        if let Some(id) = body_json(&resp)["id"].as_str() {
            assert_eq!(queued.event_id().as_deref(), Some(id), "{}", meta_path.display());
        }
        for item in &queued.items {
            assert_ne!(item.header.category(), "unknown", "{}: {}", meta_path.display(), item.header.ty);
            categories.insert(item.header.category());
        }
    }
    for expected in ["error", "attachment", "transaction", "session", "monitor", "feedback"] {
        assert!(categories.contains(expected), "the corpus covers {expected}: {categories:?}");
    }
}

/// Hostile inputs: each is refused with a 4xx and a reason, and nothing is queued.
#[tokio::test]
async fn hostile_envelopes_are_refused_cleanly() {
    let w = world().await;
    let deep = format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let huge_header = format!("{{\"x\":\"{}\"}}\n", "a".repeat(21 * 1024 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("deeply nested header", deep.into_bytes(), 400),
        ("header over the decoded limit", huge_header.into_bytes(), 413),
        ("invalid UTF-8 header", b"{\"event_id\":\"\xff\xfe\"}\n".to_vec(), 400),
        ("length past the end", b"{}\n{\"type\":\"event\",\"length\":1000000}\n{}".to_vec(), 400),
        ("negative length", b"{}\n{\"type\":\"event\",\"length\":-1}\n{}".to_vec(), 400),
        ("header not an object", b"[1,2]\n".to_vec(), 400),
        ("huge number length", b"{}\n{\"type\":\"event\",\"length\":1e400}\n{}".to_vec(), 400),
    ];
    for (what, body, status) in cases {
        let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], &body)).await;
        assert_eq!(resp.status_code, i64::from(status), "{what}: {}", sentry_error_header(&resp));
        assert!(!sentry_error_header(&resp).is_empty(), "{what} says why");
    }
    assert!(w.queue.messages().is_empty());
}

#[tokio::test]
async fn a_compressed_body_mangled_into_text_is_explained() {
    let w = world().await;
    let mut req = request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth()), ("content-encoding", "gzip")], b"");
    // What an emulated API Gateway hands over for gzip bytes labelled application/json.
    req.body = Some(String::from_utf8_lossy(&gzip(ENVELOPE)).into_owned());
    req.is_base64_encoded = false;
    let resp = handle(&w.deps, req).await;
    assert_eq!(resp.status_code, 400);
    assert!(sentry_error_header(&resp).contains("mangled in transit"), "{}", sentry_error_header(&resp));
    // The same bytes delivered intact as text-labelled but undamaged (e.g. plain JSON) still work.
    let mut plain = request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth())], b"");
    plain.body = Some(String::from_utf8(ENVELOPE.to_vec()).unwrap());
    plain.is_base64_encoded = false;
    assert_eq!(handle(&w.deps, plain).await.status_code, 200);
}

/// Nothing is inflated or parsed before the key is known: a bomb without a valid key is a
/// 401 (not the 413 that inflating it would find), whatever its encoding.
#[tokio::test]
async fn the_key_is_checked_before_the_body_is_decoded_or_parsed() {
    let w = world().await;
    let bomb = gzip(&vec![b'x'; 30 * 1024 * 1024]);
    let unknown = "Sentry sentry_key=ffffffffffffffffffffffffffffffff, sentry_version=7";
    let path = "/api/7/envelope/";
    let resp =
        handle(&w.deps, request("POST", path, &[("x-sentry-auth", unknown), ("content-encoding", "gzip")], &bomb))
            .await;
    assert_eq!(resp.status_code, 401, "{}", sentry_error_header(&resp));
    // Without credentials, only the first 8 KiB are inflated, looking for the header's DSN.
    let resp = handle(&w.deps, request("POST", path, &[("content-encoding", "gzip")], &bomb)).await;
    assert_eq!(resp.status_code, 400, "{}", sentry_error_header(&resp));
    assert!(sentry_error_header(&resp).contains("longer than 8 KiB"));
    // With the key, the same bomb is inflated only to the limit, and refused.
    let auth = auth();
    let resp =
        handle(&w.deps, request("POST", path, &[("x-sentry-auth", &auth), ("content-encoding", "gzip")], &bomb)).await;
    assert_eq!(resp.status_code, 413);

    // Keys that cannot be keys are refused without a lookup (or a place in the key cache).
    let long = format!("Sentry sentry_key={}, sentry_version=7", "a".repeat(1000));
    let odd = "Sentry sentry_key=../../x, sentry_version=7";
    for header in [long.as_str(), odd] {
        let resp = handle(&w.deps, request("POST", path, &[("x-sentry-auth", header)], b"{}\n")).await;
        assert_eq!(resp.status_code, 401);
        assert!(sentry_error_header(&resp).contains("invalid DSN key"), "{}", sentry_error_header(&resp));
    }
    assert!(w.queue.messages().is_empty());
}

/// A tunnelled envelope's DSN is read from its first line only, decoded from a compressed
/// body as far as that line; a header line without an end is refused.
#[tokio::test]
async fn the_envelope_dsn_is_read_from_the_first_line_alone() {
    let w = world().await;
    let envelope = format!(
        "{{\"dsn\":\"https://{KEY}@errata.example/7\",\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{{\"message\":\"m\"}}\n",
        "9ec79c33ec9942ab8353589fcb2e04dc"
    );
    let resp = handle(
        &w.deps,
        request("POST", "/api/7/envelope/", &[("content-encoding", "gzip")], &gzip(envelope.as_bytes())),
    )
    .await;
    assert_eq!(resp.status_code, 200, "{}", sentry_error_header(&resp));
    let endless = format!("{{\"dsn\":\"https://{KEY}@errata.example/7\",\"x\":\"{}\"", "y".repeat(20_000));
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[], endless.as_bytes())).await;
    assert_eq!(resp.status_code, 400);
    assert!(sentry_error_header(&resp).contains("longer than 8 KiB"));
}

/// The item limit is enforced while the envelope is read: 100,000 tiny items stop at the
/// first past the limit.
#[tokio::test]
async fn too_many_items_are_refused_while_parsing() {
    let w = world().await;
    let mut body = b"{}\n".to_vec();
    for _ in 0..100_000 {
        body.extend_from_slice(b"{\"type\":\"client_report\",\"length\":2}\n{}\n");
    }
    let auth = auth();
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &[("x-sentry-auth", &auth)], &body)).await;
    assert_eq!(resp.status_code, 413);
    assert!(sentry_error_header(&resp).contains("more than 1000 items"), "{}", sentry_error_header(&resp));
}

/// Sessions are limited like events, on counters of their own, and named `session` in
/// `X-Sentry-Rate-Limits`; an organization's quota covers all its projects.
#[tokio::test]
async fn sessions_and_organizations_have_limits_of_their_own() {
    let w = limited_world(Some(RateLimit { count: 2, window_secs: 60 }), None).await;
    let auth = [("x-sentry-auth", "Sentry sentry_key=limitedkey")];
    let sessions = b"{}\n{\"type\":\"sessions\"}\n{\"aggregates\":[]}\n{\"type\":\"client_report\"}\n{}\n";
    for _ in 0..2 {
        assert_eq!(handle(&w.deps, request("POST", "/api/7/envelope/", &auth, sessions)).await.status_code, 200);
    }
    let resp = handle(&w.deps, request("POST", "/api/7/envelope/", &auth, sessions)).await;
    assert_eq!(resp.status_code, 429);
    let header = resp.headers["x-sentry-rate-limits"].to_str().unwrap().to_owned();
    assert!(header.ends_with(":session:key:key_quota"), "{header}");
    // Events still have their allowance.
    assert_eq!(handle(&w.deps, request("POST", "/api/7/envelope/", &auth, &event_envelope(5))).await.status_code, 200);

    // Two projects of one organization share its quota.
    let w = limited_world(None, None).await;
    w.deps
        .directory
        .put_org(&errata_domain::Org {
            slug: "o".into(),
            name: "O".into(),
            quota: Some(RateLimit { count: 1, window_secs: 3600 }),
        })
        .await
        .unwrap();
    for (project, key) in [(8, "otherprojectkey")] {
        w.deps
            .directory
            .put_project(&Project {
                id: project,
                org: "o".into(),
                slug: "q".into(),
                name: "q".into(),
                platform: None,
                quota: None,
                settings: Default::default(),
            })
            .await
            .unwrap();
        w.deps
            .directory
            .put_project_key(&ProjectKey {
                public_key: key.into(),
                project_id: project,
                label: "K".into(),
                enabled: true,
                rate_limit: None,
                created_at: 0,
            })
            .await
            .unwrap();
    }
    let first = handle(&w.deps, request("POST", "/api/7/envelope/", &auth, &event_envelope(1))).await;
    assert_eq!(first.status_code, 200);
    let other = [("x-sentry-auth", "Sentry sentry_key=otherprojectkey")];
    let second = handle(&w.deps, request("POST", "/api/8/envelope/", &other, &event_envelope(2))).await;
    assert_eq!(second.status_code, 429);
    assert!(second.headers["x-sentry-rate-limits"].to_str().unwrap().ends_with(":organization:org_quota"));
}
