//! Processor benchmark: `cargo bench -p errata-processor --bench pipeline`.
//! Prints, on one core (a current-thread runtime), how many ~10 KB error events per second
//! the processor turns into stored events: decode, normalize, filter, scrub, group,
//! summarize, write the batch's bodies and Parquet file, count against the issue. Storage is
//! in memory, so the figure is the processor's own work, without network round trips.
//! Batches of 10 messages, as SQS delivers them; 50 distinct issues.

use base64::Engine;
use errata_domain::{QueuedEnvelope, QueuedPayload};
use errata_processor::{process_batch, Deps};
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryIssues};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A Python-style error event of about 10 KB: a 15-frame stack with source context and
/// local variables, breadcrumbs, a request with headers (one a secret), user, tags, extra.
fn event(n: usize) -> serde_json::Value {
    let frames: Vec<_> = (0..15)
        .map(|i| {
            json!({
                "filename": format!("app/services/module_{i}.py"), "abs_path": format!("/srv/app/services/module_{i}.py"),
                "module": format!("app.services.module_{i}"), "function": format!("handle_step_{i}"), "lineno": 40 + i,
                "in_app": i > 3, "context_line": "    result = process(order, customer, options)",
                "pre_context": ["def handle(order):", "    customer = load(order.customer_id)", "    options = defaults()"],
                "post_context": ["    audit(result)", "    return result"],
                "vars": {"order": "<Order 1234>", "customer": "<Customer ann>", "attempt": i, "password": "hunter2"},
            })
        })
        .collect();
    let crumbs: Vec<_> = (0..20)
        .map(|i| json!({"category": "http", "message": format!("GET /api/items/{i} 200"), "level": "info", "timestamp": 1_795_000_000.0 + i as f64}))
        .collect();
    json!({
        "event_id": format!("{n:032x}"), "timestamp": 1_795_000_000.5, "platform": "python", "level": "error",
        "release": "shop@4.2.0", "environment": "production", "server_name": "web-3",
        "exception": {"values": [{"type": format!("CheckoutError{}", n % 50), "value": format!("payment {n} declined for order 77"),
            "mechanism": {"type": "django", "handled": false}, "stacktrace": {"frames": frames}}]},
        "breadcrumbs": {"values": crumbs},
        "request": {"url": "https://shop.example.com/checkout", "method": "POST",
            "headers": {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
                "Authorization": "Bearer abc.def.ghi", "Accept": "application/json"},
            "query_string": "step=3&token=secret"},
        "user": {"id": format!("user-{}", n % 500), "email": "ann@example.com", "ip_address": "203.0.113.9"},
        "tags": {"shard": "eu-1", "feature": "new-checkout"},
        "extra": {"cart_size": 3, "api_key": "sk_live_123"},
        "contexts": {"runtime": {"name": "CPython", "version": "3.12.1"}, "os": {"name": "Linux"}},
        "sdk": {"name": "sentry.python", "version": "2.75.0"},
    })
}

fn queued(n: usize) -> (QueuedEnvelope, usize) {
    let body = serde_json::to_vec(&event(n)).expect("json");
    let mut envelope =
        format!("{{\"event_id\":\"{n:032x}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n", body.len()).into_bytes();
    envelope.extend(&body);
    let size = body.len();
    let q = QueuedEnvelope {
        project_id: 1,
        received_ms: 1_795_000_001_000,
        client_ip: Some("203.0.113.9".into()),
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(&envelope)),
        handback: false,
    };
    (q, size)
}

/// As in the Lambda binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A bucket that keeps nothing: the Lambda's bodies and files leave the process, and keeping
/// 200 MB of them here would measure page faults, not processing.
#[derive(Default)]
struct Discard(std::sync::atomic::AtomicU64);

