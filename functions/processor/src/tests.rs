//! Handler tests with in-memory ports.

use super::*;
use errata_ports::EventOrder;
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryIssues};

struct World {
    deps: Deps,
    issues: Arc<MemoryIssues>,
    events: Arc<MemoryBlobs>,
    raw: Arc<MemoryBlobs>,
    directory: Arc<MemoryDirectory>,
}

fn world() -> World {
    let issues = Arc::new(MemoryIssues::default());
    let events = Arc::new(MemoryBlobs::default());
    let raw = Arc::new(MemoryBlobs::default());
    let directory = Arc::new(MemoryDirectory::default());
    World {
        deps: Deps::new(issues.clone(), issues.clone(), raw.clone(), events.clone(), directory.clone()),
        issues,
        events,
        raw,
        directory,
    }
}

fn envelope(event_id: &str, exc_type: &str, function: &str) -> Vec<u8> {
    let event = serde_json::json!({
        "event_id": event_id,
        "timestamp": 1_795_000_000.0,
        "platform": "python",
        "exception": {"values": [{"type": exc_type, "value": "boom", "stacktrace": {"frames": [
            {"module": "app", "function": function, "lineno": 3, "in_app": true}]}}]},
    });
    let payload = serde_json::to_vec(&event).unwrap();
    let mut out =
        format!("{{\"event_id\":\"{event_id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes();
    out.extend(payload);
    out
}

fn queued(bytes: &[u8]) -> QueuedEnvelope {
    QueuedEnvelope {
        project_id: 3,
        received_ms: 1_795_000_100_000,
        client_ip: None,
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(bytes)),
        handback: false,
    }
}

fn sqs(bodies: &[String]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, body) in bodies.iter().enumerate() {
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("m{i}"));
        m.body = Some(body.clone());
        event.records.push(m);
    }
    event
}

/// The stored JSON of an issue's newest event.
async fn latest_body(w: &World, issue: IssueId) -> Vec<u8> {
    let page = w.issues.issue_events(issue, EventOrder::NewestFirst, None, 1).await.unwrap();
    let body = &page.events[0].body;
    w.events.get_range(&body.key, body.offset, body.len).await.unwrap().unwrap()
}

/// Every object under `prefix` in the events bucket.
fn objects(w: &World, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let objects = w.events.objects.lock().unwrap();
    let mut found: Vec<_> =
        objects.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.clone())).collect();
    found.sort();
    found
}

const ID: [&str; 3] =
    ["00000000000000000000000000000001", "00000000000000000000000000000002", "00000000000000000000000000000003"];

#[tokio::test]
async fn groups_identical_exceptions_and_counts() {
    let w = world();
    let bodies: Vec<String> = [
        envelope(ID[0], "ZeroDivisionError", "divide"),
        envelope(ID[1], "ZeroDivisionError", "divide"),
        envelope(ID[2], "KeyError", "lookup"),
    ]
    .iter()
    .map(|e| serde_json::to_string(&queued(e)).unwrap())
    .collect();
    let resp = handle_batch(&w.deps, sqs(&bodies)).await;
    assert!(resp.batch_item_failures.is_empty());

    let mut issues = w.issues.project_issues(3).await.unwrap();
    issues.sort_by_key(|i| std::cmp::Reverse(i.times_seen));
    assert_eq!(issues.len(), 2);
    assert_eq!((issues[0].title.as_str(), issues[0].times_seen), ("ZeroDivisionError: boom", 2));
    assert_eq!((issues[1].title.as_str(), issues[1].times_seen), ("KeyError: boom", 1));
    assert_eq!(issues[0].culprit, "app in divide");

    let body: serde_json::Value = serde_json::from_slice(&latest_body(&w, issues[1].id).await).unwrap();
    assert_eq!(body["event_id"], ID[2]);
    assert_eq!(body["exception"]["values"][0]["type"], "KeyError");
    assert_eq!(body["grouping"]["variant"], "stacktrace");
    assert_eq!(body["received"], "2026-11-18T11:08:20.000Z");

    // The batch cost one body object and one Parquet file (one project, one day).
    assert_eq!(objects(&w, "bodies/").len(), 1);
    let files = objects(&w, "parquet/events/");
    assert_eq!(files.len(), 1);
    assert!(files[0].0.starts_with("parquet/events/project_id=3/dt=2026-11-18/"), "{}", files[0].0);
    let rows = errata_rows::decode(files[0].1.clone()).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().filter(|r| r.issue_id == Some(issues[0].id.0 as i64)).count(), 2);
    let row = rows.iter().find(|r| r.event_id == ID[2]).unwrap();
    assert_eq!((row.exception_type.as_deref(), row.title.as_str()), (Some("KeyError"), "KeyError: boom"));
    assert_eq!((row.platform.as_str(), row.level.as_str(), row.timestamp), ("python", "error", 1_795_000_000_000));
}

