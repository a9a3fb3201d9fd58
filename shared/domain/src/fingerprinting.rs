//! Server-side fingerprint rules, in Sentry's syntax: one rule per line, matchers on the left,
//! the fingerprint on the right.
//!
//! ```text
//! # database outages are one issue, whatever the stack
//! error.type:DatabaseUnavailable -> database-unavailable
//! message:"*connection refused*" !environment:dev -> connection-refused, {{ default }}
//! tags.server_name:"db-*" level:error -> database-errors
//! ```
//!
//! Matchers (all must hold; `!` negates one): `error.type`, `error.value`, `message` (the log
//! message or an exception value), `logger`, `level`, `release`, `environment`, `tags.<key>`,
//! and over any frame `module`, `function`, `path`. Values are globs (`*`, `?`),
//! case-insensitive, quoted when they hold spaces. The first rule that matches sets the event's
//! fingerprint, unless the SDK sent one.

use crate::filters::{glob_within, OverBudget};
use serde_json::Value;
use std::time::Instant;

/// The most rules, matchers per rule and fingerprint parts per rule.
pub const MAX_RULES: usize = 100;
const MAX_MATCHERS: usize = 10;
const MAX_PARTS: usize = 10;
const MAX_LINE: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FingerprintRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    matchers: Vec<Matcher>,
    fingerprint: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    negated: bool,
    field: Field,
    pattern: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    ErrorType,
    ErrorValue,
    Message,
    Logger,
    Level,
    Release,
    Environment,
    Tag(String),
    Module,
    Function,
    Path,
}