#[async_trait::async_trait]
impl errata_ports::BlobStore for Discard {
    async fn put(&self, _key: &str, bytes: Vec<u8>, _content_type: &str) -> errata_ports::StoreResult<()> {
        self.0.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
    async fn get(&self, _key: &str) -> errata_ports::StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn get_range(&self, _key: &str, _offset: u64, _len: u64) -> errata_ports::StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn list(&self, _prefix: &str) -> errata_ports::StoreResult<errata_ports::Listing> {
        Ok(Default::default())
    }
    async fn delete(&self, _keys: &[String]) -> errata_ports::StoreResult<()> {
        Ok(())
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let issues = Arc::new(MemoryIssues::default());
    let deps = Deps::new(
        issues.clone(),
        issues.clone(),
        Arc::new(MemoryBlobs::default()),
        Arc::new(Discard::default()),
        Arc::new(MemoryDirectory::default()),
    );
    let total = 20_000;
    // SQS hands Lambda 10 messages, or up to 10,000 with a batching window (ERRATA_BATCH).
    let batch_size: usize = std::env::var("ERRATA_BATCH").ok().and_then(|b| b.parse().ok()).unwrap_or(10);
    let batches: Vec<Vec<QueuedEnvelope>> =
        (0..total).map(queued).map(|(q, _)| q).collect::<Vec<_>>().chunks(batch_size).map(<[_]>::to_vec).collect();
    let size = queued(0).1;
    // Warm up (first issue creations, allocator).
    runtime.block_on(async {
        for batch in batches.iter().take(10) {
            process_batch(&deps, batch).await;
        }
    });
    let started = Instant::now();
    let mut stored = 0usize;
    runtime.block_on(async {
        for batch in batches.iter().skip(10) {
            for result in process_batch(&deps, batch).await {
                let o = result.expect("processed");
                stored += o.new_issues + o.counted;
            }
        }
    });
    let elapsed = started.elapsed();
    let per_sec = stored as f64 / elapsed.as_secs_f64();
    println!(
        "processor pipeline, one core: {stored} events of {:.1} KB in {:.2} s",
        size as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    println!("  {per_sec:.0} events/s/core ({:.0} µs per event), batches of {batch_size}", 1e6 / per_sec);

    // Where the time goes, stage by stage, on the same events.
    let bodies: Vec<Vec<u8>> = (0..1_000).map(|n| serde_json::to_vec(&event(n)).expect("json")).collect();
    let filters = errata_domain::filters::InboundFilters::default();
    let scrubbing = errata_domain::scrub::ScrubSettings::default();
    let mut stages = [std::time::Duration::ZERO; 7];
    let names = ["parse", "normalize", "inbound filters", "scrub", "typed view", "group + summary", "serialize"];
    for body in &bodies {
        let t = Instant::now();
        let mut v: serde_json::Value = serde_json::from_slice(body).expect("event");
        stages[0] += t.elapsed();
        let t = Instant::now();
        errata_domain::normalize::normalize_event(&mut v);
        stages[1] += t.elapsed();
        let t = Instant::now();
        assert!(filters.check(&v).is_none());
        stages[2] += t.elapsed();
        let t = Instant::now();
        errata_domain::scrub::scrub_event(&mut v, &scrubbing);
        stages[3] += t.elapsed();
        let t = Instant::now();
        let view: errata_protocol::Event = serde::Deserialize::deserialize(&v).expect("view");
        stages[4] += t.elapsed();
        let t = Instant::now();
        let g = errata_domain::Grouping::of(&view);
        let s = errata_domain::EventSummary::of(&view);
        stages[5] += t.elapsed();
        let t = Instant::now();
        let out = serde_json::to_vec(&v).expect("json");
        stages[6] += t.elapsed();
        assert!(!g.hash.is_empty() && !s.title.is_empty() && !out.is_empty());
    }
    for (name, d) in names.iter().zip(stages) {
        println!("  {name:>16}: {:>6.1} µs per event", d.as_secs_f64() * 1e6 / bodies.len() as f64);
    }

    // The Parquet share: encoding a batch's ten rows.
    let rows: Vec<errata_rows::EventRow> = (0..10)
        .map(|i| errata_rows::EventRow {
            event_id: format!("{i:032x}"),
            title: "CheckoutError: payment declined".into(),
            tags: vec![("shard".into(), "eu-1".into()); 8],
            ..Default::default()
        })
        .collect();
    hostile_mix(&runtime);

    let started = Instant::now();
    let rounds = 2_000;
    let mut bytes = 0;
    for _ in 0..rounds {
        bytes += errata_rows::encode(&rows).expect("encode").len();
    }
    let per_batch = started.elapsed() / rounds;
    println!("  of which Parquet encoding: {per_batch:?} per 10-row file ({} bytes)", bytes / rounds as usize);
}

/// Batches of 10 where one message in ten comes from a hostile tenant (project 2): an event
/// near ingest's 1 MB limit (100 frames with 8 KB names), once with no rules and once with a
/// fingerprint rule and an error-message filter built to backtrack (`*aaaa…b`) over it.
/// Prints the rate of the other tenant's events and what each hostile event costs: the rules
/// add at most their per-event budget, and nothing once the project's rules are tripped.
fn hostile_mix(runtime: &tokio::runtime::Runtime) {
    for with_rules in [false, true] {
        let issues = Arc::new(MemoryIssues::default());
        let directory = Arc::new(MemoryDirectory::default());
        let mut settings = errata_domain::ProjectSettings::default();
        if with_rules {
            let slow = format!("*{}b", "a".repeat(400));
            settings.grouping.fingerprinting_rules = format!("function:\"{slow}\" -> never");
            settings.filters.error_messages = vec![slow];
        }
        let project = errata_domain::Project {
            id: 2,
            org: "hostile".into(),
            slug: "h".into(),
            name: "h".into(),
            platform: None,
            quota: None,
            settings,
        };
        runtime.block_on(errata_ports::Directory::put_project(directory.as_ref(), &project)).expect("project");
        let deps = Deps::new(
            issues.clone(),
            issues,
            Arc::new(MemoryBlobs::default()),
            Arc::new(Discard::default()),
            directory,
        );
        let long = "a".repeat(8_000);
        let hostile = |n: usize| {
            let frames: Vec<_> = (0..100).map(|i| json!({"function": format!("{long}{i}"), "in_app": true})).collect();
            let body = json!({"event_id": format!("{n:032x}"), "exception": {"values": [{"type": "E", "value": long, "stacktrace": {"frames": frames}}]}});
            let envelope = format!("{{\"event_id\":\"{n:032x}\"}}\n{{\"type\":\"event\"}}\n{body}\n");
            QueuedEnvelope {
                project_id: 2,
                received_ms: 1_795_000_001_000,
                client_ip: None,
                payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(envelope)),
                handback: false,
            }
        };
        let batches: Vec<Vec<QueuedEnvelope>> = (0..200)
            .map(|b| (0..10).map(|i| if i == 0 { hostile(1_000_000 + b) } else { queued(b * 10 + i).0 }).collect())
            .collect();
        let started = Instant::now();
        let mut ordinary = 0usize;
        runtime.block_on(async {
            for batch in &batches {
                for (i, result) in process_batch(&deps, batch).await.into_iter().enumerate() {
                    let o = result.expect("processed");
                    if i > 0 {
                        ordinary += o.new_issues + o.counted;
                    }
                }
            }
        });
        let elapsed = started.elapsed();
        println!(
            "  a hostile tenant's ~0.8 MB event in every batch of 10, {}: {:.0} ordinary events/s/core ({ordinary} of {} stored), {:.1} ms per batch",
            if with_rules { "with backtracking rules" } else { "no rules" },
            ordinary as f64 / elapsed.as_secs_f64(),
            200 * 9,
            elapsed.as_secs_f64() * 1e3 / 200.0,
        );
    }
}