#[tokio::test]
async fn transactions_become_rows_not_issues() {
    let w = world();
    let tx = serde_json::json!({
        "type": "transaction", "transaction": "GET /users", "start_timestamp": 1_795_000_000.0,
        "timestamp": 1_795_000_000.25, "contexts": {"trace": {"op": "http.server"}}, "spans": [],
    });
    let env = format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"transaction\"}}\n{tx}\n", ID[0]);
    let outcomes = process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    assert_eq!((outcomes.transactions, outcomes.new_issues), (1, 0));
    assert!(w.issues.project_issues(3).await.unwrap().is_empty());
    let files = objects(&w, "parquet/events/");
    let rows = errata_rows::decode(files[0].1.clone()).unwrap();
    assert_eq!(rows[0].event_type, "transaction");
    assert_eq!((rows[0].issue_id, rows[0].duration_ms), (None, Some(250.0)));
    assert_eq!(rows[0].transaction.as_deref(), Some("GET /users"));
}

#[tokio::test]
async fn an_event_for_a_resolved_issue_regresses_it() {
    let w = world();
    process(&w.deps, &queued(&envelope(ID[0], "RegressError", "f"))).await.unwrap();
    let issue = w.issues.project_issues(3).await.unwrap().remove(0);
    let change =
        errata_domain::StatusRequest::Resolve.apply(&issue, Timestamp::from_unix_millis(1_795_000_050_000).unwrap());
    w.issues.set_status(&issue, &change).await.unwrap();
    let mut later = queued(&envelope(ID[1], "RegressError", "f"));
    later.received_ms = 1_795_000_200_000;
    let event = envelope(ID[1], "RegressError", "f");
    let text = String::from_utf8(event).unwrap().replace("1795000000.0", "1795000100.0");
    later.payload = QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(text));
    assert_eq!(process(&w.deps, &later).await.unwrap().regressed, 1);
    let issue = w.issues.issue(issue.id).await.unwrap().unwrap();
    assert_eq!(
        (issue.status, issue.substatus),
        (errata_domain::IssueStatus::Unresolved, errata_domain::Substatus::Regressed)
    );
}

#[tokio::test]
async fn redelivery_does_not_count_twice() {
    let w = world();
    let q = queued(&envelope(ID[0], "E", "f"));
    assert_eq!(process(&w.deps, &q).await.unwrap().new_issues, 1);
    let again = process(&w.deps, &q).await.unwrap();
    assert_eq!((again.duplicates, again.counted, again.new_issues), (1, 0, 0));
    assert_eq!(w.issues.project_issues(3).await.unwrap()[0].times_seen, 1);
}

#[tokio::test]
async fn claim_checked_envelopes_are_read_from_the_raw_bucket() {
    let w = world();
    w.raw.put("envelopes/3/x", envelope(ID[0], "E", "f"), "").await.unwrap();
    let q = QueuedEnvelope { payload: QueuedPayload::Stored("envelopes/3/x".into()), ..queued(b"") };
    assert_eq!(process(&w.deps, &q).await.unwrap().new_issues, 1);
    let missing = QueuedEnvelope { payload: QueuedPayload::Stored("envelopes/3/gone".into()), ..queued(b"") };
    assert!(matches!(process(&w.deps, &missing).await, Err(ProcessError::Invalid(_))));
    // A claim check under another project's folder is never read.
    w.raw.put("envelopes/4/y", envelope(ID[1], "E", "f"), "").await.unwrap();
    let foreign = QueuedEnvelope { payload: QueuedPayload::Stored("envelopes/4/y".into()), ..queued(b"") };
    assert!(
        matches!(process(&w.deps, &foreign).await, Err(ProcessError::Invalid(e)) if e.contains("not under its project"))
    );
}

#[tokio::test]
async fn invalid_messages_are_dropped_not_retried_and_other_items_survive() {
    let w = world();
    let mut mixed = envelope(ID[0], "E", "f");
    mixed.extend(b"\n{\"type\":\"event\"}\n[1,2,3]\n{\"type\":\"session\"}\n{}\n{\"type\":\"profile\"}\n{}\n");
    let bodies = vec!["garbage".to_owned(), serde_json::to_string(&queued(&mixed)).unwrap()];
    let resp = handle_batch(&w.deps, sqs(&bodies)).await;
    assert!(resp.batch_item_failures.is_empty(), "invalid input is not retried");
    let outcomes = process(&w.deps, &queued(&mixed)).await.unwrap();
    assert_eq!(
        (outcomes.duplicates, outcomes.invalid, outcomes.unhandled),
        (1, 2, 1),
        "a bad event, a bad session, a profile"
    );
    assert_eq!(w.issues.project_issues(3).await.unwrap().len(), 1);
}

