//! The parts of Sentry's event schema Errata reads: a typed view for grouping and titles,
//! lenient in what it accepts. It is not what is stored: the processor keeps the event's whole
//! JSON (every key the SDK sent), normalizes and scrubs that, and builds this view from it.
//! <https://develop.sentry.dev/sdk/data-model/event-payloads/>

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub logger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub transaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub environment: Option<String>,
    /// Legacy `message`: a string, or an object like `logentry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logentry: Option<LogEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Values<Exception>>,
    /// Threads: a message captured with `attach_stacktrace`, or a native crash, carries its
    /// stack here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<Values<Thread>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<Value>>,
    /// Set by the SDK or by a processor (security reports), it overrides the computed culprit.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub culprit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
}

/// Sentry accepts both `[...]` and `{"values": [...]}`; Errata always writes the latter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values<T> {
    pub values: Vec<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: untagged buffers the whole input first.
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Visit<T> {
            type Value = Values<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list or an object with `values`")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Values<T>, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element()? {
                    values.push(v);
                }
                Ok(Values { values })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Values<T>, A::Error> {
                let mut values = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "values" {
                        values = Some(map.next_value()?);
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                values.map(|values| Values { values }).ok_or_else(|| de::Error::missing_field("values"))
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

impl<T: Serialize> Serialize for Values<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wrapped<'a, T> {
            values: &'a [T],
        }
        Wrapped { values: &self.values }.serialize(s)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exception {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub ty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stacktrace {
    #[serde(default)]
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
}

/// One stack frame; SDKs list them oldest call first, the crashing frame last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub abs_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_string")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
}

/// An event time: SDKs send either seconds since the epoch (float) or RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// Milliseconds since the epoch.
    pub fn unix_millis(&self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok().map(Timestamp)
    }

    /// RFC 3339 with milliseconds and `Z`, the form Sentry's API returns.
    pub fn to_rfc3339(&self) -> String {
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        self.0.to_offset(time::UtcOffset::UTC).format(format).unwrap_or_default()
    }

    /// Parses RFC 3339; a missing offset means UTC (Python's `datetime.isoformat()`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
            return Some(Timestamp(t));
        }
        let naive = time::macros::format_description!(
            version = 2,
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        PrimitiveDateTime::parse(s, naive).ok().map(|t| Timestamp(t.assume_utc()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => {
                let secs = n.as_f64().ok_or_else(|| de::Error::custom("timestamp out of range"))?;
                from_secs(secs).ok_or_else(|| de::Error::custom("timestamp out of range"))
            }
            Value::String(s) => Timestamp::parse(&s)
                .or_else(|| s.parse::<f64>().ok().and_then(from_secs))
                .ok_or_else(|| de::Error::custom("invalid timestamp")),
            _ => Err(de::Error::custom("timestamp must be a number or a string")),
        }
    }
}

/// Float seconds, rounded to the microsecond (floats cannot hold nanoseconds of today's dates).
fn from_secs(secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let micros = (secs * 1e6).round() as i128;
    OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok().map(Timestamp)
}

/// Accepts a string, a number or a bool where a string is expected (SDKs differ); null is none.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    })
}

impl Event {
    /// The message an event carries: `logentry.formatted`, `logentry.message`, or a string `message`.
    pub fn message_text(&self) -> Option<&str> {
        if let Some(le) = &self.logentry {
            if let Some(m) = le.formatted.as_deref().or(le.message.as_deref()) {
                return Some(m);
            }
        }
        match &self.message {
            Some(Value::String(s)) => Some(s),
            Some(Value::Object(o)) => o.get("formatted").or_else(|| o.get("message")).and_then(Value::as_str),
            _ => None,
        }
    }

    /// The exceptions, outermost last, as SDKs send them.
    pub fn exceptions(&self) -> &[Exception] {
        self.exception.as_ref().map(|v| v.values.as_slice()).unwrap_or_default()
    }

    /// The stack of the thread that matters, when the event has no exception: the crashed
    /// thread, else the current one, else the only thread with a stack.
    pub fn thread_stack(&self) -> Option<&Stacktrace> {
        let threads = &self.threads.as_ref()?.values;
        let with_stack = |t: &&Thread| t.stacktrace.as_ref().is_some_and(|s| !s.frames.is_empty());
        let thread = threads
            .iter()
            .filter(with_stack)
            .find(|t| t.crashed == Some(true))
            .or_else(|| threads.iter().filter(with_stack).find(|t| t.current == Some(true)))
            .or_else(|| {
                let mut candidates = threads.iter().filter(with_stack);
                let only = candidates.next();
                candidates.next().is_none().then_some(only).flatten()
            })?;
        thread.stacktrace.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_exception_forms_and_ignores_unknown_keys() {
        let json = r#"{"event_id":"a","timestamp":1700000000.5,"future_field":{"x":1},
            "exception":[{"type":"ValueError","value":"bad","stacktrace":{"frames":[{"function":"f","lineno":3,"vars":{"a":1}}]}}]}"#;
        let ev: Event = serde_json::from_str(json).unwrap();
        assert_eq!(ev.exceptions()[0].ty.as_deref(), Some("ValueError"));
        let frame = &ev.exceptions()[0].stacktrace.as_ref().unwrap().frames[0];
        assert_eq!((frame.function.as_deref(), frame.lineno.clone()), (Some("f"), Some(serde_json::json!(3))));
        let back = serde_json::to_value(&ev).unwrap();
        assert_eq!(back["exception"]["values"][0]["value"], "bad");
        assert_eq!(back["timestamp"], "2023-11-14T22:13:20.500Z");
    }

    #[test]
    fn timestamps_in_every_form() {
        for s in [
            "\"2026-11-25T20:46:03.123456Z\"",
            "\"2026-11-25T20:46:03.123456\"",
            "\"2026-11-25T21:46:03.123+01:00\"",
            "1795639563.123",
        ] {
            let t: Timestamp = serde_json::from_str(s).unwrap();
            assert_eq!(t.to_rfc3339(), "2026-11-25T20:46:03.123Z", "{s}");
        }
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn message_forms() {
        let ev: Event = serde_json::from_str(r#"{"message":"plain"}"#).unwrap();
        assert_eq!(ev.message_text(), Some("plain"));
        let ev: Event =
            serde_json::from_str(r#"{"logentry":{"message":"a %s","params":["b"],"formatted":"a b"}}"#).unwrap();
        assert_eq!(ev.message_text(), Some("a b"));
        let ev: Event = serde_json::from_str(r#"{"level":40,"platform":null}"#).unwrap();
        assert_eq!(ev.level.as_deref(), Some("40"));
        assert_eq!(ev.platform, None);
    }
}
