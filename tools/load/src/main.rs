//! Load driver: `clients` threads, each an SDK-like client with its own connection, send
//! `events` envelopes to a DSN's envelope endpoint — error events of three sizes in `groups`
//! groups, some sent twice (a retry after a lost response), some invalid (malformed, a wrong
//! key, too large) — retrying 429 and 5xx answers as SDKs do. It prints throughput, latency
//! percentiles and every status by kind, and writes a manifest of what was acknowledged (per
//! group), which `scripts/load_reconcile.py` checks against what the server stored.
//!
//!     errata-load DSN [--events 100000] [--clients 32] [--groups 200] [--tag T] [--out FILE]

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What one request is meant to be, and what the server should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Small,
    Medium,
    Large,
    /// The previous valid envelope again, same event id: acknowledged, stored once.
    Duplicate,
    /// Not an envelope: 400.
    Malformed,
    /// A DSN key the server does not know: 401 or 403.
    WrongKey,
    /// An event item over 1 MiB: 413.
    TooLarge,
}

impl Kind {
    fn of(i: usize) -> Kind {
        match i % 200 {
            0..=3 => Kind::Duplicate,
            4 | 5 => Kind::Malformed,
            6 => Kind::WrongKey,
            7 => Kind::TooLarge,
            _ => match (i / 7) % 20 {
                0 => Kind::Large,
                1..=5 => Kind::Medium,
                _ => Kind::Small,
            },
        }
    }

    fn expected(self, status: u16) -> bool {
        match self {
            Kind::Small | Kind::Medium | Kind::Large | Kind::Duplicate => status == 200,
            Kind::Malformed => status == 400,
            Kind::WrongKey => matches!(status, 401 | 403),
            Kind::TooLarge => status == 413,
        }
    }
}

struct Dsn {
    key: String,
    /// `http://host[:port]/path/api/{project}/envelope/`
    envelope_url: String,
}

fn parse_dsn(dsn: &str) -> Result<Dsn> {
    let (scheme, rest) = dsn.split_once("://").context("a DSN is scheme://key@host/project")?;
    let (key, rest) = rest.split_once('@').context("the DSN has no key")?;
    let (host_path, project) = rest.rsplit_once('/').context("the DSN has no project id")?;
    Ok(Dsn { key: key.to_owned(), envelope_url: format!("{scheme}://{host_path}/api/{project}/envelope/") })
}

/// An error event of about `size` bytes in group `group` of run `tag`.
fn event(tag: &str, group: usize, size: Kind, id: &str) -> Value {
    let frames: Vec<Value> = (0..match size {
        Kind::Small => 3,
        Kind::Medium => 20,
        _ => 40,
    })
        .map(|f| {
            json!({"function": format!("step_{f}"), "module": "load.app", "filename": "load/app.py", "lineno": 10 + f,
                   "in_app": true, "context_line": format!("    result = step_{}(payload)", f + 1),
                   "pre_context": ["def handler(payload):", "    # load"], "post_context": ["    return result"]})
        })
        .collect();
    let crumbs: Vec<Value> = (0..match size {
        Kind::Small => 0,
        Kind::Medium => 20,
        _ => 100,
    })
        .map(|c| json!({"timestamp": 1_700_000_000 + c, "category": "http", "message": format!("GET /api/items/{c} → 200 ({} bytes)", c * 37), "level": "info"}))
        .collect();
    let extra = if size == Kind::Large { "x".repeat(40_000) } else { String::new() };
    json!({
        "event_id": id,
        "platform": "python",
        "level": "error",
        "release": format!("load@{tag}"),
        "environment": "load",
        "server_name": "load-driver",
        "tags": {"group": group.to_string(), "size": format!("{size:?}")},
        "exception": {"values": [{"type": format!("Load{tag}E{group}"), "value": format!("load event in group {group}"),
                                  "stacktrace": {"frames": frames}}]},
        "breadcrumbs": {"values": crumbs},
        "extra": {"padding": extra},
        "sdk": {"name": "errata.load", "version": "1.0"},
    })
}

