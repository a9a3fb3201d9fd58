//! An event's row in the Parquet event store, taken from the normalized, scrubbed event.

use errata_domain::tags::{event_tags, plain, user_tag};
use errata_domain::{EventSummary, IssueId, Timestamp};
use errata_rows::EventRow;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn text(event: &Value, pointer: &str) -> Option<String> {
    event.pointer(pointer).filter(|v| !v.is_null()).map(plain).filter(|s| !s.is_empty())
}

/// A short digest of the event's user: what "users affected" counts, without the identity.
pub fn user_hash(event: &Value) -> Option<String> {
    let tag = user_tag(event)?;
    Some(hex::encode(&Sha256::digest(tag.as_bytes())[..12]))
}

/// The row of an error event (`issue` set) or a transaction (`issue` none).
pub fn event_row(event: &Value, summary: &EventSummary, issue: Option<IssueId>, received: Timestamp) -> EventRow {
    let timestamp =
        event.get("timestamp").and_then(|t| serde_json::from_value::<Timestamp>(t.clone()).ok()).unwrap_or(received);
    let exception = event.pointer("/exception/values").and_then(Value::as_array).and_then(|v| v.last());
    let duration_ms = match (event.get("start_timestamp"), issue) {
        (Some(start), None) => serde_json::from_value::<Timestamp>(start.clone())
            .ok()
            .map(|s| (timestamp.unix_millis() - s.unix_millis()) as f64),
        _ => None,
    };
    EventRow {
        event_id: text(event, "/event_id").unwrap_or_default(),
        issue_id: issue.map(|i| i.0 as i64),
        event_type: text(event, "/type").unwrap_or_else(|| summary.ty.clone()),
        timestamp: timestamp.unix_millis(),
        received: received.unix_millis(),
        level: summary.level.clone(),
        platform: text(event, "/platform").unwrap_or_else(|| "other".into()),
        release: text(event, "/release"),
        dist: text(event, "/dist"),
        environment: text(event, "/environment"),
        title: summary.title.clone(),
        culprit: Some(summary.culprit.clone()).filter(|c| !c.is_empty()),
        message: text(event, "/logentry/formatted").or_else(|| text(event, "/logentry/message")),
        exception_type: exception.and_then(|e| e.get("type")).map(plain),
        exception_value: exception.and_then(|e| e.get("value")).map(plain),
        transaction: text(event, "/transaction"),
        duration_ms,
        user_id: text(event, "/user/id"),
        user_email: text(event, "/user/email"),
        user_ip: text(event, "/user/ip_address"),
        user_hash: user_hash(event),
        sdk_name: text(event, "/sdk/name"),
        sdk_version: text(event, "/sdk/version"),
        os_name: text(event, "/contexts/os/name"),
        browser_name: text(event, "/contexts/browser/name"),
        device_family: text(event, "/contexts/device/family"),
        tags: event_tags(event),
    }
}
