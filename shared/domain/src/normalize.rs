//! Normalization of an event's JSON after the processor has fixed ids and times: the legacy
//! `message` moved into `logentry` with its parameters formatted, tags in one form, release and
//! environment validated, browser/OS/device contexts from the User-Agent, and Sentry's size
//! limits (string lengths, breadcrumb and frame counts). Everything trimmed or dropped is
//! recorded under `_meta` (path → `{"": {"rem": [[rule, type]], "len": original}}`) or in
//! `errors`, so nothing disappears silently.

use crate::tags::{cut, plain, MAX_TAG_KEY, MAX_TAG_VALUE};
use serde_json::{json, Map, Value};

pub const MAX_MESSAGE: usize = 8192;
pub const MAX_BREADCRUMBS: usize = 100;
pub const MAX_FRAMES: usize = 250;
pub const MAX_RELEASE: usize = 200;
pub const MAX_ENVIRONMENT: usize = 64;
pub const MAX_SHORT: usize = 200;
/// Strings anywhere else (extra, contexts, request bodies…).
pub const MAX_ANY_STRING: usize = 16 * 1024;

/// What normalization changed, for `_meta` and `errors`.
#[derive(Debug, Default)]
struct Notes {
    meta: Vec<(String, Value)>,
    errors: Vec<Value>,
}

impl Notes {
    fn trimmed(&mut self, path: &str, original_len: usize) {
        self.meta.push((path.to_owned(), json!({ "": { "rem": [["!limit", "s"]], "len": original_len } })));
    }
    fn invalid(&mut self, name: &str, value: Value, reason: &str) {
        self.errors.push(json!({ "type": "invalid_data", "name": name, "value": value, "reason": reason }));
    }
}

/// Normalizes `event` in place.
pub fn normalize_event(event: &mut Value) {
    let Value::Object(map) = event else { return };
    let mut notes = Notes::default();
    move_legacy_message(map);
    format_logentry(map);
    normalize_tags(map, &mut notes);
    validate_release_and_environment(map, &mut notes);
    contexts_from_user_agent(event);
    trim(event, &mut notes);
    let Value::Object(map) = event else { return };
    if !notes.meta.is_empty() {
        if let Value::Object(meta) = map.entry("_meta").or_insert_with(|| json!({})) {
            meta.extend(notes.meta);
        }
    }
    if !notes.errors.is_empty() {
        if let Value::Array(errors) = map.entry("errors").or_insert_with(|| json!([])) {
            errors.extend(notes.errors);
        }
    }
}

/// The legacy `message` (a string, or an object shaped like `logentry`) becomes `logentry`.
fn move_legacy_message(map: &mut Map<String, Value>) {
    if map.get("logentry").is_some_and(Value::is_object) {
        return;
    }
    match map.remove("message") {
        Some(Value::String(s)) => {
            map.insert("logentry".into(), json!({ "formatted": s }));
        }
        Some(Value::Object(o)) => {
            map.insert("logentry".into(), Value::Object(o));
        }
        Some(other) if !other.is_null() => {
            map.insert("logentry".into(), json!({ "formatted": plain(&other) }));
        }
        _ => {}
    }
}

/// `logentry.formatted` from `message` and `params` when the SDK did not format it.
fn format_logentry(map: &mut Map<String, Value>) {
    let Some(Value::Object(le)) = map.get_mut("logentry") else { return };
    if le.get("formatted").is_some_and(Value::is_string) {
        return;
    }
    let Some(message) = le.get("message").and_then(Value::as_str).map(str::to_owned) else { return };
    let formatted = match le.get("params") {
        Some(params) if !params.is_null() => format_params(&message, params).unwrap_or_else(|| message.clone()),
        _ => message,
    };
    le.insert("formatted".into(), json!(formatted));
}

