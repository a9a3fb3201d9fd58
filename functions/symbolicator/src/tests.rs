//! The symbolicator's handler with in-memory stores: script frames resolved from artifact
//! bundles by debug id and by release (and from the cache the first lookup kept), and events
//! handed back unsymbolicated, with the reason, when symbolication keeps failing or waited too
//! long.

use super::*;
use errata_testkit::{MemoryBlobs, MemoryDirectory, MemoryQueue};
use serde_json::json;
use symbolic_debuginfo::sourcebundle::{SourceBundleWriter, SourceFileInfo, SourceFileType};

const DEBUG_ID: &str = "c941d872-b8b0-4d6c-9c5e-7d7c1f0a2b3c";
const EVENT: &str = "0123456789abcdef0123456789abcdef";

struct World {
    deps: Deps,
    directory: Arc<MemoryDirectory>,
    files: Arc<MemoryBlobs>,
    queue: Arc<MemoryQueue>,
}

fn world() -> World {
    let directory = Arc::new(MemoryDirectory::default());
    let files = Arc::new(MemoryBlobs::default());
    let queue = Arc::new(MemoryQueue::default());
    let events = Arc::new(MemoryBlobs::default());
    let deps = Deps { directory: directory.clone(), files: files.clone(), events, envelopes: queue.clone() };
    World { deps, directory, files, queue }
}

/// An artifact bundle holding the js fixture as `~/dist/app.min.js`, with `debug_id` if given.
fn bundle(debug_id: Option<&str>) -> Vec<u8> {
    let script = js::tests::fixture();
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = SourceBundleWriter::start(&mut out).unwrap();
    let mut source = SourceFileInfo::new();
    source.set_ty(SourceFileType::MinifiedSource);
    source.set_url("~/dist/app.min.js".into());
    source.add_header("sourcemap".into(), "app.min.js.map".into());
    let mut map = SourceFileInfo::new();
    map.set_ty(SourceFileType::SourceMap);
    map.set_url("~/dist/app.min.js.map".into());
    if let Some(id) = debug_id {
        source.add_header("debug-id".into(), id.into());
        map.add_header("debug-id".into(), id.into());
    }
    writer.add_file("_/_/app.min.js", script.source.as_bytes(), source).unwrap();
    writer.add_file("_/_/app.min.js.map", script.sourcemap.as_bytes(), map).unwrap();
    writer.finish().unwrap();
    out.into_inner()
}

async fn add_bundle(w: &World, id: &str, debug_id: Option<&str>, release: Option<&str>) {
    let key = format!("artifacts/1/{id}");
    w.files.put(&key, bundle(debug_id), "application/zip").await.unwrap();
    let record = ArtifactBundle {
        id: id.into(),
        project_id: 1,
        release: release.map(str::to_owned),
        dist: None,
        debug_ids: debug_id.into_iter().map(str::to_owned).collect(),
        file_count: 2,
        size: 0,
        created_at: 1,
        key,
    };
    w.directory.put_artifact_bundle(&record).await.unwrap();
}

fn queued(event: &Value, received_ms: i64) -> QueuedEnvelope {
    let bytes = Envelope::of_events(std::slice::from_ref(event)).to_bytes();
    QueuedEnvelope {
        project_id: 1,
        received_ms,
        client_ip: None,
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(bytes)),
        handback: false,
    }
}

/// The event the symbolicator handed back last.
fn handed_back(w: &World) -> Value {
    let last = w.queue.messages().pop().expect("an event handed back");
    assert!(last.handback, "marked as the processor's own output");
    let QueuedPayload::Inline(b64) = last.payload else { panic!("inline") };
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    let envelope = Envelope::parse(&bytes).unwrap();
    serde_json::from_slice(&envelope.items[0].payload).unwrap()
}

fn script_event(abs_path: &str) -> Value {
    json!({
        "platform": "node",
        "exception": {"values": [{"type": "Error", "stacktrace": {"frames": [
            {"abs_path": "node:internal/main", "lineno": 10, "colno": 3, "function": "run"},
            {"filename": abs_path, "lineno": 1, "colno": 14, "function": "a"}
        ]}}]}
    })
}

