//! The upload routes `sentry-cli` drives, on hostile input, each run in a fresh in-memory
//! world: the first byte picks the route, the rest is its body.
//! - 0: `chunk-upload/` with an arbitrary multipart body (names, checksums, gzip bombs);
//! - 1: `files/difs/assemble/` with an arbitrary JSON body;
//! - 2: `artifactbundle/assemble/` with an arbitrary JSON body;
//! - 3: the rest as a file's content: uploaded as a gzipped chunk under its real SHA-1, then
//!   assembled both as a debug file (read by `symbolic`) and as an artifact bundle (a zip with
//!   a `manifest.json`), so the readers of assembled files see arbitrary bytes too.
//!
//! Every request is answered 2xx or 4xx: never a panic, never a 5xx from in-memory stores.
#![no_main]

use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use errata_api::{handle, Deps};
use errata_domain::secrets::token_digest;
use errata_domain::{ApiToken, Member, Org, Project, Role};
use errata_ports::Directory;
use errata_runtime::http::Request;
use errata_testkit::{
    MemoryBlobs, MemoryDirectory, MemoryIssues, MemoryNotificationLog, MemoryOutbox, MemoryRules, ScriptedQueries,
};
use libfuzzer_sys::fuzz_target;
use sha1::{Digest, Sha1};
use std::io::Write;
use std::sync::{Arc, OnceLock};

const TOKEN: &str = "errata_fuzz";
const BOUNDARY: &str = "B";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

/// Org `acme` with project `web`, owned by the token's holder; nothing uploaded yet.
async fn world() -> Deps {
    let directory = Arc::new(MemoryDirectory::default());
    directory.put_org(&Org { slug: "acme".into(), name: "Acme".into(), quota: None }).await.expect("org");
    let project = Project {
        id: 0,
        org: "acme".into(),
        slug: "web".into(),
        name: "Web".into(),
        platform: None,
        quota: None,
        settings: Default::default(),
    };
    directory.put_project(&project).await.expect("project");
    directory
        .put_member(&Member { org: "acme".into(), email: "a@acme.test".into(), role: Role::Owner })
        .await
        .expect("member");
    let token = ApiToken {
        digest: token_digest(TOKEN),
        email: "a@acme.test".into(),
        label: "fuzz".into(),
        scopes: vec![],
        created_at: 0,
        last_chars: String::new(),
        expires_at: None,
    };
    directory.put_api_token(&token).await.expect("token");
    let issues = Arc::new(MemoryIssues::default());
    Deps {
        accounts: directory.clone(),
        audit: directory.clone(),
        directory,
        issues: issues.clone(),
        health: issues,
        events: Arc::new(MemoryBlobs::default()),
        debug_files: Arc::new(MemoryBlobs::default()),
        rules: Arc::new(MemoryRules::default()),
        notifications: Arc::new(MemoryNotificationLog::default()),
        queries: Arc::new(ScriptedQueries::default()),
        outbox: Arc::new(MemoryOutbox::default()),
        web_url: String::new(),
        public_url: "http://api.test".into(),
        dsn_url: "http://ingest.test".into(),
        throttle: Arc::new(errata_testkit::MemoryRateLimiter::default()),
        setup_secret: String::new(),
        egress: Default::default(),
        default_key_limit: None,
        default_project_quota: None,
        resolver: Arc::new(errata_testkit::StaticResolver::default()),
    }
}

fn post(path: &str, content_type: &'static str, body: &[u8]) -> Request {
    let mut req = Request::default();
    req.raw_path = Some(path.into());
    req.request_context.http.method = Method::POST;
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header"));
    headers.insert("content-type", HeaderValue::from_static(content_type));
    req.headers = headers;
    req.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
    req.is_base64_encoded = true;
    req
}

async fn send(deps: &Deps, req: Request, what: &str) -> i64 {
    let resp = handle(deps, req).await;
    assert!(matches!(resp.status_code, 200..=299 | 400..=499), "status {} for {what}", resp.status_code);
    resp.status_code
}

const CHUNK_UPLOAD: &str = "/api/0/organizations/acme/chunk-upload/";
const DIF_ASSEMBLE: &str = "/api/0/projects/acme/web/files/difs/assemble/";
const BUNDLE_ASSEMBLE: &str = "/api/0/organizations/acme/artifactbundle/assemble/";
const MULTIPART: &str = "multipart/form-data; boundary=B";
/// The chunk size the API announces (1 MiB).
const CHUNK_SIZE: u64 = 1024 * 1024;

/// Uploads `data` as one gzipped chunk and assembles it as a debug file and as a bundle.
async fn as_file(deps: &Deps, data: &[u8]) {
    let sha1 = hex::encode(Sha1::digest(data));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip");
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file_gzip\"; filename=\"{sha1}\"\r\n\r\n")
            .into_bytes();
    body.extend(gz.finish().expect("gzip"));
    body.extend(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
    let status = send(deps, post(CHUNK_UPLOAD, MULTIPART, &body), "chunk of a file").await;
    assert_eq!(status, 200, "a well-formed chunk of {} bytes is accepted", data.len());
    let dif = serde_json::json!({ sha1.clone(): { "name": "fuzz.debug", "chunks": [sha1] } });
    send(deps, post(DIF_ASSEMBLE, "application/json", dif.to_string().as_bytes()), "difs assemble").await;
    let bundle = serde_json::json!({ "checksum": sha1, "chunks": [sha1], "projects": ["web"], "version": "1.0" });
    send(deps, post(BUNDLE_ASSEMBLE, "application/json", bundle.to_string().as_bytes()), "bundle assemble").await;
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    runtime().block_on(async {
        let deps = world().await;
        match selector & 3 {
            0 => drop(send(&deps, post(CHUNK_UPLOAD, MULTIPART, body), "chunk-upload").await),
            1 => drop(send(&deps, post(DIF_ASSEMBLE, "application/json", body), "difs assemble").await),
            2 => drop(send(&deps, post(BUNDLE_ASSEMBLE, "application/json", body), "bundle assemble").await),
            _ if body.len() as u64 <= CHUNK_SIZE => as_file(&deps, body).await,
            _ => {}
        }
    });
});
