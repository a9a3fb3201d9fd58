//! A first, honest grouping algorithm, in Sentry's order of precedence:
//! the SDK's fingerprint → in-app frames of the stack trace → exception type (and value when
//! there is no stack) → the message. The components that produced the hash are kept so the UI
//! can explain why two events grouped.

use errata_protocol::{Event, Exception, Frame};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Stored with every issue; bump it when the algorithm changes what it hashes.
pub const GROUPING_VERSION: &str = "errata:2026-11";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grouping {
    /// 32 hex digits, like Sentry's group hashes.
    pub hash: String,
    /// Which rule produced the hash: `fingerprint`, `stacktrace`, `exception`, `message`, `fallback`.
    pub variant: String,
    /// The values hashed, in order.
    pub components: Vec<String>,
    pub version: String,
}

impl Grouping {
    pub fn of(event: &Event) -> Grouping {
        let default = default_components(event);
        match custom_fingerprint(event) {
            Some(parts) => {
                let mut components = Vec::new();
                for part in parts {
                    if part == "{{ default }}" || part == "{{default}}" {
                        components.extend(default.1.iter().cloned());
                    } else {
                        components.push(part);
                    }
                }
                Grouping::new("fingerprint", components)
            }
            None => Grouping::new(default.0, default.1),
        }
    }

    fn new(variant: &str, components: Vec<String>) -> Grouping {
        let mut md5 = Md5::new();
        for c in &components {
            md5.update(c.as_bytes());
            md5.update([0]);
        }
        Grouping {
            hash: hex::encode(md5.finalize()),
            variant: variant.to_owned(),
            components,
            version: GROUPING_VERSION.to_owned(),
        }
    }
}

/// The SDK's fingerprint, unless it is just `{{ default }}` (the same as having none).
fn custom_fingerprint(event: &Event) -> Option<Vec<String>> {
    let parts: Vec<String> = event
        .fingerprint
        .as_ref()?
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let only_default = parts.iter().all(|p| p == "{{ default }}" || p == "{{default}}");
    (!parts.is_empty() && !only_default).then_some(parts)
}

fn default_components(event: &Event) -> (&'static str, Vec<String>) {
    let exceptions = event.exceptions();
    if !exceptions.is_empty() {
        let mut frames_found = false;
        let mut components = Vec::new();
        for exc in exceptions {
            components.push(exc.ty.clone().unwrap_or_else(|| "Error".into()));
            let frames = grouping_frames(exc);
            if !frames.is_empty() {
                frames_found = true;
                components.extend(frames.iter().map(|f| frame_component(f)));
            }
        }
        if frames_found {
            return ("stacktrace", components);
        }
        // No usable stack: type and value of every exception in the chain.
        let components = exceptions
            .iter()
            .flat_map(|e| [e.ty.clone().unwrap_or_else(|| "Error".into()), e.value.clone().unwrap_or_default()])
            .collect();
        return ("exception", components);
    }
    // A template with parameters groups as the template: "user %s failed" is one issue
    // whoever failed.
    let template = event.logentry.as_ref().filter(|le| le.other.contains_key("params")).and_then(|le| le.message.as_deref());
    if let Some(message) = template.or_else(|| event.message_text()) {
        return ("message", vec![strip_parameters(message)]);
    }
    ("fallback", vec![event.platform.clone().unwrap_or_default()])
}

/// In-app frames when the SDK marked any, otherwise all frames.
fn grouping_frames(exc: &Exception) -> Vec<&Frame> {
    let Some(st) = &exc.stacktrace else { return Vec::new() };
    let in_app: Vec<&Frame> = st.frames.iter().filter(|f| f.in_app == Some(true)).collect();
    if in_app.is_empty() {
        st.frames.iter().collect()
    } else {
        in_app
    }
}

/// Module or file, and function; line numbers are left out so edits elsewhere in a file do
/// not split an issue.
fn frame_component(frame: &Frame) -> String {
    let place =
        frame.module.clone().or_else(|| frame.filename.clone()).or_else(|| frame.abs_path.clone()).unwrap_or_default();
    let function = frame.function.as_deref().unwrap_or("?");
    format!("{place}:{function}")
}

