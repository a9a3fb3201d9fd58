//! Grouping, in Sentry's order of precedence: the SDK's fingerprint (with `{{ default }}`) →
//! in-app frames of the stack trace (module or normalized file name, and function; line numbers
//! ignored, anonymous functions one name) → exception type (and value when there is no stack) →
//! the message with its parameters (numbers, hex, UUIDs, IPs, e-mails, dates) replaced. The
//! components that produced the hash are kept so the UI can explain why two events grouped.

use errata_protocol::{Event, Exception, Frame};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Stored with every issue; bump it when the algorithm changes what it hashes.
pub const GROUPING_VERSION: &str = "errata:2026-11-25";

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
            // A synthetic exception (an SDK wrapping a message to carry its stack) has a
            // made-up type: Sentry leaves it out, and so does Errata.
            let synthetic = exc.mechanism.as_ref().and_then(|m| m.get("synthetic")) == Some(&Value::Bool(true));
            if !synthetic {
                components.push(exc.ty.clone().unwrap_or_else(|| "Error".into()));
            }
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
    // A message with a stack (a thread's) groups by the stack's in-app frames, as an exception
    // would; without in-app frames, by the message.
    if let Some(stack) = event.thread_stack() {
        let in_app: Vec<String> = stack.frames.iter().filter(|f| f.in_app == Some(true)).map(frame_component).collect();
        if !in_app.is_empty() {
            return ("threads", in_app);
        }
    }
    // A template with parameters groups as the template: "user %s failed" is one issue
    // whoever failed.
    let template = event.logentry.as_ref().filter(|le| le.params.is_some()).and_then(|le| le.message.as_deref());
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
    let place = match (&frame.module, frame.filename.as_ref().or(frame.abs_path.as_ref())) {
        (Some(module), _) => module.clone(),
        (None, Some(file)) => normalize_filename(file),
        (None, None) => String::new(),
    };
    format!("{place}:{}", normalize_function(frame.function.as_deref()))
}

/// A file name without what changes between deploys: the origin of a URL (`http://host:port`),
/// the query and fragment, and content hashes in bundle names (`app.3f9a2c1d.js`).
pub fn normalize_filename(file: &str) -> String {
    let without_origin = match file.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => file,
    };
    let path = without_origin.split(['?', '#']).next().unwrap_or("");
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let name: Vec<String> = name
        .split('.')
        .map(|part| {
            let pieces: Vec<&str> = part.split('-').collect();
            pieces.iter().map(|p| if is_hash(p) { "<hash>" } else { p }).collect::<Vec<_>>().join("-")
        })
        .collect();
    if dir.is_empty() && !path.starts_with('/') {
        name.join(".")
    } else {
        format!("{dir}/{}", name.join("."))
    }
}

/// A content hash or build id in a file name: 7+ hex digits with at least one digit and one
/// letter, or 6+ digits.
fn is_hash(s: &str) -> bool {
    let hex = s.len() >= 7 && s.chars().all(|c| c.is_ascii_hexdigit());
    let mixed = s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_ascii_alphabetic());
    (hex && mixed) || (s.len() >= 6 && s.chars().all(|c| c.is_ascii_digit()))
}

/// Anonymous functions under one name, whatever the language calls them; numbered lambdas
/// (`lambda$main$0`, `<lambda_1>`) without their numbers.
pub fn normalize_function(function: Option<&str>) -> String {
    let Some(f) = function.map(str::trim).filter(|f| !f.is_empty()) else { return "<anonymous>".into() };
    if matches!(f, "?" | "<anonymous>" | "anonymous" | "<lambda>" | "Anonymous function") {
        return "<anonymous>".into();
    }
    if let Some(rest) = f.strip_suffix(".<anonymous>") {
        return format!("{rest}.<anonymous>");
    }
    // Java/Kotlin `lambda$name$3`, Python `<lambda_2>`, C# `<Main>b__0_1`.
    let trimmed = f.trim_end_matches(|c: char| c.is_ascii_digit());
    if trimmed.len() < f.len() && (trimmed.ends_with('$') || trimmed.ends_with('_')) {
        return format!("{trimmed}<n>");
    }
    f.to_owned()
}

/// Replaces the variable parts of a message so that `"user 42 not found"` and `"user 43 not
/// found"` group together: numbers, hex strings, UUIDs, IP addresses, e-mail addresses and
/// dates/times each become a typed placeholder.
pub fn strip_parameters(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_inclusive(|c: char| c.is_whitespace()) {
        let trimmed = word.trim_end();
        let tail = &word[trimmed.len()..];
        let core = trimmed.trim_matches(|c: char| {
            matches!(c, ',' | '.' | ':' | ';' | '(' | ')' | '[' | ']' | '\'' | '"' | '<' | '>')
        });
        match parameter_kind(core) {
            Some(kind) => out.push_str(&trimmed.replacen(core, kind, 1)),
            None => out.push_str(trimmed),
        }
        out.push_str(tail);
    }
    out
}