#[tokio::test]
async fn future_timestamps_are_clamped_to_receipt() {
    let w = world();
    let env = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{{\"event_id\":\"{}\",\"timestamp\":4000000000,\"message\":\"m\"}}\n",
        ID[0]
    );
    process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    let issue = &w.issues.project_issues(3).await.unwrap()[0];
    assert_eq!(issue.last_seen.unix_millis(), 1_795_000_100_000);
}

#[tokio::test]
async fn minidump_envelopes_become_fatal_crashes_with_their_dump_stored() {
    let w = world();
    let env = format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{{\"release\":\"native@1\"}}\n\
{{\"type\":\"attachment\",\"length\":8,\"filename\":\"c.dmp\",\"attachment_type\":\"event.minidump\"}}\nMDMPdump\n",
        ID[0]
    );
    assert_eq!(process(&w.deps, &queued(env.as_bytes())).await.unwrap().new_issues, 1);
    let issue = &w.issues.project_issues(3).await.unwrap()[0];
    assert_eq!(issue.title, "Minidump: Native crash (minidump not yet symbolicated)");
    assert_eq!(issue.level, "fatal");
    let key = format!("attachments/3/{}/1-c.dmp", ID[0]);
    assert_eq!(w.events.get(&key).await.unwrap().unwrap(), b"MDMPdump");
    let body: serde_json::Value = serde_json::from_slice(&latest_body(&w, issue.id).await).unwrap();
    assert_eq!(body["attachments"][0]["type"], "event.minidump");
    assert_eq!(body["attachments"][0]["key"], key);
    assert_eq!(body["platform"], "native");
}

/// The attack of a tenant with nothing but a DSN: an event naming another project's attachment
/// as its own, so that the API or the symbolicator would read it.
#[tokio::test]
async fn forged_attachment_references_are_dropped_and_real_ones_live_in_the_event_folder() {
    let w = world();
    let forged = json!([{"name": "x", "type": "event.minidump", "size": 10,
        "key": format!("attachments/1/{}/1-secret.txt", ID[2])}]);
    // Alone: the event keeps no attachments at all.
    let event = json!({"event_id": ID[0], "message": "forged", "attachments": forged});
    let env = format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{event}\n", ID[0]);
    process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    let issue = w.issues.project_issues(3).await.unwrap().remove(0);
    let body: Value = serde_json::from_slice(&latest_body(&w, issue.id).await).unwrap();
    assert_eq!(body.get("attachments"), None, "{body}");
    assert_eq!(body["exception"], Value::Null, "no minidump placeholder from a forged list");

    // With a real attachment, and an event id of its own unlike the envelope's: only the real one
    // is listed, stored in the folder of the id the event is stored under.
    let event = json!({"event_id": ID[1], "message": "forged too", "attachments": forged});
    let env = format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{event}\n\
{{\"type\":\"attachment\",\"length\":2,\"filename\":\"../a.txt\"}}\nhi\n",
        ID[2]
    );
    process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    let stored = w.issues.event(3, ID[1]).await.unwrap().unwrap();
    let body: Value = serde_json::from_slice(
        &w.events.get_range(&stored.body.key, stored.body.offset, stored.body.len).await.unwrap().unwrap(),
    )
    .unwrap();
    let key = format!("attachments/3/{}/1-.._a.txt", ID[1]);
    assert_eq!(
        body["attachments"],
        json!([{"name": "../a.txt", "type": "event.attachment", "size": 2,
        "content_type": null, "key": key}])
    );
    assert_eq!(w.events.get(&key).await.unwrap().unwrap(), b"hi");
}

/// Events the symbolicator hands back are the processor's own output: their attachments stay.
#[tokio::test]
async fn handed_back_events_keep_their_attachments() {
    let w = world();
    let key = format!("attachments/3/{}/1-c.dmp", ID[0]);
    let event = json!({"event_id": ID[0], "message": "walked", "attachments": [{"name": "c.dmp",
        "type": "event.minidump", "size": 8, "content_type": null, "key": key}]});
    let env = format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{event}\n", ID[0]);
    let mut back = queued(env.as_bytes());
    back.handback = true;
    process(&w.deps, &back).await.unwrap();
    let issue = w.issues.project_issues(3).await.unwrap().remove(0);
    let body: Value = serde_json::from_slice(&latest_body(&w, issue.id).await).unwrap();
    assert_eq!(body["attachments"][0]["key"], key);
}

#[tokio::test]
async fn security_reports_group_by_directive_and_host() {
    let w = world();
    for (n, uri) in [(0, "https://evil.test/a.js"), (1, "https://evil.test/b.js"), (2, "https://other.test/c.js")] {
        let report = format!(
            r#"{{"csp-report":{{"document-uri":"https://app.test/","blocked-uri":"{uri}","effective-directive":"script-src"}}}}"#
        );
        let env =
            format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"security\",\"release\":\"web@1\"}}\n{report}\n", ID[n]);
        process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    }
    let mut issues = w.issues.project_issues(3).await.unwrap();
    issues.sort_by_key(|i| std::cmp::Reverse(i.times_seen));
    assert_eq!(issues.len(), 2);
    assert_eq!((issues[0].title.as_str(), issues[0].times_seen), ("Blocked 'script' from 'evil.test'", 2));
    assert_eq!(issues[0].culprit, "https://app.test/");
    assert_eq!(issues[1].title, "Blocked 'script' from 'other.test'");
}

#[tokio::test]
async fn secrets_are_scrubbed_before_storage_and_grouping() {
    let w = world();
    let env = format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{}\n",
        ID[0],
        serde_json::json!({
            "message": "card 4111-1111-1111-1111 declined",
            "extra": {"password": "hunter2", "note": "ok"},
            "request": {"headers": {"Authorization": "Bearer abc.def"}, "query_string": "token=xyz&page=2"},
        })
    );
    process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    let issue = &w.issues.project_issues(3).await.unwrap()[0];
    assert_eq!(issue.title, "card [Filtered] declined");
    let raw = String::from_utf8(latest_body(&w, issue.id).await).unwrap();
    let rows = format!("{:?}", errata_rows::decode(objects(&w, "parquet/")[0].1.clone()).unwrap());
    for secret in ["hunter2", "4111", "abc.def", "xyz"] {
        assert!(!raw.contains(secret), "{secret} reached storage: {raw}");
        assert!(!rows.contains(secret), "{secret} reached the event store: {rows}");
    }
    let body: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["extra"]["note"], "ok");
    assert_eq!(body["request"]["query_string"], "token=[Filtered]&page=2");
    assert_eq!(body["_meta"]["extra.password"][""]["rem"][0][0], "@password:filter");
}

