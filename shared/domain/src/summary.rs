//! What the issue list shows about an event: title, culprit, level and the metadata Sentry
//! puts on an issue, computed the way Sentry does for error events.

use errata_protocol::{Event, Frame};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_TITLE: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventSummary {
    pub title: String,
    pub culprit: String,
    pub level: String,
    /// `error` for events with an exception or message; Sentry's `type`.
    pub ty: String,
    /// Sentry's issue `metadata`: `type`, `value`, `filename`, `function` or `title`.
    pub metadata: Value,
}

impl EventSummary {
    pub fn of(event: &Event) -> EventSummary {
        let level = normalize_level(event.level.as_deref());
        // The exception the SDK lists last is the one that was raised.
        if let Some(exc) = event.exceptions().last() {
            let ty = exc.ty.clone().unwrap_or_else(|| "Error".into());
            let value = exc.value.clone().unwrap_or_default();
            let first_line = value.lines().next().unwrap_or_default();
            // SDKs that capture a message with a stack (JavaScript) send an exception without a
            // type: its value is the title.
            let title = match (exc.ty.is_some(), first_line.is_empty()) {
                (_, true) => ty.clone(),
                (false, false) => first_line.to_owned(),
                (true, false) => format!("{ty}: {first_line}"),
            };
            let frame = exc
                .stacktrace
                .as_ref()
                .and_then(|st| st.frames.iter().rev().find(|f| f.in_app == Some(true)).or(st.frames.last()));
            let culprit = event
                .transaction
                .clone()
                .filter(|t| !t.is_empty())
                .or_else(|| frame.map(frame_culprit))
                .unwrap_or_default();
            let mut metadata = json!({ "type": ty, "value": value });
            if let Some(f) = frame {
                metadata["filename"] = json!(f.filename.clone().or_else(|| f.abs_path.clone()));
                metadata["function"] = json!(f.function.clone());
            }
            return EventSummary { title: truncate(&title), culprit, level, ty: "error".into(), metadata };
        }
        let message = event.message_text().unwrap_or("<unlabeled event>");
        let title = truncate(message.lines().next().unwrap_or(message));
        // Old SDKs and security reports carry an explicit `culprit`; a message with a stack
        // (a thread's) points at its innermost in-app frame.
        let explicit = event.culprit.clone().filter(|c| !c.is_empty());
        let from_stack = event
            .thread_stack()
            .and_then(|st| st.frames.iter().rev().find(|f| f.in_app == Some(true)))
            .map(frame_culprit);
        EventSummary {
            title: title.clone(),
            culprit: event.transaction.clone().or(explicit).or(from_stack).unwrap_or_default(),
            level,
            ty: "default".into(),
            metadata: json!({ "title": title }),
        }
    }
}

/// Sentry's culprit from a frame: `module in function`, or `file in function`.
fn frame_culprit(frame: &Frame) -> String {
    let place =
        frame.module.clone().or_else(|| frame.filename.clone()).or_else(|| frame.abs_path.clone()).unwrap_or_default();
    match frame.function.as_deref() {
        Some(f) if !place.is_empty() => format!("{place} in {f}"),
        Some(f) => f.to_owned(),
        None => place,
    }
}

/// One of Sentry's levels; numeric Python logging levels are mapped, anything else is `error`.
pub fn normalize_level(level: Option<&str>) -> String {
    match level.map(str::to_ascii_lowercase).as_deref() {
        Some("fatal" | "critical" | "50") => "fatal",
        Some("warning" | "warn" | "30") => "warning",
        Some("info" | "log" | "20") => "info",
        Some("debug" | "10") => "debug",
        _ => "error",
    }
    .to_owned()
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_TITLE {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_TITLE - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_exception() {
        let ev: Event = serde_json::from_str(
            r#"{"level":"error","exception":{"values":[
            {"type":"ZeroDivisionError","value":"division by zero\nmore","stacktrace":{"frames":[
              {"module":"app","function":"main","filename":"app.py","in_app":true},
              {"module":"app","function":"divide","filename":"app.py","in_app":true},
              {"module":"lib","function":"helper","in_app":false}]}}]}}"#,
        )
        .unwrap();
        let s = EventSummary::of(&ev);
        assert_eq!(s.title, "ZeroDivisionError: division by zero");
        assert_eq!(s.culprit, "app in divide");
        assert_eq!(s.metadata["function"], "divide");
        assert_eq!(s.ty, "error");
    }

    #[test]
    fn untyped_exception_is_titled_by_its_value() {
        let ev: Event = serde_json::from_str(r#"{"exception":{"values":[{"value":"node message"}]}}"#).unwrap();
        assert_eq!(EventSummary::of(&ev).title, "node message");
    }

    #[test]
    fn message_event_and_levels() {
        let threaded: Event = serde_json::from_str(
            r#"{"message":"slow","threads":[{"current":true,"stacktrace":{"frames":[{"module":"app.jobs","function":"run","in_app":true}]}}]}"#,
        )
        .unwrap();
        assert_eq!(EventSummary::of(&threaded).culprit, "app.jobs in run");
        let ev: Event = serde_json::from_str(r#"{"message":"disk full","level":"warning"}"#).unwrap();
        let s = EventSummary::of(&ev);
        assert_eq!((s.title.as_str(), s.level.as_str(), s.ty.as_str()), ("disk full", "warning", "default"));
        assert_eq!(normalize_level(Some("bogus")), "error");
        assert_eq!(EventSummary::of(&Event::default()).title, "<unlabeled event>");
        let long = "x".repeat(1000);
        assert_eq!(
            EventSummary::of(&Event { message: Some(long.into()), ..Default::default() }).title.chars().count(),
            MAX_TITLE
        );
    }
}
