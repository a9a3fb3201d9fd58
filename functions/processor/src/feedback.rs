//! User feedback: the `feedback` item (an event whose `contexts.feedback` holds the message)
//! and the legacy `user_report` item. Feedback is stored once the batch's events are
//! recorded, attached to the issue of the event it names when that event is known; otherwise
//! it is kept unattached and listed with the project.

use crate::ProcessError;
use errata_domain::{Feedback, Timestamp};
use errata_protocol::envelope::normalize_event_id;
use errata_protocol::Envelope;
use serde_json::Value;

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty())
}

/// The feedback in a `feedback` or `user_report` item; its issue is found later.
pub fn parse(
    project_id: u64,
    envelope: &Envelope,
    ty: &str,
    payload: &[u8],
    received: Timestamp,
) -> Result<Feedback, ProcessError> {
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| ProcessError::Invalid(format!("feedback is not JSON: {e}")))?;
    let (id, event_id, name, email, comments, url) = if ty == "feedback" {
        let id =
            text(&v, "/event_id").and_then(|i| normalize_event_id(&i)).or_else(|| envelope.header.event_id.clone());
        (
            id,
            text(&v, "/contexts/feedback/associated_event_id"),
            text(&v, "/contexts/feedback/name"),
            text(&v, "/contexts/feedback/contact_email"),
            text(&v, "/contexts/feedback/message"),
            text(&v, "/contexts/feedback/url"),
        )
    } else {
        // A user report has no id of its own: the event it is about and what was written make one.
        let event_id = text(&v, "/event_id");
        let id = crate::derived_id(&String::from_utf8_lossy(payload), 0);
        (Some(id), event_id, text(&v, "/name"), text(&v, "/email"), text(&v, "/comments"), None)
    };
    let comments = comments.ok_or_else(|| ProcessError::Invalid("feedback without a message".into()))?;
    Ok(Feedback {
        project_id,
        id: id.ok_or_else(|| ProcessError::Invalid("feedback without an id".into()))?,
        issue_id: None,
        event_id: event_id.and_then(|e| normalize_event_id(&e)),
        name: name.unwrap_or_default(),
        email: email.unwrap_or_default(),
        comments,
        url,
        timestamp: v.get("timestamp").and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or(received),
    })
}