#[tokio::test]
async fn client_reports_are_outcomes_not_unhandled_items() {
    let w = world();
    let env = b"{}\n{\"type\":\"client_report\"}\n{\"discarded_events\":[{\"reason\":\"queue_overflow\",\"category\":\"error\",\"quantity\":3}]}\n";
    let outcomes = process(&w.deps, &queued(env)).await.unwrap();
    assert_eq!(outcomes, Outcomes::default());
    assert!(w.issues.project_issues(3).await.unwrap().is_empty());
}

fn event_envelope(event: serde_json::Value) -> Vec<u8> {
    format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{event}\n", event["event_id"].as_str().unwrap())
        .into_bytes()
}

/// Project 3 with these settings.
async fn project_with(w: &World, settings: errata_domain::ProjectSettings) {
    let project = errata_domain::Project {
        id: 3,
        org: "o".into(),
        slug: "p".into(),
        name: "p".into(),
        platform: None,
        quota: None,
        settings,
    };
    w.directory.put_project(&project).await.unwrap();
}

#[tokio::test]
async fn project_settings_filter_and_scrub() {
    let w = world();
    let mut settings = errata_domain::ProjectSettings::default();
    settings.filters.localhost = true;
    settings.filters.error_messages = vec!["*flaky network*".into()];
    settings.scrubbing.sensitive_fields = vec!["iban".into()];
    project_with(&w, settings).await;
    let filtered = [
        serde_json::json!({"event_id": ID[0], "message": "a flaky network hiccup"}),
        serde_json::json!({"event_id": ID[1], "message": "x", "request": {"url": "http://localhost:8000/"}}),
    ];
    for event in filtered {
        let outcomes = process(&w.deps, &queued(&event_envelope(event))).await.unwrap();
        assert_eq!((outcomes.filtered, outcomes.new_issues), (1, 0));
    }
    assert!(w.issues.project_issues(3).await.unwrap().is_empty());
    assert!(objects(&w, "").iter().all(|(k, _)| !k.starts_with("bodies/")), "filtered events are not stored");

    let kept = serde_json::json!({"event_id": ID[2], "message": "payment of %s failed", "extra": {"iban": "DE89370400440532013000"}});
    let kept = {
        let mut k = kept;
        k["logentry"] = serde_json::json!({"message": "payment of %s failed", "params": ["order-7"]});
        k.as_object_mut().unwrap().remove("message");
        k
    };
    assert_eq!(process(&w.deps, &queued(&event_envelope(kept))).await.unwrap().new_issues, 1);
    let issue = &w.issues.project_issues(3).await.unwrap()[0];
    assert_eq!(issue.title, "payment of order-7 failed", "params are formatted into the title");
    let body: serde_json::Value = serde_json::from_slice(&latest_body(&w, issue.id).await).unwrap();
    assert_eq!(body["extra"]["iban"], "[Filtered]", "the project's own sensitive field");
}