fn now() -> i64 {
    Timestamp::now().unix_millis()
}

#[tokio::test]
async fn script_frames_resolve_by_debug_id_then_from_the_cache() {
    let w = world();
    add_bundle(&w, "b1", Some(DEBUG_ID), None).await;
    let mut event = script_event("/srv/app/dist/app.min.js");
    event["debug_meta"] = json!({"images": [{"type": "sourcemap", "code_file": "/srv/app/dist/app.min.js", "debug_id": DEBUG_ID.to_uppercase()}]});
    assert!(needs(&event));
    handle(&w.deps, &queued(&event, now()), 1).await.unwrap();
    let back = handed_back(&w);
    let frames = &back["exception"]["values"][0]["stacktrace"]["frames"];
    assert_eq!(frames[0]["symbolicator_status"], "missing", "node's own module has no map");
    assert_eq!((frames[1]["function"].clone(), frames[1]["lineno"].clone()), (json!("explode"), json!(3)), "{frames}");
    assert_eq!(frames[1]["abs_path"], "src/app.js");
    assert_eq!(frames[1]["data"]["resolved_with"], "debug-id");
    assert_eq!(back["exception"]["values"][0]["raw_stacktrace"]["frames"][1]["function"], "a");
    assert!(!needs(&back), "handed over once");

    // The SourceMapCache was kept: the bundle itself is not read again.
    w.files.delete(&["artifacts/1/b1".to_owned()]).await.unwrap();
    handle(&w.deps, &queued(&event, now()), 1).await.unwrap();
    assert_eq!(handed_back(&w)["exception"]["values"][0]["stacktrace"]["frames"][1]["function"], "explode");
}

#[tokio::test]
async fn script_frames_resolve_by_release_and_url() {
    let w = world();
    add_bundle(&w, "old", None, Some("web@0")).await;
    add_bundle(&w, "b2", None, Some("web@1")).await;
    let mut event = script_event("https://example.com/dist/app.min.js?v=3");
    event["release"] = json!("web@1");
    handle(&w.deps, &queued(&event, now()), 1).await.unwrap();
    let frame = &handed_back(&w)["exception"]["values"][0]["stacktrace"]["frames"][1];
    assert_eq!(
        (frame["function"].clone(), frame["data"]["resolved_with"].clone()),
        (json!("explode"), json!("release"))
    );
    assert_eq!(frame["data"]["sourcemap"], "~/dist/app.min.js.map");

    // Another release's bundle is not used.
    event["release"] = json!("web@2");
    handle(&w.deps, &queued(&event, now()), 1).await.unwrap();
    assert_eq!(handed_back(&w)["exception"]["values"][0]["stacktrace"]["frames"][1]["symbolicator_status"], "missing");
}

#[tokio::test]
async fn failing_symbolication_is_retried_then_given_up_with_a_reason() {
    let w = world();
    add_bundle(&w, "b1", Some(DEBUG_ID), None).await;
    let mut event = script_event("/srv/app/dist/app.min.js");
    event["debug_meta"] =
        json!({"images": [{"type": "sourcemap", "code_file": "/srv/app/dist/app.min.js", "debug_id": DEBUG_ID}]});
    *w.files.fail.lock().unwrap() = true;
    for attempt in 1..GIVE_UP_AFTER {
        assert!(matches!(handle(&w.deps, &queued(&event, now()), attempt).await, Err(Error::Store(_))));
    }
    assert!(w.queue.messages().is_empty(), "retried, not handed back");
    handle(&w.deps, &queued(&event, now()), GIVE_UP_AFTER).await.unwrap();
    let back = handed_back(&w);
    let frames = &back["exception"]["values"][0]["stacktrace"]["frames"];
    assert_eq!(
        (frames[1]["function"].clone(), frames[1]["symbolicator_status"].clone()),
        (json!("a"), json!("symbolication_failed"))
    );
    assert_eq!(back["errors"][0]["type"], "symbolication_failed");
    assert!(back["errors"][0]["reason"].as_str().unwrap().contains("failed 3 times"), "{back}");
    assert!(!needs(&back), "stored now, never handed over again");

    // An event that waited longer than allowed is handed back at once, the stores untouched.
    let old = now() - MAX_WAIT_MS - 1000;
    handle(&w.deps, &queued(&event, old), 1).await.unwrap();
    let back = handed_back(&w);
    assert_eq!(back["errors"][0]["type"], "symbolication_timeout");
    assert!(back["errors"][0]["reason"].as_str().unwrap().starts_with("waited 60"), "{back}");
}