/// Formats a message template as Python's `%` and `str.format` do, the two styles SDKs send:
/// `%s`/`%d`/`%r`… and `%(name)s` from params in order or by name; `{}`, `{0}`, `{name}`.
/// `None` when the template has no placeholder the params fill.
pub fn format_params(template: &str, params: &Value) -> Option<String> {
    let positional: Vec<String> = params.as_array().map(|a| a.iter().map(plain).collect()).unwrap_or_default();
    let named = params.as_object();
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    let mut used = false;
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '%' => match chars.peek().map(|(_, c)| *c) {
                Some('%') => {
                    chars.next();
                    out.push('%');
                }
                Some('(') => {
                    let rest = &template[i + 2..];
                    let Some(close) = rest.find(')') else {
                        out.push('%');
                        continue;
                    };
                    let name = &rest[..close];
                    match named.and_then(|n| n.get(name)) {
                        Some(v) => {
                            out.push_str(&plain(v));
                            used = true;
                            // Skip the name, `)` and the conversion letter.
                            for _ in 0..close + 3 {
                                chars.next();
                            }
                        }
                        None => out.push('%'),
                    }
                }
                Some(conv) if "sdirfxXgeEoc".contains(conv) && next < positional.len() => {
                    chars.next();
                    out.push_str(&positional[next]);
                    next += 1;
                    used = true;
                }
                _ => out.push('%'),
            },
            '{' => {
                let rest = &template[i + 1..];
                let close = rest.find('}').filter(|c| rest[..*c].chars().all(|ch| ch.is_alphanumeric() || ch == '_'));
                let Some(close) = close else {
                    out.push('{');
                    continue;
                };
                let key = &rest[..close];
                let value = if key.is_empty() {
                    let v = positional.get(next).cloned();
                    if v.is_some() {
                        next += 1;
                    }
                    v
                } else if let Ok(n) = key.parse::<usize>() {
                    positional.get(n).cloned()
                } else {
                    named.and_then(|n| n.get(key)).map(plain)
                };
                match value {
                    Some(v) => {
                        out.push_str(&v);
                        used = true;
                        for _ in 0..=close {
                            chars.next();
                        }
                    }
                    None => out.push('{'),
                }
            }
            _ => out.push(c),
        }
    }
    used.then_some(out)
}