#[tokio::test]
async fn project_fingerprint_rules_group_events() {
    let w = world();
    let mut settings = errata_domain::ProjectSettings::default();
    settings.grouping.fingerprinting_rules = "error.type:Db* -> database-down\nmessage:*timeout* -> timeouts".into();
    settings.retention_days = Some(7);
    project_with(&w, settings).await;
    let events = [
        serde_json::json!({"event_id": ID[0], "exception": {"values": [{"type": "DbConnectionError", "value": "a"}]}}),
        serde_json::json!({"event_id": ID[1], "exception": {"values": [{"type": "DbPoolExhausted", "value": "b"}]}}),
        serde_json::json!({"event_id": ID[2], "message": "upstream timeout after 30s"}),
        // The SDK's own fingerprint wins over the rules.
        serde_json::json!({"event_id": "0123456789abcdef0123456789abcdef", "fingerprint": ["mine"], "exception": {"values": [{"type": "DbOther", "value": "c"}]}}),
    ];
    for event in events {
        process(&w.deps, &queued(&event_envelope(event))).await.unwrap();
    }
    let mut issues = w.issues.project_issues(3).await.unwrap();
    issues.sort_by_key(|i| std::cmp::Reverse(i.times_seen));
    let counts: Vec<u64> = issues.iter().map(|i| i.times_seen).collect();
    assert_eq!(counts, [2, 1, 1], "two database errors are one issue");
    assert_eq!(issues[0].grouping.variant, "fingerprint");
    assert_eq!(issues[0].grouping.components, ["database-down"]);
}

/// How every event a real SDK sent (tests/fixtures/sdk) groups: the variant, the components
/// hashed and the title, as a reviewed snapshot. A grouping change shows up here as a diff.
#[tokio::test]
async fn grouping_of_recorded_sdk_events() {
    let mut snapshot = serde_json::Map::new();
    for meta_path in errata_testkit::fixture_files("sdk", ".json") {
        let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        let encoding = meta["headers"]["content-encoding"].as_str();
        let raw = std::fs::read(meta_path.with_extension("body")).unwrap();
        let body = errata_protocol::decode::decode_body(encoding, raw, 50 << 20).unwrap();
        // Each recorded request on its own, so the snapshot names what each one produced.
        let w = world();
        let mut q = queued(&body);
        q.received_ms = 1_795_000_000_000;
        process(&w.deps, &q).await.unwrap();
        let name = meta_path.strip_prefix(meta_path.parent().unwrap().parent().unwrap()).unwrap();
        let mut issues = w.issues.project_issues(3).await.unwrap();
        issues.sort_by(|a, b| a.title.cmp(&b.title));
        for issue in issues {
            snapshot.insert(
                format!("{} {}", name.with_extension("").display(), issue.id),
                serde_json::json!({
                    "title": issue.title,
                    "culprit": issue.culprit,
                    "variant": issue.grouping.variant,
                    "components": issue.grouping.components,
                    "level": issue.level,
                }),
            );
        }
    }
    assert!(snapshot.len() >= 8, "the corpus has errors from several SDKs: {}", snapshot.len());
    insta::assert_json_snapshot!("sdk_grouping", snapshot);
}

#[tokio::test]
async fn sessions_update_release_health_once() {
    use errata_ports::ReleaseHealth;
    let w = world();
    let update = |init: bool, status: &str| {
        format!("{{}}\n{{\"type\":\"session\"}}\n{{\"sid\":\"s1\",\"init\":{init},\"started\":\"2026-11-18T11:00:00Z\",\"status\":\"{status}\",\"errors\":1,\"attrs\":{{\"release\":\"app@1\"}}}}\n")
    };
    let first = process(&w.deps, &queued(update(true, "ok").as_bytes())).await.unwrap();
    assert_eq!((first.sessions, first.unhandled), (1, 0));
    process(&w.deps, &queued(update(false, "exited").as_bytes())).await.unwrap();
    process(&w.deps, &queued(update(false, "exited").as_bytes())).await.unwrap();
    let counts = w.issues.session_counts(3, Some("app@1"), 0).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!((counts[0].1.started, counts[0].1.errored, counts[0].1.healthy()), (1, 1, 0));
    let bad = process(&w.deps, &queued(b"{}\n{\"type\":\"session\"}\n{\"sid\":\"x\"}\n")).await.unwrap();
    assert_eq!(bad.invalid, 1);
}

