//! The whole ingest handler on hostile requests: the first byte picks the endpoint and the
//! content encoding, the rest is the body. Every request gets a response with a sensible
//! status (200, 4xx, or 429), never a panic or a 5xx from in-memory stores.
#![no_main]

use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use errata_domain::ProjectKey;
use errata_ingest::{handle, Deps, KeyCache};
use errata_ports::Directory;
use errata_runtime::http::Request;
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryQueue, MemoryRateLimiter};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

fn deps() -> &'static Deps {
    static DEPS: OnceLock<Deps> = OnceLock::new();
    DEPS.get_or_init(|| {
        let directory = Arc::new(MemoryDirectory::default());
        let key = ProjectKey {
            public_key: KEY.into(),
            project_id: 7,
            label: "fuzz".into(),
            enabled: true,
            rate_limit: None,
            created_at: 0,
        };
        runtime().block_on(directory.put_project_key(&key)).expect("seed key");
        Deps {
            directory,
            queue: Arc::new(MemoryQueue::default()),
            large_queue: Arc::new(MemoryQueue::default()),
            raw: Arc::new(MemoryBlobs::default()),
            limiter: Arc::new(MemoryRateLimiter::default()),
            keys: KeyCache::default(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let endpoint = ["envelope", "store", "minidump", "security"][usize::from(selector & 3)];
    let encoding = ["", "gzip", "deflate", "br", "zstd", "", "", ""][usize::from((selector >> 2) & 7)];
    let mut req = Request::default();
    req.raw_path = Some(format!("/api/7/{endpoint}/"));
    req.raw_query_string = Some(format!("sentry_key={KEY}"));
    req.request_context.http.method = Method::POST;
    let mut headers = HeaderMap::new();
    if !encoding.is_empty() {
        headers.insert("content-encoding", HeaderValue::from_static(encoding));
    }
    headers.insert("content-type", HeaderValue::from_static("multipart/form-data; boundary=B"));
    req.headers = headers;
    req.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
    req.is_base64_encoded = true;
    let resp = runtime().block_on(handle(deps(), req));
    assert!(matches!(resp.status_code, 200 | 400..=499), "status {} for {endpoint}/{encoding}", resp.status_code);
});