#[tokio::test]
async fn what_the_processor_never_sends_is_refused_for_the_dlq() {
    let w = world();
    let mut q = queued(&json!({}), now());
    q.payload = QueuedPayload::Inline("%%%".into());
    assert!(matches!(handle(&w.deps, &q, 1).await, Err(Error::Invalid(_))));
}

fn needs(event: &Value) -> bool {
    errata_domain::symbols::needs_symbols(event)
}

#[test]
fn the_richest_newest_debug_file_wins() {
    let file = |id: &str, features: &[&str], created_at: i64| DebugFile {
        id: id.into(),
        project_id: 1,
        debug_id: "d".into(),
        code_id: None,
        object_name: "app".into(),
        cpu_name: "x86_64".into(),
        file_format: "elf".into(),
        object_kind: "executable".into(),
        features: features.iter().map(|f| (*f).to_owned()).collect(),
        sha1: id.into(),
        size: 0,
        created_at,
        key: id.into(),
    };
    let files = vec![
        file("stripped", &["symtab", "unwind"], 9),
        file("full", &["symtab", "debug", "unwind"], 1),
        file("again", &["symtab", "debug", "unwind"], 2),
    ];
    assert_eq!(best_file(&files, "d", "debug").unwrap().id, "again");
    assert_eq!(best_file(&files, "d", "unwind").unwrap().id, "again");
    assert!(best_file(&files, "other", "debug").is_none());
}

#[tokio::test]
async fn an_unreadable_or_missing_minidump_is_stored_saying_why() {
    let w = world();
    let placeholder = |key: &str| {
        json!({
            "event_id": EVENT,
            "platform": "native",
            "exception": {"values": [{"type": "Minidump", "value": "Native crash (minidump not yet symbolicated)",
                                      "mechanism": {"type": "minidump", "handled": false}}]},
            "attachments": [{"type": "event.minidump", "key": key, "name": "crash.dmp"}]
        })
    };
    let own = format!("attachments/1/{EVENT}/0-crash.dmp");
    let foreign = format!("attachments/2/{EVENT}/0-crash.dmp");
    for key in [&own, &foreign] {
        w.deps.events.put(key, b"MDMP\x93\xa7\x00\x00".to_vec(), "application/octet-stream").await.unwrap();
    }
    for (key, status, kind) in [
        (own.as_str(), "unreadable", "minidump_invalid"),
        (&format!("attachments/1/{EVENT}/1-gone.dmp"), "missing", "minidump_missing"),
        // Another project's dump, named by a forged reference: never read (it would have been
        // found unreadable otherwise, as the same bytes in the event's own folder are).
        (&foreign, "missing", "minidump_missing"),
        ("attachments/1/e/0-crash.dmp", "missing", "minidump_missing"),
    ] {
        let event = placeholder(key);
        assert!(needs(&event));
        handle(&w.deps, &queued(&event, now()), 1).await.unwrap();
        let back = handed_back(&w);
        let exception = &back["exception"]["values"][0];
        assert_eq!(exception["mechanism"]["data"]["minidump"], status, "{back}");
        assert!(
            exception["value"].as_str().unwrap().starts_with("Native crash (the minidump could not be read: "),
            "{exception}"
        );
        assert_eq!(back["errors"][0]["type"], kind);
        assert!(!needs(&back), "not handed over again");
    }
}
