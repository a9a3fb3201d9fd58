//! What symbolication reads of an event: its images (`debug_meta.images`: native modules, and
//! the source maps JavaScript SDKs name by debug id) and the stack traces whose frames carry
//! instruction addresses (native) or line and column in a script (JavaScript). The processor
//! asks `needs_symbols` to hand an event to the symbolicator; the symbolicator marks each frame
//! it looked at (`symbolicator_status`), so an event is handed over once.

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

/// The event's source-map images: `(code_file, debug_id)`, the script's URL and the debug id
/// `sentry-cli sourcemaps inject` gave it (lower case).
pub fn sourcemap_images(event: &Value) -> Vec<(String, String)> {
    let list = event.pointer("/debug_meta/images").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("sourcemap"))
        .filter_map(|i| {
            let file = i.get("code_file").and_then(Value::as_str)?;
            let id = i.get("debug_id").and_then(Value::as_str)?;
            Some((file.to_owned(), id.to_ascii_lowercase()))
        })
        .collect()
}

/// Platforms whose frames are JavaScript.
fn is_js_platform(platform: Option<&str>) -> bool {
    matches!(platform, Some("javascript" | "node"))
}

/// What kind of symbolication a frame could get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// An instruction address within a native module.
    Native,
    /// A position (line and column) in a script a source map may resolve.
    Script,
}

/// What a frame of an event on `platform` could be symbolicated as, if anything.
pub fn frame_kind(platform: Option<&str>, frame: &Value) -> Option<FrameKind> {
    if frame.get("instruction_addr").is_some() {
        return Some(FrameKind::Native);
    }
    let platform = frame.get("platform").and_then(Value::as_str).or(platform);
    let positioned = frame.get("lineno").is_some_and(Value::is_u64) && frame.get("colno").is_some_and(Value::is_u64);
    (is_js_platform(platform) && positioned && script_path(frame).is_some()).then_some(FrameKind::Script)
}

/// Where a script frame's code is: its `abs_path`, or the `filename` Node's SDK sends alone.
pub fn script_path(frame: &Value) -> Option<&str> {
    let path = |key| frame.get(key).and_then(Value::as_str).filter(|p| !p.is_empty());
    path("abs_path").or_else(|| path("filename"))
}

/// Whether a frame still waits for a symbolicator.
fn pending(platform: Option<&str>, frame: &Value, native: bool, scripts: bool) -> bool {
    frame.get("symbolicator_status").is_none()
        && match frame_kind(platform, frame) {
            Some(FrameKind::Native) => native,
            Some(FrameKind::Script) => scripts,
            None => false,
        }
}

/// Every frame of the event's stack traces, mutably.
fn frames_mut(event: &mut Value, mut each: impl FnMut(&mut Value)) {
    for pointer in stacktraces(event) {
        if let Some(frames) = event.pointer_mut(&format!("{pointer}/frames")).and_then(Value::as_array_mut) {
            frames.iter_mut().for_each(&mut each);
        }
    }
}

/// The events-bucket key of the event's minidump while it waits for the stack walker: the
/// event carries a minidump attachment and the placeholder exception (mechanism `minidump`)
/// that no walker has marked (`mechanism.data.minidump`) yet.
pub fn pending_minidump(event: &Value) -> Option<&str> {
    let mechanism = event.pointer("/exception/values/0/mechanism")?;
    if mechanism.get("type").and_then(Value::as_str) != Some("minidump")
        || mechanism.pointer("/data/minidump").is_some()
    {
        return None;
    }
    let attachments = event.get("attachments").and_then(Value::as_array)?;
    attachments
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("event.minidump"))
        .and_then(|a| a.get("key").and_then(Value::as_str))
}

/// Marks the event's minidump as looked at: `processed`, or why not.
pub fn mark_minidump(event: &mut Value, status: &str) {
    if let Some(mechanism) = event.pointer_mut("/exception/values/0/mechanism").filter(|m| m.is_object()) {
        if !mechanism.get("data").is_some_and(Value::is_object) {
            mechanism["data"] = serde_json::json!({});
        }
        mechanism["data"]["minidump"] = status.into();
    }
}

/// Adds a processing error (as Sentry lists them in `errors`).
pub fn add_error(event: &mut Value, kind: &str, reason: &str) {
    let error = serde_json::json!({ "type": kind, "reason": reason });
    match event.get_mut("errors").and_then(Value::as_array_mut) {
        Some(errors) => errors.push(error),
        None => event["errors"] = serde_json::json!([error]),
    }
}

/// Whether the event has a minidump to walk, or frames no symbolicator has looked at yet that it could resolve:
/// native frames when the event names its images, script frames when it names source maps by
/// debug id or has a release (whose uploaded bundles may hold them).
pub fn needs_symbols(event: &Value) -> bool {
    let native = !images(event).is_empty();
    let scripts = !sourcemap_images(event).is_empty() || event.get("release").is_some_and(Value::is_string);
    let platform = event.get("platform").and_then(Value::as_str);
    if pending_minidump(event).is_some() {
        return true;
    }
    (native || scripts)
        && stacktraces(event).iter().any(|p| {
            event
                .pointer(&format!("{p}/frames"))
                .and_then(Value::as_array)
                .is_some_and(|frames| frames.iter().any(|f| pending(platform, f, native, scripts)))
        })
}

/// What a symbolicator made of one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Not a frame it looks at: left alone.
    Skip,
    /// Looked at but not resolved: kept as sent, marked with this `symbolicator_status`.
    Mark(&'static str),
    /// Resolved into these frames (several when calls were inlined), outermost first.
    Frames(Vec<Value>),
}

