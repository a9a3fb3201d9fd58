//! What native symbolication reads of an event: its images (`debug_meta.images`) and the
//! stack traces whose frames carry instruction addresses. The processor asks `needs_symbols`
//! to hand an event to the symbolicator; the symbolicator marks each frame it looked at
//! (`symbolicator_status`), so an event is handed over once.

use serde_json::Value;

/// A loaded module of the crashed process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub debug_id: String,
    pub image_addr: u64,
    pub image_size: u64,
}

/// An address as SDKs send it: `"0x…"` or a number.
pub fn address(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The event's images that name a debug id (lower case).
pub fn images(event: &Value) -> Vec<Image> {
    let list = event.pointer("/debug_meta/images").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|i| {
            Some(Image {
                debug_id: i.get("debug_id").and_then(Value::as_str)?.to_ascii_lowercase(),
                image_addr: address(i.get("image_addr")?)?,
                image_size: i.get("image_size").and_then(address).unwrap_or(0),
            })
        })
        .collect()
}

/// JSON pointers of the event's stack traces (exceptions' and threads').
pub fn stacktraces(event: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for list in ["/exception/values", "/threads/values"] {
        if let Some(values) = event.pointer(list).and_then(Value::as_array) {
            for (i, v) in values.iter().enumerate() {
                if v.get("stacktrace").is_some() {
                    out.push(format!("{list}/{i}/stacktrace"));
                }
            }
        }
    }
    out
}

/// Whether the event has native frames no symbolicator has looked at yet.
pub fn needs_symbols(event: &Value) -> bool {
    !images(event).is_empty()
        && stacktraces(event).iter().any(|p| {
            event.pointer(&format!("{p}/frames")).and_then(Value::as_array).is_some_and(|frames| {
                frames.iter().any(|f| f.get("instruction_addr").is_some() && f.get("symbolicator_status").is_none())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn native_frames_with_images_need_symbols_once() {
        let mut event = json!({
            "exception": {"values": [{"stacktrace": {"frames": [{"instruction_addr": "0x1010"}]}}]},
            "debug_meta": {"images": [{"debug_id": "ABC", "image_addr": "0x1000", "image_size": 4096}]}
        });
        assert!(needs_symbols(&event));
        assert_eq!(images(&event), vec![Image { debug_id: "abc".into(), image_addr: 0x1000, image_size: 4096 }]);
        event["exception"]["values"][0]["stacktrace"]["frames"][0]["symbolicator_status"] = json!("missing");
        assert!(!needs_symbols(&event));
        assert!(!needs_symbols(&json!({"exception": {"values": [{"stacktrace": {"frames": [{"function": "f"}]}}]}})));
        assert!(
            !needs_symbols(
                &json!({"exception": {"values": [{"stacktrace": {"frames": [{"instruction_addr": "0x1"}]}}]}})
            ),
            "no images"
        );
    }
}
