//! Sentry envelopes: a JSON header line, then items, each a JSON header line and a payload
//! that is either `length` bytes long or runs to the next newline.
//! <https://develop.sentry.dev/sdk/data-model/envelopes/>

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// A parsed envelope. Payloads are kept as bytes: ingest never needs more than the headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub header: EnvelopeHeader,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeHeader {
    /// Event id, hyphenated or not; normalized by [`normalize_event_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The DSN the SDK was configured with; tunnels rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// When the SDK sent the envelope (RFC 3339), for clock-drift correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// Everything else (`sdk`, `trace`, …) is kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub header: ItemHeader,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemHeader {
    /// `event`, `transaction`, `attachment`, `session`, … Unknown types are kept.
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("empty envelope")]
    Empty,
    #[error("invalid envelope header: {0}")]
    BadHeader(String),
    #[error("invalid header of item {index}: {reason}")]
    BadItemHeader { index: usize, reason: String },
    #[error("item {index} claims {length} bytes but only {available} remain")]
    Truncated { index: usize, length: u64, available: usize },
    #[error("invalid event id {0:?}: expected 32 hex digits")]
    BadEventId(String),
    #[error("the envelope has more than {0} items")]
    TooManyItems(usize),
}

impl Envelope {
    /// Parses an envelope. Lenient where SDKs differ (a trailing newline or not, `length`
    /// present or not, blank lines between items), strict where data would be misread.
    pub fn parse(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::parse_limited(bytes, usize::MAX)
    }

    /// Parses an envelope of at most `max_items` items: reading stops at the first item past
    /// the limit, so a body of a million tiny items costs no more than the limit's worth.
    pub fn parse_limited(bytes: &[u8], max_items: usize) -> Result<Self, EnvelopeError> {
        let (header_line, mut rest) = split_line(bytes);
        if header_line.iter().all(u8::is_ascii_whitespace) {
            return Err(EnvelopeError::Empty);
        }
        let mut header: EnvelopeHeader =
            serde_json::from_slice(header_line).map_err(|e| EnvelopeError::BadHeader(e.to_string()))?;
        if let Some(id) = header.event_id.take() {
            header.event_id = Some(normalize_event_id(&id).ok_or(EnvelopeError::BadEventId(id))?);
        }
        let mut items = Vec::new();
        loop {
            // Skip blank lines between items.
            while let Some((b'\n' | b'\r', tail)) = rest.split_first() {
                rest = tail;
            }
            if rest.is_empty() {
                break;
            }
            let index = items.len();
            if index == max_items {
                return Err(EnvelopeError::TooManyItems(max_items));
            }
            let (line, tail) = split_line(rest);
            let header: ItemHeader = serde_json::from_slice(line)
                .map_err(|e| EnvelopeError::BadItemHeader { index, reason: e.to_string() })?;
            let (payload, tail) = match header.length {
                Some(length) => {
                    let n = usize::try_from(length).unwrap_or(usize::MAX);
                    if n > tail.len() {
                        return Err(EnvelopeError::Truncated { index, length, available: tail.len() });
                    }
                    let (payload, tail) = tail.split_at(n);
                    // The newline after a length-delimited payload is optional.
                    (payload, tail.strip_prefix(b"\n").unwrap_or(tail))
                }
                None => split_line(tail),
            };
            items.push(Item { header, payload: payload.to_vec() });
            rest = tail;
        }
        Ok(Envelope { header, items })
    }

    /// An envelope carrying these events as `event` items (the processor and the symbolicator
    /// hand events to each other this way); its id is the first event's.
    pub fn of_events(events: &[Value]) -> Envelope {
        let event_id = events.first().and_then(|e| e.get("event_id")).and_then(Value::as_str).map(str::to_owned);
        let items = events
            .iter()
            .map(|e| Item {
                header: ItemHeader { ty: "event".into(), ..ItemHeader::default() },
                payload: serde_json::to_vec(e).unwrap_or_default(),
            })
            .collect();
        Envelope { header: EnvelopeHeader { event_id, ..EnvelopeHeader::default() }, items }
    }

    /// Serializes the envelope with explicit lengths, the form every reader accepts.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.header).unwrap_or_default();
        out.push(b'\n');
        for item in &self.items {
            let mut header = item.header.clone();
            header.length = Some(item.payload.len() as u64);
            out.extend(serde_json::to_vec(&header).unwrap_or_default());
            out.push(b'\n');
            out.extend(&item.payload);
            out.push(b'\n');
        }
        out
    }

    /// The event id of the envelope: the header's, else the one inside an event-like item.
    pub fn event_id(&self) -> Option<String> {
        if let Some(id) = &self.header.event_id {
            return Some(id.clone());
        }
        self.items
            .iter()
            .filter(|i| matches!(i.header.ty.as_str(), "event" | "transaction" | "security" | "feedback"))
            .find_map(|i| {
                #[derive(Deserialize)]
                struct Id {
                    event_id: Option<String>,
                }
                serde_json::from_slice::<Id>(&i.payload).ok()?.event_id.as_deref().and_then(normalize_event_id)
            })
    }
}