/// Rewrites the frames of every stack trace with `resolve`. A stack trace in which some frame
/// was resolved keeps the frames as sent as its exception's (or thread's) `raw_stacktrace`.
pub fn rewrite_frames(event: &mut Value, resolve: &mut dyn FnMut(&Value) -> Resolved) {
    for pointer in stacktraces(event) {
        let Some(stacktrace) = event.pointer_mut(&pointer) else { continue };
        let Some(frames) = stacktrace.get("frames").and_then(Value::as_array).cloned() else { continue };
        let mut out = Vec::with_capacity(frames.len());
        let mut changed = false;
        for frame in &frames {
            match resolve(frame) {
                Resolved::Skip => out.push(frame.clone()),
                Resolved::Mark(status) => {
                    let mut marked = frame.clone();
                    marked["symbolicator_status"] = status.into();
                    out.push(marked);
                }
                Resolved::Frames(resolved) => {
                    changed = true;
                    out.extend(resolved);
                }
            }
        }
        stacktrace["frames"] = out.into();
        if changed {
            let parent = pointer.trim_end_matches("/stacktrace").to_owned();
            if let Some(owner) = event.pointer_mut(&parent) {
                if owner.get("raw_stacktrace").is_none() {
                    owner["raw_stacktrace"] = serde_json::json!({ "frames": frames });
                }
            }
        }
    }
}

/// Gives up on the event's pending frames: each is kept as sent, marked `status`, and the event
/// says why in its `errors` (as Sentry lists processing errors), so it is stored unsymbolicated
/// rather than held.
pub fn give_up(event: &mut Value, status: &'static str, reason: &str) {
    let platform = event.get("platform").and_then(Value::as_str).map(str::to_owned);
    let mut any = pending_minidump(event).is_some();
    if any {
        mark_minidump(event, status);
    }
    frames_mut(event, |f| {
        if pending(platform.as_deref(), f, true, true) {
            f["symbolicator_status"] = status.into();
            any = true;
        }
    });
    if any {
        add_error(event, status, reason);
    }
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

    #[test]
    fn script_frames_need_a_source_map_or_a_release() {
        let frame = json!({"filename": "app:///dist/a.js", "lineno": 1, "colno": 1200, "function": "r"});
        let mut event = json!({"platform": "node", "exception": {"values": [{"stacktrace": {"frames": [frame]}}]}});
        assert!(!needs_symbols(&event), "nothing to find a source map by");
        event["release"] = json!("1.0");
        assert!(needs_symbols(&event));
        event.as_object_mut().unwrap().remove("release");
        event["debug_meta"] =
            json!({"images": [{"type": "sourcemap", "code_file": "app:///dist/a.js", "debug_id": "AB-CD"}]});
        assert!(needs_symbols(&event));
        assert_eq!(sourcemap_images(&event), vec![("app:///dist/a.js".to_owned(), "ab-cd".to_owned())]);
        event["platform"] = json!("python");
        assert!(!needs_symbols(&event), "not a script");
    }

    #[test]
    fn rewriting_keeps_the_raw_frames_and_giving_up_says_why() {
        let mut event = json!({"platform": "javascript", "release": "1",
        "exception": {"values": [{"stacktrace": {"frames": [
            {"abs_path": "https://x/a.js", "lineno": 1, "colno": 5},
            {"abs_path": "https://x/b.js", "lineno": 1, "colno": 9},
            {"function": "native code"}
        ]}}]}});
        rewrite_frames(&mut event, &mut |f| match f["abs_path"].as_str() {
            Some("https://x/a.js") => {
                Resolved::Frames(vec![json!({"function": "original", "symbolicator_status": "symbolicated"})])
            }
            Some(_) => Resolved::Mark("missing"),
            None => Resolved::Skip,
        });
        let frames = &event["exception"]["values"][0]["stacktrace"]["frames"];
        assert_eq!(frames[0]["function"], "original");
        assert_eq!(frames[1]["symbolicator_status"], "missing");
        assert!(frames[2].get("symbolicator_status").is_none());
        assert_eq!(event["exception"]["values"][0]["raw_stacktrace"]["frames"][0]["colno"], 5);
        assert!(!needs_symbols(&event));

        let mut waiting = json!({"platform": "node", "release": "1", "errors": [{"type": "invalid_data"}],
            "exception": {"values": [{"stacktrace": {"frames": [{"abs_path": "/a.js", "lineno": 1, "colno": 2}]}}]}});
        give_up(&mut waiting, "timeout", "symbolication took longer than 300 s");
        assert_eq!(waiting["exception"]["values"][0]["stacktrace"]["frames"][0]["symbolicator_status"], "timeout");
        assert_eq!(waiting["errors"][1], json!({"type": "timeout", "reason": "symbolication took longer than 300 s"}));
        assert!(!needs_symbols(&waiting));
    }

    #[test]
    fn a_minidump_waits_for_the_walker_once() {
        let mut event = json!({
            "exception": {"values": [{"type": "Minidump", "mechanism": {"type": "minidump", "handled": false}}]},
            "attachments": [{"type": "event.attachment", "key": "a"}, {"type": "event.minidump", "key": "attachments/1/e/1-dump"}]
        });
        assert_eq!(pending_minidump(&event), Some("attachments/1/e/1-dump"));
        assert!(needs_symbols(&event));
        give_up(&mut event, "symbolication_timeout", "too slow");
        assert_eq!(event["exception"]["values"][0]["mechanism"]["data"]["minidump"], "symbolication_timeout");
        assert_eq!(event["errors"][0]["type"], "symbolication_timeout");
        assert!(!needs_symbols(&event));
        let sdk_exception = json!({"exception": {"values": [{"type": "E", "mechanism": {"type": "generic"}}]},
            "attachments": [{"type": "event.minidump", "key": "k"}]});
        assert_eq!(pending_minidump(&sdk_exception), None, "the SDK already described the crash");
    }
}
