//! The normalization this slice does: ids, times, level and platform. The full Sentry
//! normalization (trimming, user agent parsing, clock drift from `sent_at`, …) comes with the
//! processing issue.

use errata_domain::summary::normalize_level;
use errata_domain::QueuedEnvelope;
use errata_protocol::envelope::normalize_event_id;
use errata_protocol::{Envelope, Timestamp};
use serde_json::json;

pub fn normalize(event: &mut errata_protocol::Event, envelope: &Envelope, queued: &QueuedEnvelope) {
    // Ingest guarantees envelopes with events carry an id in the header.
    let id = event
        .event_id
        .as_deref()
        .and_then(normalize_event_id)
        .or_else(|| envelope.header.event_id.clone())
        .unwrap_or_default();
    event.event_id = Some(id);

    let received = Timestamp::from_unix_millis(queued.received_ms).unwrap_or_else(Timestamp::now);
    // An event from the future (a client clock ahead) is placed at the time it was received.
    event.timestamp = Some(match event.timestamp {
        Some(t) if t <= received => t,
        _ => received,
    });
    event.other.insert("received".into(), json!(received.to_rfc3339()));
    event.level = Some(normalize_level(event.level.as_deref()));
    if event.platform.as_deref().is_none_or(str::is_empty) {
        event.platform = Some("other".into());
    }
}
