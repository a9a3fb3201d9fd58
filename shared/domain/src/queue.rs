//! The message ingest puts on the envelope queue for the processor.

use serde::{Deserialize, Serialize};

/// One accepted envelope. Small envelopes travel inside the message; large ones are stored
/// first and the message carries a pointer (claim check), since SQS messages are small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEnvelope {
    pub project_id: u64,
    /// Milliseconds since the epoch when ingest accepted the envelope.
    pub received_ms: i64,
    /// The client address ingest saw, for `{{auto}}` user IPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    pub payload: QueuedPayload,
    /// Set by the symbolicator on the events it hands back: they are the processor's own
    /// output, so their server-made fields (`attachments`) are kept. Ingest never sets it, so
    /// every envelope from a client has those fields stripped and remade.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub handback: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueuedPayload {
    /// The decoded envelope bytes, base64.
    Inline(String),
    /// A key in the raw-payloads bucket holding the decoded envelope bytes.
    Stored(String),
}

/// Envelopes whose base64 form would push the message past SQS's 256 KiB default are stored.
pub const INLINE_LIMIT: usize = 180 * 1024;
