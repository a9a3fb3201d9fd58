//! Size limits, as Sentry's Relay sets them, within what API Gateway (10 MB request) and
//! Lambda (6 MB invoke, so ~4.4 MB of body after base64) can carry. A request over a limit is
//! refused whole with 413 and a message naming the limit.

use errata_protocol::Envelope;

/// Largest decoded request body: a compressed body may inflate up to here, no further.
pub const MAX_DECODED_BYTES: usize = 20 * 1024 * 1024;
/// Largest event, transaction or security report (decoded JSON).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Largest total of attachments (incl. minidumps) in one request.
pub const MAX_ATTACHMENTS_BYTES: usize = 20 * 1024 * 1024;
/// Largest cron check-in.
pub const MAX_CHECK_IN_BYTES: usize = 100 * 1024;
/// Largest session or session aggregate item, client report, user report or feedback.
pub const MAX_SMALL_ITEM_BYTES: usize = 1024 * 1024;
/// Most items in one envelope.
pub const MAX_ITEMS: usize = 1000;

/// Checks an envelope against the limits; the error is the 413 message.
pub fn check(envelope: &Envelope) -> Result<(), String> {
    if envelope.items.len() > MAX_ITEMS {
        return Err(format!("the envelope has {} items; at most {MAX_ITEMS} are accepted", envelope.items.len()));
    }
    let mut attachments = 0usize;
    for item in &envelope.items {
        let len = item.payload.len();
        let limit = match item.header.ty.as_str() {
            "event" | "transaction" | "security" | "raw_security" => MAX_EVENT_BYTES,
            "attachment" => {
                attachments += len;
                MAX_ATTACHMENTS_BYTES
            }
            "check_in" => MAX_CHECK_IN_BYTES,
            "session" | "sessions" | "client_report" | "user_report" | "feedback" => MAX_SMALL_ITEM_BYTES,
            _ => MAX_DECODED_BYTES,
        };
        if len > limit {
            return Err(format!("the {} item is {len} bytes; the limit is {limit} bytes", item.header.ty));
        }
    }
    if attachments > MAX_ATTACHMENTS_BYTES {
        return Err(format!("the attachments total {attachments} bytes; the limit is {MAX_ATTACHMENTS_BYTES} bytes"));
    }
    Ok(())
}