#[tokio::test]
async fn feedback_attaches_to_the_issue_of_its_event_even_in_the_same_batch() {
    let w = world();
    let feedback = serde_json::json!({
        "event_id": "f0000000000000000000000000000001", "timestamp": 1_795_000_000.5,
        "contexts": {"feedback": {"message": "It broke", "name": "Ann", "contact_email": "ann@example.com", "associated_event_id": ID[0]}},
    });
    let feedback_env =
        format!("{{\"event_id\":\"f0000000000000000000000000000001\"}}\n{{\"type\":\"feedback\"}}\n{feedback}\n");
    let report = format!("{{}}\n{{\"type\":\"user_report\"}}\n{{\"event_id\":\"{}\",\"name\":\"Bo\",\"email\":\"bo@example.com\",\"comments\":\"Again\"}}\n", ID[0]);
    let standalone = "{}\n{\"type\":\"feedback\"}\n{\"event_id\":\"f0000000000000000000000000000002\",\"contexts\":{\"feedback\":{\"message\":\"Love it\"}}}\n";
    let bodies: Vec<String> = [
        feedback_env.into_bytes(),
        envelope(ID[0], "FeedbackError", "f"),
        report.into_bytes(),
        standalone.as_bytes().to_vec(),
    ]
    .iter()
    .map(|e| serde_json::to_string(&queued(e)).unwrap())
    .collect();
    assert!(handle_batch(&w.deps, sqs(&bodies)).await.batch_item_failures.is_empty());
    let issue = w.issues.project_issues(3).await.unwrap().remove(0);
    let attached = w.issues.feedback(3, errata_ports::FeedbackScope::Issue(issue.id), 10).await.unwrap();
    let mut names: Vec<&str> = attached.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["Ann", "Bo"]);
    assert_eq!(attached.iter().find(|f| f.name == "Ann").unwrap().comments, "It broke");
    let all = w.issues.feedback(3, errata_ports::FeedbackScope::All, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|f| f.comments == "Love it" && f.issue_id.is_none()));
    // Redelivered: stored once.
    handle_batch(&w.deps, sqs(&bodies)).await;
    assert_eq!(w.issues.feedback(3, errata_ports::FeedbackScope::All, 10).await.unwrap().len(), 3);
}

/// Project 3 with two rules: e-mail on new issues and regressions, and more than 3 events
/// of an issue in an hour to a given address.
async fn alerting_world() -> (World, Arc<errata_testkit::MemoryOutbox>) {
    let mut w = world();
    project_with(&w, Default::default()).await;
    let rules = Arc::new(errata_testkit::MemoryRules::default());
    let default = errata_domain::alerts::default_rule(3, "new".into(), 0);
    errata_ports::RuleStore::put_rule(rules.as_ref(), &default).await.unwrap();
    let burst = errata_domain::alerts::AlertRule {
        id: "burst".into(),
        name: "Bursts".into(),
        conditions: vec![errata_domain::alerts::Condition::EventFrequency { value: 3, interval_minutes: 60 }],
        filters: vec![errata_domain::alerts::RuleFilter::Level { at_least: "error".into() }],
        actions: vec![errata_domain::alerts::Action::Email { addresses: vec!["oncall@acme.test".into()] }],
        ..default
    };
    errata_ports::RuleStore::put_rule(rules.as_ref(), &burst).await.unwrap();
    let outbox = Arc::new(errata_testkit::MemoryOutbox::default());
    w.deps.alerting = Some(alerting::Alerting {
        rules,
        state: Arc::new(errata_testkit::MemoryAlertState::default()),
        outbox: outbox.clone(),
        web_url: "https://errata.example".into(),
    });
    (w, outbox)
}