impl ItemHeader {
    /// The data category the item counts against (Sentry's names, as used in rate limits).
    pub fn category(&self) -> &'static str {
        match self.ty.as_str() {
            "event" => "error",
            "transaction" => "transaction",
            "security" | "raw_security" => "security",
            "attachment" => "attachment",
            "session" | "sessions" => "session",
            "user_report" => "user_report",
            "feedback" => "feedback",
            "check_in" => "monitor",
            "client_report" => "internal",
            "profile" | "profile_chunk" => "profile",
            "replay_event" | "replay_recording" | "replay_video" => "replay",
            "statsd" | "metric_buckets" | "trace_metric" => "metric_bucket",
            "log" | "otel_log" => "log_item",
            "span" | "otel_span" => "span",
            _ => "unknown",
        }
    }
}

/// Accepts a UUID with or without hyphens (any case) and returns 32 lowercase hex digits.
pub fn normalize_event_id(id: &str) -> Option<String> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    (hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|b| *b == b'\n') {
        Some(i) => {
            let line = &bytes[..i];
            (line.strip_suffix(b"\r").unwrap_or(line), &bytes[i + 1..])
        }
        None => (bytes, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_delimited_and_newline_delimited_items() {
        let raw = b"{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\",\"dsn\":\"https://k@h/1\"}\n\
{\"type\":\"attachment\",\"length\":10,\"filename\":\"a.txt\"}\n\xef\xbb\xbfHello\r\n\n\
{\"type\":\"event\"}\n{\"message\":\"hi\"}\n";
        let env = Envelope::parse(raw).unwrap();
        assert_eq!(env.header.event_id.as_deref(), Some("9ec79c33ec9942ab8353589fcb2e04dc"));
        assert_eq!(env.items.len(), 2);
        assert_eq!(env.items[0].payload, b"\xef\xbb\xbfHello\r\n");
        assert_eq!(env.items[1].header.ty, "event");
        assert_eq!(env.items[1].payload, b"{\"message\":\"hi\"}");
        let again = Envelope::parse(&env.to_bytes()).unwrap();
        assert_eq!(again.header, env.header);
        let shape = |e: &Envelope| e.items.iter().map(|i| (i.header.ty.clone(), i.payload.clone())).collect::<Vec<_>>();
        assert_eq!(shape(&again), shape(&env));
        assert_eq!(again.items[1].header.length, Some(16), "written with explicit lengths");
    }

    #[test]
    fn unknown_header_fields_round_trip_exactly() {
        // Found by the envelope fuzzer: floats must survive parse + serialize unchanged.
        let env = Envelope::parse(b"{\"duration\":1.058061599731445,\"x\":[1e300]}\n").unwrap();
        assert_eq!(Envelope::parse(&env.to_bytes()).unwrap().header, env.header);
        assert_eq!(env.header.other["duration"].as_f64(), Some(1.058061599731445));
    }

    #[test]
    fn final_item_without_newline_and_unknown_types() {
        let env = Envelope::parse(b"{}\n{\"type\":\"fancy_new_thing\",\"x\":1}\n{}").unwrap();
        assert_eq!(env.items[0].header.ty, "fancy_new_thing");
        assert_eq!(env.items[0].header.other["x"], 1);
    }

    #[test]
    fn event_id_from_item_when_header_has_none() {
        let env = Envelope::parse(b"{}\n{\"type\":\"event\"}\n{\"event_id\":\"ABCDEF0123456789ABCDEF0123456789\"}\n")
            .unwrap();
        assert_eq!(env.event_id().as_deref(), Some("abcdef0123456789abcdef0123456789"));
    }

    #[test]
    fn rejects_broken_framing() {
        assert_eq!(Envelope::parse(b""), Err(EnvelopeError::Empty));
        assert!(matches!(Envelope::parse(b"not json\n"), Err(EnvelopeError::BadHeader(_))));
        assert!(matches!(
            Envelope::parse(b"{}\n{\"type\":\"event\",\"length\":99}\n{}"),
            Err(EnvelopeError::Truncated { index: 0, length: 99, .. })
        ));
        assert!(matches!(
            Envelope::parse(b"{}\n{\"length\":2}\n{}"),
            Err(EnvelopeError::BadItemHeader { index: 0, .. })
        ));
        assert!(matches!(Envelope::parse(b"{\"event_id\":\"xyz\"}\n"), Err(EnvelopeError::BadEventId(_))));
    }
}
