//! Normalization of what only the processor knows: ids, times (clock-drift correction from the
//! envelope's `sent_at`, events too far in the past or future placed at receipt), level,
//! platform and the `{{auto}}` user IP. The rest (messages, tags, contexts, limits) is
//! `errata_domain::normalize`, run next on the event's JSON.

use errata_domain::summary::normalize_level;
use errata_domain::QueuedEnvelope;
use errata_protocol::{Envelope, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

/// Clocks off by less than this are left alone: network and queue delays look like drift.
/// (Relay uses the same bound: only a clock that is clearly wrong, such as a wrong time zone,
/// is corrected.)
const MIN_CLOCK_DRIFT_SECS: i64 = 55 * 60;
/// Sentry keeps events at most 30 days old; older ones are placed at their receipt time.
const MAX_AGE_SECS: i64 = 30 * 86_400;
/// Small client clock skew into the future is tolerated silently.
const MAX_FUTURE_SECS: i64 = 60;

/// Normalizes the event's JSON in place (an object; anything else is made one).
pub fn normalize(event: &mut Value, envelope: &Envelope, queued: &QueuedEnvelope) {
    if !event.is_object() {
        *event = json!({});
    }
    // Ingest guarantees envelopes with events carry an id in the header.
    let id = crate::event_id_of(event, envelope.header.event_id.as_deref().unwrap_or_default());
    event["event_id"] = json!(id);

    let received = Timestamp::from_unix_millis(queued.received_ms).unwrap_or_else(Timestamp::now);
    let mut timestamp = event.get("timestamp").and_then(|t| Timestamp::deserialize(t).ok());
    if let Some(ts) = timestamp {
        if let Some((corrected, error)) = clock_drift(ts, envelope, received) {
            timestamp = Some(corrected);
            push_error(event, error);
        }
    }
    // An event from the future (a client clock ahead) or from too long ago is placed at the
    // time it was received, with the reason in `errors`.
    let received_ms = received.unix_millis();
    let problem = match timestamp {
        Some(t) if t.unix_millis() > received_ms + MAX_FUTURE_SECS * 1000 => Some("future_timestamp"),
        Some(t) if t.unix_millis() < received_ms - MAX_AGE_SECS * 1000 => Some("past_timestamp"),
        _ => None,
    };
    if let (Some(kind), Some(t)) = (problem, timestamp) {
        push_error(event, json!({"type": kind, "name": "timestamp", "value": t.to_rfc3339()}));
    }
    let timestamp = match timestamp {
        Some(t) if t <= received && problem.is_none() => t,
        _ => received,
    };
    event["timestamp"] = json!(timestamp.to_rfc3339());
    event["received"] = json!(received.to_rfc3339());
    let level = normalize_level(event.get("level").and_then(Value::as_str));
    event["level"] = json!(level);
    if event.get("platform").and_then(Value::as_str).is_none_or(str::is_empty) {
        event["platform"] = json!("other");
    }
    fill_auto_ip(event, queued.client_ip.as_deref());
}

/// When the SDK's clock (seen through `sent_at`) differs from ours by more than the bound,
/// the event time shifted by the difference, and the error that says so.
fn clock_drift(ts: Timestamp, envelope: &Envelope, received: Timestamp) -> Option<(Timestamp, Value)> {
    let sent_at = envelope.header.sent_at.as_deref().and_then(Timestamp::parse)?;
    let drift_ms = received.unix_millis() - sent_at.unix_millis();
    if drift_ms.abs() < MIN_CLOCK_DRIFT_SECS * 1000 {
        return None;
    }
    let corrected = Timestamp::from_unix_millis(ts.unix_millis() + drift_ms)?;
    Some((
        corrected,
        json!({"type": "clock_drift", "name": "timestamp", "sdk_time": sent_at.to_rfc3339(), "server_time": received.to_rfc3339()}),
    ))
}

/// Records a processing problem in the event's `errors`, as Sentry shows them.
fn push_error(event: &mut Value, error: Value) {
    if let Some(Value::Array(list)) = event.as_object_mut().map(|m| m.entry("errors").or_insert_with(|| json!([]))) {
        list.push(error);
    }
}

/// `{{auto}}` in `user.ip_address` or `request.env.REMOTE_ADDR` means "the address you saw".
fn fill_auto_ip(event: &mut Value, client_ip: Option<&str>) {
    let ip = client_ip.map(|ip| json!(ip)).unwrap_or(Value::Null);
    for pointer in ["/user/ip_address", "/request/env/REMOTE_ADDR"] {
        if let Some(slot) = event.pointer_mut(pointer) {
            if slot.as_str() == Some("{{auto}}") {
                *slot = ip.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use errata_domain::QueuedPayload;

    fn run(event: serde_json::Value, sent_at: Option<&str>, client_ip: Option<&str>) -> Value {
        let mut ev = event;
        let mut env = Envelope::parse(b"{}\n").unwrap();
        env.header.sent_at = sent_at.map(str::to_owned);
        let queued = QueuedEnvelope {
            project_id: 1,
            received_ms: 1_795_000_000_000, // 2026-11-18T11:06:40Z
            client_ip: client_ip.map(str::to_owned),
            payload: QueuedPayload::Inline(String::new()),
            handback: false,
        };
        normalize(&mut ev, &env, &queued);
        ev
    }

    #[test]
    fn corrects_a_clock_two_hours_behind_but_not_small_skew() {
        let ev = run(json!({"timestamp": "2026-11-18T09:06:30Z"}), Some("2026-11-18T09:06:39Z"), None);
        assert_eq!(ev["timestamp"].as_str().unwrap(), "2026-11-18T11:06:31.000Z");
        assert_eq!(ev["errors"][0]["type"], "clock_drift");
        let ev = run(json!({"timestamp": "2026-11-18T11:05:00Z"}), Some("2026-11-18T11:06:00Z"), None);
        assert_eq!(ev["timestamp"].as_str().unwrap(), "2026-11-18T11:05:00.000Z");
        assert!(ev.get("errors").is_none());
    }

    #[test]
    fn events_too_old_or_from_the_future_are_placed_at_receipt() {
        let ev = run(json!({"timestamp": "2026-09-01T00:00:00Z"}), None, None);
        assert_eq!(ev["timestamp"].as_str().unwrap(), "2026-11-18T11:06:40.000Z");
        assert_eq!(ev["errors"][0]["type"], "past_timestamp");
        let ev = run(json!({"timestamp": "2026-11-18T12:00:00Z"}), None, None);
        assert_eq!(ev["timestamp"].as_str().unwrap(), "2026-11-18T11:06:40.000Z");
        assert_eq!(ev["errors"][0]["type"], "future_timestamp");
        let ev = run(json!({"timestamp": "2026-11-18T11:07:00Z"}), None, None);
        assert_eq!(ev["timestamp"].as_str().unwrap(), "2026-11-18T11:06:40.000Z");
        assert!(ev.get("errors").is_none(), "20 s of skew is not worth an error");
    }

    #[test]
    fn auto_ip_is_the_client_address() {
        let ev = run(
            json!({"user": {"ip_address": "{{auto}}", "id": "1"}, "request": {"env": {"REMOTE_ADDR": "{{auto}}"}}}),
            None,
            Some("198.51.100.4"),
        );
        assert_eq!(ev["user"]["ip_address"], "198.51.100.4");
        assert_eq!(ev["request"]["env"]["REMOTE_ADDR"], "198.51.100.4");
        let ev = run(json!({"user": {"ip_address": "10.1.1.1"}}), None, Some("198.51.100.4"));
        assert_eq!(ev["user"]["ip_address"], "10.1.1.1");
    }
}