fn envelope(event: &Value) -> Vec<u8> {
    let payload = serde_json::to_vec(event).unwrap_or_default();
    let id = event["event_id"].as_str().unwrap_or_default();
    let mut out =
        format!("{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes();
    out.extend(payload);
    out.push(b'\n');
    out
}

#[derive(Default)]
struct Tally {
    /// Per kind: status → count.
    statuses: BTreeMap<Kind, BTreeMap<u16, usize>>,
    /// Kinds answered otherwise than expected, with the status.
    unexpected: Vec<(Kind, u16)>,
    /// Latency of every request (µs), retries included.
    latencies: Vec<u64>,
    /// Acknowledged distinct events per group.
    acked: BTreeMap<usize, usize>,
    retries: usize,
    bytes: usize,
}

fn send(agent: &ureq::Agent, url: &str, key: &str, body: &[u8], tally: &mut Tally) -> u16 {
    for attempt in 0..6u32 {
        let started = Instant::now();
        let auth = format!("Sentry sentry_version=7, sentry_client=errata-load/1.0, sentry_key={key}");
        let result = agent
            .post(url)
            .header("X-Sentry-Auth", &auth)
            .header("Content-Type", "application/x-sentry-envelope")
            .send(body);
        tally.latencies.push(started.elapsed().as_micros() as u64);
        let status = match result {
            Ok(resp) => resp.status().as_u16(),
            Err(_) => 0,
        };
        if matches!(status, 0 | 429 | 500..=599) && attempt < 5 {
            tally.retries += 1;
            std::thread::sleep(Duration::from_millis(100 << attempt));
            continue;
        }
        return status;
    }
    0
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dsn) = args.first().filter(|a| !a.starts_with("--")) else {
        bail!("usage: errata-load DSN [--events N] [--clients C] [--groups G] [--tag T] [--out FILE]");
    };
    let dsn = parse_dsn(dsn)?;
    let number = |name: &str, default: usize| -> Result<usize> {
        arg(&args, name).map_or(Ok(default), |v| v.parse().with_context(|| format!("{name} takes a number")))
    };
    let events = number("--events", 100_000)?;
    let clients = number("--clients", 32)?.max(1);
    let groups = number("--groups", 200)?.max(1);
    let tag = arg(&args, "--tag").unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..10].to_owned());
    let out = arg(&args, "--out");

    let next = AtomicUsize::new(0);
    let merged = Mutex::new(Tally::default());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let mut tally = Tally::default();
                let mut last_valid: Option<(Vec<u8>, usize)> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        break;
                    }
                    let kind = Kind::of(i);
                    let group = i % groups;
                    let (body, key) = match kind {
                        Kind::Duplicate => match &last_valid {
                            Some((body, _)) => (body.clone(), dsn.key.clone()),
                            None => continue,
                        },
                        Kind::Malformed => (b"this is not an envelope\n{".to_vec(), dsn.key.clone()),
                        Kind::WrongKey => (
                            envelope(&event(&tag, group, Kind::Small, &uuid::Uuid::new_v4().simple().to_string())),
                            "0".repeat(32),
                        ),
                        Kind::TooLarge => {
                            let mut e = event(&tag, group, Kind::Small, &uuid::Uuid::new_v4().simple().to_string());
                            e["extra"]["padding"] = "x".repeat(1_100_000).into();
                            (envelope(&e), dsn.key.clone())
                        }
                        size => (
                            envelope(&event(&tag, group, size, &uuid::Uuid::new_v4().simple().to_string())),
                            dsn.key.clone(),
                        ),
                    };
                    tally.bytes += body.len();
                    let status = send(&agent, &dsn.envelope_url, &key, &body, &mut tally);
                    *tally.statuses.entry(kind).or_default().entry(status).or_default() += 1;
                    if !kind.expected(status) {
                        tally.unexpected.push((kind, status));
                    }
                    if matches!(kind, Kind::Small | Kind::Medium | Kind::Large) {
                        if status == 200 {
                            *tally.acked.entry(group).or_default() += 1;
                        }
                        last_valid = Some((body, group));
                    }
                }
                let mut all = merged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                for (kind, statuses) in tally.statuses {
                    for (status, n) in statuses {
                        *all.statuses.entry(kind).or_default().entry(status).or_default() += n;
                    }
                }
                all.unexpected.extend(tally.unexpected);
                all.latencies.extend(tally.latencies);
                for (g, n) in tally.acked {
                    *all.acked.entry(g).or_default() += n;
                }
                all.retries += tally.retries;
                all.bytes += tally.bytes;
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = merged.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    tally.latencies.sort_unstable();
    let pct = |p: f64| {
        tally.latencies.get(((tally.latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0
    };
    let acked: usize = tally.acked.values().sum();
    println!("run load@{tag}: {events} envelopes from {clients} clients in {elapsed:.1} s");
    println!(
        "throughput  {:.0} envelopes/s, {:.1} MB/s sent",
        events as f64 / elapsed,
        tally.bytes as f64 / 1e6 / elapsed
    );
    println!(
        "latency     p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} retries)",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        pct(1.0),
        tally.retries
    );
    for (kind, statuses) in &tally.statuses {
        let list: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect();
        println!("  {:<10} {}", format!("{kind:?}"), list.join(" "));
    }
    println!(
        "acknowledged {acked} distinct events in {} groups; {} answers not as expected",
        tally.acked.len(),
        tally.unexpected.len()
    );
    let manifest = json!({
        "tag": tag,
        "release": format!("load@{tag}"),
        "events": events,
        "clients": clients,
        "seconds": elapsed,
        "envelopes_per_second": events as f64 / elapsed,
        "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
        "retries": tally.retries,
        "statuses": tally.statuses.iter().map(|(k, s)| (format!("{k:?}"), json!(s.iter().map(|(c, n)| (c.to_string(), json!(n))).collect::<serde_json::Map<_, _>>()))).collect::<serde_json::Map<_, _>>(),
        "unexpected": tally.unexpected.len(),
        "acked": acked,
        "acked_per_group": tally.acked.iter().map(|(g, n)| (format!("Load{tag}E{g}"), json!(n))).collect::<serde_json::Map<_, _>>(),
    });
    if let Some(path) = out {
        std::fs::write(&path, serde_json::to_string_pretty(&manifest)?).with_context(|| format!("writing {path}"))?;
    }
    if !tally.unexpected.is_empty() {
        bail!(
            "{} answers were not what the request deserved (first: {:?})",
            tally.unexpected.len(),
            tally.unexpected[0]
        );
    }
    Ok(())
}
