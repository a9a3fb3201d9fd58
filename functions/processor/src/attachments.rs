//! Attachments: stored in the events bucket under their event and listed on the event.
//! A minidump attachment also marks its event as a native crash until symbolication
//! (its own issue) reads the dump.

use crate::{Deps, ProcessError};
use errata_protocol::Envelope;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAttachment {
    pub name: String,
    /// `event.attachment`, `event.minidump`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub size: usize,
    pub content_type: Option<String>,
    pub key: String,
}

/// Fields of a stored event that only the server writes; a client's values are dropped before
/// anything reads them. `attachments` holds references to stored objects (keys and sizes);
/// the grouping is computed.
const SERVER_FIELDS: &[&str] = &["attachments", "grouping"];

/// Removes the server-owned fields from an event a client sent.
pub fn strip_server_fields(event: &mut Value) {
    if let Some(fields) = event.as_object_mut() {
        for name in SERVER_FIELDS {
            if fields.remove(*name).is_some() {
                tracing::debug!(field = name, "dropped a server-owned field sent by a client");
            }
        }
    }
}

/// Stores every attachment item of the envelope in the folder of the event that owns them
/// (see `errata_domain::storage`); keys are stable, so redelivery rewrites.
pub async fn store(
    deps: &Deps,
    project_id: u64,
    event_id: &str,
    envelope: &Envelope,
) -> Result<Vec<StoredAttachment>, ProcessError> {
    let mut stored = Vec::new();
    for (index, item) in envelope.items.iter().enumerate().filter(|(_, i)| i.header.ty == "attachment") {
        let name = item.header.filename.clone().unwrap_or_else(|| format!("attachment-{index}"));
        let key = errata_domain::storage::attachment_key(project_id, event_id, index, &name);
        let content_type = item.header.content_type.clone();
        deps.events
            .put(&key, item.payload.clone(), content_type.as_deref().unwrap_or("application/octet-stream"))
            .await?;
        let kind = item.header.other.get("attachment_type").and_then(|v| v.as_str()).unwrap_or("event.attachment");
        stored.push(StoredAttachment { name, kind: kind.to_owned(), size: item.payload.len(), content_type, key });
    }
    Ok(stored)
}

/// A minidump event without an exception gets the placeholder Sentry shows before the dump
/// is processed: a fatal, unhandled native crash.
pub fn mark_minidump_crash(event: &mut Value) {
    let has_exception = match event.get("exception") {
        Some(Value::Object(e)) => e.get("values").and_then(Value::as_array).is_some_and(|v| !v.is_empty()),
        Some(Value::Array(v)) => !v.is_empty(),
        _ => false,
    };
    if has_exception {
        return;
    }
    event["exception"] = json!({"values": [{
        "type": "Minidump",
        "value": "Native crash (minidump not yet symbolicated)",
        "mechanism": {"type": "minidump", "handled": false, "synthetic": true},
    }]});
    event["level"] = json!("fatal");
    if event.get("platform").and_then(Value::as_str).is_none() {
        event["platform"] = json!("native");
    }
}
