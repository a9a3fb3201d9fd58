//! An event's tags as Sentry indexes them: the SDK's own (object or `[[key, value]]` list form)
//! plus the standard ones Sentry derives from the event (level, release, browser, os, url…).
//! Searching, tag distributions and the Parquet `tags` column all read this one list.

use serde_json::Value;

/// Sentry's limits: longer keys are dropped, longer values cut.
pub const MAX_TAG_KEY: usize = 200;
pub const MAX_TAG_VALUE: usize = 200;

/// The tags of a (normalized) event, sorted by key, one value per key (the SDK's wins).
pub fn event_tags(event: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut add = |key: &str, value: String| {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_TAG_KEY || value.is_empty() || pairs.iter().any(|(k, _)| k == key) {
            return;
        }
        pairs.push((key.to_owned(), cut(&value, MAX_TAG_VALUE)));
    };
    match event.get("tags") {
        Some(Value::Object(map)) => map.iter().for_each(|(k, v)| add(k, plain(v))),
        Some(Value::Array(list)) => {
            for pair in list {
                if let (Some(Value::String(k)), Some(v)) = (pair.get(0), pair.get(1)) {
                    add(k, plain(v));
                }
            }
        }
        _ => {}
    }
    for key in ["level", "environment", "release", "dist", "server_name", "transaction", "logger"] {
        if let Some(v) = event.get(key).filter(|v| !v.is_null()) {
            add(key, plain(v));
        }
    }
    for (tag, pointer) in [
        ("browser", "/contexts/browser/name"),
        ("os", "/contexts/os/name"),
        ("device", "/contexts/device/model"),
        ("device.family", "/contexts/device/family"),
        ("runtime", "/contexts/runtime/name"),
        ("url", "/request/url"),
        ("mechanism", "/exception/values/0/mechanism/type"),
    ] {
        if let Some(v) = event.pointer(pointer).filter(|v| !v.is_null()) {
            add(tag, plain(v));
        }
    }
    if let Some(v) = event.pointer("/exception/values/0/mechanism/handled").and_then(Value::as_bool) {
        add("handled", if v { "yes" } else { "no" }.to_owned());
    }
    if let Some(user) = user_tag(event) {
        add("user", user);
    }
    pairs.sort();
    pairs
}

/// Sentry's `user` tag: `id:…`, `email:…`, `username:…` or `ip:…`, the first the event has.
pub fn user_tag(event: &Value) -> Option<String> {
    let user = event.get("user")?;
    for (field, prefix) in [("id", "id"), ("email", "email"), ("username", "username"), ("ip_address", "ip")] {
        if let Some(v) = user.get(field).filter(|v| !v.is_null()) {
            let v = plain(v);
            if !v.is_empty() {
                return Some(format!("{prefix}:{v}"));
            }
        }
    }
    None
}

/// A JSON value as tag text: strings as they are, anything else as JSON.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// At most `max` bytes, cut on a character boundary.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_plus_derived_tags() {
        let t = event_tags(&json!({
            "tags": {"b": "2", "level": "custom"}, "level": "error", "environment": "prod",
            "contexts": {"browser": {"name": "Firefox"}, "os": {"name": "Linux"}},
            "user": {"email": "a@example.com", "ip_address": "1.2.3.4"},
            "exception": {"values": [{"mechanism": {"type": "onerror", "handled": false}}]},
        }));
        let get = |k: &str| t.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("b"), Some("2"));
        assert_eq!(get("level"), Some("custom"), "the SDK's tag wins over the derived one");
        assert_eq!(get("environment"), Some("prod"));
        assert_eq!(get("browser"), Some("Firefox"));
        assert_eq!(get("os"), Some("Linux"));
        assert_eq!(get("user"), Some("email:a@example.com"));
        assert_eq!(get("mechanism"), Some("onerror"));
        assert_eq!(get("handled"), Some("no"));
        let keys: Vec<&str> = t.iter().map(|(k, _)| k.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);

        let t = event_tags(&json!({"tags": [["a", 1], ["", "x"], ["long", "é".repeat(150)], "junk"]}));
        assert_eq!(t[0], ("a".into(), "1".into()));
        assert_eq!(t.len(), 2, "empty keys and malformed pairs are dropped: {t:?}");
        assert_eq!(t[1].1.len(), 200);
    }
}