/// Replaces the variable parts of a message (numbers, hex strings) so that
/// `"user 42 not found"` and `"user 43 not found"` group together.
pub fn strip_parameters(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_inclusive(|c: char| c.is_whitespace()) {
        let trimmed = word.trim_end();
        let tail = &word[trimmed.len()..];
        let core = trimmed.trim_matches(|c: char| matches!(c, ',' | '.' | ':' | ';' | '(' | ')' | '\'' | '"'));
        let is_param = !core.is_empty()
            && (core.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                || (core.len() >= 8 && core.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
                || core.starts_with("0x"));
        if is_param {
            out.push_str(&trimmed.replace(core, "<param>"));
        } else {
            out.push_str(trimmed);
        }
        out.push_str(tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn same_stack_different_lines_group_together() {
        let a = event(
            r#"{"exception":{"values":[{"type":"KeyError","value":"'a'","stacktrace":{"frames":[
            {"module":"app.views","function":"index","lineno":10,"in_app":true},
            {"module":"lib","function":"get","lineno":1,"in_app":false}]}}]}}"#,
        );
        let b = event(
            r#"{"exception":{"values":[{"type":"KeyError","value":"'b'","stacktrace":{"frames":[
            {"module":"app.views","function":"index","lineno":99,"in_app":true}]}}]}}"#,
        );
        assert_eq!(Grouping::of(&a).hash, Grouping::of(&b).hash);
        assert_eq!(Grouping::of(&a).variant, "stacktrace");
        assert_eq!(Grouping::of(&a).components, vec!["KeyError", "app.views:index"]);
    }

    #[test]
    fn different_types_or_functions_split() {
        let a = event(r#"{"exception":[{"type":"KeyError","stacktrace":{"frames":[{"module":"m","function":"f"}]}}]}"#);
        let b =
            event(r#"{"exception":[{"type":"ValueError","stacktrace":{"frames":[{"module":"m","function":"f"}]}}]}"#);
        let c = event(r#"{"exception":[{"type":"KeyError","stacktrace":{"frames":[{"module":"m","function":"g"}]}}]}"#);
        let hashes = [Grouping::of(&a).hash, Grouping::of(&b).hash, Grouping::of(&c).hash];
        assert_ne!(hashes[0], hashes[1]);
        assert_ne!(hashes[0], hashes[2]);
    }

    #[test]
    fn fingerprint_with_default() {
        let plain = event(r#"{"message":"boom"}"#);
        let fp = event(r#"{"message":"boom","fingerprint":["{{ default }}","tenant-a"]}"#);
        let only_default = event(r#"{"message":"boom","fingerprint":["{{ default }}"]}"#);
        assert_eq!(Grouping::of(&fp).components, vec!["boom", "tenant-a"]);
        assert_eq!(Grouping::of(&fp).variant, "fingerprint");
        assert_eq!(Grouping::of(&only_default).hash, Grouping::of(&plain).hash);
    }

    #[test]
    fn messages_group_without_parameters() {
        let a = event(r#"{"message":"user 42 not found"}"#);
        let b = event(r#"{"logentry":{"formatted":"user 1337 not found"}}"#);
        let t1 = event(r#"{"logentry":{"message":"login of %s refused","params":["ann"],"formatted":"login of ann refused"}}"#);
        let t2 = event(r#"{"logentry":{"message":"login of %s refused","params":["bob"],"formatted":"login of bob refused"}}"#);
        assert_eq!(Grouping::of(&t1).hash, Grouping::of(&t2).hash, "grouped by the template");
        assert_eq!(Grouping::of(&a).hash, Grouping::of(&b).hash);
        assert_eq!(strip_parameters("id deadbeef00 at 0x1f, took 3.5 s"), "id <param> at <param>, took <param> s");
    }

    #[test]
    fn exception_without_stack_uses_value() {
        let a = event(r#"{"exception":[{"type":"E","value":"x"}]}"#);
        let b = event(r#"{"exception":[{"type":"E","value":"y"}]}"#);
        assert_ne!(Grouping::of(&a).hash, Grouping::of(&b).hash);
        assert_eq!(Grouping::of(&a).variant, "exception");
    }
}
