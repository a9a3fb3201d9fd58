//! Ingest benchmark: `cargo bench -p errata-ingest --no-default-features --bench ingest`.
//! Prints, on one core (a current-thread runtime): handler throughput for 1 KB / 10 KB / 100 KB
//! gzip envelopes (API Gateway event in → queue message out, in-memory queue; the time is
//! the handler's alone), latency percentiles, and the process's peak RSS. With `ERRATA_INGEST_BIN` set to a built
//! `errata-ingest` binary it also measures process start → ready (first poll of the Lambda
//! runtime API, answered by a stand-in on loopback) and prints the binary's size.

use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use errata_domain::ProjectKey;
use errata_ingest::{handle, Deps, KeyCache};
use errata_ports::Directory;
use errata_runtime::http::Request;
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryQueue, MemoryRateLimiter};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn envelope(size: usize, n: usize) -> Vec<u8> {
    // An error event padded with breadcrumbs to the wanted size, like a real SDK's.
    let mut crumbs = Vec::new();
    let mut i = 0;
    while crumbs.iter().map(|c: &String| c.len()).sum::<usize>() < size.saturating_sub(400) {
        crumbs.push(format!(
            r#"{{"category":"http","message":"GET /api/items/{i} 200","level":"info","timestamp":1795000000.{i}}}"#
        ));
        i += 1;
    }
    let event = format!(
        r#"{{"event_id":"{n:032x}","level":"error","platform":"python","exception":{{"values":[{{"type":"ValueError","value":"bad {n}","stacktrace":{{"frames":[{{"module":"app","function":"f","lineno":3}}]}}}}]}},"breadcrumbs":{{"values":[{}]}}}}"#,
        crumbs.join(",")
    );
    let body = format!("{{\"event_id\":\"{n:032x}\",\"sent_at\":\"2026-11-25T20:00:00Z\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{event}\n", event.len());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

fn request(body: &[u8]) -> Request {
    let mut req = Request::default();
    req.raw_path = Some("/api/7/envelope/".into());
    req.request_context.http.method = Method::POST;
    req.request_context.http.source_ip = Some("203.0.113.9".into());
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-sentry-auth",
        HeaderValue::from_static("Sentry sentry_key=0123456789abcdef0123456789abcdef, sentry_version=7"),
    );
    headers.insert("content-encoding", HeaderValue::from_static("gzip"));
    headers.insert("content-type", HeaderValue::from_static("application/x-sentry-envelope"));
    req.headers = headers;
    req.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
    req.is_base64_encoded = true;
    req
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Peak resident memory (VmHWM) of a process, `self` or a pid, in MB.
fn peak_rss_mb(process: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let directory = Arc::new(MemoryDirectory::default());
    rt.block_on(directory.put_project_key(&ProjectKey {
        public_key: KEY.into(),
        project_id: 7,
        label: "bench".into(),
        enabled: true,
        rate_limit: None,
        created_at: 0,
    }))
    .expect("key");
    println!("ingest handler, one core, gzip envelopes (API Gateway event in → queue message out)");
    println!("{:>8} {:>12} {:>10} {:>10} {:>10}", "size", "envelopes/s", "p50 µs", "p99 µs", "MB/s in");
    for size in [1024, 10 * 1024, 100 * 1024] {
        let queue = Arc::new(MemoryQueue::default());
        let deps = Deps {
            directory: directory.clone(),
            queue: queue.clone(),
            large_queue: Arc::new(MemoryQueue::default()),
            raw: Arc::new(MemoryBlobs::default()),
            limiter: Arc::new(MemoryRateLimiter::default()),
            keys: KeyCache::default(),
        };
        // Distinct envelopes, prepared up front; request construction is not timed.
        let bodies: Vec<Vec<u8>> = (0..64).map(|n| envelope(size, n)).collect();
        let total = if size >= 100 * 1024 { 3_000 } else { 30_000 };
        let mut latencies = Vec::with_capacity(total);
        let mut queued = 0;
        for i in 0..total {
            let req = request(&bodies[i % bodies.len()]); // building the event is not timed
            let t = Instant::now();
            let resp = rt.block_on(handle(&deps, req));
            latencies.push(t.elapsed());
            assert_eq!(resp.status_code, 200);
            // Drain the stand-in queue as SQS would, so memory reflects the handler.
            let mut sent = queue.sent.lock().expect("queue");
            queued += sent.len();
            sent.clear();
        }
        assert_eq!(queued, total);
        let elapsed: Duration = latencies.iter().sum();
        latencies.sort();
        let gz_bytes: usize = (0..total).map(|i| bodies[i % bodies.len()].len()).sum();
        println!(
            "{:>7}K {:>12.0} {:>10.1} {:>10.1} {:>10.1}",
            size / 1024,
            total as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1e6,
            percentile(&latencies, 0.99).as_secs_f64() * 1e6,
            gz_bytes as f64 / elapsed.as_secs_f64() / 1e6
        );
    }
    refusals(&rt, &directory);
    println!("peak RSS of this benchmark process (handler, runtime, test data): {:.1} MB", peak_rss_mb("self"));
    if let Ok(bin) = std::env::var("ERRATA_INGEST_BIN") {
        start_to_ready(&bin);
    }
}

/// What a hostile request costs the handler: requests refused before anything is inflated
/// (an unknown key, a 20 MiB gzip bomb without a key or with an unknown one), and for
/// comparison the same bomb with a valid key (inflated to the limit, then refused) and an
/// accepted 1 KB envelope.
fn refusals(rt: &tokio::runtime::Runtime, directory: &Arc<MemoryDirectory>) {
    let deps = Deps {
        directory: directory.clone(),
        queue: Arc::new(MemoryQueue::default()),
        large_queue: Arc::new(MemoryQueue::default()),
        raw: Arc::new(MemoryBlobs::default()),
        limiter: Arc::new(MemoryRateLimiter::default()),
        keys: KeyCache::default(),
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b'x'; 20 * 1024 * 1024 + 1]).expect("gzip");
    let bomb = gz.finish().expect("gzip");
    let small = envelope(1024, 1);
    let unknown = HeaderValue::from_static("Sentry sentry_key=ffffffffffffffffffffffffffffffff, sentry_version=7");
    let cases: [(&str, &[u8], Option<&HeaderValue>, u16); 5] = [
        ("accepted 1 KB envelope", &small, None, 200),
        ("unknown key, 1 KB envelope", &small, Some(&unknown), 401),
        ("20 MiB gzip bomb, unknown key", &bomb, Some(&unknown), 401),
        ("20 MiB gzip bomb, no key", &bomb, Some(&HeaderValue::from_static("")), 400),
        ("20 MiB gzip bomb, valid key", &bomb, None, 413),
    ];
    println!("\nrefusals, one core ({} KB gzip bomb inflating to 20 MiB + 1 byte):", bomb.len() / 1024);
    println!("{:>32} {:>10} {:>12}", "request", "status", "µs each");
    for (name, body, auth, status) in cases {
        let runs = if status == 413 { 5 } else { 2_000 };
        let mut spent = Duration::ZERO;
        for _ in 0..runs {
            let mut req = request(body);
            match auth {
                Some(v) if v.is_empty() => {
                    req.headers.remove("x-sentry-auth");
                }
                Some(v) => {
                    req.headers.insert("x-sentry-auth", v.clone());
                }
                None => {}
            }
            let t = Instant::now();
            let resp = rt.block_on(handle(&deps, req));
            spent += t.elapsed();
            assert_eq!(resp.status_code, i64::from(status), "{name}");
        }
        println!("{name:>32} {status:>10} {:>12.1}", spent.as_secs_f64() * 1e6 / runs as f64);
    }
}

/// Spawns the Lambda binary against a stand-in runtime API and times its first poll.
fn start_to_ready(bin: &str) {
    let size = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
    println!("binary {bin}: {:.1} MB", size as f64 / 1e6);
    let mut samples = Vec::new();
    let mut rss_mb = 0.0f64;
    for _ in 0..10 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let start = Instant::now();
        let mut child = std::process::Command::new(bin)
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("DIRECTORY_TABLE", "t")
            .env("QUOTAS_TABLE", "t")
            .env("RAW_BUCKET", "b")
            .env("ENVELOPE_QUEUE_URL", "http://127.0.0.1:9/q")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let (mut conn, _) = listener.accept().expect("first poll");
        let mut buf = [0u8; 256];
        let _ = conn.read(&mut buf);
        samples.push(start.elapsed());
        rss_mb = rss_mb.max(peak_rss_mb(&child.id().to_string()));
        let _ = child.kill();
        let _ = child.wait();
    }
    samples.sort();
    println!(
        "process start → first runtime API poll: median {:.1} ms, max {:.1} ms (10 starts)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
    println!("peak RSS of the Lambda binary when ready (AWS clients built): {rss_mb:.1} MB");
}
