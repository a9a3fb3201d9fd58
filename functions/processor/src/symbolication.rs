//! Handing error events with native or script frames to the symbolicator; they come back on the
//! envelope queue with their frames marked, and are stored then.

use crate::ProcessError;
use base64::Engine;
use errata_domain::queue::{QueuedEnvelope, QueuedPayload};
use errata_ports::EnvelopeQueue;
use errata_protocol::Envelope;
use serde_json::Value;

/// The largest event handed to the symbolicator inline (an SQS message holds 256 KiB, base64
/// takes a third more); larger ones are stored as sent.
const MAX_HANDOVER: usize = 180 * 1024;

/// Sends an event to the symbolication queue as a one-event envelope; false when it is too
/// large to, so it is stored unsymbolicated.
pub async fn hand_over(
    queue: &dyn EnvelopeQueue,
    queued: &QueuedEnvelope,
    event: &Value,
) -> Result<bool, ProcessError> {
    let bytes = Envelope::of_events(std::slice::from_ref(event)).to_bytes();
    if bytes.len() > MAX_HANDOVER {
        tracing::warn!(bytes = bytes.len(), "event too large to symbolicate; stored as sent");
        return Ok(false);
    }
    let handed = QueuedEnvelope {
        project_id: queued.project_id,
        received_ms: queued.received_ms,
        client_ip: queued.client_ip.clone(),
        payload: QueuedPayload::Inline(base64::engine::general_purpose::STANDARD.encode(bytes)),
        handback: false,
    };
    queue.send(&handed).await?;
    Ok(true)
}