#[tokio::test]
async fn a_burst_of_one_issue_sends_one_notice_per_rule() {
    let (w, outbox) = alerting_world().await;
    // The queue throttles twice: the notice still goes, once.
    *outbox.failures.lock().unwrap() = 2;
    for i in 0..10 {
        let id = format!("{i:032x}");
        process(&w.deps, &queued(&envelope(&id, "BurstError", "pay"))).await.unwrap();
    }
    let notices = outbox.notices();
    let rules: Vec<&str> = notices
        .iter()
        .map(|n| match n {
            errata_domain::Notice::Alert { rule_id, .. } => rule_id.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(rules, ["new", "burst"], "the new issue once, the 4th event once");
    let errata_domain::Notice::Alert { issue, reason, members, .. } = &notices[1] else { panic!() };
    assert_eq!(reason, "more than 3 events in 60 minutes");
    assert_eq!(issue.count, 4);
    assert_eq!(issue.frames, ["pay (?:3)"]);
    assert!(issue.link.ends_with(&format!("/organizations/o/issues/{}/", issue.issue_id)));
    assert!(members.is_empty(), "the burst rule mails its own address");
    // A redelivered event is a duplicate: no alert again.
    process(&w.deps, &queued(&envelope(&format!("{:032x}", 0), "BurstError", "pay"))).await.unwrap();
    assert_eq!(outbox.notices().len(), 2);
}

#[tokio::test]
async fn a_rule_fires_once_per_issue_and_interval() {
    let (w, outbox) = alerting_world().await;
    process(&w.deps, &queued(&envelope(&format!("{:032x}", 1), "OnceError", "a"))).await.unwrap();
    // The default rule fired for the new issue; within its 30 minutes that issue's events
    // fire nothing more, while another issue's first event fires it again.
    process(&w.deps, &queued(&envelope(&format!("{:032x}", 2), "OnceError", "a"))).await.unwrap();
    assert_eq!(outbox.notices().len(), 1, "within the rule's 30 minutes");
    process(&w.deps, &queued(&envelope(&format!("{:032x}", 3), "OtherError", "b"))).await.unwrap();
    assert_eq!(outbox.notices().len(), 2);
}

#[tokio::test]
async fn native_events_go_to_the_symbolicator_once_and_come_back_to_be_stored() {
    let mut w = world();
    let queue = Arc::new(errata_testkit::MemoryQueue::default());
    w.deps = w.deps.with_symbolication(queue.clone());
    let event = serde_json::json!({
        "event_id": "a".repeat(32),
        "timestamp": 1_795_000_000.0,
        "platform": "native",
        "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": [{"instruction_addr": "0x1010"}]}}]},
        "debug_meta": {"images": [{"type": "elf", "debug_id": "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b", "image_addr": "0x1000", "image_size": 4096}]},
    });
    let payload = serde_json::to_vec(&event).unwrap();
    let mut bytes = format!("{{}}\n{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes();
    bytes.extend(payload);
    process(&w.deps, &queued(&bytes)).await.unwrap();
    assert!(w.issues.project_issues(3).await.unwrap().is_empty(), "held for symbols, not stored yet");
    let [handed] = queue.messages().try_into().unwrap();
    assert_eq!((handed.project_id, handed.received_ms), (3, 1_795_000_100_000));

    // The symbolicator's answer (frames marked) is stored, and not handed over again.
    let QueuedPayload::Inline(b64) = &handed.payload else { panic!("inline") };
    let back = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert!(back.contains("SIGSEGV"));
    let marked = back.replace(
        "\"instruction_addr\":\"0x1010\"",
        "\"instruction_addr\":\"0x1010\",\"symbolicator_status\":\"missing\"",
    );
    let marked = {
        // The envelope's item length changes with the added field.
        let mut lines = marked.splitn(3, '\n');
        let (head, _, body) = (lines.next().unwrap(), lines.next().unwrap(), lines.next().unwrap().trim_end());
        format!("{head}\n{{\"type\":\"event\",\"length\":{}}}\n{body}", body.len())
    };
    process(&w.deps, &queued(marked.as_bytes())).await.unwrap();
    assert_eq!(queue.messages().len(), 1);
    assert_eq!(w.issues.project_issues(3).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_event_handed_to_the_symbolicator_keeps_the_envelope_id() {
    let mut w = world();
    let queue = Arc::new(errata_testkit::MemoryQueue::default());
    w.deps = w.deps.with_symbolication(queue.clone());
    // As ingest builds a minidump upload's envelope: the id only in the envelope header.
    let event = serde_json::json!({
        "platform": "native",
        "exception": {"values": [{"type": "SIGSEGV", "stacktrace": {"frames": [{"instruction_addr": "0x1010"}]}}]},
        "debug_meta": {"images": [{"type": "elf", "debug_id": "b6a9f2a3-c8d9-4f1e-8d2c-7b0a4e5f6a7b", "image_addr": "0x1000"}]},
    });
    let payload = serde_json::to_vec(&event).unwrap();
    let id = "c".repeat(32);
    let mut bytes =
        format!("{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).into_bytes();
    bytes.extend(payload);
    process(&w.deps, &queued(&bytes)).await.unwrap();
    let [handed] = queue.messages().try_into().unwrap();
    let QueuedPayload::Inline(b64) = &handed.payload else { panic!("inline") };
    let back = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    assert!(back.contains(&format!("\"event_id\":\"{id}\"")), "{back}");
}

#[tokio::test]
async fn poison_is_parked_with_its_reason_and_the_rest_of_the_batch_is_processed() {
    let mut w = world();
    let dlq = Arc::new(errata_testkit::MemoryDeadLetters::default());
    w.deps = w.deps.with_dead_letters(dlq.clone());
    let good = serde_json::to_string(&queued(&envelope(ID[0], "ZeroDivisionError", "divide"))).unwrap();
    let not_ours = "{\"hello\": \"world\"}".to_owned();
    let bad_payload = serde_json::to_string(&queued(b"\xff\xfe not an envelope")).unwrap();
    let resp = handle_batch(&w.deps, sqs(&[not_ours.clone(), good, bad_payload.clone()])).await;
    assert!(resp.batch_item_failures.is_empty(), "parked, not retried");
    assert_eq!(w.issues.project_issues(3).await.unwrap().len(), 1, "the good one is stored");
    let parked = dlq.parked.lock().unwrap().clone();
    assert_eq!(parked.len(), 2, "{parked:?}");
    assert_eq!(parked[0].0, not_ours);
    assert!(parked[0].1.contains("not a queued envelope"), "{}", parked[0].1);
    assert_eq!(parked[1].0, bad_payload);
    assert!(parked[1].1.starts_with("invalid message"), "{}", parked[1].1);

    // When even the dead-letter queue fails, the message is retried (SQS parks it later).
    *dlq.fail.lock().unwrap() = true;
    let resp = handle_batch(&w.deps, sqs(&[not_ours])).await;
    assert_eq!(resp.batch_item_failures.len(), 1);
}

/// The hourly maintenance run finishes purging deleted issues: their events leave the index
/// and their attachments the bucket.
#[tokio::test]
async fn the_maintenance_run_purges_deleted_issues() {
    let w = world();
    let env = format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{{\"message\":\"purge me\"}}\n\
{{\"type\":\"attachment\",\"length\":2,\"filename\":\"a.txt\"}}\nhi\n",
        ID[0]
    );
    process(&w.deps, &queued(env.as_bytes())).await.unwrap();
    let issue = w.issues.project_issues(3).await.unwrap().remove(0);
    let key = format!("attachments/3/{}/1-a.txt", ID[0]);
    assert!(w.events.get(&key).await.unwrap().is_some());
    // Deleted, but not purged (as when a delete request ran out of time).
    w.issues.delete_issue(&issue).await.unwrap();
    assert!(w.issues.deleted_before(3, issue.id).await.unwrap().is_some());
    let done = handle(&w.deps, json!({"compact": {}})).await.unwrap();
    assert_eq!(done["issues_purged"], 1, "{done}");
    assert_eq!(w.events.get(&key).await.unwrap(), None);
    assert_eq!(w.issues.event(3, ID[0]).await.unwrap(), None);
    assert_eq!(w.issues.pending_purges().await.unwrap(), vec![]);
}

/// A project's pathological fingerprint rules and filters (patterns built to backtrack, over
/// long strings in many frames) cost each event at most its budget: the event is stored with
/// the rules skipped and said so, and the rest of the batch is processed.
#[tokio::test]
async fn pathological_rules_are_skipped_per_event_not_fatal_to_the_batch() {
    let w = world();
    let slow = format!("*{}b", "a".repeat(400));
    let mut settings = ProjectSettings::default();
    settings.grouping.fingerprinting_rules = format!("function:\"{slow}\" -> never");
    settings.filters.error_messages = vec![slow.clone()];
    w.directory
        .put_project(&errata_domain::Project {
            id: 3,
            org: "o".into(),
            slug: "p".into(),
            name: "p".into(),
            platform: None,
            quota: None,
            settings,
        })
        .await
        .unwrap();
    let long = "a".repeat(8_000);
    let frames: Vec<Value> = (0..200).map(|i| json!({"function": format!("{long}{i}"), "in_app": true})).collect();
    let event = json!({"event_id": ID[0], "exception": {"values": [{"type": "E", "value": long, "stacktrace": {"frames": frames}}]}});
    let hostile = format!("{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\"}}\n{event}\n", ID[0]);
    let bodies = vec![
        serde_json::to_string(&queued(hostile.as_bytes())).unwrap(),
        serde_json::to_string(&queued(&envelope(ID[1], "Plain", "f"))).unwrap(),
    ];
    let resp = handle_batch(&w.deps, sqs(&bodies)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(w.issues.project_issues(3).await.unwrap().len(), 2, "both events became issues");
    let stored = w.issues.event(3, ID[0]).await.unwrap().unwrap();
    let body: Value = serde_json::from_slice(
        &w.events.get_range(&stored.body.key, stored.body.offset, stored.body.len).await.unwrap().unwrap(),
    )
    .unwrap();
    let kinds: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["inbound_filters_skipped", "fingerprinting_skipped"], "{}", body["errors"]);

    // After a few such events the project's rules are not even tried for a while.
    let more: Vec<String> = (0..5u32)
        .map(|i| {
            let id = format!("{:032x}", 100 + i);
            let event = json!({"event_id": id, "exception": event["exception"].clone()});
            serde_json::to_string(&queued(
                format!("{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{event}\n").as_bytes(),
            ))
            .unwrap()
        })
        .collect();
    assert!(handle_batch(&w.deps, sqs(&more)).await.batch_item_failures.is_empty());
    let last = w.issues.event(3, &format!("{:032x}", 104)).await.unwrap().unwrap();
    let body: Value = serde_json::from_slice(
        &w.events.get_range(&last.body.key, last.body.offset, last.body.len).await.unwrap().unwrap(),
    )
    .unwrap();
    let reason = body["errors"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("ran out of time on this project's recent events"), "{reason}");
}