impl FingerprintRules {
    /// Parses rules; the error names the line and what is wrong with it.
    pub fn parse(text: &str) -> Result<FingerprintRules, String> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |msg: &str| format!("fingerprinting rules, line {}: {msg}", n + 1);
            if line.len() > MAX_LINE {
                return Err(at(&format!("longer than {MAX_LINE} characters")));
            }
            let (left, right) = line.split_once("->").ok_or_else(|| at("expected `matchers -> fingerprint`"))?;
            let matchers = matchers(left).map_err(|e| at(&e))?;
            if matchers.is_empty() || matchers.len() > MAX_MATCHERS {
                return Err(at(&format!("a rule needs 1 to {MAX_MATCHERS} matchers")));
            }
            let fingerprint: Vec<String> = right
                .split(',')
                .map(|p| p.trim().trim_matches('"').trim().to_owned())
                .filter(|p| !p.is_empty())
                .map(|p| if p.replace(' ', "") == "{{default}}" { "{{ default }}".to_owned() } else { p })
                .collect();
            if fingerprint.is_empty() || fingerprint.len() > MAX_PARTS {
                return Err(at(&format!("a fingerprint needs 1 to {MAX_PARTS} parts")));
            }
            if let Some(p) = fingerprint.iter().find(|p| p.contains('=')) {
                return Err(at(&format!("attributes like {p:?} are not supported; give the fingerprint parts only")));
            }
            rules.push(Rule { matchers, fingerprint });
            if rules.len() > MAX_RULES {
                return Err(format!("fingerprinting rules: at most {MAX_RULES} rules"));
            }
        }
        Ok(FingerprintRules { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The fingerprint of the first rule the event matches.
    pub fn fingerprint(&self, event: &Value) -> Option<&[String]> {
        self.fingerprint_within(event, None).unwrap_or(None)
    }

    /// `fingerprint`, giving up with `OverBudget` once `deadline` has passed.
    pub fn fingerprint_within(
        &self,
        event: &Value,
        deadline: Option<Instant>,
    ) -> Result<Option<&[String]>, OverBudget> {
        for rule in &self.rules {
            let mut all = true;
            for m in &rule.matchers {
                if !m.holds(event, deadline)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(Some(rule.fingerprint.as_slice()));
            }
        }
        Ok(None)
    }

    /// Sets the event's fingerprint from the first matching rule, unless it has one already.
    /// Returns whether it did.
    pub fn apply(&self, event: &mut Value) -> bool {
        self.apply_within(event, None).unwrap_or(false)
    }

    /// `apply` within a time budget: rules that cannot be decided by `deadline` leave the
    /// event's grouping as it was (`OverBudget`, for the caller to record on the event).
    pub fn apply_within(&self, event: &mut Value, deadline: Option<Instant>) -> Result<bool, OverBudget> {
        let has_own = event.get("fingerprint").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        if has_own || self.rules.is_empty() {
            return Ok(false);
        }
        match self.fingerprint_within(event, deadline)?.map(<[String]>::to_vec) {
            Some(fp) => {
                event["fingerprint"] = Value::from(fp);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn matchers(left: &str) -> Result<Vec<Matcher>, String> {
    let mut out = Vec::new();
    let mut rest = left.trim();
    while !rest.is_empty() {
        let (negated, r) = match rest.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (key, after) = r.split_once(':').ok_or_else(|| format!("expected key:value at {r:?}"))?;
        let (pattern, remaining) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"').ok_or("unclosed quote")?;
            (q[..end].to_owned(), &q[end + 1..])
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        if pattern.is_empty() {
            return Err(format!("{key}: needs a value"));
        }
        let field = match key {
            "error.type" | "type" => Field::ErrorType,
            "error.value" | "value" => Field::ErrorValue,
            "message" => Field::Message,
            "logger" => Field::Logger,
            "level" => Field::Level,
            "release" => Field::Release,
            "environment" => Field::Environment,
            "module" | "stack.module" => Field::Module,
            "function" | "stack.function" => Field::Function,
            "path" | "stack.abs_path" => Field::Path,
            k => match k.strip_prefix("tags.") {
                Some(tag) if !tag.is_empty() => Field::Tag(tag.to_owned()),
                _ => return Err(format!("unknown matcher {k:?}")),
            },
        };
        out.push(Matcher { negated, field, pattern });
        rest = remaining.trim_start();
    }
    Ok(out)
}

impl Matcher {
    fn holds(&self, event: &Value, deadline: Option<Instant>) -> Result<bool, OverBudget> {
        let any = |values: &mut dyn Iterator<Item = &str>| -> Result<bool, OverBudget> {
            for v in values {
                if glob_within(&self.pattern, v, deadline)? {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let found = match &self.field {
            Field::ErrorType => any(&mut exceptions(event).filter_map(|e| e.get("type")?.as_str())),
            Field::ErrorValue => any(&mut exceptions(event).filter_map(|e| e.get("value")?.as_str())),
            Field::Message => {
                let log = ["/logentry/formatted", "/logentry/message", "/message"]
                    .into_iter()
                    .filter_map(|p| event.pointer(p).and_then(Value::as_str));
                any(&mut log.chain(exceptions(event).filter_map(|e| e.get("value")?.as_str())))
            }
            Field::Logger => any(&mut event.get("logger").and_then(Value::as_str).into_iter()),
            Field::Level => any(&mut event.get("level").and_then(Value::as_str).into_iter()),
            Field::Release => any(&mut event.get("release").and_then(Value::as_str).into_iter()),
            Field::Environment => any(&mut event.get("environment").and_then(Value::as_str).into_iter()),
            Field::Tag(key) => any(&mut tag(event, key).into_iter()),
            Field::Module => any(&mut frames(event).filter_map(|f| f.get("module")?.as_str())),
            Field::Function => any(&mut frames(event).filter_map(|f| f.get("function")?.as_str())),
            Field::Path => any(&mut frames(event)
                .filter_map(|f| f.get("abs_path").and_then(Value::as_str).or_else(|| f.get("filename")?.as_str()))),
        }?;
        Ok(found != self.negated)
    }
}

fn exceptions(event: &Value) -> impl Iterator<Item = &Value> {
    let values = event.pointer("/exception/values").or_else(|| event.get("exception"));
    values.and_then(Value::as_array).into_iter().flatten()
}

fn frames(event: &Value) -> impl Iterator<Item = &Value> {
    let from_exceptions = exceptions(event).filter_map(|e| e.pointer("/stacktrace/frames")?.as_array()).flatten();
    let from_threads = event
        .pointer("/threads/values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer("/stacktrace/frames")?.as_array())
        .flatten();
    from_exceptions.chain(from_threads)
}

fn tag<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    match event.get("tags")? {
        Value::Object(map) => map.get(key)?.as_str(),
        Value::Array(pairs) => pairs.iter().find(|p| p.get(0).and_then(Value::as_str) == Some(key))?.get(1)?.as_str(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULES: &str = r#"
        # outages
        error.type:DatabaseUnavailable -> database-unavailable
        message:"*connection refused*" !environment:dev -> connection-refused, {{default}}
        tags.server_name:"db-*" level:error -> database-errors
        function:handle_* path:*/billing/* -> billing
    "#;

    #[test]
    fn first_matching_rule_sets_the_fingerprint() {
        let rules = FingerprintRules::parse(RULES).unwrap();
        let fp = |e: Value| rules.fingerprint(&e).map(<[String]>::to_vec);
        assert_eq!(
            fp(json!({"exception": {"values": [{"type": "DatabaseUnavailable", "value": "x"}]}})),
            Some(vec!["database-unavailable".to_owned()])
        );
        let refused = json!({"environment": "prod", "exception": {"values": [{"type": "OSError", "value": "Connection Refused by peer"}]}});
        assert_eq!(fp(refused), Some(vec!["connection-refused".to_owned(), "{{ default }}".to_owned()]));
        assert_eq!(fp(json!({"environment": "dev", "message": "connection refused"})), None, "negated");
        assert_eq!(
            fp(json!({"level": "error", "tags": [["server_name", "db-3"]]})),
            Some(vec!["database-errors".to_owned()])
        );
        assert_eq!(fp(json!({"level": "warning", "tags": {"server_name": "db-3"}})), None);
        let billing = json!({"exception": {"values": [{"stacktrace": {"frames": [{"function": "handle_invoice", "abs_path": "/srv/app/billing/x.py"}]}}]}});
        assert_eq!(fp(billing), Some(vec!["billing".to_owned()]));
    }

    #[test]
    fn an_sdk_fingerprint_wins() {
        let rules = FingerprintRules::parse(RULES).unwrap();
        let mut own = json!({"fingerprint": ["mine"], "exception": {"values": [{"type": "DatabaseUnavailable"}]}});
        assert!(!rules.apply(&mut own));
        let mut other = json!({"exception": {"values": [{"type": "DatabaseUnavailable"}]}});
        assert!(rules.apply(&mut other));
        assert_eq!(other["fingerprint"], json!(["database-unavailable"]));
    }

    #[test]
    fn errors_name_the_line() {
        assert!(FingerprintRules::parse("error.type:X").unwrap_err().contains("line 1"));
        assert!(FingerprintRules::parse("\n\ncolour:red -> x").unwrap_err().contains("line 3: unknown matcher"));
        assert!(FingerprintRules::parse("message:\"open -> x").unwrap_err().contains("quote"));
        assert!(FingerprintRules::parse("level:error -> x title=\"y\"").unwrap_err().contains("not supported"));
        assert!(FingerprintRules::parse("level:error -> ").is_err());
        assert!(FingerprintRules::parse("").unwrap().is_empty());
    }
}