/// Tags as `[[key, value], …]` strings; keys too long or empty dropped, values cut.
fn normalize_tags(map: &mut Map<String, Value>, notes: &mut Notes) {
    let Some(tags) = map.get("tags") else { return };
    let pairs: Vec<(String, Value)> = match tags {
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|p| match (p.get(0), p.get(1)) {
                (Some(Value::String(k)), Some(v)) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(pairs.len());
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        let key = key.trim().to_owned();
        if value.is_null() {
            continue;
        }
        if key.is_empty() || key.len() > MAX_TAG_KEY {
            notes.invalid("tags", json!(cut(&key, 64)), "tag key empty or longer than 200 characters");
            continue;
        }
        let value = plain(&value);
        if value.len() > MAX_TAG_VALUE {
            notes.trimmed(&format!("tags.{i}.1"), value.len());
        }
        out.push(json!([key, cut(&value, MAX_TAG_VALUE)]));
    }
    map.insert("tags".into(), Value::Array(out));
}

/// Sentry rejects releases and environments that cannot name a version or a deployment:
/// empty, too long, with slashes or control characters, or `.`, `..`, `latest` as a release.
fn validate_release_and_environment(map: &mut Map<String, Value>, notes: &mut Notes) {
    for (field, max) in [("release", MAX_RELEASE), ("environment", MAX_ENVIRONMENT)] {
        let Some(value) = map.get(field) else { continue };
        let text = plain(value);
        let trimmed = text.trim();
        let bad_chars = trimmed.chars().any(|c| c.is_control() || (field == "environment" && c == '/'));
        let reserved = field == "release" && [".", "..", "latest"].contains(&trimmed);
        let reason = if value.is_null() {
            None
        } else if trimmed.is_empty() {
            Some("empty")
        } else if trimmed.len() > max {
            Some("too long")
        } else if bad_chars || reserved || (field == "release" && trimmed.contains('/')) {
            Some("not allowed")
        } else {
            None
        };
        if let Some(reason) = reason {
            let value = map.remove(field).unwrap_or_default();
            notes.invalid(field, json!(cut(&plain(&value), 256)), reason);
        } else if !value.is_null() && trimmed != text {
            map.insert(field.into(), json!(trimmed));
        }
    }
}

/// The User-Agent header of the event's request, in either header form.
pub fn user_agent(event: &Value) -> Option<&str> {
    match event.pointer("/request/headers")? {
        Value::Object(h) => h.iter().find(|(k, _)| k.eq_ignore_ascii_case("user-agent")).and_then(|(_, v)| v.as_str()),
        Value::Array(list) => list.iter().find_map(|pair| {
            let name = pair.get(0)?.as_str()?;
            name.eq_ignore_ascii_case("user-agent").then(|| pair.get(1)?.as_str()).flatten()
        }),
        _ => None,
    }
}

/// Browser, OS and device contexts parsed from the User-Agent, where the SDK sent none.
fn contexts_from_user_agent(event: &mut Value) {
    let Some(ua) = user_agent(event).map(str::to_owned) else { return };
    let Some(parsed) = woothee::parser::Parser::new().parse(&ua) else { return };
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let Value::Object(map) = event else { return };
    let Value::Object(contexts) = map.entry("contexts").or_insert_with(|| json!({})) else { return };
    if known(parsed.name) && parsed.category != "crawler" && !contexts.contains_key("browser") {
        let mut browser = json!({ "type": "browser", "name": parsed.name });
        if known(parsed.version) {
            browser["version"] = json!(parsed.version);
        }
        contexts.insert("browser".into(), browser);
    }
    if known(parsed.os) && !contexts.contains_key("os") {
        let mut os = json!({ "type": "os", "name": parsed.os });
        if known(&parsed.os_version) {
            os["version"] = json!(parsed.os_version);
        }
        contexts.insert("os".into(), os);
    }
    if matches!(parsed.category, "smartphone" | "mobilephone") && !contexts.contains_key("device") {
        let family = if known(parsed.vendor) { parsed.vendor } else { parsed.os };
        contexts.insert("device".into(), json!({ "type": "device", "family": family }));
    }
}

/// Sentry's limits, applied last.
fn trim(event: &mut Value, notes: &mut Notes) {
    for (pointer, max) in [
        ("/logentry/formatted", MAX_MESSAGE),
        ("/logentry/message", MAX_MESSAGE),
        ("/culprit", MAX_SHORT),
        ("/transaction", MAX_SHORT),
        ("/server_name", MAX_SHORT),
        ("/dist", 64),
        ("/logger", 64),
    ] {
        trim_string(event, pointer, max, &pointer[1..].replace('/', "."), notes);
    }
    let crumbs = match event.get_mut("breadcrumbs") {
        Some(Value::Object(b)) => b.get_mut("values"),
        Some(list @ Value::Array(_)) => Some(list),
        _ => None,
    };
    if let Some(Value::Array(crumbs)) = crumbs {
        if crumbs.len() > MAX_BREADCRUMBS {
            // Keep the newest: they lead up to the error.
            let len = crumbs.len();
            crumbs.drain(..len - MAX_BREADCRUMBS);
            notes.trimmed("breadcrumbs.values", len);
        }
        for (i, crumb) in crumbs.iter_mut().enumerate() {
            trim_string(crumb, "/message", MAX_MESSAGE, &format!("breadcrumbs.values.{i}.message"), notes);
        }
    }
    let exceptions = match event.get_mut("exception") {
        Some(Value::Object(e)) => e.get_mut("values"),
        Some(list @ Value::Array(_)) => Some(list),
        _ => None,
    };
    if let Some(Value::Array(values)) = exceptions {
        for (i, exc) in values.iter_mut().enumerate() {
            trim_string(exc, "/value", MAX_MESSAGE, &format!("exception.values.{i}.value"), notes);
            if let Some(Value::Array(frames)) = exc.pointer_mut("/stacktrace/frames") {
                if frames.len() > MAX_FRAMES {
                    // Keep both ends: where the thread started and where it failed.
                    let len = frames.len();
                    let head = MAX_FRAMES / 5;
                    frames.drain(head..len - (MAX_FRAMES - head));
                    notes.trimmed(&format!("exception.values.{i}.stacktrace.frames"), len);
                }
            }
        }
    }
    for key in ["extra", "contexts", "request", "user", "sdk", "modules"] {
        if let Some(value) = event.get_mut(key) {
            let mut path = key.to_owned();
            trim_all_strings(value, &mut path, notes);
        }
    }
}

/// Cuts the string at `pointer` to `max` bytes, noting it under `path`.
fn trim_string(root: &mut Value, pointer: &str, max: usize, path: &str, notes: &mut Notes) {
    let Some(Value::String(s)) = root.pointer_mut(pointer) else { return };
    if s.len() > max {
        let len = s.len();
        *s = cut(s, max);
        notes.trimmed(path, len);
    }
}

fn trim_all_strings(value: &mut Value, path: &mut String, notes: &mut Notes) {
    match value {
        Value::String(s) if s.len() > MAX_ANY_STRING => {
            let len = s.len();
            *s = cut(s, MAX_ANY_STRING);
            notes.trimmed(path, len);
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let before = path.len();
                path.push('.');
                path.push_str(k);
                trim_all_strings(v, path, notes);
                path.truncate(before);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter_mut().enumerate() {
                let before = path.len();
                path.push_str(&format!(".{i}"));
                trim_all_strings(v, path, notes);
                path.truncate(before);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(v: Value) -> Value {
        let mut v = v;
        normalize_event(&mut v);
        v
    }

    #[test]
    fn formats_params_in_both_python_styles() {
        assert_eq!(
            format_params("user %s failed %d times", &json!(["bob", 3])).as_deref(),
            Some("user bob failed 3 times")
        );
        assert_eq!(format_params("100%% of %(who)s", &json!({"who": "us"})).as_deref(), Some("100% of us"));
        assert_eq!(format_params("{} and {}", &json!(["a", "b"])).as_deref(), Some("a and b"));
        assert_eq!(format_params("{1} {0} {name}", &json!(["a", "b"])).as_deref(), Some("b a {name}"));
        assert_eq!(format_params("no placeholders", &json!(["x"])), None);
        assert_eq!(format_params("%s %s", &json!(["only one"])).as_deref(), Some("only one %s"));
    }

    #[test]
    fn legacy_message_becomes_a_formatted_logentry() {
        let v = normalized(json!({"message": "disk full"}));
        assert_eq!(v["logentry"]["formatted"], "disk full");
        assert!(v.get("message").is_none());
        let v = normalized(json!({"logentry": {"message": "user %s", "params": ["ann"]}}));
        assert_eq!(v["logentry"]["formatted"], "user ann");
        assert_eq!(v["logentry"]["message"], "user %s", "the template stays for grouping");
        let v = normalized(json!({"logentry": {"message": "x", "formatted": "already"}}));
        assert_eq!(v["logentry"]["formatted"], "already");
    }

    #[test]
    fn tags_become_pairs_with_sentry_limits() {
        let v = normalized(json!({"tags": {"a": 1, "b": null, "": "x", "long": "v".repeat(300)}}));
        let tags = v["tags"].as_array().unwrap();
        assert_eq!(tags.len(), 2, "{tags:?}");
        assert!(tags.contains(&json!(["a", "1"])));
        assert_eq!(v["errors"][0]["name"], "tags");
        let long = tags.iter().find(|t| t[0] == "long").unwrap();
        assert_eq!(long[1].as_str().unwrap().len(), 200);
        assert!(v["_meta"].as_object().unwrap().keys().any(|k| k.starts_with("tags.")));
    }

    #[test]
    fn invalid_release_and_environment_are_dropped_with_an_error() {
        let v = normalized(json!({"release": "latest", "environment": "prod/eu"}));
        assert!(v.get("release").is_none() && v.get("environment").is_none());
        assert_eq!(v["errors"].as_array().unwrap().len(), 2);
        let v = normalized(json!({"release": " app@1.2.3 ", "environment": "production"}));
        assert_eq!((v["release"].as_str(), v["environment"].as_str()), (Some("app@1.2.3"), Some("production")));
        assert!(v.get("errors").is_none());
    }

    #[test]
    fn user_agent_fills_browser_os_and_device_contexts() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let v = normalized(json!({"request": {"headers": {"User-Agent": chrome}}}));
        assert_eq!(v["contexts"]["browser"]["name"], "Chrome");
        assert_eq!(v["contexts"]["browser"]["version"], "120.0.0.0");
        assert_eq!(v["contexts"]["os"]["name"], "Windows 10");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        let v = normalized(
            json!({"request": {"headers": [["user-agent", iphone]]}, "contexts": {"browser": {"name": "Mine"}}}),
        );
        assert_eq!(v["contexts"]["browser"]["name"], "Mine", "the SDK's context wins");
        assert_eq!(v["contexts"]["os"]["name"], "iPhone");
        assert_eq!(v["contexts"]["device"]["type"], "device");
    }

    #[test]
    fn trims_long_strings_and_lists_and_says_so() {
        let frames: Vec<Value> = (0..400).map(|i| json!({"function": format!("f{i}")})).collect();
        let crumbs: Vec<Value> = (0..150).map(|i| json!({"message": format!("c{i}")})).collect();
        let v = normalized(json!({
            "logentry": {"formatted": "m".repeat(10_000)},
            "exception": {"values": [{"type": "E", "value": "v", "stacktrace": {"frames": frames}}]},
            "breadcrumbs": {"values": crumbs},
            "extra": {"blob": "x".repeat(20_000), "small": "ok"},
        }));
        assert_eq!(v["logentry"]["formatted"].as_str().unwrap().len(), MAX_MESSAGE);
        assert_eq!(v["_meta"]["logentry.formatted"][""]["len"], 10_000);
        let frames = v["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap();
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!((frames[0]["function"].as_str(), frames[249]["function"].as_str()), (Some("f0"), Some("f399")));
        assert_eq!(v["_meta"]["exception.values.0.stacktrace.frames"][""]["len"], 400);
        let crumbs = v["breadcrumbs"]["values"].as_array().unwrap();
        assert_eq!((crumbs.len(), crumbs[0]["message"].as_str()), (100, Some("c50")));
        assert_eq!(v["extra"]["blob"].as_str().unwrap().len(), MAX_ANY_STRING);
        assert_eq!(v["extra"]["small"], "ok");
        assert_eq!(v["_meta"]["extra.blob"][""]["rem"][0][0], "!limit");
    }
}