fn parameter_kind(w: &str) -> Option<&'static str> {
    if w.is_empty() {
        return None;
    }
    let has_digit = w.chars().any(|c| c.is_ascii_digit());
    let all = |f: fn(char) -> bool| w.chars().all(f);
    if w.contains('@') && w.rsplit_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.')) {
        return Some("<email>");
    }
    if w.len() == 36 && w.matches('-').count() == 4 && all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Some("<uuid>");
    }
    let b = w.as_bytes();
    if w.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
        return Some("<date>");
    }
    if w.split('.').count() == 4
        && w.split('.').all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("<ip>");
    }
    if w.matches(':').count() >= 2
        && all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        && w.chars().any(|c| c.is_ascii_hexdigit())
    {
        return Some(if w.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '.') { "<time>" } else { "<ip>" });
    }
    if w.starts_with("0x") && w.len() > 2 && w[2..].chars().all(|c| c.is_ascii_hexdigit()) {
        return Some("<hex>");
    }
    if has_digit && all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | '_' | ',')) {
        return Some("<int>");
    }
    if w.len() >= 8 && all(|c| c.is_ascii_hexdigit() || c == '-') && has_digit {
        return Some("<hex>");
    }
    None
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
        let t1 = event(
            r#"{"logentry":{"message":"login of %s refused","params":["ann"],"formatted":"login of ann refused"}}"#,
        );
        let t2 = event(
            r#"{"logentry":{"message":"login of %s refused","params":["bob"],"formatted":"login of bob refused"}}"#,
        );
        assert_eq!(Grouping::of(&t1).hash, Grouping::of(&t2).hash, "grouped by the template");
        assert_eq!(Grouping::of(&a).hash, Grouping::of(&b).hash);
        assert_eq!(strip_parameters("id deadbeef00 at 0x1f, took 3.5 s"), "id <hex> at <hex>, took <int> s");
        assert_eq!(
            strip_parameters("user ann@example.com from 10.0.0.12 (fe80::1) at 2026-11-25T10:00:00Z, 12:30:01: order 6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
            "user <email> from <ip> (<ip>) at <date>, <time>: order <uuid>"
        );
        assert_eq!(strip_parameters("plain words stay, even deadline"), "plain words stay, even deadline");
    }

    #[test]
    fn file_names_and_functions_are_normalized() {
        assert_eq!(normalize_filename("http://127.0.0.1:35577/static/app.js?v=3"), "/static/app.js");
        assert_eq!(normalize_filename("https://cdn.example.com/assets/main.3f9a2c1d.js"), "/assets/main.<hash>.js");
        assert_eq!(normalize_filename("webpack:///./src/chunk-a1b2c3d4e5.js"), "/./src/chunk-<hash>.js");
        assert_eq!(normalize_filename("app/models/user.rb"), "app/models/user.rb");
        assert_eq!(normalize_filename("main.rs"), "main.rs");
        assert_eq!(normalize_function(Some("?")), "<anonymous>");
        assert_eq!(normalize_function(None), "<anonymous>");
        assert_eq!(normalize_function(Some("lambda$main$12")), "lambda$main$<n>");
        assert_eq!(normalize_function(Some("<lambda_3>")), "<lambda_3>");
        assert_eq!(normalize_function(Some("parseCart")), "parseCart");
        // The same page from two origins (ports) groups as one.
        let at = |url: &str| {
            event(&format!(
                r#"{{"exception":{{"values":[{{"type":"E","stacktrace":{{"frames":[{{"abs_path":"{url}","function":"f"}}]}}}}]}}}}"#
            ))
        };
        assert_eq!(
            Grouping::of(&at("http://127.0.0.1:1000/app.js")).hash,
            Grouping::of(&at("http://127.0.0.1:2000/app.js")).hash
        );
    }

    #[test]
    fn messages_with_a_thread_stack_group_by_its_in_app_frames() {
        let at = |msg: &str, function: &str| {
            event(&format!(
                r#"{{"message":"{msg}","threads":{{"values":[{{"id":1,"stacktrace":{{"frames":[{{"module":"lib","function":"x"}},{{"module":"app","function":"{function}","in_app":true,"lineno":3}}]}}}},{{"id":2}}]}}}}"#
            ))
        };
        let g = Grouping::of(&at("disk full on sda", "save"));
        assert_eq!((g.variant.as_str(), g.components.clone()), ("threads", vec!["app:save".to_owned()]));
        assert_eq!(g.hash, Grouping::of(&at("quota exceeded", "save")).hash, "same code path");
        assert_ne!(g.hash, Grouping::of(&at("disk full on sda", "load")).hash);
        // No in-app frame: the message decides.
        let plain = event(r#"{"message":"m","threads":[{"stacktrace":{"frames":[{"function":"x"}]}}]}"#);
        assert_eq!(Grouping::of(&plain).variant, "message");
    }

    #[test]
    fn synthetic_exception_types_are_left_out() {
        let e = event(
            r#"{"exception":{"values":[{"type":"Error","value":"m","mechanism":{"synthetic":true},"stacktrace":{"frames":[{"module":"app","function":"f"}]}}]}}"#,
        );
        assert_eq!(Grouping::of(&e).components, vec!["app:f"]);
    }

    #[test]
    fn exception_without_stack_uses_value() {
        let a = event(r#"{"exception":[{"type":"E","value":"x"}]}"#);
        let b = event(r#"{"exception":[{"type":"E","value":"y"}]}"#);
        assert_ne!(Grouping::of(&a).hash, Grouping::of(&b).hash);
        assert_eq!(Grouping::of(&a).variant, "exception");
    }
}
